//! Statement execution: one function per statement family.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::{stream, StreamExt};
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::ConnectionHandle;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;

use rivulet_catalog::{
    plan_query, plan_query_with, Binder, Catalog, QueryPlan, Scope, SubqueryRunner,
};
use rivulet_expr::{DataType, Row, Value};
use rivulet_sql::{ObjectName, Query, ShowKind, Statement};
use rivulet_stream::{Database, Dataflow, EvalCtx, MemState};

use crate::parallel::{apply, Rows, Sink};

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

/// Whether a query may answer with a stream of rows read as the client
/// takes them.
pub enum Streaming {
    /// No: run it to the end first (an earlier statement of several).
    No,
    /// Yes. With a handle, the stream is read after the statement's
    /// handler returned, so it re-arms the connection's cancel handle for
    /// itself; without one the caller reads it while cancel requests
    /// still reach it.
    Yes(Option<Arc<ConnectionHandle>>),
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
///
/// With `stream`, a query whose rows are final as read may answer with a
/// stream of them (see `select`).
pub async fn execute(
    db: &Database,
    vars: &SessionVars,
    stmt: Statement,
    fmt: &Format,
    stream: Streaming,
) -> Result<Outcome> {
    match stmt {
        Statement::Query(q) => select(db, vars, &q, fmt, stream).await.map(Outcome::from),
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

/// The description of result columns, each in the format the client
/// asked for.
fn fields(columns: &[(String, DataType)], fmt: &Format) -> Arc<Vec<FieldInfo>> {
    Arc::new(
        columns
            .iter()
            .enumerate()
            .map(|(i, (name, ty))| {
                FieldInfo::new(name.clone(), None, None, pg_type(*ty), format_for(fmt, i))
            })
            .collect(),
    )
}

/// A result set, each column in the format the client asked for.
pub fn result_set(columns: &[(String, DataType)], rows: &[Row], fmt: &Format) -> Result<Response> {
    let fields = fields(columns, fmt);
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

/// Rows per message from a streaming query's reader to its connection.
const STREAM_CHUNK: usize = 256;

/// Result chunks a streaming query may have ready before its reader waits
/// for the client to take them.
const STREAM_AHEAD: usize = 4;

/// Streaming queries reading at once. A reader waiting for a slow client
/// (or a suspended portal) holds a blocking thread; past this many, a
/// query runs to the end before it answers, as other queries do.
static STREAM_READERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(64);

/// A planned query: its rows, or a permit to stream them.
type Planned = std::result::Result<Vec<Row>, tokio::sync::SemaphorePermit<'static>>;

async fn select(
    db: &Database,
    vars: &SessionVars,
    q: &Query,
    fmt: &Format,
    stream: Streaming,
) -> Result<Response> {
    let timeout = vars.statement_timeout()?;
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    let db2 = db.clone();
    let q = q.clone();
    let cancelled = Arc::new(AtomicBool::new(false));
    let guard = CancelOnDrop(cancelled.clone());
    let timed_out = || {
        Error::Sql(
            "57014",
            "canceling statement due to statement timeout".into(),
        )
    };
    // Planning may run subqueries, so it happens off the async workers too.
    // A query whose rows are final as soon as they are produced, in no
    // particular order, is streamed to the client as it is read (a full
    // `SELECT *` holds a few chunks, not the table); any other is run to
    // the end first.
    let flag = cancelled.clone();
    let (streams, stream) = match stream {
        Streaming::No => (false, None),
        Streaming::Yes(handle) => (true, handle),
    };
    let work = tokio::task::spawn_blocking(move || -> Result<(QueryPlan, Planned)> {
        let catalog = db2.catalog();
        let runner = Runner {
            db: &db2,
            cancelled: &flag,
        };
        let plan = plan_query_with(&q, &catalog, Some(&runner))?;
        if streams && plan.order_by.is_empty() && plan.root.is_stateless() {
            if let Ok(permit) = STREAM_READERS.try_acquire() {
                return Ok((plan, Err(permit)));
            }
        }
        let rows = run_query(&db2, &plan, &flag)?;
        Ok((plan, Ok(rows)))
    });
    let joined = match timeout {
        // On timeout the guard's drop stops the blocking work.
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .map_err(|_| timed_out())?,
        None => work.await,
    };
    let (plan, rows) = joined.map_err(|e| Error::Sql("XX000", e.to_string()))??;
    let columns: Vec<(String, DataType)> =
        plan.output.iter().map(|c| (c.name.clone(), c.ty)).collect();
    let permit = match rows {
        Ok(rows) => return result_set(&columns, &rows, fmt),
        Err(permit) => permit,
    };

    let fields = fields(&columns, fmt);
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<PgWireResult<DataRow>>>(STREAM_AHEAD);
    let db2 = db.clone();
    let encoder_fields = fields.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let mut encoder = DataRowEncoder::new(encoder_fields);
        let mut chunk = Vec::with_capacity(STREAM_CHUNK);
        let mut skip = plan.offset as usize;
        let mut left = plan.limit.map_or(usize::MAX, |l| l as usize);
        let visible = plan.output.len();
        let mut sink = |changes: Vec<rivulet_stream::Change>| -> Result<bool> {
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Err(timed_out());
            }
            for row in changes.into_iter().filter_map(|c| c.new) {
                if left == 0 {
                    break;
                }
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                left -= 1;
                for v in &row[..visible.min(row.len())] {
                    encoder
                        .encode_field(&PgValue(v))
                        .map_err(|e| Error::Sql("XX000", e.to_string()))?;
                }
                chunk.push(Ok(encoder.take_row()));
                if chunk.len() >= STREAM_CHUNK
                    && tx.blocking_send(std::mem::take(&mut chunk)).is_err()
                {
                    return Ok(false); // the client went away
                }
            }
            Ok(left > 0)
        };
        let r = count_rows(&db2, &plan)
            .and_then(|root| run_plan(&db2, &root, plan.limit.is_none(), &cancelled, &mut sink));
        if let Err(e) = r {
            chunk.push(Err(e.into()));
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(chunk);
        }
    });
    // The guard travels with the rows: when the response is dropped
    // (finished, or the connection closed), reading stops. A cancel
    // request or the statement timeout ends the stream with 57014.
    let feed = Feed {
        rx,
        _guard: guard,
        handle: stream,
        cancel: None,
        deadline: deadline.map(tokio::time::Instant::from_std),
        done: false,
    };
    let rows = stream::unfold(feed, |mut feed| async move {
        let chunk = feed.next().await?;
        Some((stream::iter(chunk), feed))
    })
    .flatten();
    Ok(Response::Query(QueryResponse::new(fields, rows)))
}

/// The connection's side of a streaming query.
struct Feed {
    rx: tokio::sync::mpsc::Receiver<Vec<PgWireResult<DataRow>>>,
    _guard: CancelOnDrop,
    /// Where cancel requests for this connection arrive.
    handle: Option<Arc<ConnectionHandle>>,
    cancel: Option<futures::channel::oneshot::Receiver<()>>,
    deadline: Option<tokio::time::Instant>,
    done: bool,
}

impl Feed {
    /// The next chunk of rows, or the error that ends the statement.
    async fn next(&mut self) -> Option<Vec<PgWireResult<DataRow>>> {
        if self.done {
            return None;
        }
        if self.cancel.is_none() {
            // Armed here, once the statement's own answer is under way.
            if let Some(h) = &self.handle {
                self.cancel = Some(h.start_query().await);
            }
        }
        let stop = |msg: &str| {
            let e: PgWireError = Error::Sql("57014", msg.into()).into();
            Some(vec![Err(e)])
        };
        let Feed {
            rx,
            cancel,
            deadline,
            done,
            ..
        } = self;
        let cancelled = async {
            if let Some(c) = cancel.as_mut() {
                if c.await.is_ok() {
                    return;
                }
            }
            std::future::pending::<()>().await
        };
        let timeout = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(*d).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            chunk = rx.recv() => chunk,
            () = cancelled => {
                *done = true;
                stop("canceling statement due to user request")
            }
            () = timeout => {
                *done = true;
                stop("canceling statement due to statement timeout")
            }
        }
    }
}

/// The plan's root with `count(*)` over whole relations answered from
/// their row counts.
fn count_rows(db: &Database, plan: &QueryPlan) -> Result<rivulet_catalog::Plan> {
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
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(root),
    }
}

/// Runs a query: its plan as a dataflow fed every source row once, then
/// sorted, cut to OFFSET/LIMIT and stripped of hidden sort columns.
/// Blocking (reads storage).
pub fn run_query(db: &Database, plan: &QueryPlan, cancelled: &AtomicBool) -> Result<Vec<Row>> {
    let root = count_rows(db, plan)?;
    // Without ORDER BY, a plan whose rows are final once produced (no
    // aggregate or join can change or retract them) stops reading when it
    // has OFFSET + LIMIT rows.
    let enough = match plan.limit {
        Some(l) if plan.order_by.is_empty() && root.is_stateless() => {
            (l as usize).saturating_add(plan.offset as usize)
        }
        _ => usize::MAX,
    };
    let mut state = Rows::new();
    run_plan(db, &root, enough == usize::MAX, cancelled, &mut |changes| {
        apply(&mut state, changes);
        Ok(state.len() < enough)
    })?;
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
/// relation it reads and its output to `sink` until `sink` has enough.
/// Blocking.
fn run_serial(
    db: &Database,
    root: &rivulet_catalog::Plan,
    cancelled: &AtomicBool,
    sink: &mut Sink<'_>,
) -> Result<()> {
    // Operator state lives only as long as the query.
    let flow = Dataflow::new(0, root);
    let mut st = MemState::new();
    let mut ctx = EvalCtx::strict();
    if !sink(flow.init(&mut ctx, &mut st)?)? {
        return Ok(());
    }
    // Columns no operator reads are skipped while decoding.
    let columns = root.scan_columns();
    let mut more = true;
    for rel in root.distinct_scans() {
        if !more {
            break;
        }
        // Rows are decoded and fed a chunk at a time, so a query's memory
        // is its result and operator state, not the whole table; a
        // cancelled query stops between chunks.
        let mut failure = None;
        let mut feed = |chunk: Vec<rivulet_stream::Change>| -> rivulet_stream::Result<bool> {
            if cancelled.load(Ordering::Relaxed) || ctx.failed() {
                return Ok(false);
            }
            let out = flow.push(rel.id, &chunk, &mut ctx, &mut st)?;
            more = sink(out).unwrap_or_else(|e| {
                failure = Some(e);
                false
            });
            Ok(more && !ctx.failed())
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
        if let Some(e) = failure {
            return Err(e);
        }
        if cancelled.load(Ordering::Relaxed) {
            return Err(canceled());
        }
        // Stop at the first error, as PostgreSQL does.
        std::mem::take(&mut ctx).finish()?;
        ctx = EvalCtx::strict();
    }
    ctx.finish()?;
    Ok(())
}

fn canceled() -> Error {
    Error::Sql("57014", "canceling statement due to user request".into())
}

/// Runs `root`, on several threads if it has the shape and size for it,
/// handing its output changes to `sink`. Blocking.
fn run_plan(
    db: &Database,
    root: &rivulet_catalog::Plan,
    parallel: bool,
    cancelled: &AtomicBool,
    sink: &mut Sink<'_>,
) -> Result<()> {
    if !(parallel && crate::parallel::try_run(db, root, cancelled, sink)?) {
        run_serial(db, root, cancelled, sink)?;
    }
    if cancelled.load(Ordering::Relaxed) {
        return Err(canceled());
    }
    Ok(())
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
