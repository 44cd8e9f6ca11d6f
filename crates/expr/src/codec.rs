//! The binary encoding of rows and values used by storage.
//!
//! Rows are a varint column count followed by tagged values. The format is
//! self-describing so a stored row can be decoded without its schema, and
//! compact: a JSONB document is stored in its binary layout ([`Jsonb`]),
//! so decoding a row copies it and parses nothing. Rows written before
//! that layout (storage format 1) hold JSONB as a tagged tree; they still
//! decode.
//! [`encode_value_key`] produces an order-preserving, prefix-free encoding
//! for primary-key values.

use bytes::Bytes;

use crate::{Error, JsonTree, Jsonb, Numeric, RegKind, Result, Value};

mod tag {
    pub const NULL: u8 = 0;
    pub const FALSE: u8 = 1;
    pub const TRUE: u8 = 2;
    pub const INT4: u8 = 3;
    pub const INT8: u8 = 4;
    pub const FLOAT8: u8 = 5;
    pub const NUMERIC: u8 = 6;
    pub const TEXT: u8 = 7;
    pub const BYTEA: u8 = 8;
    /// JSONB as a tagged tree (storage format 1; read only).
    pub const JSONB_TREE: u8 = 9;
    pub const TIMESTAMPTZ: u8 = 10;
    /// JSONB in its binary layout.
    pub const JSONB: u8 = 11;
    pub const INTERVAL: u8 = 12;
    pub const DATE: u8 = 13;
    /// An array: its length, then each element.
    pub const ARRAY: u8 = 14;
    pub const OID: u8 = 15;
    /// An OID alias: its kind, the OID, the name it prints as.
    pub const REG: u8 = 16;
    /// A record: its number of fields, then each.
    pub const RECORD: u8 = 17;

    pub const J_NULL: u8 = 0;
    pub const J_FALSE: u8 = 1;
    pub const J_TRUE: u8 = 2;
    pub const J_NUMBER: u8 = 3;
    pub const J_STRING: u8 = 4;
    pub const J_ARRAY: u8 = 5;
    pub const J_OBJECT: u8 = 6;
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Encodes a row.
pub fn encode_row(row: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    encode_row_into(&mut out, row);
    out
}

/// Encodes a row at the end of `out` (as [`encode_row`] returns it).
pub fn encode_row_into(out: &mut Vec<u8>, row: &[Value]) {
    put_varint(out, row.len() as u64);
    for v in row {
        encode_value(out, v);
    }
}

fn encode_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.push(tag::NULL),
        Value::Bool(false) => out.push(tag::FALSE),
        Value::Bool(true) => out.push(tag::TRUE),
        Value::Int4(i) => {
            out.push(tag::INT4);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Int8(i) => {
            out.push(tag::INT8);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Float8(f) => {
            out.push(tag::FLOAT8);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Numeric(n) => {
            out.push(tag::NUMERIC);
            put_bytes(out, n.to_string().as_bytes());
        }
        Value::Text(s) => {
            out.push(tag::TEXT);
            put_bytes(out, s.as_bytes());
        }
        Value::Bytea(b) => {
            out.push(tag::BYTEA);
            put_bytes(out, b);
        }
        Value::Jsonb(j) => {
            out.push(tag::JSONB);
            put_bytes(out, j.as_bytes());
        }
        Value::Timestamptz(t) => {
            out.push(tag::TIMESTAMPTZ);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Value::Interval(i) => {
            out.push(tag::INTERVAL);
            out.extend_from_slice(&i.months.to_le_bytes());
            out.extend_from_slice(&i.days.to_le_bytes());
            out.extend_from_slice(&i.micros.to_le_bytes());
        }
        Value::Date(d) => {
            out.push(tag::DATE);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Array(elems) | Value::Record(elems) => {
            out.push(if matches!(v, Value::Array(_)) {
                tag::ARRAY
            } else {
                tag::RECORD
            });
            put_varint(out, elems.len() as u64);
            for e in elems {
                encode_value(out, e);
            }
        }
        Value::Oid(o) => {
            out.push(tag::OID);
            out.extend_from_slice(&o.to_le_bytes());
        }
        Value::Reg(kind, o, name) => {
            out.push(tag::REG);
            out.push(match kind {
                RegKind::Class => 0,
                RegKind::Type => 1,
                RegKind::Namespace => 2,
            });
            out.extend_from_slice(&o.to_le_bytes());
            put_bytes(out, name.as_bytes());
        }
    }
}

/// A cursor over encoded bytes; every read is bounds-checked.
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8> {
        let (&first, rest) = self.b.split_first().ok_or(Error::Corrupted("truncated"))?;
        self.b = rest;
        Ok(first)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.b.len() < n {
            return Err(Error::Corrupted("truncated"));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Error::Corrupted("varint too long"))
    }

    fn len(&mut self) -> Result<usize> {
        let n = self.varint()?;
        // Every element takes at least one byte, so a longer count is corrupt.
        if n > self.b.len() as u64 {
            return Err(Error::Corrupted("length beyond end"));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }

    fn string(&mut self) -> Result<String> {
        std::str::from_utf8(self.bytes()?)
            .map(str::to_owned)
            .map_err(|_| Error::Corrupted("invalid utf-8"))
    }
}

/// Decodes a row written by [`encode_row`].
pub fn decode_row(bytes: &[u8]) -> Result<Vec<Value>> {
    let mut r = Reader { b: bytes };
    let n = r.len()?;
    let mut row = Vec::with_capacity(n);
    for _ in 0..n {
        row.push(decode_value(&mut r)?);
    }
    Ok(row)
}

/// Decodes a row held in shared bytes: JSONB documents are slices of
/// `bytes`, not copies. With `wanted`, only the flagged columns (and any
/// beyond it) are decoded; the others are skipped and read as NULL.
pub fn decode_row_shared(bytes: &Bytes, wanted: Option<&[bool]>) -> Result<Vec<Value>> {
    let mut r = Reader { b: bytes };
    let n = r.len()?;
    let mut row = Vec::with_capacity(n);
    for i in 0..n {
        if !wanted.is_none_or(|w| w.get(i).copied().unwrap_or(true)) {
            skip_value(&mut r)?;
            row.push(Value::Null);
        } else if r.b.first() == Some(&tag::JSONB) {
            r.byte()?;
            let doc = r.bytes()?;
            let start = doc.as_ptr() as usize - bytes.as_ptr() as usize;
            row.push(Value::Jsonb(Jsonb::from_bytes(
                bytes.slice(start..start + doc.len()),
            )));
        } else {
            row.push(decode_value(&mut r)?);
        }
    }
    Ok(row)
}

/// Moves past one value without building it.
fn skip_value(r: &mut Reader<'_>) -> Result<()> {
    match r.byte()? {
        tag::NULL | tag::FALSE | tag::TRUE => {}
        tag::INT4 | tag::DATE | tag::OID => {
            r.take(4)?;
        }
        tag::INT8 | tag::FLOAT8 | tag::TIMESTAMPTZ => {
            r.take(8)?;
        }
        tag::INTERVAL => {
            r.take(16)?;
        }
        tag::NUMERIC | tag::TEXT | tag::BYTEA | tag::JSONB => {
            r.bytes()?;
        }
        tag::JSONB_TREE => {
            decode_jsonb_tree(r, 0)?;
        }
        tag::REG => {
            r.take(5)?;
            r.bytes()?;
        }
        tag::ARRAY | tag::RECORD => {
            for _ in 0..r.len()? {
                skip_value(r)?;
            }
        }
        _ => return Err(Error::Corrupted("unknown value tag")),
    }
    Ok(())
}

fn decode_value(r: &mut Reader<'_>) -> Result<Value> {
    Ok(match r.byte()? {
        tag::NULL => Value::Null,
        tag::FALSE => Value::Bool(false),
        tag::TRUE => Value::Bool(true),
        tag::INT4 => Value::Int4(i32::from_le_bytes(r.array()?)),
        tag::INT8 => Value::Int8(i64::from_le_bytes(r.array()?)),
        tag::FLOAT8 => Value::Float8(f64::from_le_bytes(r.array()?)),
        tag::NUMERIC => {
            Value::Numeric(Numeric::parse(&r.string()?).map_err(|_| Error::Corrupted("numeric"))?)
        }
        tag::TEXT => Value::Text(r.string()?),
        tag::BYTEA => Value::Bytea(r.bytes()?.to_vec()),
        tag::JSONB => Value::Jsonb(Jsonb::from_bytes(Bytes::copy_from_slice(r.bytes()?))),
        tag::JSONB_TREE => Value::Jsonb(Jsonb::from_tree(&decode_jsonb_tree(r, 0)?)),
        tag::TIMESTAMPTZ => Value::Timestamptz(i64::from_le_bytes(r.array()?)),
        tag::INTERVAL => Value::Interval(crate::Interval {
            months: i32::from_le_bytes(r.array()?),
            days: i32::from_le_bytes(r.array()?),
            micros: i64::from_le_bytes(r.array()?),
        }),
        tag::DATE => Value::Date(i32::from_le_bytes(r.array()?)),
        tag::OID => Value::Oid(u32::from_le_bytes(r.array()?)),
        tag::REG => {
            let kind = match r.byte()? {
                0 => RegKind::Class,
                1 => RegKind::Type,
                2 => RegKind::Namespace,
                _ => return Err(Error::Corrupted("unknown OID alias")),
            };
            let oid = u32::from_le_bytes(r.array()?);
            Value::Reg(kind, oid, r.string()?.into())
        }
        t @ (tag::ARRAY | tag::RECORD) => {
            let n = r.len()?;
            let mut elems = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                elems.push(decode_value(r)?);
            }
            if t == tag::ARRAY {
                Value::Array(elems)
            } else {
                Value::Record(elems)
            }
        }
        _ => return Err(Error::Corrupted("unknown value tag")),
    })
}

/// Reads a format-1 JSONB tree.
fn decode_jsonb_tree(r: &mut Reader<'_>, depth: usize) -> Result<JsonTree> {
    if depth > crate::jsonb::MAX_DEPTH {
        return Err(Error::Corrupted("jsonb nested too deep"));
    }
    Ok(match r.byte()? {
        tag::J_NULL => JsonTree::Null,
        tag::J_FALSE => JsonTree::Bool(false),
        tag::J_TRUE => JsonTree::Bool(true),
        tag::J_NUMBER => JsonTree::Number(
            Numeric::parse(&r.string()?).map_err(|_| Error::Corrupted("jsonb number"))?,
        ),
        tag::J_STRING => JsonTree::String(r.string()?),
        tag::J_ARRAY => {
            let n = r.len()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(decode_jsonb_tree(r, depth + 1)?);
            }
            JsonTree::Array(items)
        }
        tag::J_OBJECT => {
            let n = r.len()?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let k = r.string()?;
                pairs.push((k, decode_jsonb_tree(r, depth + 1)?));
            }
            JsonTree::Object(pairs)
        }
        _ => return Err(Error::Corrupted("unknown jsonb tag")),
    })
}

/// Appends an order-preserving, prefix-free key encoding of `v`: integers
/// and timestamps big-endian with the sign bit flipped; everything else as
/// its row encoding with `0x00` escaped to `0x00 0xff` and terminated by
/// `0x00 0x00` (the keycode scheme), so composite keys never collide.
pub fn encode_value_key(out: &mut Vec<u8>, v: &Value) {
    let flip = |i: i64| (i as u64 ^ (1 << 63)).to_be_bytes();
    match v {
        Value::Int4(i) => {
            out.push(tag::INT8);
            out.extend_from_slice(&flip(*i as i64));
        }
        Value::Int8(i) => {
            out.push(tag::INT8);
            out.extend_from_slice(&flip(*i));
        }
        Value::Timestamptz(t) => {
            out.push(tag::TIMESTAMPTZ);
            out.extend_from_slice(&flip(*t));
        }
        // Intervals of equal span are equal (`'1 mon' = '30 days'`); an
        // OID alias is its OID.
        Value::Interval(_) | Value::Date(_) | Value::Oid(_) | Value::Reg(..) => {
            encode_value_ordered(out, v)
        }
        other => {
            // Values SQL considers equal must share a key: numerics and
            // JSONB numbers of any scale, and the zeros of float8.
            let canonical = match other {
                Value::Numeric(n) => Value::Numeric(n.normalized()),
                Value::Jsonb(j) => Value::Jsonb(j.normalized()),
                Value::Float8(f) if *f == 0.0 => Value::Float8(0.0),
                Value::Float8(f) if f.is_nan() => Value::Float8(f64::NAN),
                v => v.clone(),
            };
            let mut raw = Vec::new();
            encode_value(&mut raw, &canonical);
            for b in raw {
                out.push(b);
                if b == 0 {
                    out.push(0xff);
                }
            }
            out.extend_from_slice(&[0, 0]);
        }
    }
}

/// Appends a memcomparable, prefix-free encoding of a non-NULL `v`: byte
/// order is SQL order for every type with an ordering (booleans, integers
/// of either width, float8, numeric, text and bytea bytewise, timestamptz),
/// and values SQL considers equal encode alike. Aggregates keep min/max
/// value multisets under these keys so the extreme is the first or last
/// key. JSONB, which has no min/max, uses its canonical key encoding.
pub fn encode_value_ordered(out: &mut Vec<u8>, v: &Value) {
    let escaped = |out: &mut Vec<u8>, b: &[u8]| {
        for &x in b {
            out.push(x);
            if x == 0 {
                out.push(0xff);
            }
        }
        out.extend_from_slice(&[0, 0]);
    };
    let flip = |i: i64| (i as u64 ^ (1 << 63)).to_be_bytes();
    match v {
        Value::Null => out.push(0xff),
        Value::Bool(b) => out.extend_from_slice(&[tag::TRUE, u8::from(*b)]),
        Value::Int4(i) => {
            out.push(tag::INT8);
            out.extend_from_slice(&flip(i64::from(*i)));
        }
        Value::Int8(i) => {
            out.push(tag::INT8);
            out.extend_from_slice(&flip(*i));
        }
        Value::Float8(f) => {
            out.push(tag::FLOAT8);
            let f = if f.is_nan() {
                f64::NAN
            } else if *f == 0.0 {
                0.0
            } else {
                *f
            };
            let bits = f.to_bits();
            let bits = if bits >> 63 == 1 {
                !bits
            } else {
                bits ^ (1 << 63)
            };
            out.extend_from_slice(&bits.to_be_bytes());
        }
        Value::Numeric(n) => {
            out.push(tag::NUMERIC);
            n.write_ordered(out);
        }
        Value::Text(s) => {
            out.push(tag::TEXT);
            escaped(out, s.as_bytes());
        }
        Value::Bytea(b) => {
            out.push(tag::BYTEA);
            escaped(out, b);
        }
        Value::Timestamptz(t) => {
            out.push(tag::TIMESTAMPTZ);
            out.extend_from_slice(&flip(*t));
        }
        Value::Interval(i) => {
            out.push(tag::INTERVAL);
            out.extend_from_slice(&(i.span() as u128 ^ (1 << 127)).to_be_bytes());
        }
        Value::Date(d) => {
            out.push(tag::DATE);
            out.extend_from_slice(&flip(i64::from(*d)));
        }
        Value::Oid(o) | Value::Reg(_, o, _) => {
            out.push(tag::OID);
            out.extend_from_slice(&o.to_be_bytes());
        }
        Value::Jsonb(_) => encode_value_key(out, v),
        // Element by element (NULLs last), then an end byte below any
        // element's tag: a prefix sorts first.
        Value::Array(elems) | Value::Record(elems) => {
            out.push(if matches!(v, Value::Array(_)) {
                tag::ARRAY
            } else {
                tag::RECORD
            });
            for e in elems {
                out.push(1);
                encode_value_ordered(out, e);
            }
            out.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let row = vec![
            Value::Null,
            Value::Bool(true),
            Value::Int4(-7),
            Value::Int8(1 << 40),
            Value::Float8(2.5),
            Value::Numeric(Numeric::parse("12.50").unwrap()),
            Value::Text("héllo".into()),
            Value::Bytea(vec![0, 1, 255]),
            Value::Jsonb(Jsonb::parse(r#"{"a":[1,2.0,{"b":null}],"c":"d"}"#).unwrap()),
            Value::Timestamptz(-5),
        ];
        assert_eq!(decode_row(&encode_row(&row)).unwrap(), row);
    }

    #[test]
    fn reads_format_1_jsonb_trees() {
        // {"b":[1,2.50],"a":"x"} as format 1 wrote it (keys in order).
        let mut old = vec![1, tag::JSONB_TREE, tag::J_OBJECT, 2];
        old.extend_from_slice(&[1, b'a', tag::J_STRING, 1, b'x']);
        old.extend_from_slice(&[1, b'b', tag::J_ARRAY, 2, tag::J_NUMBER, 1, b'1']);
        old.extend_from_slice(&[tag::J_NUMBER, 4, b'2', b'.', b'5', b'0']);
        let row = decode_row(&old).unwrap();
        assert_eq!(
            row,
            vec![Value::Jsonb(
                Jsonb::parse(r#"{"a":"x","b":[1,2.50]}"#).unwrap()
            )]
        );
        assert_eq!(
            row[0].to_pg_text().unwrap(),
            r#"{"a": "x", "b": [1, 2.50]}"#
        );
    }

    #[test]
    fn decodes_only_wanted_columns() {
        let row = vec![
            Value::Int4(1),
            Value::Jsonb(Jsonb::parse(r#"{"a":[1,2]}"#).unwrap()),
            Value::Text("x".into()),
            Value::Float8(0.5),
        ];
        let shared = Bytes::from(encode_row(&row));
        assert_eq!(
            decode_row_shared(&shared, Some(&[false, false, true])).unwrap(),
            vec![
                Value::Null,
                Value::Null,
                Value::Text("x".into()),
                Value::Float8(0.5)
            ]
        );
        assert_eq!(decode_row_shared(&shared, None).unwrap(), row);
        assert_eq!(
            decode_row_shared(&shared, Some(&[false, true, false, false])).unwrap(),
            vec![Value::Null, row[1].clone(), Value::Null, Value::Null]
        );
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        let good = encode_row(&[Value::Jsonb(Jsonb::parse(r#"{"a":[1,"x"]}"#).unwrap())]);
        for cut in 0..good.len() {
            assert!(decode_row(&good[..cut]).is_err());
        }
        assert!(
            decode_row(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1]).is_err()
        );
        assert!(decode_row(&[1, 99]).is_err());
    }

    #[test]
    fn equal_values_share_a_key() {
        let key = |v: Value| {
            let mut k = Vec::new();
            encode_value_key(&mut k, &v);
            k
        };
        let num = |s: &str| Value::Numeric(Numeric::parse(s).unwrap());
        let doc = |s: &str| Value::Jsonb(Jsonb::parse(s).unwrap());
        assert_eq!(key(num("1.50")), key(num("1.5")));
        assert_eq!(key(num("2.000")), key(num("2")));
        assert_ne!(key(num("2.01")), key(num("2.1")));
        assert_eq!(
            key(doc(r#"{"a":1.0,"b":[2.50]}"#)),
            key(doc(r#"{"b":[2.5],"a":1}"#))
        );
        assert_eq!(key(Value::Float8(-0.0)), key(Value::Float8(0.0)));
    }

    #[test]
    fn ordered_keys_follow_sql_order() {
        let key = |v: &Value| {
            let mut k = Vec::new();
            encode_value_ordered(&mut k, v);
            k
        };
        let num = |s: &str| Value::Numeric(Numeric::parse(s).unwrap());
        let nums = [
            "-1000", "-12.5", "-12", "-1.25", "-1.2", "-0.001", "0", "0.0005", "0.001", "1", "1.2",
            "1.25", "9.99", "10", "12", "123", "NaN",
        ];
        for w in nums.windows(2) {
            assert!(key(&num(w[0])) < key(&num(w[1])), "{} < {}", w[0], w[1]);
        }
        assert_eq!(key(&num("1.50")), key(&num("1.5")));
        assert_eq!(key(&num("0.00")), key(&num("0")));
        let floats = [
            f64::NEG_INFINITY,
            -2.5,
            -0.0,
            1e-300,
            3.0,
            f64::INFINITY,
            f64::NAN,
        ];
        for w in floats.windows(2) {
            assert!(key(&Value::Float8(w[0])) < key(&Value::Float8(w[1])));
        }
        assert_eq!(key(&Value::Float8(-0.0)), key(&Value::Float8(0.0)));
        let texts = ["", "a", "a\0", "ab", "b"];
        for w in texts.windows(2) {
            let t = |s: &str| Value::Text(s.into());
            assert!(key(&t(w[0])) < key(&t(w[1])));
        }
        assert!(key(&Value::Int4(-3)) < key(&Value::Int8(2)));
        assert_eq!(key(&Value::Int4(7)), key(&Value::Int8(7)));
    }

    #[test]
    fn keys_preserve_integer_order() {
        let key = |i: i64| {
            let mut k = Vec::new();
            encode_value_key(&mut k, &Value::Int8(i));
            k
        };
        assert!(key(-5) < key(-1));
        assert!(key(-1) < key(0));
        assert!(key(0) < key(300));
    }
}
