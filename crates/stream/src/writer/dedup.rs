//! Storing each delivery of a webhook table once.
//!
//! Senders retry: Segment resends an event whose answer it did not get,
//! so one event can arrive twice even though the first copy was stored. A
//! table with `dedup_field` or `dedup_header` remembers each delivery's id
//! for its `dedup_window`, in the same batch as the rows, so a retry is
//! recognized after a crash as well as within one request. An id is kept
//! twice — by id, to look it up, and by time, to find it again once its
//! window has passed — and ids past their window are removed between
//! groups, a chunk at a time, so what is remembered is bounded by the
//! deliveries of one window.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rivulet_catalog::Dedup;
use rivulet_expr::Row;
use rivulet_storage::keys;

use super::Writer;
use crate::state::StateStore;
use crate::{DeliveryIds, Result};

/// How often expired ids are looked for while there are none left over.
const EXPIRY_EVERY: Duration = Duration::from_secs(1);

/// Ids removed per step.
const EXPIRY_CHUNK: usize = 4096;

/// Microseconds since the epoch, now.
fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

impl Writer {
    /// The table's deduplication, if it has one.
    fn dedup_of(&self, table: u64) -> Option<Dedup> {
        self.catalog
            .relation_by_id(table)?
            .table()?
            .webhook
            .as_ref()?
            .dedup
            .clone()
    }

    /// Whether `id` was stored for `table` within `window` µs of `now`.
    fn seen(&mut self, table: u64, id: &[u8], now: u64, window: u64) -> Result<bool> {
        Ok(match self.store.get(&keys::dedup(table, id))? {
            Some(v) => {
                let at = <[u8; 8]>::try_from(v.as_slice()).map_or(0, u64::from_le_bytes);
                at.saturating_add(window) > now
            }
            None => false,
        })
    }

    /// Remembers `id` for `table` as stored at `now`.
    fn remember(&mut self, table: u64, id: &[u8], now: u64) {
        self.store
            .put(keys::dedup(table, id), now.to_le_bytes().to_vec());
        self.store
            .put(keys::dedup_by_time(table, now, id), Vec::new());
    }

    /// Inserts the rows of a delivery whose ids were not stored within the
    /// window; returns how many rows were stored.
    pub(super) fn insert_once(
        &mut self,
        table: u64,
        rows: Vec<Row>,
        ids: DeliveryIds,
    ) -> Result<u64> {
        let Some(dedup) = self.dedup_of(table) else {
            return self.insert(table, rows);
        };
        let window = dedup.window_micros.max(0) as u64;
        let now = now_micros();
        let rows = match ids {
            DeliveryIds::Request(id) => {
                if self.seen(table, &id, now, window)? {
                    return Ok(0);
                }
                self.remember(table, &id, now);
                rows
            }
            DeliveryIds::Rows(ids) => {
                let mut kept = Vec::with_capacity(rows.len());
                let mut ids = ids.into_iter();
                for row in rows {
                    match ids.next().flatten() {
                        Some(id) if self.seen(table, &id, now, window)? => {}
                        Some(id) => {
                            self.remember(table, &id, now);
                            kept.push(row);
                        }
                        None => kept.push(row),
                    }
                }
                kept
            }
        };
        if rows.is_empty() {
            return Ok(0);
        }
        self.insert(table, rows)
    }

    /// Removes a chunk of delivery ids past their window, at most once a
    /// second unless the previous step left some.
    pub(super) fn expire_ids_step(&mut self) {
        if !self.expired_ids_left && self.expiry_checked.elapsed() < EXPIRY_EVERY {
            return;
        }
        self.expiry_checked = Instant::now();
        let now = now_micros();
        let tables: Vec<(u64, u64)> = self
            .catalog
            .relations()
            .filter_map(|r| {
                let d = r.table()?.webhook.as_ref()?.dedup.as_ref()?;
                Some((r.id, d.window_micros.max(0) as u64))
            })
            .collect();
        let mut removed = 0usize;
        for (table, window) in tables {
            let before = now.saturating_sub(window);
            let mut expired: Vec<(Vec<u8>, u64, Vec<u8>)> = Vec::new();
            let scanned =
                self.store
                    .scan(&keys::dedup_by_time_prefix(table), false, &mut |k, _| {
                        match keys::parse_dedup_by_time(k) {
                            Some((at, id)) if at < before => {
                                expired.push((k.to_vec(), at, id.to_vec()));
                                removed + expired.len() < EXPIRY_CHUNK
                            }
                            _ => false,
                        }
                    });
            if let Err(e) = scanned {
                tracing::error!(table, "cannot read delivery ids to expire: {e}");
                return;
            }
            removed += expired.len();
            for (key, at, id) in expired {
                self.store.delete(key);
                // The id may have been stored again since (its window had
                // passed): then it is kept under its new time.
                let by_id = keys::dedup(table, &id);
                match self.store.get(&by_id) {
                    Ok(Some(v)) if v.as_slice() == at.to_le_bytes() => self.store.delete(by_id),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(table, "cannot read a delivery id to expire: {e}");
                        self.store.abort();
                        return;
                    }
                }
            }
            if removed >= EXPIRY_CHUNK {
                break;
            }
        }
        self.expired_ids_left = removed >= EXPIRY_CHUNK;
        if removed == 0 {
            return;
        }
        if let Err(e) = self.commit() {
            tracing::error!("cannot remove expired delivery ids, will retry: {e}");
        } else {
            tracing::debug!(ids = removed, "removed delivery ids past their window");
        }
    }
}
