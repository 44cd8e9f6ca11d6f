//! The on-disk engine, backed by sled.

use std::path::Path;

use crate::{Engine, KvPair, Result, WriteBatch};

/// An [`Engine`] over one sled tree. sled's own background flush is turned
/// off: durability comes only from [`Engine::flush`], which the caller
/// batches (group commit).
pub struct SledEngine {
    db: sled::Db,
}

impl SledEngine {
    /// Opens (creating if needed) the database in directory `path`, with
    /// sled's page cache limited to `cache_bytes`.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<SledEngine> {
        std::fs::create_dir_all(path)?;
        let db = sled::Config::new()
            .path(path)
            .flush_every_ms(None)
            .cache_capacity(cache_bytes)
            .open()?;
        Ok(SledEngine { db })
    }

    /// Bytes sled reports using on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
    }
}

impl Engine for SledEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<KvPair>> {
        self.db
            .scan_prefix(prefix)
            .map(|r| {
                let (k, v) = r?;
                Ok((k.to_vec(), v.to_vec()))
            })
            .collect()
    }

    fn for_each_prefix(
        &self,
        prefix: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        for r in self.db.scan_prefix(prefix) {
            let (k, v) = r?;
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
        for r in self.db.range(from..) {
            let (k, v) = r?;
            if !k.starts_with(prefix) || !f(&k, &v) {
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
        for r in self.db.scan_prefix(prefix).rev() {
            let (k, v) = r?;
            if !f(&k, &v) {
                break;
            }
        }
        Ok(())
    }

    fn last_key_with_prefix(&self, prefix: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.db.scan_prefix(prefix).next_back() {
            Some(r) => Ok(Some(r?.0.to_vec())),
            None => Ok(None),
        }
    }

    fn apply(&self, batch: &WriteBatch) -> Result<()> {
        let mut b = sled::Batch::default();
        for (k, v) in &batch.ops {
            match v {
                Some(v) => b.insert(k.as_slice(), v.as_slice()),
                None => b.remove(k.as_slice()),
            }
        }
        self.db.apply_batch(b)?;
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }
}

impl Drop for SledEngine {
    fn drop(&mut self) {
        // Best effort on clean shutdown; acknowledged writes were already
        // flushed by the writer.
        let _ = self.db.flush();
    }
}
