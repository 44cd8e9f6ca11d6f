//! Rivulet's storage layer: an ordered key-value [`Engine`] and the key
//! layout every other crate shares.
//!
//! The engine contract is small on purpose: point reads, prefix scans, atomic
//! batches and an explicit [`Engine::flush`]. A batch is visible to readers
//! as soon as [`Engine::apply`] returns but is durable only after `flush`
//! returns; callers decide when to pay for the fsync (the stream writer does
//! it once per group of requests). [`FjallEngine`] (an LSM tree) stores
//! data on disk, [`MemoryEngine`] in memory, and [`SledEngine`] reads data
//! directories from before the LSM so [`open_data_dir`] can move them
//! over; all three pass the same test suite.
//!
//! Keys are built with [`keys`], an order-preserving binary encoding; this
//! crate never interprets values.

mod data_dir;
mod engine;
mod error;
mod fjall_engine;
pub mod keys;
mod memory;
mod sled_engine;

pub use data_dir::open_data_dir;
pub use engine::{Engine, KvPair, WriteBatch};
pub use error::{Error, Result};
pub use fjall_engine::{FjallEngine, StorageBudget};
pub use memory::MemoryEngine;
pub use sled_engine::SledEngine;

#[cfg(test)]
mod tests;
