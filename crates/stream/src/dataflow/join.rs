//! Join: rows of the left and right inputs with equal keys (and a true
//! residual condition), concatenated. A LEFT join also emits each left row
//! with no match, padded with NULLs, and retracts that padded row when its
//! first match arrives (and re-emits it when the last match leaves).
//! Semi- and anti-joins (`EXISTS`, `IN`, `NOT EXISTS`, `NOT IN`) emit left
//! rows alone, and flip them in and out the same way as matches come and
//! go.
//!
//! State table (keys after the operator's prefix): each side's rows,
//! indexed by join key, so a side's rows with one key are one prefix scan.
//! A semi- or anti-join without a residual condition keeps, instead of
//! the right rows, how many there are with each key (a key matches or it
//! does not), so a left row's answer is one lookup; `NOT IN` also keeps
//! how many right rows there are and how many have a NULL key (either
//! count reaching or leaving zero changes every left row's answer).
//!
//! ```text
//! 'l' join-key row-key  -> left row
//! 'r' join-key row-key  -> right row
//! 'k' join-key          -> right rows with that key (semi/anti, no residual)
//! 'c'                   -> right rows, right rows with a NULL key (NOT IN)
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
const COUNTS: u8 = b'c';
const KEY_COUNTS: u8 = b'k';

/// Whether `NOT IN` keeps a left row, given the right side's row count,
/// its count of NULL keys, whether the left key is not NULL, and whether
/// it equals a right key.
fn not_in_keeps(rows: i64, nulls: i64, keyed: bool, matched: bool) -> bool {
    rows == 0 || (nulls == 0 && keyed && !matched)
}

/// A left row going in (`true`) or out of the output.
fn left_change(key: &[u8], l: &Row, present: bool) -> Change {
    let (old, new) = if present {
        (None, Some(l.clone()))
    } else {
        (Some(l.clone()), None)
    };
    Change {
        key: out_key(key, None),
        old,
        new,
    }
}

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
    /// The right side is complete before any left row arrives (a query
    /// feeding it first): left rows are answered and not kept.
    pub(super) streams_left: bool,
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
            streams_left: false,
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

    /// Whether some right row with join key `jk` (other than row `skip`)
    /// matches left row `l`; reads no further than the first.
    fn any_match(
        &self,
        st: &mut dyn StateStore,
        jk: &[u8],
        l: &Row,
        skip: Option<&[u8]>,
        ctx: &mut EvalCtx,
    ) -> Result<bool> {
        let prefix = self.bucket(RIGHT, jk);
        let mut found = false;
        let mut failed = None;
        st.scan(&prefix, false, &mut |k, v| {
            if skip == Some(&k[prefix.len()..]) {
                return true;
            }
            if self.residual.is_none() {
                found = true;
                return false;
            }
            match decode_row(v) {
                Ok(r) => found = self.matches(l, &r, ctx),
                Err(e) => failed = Some(e),
            }
            !found && failed.is_none()
        })?;
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(found),
        }
    }

    /// Whether the right side is kept as a count per join key rather than
    /// as rows: a semi- or anti-join without a residual condition.
    fn counted(&self) -> bool {
        self.kind.is_filtering() && self.residual.is_none()
    }

    /// How many right rows have join key `jk` (a counted join).
    fn key_count(&self, st: &mut dyn StateStore, jk: &[u8]) -> Result<i64> {
        Ok(st
            .get(&self.bucket(KEY_COUNTS, jk))?
            .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
            .map_or(0, i64::from_le_bytes))
    }

    fn set_key_count(&self, st: &mut dyn StateStore, jk: &[u8], n: i64) {
        let key = self.bucket(KEY_COUNTS, jk);
        if n <= 0 {
            st.delete(key);
        } else {
            st.put(key, n.to_le_bytes().to_vec());
        }
    }

    /// The right side's row count and count of NULL keys (`NOT IN`).
    fn counts(&self, st: &mut dyn StateStore) -> Result<(i64, i64)> {
        let mut key = self.table.clone();
        key.push(COUNTS);
        Ok(match st.get(&key)? {
            Some(v) if v.len() == 16 => {
                let (a, b) = v.split_at(8);
                let n = |s: &[u8]| <[u8; 8]>::try_from(s).map_or(0, i64::from_le_bytes);
                (n(a), n(b))
            }
            _ => (0, 0),
        })
    }

    fn set_counts(&self, st: &mut dyn StateStore, (rows, nulls): (i64, i64)) {
        let mut key = self.table.clone();
        key.push(COUNTS);
        let mut v = rows.to_le_bytes().to_vec();
        v.extend_from_slice(&nulls.to_le_bytes());
        st.put(key, v);
    }

    /// Whether a filtering join outputs left row `l` (join key `jk`).
    fn keeps(
        &self,
        st: &mut dyn StateStore,
        l: &Row,
        jk: &Option<Vec<u8>>,
        ctx: &mut EvalCtx,
    ) -> Result<bool> {
        let matched = match jk {
            Some(jk) if self.counted() => self.key_count(st, jk)? > 0,
            Some(jk) => self.any_match(st, jk, l, None, ctx)?,
            None => false,
        };
        Ok(match self.kind {
            JoinKind::Semi => matched,
            JoinKind::NotIn => {
                let (rows, nulls) = self.counts(st)?;
                not_in_keeps(rows, nulls, jk.is_some(), matched)
            }
            _ => !matched,
        })
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
        if self.kind.is_filtering() {
            if self.keeps(st, l, jk, ctx)? {
                out.push(left_change(key, l, insert));
            }
            return Ok(());
        }
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
                if !self.streams_left {
                    st.delete(self.slot(LEFT, &jk.unwrap_or_else(null_slot), &c.key));
                }
            }
            if let Some(new) = &c.new {
                let jk = Self::key(&self.left_keys, new, ctx);
                self.emit_left(st, &c.key, new, &jk, true, out, ctx)?;
                if self.streams_left {
                    continue;
                }
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

    /// Right-side changes of a semi- or anti-join: a left row flips when
    /// its first match arrives or its last one leaves.
    fn apply_right_filtering(
        &self,
        changes: &[Change],
        out: &mut Vec<Change>,
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
    ) -> Result<()> {
        let semi = self.kind == JoinKind::Semi;
        for c in changes {
            if self.kind == JoinKind::NotIn {
                self.not_in_right(c, out, ctx, st)?;
                continue;
            }
            if self.counted() {
                // A key's first right row lets its left rows in (out of
                // an anti-join), its last one leaving lets them out.
                if let Some(jk) = c
                    .old
                    .as_ref()
                    .and_then(|r| Self::key(&self.right_keys, r, ctx))
                {
                    let n = self.key_count(st, &jk)?;
                    self.set_key_count(st, &jk, n - 1);
                    if n == 1 {
                        for (lk, l) in self.rows(st, LEFT, &jk)? {
                            out.push(left_change(&lk, &l, !semi));
                        }
                    }
                }
                if let Some(jk) = c
                    .new
                    .as_ref()
                    .and_then(|r| Self::key(&self.right_keys, r, ctx))
                {
                    let n = self.key_count(st, &jk)?;
                    self.set_key_count(st, &jk, n + 1);
                    if n == 0 {
                        for (lk, l) in self.rows(st, LEFT, &jk)? {
                            out.push(left_change(&lk, &l, semi));
                        }
                    }
                }
                continue;
            }
            if let Some(old) = &c.old {
                if let Some(jk) = Self::key(&self.right_keys, old, ctx) {
                    for (lk, l) in self.rows(st, LEFT, &jk)? {
                        if self.matches(&l, old, ctx)
                            && !self.any_match(st, &jk, &l, Some(&c.key), ctx)?
                        {
                            out.push(left_change(&lk, &l, !semi));
                        }
                    }
                    st.delete(self.slot(RIGHT, &jk, &c.key));
                }
            }
            if let Some(new) = &c.new {
                if let Some(jk) = Self::key(&self.right_keys, new, ctx) {
                    for (lk, l) in self.rows(st, LEFT, &jk)? {
                        if self.matches(&l, new, ctx)
                            && !self.any_match(st, &jk, &l, Some(&c.key), ctx)?
                        {
                            out.push(left_change(&lk, &l, semi));
                        }
                    }
                    st.put(self.slot(RIGHT, &jk, &c.key), encode_row(new));
                }
            }
        }
        Ok(())
    }

    /// A right-side change of a `NOT IN`: the left rows at its keys may
    /// flip, and every left row does when the right side's row count or
    /// NULL count reaches or leaves zero.
    fn not_in_right(
        &self,
        c: &Change,
        out: &mut Vec<Change>,
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
    ) -> Result<()> {
        let before = self.counts(st)?;
        let old_jk = c.old.as_ref().map(|r| Self::key(&self.right_keys, r, ctx));
        let new_jk = c.new.as_ref().map(|r| Self::key(&self.right_keys, r, ctx));
        let mut after = before;
        if let Some(jk) = &old_jk {
            after.0 -= 1;
            match jk {
                Some(jk) => {
                    let n = self.key_count(st, jk)?;
                    self.set_key_count(st, jk, n - 1);
                }
                None => after.1 -= 1,
            }
        }
        if let Some(jk) = &new_jk {
            after.0 += 1;
            match jk {
                Some(jk) => {
                    let n = self.key_count(st, jk)?;
                    self.set_key_count(st, jk, n + 1);
                }
                None => after.1 += 1,
            }
        }
        if after != before {
            self.set_counts(st, after);
        }
        let everything = (before.0 == 0) != (after.0 == 0) || (before.1 == 0) != (after.1 == 0);
        // The left rows whose answer may change, with their join keys.
        let mut lefts: Vec<(Vec<u8>, Row, Option<Vec<u8>>)> = Vec::new();
        if everything {
            let mut prefix = self.table.clone();
            prefix.push(LEFT);
            let mut raw = Vec::new();
            st.scan(&prefix, false, &mut |k, v| {
                raw.push((k[prefix.len()..].to_vec(), v.to_vec()));
                true
            })?;
            for (k, v) in raw {
                let l = decode_row(&v)?;
                let jk = Self::key(&self.left_keys, &l, ctx);
                let at = jk.clone().unwrap_or_else(null_slot);
                let row_key = k.get(at.len()..).unwrap_or_default().to_vec();
                lefts.push((row_key, l, jk));
            }
        } else {
            let mut keys: Vec<&Vec<u8>> = Vec::new();
            for jk in [&old_jk, &new_jk].into_iter().flatten().flatten() {
                if !keys.contains(&jk) {
                    keys.push(jk);
                }
            }
            for jk in keys {
                for (lk, l) in self.rows(st, LEFT, jk)? {
                    lefts.push((lk, l, Some(jk.clone())));
                }
            }
        }
        let at = |side: &Option<Option<Vec<u8>>>, jk: &Vec<u8>| {
            i64::from(side.as_ref().is_some_and(|s| s.as_ref() == Some(jk)))
        };
        for (lk, l, jk) in lefts {
            let (matched_before, matched_after) = match &jk {
                None => (false, false),
                Some(jk) => {
                    let now = self.key_count(st, jk)?;
                    let then = now - at(&new_jk, jk) + at(&old_jk, jk);
                    (then > 0, now > 0)
                }
            };
            let kept = not_in_keeps(before.0, before.1, jk.is_some(), matched_before);
            let keeps = not_in_keeps(after.0, after.1, jk.is_some(), matched_after);
            if kept != keeps {
                out.push(left_change(&lk, &l, keeps));
            }
        }
        Ok(())
    }

    fn apply_right(
        &self,
        changes: &[Change],
        out: &mut Vec<Change>,
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
    ) -> Result<()> {
        if self.kind.is_filtering() {
            return self.apply_right_filtering(changes, out, ctx, st);
        }
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
        // Left rows answered against a complete right side are final.
        (matches!(self.kind, JoinKind::Inner | JoinKind::Semi) || self.streams_left)
            && self.left.insert_only()
            && self.right.insert_only()
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

    /// `left(id, uid)` against `right(uid)` on `left.uid = right.uid`.
    fn filtering(kind: JoinKind) -> Join {
        Join::new(
            Node::Scan(1),
            Node::Scan(2),
            kind,
            vec![Expr::Column(1)],
            vec![Expr::Column(0)],
            None,
            1,
            rivulet_storage::keys::state_table(1, 0),
        )
    }

    #[test]
    fn semi_and_anti_joins_flip_left_rows_as_matches_come_and_go() {
        let mut ctx = EvalCtx::strict();
        let (mut s1, mut s2) = (MemState::new(), MemState::new());
        let semi = filtering(JoinKind::Semi);
        let anti = filtering(JoinKind::Anti);
        let mut both = |rel: u64, c: &[Change]| -> (String, String) {
            (
                show(&semi.push(rel, c, &mut ctx, &mut s1).unwrap()).join("; "),
                show(&anti.push(rel, c, &mut ctx, &mut s2).unwrap()).join("; "),
            )
        };
        let null_key = vec![Value::Int4(3), Value::Null];
        assert_eq!(
            both(
                1,
                &[ins(1, r(&[1, 7])), ins(2, r(&[2, 7])), ins(3, null_key)]
            ),
            ("".to_string(), "+ 1, 7; + 2, 7; + 3, NULL".to_string())
        );
        // The first match lets both rows in (out of the anti-join); a
        // second changes nothing.
        assert_eq!(
            both(2, &[ins(9, r(&[7]))]),
            ("+ 1, 7; + 2, 7".to_string(), "- 1, 7; - 2, 7".to_string())
        );
        assert_eq!(
            both(2, &[ins(8, r(&[7]))]),
            ("".to_string(), "".to_string())
        );
        assert_eq!(
            both(2, &[del(9, r(&[7]))]),
            ("".to_string(), "".to_string())
        );
        // The last one leaving flips them back.
        assert_eq!(
            both(2, &[del(8, r(&[7]))]),
            ("- 1, 7; - 2, 7".to_string(), "+ 1, 7; + 2, 7".to_string())
        );
        // A right row with a NULL key matches nothing.
        assert_eq!(
            both(2, &[ins(5, vec![Value::Null])]),
            ("".to_string(), "".to_string())
        );
    }

    #[test]
    fn not_in_follows_sql_null_rules() {
        let mut ctx = EvalCtx::strict();
        let mut st = MemState::new();
        let j = filtering(JoinKind::NotIn);
        let mut push = |rel: u64, c: &[Change]| show(&j.push(rel, c, &mut ctx, &mut st).unwrap());
        let null_key = vec![Value::Int4(3), Value::Null];
        // Empty subquery: every row, a NULL key too.
        assert_eq!(
            push(
                1,
                &[ins(1, r(&[1, 7])), ins(2, r(&[2, 8])), ins(3, null_key)]
            ),
            vec!["+ 1, 7", "+ 2, 8", "+ 3, NULL"]
        );
        // A value: its row and the NULL-keyed one go.
        assert_eq!(push(2, &[ins(9, r(&[7]))]), vec!["- 1, 7", "- 3, NULL"]);
        // A NULL in the subquery: nothing passes; gone again: back.
        assert_eq!(push(2, &[ins(5, vec![Value::Null])]), vec!["- 2, 8"]);
        assert_eq!(push(1, &[ins(4, r(&[4, 9]))]), Vec::<String>::new());
        assert_eq!(
            push(2, &[del(5, vec![Value::Null])]),
            vec!["+ 2, 8", "+ 4, 9"]
        );
        // The value overwritten by another: 7 is back in, 8 out.
        assert_eq!(
            push(
                2,
                &[Change {
                    key: vec![9],
                    old: Some(r(&[7])),
                    new: Some(r(&[8])),
                }]
            ),
            vec!["+ 1, 7", "- 2, 8"]
        );
        // Empty again: everything.
        assert_eq!(push(2, &[del(9, r(&[8]))]), vec!["+ 2, 8", "+ 3, NULL"]);
    }

    #[test]
    fn a_semi_join_with_a_residual_condition_checks_each_match() {
        // left(id, uid) semi-joined with right(uid, amount) on uid, where
        // right.amount > left.id.
        let j = Join::new(
            Node::Scan(1),
            Node::Scan(2),
            JoinKind::Semi,
            vec![Expr::Column(1)],
            vec![Expr::Column(0)],
            Some(Expr::Binary(
                rivulet_expr::BinaryOp::Cmp(rivulet_expr::CmpOp::Gt),
                Box::new(Expr::Column(3)),
                Box::new(Expr::Column(0)),
            )),
            2,
            rivulet_storage::keys::state_table(1, 0),
        );
        let mut ctx = EvalCtx::strict();
        let mut st = MemState::new();
        let mut push = |rel: u64, c: &[Change]| show(&j.push(rel, c, &mut ctx, &mut st).unwrap());
        assert_eq!(
            push(1, &[ins(1, r(&[5, 7])), ins(2, r(&[50, 7]))]),
            Vec::<String>::new()
        );
        // Matches the first row only.
        assert_eq!(push(2, &[ins(9, r(&[7, 10]))]), vec!["+ 5, 7"]);
        // Another match for it changes nothing; one for both lets the
        // second in.
        assert_eq!(push(2, &[ins(8, r(&[7, 20]))]), Vec::<String>::new());
        assert_eq!(push(2, &[ins(6, r(&[7, 99]))]), vec!["+ 50, 7"]);
        assert_eq!(push(2, &[del(6, r(&[7, 99]))]), vec!["- 50, 7"]);
        assert_eq!(push(2, &[del(9, r(&[7, 10]))]), Vec::<String>::new());
        assert_eq!(push(2, &[del(8, r(&[7, 20]))]), vec!["- 5, 7"]);
    }
}
