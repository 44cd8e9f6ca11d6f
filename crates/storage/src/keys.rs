//! The key layout, in an order-preserving binary encoding.
//!
//! ```text
//! 0x00 name              -> metadata (format version, purge markers,
//!                          row counts)
//! 0x01 id:u64be          -> catalog object
//! 0x02 rel:u64be rowkey  -> a row of a table or materialized view
//! 0x03 view:u64be op:u16be statekey -> state of one operator of a view
//! 0x04 table:u64be id    -> when a delivery id was stored (i64 µs, LE)
//! 0x05 table:u64be at:u64be id -> nothing (the same, in time order, so
//!                          ids past their window are found and removed)
//! 0x06 rel:u64be ts:u64be seq:u32be -> changes to a subscribed relation
//!                          committed at `ts` (ms since the epoch), the
//!                          first of them numbered `seq` in that ms and
//!                          the rest following (op:u8, len:u32le, row)*
//! ```
//!
//! Integers are big-endian so byte order is numeric order. Row keys are
//! either a big-endian row id (tables without a primary key) or the
//! keycode-encoded primary key; a view row reuses the key of the upstream
//! row it came from.

const META: u8 = 0x00;
const CATALOG: u8 = 0x01;
const ROWS: u8 = 0x02;
const STATE: u8 = 0x03;
const DEDUP: u8 = 0x04;
const DEDUP_BY_TIME: u8 = 0x05;
const CHANGES: u8 = 0x06;

/// The first key after every key that starts with `prefix`, if any (none
/// when the prefix is all `0xff`).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Key of a metadata entry.
pub fn meta(name: &str) -> Vec<u8> {
    let mut k = vec![META];
    k.extend_from_slice(name.as_bytes());
    k
}

/// Prefix of the markers of relations whose rows and state are being
/// removed (dropped, or never finished being created).
pub fn purge_prefix() -> Vec<u8> {
    meta("purge/")
}

/// The marker saying relation `id`'s rows and state are being removed.
pub fn purge(id: u64) -> Vec<u8> {
    let mut k = purge_prefix();
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// The number of rows of relation `id` (an `i64`, little-endian).
pub fn row_count(id: u64) -> Vec<u8> {
    let mut k = meta("count/");
    k.extend_from_slice(&id.to_be_bytes());
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

/// The relation whose row `key` is, if it is a row's key.
pub fn relation_of_row(key: &[u8]) -> Option<u64> {
    match key {
        [ROWS, rel @ ..] if rel.len() >= 8 => Some(u64::from_be_bytes(rel[..8].try_into().ok()?)),
        _ => None,
    }
}

/// A row id as a row key.
pub fn row_id(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

/// The row id in a row key written by [`row_id`].
pub fn parse_row_id(row_key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(row_key.try_into().ok()?))
}

/// Prefix of every state key of view `view` (all its operators).
pub fn state_prefix(view: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(11);
    k.push(STATE);
    k.extend_from_slice(&view.to_be_bytes());
    k
}

/// Prefix of the state table of operator `op` of view `view`.
pub fn state_table(view: u64, op: u16) -> Vec<u8> {
    let mut k = state_prefix(view);
    k.extend_from_slice(&op.to_be_bytes());
    k
}

/// Whether `key` belongs to some operator's state (rather than a row, the
/// catalog or metadata).
pub fn is_state(key: &[u8]) -> bool {
    key.first() == Some(&STATE)
}

/// The view whose operator state `key` is, if it is a state key.
pub fn state_view(key: &[u8]) -> Option<u64> {
    match key {
        [STATE, view @ ..] if view.len() >= 8 => {
            Some(u64::from_be_bytes(view[..8].try_into().ok()?))
        }
        _ => None,
    }
}

/// Prefix of the markers of tables whose views' operator state is behind
/// their rows (see the writer's checkpoints).
pub fn state_behind_prefix() -> Vec<u8> {
    meta("behind/")
}

/// The marker saying the state of table `table`'s deferring views
/// reflects its rows up to a row id (a `u64`, big-endian) and no further.
pub fn state_behind(table: u64) -> Vec<u8> {
    let mut k = state_behind_prefix();
    k.extend_from_slice(&table.to_be_bytes());
    k
}

/// The table a [`state_behind`] marker names.
pub fn parse_state_behind(key: &[u8]) -> Option<u64> {
    let rest = key.strip_prefix(state_behind_prefix().as_slice())?;
    Some(u64::from_be_bytes(rest.try_into().ok()?))
}

/// Whether `key` is a row of some relation.
pub fn is_row(key: &[u8]) -> bool {
    key.first() == Some(&ROWS)
}

/// Prefix of the delivery ids remembered for table `table`.
pub fn dedup_prefix(table: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(DEDUP);
    k.extend_from_slice(&table.to_be_bytes());
    k
}

/// Key of delivery id `id` of table `table`.
pub fn dedup(table: u64, id: &[u8]) -> Vec<u8> {
    let mut k = dedup_prefix(table);
    k.extend_from_slice(id);
    k
}

/// Prefix of table `table`'s delivery ids in the order they were stored.
pub fn dedup_by_time_prefix(table: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(17);
    k.push(DEDUP_BY_TIME);
    k.extend_from_slice(&table.to_be_bytes());
    k
}

/// Key of delivery id `id`, stored at `at` (µs since the epoch, not
/// negative), in time order.
pub fn dedup_by_time(table: u64, at: u64, id: &[u8]) -> Vec<u8> {
    let mut k = dedup_by_time_prefix(table);
    k.extend_from_slice(&at.to_be_bytes());
    k.extend_from_slice(id);
    k
}

/// The time and id in a key written by [`dedup_by_time`].
pub fn parse_dedup_by_time(key: &[u8]) -> Option<(u64, &[u8])> {
    let rest = key.get(9..)?;
    let at = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    Some((at, &rest[8..]))
}

/// The commit time of the last commit that logged changes (a `u64` of ms,
/// little-endian): commit times only grow, across restarts too.
pub fn last_commit_ts() -> Vec<u8> {
    meta("commit-ts")
}

/// Prefix of the change log of every relation.
pub fn changes_all_prefix() -> Vec<u8> {
    vec![CHANGES]
}

/// Prefix of relation `rel`'s change log.
pub fn changes_prefix(rel: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(21);
    k.push(CHANGES);
    k.extend_from_slice(&rel.to_be_bytes());
    k
}

/// Key of the changes to relation `rel` committed at `ts` from the
/// `seq`-th of that millisecond on.
pub fn change(rel: u64, ts: u64, seq: u32) -> Vec<u8> {
    let mut k = changes_prefix(rel);
    k.extend_from_slice(&ts.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The relation, commit time and sequence number in a key written by
/// [`change`].
pub fn parse_change(key: &[u8]) -> Option<(u64, u64, u32)> {
    match key {
        [CHANGES, rest @ ..] if rest.len() == 20 => Some((
            u64::from_be_bytes(rest[..8].try_into().ok()?),
            u64::from_be_bytes(rest[8..16].try_into().ok()?),
            u32::from_be_bytes(rest[16..].try_into().ok()?),
        )),
        _ => None,
    }
}
