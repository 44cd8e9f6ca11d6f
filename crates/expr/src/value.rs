//! Runtime values and their PostgreSQL text forms.

use std::cmp::Ordering;
use std::fmt::Write;

use std::sync::Arc;

use crate::{format_date, format_timestamptz, DataType, Interval, Jsonb, Numeric, RegKind};

/// A single SQL value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A `boolean`.
    Bool(bool),
    /// An `integer`.
    Int4(i32),
    /// A `bigint`.
    Int8(i64),
    /// A `double precision`.
    Float8(f64),
    /// A `numeric`.
    Numeric(Numeric),
    /// A `text`.
    Text(String),
    /// A `bytea`.
    Bytea(Vec<u8>),
    /// A `jsonb` document.
    Jsonb(Jsonb),
    /// Microseconds since the Unix epoch, UTC.
    Timestamptz(i64),
    /// An `interval`.
    Interval(Interval),
    /// A `date`: days since 1970-01-01.
    Date(i32),
    /// A one-dimensional array (query results only).
    Array(Vec<Value>),
    /// An `oid`.
    Oid(u32),
    /// An OID alias (`regclass`, ...) with the name it prints as, looked
    /// up in the catalog when the value was made (the number for an OID
    /// that names nothing).
    Reg(RegKind, u32, Arc<str>),
    /// A composite value: its fields in order (query results only).
    Record(Vec<Value>),
}

/// A row of values, in column order.
pub type Row = Vec<Value>;

impl Value {
    /// Whether this is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value's type; `Unknown` for NULL.
    pub fn data_type(&self) -> DataType {
        match self {
            Value::Null => DataType::Unknown,
            Value::Bool(_) => DataType::Boolean,
            Value::Int4(_) => DataType::Int4,
            Value::Int8(_) => DataType::Int8,
            Value::Float8(_) => DataType::Float8,
            Value::Numeric(_) => DataType::Numeric,
            Value::Text(_) => DataType::Text,
            Value::Bytea(_) => DataType::Bytea,
            Value::Jsonb(_) => DataType::Jsonb,
            Value::Timestamptz(_) => DataType::Timestamptz,
            Value::Interval(_) => DataType::Interval,
            Value::Date(_) => DataType::Date,
            Value::Oid(_) => DataType::Oid,
            Value::Reg(k, ..) => DataType::Reg(*k),
            // The field names are the expression's, known when it is bound.
            Value::Record(_) => DataType::Record(&[]),
            Value::Array(elems) => DataType::array_of(
                elems
                    .iter()
                    .map(Value::data_type)
                    .find(|t| *t != DataType::Unknown)
                    .unwrap_or(DataType::Text),
            ),
        }
    }

    /// PostgreSQL's text output for the value, or `None` for NULL.
    pub fn to_pg_text(&self) -> Option<String> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(b) => if *b { "t" } else { "f" }.to_string(),
            Value::Int4(v) => v.to_string(),
            Value::Int8(v) => v.to_string(),
            Value::Float8(v) => format_float8(*v),
            Value::Numeric(n) => n.to_string(),
            Value::Text(s) => s.clone(),
            Value::Bytea(b) => format_bytea(b),
            Value::Jsonb(j) => j.to_string(),
            Value::Timestamptz(t) => format_timestamptz(*t),
            Value::Interval(i) => i.to_string(),
            Value::Date(d) => format_date(*d),
            Value::Array(elems) => format_array(elems),
            Value::Oid(o) => o.to_string(),
            Value::Reg(_, _, name) => name.to_string(),
            Value::Record(fields) => format_record(fields),
        })
    }

    /// Estimated bytes the value occupies: its own size plus what it owns
    /// on the heap (a document sharing a storage block counts its length).
    pub fn approx_size(&self) -> usize {
        std::mem::size_of::<Value>()
            + match self {
                Value::Numeric(n) => n.heap_size(),
                Value::Text(s) => s.len(),
                Value::Bytea(b) => b.len(),
                Value::Jsonb(j) => j.as_bytes().len(),
                Value::Array(elems) | Value::Record(elems) => {
                    elems.iter().map(Value::approx_size).sum()
                }
                Value::Reg(_, _, name) => name.len(),
                _ => 0,
            }
    }

    /// Compares two non-null values of the same type, as PostgreSQL's btree
    /// operators do. Values of different types compare by type (the binder
    /// casts both sides to one type before comparing, so this is a fallback).
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Null, _) => Ordering::Greater,
            (_, Value::Null) => Ordering::Less,
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Int4(a), Value::Int4(b)) => a.cmp(b),
            (Value::Int8(a), Value::Int8(b)) => a.cmp(b),
            (Value::Float8(a), Value::Float8(b)) => float_cmp(*a, *b),
            (Value::Numeric(a), Value::Numeric(b)) => a.total_cmp(b),
            (Value::Text(a), Value::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Value::Bytea(a), Value::Bytea(b)) => a.cmp(b),
            (Value::Jsonb(a), Value::Jsonb(b)) => a.total_cmp(b),
            (Value::Timestamptz(a), Value::Timestamptz(b)) => a.cmp(b),
            (Value::Interval(a), Value::Interval(b)) => a.total_cmp(b),
            (Value::Date(a), Value::Date(b)) => a.cmp(b),
            (Value::Oid(a) | Value::Reg(_, a, _), Value::Oid(b) | Value::Reg(_, b, _)) => a.cmp(b),
            // Element by element, a shorter prefix first (PostgreSQL's
            // array order; records compare field by field).
            (Value::Array(a), Value::Array(b)) | (Value::Record(a), Value::Record(b)) => a
                .iter()
                .zip(b)
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or_else(|| a.len().cmp(&b.len())),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

impl Value {
    /// An order among values of different types (a fallback; see
    /// [`Value::total_cmp`]).
    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int4(_) => 2,
            Value::Int8(_) => 3,
            Value::Float8(_) => 4,
            Value::Numeric(_) => 5,
            Value::Text(_) => 6,
            Value::Bytea(_) => 7,
            Value::Jsonb(_) => 8,
            Value::Timestamptz(_) => 9,
            Value::Interval(_) => 10,
            Value::Date(_) => 11,
            Value::Array(_) => 12,
            Value::Oid(_) | Value::Reg(..) => 13,
            Value::Record(_) => 14,
        }
    }
}

/// An array's text form: `{1,2,NULL}`, elements double-quoted where they
/// are empty, contain a delimiter, quote, backslash, brace or space, or
/// spell NULL (as PostgreSQL's array_out does).
fn format_array(elems: &[Value]) -> String {
    let mut s = String::from("{");
    for (i, e) in elems.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match e.to_pg_text() {
            None => s.push_str("NULL"),
            Some(t) => {
                let quote = t.is_empty()
                    || t.eq_ignore_ascii_case("null")
                    || t.chars().any(|c| {
                        matches!(c, ',' | '"' | '\\' | '{' | '}') || c.is_ascii_whitespace()
                    });
                if quote {
                    s.push('"');
                    for c in t.chars() {
                        if c == '"' || c == '\\' {
                            s.push('\\');
                        }
                        s.push(c);
                    }
                    s.push('"');
                } else {
                    s.push_str(&t);
                }
            }
        }
    }
    s.push('}');
    s
}

/// A record's text form, as PostgreSQL's record_out writes it: `(1,a)`,
/// a NULL field empty, a field double-quoted where it is empty or holds a
/// comma, parenthesis, quote, backslash or space (quotes and backslashes
/// doubled).
fn format_record(fields: &[Value]) -> String {
    let mut s = String::from("(");
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let Some(t) = f.to_pg_text() else {
            continue;
        };
        let quote = t.is_empty()
            || t.chars()
                .any(|c| matches!(c, ',' | '"' | '\\' | '(' | ')') || c.is_ascii_whitespace());
        if quote {
            s.push('"');
            for c in t.chars() {
                if c == '"' || c == '\\' {
                    s.push(c);
                }
                s.push(c);
            }
            s.push('"');
        } else {
            s.push_str(&t);
        }
    }
    s.push(')');
    s
}

/// PostgreSQL orders NaN above every other float and treats -0 = 0.
fn float_cmp(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// `bytea` output in PostgreSQL's default hex format: `\x` then hex digits.
fn format_bytea(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + b.len() * 2);
    s.push_str("\\x");
    for byte in b {
        // Writing to a String cannot fail.
        let _ = write!(s, "{byte:02x}");
    }
    s
}

/// `float8` output as PostgreSQL 15 prints it (shortest round-trip digits,
/// `%g`-style exponent when the exponent is below -4 or at least 15).
fn format_float8(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // `{:e}` gives the shortest round-trip digits: "d.ddde±x".
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(-4..15).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    } else if exp < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float8_text_matches_postgres() {
        // Expected values from PostgreSQL 15 (extra_float_digits = 1).
        let cases = [
            (1.0, "1"),
            (0.1, "0.1"),
            (1.5e15, "1.5e+15"),
            (123456789012345.0, "123456789012345"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (1e100, "1e+100"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (1.0 / 3.0, "0.3333333333333333"),
        ];
        for (v, s) in cases {
            assert_eq!(format_float8(v), s);
        }
    }

    #[test]
    fn bytea_hex() {
        assert_eq!(format_bytea(&[0xde, 0xad, 0x01]), "\\xdead01");
        assert_eq!(format_bytea(&[]), "\\x");
    }
}
