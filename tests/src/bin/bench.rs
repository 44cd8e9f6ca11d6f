//! `rivulet-bench`: the numbers in docs/benchmarks.md.
//!
//! 1. Ingest: Segment-signed events over 64 keep-alive connections, every
//!    answer durable, beside the HTTP ceiling (nginx `return 200` when
//!    Debian's nginx is installed, and a bare hyper handler) and
//!    PostgreSQL 15's durable one-row INSERTs of the same events: one
//!    event per POST into a table with 1 to 50 materialized views, NDJSON
//!    with 100 events per POST, and the seed's shape paced at half its
//!    maximum; events per second, ratios to the ceiling and to
//!    PostgreSQL, p50/p99/p999 latency. Afterwards the stored rows must be
//!    exactly the acknowledged events and every view must equal its
//!    query. Every figure also goes to `BENCH_JSON` (default
//!    `target/rivulet-bench/ingest.json`) for `scripts/bench-chart.py`.
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
//! `BENCH_EVENTS` (default 50000) and `BENCH_ROWS` (default 1000000) scale
//! the two parts.
//!
//! `rivulet-bench ingest` runs only the first part; `rivulet-bench one
//! VIEWS PER_POST` a single Rivulet ingest configuration (`BENCH_PACE`
//! paces it; `BENCH_VIEWTIME` also prints each view's maintenance time
//! from the server's metrics), for profiles and A/B comparisons.
//!
//! `rivulet-bench scale` runs the scale mode instead: `BENCH_SCALE_EVENTS`
//! (default 5,000,000) Segment events into a table with the five dashboard
//! views, then the restart time after `kill -9`, memory during ingest and
//! after the restart, the data directory against the raw JSON, full-scan
//! queries beside PostgreSQL 15 over the same rows, and the back-fill of a
//! new aggregate view. `rivulet-bench scale-ingest` stops after the restart;
//! `BENCH_MEMORY_BUDGET` passes `--memory-budget`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rivulet_tests::oracle::Oracle;
use rivulet_tests::sign::{segment, segment_track};
use rivulet_tests::{rss, Server, TempDir};

/// The load generator allocates with mimalloc, as the server does. With
/// glibc's allocator, freeing the sent bodies left many small chunks that
/// `malloc_consolidate` later walked in one go, stopping the sender for
/// 20-100 ms several times a run (seen in `perf` as the sender's only
/// samples during each stop), which paced runs charged to the server.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Throughput and sorted latencies of a load run (the median of
/// several, with every run's throughput in `rates` and p99 in `p99s`).
struct Run {
    rate: f64,
    lat: Vec<Duration>,
    rates: Vec<f64>,
    p99s: Vec<f64>,
}

/// How many times each ingest configuration runs (`BENCH_REPEAT`, default
/// 3); the run with the median throughput (paced: the median p99) is
/// reported.
fn repeats() -> usize {
    std::env::var("BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1)
}

/// Runs `f` [`repeats`] times and keeps the run with the median `by`.
async fn median_run_by<F, Fut>(f: F, by: fn(&Run) -> f64) -> Result<Run>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Run>>,
{
    let mut runs = Vec::new();
    for _ in 0..repeats() {
        runs.push(f().await?);
    }
    Ok(median_of(runs, by))
}

/// The run of `runs` (not empty) with the median `by`, carrying every
/// run's throughput and p99.
fn median_of(mut runs: Vec<Run>, by: fn(&Run) -> f64) -> Run {
    let rates: Vec<f64> = runs.iter().map(|r| r.rate).collect();
    let p99s: Vec<f64> = runs.iter().map(|r| r.ms(0.99)).collect();
    runs.sort_by(|a, b| by(a).total_cmp(&by(b)));
    let mut median = runs.swap_remove(runs.len() / 2);
    median.rates = rates;
    median.p99s = p99s;
    median
}

/// Waits for the load tasks and makes their latencies, and `items` over
/// the time since `start`, a [`Run`].
async fn gather(
    tasks: Vec<tokio::task::JoinHandle<Result<Vec<Duration>>>>,
    items: usize,
    start: Instant,
) -> Result<Run> {
    let mut lat = Vec::with_capacity(items);
    for t in tasks {
        lat.extend(t.await??);
    }
    let elapsed = start.elapsed();
    lat.sort();
    Ok(Run {
        rate: items as f64 / elapsed.as_secs_f64(),
        lat,
        rates: Vec::new(),
        p99s: Vec::new(),
    })
}

impl Run {
    fn ms(&self, p: f64) -> f64 {
        percentile(&self.lat, p).as_secs_f64() * 1e3
    }

    fn pct(&self, p: f64) -> String {
        format!("{:.2} ms", self.ms(p))
    }
}

/// Waits for the disk to be quiet: the previous run's files (often
/// hundreds of MiB, deleted or not) are still being written back, and a
/// run started meanwhile would measure that writeback in its fsyncs.
async fn settle() {
    let _ = tokio::process::Command::new("sync").status().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// A request body with its headers.
type Body = (String, Vec<(String, String)>);

/// How many keep-alive connections every load run uses.
const CONNECTIONS: usize = 64;

/// Posts every body (with its headers) over [`CONNECTIONS`] keep-alive
/// HTTP/1.1 connections, body `j` on connection `j % CONNECTIONS`, each
/// expecting 200; `items` is how many events the bodies carry. With
/// `paced`, body `j` is sent no earlier than `j / paced` seconds after the
/// start, and its latency counts from then when the answer to the previous
/// body on its connection came too late to send it on time, so a stall is
/// charged to every request it held up rather than hidden by the sender
/// waiting; when it was sent late only because the timer woke late, from
/// when it was sent.
///
/// Like wrk, each connection writes requests serialized before the run
/// and reads each answer with a bare HTTP/1.1 parser, one task and no
/// header maps per request: the load generator shares the two cores with
/// the server, and a full HTTP client spent about as much CPU per request
/// as the server's whole HTTP path.
async fn post_all(
    addr: &str,
    path: &str,
    bodies: Vec<Body>,
    items: usize,
    paced: Option<f64>,
) -> Result<Run> {
    settle().await;
    let mut lanes: Vec<Vec<(usize, Vec<u8>)>> = (0..CONNECTIONS).map(|_| Vec::new()).collect();
    for (j, (body, headers)) in bodies.into_iter().enumerate() {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let request = rivulet_tests::raw_request("POST", path, addr, &headers, body.as_bytes());
        lanes[j % CONNECTIONS].push((j, request));
    }
    let addr = addr.to_string();
    // One thread drives every connection, as `wrk -t1` does: with a
    // scheduler of several threads the load generator's own wake-ups
    // between them take CPU the server could use.
    let load = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(run_lanes(addr, lanes, items, paced))
    });
    tokio::task::spawn_blocking(move || load.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the load generator panicked"))?
}

/// Sends each lane's requests on a connection of its own (see
/// [`post_all`]).
async fn run_lanes(
    addr: String,
    lanes: Vec<Vec<(usize, Vec<u8>)>>,
    items: usize,
    paced: Option<f64>,
) -> Result<Run> {
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let mut tasks = Vec::new();
    for lane in lanes.into_iter().filter(|l| !l.is_empty()) {
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(&addr).await?;
            stream.set_nodelay(true)?;
            let mut answers = Answers::default();
            let mut lat = Vec::with_capacity(lane.len());
            tokio::time::sleep_until(start).await;
            for (j, request) in lane {
                // Paced, a request is timed from when it was due if the
                // previous answer on its connection came too late to send
                // it then (the server's delay, which counts); otherwise
                // from when it is sent, since the timer wakes up to a
                // millisecond late (the load generator's delay, which
                // does not).
                let sent_from = match paced {
                    Some(rate) => {
                        let due = start + Duration::from_secs_f64(j as f64 / rate);
                        let ready = tokio::time::Instant::now();
                        tokio::time::sleep_until(due).await;
                        if ready >= due {
                            due
                        } else {
                            tokio::time::Instant::now()
                        }
                    }
                    None => tokio::time::Instant::now(),
                };
                tokio::io::AsyncWriteExt::write_all(&mut stream, &request).await?;
                let (status, text) = answers.next(&mut stream).await?;
                anyhow::ensure!(
                    status == 200,
                    "status {status}: {}",
                    String::from_utf8_lossy(&text)
                );
                lat.push(sent_from.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    gather(tasks, items, start.into_std()).await
}

/// Reads HTTP/1.1 answers off one keep-alive connection.
#[derive(Default)]
struct Answers {
    buf: Vec<u8>,
}

impl Answers {
    /// The next answer's status and body (framed by Content-Length).
    async fn next(&mut self, stream: &mut tokio::net::TcpStream) -> Result<(u16, Vec<u8>)> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head) = resp.parse(&self.buf)? {
                let status = resp.code.unwrap_or(0);
                anyhow::ensure!(
                    !resp
                        .headers
                        .iter()
                        .any(|h| h.name.eq_ignore_ascii_case("transfer-encoding")),
                    "a chunked answer (only Content-Length framing is read)"
                );
                let len = resp
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .map(|h| {
                        std::str::from_utf8(h.value)
                            .ok()?
                            .trim()
                            .parse::<usize>()
                            .ok()
                    })
                    .unwrap_or(Some(0))
                    .ok_or_else(|| anyhow::anyhow!("bad content-length"))?;
                while self.buf.len() < head + len {
                    self.fill(stream).await?;
                }
                let body = self.buf[head..head + len].to_vec();
                self.buf.drain(..head + len);
                return Ok((status, body));
            }
            self.fill(stream).await?;
        }
    }

    async fn fill(&mut self, stream: &mut tokio::net::TcpStream) -> Result<()> {
        let mut chunk = [0u8; 4096];
        let n = tokio::io::AsyncReadExt::read(stream, &mut chunk).await?;
        anyhow::ensure!(n > 0, "the server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// `events` Segment `track` events, `per_post` to a body (NDJSON beyond
/// one), each body signed as Segment signs it.
fn signed_bodies(events: usize, per_post: usize) -> Vec<Body> {
    (0..events)
        .step_by(per_post)
        .map(|first| {
            let body: Vec<String> = (first..(first + per_post).min(events))
                .map(|i| {
                    segment_track(
                        &format!("m-{i}"),
                        &format!("user-{}", i % 500),
                        "Order Completed",
                    )
                })
                .collect();
            let body = body.join("\n");
            let sig = segment(SECRET, body.as_bytes()).1;
            (
                body,
                vec![
                    ("x-signature".to_string(), sig),
                    ("content-type".to_string(), "application/json".to_string()),
                ],
            )
        })
        .collect()
}

/// Prints how the writer grouped the run's commands (groups, commands per
/// group, mean fsync), from the server's `/metrics` at `admin`.
async fn print_writer_metrics(admin: &str) -> Result<()> {
    let (_, text) = rivulet_tests::Hook::new(admin)
        .request("GET", "/metrics", &[], Default::default())
        .await?;
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    };
    if std::env::var_os("BENCH_VIEWTIME").is_some() {
        text.lines()
            .filter(|l| l.starts_with("rivulet_view_maintenance_seconds_total"))
            .for_each(|l| println!("  {l}"));
    }
    let groups = value("rivulet_writer_group_commands_count");
    let commands = value("rivulet_writer_group_commands_sum");
    let fsyncs = value("rivulet_writer_fsync_seconds_count");
    let fsync = value("rivulet_writer_fsync_seconds_sum");
    // Histogram buckets double from 0.1 ms: 3.2 ms is a bucket bound.
    let quick = value("rivulet_writer_fsync_seconds_bucket{le=\"0.0032\"}");
    // The server's own time from a delivery's arrival to its 200: the
    // bucket bound under which 99% of them fall.
    let acks = value("rivulet_webhook_ack_seconds_count");
    let ack_mean = value("rivulet_webhook_ack_seconds_sum") * 1e3 / acks.max(1.0);
    let ack_p99 = text
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("rivulet_webhook_ack_seconds_bucket{le=\"")?;
            let (le, n) = rest.split_once("\"} ")?;
            Some((le.parse::<f64>().ok()?, n.parse::<f64>().ok()?))
        })
        .find(|&(_, n)| n >= 0.99 * acks)
        .map_or(f64::NAN, |(le, _)| le * 1e3);
    println!(
        "  server: {groups:.0} groups, {:.1} commands per group, fsync {:.2} ms on average, {:.0} fsyncs over 3.2 ms, acks {ack_mean:.2} ms on average, 99% within {ack_p99} ms",
        commands / groups.max(1.0),
        fsync * 1e3 / fsyncs.max(1.0),
        fsyncs - quick
    );
    Ok(())
}

/// Rivulet: `events` signed events, `per_post` to a request (`paced` as in
/// [`post_all`]), into a table with the seed's VALIDATE and `views` views;
/// checks afterwards that exactly the acknowledged events are stored and
/// that every view equals its query.
async fn ingest(views: usize, events: usize, per_post: usize, paced: Option<f64>) -> Result<Run> {
    let dir = TempDir::new("bench-ingest");
    let server = Server::start(&dir.0, &[]).await?;
    let c = server.connect().await?;
    let batched = if per_post > 1 {
        ", is_batched = true"
    } else {
        ""
    };
    c.batch_execute(&format!(
        "CREATE SECRET s AS '{SECRET}';
         CREATE TABLE events (data JSONB) WITH (connector = 'webhook'{batched})
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
    let bodies = signed_bodies(events, per_post);
    let run = post_all(
        &server.webhook_addr,
        "/webhook/dev/public/events",
        bodies,
        events,
        paced.map(|rate| rate / per_post as f64),
    )
    .await?;
    if let Some(admin) = &server.admin_addr {
        print_writer_metrics(admin).await?;
    }
    let n: usize = rivulet_tests::scalar(&c, "SELECT count(*) FROM events")
        .await?
        .unwrap_or_default()
        .parse()
        .unwrap_or(0);
    anyhow::ensure!(n == events, "stored {n} of {events}");
    for i in 0..views {
        let sql = VIEW_KINDS[i % VIEW_KINDS.len()];
        let mut stored = rivulet_tests::rows(&c, &format!("SELECT * FROM v{i}")).await?;
        let mut fresh = rivulet_tests::rows(&c, sql).await?;
        stored.sort();
        fresh.sort();
        anyhow::ensure!(stored == fresh, "view v{i} differs from its query");
    }
    Ok(run)
}

/// The HTTP ceiling: a bare hyper server in this process that reads each
/// body and answers 200.
async fn ceiling_hyper(events: usize) -> Result<Run> {
    use http_body_util::BodyExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let serve = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    |req: hyper::Request<hyper::body::Incoming>| async move {
                        let _ = req.into_body().collect().await;
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(bytes::Bytes::new()),
                        ))
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let run = ceiling_load(&addr, events).await;
    serve.abort();
    run
}

/// The load every HTTP ceiling takes: the same signed bodies, one per
/// request, that Rivulet gets.
async fn ceiling_load(addr: &str, events: usize) -> Result<Run> {
    post_all(
        addr,
        "/webhook/dev/public/events",
        signed_bodies(events, 1),
        events,
        None,
    )
    .await
}

/// The HTTP ceiling as the targets are set: nginx (Debian's package)
/// answering `return 200`. `None` when nginx is not installed.
async fn ceiling_nginx(events: usize) -> Result<Option<Run>> {
    let Ok(nginx) = which("nginx") else {
        return Ok(None);
    };
    let dir = TempDir::new("bench-nginx");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let d = dir.0.display();
    let conf = dir.0.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "worker_processes 1; daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log;
             events {{ worker_connections 4096; }}
             http {{ access_log off; keepalive_requests 100000000; client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
               fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
               server {{ listen 127.0.0.1:{port}; location / {{ return 200; }} }} }}"
        ),
    )?;
    let mut child = tokio::process::Command::new(nginx)
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(&dir.0)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let addr = format!("127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let run = ceiling_load(&addr, events).await;
    let _ = child.kill().await;
    run.map(Some)
}

fn which(name: &str) -> Result<std::path::PathBuf> {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = std::path::Path::new(dir).join(name);
        if p.exists() {
            return Ok(p);
        }
    }
    for dir in ["/usr/sbin", "/sbin"] {
        let p = std::path::Path::new(dir).join(name);
        if p.exists() {
            return Ok(p);
        }
    }
    anyhow::bail!("{name} not found")
}

/// PostgreSQL 15, durable (fsync and synchronous_commit on): the same
/// events inserted one row per statement over 64 connections.
async fn postgres_inserts(events: usize) -> Result<Run> {
    let oracle = Oracle::start_durable().await?;
    oracle
        .client
        .batch_execute("CREATE TABLE events (data JSONB)")
        .await?;
    let port = oracle.port();
    let bodies: Vec<String> = signed_bodies(events, 1)
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    let per = events.div_ceil(CONNECTIONS);
    settle().await;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for chunk in bodies.chunks(per) {
        let chunk = chunk.to_vec();
        let (client, conn) = tokio_postgres::connect(
            &format!("host=127.0.0.1 port={port} user=postgres dbname=postgres"),
            tokio_postgres::NoTls,
        )
        .await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        tasks.push(tokio::spawn(async move {
            let stmt = client
                .prepare_typed(
                    "INSERT INTO events VALUES ($1::text::jsonb)",
                    &[tokio_postgres::types::Type::TEXT],
                )
                .await?;
            let mut lat = Vec::with_capacity(chunk.len());
            for body in chunk {
                let t = Instant::now();
                client.execute(&stmt, &[&body]).await?;
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let run = gather(tasks, events, start).await?;
    let n: i64 = oracle
        .client
        .query_one("SELECT count(*) FROM events", &[])
        .await?
        .get(0);
    anyhow::ensure!(n as usize == events, "PostgreSQL stored {n} of {events}");
    Ok(run)
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
        let mut rows = rivulet_tests::rows(c, sql).await?;
        times.push(t.elapsed());
        // Compared as a multiset: neither side promises an order.
        rows.sort();
        answer = format!("{rows:?}");
    }
    times.sort();
    Ok((times[times.len() / 2], answer))
}

/// Ad-hoc queries run side by side on Rivulet and PostgreSQL in the scale
/// mode: a label and the SQL.
const SCALE_QUERIES: &[(&str, &str)] = &[
    ("count(*)", "SELECT count(*) FROM events"),
    (
        "full-scan sum of a JSON path",
        "SELECT sum((data->'properties'->>'revenue')::numeric) FROM events",
    ),
    (
        "filtered count",
        "SELECT count(*) FROM events WHERE data->>'event' = 'Signed Up'",
    ),
    (
        "GROUP BY event (4 groups)",
        "SELECT data->>'event' AS event, count(*), sum((data->'properties'->>'revenue')::numeric) FROM events GROUP BY 1",
    ),
    (
        "GROUP BY userId (50,000 groups, rows returned)",
        "SELECT data->>'userId' AS user_id, count(*), max(data->>'timestamp') FROM events GROUP BY 1",
    ),
    (
        "count(DISTINCT userId)",
        "SELECT count(DISTINCT data->>'userId') FROM events",
    ),
    (
        "latest events (ORDER BY ... LIMIT)",
        "SELECT data->>'messageId' AS id, data->>'timestamp' AS ts FROM events ORDER BY 2 DESC, 1 LIMIT 10",
    ),
    (
        "top users (GROUP BY, ORDER BY ... LIMIT)",
        "SELECT data->>'userId' AS user_id, count(*) AS n FROM events GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
    ),
];

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
    for (label, sql) in SCALE_QUERIES {
        let (rv, rv_answer) = timed_query(&c, sql, 3).await?;
        let (pgt, pg_answer) = timed_query(pg, sql, 3).await?;
        anyhow::ensure!(rv_answer == pg_answer, "{sql}: answers differ");
        println!(
            "| {label}: `{sql}` (median of 3) | {:.0} ms | {:.0} ms |",
            rv.as_secs_f64() * 1e3,
            pgt.as_secs_f64() * 1e3
        );
    }

    // Back-fill a new aggregate view over every stored event, while a
    // sender keeps posting one event every 20 ms.
    let (watch, stop) = watch_rss(pid);
    let sending = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sender = {
        let hook = server.hook();
        let sending = sending.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = events;
            while sending.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                let (status, text) = hook
                    .post("/webhook/dev/public/events", &[], scale_event(i))
                    .await?;
                anyhow::ensure!(status == 200, "{status}: {text}");
                latencies.push(t.elapsed());
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok::<_, anyhow::Error>(latencies)
        })
    };
    let t = Instant::now();
    c.batch_execute(
        "CREATE MATERIALIZED VIEW late AS SELECT data->>'userId' AS user_id, count(*) AS n, max((data->>'timestamp')::timestamptz) AS last_seen FROM events GROUP BY 1",
    )
    .await?;
    let backfill = t.elapsed();
    sending.store(false, std::sync::atomic::Ordering::Relaxed);
    let mut latencies = sender.await??;
    let _ = stop.send(());
    let peak = watch.await?;
    let users = rivulet_tests::scalar(&c, "SELECT count(*) FROM late").await?;
    println!(
        "| back-fill of a new aggregate view ({} groups) | {:.1} s, peak RSS {} | |",
        users.unwrap_or_default(),
        backfill.as_secs_f64(),
        mib(peak)
    );
    latencies.sort();
    let pct = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "| webhook answers during the back-fill (one event every 20 ms) | {} requests, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms | |",
        latencies.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}

/// The ingest table as it is printed, and its rows for the JSON report.
struct Report {
    rows: Vec<serde_json::Value>,
    /// Events per second of the HTTP ceiling and of PostgreSQL.
    ceiling: f64,
    pg: f64,
}

impl Report {
    /// Prints one line and keeps it for the JSON report.
    fn row(&mut self, system: &str, what: &str, views: Option<usize>, per_post: usize, r: &Run) {
        let lo = r.rates.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = r.rates.iter().copied().fold(0.0, f64::max);
        println!(
            "| {what} | {:.0} | {lo:.0}–{hi:.0} | {:.2} | {:.2} | {} | {} | {} |",
            r.rate,
            r.rate / self.ceiling,
            r.rate / self.pg,
            r.pct(0.5),
            r.pct(0.99),
            r.pct(0.999)
        );
        self.rows.push(serde_json::json!({
            "system": system,
            "what": what,
            "views": views,
            "per_post": per_post,
            "events_per_s": r.rate.round(),
            "x_ceiling": r.rate / self.ceiling,
            "x_postgres": r.rate / self.pg,
            "p50_ms": r.ms(0.5),
            "p99_ms": r.ms(0.99),
            "p999_ms": r.ms(0.999),
            "all_events_per_s": r.rates.iter().map(|x| x.round()).collect::<Vec<_>>(),
            "all_p99_ms": r.p99s,
        }));
    }
}

/// What the machine is: CPU model and count, memory, kernel.
fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    serde_json::json!({
        "cpu": model,
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "memory_gib": (mem_kib as f64 / 1048576.0 * 10.0).round() / 10.0,
        "kernel": kernel.trim(),
    })
}

/// One configuration of the ingest comparison, run once per round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Config {
    /// The bare hyper handler.
    Hyper,
    /// nginx answering `return 200` (no run if it is not installed).
    Nginx,
    /// PostgreSQL's durable inserts.
    Postgres,
    /// Rivulet, one event per POST, this many views.
    Views(usize),
    /// Rivulet, NDJSON 100 events per POST, 2 views: twenty times the
    /// events (1,000,000 by default, about four seconds), since a run of
    /// one second mostly measured start-up (the first groups, the first
    /// memtable), 5-10% below the rate that holds afterwards.
    Ndjson,
}

impl Config {
    async fn run(self, events: usize) -> Result<Option<Run>> {
        Ok(match self {
            Config::Hyper => Some(ceiling_hyper(events).await?),
            Config::Nginx => ceiling_nginx(events).await?,
            Config::Postgres => Some(postgres_inserts(events).await?),
            Config::Views(views) => Some(ingest(views, events, 1, None).await?),
            Config::Ndjson => Some(ingest(2, events.max(100) * 20, 100, None).await?),
        })
    }
}

/// View counts of the one-event-per-POST sweep; 2 is the seed's shape
/// (a projection and a count per event name).
const VIEW_SWEEP: &[usize] = &[1, 2, 5, 10, 20, 50];

/// The ingest comparison: prints the table and writes every figure, with
/// the machine's description, to `BENCH_JSON` (default
/// `target/rivulet-bench/ingest.json`), which `scripts/bench-chart.py`
/// turns into the chart in docs/benchmarks.md.
async fn ingest_suite(events: usize) -> Result<()> {
    let machine = machine();
    println!("machine: {machine}");
    println!("\n## Ingest: {events} Segment-signed events, {CONNECTIONS} connections, every answer durable\n");
    // Round by round, one run of each configuration per round, so that
    // every configuration meets the machine in each of its moods and each
    // round's figures can be set beside that round's PostgreSQL.
    let mut runs: Vec<(Config, Vec<Run>)> = [Config::Hyper, Config::Nginx, Config::Postgres]
        .into_iter()
        .chain(VIEW_SWEEP.iter().map(|&v| Config::Views(v)))
        .chain([Config::Ndjson])
        .map(|c| (c, Vec::new()))
        .collect();
    for round in 1..=repeats() {
        eprintln!("round {round} of {}", repeats());
        for (c, runs) in &mut runs {
            if let Some(r) = c.run(events).await? {
                eprintln!("  {c:?}: {:.0}/s, p99 {:.2} ms", r.rate, r.ms(0.99));
                runs.push(r);
            }
        }
    }
    let of = |c: Config| -> &[Run] {
        runs.iter()
            .find(|(x, _)| *x == c)
            .map_or(&[], |(_, r)| r.as_slice())
    };
    let paired = |c: Config| -> Vec<f64> {
        of(c)
            .iter()
            .zip(of(Config::Postgres))
            .map(|(a, pg)| a.rate / pg.rate)
            .collect()
    };
    let paired_2 = paired(Config::Views(2));
    let paired_10 = paired(Config::Views(10));
    // The run with the median throughput of each configuration that ran.
    let mut take = |c: Config| -> Option<Run> {
        let i = runs.iter().position(|(x, r)| *x == c && !r.is_empty())?;
        Some(median_of(runs.swap_remove(i).1, |r| r.rate))
    };
    let hyper = take(Config::Hyper).context("no run of the hyper handler")?;
    let nginx = take(Config::Nginx);
    let pg = take(Config::Postgres).context("no run of PostgreSQL")?;
    let ceiling = nginx.as_ref().map_or(hyper.rate, |n| n.rate);
    println!(
        "Ratios are to the HTTP ceiling ({}) and to PostgreSQL's durable inserts.\n",
        if nginx.is_some() {
            "nginx"
        } else {
            "the bare hyper handler; nginx is not installed"
        }
    );
    println!(
        "Each configuration runs {} times, one run of each per round; the median run is shown, with the range of all.\n",
        repeats()
    );
    println!("| what | events/s | range | × HTTP ceiling | × PostgreSQL | p50 | p99 | p999 |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut report = Report {
        rows: Vec::new(),
        ceiling,
        pg: pg.rate,
    };
    let mut row = |system: &str, what: &str, views: Option<usize>, per_post: usize, r: &Run| {
        report.row(system, what, views, per_post, r)
    };
    if let Some(n) = &nginx {
        row("nginx", "nginx `return 200`", None, 1, n);
    }
    row(
        "hyper",
        "bare hyper handler (reads the body, answers 200)",
        None,
        1,
        &hyper,
    );
    row(
        "postgres",
        "PostgreSQL 15 `INSERT`, one row per statement, durable",
        Some(0),
        1,
        &pg,
    );
    let mut seed_rate = 0.0;
    for &views in VIEW_SWEEP {
        let r = take(Config::Views(views)).context("a view count without runs")?;
        if views == 2 {
            seed_rate = r.rate;
        }
        row(
            "rivulet",
            &format!("Rivulet, one event per POST, {views} view(s)"),
            Some(views),
            1,
            &r,
        );
    }
    let r = take(Config::Ndjson).context("no NDJSON run")?;
    row(
        "rivulet-ndjson",
        "Rivulet, NDJSON 100 events per POST, 2 views",
        Some(2),
        100,
        &r,
    );
    // Paced, every run has the same throughput: the median run is the one
    // with the median p99. Four times the events (about ten seconds by
    // default), so that the p99 is not one stall's in a run of two.
    let half = (seed_rate / 2.0).max(1.0);
    let r = median_run_by(|| ingest(2, events * 4, 1, Some(half)), |r| r.ms(0.99)).await?;
    row(
        "rivulet-half-load",
        &format!("Rivulet, one event per POST, 2 views, paced at {half:.0}/s (half the maximum)"),
        Some(2),
        1,
        &r,
    );
    let p99s: Vec<String> = r.p99s.iter().map(|p| format!("{p:.2} ms")).collect();
    println!("\nThe paced runs' p99, in order: {}.", p99s.join(", "));
    let show = |ratios: &[f64]| -> String {
        let r: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        r.join(", ")
    };
    println!(
        "Each round's Rivulet over that round's PostgreSQL: 2 views {}; 10 views {}.",
        show(&paired_2),
        show(&paired_10)
    );
    let path = std::env::var("BENCH_JSON").unwrap_or_else(|_| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/rivulet-bench");
        dir.join("ingest.json").display().to_string()
    });
    if let Some(parent) = std::path::Path::new(&path).parent() {
        std::fs::create_dir_all(parent)?;
    }
    let report = serde_json::json!({
        "events": events,
        "repeats": repeats(),
        "connections": CONNECTIONS,
        "ceiling": if nginx.is_some() { "nginx" } else { "hyper" },
        "machine": machine,
        "runs": report.rows,
        "paired_pg_ratios": { "2": paired_2, "10": paired_10 },
    });
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("\nmachine-readable: {path}");
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
        .unwrap_or(50_000);
    if mode.as_deref() == Some("one") {
        // `rivulet-bench one VIEWS PER_POST`: a single Rivulet ingest run
        // of `BENCH_EVENTS` requests, for profiling and A/B comparisons.
        let arg = |i: usize, default: usize| {
            std::env::args()
                .nth(i)
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let (views, per_post) = (arg(2, 2), arg(3, 1));
        // `BENCH_PACE`: events per second, as in the half-load run.
        let paced = std::env::var("BENCH_PACE")
            .ok()
            .and_then(|v| v.parse().ok());
        let r = ingest(views, events * per_post, per_post, paced).await?;
        println!(
            "{views} view(s), {per_post} per POST: {:.0} events/s, p50 {}, p99 {}",
            r.rate,
            r.pct(0.5),
            r.pct(0.99)
        );
        return Ok(());
    }
    if mode.as_deref() == Some("ingest") {
        println!("binary: {}", rivulet_tests::rivulet_bin().display());
        return ingest_suite(events).await;
    }
    let total: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!("binary: {}", rivulet_tests::rivulet_bin().display());
    ingest_suite(events).await?;
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
