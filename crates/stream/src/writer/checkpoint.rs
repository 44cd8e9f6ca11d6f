//! Checkpoints: operator state written once a second, not with every
//! group.
//!
//! Every acknowledged group's rows and view rows are durable, but the
//! operator state behind some views need not be: for a view that reads
//! one table without a primary key through filters, projections and
//! aggregates (a dashboard over a webhook table), the state after any
//! group is the state at the last checkpoint plus that table's rows
//! appended since, pushed through the view's operators again. So between
//! checkpoints a group of appends keeps such views' state writes in the
//! writer ([`Store::commit_deferring`](crate::state::Store::commit_deferring))
//! and a later write of the same key replaces them: an aggregate group or
//! a DISTINCT value touched by every event is written once per checkpoint
//! instead of once per group.
//!
//! The first group that defers a table's views' state also stores a
//! marker, `state_behind(table)` → the last row id their stored state
//! reflects. A checkpoint applies every deferred write and deletes the
//! markers in one batch. It comes with the first group after
//! [`Options::checkpoint_every`](crate::Options::checkpoint_every) or
//! once the deferred writes reach their budget, with any group that is
//! not only appends (a DELETE, UPDATE, upsert, DDL), with every back-fill,
//! purge and expiry step, when the writer is idle, and at shutdown. After
//! a crash, start-up finds the markers and pushes each table's rows past
//! its marker through its deferring views once more, writing their state
//! and nothing else (their rows are already stored), then checkpoints:
//! work bounded by the rows of one checkpoint interval, not the history.

use std::time::Instant;

use rivulet_catalog::Plan;
use rivulet_expr::decode_row;
use rivulet_storage::keys;

use super::Writer;
use crate::dataflow::{repeatable, Change, EvalCtx};
use crate::rows;
use crate::state::StateStore;
use crate::Result;

/// Rows read and replayed at a time during recovery.
const REPLAY_CHUNK: usize = 4096;

/// Whether a view over one table that plans as `plan` has state that its
/// table's appended rows can rebuild: only filters, projections and
/// aggregates over the scan (at least one aggregate, or there is no
/// state), and expressions that give the same value every time.
pub(super) fn replayable(plan: &Plan) -> bool {
    fn shape(p: &Plan, aggregates: &mut bool) -> bool {
        match p {
            Plan::Scan { .. } => true,
            Plan::Filter { input, .. } | Plan::Project { input, .. } => shape(input, aggregates),
            Plan::Aggregate { input, .. } => {
                *aggregates = true;
                shape(input, aggregates)
            }
            _ => false,
        }
    }
    let mut aggregates = false;
    if !shape(plan, &mut aggregates) || !aggregates {
        return false;
    }
    let mut pure = true;
    plan.for_each_expr(&mut |e| pure &= repeatable(e));
    pure
}

impl Writer {
    /// Finds the views whose state may be deferred: those over one table
    /// without a primary key whose plan is [`replayable`].
    pub(super) fn index_deferring(&mut self) {
        self.deferring.clear();
        self.deferring_tables.clear();
        for &id in self.flows.keys() {
            let Some(spec) = self.catalog.relation_by_id(id).and_then(|r| r.view()) else {
                continue;
            };
            let [table] = spec.sources[..] else {
                continue;
            };
            if self.appends(table) && replayable(&spec.plan) {
                self.deferring.insert(id);
                self.deferring_tables.insert(table);
            }
        }
    }

    /// Whether inserts into `table` only append rows (it has no primary
    /// key, so no insert replaces a row).
    pub(super) fn appends(&self, table: u64) -> bool {
        self.catalog
            .relation_by_id(table)
            .and_then(|r| r.table())
            .is_some_and(|t| t.primary_key.is_empty())
    }

    /// Whether the group about to commit may defer its views' state: it
    /// only appended rows, no back-fill runs, and no checkpoint is due.
    pub(super) fn may_defer(&self, appends_only: bool) -> bool {
        appends_only
            && self.backfill.is_none()
            && !self.deferring.is_empty()
            && self.last_checkpoint.elapsed() < self.checkpoint_every
            && self.store.deferred_bytes() < self.deferred_budget
    }

    /// Commits the group's writes except the state of deferring views,
    /// which stays with the writer until the next checkpoint; stores the
    /// marker of each table whose views' stored state this leaves behind.
    pub(super) fn commit_deferring(&mut self) -> rivulet_storage::Result<()> {
        let mut behind = Vec::new();
        for (&table, &first) in &self.fresh {
            if self.deferring_tables.contains(&table) && !self.behind.contains_key(&table) {
                let through = first.saturating_sub(1);
                self.store
                    .put(keys::state_behind(table), through.to_be_bytes().to_vec());
                behind.push((table, through));
            }
        }
        self.fresh.clear();
        let deferring = &self.deferring;
        let defer = |k: &[u8]| keys::state_view(k).is_some_and(|v| deferring.contains(&v));
        if let Err(e) = self.store.commit_deferring(defer) {
            self.store.abort();
            return Err(e);
        }
        self.behind.extend(behind);
        Ok(())
    }

    /// Adds the end of every marker to the running group's writes, which
    /// [`Store::commit`](crate::state::Store::commit) then applies with
    /// every deferred state write: a checkpoint (counted for the metrics
    /// if it writes any).
    pub(super) fn checkpoint_markers(&mut self) {
        if !self.behind.is_empty() || self.store.has_deferred() {
            self.checkpoints += 1;
        }
        for &table in self.behind.keys() {
            self.store.delete(keys::state_behind(table));
        }
    }

    /// After a checkpoint is durable.
    pub(super) fn checkpointed(&mut self) {
        self.behind.clear();
        self.last_checkpoint = Instant::now();
    }

    /// Checkpoints now if state writes are deferred and one is due (or
    /// `now`).
    pub(super) fn checkpoint_if_due(&mut self, now: bool) {
        if !self.store.has_deferred() && self.behind.is_empty() {
            return;
        }
        if !now && self.last_checkpoint.elapsed() < self.checkpoint_every {
            return;
        }
        if let Err(e) = self.commit() {
            tracing::error!("checkpoint failed, will retry: {e}");
        }
    }

    /// At start-up: rebuilds the state each marker says is behind, by
    /// pushing the table's rows past it through its deferring views (their
    /// output is already stored and is dropped), then checkpoints.
    pub(super) fn replay_behind(&mut self) -> Result<()> {
        let engine = self.store.engine().clone();
        let markers = engine.scan_prefix(&keys::state_behind_prefix())?;
        if markers.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let mut replayed = 0usize;
        for (key, value) in markers {
            let (Some(table), Ok(through)) = (
                keys::parse_state_behind(&key),
                <[u8; 8]>::try_from(value.as_slice()).map(u64::from_be_bytes),
            ) else {
                return Err(rivulet_expr::Error::Corrupted("state marker").into());
            };
            self.behind.insert(table, through);
            let views: Vec<u64> = self
                .readers
                .get(&table)
                .into_iter()
                .flatten()
                .copied()
                .filter(|v| self.deferring.contains(v))
                .collect();
            if views.is_empty() {
                continue;
            }
            let mut from = keys::row_id(through.saturating_add(1)).to_vec();
            loop {
                let mut changes = Vec::new();
                let last = rows::for_each_row(
                    engine.as_ref(),
                    table,
                    Some(&from),
                    REPLAY_CHUNK,
                    &mut |key, bytes| {
                        if keys::parse_row_id(key).is_some_and(|id| id > through) {
                            changes.push(Change::insert(key.to_vec(), decode_row(&bytes)?));
                        }
                        Ok(())
                    },
                )?;
                let mut ctx = EvalCtx::lenient();
                for id in &views {
                    if let Some(flow) = self.flows.get(id) {
                        flow.push(table, &changes, &mut ctx, &mut self.store)?;
                    }
                }
                replayed += changes.len();
                match last {
                    Some(mut k) => {
                        k.push(0);
                        from = k;
                    }
                    None => break,
                }
            }
        }
        self.commit()?;
        tracing::info!(
            rows = replayed,
            seconds = started.elapsed().as_secs_f64(),
            "rebuilt operator state written after the last checkpoint"
        );
        Ok(())
    }
}
