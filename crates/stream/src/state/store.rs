//! The writer's view of storage: committed data, plus the current group's
//! pending writes, plus a cache of committed state.

use std::collections::BTreeMap;
use std::sync::Arc;

use rivulet_storage::{keys, Engine, WriteBatch};

use super::{Cache, StateStore};
use crate::Result;

/// A pending write: `Some` puts, `None` deletes.
type Pending = Option<Vec<u8>>;

/// Storage as the writer sees it while it executes a group of commands.
///
/// Reads see, in order: the pending writes of the group, the cache of
/// committed state, the engine. Writes stay pending until
/// [`commit`](Store::commit) applies them as one atomic batch; only then do
/// state entries enter the cache, so the cache never holds anything that
/// is not in storage and a failed commit needs no repair beyond dropping
/// the batch.
///
/// Each command runs inside a savepoint ([`begin`](Store::begin)): a
/// command that fails [`rolls back`](Store::rollback) its own writes and
/// leaves the rest of the group intact.
pub(crate) struct Store {
    engine: Arc<dyn Engine>,
    /// Writes of the group, ordered so scans can merge them with storage.
    pending: BTreeMap<Vec<u8>, Pending>,
    /// Since the savepoint: each written key with its earlier pending
    /// entry (`None` when it had none), newest last.
    undo: Vec<(Vec<u8>, Option<Pending>)>,
    /// Committed state entries.
    cache: Cache,
}

impl Store {
    /// A store over `engine` whose cache holds at most `cache_bytes`.
    pub(crate) fn new(engine: Arc<dyn Engine>, cache_bytes: usize) -> Store {
        Store {
            engine,
            pending: BTreeMap::new(),
            undo: Vec::new(),
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
    }

    /// Undoes every write since [`begin`](Store::begin).
    pub(crate) fn rollback(&mut self) {
        while let Some((key, before)) = self.undo.pop() {
            match before {
                Some(v) => self.pending.insert(key, v),
                None => self.pending.remove(&key),
            };
        }
    }

    /// Number of pending writes.
    #[cfg(test)]
    pub(crate) fn pending_len(&self) -> usize {
        self.pending.len()
    }

    fn write(&mut self, key: Vec<u8>, value: Pending) {
        let before = self.pending.insert(key.clone(), value);
        self.undo.push((key, before));
    }

    /// Applies the group's writes to storage as one atomic batch (visible,
    /// not yet durable: the caller flushes). On failure the batch is
    /// dropped, and storage and the cache are as before the group.
    pub(crate) fn commit(&mut self) -> rivulet_storage::Result<()> {
        self.undo.clear();
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = WriteBatch {
            ops: std::mem::take(&mut self.pending).into_iter().collect(),
        };
        self.engine.apply(&batch)?;
        for (k, v) in batch.ops {
            if keys::is_state(&k) {
                self.cache.insert(k, v);
            }
        }
        Ok(())
    }

    /// Removes and returns the pending writes whose keys are at least
    /// `from` and start with `prefix`, for the writer to rewrite them once
    /// the group's commands have run (no savepoint covers this).
    pub(crate) fn take_pending_from(
        &mut self,
        from: &[u8],
        prefix: &[u8],
    ) -> Vec<(Vec<u8>, Pending)> {
        let keys: Vec<Vec<u8>> = self
            .pending
            .range(from.to_vec()..)
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| {
                let v = self.pending.remove(&k)?;
                Some((k, v))
            })
            .collect()
    }

    /// Drops the group's writes.
    pub(crate) fn abort(&mut self) {
        self.pending.clear();
        self.undo.clear();
    }

    /// State-cache hits and misses since start.
    pub(crate) fn cache_hits(&self) -> (u64, u64) {
        self.cache.hit_counts()
    }
}

impl StateStore for Store {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(v) = self.pending.get(key) {
            return Ok(v.clone());
        }
        let state = keys::is_state(key);
        if state {
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
        self.write(key, Some(value));
    }

    fn delete(&mut self, key: Vec<u8>) {
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
        let start = from.unwrap_or(prefix);
        // Pending writes under the prefix, in the scan's direction, merged
        // with what storage holds: a pending entry replaces (or, as a
        // delete, hides) the stored pair with the same key.
        let mut over: Vec<(&Vec<u8>, &Pending)> = self
            .pending
            .range(start.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .collect();
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
                Some((ok, ov)) if ok.as_slice() == k => {
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
}
