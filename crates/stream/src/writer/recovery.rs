//! Opening a data directory.
//!
//! Start-up reads the format version, the catalog, the purge markers and,
//! for each table without a primary key, its last row key (to continue
//! its row ids). It reads no row of any table or view: operator state is
//! already in storage, committed with the rows it describes.
//!
//! Format history:
//! - `1`: operator state lived only in memory and was rebuilt from every
//!   source row at each start; JSONB was stored as a tree.
//! - `2`: operator state in state tables; JSONB in a binary layout read in
//!   place. A format-1 directory is upgraded once at start-up: every view
//!   is back-filled afresh (with progress in the log), which writes its
//!   state tables, and only then is the version changed. An interrupted
//!   upgrade starts over. Format-1 table rows stay as they are (the row
//!   decoder reads both JSONB layouts).
//! - `3`: rows a group inserts into a table without a primary key may be
//!   stored together as one entry (see [`rows`](crate::rows)). A format-2
//!   directory is a valid format-3 one, so opening it only records the new
//!   version; a build that reads format 2 only refuses the result instead
//!   of misreading a pack as a row.
//! - `4`: views that filter and project such a table store their rows in
//!   packs too. Formats 2 and 3 are valid format-4 directories; a
//!   format-3 build refuses format 4, since it would delete a packed view
//!   row by its own key and miss it.
//! - `5`: the packs a group appends are stored LZ4-compressed when that
//!   pays. Formats 2 to 4 are valid format-5 directories; a format-4
//!   build refuses format 5, since it would read a compressed pack as a
//!   row.
//!
//! A version this code does not know is refused, never guessed at.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use rivulet_catalog::{Catalog, StoredObject};
use rivulet_storage::{keys, Engine, WriteBatch};

use super::Writer;
use crate::state::{StateStore, Store};
use crate::{Error, Result};

/// The storage format this code writes.
pub(crate) const FORMAT_VERSION: &[u8] = b"5";

/// The format before compressed packs: readable as it is (a build that
/// only knows format 4 would read a compressed pack as a row, so it must
/// refuse format 5).
const FORMAT_V4: &[u8] = b"4";

/// The format before packed view rows: readable as it is (a build that
/// only knows format 3 would delete a packed view row by its own key, so
/// it must refuse format 4).
const FORMAT_V3: &[u8] = b"3";

/// The format before row packs: readable as it is.
const FORMAT_V2: &[u8] = b"2";

/// The format before state tables.
const FORMAT_V1: &[u8] = b"1";

impl Writer {
    /// Opens the data in `engine`; returns the writer and the catalog to
    /// publish. Blocking.
    pub(crate) fn recover(
        engine: Arc<dyn Engine>,
        options: &crate::Options,
    ) -> Result<(Writer, Catalog)> {
        let cache_bytes = options.state_cache_bytes;
        let version_key = keys::meta("format_version");
        let version = engine.get(&version_key)?;
        let mark_current = || -> Result<bool> {
            let mut b = WriteBatch::new();
            b.put(version_key.clone(), FORMAT_VERSION.to_vec());
            engine.apply(&b)?;
            engine.flush()?;
            Ok(false)
        };
        let upgrade = match version.as_deref() {
            None => mark_current()?,
            Some(old @ (FORMAT_V2 | FORMAT_V3 | FORMAT_V4)) => {
                tracing::info!(
                    "data directory format {} is read as format 5 from now on",
                    String::from_utf8_lossy(old)
                );
                mark_current()?
            }
            Some(FORMAT_VERSION) => false,
            Some(FORMAT_V1) => true,
            Some(other) => {
                return Err(Error::UnsupportedFormat(
                    String::from_utf8_lossy(other).into_owned(),
                ))
            }
        };
        let mut objects = Vec::new();
        engine.for_each_prefix(&keys::catalog_prefix(), &mut |_, v| {
            objects.push(v.to_vec());
            true
        })?;
        let objects = objects
            .iter()
            .map(|v| StoredObject::decode(v))
            .collect::<rivulet_catalog::Result<Vec<_>>>()?;
        let mut catalog = rivulet_catalog::restore(objects)?;
        let mut purging = VecDeque::new();
        let purge_prefix = keys::purge_prefix();
        engine.for_each_prefix(&purge_prefix, &mut |k, _| {
            if let Ok(id) = <[u8; 8]>::try_from(&k[purge_prefix.len()..]) {
                purging.push_back(u64::from_be_bytes(id));
            }
            true
        })?;
        if let Some(&max) = purging.iter().max() {
            catalog.reserve_ids_through(max);
        }
        let mut next_row_id = HashMap::new();
        for r in catalog.relations() {
            if r.table().is_some_and(|t| t.primary_key.is_empty()) {
                // A pack's key is the largest id it was written with.
                let last = engine.last_key_with_prefix(&keys::rows_prefix(r.id))?;
                let next = last
                    .and_then(|k| keys::parse_row_id(keys::row_key_of(&k)))
                    .map_or(1, |id| id + 1);
                next_row_id.insert(r.id, next);
            }
        }
        if !purging.is_empty() {
            tracing::info!(
                relations = purging.len(),
                "resuming removal of dropped data"
            );
        }
        let logs = super::changes::Logs::recover(engine.as_ref())?;
        let mut writer = Writer {
            logs,
            store: Store::new(engine, cache_bytes),
            committed: catalog.clone(),
            catalog,
            next_row_id,
            fresh: Default::default(),
            packed: Default::default(),
            flows: BTreeMap::new(),
            readers: HashMap::new(),
            shared: Default::default(),
            wide_flows: Default::default(),
            backfill: None,
            deferred: VecDeque::new(),
            purging,
            counts: Default::default(),
            fatal: None,
            unpropagated: None,
            expiry_checked: std::time::Instant::now(),
            expired_ids_left: false,
            last_flush: None,
            view_time: Default::default(),
            deferring: Default::default(),
            deferring_tables: Default::default(),
            behind: Default::default(),
            last_checkpoint: std::time::Instant::now(),
            checkpoint_every: options.checkpoint_every,
            deferred_budget: cache_bytes / 4,
            checkpoints: 0,
        };
        writer.rebuild_flows();
        if upgrade {
            writer.upgrade_from_v1()?;
        }
        writer.replay_behind()?;
        let catalog = writer.catalog.clone();
        Ok((writer, catalog))
    }

    /// Builds the state tables of every view of a format-1 directory by
    /// back-filling each view afresh, in id order (a view after the views
    /// it reads), then marks the directory as the current format.
    fn upgrade_from_v1(&mut self) -> Result<()> {
        let mut views: Vec<_> = self
            .catalog
            .relations()
            .filter(|r| r.view().is_some())
            .cloned()
            .collect();
        views.sort_by_key(|r| r.id);
        tracing::info!(
            views = views.len(),
            "upgrading the data directory from format 1 to 3: rebuilding view state"
        );
        // Row counts did not exist: count each table once.
        let tables: Vec<u64> = self
            .catalog
            .relations()
            .filter(|r| r.table().is_some())
            .map(|r| r.id)
            .collect();
        for t in tables {
            let mut n = 0i64;
            let engine = self.store.engine().clone();
            crate::rows::for_each_row(engine.as_ref(), t, None, usize::MAX, &mut |_, _| {
                n += 1;
                Ok(())
            })?;
            self.store.put(keys::row_count(t), n.to_le_bytes().to_vec());
        }
        self.commit()?;
        for v in &views {
            self.catalog.remove_relation(&v.name);
        }
        self.rebuild_flows();
        for (i, v) in views.iter().enumerate() {
            tracing::info!(view = %v.name, "upgrade: view {} of {}", i + 1, views.len());
            // Whatever an interrupted upgrade left of this view goes first.
            self.purging.push_back(v.id);
            self.purge_all();
            self.start_backfill((**v).clone())?;
            self.commit()?;
            self.backfill_to_end()?;
        }
        self.store
            .put(keys::meta("format_version"), FORMAT_VERSION.to_vec());
        self.commit()?;
        self.committed = self.catalog.clone();
        tracing::info!("upgrade to format 4 done");
        Ok(())
    }
}
