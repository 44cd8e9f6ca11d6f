//! `rivulet-bench`: the numbers in docs/benchmarks.md.
//!
//! 1. Ingest: Segment-signed single-event webhooks (64 keep-alive
//!    connections) into a table with 1, 10 and 50 materialized views:
//!    events per second, the wall-clock cost per event, and latency.
//! 2. Reads: the latency of `SELECT * FROM` an aggregate view as the table
//!    grows to 1M events, next to PostgreSQL 15 computing the same answer
//!    from a plain view.
//!
//! Run against a release build:
//!
//! ```sh
//! cargo build --release -p rivulet-server
//! RIVULET_BIN=target/release/rivulet cargo run --release -p rivulet-tests --bin rivulet-bench
//! ```
//!
//! `BENCH_EVENTS` (default 20000) and `BENCH_ROWS` (default 1000000) scale
//! the two parts.

use std::time::{Duration, Instant};

use anyhow::Result;
use rivulet_tests::oracle::Oracle;
use rivulet_tests::sign::{segment, segment_track};
use rivulet_tests::{Server, TempDir};

const SECRET: &str = "bench-secret";

/// View definitions cycled to reach N views: the kinds real dashboards use.
const VIEW_KINDS: &[&str] = &[
    "SELECT data->>'event' AS event, data->>'userId' AS user_id, (data->>'timestamp')::timestamptz AS ts FROM events",
    "SELECT data->>'event' AS event, count(*) AS n FROM events GROUP BY 1",
    "SELECT date_trunc('minute', (data->>'timestamp')::timestamptz) AS minute, count(*) AS n, count(DISTINCT data->>'userId') AS users FROM events GROUP BY 1",
    "SELECT data->'properties'->>'plan' AS plan, sum((data->'properties'->>'revenue')::numeric) AS revenue FROM events WHERE data->>'type' = 'track' GROUP BY 1",
    "SELECT data->>'messageId' AS id FROM events WHERE (data->'properties'->>'revenue')::numeric > 30",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn ingest(views: usize, events: usize) -> Result<(f64, Duration, Duration)> {
    let dir = TempDir::new("bench-ingest");
    let server = Server::start(&dir.0, &[]).await?;
    let c = server.connect().await?;
    c.batch_execute(&format!(
        "CREATE SECRET s AS '{SECRET}';
         CREATE TABLE events (data JSONB) WITH (connector = 'webhook')
           VALIDATE SECRET s AS secure_compare(headers->>'x-signature', encode(hmac(s, data, 'sha1'), 'hex'));"
    ))
    .await?;
    for i in 0..views {
        c.batch_execute(&format!(
            "CREATE MATERIALIZED VIEW v{i} AS {}",
            VIEW_KINDS[i % VIEW_KINDS.len()]
        ))
        .await?;
    }
    // Sign before timing: the sender's work is not Rivulet's.
    let bodies: Vec<(String, String)> = (0..events)
        .map(|i| {
            let body = segment_track(
                &format!("m-{i}"),
                &format!("user-{}", i % 500),
                "Order Completed",
            );
            let sig = segment(SECRET, body.as_bytes()).1;
            (body, sig)
        })
        .collect();
    let connections = 64;
    let per = events.div_ceil(connections);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for chunk in bodies.chunks(per) {
        let hook = server.hook();
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(chunk.len());
            for (body, sig) in chunk {
                let t = Instant::now();
                let (status, text) = hook
                    .post(
                        "/webhook/dev/public/events",
                        &[("x-signature", &sig), ("content-type", "application/json")],
                        body,
                    )
                    .await?;
                anyhow::ensure!(status == 200, "status {status}: {text}");
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut lat = Vec::with_capacity(events);
    for t in tasks {
        lat.extend(t.await??);
    }
    let elapsed = start.elapsed();
    lat.sort();
    let n: i64 = c
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .map_or_else(|_| Ok::<i64, anyhow::Error>(0), |r| Ok(r.get(0)))?;
    let n = if n == 0 {
        rivulet_tests::scalar(&c, "SELECT count(*) FROM events")
            .await?
            .unwrap_or_default()
            .parse()
            .unwrap_or(0)
    } else {
        n
    };
    anyhow::ensure!(n as usize == events, "stored {n} of {events}");
    Ok((
        events as f64 / elapsed.as_secs_f64(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
    ))
}

/// The aggregate view both systems answer.
const AGG_VIEW: &str = "SELECT data->>'type' AS type, date_trunc('minute', (data->>'timestamp')::timestamptz) AS minute, count(*) AS n, count(DISTINCT data->>'userId') AS users, sum((data->'properties'->>'revenue')::numeric) AS revenue FROM events GROUP BY 1, 2";

fn bulk_event(i: usize) -> String {
    let minute = (i / 1000) % 60;
    let kind = ["track", "track", "page", "identify"][i % 4];
    format!(
        r#"{{"messageId":"m-{i}","type":"{kind}","userId":"user-{}","timestamp":"2015-12-12T19:{minute:02}:{:02}.000Z","properties":{{"plan":"pro","revenue":{}.{:02}}},"context":{{"ip":"203.0.113.7"}}}}"#,
        i % 5000,
        i % 60,
        i % 97,
        i % 100
    )
}

async fn median_query(c: &tokio_postgres::Client, sql: &str, runs: usize) -> Result<Duration> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        c.simple_query(sql).await?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

async fn reads(total: usize) -> Result<Vec<(usize, Duration, Duration, f64, f64)>> {
    let dir = TempDir::new("bench-read");
    let server = Server::start(&dir.0, &[]).await?;
    let c = server.connect().await?;
    c.batch_execute(&format!(
        "CREATE TABLE events (data JSONB) WITH (connector = 'webhook', is_batched = true);
         CREATE MATERIALIZED VIEW agg AS {AGG_VIEW};"
    ))
    .await?;
    let oracle = Oracle::start().await?;
    let pg = &oracle.client;
    pg.batch_execute(&format!(
        "CREATE TABLE events (data JSONB); CREATE VIEW agg AS {AGG_VIEW};"
    ))
    .await?;

    let hook = server.hook();
    let checkpoints: Vec<usize> = [10_000, 100_000, 1_000_000]
        .into_iter()
        .filter(|&n| n <= total)
        .collect();
    let mut out = Vec::new();
    let mut loaded = 0;
    let batch = 5000;
    let (mut rv_ingest, mut pg_ingest) = (Duration::ZERO, Duration::ZERO);
    for &target in &checkpoints {
        while loaded < target {
            let lines: Vec<String> = (loaded..loaded + batch).map(bulk_event).collect();
            let t = Instant::now();
            let (status, text) = hook
                .post("/webhook/dev/public/events", &[], lines.join("\n"))
                .await?;
            anyhow::ensure!(status == 200, "{status}: {text}");
            rv_ingest += t.elapsed();
            let t = Instant::now();
            let values = lines
                .iter()
                .map(|l| format!("('{l}')"))
                .collect::<Vec<_>>()
                .join(",");
            pg.batch_execute(&format!("INSERT INTO events VALUES {values}"))
                .await?;
            pg_ingest += t.elapsed();
            loaded += batch;
        }
        let rv = median_query(&c, "SELECT * FROM agg", 21).await?;
        let pgt = median_query(pg, "SELECT * FROM agg", 5).await?;
        out.push((
            target,
            rv,
            pgt,
            loaded as f64 / rv_ingest.as_secs_f64(),
            loaded as f64 / pg_ingest.as_secs_f64(),
        ));
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> Result<()> {
    let events: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let total: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!("binary: {}", rivulet_tests::rivulet_bin().display());
    println!("\n## Ingest: {events} Segment-signed single-event webhooks, 64 connections\n");
    println!("| views | events/s | wall µs/event | p50 latency | p99 latency |");
    println!("|---|---|---|---|---|");
    for views in [1, 10, 50] {
        let (rate, p50, p99) = ingest(views, events).await?;
        println!(
            "| {views} | {rate:.0} | {:.1} | {:.2} ms | {:.2} ms |",
            1e6 / rate,
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
    println!("\n## Reading an aggregate view as the table grows (median latency)\n");
    println!("| events | Rivulet MV | PostgreSQL view | Rivulet ingest ev/s (batched) | PostgreSQL INSERT rows/s |");
    println!("|---|---|---|---|---|");
    for (n, rv, pg, rvi, pgi) in reads(total).await? {
        println!(
            "| {n} | {:.2} ms | {:.2} ms | {rvi:.0} | {pgi:.0} |",
            rv.as_secs_f64() * 1e3,
            pg.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
