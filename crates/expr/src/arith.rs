//! Arithmetic with PostgreSQL's rules: integer overflow is an error,
//! integer division truncates, numeric is exact, division by zero is 22012.

use crate::{Error, Numeric, Result, Value};

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
    /// `&`, on integers.
    BitAnd,
    /// `|`, on integers.
    BitOr,
    /// `#`, on integers.
    BitXor,
    /// `<<`, an integer shifted by an `integer`.
    Shl,
    /// `>>`, an integer shifted by an `integer` (arithmetic).
    Shr,
}

impl ArithOp {
    /// The SQL spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Mod => "%",
            ArithOp::BitAnd => "&",
            ArithOp::BitOr => "|",
            ArithOp::BitXor => "#",
            ArithOp::Shl => "<<",
            ArithOp::Shr => ">>",
        }
    }

    /// Whether it is one of the bitwise operators (integers only).
    pub fn is_bitwise(self) -> bool {
        matches!(
            self,
            ArithOp::BitAnd | ArithOp::BitOr | ArithOp::BitXor | ArithOp::Shl | ArithOp::Shr
        )
    }
}

/// A bitwise operator on `integer` or `bigint` operands; shift counts
/// are taken modulo the width, as PostgreSQL's shifts do on the machines
/// it runs on.
fn bitwise(op: ArithOp, l: &Value, r: &Value) -> Option<Value> {
    Some(match (l, r) {
        (Value::Int4(a), Value::Int4(b)) => Value::Int4(match op {
            ArithOp::BitAnd => a & b,
            ArithOp::BitOr => a | b,
            ArithOp::BitXor => a ^ b,
            ArithOp::Shl => a.wrapping_shl(*b as u32),
            _ => a.wrapping_shr(*b as u32),
        }),
        (Value::Int8(a), Value::Int8(b)) => Value::Int8(match op {
            ArithOp::BitAnd => a & b,
            ArithOp::BitOr => a | b,
            ArithOp::BitXor => a ^ b,
            _ => return None,
        }),
        (Value::Int8(a), Value::Int4(b)) => Value::Int8(match op {
            ArithOp::Shl => a.wrapping_shl(*b as u32),
            ArithOp::Shr => a.wrapping_shr(*b as u32),
            _ => return None,
        }),
        _ => return None,
    })
}

fn int_op(op: ArithOp, a: i64, b: i64) -> Option<Option<i64>> {
    // Outer None: division by zero; inner None: overflow.
    Some(match op {
        ArithOp::Add => a.checked_add(b),
        ArithOp::Sub => a.checked_sub(b),
        ArithOp::Mul => a.checked_mul(b),
        ArithOp::Div if b == 0 => return None,
        ArithOp::Div => a.checked_div(b),
        ArithOp::Mod if b == 0 => return None,
        // i64::MIN % -1 is 0 in PostgreSQL, not an overflow.
        ArithOp::Mod => Some(a.checked_rem(b).unwrap_or(0)),
        // Routed to `bitwise` before.
        _ => None,
    })
}

/// Applies `op` to two values of the same numeric type (the binder casts
/// both operands to one type first). NULL on either side gives NULL.
pub fn arith(op: ArithOp, l: &Value, r: &Value) -> Result<Value> {
    match (op, l, r) {
        (_, Value::Null, _) | (_, _, Value::Null) => return Ok(Value::Null),
        (ArithOp::Add | ArithOp::Sub, Value::Timestamptz(_), Value::Interval(_))
        | (ArithOp::Add, Value::Interval(_), Value::Timestamptz(_))
        | (ArithOp::Sub, Value::Timestamptz(_), Value::Timestamptz(_))
        | (ArithOp::Add | ArithOp::Sub, Value::Interval(_), Value::Interval(_))
        | (ArithOp::Add | ArithOp::Sub, Value::Date(_), Value::Int4(_))
        | (ArithOp::Add, Value::Int4(_), Value::Date(_))
        | (ArithOp::Sub, Value::Date(_), Value::Date(_)) => return temporal(op, l, r),
        _ if op.is_bitwise() => return bitwise(op, l, r).ok_or_else(|| no_operator(op, l, r)),
        _ => {}
    }
    match (l, r) {
        (Value::Int4(a), Value::Int4(b)) => match int_op(op, *a as i64, *b as i64) {
            None => Err(Error::DivisionByZero),
            Some(v) => v
                .and_then(|v| i32::try_from(v).ok())
                .map(Value::Int4)
                .ok_or_else(|| Error::NumericValueOutOfRange("integer out of range".into())),
        },
        (Value::Int8(a), Value::Int8(b)) => match int_op(op, *a, *b) {
            None => Err(Error::DivisionByZero),
            Some(v) => v
                .map(Value::Int8)
                .ok_or_else(|| Error::NumericValueOutOfRange("bigint out of range".into())),
        },
        (Value::Numeric(a), Value::Numeric(b)) => {
            let overflow =
                || Error::NumericValueOutOfRange("value overflows numeric format".into());
            // A product has about as many integer digits as its factors
            // together: refuse before computing one far beyond the limit.
            if op == ArithOp::Mul && a.int_len() + b.int_len() > 131_073 {
                return Err(overflow());
            }
            let v = match op {
                ArithOp::Add => a.add(b),
                ArithOp::Sub => a.sub(b),
                ArithOp::Mul => a.mul(b),
                ArithOp::Div => a.div(b)?,
                ArithOp::Mod => a.rem(b)?,
                _ => return Err(no_operator(op, l, r)),
            };
            Ok(Value::Numeric(v.within_limits()?))
        }
        (Value::Float8(a), Value::Float8(b)) => {
            let v = match op {
                ArithOp::Add => a + b,
                ArithOp::Sub => a - b,
                ArithOp::Mul => a * b,
                ArithOp::Div if *b == 0.0 => return Err(Error::DivisionByZero),
                ArithOp::Div => a / b,
                _ => return Err(no_operator(op, l, r)),
            };
            if v.is_infinite() && a.is_finite() && b.is_finite() {
                return Err(Error::NumericValueOutOfRange(
                    "value out of range: overflow".into(),
                ));
            }
            if v == 0.0 && op == ArithOp::Mul && *a != 0.0 && *b != 0.0 {
                return Err(Error::NumericValueOutOfRange(
                    "value out of range: underflow".into(),
                ));
            }
            Ok(Value::Float8(v))
        }
        (a, b) => Err(no_operator(op, a, b)),
    }
}

fn no_operator(op: ArithOp, l: &Value, r: &Value) -> Error {
    Error::DatatypeMismatch(format!(
        "operator does not exist: {} {} {}",
        l.data_type(),
        op.symbol(),
        r.data_type()
    ))
}

/// `+` and `-` on dates, timestamps and intervals (the pairs [`arith`]
/// routes here).
fn temporal(op: ArithOp, l: &Value, r: &Value) -> Result<Value> {
    let date_range = || Error::FieldOutOfRange("date out of range".into());
    let sign = |i: &crate::Interval| match op {
        ArithOp::Sub => i.neg(),
        _ => Ok(*i),
    };
    Ok(match (l, r) {
        (Value::Timestamptz(t), Value::Interval(i)) => {
            Value::Timestamptz(sign(i)?.add_to_timestamp(*t)?)
        }
        (Value::Interval(i), Value::Timestamptz(t)) => Value::Timestamptz(i.add_to_timestamp(*t)?),
        (Value::Timestamptz(a), Value::Timestamptz(b)) => {
            Value::Interval(crate::Interval::between(*a, *b)?)
        }
        (Value::Interval(a), Value::Interval(b)) => Value::Interval(a.add(&sign(b)?)?),
        (Value::Date(d), Value::Int4(n)) => Value::Date(
            match op {
                ArithOp::Sub => d.checked_sub(*n),
                _ => d.checked_add(*n),
            }
            .ok_or_else(date_range)?,
        ),
        (Value::Int4(n), Value::Date(d)) => Value::Date(d.checked_add(*n).ok_or_else(date_range)?),
        (Value::Date(a), Value::Date(b)) => Value::Int4(a.checked_sub(*b).ok_or_else(date_range)?),
        _ => {
            return Err(Error::DatatypeMismatch(format!(
                "operator does not exist: {} {} {}",
                l.data_type(),
                op.symbol(),
                r.data_type()
            )))
        }
    })
}

/// Unary minus.
pub fn negate(v: &Value) -> Result<Value> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Int4(i) => Value::Int4(
            i.checked_neg()
                .ok_or_else(|| Error::NumericValueOutOfRange("integer out of range".into()))?,
        ),
        Value::Int8(i) => Value::Int8(
            i.checked_neg()
                .ok_or_else(|| Error::NumericValueOutOfRange("bigint out of range".into()))?,
        ),
        Value::Float8(f) => Value::Float8(-f),
        Value::Numeric(n) => Value::Numeric(n.neg()),
        Value::Interval(i) => Value::Interval(i.neg()?),
        other => {
            return Err(Error::DatatypeMismatch(format!(
                "operator does not exist: - {}",
                other.data_type()
            )))
        }
    })
}

/// `Numeric` helper for aggregates: a value of the numeric family as numeric.
pub fn to_numeric(v: &Value) -> Option<Numeric> {
    match v {
        Value::Int4(i) => Some(Numeric::from(*i as i64)),
        Value::Int8(i) => Some(Numeric::from(*i)),
        Value::Numeric(n) => Some(n.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_results_beyond_the_limits_are_refused() {
        // A 70,000-digit integer squared would have 140,000 digits: refused
        // before it is computed; doubled it is fine.
        let x = Value::Numeric(Numeric::parse(&"9".repeat(70_000)).unwrap());
        let e = arith(ArithOp::Mul, &x, &x).unwrap_err();
        assert_eq!(e.sqlstate(), "22003");
        assert_eq!(e.to_string(), "value overflows numeric format");
        assert!(arith(ArithOp::Add, &x, &x).is_ok());
    }

    #[test]
    fn integer_rules() {
        assert_eq!(
            arith(ArithOp::Div, &Value::Int4(7), &Value::Int4(2)),
            Ok(Value::Int4(3))
        );
        assert_eq!(
            arith(ArithOp::Div, &Value::Int4(-7), &Value::Int4(2)),
            Ok(Value::Int4(-3))
        );
        assert_eq!(
            arith(ArithOp::Mod, &Value::Int4(-7), &Value::Int4(2)),
            Ok(Value::Int4(-1))
        );
        assert_eq!(
            arith(ArithOp::Add, &Value::Int4(i32::MAX), &Value::Int4(1))
                .unwrap_err()
                .sqlstate(),
            "22003"
        );
        assert_eq!(
            arith(ArithOp::Div, &Value::Int8(1), &Value::Int8(0)),
            Err(Error::DivisionByZero)
        );
        assert_eq!(
            arith(ArithOp::Mod, &Value::Int8(i64::MIN), &Value::Int8(-1)),
            Ok(Value::Int8(0))
        );
        assert_eq!(
            arith(ArithOp::Add, &Value::Null, &Value::Int8(1)),
            Ok(Value::Null)
        );
    }
}
