//! Removing a dropped relation's rows and operator state in the
//! background, a chunk at a time between groups.
//!
//! DROP removes the catalog entry and writes a purge marker in one batch,
//! so the relation is gone at once for every reader; the data under its
//! id follows here, and the marker goes with the last chunk. Markers are
//! found again at start-up, so a purge interrupted by a restart resumes.

use rivulet_storage::keys;

use super::Writer;
use crate::state::StateStore;

/// Keys deleted per chunk.
const CHUNK_KEYS: usize = 4096;

impl Writer {
    /// Deletes one chunk of the oldest purge's keys.
    pub(super) fn purge_step(&mut self) {
        let Some(&id) = self.purging.front() else {
            return;
        };
        let mut doomed: Vec<Vec<u8>> = Vec::new();
        // An engine that keeps each relation's rows apart drops them at once.
        let rows_dropped = match self.store.engine().drop_rows(id) {
            Ok(dropped) => dropped,
            Err(e) => {
                tracing::error!(relation = id, "cannot drop rows: {e}");
                std::thread::sleep(std::time::Duration::from_millis(100));
                return;
            }
        };
        let mut prefixes = if rows_dropped {
            vec![keys::state_prefix(id)]
        } else {
            vec![keys::rows_prefix(id), keys::state_prefix(id)]
        };
        prefixes.extend([keys::dedup_prefix(id), keys::dedup_by_time_prefix(id)]);
        for prefix in prefixes {
            let r = self.store.engine().for_each_prefix(&prefix, &mut |k, _| {
                doomed.push(k.to_vec());
                doomed.len() < CHUNK_KEYS
            });
            if let Err(e) = r {
                tracing::error!(relation = id, "cannot read data to purge: {e}");
                std::thread::sleep(std::time::Duration::from_millis(100));
                return;
            }
            if doomed.len() >= CHUNK_KEYS {
                break;
            }
        }
        let finished = doomed.is_empty();
        for k in doomed {
            self.store.delete(k);
        }
        if finished {
            self.store.delete(keys::row_count(id));
            self.store.delete(keys::purge(id));
        }
        match self.commit() {
            Ok(()) if finished => {
                self.purging.pop_front();
                tracing::debug!(relation = id, "purged");
            }
            Ok(()) => {}
            Err(e) => {
                tracing::error!(relation = id, "purge failed, will retry: {e}");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}

impl Writer {
    /// Purges everything queued, without serving commands (start-up
    /// upgrades).
    pub(super) fn purge_all(&mut self) {
        while !self.purging.is_empty() {
            self.purge_step();
        }
    }
}
