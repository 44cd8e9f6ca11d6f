//! The on-disk engine, backed by fjall (a log-structured merge tree).
//!
//! Why an LSM and not sled, which Rivulet used first: sled 0.34 writes its
//! page-table snapshot only while opening a database, and every open
//! replays its log from the last snapshot; after a long run that is the
//! whole run's writes (measured: 4.3 s to reopen after 1M events, growing
//! with every event). fjall's journal is bounded (`MAX_JOURNAL`): older
//! writes live in sorted, compressed tables, so opening costs the same at
//! any size, and JSON documents compress about threefold on disk.
//!
//! Each relation's rows live in a keyspace (an LSM tree) of their own,
//! `rel-<id>`; metadata, the catalog and operator state share `data`. All
//! keyspaces share one journal, so a batch spanning them stays atomic.
//! Rows appended under increasing row ids then flush to tables whose key
//! ranges do not overlap, and the tree's compactions move those tables
//! down a level without rewriting them: a row is written to a table once,
//! however long the stream grows, instead of being merged again with the
//! state that changes on every event. Dropping a relation drops its
//! keyspace in one step.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Mutex, PoisonError, RwLock};

use bytes::Bytes;
use fjall::config::{BlockSizePolicy, CompressionPolicy, PartitioningPolicy};
use fjall::{
    CompressionType, Database, Keyspace, KeyspaceCreateOptions, PersistMode, Readable, Snapshot,
};

use crate::{keys, Engine, KvPair, Result, WriteBatch};

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
/// to tables: what a restart replays at most, and so also a bound on all
/// keyspaces' memtables together. fjall's minimum.
const MAX_JOURNAL: u64 = 64 << 20;

/// Data block size: larger blocks compress JSON better and scan faster.
const BLOCK_SIZE: u32 = 16 << 10;

/// Keys moved per batch when rows are moved out of `data` (directories
/// written before relations had keyspaces of their own).
const MOVE_BATCH: usize = 10_000;

/// Name of the keyspace holding relation `rel`'s rows.
fn keyspace_name(rel: u64) -> String {
    format!("rel-{rel}")
}

/// One stretch of the key space, in key order: `data`'s keys below the
/// rows, one relation's rows, or `data`'s keys above the rows.
enum Segment {
    Below,
    Rows(Keyspace),
    Above,
}

/// Bytes written to each keyspace's memtable since it was last rotated
/// here: memtables are bounded together, not each on its own, so many
/// relations do not multiply the memory they take.
#[derive(Default)]
struct Unflushed {
    /// By relation; `None` is `data`.
    by_keyspace: HashMap<Option<u64>, u64>,
    total: u64,
}

/// An [`Engine`] over fjall keyspaces: `data`, and one per relation for
/// its rows. Batches are written to the journal without syncing;
/// [`Engine::flush`] fsyncs it (group commit).
pub struct FjallEngine {
    db: Database,
    data: Keyspace,
    /// All memtables together: when their writes reach it, the largest is
    /// sealed and flushed.
    memtable: u64,
    relations: RwLock<BTreeMap<u64, Keyspace>>,
    unflushed: Mutex<Unflushed>,
    /// Memtables to seal, handed to the `rivulet-seal` thread: sealing
    /// takes the journal's lock and then tidies every keyspace's versions
    /// and the journal's files, which a batch being applied must not wait
    /// for. The thread ends when the engine is dropped.
    seal: std::sync::mpsc::Sender<Keyspace>,
}

/// Seals the memtables `keyspaces` sends until the engine is dropped
/// (fjall then flushes them in the background).
fn seal_memtables(keyspaces: std::sync::mpsc::Receiver<Keyspace>) {
    for keyspace in keyspaces {
        if let Err(e) = keyspace.rotate_memtable() {
            tracing::warn!("sealing a memtable failed (it stays in memory): {e}");
        }
    }
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
            // The large values are row packs, which the stream layer
            // stores LZ4-compressed already; the rest are small.
            .journal_compression(CompressionType::None)
            .open()?;
        let data = db.keyspace("data", || options(budget.memtable))?;
        let mut relations = BTreeMap::new();
        for name in db.list_keyspace_names() {
            let Some(rel) = name.strip_prefix("rel-").and_then(|id| id.parse().ok()) else {
                continue;
            };
            relations.insert(rel, db.keyspace(&name, || options(budget.memtable))?);
        }
        let (seal, to_seal) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("rivulet-seal".into())
            .spawn(move || seal_memtables(to_seal))?;
        let engine = FjallEngine {
            db,
            data,
            memtable: budget.memtable,
            relations: RwLock::new(relations),
            unflushed: Mutex::new(Unflushed::default()),
            seal,
        };
        engine.move_rows_out_of_data()?;
        Ok(engine)
    }

    /// Moves rows stored in `data` (by versions that kept everything in
    /// one keyspace) to their relations' keyspaces, a batch at a time;
    /// each batch inserts and removes atomically, so an interrupted move
    /// resumes where it stopped.
    fn move_rows_out_of_data(&self) -> Result<()> {
        let rows = keys::rows_prefix(0)[..1].to_vec();
        if self.data.prefix(&rows).next().is_none() {
            return Ok(());
        }
        tracing::info!("moving rows into a keyspace per relation; this happens once");
        let mut moved = 0u64;
        loop {
            let mut batch = self.db.batch();
            let mut n = 0;
            for guard in self.data.prefix(&rows).take(MOVE_BATCH) {
                let (k, v) = guard.into_inner()?;
                let rel = keys::relation_of_row(&k).ok_or_else(|| {
                    crate::Error::Corrupt(format!("a row key of {} bytes", k.len()))
                })?;
                batch.insert(&self.relation(rel)?, k.clone(), v);
                batch.remove(&self.data, k);
                n += 1;
            }
            if n == 0 {
                break;
            }
            batch.commit()?;
            moved += n as u64;
        }
        self.db.persist(PersistMode::SyncAll)?;
        tracing::info!(rows = moved, "moved rows into a keyspace per relation");
        Ok(())
    }

    /// Counts `written` bytes against the memtables' budget and, while
    /// they are over it, has the memtable that took the most sealed (on
    /// the `rivulet-seal` thread; fjall then flushes it in the background).
    fn bound_memtables(&self, written: HashMap<Option<u64>, u64>) -> Result<()> {
        let mut u = self
            .unflushed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (ks, n) in written {
            *u.by_keyspace.entry(ks).or_default() += n;
            u.total += n;
        }
        while u.total > self.memtable {
            let Some((&ks, &n)) = u.by_keyspace.iter().max_by_key(|(_, n)| **n) else {
                break;
            };
            // Not worth a table of its own: what is left is in memtables
            // that are sealed and waiting for their flush.
            if n < self.memtable / 8 {
                break;
            }
            u.by_keyspace.remove(&ks);
            u.total -= n;
            let keyspace = match ks {
                None => Some(self.data.clone()),
                Some(rel) => self.holder(&keys::rows_prefix(rel)),
            };
            if let Some(keyspace) = keyspace {
                // The thread outlives every batch: sending cannot fail.
                let _ = self.seal.send(keyspace);
            }
        }
        Ok(())
    }

    /// Bytes in memtables (active or sealed) not yet flushed to tables,
    /// by fjall's count.
    #[cfg(test)]
    pub(crate) fn unflushed_memtable_bytes(&self) -> u64 {
        self.db.write_buffer_size()
    }

    /// Whether relation `rel`'s rows have a keyspace yet.
    #[cfg(test)]
    pub(crate) fn has_keyspace(&self, rel: u64) -> bool {
        self.relations
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&rel)
    }

    /// The keyspace of relation `rel`'s rows, created on first use.
    fn relation(&self, rel: u64) -> Result<Keyspace> {
        if let Some(ks) = self
            .relations
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&rel)
        {
            return Ok(ks.clone());
        }
        let mut relations = self
            .relations
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(ks) = relations.get(&rel) {
            return Ok(ks.clone());
        }
        let memtable = self.memtable;
        let ks = self
            .db
            .keyspace(&keyspace_name(rel), || options(memtable))?;
        relations.insert(rel, ks.clone());
        Ok(ks)
    }

    /// The keyspace holding `key`, if it exists.
    fn holder(&self, key: &[u8]) -> Option<Keyspace> {
        match keys::relation_of_row(key) {
            Some(rel) => self
                .relations
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&rel)
                .cloned(),
            None => Some(self.data.clone()),
        }
    }

    /// Calls `f` with each pair whose key starts with `prefix`, from `from`
    /// on (or from the last one backwards, when `reverse`), until it
    /// returns false.
    fn visit(
        &self,
        prefix: &[u8],
        from: &[u8],
        reverse: bool,
        f: &mut dyn FnMut(&[u8], fjall::Slice) -> bool,
    ) -> Result<()> {
        let segments = segments(
            &self
                .relations
                .read()
                .unwrap_or_else(PoisonError::into_inner),
            prefix,
        );
        visit(&self.data, segments, At::Now, prefix, from, reverse, f)
    }
}

/// Reading the keyspaces as they are, or as a snapshot saw them.
#[derive(Clone, Copy)]
enum At<'a> {
    Now,
    Snapshot(&'a Snapshot),
}

impl At<'_> {
    fn range(self, ks: &Keyspace, range: (Bound<Vec<u8>>, Bound<Vec<u8>>)) -> fjall::Iter {
        match self {
            At::Now => ks.range::<Vec<u8>, _>(range),
            At::Snapshot(s) => s.range::<Vec<u8>, _>(ks, range),
        }
    }
}

/// The stretches holding keys that start with `prefix`, in key order,
/// among `relations`' keyspaces and `data`.
fn segments(relations: &BTreeMap<u64, Keyspace>, prefix: &[u8]) -> Vec<Segment> {
    let rows = keys::rows_prefix(0)[0];
    match prefix.first() {
        Some(&b) if b < rows => vec![Segment::Below],
        Some(&b) if b > rows => vec![Segment::Above],
        _ => {
            if let Some(rel) = keys::relation_of_row(prefix) {
                return relations
                    .get(&rel)
                    .cloned()
                    .map(Segment::Rows)
                    .into_iter()
                    .collect();
            }
            let mut out = Vec::new();
            if prefix.is_empty() {
                out.push(Segment::Below);
            }
            for (&rel, ks) in relations.iter() {
                let p = keys::rows_prefix(rel);
                if p.starts_with(prefix) || prefix.starts_with(&p) {
                    out.push(Segment::Rows(ks.clone()));
                }
            }
            if prefix.is_empty() {
                out.push(Segment::Above);
            }
            out
        }
    }
}

/// The keys of `segment` that start with `prefix`, from `from` on (which
/// is at or after `prefix`); `None` when there are none.
fn range(
    data: &Keyspace,
    at: At<'_>,
    segment: &Segment,
    prefix: &[u8],
    from: &[u8],
) -> Option<fjall::Iter> {
    let rows = keys::rows_prefix(0)[0];
    let (ks, lo, hi) = match segment {
        Segment::Below => (data, None, Some(vec![rows])),
        Segment::Rows(ks) => (ks, None, None),
        Segment::Above => (data, Some(vec![rows + 1]), None),
    };
    let lo = match lo {
        Some(lo) if lo.as_slice() > from => lo,
        _ => from.to_vec(),
    };
    let hi = match (hi, keys::prefix_end(prefix)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if hi.as_ref().is_some_and(|hi| *hi <= lo) {
        return None;
    }
    let hi = hi.map_or(Bound::Unbounded, Bound::Excluded);
    Some(at.range(ks, (Bound::Included(lo), hi)))
}

/// Calls `f` with each pair of `segments` whose key starts with `prefix`,
/// from `from` on (or from the last one backwards, when `reverse`), until
/// it returns false.
fn visit(
    data: &Keyspace,
    mut segments: Vec<Segment>,
    at: At<'_>,
    prefix: &[u8],
    from: &[u8],
    reverse: bool,
    f: &mut dyn FnMut(&[u8], fjall::Slice) -> bool,
) -> Result<()> {
    if reverse {
        segments.reverse();
    }
    for segment in &segments {
        let Some(iter) = range(data, at, segment, prefix, from) else {
            continue;
        };
        let iter: Box<dyn Iterator<Item = fjall::Guard>> = if reverse {
            Box::new(iter.rev())
        } else {
            Box::new(iter)
        };
        for guard in iter {
            let (k, v) = guard.into_inner()?;
            if !f(&k, v) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// How every keyspace is configured. Memtables are sealed by
/// [`FjallEngine::bound_memtables`], for all keyspaces together; each
/// keyspace's own limit is only a backstop.
fn options(memtable: u64) -> KeyspaceCreateOptions {
    KeyspaceCreateOptions::default()
        .max_memtable_size(memtable.saturating_mul(2))
        .data_block_size_policy(BlockSizePolicy::all(BLOCK_SIZE))
        .data_block_compression_policy(CompressionPolicy::all(CompressionType::Lz4))
        // Bloom filters and indexes in small partitions on every level,
        // loaded through the block cache: a large table's whole filter
        // would not fit a small cache and would be re-read from its file
        // on every lookup that misses.
        .filter_block_partitioning_policy(PartitioningPolicy::all(true))
        .index_block_partitioning_policy(PartitioningPolicy::all(true))
}

/// The [`Engine`] read methods other than `get`, in terms of the
/// implementor's `visit`.
macro_rules! reads_by_visit {
    () => {
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
            self.visit(prefix, prefix, false, &mut |k, v| f(k, &v))
        }

        fn for_each_prefix_from(
            &self,
            prefix: &[u8],
            from: &[u8],
            f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
        ) -> Result<()> {
            self.visit(prefix, from.max(prefix), false, &mut |k, v| f(k, &v))
        }

        fn for_each_prefix_rev(
            &self,
            prefix: &[u8],
            f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
        ) -> Result<()> {
            self.visit(prefix, prefix, true, &mut |k, v| f(k, &v))
        }

        fn for_each_value_from(
            &self,
            prefix: &[u8],
            from: &[u8],
            f: &mut dyn FnMut(&[u8], Bytes) -> bool,
        ) -> Result<()> {
            // The value is a reference-counted view of a cached block: shared,
            // not copied.
            self.visit(prefix, from.max(prefix), false, &mut |k, v| {
                f(k, Bytes::from_owner(v))
            })
        }

        fn last_key_with_prefix(&self, prefix: &[u8]) -> Result<Option<Vec<u8>>> {
            let mut last = None;
            self.visit(prefix, prefix, true, &mut |k, _| {
                last = Some(k.to_vec());
                false
            })?;
            Ok(last)
        }
    };
}

impl Engine for FjallEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.holder(key) {
            Some(ks) => Ok(ks.get(key)?.map(|v| v.to_vec())),
            None => Ok(None),
        }
    }

    reads_by_visit!();

    fn apply(&self, batch: &WriteBatch) -> Result<()> {
        let mut b = self.db.batch();
        // Consecutive writes mostly go to one relation: look its keyspace
        // up once per run of them.
        let mut current: Option<(u64, Keyspace)> = None;
        let mut written: HashMap<Option<u64>, u64> = HashMap::new();
        for (k, v) in &batch.ops {
            let rel = keys::relation_of_row(k);
            let ks = match rel {
                None => &self.data,
                Some(rel) => {
                    if current.as_ref().map(|(r, _)| *r) != Some(rel) {
                        current = match (v, self.holder(k)) {
                            (_, Some(ks)) => Some((rel, ks)),
                            (Some(_), None) => Some((rel, self.relation(rel)?)),
                            (None, None) => None,
                        };
                    }
                    match &current {
                        Some((_, ks)) => ks,
                        // Deleting from a relation with no keyspace: there
                        // is nothing to delete.
                        None => continue,
                    }
                }
            };
            *written.entry(rel).or_default() += (k.len() + v.as_ref().map_or(0, Vec::len)) as u64;
            match v {
                Some(v) => b.insert(ks, k.as_slice(), v.as_slice()),
                None => b.remove(ks, k.as_slice()),
            }
        }
        b.commit()?;
        self.bound_memtables(written)
    }

    fn prepare_relation(&self, rel: u64) -> Result<()> {
        self.relation(rel).map(drop)
    }

    fn flush(&self) -> Result<()> {
        // `fdatasync`: the journal's bytes and what reading them back needs
        // (its length, its blocks), not its timestamps, which a full
        // `fsync` also writes; PostgreSQL syncs its WAL the same way on
        // Linux (`wal_sync_method = fdatasync`).
        self.db.persist(PersistMode::SyncData)?;
        Ok(())
    }

    fn snapshot(&self) -> Result<std::sync::Arc<dyn Engine>> {
        let relations = self
            .relations
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Ok(std::sync::Arc::new(FjallSnapshot {
            data: self.data.clone(),
            relations,
            at: self.db.snapshot(),
        }))
    }

    fn drop_rows(&self, rel: u64) -> Result<bool> {
        let ks = self
            .relations
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&rel);
        if let Some(ks) = ks {
            self.db.delete_keyspace(ks)?;
        }
        Ok(true)
    }
}

/// The keyspaces as they were at one instant: every batch applied before
/// it, none after. Reads only.
struct FjallSnapshot {
    data: Keyspace,
    relations: BTreeMap<u64, Keyspace>,
    at: Snapshot,
}

impl FjallSnapshot {
    fn visit(
        &self,
        prefix: &[u8],
        from: &[u8],
        reverse: bool,
        f: &mut dyn FnMut(&[u8], fjall::Slice) -> bool,
    ) -> Result<()> {
        let segments = segments(&self.relations, prefix);
        let at = At::Snapshot(&self.at);
        visit(&self.data, segments, at, prefix, from, reverse, f)
    }
}

impl Engine for FjallSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let ks = match keys::relation_of_row(key) {
            Some(rel) => match self.relations.get(&rel) {
                Some(ks) => ks,
                None => return Ok(None),
            },
            None => &self.data,
        };
        Ok(self.at.get(ks, key)?.map(|v| v.to_vec()))
    }

    reads_by_visit!();

    fn apply(&self, _batch: &WriteBatch) -> Result<()> {
        Err(crate::Error::Unsupported("writing to a snapshot"))
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn snapshot(&self) -> Result<std::sync::Arc<dyn Engine>> {
        Ok(std::sync::Arc::new(FjallSnapshot {
            data: self.data.clone(),
            relations: self.relations.clone(),
            at: self.at.clone(),
        }))
    }
}
