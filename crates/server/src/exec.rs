//! Statement execution: one function per statement family.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::stream;
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response, Tag};

use rivulet_catalog::{
    plan_query, plan_query_with, Binder, Catalog, QueryPlan, Scope, SubqueryRunner,
};
use rivulet_expr::{DataType, Row, Value};
use rivulet_sql::{ObjectName, Query, ShowKind, Statement};
use rivulet_stream::{Database, Dataflow, EvalCtx, MemState};

use crate::parallel::{apply, Rows};

use crate::error::{Error, Result};
use crate::pgvalue::{pg_type, PgValue};
use crate::vars::SessionVars;

/// The format of result column `i`: a client may send one code for all
/// columns or one per column; anything missing means text.
pub fn format_for(fmt: &Format, i: usize) -> FieldFormat {
    match fmt {
        Format::UnifiedText => FieldFormat::Text,
        Format::UnifiedBinary => FieldFormat::Binary,
        Format::Individual(codes) => match codes.as_slice() {
            [one] => FieldFormat::from(*one),
            many => many
                .get(i)
                .map_or(FieldFormat::Text, |c| FieldFormat::from(*c)),
        },
    }
}

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
pub async fn execute(
    db: &Database,
    vars: &SessionVars,
    stmt: Statement,
    fmt: &Format,
) -> Result<Outcome> {
    match stmt {
        Statement::Query(q) => select(db, vars, &q, fmt).await.map(Outcome::from),
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
        Statement::Show(kind) => show(db, vars, &kind, fmt).map(Outcome::from),
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
        Statement::Explain(inner) => explain(db, &inner, fmt).map(Outcome::from),
    }
}

/// `EXPLAIN SELECT ...` prints the query plan; `EXPLAIN CREATE MATERIALIZED
/// VIEW ...` the dataflow that would maintain the view. One row per line.
fn explain(db: &Database, stmt: &Statement, fmt: &Format) -> Result<Response> {
    let catalog = db.catalog();
    let text = match stmt {
        Statement::Query(q) => plan_query(q, &catalog)?.to_string(),
        Statement::CreateMaterializedView { name, query, .. } => {
            let plan = plan_query(query, &catalog)?;
            rivulet_catalog::nest(&format!("Materialize: {name}"), &plan.root.to_string())
        }
        other => {
            return Err(Error::Sql(
                "0A000",
                format!("EXPLAIN is not supported for: {other}"),
            ))
        }
    };
    let rows: Vec<Row> = text
        .lines()
        .map(|l| vec![Value::Text(l.to_string())])
        .collect();
    result_set(&[("QUERY PLAN".into(), DataType::Text)], &rows, fmt)
}

/// A result set, each column in the format the client asked for.
pub fn result_set(columns: &[(String, DataType)], rows: &[Row], fmt: &Format) -> Result<Response> {
    let fields: Arc<Vec<FieldInfo>> = Arc::new(
        columns
            .iter()
            .enumerate()
            .map(|(i, (name, ty))| {
                FieldInfo::new(name.clone(), None, None, pg_type(*ty), format_for(fmt, i))
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

/// Sets a flag when dropped: a query's future is dropped when the client
/// cancels it, and the blocking work then stops at its next check.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Evaluates scalar subqueries during planning by running them.
struct Runner<'a> {
    db: &'a Database,
    cancelled: &'a AtomicBool,
}

impl SubqueryRunner for Runner<'_> {
    fn scalar(&self, plan: &QueryPlan) -> rivulet_catalog::Result<Value> {
        let rows = run_query(self.db, plan, self.cancelled).map_err(|e| {
            rivulet_catalog::Error::InvalidParameter(format!("subquery failed: {e}"))
        })?;
        match rows.as_slice() {
            [] => Ok(Value::Null),
            [row] => Ok(row.first().cloned().unwrap_or(Value::Null)),
            _ => Err(rivulet_catalog::Error::CardinalityViolation),
        }
    }
}

async fn select(db: &Database, vars: &SessionVars, q: &Query, fmt: &Format) -> Result<Response> {
    let timeout = vars.statement_timeout()?;
    let db2 = db.clone();
    let q = q.clone();
    let cancelled = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancelled.clone());
    // Planning may run subqueries, so it happens off the async workers too.
    let work = tokio::task::spawn_blocking(move || -> Result<(QueryPlan, Vec<Row>)> {
        let catalog = db2.catalog();
        let runner = Runner {
            db: &db2,
            cancelled: &cancelled,
        };
        let plan = plan_query_with(&q, &catalog, Some(&runner))?;
        let rows = run_query(&db2, &plan, &cancelled)?;
        Ok((plan, rows))
    });
    let joined = match timeout {
        // On timeout the guard's drop stops the blocking work.
        Some(limit) => tokio::time::timeout(limit, work).await.map_err(|_| {
            Error::Sql(
                "57014",
                "canceling statement due to statement timeout".into(),
            )
        })?,
        None => work.await,
    };
    let (plan, rows) = joined.map_err(|e| Error::Sql("XX000", e.to_string()))??;
    let columns: Vec<(String, DataType)> =
        plan.output.iter().map(|c| (c.name.clone(), c.ty)).collect();
    result_set(&columns, &rows, fmt)
}

/// Runs a query: its plan as a dataflow fed every source row once, then
/// sorted, cut to OFFSET/LIMIT and stripped of hidden sort columns.
/// Blocking (reads storage).
pub fn run_query(db: &Database, plan: &QueryPlan, cancelled: &AtomicBool) -> Result<Vec<Row>> {
    // count(*) over a whole relation is answered from its row count.
    let mut failure = None;
    let root = plan
        .root
        .with_row_counts(&mut |rel| match db.row_count_blocking(rel) {
            Ok(n) => Some(n),
            Err(e) => {
                failure = Some(e);
                None
            }
        });
    if let Some(e) = failure {
        return Err(e.into());
    }
    // Without ORDER BY, a plan whose rows are final once produced (no
    // aggregate or join can change or retract them) stops reading when it
    // has OFFSET + LIMIT rows.
    let enough = match plan.limit {
        Some(l) if plan.order_by.is_empty() && root.is_stateless() => {
            (l as usize).saturating_add(plan.offset as usize)
        }
        _ => usize::MAX,
    };
    let parallel = if enough == usize::MAX {
        crate::parallel::try_run(db, &root, cancelled)?
    } else {
        None
    };
    let state = match parallel {
        Some(rows) if cancelled.load(Ordering::Relaxed) => {
            drop(rows);
            return Err(Error::Sql(
                "57014",
                "canceling statement due to user request".into(),
            ));
        }
        Some(rows) => rows,
        None => run_serial(db, &root, enough, cancelled)?,
    };
    let mut rows: Vec<Row> = state.into_values().collect();
    if !plan.order_by.is_empty() {
        // NULLs sort last ascending and first descending, as in PostgreSQL.
        rows.sort_by(|a, b| {
            for &(i, desc) in &plan.order_by {
                let o = a[i].total_cmp(&b[i]);
                let o = if desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let visible = plan.output.len();
    let limit = plan.limit.map_or(usize::MAX, |l| l as usize);
    Ok(rows
        .into_iter()
        .skip(plan.offset as usize)
        .take(limit)
        .map(|mut r| {
            r.truncate(visible);
            r
        })
        .collect())
}

/// Runs `root` on the calling thread, feeding it every row of each
/// relation it reads (stopping once it has `enough` rows). Blocking.
fn run_serial(
    db: &Database,
    root: &rivulet_catalog::Plan,
    enough: usize,
    cancelled: &AtomicBool,
) -> Result<Rows> {
    // Operator state lives only as long as the query.
    let flow = Dataflow::new(0, root);
    let mut st = MemState::new();
    let mut ctx = EvalCtx::strict();
    let mut state = Rows::new();
    apply(&mut state, flow.init(&mut ctx, &mut st)?);
    let canceled = || Error::Sql("57014", "canceling statement due to user request".into());
    // Columns no operator reads are skipped while decoding.
    let columns = root.scan_columns();
    for rel in root.distinct_scans() {
        if state.len() >= enough {
            break;
        }
        // Rows are decoded and fed a chunk at a time, so a query's memory
        // is its result and operator state, not the whole table; a
        // cancelled query stops between chunks.
        let mut feed = |chunk: Vec<rivulet_stream::Change>| -> rivulet_stream::Result<bool> {
            if cancelled.load(Ordering::Relaxed) || ctx.failed() {
                return Ok(false);
            }
            let out = flow.push(rel.id, &chunk, &mut ctx, &mut st)?;
            apply(&mut state, out);
            Ok(!ctx.failed() && state.len() < enough)
        };
        match rel.system() {
            // System catalogs are computed from the catalog snapshot.
            Some(t) => {
                let rows: Vec<rivulet_stream::Change> =
                    rivulet_catalog::system::system_rows(t, &db.catalog())
                        .into_iter()
                        .enumerate()
                        .map(|(i, r)| {
                            rivulet_stream::Change::insert((i as u64).to_be_bytes().to_vec(), r)
                        })
                        .collect();
                feed(rows)?;
            }
            None => db.scan_chunks_blocking(
                &rel,
                1024,
                columns.get(&rel.id).map(Vec::as_slice),
                &mut feed,
            )?,
        }
        if cancelled.load(Ordering::Relaxed) {
            return Err(canceled());
        }
        // Stop at the first error, as PostgreSQL does.
        std::mem::take(&mut ctx).finish()?;
        ctx = EvalCtx::strict();
    }
    ctx.finish()?;
    Ok(state)
}

/// The table a write targets, or 42809 for a view.
fn writable_table(catalog: &Catalog, name: &ObjectName) -> Result<Arc<rivulet_catalog::Relation>> {
    let rel = catalog.get_relation(name)?.clone();
    if rel.table().is_none() {
        let what = if rel.view().is_some() {
            "materialized view"
        } else {
            "system catalog"
        };
        return Err(Error::Sql(
            "42809",
            format!("cannot change {what} \"{}\"", rel.name),
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

fn names(title: &str, names: Vec<String>, fmt: &Format) -> Result<Response> {
    let rows: Vec<Row> = names.into_iter().map(|n| vec![Value::Text(n)]).collect();
    result_set(&[(title.to_string(), DataType::Text)], &rows, fmt)
}

fn show(db: &Database, vars: &SessionVars, kind: &ShowKind, fmt: &Format) -> Result<Response> {
    let catalog = db.catalog();
    match kind {
        ShowKind::Tables => names(
            "Name",
            catalog
                .relations()
                .filter(|r| r.table().is_some())
                .map(|r| r.name.clone())
                .collect(),
            fmt,
        ),
        ShowKind::MaterializedViews => names(
            "Name",
            catalog
                .relations()
                .filter(|r| r.view().is_some())
                .map(|r| r.name.clone())
                .collect(),
            fmt,
        ),
        // Names only: a secret's value is never returned.
        ShowKind::Secrets => names(
            "Name",
            catalog.secrets().map(|s| s.name.clone()).collect(),
            fmt,
        ),
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
                fmt,
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
                fmt,
            )
        }
        ShowKind::Variable(name) => {
            let value = vars.get(name.as_str())?;
            result_set(
                &[(name.0.clone(), DataType::Text)],
                &[vec![Value::Text(value)]],
                fmt,
            )
        }
    }
}
