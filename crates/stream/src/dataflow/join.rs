//! Join: rows of the left and right inputs with equal keys (and a true
//! residual condition), concatenated. A LEFT join also emits each left row
//! with no match, padded with NULLs, and retracts that padded row when its
//! first match arrives (and re-emits it when the last match leaves).
//!
//! State: each side's rows indexed by join key. A change on one side is
//! joined against the other side's current rows:
//! `Δ(L ⋈ R) = ΔL ⋈ R + L' ⋈ ΔR`, with `L'` already updated by `ΔL`.

use std::collections::{BTreeMap, HashMap};

use rivulet_expr::{encode_value_key, Expr, Row, Value};
use rivulet_sql::JoinKind;

use super::{push_escaped, Change, EvalCtx, Node};

/// One side's rows: join key → row key → row.
type Index = HashMap<Vec<u8>, BTreeMap<Vec<u8>, Row>>;

pub(super) struct Join {
    left: Node,
    right: Node,
    kind: JoinKind,
    left_keys: Vec<Expr>,
    right_keys: Vec<Expr>,
    residual: Option<Expr>,
    right_width: usize,
    left_rows: Index,
    right_rows: Index,
}

/// The output key of a matched pair, or of a NULL-padded left row.
fn out_key(left: &[u8], right: Option<&[u8]>) -> Vec<u8> {
    let mut k = Vec::with_capacity(left.len() + right.map_or(0, <[u8]>::len) + 4);
    push_escaped(&mut k, left);
    match right {
        Some(r) => {
            k.push(1);
            k.extend_from_slice(r);
        }
        None => k.push(0),
    }
    k
}

/// Where left rows with a NULL join key are kept: no encoded key starts
/// with `0xff`, so it collides with none.
fn null_slot() -> Vec<u8> {
    vec![0xff, 0xff]
}

fn concat(l: &Row, r: &Row) -> Row {
    let mut out = Vec::with_capacity(l.len() + r.len());
    out.extend_from_slice(l);
    out.extend_from_slice(r);
    out
}

impl Join {
    pub(super) fn new(
        left: Node,
        right: Node,
        kind: JoinKind,
        left_keys: Vec<Expr>,
        right_keys: Vec<Expr>,
        residual: Option<Expr>,
        right_width: usize,
    ) -> Join {
        Join {
            left,
            right,
            kind,
            left_keys,
            right_keys,
            residual,
            right_width,
            left_rows: HashMap::new(),
            right_rows: HashMap::new(),
        }
    }

    /// The join key of a row; `None` if any part is NULL (never matches).
    fn key(keys: &[Expr], row: &Row, ctx: &mut EvalCtx) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for k in keys {
            let v = ctx.eval(k, row);
            if v.is_null() {
                return None;
            }
            encode_value_key(&mut out, &v);
        }
        Some(out)
    }

    fn matches(&self, l: &Row, r: &Row, ctx: &mut EvalCtx) -> bool {
        match &self.residual {
            None => true,
            Some(p) => ctx.test(p, &concat(l, r)),
        }
    }

    fn padded(&self, l: &Row) -> Row {
        let mut out = l.clone();
        out.extend(std::iter::repeat_n(Value::Null, self.right_width));
        out
    }

    /// Rows of the right side matching left row `l`.
    fn right_matches(
        &self,
        jk: &Option<Vec<u8>>,
        l: &Row,
        ctx: &mut EvalCtx,
    ) -> Vec<(Vec<u8>, Row)> {
        let Some(bucket) = jk.as_ref().and_then(|k| self.right_rows.get(k)) else {
            return Vec::new();
        };
        bucket
            .iter()
            .filter(|(_, r)| self.matches(l, r, ctx))
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect()
    }

    /// Emits (with `sign` true for insert) the output rows of left row `l`.
    fn emit_left(
        &self,
        key: &[u8],
        l: &Row,
        jk: &Option<Vec<u8>>,
        insert: bool,
        out: &mut Vec<Change>,
        ctx: &mut EvalCtx,
    ) {
        let matches = self.right_matches(jk, l, ctx);
        let mut put = |k: Vec<u8>, row: Row| {
            out.push(if insert {
                Change {
                    key: k,
                    old: None,
                    new: Some(row),
                }
            } else {
                Change {
                    key: k,
                    old: Some(row),
                    new: None,
                }
            })
        };
        if matches.is_empty() && self.kind == JoinKind::Left {
            put(out_key(key, None), self.padded(l));
        }
        for (rk, r) in matches {
            put(out_key(key, Some(&rk)), concat(l, &r));
        }
    }

    fn apply_left(&mut self, changes: &[Change], out: &mut Vec<Change>, ctx: &mut EvalCtx) {
        for c in changes {
            if let Some(old) = &c.old {
                let jk = Self::key(&self.left_keys, old, ctx);
                self.emit_left(&c.key, old, &jk, false, out, ctx);
                let slot = jk.unwrap_or_else(null_slot);
                if let Some(bucket) = self.left_rows.get_mut(&slot) {
                    bucket.remove(&c.key);
                    if bucket.is_empty() {
                        self.left_rows.remove(&slot);
                    }
                }
            }
            if let Some(new) = &c.new {
                let jk = Self::key(&self.left_keys, new, ctx);
                self.emit_left(&c.key, new, &jk, true, out, ctx);
                // Rows with a NULL key never match but are kept (apart from
                // every real key) so their removal is seen.
                let slot = jk.unwrap_or_else(null_slot);
                self.left_rows
                    .entry(slot)
                    .or_default()
                    .insert(c.key.clone(), new.clone());
            }
        }
    }

    /// The left rows with join key `jk`, copied out so the right side's
    /// changes can be applied while iterating them.
    fn left_bucket(&self, jk: &[u8]) -> Vec<(Vec<u8>, Row)> {
        self.left_rows
            .get(jk)
            .map(|b| b.iter().map(|(k, r)| (k.clone(), r.clone())).collect())
            .unwrap_or_default()
    }

    /// How many right rows match left row `l`, ignoring right row `skip`.
    fn match_count(&self, jk: &[u8], l: &Row, skip: &[u8], ctx: &mut EvalCtx) -> usize {
        self.right_rows.get(jk).map_or(0, |b| {
            b.iter()
                .filter(|(k, r)| k.as_slice() != skip && self.matches(l, r, ctx))
                .count()
        })
    }

    fn apply_right(&mut self, changes: &[Change], out: &mut Vec<Change>, ctx: &mut EvalCtx) {
        for c in changes {
            if let Some(old) = &c.old {
                if let Some(jk) = Self::key(&self.right_keys, old, ctx) {
                    let lefts = self.left_bucket(&jk);
                    for (lk, l) in lefts {
                        if !self.matches(&l, old, ctx) {
                            continue;
                        }
                        out.push(Change {
                            key: out_key(&lk, Some(&c.key)),
                            old: Some(concat(&l, old)),
                            new: None,
                        });
                        if self.kind == JoinKind::Left
                            && self.match_count(&jk, &l, &c.key, ctx) == 0
                        {
                            out.push(Change {
                                key: out_key(&lk, None),
                                old: None,
                                new: Some(self.padded(&l)),
                            });
                        }
                    }
                    if let Some(bucket) = self.right_rows.get_mut(&jk) {
                        bucket.remove(&c.key);
                        if bucket.is_empty() {
                            self.right_rows.remove(&jk);
                        }
                    }
                }
            }
            if let Some(new) = &c.new {
                if let Some(jk) = Self::key(&self.right_keys, new, ctx) {
                    let lefts = self.left_bucket(&jk);
                    for (lk, l) in lefts {
                        if !self.matches(&l, new, ctx) {
                            continue;
                        }
                        if self.kind == JoinKind::Left
                            && self.match_count(&jk, &l, &c.key, ctx) == 0
                        {
                            out.push(Change {
                                key: out_key(&lk, None),
                                old: Some(self.padded(&l)),
                                new: None,
                            });
                        }
                        out.push(Change {
                            key: out_key(&lk, Some(&c.key)),
                            old: None,
                            new: Some(concat(&l, new)),
                        });
                    }
                    self.right_rows
                        .entry(jk)
                        .or_default()
                        .insert(c.key.clone(), new.clone());
                }
            }
        }
    }

    pub(super) fn init(&mut self, ctx: &mut EvalCtx) -> Vec<Change> {
        let mut out = Vec::new();
        let l = self.left.init(ctx);
        self.apply_left(&l, &mut out, ctx);
        let r = self.right.init(ctx);
        self.apply_right(&r, &mut out, ctx);
        out
    }

    pub(super) fn push(&mut self, rel: u64, changes: &[Change], ctx: &mut EvalCtx) -> Vec<Change> {
        let mut out = Vec::new();
        let l = self.left.push(rel, changes, ctx);
        self.apply_left(&l, &mut out, ctx);
        let r = self.right.push(rel, changes, ctx);
        self.apply_right(&r, &mut out, ctx);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(k: u8, row: Row) -> Change {
        Change {
            key: vec![k],
            old: None,
            new: Some(row),
        }
    }
    fn del(k: u8, row: Row) -> Change {
        Change {
            key: vec![k],
            old: Some(row),
            new: None,
        }
    }
    fn r(vals: &[i32]) -> Row {
        vals.iter().map(|v| Value::Int4(*v)).collect()
    }
    fn show(changes: &[Change]) -> Vec<String> {
        changes.iter().map(ToString::to_string).collect()
    }

    /// `left(id, uid) LEFT JOIN right(uid, plan) ON left.uid = right.uid`
    fn left_join() -> Join {
        Join::new(
            Node::Scan(1),
            Node::Scan(2),
            JoinKind::Left,
            vec![Expr::Column(1)],
            vec![Expr::Column(0)],
            None,
            2,
        )
    }

    #[test]
    fn late_dimension_row_joins_earlier_events_and_leaves_again() {
        let mut j = left_join();
        let mut ctx = EvalCtx::strict();
        // An event before its user exists: padded with NULLs.
        assert_eq!(
            show(&j.push(1, &[ins(1, r(&[10, 7]))], &mut ctx)),
            vec!["+ 10, 7, NULL, NULL"]
        );
        // The user arrives: the padded row is replaced by the match.
        assert_eq!(
            show(&j.push(2, &[ins(9, r(&[7, 100]))], &mut ctx)),
            vec!["- 10, 7, NULL, NULL", "+ 10, 7, 7, 100"]
        );
        // A second event for the same user joins immediately.
        assert_eq!(
            show(&j.push(1, &[ins(2, r(&[11, 7]))], &mut ctx)),
            vec!["+ 11, 7, 7, 100"]
        );
        // The user is deleted: both events fall back to NULL padding.
        assert_eq!(
            show(&j.push(2, &[del(9, r(&[7, 100]))], &mut ctx)),
            vec![
                "- 10, 7, 7, 100",
                "+ 10, 7, NULL, NULL",
                "- 11, 7, 7, 100",
                "+ 11, 7, NULL, NULL"
            ]
        );
        // Deleting an event retracts its padded row.
        assert_eq!(
            show(&j.push(1, &[del(1, r(&[10, 7]))], &mut ctx)),
            vec!["- 10, 7, NULL, NULL"]
        );
    }

    #[test]
    fn inner_join_ignores_null_keys() {
        let mut j = Join::new(
            Node::Scan(1),
            Node::Scan(2),
            JoinKind::Inner,
            vec![Expr::Column(1)],
            vec![Expr::Column(0)],
            None,
            2,
        );
        let mut ctx = EvalCtx::strict();
        let null_key = vec![Value::Int4(1), Value::Null];
        assert!(j.push(1, &[ins(1, null_key)], &mut ctx).is_empty());
        assert!(j
            .push(2, &[ins(2, vec![Value::Null, Value::Int4(5)])], &mut ctx)
            .is_empty());
        assert_eq!(
            show(&j.push(2, &[ins(3, r(&[4, 5]))], &mut ctx)),
            Vec::<String>::new()
        );
        assert_eq!(
            show(&j.push(1, &[ins(4, r(&[2, 4]))], &mut ctx)),
            vec!["+ 2, 4, 4, 5"]
        );
    }
}
