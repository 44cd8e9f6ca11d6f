//! The writer's side of change logs (see [`crate::changes`]): logging
//! each change to a subscribed relation with the rows it changes, handing
//! commits to live subscribers, snapshots that meet the log exactly, and
//! removing entries past their retention between groups.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rivulet_storage::{keys, Engine};
use tokio::sync::oneshot;

use super::Writer;
use crate::changes::{self, ChangeLog, Feed, Position, WatchGuard};
use crate::dataflow::Change;
use crate::state::StateStore;
use crate::{Error, Result};

/// Entries removed past retention per step.
const EXPIRY_CHUNK: usize = 4096;

/// How often entries past retention are looked for.
const EXPIRY_EVERY: Duration = Duration::from_secs(1);

/// Storage as of one commit, and where the change log goes on from it.
pub struct SnapshotAt {
    /// Reads storage as it was right after the commit.
    pub engine: Arc<dyn Engine>,
    /// The position of the first change after it.
    pub position: Position,
    /// The commit's time, ms since the epoch.
    pub ts: u64,
    /// The commit's number: live feeds after it have larger ones.
    pub commit: u64,
    /// The live subscription asked for with the snapshot, if any: its
    /// relation's changes are in every feed from the next commit on.
    pub watch: Option<WatchGuard>,
}

/// A snapshot asked for in the running group, answered once it commits.
pub(super) struct SnapshotRequest {
    pub(super) reply: oneshot::Sender<Result<SnapshotAt>>,
    pub(super) watch: Option<WatchGuard>,
}

/// The writer's change-log bookkeeping.
pub(super) struct Logs {
    pub(super) shared: Arc<ChangeLog>,
    /// Subscribed relations and the longest retention of their
    /// subscriptions, in µs.
    retention: rustc_hash::FxHashMap<u64, i64>,
    /// Relations whose log has entries but no subscription any more: all
    /// of them go.
    orphans: BTreeSet<u64>,
    /// Relations with live subscribers (`SUBSCRIBE`).
    watched: HashSet<u64>,
    watchers_seen: u64,
    /// The position the next change gets.
    clock: Position,
    /// Whether the running group logged a change.
    logged: bool,
    /// The running group's changes to watched relations.
    feed: Vec<(u64, Change)>,
    /// Snapshots to take once the running group commits.
    snapshots: Vec<SnapshotRequest>,
    /// Groups committed since start-up.
    commits: u64,
    checked: Instant,
    left: bool,
}

impl Logs {
    /// The bookkeeping of a data directory: where its clock stands, which
    /// relations have entries, and how far each was purged. Blocking.
    pub(super) fn recover(engine: &dyn Engine) -> Result<Logs> {
        let clock = engine
            .get(&keys::last_commit_ts())?
            .and_then(|v| decode_position(&v))
            .unwrap_or_default();
        let shared = Arc::new(ChangeLog::default());
        shared.committed.send_replace(clock);
        let purged_prefix = keys::meta("changes-purged/");
        engine.for_each_prefix(&purged_prefix, &mut |k, v| {
            let rel = k[purged_prefix.len()..].try_into().map(u64::from_be_bytes);
            if let (Ok(rel), Some(at)) = (rel, decode_position(v)) {
                shared.set_purged(rel, at);
            }
            true
        })?;
        // Relations with entries: the first key, then past that relation.
        let mut orphans = BTreeSet::new();
        let all = keys::changes_all_prefix();
        let mut from = all.clone();
        loop {
            let mut next = None;
            engine.for_each_prefix_from(&all, &from, &mut |k, _| {
                next = keys::parse_change(k).map(|(rel, _, _)| rel);
                false
            })?;
            let Some(rel) = next else { break };
            orphans.insert(rel);
            match rel.checked_add(1) {
                Some(n) => from = keys::changes_prefix(n),
                None => break,
            }
        }
        Ok(Logs {
            shared,
            retention: Default::default(),
            orphans,
            watched: HashSet::new(),
            watchers_seen: 0,
            clock,
            logged: false,
            feed: Vec::new(),
            snapshots: Vec::new(),
            commits: 0,
            checked: Instant::now(),
            left: false,
        })
    }

    /// Rereads the relations with live subscribers if they changed.
    pub(super) fn refresh_watched(&mut self) {
        let v = self.shared.watchers_version.load(Ordering::Acquire);
        if v != self.watchers_seen {
            self.watchers_seen = v;
            self.watched = self.shared.watched().into_iter().collect();
        }
    }

    /// Positions for `n` changes, consecutive; returns the first. A
    /// commit's changes share its time: the millisecond its first change
    /// was logged in, or the last one used if the clock has not passed it.
    fn take_positions(&mut self, n: u32) -> Position {
        if !self.logged {
            self.logged = true;
            let now = changes::now_millis();
            if now > self.clock.ts {
                self.clock = Position::at(now);
            }
        }
        if self.clock.seq.checked_add(n).is_none() {
            self.clock = Position::at(self.clock.ts + 1);
        }
        let p = self.clock;
        self.clock = Position {
            ts: p.ts,
            seq: p.seq + n,
        };
        p
    }

    /// How much of the running group's feed a command about to run may
    /// have to take back.
    pub(super) fn feed_mark(&self) -> usize {
        self.feed.len()
    }

    /// Takes back the feed of a command that failed.
    pub(super) fn feed_rollback(&mut self, mark: usize) {
        self.feed.truncate(mark);
    }
}

impl Writer {
    /// Logs `changes` of relation `rel` if it is subscribed, and keeps
    /// them for its live subscribers if it has any.
    pub(super) fn log_changes(&mut self, rel: u64, changes: &[Change]) {
        if self.logs.retention.contains_key(&rel) {
            let mut value = Vec::new();
            let mut n = 0u32;
            for c in changes {
                for (op, row) in changes::split(c) {
                    changes::encode_into(&mut value, op, row);
                    n += 1;
                }
            }
            let p = self.logs.take_positions(n);
            self.store.put(keys::change(rel, p.ts, p.seq), value);
        }
        if self.logs.watched.contains(&rel) {
            self.logs
                .feed
                .extend(changes.iter().map(|c| (rel, c.clone())));
        }
    }

    /// Recomputes the subscribed relations from the catalog; a relation
    /// that lost its last subscription has its log removed.
    pub(super) fn index_logs(&mut self) {
        let mut retention: rustc_hash::FxHashMap<u64, i64> = Default::default();
        for s in self.catalog.subscriptions() {
            let r = retention.entry(s.relation).or_default();
            *r = (*r).max(s.retention_micros);
        }
        for rel in self.logs.retention.keys() {
            if !retention.contains_key(rel) {
                self.logs.orphans.insert(*rel);
            }
        }
        for rel in retention.keys() {
            self.logs.orphans.remove(rel);
        }
        self.logs.retention = retention;
    }

    /// Starts relation `rel`'s log at the clock if it has none running:
    /// entries left from a dropped subscription (not yet removed) are
    /// before its start, and no cursor reads them.
    pub(super) fn start_log(&mut self, rel: u64) {
        if self.logs.retention.contains_key(&rel) {
            return;
        }
        // The clock moves to now (and is saved with this group), so the
        // log's start is never before the published end of every log.
        self.logs.take_positions(0);
        let c = self.logs.clock;
        let before = match c.seq.checked_sub(1) {
            Some(seq) => Position { ts: c.ts, seq },
            None => Position {
                ts: c.ts.saturating_sub(1),
                seq: u32::MAX,
            },
        };
        self.logs.shared.set_purged(rel, before);
        self.store.put(purged_key(rel), encode_position(before));
    }

    /// Registers a snapshot to take once the running group commits, and
    /// the live subscriber that comes with it.
    pub(super) fn request_snapshot(
        &mut self,
        watch: Option<u64>,
        reply: oneshot::Sender<Result<SnapshotAt>>,
    ) {
        let watch = watch.map(|rel| {
            self.logs.watched.insert(rel);
            self.logs.shared.watch(rel)
        });
        self.logs.snapshots.push(SnapshotRequest { reply, watch });
    }

    /// Adds the clock to the running group's batch if it logged anything.
    pub(super) fn save_clock(&mut self) {
        if self.logs.logged {
            self.store
                .put(keys::last_commit_ts(), encode_position(self.logs.clock));
        }
    }

    /// After a group is durable: publishes the log's new end, hands the
    /// group's changes to live subscribers, and answers snapshots.
    pub(super) fn changes_committed(&mut self) {
        let ts = if self.logs.logged {
            self.logs.clock.ts
        } else {
            changes::now_millis().max(self.logs.clock.ts)
        };
        self.logs.logged = false;
        self.logs.commits += 1;
        let commit = self.logs.commits;
        let position = self.logs.clock;
        self.logs.shared.committed.send_if_modified(|p| {
            let changed = *p != position;
            *p = position;
            changed
        });
        if !self.logs.feed.is_empty() {
            let feed = Feed {
                commit,
                ts,
                changes: std::mem::take(&mut self.logs.feed),
            };
            // No receiver: every subscriber has gone.
            let _ = self.logs.shared.feed.send(Arc::new(feed));
        }
        for req in std::mem::take(&mut self.logs.snapshots) {
            let r = self
                .store
                .engine()
                .snapshot()
                .map_err(Error::from)
                .map(|engine| SnapshotAt {
                    engine,
                    position,
                    ts,
                    commit,
                    watch: req.watch,
                });
            let _ = req.reply.send(r);
        }
    }

    /// After a group failed: nothing of it reaches subscribers.
    pub(super) fn changes_aborted(&mut self, why: &dyn std::fmt::Display) {
        self.logs.logged = false;
        self.logs.feed.clear();
        for req in std::mem::take(&mut self.logs.snapshots) {
            let _ = req.reply.send(Err(super::commit::unacknowledged(why)));
        }
    }

    /// Removes a chunk of log entries past their retention (all of an
    /// orphaned log), at most once a second unless the last step left some.
    pub(super) fn expire_changes_step(&mut self) {
        if !self.logs.left && self.logs.checked.elapsed() < EXPIRY_EVERY {
            return;
        }
        self.logs.checked = Instant::now();
        let now = changes::now_millis();
        let mut work: Vec<(u64, u64)> = self
            .logs
            .retention
            .iter()
            .map(|(&rel, &micros)| (rel, now.saturating_sub((micros / 1000).max(0) as u64)))
            .collect();
        work.extend(self.logs.orphans.iter().map(|&rel| (rel, u64::MAX)));
        let mut removed = 0usize;
        let mut emptied = Vec::new();
        for (rel, before) in work {
            let mut doomed: Vec<(Vec<u8>, Position)> = Vec::new();
            let mut bad = None;
            let scanned =
                self.store
                    .engine()
                    .for_each_prefix(&keys::changes_prefix(rel), &mut |k, v| {
                        match keys::parse_change(k) {
                            Some((_, ts, first)) if ts < before => {
                                // What goes is up to the entry's last change.
                                let n = changes::count(v).unwrap_or_else(|e| {
                                    bad = Some(e);
                                    1
                                });
                                let last = first.saturating_add(n.max(1) - 1);
                                doomed.push((k.to_vec(), Position { ts, seq: last }));
                                removed + doomed.len() < EXPIRY_CHUNK
                            }
                            _ => false,
                        }
                    });
            if let Some(e) = bad {
                tracing::error!(relation = rel, "a change log entry is corrupt: {e}");
            }
            if let Err(e) = scanned {
                tracing::error!(relation = rel, "cannot read changes to expire: {e}");
                return;
            }
            if before == u64::MAX && removed + doomed.len() < EXPIRY_CHUNK {
                emptied.push(rel);
            }
            let Some(&(_, newest)) = doomed.last() else {
                continue;
            };
            removed += doomed.len();
            // Readers learn of the gap before it opens.
            self.logs.shared.set_purged(rel, newest);
            self.store.put(purged_key(rel), encode_position(newest));
            for (key, _) in doomed {
                self.store.delete(key);
            }
            if removed >= EXPIRY_CHUNK {
                break;
            }
        }
        self.logs.left = removed >= EXPIRY_CHUNK;
        for rel in emptied {
            self.logs.orphans.remove(&rel);
        }
        if removed == 0 {
            return;
        }
        if let Err(e) = self.commit() {
            tracing::error!("cannot remove changes past retention, will retry: {e}");
        } else {
            tracing::debug!(changes = removed, "removed changes past retention");
        }
    }

    /// Whether change-log entries are waiting to be removed.
    pub(super) fn changes_left(&self) -> bool {
        self.logs.left
    }

    /// Whether some log has entries that may pass their retention.
    pub(super) fn has_changes_to_expire(&self) -> bool {
        !self.logs.retention.is_empty() || !self.logs.orphans.is_empty()
    }
}

/// Where the newest removed change of `rel` is kept.
fn purged_key(rel: u64) -> Vec<u8> {
    let mut k = keys::meta("changes-purged/");
    k.extend_from_slice(&rel.to_be_bytes());
    k
}

/// A stored position: ts then seq, little-endian.
fn encode_position(p: Position) -> Vec<u8> {
    let mut v = p.ts.to_le_bytes().to_vec();
    v.extend_from_slice(&p.seq.to_le_bytes());
    v
}

fn decode_position(v: &[u8]) -> Option<Position> {
    let ts = u64::from_le_bytes(v.get(..8)?.try_into().ok()?);
    let seq = u32::from_le_bytes(v.get(8..12)?.try_into().ok()?);
    Some(Position { ts, seq })
}
