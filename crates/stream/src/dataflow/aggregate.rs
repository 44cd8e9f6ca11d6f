//! Aggregate: one row per group — its key values, then each aggregate —
//! maintained under inserts and deletes. `count`, `sum`, `avg` and the
//! boolean aggregates keep running totals; `min`, `max` and every DISTINCT
//! aggregate keep a multiset of values, so removing the current extreme
//! (or the last copy of a distinct value) is exact. A group whose last row
//! leaves disappears, except the single group of an aggregate without
//! GROUP BY, which always exists.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use rivulet_catalog::{AggCall, AggKind};
use rivulet_expr::{encode_value_key, to_numeric, DataType, Expr, Numeric, Row, Value};

use super::{Change, EvalCtx, Node};

/// A value ordered as SQL orders it (the values of one aggregate argument
/// all have one type).
#[derive(Debug, Clone)]
struct Ordered(Value);

impl PartialEq for Ordered {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ordered {}
impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A running sum.
#[derive(Debug, Clone)]
enum Sum {
    Int(i128),
    Num(Numeric),
    Float(f64),
}

/// The state of one aggregate in one group.
#[derive(Debug, Clone)]
enum State {
    /// Rows, for `count(*)`.
    Rows(i64),
    /// Non-NULL values, for `count(x)`.
    Count(i64),
    /// Sum and count of non-NULL values (`sum`, `avg`).
    Sum(Sum, i64),
    /// Counts of true and false values.
    Bools(i64, i64),
    /// Every non-NULL value with its multiplicity (`min`, `max`, DISTINCT).
    Values(BTreeMap<Ordered, i64>),
}

fn initial(call: &AggCall) -> State {
    if call.distinct || matches!(call.kind, AggKind::Min | AggKind::Max) {
        return State::Values(BTreeMap::new());
    }
    match call.kind {
        AggKind::CountStar => State::Rows(0),
        AggKind::Count => State::Count(0),
        AggKind::Sum | AggKind::Avg => State::Sum(
            match call.input_type {
                DataType::Float8 => Sum::Float(0.0),
                DataType::Numeric => Sum::Num(Numeric::from(0)),
                _ => Sum::Int(0),
            },
            0,
        ),
        _ => State::Bools(0, 0),
    }
}

impl State {
    /// Adds (`sign` = 1) or removes (`sign` = -1) one input value.
    fn update(&mut self, v: &Value, sign: i64) {
        match self {
            State::Rows(n) => *n += sign,
            _ if v.is_null() => {}
            State::Count(n) => *n += sign,
            State::Sum(sum, n) => {
                *n += sign;
                match (sum, v) {
                    (Sum::Int(s), Value::Int4(x)) => *s += sign as i128 * *x as i128,
                    (Sum::Int(s), Value::Int8(x)) => *s += sign as i128 * *x as i128,
                    (Sum::Num(s), x) => {
                        if let Some(x) = to_numeric(x) {
                            *s = if sign > 0 { s.add(&x) } else { s.sub(&x) };
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
            State::Values(m) => {
                let e = m.entry(Ordered(v.clone())).or_insert(0);
                *e += sign;
                if *e <= 0 {
                    m.remove(&Ordered(v.clone()));
                }
            }
        }
    }

    /// The aggregate's current result.
    fn result(&self, call: &AggCall) -> Value {
        let numeric_sum = |s: &Sum| match s {
            Sum::Int(i) => Numeric::parse(&i.to_string()).unwrap_or_else(|_| Numeric::nan()),
            Sum::Num(n) => n.clone(),
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
            State::Values(m) => {
                if !call.distinct {
                    let pick = if call.kind == AggKind::Min {
                        m.keys().next()
                    } else {
                        m.keys().next_back()
                    };
                    return pick.map_or(Value::Null, |v| v.0.clone());
                }
                if call.kind == AggKind::Count {
                    return Value::Int8(m.len() as i64);
                }
                // Another DISTINCT aggregate: fold the distinct values afresh.
                let mut plain = call.clone();
                plain.distinct = false;
                let mut s = initial(&plain);
                for v in m.keys() {
                    s.update(&v.0, 1);
                }
                s.result(&plain)
            }
        }
    }
}

/// One group: its key values, row count and aggregate states.
#[derive(Debug, Clone)]
struct Group {
    keys: Row,
    rows: i64,
    states: Vec<State>,
}

pub(super) struct Aggregate {
    input: Node,
    group_keys: Vec<Expr>,
    aggs: Vec<AggCall>,
    groups: HashMap<Vec<u8>, Group>,
}

impl Aggregate {
    pub(super) fn new(input: Node, group_keys: Vec<Expr>, aggs: Vec<AggCall>) -> Aggregate {
        Aggregate {
            input,
            group_keys,
            aggs,
            groups: HashMap::new(),
        }
    }

    fn global(&self) -> bool {
        self.group_keys.is_empty()
    }

    fn new_group(&self, keys: Row) -> Group {
        Group {
            keys,
            rows: 0,
            states: self.aggs.iter().map(initial).collect(),
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

    fn apply(&mut self, changes: &[Change], ctx: &mut EvalCtx) -> Vec<Change> {
        // Each touched group's output before this batch, in touch order.
        let mut touched: Vec<(Vec<u8>, Option<Row>)> = Vec::new();
        let mut seen: std::collections::HashSet<Vec<u8>> = std::collections::HashSet::new();
        for c in changes {
            for (row, sign) in [(&c.old, -1i64), (&c.new, 1)] {
                let Some(row) = row else { continue };
                let keys: Row = self.group_keys.iter().map(|k| ctx.eval(k, row)).collect();
                let mut gk = Vec::new();
                keys.iter().for_each(|v| encode_value_key(&mut gk, v));
                if !self.groups.contains_key(&gk) {
                    let g = self.new_group(keys);
                    self.groups.insert(gk.clone(), g);
                }
                if seen.insert(gk.clone()) {
                    let before = self.groups.get(&gk).and_then(|g| self.output(g));
                    touched.push((gk.clone(), before));
                }
                let args: Vec<Value> = self
                    .aggs
                    .iter()
                    .map(|a| a.arg.as_ref().map_or(Value::Null, |e| ctx.eval(e, row)))
                    .collect();
                if let Some(g) = self.groups.get_mut(&gk) {
                    g.rows += sign;
                    for (s, v) in g.states.iter_mut().zip(&args) {
                        s.update(v, sign);
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(touched.len());
        for (gk, before) in touched {
            let after = self.groups.get(&gk).and_then(|g| self.output(g));
            if after.is_none() {
                self.groups.remove(&gk);
            }
            if before != after {
                out.push(Change {
                    key: gk,
                    old: before,
                    new: after,
                });
            }
        }
        out
    }

    pub(super) fn init(&mut self, ctx: &mut EvalCtx) -> Vec<Change> {
        let mut out = Vec::new();
        if self.global() {
            let g = self.new_group(Vec::new());
            out.push(Change {
                key: Vec::new(),
                old: None,
                new: self.output(&g),
            });
            self.groups.insert(Vec::new(), g);
        }
        let c = self.input.init(ctx);
        out.extend(self.apply(&c, ctx));
        out
    }

    pub(super) fn push(&mut self, rel: u64, changes: &[Change], ctx: &mut EvalCtx) -> Vec<Change> {
        let c = self.input.push(rel, changes, ctx);
        if c.is_empty() {
            return Vec::new();
        }
        self.apply(&c, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        )
    }

    #[test]
    fn extremes_survive_removal_of_the_current_extreme() {
        let mut a = agg();
        let mut ctx = EvalCtx::strict();
        assert_eq!(
            show(&a.push(
                1,
                &[
                    change(1, None, Some(&[1, 5])),
                    change(2, None, Some(&[1, 9])),
                    change(3, None, Some(&[1, 5]))
                ],
                &mut ctx
            )),
            vec!["+ 1, 3, 5, 9, 2, 19"]
        );
        // Remove the max: the next largest takes over.
        assert_eq!(
            show(&a.push(1, &[change(2, Some(&[1, 9]), None)], &mut ctx)),
            vec!["- 1, 3, 5, 9, 2, 19\n+ 1, 2, 5, 5, 1, 10"]
        );
        // Remove one copy of the min: it stays (another copy remains).
        assert_eq!(
            show(&a.push(1, &[change(1, Some(&[1, 5]), None)], &mut ctx)),
            vec!["- 1, 2, 5, 5, 1, 10\n+ 1, 1, 5, 5, 1, 5"]
        );
        // An update moving the last row to another group.
        assert_eq!(
            show(&a.push(1, &[change(3, Some(&[1, 5]), Some(&[2, 7]))], &mut ctx)),
            vec!["- 1, 1, 5, 5, 1, 5", "+ 2, 1, 7, 7, 1, 7"]
        );
    }

    #[test]
    fn global_aggregate_always_has_a_row() {
        let mut a = Aggregate::new(
            Node::Scan(1),
            vec![],
            vec![call(AggKind::CountStar, false), call(AggKind::Sum, false)],
        );
        let mut ctx = EvalCtx::strict();
        assert_eq!(show(&a.init(&mut ctx)), vec!["+ 0, NULL"]);
        assert_eq!(
            show(&a.push(1, &[change(1, None, Some(&[0, 4]))], &mut ctx)),
            vec!["- 0, NULL\n+ 1, 4"]
        );
        assert_eq!(
            show(&a.push(1, &[change(1, Some(&[0, 4]), None)], &mut ctx)),
            vec!["- 1, 4\n+ 0, NULL"]
        );
    }
}
