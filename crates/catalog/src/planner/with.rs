//! `WITH`: each common table expression is planned where it is read, as a
//! subquery in FROM under the name it was given (non-recursive, as
//! PostgreSQL plans a CTE read once; reading one twice plans it twice,
//! which gives the same rows since queries here have no side effects).

use rivulet_sql::{Cte, Expr, Query, TableRef};

use crate::{Error, Result};

/// `q` with every `WITH` name it (or any subquery in it) reads replaced
/// by that CTE's query.
pub(super) fn inline(q: &Query) -> Result<Query> {
    inline_in(q, &[])
}

fn inline_in(q: &Query, outer: &[Cte]) -> Result<Query> {
    let mut env = outer.to_vec();
    for cte in &q.with {
        if env[outer.len()..].iter().any(|c| c.name == cte.name) {
            return Err(Error::DuplicateAlias(format!(
                "WITH query name \"{}\" specified more than once",
                cte.name.as_str()
            )));
        }
        let query = inline_in(&cte.query, &env)?;
        env.push(Cte {
            query,
            ..cte.clone()
        });
    }
    let mut out = q.clone();
    out.with.clear();
    out.from = out.from.as_ref().map(|t| table(t, &env)).transpose()?;
    for (_, part) in &mut out.unions {
        *part = inline_in(part, &env)?;
    }
    if let Some(s) = &mut out.set_op {
        s.left = inline_in(&s.left, &env)?;
        s.right = inline_in(&s.right, &env)?;
    }
    // Scalar subqueries read the same names.
    let mut failure = None;
    out.visit_exprs_mut(&mut |e| {
        if let Expr::Subquery(sq) | Expr::Exists(sq) | Expr::InSubquery { query: sq, .. } = e {
            match inline_in(sq, &env) {
                Ok(done) => **sq = done,
                Err(err) => failure = failure.take().or(Some(err)),
            }
        }
    });
    failure.map_or(Ok(out), Err)
}

fn table(t: &TableRef, env: &[Cte]) -> Result<TableRef> {
    Ok(match t {
        TableRef::Table { name, alias } if name.0.len() == 1 => {
            match env.iter().rev().find(|c| c.name == *name.name()) {
                Some(cte) => TableRef::Derived {
                    query: Box::new(cte.query.clone()),
                    alias: alias.clone().unwrap_or_else(|| cte.name.clone()),
                    columns: cte.columns.clone(),
                },
                None => t.clone(),
            }
        }
        TableRef::Table { .. } | TableRef::Function { .. } => t.clone(),
        TableRef::Join {
            left,
            right,
            kind,
            on,
            using,
        } => TableRef::Join {
            left: Box::new(table(left, env)?),
            right: Box::new(table(right, env)?),
            kind: *kind,
            on: on.clone(),
            using: using.clone(),
        },
        TableRef::Derived {
            query,
            alias,
            columns,
        } => TableRef::Derived {
            query: Box::new(inline_in(query, env)?),
            alias: alias.clone(),
            columns: columns.clone(),
        },
    })
}
