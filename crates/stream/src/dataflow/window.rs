//! Window functions, for ad-hoc queries: every input row is held (charged
//! to the query's memory) until the input ends, then each function sorts
//! the rows by PARTITION BY and ORDER BY and computes its value for each
//! row; the rows are emitted once, as inserts, with those values after
//! their columns.
//!
//! Frames are PostgreSQL's default: with ORDER BY, from the partition's
//! start through the row's last peer (rows equal in the ORDER BY keys);
//! without, the whole partition. Ascending keys sort NULLs last,
//! descending first, as PostgreSQL does. Materialized views refuse window
//! functions (the catalog checks), so this never maintains a view.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use rivulet_catalog::{WindowFunc, WindowKind};
use rivulet_expr::{Row, Value};

use super::aggregate::{initial, offer_extreme, State};
use super::{Change, EvalCtx, Node};
use crate::query::{row_size, ENTRY_OVERHEAD};
use crate::state::StateStore;
use crate::{Reservation, Result};

/// The rows held until the input ends, by key, and the bytes charged.
#[derive(Default)]
struct Held {
    rows: BTreeMap<Vec<u8>, Row>,
    charged: usize,
}

pub(super) struct Window {
    input: Node,
    funcs: Vec<WindowFunc>,
    /// Only the query's own thread touches this; the lock is uncontended.
    held: Mutex<Held>,
    memory: Arc<Reservation>,
}

impl Window {
    pub(super) fn new(input: Node, funcs: Vec<WindowFunc>, memory: Arc<Reservation>) -> Window {
        Window {
            input,
            funcs,
            held: Mutex::new(Held::default()),
            memory,
        }
    }

    /// Applies the input's changes to the held rows (53200 past the
    /// query's memory limit).
    fn hold(&self, changes: &[Change]) -> Result<()> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        for c in changes {
            if c.old.is_some() {
                if let Some(row) = held.rows.remove(&c.key) {
                    let bytes = c.key.len() + ENTRY_OVERHEAD + row_size(&row);
                    held.charged -= bytes;
                    self.memory.release(bytes);
                }
            }
            if let Some(row) = &c.new {
                let bytes = c.key.len() + ENTRY_OVERHEAD + row_size(row);
                held.charged += bytes;
                if let Some(old) = held.rows.insert(c.key.clone(), row.clone()) {
                    let freed = c.key.len() + ENTRY_OVERHEAD + row_size(&old);
                    held.charged -= freed;
                    self.memory.release(freed);
                }
                if !self.memory.charge(bytes) {
                    return Err(self.memory.exhausted());
                }
            }
        }
        Ok(())
    }

    pub(super) fn init(&self, ctx: &mut EvalCtx, st: &mut dyn StateStore) -> Result<Vec<Change>> {
        let c = self.input.init(ctx, st)?;
        self.hold(&c)?;
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
        self.hold(&c)?;
        Ok(Vec::new())
    }

    /// Takes what the input still holds back, then emits every row with
    /// its window values; the rows are forgotten.
    pub(super) fn finish(&self, ctx: &mut EvalCtx, st: &mut dyn StateStore) -> Result<Vec<Change>> {
        let c = self.input.finish(ctx, st)?;
        self.hold(&c)?;
        let Held { rows, charged } =
            std::mem::take(&mut *self.held.lock().unwrap_or_else(PoisonError::into_inner));
        // The rows go to the consumer, which charges what it keeps.
        self.memory.release(charged);
        let rows: Vec<(Vec<u8>, Row)> = rows.into_iter().collect();
        let columns: Vec<Vec<Value>> = self.funcs.iter().map(|f| compute(f, &rows, ctx)).collect();
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(i, (key, mut row))| {
                row.extend(columns.iter().map(|col| col[i].clone()));
                Change::insert(key, row)
            })
            .collect())
    }
}

/// Compares ORDER BY keys (`desc` per key): NULLs sort as the greatest
/// value, so last ascending and first descending.
fn cmp_keys(a: &[Value], b: &[Value], desc: &[bool]) -> Ordering {
    for ((x, y), d) in a.iter().zip(b).zip(desc) {
        let o = x.total_cmp(y);
        let o = if *d { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// `f`'s value for each of `rows`, in their order.
fn compute(f: &WindowFunc, rows: &[(Vec<u8>, Row)], ctx: &mut EvalCtx) -> Vec<Value> {
    let eval_all = |exprs: &mut dyn Iterator<Item = &rivulet_expr::Expr>,
                    row: &Row,
                    ctx: &mut EvalCtx|
     -> Vec<Value> { exprs.map(|e| ctx.eval(e, row)).collect() };
    let parts: Vec<Vec<Value>> = rows
        .iter()
        .map(|(_, r)| eval_all(&mut f.partition_by.iter(), r, ctx))
        .collect();
    let orders: Vec<Vec<Value>> = rows
        .iter()
        .map(|(_, r)| eval_all(&mut f.order_by.iter().map(|(e, _)| e), r, ctx))
        .collect();
    let desc: Vec<bool> = f.order_by.iter().map(|(_, d)| *d).collect();
    let ascending = vec![false; f.partition_by.len()];
    // Window order: by partition, then ORDER BY, then input order (a
    // stable sort keeps ties as they came).
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        cmp_keys(&parts[a], &parts[b], &ascending)
            .then_with(|| cmp_keys(&orders[a], &orders[b], &desc))
    });
    let mut out = vec![Value::Null; rows.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len()
            && cmp_keys(&parts[order[start]], &parts[order[end]], &ascending) == Ordering::Equal
        {
            end += 1;
        }
        partition(f, &order[start..end], rows, &orders, &desc, &mut out, ctx);
        start = end;
    }
    out
}

/// Computes `f` over one partition, `members` in window order.
fn partition(
    f: &WindowFunc,
    members: &[usize],
    rows: &[(Vec<u8>, Row)],
    orders: &[Vec<Value>],
    desc: &[bool],
    out: &mut [Value],
    ctx: &mut EvalCtx,
) {
    // Peer groups: runs of rows equal in the ORDER BY keys (all the
    // partition's rows when there is no ORDER BY).
    let mut peers: Vec<(usize, usize)> = Vec::new();
    let mut s = 0;
    while s < members.len() {
        let mut e = s + 1;
        while e < members.len()
            && cmp_keys(&orders[members[s]], &orders[members[e]], desc) == Ordering::Equal
        {
            e += 1;
        }
        peers.push((s, e));
        s = e;
    }
    let row = |p: usize| &rows[members[p]].1;
    match &f.kind {
        WindowKind::RowNumber => {
            for (p, &m) in members.iter().enumerate() {
                out[m] = Value::Int8(p as i64 + 1);
            }
        }
        WindowKind::Rank | WindowKind::DenseRank => {
            for (g, &(s, e)) in peers.iter().enumerate() {
                let v = match f.kind {
                    WindowKind::Rank => s as i64 + 1,
                    _ => g as i64 + 1,
                };
                for &m in &members[s..e] {
                    out[m] = Value::Int8(v);
                }
            }
        }
        WindowKind::Lag | WindowKind::Lead => {
            for p in 0..members.len() {
                let current = row(p);
                let offset = match ctx.eval(&f.args[1], current) {
                    Value::Int4(n) => i64::from(n),
                    Value::Int8(n) => n,
                    _ => {
                        out[members[p]] = Value::Null;
                        continue;
                    }
                };
                let target = if matches!(f.kind, WindowKind::Lag) {
                    p as i64 - offset
                } else {
                    p as i64 + offset
                };
                out[members[p]] = match usize::try_from(target).ok().filter(|&t| t < members.len())
                {
                    Some(t) => ctx.eval(&f.args[0], row(t)),
                    None => f.args.get(2).map_or(Value::Null, |d| ctx.eval(d, current)),
                };
            }
        }
        WindowKind::FirstValue => {
            if let Some(first) = members.first() {
                let v = ctx.eval(&f.args[0], &rows[*first].1);
                for &m in members {
                    out[m] = v.clone();
                }
            }
        }
        WindowKind::LastValue => {
            for &(s, e) in &peers {
                let v = ctx.eval(&f.args[0], row(e - 1));
                for &m in &members[s..e] {
                    out[m] = v.clone();
                }
            }
        }
        WindowKind::Aggregate(call) => {
            let mut state = initial(call);
            for &(s, e) in &peers {
                for p in s..e {
                    let v = match &call.arg {
                        Some(a) => ctx.eval(a, row(p)),
                        None => Value::Null,
                    };
                    if let State::Extreme(best) = &mut state {
                        offer_extreme(best, Cow::Owned(v), call.kind);
                    } else {
                        state.update(&v, 1);
                    }
                }
                let v = state.result(call);
                for &m in &members[s..e] {
                    out[m] = v.clone();
                }
            }
        }
    }
}
