//! Statement execution: one function per statement family.

use std::sync::Arc;

use futures::stream;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response, Tag};
use rivulet_catalog::{plan_query, AggKind, Binder, Catalog, OrderKey, QueryPlan, Scope};
use rivulet_expr::{DataType, Row, Value};
use rivulet_sql::{ObjectName, Query, ShowKind, Statement};
use rivulet_stream::Database;

use crate::error::{Error, Result};
use crate::pgvalue::{pg_type, PgValue};
use crate::vars::SessionVars;

/// What running one statement produced.
pub struct Outcome {
    pub response: Response,
    /// NOTICE messages to send before the response.
    pub notices: Vec<String>,
}

impl From<Response> for Outcome {
    fn from(response: Response) -> Outcome {
        Outcome {
            response,
            notices: vec![],
        }
    }
}

/// Executes one statement for a session.
pub async fn execute(db: &Database, vars: &SessionVars, stmt: Statement) -> Result<Outcome> {
    match stmt {
        Statement::Query(q) => select(db, &q).await.map(Outcome::from),
        Statement::CreateSecret { .. }
        | Statement::CreateTable { .. }
        | Statement::CreateMaterializedView { .. }
        | Statement::Drop { .. } => {
            let out = db.execute_ddl(stmt).await?;
            Ok(Outcome {
                response: Response::Execution(Tag::new(&out.tag.replace('_', " "))),
                notices: out.notices,
            })
        }
        Statement::Insert {
            table,
            columns,
            rows,
        } => insert(db, &table, &columns, &rows).await,
        Statement::Delete { table, selection } => delete(db, &table, selection.as_ref()).await,
        Statement::Show(kind) => show(db, vars, &kind).map(Outcome::from),
        Statement::SetVariable { name, value } => {
            vars.set(name.as_str(), &value)?;
            Ok(Response::Execution(Tag::new("SET")).into())
        }
        Statement::ResetVariable { name } => {
            vars.reset(name.as_str())?;
            Ok(Response::Execution(Tag::new("RESET")).into())
        }
        Statement::Begin => Ok(Response::TransactionStart(Tag::new("BEGIN")).into()),
        Statement::Commit => Ok(Response::TransactionEnd(Tag::new("COMMIT")).into()),
        Statement::Rollback => Ok(Outcome {
            response: Response::TransactionEnd(Tag::new("ROLLBACK")),
            notices: vec![
                "each statement commits on its own; ROLLBACK does not undo earlier writes".into(),
            ],
        }),
        Statement::Flush => Ok(Response::Execution(Tag::new("FLUSH")).into()),
    }
}

/// A text-format result set.
pub fn result_set(columns: &[(String, DataType)], rows: &[Row]) -> Result<Response> {
    let fields: Arc<Vec<FieldInfo>> = Arc::new(
        columns
            .iter()
            .map(|(name, ty)| {
                FieldInfo::new(name.clone(), None, None, pg_type(*ty), FieldFormat::Text)
            })
            .collect(),
    );
    let mut encoder = DataRowEncoder::new(fields.clone());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        for v in row {
            encoder
                .encode_field(&PgValue(v))
                .map_err(|e| Error::Sql("XX000", e.to_string()))?;
        }
        out.push(Ok(encoder.take_row()));
    }
    Ok(Response::Query(QueryResponse::new(
        fields,
        stream::iter(out),
    )))
}

async fn select(db: &Database, q: &Query) -> Result<Response> {
    let catalog = db.catalog();
    let plan = plan_query(q, &catalog)?;
    let input = match &plan.source {
        Some(rel) => db.scan(rel.clone()).await?,
        None => vec![vec![]],
    };
    let plan2 = plan.clone();
    let rows = tokio::task::spawn_blocking(move || run_plan(&plan2, input))
        .await
        .map_err(|e| Error::Sql("XX000", e.to_string()))??;
    let columns: Vec<(String, DataType)> =
        plan.output.iter().map(|c| (c.name.clone(), c.ty)).collect();
    result_set(&columns, &rows)
}

/// Runs a plan over its input rows: filter, project or aggregate, sort,
/// offset, limit.
pub fn run_plan(plan: &QueryPlan, input: Vec<Row>) -> Result<Vec<Row>> {
    let mut kept = Vec::with_capacity(input.len());
    for row in input {
        if let Some(f) = &plan.filter {
            if !f.eval_predicate(&row)? {
                continue;
            }
        }
        kept.push(row);
    }
    if let Some(aggs) = &plan.aggregates {
        let mut out = Vec::with_capacity(aggs.len());
        for a in aggs {
            let n = match (a.kind, &a.arg) {
                (AggKind::Count, Some(e)) => {
                    let mut n = 0i64;
                    for r in &kept {
                        if !e.eval(r)?.is_null() {
                            n += 1;
                        }
                    }
                    n
                }
                _ => kept.len() as i64,
            };
            out.push(Value::Int8(n));
        }
        return Ok(vec![out]);
    }
    let mut rows: Vec<(Row, Vec<Value>)> = Vec::with_capacity(kept.len());
    for r in &kept {
        let out = plan
            .projection
            .iter()
            .map(|e| e.eval(r))
            .collect::<rivulet_expr::Result<Row>>()?;
        let mut keys = Vec::with_capacity(plan.order_by.len());
        for (k, _) in &plan.order_by {
            keys.push(match k {
                OrderKey::Output(i) => out[*i].clone(),
                OrderKey::Input(e) => e.eval(r)?,
            });
        }
        rows.push((out, keys));
    }
    if !plan.order_by.is_empty() {
        // NULLs sort last ascending and first descending, as in PostgreSQL.
        rows.sort_by(|a, b| {
            for (i, (_, desc)) in plan.order_by.iter().enumerate() {
                let o = a.1[i].total_cmp(&b.1[i]);
                let o = if *desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let limit = plan.limit.map_or(usize::MAX, |l| l as usize);
    Ok(rows
        .into_iter()
        .skip(plan.offset as usize)
        .take(limit)
        .map(|(r, _)| r)
        .collect())
}

/// The table a write targets, or 42809 for a view.
fn writable_table(catalog: &Catalog, name: &ObjectName) -> Result<Arc<rivulet_catalog::Relation>> {
    let rel = catalog.get_relation(name)?.clone();
    if rel.table().is_none() {
        return Err(Error::Sql(
            "42809",
            format!("cannot change materialized view \"{}\"", rel.name),
        ));
    }
    Ok(rel)
}

async fn insert(
    db: &Database,
    table: &ObjectName,
    columns: &[rivulet_sql::Ident],
    rows: &[Vec<rivulet_sql::Expr>],
) -> Result<Outcome> {
    let catalog = db.catalog();
    let rel = writable_table(&catalog, table)?;
    let targets: Vec<usize> = if columns.is_empty() {
        (0..rel.columns.len()).collect()
    } else {
        let mut t = Vec::new();
        for c in columns {
            let i = rel
                .columns
                .iter()
                .position(|col| col.name == c.0)
                .ok_or_else(|| {
                    Error::Sql(
                        "42703",
                        format!(
                            "column \"{}\" of relation \"{}\" does not exist",
                            c.0, rel.name
                        ),
                    )
                })?;
            if t.contains(&i) {
                return Err(Error::Sql(
                    "42701",
                    format!("column \"{}\" specified more than once", c.0),
                ));
            }
            t.push(i);
        }
        t
    };
    let scope = Scope::default();
    let binder = Binder::new(&scope);
    let mut out = Vec::with_capacity(rows.len());
    for exprs in rows {
        if exprs.len() > targets.len() {
            return Err(Error::Sql(
                "42601",
                "INSERT has more expressions than target columns".into(),
            ));
        }
        if exprs.len() < targets.len() {
            return Err(Error::Sql(
                "42601",
                "INSERT has more target columns than expressions".into(),
            ));
        }
        let mut row = vec![Value::Null; rel.columns.len()];
        for (e, &i) in exprs.iter().zip(&targets) {
            let col = &rel.columns[i];
            let bound = binder.bind_as(e, col.ty, &format!("column \"{}\"", col.name))?;
            row[i] = bound.eval(&[])?;
        }
        out.push(row);
    }
    let n = db.insert(rel.id, out).await?;
    Ok(Response::Execution(Tag::new("INSERT").with_oid(0).with_rows(n as usize)).into())
}

async fn delete(
    db: &Database,
    table: &ObjectName,
    selection: Option<&rivulet_sql::Expr>,
) -> Result<Outcome> {
    let catalog = db.catalog();
    let rel = writable_table(&catalog, table)?;
    let scope = Scope::of_relation(&rel.name, &rel.columns);
    let filter = selection
        .map(|w| Binder::new(&scope).bind_predicate(w, "WHERE"))
        .transpose()?;
    let n = db.delete(rel.id, filter).await?;
    Ok(Response::Execution(Tag::new("DELETE").with_rows(n as usize)).into())
}

fn names(title: &str, names: Vec<String>) -> Result<Response> {
    let rows: Vec<Row> = names.into_iter().map(|n| vec![Value::Text(n)]).collect();
    result_set(&[(title.to_string(), DataType::Text)], &rows)
}

fn show(db: &Database, vars: &SessionVars, kind: &ShowKind) -> Result<Response> {
    let catalog = db.catalog();
    match kind {
        ShowKind::Tables => names(
            "Name",
            catalog
                .relations()
                .filter(|r| r.table().is_some())
                .map(|r| r.name.clone())
                .collect(),
        ),
        ShowKind::MaterializedViews => names(
            "Name",
            catalog
                .relations()
                .filter(|r| r.view().is_some())
                .map(|r| r.name.clone())
                .collect(),
        ),
        // Names only: a secret's value is never returned.
        ShowKind::Secrets => names("Name", catalog.secrets().map(|s| s.name.clone()).collect()),
        ShowKind::CreateTable(name) | ShowKind::CreateMaterializedView(name) => {
            let want_view = matches!(kind, ShowKind::CreateMaterializedView(_));
            let rel = catalog.get_relation(name)?;
            if rel.view().is_some() != want_view {
                return Err(Error::Sql(
                    "42809",
                    format!(
                        "\"{}\" is not a {}",
                        rel.name,
                        if want_view {
                            "materialized view"
                        } else {
                            "table"
                        }
                    ),
                ));
            }
            let rows = vec![vec![
                Value::Text(format!("{}.{}", rivulet_catalog::DEFAULT_SCHEMA, rel.name)),
                Value::Text(rel.definition.to_string()),
            ]];
            result_set(
                &[
                    ("Name".into(), DataType::Text),
                    ("Create Sql".into(), DataType::Text),
                ],
                &rows,
            )
        }
        ShowKind::Variable(name) if name.as_str() == "all" => {
            let rows: Vec<Row> = vars
                .all()
                .into_iter()
                .map(|(k, v)| vec![Value::Text(k), Value::Text(v)])
                .collect();
            result_set(
                &[
                    ("name".into(), DataType::Text),
                    ("setting".into(), DataType::Text),
                ],
                &rows,
            )
        }
        ShowKind::Variable(name) => {
            let value = vars.get(name.as_str())?;
            result_set(
                &[(name.0.clone(), DataType::Text)],
                &[vec![Value::Text(value)]],
            )
        }
    }
}
