//! The pgwire session loop: one [`Session`] per connection.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, SinkExt, StreamExt};
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::copy::CopyHandler;
use pgwire::api::portal::Format;
use pgwire::api::portal::Portal;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{Response, Tag};
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionHandle, ConnectionManager, PgWireServerHandlers,
    RandomPidSecretKeyGenerator,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use pgwire::messages::data::{NoData, ParameterDescription, RowDescription};
use pgwire::messages::extendedquery::Describe;
use pgwire::messages::response::NoticeResponse;
use pgwire::messages::PgWireBackendMessage;
use rivulet_stream::Database;

use crate::error::Error;
use crate::exec;
use crate::extended::{self, Prepared, StatementPreparer};
use crate::startup::Startup;
use crate::transaction::Notice;
use crate::vars::SessionVars;

/// Shared by every connection.
pub struct ServerState {
    pub db: Database,
    /// SCRAM keys of the configured password, if any.
    pub password: Option<Arc<crate::auth::ScramSecret>>,
    pub connections: Arc<ConnectionManager>,
    pub pids: Arc<RandomPidSecretKeyGenerator>,
}

/// One client connection: its handlers and session variables.
pub struct Session {
    db: Database,
    vars: SessionVars,
    preparer: Arc<StatementPreparer>,
    startup: Arc<Startup>,
    cancel: Arc<DefaultCancelHandler>,
}

impl Session {
    /// A new session for one connection.
    pub fn new(state: &ServerState) -> Arc<Session> {
        let vars = SessionVars::default();
        Arc::new(Session {
            db: state.db.clone(),
            preparer: extended::preparer(&state.db, vars.cursors.clone()),
            vars,
            startup: Arc::new(Startup {
                connections: state.connections.clone(),
                pids: state.pids.clone(),
                password: state.password.clone(),
                exchange: std::sync::Mutex::new(None),
                ready: Default::default(),
            }),
            cancel: Arc::new(DefaultCancelHandler::new(state.connections.clone())),
        })
    }
}

impl Session {
    /// Set once the connection has become a ready session.
    pub fn ready_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.startup.ready.clone()
    }
}

/// The handler set pgwire drives for one connection.
pub struct Handlers(pub Arc<Session>);

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.0.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.0.clone()
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        self.0.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.0.cancel.clone()
    }

    fn copy_handler(&self) -> Arc<impl CopyHandler> {
        self.0.clone()
    }
}

/// `COPY FROM STDIN`'s data, end and failure (see [`crate::copy_in`]).
#[async_trait]
impl CopyHandler for Session {
    async fn on_copy_data<C>(&self, _client: &mut C, copy_data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let Some(copy) = self.copy_in().as_mut() {
            copy.data(&copy_data.data);
        }
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some(copy) = self.copy_in().take() else {
            return Ok(());
        };
        let stored = async {
            let (table, rows) = copy.finish()?;
            Ok::<_, Error>(self.db.insert(table.id, rows).await?)
        }
        .await;
        match stored {
            Ok(n) => {
                let tag = Tag::new("COPY").with_rows(n as usize);
                client
                    .send(PgWireBackendMessage::CommandComplete(tag.into()))
                    .await?;
                Ok(())
            }
            Err(e) => {
                self.vars.transaction.fail();
                Err(e.into())
            }
        }
    }

    async fn on_copy_fail<C>(&self, _client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.copy_in().take();
        self.vars.transaction.fail();
        Error::CopyFailed(fail.message).into()
    }
}

impl Session {
    /// The session's copy in progress.
    fn copy_in(&self) -> std::sync::MutexGuard<'_, Option<crate::copy_in::CopyIn>> {
        self.vars.copy_in.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl SimpleQueryHandler for Session {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // The whole string is parsed first: a syntax error anywhere means
        // nothing runs, as in PostgreSQL.
        let stmts = rivulet_sql::parse(query).map_err(|error| Error::Parse {
            error,
            sql: query.to_string(),
        })?;
        if stmts.is_empty() {
            // Only comments, semicolons or whitespace.
            return Ok(vec![Response::EmptyQuery]);
        }
        let mut responses = Vec::with_capacity(stmts.len());
        let last = stmts.len().saturating_sub(1);
        for (i, stmt) in stmts.into_iter().enumerate() {
            // Only the last statement may stream: the rows of an earlier
            // one must be read before the statements after it run.
            let stream = if i == last {
                exec::Streaming::Yes(handle(client))
            } else {
                exec::Streaming::No
            };
            // A statement prints with secrets redacted.
            tracing::debug!(statement = %stmt, "simple query");
            if i == last {
                if let Some(e) = self.subscribe(client, &stmt).await {
                    responses.push(Response::Error(Box::new(e.to_error_info())));
                    break;
                }
            }
            match exec::execute(&self.db, &self.vars, stmt, &Format::UnifiedText, stream).await {
                Ok(out) => {
                    Self::notices(client, out.notices).await?;
                    responses.push(out.response);
                }
                Err(e) => {
                    // Later statements in the string do not run.
                    responses.push(Response::Error(Box::new(e.to_error_info())));
                    break;
                }
            }
        }
        Ok(responses)
    }
}

impl Session {
    /// Runs `stmt` if it is `COPY (SUBSCRIBE ...) TO STDOUT`, which writes
    /// to the connection itself for as long as it runs; returns the error
    /// that ended it.
    async fn subscribe<C>(&self, client: &mut C, stmt: &rivulet_sql::Statement) -> Option<Error>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let rivulet_sql::Statement::CopyTo {
            source: rivulet_sql::CopySource::Subscribe { name, snapshot },
            options,
        } = stmt
        else {
            return None;
        };
        if self.vars.transaction.failed() {
            return Some(Error::InFailedTransaction);
        }
        let ended = crate::subscribe::copy_subscribe(client, &self.db, name, *snapshot, options);
        match ended.await {
            Err(e) => Some(e),
            Ok(never) => match never {},
        }
    }
}

/// The connection's handle for cancel requests.
fn handle<C: ClientInfo>(client: &C) -> Option<Arc<ConnectionHandle>> {
    client
        .session_extensions()
        .get::<Arc<ConnectionHandle>>()
        .map(|h| (*h).clone())
}

impl Session {
    /// Sends NOTICE messages ahead of a statement's result.
    async fn notices<C>(client: &mut C, notices: Vec<Notice>) -> PgWireResult<()>
    where
        C: Sink<PgWireBackendMessage> + Unpin + Send,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        for n in notices {
            let info = ErrorInfo::new(n.severity.into(), n.code.into(), n.message);
            client
                .feed(PgWireBackendMessage::NoticeResponse(NoticeResponse::from(
                    info,
                )))
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl ExtendedQueryHandler for Session {
    type Statement = Prepared;
    type QueryParser = StatementPreparer;

    fn query_parser(&self) -> Arc<StatementPreparer> {
        self.preparer.clone()
    }

    /// Describe of a prepared statement that returns no rows (INSERT,
    /// DELETE, SET, ...) answers its parameter types and then NoData, as
    /// PostgreSQL does; pgwire would send an empty RowDescription, which
    /// drivers such as pgJDBC read as a query with no columns (and then
    /// report 0 rows changed).
    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        const STATEMENT: u8 = b'S';
        const PORTAL: u8 = b'P';
        let name = message.name.as_deref().unwrap_or("");
        // A cursor made by SQL `DECLARE` is a portal of that name in
        // PostgreSQL, and drivers (psycopg 3's server-side cursors)
        // describe it before they FETCH from it.
        if message.target_type == PORTAL && client.portal_store().get_portal(name).is_none() {
            if let Some(columns) = self.vars.cursors.columns(name) {
                let fields = crate::results::fields(&columns, &Format::UnifiedText);
                let description = RowDescription::new(fields.iter().map(Into::into).collect());
                client
                    .send(PgWireBackendMessage::RowDescription(description))
                    .await?;
                return Ok(());
            }
        }
        if message.target_type == STATEMENT {
            if let Some(Entry::Value(stmt)) = client.portal_store().get_statement(name) {
                if stmt.statement.columns.is_empty() {
                    let declared = &stmt.parameter_types;
                    let types: Vec<u32> = stmt
                        .statement
                        .param_types
                        .iter()
                        .enumerate()
                        .map(|(i, t)| match declared.get(i).cloned().flatten() {
                            Some(d) if d.oid() != 0 => d.oid(),
                            _ => crate::pgvalue::pg_type(*t).oid(),
                        })
                        .collect();
                    client
                        .send(PgWireBackendMessage::ParameterDescription(
                            ParameterDescription::new(types),
                        ))
                        .await?;
                    client
                        .send(PgWireBackendMessage::NoData(NoData::new()))
                        .await?;
                    return Ok(());
                }
            }
        }
        self._on_describe(client, message).await
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // With a row limit, pgwire's portal suspends and resumes the result
        // stream, holding at most that many rows. Without one it would
        // collect the whole result first, so the rows are sent from here
        // as they are read, and pgwire only completes the command.
        let prepared = &portal.statement.statement;
        // Parameters are not logged: they may carry anything.
        tracing::debug!(statement = %prepared.stmt, "execute");
        let stmt = extended::substitute(prepared, &portal.parameters, &portal.parameter_format)?;
        if let Some(e) = self.subscribe(client, &stmt).await {
            return Err(e.into());
        }
        let stream = exec::Streaming::Yes(if max_rows == 0 { None } else { handle(client) });
        let out = exec::execute(
            &self.db,
            &self.vars,
            stmt,
            &portal.result_column_format,
            stream,
        )
        .await?;
        Self::notices(client, out.notices).await?;
        match out.response {
            Response::Query(mut rows) if max_rows == 0 => {
                let tag = rows.command_tag().to_owned();
                let mut sent = 0;
                while let Some(row) = rows.data_rows().next().await {
                    client.feed(PgWireBackendMessage::DataRow(row?)).await?;
                    sent += 1;
                }
                Ok(Response::Execution(Tag::new(&tag).with_rows(sent)))
            }
            other => Ok(other),
        }
    }
}
