//! `rivulet`: a Postgres-wire streaming database for signed webhooks.
//!
//! # Life of a SQL statement
//!
//! 1. [`session`]: pgwire hands the query string to [`session::Session`].
//! 2. `rivulet-sql` parses every statement in it (nothing runs on a syntax
//!    error).
//! 3. [`exec`] dispatches each statement: queries are bound and planned by
//!    `rivulet-catalog` and run over rows read from storage; writes and DDL
//!    go to the `rivulet-stream` writer, which answers once they are
//!    durable and reflected in every materialized view.
//! 4. Results are encoded in PostgreSQL's text forms ([`pgvalue`]); errors
//!    carry their SQLSTATE ([`error`]).
//!
//! Webhooks take a parallel path through `rivulet-webhook` into the same
//! writer.

mod admin;
mod auth;
mod budget;
mod copy;
mod copy_in;
mod cursor;
mod dump;
mod error;
mod exec;
mod extended;
mod pgvalue;
mod prepared;
mod results;
mod send;
mod session;
mod session_functions;
mod startup;
mod status;
mod subscribe;
mod transaction;
mod vars;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pgwire::api::{ConnectionManager, RandomPidSecretKeyGenerator};
use rivulet_stream::Database;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use session::{Handlers, ServerState, Session};

/// mimalloc instead of the system allocator: the ingest path allocates many
/// small objects (JSONB trees, keys, rows) and glibc malloc was a quarter of
/// its CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rivulet: receives signed webhooks into JSONB tables and keeps
/// materialized views over them up to date, speaking the PostgreSQL protocol.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Instead of serving: a tool.
    #[command(subcommand)]
    command: Option<Command>,
    /// Directory holding the catalog, rows and view state.
    #[arg(long, env = "RIVULET_DATA_DIR", default_value = "./rivulet-data")]
    data_dir: PathBuf,
    /// Keep everything in memory, with no data directory: nothing survives
    /// the process. For test suites that want a fresh server per test.
    #[arg(long, env = "RIVULET_EPHEMERAL", conflicts_with = "data_dir")]
    ephemeral: bool,
    /// Once both listeners accept connections, write their addresses to
    /// this file: the same JSON line as on standard output, written whole
    /// (a file that exists is complete) and removed at a clean shutdown.
    #[arg(long, env = "RIVULET_READY_FILE")]
    ready_file: Option<PathBuf>,
    /// Address for PostgreSQL clients.
    #[arg(long, env = "RIVULET_PG_LISTEN", default_value = "127.0.0.1:4566")]
    pg_listen: SocketAddr,
    /// Address for webhook senders.
    #[arg(long, env = "RIVULET_WEBHOOK_LISTEN", default_value = "127.0.0.1:4560")]
    webhook_listen: SocketAddr,
    /// Require this password (SCRAM-SHA-256) from PostgreSQL clients.
    #[arg(long, env = "RIVULET_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Largest accepted webhook body in bytes.
    #[arg(long, env = "RIVULET_WEBHOOK_MAX_BODY", default_value_t = 16 * 1024 * 1024)]
    webhook_max_body: usize,
    /// Webhook connections served at once; beyond them a sender gets an
    /// immediate 503 with `Retry-After: 1`.
    #[arg(long, env = "RIVULET_WEBHOOK_MAX_CONNECTIONS", default_value_t = 4096)]
    webhook_max_connections: usize,
    /// Seconds a webhook sender may take to send a request's headers (also
    /// how long an idle keep-alive connection stays open), and again its
    /// body (408 after that).
    #[arg(long, env = "RIVULET_WEBHOOK_READ_TIMEOUT", default_value_t = 30)]
    webhook_read_timeout: u64,
    /// Where `/metrics` (Prometheus), `/health` and `/ready` are served.
    /// If the address is taken the server runs without them (and says so).
    #[arg(long, env = "RIVULET_ADMIN_LISTEN", default_value = "127.0.0.1:4567")]
    admin_listen: SocketAddr,
    /// Serve the webhook listener over HTTPS with this PEM certificate
    /// chain (with --webhook-tls-key; RisingWave's RW_SSL_CERT is read
    /// too).
    #[arg(long, env = "RIVULET_WEBHOOK_TLS_CERT", requires = "webhook_tls_key")]
    webhook_tls_cert: Option<PathBuf>,
    /// The PEM private key of --webhook-tls-cert (RW_SSL_KEY is read too).
    #[arg(long, env = "RIVULET_WEBHOOK_TLS_KEY", requires = "webhook_tls_cert")]
    webhook_tls_key: Option<PathBuf>,
    /// PostgreSQL sessions served at once; beyond them a client gets
    /// PostgreSQL's 53300 "sorry, too many clients already".
    #[arg(long, env = "RIVULET_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Seconds a PostgreSQL client may take from connecting to a ready
    /// session (start-up and password); after that the connection closes,
    /// as with PostgreSQL's `authentication_timeout`.
    #[arg(long, env = "RIVULET_AUTHENTICATION_TIMEOUT", default_value_t = 60)]
    authentication_timeout: u64,
    /// Memory for caches and buffers: the storage engine's block cache and
    /// write buffer, and cached operator state; the rest is headroom for
    /// requests, groups and queries. Bytes, or with a KiB/MiB/GiB suffix.
    #[arg(long, env = "RIVULET_MEMORY_BUDGET", default_value = "192MiB", value_parser = budget::parse_size)]
    memory_budget: u64,
    /// Memory all running queries may hold together for the rows they sort
    /// and their operator state (aggregate groups, DISTINCT values, join
    /// sides); a query that would need more fails with 53200. Bytes, or
    /// with a KiB/MiB/GiB suffix.
    #[arg(long, env = "RIVULET_QUERY_MEMORY", default_value = "256MiB", value_parser = budget::parse_size)]
    query_memory: u64,
}

/// The tools besides the server.
#[derive(Subcommand)]
enum Command {
    /// Post a file or standard input to a webhook table, signed as a given
    /// sender signs (see `rivulet send --help`).
    Send(send::SendArgs),
    /// Print every secret (as a placeholder), table and view as DDL, and
    /// with --data every table's rows (see `rivulet dump --help`).
    Dump(dump::DumpArgs),
}

/// mimalloc's `mi_option_purge_delay` (position 15 of `mi_option_t` in
/// mimalloc.h, v2 and v3 alike).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How often the purger looks for freed memory to return to the OS.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// How long memory stays free before it goes back to the OS, in ms.
const PURGE_AFTER_MS: std::ffi::c_long = 500;

/// Freed memory goes back to the OS from one thread, every
/// [`PURGE_EVERY`], once it has been free for [`PURGE_AFTER_MS`], rather
/// than page by page as it is freed. Purging at once (delay 0) cost the
/// writer a `madvise` and a TLB shootdown per freed run, 10-25% of ingest
/// throughput; mimalloc's own delayed purge only runs when the freeing
/// thread allocates again, which could leave a huge freed buffer resident
/// on an idle server; purging everything every 100 ms (a forced collect)
/// returned memory the next groups allocate again at once, each page
/// faulted back in (twice the page faults of this, and a higher p99 at
/// half load).
///
/// Transparent huge pages are turned off for the process first. mimalloc
/// asks for them on its arenas (`MADV_HUGEPAGE`), so a purged range came
/// back on its next touch as a whole 2 MiB page the kernel zeroed in the
/// touching thread: on the writer, up to a tenth of its samples and group
/// commits of 5-10 ms of CPU, the main cause of the webhook's tail latency
/// at half load. The option mimalloc has for this is read only from the
/// environment, before `main`; the process-wide switch it would flip is
/// this `prctl`, which applies to every later page fault.
///
/// The only unsafe code in Rivulet: that `prctl` and two calls into
/// mimalloc's C API.
#[allow(unsafe_code)]
fn start_purger() -> anyhow::Result<()> {
    // SAFETY: PR_SET_THP_DISABLE takes an integer flag and no pointers.
    // A kernel without it (before 3.15) refuses it; that only costs speed.
    #[cfg(target_os = "linux")]
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    // SAFETY: setting an option is allowed at any time; purge_delay is an
    // integer option in milliseconds.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_AFTER_MS) };
    std::thread::Builder::new()
        .name("rivulet-purge".into())
        .spawn(|| loop {
            std::thread::sleep(PURGE_EVERY);
            // SAFETY: collecting is allowed from any thread at any time;
            // it purges the arenas' memory free for longer than the
            // delay, process-wide.
            unsafe { libmimalloc_sys::mi_collect(false) };
        })
        .context("starting the memory purger")?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    match args.command.take() {
        Some(Command::Send(a)) => std::process::exit(send::run(a)?),
        Some(Command::Dump(a)) => std::process::exit(dump::run(a)?),
        None => {}
    }
    start_purger()?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RIVULET_LOG")
                .or_else(|_| tracing_subscriber::EnvFilter::try_from_env("RUST_LOG"))
                // The storage engine's routine maintenance (memtable
                // rotation, compaction) is not news at info level.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("info,fjall=warn,lsm_tree=warn")
                }),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rivulet-worker")
        // Queries and expressions are trees walked recursively; the parser
        // bounds their depth, and the stack is sized to walk the deepest.
        .thread_stack_size(rivulet_stream::THREAD_STACK)
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    if args.password.is_none() && !args.pg_listen.ip().is_loopback() {
        tracing::warn!(
            pg = %args.pg_listen,
            "listening beyond loopback without a password: anyone who can reach this port can read and change data; set --password (RIVULET_PASSWORD)"
        );
    }
    let data_dir = args.data_dir.clone();
    let budget = budget::Budget::split(args.memory_budget);
    let started = std::time::Instant::now();
    let ephemeral = args.ephemeral;
    let query_memory = usize::try_from(args.query_memory).unwrap_or(usize::MAX);
    let db = tokio::task::spawn_blocking(move || -> anyhow::Result<Database> {
        let engine: Arc<dyn rivulet_storage::Engine> = if ephemeral {
            Arc::new(rivulet_storage::MemoryEngine::new())
        } else {
            rivulet_storage::open_data_dir(&data_dir, budget.storage)
                .with_context(|| format!("opening data directory {}", data_dir.display()))?
        };
        let options = rivulet_stream::Options {
            state_cache_bytes: budget.state_cache as usize,
            query_memory_bytes: query_memory,
            ..Default::default()
        };
        Ok(Database::open(engine, options)?)
    })
    .await??;
    let catalog = db.catalog();
    let where_ = if args.ephemeral {
        "(ephemeral: in memory)".to_string()
    } else {
        args.data_dir.display().to_string()
    };
    tracing::info!(
        data_dir = %where_,
        relations = catalog.relations().count(),
        secrets = catalog.secrets().count(),
        storage_cache = budget.storage.cache,
        state_cache = budget.state_cache,
        millis = started.elapsed().as_millis() as u64,
        "data directory opened"
    );

    let pg = TcpListener::bind(args.pg_listen)
        .await
        .with_context(|| format!("binding {}", args.pg_listen))?;
    let hooks = TcpListener::bind(args.webhook_listen)
        .await
        .with_context(|| format!("binding {}", args.webhook_listen))?;
    let (pg_addr, hook_addr) = (pg.local_addr()?, hooks.local_addr()?);
    tracing::info!(pg = %pg_addr, webhook = %hook_addr, "rivulet listening");

    // RisingWave's variables name the same files.
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let tls = match (
        args.webhook_tls_cert
            .clone()
            .or_else(|| from_env("RW_SSL_CERT")),
        args.webhook_tls_key
            .clone()
            .or_else(|| from_env("RW_SSL_KEY")),
    ) {
        (Some(cert), Some(key)) => {
            Some(rivulet_webhook::tls_config(&cert, &key).map_err(anyhow::Error::msg)?)
        }
        (None, None) => None,
        _ => anyhow::bail!("HTTPS needs both a certificate and a key (RW_SSL_CERT and RW_SSL_KEY)"),
    };
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    tracker.spawn(rivulet_webhook::serve(
        hooks,
        db.clone(),
        rivulet_webhook::Config {
            max_body: args.webhook_max_body,
            max_connections: args.webhook_max_connections.max(1),
            read_timeout: Duration::from_secs(args.webhook_read_timeout.max(1)),
            body_budget: budget.request_bodies as usize,
            tls,
        },
        shutdown.clone(),
    ));
    let admin_addr = match TcpListener::bind(args.admin_listen).await {
        Ok(admin) => {
            let addr = admin.local_addr()?;
            tracker.spawn(admin::serve(
                admin,
                db.clone(),
                args.memory_budget,
                shutdown.clone(),
            ));
            Some(addr)
        }
        Err(e) => {
            tracing::error!(
                admin = %args.admin_listen,
                "no metrics, health or readiness endpoints: cannot listen: {e}"
            );
            None
        }
    };
    let password = args
        .password
        .as_deref()
        .map(|p| Arc::new(auth::ScramSecret::new(p)));
    let state = Arc::new(ServerState {
        password,
        db: db.clone(),
        connections: Arc::new(ConnectionManager::new()),
        pids: Arc::new(RandomPidSecretKeyGenerator::default()),
    });
    tracker.spawn(serve_pg(
        pg,
        state,
        PgLimits {
            max: args.max_connections.max(1),
            authentication: Duration::from_secs(args.authentication_timeout.max(1)),
        },
        shutdown.clone(),
        tracker.clone(),
    ));
    // Both listeners accept from here on. Harnesses that bound port 0
    // learn the real addresses from this line (the only thing Rivulet
    // writes to standard output) or from the ready file.
    let ready = announcement(pg_addr, hook_addr, admin_addr);
    if let Some(path) = &args.ready_file {
        write_whole(path, &format!("{ready}\n"))
            .with_context(|| format!("writing the ready file {}", path.display()))?;
    }
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{ready}");
        let _ = out.flush();
    }

    tokio::select! {
        () = wait_for_signal() => {}
        why = db.failed() => {
            // Nothing more can be acknowledged; a supervisor restarts the
            // process and recovery opens what the disk holds.
            tracing::error!("the writer stopped ({why}); exiting");
            std::process::exit(70);
        }
    }
    tracing::info!("shutting down");
    shutdown.cancel();
    tracker.close();
    if tokio::time::timeout(Duration::from_secs(15), tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish in time");
    }
    tokio::task::spawn_blocking(move || db.shutdown()).await?;
    if let Some(path) = &args.ready_file {
        let _ = std::fs::remove_file(path);
    }
    tracing::info!("stopped");
    Ok(())
}

/// The line announcing where Rivulet listens, as JSON:
/// `{"pg":"127.0.0.1:4566","webhook":"127.0.0.1:4560","admin":"127.0.0.1:4567","pid":1234}`
/// (`admin` is null when its address could not be bound).
fn announcement(pg: SocketAddr, webhook: SocketAddr, admin: Option<SocketAddr>) -> String {
    // Socket addresses print as digits, dots, colons and brackets: nothing
    // to escape.
    let admin = admin.map_or("null".to_string(), |a| format!("\"{a}\""));
    format!(
        r#"{{"pg":"{pg}","webhook":"{webhook}","admin":{admin},"pid":{}}}"#,
        std::process::id()
    )
}

/// Writes `text` to `path` so that the file appears whole or not at all:
/// into a temporary file beside it, then renamed over it.
fn write_whole(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Accepts PostgreSQL connections until shutdown; one task per connection,
/// at most `max` at once (beyond that a client is told 53300 at once).
/// Bounds on Postgres connections.
struct PgLimits {
    /// Sessions served at once.
    max: usize,
    /// Time from connecting to a ready session.
    authentication: Duration,
}

async fn serve_pg(
    listener: TcpListener,
    state: Arc<ServerState>,
    limits: PgLimits,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max));
    loop {
        let (socket, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => return,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(refuse_busy(socket));
            continue;
        };
        let _ = socket.set_nodelay(true);
        let session = Session::new(&state);
        let ready = session.ready_flag();
        let handlers = Handlers(session);
        let shutdown = shutdown.clone();
        let authentication = limits.authentication;
        tracker.spawn(async move {
            // A client that has not become a session in time is dropped.
            let unready = async {
                tokio::time::sleep(authentication).await;
                if ready.load(std::sync::atomic::Ordering::Acquire) {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                r = pgwire::tokio::process_socket(socket, None, handlers) => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, "connection ended: {e}");
                    }
                }
                () = unready => {
                    tracing::info!(%peer, "closing a connection that did not authenticate in time");
                }
                _ = shutdown.cancelled() => {}
            }
            drop(permit);
        });
    }
}

/// Answers a client the server has no room for as PostgreSQL does: after
/// its start-up packet (declining SSL or GSS encryption first), a FATAL
/// 53300 "sorry, too many clients already", then the connection closes.
async fn refuse_busy(mut socket: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SSL_REQUEST: u32 = 80_877_103;
    const GSSENC_REQUEST: u32 = 80_877_104;
    let work = async {
        loop {
            let len = socket.read_u32().await? as usize;
            if !(8..=10_000).contains(&len) {
                break;
            }
            let mut body = vec![0; len - 4];
            socket.read_exact(&mut body).await?;
            let code = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
            if code != SSL_REQUEST && code != GSSENC_REQUEST {
                break;
            }
            socket.write_all(b"N").await?;
        }
        let mut fields = Vec::new();
        for (tag, value) in [
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', "53300"),
            (b'M', "sorry, too many clients already"),
        ] {
            fields.push(tag);
            fields.extend_from_slice(value.as_bytes());
            fields.push(0);
        }
        fields.push(0);
        let mut msg = vec![b'E'];
        msg.extend_from_slice(&((fields.len() + 4) as u32).to_be_bytes());
        msg.extend_from_slice(&fields);
        socket.write_all(&msg).await?;
        socket.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), work).await;
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
