//! How a relation's rows are laid out under its key prefix `0x02 rel`.
//!
//! Each entry holds either one row (key: the row key; value: the encoded
//! row) or, in tables without a primary key, a *pack*: rows that one group
//! inserted together, stored as one entry under the largest row id it was
//! written with (so the last key of a table still tells the next free id
//! without reading a value). Views that only filter and project such a
//! table keep its row ids as their row keys and are packed the same way. A scan then pays the storage engine's per-entry cost
//! (merging, version filtering, one allocation per value) once per pack
//! instead of once per row.
//!
//! A pack's value is [`MARK`], the row count (`u16` LE), then for each row,
//! ascending by id, how far its id is below the entry's key (`u32` LE), its
//! length (`u32` LE) and its encoded bytes. The mark is a non-shortest varint, which the row
//! encoder never writes, so no single row reads as a pack.
//!
//! The packs a group appends are stored LZ4-compressed when that saves an
//! eighth or more: [`LZ4_MARK`] (another non-shortest varint), the plain
//! pack's length (`u32` LE), then the LZ4 block of the plain pack. Readers
//! expand an entry with [`plain`] before walking its rows. Compressing
//! here rather than in the storage engine keeps the memtables small: the
//! engine's memtables hold the compressed packs, so they fill, are sealed
//! and are flushed (each flush installing a new version of the tree under
//! a lock every write takes) several times less often, and the journal
//! does not compress them a second time. Packs written before this was
//! introduced are plain and read as they are.
//!
//! Entries never overlap: every row id in a pack is above the key of the
//! entry before it (packs are cut from runs of fresh ids, and later groups
//! only take larger ones). So a range of entry keys holds whole packs, and
//! a reader splits work, or resumes after the last row it read, at entry
//! boundaries, never inside a pack.

use std::ops::Range;

use bytes::Bytes;
use rivulet_expr::decode_row;
use rivulet_storage::{keys, Engine};

use crate::Result;

/// Rows one pack holds at most.
pub(crate) const PACK_ROWS: usize = 32;

/// Encoded bytes one pack holds at most (a larger row stays on its own).
pub(crate) const PACK_BYTES: usize = 32 << 10;

/// The first bytes of every plain pack: a zero written in two bytes.
const MARK: [u8; 2] = [0x80, 0x00];

/// The first bytes of a compressed pack: a one written in two bytes.
const LZ4_MARK: [u8; 2] = [0x81, 0x00];

/// Bytes before a compressed pack's LZ4 block.
const LZ4_HEADER: usize = LZ4_MARK.len() + 4;

/// The largest plain pack [`pack_rows`] compresses: what a corrupt length
/// may not exceed.
const MAX_PLAIN: usize = HEADER + PACK_ROWS * ROW_HEADER + PACK_BYTES;

/// Bytes before the first row's header.
const HEADER: usize = MARK.len() + 2;

/// Bytes before each row's encoding.
const ROW_HEADER: usize = 8;

fn corrupted() -> crate::Error {
    rivulet_expr::Error::Corrupted("row pack").into()
}

/// Visits one row: its key and its bytes' range within the entry's value;
/// returns whether to go on.
pub(crate) type RowVisitor<'a> = dyn FnMut(&[u8], Range<usize>) -> Result<bool> + 'a;

/// Whether a stored value is a pack (plain or compressed) rather than one
/// row.
pub(crate) fn is_pack(value: &[u8]) -> bool {
    value.starts_with(&MARK) || value.starts_with(&LZ4_MARK)
}

/// Whether a stored value is a compressed pack.
fn is_compressed(value: &[u8]) -> bool {
    value.starts_with(&LZ4_MARK)
}

/// A compressed pack's plain bytes.
fn expand(value: &[u8]) -> Result<Vec<u8>> {
    let len = value
        .get(LZ4_MARK.len()..LZ4_HEADER)
        .ok_or_else(corrupted)?;
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if len > MAX_PLAIN {
        return Err(corrupted());
    }
    let mut out = vec![0; len];
    match lz4_flex::block::decompress_into(&value[LZ4_HEADER..], &mut out) {
        Ok(n) if n == len && out.starts_with(&MARK) => Ok(out),
        _ => Err(corrupted()),
    }
}

/// A stored entry's value ready for [`each_row`]: a compressed pack
/// expanded, anything else as it is (shared, not copied).
pub(crate) fn plain(value: Bytes) -> Result<Bytes> {
    if is_compressed(&value) {
        Ok(Bytes::from(expand(&value)?))
    } else {
        Ok(value)
    }
}

/// [`plain`] for a borrowed value.
pub(crate) fn plain_slice(value: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    if is_compressed(value) {
        Ok(std::borrow::Cow::Owned(expand(value)?))
    } else {
        Ok(std::borrow::Cow::Borrowed(value))
    }
}

/// A plain pack compressed, when that saves an eighth or more of it.
fn compress(pack: Vec<u8>) -> Vec<u8> {
    let packed = lz4_flex::block::compress(&pack);
    if LZ4_HEADER + packed.len() > pack.len() - pack.len() / 8 {
        return pack;
    }
    let mut out = Vec::with_capacity(LZ4_HEADER + packed.len());
    out.extend_from_slice(&LZ4_MARK);
    out.extend_from_slice(&(pack.len() as u32).to_le_bytes());
    out.extend_from_slice(&packed);
    out
}

/// Calls `f` with the row key and the byte range (within `value`) of each
/// row of the entry stored under `row_key`, in key order, until `f`
/// returns false. Returns whether it went through every row. A compressed
/// pack must have been expanded first ([`plain`]).
pub(crate) fn each_row(row_key: &[u8], value: &[u8], f: &mut RowVisitor<'_>) -> Result<bool> {
    if is_compressed(value) {
        return Err(corrupted());
    }
    if !is_pack(value) {
        return f(row_key, 0..value.len());
    }
    let base = keys::parse_row_id(row_key).ok_or_else(corrupted)?;
    let count = value.get(MARK.len()..HEADER).ok_or_else(corrupted)?;
    let n = u16::from_le_bytes([count[0], count[1]]);
    let mut at = HEADER;
    for _ in 0..n {
        let head = value.get(at..at + ROW_HEADER).ok_or_else(corrupted)?;
        let below = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let start = at + ROW_HEADER;
        let end = start.checked_add(len).filter(|&e| e <= value.len());
        let (Some(end), Some(id)) = (end, base.checked_sub(u64::from(below))) else {
            return Err(corrupted());
        };
        if !f(&keys::row_id(id), start..end)? {
            return Ok(false);
        }
        at = end;
    }
    Ok(true)
}

/// Encodes rows, ascending by id up to `base` (and less than 2^32 below
/// it), as one pack to store under `base`.
fn encode_pack(base: u64, rows: &[(u64, &[u8])]) -> Vec<u8> {
    let size = HEADER + rows.iter().map(|r| ROW_HEADER + r.1.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&MARK);
    out.extend_from_slice(&(rows.len() as u16).to_le_bytes());
    for (id, bytes) in rows {
        out.extend_from_slice(&((base - id) as u32).to_le_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// The entry under `entry_key` (a row id) rewritten to hold only `kept`,
/// some of its rows, ascending by id: always a pack, since the entry's key
/// stays while its last row may be gone.
pub(crate) fn repack(entry_key: &[u8], kept: &[(u64, &[u8])]) -> Vec<u8> {
    let base = keys::parse_row_id(entry_key).unwrap_or(0);
    encode_pack(base, kept)
}

/// Groups rows, ascending by id and all inserted by one group, into
/// entries: `(key id, value)`, a pack of up to [`PACK_ROWS`] rows and
/// [`PACK_BYTES`] bytes (compressed when that pays), or a lone row as it
/// is.
pub(crate) fn pack_rows<B: AsRef<[u8]>>(rows: &[(u64, B)]) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let mut j = i + 1;
        let mut bytes = rows[i].1.as_ref().len();
        while j < rows.len()
            && j - i < PACK_ROWS
            && bytes + rows[j].1.as_ref().len() <= PACK_BYTES
            && rows[j].0 - rows[i].0 <= u64::from(u32::MAX)
        {
            bytes += rows[j].1.as_ref().len();
            j += 1;
        }
        if j - i == 1 {
            out.push((rows[i].0, rows[i].1.as_ref().to_vec()));
        } else {
            let part: Vec<(u64, &[u8])> =
                rows[i..j].iter().map(|(id, b)| (*id, b.as_ref())).collect();
            out.push((rows[j - 1].0, compress(encode_pack(rows[j - 1].0, &part))));
        }
        i = j;
    }
    out
}

/// Every row of relation `rel` as an insertion keyed by its row key.
pub(crate) fn scan_inserts(engine: &dyn Engine, rel: u64) -> Result<Vec<crate::Change>> {
    let mut out = Vec::new();
    for_each_row(engine, rel, None, usize::MAX, &mut |key, bytes| {
        out.push(crate::Change::insert(key.to_vec(), decode_row(&bytes)?));
        Ok(())
    })?;
    Ok(out)
}

/// Calls `f` with the key and the encoded bytes (shared, not copied) of
/// each row of relation `rel` in key order, from the entry at or after
/// `from`, reading whole entries until at least `enough` rows were read.
/// Returns the key of the last entry read (the place to resume after);
/// see the module docs for what an entry is.
pub(crate) fn for_each_row(
    engine: &dyn Engine,
    rel: u64,
    from: Option<&[u8]>,
    enough: usize,
    f: &mut dyn FnMut(&[u8], Bytes) -> Result<()>,
) -> Result<Option<Vec<u8>>> {
    let prefix = keys::rows_prefix(rel);
    let start = keys::row(rel, from.unwrap_or_default());
    let mut failure = None;
    let mut read = 0usize;
    let mut last = None;
    engine.for_each_value_from(&prefix, &start, &mut |k, v| {
        last = Some(keys::row_key_of(k).to_vec());
        let r = plain(v).and_then(|v| {
            each_row(keys::row_key_of(k), &v, &mut |key, range| {
                read += 1;
                f(key, v.slice(range)).map(|()| true)
            })
        });
        match r {
            Ok(_) => read < enough,
            Err(e) => {
                failure = Some(e);
                false
            }
        }
    })?;
    failure.map_or(Ok(last), Err)
}

/// A stored row count (`keys::row_count`); anything unreadable counts 0.
pub(crate) fn decode_count(bytes: &[u8]) -> i64 {
    <[u8; 8]>::try_from(bytes).map_or(0, i64::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivulet_expr::{encode_row, Value};

    /// The largest row id in the entry under `row_key` (for a pack, its last
    /// row's), if the key is a row id.
    fn last_row_id(row_key: &[u8], value: &[u8]) -> Result<Option<u64>> {
        let mut last = None;
        each_row(row_key, &plain_slice(value)?, &mut |k, _| {
            last = keys::parse_row_id(k);
            Ok(true)
        })?;
        Ok(last)
    }

    fn rows_of(key: u64, value: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        let value = plain_slice(value).unwrap();
        each_row(&keys::row_id(key), &value, &mut |k, r| {
            out.push((keys::parse_row_id(k).unwrap(), value[r].to_vec()));
            Ok(true)
        })
        .unwrap();
        out
    }

    #[test]
    fn packs_round_trip_and_single_rows_are_not_packs() {
        let rows: Vec<(u64, Vec<u8>)> = (10..80)
            .filter(|i| i % 7 != 0)
            .map(|i| {
                (
                    i,
                    encode_row(&[Value::Int8(i as i64), Value::Text("x".repeat(i as usize))]),
                )
            })
            .collect();
        for (_, r) in &rows {
            assert!(!is_pack(r));
        }
        // The shortest single-column rows still are not packs.
        assert!(!is_pack(&encode_row(&[Value::Null])));
        assert!(!is_pack(&encode_row(&[])));
        let entries = pack_rows(&rows);
        assert!(entries.len() > 1);
        let mut back = Vec::new();
        let mut prev_last = None;
        for (key, value) in &entries {
            let part = rows_of(*key, value);
            assert!(prev_last.is_none_or(|p| p < part[0].0), "entries overlap");
            assert!(part.len() <= PACK_ROWS);
            prev_last = last_row_id(&keys::row_id(*key), value).unwrap();
            assert_eq!(prev_last, Some(*key));
            back.extend(part);
        }
        assert_eq!(back, rows);
    }

    #[test]
    fn a_lone_or_large_row_stays_single() {
        let big = encode_row(&[Value::Text("y".repeat(PACK_BYTES))]);
        let small = encode_row(&[Value::Int4(1)]);
        let entries = pack_rows(&[(1, small.clone()), (2, big.clone()), (3, small.clone())]);
        assert_eq!(
            entries,
            vec![(1, small.clone()), (2, big), (3, small.clone())]
        );
        assert_eq!(pack_rows(&[(5, small.clone())]), vec![(5, small)]);
    }

    #[test]
    fn a_truncated_pack_is_an_error_not_a_panic() {
        let rows: Vec<(u64, Vec<u8>)> = (1..5)
            .map(|i| (i, encode_row(&[Value::Int8(i as i64)])))
            .collect();
        let (key, value) = pack_rows(&rows).remove(0);
        for cut in 2..value.len() {
            let r = each_row(&keys::row_id(key), &value[..cut], &mut |_, _| Ok(true));
            assert!(r.is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn compressible_packs_are_stored_compressed_and_read_back() {
        let rows: Vec<(u64, Vec<u8>)> = (1..=PACK_ROWS as u64)
            .map(|i| {
                let doc = format!(r#"{{"event":"Signed Up","userId":"user-{i}","plan":"pro"}}"#);
                (i, encode_row(&[Value::Text(doc)]))
            })
            .collect();
        let entries = pack_rows(&rows);
        assert_eq!(entries.len(), 1);
        let (key, value) = &entries[0];
        assert!(is_pack(value) && is_compressed(value));
        let plain_len: usize = HEADER + rows.iter().map(|r| ROW_HEADER + r.1.len()).sum::<usize>();
        assert!(
            value.len() < plain_len / 2,
            "{} of {plain_len}",
            value.len()
        );
        assert_eq!(rows_of(*key, value), rows);
        // Shared bytes expand the same way.
        let shared = plain(Bytes::from(value.clone())).unwrap();
        assert!(shared.starts_with(&MARK));
        // Walking rows without expanding is refused, not misread.
        assert!(each_row(&keys::row_id(*key), value, &mut |_, _| Ok(true)).is_err());
        // Corruption is an error, never a panic.
        for cut in 0..value.len() {
            assert!(
                plain_slice(&value[..cut]).is_err() || cut < LZ4_MARK.len(),
                "cut at {cut}"
            );
        }
        let mut huge = value.clone();
        huge[LZ4_MARK.len()..LZ4_HEADER].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(plain_slice(&huge).is_err());
        let mut flipped = value.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0xff;
        let _ = plain_slice(&flipped);
    }

    #[test]
    fn incompressible_packs_stay_plain() {
        // Rows of distinct bytes that LZ4 cannot shorten by an eighth.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let rows: Vec<(u64, Vec<u8>)> = (1..=8u64)
            .map(|i| {
                let bytes: Vec<u8> = (0..200)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect();
                (i, encode_row(&[Value::Bytea(bytes)]))
            })
            .collect();
        let entries = pack_rows(&rows);
        assert_eq!(entries.len(), 1);
        assert!(is_pack(&entries[0].1) && !is_compressed(&entries[0].1));
        assert_eq!(rows_of(entries[0].0, &entries[0].1), rows);
    }
}
