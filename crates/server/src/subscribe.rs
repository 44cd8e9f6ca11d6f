//! Reading changes: RisingWave's subscription cursors (`DECLARE cur
//! SUBSCRIPTION CURSOR FOR sub [SINCE ... | FULL]`, `FETCH n FROM cur
//! [WITH (timeout = ...)]`) and Materialize's `COPY (SUBSCRIBE TO rel) TO
//! STDOUT`.
//!
//! A subscription cursor reads its relation's change log from a
//! [`Position`]; each row is the changed row, its `op` and its commit
//! time (`rw_timestamp`, ms). `FULL` first reads the rows from a snapshot
//! taken at one commit, then the log from right after it. `SUBSCRIBE`
//! needs no subscription: it takes a snapshot together with a live feed of
//! the relation's commits and streams both, as `mz_timestamp`, `mz_diff`
//! and the row, until the client cancels or goes away.

use std::collections::VecDeque;

use futures::{Sink, SinkExt};
use pgwire::error::PgWireError;
use pgwire::messages::copy::{CopyData, CopyOutResponse};
use pgwire::messages::PgWireBackendMessage;
use rivulet_catalog::Catalog;
use rivulet_expr::{DataType, Row, Value};
use rivulet_sql::{CopyOptions, ObjectName, Since};
use rivulet_stream::changes::{self, LoggedChange, Position, SnapshotRows};
use rivulet_stream::Database;

use crate::error::{Error, Result};

/// Most changes one `FETCH ALL` returns: it answers with what is
/// committed, and a log can hold more than a reply should.
const FETCH_ALL_LIMIT: usize = 100_000;

/// Rows read from a snapshot at a time.
const SNAPSHOT_CHUNK: usize = 1024;

/// How long a FETCH may wait for changes. A cancel request ends the wait
/// (with the statement: pgwire drops it).
#[derive(Default)]
pub struct Wait {
    /// Until when (`None`: it does not wait).
    pub until: Option<tokio::time::Instant>,
}

impl Wait {
    /// A FETCH's wait: `WITH (timeout = 'interval')`, if given.
    pub fn new(timeout: Option<&str>) -> Result<Wait> {
        let until = match timeout {
            None => None,
            Some(t) => {
                let micros = rivulet_expr::Interval::parse(t)
                    .map_err(|e| invalid(format!("FETCH timeout: {e}")))?
                    .span();
                if micros < 0 {
                    return Err(invalid(format!(
                        "FETCH timeout must not be negative, not '{t}'"
                    )));
                }
                let d = std::time::Duration::from_micros(micros.min(i128::from(u32::MAX)) as u64);
                Some(tokio::time::Instant::now() + d)
            }
        };
        Ok(Wait { until })
    }
}

fn invalid(message: String) -> Error {
    rivulet_catalog::Error::InvalidParameter(message).into()
}

/// An open subscription cursor.
pub struct SubscriptionCursor {
    subscription: String,
    /// The subscription's catalog id (a new one of the same name is
    /// another subscription).
    id: u64,
    rel: u64,
    columns: Vec<(String, DataType)>,
    /// `FULL`: the snapshot's rows not yet fetched.
    snapshot: Option<(SnapshotRows, VecDeque<Row>)>,
    /// The first change not yet fetched.
    position: Position,
}

impl SubscriptionCursor {
    /// Opens a cursor on subscription `name` from `since`.
    pub async fn declare(
        db: &Database,
        name: &ObjectName,
        since: Since,
    ) -> Result<SubscriptionCursor> {
        let catalog = db.catalog();
        let bare = Catalog::resolve_name(name)?;
        let sub = catalog.subscription(bare).cloned().ok_or_else(|| {
            rivulet_catalog::Error::UndefinedObject(format!(
                "subscription \"{bare}\" does not exist"
            ))
        })?;
        let rel = catalog
            .relation_by_id(sub.relation)
            .cloned()
            .ok_or(rivulet_stream::Error::RelationGone(sub.relation))?;
        let mut columns: Vec<(String, DataType)> =
            rel.columns.iter().map(|c| (c.name.clone(), c.ty)).collect();
        columns.push(("op".into(), DataType::Text));
        columns.push(("rw_timestamp".into(), DataType::Int8));
        let mut snapshot = None;
        let position = match since {
            // Not before the log's start (a new subscription's).
            Since::Now => {
                let start = db.changes_purged(rel.id).map(Position::next);
                db.changes_committed().max(start.unwrap_or_default())
            }
            // Everything after the newest change removed is still kept.
            Since::Begin => db
                .changes_purged(rel.id)
                .map_or(Position::default(), Position::next),
            Since::Millis(ms) => {
                let now = changes::now_millis();
                if ms > now.saturating_add(1000) {
                    return Err(invalid(format!(
                        "SINCE {ms} is in the future (now is {now})"
                    )));
                }
                let from = Position::at(ms);
                if db.changes_purged(rel.id).is_some_and(|p| p >= from) {
                    return Err(invalid(format!(
                        "SINCE {ms} is older than the oldest change subscription \"{bare}\" still keeps (its retention has passed); SINCE begin() reads from the oldest"
                    )));
                }
                from
            }
            Since::Full => {
                let at = db.snapshot(None).await?;
                snapshot = Some((SnapshotRows::new(at.engine, rel.id), VecDeque::new()));
                at.position
            }
        };
        Ok(SubscriptionCursor {
            subscription: sub.name.clone(),
            id: sub.id,
            rel: rel.id,
            columns,
            snapshot,
            position,
        })
    }

    /// The subscription's name.
    pub fn subscription(&self) -> &str {
        &self.subscription
    }

    /// The relation's columns, then `op` and `rw_timestamp`.
    pub fn columns(&self) -> Vec<(String, DataType)> {
        self.columns.clone()
    }

    /// Up to `count` rows (`None`: what is committed, up to
    /// [`FETCH_ALL_LIMIT`]): the snapshot's first, then changes; waits for
    /// more as `wait` allows.
    pub async fn fetch(
        &mut self,
        db: &Database,
        count: Option<u64>,
        wait: Wait,
    ) -> Result<Vec<Row>> {
        // As RisingWave's: the subscription must still exist.
        if db
            .catalog()
            .subscription(&self.subscription)
            .is_none_or(|s| s.id != self.id)
        {
            return Err(rivulet_catalog::Error::UndefinedObject(format!(
                "subscription \"{}\" does not exist",
                self.subscription
            ))
            .into());
        }
        let want = count.map_or(FETCH_ALL_LIMIT, |n| n.min(FETCH_ALL_LIMIT as u64) as usize);
        let mut out = Vec::new();
        loop {
            self.fetch_snapshot(want, &mut out).await?;
            if out.len() >= want {
                return Ok(out);
            }
            // Read the end first: a commit during the read ends the wait.
            let end = db.changes_committed();
            let (db2, rel, from, n) = (db.clone(), self.rel, self.position, want - out.len());
            let changes: Vec<LoggedChange> =
                tokio::task::spawn_blocking(move || db2.read_changes_blocking(rel, from, n))
                    .await
                    .map_err(|_| rivulet_stream::Error::ShuttingDown)??;
            for c in changes {
                self.position = c.at.next();
                out.push(change_row(c));
            }
            let Some(until) = wait.until else {
                return Ok(out);
            };
            if out.len() >= want || tokio::time::Instant::now() >= until {
                return Ok(out);
            }
            if !db.wait_for_changes(end, until).await {
                return Ok(out);
            }
        }
    }

    /// Moves snapshot rows into `out` until it holds `want`.
    async fn fetch_snapshot(&mut self, want: usize, out: &mut Vec<Row>) -> Result<()> {
        while out.len() < want {
            let Some((rows, buffered)) = &mut self.snapshot else {
                return Ok(());
            };
            if let Some(row) = buffered.pop_front() {
                out.push(snapshot_row(row));
                continue;
            }
            if rows.is_done() {
                self.snapshot = None;
                return Ok(());
            }
            let Some((rows, mut buffered)) = self.snapshot.take() else {
                return Ok(());
            };
            let (rows, chunk) = next_chunk(rows).await?;
            buffered.extend(chunk?);
            self.snapshot = Some((rows, buffered));
        }
        Ok(())
    }
}

/// The next chunk of a snapshot's rows, read off the async workers; the
/// reader comes back with it.
async fn next_chunk(
    mut rows: SnapshotRows,
) -> Result<(SnapshotRows, rivulet_stream::Result<Vec<Row>>)> {
    let read = tokio::task::spawn_blocking(move || {
        let chunk = rows.next_chunk(SNAPSHOT_CHUNK);
        (rows, chunk)
    });
    Ok(read
        .await
        .map_err(|_| rivulet_stream::Error::ShuttingDown)?)
}

/// A snapshot row as a cursor returns it: an `Insert` without a time.
fn snapshot_row(mut row: Row) -> Row {
    row.push(Value::Text("Insert".into()));
    row.push(Value::Null);
    row
}

fn change_row(c: LoggedChange) -> Row {
    let mut row = c.row;
    row.push(Value::Text(c.op.name().into()));
    row.push(Value::Int8(c.at.ts as i64));
    row
}

/// Runs `COPY (SUBSCRIBE TO name [WITH (SNAPSHOT = false)]) TO STDOUT`:
/// writes the COPY messages to `client` itself, flushing after each
/// commit's changes. It runs until it fails: the client gone, falling too
/// far behind, or shutdown; a cancel request drops it (pgwire answers
/// 57014).
pub async fn copy_subscribe<C>(
    client: &mut C,
    db: &Database,
    name: &ObjectName,
    snapshot: bool,
    options: &CopyOptions,
) -> Result<std::convert::Infallible>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let catalog = db.catalog();
    let rel = catalog.get_relation(name)?;
    if rel.system().is_some() {
        return Err(Error::NotSupported(
            "SUBSCRIBE to system catalogs is not supported".into(),
        ));
    }
    let format = crate::results::CopyFormat::new(options);
    let columns = rel.columns.len() + 2;
    // Subscribe first: every commit after the snapshot's is then received.
    let mut feed = db.feed();
    let at = db.snapshot(Some(rel.id)).await?;
    let _watching = at.watch;
    client
        .send(PgWireBackendMessage::CopyOutResponse(CopyOutResponse::new(
            0,
            columns as i16,
            vec![0; columns],
        )))
        .await
        .map_err(|e| Error::Connection(e.into()))?;
    let line = |ts: u64, diff: i64, row: &Row| {
        let mut texts: Vec<Option<String>> = vec![Some(ts.to_string()), Some(diff.to_string())];
        texts.extend(row.iter().map(Value::to_pg_text));
        CopyData::new(format.line(texts.iter().map(|t| t.as_deref())))
    };
    if snapshot {
        let mut rows = SnapshotRows::new(at.engine, rel.id);
        while !rows.is_done() {
            let (back, chunk) = next_chunk(rows).await?;
            rows = back;
            for row in chunk? {
                client
                    .feed(PgWireBackendMessage::CopyData(line(at.ts, 1, &row)))
                    .await
                    .map_err(|e| Error::Connection(e.into()))?;
            }
        }
    }
    client
        .flush()
        .await
        .map_err(|e| Error::Connection(e.into()))?;
    let end: Error = loop {
        let commit = match feed.recv().await {
            Ok(c) => c,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                break rivulet_stream::Error::Lagged(n).into()
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                break rivulet_stream::Error::ShuttingDown.into()
            }
        };
        if commit.commit <= at.commit {
            continue; // already in the snapshot
        }
        let mut any = false;
        for (r, change) in &commit.changes {
            if *r != rel.id {
                continue;
            }
            for (op, row) in changes::split(change) {
                client
                    .feed(PgWireBackendMessage::CopyData(line(
                        commit.ts,
                        op.diff(),
                        row,
                    )))
                    .await
                    .map_err(|e| Error::Connection(e.into()))?;
                any = true;
            }
        }
        if any {
            client
                .flush()
                .await
                .map_err(|e| Error::Connection(e.into()))?;
        }
    };
    // The error ends the copy: PostgreSQL's client libraries take an
    // ErrorResponse in the middle of COPY OUT as its end.
    Err(end)
}
