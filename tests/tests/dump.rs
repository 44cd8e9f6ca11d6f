//! `rivulet dump --data`, replayed by psql into an empty Rivulet,
//! reproduces every relation and row; `--risingwave` leaves out what only
//! Rivulet accepts; secret values never appear.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rivulet_tests::sign::{segment, segment_track};
use rivulet_tests::{rows, Server, TempDir};

const SETUP: &str = r#"
CREATE SECRET seg_secret WITH (backend = 'meta') AS 'very-secret-value';
CREATE TABLE events (data JSONB)
  INCLUDE header 'user-agent' AS agent
  WITH (connector = 'webhook', dedup_field = 'messageId')
  VALIDATE SECRET seg_secret AS secure_compare(headers->>'x-signature', encode(hmac(seg_secret, data, 'sha1'), 'hex'));
CREATE TABLE orders (id varchar PRIMARY KEY, amount numeric, at timestamptz) WITH (connector = 'webhook');
CREATE TABLE notes (n int, body text, raw bytea, ok boolean, span interval, day date);
CREATE MATERIALIZED VIEW per_event AS SELECT data->>'event' AS event, count(*) AS n FROM events GROUP BY 1;
CREATE MATERIALIZED VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 10;
CREATE MATERIALIZED VIEW "Odd Name" AS SELECT n, upper(body) AS loud FROM notes;
CREATE VIEW paid (id, paid) AS SELECT id, amount FROM orders WHERE amount > 5;
CREATE MATERIALIZED VIEW paid_total AS SELECT sum(paid) AS total FROM paid;
CREATE SUBSCRIPTION per_event_changes FROM per_event WITH (retention = '1h');
COMMENT ON TABLE orders IS 'orders, as the shop''s webhook posts them';
COMMENT ON COLUMN orders.amount IS 'in euros';
COMMENT ON MATERIALIZED VIEW "Odd Name" IS 'shouted';
COMMENT ON VIEW paid IS 'paid orders';
"#;

async fn psql_file(s: &Server, file: &std::path::Path) -> std::process::Output {
    let (host, port) = s.pg_addr.rsplit_once(':').unwrap();
    tokio::process::Command::new("psql")
        .args([
            "-h", host, "-p", port, "-d", "dev", "-U", "root", "-X", "-q",
        ])
        .args(["-v", "ON_ERROR_STOP=1", "-f"])
        .arg(file)
        .output()
        .await
        .unwrap()
}

fn dump(s: &Server, args: &[&str]) -> std::process::Output {
    std::process::Command::new(rivulet_tests::rivulet_bin())
        .args(["dump", "--pg", &s.pg_addr])
        .args(args)
        .output()
        .unwrap()
}

async fn everything(c: &tokio_postgres::Client) -> Vec<(String, Vec<Vec<Option<String>>>)> {
    let mut out = Vec::new();
    for rel in [
        "events",
        "orders",
        "notes",
        "per_event",
        "big_orders",
        "\"Odd Name\"",
        "paid",
        "paid_total",
    ] {
        let mut r = rows(c, &format!("SELECT * FROM {rel}")).await.unwrap();
        r.sort();
        out.push((rel.to_string(), r));
    }
    out
}

#[tokio::test]
async fn a_dump_replays_into_an_empty_rivulet() {
    let dir = TempDir::new("dump");
    let a = Server::start(&dir.0.join("a"), &[]).await.unwrap();
    let c = a.connect().await.unwrap();
    c.batch_execute(SETUP).await.unwrap();
    for i in 0..50 {
        let body = segment_track(
            &format!("m-{i}"),
            &format!("u-{}", i % 7),
            if i % 3 == 0 {
                "Signed Up"
            } else {
                "Order Completed"
            },
        );
        let (h, sig) = segment("very-secret-value", body.as_bytes());
        let status = a
            .post(
                "/webhook/dev/public/events",
                &[(h, &sig), ("user-agent", "Segment (Actions)")],
                body,
            )
            .await
            .unwrap()
            .0;
        assert_eq!(status, 200);
    }
    for (id, amount) in [("o-1", "12.50"), ("o-2", "3"), ("o-3", "99.999")] {
        let body = format!(r#"{{"id":"{id}","amount":{amount},"at":"2026-11-29T10:00:00Z"}}"#);
        assert_eq!(
            a.post("/webhook/dev/public/orders", &[], body)
                .await
                .unwrap()
                .0,
            200
        );
    }
    c.batch_execute(
        r"INSERT INTO notes VALUES
            (1, E'tab\there\nnew line \\ backslash', '\x00ff', true, '1 day 02:03:04', '2026-02-28'),
            (2, NULL, NULL, NULL, NULL, NULL),
            (3, 'ünïcode ✓ and ''quotes''', '\x', false, '-3 months', '1999-12-31'),
            (4, '\.', '\x5c2e', true, '0', '2000-01-01')",
    )
    .await
    .unwrap();

    let out = dump(&a, &["--data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains("very-secret-value"),
        "a secret's value leaked:\n{text}"
    );
    assert!(text
        .contains("CREATE SECRET seg_secret WITH (backend = 'meta') AS '<value of seg_secret>';"));
    let file = dir.0.join("dump.sql");
    std::fs::write(&file, &text).unwrap();

    let b = Server::start(&dir.0.join("b"), &[]).await.unwrap();
    let replay = psql_file(&b, &file).await;
    assert!(
        replay.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let cb = b.connect().await.unwrap();
    assert_eq!(everything(&cb).await, everything(&c).await);
    let comments = "SELECT c.relname, d.objsubid, d.description FROM pg_description d JOIN pg_class c ON c.oid = d.objoid ORDER BY 1, 2";
    assert_eq!(
        rows(&cb, comments).await.unwrap(),
        rows(&c, comments).await.unwrap()
    );
    assert_eq!(rows(&cb, comments).await.unwrap().len(), 4);
    let subs = "SELECT name, definition, retention_seconds FROM rw_catalog.rw_subscriptions";
    assert_eq!(
        rows(&cb, subs).await.unwrap(),
        rows(&c, subs).await.unwrap()
    );
    assert_eq!(rows(&cb, subs).await.unwrap().len(), 1);
    // The replayed tables keep working: a retry of an old event is still
    // new there (ids are not dumped), a new one is stored and counted.
    let body = segment_track("m-new", "u-1", "Signed Up");
    let (h, sig) = segment("<value of seg_secret>", body.as_bytes());
    assert_eq!(
        b.post("/webhook/dev/public/events", &[(h, &sig)], body)
            .await
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        rows(&cb, "SELECT n FROM per_event WHERE event = 'Signed Up'")
            .await
            .unwrap(),
        vec![vec![Some("18".to_string())]]
    );

    // For RisingWave: Rivulet's own options become comments.
    let out = dump(&a, &["--risingwave"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("-- Rivulet only, left out: INCLUDE header 'user-agent' AS agent\n"),
        "{text}"
    );
    assert!(
        text.contains("-- Rivulet only, left out: dedup_field = 'messageId'\n"),
        "{text}"
    );
    assert!(!text.contains("COPY"), "{text}");
    let create = text
        .lines()
        .find(|l| l.starts_with("CREATE TABLE events"))
        .unwrap();
    assert!(
        !create.contains("INCLUDE") && !create.contains("dedup"),
        "{create}"
    );
    assert!(
        create.contains("VALIDATE SECRET seg_secret AS secure_compare("),
        "{create}"
    );
    assert!(!dump(&a, &["--risingwave", "--data"]).status.success());
}
