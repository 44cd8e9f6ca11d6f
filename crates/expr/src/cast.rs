//! Casts between SQL types, following PostgreSQL's `::` rules.
//!
//! Text to any type uses that type's input function and any type to text its
//! output function (PostgreSQL's I/O conversion casts); the numeric family
//! converts with range checks; jsonb scalars cast to the matching SQL type.

use crate::{parse_timestamptz, DataType, Error, JsonKind, Jsonb, Numeric, Result, Value};

/// Casts `value` to `to`. NULL casts to NULL of any type.
pub fn cast(value: Value, to: DataType) -> Result<Value> {
    if value.is_null() || value.data_type() == to || to == DataType::Unknown {
        return Ok(value);
    }
    let from = value.data_type();
    match (value, to) {
        (Value::Text(s), _) => parse_text(&s, to),
        (Value::Bool(b), DataType::Text) => {
            Ok(Value::Text(if b { "true" } else { "false" }.into()))
        }
        (v, DataType::Text) => Ok(Value::Text(v.to_pg_text().unwrap_or_default())),
        (Value::Array(elems), DataType::Array(e)) => elems
            .into_iter()
            .map(|v| cast(v, *e))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array),
        (Value::Jsonb(j), _) => from_jsonb(j, to),
        (Value::Int4(v), DataType::Oid | DataType::Reg(_)) => Ok(oid_as(v as u32, to)),
        (Value::Int4(v), _) => from_i64(v as i64, to, from),
        (Value::Int8(v), DataType::Oid | DataType::Reg(_)) => {
            let oid = oid_of_i64(v)
                .ok_or_else(|| Error::NumericValueOutOfRange("OID out of range".into()))?;
            Ok(oid_as(oid, to))
        }
        (Value::Int8(v), _) => from_i64(v, to, from),
        (Value::Oid(o) | Value::Reg(_, o, _), DataType::Int4) => Ok(Value::Int4(o as i32)),
        (Value::Oid(o) | Value::Reg(_, o, _), DataType::Int8) => Ok(Value::Int8(o.into())),
        (Value::Oid(o) | Value::Reg(_, o, _), DataType::Oid | DataType::Reg(_)) => {
            Ok(oid_as(o, to))
        }
        (Value::Bool(b), DataType::Int4) => Ok(Value::Int4(b as i32)),
        (Value::Float8(f), DataType::Int4 | DataType::Int8) => {
            let r = f.round_ties_even();
            if !r.is_finite() || r < i64::MIN as f64 || r >= i64::MAX as f64 {
                return Err(out_of_range(to));
            }
            from_i64(r as i64, to, from)
        }
        (Value::Float8(f), DataType::Numeric) => Numeric::from_f64(f).map(Value::Numeric),
        (Value::Numeric(n), DataType::Float8) => Ok(Value::Float8(n.to_f64())),
        (Value::Timestamptz(t), DataType::Date) => {
            crate::timestamp::date_of_timestamp(t).map(Value::Date)
        }
        (Value::Date(d), DataType::Timestamptz) => {
            crate::timestamp::timestamp_of_date(d).map(Value::Timestamptz)
        }
        (Value::Numeric(n), DataType::Int4 | DataType::Int8) => {
            if n.is_nan() {
                return Err(Error::NumericValueOutOfRange(format!(
                    "cannot convert NaN to {to}"
                )));
            }
            let v = n.to_i64().ok_or_else(|| out_of_range(to))?;
            from_i64(v, to, from)
        }
        _ => Err(Error::CannotCoerce {
            from: from.to_string(),
            to: to.to_string(),
        }),
    }
}

/// An OID from a bigint: PostgreSQL takes -2^31 to 2^32 - 1, negative
/// numbers wrapping as they do for `integer`.
fn oid_of_i64(v: i64) -> Option<u32> {
    if v < 0 {
        i32::try_from(v).ok().map(|v| v as u32)
    } else {
        u32::try_from(v).ok()
    }
}

/// `oid` as an `oid` or an OID alias type. Without the catalog an alias
/// prints as its number; the binder casts to alias types through the
/// catalog, so they print as names.
fn oid_as(oid: u32, to: DataType) -> Value {
    match to {
        DataType::Reg(kind) => Value::Reg(kind, oid, oid.to_string().into()),
        _ => Value::Oid(oid),
    }
}

fn out_of_range(to: DataType) -> Error {
    Error::NumericValueOutOfRange(format!("{to} out of range"))
}

fn from_i64(v: i64, to: DataType, from: DataType) -> Result<Value> {
    match to {
        DataType::Int4 => i32::try_from(v)
            .map(Value::Int4)
            .map_err(|_| out_of_range(to)),
        DataType::Int8 => Ok(Value::Int8(v)),
        DataType::Float8 => Ok(Value::Float8(v as f64)),
        DataType::Numeric => Ok(Value::Numeric(Numeric::from(v))),
        DataType::Boolean if from == DataType::Int4 => Ok(Value::Bool(v != 0)),
        _ => Err(Error::CannotCoerce {
            from: from.to_string(),
            to: to.to_string(),
        }),
    }
}

fn from_jsonb(j: Jsonb, to: DataType) -> Result<Value> {
    let mismatch = |j: &Jsonb| {
        Error::InvalidParameterValue(format!("cannot cast jsonb {} to type {to}", j.type_name()))
    };
    match (j.kind(), to) {
        (JsonKind::Bool, DataType::Boolean) => Ok(Value::Bool(j.as_bool() == Some(true))),
        (
            JsonKind::Number,
            DataType::Numeric | DataType::Int4 | DataType::Int8 | DataType::Float8,
        ) => {
            let n = j.as_numeric().ok_or_else(|| mismatch(&j))?;
            if to == DataType::Numeric {
                Ok(Value::Numeric(n))
            } else {
                cast(Value::Numeric(n), to)
            }
        }
        (
            _,
            DataType::Boolean
            | DataType::Numeric
            | DataType::Int4
            | DataType::Int8
            | DataType::Float8,
        ) => Err(mismatch(&j)),
        _ => Err(Error::CannotCoerce {
            from: "jsonb".into(),
            to: to.to_string(),
        }),
    }
}

/// Parses text with the input function of `to`.
pub(crate) fn parse_text(s: &str, to: DataType) -> Result<Value> {
    let invalid = |ty: &'static str| Error::InvalidTextRepresentation {
        ty,
        input: s.to_string(),
    };
    match to {
        DataType::Text | DataType::Unknown => Ok(Value::Text(s.to_string())),
        DataType::Boolean => parse_bool(s)
            .map(Value::Bool)
            .ok_or_else(|| invalid("boolean")),
        DataType::Int4 => {
            let v = parse_int(s).ok_or_else(|| invalid("integer"))?;
            i32::try_from(v).map(Value::Int4).map_err(|_| {
                Error::NumericValueOutOfRange(format!(
                    "value \"{s}\" is out of range for type integer"
                ))
            })
        }
        DataType::Int8 => parse_int(s).map(Value::Int8).ok_or_else(|| {
            if s.trim()
                .trim_start_matches(['+', '-'])
                .bytes()
                .all(|b| b.is_ascii_digit())
                && !s.trim().is_empty()
            {
                Error::NumericValueOutOfRange(format!(
                    "value \"{s}\" is out of range for type bigint"
                ))
            } else {
                invalid("bigint")
            }
        }),
        DataType::Float8 => parse_float(s)
            .map(Value::Float8)
            .ok_or_else(|| invalid("double precision")),
        DataType::Numeric => Numeric::parse(s).map(Value::Numeric),
        DataType::Bytea => parse_bytea(s)
            .map(Value::Bytea)
            .ok_or_else(|| invalid("bytea")),
        DataType::Jsonb => Jsonb::parse(s).map(Value::Jsonb),
        DataType::Timestamptz => parse_timestamptz(s).map(Value::Timestamptz),
        DataType::Interval => crate::Interval::parse(s).map(Value::Interval),
        DataType::Date => crate::parse_date(s).map(Value::Date),
        DataType::Array(elem) => parse_array(s, *elem),
        DataType::Oid | DataType::Reg(_) => {
            let v = parse_int(s).ok_or_else(|| {
                invalid(match to {
                    DataType::Reg(kind) => kind.name(),
                    _ => "oid",
                })
            })?;
            let oid = oid_of_i64(v).ok_or_else(|| {
                Error::NumericValueOutOfRange(format!("value \"{s}\" is out of range for type oid"))
            })?;
            Ok(oid_as(oid, to))
        }
        DataType::Record(_) => Err(Error::CannotCoerce {
            from: "text".into(),
            to: "record".into(),
        }),
    }
}

/// PostgreSQL's `array_in` for one dimension: `{a,"b c",NULL}`.
fn parse_array(s: &str, elem: DataType) -> Result<Value> {
    let malformed = |why: &str| Error::InvalidTextRepresentation {
        ty: "array",
        input: format!("{s}\" (malformed array literal: {why})"),
    };
    let t = s.trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .ok_or_else(|| malformed("it must start with \"{\" and end with \"}\""))?;
    let mut elems = Vec::new();
    if inner.trim().is_empty() {
        return Ok(Value::Array(elems));
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            chars.next();
        }
        let mut item = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => {
                        item.push(chars.next().ok_or_else(|| malformed("unexpected end"))?)
                    }
                    Some(c) => item.push(c),
                    None => return Err(malformed("unterminated quoted element")),
                }
            }
            while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if matches!(c, '{' | '}' | '"') {
                    return Err(malformed("nested arrays are not supported"));
                }
                item.push(c);
                chars.next();
            }
            item = item.trim_end().to_string();
        }
        elems.push(if !quoted && item.eq_ignore_ascii_case("null") {
            Value::Null
        } else {
            parse_text(&item, elem)?
        });
        match chars.next() {
            Some(',') => continue,
            None => break,
            Some(_) => return Err(malformed("unexpected character")),
        }
    }
    Ok(Value::Array(elems))
}

/// PostgreSQL's `boolin`: any unambiguous prefix of true/false/yes/no/on/off,
/// or 1/0, case-insensitive, surrounding whitespace ignored.
fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim().to_ascii_lowercase();
    if t.is_empty() {
        return None;
    }
    let prefix_of = |word: &str, min: usize| t.len() >= min && word.starts_with(t.as_str());
    if prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || t == "1" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || t == "0" {
        Some(false)
    } else {
        None
    }
}

fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "nan" => return Some(f64::NAN),
        "infinity" | "+infinity" | "inf" | "+inf" => return Some(f64::INFINITY),
        "-infinity" | "-inf" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    // Rust accepts forms PostgreSQL does not ("inf", "infinity" handled above).
    if t.is_empty()
        || t.bytes()
            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
    {
        return None;
    }
    t.parse().ok()
}

/// `bytea` input: `\x` followed by hex pairs, or the escape format where
/// `\\` is a backslash and `\ooo` an octal byte.
pub(crate) fn parse_bytea(s: &str) -> Option<Vec<u8>> {
    if let Some(hex) = s.strip_prefix("\\x").or_else(|| s.strip_prefix("\\X")) {
        return decode_hex(hex);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let oct = b.get(i + 1..i + 4)?;
            if !oct.iter().all(|d| (b'0'..=b'7').contains(d)) || oct[0] > b'3' {
                return None;
            }
            out.push((oct[0] - b'0') * 64 + (oct[1] - b'0') * 8 + (oct[2] - b'0'));
            i += 4;
        }
    }
    Some(out)
}

/// Decodes hex digit pairs; whitespace between pairs is allowed.
pub(crate) fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| {
            let hi = (p[0] as char).to_digit(16)?;
            let lo = (p[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

/// The text a value contributes to `text || any`: its cast to text (so
/// booleans give `true`, as in PostgreSQL), or `None` for NULL.
pub(crate) fn text_for_concat(v: &Value) -> Option<String> {
    match cast(v.clone(), DataType::Text) {
        Ok(Value::Text(s)) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(v: Value, t: DataType) -> Result<Value> {
        cast(v, t)
    }

    #[test]
    fn text_inputs() {
        assert_eq!(
            c(Value::Text(" 42 ".into()), DataType::Int4),
            Ok(Value::Int4(42))
        );
        assert!(c(Value::Text("4x".into()), DataType::Int4).is_err());
        assert_eq!(
            c(Value::Text("3000000000".into()), DataType::Int4)
                .unwrap_err()
                .sqlstate(),
            "22003"
        );
        assert_eq!(
            c(Value::Text("yes".into()), DataType::Boolean),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            c(Value::Text("o".into()), DataType::Boolean)
                .unwrap_err()
                .sqlstate(),
            "22P02"
        );
        assert_eq!(
            c(Value::Text("\\x4142".into()), DataType::Bytea),
            Ok(Value::Bytea(b"AB".to_vec()))
        );
        assert_eq!(
            c(Value::Text("a\\\\b\\001".into()), DataType::Bytea),
            Ok(Value::Bytea(b"a\\b\x01".to_vec()))
        );
    }

    #[test]
    fn numeric_family() {
        assert_eq!(c(Value::Float8(2.5), DataType::Int4), Ok(Value::Int4(2)));
        assert_eq!(c(Value::Float8(3.5), DataType::Int4), Ok(Value::Int4(4)));
        assert_eq!(
            c(
                Value::Numeric(Numeric::parse("2.5").unwrap()),
                DataType::Int8
            ),
            Ok(Value::Int8(3))
        );
        assert!(c(Value::Int8(1 << 40), DataType::Int4).is_err());
        assert_eq!(
            c(Value::Bool(true), DataType::Text),
            Ok(Value::Text("true".into()))
        );
    }

    #[test]
    fn jsonb_scalars() {
        let j = |s| Value::Jsonb(Jsonb::parse(s).unwrap());
        assert_eq!(c(j("12"), DataType::Int4), Ok(Value::Int4(12)));
        assert_eq!(c(j("true"), DataType::Boolean), Ok(Value::Bool(true)));
        assert_eq!(
            c(j("\"x\""), DataType::Int4).unwrap_err().to_string(),
            "cannot cast jsonb string to type integer"
        );
        assert_eq!(
            c(j("{\"a\": 1}"), DataType::Text),
            Ok(Value::Text("{\"a\": 1}".into()))
        );
    }
}
