//! Aggregate: one row per group — its key values, then each aggregate —
//! maintained under inserts and deletes. A group whose last row leaves
//! disappears, except the single group of an aggregate without GROUP BY,
//! which always exists.
//!
//! State table (keys after the operator's prefix):
//!
//! ```text
//! 'g' group-key                      -> the group: row count, key values,
//!                                       each aggregate's running state
//! 'm' group-key agg:u16be value-key  -> each live representation of the
//!                                       value (`12.5`, `12.50`) and its
//!                                       multiplicity
//! ```
//!
//! `count`, `sum`, `avg` and the boolean aggregates keep running totals in
//! the group; a numeric `sum`/`avg` also counts its live inputs by display
//! scale, so after retractions the result has the scale recomputation
//! would give. `min`, `max` and every DISTINCT aggregate keep a multiset of
//! their values under memcomparable value keys: a DISTINCT aggregate
//! changes only when a value's multiplicity goes from zero to one or back,
//! and `min`/`max` keep the current extreme in the group, re-reading the
//! first (or last) multiset key only when the extreme itself leaves.
//!
//! A batch of changes is applied group by group: each touched group is read
//! once, updated for every change, and written once.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use rivulet_catalog::{AggCall, AggKind};
use rivulet_expr::{
    decode_row, encode_row, encode_value_key, encode_value_ordered, to_numeric, DataType, Expr,
    Numeric, Row, Value,
};

use super::{Change, EvalCtx, Node};
use crate::state::StateStore;
use crate::{Error, Result};

const GROUP: u8 = b'g';
const MULTISET: u8 = b'm';

/// A running sum.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Sum {
    Int(i128),
    /// A numeric sum and how many live inputs have each display scale.
    Num(Decimal, BTreeMap<u32, i64>),
    Float(f64),
}

/// An exact decimal accumulator: `units × 10^-scale` in an `i128` while it
/// fits (adding then allocates nothing), a [`Numeric`] beyond that.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Decimal {
    Small(i128, u32),
    Big(Numeric),
}

impl Decimal {
    fn to_numeric(&self) -> Numeric {
        match self {
            Decimal::Small(u, s) => Numeric::from_scaled_i128(*u, *s),
            Decimal::Big(n) => n.clone(),
        }
    }

    fn from_numeric(n: Numeric) -> Decimal {
        match n.to_scaled_i128() {
            Some((u, s)) => Decimal::Small(u, s),
            None => Decimal::Big(n),
        }
    }

    /// The small sum plus `sign` × `units × 10^-scale`, if it stays small.
    fn small_sum(&self, units: i128, scale: u32, sign: i64) -> Option<Decimal> {
        let Decimal::Small(u, s) = self else {
            return None;
        };
        let to = (*s).max(scale);
        let widen = |v: i128, from: u32| 10i128.checked_pow(to - from)?.checked_mul(v);
        let (a, b) = (widen(*u, *s)?, widen(units, scale)?);
        let v = if sign > 0 {
            a.checked_add(b)
        } else {
            a.checked_sub(b)
        }?;
        Some(Decimal::Small(v, to))
    }

    /// Adds `sign` × `units × 10^-scale`.
    fn add_scaled(&mut self, units: i128, scale: u32, sign: i64) {
        match self.small_sum(units, scale, sign) {
            Some(d) => *self = d,
            None => self.add_big(&Numeric::from_scaled_i128(units, scale), sign),
        }
    }

    /// Adds `sign` × `x`.
    fn add(&mut self, x: &Numeric, sign: i64) {
        match x.to_scaled_i128() {
            Some((u, s)) => self.add_scaled(u, s, sign),
            None => self.add_big(x, sign),
        }
    }

    /// Adds `sign` × `x` in arbitrary precision.
    fn add_big(&mut self, x: &Numeric, sign: i64) {
        let cur = self.to_numeric();
        let next = if sign > 0 { cur.add(x) } else { cur.sub(x) };
        *self = Decimal::from_numeric(next);
    }
}

/// The state of one aggregate in one group.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum State {
    /// Rows, for `count(*)`.
    Rows(i64),
    /// Non-NULL values, for `count(x)`.
    Count(i64),
    /// Sum and count of non-NULL values (`sum`, `avg`).
    Sum(Sum, i64),
    /// Counts of true and false values.
    Bools(i64, i64),
    /// The current minimum or maximum (NULL when there are no values); the
    /// values themselves are in the multiset.
    Extreme(Value),
    /// `array_agg`'s inputs (ordered pairs of sort keys and value), in
    /// input order.
    Collect(Vec<Vec<u8>>),
}

/// The live representations of one multiset value, each with its
/// multiplicity, oldest first; the first is the value's representative.
type Reps = Vec<(Value, i64)>;

/// Adds `delta` copies of exactly `v`, dropping representations that reach
/// zero.
fn add_rep(reps: &mut Reps, v: Value, delta: i64) {
    match reps.iter().position(|(r, _)| *r == v) {
        Some(i) => {
            reps[i].1 += delta;
            if reps[i].1 <= 0 {
                reps.remove(i);
            }
        }
        None if delta > 0 => reps.push((v, delta)),
        None => {}
    }
}

fn encode_reps(reps: &Reps) -> Vec<u8> {
    let mut row = Vec::with_capacity(reps.len() * 2);
    for (v, n) in reps {
        row.push(v.clone());
        row.push(Value::Int8(*n));
    }
    encode_row(&row)
}

fn decode_reps(bytes: &[u8]) -> Result<Reps> {
    let mut it = decode_row(bytes)?.into_iter();
    let mut reps = Reps::new();
    while let Some(v) = it.next() {
        match it.next() {
            Some(Value::Int8(n)) => reps.push((v, n)),
            _ => {
                return Err(Error::Expr(rivulet_expr::Error::Corrupted(
                    "aggregate multiset",
                )))
            }
        }
    }
    Ok(reps)
}

/// Keeps `v` in `best` if it is a new minimum (`kind` `min`) or maximum by
/// PostgreSQL's ordering; NULLs never count, and of equal values the first
/// stays. For aggregates that see every value once (ad-hoc queries,
/// windows); a view's extremes keep their multiset instead.
pub(super) fn offer_extreme(best: &mut Value, v: Cow<'_, Value>, kind: AggKind) {
    let better = match kind {
        AggKind::Min => v.total_cmp(best).is_lt(),
        _ => best.is_null() || v.total_cmp(best).is_gt(),
    };
    if !v.is_null() && better {
        *best = v.into_owned();
    }
}

/// Whether a call keeps a value multiset in the state table.
pub(super) fn uses_multiset(call: &AggCall) -> bool {
    call.distinct || matches!(call.kind, AggKind::Min | AggKind::Max)
}

pub(super) fn initial(call: &AggCall) -> State {
    match call.kind {
        AggKind::Min | AggKind::Max => State::Extreme(Value::Null),
        AggKind::ArrayAgg { .. } => State::Collect(Vec::new()),
        AggKind::CountStar => State::Rows(0),
        AggKind::Count => State::Count(0),
        AggKind::Sum | AggKind::Avg => State::Sum(
            match call.input_type {
                DataType::Float8 => Sum::Float(0.0),
                DataType::Numeric => Sum::Num(Decimal::Small(0, 0), BTreeMap::new()),
                _ => Sum::Int(0),
            },
            0,
        ),
        _ => State::Bools(0, 0),
    }
}

impl State {
    /// For a numeric `sum`/`avg`, adds or removes one input given as
    /// `units × 10^-scale` (see [`Expr::eval_json_decimal`]); false, having
    /// done nothing, for any other state.
    pub(super) fn update_decimal(&mut self, units: i128, scale: u32, sign: i64) -> bool {
        let State::Sum(Sum::Num(s, scales), n) = self else {
            return false;
        };
        *n += sign;
        s.add_scaled(units, scale, sign);
        let c = scales.entry(scale).or_insert(0);
        *c += sign;
        if *c <= 0 {
            scales.remove(&scale);
        }
        true
    }

    /// Adds (`sign` = 1) or removes (`sign` = -1) one input value. Not
    /// used for `min`/`max`, which follow their multiset.
    pub(super) fn update(&mut self, v: &Value, sign: i64) {
        match self {
            State::Rows(n) => *n += sign,
            State::Collect(items) => {
                if let Value::Bytea(b) = v {
                    if sign > 0 {
                        items.push(b.clone());
                    } else if let Some(i) = items.iter().position(|x| x == b) {
                        items.remove(i);
                    }
                }
            }
            _ if v.is_null() => {}
            State::Count(n) => *n += sign,
            State::Sum(sum, n) => {
                *n += sign;
                match (sum, v) {
                    (Sum::Int(s), Value::Int4(x)) => *s += sign as i128 * *x as i128,
                    (Sum::Int(s), Value::Int8(x)) => *s += sign as i128 * *x as i128,
                    (Sum::Num(s, scales), x) => {
                        let owned;
                        let x = match x {
                            Value::Numeric(n) => n,
                            other => match to_numeric(other) {
                                Some(n) => {
                                    owned = n;
                                    &owned
                                }
                                None => return,
                            },
                        };
                        s.add(x, sign);
                        let c = scales.entry(x.scale()).or_insert(0);
                        *c += sign;
                        if *c <= 0 {
                            scales.remove(&x.scale());
                        }
                    }
                    (Sum::Float(s), Value::Float8(x)) => *s += sign as f64 * x,
                    _ => {}
                }
            }
            State::Bools(t, f) => match v {
                Value::Bool(true) => *t += sign,
                Value::Bool(false) => *f += sign,
                _ => {}
            },
            State::Extreme(_) => {}
        }
    }

    /// The aggregate's current result.
    pub(super) fn result(&self, call: &AggCall) -> Value {
        let numeric_sum = |s: &Sum| match s {
            Sum::Int(i) => Numeric::parse(&i.to_string()).unwrap_or_else(|_| Numeric::nan()),
            // The sum at the largest scale among live inputs, as a sum
            // recomputed from them would print (digits beyond it are zero).
            Sum::Num(n, scales) => n
                .to_numeric()
                .round_to(scales.keys().next_back().copied().unwrap_or(0)),
            Sum::Float(f) => Numeric::from_f64(*f).unwrap_or_else(|_| Numeric::nan()),
        };
        match self {
            State::Rows(n) | State::Count(n) => Value::Int8(*n),
            State::Sum(_, 0) => Value::Null,
            State::Sum(s, n) => match (call.kind, s) {
                (AggKind::Sum, Sum::Float(f)) => Value::Float8(*f),
                (AggKind::Sum, Sum::Int(i)) if call.output_type == DataType::Int8 => {
                    i64::try_from(*i).map_or(Value::Null, Value::Int8)
                }
                (AggKind::Sum, s) => Value::Numeric(numeric_sum(s)),
                (_, Sum::Float(f)) => Value::Float8(f / *n as f64),
                (_, s) => numeric_sum(s)
                    .div(&Numeric::from(*n))
                    .map_or(Value::Null, Value::Numeric),
            },
            State::Bools(0, 0) => Value::Null,
            State::Bools(t, f) => Value::Bool(if call.kind == AggKind::BoolAnd {
                *f == 0
            } else {
                *t > 0
            }),
            State::Extreme(v) => v.clone(),
            State::Collect(items) if items.is_empty() => Value::Null,
            State::Collect(items) => {
                let mut items: Vec<&Vec<u8>> = items.iter().collect();
                if let AggKind::ArrayAgg { sorted: true, desc } = call.kind {
                    items.sort();
                    if desc {
                        items.reverse();
                    }
                }
                items
                    .into_iter()
                    .map(|b| rivulet_catalog::OrderedPair::value_of(b))
                    .collect::<rivulet_expr::Result<Vec<Value>>>()
                    .map_or(Value::Null, Value::Array)
            }
        }
    }

    /// Appends the state's stored fields.
    fn encode(&self, out: &mut Row) {
        match self {
            State::Rows(n) | State::Count(n) => out.push(Value::Int8(*n)),
            State::Sum(s, n) => {
                out.push(Value::Int8(*n));
                match s {
                    Sum::Int(i) => out.push(Value::Bytea(i.to_le_bytes().to_vec())),
                    Sum::Float(f) => out.push(Value::Float8(*f)),
                    Sum::Num(v, scales) => {
                        out.push(Value::Numeric(v.to_numeric()));
                        let mut b = Vec::with_capacity(scales.len() * 12);
                        for (scale, count) in scales {
                            b.extend_from_slice(&scale.to_le_bytes());
                            b.extend_from_slice(&count.to_le_bytes());
                        }
                        out.push(Value::Bytea(b));
                    }
                }
            }
            State::Bools(t, f) => {
                out.push(Value::Int8(*t));
                out.push(Value::Int8(*f));
            }
            State::Extreme(v) => out.push(v.clone()),
            State::Collect(items) => out.push(Value::Array(
                items.iter().map(|b| Value::Bytea(b.clone())).collect(),
            )),
        }
    }

    /// Reads the fields [`State::encode`] wrote for a state shaped like
    /// `template`.
    fn decode(template: &State, it: &mut impl Iterator<Item = Value>) -> Result<State> {
        let corrupt = || Error::Expr(rivulet_expr::Error::Corrupted("aggregate state"));
        let int = |it: &mut dyn Iterator<Item = Value>| match it.next() {
            Some(Value::Int8(n)) => Ok(n),
            _ => Err(corrupt()),
        };
        Ok(match template {
            State::Rows(_) => State::Rows(int(it)?),
            State::Count(_) => State::Count(int(it)?),
            State::Bools(..) => State::Bools(int(it)?, int(it)?),
            State::Extreme(_) => State::Extreme(it.next().ok_or_else(corrupt)?),
            State::Collect(_) => match it.next() {
                Some(Value::Array(items)) => State::Collect(
                    items
                        .into_iter()
                        .map(|v| match v {
                            Value::Bytea(b) => Ok(b),
                            _ => Err(corrupt()),
                        })
                        .collect::<Result<_>>()?,
                ),
                _ => return Err(corrupt()),
            },
            State::Sum(shape, _) => {
                let n = int(it)?;
                let sum = match (shape, it.next()) {
                    (Sum::Int(_), Some(Value::Bytea(b))) => Sum::Int(i128::from_le_bytes(
                        b.as_slice().try_into().map_err(|_| corrupt())?,
                    )),
                    (Sum::Float(_), Some(Value::Float8(f))) => Sum::Float(f),
                    (Sum::Num(..), Some(Value::Numeric(v))) => {
                        let Some(Value::Bytea(b)) = it.next() else {
                            return Err(corrupt());
                        };
                        let mut scales = BTreeMap::new();
                        for c in b.chunks(12) {
                            let (s, n) = c.split_at_checked(4).ok_or_else(corrupt)?;
                            scales.insert(
                                u32::from_le_bytes(s.try_into().map_err(|_| corrupt())?),
                                i64::from_le_bytes(n.try_into().map_err(|_| corrupt())?),
                            );
                        }
                        Sum::Num(Decimal::from_numeric(v), scales)
                    }
                    _ => return Err(corrupt()),
                };
                State::Sum(sum, n)
            }
        })
    }
}

/// One group: its key values, row count and aggregate states.
#[derive(Debug, Clone)]
struct Group {
    keys: Row,
    rows: i64,
    states: Vec<State>,
}

/// A group being updated by one batch of changes.
struct Touched {
    /// The encoded group key.
    gk: Vec<u8>,
    /// The group's output row before the batch.
    before: Option<Row>,
    group: Group,
    /// Aggregates whose extreme left and must be re-read from the multiset.
    rescan: Vec<usize>,
}

pub(super) struct Aggregate {
    input: Node,
    group_keys: Vec<Expr>,
    aggs: Vec<AggCall>,
    /// This operator's state table prefix.
    table: Vec<u8>,
}

impl Aggregate {
    pub(super) fn new(
        input: Node,
        group_keys: Vec<Expr>,
        aggs: Vec<AggCall>,
        table: Vec<u8>,
    ) -> Aggregate {
        Aggregate {
            input,
            group_keys,
            aggs,
            table,
        }
    }

    fn global(&self) -> bool {
        self.group_keys.is_empty()
    }

    fn group_state_key(&self, gk: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.table.len() + 1 + gk.len());
        k.extend_from_slice(&self.table);
        k.push(GROUP);
        k.extend_from_slice(gk);
        k
    }

    /// Prefix of aggregate `agg`'s multiset in group `gk` (group keys are
    /// prefix-free, so one group's prefix never covers another's).
    fn multiset_prefix(&self, gk: &[u8], agg: usize) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.table.len() + 3 + gk.len());
        k.extend_from_slice(&self.table);
        k.push(MULTISET);
        k.extend_from_slice(gk);
        k.extend_from_slice(&(agg as u16).to_be_bytes());
        k
    }

    fn new_group(&self, keys: Row) -> Group {
        Group {
            keys,
            rows: 0,
            states: self.aggs.iter().map(initial).collect(),
        }
    }

    fn encode_group(&self, g: &Group) -> Vec<u8> {
        let mut row = Vec::with_capacity(2 + g.keys.len() + 2 * g.states.len());
        row.push(Value::Int8(g.rows));
        row.push(Value::Int8(g.keys.len() as i64));
        row.extend(g.keys.iter().cloned());
        for s in &g.states {
            s.encode(&mut row);
        }
        encode_row(&row)
    }

    fn decode_group(&self, bytes: &[u8]) -> Result<Group> {
        let corrupt = || Error::Expr(rivulet_expr::Error::Corrupted("aggregate group"));
        let mut it = decode_row(bytes)?.into_iter();
        let (Some(Value::Int8(rows)), Some(Value::Int8(nkeys))) = (it.next(), it.next()) else {
            return Err(corrupt());
        };
        let keys: Row = it.by_ref().take(nkeys.max(0) as usize).collect();
        if keys.len() != nkeys.max(0) as usize {
            return Err(corrupt());
        }
        let mut states = Vec::with_capacity(self.aggs.len());
        for call in &self.aggs {
            states.push(State::decode(&initial(call), &mut it)?);
        }
        Ok(Group { keys, rows, states })
    }

    /// The group under `gk` as stored, or a new one with key values `keys`.
    fn load(&self, st: &mut dyn StateStore, gk: &[u8], keys: Row) -> Result<Group> {
        match st.get(&self.group_state_key(gk))? {
            Some(bytes) => self.decode_group(&bytes),
            None => Ok(self.new_group(keys)),
        }
    }

    /// The output row of a group, or `None` if it has no rows (and is not
    /// the global group).
    fn output(&self, g: &Group) -> Option<Row> {
        if g.rows <= 0 && !self.global() {
            return None;
        }
        let mut row = g.keys.clone();
        row.extend(g.states.iter().zip(&self.aggs).map(|(s, c)| s.result(c)));
        Some(row)
    }

    /// The index in `touched` of `row`'s group, loading the group first if
    /// the batch has not touched it yet (`last` is the previous row's).
    /// `gk` is scratch space for the encoded group key.
    #[allow(clippy::too_many_arguments)]
    fn touch(
        &self,
        touched: &mut Vec<Touched>,
        index: &mut FxHashMap<Vec<u8>, usize>,
        last: Option<usize>,
        row: &[Value],
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
        gk: &mut Vec<u8>,
    ) -> Result<usize> {
        // Key values borrowed where they can be: only a group the batch
        // has not touched yet needs copies of them.
        let keys: Vec<Cow<'_, Value>> = self
            .group_keys
            .iter()
            .map(|k| ctx.eval_cow(k, row))
            .collect();
        gk.clear();
        keys.iter().for_each(|v| encode_value_key(gk, v));
        // Consecutive rows often share a group.
        if let Some(t) = last.filter(|&t| touched[t].gk == *gk) {
            return Ok(t);
        }
        if let Some(&t) = index.get(gk.as_slice()) {
            return Ok(t);
        }
        let keys: Row = keys.into_iter().map(Cow::into_owned).collect();
        let gk = gk.clone();
        let group = self.load(st, &gk, keys)?;
        let before = self.output(&group);
        index.insert(gk.clone(), touched.len());
        touched.push(Touched {
            gk,
            before,
            group,
            rescan: Vec::new(),
        });
        Ok(touched.len() - 1)
    }

    fn apply(
        &self,
        changes: &[Change],
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
    ) -> Result<Vec<Change>> {
        let mut touched: Vec<Touched> = Vec::new();
        let mut index: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
        let mut last: Option<usize> = None;
        let mut gk = Vec::new();
        // Net multiplicity change of each (group, aggregate, value key), per
        // exact representation of the value (`12.5` and `12.50` share a key).
        let mut deltas: FxHashMap<(usize, usize, Vec<u8>), Reps> = FxHashMap::default();
        for c in changes {
            for (row, sign) in [(&c.old, -1i64), (&c.new, 1)] {
                let Some(row) = row else { continue };
                // Without GROUP BY every row is in the one group.
                let known = if self.group_keys.is_empty() {
                    last
                } else {
                    None
                };
                let t = match known {
                    Some(t) => t,
                    None => self.touch(&mut touched, &mut index, last, row, ctx, st, &mut gk)?,
                };
                last = Some(t);
                let group = &mut touched[t].group;
                group.rows += sign;
                for (i, call) in self.aggs.iter().enumerate() {
                    // A numeric sum of a JSON number skips building it.
                    if let (Some(e), false) = (&call.arg, uses_multiset(call)) {
                        match e.eval_json_decimal(row) {
                            Some(None) => continue,
                            Some(Some((units, scale)))
                                if group.states[i].update_decimal(units, scale, sign) =>
                            {
                                continue
                            }
                            _ => {}
                        }
                    }
                    let v = match &call.arg {
                        Some(e) => ctx.eval_cow(e, row),
                        None => Cow::Owned(Value::Null),
                    };
                    if !uses_multiset(call) {
                        group.states[i].update(&v, sign);
                    } else if !v.is_null() {
                        let v = v.into_owned();
                        let mut vk = Vec::new();
                        encode_value_ordered(&mut vk, &v);
                        let d = deltas.entry((t, i, vk)).or_default();
                        match d.iter_mut().find(|(r, _)| *r == v) {
                            Some(e) => e.1 += sign,
                            None => d.push((v, sign)),
                        }
                    }
                }
            }
        }
        for ((t, i, vk), reps) in deltas {
            self.settle(st, &mut touched[t], i, &vk, reps)?;
        }
        let mut out = Vec::with_capacity(touched.len());
        for mut t in touched {
            for &i in &t.rescan {
                t.group.states[i] = State::Extreme(self.extreme(st, &t.gk, i)?);
            }
            let key = self.group_state_key(&t.gk);
            if t.group.rows <= 0 && !self.global() {
                st.delete(key);
            } else {
                st.put(key, self.encode_group(&t.group));
            }
            let after = self.output(&t.group);
            if t.before != after {
                out.push(Change {
                    key: t.gk,
                    old: t.before,
                    new: after,
                });
            }
        }
        Ok(out)
    }

    /// Applies net multiplicity changes to one multiset entry and, where
    /// the set of distinct values (or a value's representative) changed, to
    /// the aggregate's state.
    fn settle(
        &self,
        st: &mut dyn StateStore,
        t: &mut Touched,
        agg: usize,
        vk: &[u8],
        deltas: Reps,
    ) -> Result<()> {
        let mut key = self.multiset_prefix(&t.gk, agg);
        key.extend_from_slice(vk);
        let mut reps = match st.get(&key)? {
            Some(bytes) => decode_reps(&bytes)?,
            None => Reps::new(),
        };
        let before = reps.first().map(|(v, _)| v.clone());
        for (v, d) in deltas {
            if d != 0 {
                add_rep(&mut reps, v, d);
            }
        }
        let after = reps.first().map(|(v, _)| v.clone());
        if reps.is_empty() {
            st.delete(key);
        } else {
            st.put(key, encode_reps(&reps));
        }
        let call = &self.aggs[agg];
        match &mut t.group.states[agg] {
            State::Extreme(best) => {
                let mut best_key = Vec::new();
                if !best.is_null() {
                    encode_value_ordered(&mut best_key, best);
                }
                if !best.is_null() && best_key == vk {
                    // The extreme's own entry changed: keep a live
                    // representative, or find the next extreme.
                    match after {
                        Some(v) => *best = v,
                        None => t.rescan.push(agg),
                    }
                } else if let (None, Some(v)) = (&before, after) {
                    let better = best.is_null()
                        || if call.kind == AggKind::Min {
                            vk < best_key.as_slice()
                        } else {
                            vk > best_key.as_slice()
                        };
                    if better {
                        *best = v;
                    }
                }
            }
            state => {
                if before != after {
                    if let Some(v) = &before {
                        state.update(v, -1);
                    }
                    if let Some(v) = &after {
                        state.update(v, 1);
                    }
                }
            }
        }
        Ok(())
    }

    /// The least (`min`) or greatest (`max`) value in a multiset, NULL if
    /// it is empty.
    fn extreme(&self, st: &mut dyn StateStore, gk: &[u8], agg: usize) -> Result<Value> {
        let rev = self.aggs[agg].kind == AggKind::Max;
        let mut found: Option<Vec<u8>> = None;
        st.scan(&self.multiset_prefix(gk, agg), rev, &mut |_, v| {
            found = Some(v.to_vec());
            false
        })?;
        match found {
            None => Ok(Value::Null),
            Some(bytes) => Ok(decode_reps(&bytes)?
                .into_iter()
                .next()
                .map_or(Value::Null, |(v, _)| v)),
        }
    }

    pub(super) fn init(&self, ctx: &mut EvalCtx, st: &mut dyn StateStore) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        if self.global() {
            let g = self.new_group(Vec::new());
            out.push(Change {
                key: Vec::new(),
                old: None,
                new: self.output(&g),
            });
            st.put(self.group_state_key(&[]), self.encode_group(&g));
        }
        let c = self.input.init(ctx, st)?;
        out.extend(self.apply(&c, ctx, st)?);
        Ok(out)
    }

    pub(super) fn push(
        &self,
        rel: u64,
        changes: &[Change],
        ctx: &mut EvalCtx,
        st: &mut dyn StateStore,
    ) -> Result<Vec<Change>> {
        let c = self.input.push(rel, changes, ctx, st)?;
        if c.is_empty() {
            return Ok(Vec::new());
        }
        self.apply(&c, ctx, st)
    }

    /// Applies what the input held back until its end.
    pub(super) fn finish(&self, ctx: &mut EvalCtx, st: &mut dyn StateStore) -> Result<Vec<Change>> {
        let c = self.input.finish(ctx, st)?;
        if c.is_empty() {
            return Ok(Vec::new());
        }
        self.apply(&c, ctx, st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemState;

    fn change(k: u8, old: Option<&[i32]>, new: Option<&[i32]>) -> Change {
        let row = |v: &[i32]| v.iter().map(|x| Value::Int4(*x)).collect::<Row>();
        Change {
            key: vec![k],
            old: old.map(row),
            new: new.map(row),
        }
    }
    fn show(changes: &[Change]) -> Vec<String> {
        changes.iter().map(ToString::to_string).collect()
    }
    fn call(kind: AggKind, distinct: bool) -> AggCall {
        let output_type = match kind {
            AggKind::CountStar | AggKind::Count => DataType::Int8,
            AggKind::Sum => DataType::Int8,
            _ => DataType::Int4,
        };
        AggCall {
            kind,
            arg: (kind != AggKind::CountStar).then_some(Expr::Column(1)),
            distinct,
            input_type: DataType::Int4,
            output_type,
        }
    }
    fn table() -> Vec<u8> {
        rivulet_storage::keys::state_table(1, 0)
    }

    /// `SELECT #0, count(*), min(#1), max(#1), count(DISTINCT #1), sum(#1) GROUP BY #0`
    fn agg() -> Aggregate {
        Aggregate::new(
            Node::Scan(1),
            vec![Expr::Column(0)],
            vec![
                call(AggKind::CountStar, false),
                call(AggKind::Min, false),
                call(AggKind::Max, false),
                call(AggKind::Count, true),
                call(AggKind::Sum, false),
            ],
            table(),
        )
    }

    #[test]
    fn extremes_survive_removal_of_the_current_extreme() {
        let a = agg();
        let mut st = MemState::new();
        let mut ctx = EvalCtx::strict();
        assert_eq!(
            show(
                &a.push(
                    1,
                    &[
                        change(1, None, Some(&[1, 5])),
                        change(2, None, Some(&[1, 9])),
                        change(3, None, Some(&[1, 5]))
                    ],
                    &mut ctx,
                    &mut st
                )
                .unwrap()
            ),
            vec!["+ 1, 3, 5, 9, 2, 19"]
        );
        // Remove the max: the next largest takes over.
        assert_eq!(
            show(
                &a.push(1, &[change(2, Some(&[1, 9]), None)], &mut ctx, &mut st)
                    .unwrap()
            ),
            vec!["- 1, 3, 5, 9, 2, 19\n+ 1, 2, 5, 5, 1, 10"]
        );
        // Remove one copy of the min: it stays (another copy remains).
        assert_eq!(
            show(
                &a.push(1, &[change(1, Some(&[1, 5]), None)], &mut ctx, &mut st)
                    .unwrap()
            ),
            vec!["- 1, 2, 5, 5, 1, 10\n+ 1, 1, 5, 5, 1, 5"]
        );
        // An update moving the last row to another group.
        assert_eq!(
            show(
                &a.push(
                    1,
                    &[change(3, Some(&[1, 5]), Some(&[2, 7]))],
                    &mut ctx,
                    &mut st
                )
                .unwrap()
            ),
            vec!["- 1, 1, 5, 5, 1, 5", "+ 2, 1, 7, 7, 1, 7"]
        );
    }

    #[test]
    fn global_aggregate_always_has_a_row() {
        let a = Aggregate::new(
            Node::Scan(1),
            vec![],
            vec![call(AggKind::CountStar, false), call(AggKind::Sum, false)],
            table(),
        );
        let mut ctx = EvalCtx::strict();
        let mut st = MemState::new();
        assert_eq!(show(&a.init(&mut ctx, &mut st).unwrap()), vec!["+ 0, NULL"]);
        assert_eq!(
            show(
                &a.push(1, &[change(1, None, Some(&[0, 4]))], &mut ctx, &mut st)
                    .unwrap()
            ),
            vec!["- 0, NULL\n+ 1, 4"]
        );
        assert_eq!(
            show(
                &a.push(1, &[change(1, Some(&[0, 4]), None)], &mut ctx, &mut st)
                    .unwrap()
            ),
            vec!["- 1, 4\n+ 0, NULL"]
        );
    }

    #[test]
    fn numeric_sum_keeps_the_scale_of_live_inputs() {
        // SELECT sum(#1) over (k, x numeric), as after PRIMARY KEY overwrites.
        let call = AggCall {
            kind: AggKind::Sum,
            arg: Some(Expr::Column(1)),
            distinct: false,
            input_type: DataType::Numeric,
            output_type: DataType::Numeric,
        };
        let a = Aggregate::new(Node::Scan(1), vec![], vec![call], table());
        let mut ctx = EvalCtx::strict();
        let mut st = MemState::new();
        let n = |s: &str| Value::Numeric(Numeric::parse(s).unwrap());
        let ch = |k: u8, old: Option<&str>, new: Option<&str>| Change {
            key: vec![k],
            old: old.map(|x| vec![Value::Int4(k as i32), n(x)]),
            new: new.map(|x| vec![Value::Int4(k as i32), n(x)]),
        };
        a.init(&mut ctx, &mut st).unwrap();
        let step = |c: Change, st: &mut MemState, ctx: &mut EvalCtx| {
            show(&a.push(1, &[c], ctx, st).unwrap())
        };
        assert_eq!(
            step(ch(1, None, Some("1")), &mut st, &mut ctx),
            vec!["- NULL\n+ 1"]
        );
        assert_eq!(
            step(ch(2, None, Some("12.5")), &mut st, &mut ctx),
            vec!["- 1\n+ 13.5"]
        );
        // 12.5 is overwritten by 20: recomputation gives 21, not 21.0.
        assert_eq!(
            step(ch(2, Some("12.5"), Some("20")), &mut st, &mut ctx),
            vec!["- 13.5\n+ 21"]
        );
        assert_eq!(
            step(ch(3, None, Some("0.250")), &mut st, &mut ctx),
            vec!["- 21\n+ 21.250"]
        );
        assert_eq!(
            step(ch(3, Some("0.250"), None), &mut st, &mut ctx),
            vec!["- 21.250\n+ 21"]
        );
    }
}
