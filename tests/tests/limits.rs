//! Connection limits and timeouts: a slow, stalled or idle client cannot
//! hold a connection forever, and a client beyond the cap is told so at
//! once — 503 with `Retry-After` on the webhook port, PostgreSQL's 53300
//! on the Postgres port — while the server keeps serving.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use rivulet_tests::{scalar, Server, TempDir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the peer closes (or `limit` passes); returns what arrived
/// and how long the close took.
async fn read_to_close(s: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(limit, s.read_to_end(&mut out)).await;
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

#[tokio::test]
async fn stalled_and_idle_webhook_clients_are_cut_off() {
    let dir = TempDir::new("limits-timeouts");
    let server = Server::start(&dir.0, &["--webhook-read-timeout", "1"])
        .await
        .unwrap();
    let c = server.connect().await.unwrap();
    c.batch_execute("CREATE TABLE t (data JSONB) WITH (connector = 'webhook')")
        .await
        .unwrap();

    // Half a header, then silence: closed after the read timeout.
    let mut half = TcpStream::connect(&server.webhook_addr).await.unwrap();
    half.write_all(b"POST /webhook/dev/public/t HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // An idle connection that never sends anything.
    let mut idle = TcpStream::connect(&server.webhook_addr).await.unwrap();
    // Headers, then part of the body: 408, nothing stored.
    let mut slow = TcpStream::connect(&server.webhook_addr).await.unwrap();
    slow.write_all(
        b"POST /webhook/dev/public/t HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":",
    )
    .await
    .unwrap();

    let (_, took) = read_to_close(&mut half, Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(5), "half header kept {took:?}");
    let (_, took) = read_to_close(&mut idle, Duration::from_secs(10)).await;
    assert!(
        took < Duration::from_secs(5),
        "idle connection kept {took:?}"
    );
    let (text, took) = read_to_close(&mut slow, Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(5), "half body kept {took:?}");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM t").await.unwrap(),
        Some("0".into())
    );
    // Senders that send promptly are unaffected.
    let (status, body) = server
        .post("/webhook/dev/public/t", &[], r#"{"ok":true}"#)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn clients_beyond_the_caps_are_refused_at_once() {
    let dir = TempDir::new("limits-caps");
    let server = Server::start(
        &dir.0,
        &["--webhook-max-connections", "2", "--max-connections", "2"],
    )
    .await
    .unwrap();

    // Webhook port: two connections held open, the third is refused.
    let _a = TcpStream::connect(&server.webhook_addr).await.unwrap();
    let _b = TcpStream::connect(&server.webhook_addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(&server.webhook_addr).await.unwrap();
    let (text, took) = read_to_close(&mut third, Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(2), "refusal took {took:?}");
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("Retry-After: 1"), "{text}");

    // Postgres port: two sessions, the third gets 53300.
    let first = server.connect().await.unwrap();
    let second = server.connect().await.unwrap();
    let err = match server.connect().await {
        Ok(_) => panic!("a third session was let in"),
        Err(e) => e,
    };
    let code = err
        .downcast_ref::<tokio_postgres::Error>()
        .and_then(|e| e.code())
        .map(|c| c.code().to_string());
    assert_eq!(code.as_deref(), Some("53300"), "{err:?}");
    // psql, which asks for SSL first, gets the same answer.
    let out = std::process::Command::new("psql")
        .args([
            "-h",
            server.pg_addr.split(':').next().unwrap_or("127.0.0.1"),
        ])
        .args(["-p", server.pg_addr.rsplit(':').next().unwrap_or("0")])
        .args(["-U", "root", "-d", "dev", "-c", "SELECT 1"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("too many clients"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Room again once a session ends; the others still work.
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let again = server.connect().await.unwrap();
    assert_eq!(scalar(&again, "SELECT 1").await.unwrap(), Some("1".into()));
    assert_eq!(scalar(&second, "SELECT 2").await.unwrap(), Some("2".into()));
}

/// An accepted document nested as deep as input allows, wrapped deeper by
/// a view, never stops the server from starting again.
#[tokio::test]
async fn deeply_nested_accepted_documents_survive_restarts() {
    let dir = TempDir::new("limits-nesting");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let c = server.connect().await.unwrap();
    c.batch_execute(
        "CREATE TABLE t (data JSONB) WITH (connector = 'webhook');
         CREATE MATERIALIZED VIEW wrapped AS SELECT jsonb_build_object('event', jsonb_build_object('payload', data)) AS w FROM t;
         CREATE MATERIALIZED VIEW wrapped_count AS SELECT count(*) AS n FROM wrapped;",
    )
    .await
    .unwrap();
    let depth = 511;
    let body = "[".repeat(depth) + &"]".repeat(depth);
    let (status, text) = server
        .post("/webhook/dev/public/t", &[], body)
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    let mut server = server;
    server.kill9().await.unwrap();
    let server = server.restart().await.unwrap();
    let c = server.connect().await.unwrap();
    assert_eq!(
        scalar(&c, "SELECT n FROM wrapped_count").await.unwrap(),
        Some("1".into())
    );
    let w = scalar(&c, "SELECT w FROM wrapped").await.unwrap().unwrap();
    assert!(
        w.starts_with(r#"{"event": {"payload": [[["#),
        "{}",
        &w[..40]
    );
}

/// SQL nested or chained deeper than the server walks gets PostgreSQL's
/// 54001 and the session (and server) carry on; up to that depth it runs.
#[tokio::test]
async fn deep_sql_is_refused_with_54001_not_a_crash() {
    let dir = TempDir::new("limits-deep-sql");
    let server = Server::start(&dir.0, &[]).await.unwrap();
    let c = server.connect().await.unwrap();
    let chain =
        |op: &str, term: &str, n: usize| std::iter::repeat_n(term, n).collect::<Vec<_>>().join(op);
    let refused = [
        format!("SELECT {}", chain(" + ", "1", 1_100)),
        format!("SELECT {}", chain(" || ", "'a'", 1_100)),
        format!("SELECT {}", chain(" AND ", "true", 1_100)),
        format!("SELECT {}", chain(" OR ", "false", 5_000)),
        format!("SELECT '{{}}'::jsonb{}", "->'a'".repeat(1_100)),
        format!("SELECT {} true", "NOT ".repeat(300)),
        format!("SELECT {}1{}", "(".repeat(300), ")".repeat(300)),
        format!("{} SELECT 1", "EXPLAIN ".repeat(3_000)),
        format!("SELECT 1 FROM {}", chain(", ", "pg_class", 1_100)),
    ];
    for sql in &refused {
        let (code, message) = rivulet_tests::sql_error(&c, sql).await;
        assert_eq!(code, "54001", "{}...", &sql[..60]);
        assert_eq!(message, "stack depth limit exceeded");
    }
    // Long but allowed chains run, here and in a maintained view.
    assert_eq!(
        scalar(&c, &format!("SELECT {}", chain(" + ", "1", 900)))
            .await
            .unwrap(),
        Some("900".into())
    );
    c.batch_execute(&format!(
        "CREATE TABLE n (a INT); CREATE MATERIALIZED VIEW deep AS SELECT {} AS s FROM n; INSERT INTO n VALUES (1)",
        chain(" + ", "a", 900)
    ))
    .await
    .unwrap();
    assert_eq!(
        scalar(&c, "SELECT s FROM deep").await.unwrap(),
        Some("900".into())
    );
}

/// Request bodies in flight share a memory budget: senders that stall
/// halfway cannot pin more than it, later senders are told to retry (503),
/// and the budget comes back when the stalled requests time out.
#[tokio::test]
async fn stalled_bodies_cannot_pin_more_than_the_budget() {
    let dir = TempDir::new("limits-bodies");
    let server = Server::start(
        &dir.0,
        &[
            "--memory-budget",
            "16MiB",
            "--webhook-max-body",
            "1048576",
            "--webhook-read-timeout",
            "1",
        ],
    )
    .await
    .unwrap();
    let c = server.connect().await.unwrap();
    c.batch_execute("CREATE TABLE t (data JSONB) WITH (connector = 'webhook')")
        .await
        .unwrap();
    // The budget is 2 MiB (an eighth of 16 MiB): two promised 900 kB
    // bodies take it.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(&server.webhook_addr).await.unwrap();
        s.write_all(
            b"POST /webhook/dev/public/t HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n\r\n{\"a\":",
        )
        .await
        .unwrap();
        stalled.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body) = server
        .post(
            "/webhook/dev/public/t",
            &[],
            format!("{{\"pad\":\"{}\"}}", "x".repeat(400_000)),
        )
        .await
        .unwrap();
    assert_eq!(status, 503, "{body}");
    // The stalled senders time out (408) and give their share back.
    for mut s in stalled {
        let (text, _) = read_to_close(&mut s, Duration::from_secs(10)).await;
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    }
    let (status, body) = server
        .post(
            "/webhook/dev/public/t",
            &[],
            format!("{{\"pad\":\"{}\"}}", "x".repeat(400_000)),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM t").await.unwrap(),
        Some("1".into())
    );
}

/// An NDJSON body of many tiny lines is charged for its rows, not just its
/// bytes: one that could never fit the budget is refused (413) before it
/// is parsed, and nothing is stored.
#[tokio::test]
async fn ndjson_rows_are_charged_against_the_budget() {
    let dir = TempDir::new("limits-rows");
    let server = Server::start(
        &dir.0,
        &["--memory-budget", "16MiB", "--webhook-max-body", "1048576"],
    )
    .await
    .unwrap();
    let c = server.connect().await.unwrap();
    c.batch_execute("CREATE TABLE b (data JSONB) WITH (connector = 'webhook', is_batched = true)")
        .await
        .unwrap();
    let (status, body) = server
        .post("/webhook/dev/public/b", &[], "1\n".repeat(300_000))
        .await
        .unwrap();
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("300000 rows"), "{body}");
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM b").await.unwrap(),
        Some("0".into())
    );
    let (status, body) = server
        .post("/webhook/dev/public/b", &[], "{\"n\":1}\n".repeat(5_000))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM b").await.unwrap(),
        Some("5000".into())
    );
}

/// A query whose rows are final as read (no ORDER BY, aggregate or join)
/// streams them: a full `SELECT *` of a table several times the memory
/// budget costs the server a few chunks, not the table, and LIMIT/OFFSET,
/// errors mid-stream and a client that hangs up mid-stream all behave.
#[tokio::test]
async fn large_results_stream_in_bounded_memory() {
    let dir = TempDir::new("limits-stream");
    let server = Server::start(&dir.0, &["--memory-budget", "32MiB"])
        .await
        .unwrap();
    let c = server.connect().await.unwrap();
    c.batch_execute(
        "CREATE TABLE big (data JSONB) WITH (connector = 'webhook', is_batched = true)",
    )
    .await
    .unwrap();
    let pad = "x".repeat(2_000);
    let total = 60_000;
    for start in (0..total).step_by(5_000) {
        let body: String = (start..start + 5_000)
            .map(|i| format!("{{\"i\":{i},\"pad\":\"{pad}\"}}\n"))
            .collect();
        let (status, text) = server
            .post("/webhook/dev/public/big", &[], body)
            .await
            .unwrap();
        assert_eq!(status, 200, "{text}");
    }
    let pid = server.pid().unwrap();
    let before = rivulet_tests::rss(pid);
    let watching = rivulet_tests::PeakRss::watch(pid);
    // About 120 MB of rows, read by a client that takes them as they come
    // (the simple protocol, as psql sends `SELECT * FROM big`).
    let rows = c.simple_query_raw("SELECT data FROM big").await.unwrap();
    futures::pin_mut!(rows);
    let mut n = 0;
    let mut bytes = 0;
    while let Some(msg) = futures::StreamExt::next(&mut rows).await {
        if let tokio_postgres::SimpleQueryMessage::Row(row) = msg.unwrap() {
            let v: serde_json::Value = serde_json::from_str(row.get(0).unwrap()).unwrap();
            bytes += v["pad"].as_str().unwrap().len();
            n += 1;
        }
    }
    let grew = watching.peak().saturating_sub(before);
    drop(watching);
    assert_eq!(n, total);
    assert_eq!(bytes, total * pad.len());
    assert!(
        grew < 64 << 20,
        "streaming {} MiB of rows grew the server by {} MiB",
        bytes >> 20,
        grew >> 20
    );

    // The extended protocol without a row limit (what tokio-postgres,
    // psycopg and JDBC send by default) streams too.
    let before = rivulet_tests::rss(pid);
    let watching = rivulet_tests::PeakRss::watch(pid);
    let rows = c
        .query_raw("SELECT data FROM big WHERE $1", [true])
        .await
        .unwrap();
    futures::pin_mut!(rows);
    let mut n = 0;
    while let Some(row) = futures::StreamExt::next(&mut rows).await {
        let v: serde_json::Value = row.unwrap().get(0);
        assert_eq!(v["pad"].as_str().map(str::len), Some(pad.len()));
        n += 1;
    }
    let grew = watching.peak().saturating_sub(before);
    drop(watching);
    assert_eq!(n, total);
    assert_eq!(rows.rows_affected(), Some(total as u64));
    assert!(
        grew < 64 << 20,
        "streaming through the extended protocol grew the server by {} MiB",
        grew >> 20
    );

    // LIMIT and OFFSET cut the stream.
    assert_eq!(
        rivulet_tests::rows(&c, "SELECT data->>'i' FROM big LIMIT 3 OFFSET 59998")
            .await
            .unwrap()
            .len(),
        2
    );
    // An error after rows were sent still reaches the client as an error.
    let (code, _) =
        rivulet_tests::sql_error(&c, "SELECT 1 / ((data->>'i')::int - 50000) FROM big").await;
    assert_eq!(code, "22012");
    // A cancel request stops a query while it streams.
    {
        let slow = server.connect().await.unwrap();
        let token = slow.cancel_token();
        let rows = slow.simple_query_raw("SELECT data FROM big").await.unwrap();
        futures::pin_mut!(rows);
        let first = futures::StreamExt::next(&mut rows).await;
        assert!(matches!(first, Some(Ok(_))));
        token.cancel_query(tokio_postgres::NoTls).await.unwrap();
        let mut seen = 0;
        let err = loop {
            match futures::StreamExt::next(&mut rows).await {
                Some(Ok(_)) => seen += 1,
                Some(Err(e)) => break e,
                None => panic!("the stream ended without the cancel"),
            }
        };
        assert!(seen < total, "every row arrived despite the cancel");
        assert_eq!(err.code().map(|c| c.code()), Some("57014"), "{err}");
        assert_eq!(scalar(&slow, "SELECT 1").await.unwrap(), Some("1".into()));
    }
    // A client that hangs up mid-stream leaves the server serving.
    {
        let gone = server.connect().await.unwrap();
        let rows = gone.simple_query_raw("SELECT data FROM big").await.unwrap();
        futures::pin_mut!(rows);
        let _ = futures::StreamExt::next(&mut rows).await;
    }
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM big").await.unwrap(),
        Some(total.to_string())
    );
}

/// What running queries hold (rows to sort, aggregate groups, DISTINCT
/// values, the kept side of a join) is bounded by `--query-memory`: a query that would
/// need more gets 53200 and gives everything back, the session and the
/// server carry on, and queries that fit still run.
#[tokio::test]
async fn queries_past_the_query_memory_limit_get_53200() {
    let dir = TempDir::new("limits-query-memory");
    let server = Server::start(&dir.0, &["--query-memory", "16MiB"])
        .await
        .unwrap();
    let c = server.connect().await.unwrap();
    c.batch_execute("CREATE TABLE t (data JSONB) WITH (connector = 'webhook', is_batched = true)")
        .await
        .unwrap();
    let pad = "y".repeat(1_000);
    let total = 30_000;
    for start in (0..total).step_by(5_000) {
        let body: String = (start..start + 5_000)
            .map(|i| format!("{{\"i\":{i},\"g\":{},\"pad\":\"{pad}{i}\"}}\n", i % 10))
            .collect();
        let (status, text) = server
            .post("/webhook/dev/public/t", &[], body)
            .await
            .unwrap();
        assert_eq!(status, 200, "{text}");
    }
    // About 30 MB each: sorted rows, DISTINCT values, aggregate groups and
    // one side of a join.
    for sql in [
        "SELECT data FROM t ORDER BY data->>'pad'",
        "SELECT count(DISTINCT data->>'pad') FROM t",
        "SELECT data->>'pad' AS p, count(*) FROM t GROUP BY 1",
        "SELECT count(*) FROM t a JOIN t b ON a.data->>'pad' = b.data->>'pad'",
    ] {
        for _ in 0..2 {
            let (code, message) = rivulet_tests::sql_error(&c, sql).await;
            assert_eq!(code, "53200", "{sql}: {message}");
            assert!(message.contains("16 MiB"), "{message}");
        }
    }
    // What fits still runs, on the same session: the failed queries gave
    // their memory back.
    assert_eq!(
        rivulet_tests::rows(
            &c,
            "SELECT data->>'g', count(*), count(DISTINCT data->>'i') FROM t GROUP BY 1 ORDER BY 1 LIMIT 2"
        )
        .await
        .unwrap(),
        vec![
            vec![Some("0".into()), Some("3000".into()), Some("3000".into())],
            vec![Some("1".into()), Some("3000".into()), Some("3000".into())],
        ]
    );
    assert_eq!(
        rivulet_tests::rows(&c, "SELECT data->>'i' FROM t ORDER BY 1 LIMIT 10")
            .await
            .unwrap()
            .len(),
        10
    );
    // A join of the 30 MB of documents with a small table keeps only the
    // small side: each document is answered as it is read.
    c.batch_execute(
        "CREATE TABLE groups (g INT PRIMARY KEY, name TEXT); \
         INSERT INTO groups VALUES (0, 'zero'), (1, 'one'), (2, 'two')",
    )
    .await
    .unwrap();
    let count = "SELECT count(*) FROM t, groups g WHERE (t.data->>'g')::int = g.g";
    assert_eq!(
        rivulet_tests::rows(&c, count).await.unwrap(),
        vec![vec![Some("9000".into())]]
    );
    let grouped = "SELECT g.name, count(*) FROM t JOIN groups g ON (t.data->>'g')::int = g.g \
                   GROUP BY 1 ORDER BY 1";
    let names = ["one", "two", "zero"];
    assert_eq!(
        rivulet_tests::rows(&c, grouped).await.unwrap(),
        names
            .iter()
            .map(|n| vec![Some(n.to_string()), Some("3000".into())])
            .collect::<Vec<_>>()
    );
    // COPY FROM STDIN holds its rows (and an unfinished line) against the
    // same limit: 53200, and nothing stored.
    for body in [
        "x".repeat(20 << 20),
        (0..30_000)
            .map(|i| format!("{{\"i\": \"{pad}{i}\"}}\n"))
            .collect(),
    ] {
        use futures::SinkExt;
        let sink = c.copy_in("COPY t FROM STDIN").await.unwrap();
        futures::pin_mut!(sink);
        for part in body.as_bytes().chunks(1 << 20) {
            sink.send(bytes::Bytes::copy_from_slice(part))
                .await
                .unwrap();
        }
        let err = sink.finish().await.unwrap_err();
        assert_eq!(err.code().map(|c| c.code()), Some("53200"), "{err}");
    }
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM t").await.unwrap(),
        Some(total.to_string())
    );
}
