//! Incremental view maintenance.
//!
//! Every change to a relation is a [`Change`]: the row under a key before
//! and after (`None` for absent). An insert is `(None, Some)`, a delete
//! `(Some, None)` and a primary-key overwrite `(Some, Some)`. A view maps
//! each upstream change through its filter and projection into a change of
//! its own row under the same key, writes it, and passes it downstream.

use std::fmt;

use rivulet_catalog::ViewSpec;
use rivulet_expr::{encode_row, Expr, Row, Value};
use rivulet_storage::{keys, WriteBatch};

/// A change to one row of a relation.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The row key within the relation.
    pub key: Vec<u8>,
    pub old: Option<Row>,
    pub new: Option<Row>,
}

impl fmt::Display for Change {
    /// `+ row`, `- row`, or `- old` then `+ new` on two lines for an update.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |r: &Row| {
            r.iter()
                .map(|v| v.to_pg_text().unwrap_or_else(|| "NULL".into()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match (&self.old, &self.new) {
            (None, Some(n)) => write!(f, "+ {}", show(n)),
            (Some(o), None) => write!(f, "- {}", show(o)),
            (Some(o), Some(n)) => write!(f, "- {}\n+ {}", show(o), show(n)),
            (None, None) => Ok(()),
        }
    }
}

/// Counts of expression errors met while maintaining views. Following
/// RisingWave, an error in a view expression makes that value NULL (or, in a
/// filter, drops the row) instead of failing the write that caused it.
#[derive(Debug, Default, Clone, Copy)]
pub struct EvalErrors(pub u64);

/// Evaluates a view's filter and projection on one upstream row.
pub fn view_row(spec: &ViewSpec, row: &Row, errors: &mut EvalErrors) -> Option<Row> {
    if let Some(filter) = &spec.filter {
        match filter.eval_predicate(row) {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                note_error(errors, &e);
                return None;
            }
        }
    }
    Some(
        spec.projection
            .iter()
            .map(|e| eval_or_null(e, row, errors))
            .collect(),
    )
}

fn eval_or_null(e: &Expr, row: &Row, errors: &mut EvalErrors) -> Value {
    e.eval(row).unwrap_or_else(|err| {
        note_error(errors, &err);
        Value::Null
    })
}

fn note_error(errors: &mut EvalErrors, e: &rivulet_expr::Error) {
    errors.0 += 1;
    // Logging every error would flood the log under a bad view; the first
    // few in each group are enough to diagnose it.
    if errors.0 <= 3 {
        tracing::warn!(
            sqlstate = e.sqlstate(),
            "view expression error, value set to NULL: {e}"
        );
    }
}

/// Maps upstream changes through one view: writes the view's rows into
/// `batch` and returns the view's own changes (for views downstream of it).
pub fn apply_view(
    view_id: u64,
    spec: &ViewSpec,
    changes: &[Change],
    batch: &mut WriteBatch,
    errors: &mut EvalErrors,
) -> Vec<Change> {
    let mut out = Vec::with_capacity(changes.len());
    for ch in changes {
        let old = ch.old.as_ref().and_then(|r| view_row(spec, r, errors));
        let new = ch.new.as_ref().and_then(|r| view_row(spec, r, errors));
        if old == new {
            continue;
        }
        let key = keys::row(view_id, &ch.key);
        match &new {
            Some(row) => batch.put(key, encode_row(row)),
            None => batch.delete(key),
        }
        out.push(Change {
            key: ch.key.clone(),
            old,
            new,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivulet_expr::{BinaryOp, CmpOp, Jsonb};

    fn j(s: &str) -> Row {
        vec![Value::Jsonb(Jsonb::parse(s).unwrap())]
    }

    fn change(key: u8, old: Option<Row>, new: Option<Row>) -> Change {
        Change {
            key: vec![key],
            old,
            new,
        }
    }

    /// `SELECT data->>'a' AS a FROM t WHERE data->>'k' = 'x'`
    fn spec() -> ViewSpec {
        let get = |k: &str| {
            Expr::Binary(
                BinaryOp::JsonGetText,
                Box::new(Expr::Column(0)),
                Box::new(Expr::Literal(Value::Text(k.into()))),
            )
        };
        ViewSpec {
            source: 1,
            filter: Some(Expr::Binary(
                BinaryOp::Cmp(CmpOp::Eq),
                Box::new(get("k")),
                Box::new(Expr::Literal(Value::Text("x".into()))),
            )),
            projection: vec![get("a")],
        }
    }

    fn run(changes: &[Change]) -> String {
        let mut batch = WriteBatch::new();
        let out = apply_view(9, &spec(), changes, &mut batch, &mut EvalErrors::default());
        out.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn filter_and_project_changes() {
        assert_eq!(
            run(&[
                change(1, None, Some(j(r#"{"k":"x","a":1}"#))),
                change(2, None, Some(j(r#"{"k":"y","a":2}"#))),
                change(3, Some(j(r#"{"k":"x","a":3}"#)), None),
            ]),
            "+ 1\n- 3"
        );
    }

    #[test]
    fn updates_move_rows_in_and_out() {
        assert_eq!(
            run(&[
                // Leaves the filter: a retraction.
                change(
                    1,
                    Some(j(r#"{"k":"x","a":1}"#)),
                    Some(j(r#"{"k":"y","a":1}"#))
                ),
                // Enters the filter: an insertion.
                change(
                    2,
                    Some(j(r#"{"k":"y","a":2}"#)),
                    Some(j(r#"{"k":"x","a":2}"#))
                ),
                // Changes a projected value: an update pair.
                change(
                    3,
                    Some(j(r#"{"k":"x","a":3}"#)),
                    Some(j(r#"{"k":"x","a":4}"#))
                ),
                // Changes only unprojected fields: nothing.
                change(
                    4,
                    Some(j(r#"{"k":"x","a":5,"z":1}"#)),
                    Some(j(r#"{"k":"x","a":5}"#))
                ),
            ]),
            "- 1\n+ 2\n- 3\n+ 4"
        );
    }
}
