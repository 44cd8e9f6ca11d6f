//! The webhook listener: `POST /webhook/{database}/{schema}/{table}`.
//!
//! # Life of a webhook request
//!
//! 1. [`serve`] accepts the connection and hyper parses the request.
//! 2. `handler` resolves the path against the catalog snapshot (404 for an
//!    unknown database, schema or table; 403 for a table that is not a
//!    webhook table) and reads the body up to the size limit (413).
//! 3. `validate` evaluates the table's compiled VALIDATE expression over
//!    the lower-cased headers, the raw body and the secret — before any
//!    JSON parsing (401 false, 400 NULL, 500 error).
//! 4. `payload` parses the body into rows: one document, or one per line
//!    with `is_batched` (422 if any is not JSON; nothing is stored).
//! 5. The rows go to the stream writer, which answers once they and every
//!    view change are durable; only then is the 200 sent.
//!
//! Error bodies are `{"error": "..."}` and never contain a secret or an
//! expected signature. The listener does not know SQL.

mod error;
mod handler;
mod payload;
mod server;
pub mod sign;
mod validate;

pub use error::WebhookError;
pub use server::{serve, tls_config, Config};
