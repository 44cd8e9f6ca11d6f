//! Unnest: each input row once for each row a set-returning function
//! makes of it (`FROM t, jsonb_array_elements(t.data->'items') AS item`).
//! No state: a change's old and new rows are expanded again, and the
//! output rows are keyed by the input row's key and their ordinal, so an
//! update changes, adds or removes exactly the rows that differ.

use rivulet_expr::{Expr, Row, SetFunc, Value};

use super::{Change, EvalCtx};

pub(super) struct Unnest {
    /// The functions with their arguments, run in lockstep.
    pub(super) funcs: Vec<(SetFunc, Expr)>,
    pub(super) outer: bool,
}

impl Unnest {
    /// The output rows for one input row (or none): the functions' rows
    /// side by side, as many as the longest makes, a shorter one's
    /// columns NULL past its end.
    fn expand(&self, row: Option<&Row>, ctx: &mut EvalCtx) -> Vec<Row> {
        let Some(row) = row else {
            return Vec::new();
        };
        let made: Vec<Vec<Row>> = self
            .funcs
            .iter()
            .map(|(func, arg)| ctx.expand(*func, arg, row))
            .collect();
        let n = made.iter().map(Vec::len).max().unwrap_or(0);
        if n == 0 && !self.outer {
            return Vec::new();
        }
        (0..n.max(1))
            .map(|i| {
                let mut r = row.clone();
                for ((func, _), rows) in self.funcs.iter().zip(&made) {
                    match rows.get(i) {
                        Some(extra) => r.extend(extra.iter().cloned()),
                        None => r.extend(std::iter::repeat_n(Value::Null, func.columns().len())),
                    }
                }
                r
            })
            .collect()
    }

    pub(super) fn apply(&self, changes: &[Change], ctx: &mut EvalCtx) -> Vec<Change> {
        let mut out = Vec::new();
        for c in changes {
            let old = self.expand(c.old.as_ref(), ctx);
            let new = self.expand(c.new.as_ref(), ctx);
            let (mut old, mut new) = (old.into_iter(), new.into_iter());
            let mut i: u32 = 0;
            loop {
                let (o, n) = (old.next(), new.next());
                if o.is_none() && n.is_none() {
                    break;
                }
                if o != n {
                    let mut key = c.key.clone();
                    key.extend_from_slice(&i.to_be_bytes());
                    out.push(Change {
                        key,
                        old: o,
                        new: n,
                    });
                }
                i = i.saturating_add(1);
            }
        }
        out
    }
}
