//! Test support: start the real `rivulet` binary, talk to it with a real
//! Postgres driver and an HTTP client that signs like real senders, kill it
//! with SIGKILL and restart it on the same data directory.
//!
//! The binary is found at `$RIVULET_BIN`, or in the workspace's
//! `target/debug/`; build it first (`cargo build -p rivulet-server`, which
//! the README's test command does).

// Test support: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod oracle;
pub mod sign;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_postgres::{NoTls, SimpleQueryMessage};

/// Path of the binary under test.
pub fn rivulet_bin() -> PathBuf {
    if let Ok(p) = std::env::var("RIVULET_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("debug/rivulet")
}

/// A small deterministic generator (xorshift), so failures reproduce from
/// their seed.
pub struct Gen(pub u64);

impl Gen {
    /// The next pseudo-random number.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One of `xs`.
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory named after `tag`.
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("rivulet-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary under test as a command to add arguments to: info-level
/// logs, no stdin, stdout and stderr piped (for [`listening`]), killed when
/// dropped.
pub fn command() -> Command {
    let mut c = Command::new(rivulet_bin());
    c.env("RIVULET_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

/// A new tokio-postgres connection as user `root` to database `dev` at
/// `addr` (host:port).
pub async fn connect_to(addr: &str) -> Result<tokio_postgres::Client> {
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| anyhow!("bad addr"))?;
    let (client, conn) = tokio_postgres::connect(
        &format!("host={host} port={port} user=root dbname=dev"),
        NoTls,
    )
    .await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

/// Waits for a starting server's announcement on standard output (one
/// JSON line with the bound addresses, written once both listeners accept)
/// and returns the addresses. Standard error is
/// echoed prefixed with `[rivulet]`, for failing tests' diagnostics.
pub async fn announced(child: &mut tokio::process::Child) -> Result<Listening> {
    let stderr = child.stderr.take().ok_or_else(|| anyhow!("no stderr"))?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    // Keep draining stderr so the server never blocks on a full pipe.
    let last = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = last.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("[rivulet] {line}");
            *seen.lock().unwrap_or_else(|e| e.into_inner()) = line;
        }
    });
    let mut out = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), out.next_line())
        .await
        .context("timed out waiting for the server to listen")??;
    let Some(line) = line else {
        let why = last.lock().unwrap_or_else(|e| e.into_inner()).clone();
        bail!("server exited before listening: {why}");
    };
    tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
    let v: serde_json::Value =
        serde_json::from_str(&line).with_context(|| format!("announcement {line:?}"))?;
    let field = |name: &str| {
        v[name]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("no {name} address in {line:?}"))
    };
    Ok(Listening {
        pg: field("pg")?,
        webhook: field("webhook")?,
        admin: v["admin"].as_str().map(str::to_string),
    })
}

/// Where a started server listens, as it announced.
#[derive(Debug, Clone)]
pub struct Listening {
    /// The PostgreSQL listener, `host:port`.
    pub pg: String,
    /// The webhook listener.
    pub webhook: String,
    /// The admin listener (`/metrics`), when it could bind.
    pub admin: Option<String>,
}

/// Like [`announced`], the PostgreSQL and webhook addresses only.
pub async fn listening(child: &mut tokio::process::Child) -> Result<(String, String)> {
    let l = announced(child).await?;
    Ok((l.pg, l.webhook))
}

/// A running `rivulet` process.
pub struct Server {
    child: Child,
    /// The data directory it runs on.
    pub data_dir: PathBuf,
    /// Its PostgreSQL listener, `host:port`.
    pub pg_addr: String,
    /// Its webhook listener, `host:port`.
    pub webhook_addr: String,
    /// Its admin listener (`/metrics`, `/health`, `/ready`).
    pub admin_addr: Option<String>,
    extra_args: Vec<String>,
}

impl Server {
    /// Starts the binary on free loopback ports over `data_dir`.
    pub async fn start(data_dir: &Path, extra_args: &[&str]) -> Result<Server> {
        Server::start_on(data_dir, "127.0.0.1:0", "127.0.0.1:0", extra_args).await
    }

    /// Starts the binary on the given addresses over `data_dir`.
    pub async fn start_on(
        data_dir: &Path,
        pg: &str,
        webhook: &str,
        extra_args: &[&str],
    ) -> Result<Server> {
        let bin = rivulet_bin();
        if !bin.exists() {
            bail!(
                "{} not found: run `cargo build -p rivulet-server` first",
                bin.display()
            );
        }
        let mut child = command()
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--pg-listen", pg, "--webhook-listen", webhook])
            .args(["--admin-listen", "127.0.0.1:0"])
            .args(extra_args)
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        let l = announced(&mut child).await?;
        Ok(Server {
            child,
            data_dir: data_dir.to_path_buf(),
            pg_addr: l.pg,
            webhook_addr: l.webhook,
            admin_addr: l.admin,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// SIGKILL, no chance to flush anything.
    pub async fn kill9(&mut self) -> Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }

    /// SIGTERM, then wait for a clean exit.
    pub async fn terminate(&mut self) -> Result<std::process::ExitStatus> {
        if let Some(pid) = self.child.id() {
            std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()?;
        }
        Ok(tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await??)
    }

    /// Starts a new process on the same data directory and arguments.
    pub async fn restart(&self) -> Result<Server> {
        let args: Vec<&str> = self.extra_args.iter().map(String::as_str).collect();
        Server::start(&self.data_dir, &args).await
    }

    /// Starts a new process on the same data directory, arguments and
    /// addresses (for state that names the address, such as a HubSpot
    /// signature over the full URL).
    pub async fn restart_same_ports(&self) -> Result<Server> {
        let args: Vec<&str> = self.extra_args.iter().map(String::as_str).collect();
        Server::start_on(&self.data_dir, &self.pg_addr, &self.webhook_addr, &args).await
    }

    /// A new tokio-postgres connection as user `root` to database `dev`.
    pub async fn connect(&self) -> Result<tokio_postgres::Client> {
        connect_to(&self.pg_addr).await
    }

    /// An HTTP client for this server's webhook listener (keep-alive
    /// connections pooled per `Hook`).
    pub fn hook(&self) -> Hook {
        Hook::new(&self.webhook_addr)
    }

    /// POSTs `body` with `headers` to `path`; returns status and body text.
    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<(u16, String)> {
        self.hook().post(path, headers, body).await
    }

    /// Sends any request to the webhook listener.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<(u16, String)> {
        self.hook().request(method, path, headers, body).await
    }
}

/// An HTTP client for a webhook listener.
#[derive(Clone)]
pub struct Hook {
    addr: String,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl Hook {
    /// A client for the listener at `addr` (host:port).
    pub fn new(addr: &str) -> Hook {
        Hook {
            addr: addr.to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// POSTs `body` with `headers` to `path`; returns status and body text.
    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<(u16, String)> {
        self.request("POST", path, headers, body.into()).await
    }

    /// Sends any request; returns status and body text.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<(u16, String)> {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self.client.request(req.body(Full::new(body))?).await?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// An HTTP/1.1 request as bytes on the wire, its body framed by
/// Content-Length, for tests and load that write to sockets directly.
pub fn raw_request(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\n").into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// Runs `sql` with the simple protocol and returns every row as text.
pub async fn rows(client: &tokio_postgres::Client, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
    let mut out = Vec::new();
    for msg in client.simple_query(sql).await? {
        if let SimpleQueryMessage::Row(r) = msg {
            out.push((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect());
        }
    }
    Ok(out)
}

/// The single value of a one-row, one-column query.
pub async fn scalar(client: &tokio_postgres::Client, sql: &str) -> Result<Option<String>> {
    let r = rows(client, sql).await?;
    match r.as_slice() {
        [row] if row.len() == 1 => Ok(row[0].clone()),
        other => bail!("expected one value from {sql}, got {other:?}"),
    }
}

/// The SQLSTATE and message of a statement that must fail.
pub async fn sql_error(client: &tokio_postgres::Client, sql: &str) -> (String, String) {
    match client.simple_query(sql).await {
        Ok(_) => panic!("expected an error from: {sql}"),
        Err(e) => {
            let db = e
                .as_db_error()
                .unwrap_or_else(|| panic!("not a server error: {e}"));
            (db.code().code().to_string(), db.message().to_string())
        }
    }
}

/// Milliseconds since the epoch, now.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Resident memory of a process in bytes, from /proc (0 if unknown).
pub fn rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// The peak resident memory of a process, sampled every 20 ms from
/// [`PeakRss::watch`] until it is dropped.
pub struct PeakRss {
    peak: std::sync::Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakRss {
    /// Starts sampling `pid`.
    pub fn watch(pid: u32) -> PeakRss {
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(rss(pid)));
        let p = peak.clone();
        let task = tokio::spawn(async move {
            loop {
                p.fetch_max(rss(pid), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        PeakRss { peak, task }
    }

    /// The highest resident memory seen so far, in bytes.
    pub fn peak(&self) -> u64 {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for PeakRss {
    fn drop(&mut self) {
        self.task.abort();
    }
}
