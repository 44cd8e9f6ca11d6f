//! Unnest: each input row once for each row a set-returning function
//! makes of it (`FROM t, jsonb_array_elements(t.data->'items') AS item`).
//! No state: a change's old and new rows are expanded again, and the
//! output rows are keyed by the input row's key and their ordinal, so an
//! update changes, adds or removes exactly the rows that differ.

use rivulet_expr::{Expr, Row, SetFunc, Value};

use super::{Change, EvalCtx};

pub(super) struct Unnest {
    pub(super) func: SetFunc,
    pub(super) arg: Expr,
    pub(super) outer: bool,
}

impl Unnest {
    /// The output rows for one input row (or none).
    fn expand(&self, row: Option<&Row>, ctx: &mut EvalCtx) -> Vec<Row> {
        let Some(row) = row else {
            return Vec::new();
        };
        let made = ctx.expand(self.func, &self.arg, row);
        if made.is_empty() && self.outer {
            let mut r = row.clone();
            r.extend(std::iter::repeat_n(Value::Null, self.func.columns().len()));
            return vec![r];
        }
        made.into_iter()
            .map(|extra| {
                let mut r = row.clone();
                r.extend(extra);
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
