//! The writer thread: the only place that mutates tables, views and the
//! catalog. It executes commands in arrival order and makes each group of
//! commands durable with one flush before answering any of them.
//!
//! - [`commit`]: the loop — take a group, execute it, apply its writes as
//!   one batch, flush, publish, answer — and what happens when that fails.
//! - [`commands`]: INSERT, DELETE, CREATE and DROP, and the propagation of
//!   row changes through every view downstream.
//! - [`backfill`]: filling a new view from rows already stored, a chunk at
//!   a time between groups, so ingest carries on meanwhile.
//! - [`checkpoint`]: operator state that appended rows can rebuild,
//!   written once a second instead of with every group, and rebuilt after
//!   a crash.
//! - [`purge`]: removing a dropped relation's rows and state in the
//!   background.
//! - [`dedup`]: storing each delivery of a webhook table once, and
//!   forgetting delivery ids past their window.
//! - [`changes`]: the change logs of subscribed relations, live
//!   subscribers' feeds, and snapshots that meet them.
//! - [`recovery`]: opening a data directory — format check (and the
//!   one-time upgrade of older formats), catalog, counters — without
//!   reading any source row.
//!
//! Every write goes through the [`Store`]: pending until the group
//! commits, read back by later commands of the same group, and rolled back
//! alone when its command fails.

mod backfill;
mod changes;
mod checkpoint;
mod commands;
mod commit;
mod dedup;
mod purge;
mod recovery;

use std::collections::{BTreeMap, HashMap, VecDeque};

use rivulet_catalog::Catalog;
use rivulet_expr::{Expr, Row};
use rivulet_sql::Statement;
use rustc_hash::FxHashMap;
use tokio::sync::oneshot;

use crate::dataflow::{Dataflow, Shared};
use crate::state::Store;
use crate::{DeliveryIds, Result};

pub(crate) struct Command {
    pub(crate) op: Op,
}

impl Command {
    /// Rows the command writes, as far as known before running it.
    fn rows(&self) -> usize {
        match &self.op {
            Op::Insert { rows, .. } => rows.len(),
            _ => 1,
        }
    }
}

pub(crate) enum Op {
    Insert {
        table: u64,
        rows: Vec<Row>,
        /// Delivery ids, for a table that stores each delivery once.
        ids: Option<DeliveryIds>,
        reply: oneshot::Sender<Result<u64>>,
    },
    Delete {
        table: u64,
        filter: Option<Expr>,
        reply: oneshot::Sender<Result<u64>>,
    },
    Update {
        table: u64,
        /// Each assigned column's position and its value over the old row.
        assigned: Vec<(usize, Expr)>,
        filter: Option<Expr>,
        reply: oneshot::Sender<Result<u64>>,
    },
    Ddl {
        stmt: Box<Statement>,
        reply: oneshot::Sender<Result<DdlOutcome>>,
    },
    /// Storage as of the command's commit, and (with `watch`) a live
    /// subscription to a relation's changes from the next commit on.
    Snapshot {
        watch: Option<u64>,
        reply: oneshot::Sender<Result<changes::SnapshotAt>>,
    },
    Shutdown,
}

pub use changes::SnapshotAt;

/// What a DDL statement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlOutcome {
    /// The command tag (`CREATE_TABLE`, `DROP_MATERIALIZED_VIEW`, ...).
    pub tag: &'static str,
    /// NOTICE messages (e.g. "... already exists, skipping").
    pub notices: Vec<String>,
}

/// State owned by the writer thread.
pub(crate) struct Writer {
    /// Storage with the current group's pending writes and the state cache.
    store: Store,
    /// The writer's own catalog: ahead of the published one by at most the
    /// group being committed, plus a view being back-filled.
    catalog: Catalog,
    /// The catalog as of the last durable group, to return to if a group
    /// fails to commit.
    committed: Catalog,
    /// Next hidden row id of each table without a primary key.
    next_row_id: HashMap<u64, u64>,
    /// The first row id the current group gave out, by table: the rows
    /// from there on are new (see [`checkpoint`]).
    fresh: FxHashMap<u64, u64>,
    /// Views whose rows are stored in packs like a table's: those that
    /// filter and project a table without a primary key (or such a view),
    /// so every row keeps its source row's id and new rows always come
    /// with ids above every stored one.
    packed: rustc_hash::FxHashSet<u64>,
    /// Each materialized view's operators, by view id (so iteration runs
    /// upstream views first). Operators are stateless; their state is in
    /// the store.
    flows: BTreeMap<u64, Dataflow>,
    /// For each relation, the views reading it, in id order (derived from
    /// `flows` and the catalog by [`Writer::index_readers`]).
    readers: HashMap<u64, Vec<u64>>,
    /// For each relation, the expressions its readers share, computed once
    /// per changed row (see [`Shared`]).
    shared: FxHashMap<u64, Shared>,
    /// The views that read shared expressions: their operators over the
    /// rows widened by them.
    wide_flows: FxHashMap<u64, Dataflow>,
    /// The view being back-filled, if any.
    backfill: Option<backfill::Backfill>,
    /// DDL that arrived during a back-fill, run once it ends.
    deferred: VecDeque<Command>,
    /// Relations whose rows and state are being removed, oldest first.
    purging: VecDeque<u64>,
    /// Row-count changes of the running command, by relation, settled
    /// into the stored counts when it succeeds.
    counts: FxHashMap<u64, i64>,
    /// Set when storage failed in a way the writer cannot go on from.
    fatal: Option<String>,
    /// Changes of the group's latest inserts into one table, not yet
    /// pushed through the views (see [`Writer::flush_inserts`]).
    unpropagated: Option<(u64, Vec<crate::dataflow::Change>)>,
    /// When delivery ids past their window were last looked for.
    expiry_checked: std::time::Instant,
    /// The last look stopped at its chunk's end: more ids have expired.
    expired_ids_left: bool,
    /// How long the fsync of the commit since the metrics last looked
    /// took, if there was one.
    last_flush: Option<std::time::Duration>,
    /// Seconds each view took to maintain since the metrics last took
    /// them, by view id.
    view_time: FxHashMap<u64, f64>,
    /// Change logs and live subscribers.
    logs: changes::Logs,
    /// Views whose state may wait for a checkpoint (see [`checkpoint`]),
    /// and the tables they read.
    deferring: rustc_hash::FxHashSet<u64>,
    deferring_tables: rustc_hash::FxHashSet<u64>,
    /// Tables whose deferring views' stored state is behind their rows:
    /// the last row id it reflects.
    behind: FxHashMap<u64, u64>,
    /// When the last checkpoint was durable.
    last_checkpoint: std::time::Instant,
    /// Longest time between checkpoints while state is deferred.
    checkpoint_every: std::time::Duration,
    /// Bytes of deferred state writes that make the next group a
    /// checkpoint.
    deferred_budget: usize,
    /// Checkpoints that applied deferred state since the metrics last
    /// counted them.
    checkpoints: u64,
}

impl Writer {
    /// Rebuilds every view's operators from the catalog (cheap: plans
    /// only, no data) and the reader index.
    fn rebuild_flows(&mut self) {
        self.flows.clear();
        for r in self.catalog.relations() {
            if let Some(spec) = r.view() {
                self.flows.insert(r.id, Dataflow::new(r.id, &spec.plan));
            }
        }
        self.index_readers();
    }

    /// Recomputes which views read each relation, and which views store
    /// their rows in packs.
    fn index_readers(&mut self) {
        self.readers.clear();
        self.packed.clear();
        // Ascending ids: a view's source view is classified before it.
        for (&id, flow) in &self.flows {
            if let Some(spec) = self.catalog.relation_by_id(id).and_then(|r| r.view()) {
                for &src in &spec.sources {
                    self.readers.entry(src).or_default().push(id);
                }
            }
            let packs = flow
                .keys_from()
                .is_some_and(|src| self.packed.contains(&src) || self.appends(src));
            if packs {
                self.packed.insert(id);
            }
        }
        self.share_exprs();
        self.index_logs();
        self.index_deferring();
    }

    /// Finds, for each relation, the expressions its readers share, and
    /// builds the operators of the views that read them.
    fn share_exprs(&mut self) {
        self.shared.clear();
        self.wide_flows.clear();
        for (&rel, views) in &self.readers {
            let Some(width) = self.catalog.relation_by_id(rel).map(|r| r.columns.len()) else {
                continue;
            };
            let plans: Vec<(u64, &rivulet_catalog::Plan)> = views
                .iter()
                .filter_map(|&id| {
                    let spec = self.catalog.relation_by_id(id)?.view()?;
                    Some((id, &spec.plan))
                })
                .collect();
            if let (Some(shared), plans) = Shared::plan(rel, width, &plans) {
                self.shared.insert(rel, shared);
                self.wide_flows.extend(Shared::flows(plans));
            }
        }
    }

    /// Whether there is work to do between commands.
    fn has_background_work(&self) -> bool {
        self.backfill.is_some()
            || !self.purging.is_empty()
            || self.expired_ids_left
            || self.changes_left()
    }

    /// Whether something expires with time (delivery ids, retained
    /// changes), so an idle writer should still wake now and then.
    fn has_timed_work(&self) -> bool {
        self.store.has_deferred()
            || self.has_changes_to_expire()
            || self.catalog.relations().any(|r| {
                r.table()
                    .and_then(|t| t.webhook.as_ref())
                    .is_some_and(|w| w.dedup.is_some())
            })
    }

    /// The change logs' state readers share.
    pub(crate) fn change_log(&self) -> std::sync::Arc<crate::changes::ChangeLog> {
        self.logs.shared.clone()
    }
}
