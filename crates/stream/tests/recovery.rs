//! Opening storage: start-up reads no source rows, back-fills run while
//! ingest continues, dropped data is purged in the background, and older
//! or unknown storage formats are upgraded or refused.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rivulet_expr::Value;
use rivulet_storage::{keys, Engine, KvPair, MemoryEngine, WriteBatch};
use rivulet_stream::{Database, Options};

mod common;

use common::{doc, stmt, texts};

/// A memory engine that counts reads of table and view rows, whose next
/// batch or next flush can be made to fail, and which keeps beside what
/// it holds what a crash would leave: only flushed batches.
#[derive(Default)]
struct Instrumented {
    inner: MemoryEngine,
    row_reads: AtomicU64,
    fail_next: AtomicBool,
    fail_flush: AtomicBool,
    /// Batches applied since the last successful flush.
    unflushed: std::sync::Mutex<Vec<WriteBatch>>,
    /// What survives a crash.
    durable: Arc<MemoryEngine>,
}

impl Instrumented {
    fn note(&self, key: &[u8]) {
        if keys::is_row(key) {
            self.row_reads.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Engine for Instrumented {
    fn get(&self, key: &[u8]) -> rivulet_storage::Result<Option<Vec<u8>>> {
        self.note(key);
        self.inner.get(key)
    }
    fn scan_prefix(&self, prefix: &[u8]) -> rivulet_storage::Result<Vec<KvPair>> {
        self.note(prefix);
        self.inner.scan_prefix(prefix)
    }
    fn for_each_prefix(
        &self,
        prefix: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> rivulet_storage::Result<()> {
        self.note(prefix);
        self.inner.for_each_prefix(prefix, f)
    }
    fn for_each_prefix_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> rivulet_storage::Result<()> {
        self.note(prefix);
        self.inner.for_each_prefix_from(prefix, from, f)
    }
    fn for_each_prefix_rev(
        &self,
        prefix: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> rivulet_storage::Result<()> {
        self.note(prefix);
        self.inner.for_each_prefix_rev(prefix, f)
    }
    fn last_key_with_prefix(&self, prefix: &[u8]) -> rivulet_storage::Result<Option<Vec<u8>>> {
        // Finds where row ids continue; returns a key, never a row.
        self.inner.last_key_with_prefix(prefix)
    }
    fn apply(&self, batch: &WriteBatch) -> rivulet_storage::Result<()> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(rivulet_storage::Error::Io(std::io::Error::other(
                "injected write failure",
            )));
        }
        self.unflushed.lock().unwrap().push(batch.clone());
        self.inner.apply(batch)
    }
    fn flush(&self) -> rivulet_storage::Result<()> {
        if self.fail_flush.swap(false, Ordering::SeqCst) {
            return Err(rivulet_storage::Error::Io(std::io::Error::other(
                "injected fsync failure",
            )));
        }
        for b in self.unflushed.lock().unwrap().drain(..) {
            self.durable.apply(&b)?;
        }
        self.inner.flush()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_reads_no_source_rows() {
    let engine = Arc::new(Instrumented::default());
    let db = Database::open(engine.clone(), Options::default()).unwrap();
    for sql in [
        "CREATE TABLE events (data JSONB) WITH (connector = 'webhook')",
        "CREATE TABLE users (id TEXT PRIMARY KEY, plan TEXT)",
        "CREATE MATERIALIZED VIEW by_type AS SELECT data->>'type' AS type, count(*) AS n, count(DISTINCT data->>'user') AS users, max(data->>'user') AS last FROM events GROUP BY 1",
        "CREATE MATERIALIZED VIEW by_plan AS SELECT u.plan, count(*) AS n FROM events e JOIN users u ON e.data->>'user' = u.id GROUP BY 1",
    ] {
        db.execute_ddl(stmt(sql)).await.unwrap();
    }
    let events = db.catalog().relation("events").unwrap().id;
    let users = db.catalog().relation("users").unwrap().id;
    for u in 0..10 {
        let plan = if u % 2 == 0 { "pro" } else { "free" };
        db.insert(
            users,
            vec![vec![Value::Text(format!("u{u}")), Value::Text(plan.into())]],
        )
        .await
        .unwrap();
    }
    for chunk in 0..20 {
        let rows = (0..100)
            .map(|i| {
                let n = chunk * 100 + i;
                doc(&format!(
                    r#"{{"type":"{}","user":"u{}"}}"#,
                    ["track", "page"][n % 2],
                    n % 10
                ))
            })
            .collect();
        db.insert(events, rows).await.unwrap();
    }
    let before_plan = texts(&db, "by_plan").await;
    db.shutdown();

    engine.row_reads.store(0, Ordering::Relaxed);
    let db = Database::open(engine.clone(), Options::default()).unwrap();
    assert_eq!(
        engine.row_reads.load(Ordering::Relaxed),
        0,
        "start-up read table or view rows"
    );
    // The state came back: new rows continue the aggregates and the join.
    db.insert(events, vec![doc(r#"{"type":"track","user":"u0"}"#)])
        .await
        .unwrap();
    assert_eq!(
        texts(&db, "by_type").await,
        vec!["page|1000|5|u9", "track|1001|5|u8"]
    );
    assert_eq!(before_plan, vec!["free|1000", "pro|1000"]);
    assert_eq!(texts(&db, "by_plan").await, vec!["free|1000", "pro|1001"]);
    // Removing the maximum finds the next one from the state table.
    db.insert(
        users,
        vec![vec![Value::Text("u0".into()), Value::Text("free".into())]],
    )
    .await
    .unwrap();
    assert_eq!(texts(&db, "by_plan").await, vec!["free|1201", "pro|800"]);
    db.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_fill_runs_while_ingest_continues() {
    let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
    let db = Database::open(engine.clone(), Options::default()).unwrap();
    db.execute_ddl(stmt("CREATE TABLE big (k INT PRIMARY KEY, g INT)"))
        .await
        .unwrap();
    db.execute_ddl(stmt("CREATE TABLE other (data JSONB)"))
        .await
        .unwrap();
    let big = db.catalog().relation("big").unwrap().id;
    let other = db.catalog().relation("other").unwrap().id;
    let total = 40_000;
    for start in (0..total).step_by(2000) {
        let rows = (start..start + 2000)
            .map(|k| vec![Value::Int4(k), Value::Int4(k % 7)])
            .collect();
        db.insert(big, rows).await.unwrap();
    }

    let created = Arc::new(AtomicBool::new(false));
    let create = {
        let db = db.clone();
        let created = created.clone();
        tokio::spawn(async move {
            db.execute_ddl(stmt(
                "CREATE MATERIALIZED VIEW per_g AS SELECT g, count(*) AS n, sum(k) AS s FROM big GROUP BY g",
            ))
            .await
            .unwrap();
            created.store(true, Ordering::SeqCst);
        })
    };
    // While the view back-fills: rows keep arriving in another table and in
    // the table being read, and a DDL statement waits its turn.
    let mut during = 0;
    let mut extra = 0;
    let started = Instant::now();
    while !created.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
        db.insert(other, vec![doc(r#"{"a":1}"#)]).await.unwrap();
        // Overwrites of early and late keys, and new keys.
        let k = [0, total - 1, total + extra][extra as usize % 3];
        db.insert(big, vec![vec![Value::Int4(k), Value::Int4(100)]])
            .await
            .unwrap();
        extra += 1;
        if !created.load(Ordering::SeqCst) {
            during += 1;
        }
    }
    create.await.unwrap();
    assert!(during > 0, "ingest stopped for the whole back-fill");

    // The view equals its query over the final rows.
    let q = rivulet_catalog::plan_query(
        match &stmt("SELECT g, count(*) AS n, sum(k) AS s FROM big GROUP BY g") {
            rivulet_sql::Statement::Query(q) => q,
            _ => unreachable!(),
        },
        &db.catalog(),
    )
    .unwrap();
    let flow = rivulet_stream::Dataflow::new(0, &q.root);
    let mut st = rivulet_stream::MemState::new();
    let mut ctx = rivulet_stream::EvalCtx::strict();
    let mut want: Vec<String> = Vec::new();
    let mut out = flow.init(&mut ctx, &mut st).unwrap();
    let rel = db.catalog().relation("big").unwrap().clone();
    out.extend(
        flow.push(
            big,
            &db.scan_rows_blocking(&rel).unwrap(),
            &mut ctx,
            &mut st,
        )
        .unwrap(),
    );
    for c in rivulet_stream::consolidate(out) {
        if let Some(r) = c.new {
            want.push(
                r.iter()
                    .map(|v| v.to_pg_text().unwrap_or("NULL".into()))
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
    }
    want.sort();
    assert_eq!(texts(&db, "per_g").await, want, "{during} inserts during");
    db.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_data_is_purged_in_the_background() {
    let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
    let db = Database::open(engine.clone(), Options::default()).unwrap();
    db.execute_ddl(stmt("CREATE TABLE t (k INT PRIMARY KEY, g INT)"))
        .await
        .unwrap();
    db.execute_ddl(stmt(
        "CREATE MATERIALIZED VIEW v AS SELECT g, max(k) AS m FROM t GROUP BY g",
    ))
    .await
    .unwrap();
    let t = db.catalog().relation("t").unwrap().id;
    let v = db.catalog().relation("v").unwrap().id;
    let rows = (0..10_000)
        .map(|k| vec![Value::Int4(k), Value::Int4(k % 3)])
        .collect();
    db.insert(t, rows).await.unwrap();
    db.execute_ddl(stmt("DROP TABLE t CASCADE")).await.unwrap();
    assert!(db.catalog().relation("t").is_none());
    let left = || {
        [
            keys::rows_prefix(t),
            keys::rows_prefix(v),
            keys::state_prefix(v),
            keys::purge_prefix(),
        ]
        .iter()
        .map(|p| engine.scan_prefix(p).unwrap().len())
        .sum::<usize>()
    };
    let started = Instant::now();
    while left() > 0 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left(), 0, "rows, state and markers of dropped relations");
    // A new table never reuses an id.
    db.execute_ddl(stmt("CREATE TABLE t (k INT)"))
        .await
        .unwrap();
    assert!(db.catalog().relation("t").unwrap().id > v);
    db.shutdown();
}

/// A format-1 row holding one JSONB document as format 1 wrote it: a tree
/// of tagged values (object: tag 6, count, then key and value pairs;
/// string: tag 4, length, bytes).
fn v1_row(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = vec![1, 9, 6, pairs.len() as u8];
    for (k, v) in pairs {
        out.push(k.len() as u8);
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&[4, v.len() as u8]);
        out.extend_from_slice(v.as_bytes());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn format_1_is_upgraded_once_and_unknown_formats_are_refused() {
    let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
    let mut b = WriteBatch::new();
    b.put(keys::meta("format_version"), b"1".to_vec());
    let catalog = [
        (1, "CREATE TABLE t (data JSONB) WITH (connector = 'webhook')"),
        (
            2,
            "CREATE MATERIALIZED VIEW v AS SELECT data->>'type' AS type, count(*) AS n FROM t GROUP BY 1",
        ),
        (3, "CREATE MATERIALIZED VIEW vv AS SELECT count(*) AS groups FROM v"),
    ];
    for (id, sql) in catalog {
        let obj = rivulet_catalog::StoredObject {
            id,
            sql: sql.into(),
            secret_value: None,
        };
        b.put(keys::catalog(id), obj.encode());
    }
    // Keys are in the order pairs must appear in (PostgreSQL key order).
    for (i, (ty, user)) in [("track", "a"), ("page", "b"), ("track", "c")]
        .iter()
        .enumerate()
    {
        b.put(
            keys::row(1, &keys::row_id(i as u64 + 1)),
            v1_row(&[("type", ty), ("user", user)]),
        );
    }
    // A stale view row that the upgrade must not keep.
    b.put(
        keys::row(2, b"stale"),
        rivulet_expr::encode_row(&[Value::Null]),
    );
    engine.apply(&b).unwrap();

    let db = Database::open(engine.clone(), Options::default()).unwrap();
    assert_eq!(texts(&db, "v").await, vec!["page|1", "track|2"]);
    assert_eq!(texts(&db, "vv").await, vec!["2"]);
    assert_eq!(texts(&db, "t").await.len(), 3);
    assert_eq!(
        engine.get(&keys::meta("format_version")).unwrap(),
        Some(b"5".to_vec())
    );
    assert!(!engine
        .scan_prefix(&keys::state_prefix(2))
        .unwrap()
        .is_empty());
    // Old rows read as documents; new ones join them.
    let t = db.catalog().relation("t").unwrap().id;
    db.insert(t, vec![doc(r#"{"type":"page","user":"d"}"#)])
        .await
        .unwrap();
    assert_eq!(texts(&db, "v").await, vec!["page|2", "track|2"]);
    // Row counts exist for old tables and rebuilt views alike.
    let rel = db.catalog().relation("t").unwrap().clone();
    assert_eq!(db.row_count_blocking(&rel).unwrap(), 4);
    let rel = db.catalog().relation("v").unwrap().clone();
    assert_eq!(db.row_count_blocking(&rel).unwrap(), 2);
    db.shutdown();

    // Formats 2 (rows one to an entry), 3 (view rows one to an entry)
    // and 4 (plain packs) are read as they are and marked 5.
    for old in [b"2", b"3", b"4"] {
        let mut b = WriteBatch::new();
        b.put(keys::meta("format_version"), old.to_vec());
        engine.apply(&b).unwrap();
        let db = Database::open(engine.clone(), Options::default()).unwrap();
        assert_eq!(texts(&db, "v").await, vec!["page|2", "track|2"]);
        assert_eq!(
            engine.get(&keys::meta("format_version")).unwrap(),
            Some(b"5".to_vec())
        );
        db.shutdown();
    }

    let mut b = WriteBatch::new();
    b.put(keys::meta("format_version"), b"7".to_vec());
    engine.apply(&b).unwrap();
    let err = Database::open(engine, Options::default())
        .err()
        .expect("format 7 must be refused");
    assert!(
        err.to_string().contains("storage format 7"),
        "unhelpful message: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_of_many_rows_are_exact() {
    let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
    let db = Database::open(engine, Options::default()).unwrap();
    db.execute_ddl(stmt("CREATE TABLE t (k INT PRIMARY KEY, g INT)"))
        .await
        .unwrap();
    db.execute_ddl(stmt(
        "CREATE MATERIALIZED VIEW per_g AS SELECT g, count(*) AS n, max(k) AS top FROM t GROUP BY g",
    ))
    .await
    .unwrap();
    let t = db.catalog().relation("t").unwrap().id;
    let rows = (0..10_000)
        .map(|k| vec![Value::Int4(k), Value::Int4(k % 2)])
        .collect();
    db.insert(t, rows).await.unwrap();
    // Spans several chunks: every third row goes, odd group's maximum
    // (9999) among them, so its next maximum comes from the state table.
    let filter = rivulet_catalog::Binder::new(&rivulet_catalog::Scope::of_relation(
        "t",
        &db.catalog().relation("t").unwrap().columns,
    ))
    .bind_predicate(&rivulet_sql::parse_expr("k % 3 = 0").unwrap(), "WHERE")
    .unwrap();
    assert_eq!(db.delete(t, Some(filter)).await.unwrap(), 3334);
    assert_eq!(
        texts(&db, "per_g").await,
        vec!["0|3333|9998", "1|3333|9997"]
    );
    let rel = db.catalog().relation("t").unwrap().clone();
    assert_eq!(db.row_count_blocking(&rel).unwrap(), 6666);
    assert_eq!(db.delete(t, None).await.unwrap(), 6666);
    assert_eq!(texts(&db, "per_g").await, Vec::<String>::new());
    db.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_group_is_never_acknowledged_nor_partly_visible() {
    let engine = Arc::new(Instrumented::default());
    let db = Database::open(engine.clone(), Options::default()).unwrap();
    db.execute_ddl(stmt("CREATE TABLE t (data JSONB)"))
        .await
        .unwrap();
    db.execute_ddl(stmt(
        "CREATE MATERIALIZED VIEW per_kind AS SELECT data->>'k' AS k, count(*) AS n, max(data->>'v') AS top FROM t GROUP BY 1",
    ))
    .await
    .unwrap();
    let t = db.catalog().relation("t").unwrap().id;
    db.insert(t, vec![doc(r#"{"k":"a","v":"1"}"#)])
        .await
        .unwrap();

    // The next group's batch fails: its many rows are refused as a whole.
    engine.fail_next.store(true, Ordering::SeqCst);
    let rows = (0..500)
        .map(|i| doc(&format!(r#"{{"k":"{}","v":"{i:03}"}}"#, ["a", "b"][i % 2])))
        .collect();
    assert!(
        db.insert(t, rows).await.is_err(),
        "a failed group was acknowledged"
    );
    assert_eq!(texts(&db, "per_kind").await, vec!["a|1|1"]);
    assert_eq!(texts(&db, "t").await.len(), 1);

    // The writer carries on from what is stored: state was not touched.
    db.insert(
        t,
        vec![doc(r#"{"k":"b","v":"9"}"#), doc(r#"{"k":"a","v":"0"}"#)],
    )
    .await
    .unwrap();
    assert_eq!(texts(&db, "per_kind").await, vec!["a|2|1", "b|1|9"]);
    db.shutdown();
    let db = Database::open(engine, Options::default()).unwrap();
    assert_eq!(texts(&db, "per_kind").await, vec!["a|2|1", "b|1|9"]);
    assert_eq!(texts(&db, "t").await.len(), 3);
    db.shutdown();
}

/// A flush that fails after its batch was applied: the group is not
/// acknowledged, the writer stops for good (nothing after it is
/// acknowledged either), and whichever way the disk turns out — the batch
/// lost or kept — a restart finds every view equal to its rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_flush_stops_the_writer_and_either_outcome_recovers() {
    let engine = Arc::new(Instrumented::default());
    let db = Database::open(engine.clone(), Options::default()).unwrap();
    db.execute_ddl(stmt("CREATE TABLE t (data JSONB)"))
        .await
        .unwrap();
    db.execute_ddl(stmt(
        "CREATE MATERIALIZED VIEW per_kind AS SELECT data->>'k' AS k, count(*) AS n FROM t GROUP BY 1",
    ))
    .await
    .unwrap();
    let t = db.catalog().relation("t").unwrap().id;
    db.insert(t, vec![doc(r#"{"k":"a"}"#)]).await.unwrap();

    engine.fail_flush.store(true, Ordering::SeqCst);
    let rows: Vec<_> = (0..300)
        .map(|i| doc(&format!(r#"{{"k":"{}"}}"#, ["a", "b"][i % 2])))
        .collect();
    assert!(
        db.insert(t, rows).await.is_err(),
        "a group whose flush failed was acknowledged"
    );
    let why = tokio::time::timeout(Duration::from_secs(10), db.failed())
        .await
        .expect("the writer reports that it stopped");
    assert!(why.contains("injected fsync failure"), "{why}");
    assert!(
        db.insert(t, vec![doc(r#"{"k":"c"}"#)]).await.is_err(),
        "a write after the failure was acknowledged"
    );
    drop(db);

    // The disk lost the batch: only what was flushed.
    let lost: Arc<dyn Engine> = engine.durable.clone();
    let db = Database::open(lost, Options::default()).unwrap();
    assert_eq!(texts(&db, "per_kind").await, vec!["a|1"]);
    assert_eq!(texts(&db, "t").await.len(), 1);
    db.shutdown();

    // The disk kept the batch: all of it, views included.
    let kept = Arc::new(MemoryEngine::new());
    let mut all = WriteBatch::new();
    engine
        .inner
        .for_each_prefix(&[], &mut |k, v| {
            all.put(k.to_vec(), v.to_vec());
            true
        })
        .unwrap();
    kept.apply(&all).unwrap();
    let db = Database::open(kept, Options::default()).unwrap();
    assert_eq!(texts(&db, "per_kind").await, vec!["a|151", "b|150"]);
    assert_eq!(texts(&db, "t").await.len(), 301);
    db.shutdown();
}
