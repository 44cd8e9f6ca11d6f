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
//!
//! A [`Planner`] plans one statement: `select` (one SELECT, step by step),
//! `union`, `from` (tables and joins) and `aggregate` (GROUP BY rewriting)
//! each hold a stage; `plan` is the tree itself and `parameters` the
//! typing of `$n`. The planner is also the binder's [`ScalarSubquery`]
//! hook: it plans a subquery and, given a [`SubqueryRunner`], runs it.

mod aggregate;
mod correlated;
mod from;
mod parameters;
mod plan;
mod pushdown;
mod recursive;
mod select;
mod semijoin;
mod union;
mod window;
mod with;

use std::fmt;
use std::sync::Arc;

use rivulet_expr::{DataType, Expr, Row, Value};
use rivulet_sql::{self as ast, Query, TableRef};

use crate::binder::{Binder, ScalarSubquery, Scope};
use crate::{Catalog, Column, Error, Result};

pub use aggregate::{AggCall, AggKind, OrderedPair};
pub use parameters::infer_parameter_types;
pub use plan::{JoinKind, Plan, WindowFunc, WindowKind};

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
    /// LIMIT: `None` for all rows.
    pub limit: Option<u64>,
    /// OFFSET: rows skipped first.
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

impl QueryPlan {
    /// Whether the plan's rows are final as soon as they are produced: no
    /// ORDER BY, and no aggregate or join that could change or retract
    /// them. Such a query can answer while it reads.
    pub fn final_as_read(&self) -> bool {
        self.order_by.is_empty() && self.root.is_stateless()
    }
}

/// Runs uncorrelated scalar subqueries while a query is planned (the
/// engine that reads rows implements it; the catalog cannot).
pub trait SubqueryRunner: Sync {
    /// The single value of a one-column query: NULL for no rows, an error
    /// for more than one.
    fn scalar(&self, plan: &QueryPlan) -> Result<Value>;

    /// The first column of the query's first `limit` rows.
    fn column(&self, plan: &QueryPlan, limit: usize) -> Result<Vec<Value>>;

    /// The query's first `limit` rows (its visible columns).
    fn rows(&self, plan: &QueryPlan, limit: usize) -> Result<Vec<Row>>;

    /// A runner to keep in the plan, for correlated subqueries run while
    /// the query runs.
    fn shared(&self) -> Arc<dyn SubqueryRunner + Send>;

    /// Sees the plan of every subquery planned (to learn the types of
    /// parameters used in subqueries).
    fn observe(&self, _plan: &QueryPlan) {}
}

/// Runs nothing: subqueries answer NULL or no rows. For describing a
/// statement (its columns and parameter types); it keeps the expressions
/// of every subquery planned.
#[derive(Default)]
struct DescribeOnly {
    exprs: std::sync::Mutex<Vec<Expr>>,
}

impl SubqueryRunner for DescribeOnly {
    fn observe(&self, plan: &QueryPlan) {
        let mut exprs = self.exprs.lock().unwrap_or_else(|e| e.into_inner());
        plan.root.for_each_expr(&mut |e| exprs.push(e.clone()));
    }

    fn scalar(&self, _plan: &QueryPlan) -> Result<Value> {
        Ok(Value::Null)
    }

    fn column(&self, _plan: &QueryPlan, _limit: usize) -> Result<Vec<Value>> {
        Ok(Vec::new())
    }

    fn rows(&self, _plan: &QueryPlan, _limit: usize) -> Result<Vec<Row>> {
        Ok(Vec::new())
    }

    fn shared(&self) -> Arc<dyn SubqueryRunner + Send> {
        Arc::new(DescribeOnly::default())
    }
}

/// Binds a SELECT for its result columns and parameter types only: its
/// subqueries are planned (so their errors show) but not run. Returns the
/// plan and the expressions of its subqueries' plans (where parameters
/// may be too).
pub fn describe_query(q: &Query, catalog: &Catalog) -> Result<(QueryPlan, Vec<Expr>)> {
    let runner = DescribeOnly::default();
    let plan = plan_query_with(q, catalog, Some(&runner))?;
    let exprs = runner.exprs.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok((plan, exprs))
}

/// Rows an `IN (subquery)` may have: its values become a list evaluated
/// for each outer row.
const MAX_IN_SUBQUERY_ROWS: usize = 10_000;

/// Binds a SELECT against the catalog (scalar subqueries are refused
/// unless they read a relation that is always empty; see
/// [`plan_query_with`]).
pub fn plan_query(q: &Query, catalog: &Catalog) -> Result<QueryPlan> {
    plan_query_with(q, catalog, None)
}

/// `RETURNING items` of the rows written to `rel`: the items planned as a
/// SELECT over those rows, read under the relation's name. Without rows
/// (describing a statement) the plan only types its columns.
pub fn plan_returning(
    catalog: &Catalog,
    rel: &crate::Relation,
    rows: Arc<Vec<Row>>,
    items: &[ast::SelectItem],
) -> Result<QueryPlan> {
    let written = recursive::Computed {
        name: ast::Ident(rel.name.clone()),
        columns: rel.columns.iter().map(|c| (c.name.clone(), c.ty)).collect(),
        rows,
    };
    let from = TableRef::Table {
        name: ast::ObjectName(vec![ast::Ident(rel.name.clone())]),
        alias: None,
    };
    Planner {
        catalog,
        runner: None,
        view: false,
        computed: vec![Arc::new(written)],
        nested: false,
    }
    .query(&Query::select(items.to_vec(), Some(from)))
}

/// Binds a SELECT, evaluating uncorrelated scalar subqueries with `runner`.
pub fn plan_query_with(
    q: &Query,
    catalog: &Catalog,
    runner: Option<&dyn SubqueryRunner>,
) -> Result<QueryPlan> {
    Planner {
        catalog,
        runner,
        view: false,
        computed: Vec::new(),
        nested: false,
    }
    .query(q)
}

/// Binds the SELECT of a materialized view: as [`plan_query`], but
/// `[NOT] EXISTS` and `[NOT] IN` subqueries in WHERE become semi- and
/// anti-joins, which the view maintains as their rows change.
pub fn plan_view(q: &Query, catalog: &Catalog) -> Result<QueryPlan> {
    Planner {
        catalog,
        runner: None,
        view: true,
        computed: Vec::new(),
        nested: false,
    }
    .query(q)
}

/// Plans the queries of one statement.
struct Planner<'a> {
    catalog: &'a Catalog,
    runner: Option<&'a dyn SubqueryRunner>,
    /// Planning a materialized view: subqueries in WHERE become joins.
    view: bool,
    /// Recursive WITH queries computed so far, readable by name.
    computed: Vec<Arc<recursive::Computed>>,
    /// Planning a subquery in FROM: catalog vectors (`indkey`) stay
    /// arrays for the query around it, which prints them.
    nested: bool,
}

impl Planner<'_> {
    fn query(&self, q: &Query) -> Result<QueryPlan> {
        if !q.with.is_empty() {
            if let Some((rest, computed)) = self.recursive_ctes(q)? {
                return self.with_computed(computed).query(&rest);
            }
            return self.query(&with::inline(q)?);
        }
        if q.unions.is_empty() && q.set_op.is_none() {
            self.select(q)
        } else {
            self.union(q)
        }
    }

    /// A binder over `scope` whose subqueries this planner binds.
    fn binder<'s>(&'s self, scope: &'s Scope) -> Binder<'s> {
        Binder::with_subqueries(scope, self)
    }
}

impl Planner<'_> {
    /// Runs the uncorrelated subquery `q` with `run`, now, when there is a
    /// runner (ad-hoc queries). Without one, a subquery that reads (through
    /// inner joins) a relation that is always empty answers `empty`, if
    /// given; otherwise its own planning error stands, but for a reference
    /// to the outer query, which is a correlated subquery (not supported
    /// yet).
    fn subquery<T>(
        &self,
        q: &Query,
        outer: &Scope,
        run: impl FnOnce(&dyn SubqueryRunner, &QueryPlan) -> Result<T>,
        empty: Option<T>,
    ) -> Result<T> {
        let planned = self.query(q);
        if let (Ok(plan), Some(runner)) = (&planned, self.runner) {
            runner.observe(plan);
            return run(runner, plan);
        }
        if let Some(empty) = empty {
            if q.group_by.is_empty()
                && q.from
                    .as_ref()
                    .is_some_and(|t| reads_empty(t, self.catalog))
            {
                return Ok(empty);
            }
        }
        match planned {
            // Run for each outer row instead (see `correlated`).
            Err(Error::UndefinedColumn(name)) if self.runner.is_some() && outer.has(&name) => {
                Err(Error::Correlated)
            }
            Ok(_) if self.view => Err(view_subquery()),
            Err(Error::UndefinedColumn(name)) if self.view && outer.has(&name) => {
                Err(view_subquery())
            }
            Ok(_) => Err(Error::NotSupported(
                "subqueries are not supported in EXPLAIN yet".into(),
            )),
            Err(Error::UndefinedColumn(name)) if outer.has(&name) => Err(Error::NotSupported(
                "correlated subqueries are not supported yet".into(),
            )),
            Err(e) => Err(e),
        }
    }
}

/// 0A000 for a subquery a view cannot maintain.
fn view_subquery() -> Error {
    Error::NotSupported(
        "a materialized view supports subqueries only as [NOT] EXISTS (...) and [NOT] IN (...) conditions of its WHERE".into(),
    )
}

/// 42601 unless the subquery has one column.
fn one_column(plan: &QueryPlan, what: &str) -> Result<DataType> {
    match plan.output.as_slice() {
        [c] => Ok(c.ty),
        _ => Err(Error::Syntax(what.into())),
    }
}

impl ScalarSubquery for Planner<'_> {
    fn scalar(&self, q: &Query, outer: &Scope) -> Result<(Expr, DataType)> {
        let constant = self.subquery(
            q,
            outer,
            |runner, plan| {
                let ty = one_column(plan, "subquery must return only one column")?;
                Ok((runner.scalar(plan)?, ty))
            },
            Some((Value::Null, DataType::Unknown)),
        );
        match constant {
            Err(Error::Correlated) => self.correlated(q, outer, correlated::Kind::Scalar),
            other => other.map(|(v, ty)| (Expr::Literal(v), ty)),
        }
    }

    fn column(&self, q: &Query, outer: &Scope) -> Result<(Vec<Value>, DataType)> {
        self.subquery(
            q,
            outer,
            |runner, plan| {
                let ty = one_column(plan, "subquery has too many columns")?;
                let values = runner.column(plan, MAX_IN_SUBQUERY_ROWS + 1)?;
                if values.len() > MAX_IN_SUBQUERY_ROWS {
                    return Err(Error::NotSupported(format!(
                        "IN (subquery) with more than {MAX_IN_SUBQUERY_ROWS} rows is not supported yet; join the subquery instead"
                    )));
                }
                Ok((values, ty))
            },
            Some((Vec::new(), DataType::Unknown)),
        )
    }

    fn catalog(&self) -> &Catalog {
        self.catalog
    }

    fn array(&self, q: &Query, outer: &Scope) -> Result<(Expr, DataType)> {
        match self.column(q, outer) {
            Err(Error::Correlated) => {
                let (e, ty) = self.correlated(q, outer, correlated::Kind::Array)?;
                Ok((e, ty.element().unwrap_or(DataType::Text)))
            }
            other => other.map(|(values, ty)| (Expr::Literal(Value::Array(values)), ty)),
        }
    }

    fn exists(&self, q: &Query, outer: &Scope) -> Result<Expr> {
        let constant = self.subquery(
            q,
            outer,
            |runner, plan| Ok(!runner.column(plan, 1)?.is_empty()),
            None,
        );
        match constant {
            Err(Error::Correlated) => Ok(self.correlated(q, outer, correlated::Kind::Exists)?.0),
            other => other.map(|b| Expr::Literal(Value::Bool(b))),
        }
    }
}

/// Whether a FROM item reads, through inner joins, a relation that always
/// has no rows.
fn reads_empty(t: &TableRef, catalog: &Catalog) -> bool {
    match t {
        TableRef::Table { name, .. } => catalog
            .get_relation(name)
            .ok()
            .and_then(|r| r.system())
            .is_some_and(|s| s.always_empty()),
        TableRef::Join {
            left, right, kind, ..
        } => {
            reads_empty(left, catalog)
                || (*kind == ast::JoinKind::Inner && reads_empty(right, catalog))
        }
        TableRef::Derived { .. } | TableRef::Function { .. } => false,
    }
}
