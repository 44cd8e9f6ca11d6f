//! The writer's view of storage: committed data, plus the current group's
//! pending writes, plus state writes deferred to the next checkpoint, plus
//! a cache of committed state.

use std::collections::BTreeMap;
use std::sync::Arc;

use rivulet_expr::{encode_row, Value};
use rivulet_storage::{keys, Engine, WriteBatch};
use rustc_hash::FxHashMap;

use super::cache::cost_of;
use super::run::Run;
use super::{Cache, StateStore};
use crate::Result;

/// A pending write: `Some` puts, `None` deletes.
type Pending = Option<Vec<u8>>;

/// Storage as the writer sees it while it executes a group of commands.
///
/// Reads see, in order: the pending writes of the group, the state writes
/// deferred to the next checkpoint, the cache of committed state, the
/// engine. Writes stay pending until [`commit`](Store::commit) applies
/// them as one atomic batch, with every deferred write (a checkpoint), or
/// [`commit_deferring`](Store::commit_deferring) applies all but the state
/// writes it is told to defer; only once applied do state entries enter
/// the cache, so the cache never holds anything that is not in storage and
/// a failed commit needs no repair beyond dropping the batch.
///
/// Rows appended under fresh ids ([`append`](Store::append)) wait in a
/// [`Run`] per relation and are stored as packs when the group commits
/// (see [`rows`](crate::rows)); the first read or write of that
/// relation's rows before then moves them into the pending writes, one
/// entry per row (they are packed at commit all the same).
///
/// Each command runs inside a savepoint ([`begin`](Store::begin)): a
/// command that fails [`rolls back`](Store::rollback) its own writes and
/// leaves the rest of the group intact.
pub(crate) struct Store {
    engine: Arc<dyn Engine>,
    /// Writes of the group, ordered so scans can merge them with storage.
    pending: BTreeMap<Vec<u8>, Pending>,
    /// Rows the group appended, by relation, not yet in `pending`.
    runs: FxHashMap<u64, Run>,
    /// Relations whose appended rows are in `pending` one entry per row,
    /// from the smallest such id: packed when the group commits.
    spilled: FxHashMap<u64, u64>,
    /// Since the savepoint: each written key with its earlier pending
    /// entry (`None` when it had none), newest last.
    undo: Vec<(Vec<u8>, Option<Pending>)>,
    /// Whether a savepoint is open (writes outside one are not undone
    /// alone, so they keep no undo entry).
    savepoint: bool,
    /// State writes of committed groups not yet in storage, for the next
    /// checkpoint to apply.
    deferred: BTreeMap<Vec<u8>, Pending>,
    /// Bytes `deferred` holds, roughly.
    deferred_bytes: usize,
    /// Committed state entries.
    cache: Cache,
}

impl Store {
    /// A store over `engine` whose cache holds at most `cache_bytes`.
    pub(crate) fn new(engine: Arc<dyn Engine>, cache_bytes: usize) -> Store {
        Store {
            engine,
            pending: BTreeMap::new(),
            runs: FxHashMap::default(),
            spilled: FxHashMap::default(),
            undo: Vec::new(),
            savepoint: false,
            deferred: BTreeMap::new(),
            deferred_bytes: 0,
            cache: Cache::new(cache_bytes),
        }
    }

    /// The engine underneath.
    pub(crate) fn engine(&self) -> &Arc<dyn Engine> {
        &self.engine
    }

    /// Starts a command's savepoint.
    pub(crate) fn begin(&mut self) {
        self.undo.clear();
        self.savepoint = true;
        self.runs.values_mut().for_each(Run::begin);
    }

    /// Ends the savepoint, keeping its writes.
    pub(crate) fn release(&mut self) {
        self.undo.clear();
        self.savepoint = false;
    }

    /// Undoes every write since [`begin`](Store::begin) and ends the
    /// savepoint.
    pub(crate) fn rollback(&mut self) {
        self.runs.values_mut().for_each(Run::rollback);
        while let Some((key, before)) = self.undo.pop() {
            match before {
                Some(v) => self.pending.insert(key, v),
                None => self.pending.remove(&key),
            };
        }
        self.savepoint = false;
    }

    /// Number of pending writes.
    #[cfg(test)]
    pub(crate) fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Appends `row` to relation `rel` under `id`, a row id no stored row
    /// of `rel` has (it becomes the entry key `keys::row(rel, id)`).
    pub(crate) fn append(&mut self, rel: u64, id: u64, row: &[Value]) {
        if !self.spilled.contains_key(&rel) {
            let run = self.runs.entry(rel).or_default();
            if run.takes(id) {
                run.push(id, row);
                return;
            }
            // Out of order: kept with the rest in `pending`, which sorts.
            self.spill(rel);
        }
        self.spilled_from(rel, id);
        self.write(keys::row(rel, &keys::row_id(id)), Some(encode_row(row)));
    }

    /// Moves the rows appended to `rel` into the pending writes, one
    /// entry per row, before anything reads or writes that relation's rows.
    fn spill(&mut self, rel: u64) {
        let Some(run) = self.runs.get_mut(&rel).filter(|r| !r.is_empty()) else {
            return;
        };
        let run = std::mem::take(run);
        let rows: Vec<(u64, &[u8])> = run.rows().collect();
        self.spilled_from(rel, rows[0].0);
        for (i, (id, bytes)) in rows.into_iter().enumerate() {
            let key = keys::row(rel, &keys::row_id(id));
            if i < run.marked() {
                // From before the savepoint: no rollback removes it.
                self.pending.insert(key, Some(bytes.to_vec()));
            } else {
                self.write(key, Some(bytes.to_vec()));
            }
        }
    }

    /// Notes that `rel`'s appended rows from `id` on may be in `pending`.
    fn spilled_from(&mut self, rel: u64, id: u64) {
        let first = self.spilled.entry(rel).or_insert(id);
        *first = (*first).min(id);
    }

    /// Spills the appended rows of the relation `key` is a row key of.
    fn spill_for(&mut self, key: &[u8]) {
        if !self.runs.is_empty() {
            if let Some(rel) = keys::relation_of_row(key) {
                self.spill(rel);
            }
        }
    }

    /// Stores the group's appended rows as packs: each run as it is, and
    /// each spilled relation's rows taken back out of the pending writes
    /// (no savepoint is open).
    fn pack_appended(&mut self) {
        // Only the relations this group appended to keep a buffer for the
        // next: what stays allocated is bounded by one group's rows.
        self.runs.retain(|_, run| !run.is_empty());
        let pending = &mut self.pending;
        for (&rel, run) in &mut self.runs {
            let rows: Vec<(u64, &[u8])> = run.rows().collect();
            put_packs(pending, rel, &rows);
            run.clear();
        }
        for (rel, first) in std::mem::take(&mut self.spilled) {
            let from = keys::row(rel, &keys::row_id(first));
            let end = match keys::prefix_end(&keys::rows_prefix(rel)) {
                Some(end) => std::ops::Bound::Excluded(end),
                None => std::ops::Bound::Unbounded,
            };
            // Removed in one walk of the run, not looked up key by key;
            // rows put and deleted again within the group just disappear.
            let rows: Vec<(u64, Vec<u8>)> = pending
                .extract_if((std::ops::Bound::Included(from), end), |_, _| true)
                .filter_map(|(k, v)| Some((keys::parse_row_id(keys::row_key_of(&k))?, v?)))
                .collect();
            put_packs(pending, rel, &rows);
        }
    }

    fn write(&mut self, key: Vec<u8>, value: Pending) {
        if self.savepoint {
            let before = self.pending.insert(key.clone(), value);
            self.undo.push((key, before));
        } else {
            self.pending.insert(key, value);
        }
    }

    /// Applies the group's writes and every deferred write to storage as
    /// one atomic batch (visible, not yet durable: the caller flushes). On
    /// failure the batch is dropped: storage and the cache are as before
    /// the group, and the deferred writes are still deferred.
    pub(crate) fn commit(&mut self) -> rivulet_storage::Result<()> {
        self.undo.clear();
        self.pack_appended();
        let pending = std::mem::take(&mut self.pending);
        let ops: Vec<(Vec<u8>, Pending)> = if self.deferred.is_empty() {
            pending.into_iter().collect()
        } else {
            let deferred = self.deferred.iter().map(|(k, v)| (k.as_slice(), v));
            overlay(pending.iter().map(|(k, v)| (k.as_slice(), v)), deferred)
                .into_iter()
                .map(|(k, v)| (k.to_vec(), v.clone()))
                .collect()
        };
        if ops.is_empty() {
            return Ok(());
        }
        self.apply(WriteBatch { ops })?;
        self.deferred.clear();
        self.deferred_bytes = 0;
        Ok(())
    }

    /// Like [`commit`](Store::commit), except that the group's writes for
    /// which `defer` holds (state keys only) are kept back with the
    /// deferred writes, for a later checkpoint. Deferred writes are not
    /// durable: the caller must be able to redo them after a crash.
    pub(crate) fn commit_deferring(
        &mut self,
        defer: impl Fn(&[u8]) -> bool,
    ) -> rivulet_storage::Result<()> {
        self.undo.clear();
        self.pack_appended();
        let (later, now): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(k, _)| keys::is_state(k) && defer(k));
        if !now.is_empty() {
            self.apply(WriteBatch { ops: now })?;
        }
        for (k, v) in later {
            // Charged as the cache charges an entry.
            self.deferred_bytes += cost_of(k.len(), &v);
            let key_len = k.len();
            if let Some(old) = self.deferred.insert(k, v) {
                self.deferred_bytes -= cost_of(key_len, &old);
            }
        }
        Ok(())
    }

    /// Applies `batch`; its state entries then enter the cache.
    fn apply(&mut self, batch: WriteBatch) -> rivulet_storage::Result<()> {
        self.engine.apply(&batch)?;
        for (k, v) in batch.ops {
            if keys::is_state(&k) {
                self.cache.insert(k, v);
            }
        }
        Ok(())
    }

    /// Whether some state writes wait for a checkpoint.
    pub(crate) fn has_deferred(&self) -> bool {
        !self.deferred.is_empty()
    }

    /// Bytes of state writes waiting for a checkpoint, roughly.
    pub(crate) fn deferred_bytes(&self) -> usize {
        self.deferred_bytes
    }

    /// Drops the group's writes.
    pub(crate) fn abort(&mut self) {
        self.pending.clear();
        self.runs.values_mut().for_each(Run::clear);
        self.spilled.clear();
        self.undo.clear();
    }

    /// State-cache hits and misses since start.
    pub(crate) fn cache_hits(&self) -> (u64, u64) {
        self.cache.hit_counts()
    }
}

impl StateStore for Store {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.spill_for(key);
        if let Some(v) = self.pending.get(key) {
            return Ok(v.clone());
        }
        let state = keys::is_state(key);
        if state {
            if let Some(v) = self.deferred.get(key) {
                return Ok(v.clone());
            }
            if let Some(v) = self.cache.get(key) {
                return Ok(v);
            }
        }
        let v = self.engine.get(key)?;
        if state {
            self.cache.insert(key.to_vec(), v.clone());
        }
        Ok(v)
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.spill_for(&key);
        self.write(key, Some(value));
    }

    fn delete(&mut self, key: Vec<u8>) {
        self.spill_for(&key);
        self.write(key, None);
    }

    fn scan(
        &mut self,
        prefix: &[u8],
        rev: bool,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        self.merged_scan(prefix, None, rev, f)
    }
}

impl Store {
    /// Like [`StateStore::scan`] in ascending order, from the first key at
    /// or after `from` (which starts with `prefix`).
    pub(crate) fn scan_from(
        &mut self,
        prefix: &[u8],
        from: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        self.merged_scan(prefix, Some(from), false, f)
    }

    fn merged_scan(
        &mut self,
        prefix: &[u8],
        from: Option<&[u8]>,
        rev: bool,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        let under: Vec<u64> = self
            .runs
            .iter()
            .filter(|(&rel, run)| {
                if run.is_empty() {
                    return false;
                }
                let rows = keys::rows_prefix(rel);
                rows.starts_with(prefix) || prefix.starts_with(&rows)
            })
            .map(|(&rel, _)| rel)
            .collect();
        for rel in under {
            self.spill(rel);
        }
        let start = from.unwrap_or(prefix);
        // Pending writes under the prefix, over deferred ones, in the
        // scan's direction, merged with what storage holds: a pending or
        // deferred entry replaces (or, as a delete, hides) the stored pair
        // with the same key.
        let mut over: Vec<(&[u8], &Pending)> = if self.deferred.is_empty() {
            writes_from(&self.pending, start, prefix)
        } else {
            overlay(
                writes_from(&self.pending, start, prefix).into_iter(),
                writes_from(&self.deferred, start, prefix).into_iter(),
            )
        };
        if rev {
            over.reverse();
        }
        let ahead = |a: &[u8], b: &[u8]| if rev { a > b } else { a < b };
        let mut i = 0;
        let mut stopped = false;
        let mut visit = |k: &[u8], v: &[u8]| -> bool {
            while let Some((ok, ov)) = over.get(i) {
                if !ahead(ok, k) {
                    break;
                }
                i += 1;
                if let Some(ov) = ov {
                    if !f(ok, ov) {
                        stopped = true;
                        return false;
                    }
                }
            }
            let go_on = match over.get(i) {
                Some((ok, ov)) if *ok == k => {
                    i += 1;
                    match ov {
                        Some(ov) => f(k, ov),
                        None => true,
                    }
                }
                _ => f(k, v),
            };
            stopped = !go_on;
            go_on
        };
        if rev {
            self.engine.for_each_prefix_rev(prefix, &mut visit)?;
        } else {
            self.engine
                .for_each_prefix_from(prefix, start, &mut visit)?;
        }
        if !stopped {
            for (ok, ov) in &over[i..] {
                if let Some(ov) = ov {
                    if !f(ok, ov) {
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Puts `rows` of relation `rel` (ascending by id) into `pending` as packs.
fn put_packs<B: AsRef<[u8]>>(
    pending: &mut BTreeMap<Vec<u8>, Pending>,
    rel: u64,
    rows: &[(u64, B)],
) {
    for (id, value) in crate::rows::pack_rows(rows) {
        pending.insert(keys::row(rel, &keys::row_id(id)), Some(value));
    }
}

/// The writes in `m` at or after `start` that start with `prefix`.
fn writes_from<'a>(
    m: &'a BTreeMap<Vec<u8>, Pending>,
    start: &[u8],
    prefix: &[u8],
) -> Vec<(&'a [u8], &'a Pending)> {
    m.range(start.to_vec()..)
        .take_while(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.as_slice(), v))
        .collect()
}

/// Merges two ascending runs of writes into one; `top` wins where both
/// write a key.
fn overlay<'a>(
    top: impl Iterator<Item = (&'a [u8], &'a Pending)>,
    under: impl Iterator<Item = (&'a [u8], &'a Pending)>,
) -> Vec<(&'a [u8], &'a Pending)> {
    let mut out = Vec::new();
    let mut under = under.peekable();
    for (k, v) in top {
        while let Some(u) = under.next_if(|(uk, _)| *uk < k) {
            out.push(u);
        }
        under.next_if(|(uk, _)| *uk == k);
        out.push((k, v));
    }
    out.extend(under);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivulet_storage::MemoryEngine;

    fn collect(s: &mut Store, prefix: &[u8], rev: bool) -> Vec<String> {
        let mut out = Vec::new();
        s.scan(prefix, rev, &mut |k, v| {
            out.push(format!(
                "{}={}",
                String::from_utf8_lossy(k),
                String::from_utf8_lossy(v)
            ));
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn scans_merge_pending_writes_with_storage() {
        let engine = Arc::new(MemoryEngine::new());
        let mut b = WriteBatch::new();
        for k in ["a1", "a3", "a5", "b1"] {
            b.put(k.as_bytes().to_vec(), b"old".to_vec());
        }
        engine.apply(&b).unwrap();
        let mut s = Store::new(engine.clone(), 1 << 20);
        s.put(b"a0".to_vec(), b"new".to_vec());
        s.put(b"a3".to_vec(), b"new".to_vec());
        s.delete(b"a5".to_vec());
        s.put(b"a9".to_vec(), b"new".to_vec());
        assert_eq!(
            collect(&mut s, b"a", false),
            vec!["a0=new", "a1=old", "a3=new", "a9=new"]
        );
        assert_eq!(
            collect(&mut s, b"a", true),
            vec!["a9=new", "a3=new", "a1=old", "a0=new"]
        );
        let mut from = Vec::new();
        s.scan_from(b"a", b"a2", &mut |k, _| {
            from.push(String::from_utf8_lossy(k).into_owned());
            true
        })
        .unwrap();
        assert_eq!(from, vec!["a3", "a9"]);
        // A failed command's writes disappear; earlier ones stay.
        s.begin();
        s.put(b"a1".to_vec(), b"bad".to_vec());
        s.delete(b"a0".to_vec());
        s.rollback();
        assert_eq!(s.get(b"a1").unwrap(), Some(b"old".to_vec()));
        assert_eq!(s.get(b"a0").unwrap(), Some(b"new".to_vec()));
        s.commit().unwrap();
        assert_eq!(engine.get(b"a5").unwrap(), None);
        assert_eq!(engine.get(b"a9").unwrap(), Some(b"new".to_vec()));
        assert_eq!(s.pending_len(), 0);
    }

    /// Entries of relation `rel` in storage: each entry's key id and the
    /// ids of the rows it holds.
    fn entries(engine: &dyn Engine, rel: u64) -> Vec<(u64, Vec<u64>)> {
        let mut out: Vec<(u64, Vec<u64>)> = Vec::new();
        engine
            .for_each_prefix_from(
                &keys::rows_prefix(rel),
                &keys::rows_prefix(rel),
                &mut |k, v| {
                    let key = keys::row_key_of(k);
                    let mut ids = Vec::new();
                    let v = crate::rows::plain_slice(v).unwrap();
                    crate::rows::each_row(key, &v, &mut |row, _| {
                        ids.push(keys::parse_row_id(row).unwrap());
                        Ok(true)
                    })
                    .unwrap();
                    out.push((keys::parse_row_id(key).unwrap(), ids));
                    true
                },
            )
            .unwrap();
        out
    }

    #[test]
    fn appended_rows_are_packed_spilled_by_reads_and_rolled_back() {
        let engine = Arc::new(MemoryEngine::new());
        let mut s = Store::new(engine.clone(), 1 << 20);
        let row = |i: u64| vec![Value::Int8(i as i64)];
        for id in 1..=40 {
            s.append(5, id, &row(id));
        }
        s.commit().unwrap();
        let packs = entries(engine.as_ref(), 5);
        assert_eq!(packs.len(), 2);
        assert_eq!(packs[0], (32, (1..=32).collect()));
        assert_eq!(packs[1], (40, (33..=40).collect()));
        // A read of the relation's rows sees the appended ones; a failed
        // command's appends disappear, spilled or not.
        s.append(5, 41, &row(41));
        s.append(5, 42, &row(42));
        s.begin();
        s.append(5, 43, &row(43));
        let key = |id: u64| keys::row(5, &keys::row_id(id));
        assert_eq!(s.get(&key(43)).unwrap(), Some(encode_row(&row(43))));
        s.append(5, 44, &row(44));
        s.rollback();
        assert_eq!(s.get(&key(43)).unwrap(), None);
        s.begin();
        s.append(5, 45, &row(45));
        s.rollback();
        s.delete(key(42));
        s.append(5, 46, &row(46));
        // Out of order: still stored in order, without overlapping entries.
        s.append(6, 9, &row(9));
        s.append(6, 7, &row(7));
        s.commit().unwrap();
        assert_eq!(entries(engine.as_ref(), 5)[2..], [(46, vec![41, 46])]);
        assert_eq!(entries(engine.as_ref(), 6), [(9, vec![7, 9])]);
        assert_eq!(s.pending_len(), 0);
        // An aborted group leaves nothing behind.
        s.append(5, 47, &row(47));
        s.abort();
        s.commit().unwrap();
        assert_eq!(entries(engine.as_ref(), 5).len(), 3);
        // Only relations the last group appended to keep a buffer.
        assert!(s.runs.is_empty());
    }

    #[test]
    fn deferred_state_is_read_back_and_applied_at_a_checkpoint() {
        let engine = Arc::new(MemoryEngine::new());
        let st = |k: &str| {
            let mut key = keys::state_table(7, 0);
            key.extend_from_slice(k.as_bytes());
            key
        };
        let text = |k: &[u8]| String::from_utf8_lossy(&k[11..]).into_owned();
        let mut b = WriteBatch::new();
        b.put(st("a1"), b"old".to_vec());
        b.put(st("a2"), b"old".to_vec());
        engine.apply(&b).unwrap();
        let mut s = Store::new(engine.clone(), 1 << 20);
        s.put(st("a1"), b"new".to_vec());
        s.delete(st("a2"));
        s.put(st("a3"), b"new".to_vec());
        s.put(b"row".to_vec(), b"r".to_vec());
        s.commit_deferring(|_| true).unwrap();
        // The row is stored; the state writes wait, yet are read back.
        assert_eq!(engine.get(b"row").unwrap(), Some(b"r".to_vec()));
        assert_eq!(engine.get(&st("a1")).unwrap(), Some(b"old".to_vec()));
        assert!(s.has_deferred() && s.deferred_bytes() > 0);
        assert_eq!(s.get(&st("a1")).unwrap(), Some(b"new".to_vec()));
        assert_eq!(s.get(&st("a2")).unwrap(), None);
        // A later group's pending write goes over a deferred one.
        s.put(st("a3"), b"newer".to_vec());
        let mut seen = Vec::new();
        s.scan(&keys::state_table(7, 0), false, &mut |k, v| {
            seen.push(format!("{}={}", text(k), String::from_utf8_lossy(v)));
            true
        })
        .unwrap();
        assert_eq!(seen, vec!["a1=new", "a3=newer"]);
        // A failed group takes only its own writes with it.
        s.abort();
        assert_eq!(s.get(&st("a3")).unwrap(), Some(b"new".to_vec()));
        // A checkpoint applies them all.
        s.commit().unwrap();
        assert!(!s.has_deferred());
        assert_eq!(engine.get(&st("a1")).unwrap(), Some(b"new".to_vec()));
        assert_eq!(engine.get(&st("a2")).unwrap(), None);
        assert_eq!(engine.get(&st("a3")).unwrap(), Some(b"new".to_vec()));
    }
}
