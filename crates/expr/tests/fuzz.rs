//! Property tests of what the expression crate decodes and builds: rows
//! and JSONB documents read from storage, JSON text from the network, and
//! the expression evaluator. Whatever the bytes, an error or a value,
//! never a panic; whatever is encoded decodes to itself.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use proptest::prelude::*;
use rivulet_expr::{decode_row, decode_row_shared, encode_row, Jsonb, Numeric, Value};

/// JSON text with nesting, escapes and numbers of every shape.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?",
        "\\PC{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("\"\\u00e9\\ud83d\\ude00\\n\\\"\"".to_string()),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-c]{0,3}", inner), 0..6).prop_map(|kv| {
                let body: Vec<String> = kv
                    .into_iter()
                    .map(|(k, v)| format!("{}:{v}", serde_json::to_string(&k).unwrap()))
                    .collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    })
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::Int4),
        any::<i64>().prop_map(Value::Int8),
        any::<f64>().prop_map(Value::Float8),
        "-?[0-9]{1,30}(\\.[0-9]{1,10})?".prop_map(|s| Value::Numeric(Numeric::parse(&s).unwrap())),
        "\\PC{0,20}".prop_map(Value::Text),
        prop::collection::vec(any::<u8>(), 0..20).prop_map(Value::Bytea),
        json_text().prop_map(|t| Value::Jsonb(Jsonb::parse(&t).unwrap())),
        any::<i64>().prop_map(Value::Timestamptz),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000), ..ProptestConfig::default() })]

    /// Stored bytes that are not a row (corruption) give an error.
    #[test]
    fn any_bytes_decode_or_err(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_row(&bytes);
        let _ = decode_row_shared(&Bytes::from(bytes.clone()), Some(&[true, false, true]));
    }

    /// A row decodes to what was encoded, also decoding only some columns.
    #[test]
    fn rows_round_trip(row in prop::collection::vec(value(), 0..8)) {
        let bytes = encode_row(&row);
        let back = decode_row(&bytes).unwrap();
        prop_assert_eq!(format!("{back:?}"), format!("{row:?}"));
        let shared = decode_row_shared(&Bytes::from(bytes), None).unwrap();
        prop_assert_eq!(format!("{shared:?}"), format!("{row:?}"));
    }

    /// Any text: a document or a JSON error. A document prints as text
    /// that parses back to the same document.
    #[test]
    fn json_text_parses_and_prints_back(text in prop_oneof![json_text(), "\\PC{0,40}"]) {
        if let Ok(doc) = Jsonb::parse(&text) {
            let printed = doc.to_string();
            let again = Jsonb::parse(&printed).unwrap();
            prop_assert_eq!(again.to_string(), printed);
        }
    }

    /// Binary documents from damaged storage: reading them never panics.
    #[test]
    fn any_bytes_as_a_document_are_read_safely(bytes in prop::collection::vec(any::<u8>(), 0..120), key in "[a-c]{0,2}") {
        let doc = Jsonb::from_bytes(Bytes::from(bytes));
        let _ = doc.to_string();
        let _ = doc.get_key(&key);
        let _ = doc.get_path(&[&key, "a"]);
        let _ = doc.get_index(1);
        let _ = doc.elements();
        let _ = doc.to_text();
        let _ = doc.total_cmp(&Jsonb::parse("{}").unwrap());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000), ..ProptestConfig::default() })]

    /// The in-place reading of `(data -> 'a' ->> 'b')::numeric` that
    /// numeric sums use agrees with evaluating it, whenever it answers.
    #[test]
    fn json_decimal_agrees_with_evaluation(
        inner in prop_oneof![
            "-?[0-9]{1,40}(\\.[0-9]{0,20})?([eE][+-]?[0-9]{1,2})?",
            "\"[ +-]?[0-9]{0,5}\\.?[0-9]{0,5} ?\"",
            Just("null".to_string()),
            Just("true".to_string()),
            Just("{}".to_string()),
        ],
        shape in 0..3u8,
    ) {
        use rivulet_expr::{BinaryOp, DataType, Expr};
        let text = match shape {
            0 => format!(r#"{{"a":{{"b":{inner}}}}}"#),
            1 => format!(r#"{{"a":{inner}}}"#),
            _ => format!(r#"{{"a":[{inner}]}}"#),
        };
        let Ok(doc) = Jsonb::parse(&text) else { return Ok(()) };
        let lit = |s: &str| Box::new(Expr::Literal(Value::Text(s.into())));
        let path = Expr::Binary(
            BinaryOp::JsonGetText,
            Box::new(Expr::Binary(BinaryOp::JsonGet, Box::new(Expr::Column(0)), lit("a"))),
            lit("b"),
        );
        let e = Expr::Cast(Box::new(path), DataType::Numeric);
        let row = vec![Value::Jsonb(doc)];
        match e.eval_json_decimal(&row) {
            None => {}
            Some(None) => prop_assert_eq!(e.eval(&row).unwrap(), Value::Null),
            Some(Some(d)) => match e.eval(&row).unwrap() {
                Value::Numeric(n) => prop_assert_eq!(n.to_scaled_i128(), Some(d)),
                other => prop_assert!(false, "{other:?}"),
            },
        }
    }
}
