//! Rivulet's storage layer: an ordered key-value [`Engine`] and the key
//! layout every other crate shares.
//!
//! The engine contract is small on purpose: point reads, prefix scans, atomic
//! batches and an explicit [`Engine::flush`]. A batch is visible to readers
//! as soon as [`Engine::apply`] returns but is durable only after `flush`
//! returns; callers decide when to pay for the fsync (the stream writer does
//! it once per group of requests). [`SledEngine`] stores data on disk and
//! [`MemoryEngine`] in memory, and both pass the same test suite.
//!
//! Keys are built with [`keys`], an order-preserving binary encoding; this
//! crate never interprets values.

mod engine;
mod error;
pub mod keys;
mod memory;
mod sled_engine;

pub use engine::{Engine, KvPair, WriteBatch};
pub use error::{Error, Result};
pub use memory::MemoryEngine;
pub use sled_engine::SledEngine;

#[cfg(test)]
mod tests;
