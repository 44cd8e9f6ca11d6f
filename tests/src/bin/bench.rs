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
//!
//! `rivulet-bench scale` runs the scale mode instead: `BENCH_SCALE_EVENTS`
//! (default 5,000,000) Segment events into a table with the five dashboard
//! views, then the restart time after `kill -9`, memory during ingest and
//! after the restart, the data directory against the raw JSON, full-scan
//! queries beside PostgreSQL 15 over the same rows, and the back-fill of a
//! new aggregate view. `rivulet-bench scale-ingest` stops after the restart;
//! `BENCH_MEMORY_BUDGET` passes `--memory-budget`.

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

/// A Segment `track` event as the Webhooks (Actions) destination sends it,
/// varied by `i`.
fn scale_event(i: usize) -> String {
    let events = [
        "Order Completed",
        "Product Viewed",
        "Signed Up",
        "Checkout Started",
    ];
    let plans = ["free", "pro", "team"];
    format!(
        concat!(
            r#"{{"anonymousId":"anon-{u}","context":{{"ip":"203.0.113.{ip}","library":{{"name":"analytics.js","version":"2.11.1"}},"#,
            r#""page":{{"path":"/pricing","url":"https://example.com/pricing"}},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)"}},"#,
            r#""event":"{ev}","messageId":"m-{i:09}","originalTimestamp":"2015-12-12T{h:02}:{m:02}:{s:02}.152Z","#,
            r#""properties":{{"plan":"{plan}","revenue":{r}.{c:02},"currency":"USD","quantity":{q}}},"#,
            r#""receivedAt":"2015-12-12T{h:02}:{m:02}:{s:02}.266Z","sentAt":"2015-12-12T{h:02}:{m:02}:{s:02}.169Z","#,
            r#""timestamp":"2015-12-12T{h:02}:{m:02}:{s:02}.249Z","type":"track","userId":"user-{u}","version":2}}"#
        ),
        u = i % 50_000,
        ip = i % 250,
        ev = events[i % events.len()],
        i = i,
        h = (i / 3_600) % 24,
        m = (i / 60) % 60,
        s = i % 60,
        plan = plans[(i / 7) % plans.len()],
        r = i % 200,
        c = i % 100,
        q = 1 + i % 5,
    )
}

/// Resident memory of a process in bytes, from /proc.
fn rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// Samples a process's RSS every 100 ms until stopped; returns the peak.
fn watch_rss(
    pid: u32,
) -> (
    tokio::task::JoinHandle<u64>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut peak = 0;
        loop {
            peak = peak.max(rss(pid));
            tokio::select! {
                _ = &mut stopped => return peak.max(rss(pid)),
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    });
    (task, stop)
}

/// Bytes a directory tree occupies on disk.
fn disk_usage(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += disk_usage(&e.path()),
                Ok(m) => total += m.blocks() * 512,
                Err(_) => {}
            }
        }
    }
    total
}

fn mib(b: u64) -> String {
    format!("{:.0} MiB", b as f64 / (1 << 20) as f64)
}

async fn timed_query(
    c: &tokio_postgres::Client,
    sql: &str,
    runs: usize,
) -> Result<(Duration, String)> {
    let mut times = Vec::with_capacity(runs);
    let mut answer = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        answer = rivulet_tests::scalar(c, sql).await?.unwrap_or_default();
        times.push(t.elapsed());
    }
    times.sort();
    Ok((times[times.len() / 2], answer))
}

async fn scale(events: usize, ingest_only: bool) -> Result<()> {
    let dir = TempDir::new("bench-scale");
    let budget = std::env::var("BENCH_MEMORY_BUDGET").ok();
    let args: Vec<&str> = match &budget {
        Some(b) => vec!["--memory-budget", b],
        None => vec![],
    };
    let mut server = Server::start(&dir.0, &args).await?;
    let c = server.connect().await?;
    c.batch_execute(
        "CREATE TABLE events (data JSONB) WITH (connector = 'webhook', is_batched = true);",
    )
    .await?;
    for (i, v) in VIEW_KINDS.iter().enumerate() {
        c.batch_execute(&format!("CREATE MATERIALIZED VIEW v{i} AS {v}"))
            .await?;
    }
    println!(
        "\n## Scale: {events} Segment events, five dashboard views, --memory-budget {}\n",
        budget.as_deref().unwrap_or("default")
    );

    // Ingest: NDJSON requests of 5,000 events, four senders at a time.
    let pid = server.pid().unwrap_or(0);
    let (watch, stop) = watch_rss(pid);
    let batch = 5_000;
    let senders = 4;
    let raw = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..senders {
        let hook = server.hook();
        let raw = raw.clone();
        tasks.push(tokio::spawn(async move {
            let mut first = s * batch;
            while first < events {
                let last = (first + batch).min(events);
                let body: String = (first..last).map(|i| scale_event(i) + "\n").collect();
                raw.fetch_add(
                    (body.len() - (last - first)) as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
                let (status, text) = hook.post("/webhook/dev/public/events", &[], body).await?;
                anyhow::ensure!(status == 200, "{status}: {text}");
                first += senders * batch;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let ingest = start.elapsed();
    let _ = stop.send(());
    let ingest_peak = watch.await?;
    let raw = raw.load(std::sync::atomic::Ordering::Relaxed);
    let rss_before_kill = rss(pid);
    let data = disk_usage(&dir.0);
    println!("| what | Rivulet | PostgreSQL 15 |");
    println!("|---|---|---|");
    println!(
        "| ingest, batched NDJSON (5,000 per POST, 4 senders), all views maintained, durable | {:.0} events/s | |",
        events as f64 / ingest.as_secs_f64()
    );
    println!("| peak RSS during ingest | {} | |", mib(ingest_peak));
    println!("| RSS before kill -9 | {} | |", mib(rss_before_kill));
    println!(
        "| data directory / raw JSON ({}) | {} ({:.2}x) | |",
        mib(raw),
        mib(data),
        data as f64 / raw as f64
    );

    // Restart after kill -9 until every view answers.
    server.kill9().await?;
    let t = Instant::now();
    let server = server.restart().await?;
    let c = server.connect().await?;
    for i in 0..VIEW_KINDS.len() {
        c.simple_query(&format!("SELECT * FROM v{i} LIMIT 1"))
            .await?;
    }
    let restart = t.elapsed();
    let pid = server.pid().unwrap_or(0);
    let rss_after = rss(pid);
    println!(
        "| restart after kill -9 until all five views answer | {:.0} ms | |",
        restart.as_secs_f64() * 1e3
    );
    println!("| RSS after restart (views read) | {} | |", mib(rss_after));

    if ingest_only {
        return Ok(());
    }
    // PostgreSQL 15 with the same rows, loaded by COPY.
    let oracle = Oracle::start().await?;
    let pg = &oracle.client;
    pg.batch_execute("CREATE TABLE events (data JSONB)").await?;
    {
        use futures::SinkExt;
        let sink = pg.copy_in("COPY events (data) FROM STDIN").await?;
        futures::pin_mut!(sink);
        for first in (0..events).step_by(batch) {
            let chunk: String = (first..(first + batch).min(events))
                .map(|i| scale_event(i).replace('\\', "\\\\") + "\n")
                .collect();
            sink.send(bytes::Bytes::from(chunk)).await?;
        }
        sink.finish().await?;
    }
    pg.batch_execute("VACUUM ANALYZE events").await?;
    for (label, sql) in [
        ("SELECT count(*) FROM events", "SELECT count(*) FROM events"),
        (
            "SELECT sum((data->'properties'->>'revenue')::numeric) FROM events",
            "SELECT sum((data->'properties'->>'revenue')::numeric) FROM events",
        ),
    ] {
        let (rv, rv_answer) = timed_query(&c, sql, 3).await?;
        let (pgt, pg_answer) = timed_query(pg, sql, 3).await?;
        anyhow::ensure!(rv_answer == pg_answer, "{sql}: {rv_answer} vs {pg_answer}");
        println!(
            "| `{label}` (median of 3) | {:.0} ms | {:.0} ms |",
            rv.as_secs_f64() * 1e3,
            pgt.as_secs_f64() * 1e3
        );
    }

    // Back-fill a new aggregate view over every stored event.
    let (watch, stop) = watch_rss(pid);
    let t = Instant::now();
    c.batch_execute(
        "CREATE MATERIALIZED VIEW late AS SELECT data->>'userId' AS user_id, count(*) AS n, max((data->>'timestamp')::timestamptz) AS last_seen FROM events GROUP BY 1",
    )
    .await?;
    let backfill = t.elapsed();
    let _ = stop.send(());
    let peak = watch.await?;
    let users = rivulet_tests::scalar(&c, "SELECT count(*) FROM late").await?;
    println!(
        "| back-fill of a new aggregate view ({} groups) | {:.1} s, peak RSS {} | |",
        users.unwrap_or_default(),
        backfill.as_secs_f64(),
        mib(peak)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let mode = std::env::args().nth(1);
    if mode.as_deref() == Some("scale") || mode.as_deref() == Some("scale-ingest") {
        let events: usize = std::env::var("BENCH_SCALE_EVENTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5_000_000);
        println!("binary: {}", rivulet_tests::rivulet_bin().display());
        return scale(events, mode.as_deref() == Some("scale-ingest")).await;
    }
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
