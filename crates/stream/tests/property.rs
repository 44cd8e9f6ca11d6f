//! Property test: for random view pipelines (filters, projections,
//! aggregates, joins, views on views) and random interleavings of inserts,
//! primary-key overwrites and deletes — numerics of different scales
//! included — every incrementally maintained view equals its query
//! evaluated from scratch over the current rows, also after the database is
//! closed and reopened over the same storage at random points (operator
//! state comes back from its state tables, not from the rows).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use rivulet_catalog::plan_query;
use rivulet_expr::{Row, Value};
use rivulet_storage::{Engine, MemoryEngine};
use rivulet_stream::{Database, Dataflow, EvalCtx, MemState, Options};

/// Deterministic xorshift generator.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// A random SELECT over `t (k, a, b)` and `u (k, x)`.
fn random_view(g: &mut Gen, earlier: &[String]) -> String {
    let filter = g.pick(&[
        "",
        " WHERE t.a > 1",
        " WHERE t.b % 2 = 0",
        " WHERE t.a IS NOT NULL AND t.b < 7",
        " WHERE t.a IN (1, 3, 4)",
    ]);
    match g.below(8) {
        // Over the table without a primary key, whose rows are packed.
        7 => g
            .pick(&[
                "SELECT e.a AS g, count(*) AS n, sum(e.b) AS s, max(e.b) AS hi FROM e GROUP BY 1",
                "SELECT e.a, e.b FROM e WHERE e.b > 2",
                "SELECT e.a, u.x FROM e JOIN u ON e.a = u.k",
            ])
            .to_string(),
        6 => g
            .pick(&[
                "SELECT count(*) AS n, sum(w.x) AS s, avg(w.x) AS av, min(w.x) AS lo, max(w.x) AS hi FROM w",
                "SELECT w.k % 2 AS g, sum(w.x) AS s, count(DISTINCT w.x) AS d, sum(DISTINCT w.x) AS ds FROM w GROUP BY 1",
            ])
            .to_string(),
        0 => format!("SELECT t.k, t.a + t.b AS s, CASE WHEN t.b > 4 THEN 'hi' ELSE 'lo' END AS c FROM t{filter}"),
        1 => {
            let key = g.pick(&["t.a", "t.b % 3", "t.a IS NULL"]);
            let aggs = g.pick(&[
                "count(*) AS n, sum(t.b) AS s",
                "min(t.b) AS mn, max(t.a) AS mx",
                "count(DISTINCT t.b) AS d, avg(t.b) AS av",
                "bool_or(t.b > 5) AS bo, bool_and(t.a > 0) AS ba, count(t.a) AS ca",
            ]);
            let having = g.pick(&["", " HAVING count(*) > 1"]);
            format!("SELECT {key} AS g, {aggs} FROM t{filter} GROUP BY 1{having}")
        }
        2 => {
            let kind = g.pick(&["JOIN", "LEFT JOIN"]);
            let extra = g.pick(&["", " AND u.x > 2"]);
            format!("SELECT t.k, t.b, u.x FROM t {kind} u ON t.a = u.k{extra}{filter}")
        }
        3 => {
            let kind = g.pick(&["JOIN", "LEFT JOIN"]);
            format!("SELECT u.x AS x, count(*) AS n, sum(t.b) AS s, min(t.k) AS first FROM t {kind} u ON t.a = u.k{filter} GROUP BY u.x")
        }
        4 => format!("SELECT count(*) AS n, max(t.b) AS top, sum(t.a) AS total FROM t{filter}"),
        _ => match earlier.last() {
            // A view on the previous view: re-aggregate or filter it.
            Some(prev) => format!("SELECT count(*) AS n FROM {prev}"),
            None => "SELECT DISTINCT t.a FROM t".into(),
        },
    }
}

fn stmt(sql: &str) -> rivulet_sql::Statement {
    rivulet_sql::parse(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .remove(0)
}

fn int_or_null(g: &mut Gen) -> Value {
    if g.below(8) == 0 {
        Value::Null
    } else {
        Value::Int4(g.below(6) as i32)
    }
}

/// The view's query evaluated from scratch over the stored rows, by the
/// view's own operators over fresh state; the query operators
/// ([`Dataflow::for_query`]) must agree with them. Evaluation errors are
/// handled by contexts from `ctx`.
fn from_scratch_in(db: &Database, view: &str, ctx: fn() -> EvalCtx) -> Vec<Row> {
    let catalog = db.catalog();
    let rel = catalog.relation(view).unwrap();
    let rivulet_sql::Statement::CreateMaterializedView { query, .. } = &rel.definition else {
        unreachable!()
    };
    let plan = plan_query(query, &catalog).unwrap();
    let run = |flow: Dataflow| {
        let mut st = MemState::new();
        let mut ctx = ctx();
        let mut state: BTreeMap<Vec<u8>, Row> = BTreeMap::new();
        let mut apply = |changes: Vec<rivulet_stream::Change>| {
            for c in changes {
                match c.new {
                    Some(r) => state.insert(c.key, r),
                    None => state.remove(&c.key),
                };
            }
        };
        apply(flow.init(&mut ctx, &mut st).unwrap());
        // In the order a query's driver feeds them (the views' operators
        // take any order).
        for r in plan.root.feed_order() {
            let rows = db.scan_rows_blocking(&r).unwrap();
            apply(flow.push(r.id, &rows, &mut ctx, &mut st).unwrap());
        }
        apply(flow.finish(&mut ctx, &mut st).unwrap());
        ctx.finish().unwrap();
        let mut rows: Vec<Row> = state.into_values().collect();
        rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        rows
    };
    let view_ops = run(Dataflow::new(0, &plan.root));
    let query_ops = run(Dataflow::for_query(
        &plan.root,
        &rivulet_stream::Reservation::unlimited(),
    ));
    assert_eq!(view_ops, query_ops, "{view}: query operators disagree");
    view_ops
}

fn stored(db: &Database, view: &str) -> Vec<Row> {
    let rel = db.catalog().relation(view).unwrap().clone();
    let mut rows = db.scan_blocking(&rel).unwrap();
    rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    rows
}

/// Asserts that every view holds what its query gives from scratch
/// (compared as printed values, so numeric scale counts).
fn assert_views_as_queries(db: &Database, views: &[String], when: &str) {
    assert_views_as_queries_in(db, views, when, EvalCtx::strict);
}

/// [`assert_views_as_queries`], the queries' evaluation errors handled by
/// contexts from `ctx`.
fn assert_views_as_queries_in(db: &Database, views: &[String], when: &str, ctx: fn() -> EvalCtx) {
    for v in views {
        let def = db.catalog().relation(v).unwrap().definition.to_string();
        assert_eq!(
            texts(stored(db, v)),
            texts(from_scratch_in(db, v, ctx)),
            "{when}: {def}"
        );
    }
}

/// Creates views `p0`, `p1`, ... as `defs`; returns their names.
async fn create_views(db: &Database, defs: &[&str]) -> Vec<String> {
    let mut views = Vec::new();
    for (i, sql) in defs.iter().enumerate() {
        let name = format!("p{i}");
        db.execute_ddl(stmt(&format!("CREATE MATERIALIZED VIEW {name} AS {sql}")))
            .await
            .unwrap();
        views.push(name);
    }
    views
}

/// `column = value`, bound.
fn eq_filter(column: usize, value: Value) -> rivulet_expr::Expr {
    rivulet_expr::Expr::Binary(
        rivulet_expr::BinaryOp::Cmp(rivulet_expr::CmpOp::Eq),
        Box::new(rivulet_expr::Expr::Column(column)),
        Box::new(rivulet_expr::Expr::Literal(value)),
    )
}

/// Rows as PostgreSQL would print them.
fn texts(rows: Vec<Row>) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|v| v.to_pg_text().unwrap_or_else(|| "NULL".into()))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_equals_from_scratch() {
    for seed in 1..=16u64 {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
        let db = Database::open(engine.clone(), Options::default()).unwrap();
        db.execute_ddl(stmt("CREATE TABLE t (k INT PRIMARY KEY, a INT, b INT)"))
            .await
            .unwrap();
        db.execute_ddl(stmt("CREATE TABLE u (k INT PRIMARY KEY, x INT)"))
            .await
            .unwrap();
        db.execute_ddl(stmt("CREATE TABLE w (k INT PRIMARY KEY, x NUMERIC)"))
            .await
            .unwrap();
        db.execute_ddl(stmt("CREATE TABLE e (a INT, b INT)"))
            .await
            .unwrap();
        let mut views: Vec<String> = Vec::new();
        for v in 0..6 {
            let sql = random_view(&mut g, &views);
            let name = format!("v{v}");
            db.execute_ddl(stmt(&format!("CREATE MATERIALIZED VIEW {name} AS {sql}")))
                .await
                .unwrap_or_else(|e| panic!("seed {seed}: {sql}: {e}"));
            views.push(name);
        }
        let t = db.catalog().relation("t").unwrap().id;
        let u = db.catalog().relation("u").unwrap().id;
        let w = db.catalog().relation("w").unwrap().id;
        let e = db.catalog().relation("e").unwrap().id;
        let mut db = db;
        for step in 0..120 {
            if step == 60 {
                // Back-filled from packed rows.
                let name = format!("v{}", views.len());
                db.execute_ddl(stmt(&format!(
                    "CREATE MATERIALIZED VIEW {name} AS SELECT e.b AS g, count(*) AS n, min(e.a) AS lo FROM e GROUP BY 1"
                )))
                .await
                .unwrap();
                views.push(name);
            }
            if g.below(4) == 0 {
                // Rows without a primary key, several requests at once (one
                // group, packed together) or one, and deletes that take
                // some rows out of a pack.
                let mut batch = || -> Vec<Row> {
                    (0..1 + g.below(70))
                        .map(|_| vec![Value::Int4(g.below(6) as i32), int_or_null(&mut g)])
                        .collect()
                };
                let (r1, r2, r3) = (batch(), batch(), batch());
                let (a, b, c) = tokio::join!(db.insert(e, r1), db.insert(e, r2), db.insert(e, r3));
                a.and(b).and(c).unwrap();
                if g.below(3) == 0 {
                    let filter = eq_filter(g.below(2) as usize, Value::Int4(g.below(6) as i32));
                    db.delete(e, Some(filter)).await.unwrap();
                }
            }
            if g.below(15) == 0 {
                // Close and reopen: state must come back from storage.
                db.shutdown();
                db = Database::open(engine.clone(), Options::default()).unwrap();
            }
            match g.below(12) {
                10 | 11 => {
                    // Numerics of different scales, overwritten and deleted.
                    // (No two equal values: which of 12.5 and 12.50 a
                    // min() shows is not defined by SQL.)
                    let x = g.pick(&["12.5", "20", "3.000", "0.10", "7", "-1.25", "0", "2.5000"]);
                    let row = vec![
                        Value::Int4(g.below(6) as i32),
                        Value::Numeric(rivulet_expr::Numeric::parse(x).unwrap()),
                    ];
                    if g.below(4) == 0 {
                        let filter = eq_filter(0, row[0].clone());
                        db.delete(w, Some(filter)).await.unwrap();
                    } else {
                        db.insert(w, vec![row]).await.unwrap();
                    }
                }
                // Inserts and overwrites of t (keys collide often).
                0..=4 => {
                    let rows = (0..1 + g.below(3))
                        .map(|_| {
                            vec![
                                Value::Int4(g.below(25) as i32),
                                int_or_null(&mut g),
                                int_or_null(&mut g),
                            ]
                        })
                        .collect();
                    db.insert(t, rows).await.unwrap();
                }
                5 | 6 => {
                    let row = vec![
                        Value::Int4(g.below(6) as i32),
                        Value::Int4(g.below(5) as i32),
                    ];
                    db.insert(u, vec![row]).await.unwrap();
                }
                7 | 8 => {
                    let k = g.below(25) as i64;
                    let filter = rivulet_expr::Expr::Binary(
                        rivulet_expr::BinaryOp::Cmp(rivulet_expr::CmpOp::LtEq),
                        Box::new(rivulet_expr::Expr::Cast(
                            Box::new(rivulet_expr::Expr::Column(0)),
                            rivulet_expr::DataType::Int8,
                        )),
                        Box::new(rivulet_expr::Expr::Literal(Value::Int8(k % 5))),
                    );
                    db.delete(t, Some(filter)).await.unwrap();
                }
                _ => {
                    let filter = eq_filter(0, Value::Int4(g.below(6) as i32));
                    db.delete(u, Some(filter)).await.unwrap();
                }
            }
            if step % 10 == 9 {
                // Row counts kept by the writer match the stored rows.
                for name in views.iter().map(String::as_str).chain(["t", "u", "w", "e"]) {
                    let rel = db.catalog().relation(name).unwrap().clone();
                    assert_eq!(
                        db.row_count_blocking(&rel).unwrap() as usize,
                        db.scan_blocking(&rel).unwrap().len(),
                        "seed {seed}, step {step}: row count of {name}"
                    );
                }
                assert_views_as_queries(&db, &views, &format!("seed {seed}, step {step}"));
            }
        }
        // State rebuilt from storage after a restart carries on correctly.
        db.shutdown();
        let db = Database::open(engine, Options::default()).unwrap();
        db.insert(
            t,
            vec![vec![Value::Int4(3), Value::Int4(1), Value::Int4(2)]],
        )
        .await
        .unwrap();
        assert_views_as_queries(&db, &views, &format!("seed {seed} after reopen"));
        db.shutdown();
    }
}

/// Many views of every kind reading one table without a primary key (so
/// the projections among them are packed), and views on two of them, fed
/// batches of up to 220 rows: every view still equals its query, through
/// inserts, deletes and reopening.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_views_of_one_table_equal_their_queries() {
    let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
    let mut db = Database::open(engine.clone(), Options::default()).unwrap();
    db.execute_ddl(stmt("CREATE TABLE e (a INT, b INT)"))
        .await
        .unwrap();
    db.execute_ddl(stmt("CREATE TABLE u (k INT PRIMARY KEY, x INT)"))
        .await
        .unwrap();
    let defs = [
        "SELECT e.a AS g, count(*) AS n, sum(e.b) AS s, max(e.b) AS hi, min(e.b) AS lo FROM e GROUP BY 1",
        "SELECT e.a, e.b FROM e WHERE e.b > 2",
        "SELECT e.a, u.x FROM e JOIN u ON e.a = u.k",
        "SELECT count(DISTINCT e.b) AS d, count(*) AS n, avg(e.b) AS av FROM e",
        "SELECT e.b % 3 AS g, min(e.a) AS lo, bool_or(e.a > 4) AS big FROM e GROUP BY 1",
        "SELECT e.a + e.b AS s FROM e",
        "SELECT u.x, count(*) AS n FROM e LEFT JOIN u ON e.a = u.k GROUP BY 1",
        "SELECT DISTINCT e.a FROM e",
    ];
    let mut views = create_views(&db, &defs).await;
    // Views on the views: one over an aggregate, one over a packed view.
    for (name, sql) in [
        ("q0", "SELECT count(*) AS n FROM p1"),
        ("q1", "SELECT s FROM p5 WHERE s > 5"),
    ] {
        db.execute_ddl(stmt(&format!("CREATE MATERIALIZED VIEW {name} AS {sql}")))
            .await
            .unwrap();
        views.push(name.to_string());
    }
    let e = db.catalog().relation("e").unwrap().id;
    let u = db.catalog().relation("u").unwrap().id;
    db.insert(
        u,
        (0..6)
            .map(|k| vec![Value::Int4(k), Value::Int4(k * 10)])
            .collect(),
    )
    .await
    .unwrap();
    let mut g = Gen(0x0123_4567_89ab_cdef);
    for step in 0..40 {
        let rows = (0..20 + g.below(200))
            .map(|_| vec![Value::Int4(g.below(8) as i32), int_or_null(&mut g)])
            .collect();
        db.insert(e, rows).await.unwrap();
        if g.below(3) == 0 {
            let filter = eq_filter(g.below(2) as usize, Value::Int4(g.below(6) as i32));
            db.delete(e, Some(filter)).await.unwrap();
        }
        if step == 20 {
            db.shutdown();
            db = Database::open(engine.clone(), Options::default()).unwrap();
        }
        if step % 5 == 4 {
            assert_views_as_queries(&db, &views, &format!("step {step}"));
        }
    }
    db.shutdown();
}

/// Views repeating expressions over one table, which are computed once per
/// row for all of them, equal their queries: also where a shared expression
/// fails on some rows (a cast of a non-number, NULL in those views as it is
/// without sharing), sits where evaluation may skip it (a CASE branch, a
/// coalesce), or is read through a view on a view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_sharing_expressions_equal_their_queries() {
    let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
    let mut db = Database::open(engine.clone(), Options::default()).unwrap();
    db.execute_ddl(stmt("CREATE TABLE s (a INT, t TEXT)"))
        .await
        .unwrap();
    let defs = [
        "SELECT s.t::int AS v, count(*) AS n FROM s GROUP BY 1",
        "SELECT sum(s.t::int) AS total, count(*) AS n, count(DISTINCT s.a % 3) AS d FROM s",
        "SELECT s.a, s.t::int + 1 AS w FROM s WHERE s.a % 3 = 0",
        "SELECT s.a % 3 AS g, max(s.t::int) AS m, sum(s.a) AS sa FROM s WHERE s.a % 3 = 0 GROUP BY 1",
        "SELECT s.a, CASE WHEN s.a > 3 THEN s.t::int + 1 ELSE 0 END AS c FROM s WHERE s.a % 3 = 0",
        "SELECT coalesce(s.t::int, -1) AS c, count(*) AS n FROM s GROUP BY 1",
        "SELECT count(*) AS n, sum(p2.w) AS sw FROM p2",
        "SELECT p2.w % 2 AS g, count(*) AS n FROM p2 GROUP BY 1",
    ];
    let views = create_views(&db, &defs).await;
    let s = db.catalog().relation("s").unwrap().id;
    let mut g = Gen(0x5eed_0f5a_4ed0_c5a1);
    for step in 0..30 {
        // From step 10 on, some rows hold a text that is not a number.
        let rows = (0..10 + g.below(100))
            .map(|_| {
                let t = match g.below(12) {
                    0 => Value::Null,
                    1 if step >= 10 => Value::Text("x".into()),
                    n => Value::Text(n.to_string()),
                };
                vec![Value::Int4(g.below(8) as i32), t]
            })
            .collect();
        db.insert(s, rows).await.unwrap();
        if g.below(3) == 0 {
            let filter = eq_filter(0, Value::Int4(g.below(8) as i32));
            db.delete(s, Some(filter)).await.unwrap();
        }
        if step == 15 {
            db.shutdown();
            db = Database::open(engine.clone(), Options::default()).unwrap();
        }
        if step % 5 == 4 {
            assert_views_as_queries_in(&db, &views, &format!("step {step}"), EvalCtx::lenient);
        }
    }
    db.shutdown();
}

/// What a crash would leave of `engine` now (every batch it holds was
/// flushed), as a storage of its own.
fn crashed_copy(engine: &MemoryEngine) -> Arc<MemoryEngine> {
    let copy = MemoryEngine::new();
    let mut all = rivulet_storage::WriteBatch::new();
    engine
        .for_each_prefix(&[], &mut |k, v| {
            all.put(k.to_vec(), v.to_vec());
            true
        })
        .unwrap();
    copy.apply(&all).unwrap();
    Arc::new(copy)
}

/// Operator state that waits for a checkpoint is rebuilt after a crash:
/// storage is copied while the writer runs on (no checkpoint since the
/// views were created), start-up replays the rows past the markers, and
/// the views stay equal to their queries through further appends, deletes
/// (whose value counts and extremes need the rebuilt state) and a second
/// crash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_state_is_rebuilt_after_a_crash() {
    let rarely = Options {
        checkpoint_every: std::time::Duration::from_secs(3600),
        ..Options::default()
    };
    let engine = Arc::new(MemoryEngine::new());
    let mut db = Database::open(engine.clone(), rarely.clone()).unwrap();
    db.execute_ddl(stmt("CREATE TABLE s (a INT, t TEXT)"))
        .await
        .unwrap();
    let defs = [
        "SELECT s.a % 3 AS g, count(*) AS n, count(DISTINCT s.t) AS d, min(s.t) AS lo, max(s.a) AS hi, sum(s.a) AS total FROM s GROUP BY 1",
        "SELECT s.t, count(*) AS n, avg(s.a) AS mean FROM s WHERE s.a > 2 GROUP BY 1",
        "SELECT count(DISTINCT s.a) AS d, count(s.t) AS n FROM s",
        "SELECT s.a, s.t FROM s WHERE s.a % 2 = 0",
        "SELECT p0.hi, count(*) AS n, sum(p0.n) AS total FROM p0 GROUP BY 1",
    ];
    let views = create_views(&db, &defs).await;
    let s = db.catalog().relation("s").unwrap().id;
    let behind = rivulet_storage::keys::state_behind(s);
    let mut g = Gen(0xc4ec_4901_17a5_0bd3);
    let mut storage = engine;
    for round in 0..3 {
        for step in 0..25 {
            let rows = (0..1 + g.below(60))
                .map(|_| {
                    let t = match g.below(10) {
                        0 => Value::Null,
                        n => Value::Text(format!("t{n}")),
                    };
                    vec![Value::Int4(g.below(9) as i32), t]
                })
                .collect();
            db.insert(s, rows).await.unwrap();
            // Deletes checkpoint; the last steps of a round only append.
            if step < 15 && g.below(4) == 0 {
                let filter = eq_filter(0, Value::Int4(g.below(9) as i32));
                db.delete(s, Some(filter)).await.unwrap();
            }
        }
        assert!(
            storage.get(&behind).unwrap().is_some(),
            "round {round}: appends left the views' state behind"
        );
        let crashed = crashed_copy(&storage);
        db.shutdown();
        db = Database::open(crashed.clone(), rarely.clone()).unwrap();
        assert!(
            crashed.get(&behind).unwrap().is_none(),
            "round {round}: start-up checkpoints what it rebuilt"
        );
        assert_views_as_queries_in(&db, &views, &format!("round {round}"), EvalCtx::lenient);
        storage = crashed;
    }
    // Deletes of every value now need exact counts and extremes.
    for a in 0..9 {
        db.delete(s, Some(eq_filter(0, Value::Int4(a))))
            .await
            .unwrap();
        assert_views_as_queries_in(&db, &views, &format!("deleted a = {a}"), EvalCtx::lenient);
    }
    db.shutdown();
}
