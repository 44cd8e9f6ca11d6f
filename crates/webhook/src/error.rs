//! Request failures and their HTTP statuses.

use hyper::StatusCode;

/// Why a webhook request was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("not found")]
    /// The path is not `/webhook/{database}/{schema}/{table}` (404).
    NoRoute,
    #[error("method {0} not allowed; use POST, PUT or PATCH")]
    /// A method other than POST, PUT or PATCH (405).
    MethodNotAllowed(String),
    #[error("database \"{0}\" not found")]
    /// No such database (404).
    UnknownDatabase(String),
    #[error("schema \"{0}\" not found")]
    /// No such schema (404).
    UnknownSchema(String),
    #[error("table \"{0}\" not found")]
    /// No such table (404).
    UnknownTable(String),
    #[error("table \"{0}\" is not a webhook table")]
    /// The table has no webhook connector (403).
    NotWebhookTable(String),
    #[error("request body exceeds the limit of {0} bytes")]
    /// The body is over the limit (413).
    BodyTooLarge(usize),
    #[error("failed to read request body: {0}")]
    /// The connection failed while the body was read (400).
    BodyRead(#[source] hyper::Error),
    #[error("the request body did not arrive within {0} seconds")]
    /// The body did not arrive in time (408).
    BodyTimeout(u64),
    #[error("unsupported Content-Encoding \"{0}\"; send gzip or identity")]
    /// A body compressed some other way (415).
    UnsupportedEncoding(String),
    #[error("request body is not valid gzip: {0}")]
    /// A gzip body that does not decompress (400).
    BadGzip(String),
    #[error("hub.verify_token does not match the table's verify token")]
    /// Meta's verification with the wrong token (403).
    VerifyTokenMismatch,
    #[error("bad verification request: {0}")]
    /// A verification request missing a part (400).
    BadHandshake(String),
    #[error("Signature verification failed")]
    /// VALIDATE was false (401).
    SignatureMismatch,
    #[error("signature validation returned NULL (a header or value it needs is missing)")]
    /// VALIDATE was NULL (400).
    ValidationNull,
    #[error("signature validation returned {0} instead of boolean")]
    /// VALIDATE returned a non-boolean (500).
    ValidationType(rivulet_expr::DataType),
    /// Only the SQLSTATE is shown: the expression's inputs include the
    /// secret.
    #[error("signature validation failed to evaluate: SQLSTATE {}", .0.sqlstate())]
    ValidationFailed(#[source] rivulet_expr::Error),
    #[error("{0}")]
    /// The body is not the JSON the table takes (422).
    InvalidJson(String),
    #[error("failed to decode webhook JSON payload: column \"{column}\": {detail}")]
    /// A field of a typed table's document does not convert to its
    /// column's type (422).
    Decode {
        /// The column.
        column: String,
        /// Its type.
        ty: rivulet_expr::DataType,
        /// The conversion's error.
        detail: String,
    },
    #[error(
        "failed to decode webhook JSON payload: primary key column \"{0}\" is missing or null"
    )]
    /// A typed table's document lacks a primary-key field (422).
    MissingKey(String),
    #[error("the server is shutting down")]
    /// The server is shutting down (503).
    ShuttingDown,
    #[error("the writer has more deliveries queued than it takes; retry shortly")]
    /// The writer's queue is full (503).
    WriterBusy,
    #[error("too many request bodies in flight; retry shortly")]
    /// The shared body budget is spent for now (503).
    Busy,
    /// An NDJSON body with more rows than could ever fit the budget (413).
    #[error("the request has {rows} rows; at most {most} fit the server's memory budget at once")]
    TooManyRows {
        /// The rows in the body.
        rows: usize,
        /// The most that fit beside the body's bytes.
        most: usize,
    },
    #[error("failed to store the event: {0}")]
    /// The engine could not store the rows (500).
    Store(#[source] rivulet_stream::Error),
    #[error("the request's task failed: {0}")]
    /// The task validating or parsing the body failed (500).
    Task(#[from] tokio::task::JoinError),
}

impl WebhookError {
    /// The HTTP status for this failure. 5xx statuses make senders such as
    /// Segment retry; 4xx statuses (but 408/429) do not.
    pub fn status(&self) -> StatusCode {
        match self {
            WebhookError::NoRoute
            | WebhookError::UnknownDatabase(_)
            | WebhookError::UnknownSchema(_)
            | WebhookError::UnknownTable(_) => StatusCode::NOT_FOUND,
            WebhookError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            WebhookError::NotWebhookTable(_) | WebhookError::VerifyTokenMismatch => {
                StatusCode::FORBIDDEN
            }
            WebhookError::BadHandshake(_) => StatusCode::BAD_REQUEST,
            WebhookError::BodyTooLarge(_) | WebhookError::TooManyRows { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            WebhookError::BodyRead(_) | WebhookError::BadGzip(_) => StatusCode::BAD_REQUEST,
            WebhookError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebhookError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            WebhookError::SignatureMismatch => StatusCode::UNAUTHORIZED,
            WebhookError::ValidationNull => StatusCode::BAD_REQUEST,
            WebhookError::ValidationType(_)
            | WebhookError::ValidationFailed(_)
            | WebhookError::Store(_)
            | WebhookError::Task(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebhookError::InvalidJson(_)
            | WebhookError::Decode { .. }
            | WebhookError::MissingKey(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebhookError::ShuttingDown | WebhookError::Busy | WebhookError::WriterBusy => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// Why, for `rivulet_catalog.webhook_rejections`: the message, except
    /// that a JSON error does not quote the body (any user of the
    /// database may read the table; the sender, who has the body, gets the
    /// full message).
    pub fn reason(&self) -> String {
        match self {
            // "invalid JSON on line 3: Token ... is invalid" keeps only
            // "invalid JSON on line 3"; the other messages quote nothing.
            WebhookError::InvalidJson(msg) if msg.starts_with("invalid JSON") => msg
                .split_once(": ")
                .map_or(msg.as_str(), |(head, _)| head)
                .to_string(),
            // The conversion's message quotes the value.
            WebhookError::Decode { column, ty, .. } => format!(
                "failed to decode webhook JSON payload: column \"{column}\" is not a valid {ty}"
            ),
            other => other.to_string(),
        }
    }

    /// The refusal's kind, a fixed name for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            WebhookError::NoRoute => "no_route",
            WebhookError::MethodNotAllowed(_) => "method_not_allowed",
            WebhookError::UnknownDatabase(_)
            | WebhookError::UnknownSchema(_)
            | WebhookError::UnknownTable(_) => "unknown_table",
            WebhookError::NotWebhookTable(_) => "not_webhook_table",
            WebhookError::BodyTooLarge(_) | WebhookError::TooManyRows { .. } => "body_too_large",
            WebhookError::BodyRead(_) => "body_read",
            WebhookError::BodyTimeout(_) => "body_timeout",
            WebhookError::UnsupportedEncoding(_) | WebhookError::BadGzip(_) => "bad_encoding",
            WebhookError::VerifyTokenMismatch | WebhookError::BadHandshake(_) => "bad_handshake",
            WebhookError::SignatureMismatch => "signature_mismatch",
            WebhookError::ValidationNull => "validation_null",
            WebhookError::ValidationType(_) | WebhookError::ValidationFailed(_) => {
                "validation_error"
            }
            WebhookError::InvalidJson(_) => "invalid_json",
            WebhookError::Decode { .. } | WebhookError::MissingKey(_) => "decode_error",
            WebhookError::ShuttingDown => "shutting_down",
            WebhookError::WriterBusy | WebhookError::Busy => "busy",
            WebhookError::Store(_) | WebhookError::Task(_) => "internal",
        }
    }

    /// The JSON error body.
    pub fn body(&self) -> String {
        serde_json::json!({ "error": self.to_string() }).to_string()
    }
}
