//! `rivulet send`: posts a file (or standard input) to a webhook table as
//! a given sender would — its headers, its signature over the right bytes,
//! a fresh timestamp and delivery id — and reports the answer. For smoke
//! tests and scripts; the exit status is 0 for a 2xx answer.
//!
//! ```text
//! rivulet send --sender segment --table wbhtable events.json
//! echo '{"type":"track"}' | RIVULET_SEND_SECRET=s rivulet send --sender stripe --table stripe_events
//! ```

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use rivulet_webhook::sign::Sender;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Post a signed webhook request, as a sender would.
#[derive(Args, Debug)]
pub struct SendArgs {
    /// Whose signing scheme: segment, segment-batch, github, stripe,
    /// standard-webhooks, slack, shopify or none.
    #[arg(long)]
    sender: String,
    /// The shared secret (better from the environment, out of `ps`).
    #[arg(
        long,
        env = "RIVULET_SEND_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    secret: String,
    /// The webhook table (in database `dev`, schema `public`).
    #[arg(long, conflicts_with = "path")]
    table: Option<String>,
    /// The whole request path instead (`/webhook/dev/public/t`).
    #[arg(long)]
    path: Option<String>,
    /// The webhook listener.
    #[arg(long, env = "RIVULET_WEBHOOK_LISTEN", default_value = "127.0.0.1:4560")]
    webhook: String,
    /// POST, PUT or PATCH (Segment lets you pick).
    #[arg(long, default_value = "POST")]
    method: String,
    /// GitHub's event or Shopify's topic.
    #[arg(long, default_value = "ping")]
    event: String,
    /// The delivery id (GitHub, Standard Webhooks, Shopify); random if not
    /// given. Give the same one twice to send a retry.
    #[arg(long)]
    id: Option<String>,
    /// Compress the body with gzip (after signing, as HTTP clients do).
    #[arg(long)]
    gzip: bool,
    /// Another header, `name: value` (repeatable).
    #[arg(long = "header")]
    headers: Vec<String>,
    /// The body; standard input when absent or `-`.
    file: Option<PathBuf>,
}

/// A random id in UUID form.
fn random_id() -> String {
    let mut b = [0u8; 16];
    // A clock-derived id is good enough if the OS has no randomness.
    if getrandom::getrandom(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        b = t.to_le_bytes();
    }
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Runs `rivulet send`; returns the process's exit status.
pub fn run(args: SendArgs) -> anyhow::Result<i32> {
    let sender = Sender::from_name(&args.sender).with_context(|| {
        let names: Vec<&str> = Sender::NAMES.iter().map(|(n, _)| *n).collect();
        format!(
            "unknown sender {:?}; one of {}",
            args.sender,
            names.join(", ")
        )
    })?;
    let mut body = Vec::new();
    match args.file.as_deref() {
        Some(p) if p.as_os_str() != "-" => {
            body = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        }
        _ => {
            std::io::stdin()
                .read_to_end(&mut body)
                .context("reading standard input")?;
        }
    }
    let path = match (&args.path, &args.table) {
        (Some(p), _) => p.clone(),
        (None, Some(t)) => format!("/webhook/dev/public/{t}"),
        (None, None) => bail!("give --table or --path"),
    };
    if sender != Sender::Unsigned && args.secret.is_empty() {
        bail!(
            "the {} scheme needs a secret: --secret or RIVULET_SEND_SECRET",
            args.sender
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let id = args.id.clone().unwrap_or_else(random_id);
    let mut headers = sender
        .headers(&args.secret, &body, now, &id, &args.event)
        .map_err(anyhow::Error::msg)?;
    headers.push(("content-type".into(), "application/json".into()));
    for h in &args.headers {
        let (k, v) = h
            .split_once(':')
            .with_context(|| format!("--header {h:?} is not `name: value`"))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    if args.gzip {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&body)?;
        body = e.finish()?;
        headers.push(("content-encoding".into(), "gzip".into()));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (status, answer) =
        runtime.block_on(post(&args.webhook, &args.method, &path, &headers, &body))?;
    println!(
        "{status}{}{answer}",
        if answer.is_empty() { "" } else { " " }
    );
    Ok(if (200..300).contains(&status) { 0 } else { 1 })
}

/// Sends one HTTP/1.1 request and reads the answer's status and body.
async fn post(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nuser-agent: rivulet-send\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        if k.contains(['\r', '\n']) || v.contains(['\r', '\n']) {
            bail!("a header may not contain a line break");
        }
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP answer: {:?}", text.lines().next()))?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((status, body.to_string()))
}
