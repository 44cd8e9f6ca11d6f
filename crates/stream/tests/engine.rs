//! The engine over the in-memory storage: group commit, primary-key
//! overwrites within one group, view maintenance and recovery.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rivulet_storage::{Engine, MemoryEngine};
use rivulet_stream::{Database, Options};

mod common;

use common::{doc, stmt, texts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_group_and_recover() {
    let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
    let db = Database::open(engine.clone(), Options::default()).unwrap();
    db.execute_ddl(stmt(
        "CREATE TABLE t (data JSONB PRIMARY KEY) WITH (connector = 'webhook')",
    ))
    .await
    .unwrap();
    db.execute_ddl(stmt(
        "CREATE TABLE log (data JSONB) WITH (connector = 'webhook')",
    ))
    .await
    .unwrap();
    db.execute_ddl(stmt(
        "CREATE MATERIALIZED VIEW ids AS SELECT data->>'id' AS id FROM t",
    ))
    .await
    .unwrap();
    let t = db.catalog().relation("t").unwrap().id;
    let log = db.catalog().relation("log").unwrap().id;

    // Many concurrent writers: the same 10 payloads over and over (which
    // collapse), plus distinct rows into a table without a key.
    let mut tasks = Vec::new();
    for i in 0..200 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.insert(t, vec![doc(&format!(r#"{{"id":"{}"}}"#, i % 10))])
                .await
                .unwrap();
            db.insert(log, vec![doc(&format!(r#"{{"n":{i}}}"#))])
                .await
                .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(texts(&db, "ids").await.len(), 10);
    assert_eq!(texts(&db, "log").await.len(), 200);

    // Delete retracts from the view.
    let filter = rivulet_catalog::Binder::new(&rivulet_catalog::Scope::of_relation(
        "t",
        &db.catalog().relation("t").unwrap().columns,
    ))
    .bind_predicate(
        &rivulet_sql::parse_expr("data->>'id' < '5'").unwrap(),
        "WHERE",
    )
    .unwrap();
    assert_eq!(db.delete(t, Some(filter)).await.unwrap(), 5);
    assert_eq!(texts(&db, "ids").await, vec!["5", "6", "7", "8", "9"]);
    db.shutdown();

    // Reopen over the same storage: catalog, rows and views are back, and
    // new rows get fresh ids instead of overwriting old ones.
    let db = Database::open(engine, Options::default()).unwrap();
    assert_eq!(texts(&db, "ids").await, vec!["5", "6", "7", "8", "9"]);
    let log = db.catalog().relation("log").unwrap().id;
    db.insert(log, vec![doc(r#"{"n":"after"}"#)]).await.unwrap();
    assert_eq!(texts(&db, "log").await.len(), 201);
    // A view created now is back-filled.
    db.execute_ddl(stmt("CREATE MATERIALIZED VIEW late AS SELECT data->'n' AS n FROM log WHERE data->>'n' = 'after'"))
        .await
        .unwrap();
    assert_eq!(texts(&db, "late").await, vec![r#""after""#]);
    db.shutdown();
}

/// Delivery ids are stored once per window, and forgotten after it: what
/// is remembered stays bounded by one window's deliveries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_ids_are_kept_for_their_window_only() {
    use rivulet_storage::keys;
    use rivulet_stream::DeliveryIds;
    let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
    let db = Database::open(engine.clone(), Options::default()).unwrap();
    db.execute_ddl(stmt(
        "CREATE TABLE t (data JSONB) WITH (connector = 'webhook', dedup_field = 'id', dedup_window = '1 second')",
    ))
    .await
    .unwrap();
    let t = db.catalog().relation("t").unwrap().id;
    let ids =
        |n: &[&str]| DeliveryIds::Rows(n.iter().map(|i| Some(i.as_bytes().to_vec())).collect());
    let rows = |n: usize| {
        (0..n)
            .map(|i| doc(&format!(r#"{{"i":{i}}}"#)))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        db.deliver(t, rows(3), Some(ids(&["a", "b", "a"])))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        db.deliver(t, rows(2), Some(ids(&["b", "c"])))
            .await
            .unwrap(),
        1
    );
    let remembered = || {
        engine.scan_prefix(&keys::dedup_prefix(t)).unwrap().len()
            + engine
                .scan_prefix(&keys::dedup_by_time_prefix(t))
                .unwrap()
                .len()
    };
    assert_eq!(remembered(), 6, "a, b and c, by id and by time");
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    // Past the window "a" is new again; the old ids are swept after the
    // group.
    assert_eq!(db.deliver(t, rows(1), Some(ids(&["a"]))).await.unwrap(), 1);
    let started = std::time::Instant::now();
    while remembered() > 2 && started.elapsed().as_secs() < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        db.insert(t, rows(1)).await.unwrap();
    }
    assert_eq!(remembered(), 2, "only the new \"a\"");
    assert_eq!(db.deliver(t, rows(1), Some(ids(&["a"]))).await.unwrap(), 0);
    let one = DeliveryIds::Request(b"req".to_vec());
    assert_eq!(db.deliver(t, rows(3), Some(one.clone())).await.unwrap(), 3);
    assert_eq!(db.deliver(t, rows(3), Some(one)).await.unwrap(), 0);
    db.shutdown();
}

/// A delivery finding the writer's queue full is refused at once (the
/// webhook listener answers 503), where SQL would wait; what was taken is
/// stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_refused_when_the_queue_is_full() {
    let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
    let options = Options {
        queue_depth: 1,
        ..Options::default()
    };
    let db = Database::open(engine, options).unwrap();
    db.execute_ddl(stmt(
        "CREATE TABLE t (data JSONB) WITH (connector = 'webhook')",
    ))
    .await
    .unwrap();
    db.execute_ddl(stmt(
        "CREATE MATERIALIZED VIEW v AS SELECT data->>'k' AS k, count(*) AS n FROM t GROUP BY 1",
    ))
    .await
    .unwrap();
    let t = db.catalog().relation("t").unwrap().id;
    // A large insert keeps the writer busy while deliveries arrive.
    let big: Vec<_> = (0..200_000)
        .map(|i| doc(&format!(r#"{{"k":"{}"}}"#, i % 1000)))
        .collect();
    let slow = {
        let db = db.clone();
        tokio::spawn(async move { db.insert(t, big).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.deliver(t, vec![doc(r#"{"k":"x"}"#)], None).await })
        })
        .collect();
    let mut stored = 0;
    let mut busy = 0;
    for t in tries {
        match t.await.unwrap() {
            Ok(n) => stored += n,
            Err(rivulet_stream::Error::Busy) => busy += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(slow.await.unwrap().unwrap(), 200_000);
    assert!(busy >= 7, "{busy} refused");
    assert_eq!(
        texts(&db, "v")
            .await
            .iter()
            .filter(|r| r.starts_with("x|"))
            .count(),
        usize::from(stored > 0)
    );
    db.shutdown();
}
