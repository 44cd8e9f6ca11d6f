//! The HTTP listener: one task per connection, graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use rivulet_stream::Database;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::handler::{handle, State};

/// Most connections served at once; further clients wait in the accept queue.
const MAX_CONNECTIONS: usize = 4096;

/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Listener settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest accepted request body, in bytes (413 beyond).
    pub max_body: usize,
}

/// Serves webhooks on `listener` until `shutdown` is cancelled, then lets
/// in-flight requests finish (up to a timeout).
pub async fn serve(
    listener: TcpListener,
    db: Database,
    config: Config,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let state = Arc::new(State {
        db,
        max_body: config.max_body,
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = shutdown.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
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
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let service = service_fn(move |req| {
            let state = state.clone();
            async move { Ok::<_, std::convert::Infallible>(handle(state, req).await) }
        });
        let conn = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "webhook connection ended: {e}");
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
