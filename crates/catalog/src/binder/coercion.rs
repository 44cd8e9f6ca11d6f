//! Types and implicit casts: literal typing, the common type of two
//! operands, and the casts PostgreSQL inserts without being asked.

use rivulet_expr::{cast, DataType, Expr, Value};
use rivulet_sql::Literal;

use crate::{Error, Result};

/// Casts every expression to the common type of all (text if all unknown).
pub(crate) fn unify(items: Vec<(Expr, DataType)>, what: &str) -> Result<(Vec<Expr>, DataType)> {
    let mut ty = DataType::Unknown;
    // NULLs and string literals take the others' type.
    for (_, t) in items.iter().filter(|(_, t)| *t != DataType::Unknown) {
        ty = common_type(ty, *t).ok_or_else(|| {
            Error::DatatypeMismatch(format!("{what} types {ty} and {t} cannot be matched"))
        })?;
    }
    if ty == DataType::Unknown {
        ty = DataType::Text;
    }
    let out = items
        .into_iter()
        .map(|(e, t)| coerce(e, t, ty, ""))
        .collect::<Result<_>>()?;
    Ok((out, ty))
}

/// Types a literal: integers are `integer` if they fit, else `bigint`, else
/// `numeric`; other numbers `numeric`; strings `unknown` until context
/// decides.
pub(super) fn literal(l: &Literal) -> Result<(Expr, DataType)> {
    Ok(match l {
        Literal::Number(n) => {
            let integral = n.bytes().all(|b| b.is_ascii_digit() || b == b'-');
            let v = match (integral, n.parse::<i64>()) {
                (true, Ok(v)) => match i32::try_from(v) {
                    Ok(v) => Value::Int4(v),
                    Err(_) => Value::Int8(v),
                },
                _ => cast(Value::Text(n.clone()), DataType::Numeric)?,
            };
            let ty = v.data_type();
            (Expr::Literal(v), ty)
        }
        Literal::String(s) => (Expr::Literal(Value::Text(s.clone())), DataType::Unknown),
        Literal::Boolean(b) => (Expr::Literal(Value::Bool(*b)), DataType::Boolean),
        Literal::Null => (Expr::Literal(Value::Null), DataType::Unknown),
    })
}

/// Resolves a type name, ignoring modifiers such as `(10,2)`.
pub(crate) fn type_from_name(name: &str) -> Result<DataType> {
    let base = name.split('(').next().unwrap_or(name).trim();
    DataType::from_name(base)
        .ok_or_else(|| Error::UndefinedObject(format!("type \"{base}\" does not exist")))
}

/// The type two operands are compared or combined as, if any.
pub(crate) fn common_type(a: DataType, b: DataType) -> Option<DataType> {
    use DataType::Unknown;
    match (a, b) {
        _ if a == b => Some(if a == Unknown { DataType::Text } else { a }),
        (Unknown, t) | (t, Unknown) => Some(t),
        _ if a.is_numeric() && b.is_numeric() => Some(if a.numeric_rank() > b.numeric_rank() {
            a
        } else {
            b
        }),
        // A date compares with a timestamp as its midnight.
        (DataType::Date, DataType::Timestamptz) | (DataType::Timestamptz, DataType::Date) => {
            Some(DataType::Timestamptz)
        }
        // OIDs compare as OIDs, whatever alias or integer they come as.
        _ if DataType::oid_implicit(a, b) || DataType::oid_implicit(b, a) => Some(DataType::Oid),
        _ => None,
    }
}

/// Casts `e` (of type `from`) to `to` where PostgreSQL would do so
/// implicitly: literals of unknown type and numeric widening.
pub(crate) fn coerce(e: Expr, from: DataType, to: DataType, what: &str) -> Result<Expr> {
    if from == to {
        return Ok(e);
    }
    if from == DataType::Unknown
        || (from.is_numeric() && to.is_numeric() && from.numeric_rank() < to.numeric_rank())
        || (from == DataType::Date && to == DataType::Timestamptz)
        || DataType::oid_implicit(from, to)
    {
        return fold(Expr::Cast(Box::new(e), to));
    }
    Err(Error::DatatypeMismatch(if what.is_empty() {
        format!("cannot use {from} as {to}")
    } else {
        format!("{what} must be type {to}, not type {from}")
    }))
}

/// Evaluates a call whose arguments are all constants at bind time.
pub(super) fn fold_call(e: Expr) -> Result<Expr> {
    if let Expr::Func(f, args) = &e {
        if !f.is_volatile() && args.iter().all(|a| matches!(a, Expr::Literal(_))) {
            return Ok(Expr::Literal(e.eval(&[])?));
        }
    }
    Ok(e)
}

/// Evaluates a cast of a constant at bind time (so `'x'::jsonb` is parsed
/// once, and bad literals fail when the statement is analysed).
pub(super) fn fold(e: Expr) -> Result<Expr> {
    if let Expr::Cast(inner, _) = &e {
        if matches!(**inner, Expr::Literal(_)) {
            return Ok(Expr::Literal(e.eval(&[])?));
        }
    }
    Ok(e)
}
