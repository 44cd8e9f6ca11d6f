//! System information builtins.

use crate::{DataType, Value};

/// `version()`: PostgreSQL-style, so tools that parse the major version work.
pub(super) fn version() -> Value {
    Value::Text(format!(
        "PostgreSQL 15.0 (Rivulet {}) on {}-unknown-linux-gnu, a streaming database",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    ))
}

/// `format_type(oid, typmod)`: the SQL name of a built-in type.
pub(super) fn format_type(oid: &Value) -> Value {
    match oid {
        Value::Int8(oid) => {
            DataType::from_oid(*oid).map_or(Value::Null, |t| Value::Text(t.to_string()))
        }
        _ => Value::Null,
    }
}

/// `quote_ident(name)`: quotes a name unless it is a plain lower-case
/// identifier.
pub(super) fn quote_ident(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}
