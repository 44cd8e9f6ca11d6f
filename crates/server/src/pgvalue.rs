//! Values on the wire: PostgreSQL type identities and text/binary forms.

use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use pgwire::api::Type;
use pgwire::types::format::FormatOptions;
use pgwire::types::ToSqlText;
use postgres_types::{IsNull, ToSql};
use rivulet_expr::{DataType, Value};

/// The wire type of a SQL type.
pub fn pg_type(ty: DataType) -> Type {
    match ty {
        DataType::Boolean => Type::BOOL,
        DataType::Int4 => Type::INT4,
        DataType::Int8 => Type::INT8,
        DataType::Float8 => Type::FLOAT8,
        DataType::Numeric => Type::NUMERIC,
        DataType::Text | DataType::Unknown => Type::TEXT,
        DataType::Bytea => Type::BYTEA,
        DataType::Jsonb => Type::JSONB,
        DataType::Timestamptz => Type::TIMESTAMPTZ,
        DataType::Interval => Type::INTERVAL,
        DataType::Date => Type::DATE,
        DataType::Array(_) => Type::from_oid(ty.oid()).unwrap_or(Type::TEXT_ARRAY),
        DataType::Oid => Type::OID,
        DataType::Reg(_) => Type::from_oid(ty.oid()).unwrap_or(Type::OID),
        DataType::Record(_) => Type::RECORD,
    }
}

/// Days between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_OFFSET_DAYS: i32 = 10_957;

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

/// A value as sent to a client.
#[derive(Debug)]
pub struct PgValue<'a>(pub &'a Value);

impl ToSqlText for PgValue<'_> {
    fn to_sql_text(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
        _format_options: &FormatOptions,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self.0.to_pg_text() {
            None => Ok(IsNull::Yes),
            Some(s) => {
                out.put_slice(s.as_bytes());
                Ok(IsNull::No)
            }
        }
    }
}

/// One member of an array or record in binary: its length and binary form
/// as type `ty`, or length -1 for NULL.
fn put_member(
    v: &Value,
    ty: &Type,
    out: &mut BytesMut,
) -> Result<(), Box<dyn StdError + Sync + Send>> {
    let mut buf = BytesMut::new();
    match PgValue(v).to_sql(ty, &mut buf)? {
        IsNull::Yes => out.put_i32(-1),
        IsNull::No => {
            out.put_i32(buf.len() as i32);
            out.put_slice(&buf);
        }
    }
    Ok(())
}

impl ToSql for PgValue<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self.0 {
            // PostgreSQL's array_send: dimensions (one, or none when
            // empty), a has-NULL flag, the element type, the length and
            // lower bound, then each element as length and binary form.
            Value::Array(elems) => {
                let elem = match ty.kind() {
                    postgres_types::Kind::Array(e) => e.clone(),
                    _ => Type::TEXT,
                };
                out.put_i32(i32::from(!elems.is_empty()));
                out.put_i32(i32::from(elems.iter().any(Value::is_null)));
                out.put_u32(elem.oid());
                if !elems.is_empty() {
                    out.put_i32(elems.len() as i32);
                    out.put_i32(1);
                }
                for e in elems {
                    put_member(e, &elem, out)?;
                }
            }
            Value::Null => return Ok(IsNull::Yes),
            Value::Bool(b) => out.put_u8(*b as u8),
            Value::Int4(v) => out.put_i32(*v),
            Value::Int8(v) => out.put_i64(*v),
            Value::Float8(v) => out.put_f64(*v),
            Value::Text(s) => out.put_slice(s.as_bytes()),
            Value::Bytea(b) => out.put_slice(b),
            Value::Jsonb(j) => {
                // Binary jsonb is a version byte followed by the text form.
                out.put_u8(1);
                out.put_slice(j.to_string().as_bytes());
            }
            Value::Timestamptz(t) => out.put_i64(t - PG_EPOCH_OFFSET_MICROS),
            Value::Numeric(n) => encode_numeric(&n.to_string(), out),
            // Microseconds, days, months, as PostgreSQL sends them.
            Value::Interval(i) => {
                out.put_i64(i.micros);
                out.put_i32(i.days);
                out.put_i32(i.months);
            }
            Value::Date(d) => out.put_i32(d - PG_EPOCH_OFFSET_DAYS),
            // An OID alias is sent as its OID, as PostgreSQL's regclasssend.
            Value::Oid(o) | Value::Reg(_, o, _) => out.put_u32(*o),
            // PostgreSQL's record_send: the number of fields, then each
            // field's type OID, length and binary form.
            Value::Record(fields) => {
                out.put_i32(fields.len() as i32);
                for f in fields {
                    let ty = pg_type(f.data_type());
                    out.put_u32(ty.oid());
                    put_member(f, &ty, out)?;
                }
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    postgres_types::to_sql_checked!();
}

/// PostgreSQL's binary numeric: base-10000 digits with a weight, a sign
/// and the display scale, from the canonical decimal text.
fn encode_numeric(text: &str, out: &mut BytesMut) {
    if text == "NaN" {
        out.put_i16(0);
        out.put_i16(0);
        out.put_u16(0xC000);
        out.put_i16(0);
        return;
    }
    let (neg, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let dscale = frac.len() as i16;
    // Pad the integer part on the left and the fraction on the right to
    // whole groups of four digits.
    let int = int.trim_start_matches('0');
    let int_pad = (4 - int.len() % 4) % 4;
    let frac_pad = (4 - frac.len() % 4) % 4;
    let digits: String = "0".repeat(int_pad) + int + frac + &"0".repeat(frac_pad);
    let groups: Vec<i16> = digits
        .as_bytes()
        .chunks(4)
        .map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + (d - b'0') as i16))
        .collect();
    let int_groups = (int.len() + int_pad) / 4;
    let mut weight = int_groups as i16 - 1;
    let mut start = 0;
    while start < groups.len() && groups[start] == 0 {
        start += 1;
        weight -= 1;
    }
    let mut end = groups.len();
    while end > start && groups[end - 1] == 0 {
        end -= 1;
    }
    let used = &groups[start..end];
    if used.is_empty() {
        weight = 0;
    }
    out.put_i16(used.len() as i16);
    out.put_i16(weight);
    out.put_u16(if neg && !used.is_empty() { 0x4000 } else { 0 });
    out.put_i16(dscale);
    for g in used {
        out.put_i16(*g);
    }
}

/// The text form of a binary-format parameter of type `ty`, for the type's
/// input function.
pub fn decode_binary_param(ty: DataType, b: &[u8]) -> Result<String, crate::error::Error> {
    let bad = || crate::error::Error::BinaryFormat(ty.to_string());
    let int = |n: usize| -> Result<i64, crate::error::Error> {
        match (n, b.len()) {
            (_, 2) => Ok(i16::from_be_bytes([b[0], b[1]]) as i64),
            (_, 4) => Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as i64),
            (_, 8) => Ok(i64::from_be_bytes(b.try_into().map_err(|_| bad())?)),
            _ => Err(bad()),
        }
    };
    Ok(match ty {
        DataType::Boolean => match b {
            [0] => "f".into(),
            [_] => "t".into(),
            _ => return Err(bad()),
        },
        DataType::Int4 | DataType::Int8 => int(b.len())?.to_string(),
        DataType::Float8 => match b.len() {
            4 => f32::from_be_bytes(b.try_into().map_err(|_| bad())?).to_string(),
            8 => format!("{:e}", f64::from_be_bytes(b.try_into().map_err(|_| bad())?)),
            _ => return Err(bad()),
        },
        DataType::Text | DataType::Unknown => String::from_utf8(b.to_vec()).map_err(|_| bad())?,
        DataType::Bytea => {
            let mut s = String::from("\\x");
            for byte in b {
                s.push_str(&format!("{byte:02x}"));
            }
            s
        }
        DataType::Jsonb => match b.split_first() {
            Some((1, rest)) => String::from_utf8(rest.to_vec()).map_err(|_| bad())?,
            // A `json` parameter has no version byte.
            _ => String::from_utf8(b.to_vec()).map_err(|_| bad())?,
        },
        DataType::Timestamptz => {
            let micros = int(8)?;
            rivulet_expr::format_timestamptz(micros + PG_EPOCH_OFFSET_MICROS)
        }
        DataType::Interval => {
            let (micros, rest) = b.split_at_checked(8).ok_or_else(bad)?;
            let (days, months) = rest.split_at_checked(4).ok_or_else(bad)?;
            let i = rivulet_expr::Interval {
                micros: i64::from_be_bytes(micros.try_into().map_err(|_| bad())?),
                days: i32::from_be_bytes(days.try_into().map_err(|_| bad())?),
                months: i32::from_be_bytes(months.try_into().map_err(|_| bad())?),
            };
            i.to_string()
        }
        DataType::Array(_) | DataType::Record(_) => return Err(bad()),
        DataType::Date => {
            let days = i32::from_be_bytes(b.try_into().map_err(|_| bad())?);
            rivulet_expr::format_date(days.checked_add(PG_EPOCH_OFFSET_DAYS).ok_or_else(bad)?)
        }
        DataType::Numeric => decode_numeric(b).ok_or_else(bad)?,
        DataType::Oid | DataType::Reg(_) => {
            u32::from_be_bytes(b.try_into().map_err(|_| bad())?).to_string()
        }
    })
}

fn decode_numeric(b: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<i16> { Some(i16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])) };
    let ndigits = word(0)?.max(0) as usize;
    let weight = word(2)? as i64;
    let sign = word(4)? as u16;
    let dscale = word(6)?.max(0) as usize;
    if sign == 0xC000 {
        return Some("NaN".into());
    }
    let mut digits = String::new();
    for k in 0..ndigits {
        digits.push_str(&format!("{:04}", word(8 + 2 * k)?));
    }
    // Value = 0.digits × 10000^(weight+1).
    let point = (weight + 1) * 4;
    let (int, frac): (String, String) = if point <= 0 {
        ("0".into(), "0".repeat((-point) as usize) + &digits)
    } else if point as usize >= digits.len() {
        (
            digits.clone() + &"0".repeat(point as usize - digits.len()),
            String::new(),
        )
    } else {
        (
            digits[..point as usize].to_string(),
            digits[point as usize..].to_string(),
        )
    };
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let mut frac = frac;
    frac.truncate(dscale.min(frac.len()));
    while frac.len() < dscale {
        frac.push('0');
    }
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    s.push_str(int);
    if dscale > 0 {
        s.push('.');
        s.push_str(&frac);
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let mut b = BytesMut::new();
        encode_numeric(text, &mut b);
        decode_numeric(&b).unwrap()
    }

    #[test]
    fn numeric_binary_round_trips() {
        for t in [
            "0",
            "1",
            "-1",
            "12.50",
            "0.0001",
            "123456789.123456789",
            "10000",
            "-0.5",
            "1e0",
            "NaN",
        ] {
            let canonical = rivulet_expr::Numeric::parse(t).unwrap().to_string();
            assert_eq!(round_trip(&canonical), canonical, "{t}");
        }
        // PostgreSQL's own bytes for 12.50: 2 digits, weight 0, +, dscale 2, [12, 5000].
        let mut b = BytesMut::new();
        encode_numeric("12.50", &mut b);
        assert_eq!(&b[..], &[0, 2, 0, 0, 0, 0, 0, 2, 0, 12, 0x13, 0x88]);
    }
}
