//! Turning a request body into rows.

use rivulet_catalog::Column;
use rivulet_expr::{DataType, JsonKind, Jsonb, Row, Value};

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
        // Empty lines are dropped; JSON's own whitespace counts as empty,
        // anything else (a vertical tab, U+00A0) is a line to parse.
        .filter(|(_, line)| !line.bytes().all(is_json_space))
        .map(|(n, line)| Ok(vec![Value::Jsonb(parse(line, Some(n + 1))?)]))
        .collect()
}

/// How many rows [`rows`] makes of a batched body (its lines that are not
/// blank), counted without parsing them.
pub(crate) fn line_count(body: &[u8]) -> usize {
    let mut start = 0;
    memchr::memchr_iter(b'\n', body)
        .chain(std::iter::once(body.len()))
        .filter(|&end| {
            let line = &body[start..end];
            start = end + 1;
            !line.iter().all(|&b| is_json_space(b))
        })
        .count()
}

/// JSON's whitespace (RFC 8259), `\n` aside since it ends lines.
fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
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

/// A document as a row of a typed webhook table: each column takes the
/// top-level field of its name as `(doc ->> 'name')::type` would (a JSONB
/// column takes `doc -> 'name'`); a missing field or JSON null is NULL,
/// except in a primary-key column.
pub(crate) fn typed_row(doc: Row, columns: &[Column], pk: &[usize]) -> Result<Row, WebhookError> {
    let Some(Value::Jsonb(doc)) = doc.into_iter().next() else {
        return Err(WebhookError::InvalidJson("expected a JSON object".into()));
    };
    if doc.kind() != JsonKind::Object {
        return Err(WebhookError::InvalidJson(format!(
            "expected a JSON object, not {}",
            doc.type_name()
        )));
    }
    let mut row = Vec::with_capacity(columns.len());
    for (i, col) in columns.iter().enumerate() {
        let field = doc
            .get_key(&col.name)
            .filter(|v| v.kind() != JsonKind::Null);
        let value = match field {
            None if pk.contains(&i) => {
                return Err(WebhookError::MissingKey(col.name.clone()));
            }
            None => Value::Null,
            Some(v) if col.ty == DataType::Jsonb => Value::Jsonb(v),
            Some(v) => {
                let text = v.to_text().unwrap_or_default();
                rivulet_expr::cast(Value::Text(text), col.ty).map_err(|e| WebhookError::Decode {
                    column: col.name.clone(),
                    ty: col.ty,
                    detail: e.to_string(),
                })?
            }
        };
        row.push(value);
    }
    Ok(row)
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
        let r = rows(b"{\"a\":1}\n\n{\"a\":2}\r\n \t\n", true).unwrap();
        assert_eq!(r.len(), 2);
        // Found by fuzzing: a line of other whitespace was silently dropped.
        assert!(rows(b"\x0b", true).is_err());
        assert!(rows("{}\n\u{a0}".as_bytes(), true).is_err());
        let e = rows(b"{\"a\":1}\nnope\n", true).unwrap_err();
        assert_eq!(e.to_string(), "invalid JSON on line 2: invalid input syntax for type json: Token \"nope\" is invalid.");
        assert!(rows(b"\xff", false).is_err());
        assert_eq!(array_rows(b"[{\"a\":1},2]").unwrap().len(), 2);
    }

    mod fuzz {
        use super::super::*;
        use crate::validate::first_array_element;
        use proptest::prelude::*;

        /// JSON-ish bodies: real documents, arrays of them, NDJSON, and
        /// damage (cut short, stray bytes).
        fn body() -> impl Strategy<Value = Vec<u8>> {
            let doc = prop_oneof![
                Just(
                    r#"{"type":"track","messageId":"m-1","properties":{"revenue":12.5}}"#
                        .to_string()
                ),
                Just(r#"{"a":"]}\"}","b":[1,[2,{"c":null}]]}"#.to_string()),
                "\\PC{0,20}".prop_map(|s| serde_json::to_string(&s).unwrap()),
                "-?[0-9]{1,5}(\\.[0-9]{1,3})?".prop_map(|s| s),
            ];
            (
                prop::collection::vec(doc, 0..5),
                0..3u8,
                any::<usize>(),
                prop::collection::vec(any::<u8>(), 0..4),
            )
                .prop_map(|(docs, shape, cut, junk)| {
                    let mut b = match shape {
                        0 => docs.join("\n"),
                        1 => format!("[{}]", docs.join(",")),
                        _ => docs.concat(),
                    }
                    .into_bytes();
                    if cut % 3 == 0 && !b.is_empty() {
                        b.truncate(cut % b.len());
                    }
                    if cut % 5 == 0 {
                        let at = if b.is_empty() { 0 } else { cut % b.len() };
                        b.splice(at..at, junk);
                    }
                    b
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000), ..ProptestConfig::default() })]

            /// Any body: rows or a 4xx-class error, never a panic; a
            /// batch is all or nothing.
            #[test]
            fn any_body_gives_rows_or_an_error(b in prop_oneof![body(), prop::collection::vec(any::<u8>(), 0..64)]) {
                for batched in [false, true] {
                    if let Ok(r) = rows(&b, batched) {
                        let lines = b.split(|c| *c == b'\n')
                            .filter(|l| !l.iter().all(|b| is_json_space(*b)))
                            .count();
                        prop_assert_eq!(r.len(), if batched { lines } else { 1 });
                    }
                    prop_assert_eq!(
                        line_count(&b),
                        b.split(|c| *c == b'\n').filter(|l| !l.iter().all(|b| is_json_space(*b))).count()
                    );
                }
                let _ = array_rows(&b);
                // The signed part of a batch is a prefix of the body and,
                // when the body is an array, exactly its first element.
                if let Some(first) = first_array_element(&b) {
                    let start = first.as_ptr() as usize - b.as_ptr() as usize;
                    prop_assert!(start + first.len() <= b.len());
                    if let Ok(all) = array_rows(&b) {
                        let one = rows(first, false).unwrap();
                        prop_assert_eq!(format!("{:?}", one[0]), format!("{:?}", all[0]));
                    }
                }
            }
        }
    }
}
