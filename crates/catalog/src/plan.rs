//! Query planning: a bound SELECT as a relational [`Plan`] tree.
//!
//! The same tree serves ad-hoc queries (run once over all rows) and
//! materialized views (maintained incrementally by `rivulet-stream`), so a
//! view always means exactly what the same SELECT means.
//!
//! ```text
//! Project (select list, then hidden ORDER BY columns)
//! └─ Filter (HAVING)
//!    └─ Aggregate (GROUP BY keys, aggregate calls)     -- or Distinct
//!       └─ Filter (WHERE)
//!          └─ Join (equi keys + residual) / Scan / Values
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use rivulet_expr::{BinaryOp, CmpOp, DataType, Expr, Value};
use rivulet_sql::{self as ast, JoinKind, Query, SelectItem, TableRef};

use crate::bind::{is_aggregate, Binder, Scope, ScopeColumn};
use crate::{Catalog, Column, Error, Relation, Result};

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    CountStar,
    Count,
    Sum,
    Avg,
    Min,
    Max,
    BoolAnd,
    BoolOr,
}

impl AggKind {
    fn name(self) -> &'static str {
        match self {
            AggKind::CountStar | AggKind::Count => "count",
            AggKind::Sum => "sum",
            AggKind::Avg => "avg",
            AggKind::Min => "min",
            AggKind::Max => "max",
            AggKind::BoolAnd => "bool_and",
            AggKind::BoolOr => "bool_or",
        }
    }
}

/// One aggregate call.
#[derive(Debug, Clone, PartialEq)]
pub struct AggCall {
    pub kind: AggKind,
    /// The argument, over the aggregate's input row (`None` for `count(*)`).
    pub arg: Option<Expr>,
    /// `count(DISTINCT x)` and friends.
    pub distinct: bool,
    /// The argument's type.
    pub input_type: DataType,
    /// The result type, as PostgreSQL types it.
    pub output_type: DataType,
}

impl AggCall {
    /// The call that combines partial results of this one (found in
    /// `column`) into the result over all their inputs, if there is one:
    /// counts and sums add up, extremes and boolean folds fold again.
    /// `avg` and DISTINCT aggregates have none.
    pub fn combining(&self, column: usize) -> Option<AggCall> {
        if self.distinct {
            return None;
        }
        let kind = match self.kind {
            AggKind::CountStar | AggKind::Count | AggKind::Sum => AggKind::Sum,
            AggKind::Min | AggKind::Max | AggKind::BoolAnd | AggKind::BoolOr => self.kind,
            AggKind::Avg => return None,
        };
        Some(AggCall {
            kind,
            arg: Some(Expr::Column(column)),
            distinct: false,
            input_type: self.output_type,
            output_type: self.output_type,
        })
    }
}

impl fmt::Display for AggCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.arg {
            None => write!(f, "count(*)"),
            Some(a) => write!(
                f,
                "{}({}{a})",
                self.kind.name(),
                if self.distinct { "DISTINCT " } else { "" }
            ),
        }
    }
}

/// A relational operator tree. Every node produces rows of a fixed width;
/// expressions refer to the columns of their input by position.
#[derive(Debug, Clone)]
pub enum Plan {
    /// All rows of a table or materialized view.
    Scan {
        rel: Arc<Relation>,
    },
    /// One empty row (`SELECT` without `FROM`).
    Values,
    Filter {
        input: Box<Plan>,
        predicate: Expr,
    },
    Project {
        input: Box<Plan>,
        exprs: Vec<Expr>,
    },
    /// Rows of `left` and `right` (concatenated) whose keys are equal and
    /// for which `residual` holds; a LEFT join keeps unmatched left rows
    /// padded with NULLs. Right keys and the residual see right rows'
    /// columns at their own positions (right keys) or after the left
    /// columns (residual).
    Join {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        left_keys: Vec<Expr>,
        right_keys: Vec<Expr>,
        residual: Option<Expr>,
    },
    /// One row per distinct key: the keys, then each aggregate. With no
    /// keys, exactly one row (aggregating every input row).
    Aggregate {
        input: Box<Plan>,
        group_keys: Vec<Expr>,
        aggs: Vec<AggCall>,
    },
    /// The rows of every input (UNION ALL); inputs have one width.
    Union {
        inputs: Vec<Plan>,
    },
}

impl Plan {
    /// Number of columns the node produces.
    pub fn width(&self) -> usize {
        match self {
            Plan::Scan { rel } => rel.columns.len(),
            Plan::Values => 0,
            Plan::Filter { input, .. } => input.width(),
            Plan::Project { exprs, .. } => exprs.len(),
            Plan::Join { left, right, .. } => left.width() + right.width(),
            Plan::Aggregate {
                group_keys, aggs, ..
            } => group_keys.len() + aggs.len(),
            Plan::Union { inputs } => inputs.first().map_or(0, Plan::width),
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
                .map(|i| Column {
                    name: format!("c{i}"),
                    ty: DataType::Unknown,
                })
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
            Plan::Filter { input, .. } | Plan::Project { input, .. } => input.is_stateless(),
            Plan::Union { inputs } => inputs.iter().all(Plan::is_stateless),
            Plan::Join { .. } | Plan::Aggregate { .. } => false,
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
                left_keys,
                right_keys,
                residual,
                ..
            } => {
                let lw = left.width();
                let rw = right.width();
                let both = cols(&mut residual.iter(), lw + rw);
                let mut lreq = cols(&mut left_keys.iter(), lw);
                let mut rreq = cols(&mut right_keys.iter(), rw);
                for (i, b) in both.iter().enumerate() {
                    let n = *b || needed.get(i).copied().unwrap_or(true);
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

    /// Calls `f` on every scanned relation, left to right.
    pub fn visit_scans(&self, f: &mut impl FnMut(&Arc<Relation>)) {
        match self {
            Plan::Scan { rel } => f(rel),
            Plan::Values => {}
            Plan::Filter { input, .. }
            | Plan::Project { input, .. }
            | Plan::Aggregate { input, .. } => input.visit_scans(f),
            Plan::Join { left, right, .. } => {
                left.visit_scans(f);
                right.visit_scans(f);
            }
            Plan::Union { inputs } => inputs.iter().for_each(|i| i.visit_scans(f)),
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
            | Plan::Aggregate { input, .. } => input.fmt_tree(f, depth + 1),
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

/// The types parameters `$1..$n` take from their contexts in `exprs`: a
/// parameter cast to a type (as an unknown-typed value is cast where a type
/// is expected) has that type; one used nowhere typed is text.
pub fn infer_parameter_types(n: usize, exprs: &mut dyn Iterator<Item = &Expr>) -> Vec<DataType> {
    let mut types = vec![DataType::Unknown; n];
    for e in exprs {
        e.walk(&mut |x| {
            if let Expr::Cast(inner, ty) = x {
                if let Expr::Param(i) = **inner {
                    if types.get(i) == Some(&DataType::Unknown) {
                        types[i] = *ty;
                    }
                }
            }
        });
    }
    types
        .into_iter()
        .map(|t| {
            if t == DataType::Unknown {
                DataType::Text
            } else {
                t
            }
        })
        .collect()
}

impl fmt::Display for Plan {
    /// An indented operator tree; columns print as `#position`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_tree(f, 0)
    }
}

/// A bound SELECT: the plan, its visible output, and how to order and cut
/// the result.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    /// Produces the visible columns followed by hidden sort columns.
    pub root: Plan,
    /// Names and types of the visible columns.
    pub output: Vec<Column>,
    /// Sort keys (column positions in the root's rows), `true` = descending.
    pub order_by: Vec<(usize, bool)>,
    pub limit: Option<u64>,
    pub offset: u64,
}

/// Prints `child` (a tree) one level under the line `parent`.
pub fn nest(parent: &str, child: &str) -> String {
    let mut out = format!("{parent}\n");
    for line in child.lines() {
        if line.starts_with(' ') || line.starts_with('└') {
            out.push_str(&format!("   {line}\n"));
        } else {
            out.push_str(&format!("└─ {line}\n"));
        }
    }
    out
}

impl fmt::Display for QueryPlan {
    /// The plan tree, under a `TopN` line when the query sorts or cuts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.order_by.is_empty() && self.limit.is_none() && self.offset == 0 {
            return write!(f, "{}", self.root);
        }
        let mut head = String::from("TopN:");
        if !self.order_by.is_empty() {
            let keys: Vec<String> = self
                .order_by
                .iter()
                .map(|(i, desc)| format!("#{i}{}", if *desc { " DESC" } else { "" }))
                .collect();
            head.push_str(&format!(" order by {}", keys.join(", ")));
        }
        if let Some(l) = self.limit {
            head.push_str(&format!(" limit {l}"));
        }
        if self.offset > 0 {
            head.push_str(&format!(" offset {}", self.offset));
        }
        f.write_str(&nest(&head, &self.root.to_string()))
    }
}

/// The column name PostgreSQL gives an unaliased select item.
fn output_name(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(parts) => parts.last().map_or("?column?".into(), |p| p.0.clone()),
        ast::Expr::Function { name, .. } => match name.as_str() {
            "btrim" | "ltrim" | "rtrim" => "btrim".into(),
            "substr" | "substring" => "substring".into(),
            "extract" | "date_part" => "extract".into(),
            other => other.to_string(),
        },
        ast::Expr::Cast { expr, type_name } => match **expr {
            ast::Expr::Literal(_) => type_name
                .split('(')
                .next()
                .unwrap_or("?column?")
                .to_string(),
            _ => output_name(expr),
        },
        ast::Expr::Case { .. } => "case".into(),
        ast::Expr::Subquery(q) => match q.projection.first() {
            Some(SelectItem::Expr { alias: Some(a), .. }) => a.0.clone(),
            Some(SelectItem::Expr { expr, .. }) => output_name(expr),
            _ => "?column?".into(),
        },
        _ => "?column?".into(),
    }
}

/// Evaluates a LIMIT/OFFSET expression: a non-negative constant.
fn row_count(e: &ast::Expr, what: &'static str) -> Result<Option<u64>> {
    let scope = Scope::default();
    let expr = Binder::new(&scope).bind_as(e, DataType::Int8, what)?;
    match expr.eval(&[])? {
        Value::Null => Ok(None),
        Value::Int8(n) if n >= 0 => Ok(Some(n as u64)),
        _ => Err(Error::InvalidRowCount(
            if what == "LIMIT" { "2201W" } else { "2201X" },
            format!("{what} must not be negative"),
        )),
    }
}

/// A query's LIMIT (`None`: all rows) and OFFSET.
fn limit_offset(q: &Query) -> Result<(Option<u64>, u64)> {
    let limit = q
        .limit
        .as_ref()
        .map(|e| row_count(e, "LIMIT"))
        .transpose()?
        .flatten();
    let offset = q
        .offset
        .as_ref()
        .map(|e| row_count(e, "OFFSET"))
        .transpose()?
        .flatten();
    Ok((limit, offset.unwrap_or(0)))
}

/// Plans a FROM item, returning the plan and the scope of its columns.
fn plan_from(
    t: &TableRef,
    catalog: &Catalog,
    runner: Option<&dyn SubqueryRunner>,
) -> Result<(Plan, Scope)> {
    match t {
        TableRef::Table { name, alias } => {
            let rel = catalog.get_relation(name)?.clone();
            let qualifier = alias.as_ref().map_or(rel.name.as_str(), |a| a.as_str());
            let scope = Scope::of_relation(qualifier, &rel.columns);
            Ok((Plan::Scan { rel }, scope))
        }
        TableRef::Join {
            left,
            right,
            kind,
            on,
        } => {
            let (lp, ls) = plan_from(left, catalog, runner)?;
            let (rp, rs) = plan_from(right, catalog, runner)?;
            let lw = ls.columns.len();
            let mut scope = ls;
            scope.columns.extend(rs.columns);
            let on = Binder::with_catalog(&scope, catalog)
                .runner(runner)
                .bind_predicate(on, "JOIN/ON")?;
            let (mut left_keys, mut right_keys, mut residual) =
                (Vec::new(), Vec::new(), Vec::new());
            for conjunct in split_and(on) {
                match equi_key(&conjunct, lw) {
                    Some((l, r)) => {
                        left_keys.push(l);
                        right_keys.push(r.map_columns(&|i| i - lw));
                    }
                    None => residual.push(conjunct),
                }
            }
            let residual = residual
                .into_iter()
                .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)));
            let plan = Plan::Join {
                left: Box::new(lp),
                right: Box::new(rp),
                kind: *kind,
                left_keys,
                right_keys,
                residual,
            };
            Ok((plan, scope))
        }
    }
}

fn split_and(e: Expr) -> Vec<Expr> {
    match e {
        Expr::And(a, b) => {
            let mut v = split_and(*a);
            v.extend(split_and(*b));
            v
        }
        other => vec![other],
    }
}

/// `l = r` with `l` reading only left columns and `r` only right ones (or
/// the other way round): a join key pair.
fn equi_key(e: &Expr, left_width: usize) -> Option<(Expr, Expr)> {
    let Expr::Binary(BinaryOp::Cmp(CmpOp::Eq), a, b) = e else {
        return None;
    };
    let side = |x: &Expr| {
        let mut cols = Vec::new();
        x.collect_columns(&mut cols);
        if cols.is_empty() {
            None
        } else if cols.iter().all(|&c| c < left_width) {
            Some(true)
        } else if cols.iter().all(|&c| c >= left_width) {
            Some(false)
        } else {
            None
        }
    };
    match (side(a)?, side(b)?) {
        (true, false) => Some(((**a).clone(), (**b).clone())),
        (false, true) => Some(((**b).clone(), (**a).clone())),
        _ => None,
    }
}

/// Prefix of the synthetic names standing for group keys and aggregate
/// results while binding post-aggregation expressions; a NUL cannot appear
/// in any identifier a user writes.
const SYNTHETIC: &str = "\u{0}";

fn synthetic(kind: char, i: usize) -> ast::Expr {
    ast::Expr::Identifier(vec![ast::Ident(format!("{SYNTHETIC}{kind}{i}"))])
}

/// Collects the aggregate calls of a GROUP BY query and rewrites
/// expressions over its output.
struct AggBinder<'a> {
    input: &'a Scope,
    group_asts: Vec<ast::Expr>,
    group_types: Vec<DataType>,
    aggs: Vec<AggCall>,
    agg_asts: Vec<ast::Expr>,
}

impl AggBinder<'_> {
    /// Replaces group-key subexpressions and aggregate calls by synthetic
    /// column references.
    fn rewrite(&mut self, e: &ast::Expr) -> Result<ast::Expr> {
        if let Some(i) = self.group_asts.iter().position(|g| g == e) {
            return Ok(synthetic('g', i));
        }
        if let ast::Expr::Function {
            name,
            args,
            star,
            distinct,
        } = e
        {
            if is_aggregate(name.as_str()) {
                let i = match self.agg_asts.iter().position(|a| a == e) {
                    Some(i) => i,
                    None => {
                        let call = self.bind_agg(name.as_str(), args, *star, *distinct)?;
                        self.aggs.push(call);
                        self.agg_asts.push(e.clone());
                        self.aggs.len() - 1
                    }
                };
                return Ok(synthetic('a', i));
            }
        }
        let r = |x: &ast::Expr, me: &mut Self| me.rewrite(x).map(Box::new);
        Ok(match e {
            ast::Expr::Literal(_) | ast::Expr::Parameter(_) | ast::Expr::Subquery(_) => e.clone(),
            ast::Expr::Identifier(parts) => {
                let name = parts
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                return Err(Error::Grouping(format!(
                    "column \"{name}\" must appear in the GROUP BY clause or be used in an aggregate function"
                )));
            }
            ast::Expr::Unary { op, expr } => ast::Expr::Unary {
                op: *op,
                expr: r(expr, self)?,
            },
            ast::Expr::Binary { op, left, right } => ast::Expr::Binary {
                op: *op,
                left: r(left, self)?,
                right: r(right, self)?,
            },
            ast::Expr::IsNull { expr, negated } => ast::Expr::IsNull {
                expr: r(expr, self)?,
                negated: *negated,
            },
            ast::Expr::Cast { expr, type_name } => ast::Expr::Cast {
                expr: r(expr, self)?,
                type_name: type_name.clone(),
            },
            ast::Expr::Function {
                name,
                args,
                star,
                distinct,
            } => ast::Expr::Function {
                name: name.clone(),
                args: args
                    .iter()
                    .map(|a| self.rewrite(a))
                    .collect::<Result<_>>()?,
                star: *star,
                distinct: *distinct,
            },
            ast::Expr::Case {
                operand,
                whens,
                else_result,
            } => ast::Expr::Case {
                operand: operand.as_ref().map(|o| r(o, self)).transpose()?,
                whens: whens
                    .iter()
                    .map(|(w, t)| Ok((self.rewrite(w)?, self.rewrite(t)?)))
                    .collect::<Result<_>>()?,
                else_result: else_result.as_ref().map(|x| r(x, self)).transpose()?,
            },
            ast::Expr::InList {
                expr,
                list,
                negated,
            } => ast::Expr::InList {
                expr: r(expr, self)?,
                list: list
                    .iter()
                    .map(|x| self.rewrite(x))
                    .collect::<Result<_>>()?,
                negated: *negated,
            },
            ast::Expr::Between {
                expr,
                low,
                high,
                negated,
            } => ast::Expr::Between {
                expr: r(expr, self)?,
                low: r(low, self)?,
                high: r(high, self)?,
                negated: *negated,
            },
            ast::Expr::Like {
                expr,
                pattern,
                negated,
                case_insensitive,
            } => ast::Expr::Like {
                expr: r(expr, self)?,
                pattern: r(pattern, self)?,
                negated: *negated,
                case_insensitive: *case_insensitive,
            },
        })
    }

    fn bind_agg(
        &self,
        name: &str,
        args: &[ast::Expr],
        star: bool,
        distinct: bool,
    ) -> Result<AggCall> {
        let binder = Binder::new(self.input);
        if star {
            if name != "count" {
                return Err(Error::UndefinedFunction(format!(
                    "function {name}(*) does not exist"
                )));
            }
            return Ok(AggCall {
                kind: AggKind::CountStar,
                arg: None,
                distinct: false,
                input_type: DataType::Int8,
                output_type: DataType::Int8,
            });
        }
        let [arg] = args else {
            return Err(Error::UndefinedFunction(format!(
                "function {name} with {} arguments does not exist",
                args.len()
            )));
        };
        let (mut expr, mut ty) = binder.bind(arg)?;
        if ty == DataType::Unknown {
            expr = binder.bind_as(arg, DataType::Text, "argument")?;
            ty = DataType::Text;
        }
        let bad = || Error::UndefinedFunction(format!("function {name}({ty}) does not exist"));
        let (kind, output_type) = match name {
            "count" => (AggKind::Count, DataType::Int8),
            "sum" => (
                AggKind::Sum,
                match ty {
                    DataType::Int4 => DataType::Int8,
                    DataType::Int8 | DataType::Numeric => DataType::Numeric,
                    DataType::Float8 => DataType::Float8,
                    _ => return Err(bad()),
                },
            ),
            "avg" => (
                AggKind::Avg,
                match ty {
                    DataType::Int4 | DataType::Int8 | DataType::Numeric => DataType::Numeric,
                    DataType::Float8 => DataType::Float8,
                    _ => return Err(bad()),
                },
            ),
            "min" | "max" if ty == DataType::Jsonb => return Err(bad()),
            "min" => (AggKind::Min, ty),
            "max" => (AggKind::Max, ty),
            "bool_and" | "bool_or" if ty != DataType::Boolean => return Err(bad()),
            "bool_and" => (AggKind::BoolAnd, DataType::Boolean),
            _ => (AggKind::BoolOr, DataType::Boolean),
        };
        Ok(AggCall {
            kind,
            arg: Some(expr),
            distinct,
            input_type: ty,
            output_type,
        })
    }

    /// The scope of the aggregate's output: synthetic group keys, then
    /// synthetic aggregate results.
    fn output_scope(&self) -> Scope {
        let col = |kind: char, i: usize, ty: DataType| ScopeColumn {
            qualifier: None,
            name: format!("{SYNTHETIC}{kind}{i}"),
            ty,
        };
        let mut columns: Vec<ScopeColumn> = self
            .group_types
            .iter()
            .enumerate()
            .map(|(i, t)| col('g', i, *t))
            .collect();
        columns.extend(
            self.aggs
                .iter()
                .enumerate()
                .map(|(i, a)| col('a', i, a.output_type)),
        );
        Scope { columns }
    }
}

fn contains_aggregate(e: &ast::Expr) -> bool {
    match e {
        ast::Expr::Function { name, args, .. } => {
            is_aggregate(name.as_str()) || args.iter().any(contains_aggregate)
        }
        ast::Expr::Literal(_)
        | ast::Expr::Identifier(_)
        | ast::Expr::Parameter(_)
        | ast::Expr::Subquery(_) => false,
        ast::Expr::Unary { expr, .. }
        | ast::Expr::IsNull { expr, .. }
        | ast::Expr::Cast { expr, .. } => contains_aggregate(expr),
        ast::Expr::Binary { left, right, .. } => {
            contains_aggregate(left) || contains_aggregate(right)
        }
        ast::Expr::Case {
            operand,
            whens,
            else_result,
        } => {
            operand.as_deref().is_some_and(contains_aggregate)
                || whens
                    .iter()
                    .any(|(w, t)| contains_aggregate(w) || contains_aggregate(t))
                || else_result.as_deref().is_some_and(contains_aggregate)
        }
        ast::Expr::InList { expr, list, .. } => {
            contains_aggregate(expr) || list.iter().any(contains_aggregate)
        }
        ast::Expr::Between {
            expr, low, high, ..
        } => contains_aggregate(expr) || contains_aggregate(low) || contains_aggregate(high),
        ast::Expr::Like { expr, pattern, .. } => {
            contains_aggregate(expr) || contains_aggregate(pattern)
        }
    }
}

/// Runs uncorrelated scalar subqueries while a query is planned (the
/// engine that reads rows implements it; the catalog cannot).
pub trait SubqueryRunner: Sync {
    /// The single value of a one-column query: NULL for no rows, an error
    /// for more than one.
    fn scalar(&self, plan: &QueryPlan) -> Result<Value>;
}

/// Binds a SELECT against the catalog (subqueries limited to those that
/// need no evaluation; see [`plan_query_with`]).
pub fn plan_query(q: &Query, catalog: &Catalog) -> Result<QueryPlan> {
    plan_query_with(q, catalog, None)
}

/// Binds a SELECT, evaluating uncorrelated scalar subqueries with `runner`.
pub fn plan_query_with(
    q: &Query,
    catalog: &Catalog,
    runner: Option<&dyn SubqueryRunner>,
) -> Result<QueryPlan> {
    if q.unions.is_empty() {
        return plan_select(q, catalog, runner);
    }
    plan_union(q, catalog, runner)
}

/// `a UNION [ALL] b ...`: the inputs' columns unified by position, ordered
/// and cut as a whole.
fn plan_union(
    q: &Query,
    catalog: &Catalog,
    runner: Option<&dyn SubqueryRunner>,
) -> Result<QueryPlan> {
    let core = |x: &Query| Query {
        unions: Vec::new(),
        order_by: Vec::new(),
        limit: None,
        offset: None,
        ..x.clone()
    };
    let mut parts = vec![plan_select(&core(q), catalog, runner)?];
    for (_, u) in &q.unions {
        parts.push(plan_select(&core(u), catalog, runner)?);
    }
    let n = parts[0].output.len();
    if parts.iter().any(|p| p.output.len() != n) {
        return Err(Error::InvalidDefinition(
            "each UNION query must have the same number of columns".into(),
        ));
    }
    let mut types = Vec::with_capacity(n);
    for i in 0..n {
        let mut ty = DataType::Unknown;
        for p in &parts {
            let t = p.output[i].ty;
            ty = crate::bind::common_type(ty, t).ok_or_else(|| {
                Error::DatatypeMismatch(format!("UNION types {ty} and {t} cannot be matched"))
            })?;
        }
        types.push(if ty == DataType::Unknown {
            DataType::Text
        } else {
            ty
        });
    }
    let output: Vec<Column> = parts[0]
        .output
        .iter()
        .zip(&types)
        .map(|(c, t)| Column {
            name: c.name.clone(),
            ty: *t,
        })
        .collect();
    let mut inputs = Vec::with_capacity(parts.len());
    for p in parts {
        let exprs = (0..n)
            .map(|i| crate::bind::coerce(Expr::Column(i), p.output[i].ty, types[i], ""))
            .collect::<Result<Vec<_>>>()?;
        inputs.push(Plan::Project {
            input: Box::new(p.root),
            exprs,
        });
    }
    let mut root = Plan::Union { inputs };
    if q.unions.iter().any(|(all, _)| !all) {
        root = Plan::Aggregate {
            input: Box::new(root),
            group_keys: (0..n).map(Expr::Column).collect(),
            aggs: Vec::new(),
        };
    }
    let mut order_by = Vec::new();
    for o in &q.order_by {
        let pos = match &o.expr {
            ast::Expr::Literal(ast::Literal::Number(num)) => num
                .parse::<usize>()
                .ok()
                .filter(|p| (1..=n).contains(p))
                .map(|p| p - 1),
            ast::Expr::Identifier(parts) if parts.len() == 1 => {
                output.iter().position(|c| c.name == parts[0].0)
            }
            _ => None,
        };
        let pos = pos.ok_or_else(|| {
            Error::NotSupported("ORDER BY on a UNION must name or number an output column".into())
        })?;
        order_by.push((pos, o.desc));
    }
    let (limit, offset) = limit_offset(q)?;
    Ok(QueryPlan {
        root,
        output,
        order_by,
        limit,
        offset,
    })
}

/// Binds one SELECT (no UNION).
fn plan_select(
    q: &Query,
    catalog: &Catalog,
    runner: Option<&dyn SubqueryRunner>,
) -> Result<QueryPlan> {
    let (mut plan, scope) = match &q.from {
        Some(t) => plan_from(t, catalog, runner)?,
        None => (Plan::Values, Scope::default()),
    };
    let binder = Binder::with_catalog(&scope, catalog).runner(runner);
    if let Some(w) = &q.selection {
        if contains_aggregate(w) {
            return Err(Error::Grouping(
                "aggregate functions are not allowed in WHERE".into(),
            ));
        }
        plan = Plan::Filter {
            input: Box::new(plan),
            predicate: binder.bind_predicate(w, "WHERE")?,
        };
    }

    // The select list as (expression, name), with * expanded.
    let mut items: Vec<(ast::Expr, String)> = Vec::new();
    for item in &q.projection {
        match item {
            SelectItem::Wildcard => {
                if scope.columns.is_empty() && q.from.is_none() {
                    return Err(Error::InvalidDefinition(
                        "SELECT * with no tables specified is not valid".into(),
                    ));
                }
                for c in &scope.columns {
                    let mut parts = Vec::new();
                    if let Some(qual) = &c.qualifier {
                        parts.push(ast::Ident(qual.clone()));
                    }
                    parts.push(ast::Ident(c.name.clone()));
                    items.push((ast::Expr::Identifier(parts), c.name.clone()));
                }
            }
            SelectItem::Expr { expr, alias } => {
                let name = alias
                    .as_ref()
                    .map_or_else(|| output_name(expr), |a| a.0.clone());
                items.push((expr.clone(), name));
            }
        }
    }

    // GROUP BY entries may name a select item by position or alias.
    let mut group_asts = Vec::new();
    for g in &q.group_by {
        let resolved = match g {
            ast::Expr::Literal(ast::Literal::Number(n)) => {
                let pos: usize = n.parse().unwrap_or(0);
                items
                    .get(pos.wrapping_sub(1))
                    .map(|(e, _)| e.clone())
                    .ok_or_else(|| {
                        Error::InvalidDefinition(format!(
                            "GROUP BY position {n} is not in select list"
                        ))
                    })?
            }
            ast::Expr::Identifier(parts)
                if parts.len() == 1
                    && !scope.columns.iter().any(|c| c.name == parts[0].0)
                    && items.iter().any(|(_, n)| *n == parts[0].0) =>
            {
                items
                    .iter()
                    .find(|(_, n)| *n == parts[0].0)
                    .map(|(e, _)| e.clone())
                    .unwrap_or_else(|| g.clone())
            }
            other => other.clone(),
        };
        group_asts.push(resolved);
    }

    let aggregating = !group_asts.is_empty()
        || items.iter().any(|(e, _)| contains_aggregate(e))
        || q.having.as_ref().is_some_and(contains_aggregate);

    let (mut exprs, mut types): (Vec<Expr>, Vec<DataType>) = (Vec::new(), Vec::new());
    let mut agg = None;
    if aggregating {
        let mut group_keys = Vec::new();
        let mut group_types = Vec::new();
        for g in &group_asts {
            if contains_aggregate(g) {
                return Err(Error::Grouping(
                    "aggregate functions are not allowed in GROUP BY".into(),
                ));
            }
            let (e, t) = binder.bind(g)?;
            group_keys.push(e);
            group_types.push(if t == DataType::Unknown {
                DataType::Text
            } else {
                t
            });
        }
        let mut ab = AggBinder {
            input: &scope,
            group_asts: group_asts.clone(),
            group_types,
            aggs: Vec::new(),
            agg_asts: Vec::new(),
        };
        let rewritten_items = items
            .iter()
            .map(|(e, _)| ab.rewrite(e))
            .collect::<Result<Vec<_>>>()?;
        let having = q.having.as_ref().map(|h| ab.rewrite(h)).transpose()?;
        let order = q
            .order_by
            .iter()
            .map(|o| ab.rewrite(&o.expr).map(|e| (e, o.desc)))
            .collect::<Result<Vec<_>>>();
        let out_scope = ab.output_scope();
        plan = Plan::Aggregate {
            input: Box::new(plan),
            group_keys,
            aggs: ab.aggs.clone(),
        };
        let post = Binder::with_catalog(&out_scope, catalog).runner(runner);
        if let Some(h) = having {
            plan = Plan::Filter {
                input: Box::new(plan),
                predicate: post.bind_predicate(&h, "HAVING")?,
            };
        }
        for e in &rewritten_items {
            let (x, t) = post.bind(e)?;
            exprs.push(x);
            types.push(t);
        }
        agg = Some((out_scope, order));
    } else {
        for (e, _) in &items {
            let (x, t) = binder.bind(e)?;
            exprs.push(x);
            types.push(t);
        }
    }
    let output: Vec<Column> = items
        .iter()
        .zip(&types)
        .map(|((_, name), t)| Column {
            name: name.clone(),
            ty: if *t == DataType::Unknown {
                DataType::Text
            } else {
                *t
            },
        })
        .collect();
    let visible = exprs.len();

    // ORDER BY: an output position, an output name, or an expression
    // (computed as a hidden column after the visible ones).
    let mut order_by = Vec::new();
    for (k, o) in q.order_by.iter().enumerate() {
        let pos = match &o.expr {
            ast::Expr::Literal(ast::Literal::Number(n)) => {
                let pos: usize = n.parse().unwrap_or(0);
                if pos == 0 || pos > visible {
                    return Err(Error::InvalidDefinition(format!(
                        "ORDER BY position {n} is not in select list"
                    )));
                }
                pos - 1
            }
            ast::Expr::Identifier(parts)
                if parts.len() == 1 && output.iter().any(|c| c.name == parts[0].0) =>
            {
                output
                    .iter()
                    .position(|c| c.name == parts[0].0)
                    .unwrap_or(0)
            }
            other => {
                if let Some(p) = items.iter().position(|(e, _)| e == other) {
                    p
                } else {
                    if q.distinct {
                        return Err(Error::InvalidDefinition(
                            "for SELECT DISTINCT, ORDER BY expressions must appear in select list"
                                .into(),
                        ));
                    }
                    let x = match &agg {
                        Some((out_scope, order)) => {
                            let rewritten =
                                order.as_ref().map_err(|e| Error::Grouping(e.to_string()))?;
                            Binder::new(out_scope).bind(&rewritten[k].0)?.0
                        }
                        None => binder.bind(other)?.0,
                    };
                    exprs.push(x);
                    exprs.len() - 1
                }
            }
        };
        order_by.push((pos, o.desc));
    }

    plan = Plan::Project {
        input: Box::new(plan),
        exprs,
    };
    if q.distinct {
        let keys = (0..visible).map(Expr::Column).collect();
        plan = Plan::Aggregate {
            input: Box::new(plan),
            group_keys: keys,
            aggs: Vec::new(),
        };
    }
    let (limit, offset) = limit_offset(q)?;
    Ok(QueryPlan {
        root: plan,
        output,
        order_by,
        limit,
        offset,
    })
}
