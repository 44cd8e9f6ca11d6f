//! One SELECT (no UNION), planned in the order SQL gives its clauses
//! meaning: FROM, WHERE, the select list, GROUP BY and aggregates, HAVING,
//! ORDER BY, DISTINCT, LIMIT/OFFSET.

use rivulet_expr::{DataType, Expr, SetFunc, Value};
use rivulet_sql::{self as ast, Query, SelectItem};

use super::aggregate::{contains_aggregate, AggBinder};
use super::window::{contains_window, window_calls};
use super::{Plan, Planner, QueryPlan};
use crate::binder::{vector_text, Binder, CatalogType, Scope};
use crate::{Column, Error, Result};

/// The column name PostgreSQL gives an unaliased select item.
fn output_name(e: &ast::Expr) -> String {
    named(e).map_or_else(|| "?column?".into(), |(name, _)| name)
}

/// How firmly a name was chosen (PostgreSQL's `FigureColname`): a cast
/// names its column by its type unless what it casts has a strong name (a
/// column or function), so `'t'::regclass::oid` is `oid` and `a::text` is
/// `a`; `CASE` gives a weak name too.
#[derive(PartialEq)]
enum Strength {
    Weak,
    Strong,
}

fn named(e: &ast::Expr) -> Option<(String, Strength)> {
    let name = match e {
        ast::Expr::Identifier(parts) => parts.last()?.0.clone(),
        ast::Expr::Function { name, .. } => match name.as_str() {
            "btrim" | "ltrim" | "rtrim" => "btrim".into(),
            "substr" | "substring" => "substring".into(),
            "extract" | "date_part" => "extract".into(),
            other => other.to_string(),
        },
        ast::Expr::Cast { expr, type_name } => {
            return match named(expr) {
                Some(found) if found.1 == Strength::Strong => Some(found),
                _ => Some((cast_name(type_name), Strength::Weak)),
            }
        }
        ast::Expr::Case { .. } => return Some(("case".into(), Strength::Weak)),
        ast::Expr::Window(w) => return named(&w.func),
        ast::Expr::Array(_) | ast::Expr::ArraySubquery(_) => "array".into(),
        ast::Expr::Subscript { expr, .. } => return named(expr),
        ast::Expr::Field { field, .. } => field.0.clone(),
        ast::Expr::Subquery(q) => match q.projection.first() {
            Some(SelectItem::Expr { alias: Some(a), .. }) => a.0.clone(),
            Some(SelectItem::Expr { expr, .. }) => return named(expr),
            _ => return None,
        },
        _ => return None,
    };
    Some((name, Strength::Strong))
}

/// The name a cast to `type_name` gives its column: the type's internal
/// name for the SQL-standard spellings (`integer` → `int4`), else the last
/// part of the name as written, without modifiers or array brackets.
fn cast_name(type_name: &str) -> String {
    let base = type_name
        .split(['(', '['])
        .next()
        .unwrap_or(type_name)
        .trim();
    let base = base.rsplit('.').next().unwrap_or(base).to_ascii_lowercase();
    match base.as_str() {
        "int" | "integer" => "int4",
        "smallint" => "int2",
        "bigint" => "int8",
        "real" => "float4",
        "float" | "double precision" => "float8",
        "decimal" | "dec" => "numeric",
        "boolean" => "bool",
        "character varying" => "varchar",
        "char" | "character" => "bpchar",
        "timestamp with time zone" => "timestamptz",
        "timestamp without time zone" => "timestamp",
        other => other,
    }
    .to_string()
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
pub(super) fn limit_offset(q: &Query) -> Result<(Option<u64>, u64)> {
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

/// The set-returning functions the select list calls, each different call
/// once, in order of appearance. Functions of several columns
/// (`jsonb_each`) are refused.
fn set_function_calls(items: &[Item]) -> Result<Vec<ast::Expr>> {
    let mut found: Vec<ast::Expr> = Vec::new();
    let mut failure = None;
    for (e, _) in items {
        let mut e = e.clone();
        e.visit_mut(&mut |x| {
            let ast::Expr::Function { name, .. } = x else {
                return;
            };
            let lower = name.as_str().to_ascii_lowercase();
            // The element types of unnest and generate_series come from
            // their arguments, when the call is planned in FROM.
            let f = match lower.as_str() {
                "unnest" => Some(SetFunc::Unnest(&DataType::Text)),
                "generate_series" => Some(SetFunc::Series(&DataType::Int4)),
                "generate_subscripts" => Some(SetFunc::Subscripts),
                "_pg_expandarray" => Some(SetFunc::ExpandArray {
                    elem: &DataType::Int4,
                    record: true,
                }),
                other => SetFunc::from_name(other),
            };
            let Some(f) = f else {
                return;
            };
            if f.columns().len() > 1 {
                failure = Some(Error::NotSupported(format!(
                    "{} in the select list is not supported yet; call it in FROM",
                    f.name()
                )));
            } else if !found.contains(x) {
                found.push(x.clone());
            }
        });
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

/// Whether a SELECT has no rows whatever its expressions are: it reads
/// (through inner joins, and subqueries in FROM of the same kind) a
/// system relation that is always empty, and does not aggregate without
/// GROUP BY (which would answer one row).
pub(super) fn has_no_rows(q: &Query, catalog: &crate::Catalog) -> bool {
    let global_aggregate = q.group_by.is_empty()
        && q.projection.iter().any(|i| match i {
            SelectItem::Expr { expr, .. } => contains_aggregate(expr),
            _ => false,
        });
    q.unions.is_empty()
        && !global_aggregate
        && q.from
            .as_ref()
            .is_some_and(|t| from_has_no_rows(t, catalog))
}

fn from_has_no_rows(t: &ast::TableRef, catalog: &crate::Catalog) -> bool {
    match t {
        ast::TableRef::Table { name, .. } => catalog
            .get_relation(name)
            .ok()
            .and_then(|r| r.system())
            .is_some_and(|s| s.always_empty()),
        ast::TableRef::Join {
            left, right, kind, ..
        } => {
            from_has_no_rows(left, catalog)
                || (*kind == ast::JoinKind::Inner && from_has_no_rows(right, catalog))
        }
        ast::TableRef::Derived { query, .. } => {
            query.with.is_empty() && has_no_rows(query, catalog)
        }
        ast::TableRef::Function { .. } => false,
    }
}

/// No rows, in the columns the select list names (as text).
fn empty_answer(q: &Query) -> QueryPlan {
    let names: Vec<String> = q
        .projection
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            SelectItem::Expr { alias: Some(a), .. } => a.0.clone(),
            SelectItem::Expr { expr, .. } => output_name(expr),
            _ => format!("column{}", i + 1),
        })
        .collect();
    let output: Vec<Column> = names
        .into_iter()
        .map(|name| Column::new(name, DataType::Text))
        .collect();
    QueryPlan {
        root: Plan::Filter {
            input: Box::new(Plan::Project {
                input: Box::new(Plan::Values),
                exprs: vec![Expr::Literal(Value::Null); output.len()],
            }),
            predicate: Expr::Literal(Value::Bool(false)),
        },
        output,
        order_by: Vec::new(),
        limit: None,
        offset: 0,
    }
}

/// A select item: its expression and output name.
type Item = (ast::Expr, String);

/// The bound output expressions of a SELECT and their types, with what
/// ORDER BY needs to bind its own expressions the same way.
struct Outputs {
    exprs: Vec<Expr>,
    types: Vec<DataType>,
    /// For a GROUP BY query: the aggregate's output scope and the ORDER BY
    /// expressions rewritten over it.
    grouped: Option<(Scope, Result<Vec<ast::Expr>>)>,
}

impl Planner<'_> {
    /// Plans one SELECT (no UNION), clause by clause.
    pub(super) fn select(&self, q: &Query) -> Result<QueryPlan> {
        match self.select_planned(q) {
            Ok(plan) => Ok(plan),
            // A query of a catalog Rivulet has no rows in (indexes,
            // extensions, ...), written with functions, operators or types
            // Rivulet lacks: its answer is no rows anyway. A misspelt name
            // is still an error.
            Err(
                Error::UndefinedFunction(_)
                | Error::NotSupported(_)
                | Error::DatatypeMismatch(_)
                | Error::Correlated,
            ) if has_no_rows(q, self.catalog) => Ok(empty_answer(q)),
            Err(e) => Err(e),
        }
    }

    fn select_planned(&self, q: &Query) -> Result<QueryPlan> {
        // A view keeps the plan its state was built for.
        let pushed = match (&q.from, &q.selection) {
            (Some(f), Some(w)) if !self.view => super::pushdown::push_into_joins(f, w),
            _ => None,
        };
        let (from, selection) = match &pushed {
            Some((f, w)) => (Some(f), w.as_ref()),
            None => (q.from.as_ref(), q.selection.as_ref()),
        };
        let (mut plan, scope) = match from {
            Some(t) => self.from(t)?,
            None => (Plan::Values, Scope::default()),
        };
        if let Some(w) = selection {
            plan = self.where_clause(plan, &scope, w)?;
        }
        let mut items = select_items(q, &scope)?;
        let group_by = group_by_items(q, &items, &scope)?;
        let aggregating = !group_by.is_empty()
            || items.iter().any(|(e, _)| contains_aggregate(e))
            || q.having.as_ref().is_some_and(contains_aggregate);
        if !q.distinct_on.is_empty() {
            if aggregating {
                return Err(Error::NotSupported(
                    "DISTINCT ON in a grouped query is not supported yet".into(),
                ));
            }
            plan = self.distinct_on(plan, &scope, q, &items)?;
        }
        let mut scope = scope;
        let calls = set_function_calls(&items)?;
        if !calls.is_empty() {
            if aggregating {
                return Err(Error::NotSupported(
                    "set-returning functions in the select list of a grouped query are not supported yet; call them in FROM".into(),
                ));
            }
            (plan, scope) = self.select_list_set_functions(plan, scope, &calls, &mut items)?;
        }
        // Window functions: computed over the rows so far, read by the
        // select list and ORDER BY in their place.
        let calls = window_calls(
            items
                .iter()
                .map(|(e, _)| e)
                .chain(q.order_by.iter().map(|o| &o.expr)),
        );
        let mut windowed;
        let q = if calls.is_empty() {
            q
        } else {
            if aggregating {
                return Err(Error::NotSupported(
                    "window functions in a grouped query are not supported yet".into(),
                ));
            }
            windowed = q.clone();
            let mut exprs: Vec<&mut ast::Expr> = items.iter_mut().map(|(e, _)| e).collect();
            (plan, scope) = self.windows(plan, scope, &calls, &mut exprs, &mut windowed)?;
            &windowed
        };
        let mut out = if aggregating {
            self.aggregate(q, &mut plan, &scope, &items, group_by)?
        } else {
            let binder = self.binder(&scope);
            let (exprs, types) = items
                .iter()
                .map(|(e, _)| {
                    let (bound, ty) = binder.bind(e)?;
                    // A catalog vector selected as such prints as one.
                    match e {
                        ast::Expr::Identifier(parts)
                            if !self.nested && scope.catalog_type(parts) == CatalogType::Vector =>
                        {
                            Ok((vector_text(bound), DataType::Text))
                        }
                        _ => Ok((bound, ty)),
                    }
                })
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .unzip();
            Outputs {
                exprs,
                types,
                grouped: None,
            }
        };
        let output = output_columns(&items, &out.types, &scope);
        let order_by = self.order_by(q, &scope, &items, &output, &mut out)?;
        let visible = output.len();
        plan = Plan::Project {
            input: Box::new(plan),
            exprs: out.exprs,
        };
        if q.distinct {
            plan = Plan::Aggregate {
                input: Box::new(plan),
                group_keys: (0..visible).map(Expr::Column).collect(),
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

    /// A set-returning function called in the select list: each row once
    /// for each row the function makes, as PostgreSQL runs it. Planned as
    /// the same function in FROM under a hidden name, which the select
    /// items read in its place.
    fn select_list_set_functions(
        &self,
        mut plan: Plan,
        mut scope: Scope,
        calls: &[ast::Expr],
        items: &mut [Item],
    ) -> Result<(Plan, Scope)> {
        for (i, call) in calls.iter().enumerate() {
            let ast::Expr::Function { name, args, .. } = call else {
                continue;
            };
            let hidden = ast::Ident(format!("?set-returning function {i}?"));
            let f = ast::TableRef::Function {
                name: name.clone(),
                args: args.clone(),
                alias: Some(hidden.clone()),
                columns: vec![hidden.clone()],
            };
            (plan, scope) = self.set_function(plan, scope, &f, false, true)?;
            // The calls run in lockstep, not one for each row of the
            // other: merged into one node (each argument reads only the
            // FROM rows' columns, which the hidden ones follow).
            if let Plan::Unnest { input, funcs, .. } = &mut plan {
                if let Plan::Unnest {
                    input: inner,
                    funcs: earlier,
                    outer: false,
                } = input.as_mut()
                {
                    if i > 0 {
                        let mut merged = std::mem::take(earlier);
                        merged.append(funcs);
                        *funcs = merged;
                        let below = std::mem::replace(inner.as_mut(), Plan::Values);
                        **input = below;
                    }
                }
            }
            let column = ast::Expr::Identifier(vec![hidden.clone(), hidden]);
            for (e, _) in items.iter_mut() {
                e.visit_mut(&mut |x| {
                    if *x == *call {
                        *x = column.clone();
                    }
                });
            }
        }
        Ok((plan, scope))
    }

    /// `DISTINCT ON (keys)`: of the FROM rows equal in the keys, the first
    /// in ORDER BY order — a `row_number()` over the keys' partitions,
    /// kept where it is 1 (the number is a column after the scope's,
    /// which nothing else reads). The keys, like ORDER BY's, may name or
    /// number output columns, and must lead ORDER BY (42P10).
    fn distinct_on(&self, input: Plan, scope: &Scope, q: &Query, items: &[Item]) -> Result<Plan> {
        // An output position or name stands for its select-list expression.
        let resolve = |e: &ast::Expr| -> ast::Expr {
            match e {
                ast::Expr::Literal(ast::Literal::Number(n)) => n
                    .parse::<usize>()
                    .ok()
                    .and_then(|p| p.checked_sub(1))
                    .and_then(|p| items.get(p))
                    .map_or_else(|| e.clone(), |(x, _)| x.clone()),
                ast::Expr::Identifier(parts) if parts.len() == 1 => items
                    .iter()
                    .find(|(_, name)| *name == parts[0].0)
                    .map_or_else(|| e.clone(), |(x, _)| x.clone()),
                other => other.clone(),
            }
        };
        let keys: Vec<ast::Expr> = q.distinct_on.iter().map(&resolve).collect();
        let order: Vec<ast::OrderByExpr> = q
            .order_by
            .iter()
            .map(|o| ast::OrderByExpr {
                expr: resolve(&o.expr),
                ..o.clone()
            })
            .collect();
        let leading = order.iter().take(keys.len());
        if !order.is_empty()
            && (order.len() < keys.len() || leading.clone().any(|o| !keys.contains(&o.expr)))
        {
            return Err(Error::InvalidColumnReference(
                "SELECT DISTINCT ON expressions must match initial ORDER BY expressions".into(),
            ));
        }
        let binder = self.binder(scope);
        let partition_by = keys
            .iter()
            .map(|k| binder.bind(k).map(|(e, _)| e))
            .collect::<Result<_>>()?;
        let order_by = ast::OrderByExpr::expand_nulls(&order)
            .iter()
            .map(|o| binder.bind(&o.expr).map(|(e, _)| (e, o.desc)))
            .collect::<Result<_>>()?;
        let number = input.width();
        Ok(Plan::Filter {
            input: Box::new(Plan::Window {
                input: Box::new(input),
                funcs: vec![crate::planner::WindowFunc {
                    kind: crate::planner::WindowKind::RowNumber,
                    args: Vec::new(),
                    partition_by,
                    order_by,
                    output_type: DataType::Int8,
                }],
            }),
            predicate: Expr::Binary(
                rivulet_expr::BinaryOp::Cmp(rivulet_expr::CmpOp::Eq),
                Box::new(Expr::Column(number)),
                Box::new(Expr::Literal(rivulet_expr::Value::Int8(1))),
            ),
        })
    }

    /// WHERE: a filter over the FROM rows.
    fn where_clause(&self, input: Plan, scope: &Scope, w: &ast::Expr) -> Result<Plan> {
        if contains_window(w) {
            return Err(Error::Windowing(
                "window functions are not allowed in WHERE".into(),
            ));
        }
        if contains_aggregate(w) {
            return Err(Error::Grouping(
                "aggregate functions are not allowed in WHERE".into(),
            ));
        }
        // Tests of subqueries become joins: all of them in a view (which
        // maintains them like the rest of it), the correlated ones in a
        // query (rather than running the subquery for each outer row).
        let input = match self.where_with_joins(input, scope, w)? {
            Ok(joined) => return Ok(joined),
            Err(input) => input,
        };
        Ok(Plan::Filter {
            input: Box::new(input),
            predicate: self.binder(scope).bind_predicate(w, "WHERE")?,
        })
    }

    /// GROUP BY and aggregates: puts an Aggregate (and HAVING's filter)
    /// over `plan` and binds the select list over the aggregate's output.
    fn aggregate(
        &self,
        q: &Query,
        plan: &mut Plan,
        scope: &Scope,
        items: &[Item],
        group_by: Vec<ast::Expr>,
    ) -> Result<Outputs> {
        let binder = self.binder(scope);
        let mut group_keys = Vec::new();
        let mut group_types = Vec::new();
        for g in &group_by {
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
        let mut ab = AggBinder::new(scope, group_by, group_types);
        let rewritten_items = items
            .iter()
            .map(|(e, _)| ab.rewrite(e))
            .collect::<Result<Vec<_>>>()?;
        let having = q.having.as_ref().map(|h| ab.rewrite(h)).transpose()?;
        // Kept as a result: only an ORDER BY expression outside the select
        // list needs it.
        let order = q
            .order_by
            .iter()
            .map(|o| ab.rewrite(&o.expr))
            .collect::<Result<Vec<_>>>();
        let out_scope = ab.output_scope();
        let keys = group_keys.len();
        let paired = std::mem::take(&mut ab.paired);
        *plan = Plan::Aggregate {
            input: Box::new(std::mem::replace(plan, Plan::Values)),
            group_keys,
            aggs: ab.aggs,
        };
        if paired.iter().any(|p| *p) {
            // first_value/last_value: the value out of the winning pair.
            let exprs = (0..keys)
                .map(Expr::Column)
                .chain(paired.iter().enumerate().map(|(i, p)| {
                    let c = Expr::Column(keys + i);
                    match p {
                        true => Expr::Call(
                            rivulet_expr::CallFn(std::sync::Arc::new(super::aggregate::PairValue)),
                            vec![c],
                        ),
                        false => c,
                    }
                }))
                .collect();
            *plan = Plan::Project {
                input: Box::new(std::mem::replace(plan, Plan::Values)),
                exprs,
            };
        }
        let post = self.binder(&out_scope);
        if let Some(h) = having {
            *plan = Plan::Filter {
                input: Box::new(std::mem::replace(plan, Plan::Values)),
                predicate: post.bind_predicate(&h, "HAVING")?,
            };
        }
        let (exprs, types) = rewritten_items
            .iter()
            .map(|e| post.bind(e))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip();
        Ok(Outputs {
            exprs,
            types,
            grouped: Some((out_scope, order)),
        })
    }

    /// ORDER BY: each key an output position, an output name, or an
    /// expression (computed as a hidden column after the visible ones).
    fn order_by(
        &self,
        q: &Query,
        scope: &Scope,
        items: &[Item],
        output: &[Column],
        out: &mut Outputs,
    ) -> Result<Vec<(usize, bool)>> {
        let visible = output.len();
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
                other => match items.iter().position(|(e, _)| e == other) {
                    Some(p) => p,
                    None => {
                        if q.distinct {
                            return Err(Error::InvalidDefinition(
                                "for SELECT DISTINCT, ORDER BY expressions must appear in select list"
                                    .into(),
                            ));
                        }
                        let x = match &out.grouped {
                            Some((out_scope, order)) => {
                                let rewritten =
                                    order.as_ref().map_err(|e| Error::Grouping(e.to_string()))?;
                                Binder::new(out_scope).bind(&rewritten[k])?.0
                            }
                            None => self.binder(scope).bind(other)?.0,
                        };
                        out.exprs.push(x);
                        out.exprs.len() - 1
                    }
                },
            };
            if let Some(first) = o.nulls_override() {
                // NULLS FIRST/LAST against the direction's default: the
                // key's NULLness sorts first.
                let key = out.exprs.get(pos).cloned().ok_or_else(|| {
                    Error::InvalidDefinition("ORDER BY key is not in the output".into())
                })?;
                out.exprs.push(Expr::IsNull(Box::new(key), false));
                order_by.push((out.exprs.len() - 1, first));
            }
            order_by.push((pos, o.desc));
        }
        Ok(order_by)
    }
}

/// The select list as (expression, name), with `*` expanded.
fn select_items(q: &Query, scope: &Scope) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    for item in &q.projection {
        match item {
            SelectItem::Wildcard => {
                if scope.columns.is_empty() && q.from.is_none() {
                    return Err(Error::InvalidDefinition(
                        "SELECT * with no tables specified is not valid".into(),
                    ));
                }
                for c in scope.star_order().into_iter().map(|i| &scope.columns[i]) {
                    let mut parts = Vec::new();
                    if let Some(qual) = &c.qualifier {
                        parts.push(ast::Ident(qual.clone()));
                    }
                    parts.push(ast::Ident(c.name.clone()));
                    items.push((ast::Expr::Identifier(parts), c.name.clone()));
                }
            }
            SelectItem::QualifiedWildcard(parts) => {
                let qualifier = parts.last().map_or("", |p| p.as_str());
                let before = items.len();
                for c in scope
                    .columns
                    .iter()
                    .filter(|c| c.qualifier.as_deref() == Some(qualifier))
                {
                    let parts = vec![
                        ast::Ident(qualifier.to_string()),
                        ast::Ident(c.name.clone()),
                    ];
                    items.push((ast::Expr::Identifier(parts), c.name.clone()));
                }
                if items.len() == before {
                    return Err(Error::MissingFromEntry(qualifier.to_string()));
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
    Ok(items)
}

/// GROUP BY entries, each a select item's expression when it names one by
/// position or (unless an input column has that name) by alias.
fn group_by_items(q: &Query, items: &[Item], scope: &Scope) -> Result<Vec<ast::Expr>> {
    let mut group_by = Vec::new();
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
            // An output name, where no input column has it, or (as
            // RisingWave reads it) where several do.
            ast::Expr::Identifier(parts)
                if parts.len() == 1
                    && scope
                        .columns
                        .iter()
                        .filter(|c| c.name == parts[0].0)
                        .count()
                        != 1 =>
            {
                items
                    .iter()
                    .find(|(_, n)| *n == parts[0].0)
                    .map_or_else(|| g.clone(), |(e, _)| e.clone())
            }
            other => other.clone(),
        };
        group_by.push(resolved);
    }
    Ok(group_by)
}

/// The visible output columns: names from the select list, types from
/// binding (text where nothing decided one), and for an item that names a
/// relation's column as such, that column.
fn output_columns(items: &[Item], types: &[DataType], scope: &Scope) -> Vec<Column> {
    items
        .iter()
        .zip(types)
        .map(|((e, name), t)| Column {
            name: name.clone(),
            ty: if *t == DataType::Unknown {
                DataType::Text
            } else {
                *t
            },
            origin: match e {
                ast::Expr::Identifier(parts) => scope.origin(parts),
                _ => None,
            },
        })
        .collect()
}
