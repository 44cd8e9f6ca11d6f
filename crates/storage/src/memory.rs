//! An in-memory engine for tests.

use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::{Engine, KvPair, Result, WriteBatch};

/// An [`Engine`] over a `BTreeMap`; nothing survives the process.
#[derive(Default)]
pub struct MemoryEngine {
    data: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryEngine {
    /// An empty engine.
    pub fn new() -> MemoryEngine {
        MemoryEngine::default()
    }
}

impl Engine for MemoryEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        // A poisoned lock means a panic mid-write elsewhere; the map itself is
        // still consistent because every write is a single insert/remove.
        let data = self.data.read().unwrap_or_else(|e| e.into_inner());
        Ok(data.get(key).cloned())
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<KvPair>> {
        let data = self.data.read().unwrap_or_else(|e| e.into_inner());
        Ok(data
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn for_each_prefix(
        &self,
        prefix: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        // Copy out first so `f` never runs under the lock.
        for (k, v) in self.scan_prefix(prefix)? {
            if !f(&k, &v) {
                break;
            }
        }
        Ok(())
    }

    fn for_each_prefix_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        let pairs: Vec<KvPair> = {
            let data = self.data.read().unwrap_or_else(|e| e.into_inner());
            data.range(from.to_vec()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        for (k, v) in pairs {
            if !f(&k, &v) {
                break;
            }
        }
        Ok(())
    }

    fn for_each_prefix_rev(
        &self,
        prefix: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        for (k, v) in self.scan_prefix(prefix)?.into_iter().rev() {
            if !f(&k, &v) {
                break;
            }
        }
        Ok(())
    }

    fn last_key_with_prefix(&self, prefix: &[u8]) -> Result<Option<Vec<u8>>> {
        let data = self.data.read().unwrap_or_else(|e| e.into_inner());
        Ok(data
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .last()
            .map(|(k, _)| k.clone()))
    }

    fn apply(&self, batch: &WriteBatch) -> Result<()> {
        let mut data = self.data.write().unwrap_or_else(|e| e.into_inner());
        for (k, v) in &batch.ops {
            match v {
                Some(v) => data.insert(k.clone(), v.clone()),
                None => data.remove(k),
            };
        }
        Ok(())
    }

    fn snapshot(&self) -> Result<std::sync::Arc<dyn Engine>> {
        // A copy: the memory engine is for tests and `--ephemeral` runs.
        let data = self.data.read().unwrap_or_else(|e| e.into_inner()).clone();
        Ok(std::sync::Arc::new(MemoryEngine {
            data: RwLock::new(data),
        }))
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }
}
