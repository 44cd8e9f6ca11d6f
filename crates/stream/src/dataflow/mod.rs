//! Incremental view maintenance.
//!
//! Every change to a relation is a [`Change`]: the row under a key before
//! and after (`None` for absent). An insert is `(None, Some)`, a delete
//! `(Some, None)` and an update `(Some, Some)`. A [`Dataflow`] is a view's
//! [`Plan`] turned into a tree of stateful operators, one file each:
//! `filter`, `project`, `unnest` (set-returning functions), `join`,
//! `aggregate` and, for ad-hoc queries,
//! `hash_aggregate` and `window`. Changes of a source relation enter at its scans and
//! leave the root as changes of the view's rows, which the writer stores
//! and passes to views further downstream.
//!
//! Stateful operators (join, aggregate) keep their state in state tables
//! ([`crate::state`]), never only in memory.
//!
//! The same operators run ad-hoc queries: a fresh dataflow over a private
//! in-memory state, fed every row as an insert, yields the query's answer,
//! so a view and its SELECT can never disagree.

mod aggregate;
mod filter;
mod hash_aggregate;
mod join;
mod project;
mod shared;
mod unnest;
mod window;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use rivulet_catalog::Plan;
use rivulet_expr::{Expr, Row, Value};
use rivulet_storage::keys;
use rustc_hash::FxHashMap;

pub(crate) use shared::repeatable;
pub use shared::Shared;

use crate::state::StateStore;
use crate::{Error, Reservation, Result};

/// A change to one row of a relation.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The row key within the relation.
    pub key: Vec<u8>,
    /// The row before the change (`None`: an insert).
    pub old: Option<Row>,
    /// The row after the change (`None`: a delete).
    pub new: Option<Row>,
}

impl Change {
    /// An insertion.
    pub fn insert(key: Vec<u8>, row: Row) -> Change {
        Change {
            key,
            old: None,
            new: Some(row),
        }
    }
}

impl fmt::Display for Change {
    /// `+ row`, `- row`, or `- old` then `+ new` on two lines for an update.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |r: &Row| {
            r.iter()
                .map(|v| v.to_pg_text().unwrap_or_else(|| "NULL".into()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match (&self.old, &self.new) {
            (None, Some(n)) => write!(f, "+ {}", show(n)),
            (Some(o), None) => write!(f, "- {}", show(o)),
            (Some(o), Some(n)) => write!(f, "- {}\n+ {}", show(o), show(n)),
            (None, None) => Ok(()),
        }
    }
}

/// Merges changes to the same key (first `old`, last `new`) and drops
/// those that cancel out, keeping first-touch order.
pub fn consolidate(mut changes: Vec<Change>) -> Vec<Change> {
    // Keys in strictly increasing order (rows of a scan, say) are distinct:
    // nothing to merge.
    if changes.windows(2).all(|w| w[0].key < w[1].key) {
        changes.retain(|c| c.old != c.new);
        return changes;
    }
    let mut index: FxHashMap<Vec<u8>, usize> =
        FxHashMap::with_capacity_and_hasher(changes.len(), Default::default());
    let mut out: Vec<Change> = Vec::with_capacity(changes.len());
    for c in changes {
        match index.get(&c.key) {
            Some(&i) => out[i].new = c.new,
            None => {
                index.insert(c.key.clone(), out.len());
                out.push(c);
            }
        }
    }
    out.retain(|c| c.old != c.new);
    out
}

/// View expression errors since start-up (for rate-limited logging).
static VIEW_ERRORS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How evaluation errors are treated. Queries fail on the first error, as
/// PostgreSQL does. Views follow RisingWave: the value becomes NULL (a
/// predicate, false) and the write that caused it still commits.
#[derive(Debug, Default)]
pub struct EvalCtx {
    strict: bool,
    /// Errors turned into NULLs so far.
    pub errors: u64,
    first: Option<Error>,
}

impl EvalCtx {
    /// A context that records the first error for the caller to return.
    pub fn strict() -> EvalCtx {
        EvalCtx {
            strict: true,
            ..EvalCtx::default()
        }
    }

    /// A context that turns errors into NULLs.
    pub fn lenient() -> EvalCtx {
        EvalCtx::default()
    }

    fn fail(&mut self, e: rivulet_expr::Error) {
        self.errors += 1;
        if self.strict {
            if self.first.is_none() {
                self.first = Some(e.into());
            }
        } else {
            // Log the 1st, 2nd, 4th, 8th, ... error process-wide: enough to
            // diagnose a bad view without flooding the log at ingest rates.
            let n = VIEW_ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    sqlstate = e.sqlstate(),
                    total = n,
                    "view expression error, value set to NULL: {e}"
                );
            }
        }
    }

    /// Evaluates an expression; errors become NULL (and are recorded).
    pub fn eval(&mut self, e: &Expr, row: &[Value]) -> Value {
        e.eval(row).unwrap_or_else(|err| {
            self.fail(err);
            Value::Null
        })
    }

    /// The rows set-returning function `func` makes of `arg` over `row`;
    /// none where that fails (the error recorded as by [`EvalCtx::eval`]).
    pub fn expand(&mut self, func: rivulet_expr::SetFunc, arg: &Expr, row: &[Value]) -> Vec<Row> {
        let v = self.eval(arg, row);
        match func.expand(&v) {
            Ok(rows) => rows,
            Err(e) => {
                self.fail(e);
                Vec::new()
            }
        }
    }

    /// Like [`EvalCtx::eval`], borrowing what can be borrowed (a column,
    /// a literal, a path into either).
    pub fn eval_cow<'a>(&mut self, e: &'a Expr, row: &'a [Value]) -> Cow<'a, Value> {
        e.eval_cow(row).unwrap_or_else(|err| {
            self.fail(err);
            Cow::Owned(Value::Null)
        })
    }

    /// Evaluates a predicate; errors count as false.
    pub fn holds(&mut self, e: &Expr, row: &[Value]) -> bool {
        e.eval_predicate(row).unwrap_or_else(|err| {
            self.fail(err);
            false
        })
    }

    /// Whether a strict context has met an error (so work can stop early).
    pub fn failed(&self) -> bool {
        self.first.is_some()
    }

    /// The first error of a strict context, if any.
    pub fn finish(self) -> Result<()> {
        match self.first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// What a stateless operator does to each row of its input.
enum Map {
    Filter(Expr),
    Project(Vec<Expr>),
    /// A projection of the rows passing a filter, fused so that input rows
    /// (whole JSON documents) are read in place, never copied.
    FilterProject(Expr, Vec<Expr>),
}

impl Map {
    /// The changes that its input's `changes` make to the output.
    fn apply(&self, changes: &[Change], ctx: &mut EvalCtx) -> Vec<Change> {
        match self {
            Map::Filter(p) => filter::apply(p, changes, ctx),
            Map::Project(exprs) => project::apply(None, exprs, changes, ctx),
            Map::FilterProject(p, exprs) => project::apply(Some(p), exprs, changes, ctx),
        }
    }
}

/// One operator of a dataflow.
enum Node {
    Scan(u64),
    Values,
    /// A filter, a projection or both: no state of its own.
    Map(Box<Node>, Map),
    Join(Box<join::Join>),
    Aggregate(Box<aggregate::Aggregate>),
    /// An ad-hoc query's aggregate over input that only inserts: groups
    /// in memory, emitted at the end.
    HashAggregate(Box<hash_aggregate::HashAggregate>),
    /// UNION ALL: every input's changes, keys prefixed by the input's index.
    Union(Vec<Node>),
    /// A set-returning function over each row: no state of its own.
    Unnest(Box<Node>, unnest::Unnest),
    /// An ad-hoc query's window functions: rows in memory, emitted at the
    /// end.
    Window(Box<window::Window>),
}

/// Prefixes the keys of input `i`'s changes so inputs never collide.
fn tag_union(i: usize, changes: &[Change]) -> Vec<Change> {
    changes
        .iter()
        .map(|c| {
            let mut key = (i as u16).to_be_bytes().to_vec();
            key.extend_from_slice(&c.key);
            Change {
                key,
                old: c.old.clone(),
                new: c.new.clone(),
            }
        })
        .collect()
}

/// Hands out state tables to a view's stateful operators, in plan order.
struct StateTables {
    view: u64,
    next: u16,
    /// Building an ad-hoc query, charging to this reservation: aggregates
    /// over insert-only input keep their groups in memory.
    query: Option<Arc<Reservation>>,
}

impl StateTables {
    fn next(&mut self) -> Vec<u8> {
        let t = keys::state_table(self.view, self.next);
        self.next = self.next.wrapping_add(1);
        t
    }
}

impl Node {
    fn build(plan: &Plan, tables: &mut StateTables) -> Node {
        match plan {
            Plan::Scan { rel } => Node::Scan(rel.id),
            Plan::Values => Node::Values,
            Plan::Union { inputs } => {
                Node::Union(inputs.iter().map(|p| Node::build(p, tables)).collect())
            }
            Plan::Unnest {
                input,
                funcs,
                outer,
            } => Node::Unnest(
                Box::new(Node::build(input, tables)),
                unnest::Unnest {
                    funcs: funcs.clone(),
                    outer: *outer,
                },
            ),
            Plan::Window { input, funcs } => {
                let input = Node::build(input, tables);
                // Views never have windows (the catalog refuses them).
                let memory = tables.query.clone().unwrap_or_else(Reservation::unlimited);
                Node::Window(Box::new(window::Window::new(input, funcs.clone(), memory)))
            }
            Plan::Filter { input, predicate } => Node::Map(
                Box::new(Node::build(input, tables)),
                Map::Filter(predicate.clone()),
            ),
            Plan::Project { input, exprs } => match &**input {
                Plan::Filter {
                    input: inner,
                    predicate,
                } => Node::Map(
                    Box::new(Node::build(inner, tables)),
                    Map::FilterProject(predicate.clone(), exprs.clone()),
                ),
                _ => Node::Map(
                    Box::new(Node::build(input, tables)),
                    Map::Project(exprs.clone()),
                ),
            },
            Plan::Join {
                left,
                right,
                kind,
                left_keys,
                right_keys,
                residual,
            } => {
                let table = tables.next();
                // A query feeds such a join's right side first (see
                // `Plan::feed_order`): its left rows pass through.
                let streams_left = tables.query.is_some() && Plan::streams_left(left, right);
                let mut join = join::Join::new(
                    Node::build(left, tables),
                    Node::build(right, tables),
                    *kind,
                    left_keys.clone(),
                    right_keys.clone(),
                    residual.clone(),
                    right.width(),
                    table,
                );
                join.streams_left = streams_left;
                Node::Join(Box::new(join))
            }
            Plan::Aggregate {
                input,
                group_keys,
                aggs,
            } => {
                let table = tables.next();
                let input = Node::build(input, tables);
                if let (Some(memory), true) = (&tables.query, input.insert_only()) {
                    return Node::HashAggregate(Box::new(hash_aggregate::HashAggregate::new(
                        input,
                        group_keys.clone(),
                        aggs.clone(),
                        memory.clone(),
                    )));
                }
                Node::Aggregate(Box::new(aggregate::Aggregate::new(
                    input,
                    group_keys.clone(),
                    aggs.clone(),
                    table,
                )))
            }
        }
    }

    /// Whether the node's output only ever inserts rows while its inputs
    /// do (sources read by a query only insert).
    fn insert_only(&self) -> bool {
        match self {
            Node::Scan(_) | Node::Values | Node::HashAggregate(_) | Node::Window(_) => true,
            Node::Map(input, _) | Node::Unnest(input, _) => input.insert_only(),
            Node::Join(j) => j.insert_only(),
            Node::Aggregate(_) => false,
            Node::Union(inputs) => inputs.iter().all(Node::insert_only),
        }
    }

    /// Output before any input: the single row of `Values`, the empty
    /// result of a global aggregate.
    fn init(&self, ctx: &mut EvalCtx, st: &mut dyn StateStore) -> Result<Vec<Change>> {
        Ok(match self {
            Node::Scan(_) => Vec::new(),
            Node::Values => vec![Change::insert(Vec::new(), Vec::new())],
            Node::Map(input, m) => m.apply(&input.init(ctx, st)?, ctx),
            Node::Unnest(input, u) => u.apply(&input.init(ctx, st)?, ctx),
            Node::Join(j) => j.init(ctx, st)?,
            Node::Aggregate(a) => a.init(ctx, st)?,
            Node::HashAggregate(a) => a.init(ctx, st)?,
            Node::Window(w) => w.init(ctx, st)?,
            Node::Union(inputs) => {
                let mut out = Vec::new();
                for (i, n) in inputs.iter().enumerate() {
                    let c = n.init(ctx, st)?;
                    out.extend(tag_union(i, &c));
                }
                out
            }
        })
    }

    /// Feeds changes of `rel`; a scan of `rel` passes them on borrowed.
    fn push<'c>(
        &self,
        rel: u64,
        changes: &'c [Change],
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
    ) -> Result<Cow<'c, [Change]>> {
        Ok(Cow::Owned(match self {
            Node::Scan(id) if *id == rel => return Ok(Cow::Borrowed(changes)),
            Node::Scan(_) | Node::Values => Vec::new(),
            Node::Map(input, m) => m.apply(&input.push(rel, changes, ctx, st)?, ctx),
            Node::Unnest(input, u) => u.apply(&input.push(rel, changes, ctx, st)?, ctx),
            Node::Join(j) => j.push(rel, changes, ctx, st)?,
            Node::Aggregate(a) => a.push(rel, changes, ctx, st)?,
            Node::HashAggregate(a) => a.push(rel, changes, ctx, st)?,
            Node::Window(w) => w.push(rel, changes, ctx, st)?,
            Node::Union(inputs) => {
                let mut out = Vec::new();
                for (i, n) in inputs.iter().enumerate() {
                    let c = n.push(rel, changes, ctx, st)?;
                    out.extend(tag_union(i, &c));
                }
                out
            }
        }))
    }

    /// Output held back until every source row has been pushed: the groups
    /// of hash aggregates, and whatever operators above make of them.
    fn finish(&self, ctx: &mut EvalCtx, st: &mut dyn StateStore) -> Result<Vec<Change>> {
        Ok(match self {
            Node::Scan(_) | Node::Values => Vec::new(),
            Node::Map(input, m) => m.apply(&input.finish(ctx, st)?, ctx),
            Node::Unnest(input, u) => u.apply(&input.finish(ctx, st)?, ctx),
            Node::Join(j) => j.finish(ctx, st)?,
            Node::Aggregate(a) => a.finish(ctx, st)?,
            Node::HashAggregate(a) => a.finish(ctx, st)?,
            Node::Window(w) => w.finish(ctx, st)?,
            Node::Union(inputs) => {
                let mut out = Vec::new();
                for (i, n) in inputs.iter().enumerate() {
                    let c = n.finish(ctx, st)?;
                    out.extend(tag_union(i, &c));
                }
                out
            }
        })
    }
}

/// A view's plan as operators. The operators hold no data of their own:
/// what they remember lives in state tables of the view
/// (`keys::state_prefix(view)`) in the [`StateStore`] passed to each call,
/// so a dataflow is rebuilt from its plan alone.
pub struct Dataflow {
    root: Node,
}

impl Dataflow {
    /// Builds the operators for `plan`, keeping state under view id `view`
    /// (any id for an ad-hoc query over a private [`MemState`](crate::MemState)).
    pub fn new(view: u64, plan: &Plan) -> Dataflow {
        let mut tables = StateTables {
            view,
            next: 0,
            query: None,
        };
        Dataflow {
            root: Node::build(plan, &mut tables),
        }
    }

    /// Builds the operators for an ad-hoc query over a snapshot, where
    /// sources only insert: aggregates whose input cannot retract keep
    /// their groups in memory and emit them at [`Dataflow::finish`], which
    /// the caller must call after the last [`Dataflow::push`]. What they
    /// hold is charged to `memory`.
    pub fn for_query(plan: &Plan, memory: &Arc<Reservation>) -> Dataflow {
        let mut tables = StateTables {
            view: 0,
            next: 0,
            query: Some(memory.clone()),
        };
        Dataflow {
            root: Node::build(plan, &mut tables),
        }
    }

    /// The relation whose row keys the output rows keep, when the plan only
    /// filters and projects a single scanned relation.
    pub fn keys_from(&self) -> Option<u64> {
        let mut node = &self.root;
        loop {
            match node {
                Node::Scan(rel) => return Some(*rel),
                Node::Map(input, _) => node = input,
                _ => return None,
            }
        }
    }

    /// The output the plan has before any source row arrives, initialising
    /// state. Called once, when the view (or query) starts.
    pub fn init(&self, ctx: &mut EvalCtx, st: &mut dyn StateStore) -> Result<Vec<Change>> {
        Ok(consolidate(self.root.init(ctx, st)?))
    }

    /// Feeds changes of relation `rel`; returns the changes to the output.
    pub fn push(
        &self,
        rel: u64,
        changes: &[Change],
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
    ) -> Result<Vec<Change>> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        Ok(consolidate(
            self.root.push(rel, changes, ctx, st)?.into_owned(),
        ))
    }

    /// Like [`Dataflow::push`], taking the changes: a dataflow that is
    /// nothing but a scan of `rel` hands them back without copying them.
    pub fn push_owned(
        &self,
        rel: u64,
        changes: Vec<Change>,
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
    ) -> Result<Vec<Change>> {
        match self.root {
            Node::Scan(id) if id == rel => Ok(consolidate(changes)),
            _ => self.push(rel, &changes, ctx, st),
        }
    }

    /// Whether every output change is an insert, as for a query's
    /// dataflow whose aggregates all keep their groups in memory (and
    /// which has no LEFT join).
    pub fn emits_only_inserts(&self) -> bool {
        self.root.insert_only()
    }

    /// The output held back until the end of the input (see
    /// [`Dataflow::for_query`]); nothing for a view's dataflow.
    pub fn finish(&self, ctx: &mut EvalCtx, st: &mut dyn StateStore) -> Result<Vec<Change>> {
        Ok(consolidate(self.root.finish(ctx, st)?))
    }
}

/// Escapes `key` into a prefix-free form (keycode: `0x00` becomes
/// `0x00 0xff`, terminated by `0x00 0x00`) so keys can be concatenated.
pub(crate) fn push_escaped(out: &mut Vec<u8>, key: &[u8]) {
    for &b in key {
        out.push(b);
        if b == 0 {
            out.push(0xff);
        }
    }
    out.extend_from_slice(&[0, 0]);
}
