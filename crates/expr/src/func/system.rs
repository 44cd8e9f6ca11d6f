//! System information builtins.

use crate::{DataType, RegKind, Value};

/// `version()`: PostgreSQL-style, so tools that parse the major version work.
pub(super) fn version() -> Value {
    Value::Text(format!(
        "PostgreSQL 15.0 (Rivulet {}) on {}-unknown-linux-gnu, a streaming database",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    ))
}

/// `format_type(oid, typmod)`: the SQL name of a built-in type.
/// A NULL type is NULL; a NULL or negative `typmod` means none.
pub(super) fn format_type(oid: &Value, typmod: &Value) -> Value {
    match (oid, typmod) {
        (Value::Oid(1043), Value::Int4(m)) if *m >= 4 => {
            Value::Text(format!("character varying({})", m - 4))
        }
        (Value::Oid(oid), _) => type_name(*oid).map_or(Value::Null, Value::Text),
        _ => Value::Null,
    }
}

/// The SQL name of the built-in type with OID `oid`, as `format_type`
/// and `regtype` print it.
pub fn type_name(oid: u32) -> Option<String> {
    match oid {
        1043 => Some("character varying".into()),
        1015 => Some("character varying[]".into()),
        oid => DataType::from_oid(oid.into()).map(|t| t.to_string()),
    }
}

/// `quote_ident(name)`: quotes a name unless it is a plain lower-case
/// identifier.
pub fn quote_ident(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// `quote_literal(text)`: a string literal for `s`, quotes doubled, and
/// written `E'...'` with backslashes doubled when it has any.
pub fn quote_literal(s: &str) -> String {
    let quoted = s.replace('\'', "''");
    if s.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

/// `pg_size_pretty(bytes)`: bytes below 10 kB, then kB, MB, GB, TB and PB,
/// each unit used below 20 thousand of it, halves rounded away from zero
/// (PostgreSQL's thresholds).
pub(super) fn size_pretty(bytes: i64) -> String {
    const LIMIT: i64 = 10 * 1024;
    const LIMIT2: i64 = LIMIT * 2 - 1;
    if bytes.abs() < LIMIT {
        return format!("{bytes} bytes");
    }
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    // One extra bit is kept for rounding.
    let mut size = bytes >> 9;
    for unit in ["kB", "MB", "GB", "TB"] {
        if size.abs() < LIMIT2 {
            return format!("{} {unit}", half_rounded(size));
        }
        size >>= 10;
    }
    format!("{} PB", half_rounded(size))
}

/// PostgreSQL's built-in type names (and aliases) with their OIDs.
const TYPE_OIDS: &[(&str, u32)] = &[
    ("bigint", 20),
    ("bool", 16),
    ("boolean", 16),
    ("bytea", 17),
    ("char", 1042),
    ("character", 1042),
    ("character varying", 1043),
    ("date", 1082),
    ("double precision", 701),
    ("float4", 700),
    ("float8", 701),
    ("int", 23),
    ("int2", 21),
    ("int4", 23),
    ("int8", 20),
    ("integer", 23),
    ("interval", 1186),
    ("json", 114),
    ("jsonb", 3802),
    ("name", 19),
    ("numeric", 1700),
    ("oid", 26),
    ("real", 700),
    ("regclass", 2205),
    ("regtype", 2206),
    ("smallint", 21),
    ("text", 25),
    ("time", 1083),
    ("timestamp", 1114),
    ("timestamp with time zone", 1184),
    ("timestamp without time zone", 1114),
    ("timestamptz", 1184),
    ("timetz", 1266),
    ("uuid", 2950),
    ("varchar", 1043),
];

/// `to_regtype(name)`: the type as a `regtype` (printed by its SQL name,
/// compared as its OID, as in psycopg's `pg_type.oid = to_regtype(...)`),
/// or NULL for a type PostgreSQL does not have built in (`hstore`, say),
/// which is what drivers ask it to find out.
pub(super) fn to_regtype(name: &str) -> Value {
    type_oid(name).map_or(Value::Null, |oid| {
        let name = type_name(oid).unwrap_or_else(|| name.trim().to_string());
        Value::Reg(RegKind::Type, oid, name.into())
    })
}

/// The OID of a built-in type by any of its names (`int4`, `integer`,
/// `pg_catalog.text`, `varchar`).
pub fn type_oid(name: &str) -> Option<u32> {
    let wanted = name
        .trim()
        .trim_start_matches("pg_catalog.")
        .to_ascii_lowercase();
    TYPE_OIDS
        .iter()
        .find(|(alias, _)| *alias == wanted)
        .map(|(_, oid)| *oid)
}

#[cfg(test)]
mod tests {
    use super::size_pretty;

    #[test]
    fn sizes_round_as_postgres_does() {
        assert_eq!(size_pretty(0), "0 bytes");
        assert_eq!(size_pretty(10239), "10239 bytes");
        assert_eq!(size_pretty(10240), "10 kB");
        assert_eq!(size_pretty(1_000_000), "977 kB");
        assert_eq!(size_pretty(123_456_789), "118 MB");
        assert_eq!(size_pretty(-123_456_789), "-118 MB");
        assert_eq!(size_pretty(i64::MAX), "8192 PB");
    }
}
