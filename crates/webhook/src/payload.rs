//! Turning a request body into rows.

use rivulet_expr::{JsonKind, Jsonb, Row, Value};

use crate::WebhookError;

/// Parses the body as one JSON document, or with `is_batched` as one per
/// non-empty line. Any bad document rejects the whole body.
pub(crate) fn rows(body: &[u8], is_batched: bool) -> Result<Vec<Row>, WebhookError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        WebhookError::InvalidJson(format!(
            "request body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    if !is_batched {
        return Ok(vec![vec![Value::Jsonb(parse(text, None)?)]]);
    }
    text.split('\n')
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| Ok(vec![Value::Jsonb(parse(line, Some(n + 1))?)]))
        .collect()
}

/// Rows from the elements of a JSON array body (Segment batch mode).
pub(crate) fn array_rows(body: &[u8]) -> Result<Vec<Row>, WebhookError> {
    match rows(body, false)?.pop().and_then(|mut r| r.pop()) {
        Some(Value::Jsonb(doc)) if doc.kind() == JsonKind::Array => Ok(doc
            .elements()
            .unwrap_or_default()
            .into_iter()
            .map(|j| vec![Value::Jsonb(j)])
            .collect()),
        _ => Err(WebhookError::InvalidJson("expected a JSON array".into())),
    }
}

fn parse(text: &str, line: Option<usize>) -> Result<Jsonb, WebhookError> {
    Jsonb::parse(text).map_err(|e| {
        let mut msg = match line {
            Some(n) => format!("invalid JSON on line {n}: {e}"),
            None => format!("invalid JSON: {e}"),
        };
        if let Some(detail) = e.detail() {
            msg.push_str(": ");
            msg.push_str(detail);
        }
        WebhookError::InvalidJson(msg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_lines() {
        let r = rows(b"{\"a\":1}\n\n{\"a\":2}\r\n", true).unwrap();
        assert_eq!(r.len(), 2);
        let e = rows(b"{\"a\":1}\nnope\n", true).unwrap_err();
        assert_eq!(e.to_string(), "invalid JSON on line 2: invalid input syntax for type json: Token \"nope\" is invalid.");
        assert!(rows(b"\xff", false).is_err());
        assert_eq!(array_rows(b"[{\"a\":1},2]").unwrap().len(), 2);
    }
}
