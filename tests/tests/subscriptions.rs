//! Subscriptions against the real binary: `CREATE SUBSCRIPTION`, cursors
//! from each starting point (`SINCE now()`, `begin()`, a time, `FULL`),
//! each change's `op` and `rw_timestamp`, `FETCH ... WITH (timeout)` that
//! wakes when a webhook commits, changes kept across a restart and removed
//! past retention, and `COPY (SUBSCRIBE TO ...) TO STDOUT` streaming a
//! snapshot and then each commit. The psycopg client check
//! (`tests/clients/subscription_check.py`) adds kill -9.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use rivulet_tests::{rows, sql_error, Server, TempDir};

const SETUP: &str = "
CREATE TABLE orders (id INT PRIMARY KEY, status VARCHAR, amount INT) WITH (connector = 'webhook');
CREATE MATERIALIZED VIEW by_status AS SELECT status, count(*) AS n, sum(amount) AS total FROM orders GROUP BY status;
";

async fn order(s: &Server, id: i32, status: &str, amount: i32) {
    let body = format!(r#"{{"id":{id},"status":"{status}","amount":{amount}}}"#);
    let (code, text) = s
        .post("/webhook/dev/public/orders", &[], body)
        .await
        .unwrap();
    assert_eq!(code, 200, "{text}");
}

/// A FETCH's rows as text, without the `rw_timestamp` column (checked
/// separately), in the order they came.
async fn fetch(c: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    rows(c, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|mut r| {
            r.pop();
            r
        })
        .collect()
}

fn row(cells: &[&str]) -> Vec<Option<String>> {
    cells
        .iter()
        .map(|c| (*c != "NULL").then(|| c.to_string()))
        .collect()
}

#[tokio::test]
async fn cursors_read_each_change_from_where_they_start() {
    let dir = TempDir::new("subscriptions");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(SETUP).await.unwrap();
    order(&s, 1, "open", 10).await;
    c.batch_execute(
        "CREATE SUBSCRIPTION orders_sub FROM orders WITH (retention = '1h');
         CREATE SUBSCRIPTION status_sub FROM by_status WITH (retention = '1D');
         DECLARE full_cur SUBSCRIPTION CURSOR FOR status_sub FULL;
         DECLARE now_cur SUBSCRIPTION CURSOR FOR orders_sub;
         DECLARE begin_cur SUBSCRIPTION CURSOR FOR orders_sub SINCE begin();",
    )
    .await
    .unwrap();
    // FULL: the rows as they were, as inserts without a time.
    let snapshot = rows(&c, "FETCH 10 FROM full_cur").await.unwrap();
    assert_eq!(snapshot, vec![row(&["open", "1", "10", "Insert", "NULL"])]);

    let before = rivulet_tests::now_millis();
    order(&s, 2, "open", 5).await;
    order(&s, 1, "paid", 10).await; // an update of row 1
    c.batch_execute("DELETE FROM orders WHERE id = 2")
        .await
        .unwrap();
    let after = rivulet_tests::now_millis();

    let table_changes = vec![
        row(&["2", "open", "5", "Insert"]),
        row(&["1", "open", "10", "UpdateDelete"]),
        row(&["1", "paid", "10", "UpdateInsert"]),
        row(&["2", "open", "5", "Delete"]),
    ];
    assert_eq!(fetch(&c, "FETCH 10 FROM now_cur").await, table_changes);
    assert_eq!(
        fetch(&c, "FETCH 10 FROM now_cur").await,
        Vec::<Vec<_>>::new()
    );
    // One at a time gives the same, in the same order.
    let mut one_by_one = Vec::new();
    for _ in 0..5 {
        one_by_one.extend(fetch(&c, "FETCH NEXT FROM begin_cur").await);
    }
    assert_eq!(one_by_one, table_changes);

    // Commit times: milliseconds, in order, within the writes' span; one
    // commit's changes share theirs (the update's two rows).
    // Through the extended protocol, as drivers send it: typed columns.
    c.batch_execute("DECLARE t SUBSCRIPTION CURSOR FOR orders_sub SINCE begin()")
        .await
        .unwrap();
    let typed = c.query("FETCH ALL FROM t", &[]).await.unwrap();
    let ops: Vec<String> = typed.iter().map(|r| r.get::<_, String>("op")).collect();
    assert_eq!(ops, ["Insert", "UpdateDelete", "UpdateInsert", "Delete"]);
    let times: Vec<u64> = typed
        .iter()
        .map(|r| r.get::<_, i64>("rw_timestamp") as u64)
        .collect();
    assert_eq!(typed[0].get::<_, i32>("id"), 2);
    assert_eq!(times.len(), 4);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(times[1], times[2], "an update's two rows share a commit");
    assert!(
        times[0] >= before && times[3] <= after,
        "{before} {times:?} {after}"
    );

    // SINCE a time: the changes committed at or after it (the insert
    // too, when its commit fell in the same millisecond as the update's).
    c.batch_execute(&format!(
        "DECLARE since_cur SUBSCRIPTION CURSOR FOR orders_sub SINCE {}",
        times[1]
    ))
    .await
    .unwrap();
    let since: Vec<_> = table_changes
        .iter()
        .zip(&times)
        .filter(|(_, t)| **t >= times[1])
        .map(|(row, _)| row.clone())
        .collect();
    assert_eq!(fetch(&c, "FETCH 10 FROM since_cur").await, since);

    // The view's changes follow its groups.
    assert_eq!(
        fetch(&c, "FETCH 20 FROM full_cur").await,
        vec![
            row(&["open", "1", "10", "UpdateDelete"]),
            row(&["open", "2", "15", "UpdateInsert"]),
            row(&["open", "2", "15", "UpdateDelete"]),
            row(&["open", "1", "5", "UpdateInsert"]),
            row(&["paid", "1", "10", "Insert"]),
            row(&["open", "1", "5", "Delete"]),
        ]
    );

    let cursors = rows(&c, "SHOW SUBSCRIPTION CURSORS").await.unwrap();
    assert_eq!(cursors.len(), 5, "{cursors:?}");
    assert!(cursors.contains(&row(&["full_cur", "status_sub"])));
    assert_eq!(
        rows(&c, "SHOW SUBSCRIPTIONS").await.unwrap(),
        vec![row(&["orders_sub"]), row(&["status_sub"])]
    );
    // ... and through the extended protocol, described.
    let typed = c.query("SHOW SUBSCRIPTION CURSORS", &[]).await.unwrap();
    assert_eq!(typed.len(), 5);
    assert_eq!(typed[0].columns()[1].name(), "SubscriptionName");

    // Errors, each with its SQLSTATE.
    for (sql, state) in [
        ("DECLARE x SUBSCRIPTION CURSOR FOR nope", "42704"),
        (
            "DECLARE x SUBSCRIPTION CURSOR FOR orders_sub SINCE 99999999999999",
            "22023",
        ),
        (
            "DECLARE now_cur SUBSCRIPTION CURSOR FOR orders_sub",
            "42P03",
        ),
        ("FETCH 1 FROM nope WITH (timeout = '1s')", "34000"),
        ("FETCH 1 FROM now_cur WITH (timeout = 'soon')", "22023"),
        (
            "CREATE SUBSCRIPTION orders_sub FROM orders WITH (retention = '1h')",
            "42710",
        ),
        ("CREATE SUBSCRIPTION s FROM orders", "22023"),
        ("DROP TABLE orders", "2BP01"),
        ("DROP SUBSCRIPTION nope", "42704"),
    ] {
        assert_eq!(sql_error(&c, sql).await.0, state, "{sql}");
    }
    c.batch_execute("CLOSE now_cur; DROP SUBSCRIPTION status_sub")
        .await
        .unwrap();
    assert_eq!(sql_error(&c, "FETCH 1 FROM now_cur").await.0, "34000");
    // A cursor of a dropped subscription reads no more; a new
    // subscription of the same relation starts afresh, without the old
    // one's changes.
    assert_eq!(sql_error(&c, "FETCH 1 FROM full_cur").await.0, "42704");
    c.batch_execute(
        "CREATE SUBSCRIPTION status_sub FROM by_status WITH (retention = '1h');
         DECLARE fresh SUBSCRIPTION CURSOR FOR status_sub SINCE begin()",
    )
    .await
    .unwrap();
    assert!(rows(&c, "FETCH ALL FROM fresh").await.unwrap().is_empty());
    assert_eq!(sql_error(&c, "FETCH 1 FROM full_cur").await.0, "42704");
    order(&s, 9, "open", 1).await;
    assert_eq!(
        fetch(&c, "FETCH ALL FROM fresh").await,
        vec![row(&["open", "1", "1", "Insert"])]
    );
}

#[tokio::test]
async fn a_waiting_fetch_returns_when_a_webhook_commits() {
    let dir = TempDir::new("subscriptions-wait");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(SETUP).await.unwrap();
    c.batch_execute(
        "CREATE SUBSCRIPTION sub FROM by_status WITH (retention = '1h');
         DECLARE cur SUBSCRIPTION CURSOR FOR sub",
    )
    .await
    .unwrap();
    // Nothing comes: the timeout ends the wait with no rows.
    let started = Instant::now();
    assert!(fetch(&c, "FETCH 1 FROM cur WITH (timeout = '300ms')")
        .await
        .is_empty());
    assert!(started.elapsed() >= Duration::from_millis(290));

    let poster = {
        let hook = s.hook();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let body = r#"{"id":7,"status":"open","amount":3}"#;
            hook.post("/webhook/dev/public/orders", &[], body)
                .await
                .unwrap()
        })
    };
    // As RisingWave's: it waits until it has its count (here one) or the
    // timeout passes.
    let started = Instant::now();
    let got = fetch(&c, "FETCH NEXT FROM cur WITH (timeout = '20s')").await;
    assert_eq!(got, vec![row(&["open", "1", "3", "Insert"])]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the FETCH waited for its timeout instead of the commit"
    );
    assert_eq!(poster.await.unwrap().0, 200);
}

#[tokio::test]
async fn changes_survive_a_restart_and_go_past_retention() {
    let dir = TempDir::new("subscriptions-restart");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(SETUP).await.unwrap();
    c.batch_execute(
        "CREATE SUBSCRIPTION kept FROM orders WITH (retention = '1h');
         CREATE SUBSCRIPTION brief FROM by_status WITH (retention = '2 seconds')",
    )
    .await
    .unwrap();
    for i in 0..20 {
        order(&s, i, if i % 2 == 0 { "open" } else { "paid" }, i).await;
    }
    c.batch_execute("DECLARE early SUBSCRIPTION CURSOR FOR brief SINCE begin()")
        .await
        .unwrap();
    let first = rows(&c, "FETCH 1 FROM early").await.unwrap();
    let first_ts = first[0][4].clone().unwrap();
    drop(c);
    let mut s = s;
    s.terminate().await.unwrap();
    let s = s.restart().await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute("DECLARE again SUBSCRIPTION CURSOR FOR kept SINCE begin()")
        .await
        .unwrap();
    let kept = fetch(&c, "FETCH ALL FROM again").await;
    assert_eq!(kept.len(), 20);
    assert_eq!(kept[19], row(&["19", "paid", "19", "Insert"]));
    // New changes continue after the old ones, in order.
    order(&s, 100, "open", 1).await;
    let more = rows(&c, "FETCH ALL FROM again").await.unwrap();
    assert_eq!(more.len(), 1);

    // Past its retention, `brief` forgets: a cursor from an old time is
    // refused, one from its beginning starts after what was removed.
    c.batch_execute("DECLARE late SUBSCRIPTION CURSOR FOR brief SINCE begin()")
        .await
        .unwrap();
    assert!(!rows(&c, "FETCH ALL FROM late").await.unwrap().is_empty());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let declare = format!("DECLARE old SUBSCRIPTION CURSOR FOR brief SINCE {first_ts}");
        if let Err(e) = c.batch_execute(&declare).await {
            let db = e.as_db_error().unwrap();
            assert_eq!(db.code().code(), "22023", "{db:?}");
            assert!(db.message().contains("retention"), "{db:?}");
            break;
        }
        c.batch_execute("CLOSE old").await.unwrap();
        assert!(Instant::now() < deadline, "changes were never removed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    c.batch_execute("DECLARE fresh SUBSCRIPTION CURSOR FOR brief SINCE begin()")
        .await
        .unwrap();
    let left = rows(&c, "FETCH ALL FROM fresh").await.unwrap();
    assert!(
        left.iter()
            .all(|r| r[4].as_deref() > Some(first_ts.as_str())),
        "{left:?}"
    );
}

/// The next `n` lines of a `SUBSCRIBE` copy, without `mz_timestamp`,
/// fields joined by spaces.
async fn read(
    stream: &mut std::pin::Pin<Box<tokio_postgres::CopyOutStream>>,
    n: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("a line within 10 s")
            .unwrap()
            .unwrap();
        let text = String::from_utf8(chunk.to_vec()).unwrap();
        out.extend(text.lines().map(|l| {
            let mut f: Vec<&str> = l.split('\t').collect();
            f.remove(0);
            f.join(" ")
        }));
    }
    out
}

#[tokio::test]
async fn copy_subscribe_streams_a_snapshot_then_each_commit() {
    let dir = TempDir::new("subscribe-copy");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(SETUP).await.unwrap();
    order(&s, 1, "open", 10).await;
    let reader = s.connect().await.unwrap();
    let stream = reader
        .copy_out("COPY (SUBSCRIBE TO by_status) TO STDOUT")
        .await
        .unwrap();
    let mut stream = Box::pin(stream);
    assert_eq!(read(&mut stream, 1).await, vec!["1 open 1 10"]);
    order(&s, 2, "paid", 4).await;
    assert_eq!(read(&mut stream, 1).await, vec!["1 paid 1 4"]);
    order(&s, 3, "open", 1).await;
    assert_eq!(
        read(&mut stream, 2).await,
        vec!["-1 open 1 10", "1 open 2 11"]
    );
    // Without a snapshot: only what commits from now on.
    let quiet = s.connect().await.unwrap();
    let stream2 = quiet
        .copy_out("COPY (SUBSCRIBE by_status WITH (SNAPSHOT = false)) TO STDOUT")
        .await
        .unwrap();
    let mut stream2 = Box::pin(stream2);
    c.batch_execute("DELETE FROM orders WHERE id = 2")
        .await
        .unwrap();
    let chunk = tokio::time::timeout(Duration::from_secs(10), stream2.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let line = String::from_utf8(chunk.to_vec()).unwrap();
    assert!(line.ends_with("\t-1\tpaid\t1\t4\n"), "{line:?}");
    assert_eq!(read(&mut stream, 1).await, vec!["-1 paid 1 4"]);
    // Other statements still run while subscribers stream.
    assert_eq!(
        rows(&c, "SELECT count(*) FROM orders").await.unwrap()[0][0].as_deref(),
        Some("2")
    );
    assert_eq!(
        sql_error(&c, "COPY (SUBSCRIBE TO nope) TO STDOUT").await.0,
        "42P01"
    );
}
