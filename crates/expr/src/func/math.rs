//! Rounding and sign functions: `abs`, `sign`, `floor`, `ceil`/`ceiling`,
//! `round` and `trunc` over integers, `numeric` and `double precision`;
//! `mod`; and the `double precision` functions `sqrt`, `ln`,
//! `log`/`log10`, `exp`, `power`/`pow` and `pi`,
//! with PostgreSQL's result types (an integer argument rounds as `double
//! precision`; `round(x, n)` and `trunc(x, n)` are `numeric`) and its
//! rounding (numeric halves away from zero, floats to even).

use crate::numeric::Numeric;
use crate::{Error, Result, Value};

/// Which rounding function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// `floor`
    Floor,
    /// `ceil` / `ceiling`
    Ceil,
    /// `round`
    Round,
    /// `trunc`
    Trunc,
}

impl Rounding {
    /// The SQL name.
    pub fn name(self) -> &'static str {
        match self {
            Rounding::Floor => "floor",
            Rounding::Ceil => "ceil",
            Rounding::Round => "round",
            Rounding::Trunc => "trunc",
        }
    }
}

/// `floor`, `ceil`, `round` or `trunc` of one argument, and `round`/`trunc`
/// with a scale.
pub(super) fn round(how: Rounding, args: &[Value]) -> Result<Value> {
    let scale = match args.get(1) {
        Some(Value::Int4(s)) => Some(i64::from(*s)),
        _ => None,
    };
    Ok(match &args[0] {
        Value::Float8(f) => Value::Float8(match how {
            Rounding::Floor => f.floor(),
            Rounding::Ceil => f.ceil(),
            // rint(): halves to even, as PostgreSQL rounds floats.
            Rounding::Round => f.round_ties_even(),
            Rounding::Trunc => f.trunc(),
        }),
        Value::Numeric(n) => Value::Numeric(match how {
            Rounding::Floor => n.floor_or_ceil(false),
            Rounding::Ceil => n.floor_or_ceil(true),
            Rounding::Round => n.round_signed(scale.unwrap_or(0)),
            Rounding::Trunc => n.trunc_to(scale.unwrap_or(0)),
        }),
        other => {
            return Err(Error::DatatypeMismatch(format!(
                "{} expects a number, not {}",
                how.name(),
                other.data_type()
            )))
        }
    })
}

/// `abs(x)`: an integer's overflows as PostgreSQL's does (22003).
pub(super) fn abs(arg: &Value) -> Result<Value> {
    let overflow = || Error::NumericValueOutOfRange(format!("{} out of range", arg.data_type()));
    Ok(match arg {
        Value::Int4(i) => Value::Int4(i.checked_abs().ok_or_else(overflow)?),
        Value::Int8(i) => Value::Int8(i.checked_abs().ok_or_else(overflow)?),
        Value::Float8(f) => Value::Float8(f.abs()),
        Value::Numeric(n) if n.is_negative() => Value::Numeric(n.neg()),
        Value::Numeric(n) => Value::Numeric(n.clone()),
        other => {
            return Err(Error::DatatypeMismatch(format!(
                "abs expects a number, not {}",
                other.data_type()
            )))
        }
    })
}

/// `sign(x)`: -1, 0 or 1 of the argument's type.
pub(super) fn sign(arg: &Value) -> Result<Value> {
    Ok(match arg {
        Value::Float8(f) => Value::Float8(if *f > 0.0 {
            1.0
        } else if *f < 0.0 {
            -1.0
        } else {
            0.0
        }),
        Value::Numeric(n) => Value::Numeric(Numeric::from(if n.is_zero() {
            0
        } else if n.is_negative() {
            -1
        } else {
            1
        })),
        other => {
            return Err(Error::DatatypeMismatch(format!(
                "sign expects a number, not {}",
                other.data_type()
            )))
        }
    })
}

/// A `double precision` argument.
fn float(v: &Value) -> Result<f64> {
    match v {
        Value::Float8(f) => Ok(*f),
        other => Err(Error::DatatypeMismatch(format!(
            "expected double precision, got {}",
            other.data_type()
        ))),
    }
}

/// A float result, 22003 where PostgreSQL's would overflow.
fn finite(x: f64, input_finite: bool) -> Result<Value> {
    if x.is_infinite() && input_finite {
        return Err(Error::NumericValueOutOfRange(
            "value out of range: overflow".into(),
        ));
    }
    Ok(Value::Float8(x))
}

/// Which `double precision` function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatFn {
    /// `sqrt`
    Sqrt,
    /// `ln`
    Ln,
    /// `log` / `log10`
    Log10,
    /// `exp`
    Exp,
    /// `power` / `pow`
    Power,
}

impl FloatFn {
    /// The SQL name.
    pub fn name(self) -> &'static str {
        match self {
            FloatFn::Sqrt => "sqrt",
            FloatFn::Ln => "ln",
            FloatFn::Log10 => "log",
            FloatFn::Exp => "exp",
            FloatFn::Power => "power",
        }
    }
}

/// Evaluates a `double precision` function with PostgreSQL's errors.
pub(super) fn float_fn(f: FloatFn, args: &[Value]) -> Result<Value> {
    let x = float(&args[0])?;
    let log_of = |x: f64| -> Result<()> {
        if x == 0.0 {
            return Err(Error::LogarithmArgument(
                "cannot take logarithm of zero".into(),
            ));
        }
        if x < 0.0 {
            return Err(Error::LogarithmArgument(
                "cannot take logarithm of a negative number".into(),
            ));
        }
        Ok(())
    };
    match f {
        FloatFn::Sqrt => {
            if x < 0.0 {
                return Err(Error::PowerArgument(
                    "cannot take square root of a negative number".into(),
                ));
            }
            Ok(Value::Float8(x.sqrt()))
        }
        FloatFn::Ln => {
            log_of(x)?;
            Ok(Value::Float8(x.ln()))
        }
        FloatFn::Log10 => {
            log_of(x)?;
            Ok(Value::Float8(x.log10()))
        }
        FloatFn::Exp => finite(x.exp(), x.is_finite()),
        FloatFn::Power => {
            let y = float(&args[1])?;
            if x == 0.0 && y < 0.0 {
                return Err(Error::PowerArgument(
                    "zero raised to a negative power is undefined".into(),
                ));
            }
            if x < 0.0 && y.fract() != 0.0 {
                return Err(Error::PowerArgument(
                    "a negative number raised to a non-integer power yields a complex result"
                        .into(),
                ));
            }
            finite(x.powf(y), x.is_finite() && y.is_finite())
        }
    }
}

/// `mod(a, b)`: the remainder, as `a % b`.
pub(super) fn modulo(args: &[Value]) -> Result<Value> {
    crate::arith(crate::ArithOp::Mod, &args[0], &args[1])
}
