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
mod run;
mod store;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::query::ENTRY_OVERHEAD;
use crate::{Reservation, Result};

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
    /// Where what the map holds is charged, if anywhere.
    memory: Option<Arc<Reservation>>,
}

/// Bytes charged for one entry.
fn entry_size(key: &[u8], value: &[u8]) -> usize {
    key.len() + value.len() + ENTRY_OVERHEAD
}

impl MemState {
    /// An empty state space.
    pub fn new() -> MemState {
        MemState::default()
    }

    /// An empty state space charging what it holds to `memory` (a charge
    /// past the limit shows at the reservation's next check).
    pub fn charged_to(memory: Arc<Reservation>) -> MemState {
        MemState {
            map: BTreeMap::new(),
            memory: Some(memory),
        }
    }
}

impl Drop for MemState {
    fn drop(&mut self) {
        if let Some(m) = &self.memory {
            let held: usize = self.map.iter().map(|(k, v)| entry_size(k, v)).sum();
            m.release(held);
        }
    }
}

impl StateStore for MemState {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.map.get(key).cloned())
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        if let Some(m) = &self.memory {
            m.charge(entry_size(&key, &value));
        }
        if let (Some(old), Some(m)) = (self.map.get(&key), &self.memory) {
            m.release(entry_size(&key, old));
        }
        self.map.insert(key, value);
    }

    fn delete(&mut self, key: Vec<u8>) {
        if let (Some(old), Some(m)) = (self.map.remove(&key), &self.memory) {
            m.release(entry_size(&key, &old));
        }
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
