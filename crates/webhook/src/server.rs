//! The HTTP listener: one task per connection, graceful shutdown.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use rivulet_stream::Database;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::handler::{handle, State};

/// How long a refused connection gets to take its 503.
const REFUSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The answer to a connection beyond the cap: sent without reading the
/// request, then the connection is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: 51\r\nConnection: close\r\n\r\n{\"error\":\"too many connections, retry in a second\"}";

/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Listener settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest accepted request body, in bytes (413 beyond).
    pub max_body: usize,
    /// Most connections served at once; beyond them a connection gets an
    /// immediate 503 with `Retry-After` and is closed.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers — also how
    /// long an idle keep-alive connection stays open — and, separately,
    /// its body (408 after that).
    pub read_timeout: Duration,
    /// Bytes of request bodies held at once, over all connections (503
    /// with `Retry-After` for a request that finds the budget spent).
    pub body_budget: usize,
    /// Serve HTTPS with this configuration ([`tls_config`]) instead of
    /// plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// Serves one connection (plain TCP or TLS) until it ends.
async fn serve_connection<I>(
    io: I,
    peer: std::net::SocketAddr,
    state: Arc<State>,
    builder: auto::Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    read_timeout: Duration,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // Set by the first request. hyper times out slow headers and idle
    // keep-alive, but not a client that never sends a first byte (it waits
    // for one to tell HTTP/1 from HTTP/2): that is cut off here.
    let started = Arc::new(AtomicBool::new(false));
    let seen = started.clone();
    let service = service_fn(move |req| {
        seen.store(true, Ordering::Relaxed);
        let state = state.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(state, req, peer).await) }
    });
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .into_owned();
    let conn = watcher.watch(conn);
    tokio::pin!(conn);
    let ended = tokio::select! {
        r = &mut conn => Some(r),
        _ = tokio::time::sleep(read_timeout) => None,
    };
    let ended = match ended {
        Some(r) => Some(r),
        None if started.load(Ordering::Relaxed) => Some(conn.await),
        None => None, // dropping the connection closes it
    };
    if let Some(Err(e)) = ended {
        tracing::debug!(%peer, "webhook connection ended: {e}");
    }
}

/// Reads a PEM certificate chain and private key into a TLS configuration
/// for the listener (HTTP/2 and HTTP/1.1 offered by ALPN).
pub fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| format!("reading certificates from {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("reading the private key from {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS certificate and key: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves webhooks on `listener` until `shutdown` is cancelled, then lets
/// in-flight requests finish (up to a timeout).
pub async fn serve(
    listener: TcpListener,
    db: Database,
    config: Config,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let body_capacity = config
        .body_budget
        .clamp(config.max_body, Semaphore::MAX_PERMITS);
    let state = Arc::new(State {
        db,
        max_body: config.max_body,
        body_timeout: config.read_timeout,
        body_budget: Arc::new(Semaphore::new(body_capacity)),
        body_capacity,
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(config.read_timeout)
        .keep_alive_timeout(config.read_timeout);
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(config.max_connections));
    loop {
        let (mut stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(conn) => conn,
                Err(e) => {
                    // Usually out of file descriptors: back off, keep serving.
                    tracing::warn!("webhook accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            // Full: say so at once instead of leaving the sender hanging.
            tokio::spawn(async move {
                let refuse = async {
                    stream.write_all(BUSY).await?;
                    stream.shutdown().await
                };
                let _ = tokio::time::timeout(REFUSE_TIMEOUT, refuse).await;
            });
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let read_timeout = config.read_timeout;
        let tls = config.tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, peer, state, builder, watcher, read_timeout).await,
                Some(tls) => {
                    // The handshake has the same time limit as a request's
                    // headers, so a silent client cannot hold the slot.
                    let accept = tokio_rustls::TlsAcceptor::from(tls).accept(stream);
                    match tokio::time::timeout(read_timeout, accept).await {
                        Ok(Ok(stream)) => {
                            serve_connection(stream, peer, state, builder, watcher, read_timeout)
                                .await
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(permit);
        });
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::warn!("webhook connections still open after {DRAIN_TIMEOUT:?}; closing");
        }
    }
    Ok(())
}
