//! Query planning: a bound SELECT as a [`QueryPlan`] — scan, filter,
//! project (or aggregate), sort, limit.

use std::fmt;
use std::sync::Arc;

use rivulet_expr::{DataType, Expr, Value};
use rivulet_sql::{self as ast, Query, SelectItem};

use crate::bind::{is_aggregate, Binder, Scope};
use crate::{Catalog, Column, Error, Relation, Result};

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    /// `count(*)`: rows.
    CountStar,
    /// `count(expr)`: rows where `expr` is not NULL.
    Count,
}

/// One aggregate in the SELECT list.
#[derive(Debug, Clone)]
pub struct AggCall {
    pub kind: AggKind,
    pub arg: Option<Expr>,
}

/// A sort key: an output column, or an expression over the input row.
#[derive(Debug, Clone)]
pub enum OrderKey {
    Output(usize),
    Input(Expr),
}

/// A bound SELECT, executed as scan → filter → project/aggregate → sort →
/// offset/limit.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    /// The relation scanned; `None` for `SELECT` without `FROM` (one empty row).
    pub source: Option<Arc<Relation>>,
    pub filter: Option<Expr>,
    /// Output column names and types.
    pub output: Vec<Column>,
    /// Output expressions over the input row (unused when aggregating).
    pub projection: Vec<Expr>,
    /// When set, the query returns one row: these aggregates over all
    /// input rows, in output order.
    pub aggregates: Option<Vec<AggCall>>,
    /// Sort keys with `true` for descending.
    pub order_by: Vec<(OrderKey, bool)>,
    pub limit: Option<u64>,
    pub offset: u64,
}

impl fmt::Display for QueryPlan {
    /// Prints the plan as an indented operator tree (used by EXPLAIN).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut depth = 0;
        let mut line = |f: &mut fmt::Formatter<'_>, text: String| {
            let r = writeln!(
                f,
                "{}{}{text}",
                "  ".repeat(depth),
                if depth > 0 { "└─ " } else { "" }
            );
            depth += 1;
            r
        };
        if self.limit.is_some() || self.offset > 0 {
            line(f, format!("Limit: {:?} offset {}", self.limit, self.offset))?;
        }
        if !self.order_by.is_empty() {
            line(f, "Sort".into())?;
        }
        match &self.aggregates {
            Some(aggs) => line(f, format!("Aggregate: {} call(s)", aggs.len()))?,
            None => line(
                f,
                format!(
                    "Project: {}",
                    self.projection
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )?,
        }
        if let Some(p) = &self.filter {
            line(f, format!("Filter: {p}"))?;
        }
        match &self.source {
            Some(r) => line(f, format!("Scan: {}", r.name)),
            None => line(f, "Values: 1 row".into()),
        }
    }
}

/// The column name PostgreSQL gives an unaliased select item.
fn output_name(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(parts) => parts.last().map_or("?column?".into(), |p| p.0.clone()),
        ast::Expr::Function { name, .. } => name.0.clone(),
        ast::Expr::Cast { expr, type_name } => match **expr {
            ast::Expr::Literal(_) => type_name
                .split('(')
                .next()
                .unwrap_or("?column?")
                .to_string(),
            _ => output_name(expr),
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

/// Binds a SELECT against the catalog.
pub fn plan_query(q: &Query, catalog: &Catalog) -> Result<QueryPlan> {
    let source = q
        .from
        .as_ref()
        .map(|n| catalog.get_relation(n))
        .transpose()?
        .cloned();
    let scope = match &source {
        Some(rel) => Scope::of_relation(&rel.name, &rel.columns),
        None => Scope::default(),
    };
    let binder = Binder::new(&scope);
    let filter = q
        .selection
        .as_ref()
        .map(|w| binder.bind_predicate(w, "WHERE"))
        .transpose()?;

    let mut output = Vec::new();
    let mut projection = Vec::new();
    let mut aggregates = Vec::new();
    let mut plain = 0;
    for item in &q.projection {
        match item {
            SelectItem::Wildcard => {
                let rel = source.as_ref().ok_or_else(|| {
                    Error::InvalidDefinition(
                        "SELECT * with no tables specified is not valid".into(),
                    )
                })?;
                for (i, c) in rel.columns.iter().enumerate() {
                    output.push(c.clone());
                    projection.push(Expr::Column(i));
                    plain += 1;
                }
            }
            SelectItem::Expr { expr, alias } => {
                let name = alias
                    .as_ref()
                    .map_or_else(|| output_name(expr), |a| a.0.clone());
                if let ast::Expr::Function {
                    name: f,
                    args,
                    star,
                } = expr
                {
                    if is_aggregate(f.as_str()) {
                        let call = match (f.as_str(), *star, args.as_slice()) {
                            ("count", true, []) => AggCall {
                                kind: AggKind::CountStar,
                                arg: None,
                            },
                            ("count", false, [a]) => AggCall {
                                kind: AggKind::Count,
                                arg: Some(binder.bind(a)?.0),
                            },
                            (other, ..) => {
                                return Err(Error::NotSupported(format!(
                                    "aggregate function {other} is not supported yet"
                                )))
                            }
                        };
                        aggregates.push(call);
                        output.push(Column {
                            name,
                            ty: DataType::Int8,
                        });
                        projection.push(Expr::Column(aggregates.len() - 1));
                        continue;
                    }
                }
                let (e, ty) = binder.bind(expr)?;
                let ty = if ty == DataType::Unknown {
                    DataType::Text
                } else {
                    ty
                };
                output.push(Column { name, ty });
                projection.push(e);
                plain += 1;
            }
        }
    }
    if !aggregates.is_empty() && plain > 0 {
        return Err(Error::Grouping(
            "column must appear in the GROUP BY clause or be used in an aggregate function".into(),
        ));
    }

    let mut order_by = Vec::new();
    for o in &q.order_by {
        let key = match &o.expr {
            ast::Expr::Literal(rivulet_sql::Literal::Number(n)) => {
                let pos: usize = n.parse().unwrap_or(0);
                if pos == 0 || pos > output.len() {
                    return Err(Error::InvalidDefinition(format!(
                        "ORDER BY position {n} is not in select list"
                    )));
                }
                OrderKey::Output(pos - 1)
            }
            ast::Expr::Identifier(parts)
                if parts.len() == 1 && output.iter().any(|c| c.name == parts[0].0) =>
            {
                let i = output
                    .iter()
                    .position(|c| c.name == parts[0].0)
                    .unwrap_or(0);
                OrderKey::Output(i)
            }
            other if aggregates.is_empty() => OrderKey::Input(binder.bind(other)?.0),
            _ => continue,
        };
        order_by.push((key, o.desc));
    }

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
        .flatten()
        .unwrap_or(0);

    Ok(QueryPlan {
        source,
        filter,
        output,
        projection,
        aggregates: (!aggregates.is_empty()).then_some(aggregates),
        order_by,
        limit,
        offset,
    })
}
