//! Request failures and their HTTP statuses.

use hyper::StatusCode;

/// Why a webhook request was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("not found")]
    NoRoute,
    #[error("method {0} not allowed; use POST")]
    MethodNotAllowed(String),
    #[error("database \"{0}\" not found")]
    UnknownDatabase(String),
    #[error("schema \"{0}\" not found")]
    UnknownSchema(String),
    #[error("table \"{0}\" not found")]
    UnknownTable(String),
    #[error("table \"{0}\" is not a webhook table")]
    NotWebhookTable(String),
    #[error("request body exceeds the limit of {0} bytes")]
    BodyTooLarge(usize),
    #[error("failed to read request body: {0}")]
    BodyRead(#[source] hyper::Error),
    #[error("the request body did not arrive within {0} seconds")]
    BodyTimeout(u64),
    #[error("Signature verification failed")]
    SignatureMismatch,
    #[error("signature validation returned NULL (a header or value it needs is missing)")]
    ValidationNull,
    #[error("signature validation returned {0} instead of boolean")]
    ValidationType(rivulet_expr::DataType),
    /// Only the SQLSTATE is shown: the expression's inputs include the
    /// secret.
    #[error("signature validation failed to evaluate: SQLSTATE {}", .0.sqlstate())]
    ValidationFailed(#[source] rivulet_expr::Error),
    #[error("{0}")]
    InvalidJson(String),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("too many request bodies in flight; retry shortly")]
    Busy,
    #[error("the request has {rows} rows; at most {most} fit the server's memory budget at once")]
    TooManyRows { rows: usize, most: usize },
    #[error("failed to store the event: {0}")]
    Store(#[source] rivulet_stream::Error),
    #[error("the request's task failed: {0}")]
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
            WebhookError::NotWebhookTable(_) => StatusCode::FORBIDDEN,
            WebhookError::BodyTooLarge(_) | WebhookError::TooManyRows { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            WebhookError::BodyRead(_) => StatusCode::BAD_REQUEST,
            WebhookError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            WebhookError::SignatureMismatch => StatusCode::UNAUTHORIZED,
            WebhookError::ValidationNull => StatusCode::BAD_REQUEST,
            WebhookError::ValidationType(_)
            | WebhookError::ValidationFailed(_)
            | WebhookError::Store(_)
            | WebhookError::Task(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebhookError::InvalidJson(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebhookError::ShuttingDown | WebhookError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The JSON error body.
    pub fn body(&self) -> String {
        serde_json::json!({ "error": self.to_string() }).to_string()
    }
}
