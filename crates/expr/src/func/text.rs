//! Text builtins: `lower`, `upper`, `length`.

use super::{as_bytes, as_text};
use crate::{Error, Result, Value};

pub(super) fn lower(v: &Value) -> Result<Value> {
    Ok(Value::Text(as_text(v)?.to_lowercase()))
}

pub(super) fn upper(v: &Value) -> Result<Value> {
    Ok(Value::Text(as_text(v)?.to_uppercase()))
}

/// Length in characters.
pub(super) fn length_text(v: &Value) -> Result<Value> {
    int4(as_text(v)?.chars().count())
}

/// Length in bytes.
pub(super) fn length_bytea(v: &Value) -> Result<Value> {
    int4(as_bytes(v)?.len())
}

fn int4(n: usize) -> Result<Value> {
    i32::try_from(n)
        .map(Value::Int4)
        .map_err(|_| Error::NumericValueOutOfRange("integer out of range".into()))
}
