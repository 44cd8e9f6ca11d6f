//! `COPY ... TO STDOUT`: a relation's rows or a query's result, written in
//! PostgreSQL's text format (tab-separated, `\N` for NULL, backslash
//! escapes) or as CSV, one CopyData message per row, read and sent as the
//! client takes them, so a copy of a table many times the memory budget
//! holds a few chunks (as a streaming SELECT does).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use futures::{stream, StreamExt};
use pgwire::api::results::{CopyResponse, Response};
use pgwire::error::PgWireResult;
use pgwire::messages::copy::CopyData;
use rivulet_expr::Value;
use rivulet_sql::{CopyOptions, CopySource, Expr, Ident, Query, SelectItem, TableRef};
use rivulet_stream::Database;

use crate::error::{Error, Result};
use crate::results::{CancelOnDrop, CopyFormat, STREAM_AHEAD, STREAM_CHUNK};
use crate::vars::SessionVars;

/// The query a COPY reads.
fn source_query(source: CopySource) -> Result<Query> {
    Ok(match source {
        CopySource::Query(q) => *q,
        // A subscription streams from the session (see `subscribe.rs`);
        // it reaches here only when other statements follow it.
        CopySource::Subscribe { .. } => {
            return Err(Error::NotSupported(
                "COPY (SUBSCRIBE ...) TO STDOUT must be the last statement of its query string"
                    .into(),
            ))
        }
        CopySource::Table { name, columns } => Query::select(
            if columns.is_empty() {
                vec![SelectItem::Wildcard]
            } else {
                columns
                    .into_iter()
                    .map(|c: Ident| SelectItem::Expr {
                        expr: Expr::Identifier(vec![c]),
                        alias: None,
                    })
                    .collect()
            },
            Some(TableRef::Table { name, alias: None }),
        ),
    })
}

/// Runs `COPY source TO STDOUT` with `options`.
pub async fn copy_to(
    db: &Database,
    vars: &SessionVars,
    source: CopySource,
    options: CopyOptions,
) -> Result<Response> {
    let query = source_query(source)?;
    let format = CopyFormat::new(&options);
    let timeout = vars.statement_timeout()?;
    let db2 = db.clone();
    let plan = tokio::task::spawn_blocking(move || {
        db2.plan_query_blocking(&query, &AtomicBool::new(false))
    })
    .await??;
    let columns = plan.output.len();
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<PgWireResult<CopyData>>>(STREAM_AHEAD);
    let cancelled = Arc::new(AtomicBool::new(false));
    let flag = cancelled.clone();
    let db2 = db.clone();
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    tokio::task::spawn_blocking(move || {
        let mut chunk = Vec::with_capacity(STREAM_CHUNK);
        // The header rides in the first row's message: the command tag
        // counts messages, and PostgreSQL's counts rows only.
        let mut header = options
            .header
            .then(|| format.line(plan.output.iter().map(|c| Some(c.name.as_str()))));
        let r = db2.query_blocking(&plan, &flag, &mut |row| {
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Err(rivulet_stream::Error::Canceled(
                    rivulet_stream::CancelReason::StatementTimeout,
                ));
            }
            let texts: Vec<Option<String>> = row.iter().map(Value::to_pg_text).collect();
            let line = format.line(texts.iter().map(|t| t.as_deref()));
            let data = match header.take() {
                Some(h) => [h, line].concat().into(),
                None => line,
            };
            chunk.push(Ok(CopyData::new(data)));
            if chunk.len() >= STREAM_CHUNK && tx.blocking_send(std::mem::take(&mut chunk)).is_err()
            {
                return Ok(false); // the client went away
            }
            Ok(true)
        });
        if let Some(h) = header {
            chunk.push(Ok(CopyData::new(h)));
        }
        if let Err(e) = r {
            chunk.push(Err(Error::from(e).into()));
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(chunk);
        }
    });
    // Dropping the response (done, or the connection gone) stops the
    // reader at its next row.
    let guard = CancelOnDrop(cancelled);
    let rows = stream::unfold((rx, guard), |(mut rx, guard)| async move {
        let chunk = rx.recv().await?;
        Some((stream::iter(chunk), (rx, guard)))
    })
    .flatten();
    Ok(Response::CopyOut(CopyResponse::new(0, columns, rows)))
}
