//! Statement execution: one function per statement family.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use futures::{stream, StreamExt};
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, QueryResponse, Response, Tag};
use pgwire::api::ConnectionHandle;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;

use rivulet_catalog::{
    bind_delete, bind_insert, bind_insert_select, bind_update, plan_query, QueryPlan,
};
use rivulet_expr::{DataType, Row, Value};
use rivulet_sql::{ObjectName, Query, ShowKind, Statement};
use rivulet_stream::{CancelReason, Database};

use crate::error::{Error, Result};
use crate::pgvalue::PgValue;
use crate::results::{
    fields, result_set, CancelOnDrop, STREAM_AHEAD, STREAM_CHUNK, STREAM_READERS,
};
use crate::session_functions;
use crate::transaction::Notice;
use crate::vars::SessionVars;

/// Whether a query may answer with a stream of rows read as the client
/// takes them.
pub enum Streaming {
    /// No: run it to the end first (an earlier statement of several).
    No,
    /// Yes. With a handle, the stream is read after the statement's
    /// handler returned, so it re-arms the connection's cancel handle for
    /// itself; without one the caller reads it while cancel requests
    /// still reach it.
    Yes(Option<Arc<ConnectionHandle>>),
}

/// What running one statement produced.
pub struct Outcome {
    pub response: Response,
    /// NOTICE and WARNING messages to send before the response.
    pub notices: Vec<Notice>,
}

impl From<Response> for Outcome {
    fn from(response: Response) -> Outcome {
        Outcome {
            response,
            notices: vec![],
        }
    }
}

/// Executes one statement for a session.
///
/// With `stream`, a query whose rows are final as read may answer with a
/// stream of them (see `select`). Inside a transaction block an error
/// fails the block: later statements but COMMIT and ROLLBACK (TO) are
/// refused with 25P02, as in PostgreSQL.
pub async fn execute(
    db: &Database,
    vars: &SessionVars,
    stmt: Statement,
    fmt: &Format,
    stream: Streaming,
) -> Result<Outcome> {
    let ends_failure = matches!(
        stmt,
        Statement::Commit | Statement::Rollback | Statement::RollbackToSavepoint(_)
    );
    if vars.transaction.failed() && !ends_failure {
        return Err(Error::InFailedTransaction);
    }
    let r = run(db, vars, stmt, fmt, stream).await;
    if r.is_err() {
        vars.transaction.fail();
    }
    r
}

async fn run(
    db: &Database,
    vars: &SessionVars,
    stmt: Statement,
    fmt: &Format,
    stream: Streaming,
) -> Result<Outcome> {
    match stmt {
        Statement::Query(mut q) => {
            session_functions::bind(&mut q, Some(vars))?;
            select(db, vars, &q, fmt, stream).await.map(Outcome::from)
        }
        Statement::CreateMaterializedView { ref query, .. }
            if let Some(f) = session_functions::uses_session_functions(query) =>
        {
            Err(Error::NotSupported(format!(
                "{f} is not allowed in a materialized view: a view's rows cannot depend on when or by whom it is read"
            )))
        }
        Statement::CreateSecret { .. }
        | Statement::CreateSubscription { .. }
        | Statement::CreateTable { .. }
        | Statement::CreateMaterializedView { .. }
        | Statement::CreateView { .. }
        | Statement::Comment { .. }
        | Statement::Drop { .. } => {
            vars.transaction.wrote();
            let out = db.execute_ddl(stmt).await?;
            Ok(Outcome {
                response: Response::Execution(Tag::new(&out.tag.replace('_', " "))),
                notices: out.notices.into_iter().map(Notice::info).collect(),
            })
        }
        Statement::Insert {
            table,
            columns,
            rows,
            returning,
        } => {
            vars.transaction.wrote();
            insert(db, &table, &columns, &rows, &returning, fmt).await
        }
        Statement::InsertSelect {
            table,
            columns,
            mut query,
            returning,
        } => {
            vars.transaction.wrote();
            session_functions::bind(&mut query, Some(vars))?;
            rivulet_catalog::type_insert_literals(&db.catalog(), &table, &columns, &mut query)?;
            insert_select(db, vars, table, columns, *query, &returning, fmt).await
        }
        Statement::Delete { table, selection } => {
            vars.transaction.wrote();
            delete(db, &table, selection.as_ref()).await
        }
        Statement::Truncate(tables) => {
            vars.transaction.wrote();
            // Every name is checked before any table is emptied.
            let catalog = db.catalog();
            let bound = tables
                .iter()
                .map(|t| bind_delete(&catalog, t, None))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            for b in bound {
                db.delete(b.table.id, None).await?;
            }
            Ok(Response::Execution(Tag::new("TRUNCATE TABLE")).into())
        }
        Statement::Update {
            table,
            assignments,
            selection,
        } => {
            vars.transaction.wrote();
            update(db, &table, &assignments, selection.as_ref()).await
        }
        Statement::Show(kind) => show(db, vars, &kind, fmt).map(Outcome::from),
        Statement::SetVariable { name, value } => {
            vars.set(name.as_str(), &value)?;
            Ok(Response::Execution(Tag::new("SET")).into())
        }
        Statement::ResetVariable { name } => {
            vars.reset(name.as_str())?;
            Ok(Response::Execution(Tag::new("RESET")).into())
        }
        Statement::Begin => Ok(Outcome {
            notices: vars.transaction.begin(),
            response: Response::TransactionStart(Tag::new("BEGIN")),
        }),
        Statement::StartTransaction => Ok(Outcome {
            notices: vars.transaction.begin(),
            response: Response::TransactionStart(Tag::new("START TRANSACTION")),
        }),
        Statement::Commit => {
            // COMMIT of a failed block rolls it back, and says so.
            let (notices, failed) = vars.transaction.commit();
            vars.cursors.end_of_block();
            Ok(Outcome {
                notices,
                response: Response::TransactionEnd(Tag::new(if failed {
                    "ROLLBACK"
                } else {
                    "COMMIT"
                })),
            })
        }
        Statement::Rollback => {
            vars.cursors.end_of_block();
            Ok(Outcome {
                notices: vars.transaction.rollback(),
                response: Response::TransactionEnd(Tag::new("ROLLBACK")),
            })
        }
        Statement::DeclareCursor {
            name,
            hold,
            mut query,
        } => {
            session_functions::bind(&mut query, Some(vars))?;
            let in_block = vars.transaction.in_block();
            vars.cursors
                .declare(db, name.as_str(), hold, in_block, *query)
                .await?;
            Ok(Response::Execution(Tag::new("DECLARE CURSOR")).into())
        }
        Statement::DeclareSubscriptionCursor {
            name,
            subscription,
            since,
        } => {
            vars.cursors
                .declare_subscription(db, name.as_str(), &subscription, since)
                .await?;
            Ok(Response::Execution(Tag::new("DECLARE SUBSCRIPTION CURSOR")).into())
        }
        Statement::Fetch {
            name,
            count,
            timeout,
        } => {
            let wait = crate::subscribe::Wait::new(timeout.as_deref())?;
            vars.cursors
                .fetch(db, name.as_str(), count, wait, fmt)
                .await
                .map(Outcome::from)
        }
        Statement::CloseCursor(name) => {
            vars.cursors.close(name.as_ref().map(|n| n.as_str()))?;
            Ok(Response::Execution(Tag::new(if name.is_some() {
                "CLOSE CURSOR"
            } else {
                "CLOSE CURSOR ALL"
            }))
            .into())
        }
        Statement::Flush => Ok(Response::Execution(Tag::new("FLUSH")).into()),
        // Each statement commits on its own: savepoints are bookkeeping,
        // and rolling back to one undoes nothing (see transaction.rs).
        Statement::Savepoint(name) => {
            vars.transaction.savepoint(name.as_str())?;
            Ok(Response::Execution(Tag::new("SAVEPOINT")).into())
        }
        Statement::ReleaseSavepoint(name) => {
            vars.transaction.release(name.as_str())?;
            Ok(Response::Execution(Tag::new("RELEASE")).into())
        }
        Statement::RollbackToSavepoint(name) => Ok(Outcome {
            notices: vars.transaction.rollback_to(name.as_str())?,
            response: Response::Execution(Tag::new("ROLLBACK")),
        }),
        Statement::SetTransaction { session, .. } => Ok(Outcome {
            notices: if session || vars.transaction.in_block() {
                vec![]
            } else {
                vec![Notice::warning(
                    "25P01",
                    "SET TRANSACTION can only be used in transaction blocks",
                )]
            },
            response: Response::Execution(Tag::new("SET")),
        }),
        Statement::Lock(names) => {
            if !vars.transaction.in_block() {
                return Err(Error::NoTransactionBlock("LOCK TABLE"));
            }
            let catalog = db.catalog();
            for name in &names {
                catalog.get_relation(name)?;
            }
            Ok(Response::Execution(Tag::new("LOCK TABLE")).into())
        }
        Statement::Discard(what) => {
            if what == "ALL" && vars.transaction.in_block() {
                return Err(Error::InTransactionBlock("DISCARD ALL"));
            }
            if what == "ALL" {
                vars.reset("all")?;
                vars.cursors.close(None)?;
                vars.prepared.deallocate(None);
            }
            let what = if what == "TEMPORARY" { "TEMP" } else { &what };
            Ok(Response::Execution(Tag::new(&format!("DISCARD {what}"))).into())
        }
        Statement::Deallocate(name) => {
            vars.prepared.deallocate(name.as_ref().map(|n| n.as_str()));
            Ok(Response::Execution(Tag::new(if name.is_some() {
                "DEALLOCATE"
            } else {
                "DEALLOCATE ALL"
            }))
            .into())
        }
        Statement::Prepare {
            name,
            types,
            statement,
        } => {
            let n = statement.max_parameter().max(types.len());
            let (mut inferred, _) = crate::extended::describe(&statement, n, &db.catalog())?;
            for (slot, t) in inferred.iter_mut().zip(&types) {
                let base = t.split('(').next().unwrap_or(t).trim();
                *slot = DataType::from_name(base).ok_or_else(|| {
                    Error::Catalog(rivulet_catalog::Error::UndefinedObject(format!(
                        "type \"{base}\" does not exist"
                    )))
                })?;
            }
            vars.prepared.prepare(name.as_str(), *statement, inferred)?;
            Ok(Response::Execution(Tag::new("PREPARE")).into())
        }
        Statement::Execute { name, args } => {
            let stmt = vars.prepared.bind(name.as_str(), &args)?;
            Box::pin(run(db, vars, stmt, fmt, stream)).await
        }
        // Views are maintained as their tables change, so they are always
        // current; refreshing only checks the name.
        Statement::RefreshMaterializedView(name) => {
            let catalog = db.catalog();
            let rel = catalog.get_relation(&name)?;
            if rel.view().is_none() {
                return Err(rivulet_catalog::Error::WrongObjectType(format!(
                    "\"{}\" is not a materialized view",
                    rel.name
                ))
                .into());
            }
            Ok(Response::Execution(Tag::new("REFRESH MATERIALIZED VIEW")).into())
        }
        Statement::Explain(inner) => explain(db, &inner, fmt).map(Outcome::from),
        // The data follows in CopyData messages, after every statement
        // of the query string has run: so this must be the last.
        Statement::CopyFrom { .. } if matches!(stream, Streaming::No) => Err(Error::NotSupported(
            "COPY FROM STDIN must be the last statement of a query string".into(),
        )),
        Statement::CopyFrom {
            table,
            columns,
            options,
        } => {
            let copy = crate::copy_in::CopyIn::start(db, &table, &columns, &options)?;
            let n = copy.columns();
            *vars.copy_in.lock().unwrap_or_else(|e| e.into_inner()) = Some(copy);
            Ok(Response::CopyIn(pgwire::api::results::CopyResponse::new(
                0,
                n,
                futures::stream::empty(),
            ))
            .into())
        }
        Statement::CopyTo {
            source: rivulet_sql::CopySource::Query(mut q),
            options,
        } => {
            session_functions::bind(&mut q, Some(vars))?;
            crate::copy::copy_to(db, vars, rivulet_sql::CopySource::Query(q), options)
                .await
                .map(Outcome::from)
        }
        Statement::CopyTo { source, options } => crate::copy::copy_to(db, vars, source, options)
            .await
            .map(Outcome::from),
    }
}

/// `EXPLAIN SELECT ...` prints the query plan; `EXPLAIN CREATE MATERIALIZED
/// VIEW ...` the dataflow that would maintain the view. One row per line.
fn explain(db: &Database, stmt: &Statement, fmt: &Format) -> Result<Response> {
    let catalog = db.catalog();
    // EXPLAIN runs nothing: session functions are planned as constants
    // without changing any setting.
    let mut stmt = stmt.clone();
    session_functions::bind_statement(&mut stmt, None)?;
    let stmt = &stmt;
    let text = match stmt {
        Statement::Query(q) => plan_query(q, &catalog)?.to_string(),
        Statement::CreateMaterializedView { name, query, .. } => {
            let plan = rivulet_catalog::plan_view(query, &catalog)?;
            rivulet_catalog::nest(&format!("Materialize: {name}"), &plan.root.to_string())
        }
        other => {
            return Err(Error::NotSupported(format!(
                "EXPLAIN is not supported for: {other}"
            )))
        }
    };
    let rows: Vec<Row> = text
        .lines()
        .map(|l| vec![Value::Text(l.to_string())])
        .collect();
    result_set(&[("QUERY PLAN".into(), DataType::Text)], &rows, fmt)
}

/// A planned query: its rows, or a permit to stream them.
type Planned = std::result::Result<Vec<Row>, tokio::sync::SemaphorePermit<'static>>;

/// Runs a SELECT: planned and run off the async workers
/// ([`Database::plan_query_blocking`], [`Database::query_blocking`]) under
/// the session's statement timeout, its rows encoded as the client asked.
/// A query whose rows are final as they are read is streamed to the client
/// as it reads (a full `SELECT *` holds a few chunks, not the table); any
/// other is run to the end first.
async fn select(
    db: &Database,
    vars: &SessionVars,
    q: &Query,
    fmt: &Format,
    stream: Streaming,
) -> Result<Response> {
    let timeout = vars.statement_timeout()?;
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    let db2 = db.clone();
    let q = q.clone();
    let cancelled = Arc::new(AtomicBool::new(false));
    let guard = CancelOnDrop(cancelled.clone());
    let timed_out = || Error::Canceled(CancelReason::StatementTimeout);
    let flag = cancelled.clone();
    let (streams, stream) = match stream {
        Streaming::No => (false, None),
        Streaming::Yes(handle) => (true, handle),
    };
    let work = tokio::task::spawn_blocking(move || -> Result<(QueryPlan, Planned)> {
        let plan = db2.plan_query_blocking(&q, &flag)?;
        if streams && plan.final_as_read() {
            if let Ok(permit) = STREAM_READERS.try_acquire() {
                return Ok((plan, Err(permit)));
            }
        }
        let mut rows = Vec::new();
        db2.query_blocking(&plan, &flag, &mut |r| {
            rows.push(r);
            Ok(true)
        })?;
        Ok((plan, Ok(rows)))
    });
    let joined = match timeout {
        // On timeout the guard's drop stops the blocking work.
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .map_err(|_| timed_out())?,
        None => work.await,
    };
    let (plan, rows) = joined??;
    let columns = plan.output.clone();
    let permit = match rows {
        Ok(rows) => return result_set(&columns, &rows, fmt),
        Err(permit) => permit,
    };

    let fields = fields(&columns, fmt);
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<PgWireResult<DataRow>>>(STREAM_AHEAD);
    let db2 = db.clone();
    let encoder_fields = fields.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let mut encoder = DataRowEncoder::new(encoder_fields);
        let mut chunk = Vec::with_capacity(STREAM_CHUNK);
        let mut failure = None;
        let r = db2.query_blocking(&plan, &cancelled, &mut |row| {
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Err(rivulet_stream::Error::Canceled(
                    CancelReason::StatementTimeout,
                ));
            }
            for v in &row {
                if let Err(e) = encoder.encode_field(&PgValue(v)) {
                    failure = Some(e);
                    return Ok(false);
                }
            }
            chunk.push(Ok(encoder.take_row()));
            if chunk.len() >= STREAM_CHUNK && tx.blocking_send(std::mem::take(&mut chunk)).is_err()
            {
                return Ok(false); // the client went away
            }
            Ok(true)
        });
        if let Err(e) = r {
            chunk.push(Err(Error::from(e).into()));
        } else if let Some(e) = failure {
            chunk.push(Err(e));
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(chunk);
        }
    });
    // The guard travels with the rows: when the response is dropped
    // (finished, or the connection closed), reading stops. A cancel
    // request or the statement timeout ends the stream with 57014.
    let feed = Feed {
        rx,
        _guard: guard,
        handle: stream,
        cancel: None,
        deadline: deadline.map(tokio::time::Instant::from_std),
        done: false,
    };
    let rows = stream::unfold(feed, |mut feed| async move {
        let chunk = feed.next().await?;
        Some((stream::iter(chunk), feed))
    })
    .flatten();
    Ok(Response::Query(QueryResponse::new(fields, rows)))
}

/// The connection's side of a streaming query.
struct Feed {
    rx: tokio::sync::mpsc::Receiver<Vec<PgWireResult<DataRow>>>,
    _guard: CancelOnDrop,
    /// Where cancel requests for this connection arrive.
    handle: Option<Arc<ConnectionHandle>>,
    cancel: Option<futures::channel::oneshot::Receiver<()>>,
    deadline: Option<tokio::time::Instant>,
    done: bool,
}

impl Feed {
    /// The next chunk of rows, or the error that ends the statement.
    async fn next(&mut self) -> Option<Vec<PgWireResult<DataRow>>> {
        if self.done {
            return None;
        }
        if self.cancel.is_none() {
            // Armed here, once the statement's own answer is under way.
            if let Some(h) = &self.handle {
                self.cancel = Some(h.start_query().await);
            }
        }
        let stop = |why: CancelReason| {
            let e: PgWireError = Error::Canceled(why).into();
            Some(vec![Err(e)])
        };
        let Feed {
            rx,
            cancel,
            deadline,
            done,
            ..
        } = self;
        let cancelled = async {
            if let Some(c) = cancel.as_mut() {
                if c.await.is_ok() {
                    return;
                }
            }
            std::future::pending::<()>().await
        };
        let timeout = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(*d).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            chunk = rx.recv() => chunk,
            () = cancelled => {
                *done = true;
                stop(CancelReason::UserRequest)
            }
            () = timeout => {
                *done = true;
                stop(CancelReason::StatementTimeout)
            }
        }
    }
}

async fn insert(
    db: &Database,
    table: &ObjectName,
    columns: &[rivulet_sql::Ident],
    rows: &[Vec<rivulet_sql::Expr>],
    returning: &[rivulet_sql::SelectItem],
    fmt: &Format,
) -> Result<Outcome> {
    let bound = bind_insert(&db.catalog(), table, columns, rows)?;
    let rows = bound
        .rows
        .iter()
        .map(|exprs| exprs.iter().map(|e| e.eval(&[])).collect())
        .collect::<rivulet_expr::Result<Vec<Row>>>()?;
    write_rows(db, &bound.table, rows, returning, fmt).await
}

/// Inserts `rows` into `table` and answers `INSERT 0 n`, or with
/// `RETURNING` the items over the inserted rows (computed before anything
/// is written, so an error in them writes nothing).
async fn write_rows(
    db: &Database,
    table: &Arc<rivulet_catalog::Relation>,
    rows: Vec<Row>,
    returning: &[rivulet_sql::SelectItem],
    fmt: &Format,
) -> Result<Outcome> {
    if returning.is_empty() {
        let n = db.insert(table.id, rows).await?;
        return Ok(
            Response::Execution(Tag::new("INSERT").with_oid(0).with_rows(n as usize)).into(),
        );
    }
    // The answers come from the rows themselves: computed first, so an
    // error in them (a division by zero) writes nothing.
    let rows = Arc::new(rows);
    let plan = rivulet_catalog::plan_returning(&db.catalog(), table, rows.clone(), returning)?;
    let held = rows.iter().map(row_size).sum::<usize>();
    let db2 = db.clone();
    let (output, answers, _memory) = tokio::task::spawn_blocking(move || -> Result<_> {
        // The plan reads the rows as one more copy (its constant input),
        // and the answers are held until sent: both count against the
        // query memory.
        let memory = db2.reserve_query_memory();
        memory.try_charge(held)?;
        let width = plan.output.len();
        let mut answers = Vec::new();
        db2.query_blocking(&plan, &AtomicBool::new(false), &mut |mut row| {
            row.truncate(width);
            memory.try_charge(row_size(&row))?;
            answers.push(row);
            Ok(true)
        })?;
        Ok((plan.output, answers, memory))
    })
    .await??;
    // The plan is gone: the rows are ours alone again.
    let rows = Arc::try_unwrap(rows).unwrap_or_else(|shared| shared.as_ref().clone());
    db.insert(table.id, rows).await?;
    let mut response = result_set(&output, &answers, fmt)?;
    if let Response::Query(q) = &mut response {
        q.set_command_tag("INSERT 0");
    }
    Ok(response.into())
}

/// Bytes charged per row beyond its values (row and vector headers).
const ROW_OVERHEAD: usize = 48;

/// What a row held in memory is charged.
fn row_size(row: &Row) -> usize {
    row.iter().map(Value::approx_size).sum::<usize>() + ROW_OVERHEAD
}

/// `INSERT INTO t [(columns)] query`: the query runs like a SELECT (under
/// the statement timeout, cancellable) and its rows, converted to the
/// columns' types, are held against the query memory (twice: they and the
/// writer's copy) and inserted as one command: all of them or none.
async fn insert_select(
    db: &Database,
    vars: &SessionVars,
    table: ObjectName,
    columns: Vec<rivulet_sql::Ident>,
    query: Query,
    returning: &[rivulet_sql::SelectItem],
    fmt: &Format,
) -> Result<Outcome> {
    let db2 = db.clone();
    let cancelled = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancelled.clone());
    let flag = cancelled.clone();
    let work = tokio::task::spawn_blocking(
        move || -> Result<(Arc<rivulet_catalog::Relation>, Vec<Row>)> {
            let plan = db2.plan_query_blocking(&query, &flag)?;
            let bound = bind_insert_select(&db2.catalog(), &table, &columns, &plan.output)?;
            let memory = db2.reserve_query_memory();
            let mut rows = Vec::new();
            let mut failed = None;
            db2.query_blocking(&plan, &flag, &mut |r| {
                let row = match bound
                    .row
                    .iter()
                    .map(|e| e.eval(&r))
                    .collect::<rivulet_expr::Result<Row>>()
                {
                    Ok(row) => row,
                    Err(e) => {
                        failed = Some(e);
                        return Ok(false);
                    }
                };
                memory.try_charge(row_size(&row) * 2)?;
                rows.push(row);
                Ok(true)
            })?;
            if let Some(e) = failed {
                return Err(e.into());
            }
            Ok((bound.table, rows))
        },
    );
    let (table, rows) = match vars.statement_timeout()? {
        // On timeout the guard's drop stops the blocking work.
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .map_err(|_| Error::Canceled(CancelReason::StatementTimeout))?,
        None => work.await,
    }??;
    write_rows(db, &table, rows, returning, fmt).await
}

async fn delete(
    db: &Database,
    table: &ObjectName,
    selection: Option<&rivulet_sql::Expr>,
) -> Result<Outcome> {
    let bound = bind_delete(&db.catalog(), table, selection)?;
    let n = db.delete(bound.table.id, bound.filter).await?;
    Ok(Response::Execution(Tag::new("DELETE").with_rows(n as usize)).into())
}

async fn update(
    db: &Database,
    table: &ObjectName,
    assignments: &[(rivulet_sql::Ident, rivulet_sql::Expr)],
    selection: Option<&rivulet_sql::Expr>,
) -> Result<Outcome> {
    let bound = bind_update(&db.catalog(), table, assignments, selection)?;
    let n = db
        .update(bound.table.id, bound.assignments, bound.filter)
        .await?;
    Ok(Response::Execution(Tag::new("UPDATE").with_rows(n as usize)).into())
}

fn names(title: &str, names: Vec<String>, fmt: &Format) -> Result<Response> {
    let rows: Vec<Row> = names.into_iter().map(|n| vec![Value::Text(n)]).collect();
    result_set(&[(title.to_string(), DataType::Text)], &rows, fmt)
}

fn show(db: &Database, vars: &SessionVars, kind: &ShowKind, fmt: &Format) -> Result<Response> {
    let catalog = db.catalog();
    match kind {
        ShowKind::Tables => names(
            "Name",
            catalog
                .relations()
                .filter(|r| r.table().is_some())
                .map(|r| r.name.clone())
                .collect(),
            fmt,
        ),
        ShowKind::MaterializedViews => names(
            "Name",
            catalog
                .relations()
                .filter(|r| r.view().is_some())
                .map(|r| r.name.clone())
                .collect(),
            fmt,
        ),
        // Names only: a secret's value is never returned.
        ShowKind::Secrets => names(
            "Name",
            catalog.secrets().map(|s| s.name.clone()).collect(),
            fmt,
        ),
        ShowKind::Subscriptions => names(
            "Name",
            catalog.subscriptions().map(|s| s.name.clone()).collect(),
            fmt,
        ),
        ShowKind::SubscriptionCursors => {
            let rows: Vec<Row> = vars
                .cursors
                .subscription_cursors()
                .into_iter()
                .map(|(c, s)| vec![Value::Text(c), Value::Text(s)])
                .collect();
            result_set(
                &[
                    ("Name".into(), DataType::Text),
                    ("SubscriptionName".into(), DataType::Text),
                ],
                &rows,
                fmt,
            )
        }
        ShowKind::CreateTable(name) | ShowKind::CreateMaterializedView(name) => {
            let want_view = matches!(kind, ShowKind::CreateMaterializedView(_));
            let rel = catalog.get_relation(name)?;
            if rel.view().is_some() != want_view {
                return Err(rivulet_catalog::Error::WrongObjectType(format!(
                    "\"{}\" is not a {}",
                    rel.name,
                    if want_view {
                        "materialized view"
                    } else {
                        "table"
                    }
                ))
                .into());
            }
            let rows = vec![vec![
                Value::Text(format!("{}.{}", rivulet_catalog::DEFAULT_SCHEMA, rel.name)),
                Value::Text(rel.definition.to_string()),
            ]];
            result_set(
                &[
                    ("Name".into(), DataType::Text),
                    ("Create Sql".into(), DataType::Text),
                ],
                &rows,
                fmt,
            )
        }
        ShowKind::Variable(name) if name.as_str() == "all" => {
            let rows: Vec<Row> = vars
                .all()
                .into_iter()
                .map(|(k, v)| vec![Value::Text(k), Value::Text(v)])
                .collect();
            result_set(
                &[
                    ("name".into(), DataType::Text),
                    ("setting".into(), DataType::Text),
                ],
                &rows,
                fmt,
            )
        }
        ShowKind::Variable(name) => {
            let value = vars.get(name.as_str())?;
            // PostgreSQL heads the column with the setting's own spelling.
            let heading = match name.as_str().to_ascii_lowercase().as_str() {
                "datestyle" => "DateStyle".to_string(),
                "intervalstyle" => "IntervalStyle".to_string(),
                "timezone" => "TimeZone".to_string(),
                other => other.to_string(),
            };
            result_set(
                &[(heading, DataType::Text)],
                &[vec![Value::Text(value)]],
                fmt,
            )
        }
    }
}
