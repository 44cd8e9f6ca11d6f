//! Group commit: the writer's loop.
//!
//! The writer takes every command waiting in its queue as a group, runs
//! each inside its own savepoint, applies the group's writes as one atomic
//! batch and flushes once; only then are the callers answered, so an
//! acknowledged write is on disk and visible in every view. Between groups
//! it advances background work: a back-fill chunk or a purge chunk.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::DdlOutcome;
use super::{Command, Op, Writer};
use crate::shared::Shared;
use crate::{Error, Result};

/// Largest number of commands committed by one flush.
const MAX_GROUP: usize = 1024;

/// How often an idle writer looks for expired delivery ids and changes.
const TIMED_WORK_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// How long after the last command background work keeps its chunks short.
const BUSY_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// Rows after which a group takes no more commands: bounds the memory of
/// the pending batch (and its copy on the way to storage) while still
/// sharing one flush among many requests.
const MAX_GROUP_ROWS: usize = 8192;

/// A command's answer, held until its group is durable.
pub(super) enum Reply {
    Count(oneshot::Sender<Result<u64>>, Result<u64>),
    Ddl(oneshot::Sender<Result<DdlOutcome>>, Result<DdlOutcome>),
}

impl Reply {
    fn send(self) {
        // A caller that went away (client disconnected) no longer needs the
        // answer; its write is committed regardless.
        match self {
            Reply::Count(tx, r) => drop(tx.send(r)),
            Reply::Ddl(tx, r) => drop(tx.send(r)),
        }
    }

    /// Answers a command that was not run because its group failed.
    fn refuse(op: Op, why: &dyn std::fmt::Display) {
        match op {
            Op::Insert { reply, .. } | Op::Delete { reply, .. } | Op::Update { reply, .. } => {
                drop(reply.send(Err(unacknowledged(why))))
            }
            Op::Ddl { reply, .. } => drop(reply.send(Err(unacknowledged(why)))),
            Op::Snapshot { reply, .. } => drop(reply.send(Err(unacknowledged(why)))),
            Op::Shutdown => {}
        }
    }

    fn fail(self, why: &dyn std::fmt::Display) {
        match self {
            Reply::Count(tx, _) => drop(tx.send(Err(unacknowledged(why)))),
            Reply::Ddl(tx, _) => drop(tx.send(Err(unacknowledged(why)))),
        }
    }
}

/// The error a command gets when its group could not be made durable.
pub(super) fn unacknowledged(why: &dyn std::fmt::Display) -> Error {
    Error::Storage(rivulet_storage::Error::Io(std::io::Error::other(
        why.to_string(),
    )))
}

/// What one group did besides its replies.
#[derive(Default)]
pub(super) struct GroupEffects {
    /// A CREATE or DROP succeeded: publish the catalog after the commit.
    pub(super) catalog_changed: bool,
    /// Relations dropped by the group, to purge once it is durable.
    pub(super) dropped: Vec<u64>,
}

impl Writer {
    /// The writer loop: take a group, execute it, commit, publish, reply;
    /// between groups, advance background work. Returns why it stopped, if
    /// not because it was asked to.
    pub(crate) fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        shared: Arc<Shared>,
        timer: Option<tokio::runtime::Handle>,
    ) -> Option<String> {
        let mut stopping = false;
        // When commands last arrived: background work stays in short
        // chunks while they keep coming.
        let mut last_command: Option<std::time::Instant> = None;
        while !stopping && self.fatal.is_none() {
            let mut group = Vec::new();
            if self.backfill.is_none() {
                group.extend(self.deferred.drain(..));
            }
            if group.is_empty() && !self.has_background_work() {
                let next = match (&timer, self.has_timed_work()) {
                    (Some(t), true) => {
                        // The timer is made inside the runtime's context.
                        let next =
                            async { tokio::time::timeout(TIMED_WORK_EVERY, rx.recv()).await };
                        match t.block_on(next) {
                            Ok(next) => next.map(Some),
                            Err(_) => Some(None), // time to look for expired entries
                        }
                    }
                    _ => rx.blocking_recv().map(Some),
                };
                match next {
                    Some(Some(c)) => group.push(c),
                    Some(None) => {}
                    None => break,
                }
            }
            let mut rows: usize = group.iter().map(Command::rows).sum();
            while group.len() < MAX_GROUP && rows < MAX_GROUP_ROWS {
                match rx.try_recv() {
                    Ok(c) => {
                        rows += c.rows();
                        group.push(c);
                    }
                    Err(_) => break,
                }
            }
            if !group.is_empty() {
                last_command = Some(std::time::Instant::now());
                stopping = self.run_group(group, &shared);
            }
            if !stopping && self.fatal.is_none() {
                let busy = !rx.is_empty() || last_command.is_some_and(|t| t.elapsed() < BUSY_FOR);
                self.background_step(&shared, busy);
            }
        }
        if let Some(b) = self.backfill.take() {
            b.cancel(Error::ShuttingDown);
        }
        if self.fatal.is_none() {
            self.checkpoint_if_due(true);
        }
        let (hits, misses) = self.store.cache_hits();
        tracing::debug!(hits, misses, "state cache at shutdown");
        // Drain so nobody waits forever on a command that will never run.
        rx.close();
        let queued: Vec<Command> = self.deferred.drain(..).collect();
        for cmd in queued
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()))
        {
            match cmd.op {
                Op::Insert { reply, .. } | Op::Delete { reply, .. } | Op::Update { reply, .. } => {
                    let _ = reply.send(Err(Error::ShuttingDown));
                }
                Op::Ddl { reply, .. } => {
                    let _ = reply.send(Err(Error::ShuttingDown));
                }
                Op::Snapshot { reply, .. } => {
                    let _ = reply.send(Err(Error::ShuttingDown));
                }
                Op::Shutdown => {}
            }
        }
        self.fatal
    }

    /// Executes and commits one group, and counts it; returns whether
    /// shutdown was asked.
    fn run_group(&mut self, group: Vec<Command>, shared: &Shared) -> bool {
        let m = &shared.metrics;
        m.group_commands.observe(group.len() as f64);
        m.group_rows
            .observe(group.iter().map(Command::rows).sum::<usize>() as f64);
        let stopping = self.execute_group(group, shared);
        if let Some(flush) = self.last_flush.take() {
            m.fsync_seconds.observe(flush.as_secs_f64());
        }
        for (id, secs) in self.view_time.drain() {
            if let Some(view) = self.catalog.relation_by_id(id) {
                let name = view.name.clone();
                m.view_seconds
                    .get_or_create(&crate::metrics::RelationLabels { name })
                    .inc_by(secs);
            }
        }
        m.checkpoints.inc_by(std::mem::take(&mut self.checkpoints));
        m.state_deferred_bytes
            .set(self.store.deferred_bytes() as i64);
        let (hits, misses) = self.store.cache_hits();
        m.state_cache_hits.set(hits as i64);
        m.state_cache_misses.set(misses as i64);
        stopping
    }

    /// Executes and commits one group; returns whether shutdown was asked.
    fn execute_group(&mut self, group: Vec<Command>, shared: &Shared) -> bool {
        let mut stopping = false;
        let mut replies = Vec::with_capacity(group.len());
        let mut effects = GroupEffects::default();
        let backfill_before = self.backfill.is_some();
        // Whether every command only appends rows to tables without a
        // primary key: then views' state may wait for a checkpoint.
        let mut appends_only = true;
        self.logs.refresh_watched();
        // Set when the views could not take the group's inserts: then
        // nothing of the group is kept.
        let mut broken: Option<Error> = None;
        for cmd in group {
            let continues = matches!(
                (&cmd.op, &self.unpropagated),
                (Op::Insert { table, .. }, Some((t, _))) if table == t
            );
            if !continues && broken.is_none() {
                broken = self.flush_inserts().err();
            }
            appends_only &= match &cmd.op {
                Op::Insert { table, .. } => self.appends(*table),
                _ => false,
            };
            if let Some(e) = &broken {
                if matches!(cmd.op, Op::Shutdown) {
                    stopping = true;
                } else {
                    Reply::refuse(cmd.op, e);
                }
                continue;
            }
            match cmd.op {
                Op::Insert {
                    table,
                    rows,
                    ids,
                    reply,
                } => {
                    let r = self.in_savepoint(|w| match ids {
                        Some(ids) => w.insert_once(table, rows, ids),
                        None => w.insert(table, rows),
                    });
                    replies.push(Reply::Count(reply, r));
                }
                Op::Delete {
                    table,
                    filter,
                    reply,
                } => {
                    let r = self.in_savepoint(|w| w.delete(table, filter));
                    replies.push(Reply::Count(reply, r));
                }
                Op::Update {
                    table,
                    assigned,
                    filter,
                    reply,
                } => {
                    let r = self.in_savepoint(|w| w.update(table, &assigned, filter));
                    replies.push(Reply::Count(reply, r));
                }
                Op::Ddl { stmt, reply } => {
                    if self.backfill.is_some() {
                        // DDL waits for the back-fill, so nothing can
                        // change or drop what it reads meanwhile.
                        self.deferred.push_back(Command {
                            op: Op::Ddl { stmt, reply },
                        });
                        continue;
                    }
                    self.store.begin();
                    match self.ddl(&stmt, reply, &mut effects) {
                        Ok(r) => {
                            self.store.release();
                            if let Err(e) = self.settle_counts() {
                                tracing::error!("cannot update row counts: {e}");
                            }
                            // `None`: a back-fill answers when it ends.
                            replies.extend(r);
                        }
                        Err((reply, e)) => {
                            self.store.rollback();
                            self.counts.clear();
                            replies.push(Reply::Ddl(reply, Err(e)));
                        }
                    }
                }
                Op::Snapshot { watch, reply } => self.request_snapshot(watch, reply),
                Op::Shutdown => stopping = true,
            }
        }
        if broken.is_none() {
            broken = self.flush_inserts().err();
        }
        if let Some(e) = broken {
            tracing::error!(
                "view maintenance failed, {} command(s) not acknowledged: {e}",
                replies.len()
            );
            self.store.abort();
            self.counts.clear();
            self.fresh.clear();
            self.unpropagated = None;
            self.changes_aborted(&e);
            replies.into_iter().for_each(|r| r.fail(&e));
            self.catalog = self.committed.clone();
            self.rebuild_flows();
            return stopping;
        }
        let defer = !backfill_before && self.may_defer(appends_only);
        match self.commit_group(defer) {
            Ok(()) => {
                self.changes_committed();
                self.purging.extend(effects.dropped);
                if effects.catalog_changed {
                    self.committed = self.catalog.clone();
                    self.prepare_relations();
                    shared.publish(Arc::new(self.published_catalog()));
                } else if !backfill_before && self.backfill.is_some() {
                    // The back-fill's view is durable (as a marker) but not
                    // yet visible.
                    self.committed = self.catalog.clone();
                }
                replies.into_iter().for_each(Reply::send);
            }
            Err(e) => {
                tracing::error!(
                    "commit failed, {} command(s) not acknowledged: {e}",
                    replies.len()
                );
                replies.into_iter().for_each(|r| r.fail(&e));
                self.changes_aborted(&e);
                if !backfill_before {
                    if let Some(b) = self.backfill.take() {
                        b.cancel(Error::Storage(rivulet_storage::Error::Io(
                            std::io::Error::other(e.to_string()),
                        )));
                    }
                }
                // The batch was dropped whole: storage and the state cache
                // are as before the group. Return the catalog there too.
                self.catalog = self.committed.clone();
                self.rebuild_flows();
            }
        }
        stopping
    }

    /// Readies storage for the rows of every table and view, so that a
    /// relation just created does not make its first rows wait (see
    /// [`Engine::prepare_relation`](rivulet_storage::Engine::prepare_relation));
    /// a failure only means the first write does the work.
    fn prepare_relations(&self) {
        for r in self.catalog.relations() {
            if r.table().is_some() || r.view().is_some() {
                if let Err(e) = self.store.engine().prepare_relation(r.id) {
                    tracing::warn!(relation = %r.name, "could not ready storage ahead: {e}");
                }
            }
        }
    }

    /// Applies the group's writes, with every operator-state write
    /// deferred so far (a checkpoint), as one batch and makes them
    /// durable.
    ///
    /// If applying fails, the batch is dropped and nothing of the group
    /// happened. If the flush fails after the batch applied, whether the
    /// group reached the disk is unknown and the page cache can no longer
    /// be trusted (PostgreSQL panics in the same spot): the writer stops
    /// for good (see [`Database::failed`](crate::Database::failed)), so
    /// that recovery starts from what the disk really holds.
    pub(super) fn commit(&mut self) -> rivulet_storage::Result<()> {
        self.save_clock();
        self.fresh.clear();
        self.checkpoint_markers();
        if let Err(e) = self.store.commit() {
            self.store.abort();
            return Err(e);
        }
        self.flush()?;
        self.checkpointed();
        Ok(())
    }

    /// Commits the group: as [`Writer::commit`] does, or, with `defer`,
    /// keeping the deferring views' state for a later checkpoint (see
    /// [`checkpoint`](super::checkpoint)).
    fn commit_group(&mut self, defer: bool) -> rivulet_storage::Result<()> {
        if !defer {
            return self.commit();
        }
        self.save_clock();
        self.commit_deferring()?;
        self.flush()
    }

    /// Makes what was applied durable; a failure stops the writer.
    fn flush(&mut self) -> rivulet_storage::Result<()> {
        let started = std::time::Instant::now();
        let flushed = self.store.engine().flush();
        self.last_flush = Some(started.elapsed());
        if let Err(e) = flushed {
            tracing::error!(
                "flush failed; the writer stops so recovery reads what is on disk: {e}"
            );
            self.fatal = Some(format!("flush failed: {e}"));
            return Err(e);
        }
        Ok(())
    }

    /// The catalog readers may see: the writer's, minus a view still being
    /// back-filled.
    pub(super) fn published_catalog(&self) -> rivulet_catalog::Catalog {
        let mut c = self.catalog.clone();
        if let Some(b) = &self.backfill {
            c.remove_relation(b.name());
        }
        c
    }

    /// One chunk of background work: the back-fill first, then purges;
    /// `busy` when commands are waiting for it to end.
    fn background_step(&mut self, shared: &Shared, busy: bool) {
        if self.backfill.is_some() {
            self.backfill_step(shared, busy);
        } else if !self.purging.is_empty() {
            self.purge_step();
        } else {
            self.checkpoint_if_due(false);
            self.expire_ids_step();
            self.expire_changes_step();
        }
    }
}
