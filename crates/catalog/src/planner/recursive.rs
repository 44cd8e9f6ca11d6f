//! `WITH RECURSIVE`: a common table expression whose query reads its own
//! name is computed before the rest of the query is planned, as
//! PostgreSQL's executor computes it: the non-recursive part, then the
//! recursive part over the rows the previous round added (its own name
//! standing for them), until a round adds none. `UNION` keeps each row
//! once, and so stops at cycles; `UNION ALL` keeps every row. The rows
//! then stand for the name wherever the query reads it, as constants.

use std::collections::HashSet;
use std::sync::Arc;

use rivulet_expr::{encode_value_ordered, DataType, Expr, Row, SetFunc, Value};
use rivulet_sql::{self as ast, Cte, Query};

use super::{Plan, Planner, QueryPlan, SubqueryRunner};
use crate::binder::{coerce, subscript, ScopeColumn};
use crate::{Error, Result, Scope};

/// The most rows a recursive query may make: they are all held at once.
pub const MAX_RECURSIVE_ROWS: usize = 1_000_000;

/// A computed recursive query: its name, columns and rows.
pub(super) struct Computed {
    pub(super) name: ast::Ident,
    pub(super) columns: Vec<(String, DataType)>,
    pub(super) rows: Arc<Vec<Row>>,
}

impl Planner<'_> {
    /// Computes the recursive common table expressions of `q`'s WITH, in
    /// order (each may read those before it); `None` when it has none.
    /// The returned query keeps the others.
    /// The returned list holds them after those this planner had.
    pub(super) fn recursive_ctes(&self, q: &Query) -> Result<Option<(Query, Vec<Arc<Computed>>)>> {
        if !q
            .with
            .iter()
            .any(|c| c.recursive && reads_name(&c.query, &c.name))
        {
            return Ok(None);
        }
        if self.view {
            return Err(Error::NotSupported(
                "WITH RECURSIVE in a materialized view is not supported".into(),
            ));
        }
        let Some(runner) = self.runner else {
            return Err(Error::NotSupported(
                "WITH RECURSIVE is not supported here".into(),
            ));
        };
        let mut computed: Vec<Arc<Computed>> = self.computed.clone();
        let mut kept: Vec<Cte> = Vec::new();
        for cte in &q.with {
            if cte.recursive && reads_name(&cte.query, &cte.name) {
                let planner = self.with_computed(computed.clone());
                computed.push(Arc::new(planner.compute(cte, &kept, runner)?));
            } else {
                kept.push(cte.clone());
            }
        }
        let mut rest = q.clone();
        rest.with = kept;
        Ok(Some((rest, computed)))
    }

    /// This planner, with `computed` queries readable by name.
    pub(super) fn with_computed(&self, computed: Vec<Arc<Computed>>) -> Planner<'_> {
        Planner {
            catalog: self.catalog,
            runner: self.runner,
            view: self.view,
            computed,
            nested: self.nested,
        }
    }

    /// One recursive query: `base UNION [ALL] step`, where only `step`
    /// reads the name.
    fn compute(&self, cte: &Cte, earlier: &[Cte], runner: &dyn SubqueryRunner) -> Result<Computed> {
        let invalid = |what: &str| {
            Error::InvalidRecursion(format!("recursive query \"{}\" {what}", cte.name.as_str()))
        };
        let Some(((all, step), firsts)) = cte.query.unions.split_last() else {
            return Err(invalid(
                "does not have the form non-recursive-term UNION [ALL] recursive-term",
            ));
        };
        if cte.query.set_op.is_some()
            || !cte.query.order_by.is_empty()
            || cte.query.limit.is_some()
            || cte.query.offset.is_some()
        {
            return Err(Error::NotSupported(format!(
                "ORDER BY, LIMIT, OFFSET, INTERSECT or EXCEPT in recursive query \"{}\" is not supported",
                cte.name.as_str()
            )));
        }
        let mut base = cte.query.clone();
        base.unions = firsts.to_vec();
        if reads_name(&base, &cte.name) {
            return Err(Error::InvalidRecursion(format!(
                "recursive reference to query \"{}\" must not appear within its non-recursive term",
                cte.name.as_str()
            )));
        }
        base.with = earlier.to_vec();
        let plan = self.query(&base)?;
        let columns = names(cte, &plan)?;
        let types: Vec<DataType> = columns.iter().map(|(_, t)| *t).collect();
        let distinct = !*all;
        // Rows compared as UNION compares them (`1.5` equals `1.50`).
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let keep = |rows: Vec<Row>, seen: &mut HashSet<Vec<u8>>| -> Vec<Row> {
            if !distinct {
                return rows;
            }
            rows.into_iter()
                .filter(|r| {
                    let mut key = Vec::new();
                    r.iter().for_each(|v| encode_value_ordered(&mut key, v));
                    seen.insert(key)
                })
                .collect()
        };
        let mut working = keep(run_rows(runner, &plan, &types)?, &mut seen);
        let mut all_rows = working.clone();
        while !working.is_empty() {
            let round = Computed {
                name: cte.name.clone(),
                columns: columns.clone(),
                rows: Arc::new(std::mem::take(&mut working)),
            };
            let mut step_q = step.clone();
            step_q.with = earlier.to_vec();
            let mut visible = self.computed.clone();
            visible.push(Arc::new(round));
            let planner = self.with_computed(visible);
            let plan = planner.query(&step_q)?;
            if plan.output.len() != columns.len() {
                return Err(Error::DatatypeMismatch(format!(
                    "each UNION query must have the same number of columns (recursive query \"{}\")",
                    cte.name.as_str()
                )));
            }
            working = keep(run_rows(runner, &plan, &types)?, &mut seen);
            if all_rows.len() + working.len() > MAX_RECURSIVE_ROWS {
                return Err(Error::ProgramLimitExceeded(format!(
                    "recursive query \"{}\" made more than {MAX_RECURSIVE_ROWS} rows",
                    cte.name.as_str()
                )));
            }
            all_rows.extend(working.iter().cloned());
        }
        Ok(Computed {
            name: cte.name.clone(),
            columns,
            rows: Arc::new(all_rows),
        })
    }

    /// The plan reading a computed query's rows under `qualifier`: one
    /// literal array of rows unnested, each row's values taken out by
    /// position.
    pub(super) fn computed_rows(c: &Computed, qualifier: &str) -> (Plan, Scope) {
        static ANY: DataType = DataType::Text;
        let rows = Value::Array(c.rows.iter().map(|r| Value::Array(r.clone())).collect());
        let unnest = Plan::Unnest {
            input: Box::new(Plan::Values),
            funcs: vec![(SetFunc::Unnest(&ANY), Expr::Literal(rows))],
            outer: false,
        };
        let exprs = (0..c.columns.len())
            .map(|i| subscript(Expr::Column(0), i as i32 + 1))
            .collect();
        let plan = Plan::Project {
            input: Box::new(unnest),
            exprs,
        };
        let scope = Scope {
            columns: c
                .columns
                .iter()
                .map(|(name, ty)| ScopeColumn {
                    qualifier: Some(qualifier.to_string()),
                    name: name.clone(),
                    ty: *ty,
                    hidden: false,
                    system: false,
                    catalog_type: Default::default(),
                    origin: None,
                })
                .collect(),
            star: None,
        };
        (plan, scope)
    }
}

/// The columns of a recursive query: its non-recursive term's, renamed
/// by the CTE's column list.
fn names(cte: &Cte, plan: &QueryPlan) -> Result<Vec<(String, DataType)>> {
    if cte.columns.len() > plan.output.len() {
        return Err(Error::InvalidColumnReference(format!(
            "WITH query \"{}\" has {} columns available but {} columns specified",
            cte.name.as_str(),
            plan.output.len(),
            cte.columns.len()
        )));
    }
    Ok(plan
        .output
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let name = cte.columns.get(i).map_or(c.name.clone(), |a| a.0.clone());
            let ty = if c.ty == DataType::Unknown {
                DataType::Text
            } else {
                c.ty
            };
            (name, ty)
        })
        .collect())
}

/// Every row of `plan`, each value converted to the recursive query's
/// column type (as PostgreSQL requires the recursive term's types to be).
fn run_rows(runner: &dyn SubqueryRunner, plan: &QueryPlan, types: &[DataType]) -> Result<Vec<Row>> {
    let rows = runner.rows(plan, MAX_RECURSIVE_ROWS + 1)?;
    let from: Vec<DataType> = plan.output.iter().map(|c| c.ty).collect();
    let casts: Vec<Expr> = (0..types.len())
        .map(|i| coerce(Expr::Column(i), from[i], types[i], "recursive query"))
        .collect::<Result<_>>()?;
    rows.into_iter()
        .map(|row| {
            casts
                .iter()
                .map(|e| e.eval(&row).map_err(Error::Expr))
                .collect::<Result<Row>>()
        })
        .collect()
}

/// Whether `q` (or a query inside it) reads the relation `name`.
fn reads_name(q: &Query, name: &ast::Ident) -> bool {
    let mut q = q.clone();
    let mut found = false;
    q.visit_queries_mut(&mut |sub| {
        if let Some(from) = &mut sub.from {
            from.visit_table_names_mut(&mut |t| {
                found |= t.0.len() == 1 && t.0[0] == *name;
            });
        }
    });
    found
}
