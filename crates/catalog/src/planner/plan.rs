//! The relational operator tree and what the engine asks of it: widths,
//! the columns each scan must decode, parallel splits, and its printed form
//! (`EXPLAIN`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use rivulet_expr::{DataType, Expr, SetFunc, Value};

use super::{AggCall, AggKind};
use crate::{Column, Relation};

/// How a join treats left rows without a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// Only matched pairs.
    Inner,
    /// Also each unmatched left row, padded with NULLs.
    Left,
    /// Each left row that has a match, once, alone (`EXISTS`, `IN`).
    Semi,
    /// Each left row without a match, alone (`NOT EXISTS`): a NULL key
    /// matches nothing, so its row is kept.
    Anti,
    /// `left_key NOT IN (right)` with SQL's NULL rules: a left row is kept
    /// when the right side is empty, or when its key is not NULL, equals
    /// no right key, and no right key is NULL.
    NotIn,
}

impl JoinKind {
    /// Whether the join outputs left rows alone (the right side only
    /// decides which).
    pub fn is_filtering(self) -> bool {
        matches!(self, JoinKind::Semi | JoinKind::Anti | JoinKind::NotIn)
    }
}

impl From<rivulet_sql::JoinKind> for JoinKind {
    fn from(k: rivulet_sql::JoinKind) -> JoinKind {
        match k {
            rivulet_sql::JoinKind::Inner => JoinKind::Inner,
            rivulet_sql::JoinKind::Left => JoinKind::Left,
        }
    }
}

/// A relational operator tree. Every node produces rows of a fixed width;
/// expressions refer to the columns of their input by position.
#[derive(Debug, Clone)]
pub enum Plan {
    /// All rows of a table or materialized view.
    Scan {
        /// The relation read.
        rel: Arc<Relation>,
    },
    /// One empty row (`SELECT` without `FROM`).
    Values,
    /// Rows of the input for which the predicate is true.
    Filter {
        /// The input.
        input: Box<Plan>,
        /// The predicate.
        predicate: Expr,
    },
    /// One output row per input row, of the expressions' values.
    Project {
        /// The input.
        input: Box<Plan>,
        /// The output columns.
        exprs: Vec<Expr>,
    },
    /// Rows of `left` and `right` (concatenated) whose keys are equal and
    /// for which `residual` holds; a LEFT join keeps unmatched left rows
    /// padded with NULLs. Right keys and the residual see right rows'
    /// columns at their own positions (right keys) or after the left
    /// columns (residual).
    Join {
        /// The left input.
        left: Box<Plan>,
        /// The right input.
        right: Box<Plan>,
        /// Inner or left.
        kind: JoinKind,
        /// Left-side expressions of the equality keys.
        left_keys: Vec<Expr>,
        /// Right-side expressions, over the right input's columns.
        right_keys: Vec<Expr>,
        /// The rest of the ON condition, over the joined row.
        residual: Option<Expr>,
    },
    /// One row per distinct key: the keys, then each aggregate. With no
    /// keys, exactly one row (aggregating every input row).
    Aggregate {
        /// The input.
        input: Box<Plan>,
        /// The GROUP BY expressions.
        group_keys: Vec<Expr>,
        /// The aggregate calls.
        aggs: Vec<AggCall>,
    },
    /// The rows of every input (UNION ALL); inputs have one width.
    Union {
        /// The inputs, of equal width.
        inputs: Vec<Plan>,
    },
    /// Each input row once for each row set-returning functions make of
    /// their arguments over it, with that row's columns after the input's;
    /// several functions run in lockstep (as in a select list), as many
    /// rows as the longest makes, the others' columns NULL past their end.
    /// With `outer`, an input row for which they make none is kept once,
    /// padded with NULLs (`LEFT JOIN LATERAL ... ON true`).
    Unnest {
        /// The input.
        input: Box<Plan>,
        /// The functions, each with its argument over the input's columns.
        funcs: Vec<(SetFunc, Expr)>,
        /// Keep input rows without any.
        outer: bool,
    },
    /// Each input row with each window function's value for it (ad-hoc
    /// queries only: a window's rows are all known only at the end).
    Window {
        /// The input.
        input: Box<Plan>,
        /// The window functions, whose values follow the input's columns.
        funcs: Vec<WindowFunc>,
    },
}

/// What a window function computes over its partition.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowKind {
    /// `row_number()`: 1, 2, ... in window order.
    RowNumber,
    /// `rank()`: the row number of the first of the row's peers.
    Rank,
    /// `dense_rank()`: how many distinct peer groups up to the row's.
    DenseRank,
    /// `lag(value [, offset [, default]])`: `value` that many rows before.
    Lag,
    /// `lead(value [, offset [, default]])`: `value` that many rows after.
    Lead,
    /// `first_value(value)`: over the frame's first row.
    FirstValue,
    /// `last_value(value)`: over the frame's last row.
    LastValue,
    /// An aggregate over the frame: with ORDER BY, the partition's rows up
    /// to the row and its peers; without, the whole partition.
    Aggregate(AggCall),
}

/// One window function call of a [`Plan::Window`].
#[derive(Debug, Clone, PartialEq)]
pub struct WindowFunc {
    /// The function.
    pub kind: WindowKind,
    /// Its arguments over the input row (an aggregate's is in its call).
    pub args: Vec<Expr>,
    /// PARTITION BY expressions.
    pub partition_by: Vec<Expr>,
    /// ORDER BY expressions, each with `true` for descending.
    pub order_by: Vec<(Expr, bool)>,
    /// The result type.
    pub output_type: DataType,
}

impl WindowFunc {
    /// Every expression the call reads.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        let agg = match &self.kind {
            WindowKind::Aggregate(a) => a.arg.as_ref(),
            _ => None,
        };
        self.args
            .iter()
            .chain(agg)
            .chain(&self.partition_by)
            .chain(self.order_by.iter().map(|(e, _)| e))
    }
}

impl Plan {
    /// Number of columns the node produces.
    pub fn width(&self) -> usize {
        match self {
            Plan::Scan { rel } => rel.columns.len(),
            Plan::Values => 0,
            Plan::Filter { input, .. } => input.width(),
            Plan::Project { exprs, .. } => exprs.len(),
            Plan::Join {
                left, right, kind, ..
            } => {
                if kind.is_filtering() {
                    left.width()
                } else {
                    left.width() + right.width()
                }
            }
            Plan::Aggregate {
                group_keys, aggs, ..
            } => group_keys.len() + aggs.len(),
            Plan::Union { inputs } => inputs.first().map_or(0, Plan::width),
            Plan::Unnest { input, funcs, .. } => {
                input.width() + funcs.iter().map(|(f, _)| f.columns().len()).sum::<usize>()
            }
            Plan::Window { input, funcs } => input.width() + funcs.len(),
        }
    }

    /// The plan with every `count(*)`-only aggregate without GROUP BY
    /// directly over a stored relation replaced by its answer, taken from
    /// `count` (the relation's row count, kept with every write; `None`
    /// where there is none): such a query then reads no rows at all.
    pub fn with_row_counts(&self, count: &mut dyn FnMut(&Relation) -> Option<i64>) -> Plan {
        match self {
            Plan::Aggregate {
                input,
                group_keys,
                aggs,
            } if group_keys.is_empty()
                && !aggs.is_empty()
                && aggs.iter().all(|a| a.kind == AggKind::CountStar) =>
            {
                let counted = match &**input {
                    Plan::Scan { rel } if rel.system().is_none() => count(rel),
                    _ => None,
                };
                match counted {
                    Some(n) => Plan::Project {
                        input: Box::new(Plan::Values),
                        exprs: vec![Expr::Literal(Value::Int8(n)); aggs.len()],
                    },
                    None => Plan::Aggregate {
                        input: Box::new(input.with_row_counts(count)),
                        group_keys: group_keys.clone(),
                        aggs: aggs.clone(),
                    },
                }
            }
            Plan::Scan { .. } | Plan::Values => self.clone(),
            Plan::Filter { input, predicate } => Plan::Filter {
                input: Box::new(input.with_row_counts(count)),
                predicate: predicate.clone(),
            },
            Plan::Project { input, exprs } => Plan::Project {
                input: Box::new(input.with_row_counts(count)),
                exprs: exprs.clone(),
            },
            Plan::Aggregate {
                input,
                group_keys,
                aggs,
            } => Plan::Aggregate {
                input: Box::new(input.with_row_counts(count)),
                group_keys: group_keys.clone(),
                aggs: aggs.clone(),
            },
            Plan::Join {
                left,
                right,
                kind,
                left_keys,
                right_keys,
                residual,
            } => Plan::Join {
                left: Box::new(left.with_row_counts(count)),
                right: Box::new(right.with_row_counts(count)),
                kind: *kind,
                left_keys: left_keys.clone(),
                right_keys: right_keys.clone(),
                residual: residual.clone(),
            },
            Plan::Union { inputs } => Plan::Union {
                inputs: inputs.iter().map(|i| i.with_row_counts(count)).collect(),
            },
            Plan::Unnest {
                input,
                funcs,
                outer,
            } => Plan::Unnest {
                input: Box::new(input.with_row_counts(count)),
                funcs: funcs.clone(),
                outer: *outer,
            },
            Plan::Window { input, funcs } => Plan::Window {
                input: Box::new(input.with_row_counts(count)),
                funcs: funcs.clone(),
            },
        }
    }

    /// Divides a plan that reads one stored relation so its reading can run
    /// on several threads: `prefix` runs over disjoint key ranges at once;
    /// `rest` is everything above it, reading `prefix`'s rows through a
    /// scan of relation id `placeholder`. `prefix` is the plan's stateless
    /// bottom (scan, filters, projections) and, above it, either an
    /// aggregate whose calls all combine (see [`AggCall::combining`]) —
    /// then `rest` combines each thread's groups, and a thread's output is
    /// final only when it has read its whole range — or just the
    /// aggregate's key and argument expressions. `None` when the plan does
    /// not have that shape (joins, several relations, aggregates over
    /// aggregates).
    pub fn split_for_parallel_scan(&self, placeholder: u64) -> Option<(Plan, Plan)> {
        let scans = self.distinct_scans();
        let [scanned] = scans.as_slice() else {
            return None;
        };
        let input = |width: usize| {
            let mut rel = (**scanned).clone();
            rel.id = placeholder;
            rel.columns = (0..width)
                .map(|i| Column::new(format!("c{i}"), DataType::Unknown))
                .collect();
            Plan::Scan { rel: Arc::new(rel) }
        };
        if self.is_stateless() {
            return Some((self.clone(), input(self.width())));
        }
        match self {
            Plan::Filter {
                input: i,
                predicate,
            } => {
                let (prefix, rest) = i.split_for_parallel_scan(placeholder)?;
                Some((
                    prefix,
                    Plan::Filter {
                        input: Box::new(rest),
                        predicate: predicate.clone(),
                    },
                ))
            }
            Plan::Project { input: i, exprs } => {
                let (prefix, rest) = i.split_for_parallel_scan(placeholder)?;
                Some((
                    prefix,
                    Plan::Project {
                        input: Box::new(rest),
                        exprs: exprs.clone(),
                    },
                ))
            }
            Plan::Aggregate {
                input: i,
                group_keys,
                aggs,
            } if i.is_stateless() => {
                // Aggregates that combine (count, sum, min, max, bool_and,
                // bool_or) run whole below, each thread over its own rows;
                // above, the same groups combine the threads' results.
                let width = group_keys.len() + aggs.len();
                let combined: Option<Vec<AggCall>> = aggs
                    .iter()
                    .enumerate()
                    .map(|(j, a)| a.combining(group_keys.len() + j))
                    .collect();
                if let Some(combined) = combined {
                    return Some((
                        self.clone(),
                        Plan::Aggregate {
                            input: Box::new(input(width)),
                            group_keys: (0..group_keys.len()).map(Expr::Column).collect(),
                            aggs: combined,
                        },
                    ));
                }
                // Otherwise the keys and arguments are computed below; the
                // aggregate reads them as columns.
                let mut exprs = group_keys.clone();
                let mut moved = Vec::with_capacity(aggs.len());
                for a in aggs {
                    let mut a = a.clone();
                    if let Some(arg) = a.arg.take() {
                        a.arg = Some(Expr::Column(exprs.len()));
                        exprs.push(arg);
                    }
                    moved.push(a);
                }
                let width = exprs.len();
                Some((
                    Plan::Project {
                        input: i.clone(),
                        exprs,
                    },
                    Plan::Aggregate {
                        input: Box::new(input(width)),
                        group_keys: (0..group_keys.len()).map(Expr::Column).collect(),
                        aggs: moved,
                    },
                ))
            }
            _ => None,
        }
    }

    /// Whether every row the plan produces from inserted input rows is
    /// final: no operator keeps state that could later change or retract it.
    pub fn is_stateless(&self) -> bool {
        match self {
            Plan::Scan { .. } | Plan::Values => true,
            Plan::Filter { input, .. }
            | Plan::Project { input, .. }
            | Plan::Unnest { input, .. } => input.is_stateless(),
            Plan::Union { inputs } => inputs.iter().all(Plan::is_stateless),
            Plan::Join { .. } | Plan::Aggregate { .. } | Plan::Window { .. } => false,
        }
    }

    /// For each relation the plan scans, which of its columns the plan
    /// reads (`true` where read) when all of the plan's output columns are
    /// needed. A scan may leave the others unread (NULL): `count(*)` reads
    /// no column at all.
    pub fn scan_columns(&self) -> HashMap<u64, Vec<bool>> {
        let mut out = HashMap::new();
        self.require(&vec![true; self.width()], &mut out);
        out
    }

    /// Marks what computing the output columns flagged in `needed` reads.
    fn require(&self, needed: &[bool], out: &mut HashMap<u64, Vec<bool>>) {
        let cols = |exprs: &mut dyn Iterator<Item = &Expr>, width: usize| {
            let mut used = vec![false; width];
            let mut found = Vec::new();
            for e in exprs {
                e.collect_columns(&mut found);
            }
            for c in found {
                if let Some(u) = used.get_mut(c) {
                    *u = true;
                }
            }
            used
        };
        let or = |a: &mut Vec<bool>, b: &[bool]| {
            for (x, y) in a.iter_mut().zip(b) {
                *x |= *y;
            }
        };
        match self {
            Plan::Scan { rel } => {
                let entry = out
                    .entry(rel.id)
                    .or_insert_with(|| vec![false; rel.columns.len()]);
                or(entry, needed);
            }
            Plan::Values => {}
            Plan::Filter { input, predicate } => {
                let mut req = cols(&mut std::iter::once(predicate), input.width());
                or(&mut req, needed);
                input.require(&req, out);
            }
            Plan::Project { input, exprs } => {
                let mut used = exprs
                    .iter()
                    .zip(needed.iter().chain(std::iter::repeat(&true)))
                    .filter(|(_, n)| **n)
                    .map(|(e, _)| e);
                let req = cols(&mut used, input.width());
                input.require(&req, out);
            }
            Plan::Aggregate {
                input,
                group_keys,
                aggs,
            } => {
                let mut used = group_keys
                    .iter()
                    .chain(aggs.iter().filter_map(|a| a.arg.as_ref()));
                let req = cols(&mut used, input.width());
                input.require(&req, out);
            }
            Plan::Join {
                left,
                right,
                kind,
                left_keys,
                right_keys,
                residual,
            } => {
                let lw = left.width();
                let rw = right.width();
                let both = cols(&mut residual.iter(), lw + rw);
                let mut lreq = cols(&mut left_keys.iter(), lw);
                let mut rreq = cols(&mut right_keys.iter(), rw);
                for (i, b) in both.iter().enumerate() {
                    // A filtering join outputs no right column.
                    let output = i < lw || !kind.is_filtering();
                    let n = *b || (output && needed.get(i).copied().unwrap_or(true));
                    match (lreq.get_mut(i), rreq.get_mut(i.wrapping_sub(lw))) {
                        (Some(l), _) => *l |= n,
                        (None, Some(r)) => *r |= n,
                        (None, None) => {}
                    }
                }
                left.require(&lreq, out);
                right.require(&rreq, out);
            }
            Plan::Union { inputs } => inputs.iter().for_each(|i| i.require(needed, out)),
            Plan::Unnest { input, funcs, .. } => {
                let w = input.width();
                let mut req = cols(&mut funcs.iter().map(|(_, arg)| arg), w);
                or(&mut req, &needed[..w.min(needed.len())]);
                input.require(&req, out);
            }
            Plan::Window { input, funcs } => {
                let w = input.width();
                let mut req = cols(&mut funcs.iter().flat_map(WindowFunc::exprs), w);
                or(&mut req, &needed[..w.min(needed.len())]);
                input.require(&req, out);
            }
        }
    }

    /// Whether a filtering join's right side reads no relation its left
    /// side reads: a query can then feed the right side whole before the
    /// left, and the join needs to keep no left row.
    pub fn sides_apart(left: &Plan, right: &Plan) -> bool {
        let l = left.distinct_scans();
        right
            .distinct_scans()
            .iter()
            .all(|r| l.iter().all(|x| x.id != r.id))
    }

    /// Whether a query's join of `left` and `right` can answer each left
    /// row as it arrives and keep none: the sides read different
    /// relations ([`Plan::sides_apart`]), so the right side's relations
    /// are fed first ([`Plan::feed_order`]), and every row of either side
    /// comes from those scans as they are fed — the right side may also
    /// have constant rows from the start, but neither side holds rows back
    /// until the end (an aggregate or window), and the left side has no
    /// constant rows that would come before the right side's.
    pub fn streams_left(left: &Plan, right: &Plan) -> bool {
        fn has(p: &Plan, values: bool) -> bool {
            match p {
                Plan::Values => values,
                Plan::Aggregate { .. } | Plan::Window { .. } => true,
                _ => p.inputs().into_iter().any(|i| has(i, values)),
            }
        }
        Plan::sides_apart(left, right) && !has(left, true) && !has(right, false)
    }

    /// Every relation the plan reads, each once, in the order a query
    /// feeds them: left to right, but the right side of a join that
    /// streams its left side ([`Plan::streams_left`]) before its left
    /// side.
    pub fn feed_order(&self) -> Vec<Arc<Relation>> {
        let mut out: Vec<Arc<Relation>> = Vec::new();
        self.visit_in_feed_order(&mut |rel| {
            if !out.iter().any(|r| r.id == rel.id) {
                out.push(rel.clone());
            }
        });
        out
    }

    fn visit_in_feed_order(&self, f: &mut impl FnMut(&Arc<Relation>)) {
        match self {
            Plan::Scan { rel } => f(rel),
            Plan::Join { left, right, .. } if Plan::streams_left(left, right) => {
                right.visit_in_feed_order(f);
                left.visit_in_feed_order(f);
            }
            _ => {
                for i in self.inputs() {
                    i.visit_in_feed_order(f);
                }
            }
        }
    }

    /// Every relation the plan reads, each once, in first-scan order.
    pub fn distinct_scans(&self) -> Vec<Arc<Relation>> {
        let mut out: Vec<Arc<Relation>> = Vec::new();
        self.visit_scans(&mut |rel| {
            if !out.iter().any(|r| r.id == rel.id) {
                out.push(rel.clone());
            }
        });
        out
    }

    /// For each relation scanned exactly once, directly below a filter:
    /// the filter's predicate, which the scan may apply to rows as it
    /// decodes them (the filter still applies it, and reports its errors).
    pub fn scan_predicates(&self) -> HashMap<u64, Expr> {
        let mut scans: HashMap<u64, usize> = HashMap::new();
        self.visit_scans(&mut |rel| *scans.entry(rel.id).or_default() += 1);
        let mut out = HashMap::new();
        self.visit_scan_filters(&mut |rel, p| {
            if scans.get(&rel) == Some(&1) {
                out.insert(rel, p.clone());
            }
        });
        out
    }

    /// Calls `f` on every filter directly above a scan.
    fn visit_scan_filters(&self, f: &mut impl FnMut(u64, &Expr)) {
        if let Plan::Filter { input, predicate } = self {
            if let Plan::Scan { rel } = &**input {
                return f(rel.id, predicate);
            }
        }
        for i in self.inputs() {
            i.visit_scan_filters(f);
        }
    }

    /// Calls `f` on every scanned relation, left to right.
    pub fn visit_scans(&self, f: &mut impl FnMut(&Arc<Relation>)) {
        match self {
            Plan::Scan { rel } => f(rel),
            _ => {
                for i in self.inputs() {
                    i.visit_scans(f);
                }
            }
        }
    }

    /// The node's inputs, left to right.
    pub fn inputs(&self) -> Vec<&Plan> {
        match self {
            Plan::Scan { .. } | Plan::Values => Vec::new(),
            Plan::Filter { input, .. }
            | Plan::Project { input, .. }
            | Plan::Aggregate { input, .. }
            | Plan::Unnest { input, .. }
            | Plan::Window { input, .. } => vec![input],
            Plan::Join { left, right, .. } => vec![left, right],
            Plan::Union { inputs } => inputs.iter().collect(),
        }
    }

    fn fmt_tree(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let pad = if depth == 0 {
            String::new()
        } else {
            format!("{}└─ ", "   ".repeat(depth - 1))
        };
        let list = |xs: &[Expr]| {
            xs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Plan::Scan { rel } => return writeln!(f, "{pad}Scan: {}", rel.name),
            Plan::Values => return writeln!(f, "{pad}Values: 1 row"),
            Plan::Union { .. } => writeln!(f, "{pad}UnionAll")?,
            Plan::Filter { predicate, .. } => writeln!(f, "{pad}Filter: {predicate}")?,
            Plan::Project { exprs, .. } => writeln!(f, "{pad}Project: {}", list(exprs))?,
            Plan::Window { funcs, .. } => writeln!(
                f,
                "{pad}Window: {}",
                funcs
                    .iter()
                    .map(|w| format!(
                        "{:?} partition [{}] order [{}]",
                        w.kind,
                        list(&w.partition_by),
                        w.order_by
                            .iter()
                            .map(|(e, d)| format!("{e}{}", if *d { " DESC" } else { "" }))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            )?,
            Plan::Unnest { funcs, outer, .. } => writeln!(
                f,
                "{pad}{}: {}",
                if *outer { "UnnestOuter" } else { "Unnest" },
                funcs
                    .iter()
                    .map(|(func, arg)| format!("{}({arg})", func.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?,
            Plan::Join {
                kind,
                left_keys,
                right_keys,
                residual,
                ..
            } => {
                let k = match kind {
                    JoinKind::Inner => "Join",
                    JoinKind::Left => "LeftJoin",
                    JoinKind::Semi => "SemiJoin",
                    JoinKind::Anti => "AntiJoin",
                    JoinKind::NotIn => "NotInJoin",
                };
                write!(
                    f,
                    "{pad}{k}: [{}] = [{}]",
                    list(left_keys),
                    list(right_keys)
                )?;
                match residual {
                    Some(r) => writeln!(f, " and {r}")?,
                    None => writeln!(f)?,
                }
            }
            Plan::Aggregate {
                group_keys, aggs, ..
            } => writeln!(
                f,
                "{pad}Aggregate: keys [{}], aggs [{}]",
                list(group_keys),
                aggs.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )?,
        }
        match self {
            Plan::Filter { input, .. }
            | Plan::Project { input, .. }
            | Plan::Aggregate { input, .. }
            | Plan::Unnest { input, .. }
            | Plan::Window { input, .. } => input.fmt_tree(f, depth + 1),
            Plan::Join { left, right, .. } => {
                left.fmt_tree(f, depth + 1)?;
                right.fmt_tree(f, depth + 1)
            }
            Plan::Union { inputs } => inputs.iter().try_for_each(|i| i.fmt_tree(f, depth + 1)),
            _ => Ok(()),
        }
    }
}

impl Plan {
    /// Calls `f` on every expression in the tree.
    pub fn for_each_expr(&self, f: &mut impl FnMut(&Expr)) {
        match self {
            Plan::Scan { .. } | Plan::Values => {}
            Plan::Union { inputs } => inputs.iter().for_each(|i| i.for_each_expr(f)),
            Plan::Filter { input, predicate } => {
                f(predicate);
                input.for_each_expr(f);
            }
            Plan::Project { input, exprs } => {
                exprs.iter().for_each(&mut *f);
                input.for_each_expr(f);
            }
            Plan::Unnest { input, funcs, .. } => {
                funcs.iter().for_each(|(_, arg)| f(arg));
                input.for_each_expr(f);
            }
            Plan::Window { input, funcs } => {
                funcs.iter().flat_map(WindowFunc::exprs).for_each(&mut *f);
                input.for_each_expr(f);
            }
            Plan::Join {
                left,
                right,
                left_keys,
                right_keys,
                residual,
                ..
            } => {
                left_keys
                    .iter()
                    .chain(right_keys)
                    .chain(residual)
                    .for_each(&mut *f);
                left.for_each_expr(f);
                right.for_each_expr(f);
            }
            Plan::Aggregate {
                input,
                group_keys,
                aggs,
            } => {
                group_keys
                    .iter()
                    .chain(aggs.iter().filter_map(|a| a.arg.as_ref()))
                    .for_each(&mut *f);
                input.for_each_expr(f);
            }
        }
    }
}

impl Plan {
    /// This node alone, as EXPLAIN prints it (`Filter: #0 > 3`).
    pub fn label(&self) -> String {
        self.to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

impl fmt::Display for Plan {
    /// An indented operator tree; columns print as `#position`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_tree(f, 0)
    }
}
