//! Editing JSONB documents: `jsonb_set`, `jsonb_insert`, the `-` and `#-`
//! operators, `jsonb_strip_nulls`, `jsonb_pretty` and `to_jsonb`, with
//! PostgreSQL's rules for paths (a step into an array is an integer,
//! negative from the end; a step that does not exist leaves the document
//! as it is) and its errors.

use super::json::{as_jsonb, parse_text_array, to_jsonb};
use crate::jsonb::write_json_string;
use crate::{Error, JsonTree, Jsonb, Result, Value};

/// What a path operation does at the path's last step.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `jsonb_set`: replace the item, or add it when `create`.
    Set { create: bool },
    /// `jsonb_insert`: add the item before (or after) the one at the path;
    /// a key that exists is an error.
    Insert { after: bool },
    /// `#-`: remove the item.
    Delete,
}

impl Op {
    /// Whether a missing last step is added.
    fn adds(self) -> bool {
        matches!(self, Op::Set { create: true } | Op::Insert { .. })
    }
}

/// A path argument: a `text[]` value, or its text form.
fn path_of(v: &Value) -> Result<Vec<Option<String>>> {
    match v {
        Value::Array(items) => Ok(items
            .iter()
            .map(|i| match i {
                Value::Null => None,
                Value::Text(s) => Some(s.clone()),
                other => other.to_pg_text(),
            })
            .collect()),
        Value::Text(s) => parse_text_array(s),
        other => Err(Error::DatatypeMismatch(format!(
            "expected text[], got {}",
            other.data_type()
        ))),
    }
}

fn as_bool(v: &Value) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(Error::DatatypeMismatch(format!(
            "expected boolean, got {}",
            other.data_type()
        ))),
    }
}

/// An array step: its index (`None`: before the first element, when a
/// negative index reaches past it), or 22P02 when it is no integer.
fn array_index(step: &str, len: usize, position: usize) -> Result<Option<usize>> {
    let idx: i64 = step.parse().map_err(|_| {
        Error::InvalidText(format!(
            "path element at position {position} is not an integer: \"{step}\""
        ))
    })?;
    let len = len as i64;
    Ok(if idx >= 0 {
        Some(idx as usize)
    } else if -idx > len {
        None
    } else {
        Some((len + idx) as usize)
    })
}

/// Applies `op` with `new` at `path[level..]` under `node`, as
/// PostgreSQL's `setPath` does.
fn set_path(
    node: &mut JsonTree,
    path: &[Option<String>],
    level: usize,
    new: &JsonTree,
    op: Op,
) -> Result<()> {
    let Some(step) = path.get(level) else {
        return Ok(());
    };
    let Some(step) = step else {
        return Err(Error::NullValueNotAllowed(format!(
            "path element at position {} is null",
            level + 1
        )));
    };
    let last = level + 1 == path.len();
    match node {
        JsonTree::Object(pairs) => {
            let found = pairs.iter().position(|(k, _)| k == step);
            match (found, last) {
                (Some(i), true) => match op {
                    Op::Insert { .. } => {
                        return Err(Error::InvalidParameterValue(
                            "cannot replace existing key".into(),
                        ))
                    }
                    Op::Delete => {
                        pairs.remove(i);
                    }
                    Op::Set { .. } => pairs[i].1 = new.clone(),
                },
                (Some(i), false) => set_path(&mut pairs[i].1, path, level + 1, new, op)?,
                (None, true) if op.adds() => {
                    // Keys stay in jsonb's order.
                    let mut all = std::mem::take(pairs);
                    all.push((step.clone(), new.clone()));
                    *node = JsonTree::object_from_pairs(all);
                }
                (None, _) => {}
            }
        }
        JsonTree::Array(items) => {
            let idx = array_index(step, items.len(), level + 1)?;
            match (idx, last) {
                (Some(i), true) if i < items.len() => match op {
                    Op::Set { .. } => items[i] = new.clone(),
                    Op::Insert { after } => items.insert(i + usize::from(after), new.clone()),
                    Op::Delete => {
                        items.remove(i);
                    }
                },
                (Some(i), false) if i < items.len() => {
                    set_path(&mut items[i], path, level + 1, new, op)?
                }
                // Before the first element, or into an empty array.
                (None, true) if op.adds() => items.insert(0, new.clone()),
                (Some(_), true) if op.adds() => items.push(new.clone()),
                _ => {}
            }
        }
        // A path through a scalar changes nothing.
        _ => {}
    }
    Ok(())
}

/// Runs a path operation over `doc`, refusing a scalar document with
/// `scalar` (22023).
fn edit(doc: &Value, path: &Value, new: &JsonTree, op: Op, scalar: &str) -> Result<Value> {
    let doc = as_jsonb(doc)?;
    let mut tree = doc.to_tree();
    if !matches!(tree, JsonTree::Object(_) | JsonTree::Array(_)) {
        return Err(Error::InvalidParameterValue(scalar.into()));
    }
    let path = path_of(path)?;
    if path.is_empty() {
        return Ok(Value::Jsonb(doc.clone()));
    }
    set_path(&mut tree, &path, 0, new, op)?;
    Ok(Value::Jsonb(Jsonb::from_tree(&tree)))
}

/// `jsonb_set(target, path, new_value [, create_if_missing])`.
pub(super) fn set(args: &[Value]) -> Result<Value> {
    let create = match args.get(3) {
        Some(c) => as_bool(c)?,
        None => true,
    };
    let new = as_jsonb(&args[2])?.to_tree();
    edit(
        &args[0],
        &args[1],
        &new,
        Op::Set { create },
        "cannot set path in scalar",
    )
}

/// `jsonb_insert(target, path, new_value [, insert_after])`.
pub(super) fn insert(args: &[Value]) -> Result<Value> {
    let after = match args.get(3) {
        Some(a) => as_bool(a)?,
        None => false,
    };
    let new = as_jsonb(&args[2])?.to_tree();
    edit(
        &args[0],
        &args[1],
        &new,
        Op::Insert { after },
        "cannot set path in scalar",
    )
}

/// `jsonb #- text[]`: the document without the item at the path.
pub(crate) fn delete_path(doc: &Value, path: &Value) -> Result<Value> {
    if doc.is_null() || path.is_null() {
        return Ok(Value::Null);
    }
    edit(
        doc,
        path,
        &JsonTree::Null,
        Op::Delete,
        "cannot delete path in scalar",
    )
}

/// `jsonb - text`, `jsonb - text[]`, `jsonb - integer`: the document
/// without the top-level keys (or string elements) named, or without the
/// array element at the index.
pub(crate) fn delete(doc: &Value, what: &Value) -> Result<Value> {
    if doc.is_null() || what.is_null() {
        return Ok(Value::Null);
    }
    let j = as_jsonb(doc)?;
    let mut tree = j.to_tree();
    let keys: Vec<String> = match what {
        Value::Int4(_) | Value::Int8(_) => {
            let idx = match what {
                Value::Int4(i) => i64::from(*i),
                Value::Int8(i) => *i,
                _ => 0,
            };
            let JsonTree::Array(items) = &mut tree else {
                return Err(Error::InvalidParameterValue(
                    if matches!(tree, JsonTree::Object(_)) {
                        "cannot delete from object using integer index"
                    } else {
                        "cannot delete from scalar"
                    }
                    .into(),
                ));
            };
            let len = items.len() as i64;
            let at = if idx < 0 { len + idx } else { idx };
            if (0..len).contains(&at) {
                items.remove(at as usize);
            }
            return Ok(Value::Jsonb(Jsonb::from_tree(&tree)));
        }
        Value::Array(items) => items
            .iter()
            .filter_map(|i| match i {
                Value::Text(s) => Some(s.clone()),
                Value::Null => None,
                other => other.to_pg_text(),
            })
            .collect(),
        Value::Text(s) => vec![s.clone()],
        other => {
            return Err(Error::DatatypeMismatch(format!(
                "expected text, got {}",
                other.data_type()
            )))
        }
    };
    match &mut tree {
        JsonTree::Object(pairs) => pairs.retain(|(k, _)| !keys.contains(k)),
        JsonTree::Array(items) => {
            items.retain(|i| !matches!(i, JsonTree::String(s) if keys.contains(s)))
        }
        _ => {
            return Err(Error::InvalidParameterValue(
                "cannot delete from scalar".into(),
            ))
        }
    }
    Ok(Value::Jsonb(Jsonb::from_tree(&tree)))
}

/// `jsonb_strip_nulls(doc)`: every object field whose value is null
/// removed, at any depth (array elements stay).
pub(super) fn strip_nulls(doc: &Value) -> Result<Value> {
    fn strip(t: JsonTree) -> JsonTree {
        match t {
            JsonTree::Object(pairs) => JsonTree::Object(
                pairs
                    .into_iter()
                    .filter(|(_, v)| *v != JsonTree::Null)
                    .map(|(k, v)| (k, strip(v)))
                    .collect(),
            ),
            JsonTree::Array(items) => JsonTree::Array(items.into_iter().map(strip).collect()),
            other => other,
        }
    }
    Ok(Value::Jsonb(Jsonb::from_tree(&strip(
        as_jsonb(doc)?.to_tree(),
    ))))
}

/// `jsonb_pretty(doc)`: PostgreSQL's indented text, four spaces a level.
pub(super) fn pretty(doc: &Value) -> Result<Value> {
    fn write(out: &mut String, t: &JsonTree, depth: usize) {
        let pad = |out: &mut String, d: usize| out.extend(std::iter::repeat_n("    ", d));
        match t {
            JsonTree::Object(pairs) => {
                out.push_str("{\n");
                for (i, (k, v)) in pairs.iter().enumerate() {
                    pad(out, depth + 1);
                    let _ = write_json_string(out, k);
                    out.push_str(": ");
                    write(out, v, depth + 1);
                    out.push_str(if i + 1 < pairs.len() { ",\n" } else { "\n" });
                }
                pad(out, depth);
                out.push('}');
            }
            JsonTree::Array(items) => {
                out.push_str("[\n");
                for (i, v) in items.iter().enumerate() {
                    pad(out, depth + 1);
                    write(out, v, depth + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                pad(out, depth);
                out.push(']');
            }
            scalar => out.push_str(&Jsonb::from_tree(scalar).to_string()),
        }
    }
    let mut out = String::new();
    write(&mut out, &as_jsonb(doc)?.to_tree(), 0);
    Ok(Value::Text(out))
}

/// `to_jsonb(value)` (and `to_json`, there being no json type).
pub(super) fn to_jsonb_value(v: &Value) -> Result<Value> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Jsonb(j) => Value::Jsonb(j.clone()),
        other => Value::Jsonb(Jsonb::from_tree(&to_jsonb(other))),
    })
}

/// `jsonb ?| keys` (`all`: `?&`): whether any (every) key is a top-level
/// key of the object, or a string element of the array; NULL keys are
/// skipped.
pub(super) fn exists_keys(doc: &Value, keys: &Value, all: bool) -> Result<Value> {
    let mut hits = Vec::new();
    for k in path_of(keys)?.into_iter().flatten() {
        hits.push(super::json::has_key(doc, &Value::Text(k))? == Value::Bool(true));
    }
    Ok(Value::Bool(if all {
        hits.iter().all(|h| *h)
    } else {
        hits.iter().any(|h| *h)
    }))
}

/// `jsonb_object_agg`'s last step: each `[key, value]` pair (as
/// `jsonb_build_array` made it) an object field, a repeated key keeping
/// its last value; a NULL key is 22023, as PostgreSQL's.
pub(super) fn object_from_pairs(pairs: &Value) -> Result<Value> {
    let Value::Array(items) = pairs else {
        return Err(Error::DatatypeMismatch(format!(
            "expected jsonb[], got {}",
            pairs.data_type()
        )));
    };
    let mut fields = Vec::with_capacity(items.len());
    for item in items {
        let JsonTree::Array(pair) = as_jsonb(item)?.to_tree() else {
            return Err(Error::DatatypeMismatch("expected a key/value pair".into()));
        };
        let mut pair = pair.into_iter();
        let (key, value) = (pair.next(), pair.next().unwrap_or(JsonTree::Null));
        let key = match key {
            Some(JsonTree::String(k)) => k,
            Some(JsonTree::Null) | None => {
                return Err(Error::InvalidParameterValue(
                    "field name must not be null".into(),
                ))
            }
            Some(other) => Jsonb::from_tree(&other).to_text().unwrap_or_default(),
        };
        fields.push((key, value));
    }
    Ok(Value::Jsonb(Jsonb::from_tree(
        &JsonTree::object_from_pairs(fields),
    )))
}
