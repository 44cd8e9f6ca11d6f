//! WHERE conditions moved into the inner joins of FROM before planning,
//! so `FROM a, b, c WHERE a.x = b.y AND b.z = c.w` joins on those keys
//! instead of forming the cross product first (catalog queries written
//! this way, such as pgJDBC's, join half a dozen catalogs).
//!
//! A condition moves when every column it names is qualified by a FROM
//! item (an unqualified name could belong to any of them) and it holds no
//! subquery, aggregate or window. It goes into the ON of the innermost
//! inner join whose items it names; within a LEFT JOIN it stays where it
//! is, since there it decides which rows are kept. An inner join's ON and
//! the WHERE above it filter the same rows, so the answer is the same.

use rivulet_sql::{self as ast, JoinKind, TableRef};

use super::aggregate::contains_aggregate;
use super::semijoin::{and_all, conjuncts};
use super::window::contains_window;

/// `from` with the conditions of `selection` that can move placed in its
/// joins, and what is left of `selection`; `None` when nothing moves.
pub(super) fn push_into_joins(
    from: &TableRef,
    selection: &ast::Expr,
) -> Option<(TableRef, Option<ast::Expr>)> {
    if !matches!(from, TableRef::Join { .. }) {
        return None;
    }
    let mut from = from.clone();
    let mut kept = Vec::new();
    let mut moved = false;
    for c in conjuncts(selection) {
        match qualifiers(c) {
            Some(refs) if covers(&from, &refs) && place(&mut from, c, &refs) => moved = true,
            _ => kept.push(c),
        }
    }
    moved.then(|| (from, and_all(&kept)))
}

/// The FROM items a condition names (by qualifier), or `None` when it may
/// not move: a column without a qualifier, a subquery, an aggregate or a
/// window.
fn qualifiers(e: &ast::Expr) -> Option<Vec<String>> {
    if contains_aggregate(e) || contains_window(e) {
        return None;
    }
    let mut refs = Vec::new();
    let mut movable = true;
    let mut e = e.clone();
    e.visit_mut(&mut |x| match x {
        ast::Expr::Identifier(parts) if parts.len() >= 2 => {
            let q = parts[parts.len() - 2].as_str().to_string();
            if !refs.contains(&q) {
                refs.push(q);
            }
        }
        ast::Expr::Identifier(_)
        | ast::Expr::Subquery(_)
        | ast::Expr::Exists(_)
        | ast::Expr::InSubquery { .. }
        | ast::Expr::ArraySubquery(_) => movable = false,
        _ => {}
    });
    movable.then_some(refs)
}

/// The names a FROM item's columns are qualified by.
fn names(t: &TableRef, out: &mut Vec<String>) {
    match t {
        TableRef::Table { name, alias } => {
            out.push(alias.as_ref().unwrap_or(name.name()).as_str().to_string())
        }
        TableRef::Derived { alias, .. } => out.push(alias.as_str().to_string()),
        TableRef::Function { name, alias, .. } => {
            out.push(alias.as_ref().unwrap_or(name).as_str().to_string())
        }
        TableRef::Join { left, right, .. } => {
            names(left, out);
            names(right, out);
        }
    }
}

fn covers(t: &TableRef, refs: &[String]) -> bool {
    let mut have = Vec::new();
    names(t, &mut have);
    refs.iter().all(|r| have.contains(r))
}

/// Puts `c` into the innermost inner join under `t` (itself included)
/// whose items cover `refs`; false when there is none.
fn place(t: &mut TableRef, c: &ast::Expr, refs: &[String]) -> bool {
    let TableRef::Join {
        left,
        right,
        kind: JoinKind::Inner,
        on,
        using,
    } = t
    else {
        return false;
    };
    if !using.is_empty() {
        return false;
    }
    if covers(left, refs) && place(left, c, refs) {
        return true;
    }
    if covers(right, refs) && place(right, c, refs) {
        return true;
    }
    let current = std::mem::replace(on, ast::Expr::Literal(ast::Literal::Boolean(true)));
    *on = match current {
        ast::Expr::Literal(ast::Literal::Boolean(true)) => c.clone(),
        other => and_all(&[&other, c]).unwrap_or(other),
    };
    true
}
