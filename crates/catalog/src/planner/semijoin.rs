//! Subqueries in WHERE as joins: in a materialized view, `[NOT] EXISTS
//! (...)` and `x [NOT] IN (...)` conjuncts become semi- and anti-joins
//! with the subquery's rows, which the view maintains as either side
//! changes. In an ad-hoc query, a correlated `[NOT] EXISTS` becomes one
//! too, read with the subquery's side first (so the outer rows stream
//! through), instead of running the subquery for each outer row;
//! uncorrelated subqueries there still run once, ahead.
//!
//! An `EXISTS` subquery may refer to the outer query through equalities
//! in its WHERE (`o.user_id = u.id`): those become the join's keys, and its
//! other conjuncts filter the subquery's rows. `IN` compares the tested
//! expression with the subquery's one column; `NOT IN` keeps SQL's NULL
//! rules (a NULL among the subquery's values leaves no row).

use rivulet_expr::{DataType, Expr};
use rivulet_sql::{self as ast, BinaryOperator, Query, UnaryOperator};

use super::aggregate::contains_aggregate;
use super::plan::JoinKind;
use super::select::limit_offset;
use super::{one_column, Plan, Planner};
use crate::binder::{unify, Binder, Scope};
use crate::{Error, Result};

/// A WHERE conjunct a join can decide.
enum Test<'a> {
    /// `[NOT] EXISTS (q)`.
    Exists(&'a Query, bool),
    /// `e [NOT] IN (q)`.
    In(&'a ast::Expr, &'a Query, bool),
    /// `[NOT] EXISTS`, already planned as its join's right side and keys.
    Joined((Plan, Keys), bool),
}

/// The conjunct as a subquery test, if it is one.
fn test(e: &ast::Expr) -> Option<Test<'_>> {
    match e {
        ast::Expr::Exists(q) => Some(Test::Exists(q, false)),
        ast::Expr::Unary {
            op: UnaryOperator::Not,
            expr,
        } => match &**expr {
            ast::Expr::Exists(q) => Some(Test::Exists(q, true)),
            ast::Expr::InSubquery {
                expr,
                query,
                negated,
            } => Some(Test::In(expr, query, !negated)),
            _ => None,
        },
        ast::Expr::InSubquery {
            expr,
            query,
            negated,
        } => Some(Test::In(expr, query, *negated)),
        _ => None,
    }
}

/// The operands of a chain of ANDs.
pub(super) fn conjuncts(e: &ast::Expr) -> Vec<&ast::Expr> {
    match e {
        ast::Expr::Binary {
            op: BinaryOperator::And,
            left,
            right,
        } => {
            let mut v = conjuncts(left);
            v.extend(conjuncts(right));
            v
        }
        other => vec![other],
    }
}

/// `a AND b AND ...` of `parts` (at least one).
pub(super) fn and_all(parts: &[&ast::Expr]) -> Option<ast::Expr> {
    parts.iter().fold(None, |acc, p| {
        Some(match acc {
            None => (*p).clone(),
            Some(a) => ast::Expr::Binary {
                op: BinaryOperator::And,
                left: Box::new(a),
                right: Box::new((*p).clone()),
            },
        })
    })
}

/// A join's keys: expressions over the left input and over the right.
type Keys = (Vec<Expr>, Vec<Expr>);

impl Planner<'_> {
    /// WHERE over `input` when it holds subquery tests to join (all of
    /// them in a view; in a query, correlated `EXISTS` that decorrelate):
    /// the other conjuncts filter the input, then each test is a join.
    /// When there is none, `input` comes back as it was (`Err`).
    pub(super) fn where_with_joins(
        &self,
        input: Plan,
        scope: &Scope,
        w: &ast::Expr,
    ) -> Result<std::result::Result<Plan, Plan>> {
        let mut tests = Vec::new();
        let mut rest = Vec::new();
        for c in conjuncts(w) {
            match test(c) {
                Some(t) if self.view => tests.push(t),
                Some(Test::Exists(q, negated)) => match self.correlated_exists(scope, q)? {
                    Some(joined) => tests.push(Test::Joined(joined, negated)),
                    None => rest.push(c),
                },
                _ => rest.push(c),
            }
        }
        if tests.is_empty() {
            return Ok(Err(input));
        }
        let mut plan = match and_all(&rest) {
            Some(p) => Plan::Filter {
                input: Box::new(input),
                predicate: self.binder(scope).bind_predicate(&p, "WHERE")?,
            },
            None => input,
        };
        for t in tests {
            let (right, kind, (left_keys, right_keys)) = match t {
                Test::Joined((right, keys), negated) => {
                    let kind = if negated {
                        JoinKind::Anti
                    } else {
                        JoinKind::Semi
                    };
                    (right, kind, keys)
                }
                Test::In(e, q, negated) => {
                    let (right, keys) = self.in_join(scope, e, q)?;
                    let kind = if negated {
                        JoinKind::NotIn
                    } else {
                        JoinKind::Semi
                    };
                    (right, kind, keys)
                }
                Test::Exists(q, negated) => {
                    let (right, keys) = self.exists_join(scope, q)?;
                    let kind = if negated {
                        JoinKind::Anti
                    } else {
                        JoinKind::Semi
                    };
                    (right, kind, keys)
                }
            };
            plan = Plan::Join {
                left: Box::new(plan),
                right: Box::new(right),
                kind,
                left_keys,
                right_keys,
                residual: None,
            };
        }
        Ok(Ok(plan))
    }

    /// `e IN (q)`: `q`'s rows, keyed by its column, against `e`.
    fn in_join(&self, outer: &Scope, e: &ast::Expr, q: &Query) -> Result<(Plan, Keys)> {
        let plan = match self.query(q) {
            Ok(plan) => plan,
            Err(Error::UndefinedColumn(name)) if outer.has(&name) => {
                return Err(Error::NotSupported(
                    "a correlated IN subquery is not supported in a materialized view; write it as EXISTS with equalities".into(),
                ))
            }
            Err(e) => return Err(e),
        };
        let ty = one_column(&plan, "subquery has too many columns")?;
        refuse_cut(&plan)?;
        let (left, lty) = self.binder(outer).bind(e)?;
        let mut keys = equal_keys((left, lty), (Expr::Column(0), ty))?;
        let right_key = keys.pop();
        let left_key = keys.pop();
        let (Some(l), Some(r)) = (left_key, right_key) else {
            return Err(Error::NotSupported("IN (subquery)".into()));
        };
        Ok((plan.root, (vec![l], vec![r])))
    }

    /// In a query: `EXISTS (q)` as a join when `q` is correlated through
    /// equalities only; `None` when it is uncorrelated (it runs once,
    /// ahead) or refers to the outer query otherwise (it runs for each
    /// outer row).
    fn correlated_exists(&self, outer: &Scope, q: &Query) -> Result<Option<(Plan, Keys)>> {
        match self.exists_join(outer, q) {
            // No keys: it names nothing of the outer query.
            Ok((_, (keys, _))) if keys.is_empty() => Ok(None),
            Ok(joined) => Ok(Some(joined)),
            Err(Error::NotSupported(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `EXISTS (q)`: `q`'s rows filtered by its own conditions, keyed by
    /// the inner sides of its equalities with the outer query.
    fn exists_join(&self, outer: &Scope, q: &Query) -> Result<(Plan, Keys)> {
        let uncorrelated = match self.query(q) {
            Ok(plan) => Some(plan),
            Err(Error::UndefinedColumn(name)) if outer.has(&name) => None,
            Err(e) => return Err(e),
        };
        let refuse = |what: &str| {
            Err(Error::NotSupported(format!(
                "an EXISTS subquery with {what} is not supported in a materialized view"
            )))
        };
        // LIMIT n (n > 0) does not change whether a row exists.
        if limit_offset(q)?.0 == Some(0) {
            return refuse("LIMIT 0");
        }
        if let Some(plan) = uncorrelated {
            if plan.offset > 0 {
                return refuse("OFFSET");
            }
            return Ok((plan.root, (Vec::new(), Vec::new())));
        }
        if !q.with.is_empty() || !q.unions.is_empty() {
            return refuse("WITH or UNION");
        }
        if !q.group_by.is_empty()
            || q.having.is_some()
            || q.projection.iter().any(|i| match i {
                ast::SelectItem::Expr { expr, .. } => contains_aggregate(expr),
                _ => false,
            })
        {
            return refuse("GROUP BY or aggregates");
        }
        if q.offset.is_some() {
            return refuse("OFFSET");
        }
        let Some(from) = &q.from else {
            return refuse("no FROM");
        };
        let (mut plan, inner) = self.from(from)?;
        let mut own = Vec::new();
        let (mut left_keys, mut right_keys) = (Vec::new(), Vec::new());
        for c in q.selection.iter().flat_map(conjuncts) {
            match self.binder(&inner).bind(c) {
                Ok(_) => {
                    own.push(c);
                    continue;
                }
                Err(e) if !matches!(e, Error::UndefinedColumn(_)) => return Err(e),
                Err(_) => {}
            }
            let pair = match c {
                ast::Expr::Binary {
                    op: BinaryOperator::Eq,
                    left,
                    right,
                } => self
                    .correlation(outer, &inner, right, left)
                    .or_else(|| self.correlation(outer, &inner, left, right)),
                _ => None,
            };
            match pair {
                Some(pair) => {
                    let mut keys = equal_keys(pair.0, pair.1)?;
                    if let (Some(r), Some(l)) = (keys.pop(), keys.pop()) {
                        left_keys.push(l);
                        right_keys.push(r);
                    }
                }
                // Neither side alone: the inner error (a misspelt name
                // stays 42703), or a comparison other than equality.
                None => match self.binder(&inner).bind(c) {
                    Err(Error::UndefinedColumn(name)) if outer.has(&name) => {
                        return refuse(
                            "a condition on the outer query other than an equality of an outer and an inner expression",
                        )
                    }
                    Err(e) => return Err(e),
                    Ok(_) => {}
                },
            }
        }
        if let Some(p) = and_all(&own) {
            plan = Plan::Filter {
                input: Box::new(plan),
                predicate: self.binder(&inner).bind_predicate(&p, "WHERE")?,
            };
        }
        Ok((plan, (left_keys, right_keys)))
    }

    /// `outer_side = inner_side`, each bound in its own scope: the outer
    /// expression and the inner one, with their types.
    #[allow(clippy::type_complexity)]
    fn correlation(
        &self,
        outer: &Scope,
        inner: &Scope,
        outer_side: &ast::Expr,
        inner_side: &ast::Expr,
    ) -> Option<((Expr, DataType), (Expr, DataType))> {
        let i = self.binder(inner).bind(inner_side).ok()?;
        if Binder::new(inner).bind(outer_side).is_ok() {
            return None;
        }
        let o = self.binder(outer).bind(outer_side).ok()?;
        Some((o, i))
    }
}

/// The two sides of `=` cast to their common type, as join keys must be
/// (equal values then encode alike); 42883 as PostgreSQL when there is
/// none.
fn equal_keys(left: (Expr, DataType), right: (Expr, DataType)) -> Result<Vec<Expr>> {
    let (lty, rty) = (left.1, right.1);
    unify(vec![left, right], "=")
        .map(|(keys, _)| keys)
        .map_err(|_| Error::UndefinedFunction(format!("operator does not exist: {lty} = {rty}")))
}

/// LIMIT and OFFSET in a subquery a view joins: refused (which rows they
/// keep depends on an order a view does not have).
fn refuse_cut(plan: &super::QueryPlan) -> Result<()> {
    if plan.limit.is_some() || plan.offset > 0 {
        return Err(Error::NotSupported(
            "LIMIT and OFFSET in a subquery of a materialized view are not supported".into(),
        ));
    }
    Ok(())
}
