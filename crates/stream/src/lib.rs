//! The streaming engine: tables, incrementally maintained materialized
//! views, and the single writer that commits both together.
//!
//! # Life of a write
//!
//! 1. A webhook request or an `INSERT`/`DELETE`/DDL statement becomes a
//!    command sent to the writer ([`Database::insert`], [`Database::delete`],
//!    [`Database::execute_ddl`]) and the caller awaits the reply.
//! 2. The writer thread takes every command waiting in its queue (a group).
//! 3. For each command it computes the table's row changes — `(key, old,
//!    new)`, see [`Change`] — and pushes them through every materialized view
//!    downstream ([`dataflow`]), views on views included. Operators read and
//!    write their state tables ([`state`]). Rows, view changes and state
//!    stay pending in the writer's store, where later commands of the group
//!    see them.
//! 4. After the whole group, one atomic batch and one `flush` (fsync) make
//!    it durable.
//! 5. Only then are the callers answered: an acknowledged write is on disk
//!    and visible in every view.
//!
//! Reads go straight to storage and never wait for the writer: ad-hoc
//! queries ([`Database::plan_query_blocking`], [`Database::query_blocking`]
//! in `query/`) run their plan as a dataflow over in-memory state, fed the
//! stored rows. The catalog is published as an immutable snapshot after each
//! group that changed it.
//!
//! This crate does not parse SQL text or speak any protocol.

pub mod changes;
mod database;
pub mod dataflow;
mod error;
pub mod metrics;
mod query;
mod rows;
mod shared;
pub mod state;
mod webhook_log;
mod writer;

pub use database::{Database, Options, ScanSpec};
pub use dataflow::{consolidate, Change, Dataflow, EvalCtx};
pub use error::{Error, Result};
pub use query::{CancelReason, QueryMemory, Reservation};
pub use state::{MemState, StateStore};
pub use webhook_log::{Rejection, TableActivity, WebhookLog, MAX_REJECTIONS, RATE_SECONDS};
pub use writer::{DdlOutcome, SnapshotAt};

/// The ids of a webhook delivery, for a table that stores each delivery
/// once (see the writer's `dedup` module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryIds {
    /// One id per row (an event's own field); a row without one is always
    /// stored.
    Rows(Vec<Option<Vec<u8>>>),
    /// One id for the request: its rows are stored together or not at all.
    Request(Vec<u8>),
}

/// Stack size for threads that bind, plan or evaluate SQL: the parser
/// accepts expression trees up to 1,000 levels deep, and walking one that
/// deep (binding, evaluating, printing, dropping) needs several MiB in an
/// unoptimised build. Only the pages used are ever resident.
pub const THREAD_STACK: usize = 32 << 20;
