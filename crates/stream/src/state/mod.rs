//! State tables: where stateful operators keep what they remember.
//!
//! An operator never holds the only copy of its state in memory. Each one
//! owns a key space — `keys::state_table(view, op)` followed by keys of its
//! own choosing — in a [`StateStore`], and reads and writes it as it
//! processes changes. The writer's store (`Store`) is the storage engine
//! behind two layers: the group's pending writes, which commit in the same
//! atomic batch as the table rows and view rows they belong to, and a cache
//! of committed state with a byte budget (`Cache`). Start-up therefore
//! opens storage and nothing more: no source row is read to rebuild state.
//!
//! Ad-hoc queries run the same operators over a [`MemState`], which lives
//! only as long as the query.

mod cache;
mod store;

use std::collections::BTreeMap;

use crate::Result;

pub(crate) use cache::Cache;
pub(crate) use store::Store;

/// An ordered key-value space for operator state.
///
/// Contract: a read sees every earlier write through the same store; writes
/// become durable only when the store's owner commits them, all together.
pub trait StateStore {
    /// The value under `key`.
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Sets `key` to `value`.
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);

    /// Removes `key`.
    fn delete(&mut self, key: Vec<u8>);

    /// Calls `f` with every pair under `prefix`, in ascending key order (or
    /// descending when `rev`), until `f` returns false.
    fn scan(
        &mut self,
        prefix: &[u8],
        rev: bool,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()>;
}

/// State held in memory for the length of one ad-hoc query.
#[derive(Debug, Default)]
pub struct MemState {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemState {
    /// An empty state space.
    pub fn new() -> MemState {
        MemState::default()
    }
}

impl StateStore for MemState {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.map.get(key).cloned())
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.map.insert(key, value);
    }

    fn delete(&mut self, key: Vec<u8>) {
        self.map.remove(&key);
    }

    fn scan(
        &mut self,
        prefix: &[u8],
        rev: bool,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        let range = self
            .map
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix));
        if rev {
            let all: Vec<_> = range.collect();
            for (k, v) in all.into_iter().rev() {
                if !f(k, v) {
                    break;
                }
            }
        } else {
            for (k, v) in range {
                if !f(k, v) {
                    break;
                }
            }
        }
        Ok(())
    }
}
