//! Property test over the real binary: random materialized views, random
//! concurrent writes (NDJSON batches, Segment-signed JSON-array batches,
//! single events, SQL INSERT with primary-key overwrites of numerics with
//! different scales, DELETE, and CREATE/DROP MATERIALIZED VIEW), and
//! `kill -9` at random moments, twenty times. After every restart each view
//! — its rows and its row count — equals its query evaluated from scratch
//! over the rows that survived; every acknowledged event of the ledger
//! senders — each sent again now and then, at once or after a kill, as
//! senders retry, and deduplicated by its id — is stored exactly once and
//! every batch is there whole or not at all; every acknowledged CREATE or DROP is in the catalog; and ingest
//! carries on from the restored state.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use rivulet_tests::sign::hmac_sha1_hex;
use rivulet_tests::{rows, scalar, Gen, Server, TempDir};

const SECRET: &str = "kill-secret";

/// View queries over `e` (webhook events) and `t` (numbers by key).
const CANDIDATES: &[&str] = &[
    "SELECT data->>'kind' AS kind, count(*) AS n, count(DISTINCT data->>'user') AS users, max(data->>'user') AS top FROM e GROUP BY 1",
    "SELECT count(*) AS n, sum((data->>'n')::int) AS s, min((data->>'n')::int) AS lo FROM e",
    "SELECT data->>'user' AS u, (data->>'n')::int AS n FROM e WHERE (data->>'n')::int % 3 = 0",
    "SELECT t.k % 3 AS g, sum(t.x) AS s, avg(t.x) AS a, max(t.x) AS hi, count(DISTINCT t.x) AS d FROM t GROUP BY 1",
    "SELECT count(*) AS n, sum(t.x) AS s, min(t.x) AS lo FROM t",
    "SELECT e.data->>'user' AS u, t.x FROM e JOIN t ON (e.data->>'n')::int = t.k",
    "SELECT t.k, count(e.data) AS hits FROM t LEFT JOIN e ON (e.data->>'n')::int = t.k GROUP BY t.k",
    "SELECT DISTINCT data->>'kind' AS kind FROM e",
];

/// Views the DDL writer created, whose DROP it sent, and whose DROP was
/// acknowledged.
#[derive(Clone, Default)]
struct Ddl {
    created: std::collections::BTreeSet<String>,
    drop_sent: std::collections::BTreeSet<String>,
    dropped: std::collections::BTreeSet<String>,
}

/// How many times the server is killed.
const KILLS: u64 = 20;

const NUMBERS: &[&str] = &["12.5", "20", "3.000", "0.10", "7", "-1.25", "2.5000", "100"];

async fn sorted(c: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut r = rows(c, sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    r.sort();
    r
}

/// Checks every view against its query run ad hoc.
async fn check(server: &Server, views: &[(String, String)], when: &str) {
    let c = server.connect().await.unwrap();
    for (name, sql) in views {
        let stored = sorted(&c, &format!("SELECT * FROM {name}")).await;
        let fresh = sorted(&c, sql).await;
        assert_eq!(stored, fresh, "{when}: view {name} ({sql})");
        let count = scalar(&c, &format!("SELECT count(*) FROM {name}"))
            .await
            .unwrap();
        assert_eq!(
            count,
            Some(stored.len().to_string()),
            "{when}: row count of {name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_equal_their_queries_across_random_kills() {
    let seed: u64 = std::env::var("KILL_PROPERTY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_c0ff_ee11_2233);
    let mut g = Gen(seed);
    let dir = TempDir::new("kill-property");
    let mut server = Server::start(&dir.0, &[]).await.unwrap();
    let c = server.connect().await.unwrap();
    c.batch_execute(
        "CREATE TABLE e (data JSONB) WITH (connector = 'webhook', is_batched = true);
         CREATE TABLE ledger (data JSONB) WITH (connector = 'webhook', dedup_field = 'id');
         CREATE SECRET s WITH (backend = 'meta') AS 'kill-secret';
         CREATE TABLE arrays (data JSONB) WITH (connector = 'webhook', is_batched = true)
           VALIDATE SECRET s AS secure_compare(headers->>'x-signature', encode(hmac(s, data, 'sha1'), 'hex'));
         CREATE TABLE t (k INT PRIMARY KEY, x NUMERIC);",
    )
    .await
    .unwrap();
    let mut views: Vec<(String, String)> = Vec::new();
    for (i, sql) in CANDIDATES.iter().enumerate() {
        if g.below(4) != 0 {
            let name = format!("v{i}");
            c.batch_execute(&format!("CREATE MATERIALIZED VIEW {name} AS {sql}"))
                .await
                .unwrap();
            views.push((name, sql.to_string()));
        }
    }
    // A view on a view.
    if let Some((first, _)) = views.first().cloned() {
        let sql = format!("SELECT count(*) AS rows_of_first FROM {first}");
        c.batch_execute(&format!("CREATE MATERIALIZED VIEW vv AS {sql}"))
            .await
            .unwrap();
        views.push(("vv".into(), sql));
    }

    let mut sent = 0u64;
    // Every event the ledger writer had acknowledged, by id.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    // Acknowledged array batches (id, events), and DDL: views whose
    // CREATE, and whose DROP, was acknowledged.
    let batches = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, usize)>::new()));
    let ddl = std::sync::Arc::new(std::sync::Mutex::new(Ddl::default()));
    for round in 0..KILLS {
        // Writers run until the kill.
        let mut tasks = Vec::new();
        for w in 0..6u64 {
            let acked = acked.clone();
            let batches = batches.clone();
            let ddl = ddl.clone();
            let hook = server.hook();
            let pg = server.connect().await.unwrap();
            let mut g = Gen(seed ^ (round * 31 + w + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let base = sent + w * 1_000_000;
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let r = match (w, g.below(4)) {
                        (4, _) => {
                            // A Segment batch: a JSON array signed over its
                            // first event.
                            let id = format!("a{round}-{i}");
                            let n = 1 + g.below(8) as usize;
                            let events: Vec<String> = (0..n)
                                .map(|j| format!(r#"{{"batch":"{id}","j":{j}}}"#))
                                .collect();
                            let sig = hmac_sha1_hex(SECRET, events[0].as_bytes());
                            let r = hook
                                .post(
                                    "/webhook/dev/public/arrays",
                                    &[("x-signature", &sig)],
                                    format!("[{}]", events.join(",")),
                                )
                                .await
                                .map(|(s, _)| s == 200);
                            if matches!(r, Ok(true)) {
                                batches.lock().unwrap().push((id, n));
                            }
                            r
                        }
                        (5, _) => {
                            // Views come and go while everything else runs.
                            let name = format!("d{round}_{i}");
                            let create = format!(
                                "CREATE MATERIALIZED VIEW {name} AS SELECT data->>'kind' AS kind, count(*) AS n FROM e GROUP BY 1"
                            );
                            match pg.batch_execute(&create).await {
                                Ok(()) => {
                                    ddl.lock().unwrap().created.insert(name.clone());
                                    if g.below(2) == 0 {
                                        ddl.lock().unwrap().drop_sent.insert(name.clone());
                                        let r = pg
                                            .batch_execute(&format!("DROP MATERIALIZED VIEW {name}"))
                                            .await;
                                        if r.is_ok() {
                                            ddl.lock().unwrap().dropped.insert(name);
                                        }
                                        r.map(|_| true).map_err(Into::into)
                                    } else {
                                        Ok(true)
                                    }
                                }
                                Err(e) => Err(e.into()),
                            }
                        }
                        (3, _) => {
                            // One event a request, each with its own id,
                            // sent again the way senders retry: at once
                            // (an answer that did not arrive), or after
                            // the kill (an id from the round before,
                            // stored or not). Each is stored once.
                            let id = if round > 0 && g.below(5) == 0 {
                                format!("r{}-{}", round - 1, g.below(40))
                            } else {
                                format!("r{round}-{i}")
                            };
                            let mut r = Ok(false);
                            for _ in 0..1 + g.below(2) {
                                r = hook
                                    .post(
                                        "/webhook/dev/public/ledger",
                                        &[],
                                        format!(r#"{{"id":"{id}"}}"#),
                                    )
                                    .await
                                    .map(|(s, _)| s == 200);
                                if matches!(r, Ok(true)) {
                                    acked.lock().unwrap().push(id.clone());
                                }
                                if r.is_err() {
                                    break;
                                }
                            }
                            r
                        }
                        (0, _) => {
                            let body: Vec<String> = (0..1 + g.below(20))
                                .map(|j| {
                                    format!(
                                        r#"{{"kind":"{}","user":"u{}","n":{}}}"#,
                                        g.pick(&["click", "view", "buy"]),
                                        g.below(7),
                                        (base + i * 100 + j) % 17
                                    )
                                })
                                .collect();
                            hook.post("/webhook/dev/public/e", &[], body.join("\n"))
                                .await
                                .map(|(s, _)| s == 200)
                        }
                        (_, 0) => pg
                            .batch_execute(&format!("DELETE FROM t WHERE k = {}", g.below(17)))
                            .await
                            .map(|_| true)
                            .map_err(Into::into),
                        (1, _) => pg
                            .batch_execute(&format!(
                                "INSERT INTO t VALUES ({}, {})",
                                g.below(17),
                                g.pick(NUMBERS)
                            ))
                            .await
                            .map(|_| true)
                            .map_err(Into::into),
                        _ => pg
                            .batch_execute(&format!(
                                "DELETE FROM e WHERE (data->>'n')::int = {}",
                                g.below(17)
                            ))
                            .await
                            .map(|_| true)
                            .map_err(Into::into),
                    };
                    if !matches!(r, Ok(true)) {
                        break; // the server is gone
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(100 + g.below(400))).await;
        server.kill9().await.unwrap();
        for t in tasks {
            t.await.unwrap();
        }
        sent += 10_000_000;
        server = server.restart().await.unwrap();
        check(&server, &views, &format!("seed {seed}, after kill {round}")).await;
        // Every acknowledged event is there exactly once; nothing is doubled.
        let c = server.connect().await.unwrap();
        let stored = rows(&c, "SELECT data->>'id' FROM ledger").await.unwrap();
        let mut seen = std::collections::HashSet::new();
        for r in &stored {
            let id = r[0].clone().unwrap_or_default();
            assert!(seen.insert(id.clone()), "kill {round}: {id} stored twice");
        }
        for id in acked.lock().unwrap().iter() {
            assert!(seen.contains(id), "kill {round}: acknowledged {id} lost");
        }
        // Array batches: whole or absent, each event once; acknowledged
        // ones whole.
        let stored = rows(&c, "SELECT data->>'batch', count(*), count(DISTINCT data->>'j'), max((data->>'j')::int) FROM arrays GROUP BY 1")
            .await
            .unwrap();
        let mut present = std::collections::HashMap::new();
        for r in &stored {
            let n: usize = r[1].as_deref().unwrap_or("0").parse().unwrap();
            let distinct: usize = r[2].as_deref().unwrap_or("0").parse().unwrap();
            let top: usize = r[3].as_deref().unwrap_or("0").parse().unwrap();
            let id = r[0].clone().unwrap_or_default();
            assert_eq!(n, distinct, "kill {round}: batch {id} has doubled events");
            assert_eq!(n, top + 1, "kill {round}: batch {id} is partly stored");
            present.insert(id, n);
        }
        for (id, n) in batches.lock().unwrap().iter() {
            assert_eq!(
                present.get(id),
                Some(n),
                "kill {round}: acknowledged batch {id}"
            );
        }
        // The catalog: acknowledged CREATEs there unless their DROP was
        // acknowledged too; every view there answers as its query does.
        let Ddl {
            created,
            drop_sent,
            dropped,
        } = ddl.lock().unwrap().clone();
        let listed: std::collections::BTreeSet<String> = rows(
            &c,
            "SELECT relname FROM pg_class WHERE relkind = 'm' AND relname LIKE 'd%'",
        )
        .await
        .unwrap()
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect();
        for name in &created {
            // A DROP cut off by the kill may or may not have committed.
            if drop_sent.contains(name) && !dropped.contains(name) {
                continue;
            }
            assert_eq!(
                listed.contains(name),
                !dropped.contains(name),
                "kill {round}: view {name} (dropped: {})",
                dropped.contains(name)
            );
        }
        for name in &listed {
            let sql = "SELECT data->>'kind' AS kind, count(*) AS n FROM e GROUP BY 1";
            assert_eq!(
                sorted(&c, &format!("SELECT * FROM {name}")).await,
                sorted(&c, sql).await,
                "kill {round}: view {name}"
            );
        }
    }
    assert!(
        acked.lock().unwrap().len() > KILLS as usize,
        "too few acknowledged events to prove anything"
    );
    assert!(
        batches.lock().unwrap().len() > KILLS as usize,
        "too few batches"
    );
    {
        let Ddl {
            created, dropped, ..
        } = &*ddl.lock().unwrap();
        assert!(created.len() > 2 && !dropped.is_empty(), "too little DDL");
        eprintln!(
            "verified: {} single events, {} array batches, {} views created, {} dropped, {KILLS} kills",
            acked.lock().unwrap().len(),
            batches.lock().unwrap().len(),
            created.len(),
            dropped.len()
        );
    }
    // State restored from storage keeps working for new writes.
    let c = server.connect().await.unwrap();
    c.batch_execute("INSERT INTO t VALUES (3, 1.5), (4, 2.25); DELETE FROM t WHERE k = 5")
        .await
        .unwrap();
    let (status, _) = server
        .post(
            "/webhook/dev/public/e",
            &[],
            r#"{"kind":"click","user":"u9","n":3}"#,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    check(
        &server,
        &views,
        &format!("seed {seed}, after the last restart"),
    )
    .await;
}
