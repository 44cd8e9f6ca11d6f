//! The on-disk engine, backed by fjall (a log-structured merge tree).
//!
//! Why an LSM and not sled, which Rivulet used first: sled 0.34 writes its
//! page-table snapshot only while opening a database, and every open
//! replays its log from the last snapshot; after a long run that is the
//! whole run's writes (measured: 4.3 s to reopen after 1M events, growing
//! with every event). fjall's journal is bounded (`MAX_JOURNAL`): older
//! writes live in sorted, compressed tables, so opening costs the same at
//! any size, and JSON documents compress about threefold on disk.

use std::path::Path;

use bytes::Bytes;
use fjall::config::{BlockSizePolicy, CompressionPolicy, PartitioningPolicy};
use fjall::{CompressionType, Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use crate::{Engine, KvPair, Result, WriteBatch};

/// The memory an on-disk engine may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageBudget {
    /// Cache of table blocks (decompressed), in bytes.
    pub cache: u64,
    /// Size at which the in-memory write buffer (memtable) is flushed to a
    /// table, in bytes.
    pub memtable: u64,
}

/// The most journal (write-ahead log) kept before memtables are flushed
/// to tables: what a restart replays at most. fjall's minimum.
const MAX_JOURNAL: u64 = 64 << 20;

/// Data block size: larger blocks compress JSON better and scan faster.
const BLOCK_SIZE: u32 = 16 << 10;

/// An [`Engine`] over one fjall keyspace. Batches are written to the
/// journal without syncing; [`Engine::flush`] fsyncs it (group commit).
pub struct FjallEngine {
    db: Database,
    data: Keyspace,
}

impl FjallEngine {
    /// Opens (creating if needed) the database in directory `path`, with a
    /// block cache of `budget.cache` and memtables flushed at
    /// `budget.memtable` bytes.
    pub fn open(path: &Path, budget: StorageBudget) -> Result<FjallEngine> {
        std::fs::create_dir_all(path)?;
        let db = Database::builder(path)
            .cache_size(budget.cache)
            .max_journaling_size(MAX_JOURNAL)
            .manual_journal_persist(true)
            .open()?;
        let data = db.keyspace("data", || {
            KeyspaceCreateOptions::default()
                .max_memtable_size(budget.memtable)
                .data_block_size_policy(BlockSizePolicy::all(BLOCK_SIZE))
                .data_block_compression_policy(CompressionPolicy::all(CompressionType::Lz4))
                // Bloom filters and indexes in small partitions on every
                // level, loaded through the block cache: a large table's
                // whole filter would not fit a small cache and would be
                // re-read from its file on every lookup that misses.
                .filter_block_partitioning_policy(PartitioningPolicy::all(true))
                .index_block_partitioning_policy(PartitioningPolicy::all(true))
        })?;
        Ok(FjallEngine { db, data })
    }

    fn visit(
        iter: impl Iterator<Item = fjall::Guard>,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        for guard in iter {
            let (k, v) = guard.into_inner()?;
            if !f(&k, &v) {
                break;
            }
        }
        Ok(())
    }
}

impl Engine for FjallEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.data.get(key)?.map(|v| v.to_vec()))
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<KvPair>> {
        let mut out = Vec::new();
        self.for_each_prefix(prefix, &mut |k, v| {
            out.push((k.to_vec(), v.to_vec()));
            true
        })?;
        Ok(out)
    }

    fn for_each_prefix(
        &self,
        prefix: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        Self::visit(self.data.prefix(prefix), f)
    }

    fn for_each_prefix_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        let mut inside = |k: &[u8], v: &[u8]| k.starts_with(prefix) && f(k, v);
        Self::visit(self.data.range(from..), &mut inside)
    }

    fn for_each_prefix_rev(
        &self,
        prefix: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        Self::visit(self.data.prefix(prefix).rev(), f)
    }

    fn for_each_value_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        f: &mut dyn FnMut(&[u8], Bytes) -> bool,
    ) -> Result<()> {
        let iter = if from <= prefix {
            self.data.prefix(prefix)
        } else {
            self.data.range(from..)
        };
        for guard in iter {
            let (k, v) = guard.into_inner()?;
            // The value is a reference-counted view of a cached block:
            // shared, not copied.
            if !k.starts_with(prefix) || !f(&k, Bytes::from_owner(v)) {
                break;
            }
        }
        Ok(())
    }

    fn last_key_with_prefix(&self, prefix: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.data.prefix(prefix).next_back() {
            Some(guard) => Ok(Some(guard.key()?.to_vec())),
            None => Ok(None),
        }
    }

    fn apply(&self, batch: WriteBatch) -> Result<()> {
        let mut b = self.db.batch();
        for (k, v) in batch.ops {
            match v {
                Some(v) => b.insert(&self.data, k, v),
                None => b.remove(&self.data, k),
            }
        }
        b.commit()?;
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        self.db.persist(PersistMode::SyncAll)?;
        Ok(())
    }
}
