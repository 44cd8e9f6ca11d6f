//! One webhook request, from path to acknowledgement.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode};
use rivulet_catalog::{
    Dedup, DedupKey, Handshake, Relation, WebhookSpec, DEFAULT_DATABASE, DEFAULT_SCHEMA,
};
use rivulet_expr::{Jsonb, Row, Value};
use rivulet_stream::metrics::{ReasonLabels, RequestLabels};
use rivulet_stream::{Database, DeliveryIds};
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

/// What is known about a request as it is processed, for the log of
/// accepted and refused requests.
#[derive(Default)]
struct Seen {
    /// The table the path names.
    table: Option<String>,
    /// Whether that table exists.
    table_exists: bool,
    /// Bytes of body received.
    body_bytes: u64,
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Answers one request; never fails (errors become JSON error responses).
pub(crate) async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
    peer: std::net::SocketAddr,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let started = std::time::Instant::now();
    let mut seen = Seen::default();
    let outcome = process(&state, req, &mut seen).await;
    let metrics = state.db.metrics();
    let status = match &outcome {
        Ok(_) => 200,
        Err(e) => {
            metrics
                .rejections
                .get_or_create(&ReasonLabels { reason: e.kind() })
                .inc();
            e.status().as_u16()
        }
    };
    let table = match (&seen.table, seen.table_exists) {
        (Some(t), true) => t.clone(),
        _ => String::new(),
    };
    metrics
        .requests
        .get_or_create(&RequestLabels { table, status })
        .inc();
    if let Ok(Answer::Stored(_)) = &outcome {
        metrics.ack_seconds.observe(started.elapsed().as_secs_f64());
    }
    let log = state.db.webhook_log();
    match &outcome {
        Ok(Answer::Stored(rows)) => {
            if let Some(t) = &seen.table {
                log.accepted(t, *rows, now_micros());
            }
        }
        Ok(Answer::Challenge(_)) => {}
        Err(e) => log.rejected(
            rivulet_stream::Rejection {
                at: now_micros(),
                table: seen.table.clone(),
                status: e.status().as_u16(),
                reason: e.reason(),
                body_bytes: seen.body_bytes,
                remote_addr: peer.to_string(),
            },
            seen.table_exists,
        ),
    }
    match outcome {
        Ok(Answer::Stored(rows)) => {
            tracing::debug!(path, rows, "webhook accepted");
            Response::builder()
                .status(StatusCode::OK)
                .body(Full::new(Bytes::new()))
                .unwrap_or_default()
        }
        Ok(Answer::Challenge(challenge)) => {
            tracing::info!(path, "answered a sender's verification challenge");
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .header("x-content-type-options", "nosniff")
                .body(Full::new(Bytes::from(challenge)))
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
                builder = builder.header(header::ALLOW, "POST, PUT, PATCH");
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

/// What a request that succeeded is answered with.
enum Answer {
    /// Rows were stored (or all were deliveries seen before): 200.
    Stored(usize),
    /// A sender's verification: 200 with the challenge as the body.
    Challenge(String),
}

async fn process(
    state: &State,
    req: Request<Incoming>,
    seen: &mut Seen,
) -> Result<Answer, WebhookError> {
    let (db, schema, table) = route(req.uri().path()).ok_or(WebhookError::NoRoute)?;
    seen.table = Some(table.clone());
    // Segment's Webhooks (Actions) destination can be set to send with
    // any of the three; GET is only a verification (Meta's).
    let get = req.method() == Method::GET;
    if !get && ![Method::POST, Method::PUT, Method::PATCH].contains(req.method()) {
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
    seen.table_exists = true;
    let Some(spec) = webhook_spec(&rel) else {
        return Err(WebhookError::NotWebhookTable(table));
    };
    if get {
        return match &spec.handshake {
            Some(Handshake::Meta(token)) => meta_challenge(req.uri().query(), token.value()),
            _ => Err(WebhookError::MethodNotAllowed("GET".into())),
        };
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
            seen.body_bytes = buf.len() as u64;
        }
        Ok(Bytes::from(buf))
    };
    let body = tokio::time::timeout(state.body_timeout, read)
        .await
        .map_err(|_| WebhookError::BodyTimeout(state.body_timeout.as_secs()))??;
    let body = match content_encoding(&parts.headers)? {
        Encoding::Identity => body,
        Encoding::Gzip => {
            // Large bodies inflate on the blocking pool; every inflated
            // byte is charged to the body budget before it is kept.
            let limits = Inflate {
                budget: state.body_budget.clone(),
                capacity: state.body_capacity,
                max_body: state.max_body,
                held: held.as_ref().map_or(0, OwnedSemaphorePermit::num_permits),
            };
            let (body, more) =
                tokio::task::spawn_blocking(move || gunzip(&body, &limits)).await??;
            match (&mut held, more) {
                (Some(p), Some(more)) => p.merge(more),
                (None, more) => held = more,
                (_, None) => {}
            }
            body
        }
    };
    // Only VALIDATE reads `headers`: just the headers it names, when it
    // names them all.
    let only = match &spec.validate {
        Some(v) => v.headers_read.as_deref(),
        None => Some(&[][..]),
    };
    let headers = validate::headers_jsonb(&parts.headers, only);

    // Rows cost memory beyond the body's bytes: charge an NDJSON body's
    // lines before parsing them. A request that could never fit is refused
    // for good (413); one that does not fit now is told to retry (503).
    if spec.is_batched {
        let lines = payload::line_count(&body);
        let need = lines.saturating_mul(ROW_COST);
        if need.saturating_add(body.len()) > state.body_capacity {
            return Err(WebhookError::TooManyRows {
                rows: lines,
                most: state.body_capacity.saturating_sub(body.len()) / ROW_COST,
            });
        }
        reserve(state, &mut held, need)?;
    }
    let decoded = if body.len() > OFFLOAD_BYTES {
        let rel = rel.clone();
        tokio::task::spawn_blocking(move || decode(&rel, &headers, &body)).await??
    } else {
        decode(&rel, &headers, &body)?
    };
    let (mut rows, field_ids) = match decoded {
        Decoded::Rows(rows, ids) => (rows, ids),
        Decoded::Challenge(c) => return Ok(Answer::Challenge(c)),
    };
    let mut ids = field_ids;
    if let Some(Dedup {
        key: DedupKey::Header(name),
        ..
    }) = &spec.dedup
    {
        ids = header_id(name, &parts.headers);
    }
    include_headers(&mut rows, &spec.include_headers, &parts.headers);
    let n = rows.len();
    let stored = state.db.deliver(rel.id, rows, ids).await;
    stored.map_err(|e| match e {
        rivulet_stream::Error::RelationGone(_) => WebhookError::UnknownTable(table),
        rivulet_stream::Error::ShuttingDown => WebhookError::ShuttingDown,
        rivulet_stream::Error::Busy => WebhookError::WriterBusy,
        other => WebhookError::Store(other),
    })?;
    Ok(Answer::Stored(n))
}

/// The longest challenge echoed back.
const MAX_CHALLENGE: usize = 1024;

/// Meta's verification: `hub.mode=subscribe`, `hub.verify_token` equal to
/// the table's verify token (compared in constant time) and
/// `hub.challenge`, echoed back.
fn meta_challenge(query: Option<&str>, token: &str) -> Result<Answer, WebhookError> {
    let mut mode = None;
    let mut given = None;
    let mut challenge = None;
    for pair in query.unwrap_or_default().split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(&v.replace('+', " "));
        match k {
            "hub.mode" => mode = v,
            "hub.verify_token" => given = v,
            "hub.challenge" => challenge = v,
            _ => {}
        }
    }
    let (Some("subscribe"), Some(given), Some(challenge)) = (mode.as_deref(), given, challenge)
    else {
        return Err(WebhookError::BadHandshake(
            "expected hub.mode=subscribe, hub.verify_token and hub.challenge".into(),
        ));
    };
    if !constant_time_eq::constant_time_eq(given.as_bytes(), token.as_bytes()) {
        return Err(WebhookError::VerifyTokenMismatch);
    }
    if challenge.len() > MAX_CHALLENGE {
        return Err(WebhookError::BadHandshake(format!(
            "hub.challenge is longer than {MAX_CHALLENGE} bytes"
        )));
    }
    Ok(Answer::Challenge(challenge))
}

/// Slack's `url_verification` event: its challenge.
fn slack_challenge(docs: &[Row]) -> Option<String> {
    let [row] = docs else { return None };
    let Some(Value::Jsonb(doc)) = row.first() else {
        return None;
    };
    if doc.get_path(&["type"])?.text()? != "url_verification" {
        return None;
    }
    let challenge = doc.get_path(&["challenge"])?.text()?;
    (challenge.len() <= MAX_CHALLENGE).then(|| challenge.to_string())
}

/// The last value of header `name` (lower-case), as text.
fn header_text(headers: &hyper::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(name)
        .iter()
        .next_back()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Appends the table's included headers to every row (NULL when absent;
/// a repeated header gives its last value, as VALIDATE's `headers` does).
fn include_headers(rows: &mut [Row], names: &[String], headers: &hyper::HeaderMap) {
    if names.is_empty() {
        return;
    }
    let values: Vec<Value> = names
        .iter()
        .map(|n| header_text(headers, n).map_or(Value::Null, Value::Text))
        .collect();
    for row in rows {
        row.extend(values.iter().cloned());
    }
}

/// Ids longer than this are stored as their SHA-256 digest.
const MAX_ID_BYTES: usize = 128;

/// A delivery id as stored: itself, or its digest if long.
fn stored_id(id: &[u8]) -> Vec<u8> {
    if id.len() <= MAX_ID_BYTES {
        return id.to_vec();
    }
    use sha2::Digest;
    let mut out = vec![0xff];
    out.extend_from_slice(&sha2::Sha256::digest(id));
    out
}

/// The request's delivery id: the header's value, if present.
fn header_id(name: &str, headers: &hyper::HeaderMap) -> Option<DeliveryIds> {
    let id = header_text(headers, name).filter(|v| !v.is_empty())?;
    Some(DeliveryIds::Request(stored_id(id.as_bytes())))
}

/// Each event's id: its top-level `field`, a string or number (an event
/// without one is stored without a check).
fn field_ids(field: &str, docs: &[Row]) -> DeliveryIds {
    DeliveryIds::Rows(
        docs.iter()
            .map(|row| match row.first() {
                Some(Value::Jsonb(doc)) => doc
                    .get_path(&[field])
                    .and_then(|v| v.text_bytes())
                    .map(stored_id),
                _ => None,
            })
            .collect(),
    )
}

/// Validates and parses the body into the table's rows, with the events'
/// ids when the table deduplicates by a field.
/// A validated body: rows to store, or a verification to answer.
enum Decoded {
    Rows(Vec<Row>, Option<DeliveryIds>),
    Challenge(String),
}

fn decode(rel: &Relation, headers: &Jsonb, body: &[u8]) -> Result<Decoded, WebhookError> {
    let docs = prepare(rel, headers, body)?;
    let Some(spec) = webhook_spec(rel) else {
        return Ok(Decoded::Rows(docs, None));
    };
    if matches!(spec.handshake, Some(Handshake::Slack)) {
        if let Some(challenge) = slack_challenge(&docs) {
            return Ok(Decoded::Challenge(challenge));
        }
    }
    let ids = match &spec.dedup {
        Some(Dedup {
            key: DedupKey::Field(f),
            ..
        }) => Some(field_ids(f, &docs)),
        _ => None,
    };
    if !spec.typed {
        return Ok(Decoded::Rows(docs, ids));
    }
    let width = rel.columns.len() - spec.include_headers.len();
    let columns = &rel.columns[..width];
    let pk = rel
        .table()
        .map(|t| t.primary_key.as_slice())
        .unwrap_or_default();
    let rows = docs
        .into_iter()
        .map(|doc| payload::typed_row(doc, columns, pk))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Decoded::Rows(rows, ids))
}

/// How a request body is encoded.
enum Encoding {
    Identity,
    Gzip,
}

/// The body's `Content-Encoding`: none, `identity` or `gzip` (also
/// `x-gzip`), matched without regard to case.
fn content_encoding(headers: &hyper::HeaderMap) -> Result<Encoding, WebhookError> {
    let mut encoding = Encoding::Identity;
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let text = String::from_utf8_lossy(value.as_bytes());
        for coding in text.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            match (coding.to_ascii_lowercase().as_str(), &encoding) {
                ("identity", _) => {}
                ("gzip" | "x-gzip", Encoding::Identity) => encoding = Encoding::Gzip,
                _ => return Err(WebhookError::UnsupportedEncoding(coding.to_string())),
            }
        }
    }
    Ok(encoding)
}

/// Bytes inflated between charges to the body budget.
const INFLATE_CHUNK: usize = 64 * 1024;

/// What inflating a gzip body may use.
struct Inflate {
    budget: Arc<Semaphore>,
    /// The budget's size.
    capacity: usize,
    /// The most the inflated body may be.
    max_body: usize,
    /// What the request holds of the budget already (its compressed body).
    held: usize,
}

/// Inflates a gzip body (several members are read as one stream, as
/// `gunzip` does) to at most `max_body` bytes, charging the inflated bytes
/// to the budget a piece at a time before they are kept; returns the body
/// and the permit held for it. A piece the budget could never give beside
/// what the request holds is 413 (the body is too large for this server);
/// one it cannot give now is 503.
fn gunzip(
    body: &[u8],
    limits: &Inflate,
) -> Result<(Bytes, Option<OwnedSemaphorePermit>), WebhookError> {
    use std::io::Read;
    let mut decoder = flate2::read::MultiGzDecoder::new(body);
    let mut out: Vec<u8> = Vec::new();
    let mut held: Option<OwnedSemaphorePermit> = None;
    let too_large = || WebhookError::BodyTooLarge(limits.max_body);
    loop {
        let start = out.len();
        // One byte past the limit is enough to know it is exceeded.
        let want = INFLATE_CHUNK.min(limits.max_body + 1 - start);
        if limits.held + start + want > limits.capacity {
            return Err(too_large());
        }
        let permit = limits
            .budget
            .clone()
            .try_acquire_many_owned(want as u32)
            .map_err(|_| WebhookError::Busy)?;
        match &mut held {
            Some(p) => p.merge(permit),
            None => held = Some(permit),
        }
        out.resize(start + want, 0);
        let mut filled = start;
        while filled < out.len() {
            match decoder.read(&mut out[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => return Err(WebhookError::BadGzip(e.to_string())),
            }
        }
        out.truncate(filled);
        if out.len() > limits.max_body {
            return Err(too_large());
        }
        if filled < start + want {
            return Ok((Bytes::from(out), held));
        }
    }
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
