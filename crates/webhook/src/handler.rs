//! One webhook request, from path to acknowledgement.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode};
use rivulet_catalog::{Relation, WebhookSpec, DEFAULT_DATABASE, DEFAULT_SCHEMA};
use rivulet_expr::{Jsonb, Row};
use rivulet_stream::Database;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{payload, validate, WebhookError};

/// Bodies larger than this are validated and parsed on the blocking pool
/// so a large upload does not stall other requests on the async workers.
const OFFLOAD_BYTES: usize = 256 * 1024;

/// What every request handler shares.
pub(crate) struct State {
    pub(crate) db: Database,
    pub(crate) max_body: usize,
    /// How long a request's body may take to arrive.
    pub(crate) body_timeout: std::time::Duration,
    /// Bytes of request bodies that may be held at once, over all
    /// requests: a body holds its share from its first byte (or its
    /// declared length) until its request is answered, and a request that
    /// finds none left is told to retry (503) instead of pinning memory.
    pub(crate) body_budget: Arc<Semaphore>,
    /// The budget's size.
    pub(crate) body_capacity: usize,
}

/// Memory a stored row costs beyond its bytes in the body while its
/// request is processed (the row, its document header, its change and its
/// pending write), charged against the body budget.
const ROW_COST: usize = 256;

/// Reserves `n` more bytes of the body budget.
fn reserve(
    state: &State,
    held: &mut Option<OwnedSemaphorePermit>,
    n: usize,
) -> Result<(), WebhookError> {
    if n == 0 {
        return Ok(());
    }
    let n = u32::try_from(n).map_err(|_| WebhookError::BodyTooLarge(state.max_body))?;
    let more = state
        .body_budget
        .clone()
        .try_acquire_many_owned(n)
        .map_err(|_| WebhookError::Busy)?;
    match held {
        Some(p) => p.merge(more),
        None => *held = Some(more),
    }
    Ok(())
}

/// Answers one request; never fails (errors become JSON error responses).
pub(crate) async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    match process(&state, req).await {
        Ok(rows) => {
            tracing::debug!(path, rows, "webhook accepted");
            Response::builder()
                .status(StatusCode::OK)
                .body(Full::new(Bytes::new()))
                .unwrap_or_default()
        }
        Err(e) => {
            let status = e.status();
            if status.is_server_error() {
                tracing::warn!(path, %status, "webhook failed: {e}");
            } else {
                tracing::debug!(path, %status, "webhook rejected: {e}");
            }
            let mut builder = Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, "application/json");
            if status == StatusCode::METHOD_NOT_ALLOWED {
                builder = builder.header(header::ALLOW, "POST");
            }
            if status == StatusCode::SERVICE_UNAVAILABLE {
                builder = builder.header(header::RETRY_AFTER, "1");
            }
            builder
                .body(Full::new(Bytes::from(e.body())))
                .unwrap_or_default()
        }
    }
}

/// Decodes `%XX` escapes in one path segment.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `/webhook/{database}/{schema}/{table}` (a trailing slash is allowed).
fn route(path: &str) -> Option<(String, String, String)> {
    let rest = path.strip_prefix("/webhook/")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut parts = rest.split('/');
    let (db, schema, table) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || db.is_empty() || schema.is_empty() || table.is_empty() {
        return None;
    }
    Some((
        percent_decode(db)?,
        percent_decode(schema)?,
        percent_decode(table)?,
    ))
}

async fn process(state: &State, req: Request<Incoming>) -> Result<usize, WebhookError> {
    let (db, schema, table) = route(req.uri().path()).ok_or(WebhookError::NoRoute)?;
    if req.method() != Method::POST {
        return Err(WebhookError::MethodNotAllowed(req.method().to_string()));
    }
    if db != DEFAULT_DATABASE {
        return Err(WebhookError::UnknownDatabase(db));
    }
    if schema != DEFAULT_SCHEMA {
        return Err(WebhookError::UnknownSchema(schema));
    }
    let catalog = state.db.catalog();
    let rel = catalog
        .relation(&table)
        .filter(|r| r.table().is_some())
        .ok_or_else(|| WebhookError::UnknownTable(table.clone()))?
        .clone();
    if webhook_spec(&rel).is_none() {
        return Err(WebhookError::NotWebhookTable(table));
    }

    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.max_body as u64) {
        return Err(WebhookError::BodyTooLarge(state.max_body));
    }
    let (parts, mut body) = req.into_parts();
    // The body's bytes count against the shared budget from the moment
    // they are promised (a declared length) or arrive.
    let mut held: Option<OwnedSemaphorePermit> = None;
    let declared = declared.unwrap_or(0) as usize;
    reserve(state, &mut held, declared)?;
    let read = async {
        let mut buf = Vec::with_capacity(declared);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(WebhookError::BodyRead)?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            if buf.len() + data.len() > state.max_body {
                return Err(WebhookError::BodyTooLarge(state.max_body));
            }
            let beyond = (buf.len() + data.len()).saturating_sub(declared.max(buf.len()));
            reserve(state, &mut held, beyond)?;
            buf.extend_from_slice(&data);
        }
        Ok(Bytes::from(buf))
    };
    let body = tokio::time::timeout(state.body_timeout, read)
        .await
        .map_err(|_| WebhookError::BodyTimeout(state.body_timeout.as_secs()))??;
    let headers = validate::headers_jsonb(&parts.headers);

    // Rows cost memory beyond the body's bytes: charge an NDJSON body's
    // lines before parsing them. A request that could never fit is refused
    // for good (413); one that does not fit now is told to retry (503).
    if webhook_spec(&rel).is_some_and(|w| w.is_batched) {
        let lines = body
            .split(|&b| b == b'\n')
            .filter(|l| !l.trim_ascii().is_empty())
            .count();
        let need = lines.saturating_mul(ROW_COST);
        if need.saturating_add(body.len()) > state.body_capacity {
            return Err(WebhookError::TooManyRows {
                rows: lines,
                most: state.body_capacity.saturating_sub(body.len()) / ROW_COST,
            });
        }
        reserve(state, &mut held, need)?;
    }
    let rows = if body.len() > OFFLOAD_BYTES {
        let rel = rel.clone();
        tokio::task::spawn_blocking(move || prepare(&rel, &headers, &body)).await??
    } else {
        prepare(&rel, &headers, &body)?
    };
    let n = rows.len();
    state.db.insert(rel.id, rows).await.map_err(|e| match e {
        rivulet_stream::Error::RelationGone(_) => WebhookError::UnknownTable(table),
        rivulet_stream::Error::ShuttingDown => WebhookError::ShuttingDown,
        other => WebhookError::Store(other),
    })?;
    Ok(n)
}

fn webhook_spec(rel: &Relation) -> Option<&WebhookSpec> {
    rel.table().and_then(|t| t.webhook.as_ref())
}

/// Validates, then parses: the body's rows, or why it was refused.
///
/// Segment's batch mode posts a JSON array but signs only the exact bytes
/// of its first element, which proves nothing about the other elements:
/// anyone holding one signed event could append forged ones. So only on a
/// table that opted into batches (`is_batched = true`) does a body that
/// fails validation as a whole, is an array, and whose first element
/// passes, become one row per element; elsewhere only a signature over the
/// whole body is accepted.
fn prepare(rel: &Relation, headers: &Jsonb, body: &[u8]) -> Result<Vec<Row>, WebhookError> {
    let spec = webhook_spec(rel).ok_or_else(|| WebhookError::NotWebhookTable(rel.name.clone()))?;
    if let Some(v) = &spec.validate {
        match validate::check(v, headers, body) {
            Ok(()) => {}
            Err(WebhookError::SignatureMismatch) if spec.is_batched => {
                match validate::first_array_element(body) {
                    Some(first) if validate::check(v, headers, first).is_ok() => {
                        return payload::array_rows(body);
                    }
                    _ => return Err(WebhookError::SignatureMismatch),
                }
            }
            Err(e) => return Err(e),
        }
    }
    payload::rows(body, spec.is_batched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route("/webhook/dev/public/t"),
            Some(("dev".into(), "public".into(), "t".into()))
        );
        assert_eq!(
            route("/webhook/dev/public/my%20t/"),
            Some(("dev".into(), "public".into(), "my t".into()))
        );
        assert_eq!(route("/webhook/dev/public"), None);
        assert_eq!(route("/webhook/dev/public/t/x"), None);
        assert_eq!(route("/other"), None);
        assert_eq!(route("/webhook/dev/public/%zz"), None);
    }
}
