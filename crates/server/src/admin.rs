//! The admin listener (`--admin-listen`): the status page (`/`,
//! `/status`), `/metrics` for Prometheus, `/health` (the process serves)
//! and `/ready` (the writer can take work). Plain HTTP/1.1, a few connections at a time, no request body.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{header, Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::registry::Registry;
use rivulet_stream::Database;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Connections served at once; more wait for the listener's backlog.
const MAX_CONNECTIONS: usize = 32;

/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

struct Admin {
    db: Database,
    registry: Registry,
}

/// Serves the admin endpoints on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    db: Database,
    budget_bytes: u64,
    shutdown: CancellationToken,
) {
    let mut registry = Registry::default();
    db.metrics().register(&mut registry);
    db.metrics().budget_bytes.set(budget_bytes as i64);
    let admin = Arc::new(Admin { db, registry });
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = shutdown.cancelled() => return,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!("admin accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => return,
        };
        let admin = admin.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let admin = admin.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&admin, req).await) }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(READ_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(READ_TIMEOUT * 3, conn).await;
            drop(permit);
        });
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

async fn answer(admin: &Admin, req: Request<Incoming>) -> Response<Full<Bytes>> {
    const PLAIN: &str = "text/plain; charset=utf-8";
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, PLAIN, "use GET\n".into());
    }
    match req.uri().path() {
        "/health" => text(StatusCode::OK, PLAIN, "ok\n".into()),
        "/ready" if admin.db.has_failed() => text(
            StatusCode::SERVICE_UNAVAILABLE,
            PLAIN,
            "the writer has stopped; restart the server\n".into(),
        ),
        "/ready" => text(StatusCode::OK, PLAIN, "ready\n".into()),
        "/" | "/status" => {
            let db = admin.db.clone();
            match tokio::task::spawn_blocking(move || crate::status::render(&db)).await {
                Ok(page) => text(StatusCode::OK, "text/html; charset=utf-8", page),
                Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, PLAIN, format!("{e}\n")),
            }
        }
        "/metrics" => match metrics(admin).await {
            Ok(body) => text(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                body,
            ),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, PLAIN, format!("{e}\n")),
        },
        _ => text(
            StatusCode::NOT_FOUND,
            PLAIN,
            "not found: try /status, /metrics, /health or /ready\n".into(),
        ),
    }
}

/// The metrics in Prometheus' text format, with rows per relation and
/// memory read now.
async fn metrics(admin: &Admin) -> anyhow::Result<String> {
    let db = admin.db.clone();
    let rows = tokio::task::spawn_blocking(move || {
        let catalog = db.catalog();
        catalog
            .relations()
            .filter_map(|r| Some((r.name.clone(), db.row_count_blocking(r).ok()?)))
            .collect::<Vec<_>>()
    })
    .await?;
    admin.db.metrics().refresh(rows);
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &admin.registry)?;
    Ok(out)
}
