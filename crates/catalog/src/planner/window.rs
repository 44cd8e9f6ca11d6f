//! Window functions in the select list: `f(...) OVER (PARTITION BY ...
//! ORDER BY ...)`. Each distinct call becomes a column of a
//! [`Plan::Window`] over the FROM/WHERE rows, under a hidden name the
//! select list (and ORDER BY) then read in the call's place — as
//! PostgreSQL evaluates windows after WHERE and before the final
//! projection, sort and LIMIT.

use rivulet_expr::{DataType, Expr, Value};
use rivulet_sql::{self as ast, Query};

use super::aggregate::AggBinder;
use super::{AggKind, Plan, Planner, WindowFunc, WindowKind};
use crate::binder::CatalogType;
use crate::binder::{is_aggregate, unify, Scope, ScopeColumn};
use crate::{Error, Result};

/// The qualifier of the window columns: no query can name it.
const HIDDEN: &str = "?window?";

/// The distinct window calls of `exprs`, in order of appearance.
pub(super) fn window_calls<'e>(exprs: impl Iterator<Item = &'e ast::Expr>) -> Vec<ast::Expr> {
    let mut calls: Vec<ast::Expr> = Vec::new();
    for e in exprs {
        let mut e = e.clone();
        e.visit_mut(&mut |x| {
            if matches!(x, ast::Expr::Window(_)) && !calls.contains(x) {
                calls.push(x.clone());
            }
        });
    }
    calls
}

impl Planner<'_> {
    /// Puts a [`Plan::Window`] computing `calls` over `plan`, and replaces
    /// each call in the select items and in `q`'s ORDER BY by its column.
    pub(super) fn windows(
        &self,
        plan: Plan,
        mut scope: Scope,
        calls: &[ast::Expr],
        exprs: &mut [&mut ast::Expr],
        q: &mut Query,
    ) -> Result<(Plan, Scope)> {
        let mut funcs = Vec::with_capacity(calls.len());
        for call in calls {
            if let ast::Expr::Window(w) = call {
                funcs.push(self.window_func(&scope, w)?);
            }
        }
        for (k, (call, f)) in calls.iter().zip(&funcs).enumerate() {
            let name = format!("w{k}");
            scope.columns.push(ScopeColumn {
                qualifier: Some(HIDDEN.into()),
                name: name.clone(),
                ty: f.output_type,
                hidden: true,
                system: false,
                catalog_type: CatalogType::Plain,
                origin: None,
            });
            let column = ast::Expr::Identifier(vec![ast::Ident(HIDDEN.into()), ast::Ident(name)]);
            let replace = &mut |x: &mut ast::Expr| {
                if *x == *call {
                    *x = column.clone();
                }
            };
            for e in exprs.iter_mut() {
                e.visit_mut(replace);
            }
            for o in &mut q.order_by {
                o.expr.visit_mut(replace);
            }
        }
        let plan = Plan::Window {
            input: Box::new(plan),
            funcs,
        };
        Ok((plan, scope))
    }

    /// Binds one call over the rows of `scope`.
    fn window_func(&self, scope: &Scope, w: &ast::WindowCall) -> Result<WindowFunc> {
        let ast::Expr::Function {
            name,
            args,
            star,
            distinct,
        } = &w.func
        else {
            return Err(Error::Syntax("OVER follows a function call".into()));
        };
        let name = name.as_str().to_ascii_lowercase();
        if *distinct {
            return Err(Error::NotSupported(
                "DISTINCT is not implemented for window functions".into(),
            ));
        }
        if matches!(args.last(), Some(ast::Expr::AggregateOrder(_))) {
            return Err(Error::NotSupported(
                "aggregate ORDER BY is not implemented for window functions".into(),
            ));
        }
        let binder = self.binder(scope);
        let arity = |lo: usize, hi: usize| {
            if *star || args.len() < lo || args.len() > hi {
                Err(Error::UndefinedFunction(format!(
                    "function {name} with {} arguments does not exist",
                    args.len()
                )))
            } else {
                Ok(())
            }
        };
        let (kind, args, output_type) = match name.as_str() {
            "row_number" | "rank" | "dense_rank" => {
                arity(0, 0)?;
                let kind = match name.as_str() {
                    "row_number" => WindowKind::RowNumber,
                    "rank" => WindowKind::Rank,
                    _ => WindowKind::DenseRank,
                };
                (kind, Vec::new(), DataType::Int8)
            }
            "lag" | "lead" => {
                arity(1, 3)?;
                let (value, ty) = binder.bind(&args[0])?;
                let offset = match args.get(1) {
                    Some(o) => binder.bind_as(o, DataType::Int4, "offset")?,
                    None => Expr::Literal(Value::Int4(1)),
                };
                let (mut bound, ty) = match args.get(2) {
                    Some(d) => unify(vec![(value, ty), binder.bind(d)?], &name)?,
                    None => (vec![value], ty),
                };
                bound.insert(1, offset);
                let kind = if name == "lag" {
                    WindowKind::Lag
                } else {
                    WindowKind::Lead
                };
                (kind, bound, ty)
            }
            "first_value" | "last_value" => {
                arity(1, 1)?;
                let (value, ty) = binder.bind(&args[0])?;
                let kind = if name == "first_value" {
                    WindowKind::FirstValue
                } else {
                    WindowKind::LastValue
                };
                (kind, vec![value], ty)
            }
            other if is_aggregate(other) => {
                let agg = AggBinder::new(scope, Vec::new(), Vec::new())
                    .bind_agg(other, args, *star, false)?;
                if matches!(agg.kind, AggKind::ArrayAgg { .. }) {
                    return Err(Error::NotSupported(format!(
                        "{other} as a window function is not supported yet"
                    )));
                }
                let ty = agg.output_type;
                (WindowKind::Aggregate(agg), Vec::new(), ty)
            }
            other => {
                return Err(Error::WrongObjectType(format!(
                    "OVER specified, but {other} is not a window function nor an aggregate function"
                )))
            }
        };
        let partition_by = w
            .partition_by
            .iter()
            .map(|e| binder.bind(e).map(|(e, _)| e))
            .collect::<Result<_>>()?;
        let order_by = ast::OrderByExpr::expand_nulls(&w.order_by)
            .iter()
            .map(|o| binder.bind(&o.expr).map(|(e, _)| (e, o.desc)))
            .collect::<Result<_>>()?;
        Ok(WindowFunc {
            kind,
            args,
            partition_by,
            order_by,
            output_type,
        })
    }
}

/// Whether `e` calls a window function anywhere.
pub(super) fn contains_window(e: &ast::Expr) -> bool {
    !window_calls(std::iter::once(e)).is_empty()
}
