//! The public handle: submit writes to the writer, read from storage.

use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use rivulet_catalog::{Catalog, Relation};
use rivulet_expr::{decode_row, decode_row_shared, Expr, Row};
use rivulet_sql::Statement;
use rivulet_storage::{keys, Engine};
use tokio::sync::{mpsc, oneshot};

use crate::changes::{self, Feed, LoggedChange, Position};
use crate::rows::{self, decode_count, for_each_row, scan_inserts};
use crate::shared::Shared;
use crate::writer::{Command, DdlOutcome, Op, SnapshotAt, Writer};
use crate::{DeliveryIds, QueryMemory};
use crate::{Error, Result};

/// Commands that may wait for the writer before senders are slowed down.
const QUEUE_DEPTH: usize = 4096;

/// Tunables of an open database.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bytes the writer's cache of committed operator state may hold.
    pub state_cache_bytes: usize,
    /// Bytes of rows and operator state all running ad-hoc queries may
    /// hold together (see [`QueryMemory`]).
    pub query_memory_bytes: usize,
    /// Commands that may wait for the writer. SQL waits for room beyond
    /// it; a webhook delivery is refused ([`Error::Busy`]) so its sender
    /// retries.
    pub queue_depth: usize,
    /// Longest time operator state that rows can rebuild is kept from
    /// storage (see the writer's checkpoints): what a restart after a
    /// crash replays at most, in ingest time.
    pub checkpoint_every: std::time::Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            state_cache_bytes: 64 << 20,
            query_memory_bytes: 256 << 20,
            queue_depth: QUEUE_DEPTH,
            checkpoint_every: std::time::Duration::from_secs(1),
        }
    }
}

/// What a scan reads of each row.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanSpec<'a> {
    /// The columns to decode (`true` where read; the rest read as NULL),
    /// or all of them.
    pub columns: Option<&'a [bool]>,
    /// A predicate rows must pass to be handed on at all (see
    /// `Plan::scan_predicates`). A row whose predicate fails to evaluate
    /// is handed on.
    pub predicate: Option<&'a Expr>,
}

/// A handle to the database. Cheap to clone; the writer stops when the last
/// handle is dropped or [`Database::shutdown`] is called.
#[derive(Clone)]
pub struct Database {
    shared: Arc<Shared>,
    tx: mpsc::Sender<Command>,
    writer: Arc<std::sync::Mutex<Option<JoinHandle<()>>>>,
}

impl Database {
    /// Opens the database over `engine`: loads the catalog (re-binding every
    /// stored definition) and starts the writer thread. Reads no table or
    /// view rows: operator state is already in storage, except what the
    /// last checkpoint before a crash left to rebuild from the rows
    /// appended since (see the writer's checkpoints). Blocking.
    pub fn open(engine: Arc<dyn Engine>, options: Options) -> Result<Database> {
        let (writer, catalog) = Writer::recover(engine.clone(), &options)?;
        let shared = Arc::new(Shared {
            engine,
            catalog: RwLock::new(Arc::new(catalog)),
            fatal: tokio::sync::watch::Sender::new(None),
            query_memory: Arc::new(QueryMemory::new(options.query_memory_bytes)),
            webhook_log: Default::default(),
            metrics: Default::default(),
            changes: writer.change_log(),
        });
        let (tx, rx) = mpsc::channel(options.queue_depth.max(1));
        let s = shared.clone();
        // The writer wakes on its own to expire what has a time limit
        // (delivery ids, retained changes); it waits on the runtime's timer.
        let timer = tokio::runtime::Handle::try_current().ok();
        let handle = std::thread::Builder::new()
            .name("rivulet-writer".into())
            .stack_size(crate::THREAD_STACK)
            .spawn(move || {
                // A panic here is a bug, and the writer's memory (pending
                // writes, catalog) can no longer be trusted: like a failed
                // flush, it ends the writer for good.
                let shared = s.clone();
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    writer.run(rx, s, timer)
                }));
                let fatal = match outcome {
                    Ok(fatal) => fatal,
                    Err(_) => Some("the writer panicked".to_string()),
                };
                if let Some(why) = fatal {
                    shared.fatal.send_replace(Some(why));
                }
            })
            .map_err(rivulet_storage::Error::Io)?;
        Ok(Database {
            shared,
            tx,
            writer: Arc::new(std::sync::Mutex::new(Some(handle))),
        })
    }

    /// Whether the writer has stopped for good (see [`Database::failed`]).
    pub fn has_failed(&self) -> bool {
        self.shared.fatal.borrow().is_some()
    }

    /// Resolves, with the reason, once the writer has stopped for good
    /// because storage failed in a way it cannot recover from in place (a
    /// flush that failed after its batch was applied) or because it
    /// panicked. No write is acknowledged after that; what is durable is
    /// whatever recovery finds, so the process should exit and be
    /// restarted (the server exits with status 70).
    pub async fn failed(&self) -> String {
        let mut rx = self.shared.fatal.subscribe();
        let why = match rx.wait_for(Option::is_some).await {
            Ok(why) => why.clone().unwrap_or_default(),
            // The sender lives in `Shared`, which this handle holds.
            Err(_) => std::future::pending().await,
        };
        why
    }

    /// The latest committed catalog snapshot.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.shared
            .catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn submit<T>(&self, op: Op, rx: oneshot::Receiver<Result<T>>) -> Result<T> {
        self.tx
            .send(Command { op })
            .await
            .map_err(|_| Error::ShuttingDown)?;
        rx.await.map_err(|_| Error::ShuttingDown)?
    }

    /// Inserts rows into table `table` (overwriting on primary key). Returns
    /// once the rows and every view change are durable. Rows must already
    /// match the table's column types.
    pub async fn insert(&self, table: u64, rows: Vec<Row>) -> Result<u64> {
        let (reply, rx) = oneshot::channel();
        let ids = None;
        self.submit(
            Op::Insert {
                table,
                rows,
                ids,
                reply,
            },
            rx,
        )
        .await
    }

    /// The counters and histograms Prometheus scrapes.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.shared.metrics
    }

    /// The webhook listener's record of accepted and refused requests
    /// (`rivulet_catalog.webhook_rejections` and `webhook_stats`).
    pub fn webhook_log(&self) -> &crate::WebhookLog {
        &self.shared.webhook_log
    }

    /// Inserts the rows of a webhook delivery into `table`; with `ids`,
    /// skips those whose ids were stored within the table's
    /// `dedup_window` (and any repeated within `rows`). Returns how many
    /// rows were stored. The ids are stored with the rows, atomically, so
    /// a retry after a crash is recognized too. When the writer's queue is
    /// full the delivery is refused at once with [`Error::Busy`] instead of
    /// waiting, so the sender retries later.
    pub async fn deliver(
        &self,
        table: u64,
        rows: Vec<Row>,
        ids: Option<DeliveryIds>,
    ) -> Result<u64> {
        let (reply, rx) = oneshot::channel();
        let op = Op::Insert {
            table,
            rows,
            ids,
            reply,
        };
        match self.tx.try_send(Command { op }) {
            Ok(()) => rx.await.map_err(|_| Error::ShuttingDown)?,
            Err(mpsc::error::TrySendError::Full(_)) => Err(Error::Busy),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Error::ShuttingDown),
        }
    }

    /// Deletes the rows of `table` matching `filter` (all rows if `None`).
    pub async fn delete(&self, table: u64, filter: Option<Expr>) -> Result<u64> {
        let (reply, rx) = oneshot::channel();
        self.submit(
            Op::Delete {
                table,
                filter,
                reply,
            },
            rx,
        )
        .await
    }

    /// Sets the `assigned` columns (position, value over the old row) of
    /// the rows of `table` matching `filter` (all rows if `None`).
    pub async fn update(
        &self,
        table: u64,
        assigned: Vec<(usize, Expr)>,
        filter: Option<Expr>,
    ) -> Result<u64> {
        let (reply, rx) = oneshot::channel();
        self.submit(
            Op::Update {
                table,
                assigned,
                filter,
                reply,
            },
            rx,
        )
        .await
    }

    /// Runs a CREATE or DROP statement.
    pub async fn execute_ddl(&self, stmt: Statement) -> Result<DdlOutcome> {
        let (reply, rx) = oneshot::channel();
        self.submit(
            Op::Ddl {
                stmt: Box::new(stmt),
                reply,
            },
            rx,
        )
        .await
    }

    /// The number of rows of a table or materialized view, as of the last
    /// commit, kept by the writer with every change. Blocking.
    pub fn row_count_blocking(&self, rel: &Relation) -> Result<i64> {
        Ok(self
            .shared
            .engine
            .get(&keys::row_count(rel.id))?
            .map_or(0, |b| decode_count(&b)))
    }

    /// Every row of a relation, in key order. Blocking: call it from a
    /// blocking context (`spawn_blocking`).
    pub fn scan_blocking(&self, rel: &Relation) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        for_each_row(
            self.shared.engine.as_ref(),
            rel.id,
            None,
            usize::MAX,
            &mut |_, bytes| {
                out.push(decode_row(&bytes)?);
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// Every row of a relation as insertions keyed by row key. Blocking.
    pub fn scan_rows_blocking(&self, rel: &Relation) -> Result<Vec<crate::Change>> {
        scan_inserts(self.shared.engine.as_ref(), rel.id)
    }

    /// Feeds a relation's rows, as insertions, to `f` in chunks of up to
    /// `chunk` rows, decoding only one chunk at a time and only what
    /// `spec` asks for; stops early when `f` returns false. Blocking.
    pub fn scan_chunks_blocking(
        &self,
        rel: &Relation,
        chunk: usize,
        spec: ScanSpec<'_>,
        f: &mut dyn FnMut(Vec<crate::Change>) -> Result<bool>,
    ) -> Result<()> {
        self.scan_range_blocking(rel, None, None, chunk, spec, f)
    }

    /// The first and last row keys of a relation, if it has rows. Blocking.
    pub fn key_bounds_blocking(&self, rel: &Relation) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let prefix = keys::rows_prefix(rel.id);
        let mut first = None;
        self.shared.engine.for_each_prefix(&prefix, &mut |k, _| {
            first = Some(keys::row_key_of(k).to_vec());
            false
        })?;
        let last = self.shared.engine.last_key_with_prefix(&prefix)?;
        Ok(first.zip(last.map(|k| keys::row_key_of(&k).to_vec())))
    }

    /// Like [`scan_chunks_blocking`](Database::scan_chunks_blocking), over
    /// the rows stored in entries whose keys are at least `from` and below
    /// `to` (a pack of rows counts by its entry's key, so ranges that
    /// split a relation's key space divide its rows exactly).
    pub fn scan_range_blocking(
        &self,
        rel: &Relation,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
        chunk: usize,
        spec: ScanSpec<'_>,
        f: &mut dyn FnMut(Vec<crate::Change>) -> Result<bool>,
    ) -> Result<()> {
        let mut buf = Vec::with_capacity(chunk);
        let mut failure: Option<Error> = None;
        let mut go_on = true;
        let prefix = keys::rows_prefix(rel.id);
        let start = keys::row(rel.id, from.unwrap_or_default());
        self.shared
            .engine
            .for_each_value_from(&prefix, &start, &mut |k, v| {
                let entry_key = keys::row_key_of(k);
                if to.is_some_and(|to| entry_key >= to) {
                    return false;
                }
                let each = rows::plain(v).and_then(|v| {
                    rows::each_row(entry_key, &v, &mut |key, range| {
                        let row = decode_row_shared(&v.slice(range), spec.columns)?;
                        // An error keeps the row, for the plan's filter to report.
                        if spec
                            .predicate
                            .is_some_and(|p| p.eval_predicate(&row) == Ok(false))
                        {
                            return Ok(go_on);
                        }
                        buf.push(crate::Change::insert(key.to_vec(), row));
                        if buf.len() >= chunk {
                            go_on = f(std::mem::take(&mut buf))?;
                        }
                        Ok(go_on)
                    })
                });
                if let Err(e) = each {
                    failure = Some(e);
                    go_on = false;
                }
                go_on
            })?;
        if let Some(e) = failure {
            return Err(e);
        }
        if go_on && !buf.is_empty() {
            f(buf)?;
        }
        Ok(())
    }

    /// The position after the last durable change to any subscribed
    /// relation: changes below it are readable.
    pub fn changes_committed(&self) -> Position {
        *self.shared.changes.committed.borrow()
    }

    /// Waits until changes past `after` are durable or `until` passes;
    /// returns whether they are.
    pub async fn wait_for_changes(&self, after: Position, until: tokio::time::Instant) -> bool {
        let mut rx = self.shared.changes.committed.subscribe();
        let waited = tokio::time::timeout_at(until, rx.wait_for(|p| *p > after)).await;
        matches!(waited, Ok(Ok(_)))
    }

    /// Up to `limit` durable changes of relation `rel` from `from` on, in
    /// order. Fails with [`Error::ChangesExpired`] if some at or after
    /// `from` were removed past retention. Blocking.
    pub fn read_changes_blocking(
        &self,
        rel: u64,
        from: Position,
        limit: usize,
    ) -> Result<Vec<LoggedChange>> {
        let below = self.changes_committed();
        let expired = || self.shared.changes.purged(rel).is_some_and(|p| p >= from);
        if expired() {
            return Err(Error::ChangesExpired);
        }
        let out = changes::read(self.shared.engine.as_ref(), rel, from, below, limit)?;
        // Removal past retention may have run while reading.
        if expired() {
            return Err(Error::ChangesExpired);
        }
        Ok(out)
    }

    /// The newest change of `rel` removed past retention.
    pub fn changes_purged(&self, rel: u64) -> Option<Position> {
        self.shared.changes.purged(rel)
    }

    /// The live feed of committed changes to watched relations (see
    /// [`Database::snapshot`]).
    pub fn feed(&self) -> tokio::sync::broadcast::Receiver<Arc<Feed>> {
        self.shared.changes.feed.subscribe()
    }

    /// Storage as of the next commit, where the change logs go on from
    /// it, and (with `watch`) a live subscription to that relation's
    /// changes: every [`Feed`] with a larger commit number carries them.
    /// Subscribe to [`Database::feed`] first.
    pub async fn snapshot(&self, watch: Option<u64>) -> Result<SnapshotAt> {
        let (reply, rx) = oneshot::channel();
        self.submit(Op::Snapshot { watch, reply }, rx).await
    }

    /// The pool ad-hoc queries draw their memory from.
    pub(crate) fn query_memory(&self) -> Arc<QueryMemory> {
        self.shared.query_memory.clone()
    }

    /// A new reservation against the query memory pool, for statements
    /// other than queries that hold rows for their length (`COPY FROM`).
    pub fn reserve_query_memory(&self) -> Arc<crate::Reservation> {
        crate::Reservation::new(self.query_memory())
    }

    /// Every row of a relation, read off the async workers.
    pub async fn scan(&self, rel: Arc<Relation>) -> Result<Vec<Row>> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.scan_blocking(&rel))
            .await
            .map_err(|_| Error::ShuttingDown)?
    }

    /// Stops accepting commands, lets the writer finish what is queued, and
    /// waits for it. Idempotent.
    pub fn shutdown(&self) {
        let handle = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            // Closing our sender is not enough while clones live, so tell the
            // writer explicitly.
            let _ = self.tx.try_send(Command { op: Op::Shutdown });
            let _ = handle.join();
        }
    }
}
