//! Property test over the real binary: random materialized views, random
//! concurrent writes (webhook batches, primary-key overwrites of numerics
//! with different scales, deletes), and `kill -9` at random moments, twenty
//! times. After every restart each view — its rows and its row count —
//! equals its query evaluated from scratch over the rows that survived,
//! every acknowledged event of a ledger sender is stored exactly once, and
//! ingest carries on from the restored state.

use std::time::Duration;

use rivulet_tests::{rows, scalar, Gen, Server, TempDir};

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
         CREATE TABLE ledger (data JSONB) WITH (connector = 'webhook');
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
    for round in 0..KILLS {
        // Writers run until the kill.
        let mut tasks = Vec::new();
        for w in 0..4u64 {
            let acked = acked.clone();
            let hook = server.hook();
            let pg = server.connect().await.unwrap();
            let mut g = Gen(seed ^ (round * 31 + w + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let base = sent + w * 1_000_000;
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let r = match (w, g.below(4)) {
                        (3, _) => {
                            // One event a request, each with its own id.
                            let id = format!("r{round}-{i}");
                            let r = hook
                                .post(
                                    "/webhook/dev/public/ledger",
                                    &[],
                                    format!(r#"{{"id":"{id}"}}"#),
                                )
                                .await
                                .map(|(s, _)| s == 200);
                            if matches!(r, Ok(true)) {
                                acked.lock().unwrap().push(id);
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
    }
    assert!(
        acked.lock().unwrap().len() > KILLS as usize,
        "too few acknowledged events to prove anything"
    );
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
