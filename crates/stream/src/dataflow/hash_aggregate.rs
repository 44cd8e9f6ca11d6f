//! Aggregate for ad-hoc queries whose input only ever inserts rows.
//!
//! A materialized view's [`Aggregate`](super::aggregate::Aggregate) must
//! survive retractions and keep its state in a state table, so it reads,
//! decodes, updates, encodes and writes every group a batch touches, and
//! emits the group's old and new row each time. An ad-hoc query reads a
//! snapshot: when nothing below the aggregate can retract a row (scans,
//! filters, projections, inner joins, UNION ALL, other aggregates of this
//! kind), the groups can stay decoded in a hash map for the length of the
//! query and be emitted once, as inserts, when the input is exhausted
//! ([`HashAggregate::finish`]). The running states are the view
//! aggregate's own ([`State`]), so both give the same answers.
//!
//! `min`/`max` keep the least/greatest value by PostgreSQL's ordering
//! (the first seen of equal ones, as the view's multiset does); DISTINCT
//! calls remember the value keys they have counted.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use rustc_hash::{FxHashMap, FxHashSet};

use rivulet_catalog::AggCall;
use rivulet_expr::{encode_value_key, encode_value_ordered, Expr, Row, Value};

use super::aggregate::{initial, offer_extreme, uses_multiset, State};
use super::{Change, EvalCtx, Node};
use crate::query::{row_size, ENTRY_OVERHEAD};
use crate::state::StateStore;
use crate::{Error, Reservation, Result};

/// One group: its key, key values and each call's running state.
struct Group {
    /// The encoded group key (the output row's key).
    key: Vec<u8>,
    keys: Row,
    states: Vec<State>,
    /// For each DISTINCT call, the ordered keys of the values counted.
    seen: Vec<FxHashSet<Vec<u8>>>,
}

/// The groups of one running query.
#[derive(Default)]
struct Groups {
    index: FxHashMap<Vec<u8>, usize>,
    list: Vec<Group>,
    /// Bytes charged for them.
    charged: usize,
}

pub(super) struct HashAggregate {
    input: Node,
    group_keys: Vec<Expr>,
    aggs: Vec<AggCall>,
    /// Only the query's own thread touches this; the lock is uncontended.
    groups: Mutex<Groups>,
    /// Where the groups' memory is charged.
    memory: Arc<Reservation>,
}

impl HashAggregate {
    pub(super) fn new(
        input: Node,
        group_keys: Vec<Expr>,
        aggs: Vec<AggCall>,
        memory: Arc<Reservation>,
    ) -> HashAggregate {
        HashAggregate {
            input,
            group_keys,
            aggs,
            groups: Mutex::new(Groups::default()),
            memory,
        }
    }

    /// Charges `bytes` for the groups; 53200 past the query memory limit.
    fn charge(&self, charged: &mut usize, bytes: usize) -> Result<()> {
        *charged += bytes;
        match self.memory.charge(bytes) {
            true => Ok(()),
            false => Err(self.memory.exhausted()),
        }
    }

    fn new_group(&self, key: Vec<u8>, keys: Row) -> Group {
        Group {
            key,
            keys,
            states: self.aggs.iter().map(initial).collect(),
            seen: self.aggs.iter().map(|_| FxHashSet::default()).collect(),
        }
    }

    /// Adds the inserted rows of `changes` to their groups.
    fn accumulate(&self, changes: &[Change], ctx: &mut EvalCtx) -> Result<()> {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        let Groups {
            index,
            list,
            charged,
        } = &mut *groups;
        let mut gk = Vec::new();
        let mut last: Option<usize> = None;
        let mut vk = Vec::new();
        for c in changes {
            if c.old.is_some() {
                // The planner only chooses this operator over inputs that
                // cannot retract; anything else is a bug, not bad data.
                return Err(Error::Expr(rivulet_expr::Error::Corrupted(
                    "a retraction reached an insert-only aggregate",
                )));
            }
            let Some(row) = &c.new else { continue };
            let g = if self.group_keys.is_empty() && !list.is_empty() {
                // Without GROUP BY every row is in the one group.
                0
            } else {
                let before = list.len();
                let g = self.group_of(row, &mut gk, last, index, list, ctx);
                if list.len() > before {
                    let bytes = 2 * (gk.len() + ENTRY_OVERHEAD)
                        + row_size(&list[g].keys)
                        + self.aggs.len() * std::mem::size_of::<State>();
                    self.charge(charged, bytes)?;
                }
                g
            };
            last = Some(g);
            let group = &mut list[g];
            for (i, call) in self.aggs.iter().enumerate() {
                let state = &mut group.states[i];
                // A numeric sum of a JSON number skips building it.
                if let (Some(e), false) = (&call.arg, uses_multiset(call)) {
                    match e.eval_json_decimal(row) {
                        Some(None) => continue,
                        Some(Some((units, scale))) if state.update_decimal(units, scale, 1) => {
                            continue
                        }
                        _ => {}
                    }
                }
                let v = match &call.arg {
                    Some(e) => ctx.eval_cow(e, row),
                    None => Cow::Owned(Value::Null),
                };
                if let State::Extreme(best) = state {
                    offer_extreme(best, v, call.kind);
                } else if call.distinct {
                    if v.is_null() {
                        continue;
                    }
                    vk.clear();
                    encode_value_ordered(&mut vk, &v);
                    if !group.seen[i].contains(&vk) {
                        group.seen[i].insert(vk.clone());
                        state.update(&v, 1);
                        self.charge(charged, vk.len() + ENTRY_OVERHEAD)?;
                    }
                } else {
                    state.update(&v, 1);
                }
            }
        }
        Ok(())
    }

    /// The index of `row`'s group in `list`, created if new (`last` is the
    /// previous row's: consecutive rows often share a group).
    fn group_of(
        &self,
        row: &[Value],
        gk: &mut Vec<u8>,
        last: Option<usize>,
        index: &mut FxHashMap<Vec<u8>, usize>,
        list: &mut Vec<Group>,
        ctx: &mut EvalCtx,
    ) -> usize {
        gk.clear();
        let keys: Vec<Cow<'_, Value>> = self
            .group_keys
            .iter()
            .map(|k| ctx.eval_cow(k, row))
            .collect();
        keys.iter().for_each(|v| encode_value_key(gk, v));
        if let Some(g) = last.filter(|&g| list[g].key == *gk) {
            return g;
        }
        if let Some(&g) = index.get(gk.as_slice()) {
            return g;
        }
        let keys = keys.into_iter().map(Cow::into_owned).collect();
        list.push(self.new_group(gk.clone(), keys));
        index.insert(gk.clone(), list.len() - 1);
        list.len() - 1
    }

    /// Every group's row, as inserts; the groups are forgotten. An
    /// aggregate without GROUP BY has its one row even over no input.
    fn drain(&self) -> Vec<Change> {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        let Groups {
            index,
            mut list,
            charged,
        } = std::mem::take(&mut *groups);
        drop(index);
        // The rows go to the consumer, which charges what it keeps.
        self.memory.release(charged);
        if list.is_empty() && self.group_keys.is_empty() {
            list.push(self.new_group(Vec::new(), Vec::new()));
        }
        // In key order, as a scan's rows come: nothing for the consumers
        // to merge.
        list.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        list.into_iter()
            .map(|g| {
                let mut row = g.keys;
                row.extend(g.states.iter().zip(&self.aggs).map(|(s, c)| s.result(c)));
                Change::insert(g.key, row)
            })
            .collect()
    }

    pub(super) fn init(&self, ctx: &mut EvalCtx, st: &mut dyn StateStore) -> Result<Vec<Change>> {
        let c = self.input.init(ctx, st)?;
        self.accumulate(&c, ctx)?;
        Ok(Vec::new())
    }

    pub(super) fn push(
        &self,
        rel: u64,
        changes: &[Change],
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
    ) -> Result<Vec<Change>> {
        let c = self.input.push(rel, changes, ctx, st)?;
        self.accumulate(&c, ctx)?;
        Ok(Vec::new())
    }

    /// Takes what the input still holds back, then emits every group.
    pub(super) fn finish(&self, ctx: &mut EvalCtx, st: &mut dyn StateStore) -> Result<Vec<Change>> {
        let c = self.input.finish(ctx, st)?;
        self.accumulate(&c, ctx)?;
        Ok(self.drain())
    }
}
