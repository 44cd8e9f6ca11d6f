//! JSON builtins: path access, key existence, containment, type and length,
//! and building objects.

use std::cmp::Ordering;

use super::as_text;
use crate::{format_timestamptz, Error, JsonKind, JsonTree, Jsonb, Numeric, Result, Value};

pub(super) fn as_jsonb(v: &Value) -> Result<&Jsonb> {
    match v {
        Value::Jsonb(j) => Ok(j),
        other => Err(Error::DatatypeMismatch(format!(
            "expected jsonb, got {}",
            other.data_type()
        ))),
    }
}

/// Parses a PostgreSQL text-array literal such as `{a,"b c",0}`.
pub(crate) fn parse_text_array(s: &str) -> Result<Vec<Option<String>>> {
    let invalid = || Error::InvalidTextRepresentation {
        ty: "text[]",
        input: s.to_string(),
    };
    let inner = s
        .trim()
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .ok_or_else(invalid)?;
    let mut out = Vec::new();
    if inner.trim().is_empty() {
        return Ok(out);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut item = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => item.push(chars.next().ok_or_else(invalid)?),
                    Some(c) => item.push(c),
                    None => return Err(invalid()),
                }
            }
        }
        while let Some(&c) = chars.peek() {
            if c == ',' {
                break;
            }
            chars.next();
            if quoted {
                if !c.is_whitespace() {
                    return Err(invalid());
                }
            } else if c == '\\' {
                item.push(chars.next().ok_or_else(invalid)?);
            } else {
                item.push(c);
            }
        }
        let item = if quoted {
            item
        } else {
            item.trim().to_string()
        };
        out.push(if !quoted && item.eq_ignore_ascii_case("null") {
            None
        } else {
            Some(item)
        });
        if chars.next().is_none() {
            return Ok(out);
        }
    }
}

/// Follows a path of keys / array indexes.
fn walk(doc: &Jsonb, path: &[Option<String>]) -> Option<Jsonb> {
    let mut cur = doc.clone();
    for step in path {
        let step = step.as_deref()?;
        cur = match cur.kind() {
            JsonKind::Object => cur.get_key(step)?,
            JsonKind::Array => cur.get_index(step.trim().parse::<i64>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// `jsonb #> text[]` (as jsonb) and `#>>` (as text).
pub(crate) fn path(doc: &Value, path: &Value, as_text_result: bool) -> Result<Value> {
    if doc.is_null() || path.is_null() {
        return Ok(Value::Null);
    }
    let steps = parse_text_array(as_text(path)?)?;
    Ok(match walk(as_jsonb(doc)?, &steps) {
        None => Value::Null,
        Some(j) if as_text_result => j.to_text().map_or(Value::Null, Value::Text),
        Some(j) => Value::Jsonb(j),
    })
}

/// `jsonb_extract_path(doc, VARIADIC keys)` / `_text`.
pub(super) fn extract_path(args: &[Value], as_text_result: bool) -> Result<Value> {
    let steps: Vec<Option<String>> = args[1..]
        .iter()
        .map(|a| as_text(a).map(|s| Some(s.to_string())))
        .collect::<Result<_>>()?;
    Ok(match walk(as_jsonb(&args[0])?, &steps) {
        None => Value::Null,
        Some(j) if as_text_result => j.to_text().map_or(Value::Null, Value::Text),
        Some(j) => Value::Jsonb(j),
    })
}

/// `jsonb ? text`: whether the key (or array string element) exists at the
/// top level.
pub(crate) fn has_key(doc: &Value, key: &Value) -> Result<Value> {
    if doc.is_null() || key.is_null() {
        return Ok(Value::Null);
    }
    let key = as_text(key)?;
    let d = as_jsonb(doc)?;
    Ok(Value::Bool(match d.kind() {
        JsonKind::Object => d.get_key(key).is_some(),
        JsonKind::Array => d
            .elements()
            .unwrap_or_default()
            .iter()
            .any(|i| i.as_str().is_some_and(|s| s == key)),
        JsonKind::String => d.as_str().is_some_and(|s| s == key),
        _ => false,
    }))
}

/// An object's value under `key`.
fn get_key<'a>(t: &'a JsonTree, key: &str) -> Option<&'a JsonTree> {
    match t {
        JsonTree::Object(pairs) => pairs
            .binary_search_by(|(k, _)| crate::jsonb::key_order(k, key))
            .ok()
            .map(|i| &pairs[i].1),
        _ => None,
    }
}

fn scalar_eq(a: &JsonTree, b: &JsonTree) -> bool {
    match (a, b) {
        (JsonTree::Number(x), JsonTree::Number(y)) => x.total_cmp(y) == Ordering::Equal,
        _ => a == b,
    }
}

/// PostgreSQL's jsonb containment (`JsonTreeDeepContains`).
fn contains(a: &JsonTree, b: &JsonTree) -> bool {
    match (a, b) {
        (JsonTree::Object(_), JsonTree::Object(pairs)) => pairs.iter().all(|(k, bv)| {
            get_key(a, k).is_some_and(|av| match (av, bv) {
                (JsonTree::Object(_), JsonTree::Object(_))
                | (JsonTree::Array(_), JsonTree::Array(_)) => contains(av, bv),
                _ => scalar_eq(av, bv),
            })
        }),
        (JsonTree::Array(items), JsonTree::Array(wanted)) => wanted.iter().all(|w| {
            items.iter().any(|i| match (i, w) {
                (JsonTree::Object(_), JsonTree::Object(_))
                | (JsonTree::Array(_), JsonTree::Array(_)) => contains(i, w),
                (JsonTree::Object(_) | JsonTree::Array(_), _)
                | (_, JsonTree::Object(_) | JsonTree::Array(_)) => false,
                _ => scalar_eq(i, w),
            })
        }),
        // A top-level array contains a scalar it has as an element.
        (JsonTree::Array(items), w) if !matches!(w, JsonTree::Object(_)) => {
            items.iter().any(|i| scalar_eq(i, w))
        }
        (JsonTree::Object(_), _) | (_, JsonTree::Object(_)) | (_, JsonTree::Array(_)) => false,
        _ => scalar_eq(a, b),
    }
}

/// `jsonb @> jsonb`.
pub(crate) fn contains_op(a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    Ok(Value::Bool(contains(
        &as_jsonb(a)?.to_tree(),
        &as_jsonb(b)?.to_tree(),
    )))
}

/// `jsonb_typeof(doc)`.
pub(super) fn type_of(doc: &Value) -> Result<Value> {
    Ok(Value::Text(as_jsonb(doc)?.type_name().to_string()))
}

/// `jsonb_array_length(doc)`.
pub(super) fn array_length(doc: &Value) -> Result<Value> {
    let d = as_jsonb(doc)?;
    match d.kind() {
        JsonKind::Array => Ok(Value::Int4(d.array_len().unwrap_or(0) as i32)),
        JsonKind::Object => Err(Error::InvalidParameterValue(
            "cannot get array length of a non-array".into(),
        )),
        _ => Err(Error::InvalidParameterValue(
            "cannot get array length of a scalar".into(),
        )),
    }
}

/// A SQL value as JSONB, as `to_jsonb` converts it.
pub(crate) fn to_jsonb(v: &Value) -> JsonTree {
    match v {
        Value::Null => JsonTree::Null,
        Value::Array(elems) => JsonTree::Array(elems.iter().map(to_jsonb).collect()),
        // Not reached: no to_jsonb overload takes a record.
        Value::Record(fields) => JsonTree::Array(fields.iter().map(to_jsonb).collect()),
        Value::Bool(b) => JsonTree::Bool(*b),
        Value::Int4(i) => JsonTree::Number(Numeric::from(*i as i64)),
        Value::Int8(i) => JsonTree::Number(Numeric::from(*i)),
        Value::Oid(o) => JsonTree::Number(Numeric::from(i64::from(*o))),
        Value::Reg(_, _, name) => JsonTree::String(name.to_string()),
        Value::Numeric(n) if n.is_nan() => JsonTree::String("NaN".into()),
        Value::Numeric(n) => JsonTree::Number(n.clone()),
        Value::Float8(f) => match v.to_pg_text().and_then(|t| Numeric::parse(&t).ok()) {
            Some(n) if f.is_finite() => JsonTree::Number(n),
            _ => JsonTree::String(v.to_pg_text().unwrap_or_default()),
        },
        Value::Text(s) => JsonTree::String(s.clone()),
        Value::Jsonb(j) => j.to_tree(),
        // Text, as PostgreSQL's to_jsonb gives them (dates are ISO already).
        Value::Interval(_) | Value::Date(_) => JsonTree::String(v.to_pg_text().unwrap_or_default()),
        Value::Timestamptz(t) => {
            // ISO 8601 with a 'T' and a full offset, as PostgreSQL's to_jsonb.
            let text = format_timestamptz(*t);
            let iso = text.replacen(' ', "T", 1);
            JsonTree::String(match iso.strip_suffix("+00") {
                Some(base) => format!("{base}+00:00"),
                None => iso,
            })
        }
        Value::Bytea(_) => JsonTree::String(v.to_pg_text().unwrap_or_default()),
    }
}

/// `jsonb_build_object(k1, v1, ...)`: keys as text; a repeated key keeps
/// its last value.
pub(super) fn build_object(args: &[Value]) -> Result<Value> {
    if !args.len().is_multiple_of(2) {
        return Err(Error::InvalidParameterValue(
            "argument list must have even number of elements".into(),
        ));
    }
    let mut pairs = Vec::with_capacity(args.len() / 2);
    for (i, kv) in args.chunks(2).enumerate() {
        let key = match &kv[0] {
            Value::Null => {
                return Err(Error::NullValueNotAllowed(format!(
                    "argument {}: key must not be null",
                    i * 2 + 1
                )))
            }
            Value::Text(s) => s.clone(),
            other => crate::cast(other.clone(), crate::DataType::Text)?
                .to_pg_text()
                .unwrap_or_default(),
        };
        pairs.push((key, to_jsonb(&kv[1])));
    }
    Ok(Value::Jsonb(Jsonb::from_tree(
        &JsonTree::object_from_pairs(pairs),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> JsonTree {
        JsonTree::parse(s).unwrap()
    }

    #[test]
    fn containment_like_postgres() {
        assert!(contains(
            &j(r#"{"a":1,"b":{"c":[1,2]}}"#),
            &j(r#"{"b":{"c":[2]}}"#)
        ));
        assert!(!contains(&j(r#"{"a":1}"#), &j(r#"{"a":2}"#)));
        assert!(contains(&j("[1,2,[3]]"), &j("[[3],1]")));
        assert!(contains(&j("[1,2]"), &j("1")));
        assert!(!contains(&j("[[1]]"), &j("1")));
        assert!(contains(&j(r#"{"a":1.0}"#), &j(r#"{"a":1}"#)));
        assert!(!contains(&j(r#"{"a":[1]}"#), &j(r#"{"a":1}"#)));
    }

    #[test]
    fn text_arrays() {
        assert_eq!(
            parse_text_array(r#"{a, "b c" ,0,NULL,"x\"y"}"#).unwrap(),
            vec![
                Some("a".into()),
                Some("b c".into()),
                Some("0".into()),
                None,
                Some("x\"y".into())
            ]
        );
        assert_eq!(parse_text_array("{}").unwrap(), vec![]);
        assert!(parse_text_array("a,b").is_err());
    }
}
