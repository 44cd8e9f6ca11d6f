//! What the public handles and the writer thread share: the storage
//! engine, the latest committed catalog, and why the writer stopped.

use std::sync::{Arc, RwLock};

use rivulet_catalog::Catalog;
use rivulet_storage::Engine;

/// State shared by every handle.
pub(crate) struct Shared {
    pub(crate) engine: Arc<dyn Engine>,
    /// The latest committed catalog. The lock is held only to clone or
    /// replace the `Arc`, never across I/O or `.await`.
    pub(crate) catalog: RwLock<Arc<Catalog>>,
    /// Why the writer stopped for good, once it has.
    pub(crate) fatal: tokio::sync::watch::Sender<Option<String>>,
    /// What running queries may hold in memory together.
    pub(crate) query_memory: Arc<crate::QueryMemory>,
    /// What the webhook listener accepted and refused.
    pub(crate) webhook_log: crate::WebhookLog,
    /// What Prometheus scrapes.
    pub(crate) metrics: crate::metrics::Metrics,
    /// Change logs' end and live subscribers.
    pub(crate) changes: Arc<crate::changes::ChangeLog>,
}

impl Shared {
    pub(crate) fn publish(&self, catalog: Arc<Catalog>) {
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = catalog;
    }
}
