//! Back-filling a new materialized view from the rows its sources already
//! hold, without stopping ingest.
//!
//! The view's operators are registered at once, but its sources are read
//! in key order a chunk at a time between groups, each chunk committed on
//! its own. Meanwhile a change to a source row reaches the view only if
//! that row has already been read ([`Backfill::visible`]): at every moment
//! the view is exactly its query over the rows read so far, and once every
//! source has been read, over all of them. DDL waits until the back-fill
//! ends, so nothing it reads can be dropped or changed underneath it.
//!
//! Until then the view is invisible: only the writer's catalog has it, and
//! storage has a purge marker instead of its catalog entry, so a crash
//! mid-way leaves nothing behind but work for the purger. The final chunk
//! writes the catalog entry and removes the marker in one batch; then the
//! view is published and `CREATE MATERIALIZED VIEW` is answered.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rivulet_catalog::{Relation, StoredObject};
use rivulet_expr::decode_row;
use rivulet_storage::keys;
use tokio::sync::oneshot;

use super::DdlOutcome;
use super::Writer;
use crate::dataflow::{Change, Dataflow, EvalCtx};
use crate::rows;
use crate::shared::Shared;
use crate::state::StateStore;
use crate::{Error, Result};

/// Source rows read per chunk: the chunk is sized to take about
/// [`CHUNK_TIME_BUSY`] while commands keep arriving (so a webhook waits
/// little longer than that for its group), or [`CHUNK_TIME_IDLE`] when none
/// have for a while (fewer commits), within these bounds.
const MIN_CHUNK_ROWS: usize = 128;
const MAX_CHUNK_ROWS: usize = 8192;
const CHUNK_TIME_BUSY: Duration = Duration::from_millis(5);
const CHUNK_TIME_IDLE: Duration = Duration::from_millis(50);

/// How often progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// A view being back-filled.
pub(super) struct Backfill {
    rel: Arc<Relation>,
    /// The view's sources (each once), read in this order.
    sources: Vec<u64>,
    /// Index in `sources` of the source being read.
    source: usize,
    /// Key of the last entry read from that source: every row read has a
    /// key at most this, every row not read yet a larger one.
    after: Option<Vec<u8>>,
    /// Who to answer when the view is ready (none during an upgrade).
    reply: Option<oneshot::Sender<Result<DdlOutcome>>>,
    /// Rows read so far, over all sources.
    rows: u64,
    /// Rows the next chunk reads.
    chunk_rows: usize,
    started: Instant,
    logged: Instant,
}

impl Backfill {
    /// The view's id.
    pub(super) fn view(&self) -> u64 {
        self.rel.id
    }

    /// The view's name.
    pub(super) fn name(&self) -> &str {
        &self.rel.name
    }

    pub(super) fn set_reply(&mut self, reply: oneshot::Sender<Result<DdlOutcome>>) {
        self.reply = Some(reply);
    }

    /// Abandons the back-fill, answering its creator with `e`.
    pub(super) fn cancel(self, e: Error) {
        if let Some(reply) = self.reply {
            let _ = reply.send(Err(e));
        }
    }

    /// The part of `changes` (of relation `rel`) the view may see: changes
    /// to rows already read.
    pub(super) fn visible<'c>(&self, rel: u64, changes: &'c [Change]) -> Cow<'c, [Change]> {
        match self.sources.iter().position(|&s| s == rel) {
            Some(i) if i < self.source => Cow::Borrowed(changes),
            Some(i) if i == self.source => match &self.after {
                Some(after) => Cow::Owned(
                    changes
                        .iter()
                        .filter(|c| c.key <= *after)
                        .cloned()
                        .collect(),
                ),
                None => Cow::Owned(Vec::new()),
            },
            _ => Cow::Owned(Vec::new()),
        }
    }

    fn done(&self) -> bool {
        self.source >= self.sources.len()
    }
}

impl Writer {
    /// Registers view `rel` and writes its initial output; chunks follow
    /// between groups. On error nothing is registered (the caller rolls
    /// back the store).
    pub(super) fn start_backfill(&mut self, rel: Relation) -> Result<()> {
        let Some(spec) = rel.view() else {
            return Ok(());
        };
        let flow = Dataflow::new(rel.id, &spec.plan);
        let mut ctx = EvalCtx::lenient();
        let out = flow.init(&mut ctx, &mut self.store)?;
        self.write_view_changes(rel.id, &out)?;
        self.store.put(keys::purge(rel.id), Vec::new());
        let mut sources = Vec::new();
        for &s in &spec.sources {
            if !sources.contains(&s) {
                sources.push(s);
            }
        }
        let rel = Arc::new(rel);
        tracing::info!(view = %rel.name, "back-filling materialized view");
        self.catalog.insert_relation((*rel).clone());
        self.flows.insert(rel.id, flow);
        self.index_readers();
        let now = Instant::now();
        self.backfill = Some(Backfill {
            rel,
            sources,
            source: 0,
            after: None,
            reply: None,
            rows: 0,
            chunk_rows: MIN_CHUNK_ROWS,
            started: now,
            logged: now,
        });
        Ok(())
    }

    /// Reads and applies one chunk; finishes the back-fill when every
    /// source is read.
    pub(super) fn backfill_step(&mut self, shared: &Shared, busy: bool) {
        let started = Instant::now();
        let result = self.backfill_chunk();
        if let Some(b) = &mut self.backfill {
            let target = if busy {
                CHUNK_TIME_BUSY
            } else {
                CHUNK_TIME_IDLE
            };
            let took = started.elapsed().max(Duration::from_micros(100));
            let scaled = b.chunk_rows as f64 * target.as_secs_f64() / took.as_secs_f64();
            // At most double at a time; shrink at once.
            b.chunk_rows = (scaled as usize)
                .min(b.chunk_rows * 2)
                .clamp(MIN_CHUNK_ROWS, MAX_CHUNK_ROWS);
        }
        match result {
            Ok(true) => self.finish_backfill(shared),
            Ok(false) => {}
            Err(e) => self.abandon_backfill(e),
        }
    }

    /// One chunk, committed; returns whether every source has been read.
    fn backfill_chunk(&mut self) -> Result<bool> {
        let Some(b) = &mut self.backfill else {
            return Ok(true);
        };
        if b.done() {
            return Ok(true);
        }
        let src = b.sources[b.source];
        // Whole entries, from the one after the last entry read. Every row
        // of a later entry has a larger key than that entry's, so `after`
        // also tells which rows were read (see `visible`).
        let from = b.after.as_ref().map(|after| {
            let mut k = after.clone();
            k.push(0);
            k
        });
        let chunk_rows = b.chunk_rows;
        let mut changes = Vec::with_capacity(chunk_rows + rows::PACK_ROWS);
        let engine = self.store.engine().clone();
        let last = crate::rows::for_each_row(
            engine.as_ref(),
            src,
            from.as_deref(),
            chunk_rows,
            &mut |key, bytes| {
                changes.push(Change::insert(key.to_vec(), decode_row(&bytes)?));
                Ok(())
            },
        )?;
        let finished_source = changes.len() < chunk_rows;
        let view = b.rel.id;
        let read = changes.len() as u64;
        if let Some(flow) = self.flows.get(&view) {
            let mut ctx = EvalCtx::lenient();
            let out = flow.push(src, &changes, &mut ctx, &mut self.store)?;
            self.write_view_changes(view, &out)?;
        }
        self.settle_counts()?;
        self.commit()?;
        let Some(b) = &mut self.backfill else {
            return Ok(true);
        };
        b.rows += read;
        if finished_source {
            b.source += 1;
            b.after = None;
        } else {
            b.after = last;
        }
        if b.logged.elapsed() >= PROGRESS_EVERY {
            b.logged = Instant::now();
            tracing::info!(
                view = %b.rel.name,
                rows = b.rows,
                source = b.source + 1,
                sources = b.sources.len(),
                "back-fill progress"
            );
        }
        Ok(b.done())
    }

    /// Commits the finished view's catalog entry in place of its purge
    /// marker: from then on it is a view like any other.
    fn seal_view(&mut self) -> Result<()> {
        let Some(b) = &self.backfill else {
            return Ok(());
        };
        let stored = StoredObject {
            id: b.rel.id,
            sql: b.rel.definition.to_string(),
            secret_value: None,
        };
        self.store.put(keys::catalog(b.rel.id), stored.encode());
        self.store.delete(keys::purge(b.rel.id));
        Ok(self.commit()?)
    }

    /// Makes the view durable and visible, and answers its creator.
    fn finish_backfill(&mut self, shared: &Shared) {
        if let Err(e) = self.seal_view() {
            self.abandon_backfill(e);
            return;
        }
        let Some(b) = self.backfill.take() else {
            return;
        };
        tracing::info!(
            view = %b.rel.name,
            rows = b.rows,
            seconds = b.started.elapsed().as_secs_f64(),
            "back-fill done"
        );
        self.committed = self.catalog.clone();
        shared.publish(Arc::new(self.catalog.clone()));
        if let Some(reply) = b.reply {
            let _ = reply.send(Ok(DdlOutcome {
                tag: "CREATE_MATERIALIZED_VIEW",
                notices: vec![],
            }));
        }
    }

    /// Gives up on the back-fill after an error: the view is forgotten and
    /// what it wrote is purged.
    fn abandon_backfill(&mut self, e: Error) {
        let Some(b) = self.backfill.take() else {
            return;
        };
        tracing::error!(view = %b.rel.name, "back-fill failed: {e}");
        self.catalog.remove_relation(&b.rel.name);
        self.committed = self.catalog.clone();
        self.rebuild_flows();
        self.purging.push_back(b.rel.id);
        b.cancel(e);
    }

    /// Runs the back-fill to the end without serving commands (upgrades).
    pub(super) fn backfill_to_end(&mut self) -> Result<()> {
        if let Some(b) = &mut self.backfill {
            b.chunk_rows = MAX_CHUNK_ROWS;
        }
        while self.backfill.is_some() {
            if self.backfill_chunk()? {
                self.seal_view()?;
                self.backfill = None;
            }
        }
        Ok(())
    }
}
