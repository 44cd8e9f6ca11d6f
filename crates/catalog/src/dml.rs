//! INSERT, UPDATE and DELETE bound against the catalog: the target table, checked
//! writable, and each statement's expressions typed for its columns. The
//! simple and the extended protocol both use these, so a statement means
//! the same through either.

use std::sync::Arc;

use rivulet_expr::{DataType, Expr, Value};
use rivulet_sql::{self as ast, ObjectName};

use crate::binder::{Binder, Scope};
use crate::{Catalog, Error, Relation, Result};

/// A bound `INSERT ... VALUES`.
#[derive(Debug)]
pub struct BoundInsert {
    /// The target table.
    pub table: Arc<Relation>,
    /// One entry per VALUES row, one expression per table column (NULL for
    /// the columns the statement does not name), each of its column's type.
    pub rows: Vec<Vec<Expr>>,
}

/// A bound `INSERT ... SELECT`.
#[derive(Debug)]
pub struct BoundInsertSelect {
    /// The target table.
    pub table: Arc<Relation>,
    /// One expression per table column over a row of the query, of the
    /// column's type (NULL for the columns the statement does not name).
    pub row: Vec<Expr>,
}

/// A bound `DELETE`.
#[derive(Debug)]
pub struct BoundDelete {
    /// The target table.
    pub table: Arc<Relation>,
    /// The WHERE predicate over the table's columns; `None` deletes all.
    pub filter: Option<Expr>,
}

/// A bound `UPDATE`.
#[derive(Debug)]
pub struct BoundUpdate {
    /// The target table.
    pub table: Arc<Relation>,
    /// Each assigned column's position with its new value, an expression
    /// over the old row of the column's type.
    pub assignments: Vec<(usize, Expr)>,
    /// The WHERE predicate over the table's columns; `None` updates all.
    pub filter: Option<Expr>,
}

/// The table a write targets: 42809 for a view or a system catalog,
/// saying "cannot {verb} materialized view ...".
fn writable_table(catalog: &Catalog, name: &ObjectName, verb: &str) -> Result<Arc<Relation>> {
    let rel = catalog.get_relation(name)?.clone();
    if rel.table().is_none() {
        let what = if rel.view().is_some() {
            "materialized view"
        } else {
            "system catalog"
        };
        return Err(Error::WrongObjectType(format!(
            "cannot {verb} {what} \"{}\"",
            rel.name
        )));
    }
    Ok(rel)
}

/// Binds the target of `COPY table [(columns)] FROM STDIN`: the table and
/// the positions of the columns each line gives, in order.
pub fn bind_copy_from(
    catalog: &Catalog,
    table: &ObjectName,
    columns: &[ast::Ident],
) -> Result<(Arc<Relation>, Vec<usize>)> {
    let rel = writable_table(catalog, table, "copy to")?;
    let targets = target_columns(&rel, columns)?;
    Ok((rel, targets))
}

/// The positions of `columns` in `rel` (all of them, in order, if none
/// are named).
fn target_columns(rel: &Relation, columns: &[ast::Ident]) -> Result<Vec<usize>> {
    Ok(if columns.is_empty() {
        (0..rel.columns.len()).collect()
    } else {
        let mut t = Vec::with_capacity(columns.len());
        for c in columns {
            let i = column_position(rel, c)?;
            if t.contains(&i) {
                return Err(Error::DuplicateColumn(c.0.clone()));
            }
            t.push(i);
        }
        t
    })
}

/// The position of column `name` in `rel` (42703 naming both if none).
fn column_position(rel: &Relation, name: &ast::Ident) -> Result<usize> {
    rel.columns
        .iter()
        .position(|col| col.name == name.0)
        .ok_or_else(|| Error::UndefinedColumnOf {
            column: name.0.clone(),
            table: rel.name.clone(),
        })
}

/// Binds `INSERT INTO table [(columns)] VALUES rows`.
pub fn bind_insert(
    catalog: &Catalog,
    table: &ObjectName,
    columns: &[ast::Ident],
    rows: &[Vec<ast::Expr>],
) -> Result<BoundInsert> {
    let rel = writable_table(catalog, table, "change")?;
    let mut targets = target_columns(&rel, columns)?;
    if let Some(first) = rows.first() {
        if rows.iter().any(|r| r.len() != first.len()) {
            return Err(Error::Syntax(
                "VALUES lists must all be the same length".into(),
            ));
        }
        // Without a column list, the values go to the first columns.
        if columns.is_empty() {
            targets.truncate(first.len());
        }
    }
    let scope = Scope::default();
    let binder = Binder::new(&scope);
    let mut bound = Vec::with_capacity(rows.len());
    for exprs in rows {
        if exprs.len() > targets.len() {
            return Err(Error::Syntax(
                "INSERT has more expressions than target columns".into(),
            ));
        }
        if exprs.len() < targets.len() {
            return Err(Error::Syntax(
                "INSERT has more target columns than expressions".into(),
            ));
        }
        let mut row = vec![Expr::Literal(Value::Null); rel.columns.len()];
        for (e, &i) in exprs.iter().zip(&targets) {
            let col = &rel.columns[i];
            row[i] = binder.bind_as(e, col.ty, &format!("column \"{}\"", col.name))?;
        }
        bound.push(row);
    }
    Ok(BoundInsert {
        table: rel,
        rows: bound,
    })
}

/// Gives each untyped literal (a string or NULL) the query's select list
/// hands straight to a column of `INSERT INTO table [(columns)] query` that
/// column's type, as PostgreSQL resolves them: `INSERT INTO t (doc)
/// SELECT NULL` inserts a NULL jsonb, not text. Run before planning.
pub fn type_insert_literals(
    catalog: &Catalog,
    table: &ObjectName,
    columns: &[ast::Ident],
    query: &mut ast::Query,
) -> Result<()> {
    if !query.unions.is_empty() {
        return Ok(());
    }
    let rel = writable_table(catalog, table, "change")?;
    let targets = target_columns(&rel, columns)?;
    for (item, &t) in query.projection.iter_mut().zip(&targets) {
        if let ast::SelectItem::Expr { expr, .. } = item {
            if matches!(
                expr,
                ast::Expr::Literal(ast::Literal::String(_) | ast::Literal::Null)
            ) {
                *expr = ast::Expr::Cast {
                    expr: Box::new(expr.clone()),
                    type_name: rel.columns[t].ty.to_string(),
                };
            }
        }
    }
    Ok(())
}

/// Binds `INSERT INTO table [(columns)] query` for a query with the
/// columns `output`: each goes to its target column with the conversions
/// an INSERT allows (PostgreSQL's assignment casts: numbers to numbers,
/// anything to text), 42804 otherwise.
pub fn bind_insert_select(
    catalog: &Catalog,
    table: &ObjectName,
    columns: &[ast::Ident],
    output: &[crate::Column],
) -> Result<BoundInsertSelect> {
    let rel = writable_table(catalog, table, "change")?;
    let mut targets = target_columns(&rel, columns)?;
    // Without a column list, the query's columns go to the first columns.
    if columns.is_empty() {
        targets.truncate(output.len());
    }
    if output.len() > targets.len() {
        return Err(Error::Syntax(
            "INSERT has more expressions than target columns".into(),
        ));
    }
    if output.len() < targets.len() {
        return Err(Error::Syntax(
            "INSERT has more target columns than expressions".into(),
        ));
    }
    let mut row = vec![Expr::Literal(Value::Null); rel.columns.len()];
    for (i, (&t, c)) in targets.iter().zip(output).enumerate() {
        let col = &rel.columns[t];
        let (from, to) = (c.ty, col.ty);
        row[t] = if from == to {
            Expr::Column(i)
        } else if from == DataType::Unknown
            || (from.is_numeric() && to.is_numeric())
            || to == DataType::Text
        {
            Expr::Cast(Box::new(Expr::Column(i)), to)
        } else {
            return Err(Error::DatatypeMismatch(format!(
                "column \"{}\" is of type {to} but expression is of type {from}",
                col.name
            )));
        };
    }
    Ok(BoundInsertSelect { table: rel, row })
}

/// Binds `DELETE FROM table [WHERE selection]`.
pub fn bind_delete(
    catalog: &Catalog,
    table: &ObjectName,
    selection: Option<&ast::Expr>,
) -> Result<BoundDelete> {
    let rel = writable_table(catalog, table, "change")?;
    let scope = Scope::of_relation(&rel.name, &rel.columns);
    let filter = selection
        .map(|w| Binder::new(&scope).bind_predicate(w, "WHERE"))
        .transpose()?;
    Ok(BoundDelete { table: rel, filter })
}

/// Binds `UPDATE table SET column = value, ... [WHERE selection]`. As in
/// RisingWave, a primary-key column cannot be assigned (0A000): a row's
/// key never changes, so an update rewrites each row where it is.
pub fn bind_update(
    catalog: &Catalog,
    table: &ObjectName,
    assignments: &[(ast::Ident, ast::Expr)],
    selection: Option<&ast::Expr>,
) -> Result<BoundUpdate> {
    let rel = writable_table(catalog, table, "change")?;
    let scope = Scope::of_relation(&rel.name, &rel.columns);
    let binder = Binder::new(&scope);
    let pk = rel
        .table()
        .map(|t| t.primary_key.as_slice())
        .unwrap_or_default();
    let mut bound: Vec<(usize, Expr)> = Vec::with_capacity(assignments.len());
    for (col, value) in assignments {
        let i = column_position(&rel, col)?;
        if bound.iter().any(|(j, _)| *j == i) {
            return Err(Error::Syntax(format!(
                "multiple assignments to same column \"{}\"",
                col.0
            )));
        }
        if pk.contains(&i) {
            return Err(Error::NotSupported(format!(
                "UPDATE cannot assign the primary key column \"{}\" of \"{}\"; delete the row and insert it with the new key",
                col.0, rel.name
            )));
        }
        let column = &rel.columns[i];
        let e = binder.bind_as(value, column.ty, &format!("column \"{}\"", column.name))?;
        bound.push((i, e));
    }
    let filter = selection
        .map(|w| binder.bind_predicate(w, "WHERE"))
        .transpose()?;
    Ok(BoundUpdate {
        table: rel,
        assignments: bound,
        filter,
    })
}
