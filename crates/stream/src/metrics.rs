//! What Rivulet counts for Prometheus: webhook requests and refusals,
//! acknowledgement latency, the writer's groups and fsyncs, each view's
//! maintenance time, the state cache, rows per table and memory. The
//! writer and the webhook listener update these as they work; the admin
//! listener registers them once ([`Metrics::register`]) and encodes them
//! at each scrape, after [`Metrics::refresh`] reads the values that are
//! cheaper to look up than to keep current (rows, memory).
//!
//! Label values are bounded: tables and views are ones that exist (a
//! request naming no table is counted under `table=""`), statuses are HTTP
//! statuses and refusal reasons are the listener's fixed set of kinds.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

/// A webhook request's table and answer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The table the path names, if it exists; empty otherwise.
    pub table: String,
    /// The HTTP status answered.
    pub status: u16,
}

/// Why a request was refused, as one of the listener's kinds.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// `signature_mismatch`, `invalid_json`, `body_too_large`, ...
    pub reason: &'static str,
}

/// A relation, by name.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RelationLabels {
    /// The table or view.
    pub name: String,
}

/// Every metric (see the module docs).
#[derive(Debug)]
pub struct Metrics {
    /// Webhook requests by table and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Webhook refusals by kind.
    pub rejections: Family<ReasonLabels, Counter>,
    /// Seconds from a delivery's arrival to its `200` (durable and in every
    /// view).
    pub ack_seconds: Histogram,
    /// Commands per group the writer commits.
    pub group_commands: Histogram,
    /// Rows written per group.
    pub group_rows: Histogram,
    /// Seconds each group's fsync took.
    pub fsync_seconds: Histogram,
    /// Seconds spent pushing changes through each view.
    pub view_seconds: Family<RelationLabels, Counter<f64>>,
    /// State-cache lookups answered from memory.
    pub state_cache_hits: Gauge,
    /// State-cache lookups that read storage.
    pub state_cache_misses: Gauge,
    /// Checkpoints that applied deferred operator state.
    pub checkpoints: Counter,
    /// Bytes of operator-state writes waiting for the next checkpoint.
    pub state_deferred_bytes: Gauge,
    /// Rows of each table and view.
    pub rows: Family<RelationLabels, Gauge>,
    /// Resident memory of the process.
    pub resident_bytes: Gauge,
    /// `--memory-budget`.
    pub budget_bytes: Gauge,
}

fn latency() -> Histogram {
    // 100 µs to about 6.5 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            requests: Family::default(),
            rejections: Family::default(),
            ack_seconds: latency(),
            group_commands: Histogram::new(exponential_buckets(1.0, 2.0, 14)),
            group_rows: Histogram::new(exponential_buckets(1.0, 4.0, 12)),
            fsync_seconds: latency(),
            view_seconds: Family::default(),
            state_cache_hits: Gauge::default(),
            state_cache_misses: Gauge::default(),
            checkpoints: Counter::default(),
            state_deferred_bytes: Gauge::default(),
            rows: Family::default(),
            resident_bytes: Gauge::default(),
            budget_bytes: Gauge::default(),
        }
    }
}

/// Resident memory from `/proc/self/statm` (0 where there is none).
fn resident_bytes() -> i64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<i64>().ok())
        .unwrap_or(0);
    pages * 4096
}

impl Metrics {
    /// Registers every metric under `rivulet_`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("rivulet");
        r.register(
            "webhook_requests",
            "Webhook requests by table and HTTP status",
            self.requests.clone(),
        );
        r.register(
            "webhook_rejections",
            "Webhook requests refused, by reason",
            self.rejections.clone(),
        );
        r.register_with_unit(
            "webhook_ack",
            "Time from a delivery's arrival to its 200 (stored durably and in every view)",
            Unit::Seconds,
            self.ack_seconds.clone(),
        );
        r.register(
            "writer_group_commands",
            "Commands in each group the writer commits with one fsync",
            self.group_commands.clone(),
        );
        r.register(
            "writer_group_rows",
            "Rows written by each group",
            self.group_rows.clone(),
        );
        r.register_with_unit(
            "writer_fsync",
            "Time each group's fsync took",
            Unit::Seconds,
            self.fsync_seconds.clone(),
        );
        r.register_with_unit(
            "view_maintenance",
            "Time spent keeping each materialized view up to date",
            Unit::Seconds,
            self.view_seconds.clone(),
        );
        r.register(
            "state_cache_hits",
            "Operator-state lookups answered from the cache since start-up",
            self.state_cache_hits.clone(),
        );
        r.register(
            "state_cache_misses",
            "Operator-state lookups that read storage since start-up",
            self.state_cache_misses.clone(),
        );
        r.register(
            "checkpoints",
            "Checkpoints that wrote the operator state deferred since the last one",
            self.checkpoints.clone(),
        );
        r.register_with_unit(
            "state_deferred",
            "Operator-state writes waiting for the next checkpoint",
            Unit::Bytes,
            self.state_deferred_bytes.clone(),
        );
        r.register(
            "relation_rows",
            "Rows of each table and view",
            self.rows.clone(),
        );
        r.register_with_unit(
            "memory_resident",
            "Resident memory of the process",
            Unit::Bytes,
            self.resident_bytes.clone(),
        );
        r.register_with_unit(
            "memory_budget",
            "The memory budget (--memory-budget)",
            Unit::Bytes,
            self.budget_bytes.clone(),
        );
    }

    /// Reads the values kept elsewhere: rows per relation (`rows`, by
    /// name) and resident memory.
    pub fn refresh(&self, rows: impl IntoIterator<Item = (String, i64)>) {
        self.rows.clear();
        for (name, n) in rows {
            self.rows.get_or_create(&RelationLabels { name }).set(n);
        }
        self.resident_bytes.set(resident_bytes());
    }
}
