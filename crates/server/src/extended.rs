//! The extended query protocol: Parse / Bind / Describe / Execute.
//!
//! Parse binds the statement once against the current catalog to learn its
//! parameter types (from where each `$n` is used, as PostgreSQL infers them)
//! and its result columns, so Describe can answer without running anything.
//! Execute substitutes the bound values into the statement as typed
//! literals and runs it like a simple query, encoding results in the
//! formats the client asked for.

use rivulet_catalog::Column;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use pgwire::api::portal::Format;
use pgwire::api::results::FieldInfo;
use pgwire::api::stmt::QueryParser;
use pgwire::api::{ClientInfo, Type};
use pgwire::error::PgWireResult;
use rivulet_catalog::{
    bind_delete, bind_insert, bind_update, describe_query, infer_parameter_types, Catalog,
};
use rivulet_expr::DataType;
use rivulet_sql::{Expr, Literal, ShowKind, Statement};
use rivulet_stream::Database;

use crate::error::Error;
use crate::pgvalue::{decode_binary_param, pg_type};
use crate::results::format_for;

/// Result columns: name, type and origin.
type Columns = Vec<Column>;

/// A parsed statement with what Describe reports about it.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub stmt: Statement,
    /// Types of `$1..$n`: declared by the client or inferred.
    pub param_types: Vec<DataType>,
    /// Result columns (empty for commands).
    pub columns: Columns,
}

/// The type a client-declared OID stands for, if Rivulet has it.
fn from_oid(t: &Type) -> Option<DataType> {
    DataType::from_oid(t.oid() as i64).or(match t.oid() {
        // Narrower or looser types a client may declare, and what they
        // are read as here.
        21 => Some(DataType::Int4),
        1043 | 19 | 705 => Some(DataType::Text),
        700 => Some(DataType::Float8),
        114 => Some(DataType::Jsonb),
        1114 => Some(DataType::Timestamptz),
        _ => None,
    })
}

/// The columns `RETURNING items` answers with (none without RETURNING).
fn returned(
    catalog: &Catalog,
    rel: &rivulet_catalog::Relation,
    items: &[rivulet_sql::SelectItem],
) -> Result<Columns, Error> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    Ok(rivulet_catalog::plan_returning(catalog, rel, Default::default(), items)?.output)
}

/// Parameter types and result columns of a statement, without running it.
pub fn describe(
    stmt: &Statement,
    n: usize,
    catalog: &Catalog,
) -> Result<(Vec<DataType>, Columns), Error> {
    let text = |name: &str| vec![Column::new(name, DataType::Text)];
    Ok(match stmt {
        Statement::Query(q) => {
            // `LIMIT $1 OFFSET $2` take their values at Execute; they are
            // bigints, and do not change the result's columns.
            let mut counts = Vec::new();
            let mut q = q.clone();
            crate::session_functions::bind(&mut q, None)?;
            for slot in [&mut q.limit, &mut q.offset] {
                if let Some(Expr::Parameter(i)) = slot {
                    counts.push(*i);
                    *slot = None;
                }
            }
            let (plan, mut exprs) = describe_query(&q, catalog)?;
            plan.root.for_each_expr(&mut |e| exprs.push(e.clone()));
            let mut types = infer_parameter_types(n, &mut exprs.iter());
            for i in counts {
                if let Some(t) = types.get_mut(i - 1) {
                    *t = DataType::Int8;
                }
            }
            (types, plan.output.clone())
        }
        Statement::InsertSelect {
            table,
            columns,
            query,
            returning,
        } => {
            let mut q = (**query).clone();
            crate::session_functions::bind(&mut q, None)?;
            rivulet_catalog::type_insert_literals(catalog, table, columns, &mut q)?;
            let (plan, mut exprs) = describe_query(&q, catalog)?;
            plan.root.for_each_expr(&mut |e| exprs.push(e.clone()));
            let rel = catalog.get_relation(table)?;
            (
                infer_parameter_types(n, &mut exprs.iter()),
                returned(catalog, &rel, returning)?,
            )
        }
        Statement::Insert {
            table,
            columns,
            rows,
            returning,
        } => {
            let bound = bind_insert(catalog, table, columns, rows)?;
            (
                infer_parameter_types(n, &mut bound.rows.iter().flatten()),
                returned(catalog, &bound.table, returning)?,
            )
        }
        Statement::Delete {
            table,
            selection: Some(w),
        } => {
            let bound = bind_delete(catalog, table, Some(w))?;
            (infer_parameter_types(n, &mut bound.filter.iter()), vec![])
        }
        Statement::Update {
            table,
            assignments,
            selection,
        } => {
            let bound = bind_update(catalog, table, assignments, selection.as_ref())?;
            let mut exprs = bound
                .assignments
                .iter()
                .map(|(_, e)| e)
                .chain(bound.filter.iter());
            (infer_parameter_types(n, &mut exprs), vec![])
        }
        Statement::Show(
            ShowKind::Tables
            | ShowKind::MaterializedViews
            | ShowKind::Secrets
            | ShowKind::Subscriptions,
        ) => (vec![DataType::Text; n], text("Name")),
        Statement::Show(ShowKind::SubscriptionCursors) => (
            vec![DataType::Text; n],
            vec![
                Column::new("Name", DataType::Text),
                Column::new("SubscriptionName", DataType::Text),
            ],
        ),
        Statement::Show(ShowKind::CreateTable(_) | ShowKind::CreateMaterializedView(_)) => (
            vec![DataType::Text; n],
            vec![
                Column::new("Name", DataType::Text),
                Column::new("Create Sql", DataType::Text),
            ],
        ),
        Statement::Show(ShowKind::Variable(v)) if v.as_str() == "all" => (
            vec![DataType::Text; n],
            vec![
                Column::new("name", DataType::Text),
                Column::new("setting", DataType::Text),
            ],
        ),
        Statement::Show(ShowKind::Variable(v)) => (vec![DataType::Text; n], text(v.as_str())),
        Statement::Explain(_) => (vec![DataType::Text; n], text("QUERY PLAN")),
        _ => (vec![DataType::Text; n], vec![]),
    })
}

/// Prepares statements for the extended protocol (Parse): parses the SQL
/// and learns its parameter types and result columns.
pub struct StatementPreparer {
    pub db: Database,
    /// The session's cursors: what a FETCH answers with.
    pub cursors: Arc<crate::cursor::Cursors>,
}

#[async_trait]
impl QueryParser for StatementPreparer {
    type Statement = Prepared;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let mut stmts = rivulet_sql::parse(sql).map_err(|error| Error::Parse {
            error,
            sql: sql.to_string(),
        })?;
        let mut stmt = match stmts.len() {
            0 => return Ok(None),
            1 => stmts.remove(0),
            _ => return Err(Error::MultipleCommands.into()),
        };
        let n = stmt.max_parameter().max(types.len());
        let declared: Vec<Option<DataType>> = types
            .iter()
            .map(|t| t.as_ref().filter(|t| t.oid() != 0).and_then(from_oid))
            .collect();
        cast_declared_parameters(&mut stmt, &declared);
        // PostgreSQL's limit; also bounds what a client can make us allocate.
        if n > 65_535 {
            return Err(Error::TooManyParameters(n).into());
        }
        let (mut param_types, mut columns) = describe(&stmt, n, &self.db.catalog())?;
        if let Statement::Fetch { name, .. } = &stmt {
            columns = self.cursors.columns(name.as_str()).unwrap_or_default();
        }
        for (i, t) in types.iter().enumerate() {
            match t.as_ref().filter(|t| t.oid() != 0) {
                None => {}
                Some(t) => {
                    let ty = from_oid(t).ok_or_else(|| {
                        Error::NotSupported(format!("parameter type {} is not supported", t.name()))
                    })?;
                    if let Some(slot) = param_types.get_mut(i) {
                        *slot = ty;
                    }
                }
            }
        }
        Ok(Some(Prepared {
            stmt,
            param_types,
            columns,
        }))
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        Ok(stmt.param_types.iter().map(|t| pg_type(*t)).collect())
    }

    fn get_result_schema(
        &self,
        stmt: &Prepared,
        format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        let fmt = format.cloned().unwrap_or_default();
        Ok(stmt
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| crate::results::field(c, format_for(&fmt, i)))
            .collect())
    }
}

/// Whether parameter `i` arrived in binary.
fn param_is_binary(fmt: &Format, i: usize) -> bool {
    format_for(fmt, i) == pgwire::api::results::FieldFormat::Binary
}

/// Wraps each `$n` whose type the client declared in a cast to that type,
/// so the result's columns have the declared types (`SELECT $1` with a
/// boolean `$1` answers a boolean column, as PostgreSQL does). `LIMIT $n`
/// and `OFFSET $n` are left bare: they are counts bound at Execute.
fn cast_declared_parameters(stmt: &mut Statement, declared: &[Option<DataType>]) {
    if declared.iter().all(Option::is_none) {
        return;
    }
    let counts = match stmt {
        Statement::Query(q) => Some((q.limit.take(), q.offset.take())),
        _ => None,
    };
    // The walk visits a node, then its children: a cast this wraps around
    // a parameter (or one the query wrote) is visited before the parameter
    // inside it, which is then left alone.
    let mut inside_cast = false;
    stmt.visit_exprs_mut(&mut |e| match e {
        Expr::Cast { expr, .. } if matches!(**expr, Expr::Parameter(_)) => inside_cast = true,
        Expr::Parameter(_) if inside_cast => inside_cast = false,
        Expr::Parameter(n) => {
            if let Some(Some(ty)) = n.checked_sub(1).and_then(|i| declared.get(i)) {
                let param = Expr::Parameter(*n);
                *e = Expr::Cast {
                    expr: Box::new(param),
                    type_name: ty.to_string(),
                };
                inside_cast = true;
            }
        }
        _ => {}
    });
    if let (Statement::Query(q), Some((limit, offset))) = (stmt, counts) {
        q.limit = limit;
        q.offset = offset;
    }
}

/// The statement with every `$n` replaced by its bound value as a typed
/// literal (`'value'::type`, or `NULL::type`).
pub fn substitute(
    p: &Prepared,
    values: &[Option<Bytes>],
    fmt: &Format,
) -> Result<Statement, Error> {
    if values.len() != p.param_types.len() {
        return Err(Error::ParameterCount {
            given: values.len(),
            wanted: p.param_types.len(),
        });
    }
    let mut texts = Vec::with_capacity(values.len());
    for (i, (v, ty)) in values.iter().zip(&p.param_types).enumerate() {
        texts.push(match v {
            None => None,
            Some(bytes) if param_is_binary(fmt, i) => Some(decode_binary_param(*ty, bytes)?),
            Some(bytes) => Some(
                std::str::from_utf8(bytes)
                    .map_err(|_| Error::ParameterEncoding(i + 1))?
                    .to_string(),
            ),
        });
    }
    let mut stmt = p.stmt.clone();
    stmt.visit_exprs_mut(&mut |e| {
        if let Expr::Parameter(n) = e {
            let i = *n - 1;
            let ty = p.param_types.get(i).copied().unwrap_or(DataType::Text);
            let lit = match texts.get(i).cloned().flatten() {
                Some(t) => Literal::String(t),
                None => Literal::Null,
            };
            *e = Expr::Cast {
                expr: Box::new(Expr::Literal(lit)),
                type_name: ty.to_string(),
            };
        }
    });
    Ok(stmt)
}

/// The preparer a connection's handlers share.
pub fn preparer(db: &Database, cursors: Arc<crate::cursor::Cursors>) -> Arc<StatementPreparer> {
    Arc::new(StatementPreparer {
        db: db.clone(),
        cursors,
    })
}
