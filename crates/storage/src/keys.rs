//! The key layout, in an order-preserving binary encoding.
//!
//! ```text
//! 0x00 name              -> metadata (format version, ...)
//! 0x01 id:u64be          -> catalog object
//! 0x02 rel:u64be rowkey  -> a row of a table or materialized view
//! ```
//!
//! Integers are big-endian so byte order is numeric order. Row keys are
//! either a big-endian row id (tables without a primary key) or the
//! keycode-encoded primary key; a view row reuses the key of the upstream
//! row it came from.

const META: u8 = 0x00;
const CATALOG: u8 = 0x01;
const ROWS: u8 = 0x02;

/// Key of a metadata entry.
pub fn meta(name: &str) -> Vec<u8> {
    let mut k = vec![META];
    k.extend_from_slice(name.as_bytes());
    k
}

/// Prefix of every catalog object.
pub fn catalog_prefix() -> Vec<u8> {
    vec![CATALOG]
}

/// Key of one catalog object.
pub fn catalog(id: u64) -> Vec<u8> {
    let mut k = catalog_prefix();
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// Prefix of every row of relation `rel`.
pub fn rows_prefix(rel: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(ROWS);
    k.extend_from_slice(&rel.to_be_bytes());
    k
}

/// Key of one row of relation `rel`.
pub fn row(rel: u64, row_key: &[u8]) -> Vec<u8> {
    let mut k = rows_prefix(rel);
    k.extend_from_slice(row_key);
    k
}

/// The row-key part of a full row key (inverse of [`row`]).
pub fn row_key_of(key: &[u8]) -> &[u8] {
    key.get(9..).unwrap_or_default()
}

/// A row id as a row key.
pub fn row_id(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

/// The row id in a row key written by [`row_id`].
pub fn parse_row_id(row_key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(row_key.try_into().ok()?))
}
