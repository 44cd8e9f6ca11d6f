//! Change logs: what subscriptions and `SUBSCRIBE` read.
//!
//! A relation with a subscription has a change log in storage (keys
//! `0x06 rel ts seq`, see [`keys::change`]): every change the writer makes
//! to its rows, as the operation RisingWave names (`Insert`, `Delete`,
//! `UpdateDelete` then `UpdateInsert`) and the row, at its commit's
//! [`Position`]. The changes one step of the writer makes to a relation
//! share an entry, keyed by the first one's position: they have
//! consecutive positions, so the `i`-th is at `seq + i`. Entries are written in the same batch as the rows, so the
//! log and the relation never disagree, and are removed once older than
//! the longest retention of the relation's subscriptions.
//!
//! Readers see only what is durable: the writer publishes the position
//! after its last fsynced commit (`Database::changes_committed`), and a reader
//! reads below it. A reader that asks for a snapshot gets the storage as of
//! one commit and the position the log continues from, so rows and changes
//! meet exactly: nothing doubled, nothing missed.
//!
//! `SUBSCRIBE` on a relation without a subscription needs no log: the
//! writer hands each commit's changes to the relations' live subscribers
//! over a bounded broadcast ([`Feed`]); one that falls behind is stopped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rivulet_expr::{decode_row, encode_row, Row};
use rivulet_storage::{keys, Engine};
use rustc_hash::FxHashMap;

use crate::{Change, Error, Result};

/// Where a change sits in a relation's log: its commit time (ms since
/// the epoch) and its number among the changes committed in that
/// millisecond. Ordered as the changes were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    /// Commit time, ms since the epoch.
    pub ts: u64,
    /// Number within the millisecond.
    pub seq: u32,
}

impl Position {
    /// The first position at or after time `ts`.
    pub fn at(ts: u64) -> Position {
        Position { ts, seq: 0 }
    }

    /// The position right after this one.
    pub fn next(self) -> Position {
        match self.seq.checked_add(1) {
            Some(seq) => Position { ts: self.ts, seq },
            None => Position::at(self.ts + 1),
        }
    }
}

/// What a logged change did, with RisingWave's names and numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    /// A new row.
    Insert = 1,
    /// A row removed.
    Delete = 2,
    /// The new version of an updated row.
    UpdateInsert = 3,
    /// The old version of an updated row.
    UpdateDelete = 4,
}

impl ChangeOp {
    /// `Insert`, `Delete`, `UpdateInsert` or `UpdateDelete`.
    pub fn name(self) -> &'static str {
        match self {
            ChangeOp::Insert => "Insert",
            ChangeOp::Delete => "Delete",
            ChangeOp::UpdateInsert => "UpdateInsert",
            ChangeOp::UpdateDelete => "UpdateDelete",
        }
    }

    /// +1 for a row that appears, -1 for one that goes (`mz_diff`).
    pub fn diff(self) -> i64 {
        match self {
            ChangeOp::Insert | ChangeOp::UpdateInsert => 1,
            ChangeOp::Delete | ChangeOp::UpdateDelete => -1,
        }
    }

    fn from_code(code: u8) -> Option<ChangeOp> {
        Some(match code {
            1 => ChangeOp::Insert,
            2 => ChangeOp::Delete,
            3 => ChangeOp::UpdateInsert,
            4 => ChangeOp::UpdateDelete,
            _ => return None,
        })
    }
}

/// One change as subscribers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedChange {
    /// Where it is in the log.
    pub at: Position,
    /// What it did.
    pub op: ChangeOp,
    /// The row it inserted or removed.
    pub row: Row,
}

/// The rows a change to one key stands for: an update is its old row
/// (`UpdateDelete`) then its new one (`UpdateInsert`).
pub fn split(change: &Change) -> impl Iterator<Item = (ChangeOp, &Row)> {
    let (old_op, new_op) = match (&change.old, &change.new) {
        (Some(_), Some(_)) => (ChangeOp::UpdateDelete, ChangeOp::UpdateInsert),
        _ => (ChangeOp::Delete, ChangeOp::Insert),
    };
    let old = change.old.as_ref().map(|r| (old_op, r));
    let new = change.new.as_ref().map(|r| (new_op, r));
    old.into_iter().chain(new)
}

/// Appends one change to a log entry's value: its op, the row's length
/// (u32, little-endian) and the row.
pub(crate) fn encode_into(out: &mut Vec<u8>, op: ChangeOp, row: &Row) {
    let bytes = encode_row(row);
    out.push(op as u8);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&bytes);
}

/// Calls `f` with each change in a log entry's value and its index;
/// stops when `f` returns false.
fn each_change(
    value: &[u8],
    mut f: impl FnMut(u32, ChangeOp, &[u8]) -> Result<bool>,
) -> Result<()> {
    let corrupt = || Error::Expr(rivulet_expr::Error::Corrupted("change log entry"));
    let mut rest = value;
    let mut i = 0u32;
    while let Some((&code, tail)) = rest.split_first() {
        let op = ChangeOp::from_code(code).ok_or_else(corrupt)?;
        let len = tail
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or_else(corrupt)? as usize;
        let row = tail.get(4..4 + len).ok_or_else(corrupt)?;
        if !f(i, op, row)? {
            return Ok(());
        }
        rest = &tail[4 + len..];
        i += 1;
    }
    Ok(())
}

/// The number of changes in a log entry's value.
pub(crate) fn count(value: &[u8]) -> Result<u32> {
    let mut n = 0;
    each_change(value, |_, _, _: &[u8]| {
        n += 1;
        Ok(true)
    })?;
    Ok(n)
}

/// Reads up to `limit` changes of relation `rel` from `from` on and below
/// `below`, in order. Blocking.
pub(crate) fn read(
    engine: &dyn Engine,
    rel: u64,
    from: Position,
    below: Position,
    limit: usize,
) -> Result<Vec<LoggedChange>> {
    let mut out = Vec::new();
    let mut failure = None;
    // An entry holding `from` starts at or before it, in the same
    // millisecond: start at the millisecond's first.
    engine.for_each_prefix_from(
        &keys::changes_prefix(rel),
        &keys::change(rel, from.ts, 0),
        &mut |k, v| {
            let Some((_, ts, first)) = keys::parse_change(k) else {
                return true;
            };
            let each = each_change(v, |i, op, row: &[u8]| {
                let at = Position {
                    ts,
                    seq: first.saturating_add(i),
                };
                if at < from {
                    return Ok(true);
                }
                if at >= below || out.len() >= limit {
                    return Ok(false);
                }
                out.push(LoggedChange {
                    at,
                    op,
                    row: decode_row(row)?,
                });
                Ok(true)
            });
            if let Err(e) = each {
                failure = Some(e);
                return false;
            }
            out.len() < limit && Position { ts, seq: first } < below
        },
    )?;
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// A commit's changes to relations with live subscribers.
#[derive(Debug)]
pub struct Feed {
    /// The commit's number (counted from start-up).
    pub commit: u64,
    /// Its time, ms since the epoch.
    pub ts: u64,
    /// The changes, by relation, in the order they were made.
    pub changes: Vec<(u64, Change)>,
}

/// Commits a live subscriber may fall behind by before it is stopped.
const FEED_CAPACITY: usize = 128;

/// The change logs' state shared by the writer and the readers.
pub(crate) struct ChangeLog {
    /// The position after the last durable logged change.
    pub(crate) committed: tokio::sync::watch::Sender<Position>,
    /// Per relation, the newest entry removed past retention: a reader
    /// from a position at or before it may have missed changes. Set
    /// before the entries go.
    purged: Mutex<FxHashMap<u64, Position>>,
    /// Live subscribers by relation.
    watchers: Mutex<FxHashMap<u64, usize>>,
    /// Bumped whenever `watchers` changes, so the writer rereads it only
    /// then.
    pub(crate) watchers_version: AtomicU64,
    /// Each commit's changes to watched relations.
    pub(crate) feed: tokio::sync::broadcast::Sender<Arc<Feed>>,
}

impl Default for ChangeLog {
    fn default() -> ChangeLog {
        ChangeLog {
            committed: tokio::sync::watch::Sender::new(Position::default()),
            purged: Mutex::default(),
            watchers: Mutex::default(),
            watchers_version: AtomicU64::new(0),
            feed: tokio::sync::broadcast::Sender::new(FEED_CAPACITY),
        }
    }
}

impl ChangeLog {
    /// The newest change of `rel` removed past retention.
    pub(crate) fn purged(&self, rel: u64) -> Option<Position> {
        self.purged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&rel)
            .copied()
    }

    pub(crate) fn set_purged(&self, rel: u64, at: Position) {
        let mut p = self.purged.lock().unwrap_or_else(PoisonError::into_inner);
        let e = p.entry(rel).or_default();
        *e = (*e).max(at);
    }

    /// Registers a live subscriber of `rel`; it stays until the guard is
    /// dropped.
    pub(crate) fn watch(self: &Arc<Self>, rel: u64) -> WatchGuard {
        *self
            .watchers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(rel)
            .or_default() += 1;
        self.watchers_version.fetch_add(1, Ordering::Release);
        WatchGuard {
            log: self.clone(),
            rel,
        }
    }

    /// The relations with live subscribers.
    pub(crate) fn watched(&self) -> Vec<u64> {
        self.watchers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }
}

/// A live subscriber's registration, held for as long as it reads.
pub struct WatchGuard {
    log: Arc<ChangeLog>,
    rel: u64,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        let mut w = self
            .log
            .watchers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = w.get_mut(&self.rel) {
            *n -= 1;
            if *n == 0 {
                w.remove(&self.rel);
            }
        }
        drop(w);
        self.log.watchers_version.fetch_add(1, Ordering::Release);
    }
}

/// Milliseconds since the epoch, now.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A relation's rows in a snapshot, read a chunk at a time.
pub struct SnapshotRows {
    engine: Arc<dyn Engine>,
    rel: u64,
    /// The smallest entry key not yet read; `None` once all are.
    from: Option<Vec<u8>>,
}

impl SnapshotRows {
    /// The rows of `rel` in `engine` (a snapshot).
    pub fn new(engine: Arc<dyn Engine>, rel: u64) -> SnapshotRows {
        SnapshotRows {
            engine,
            rel,
            from: Some(Vec::new()),
        }
    }

    /// Whether every row has been read.
    pub fn is_done(&self) -> bool {
        self.from.is_none()
    }

    /// The next rows, at least `enough` unless the relation ends (whole
    /// stored entries are read). Blocking.
    pub fn next_chunk(&mut self, enough: usize) -> Result<Vec<Row>> {
        let Some(from) = self.from.take() else {
            return Ok(Vec::new());
        };
        let mut rows = Vec::new();
        let last = crate::rows::for_each_row(
            self.engine.as_ref(),
            self.rel,
            Some(&from),
            enough.max(1),
            &mut |_, bytes| {
                rows.push(decode_row(&bytes)?);
                Ok(())
            },
        )?;
        if rows.len() >= enough.max(1) {
            // More may follow: go on after the last entry read.
            self.from = last.map(|mut k| {
                k.push(0);
                k
            });
        }
        Ok(rows)
    }
}
