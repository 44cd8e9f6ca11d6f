//! Ad-hoc queries: a planned SELECT run once over the stored rows.
//!
//! A query's plan becomes a [`Dataflow`] whose operator state lives in
//! memory for the query's lifetime ([`MemState`], and the hash tables of
//! aggregates over input that cannot retract, which emit their groups at
//! the end); every row of each
//! relation it reads is fed through it a chunk at a time, so a query holds
//! its result and operator state, not whole tables. Large single-relation
//! scans read on several threads ([`parallel`]). Then ORDER BY sorts,
//! OFFSET/LIMIT cut, and hidden sort columns go. A query whose rows are
//! final as they are produced (no ORDER BY, no aggregate or join that could
//! change or retract them) hands them on as they are read and stops
//! reading once it has OFFSET + LIMIT of them.
//!
//! Queries never touch the writer: they read a storage snapshot of
//! committed data. A set cancel flag stops one between chunks with 57014.

mod memory;
mod parallel;
mod top;

pub(crate) use memory::{row_size, ENTRY_OVERHEAD};
pub use memory::{QueryMemory, Reservation};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rivulet_catalog::{plan_query_with, Plan, QueryPlan, SubqueryRunner};
use rivulet_expr::{Row, Value};
use rivulet_sql::Query;

use crate::{Change, Database, Dataflow, Error, EvalCtx, MemState, Result, ScanSpec};

use parallel::{apply, Rows, Sink};
use top::{TopN, TopRows};

/// Why a query stopped before its end (SQLSTATE 57014).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// The client sent a cancel request or went away.
    UserRequest,
    /// `statement_timeout` passed.
    StatementTimeout,
}

impl std::fmt::Display for CancelReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CancelReason::UserRequest => "user request",
            CancelReason::StatementTimeout => "statement timeout",
        })
    }
}

/// Runs scalar subqueries for the planner, under the outer query's cancel
/// flag.
struct Subqueries<'a> {
    db: &'a Database,
    cancelled: &'a AtomicBool,
}

/// Runs the correlated subqueries of a running query (for each outer row):
/// the query's own cancel flag stops it between rows.
struct SharedSubqueries {
    db: Database,
    never: AtomicBool,
}

impl SubqueryRunner for SharedSubqueries {
    fn scalar(&self, plan: &QueryPlan) -> rivulet_catalog::Result<Value> {
        self.borrowed().scalar(plan)
    }

    fn column(&self, plan: &QueryPlan, limit: usize) -> rivulet_catalog::Result<Vec<Value>> {
        self.borrowed().column(plan, limit)
    }

    fn rows(&self, plan: &QueryPlan, limit: usize) -> rivulet_catalog::Result<Vec<Row>> {
        self.borrowed().rows(plan, limit)
    }

    fn shared(&self) -> Arc<dyn SubqueryRunner + Send> {
        self.borrowed().shared()
    }
}

impl SharedSubqueries {
    fn borrowed(&self) -> Subqueries<'_> {
        Subqueries {
            db: &self.db,
            cancelled: &self.never,
        }
    }
}

impl SubqueryRunner for Subqueries<'_> {
    fn scalar(&self, plan: &QueryPlan) -> rivulet_catalog::Result<Value> {
        let mut rows = Vec::new();
        self.db
            .query_blocking(plan, self.cancelled, &mut |row| {
                rows.push(row);
                // A second row is already an error; no need for more.
                Ok(rows.len() < 2)
            })
            .map_err(|e| rivulet_catalog::Error::Subquery(Box::new(e)))?;
        match rows.as_slice() {
            [] => Ok(Value::Null),
            [row] => Ok(row.first().cloned().unwrap_or(Value::Null)),
            _ => Err(rivulet_catalog::Error::CardinalityViolation),
        }
    }

    fn column(&self, plan: &QueryPlan, limit: usize) -> rivulet_catalog::Result<Vec<Value>> {
        let mut values = Vec::new();
        if limit == 0 {
            return Ok(values);
        }
        self.db
            .query_blocking(plan, self.cancelled, &mut |mut row| {
                values.push(if row.is_empty() {
                    Value::Null
                } else {
                    row.swap_remove(0)
                });
                Ok(values.len() < limit)
            })
            .map_err(|e| rivulet_catalog::Error::Subquery(Box::new(e)))?;
        Ok(values)
    }

    fn rows(&self, plan: &QueryPlan, limit: usize) -> rivulet_catalog::Result<Vec<Row>> {
        let mut rows = Vec::new();
        if limit == 0 {
            return Ok(rows);
        }
        let width = plan.output.len();
        self.db
            .query_blocking(plan, self.cancelled, &mut |mut row| {
                row.truncate(width);
                rows.push(row);
                Ok(rows.len() < limit)
            })
            .map_err(|e| rivulet_catalog::Error::Subquery(Box::new(e)))?;
        Ok(rows)
    }

    fn shared(&self) -> Arc<dyn SubqueryRunner + Send> {
        Arc::new(SharedSubqueries {
            db: self.db.clone(),
            never: AtomicBool::new(false),
        })
    }
}

impl Database {
    /// Plans a SELECT against the current catalog, running its uncorrelated
    /// scalar subqueries. Blocking (subqueries read storage).
    pub fn plan_query_blocking(&self, q: &Query, cancelled: &AtomicBool) -> Result<QueryPlan> {
        let catalog = self.catalog();
        let runner = Subqueries {
            db: self,
            cancelled,
        };
        Ok(plan_query_with(q, &catalog, Some(&runner))?)
    }

    /// Runs a planned query, handing each visible result row, in ORDER BY
    /// order and cut to OFFSET/LIMIT, to `row` until it returns `false`.
    /// Rows of a query that [`QueryPlan::final_as_read`] arrive while the
    /// relations are still being read; any other query is run to its end
    /// first. Stops with 57014 when `cancelled` is set. Blocking.
    pub fn query_blocking(
        &self,
        plan: &QueryPlan,
        cancelled: &AtomicBool,
        row: &mut dyn FnMut(Row) -> Result<bool>,
    ) -> Result<()> {
        let root = self.with_row_counts(&plan.root)?;
        // Everything the query holds until it returns is charged here.
        let memory = Reservation::new(self.query_memory());
        let visible = plan.output.len();
        let mut skip = plan.offset as usize;
        let mut left = plan.limit.map_or(usize::MAX, |l| l as usize);
        if left == 0 {
            return Ok(());
        }
        // Stateless once `count(*)` is answered from row counts, perhaps.
        if plan.order_by.is_empty() && root.is_stateless() {
            return run_plan(
                self,
                &root,
                plan.limit.is_none(),
                None,
                cancelled,
                &memory,
                &mut |changes| {
                    for mut r in changes.into_iter().filter_map(|c| c.new) {
                        if skip > 0 {
                            skip -= 1;
                            continue;
                        }
                        r.truncate(visible);
                        left -= 1;
                        if !row(r)? || left == 0 {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                },
            );
        }
        // NULLs sort last ascending and first descending, as in
        // PostgreSQL.
        let order = |a: &Row, b: &Row| {
            for &(i, desc) in &plan.order_by {
                let o = a[i].total_cmp(&b[i]);
                let o = if desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        };
        let top_n = plan
            .limit
            .filter(|_| !plan.order_by.is_empty())
            .filter(|_| Dataflow::for_query(&root, &memory).emits_only_inserts());
        let mut rows: Vec<Row> = match top_n {
            Some(limit) => {
                let top = TopN {
                    keep: (limit as usize).saturating_add(skip),
                    order: &order,
                };
                top_rows(self, &root, cancelled, &memory, top)?
            }
            None => {
                let mut state = Rows::new();
                run_plan(
                    self,
                    &root,
                    true,
                    None,
                    cancelled,
                    &memory,
                    &mut |changes| {
                        apply(&mut state, changes, &memory)?;
                        Ok(true)
                    },
                )?;
                state.into_values().collect()
            }
        };
        if !plan.order_by.is_empty() {
            rows.sort_by(order);
        }
        for mut r in rows.into_iter().skip(skip).take(left) {
            r.truncate(visible);
            if !row(r)? {
                break;
            }
        }
        Ok(())
    }

    /// `plan` with `count(*)` over whole relations answered from their row
    /// counts.
    fn with_row_counts(&self, plan: &Plan) -> Result<Plan> {
        let mut failure = None;
        let root = plan.with_row_counts(&mut |rel| match self.row_count_blocking(rel) {
            Ok(n) => Some(n),
            Err(e) => {
                failure = Some(e);
                None
            }
        });
        match failure {
            Some(e) => Err(e),
            None => Ok(root),
        }
    }
}

/// The first `top.keep` output rows of `root` (which only inserts) in
/// `top.order`, unsorted: ORDER BY ... LIMIT holds at most twice that many
/// rows per thread, however many the query reads.
fn top_rows(
    db: &Database,
    root: &Plan,
    cancelled: &AtomicBool,
    memory: &Arc<Reservation>,
    top: TopN<'_>,
) -> Result<Vec<Row>> {
    let mut rows = TopRows::new(top);
    run_plan(
        db,
        root,
        true,
        Some(top),
        cancelled,
        memory,
        &mut |changes| {
            rows.add(changes, memory)?;
            Ok(true)
        },
    )?;
    let rows = rows.into_changes(memory);
    Ok(rows.into_iter().filter_map(|c| c.new).collect())
}

/// Runs `root` on the calling thread, feeding it every row of each
/// relation it reads and its output to `sink` until `sink` has enough.
fn run_serial(
    db: &Database,
    root: &Plan,
    cancelled: &AtomicBool,
    memory: &Arc<Reservation>,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let flow = Dataflow::for_query(root, memory);
    let mut st = MemState::charged_to(memory.clone());
    let mut ctx = EvalCtx::strict();
    if !sink(flow.init(&mut ctx, &mut st)?)? {
        return Ok(());
    }
    // Columns no operator reads are skipped while decoding, and rows a
    // filter right above the scan rejects are dropped at once.
    let columns = root.scan_columns();
    let predicates = root.scan_predicates();
    for rel in root.feed_order() {
        let mut failure = None;
        let mut more = true;
        let mut feed = |chunk: Vec<Change>| -> Result<bool> {
            if cancelled.load(Ordering::Relaxed) || ctx.failed() {
                return Ok(false);
            }
            let out = flow.push_owned(rel.id, chunk, &mut ctx, &mut st)?;
            memory.check()?;
            more = sink(out).unwrap_or_else(|e| {
                failure = Some(e);
                false
            });
            Ok(more && !ctx.failed())
        };
        match rel.system() {
            // System catalogs are computed from the catalog snapshot.
            Some(t) => {
                let rows = if t.from_listener() {
                    let catalog = db.catalog();
                    let log = db.webhook_log();
                    log.retain_tables(|name| catalog.relation(name).is_some());
                    log.rows(t.name().1)
                } else {
                    rivulet_catalog::system::system_rows(t, &db.catalog())
                };
                let rows: Vec<Change> = rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| Change::insert((i as u64).to_be_bytes().to_vec(), r))
                    .collect();
                feed(rows)?;
            }
            None => db.scan_chunks_blocking(
                &rel,
                1024,
                ScanSpec {
                    columns: columns.get(&rel.id).map(Vec::as_slice),
                    predicate: predicates.get(&rel.id),
                },
                &mut feed,
            )?,
        }
        if let Some(e) = failure {
            return Err(e);
        }
        if cancelled.load(Ordering::Relaxed) {
            return Err(Error::Canceled(CancelReason::UserRequest));
        }
        // Stop at the first error, as PostgreSQL does.
        std::mem::take(&mut ctx).finish()?;
        ctx = EvalCtx::strict();
        if !more {
            return Ok(());
        }
    }
    let out = flow.finish(&mut ctx, &mut st)?;
    ctx.finish()?;
    sink(out)?;
    Ok(())
}

/// Runs `root`, on several threads if `parallel` and the plan has the
/// shape and size for it, handing its output changes to `sink`. With
/// `top`, the sink only wants the best rows, so each thread need only hand
/// up its own best.
fn run_plan(
    db: &Database,
    root: &Plan,
    parallel: bool,
    top: Option<TopN<'_>>,
    cancelled: &AtomicBool,
    memory: &Arc<Reservation>,
    sink: &mut Sink<'_>,
) -> Result<()> {
    if !(parallel && parallel::try_run(db, root, cancelled, memory, top, sink)?) {
        run_serial(db, root, cancelled, memory, sink)?;
    }
    if cancelled.load(Ordering::Relaxed) {
        return Err(Error::Canceled(CancelReason::UserRequest));
    }
    Ok(())
}
