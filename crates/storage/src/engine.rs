//! The storage engine contract.

use bytes::Bytes;

use crate::Result;

/// A key and its value.
pub type KvPair = (Vec<u8>, Vec<u8>);

/// An ordered set of writes applied atomically by [`Engine::apply`].
#[derive(Debug, Default, Clone)]
pub struct WriteBatch {
    /// Puts (`Some`) and deletes (`None`) in the order they were added; a
    /// later write to the same key wins.
    pub ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }

    /// Adds a put.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push((key, Some(value)));
    }

    /// Adds a delete.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.ops.push((key, None));
    }

    /// Whether the batch has no writes.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Number of writes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
}

/// An ordered key-value store.
///
/// Contract:
/// - [`apply`](Engine::apply) is atomic: after a crash either every write of
///   a batch is present or none is, and batches recover in the order they
///   were applied (a crash loses a suffix, never a middle).
/// - Writes are visible to [`get`](Engine::get) and
///   [`scan_prefix`](Engine::scan_prefix) once `apply` returns, and durable
///   once a later [`flush`](Engine::flush) returns.
/// - All methods block; async callers must run them off the async workers.
pub trait Engine: Send + Sync + 'static {
    /// Reads one key.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// All pairs whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<KvPair>>;

    /// Calls `f` with each pair whose key starts with `prefix`, in key
    /// order, without collecting them; stops early when `f` returns false.
    fn for_each_prefix(&self, prefix: &[u8], f: &mut dyn FnMut(&[u8], &[u8]) -> bool)
        -> Result<()>;

    /// Like [`for_each_prefix`](Engine::for_each_prefix), starting at the
    /// first key at or after `from` (which should start with `prefix`).
    fn for_each_prefix_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()>;

    /// Like [`for_each_prefix`](Engine::for_each_prefix), in descending key
    /// order.
    fn for_each_prefix_rev(
        &self,
        prefix: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()>;

    /// Like [`for_each_prefix`](Engine::for_each_prefix), handing each value
    /// over as shared bytes, so a caller can keep parts of it without
    /// copying. Engines whose reads return owned buffers pass those on;
    /// the default copies.
    fn for_each_value(&self, prefix: &[u8], f: &mut dyn FnMut(&[u8], Bytes) -> bool) -> Result<()> {
        self.for_each_value_from(prefix, prefix, f)
    }

    /// [`for_each_value`](Engine::for_each_value) from the first key at or
    /// after `from`.
    fn for_each_value_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        f: &mut dyn FnMut(&[u8], Bytes) -> bool,
    ) -> Result<()> {
        self.for_each_prefix_from(prefix, from, &mut |k, v| f(k, Bytes::copy_from_slice(v)))
    }

    /// The greatest key starting with `prefix`, if any.
    fn last_key_with_prefix(&self, prefix: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Applies a batch atomically.
    fn apply(&self, batch: &WriteBatch) -> Result<()>;

    /// Makes every applied batch durable.
    fn flush(&self) -> Result<()>;

    /// A read-only view of the engine as it is now: every batch applied
    /// before the call, none applied after, for as long as it is held
    /// (an engine keeps what a snapshot may read, so hold one briefly).
    fn snapshot(&self) -> Result<std::sync::Arc<dyn Engine>> {
        Err(crate::Error::Unsupported("snapshots"))
    }

    /// Readies storage for relation `rel`'s rows before its first write,
    /// where that takes work of its own (the fjall engine creates the
    /// relation's keyspace: files and fsyncs), so that the first rows do
    /// not wait for it. Nothing for other engines.
    fn prepare_relation(&self, _rel: u64) -> Result<()> {
        Ok(())
    }

    /// Removes every row of relation `rel` at once, durably, if this engine
    /// keeps each relation's rows apart; returns false (having done
    /// nothing) if it does not, and the caller deletes them key by key.
    fn drop_rows(&self, _rel: u64) -> Result<bool> {
        Ok(false)
    }
}
