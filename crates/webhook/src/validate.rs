//! Signature validation: evaluating a table's VALIDATE expression.

use hyper::HeaderMap;
use rivulet_catalog::ddl::{VALIDATE_BODY, VALIDATE_HEADERS, VALIDATE_SECRET};
use rivulet_catalog::Validator;
use rivulet_expr::{Jsonb, Value};

use crate::WebhookError;

/// The request headers as the JSONB object VALIDATE sees as `headers`:
/// names lower-cased (hyper already does), a repeated header keeps its last
/// value, non-UTF-8 bytes replaced. With `only`, just the headers of those
/// names (see [`Validator::headers_read`]).
pub(crate) fn headers_jsonb(headers: &HeaderMap, only: Option<&[String]>) -> Jsonb {
    let pairs = headers
        .iter()
        .filter(|(name, _)| only.is_none_or(|o| o.iter().any(|n| n == name.as_str())))
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                Jsonb::string(&String::from_utf8_lossy(value.as_bytes())),
            )
        })
        .collect();
    Jsonb::object_from_pairs(pairs)
}

/// Evaluates `validator` for a request whose signed bytes are `body`.
/// An evaluation error is reported by its SQLSTATE only: its message could
/// quote a value derived from the secret (`substr(s, 2)::int` would print
/// most of it), so no value of the expression ever leaves.
pub(crate) fn check(
    validator: &Validator,
    headers: &Jsonb,
    body: &[u8],
) -> Result<(), WebhookError> {
    let secret = validator.secret.as_ref().map(|s| s.value());
    let mut row = vec![Value::Null; 3];
    row[VALIDATE_HEADERS] = Value::Jsonb(headers.clone());
    row[VALIDATE_BODY] = Value::Bytea(body.to_vec());
    row[VALIDATE_SECRET] = secret.map_or(Value::Null, |s| Value::Text(s.to_string()));
    match validator.expr.eval(&row) {
        Ok(Value::Bool(true)) => Ok(()),
        Ok(Value::Bool(false)) => Err(WebhookError::SignatureMismatch),
        Ok(Value::Null) => Err(WebhookError::ValidationNull),
        Ok(other) => Err(WebhookError::ValidationType(other.data_type())),
        Err(e) => Err(WebhookError::ValidationFailed(e)),
    }
}

/// The exact bytes of the first element of a JSON array body, if the body
/// is one. Segment's batch mode signs only `JSON.stringify(body[0])`.
pub(crate) fn first_array_element(body: &[u8]) -> Option<&[u8]> {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let start = body.iter().position(|b| !ws(b))?;
    if body[start] != b'[' {
        return None;
    }
    let elem_start = start + 1 + body[start + 1..].iter().position(|b| !ws(b))?;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in body.iter().enumerate().skip(elem_start) {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Some(&body[elem_start..=i]);
                }
            }
            b',' | b']' if depth == 0 => {
                let elem = &body[elem_start..i];
                let end = elem.iter().rposition(|b| !ws(b))? + 1;
                return Some(&elem[..end]);
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_first_element_bytes() {
        assert_eq!(
            first_array_element(br#"[{"cool":false},{"cool":true}]"#),
            Some(&br#"{"cool":false}"#[..])
        );
        assert_eq!(
            first_array_element(br#" [ {"a":"]}\"}"} , 2]"#),
            Some(&br#"{"a":"]}\"}"}"#[..])
        );
        assert_eq!(first_array_element(b"[1, 2]"), Some(&b"1"[..]));
        assert_eq!(first_array_element(b"[]"), None);
        assert_eq!(first_array_element(br#"{"a":1}"#), None);
        assert_eq!(first_array_element(b"[{"), None);
    }
}
