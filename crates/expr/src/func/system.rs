//! System information builtins.

use crate::Value;

/// `version()`: PostgreSQL-style, so tools that parse the major version work.
pub(super) fn version() -> Value {
    Value::Text(format!(
        "PostgreSQL 15.0 (Rivulet {}) on {}-unknown-linux-gnu, a streaming database",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    ))
}
