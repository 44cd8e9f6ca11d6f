//! FROM: tables, views and joins, with join conditions split into equi
//! keys and a residual predicate.

use rivulet_expr::{BinaryOp, CmpOp, Expr};
use rivulet_sql::{Ident, Query, TableRef};

use super::{Plan, Planner};
use crate::binder::{Scope, ScopeColumn};
use crate::{Error, Result};

impl Planner<'_> {
    /// Plans a FROM item, returning the plan and the scope of its columns.
    pub(super) fn from(&self, t: &TableRef) -> Result<(Plan, Scope)> {
        match t {
            TableRef::Table { name, alias } => {
                let rel = self.catalog.get_relation(name)?.clone();
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
                let (lp, ls) = self.from(left)?;
                let (rp, rs) = self.from(right)?;
                let lw = ls.columns.len();
                let mut scope = ls;
                scope.columns.extend(rs.columns);
                let on = self.binder(&scope).bind_predicate(on, "JOIN/ON")?;
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
                    kind: (*kind).into(),
                    left_keys,
                    right_keys,
                    residual,
                };
                Ok((plan, scope))
            }
            TableRef::Derived {
                query,
                alias,
                columns,
            } => self.derived(query, alias, columns),
        }
    }

    /// A subquery in FROM: its plan, cut to its visible columns, under
    /// `alias` with the columns renamed by `columns`.
    fn derived(&self, query: &Query, alias: &Ident, columns: &[Ident]) -> Result<(Plan, Scope)> {
        let plan = self.query(query)?;
        if plan.limit.is_some() || plan.offset > 0 {
            return Err(Error::NotSupported(
                "LIMIT and OFFSET in a subquery in FROM are not supported yet".into(),
            ));
        }
        let n = plan.output.len();
        if columns.len() > n {
            return Err(Error::InvalidColumnReference(format!(
                "table \"{}\" has {n} columns available but {} columns specified",
                alias.as_str(),
                columns.len()
            )));
        }
        // Hidden ORDER BY columns go; the order itself means nothing here.
        let root = if plan.root.width() > n {
            Plan::Project {
                input: Box::new(plan.root),
                exprs: (0..n).map(Expr::Column).collect(),
            }
        } else {
            plan.root
        };
        let scope = Scope {
            columns: plan
                .output
                .iter()
                .enumerate()
                .map(|(i, c)| ScopeColumn {
                    qualifier: Some(alias.as_str().to_string()),
                    name: columns
                        .get(i)
                        .map_or_else(|| c.name.clone(), |a| a.as_str().to_string()),
                    ty: c.ty,
                })
                .collect(),
        };
        Ok((root, scope))
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
