//! Join: rows of the left and right inputs with equal keys (and a true
//! residual condition), concatenated. A LEFT join also emits each left row
//! with no match, padded with NULLs, and retracts that padded row when its
//! first match arrives (and re-emits it when the last match leaves).
//!
//! State table (keys after the operator's prefix): each side's rows,
//! indexed by join key, so a side's rows with one key are one prefix scan.
//!
//! ```text
//! 'l' join-key row-key  -> left row
//! 'r' join-key row-key  -> right row
//! ```
//!
//! A change on one side is joined against the other side's current rows:
//! `Δ(L ⋈ R) = ΔL ⋈ R + L' ⋈ ΔR`, with `L'` already updated by `ΔL`.

use rivulet_catalog::JoinKind;
use rivulet_expr::{decode_row, encode_row, encode_value_key, Expr, Row, Value};

use super::{push_escaped, Change, EvalCtx, Node};
use crate::state::StateStore;
use crate::Result;

const LEFT: u8 = b'l';
const RIGHT: u8 = b'r';

pub(super) struct Join {
    left: Node,
    right: Node,
    kind: JoinKind,
    left_keys: Vec<Expr>,
    right_keys: Vec<Expr>,
    residual: Option<Expr>,
    right_width: usize,
    /// This operator's state table prefix.
    table: Vec<u8>,
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
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        left: Node,
        right: Node,
        kind: JoinKind,
        left_keys: Vec<Expr>,
        right_keys: Vec<Expr>,
        residual: Option<Expr>,
        right_width: usize,
        table: Vec<u8>,
    ) -> Join {
        Join {
            left,
            right,
            kind,
            left_keys,
            right_keys,
            residual,
            right_width,
            table,
        }
    }

    /// The join key of a row; `None` if any part is NULL (never matches).
    /// Keys are prefix-free, so one key's bucket never covers another's.
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

    fn bucket(&self, side: u8, jk: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.table.len() + 1 + jk.len());
        k.extend_from_slice(&self.table);
        k.push(side);
        k.extend_from_slice(jk);
        k
    }

    fn slot(&self, side: u8, jk: &[u8], row_key: &[u8]) -> Vec<u8> {
        let mut k = self.bucket(side, jk);
        k.extend_from_slice(row_key);
        k
    }

    /// Every row of one side with join key `jk`, with its row key.
    fn rows(&self, st: &mut dyn StateStore, side: u8, jk: &[u8]) -> Result<Vec<(Vec<u8>, Row)>> {
        let prefix = self.bucket(side, jk);
        let mut raw = Vec::new();
        st.scan(&prefix, false, &mut |k, v| {
            raw.push((k[prefix.len()..].to_vec(), v.to_vec()));
            true
        })?;
        raw.into_iter()
            .map(|(k, v)| Ok((k, decode_row(&v)?)))
            .collect()
    }

    fn matches(&self, l: &Row, r: &Row, ctx: &mut EvalCtx) -> bool {
        match &self.residual {
            None => true,
            Some(p) => ctx.holds(p, &concat(l, r)),
        }
    }

    fn padded(&self, l: &Row) -> Row {
        let mut out = l.clone();
        out.extend(std::iter::repeat_n(Value::Null, self.right_width));
        out
    }

    /// Emits (inserted or, with `insert` false, deleted) the output rows of
    /// left row `l`.
    #[allow(clippy::too_many_arguments)]
    fn emit_left(
        &self,
        st: &mut dyn StateStore,
        key: &[u8],
        l: &Row,
        jk: &Option<Vec<u8>>,
        insert: bool,
        out: &mut Vec<Change>,
        ctx: &mut EvalCtx,
    ) -> Result<()> {
        let mut matches = match jk {
            Some(jk) => self.rows(st, RIGHT, jk)?,
            None => Vec::new(),
        };
        matches.retain(|(_, r)| self.matches(l, r, ctx));
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
        Ok(())
    }

    fn apply_left(
        &self,
        changes: &[Change],
        out: &mut Vec<Change>,
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
    ) -> Result<()> {
        for c in changes {
            if let Some(old) = &c.old {
                let jk = Self::key(&self.left_keys, old, ctx);
                self.emit_left(st, &c.key, old, &jk, false, out, ctx)?;
                st.delete(self.slot(LEFT, &jk.unwrap_or_else(null_slot), &c.key));
            }
            if let Some(new) = &c.new {
                let jk = Self::key(&self.left_keys, new, ctx);
                self.emit_left(st, &c.key, new, &jk, true, out, ctx)?;
                // Rows with a NULL key never match but are kept (apart from
                // every real key) so their removal is seen.
                st.put(
                    self.slot(LEFT, &jk.unwrap_or_else(null_slot), &c.key),
                    encode_row(new),
                );
            }
        }
        Ok(())
    }

    /// How many of `rights` match left row `l`, ignoring right row `skip`.
    fn match_count(
        &self,
        rights: &[(Vec<u8>, Row)],
        l: &Row,
        skip: &[u8],
        ctx: &mut EvalCtx,
    ) -> usize {
        rights
            .iter()
            .filter(|(k, r)| k.as_slice() != skip && self.matches(l, r, ctx))
            .count()
    }

    fn apply_right(
        &self,
        changes: &[Change],
        out: &mut Vec<Change>,
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
    ) -> Result<()> {
        let left_join = self.kind == JoinKind::Left;
        for c in changes {
            if let Some(old) = &c.old {
                if let Some(jk) = Self::key(&self.right_keys, old, ctx) {
                    let lefts = self.rows(st, LEFT, &jk)?;
                    let rights = if left_join && !lefts.is_empty() {
                        self.rows(st, RIGHT, &jk)?
                    } else {
                        Vec::new()
                    };
                    for (lk, l) in lefts {
                        if !self.matches(&l, old, ctx) {
                            continue;
                        }
                        out.push(Change {
                            key: out_key(&lk, Some(&c.key)),
                            old: Some(concat(&l, old)),
                            new: None,
                        });
                        if left_join && self.match_count(&rights, &l, &c.key, ctx) == 0 {
                            out.push(Change {
                                key: out_key(&lk, None),
                                old: None,
                                new: Some(self.padded(&l)),
                            });
                        }
                    }
                    st.delete(self.slot(RIGHT, &jk, &c.key));
                }
            }
            if let Some(new) = &c.new {
                if let Some(jk) = Self::key(&self.right_keys, new, ctx) {
                    let lefts = self.rows(st, LEFT, &jk)?;
                    let rights = if left_join && !lefts.is_empty() {
                        self.rows(st, RIGHT, &jk)?
                    } else {
                        Vec::new()
                    };
                    for (lk, l) in lefts {
                        if !self.matches(&l, new, ctx) {
                            continue;
                        }
                        if left_join && self.match_count(&rights, &l, &c.key, ctx) == 0 {
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
                    st.put(self.slot(RIGHT, &jk, &c.key), encode_row(new));
                }
            }
        }
        Ok(())
    }

    pub(super) fn init(&self, ctx: &mut EvalCtx, st: &mut dyn StateStore) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        let l = self.left.init(ctx, st)?;
        self.apply_left(&l, &mut out, ctx, st)?;
        let r = self.right.init(ctx, st)?;
        self.apply_right(&r, &mut out, ctx, st)?;
        Ok(out)
    }

    pub(super) fn push(
        &self,
        rel: u64,
        changes: &[Change],
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
    ) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        let l = self.left.push(rel, changes, ctx, st)?;
        self.apply_left(&l, &mut out, ctx, st)?;
        let r = self.right.push(rel, changes, ctx, st)?;
        self.apply_right(&r, &mut out, ctx, st)?;
        Ok(out)
    }

    /// Joins what the inputs held back until their end.
    pub(super) fn finish(&self, ctx: &mut EvalCtx, st: &mut dyn StateStore) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        let l = self.left.finish(ctx, st)?;
        self.apply_left(&l, &mut out, ctx, st)?;
        let r = self.right.finish(ctx, st)?;
        self.apply_right(&r, &mut out, ctx, st)?;
        Ok(out)
    }

    /// Whether the join only ever emits new pairs when its inputs only
    /// insert (an inner join; a LEFT join retracts padded rows).
    pub(super) fn insert_only(&self) -> bool {
        self.kind == JoinKind::Inner && self.left.insert_only() && self.right.insert_only()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemState;

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
            rivulet_storage::keys::state_table(1, 0),
        )
    }

    #[test]
    fn late_dimension_row_joins_earlier_events_and_leaves_again() {
        let j = left_join();
        let mut ctx = EvalCtx::strict();
        let mut st = MemState::new();
        // An event before its user exists: padded with NULLs.
        assert_eq!(
            show(
                &j.push(1, &[ins(1, r(&[10, 7]))], &mut ctx, &mut st)
                    .unwrap()
            ),
            vec!["+ 10, 7, NULL, NULL"]
        );
        // The user arrives: the padded row is replaced by the match.
        assert_eq!(
            show(
                &j.push(2, &[ins(9, r(&[7, 100]))], &mut ctx, &mut st)
                    .unwrap()
            ),
            vec!["- 10, 7, NULL, NULL", "+ 10, 7, 7, 100"]
        );
        // A second event for the same user joins immediately.
        assert_eq!(
            show(
                &j.push(1, &[ins(2, r(&[11, 7]))], &mut ctx, &mut st)
                    .unwrap()
            ),
            vec!["+ 11, 7, 7, 100"]
        );
        // The user is deleted: both events fall back to NULL padding.
        assert_eq!(
            show(
                &j.push(2, &[del(9, r(&[7, 100]))], &mut ctx, &mut st)
                    .unwrap()
            ),
            vec![
                "- 10, 7, 7, 100",
                "+ 10, 7, NULL, NULL",
                "- 11, 7, 7, 100",
                "+ 11, 7, NULL, NULL"
            ]
        );
        // Deleting an event retracts its padded row.
        assert_eq!(
            show(
                &j.push(1, &[del(1, r(&[10, 7]))], &mut ctx, &mut st)
                    .unwrap()
            ),
            vec!["- 10, 7, NULL, NULL"]
        );
    }

    #[test]
    fn inner_join_ignores_null_keys() {
        let j = Join::new(
            Node::Scan(1),
            Node::Scan(2),
            JoinKind::Inner,
            vec![Expr::Column(1)],
            vec![Expr::Column(0)],
            None,
            2,
            rivulet_storage::keys::state_table(1, 0),
        );
        let mut ctx = EvalCtx::strict();
        let mut st = MemState::new();
        let null_key = vec![Value::Int4(1), Value::Null];
        assert!(j
            .push(1, &[ins(1, null_key)], &mut ctx, &mut st)
            .unwrap()
            .is_empty());
        assert!(j
            .push(
                2,
                &[ins(2, vec![Value::Null, Value::Int4(5)])],
                &mut ctx,
                &mut st
            )
            .unwrap()
            .is_empty());
        assert_eq!(
            show(&j.push(2, &[ins(3, r(&[4, 5]))], &mut ctx, &mut st).unwrap()),
            Vec::<String>::new()
        );
        assert_eq!(
            show(&j.push(1, &[ins(4, r(&[2, 4]))], &mut ctx, &mut st).unwrap()),
            vec!["+ 2, 4, 4, 5"]
        );
    }
}
