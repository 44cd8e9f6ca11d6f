//! What the webhook listener accepted and refused, in memory, for
//! `rivulet_catalog.webhook_rejections` (the most recent refusals) and
//! `rivulet_catalog.webhook_stats` (counts per table since start-up): so
//! a user can see from psql why a sender's deliveries fail.
//!
//! Both are bounded: the most recent [`MAX_REJECTIONS`] refusals, and
//! counts only for tables that exist (a refusal naming any other table is
//! in the recent list only). Neither ever holds a body, a header value, a
//! secret or a signature: a refusal keeps its status, a reason written by
//! the listener, the body's size and the sender's address.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use rivulet_expr::{Row, Value};

/// Refusals kept for `webhook_rejections`.
pub const MAX_REJECTIONS: usize = 1000;

/// Longest reason and table name kept, in bytes.
const MAX_TEXT: usize = 256;

/// One refused request.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// When, in µs since the epoch.
    pub at: i64,
    /// The table the path named, if it named one.
    pub table: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// Why, in the listener's words (never quoting the body).
    pub reason: String,
    /// The body's size as received (0 when it was not read).
    pub body_bytes: u64,
    /// The sender's address.
    pub remote_addr: String,
}

#[derive(Debug, Default, Clone)]
struct Stats {
    accepted: i64,
    rows: i64,
    rejected: i64,
    last_accepted: Option<i64>,
    last_rejected: Option<i64>,
    last_status: Option<u16>,
    /// Rows stored in each of the last [`RATE_SECONDS`] seconds (by unix
    /// second), oldest first.
    recent: VecDeque<(i64, i64)>,
}

/// The window of [`TableActivity::rows_per_second`].
pub const RATE_SECONDS: i64 = 60;

/// What a table received, for the status page.
#[derive(Debug, Clone, PartialEq)]
pub struct TableActivity {
    /// The table.
    pub table: String,
    /// Requests stored since start-up.
    pub accepted: i64,
    /// Rows they carried.
    pub rows: i64,
    /// Requests refused.
    pub rejected: i64,
    /// When the last request was stored (µs since the epoch).
    pub last_accepted: Option<i64>,
    /// Rows per second over the last minute.
    pub rows_per_second: f64,
}

#[derive(Debug, Default)]
struct Inner {
    recent: VecDeque<Rejection>,
    stats: BTreeMap<String, Stats>,
}

/// The listener's record of requests (see the module docs).
#[derive(Debug, Default)]
pub struct WebhookLog {
    inner: Mutex<Inner>,
}

/// `s` cut to at most [`MAX_TEXT`] bytes, at a character boundary.
fn clip(s: &str) -> String {
    let mut end = s.len().min(MAX_TEXT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn timestamp(at: Option<i64>) -> Value {
    at.map_or(Value::Null, Value::Timestamptz)
}

impl WebhookLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a request to existing table `table` that stored `rows` rows.
    pub fn accepted(&self, table: &str, rows: usize, at: i64) {
        let mut inner = self.lock();
        // Looked up by name first: a table's entry exists after its first
        // request, so the hot path allocates nothing under the lock.
        let s = match inner.stats.get_mut(table) {
            Some(s) => s,
            None => inner.stats.entry(table.to_string()).or_default(),
        };
        s.accepted += 1;
        s.rows += rows as i64;
        s.last_accepted = Some(at);
        s.last_status = Some(200);
        let second = at.div_euclid(1_000_000);
        match s.recent.back_mut() {
            Some((sec, n)) if *sec == second => *n += rows as i64,
            _ => s.recent.push_back((second, rows as i64)),
        }
        while s
            .recent
            .front()
            .is_some_and(|(sec, _)| *sec <= second - RATE_SECONDS)
        {
            s.recent.pop_front();
        }
    }

    /// Each table's activity as of `now` (µs since the epoch), by name.
    pub fn activity(&self, now: i64) -> Vec<TableActivity> {
        let second = now.div_euclid(1_000_000);
        self.lock()
            .stats
            .iter()
            .map(|(t, s)| TableActivity {
                table: t.clone(),
                accepted: s.accepted,
                rows: s.rows,
                rejected: s.rejected,
                last_accepted: s.last_accepted,
                rows_per_second: s
                    .recent
                    .iter()
                    .filter(|(sec, _)| *sec > second - RATE_SECONDS)
                    .map(|(_, n)| *n)
                    .sum::<i64>() as f64
                    / RATE_SECONDS as f64,
            })
            .collect()
    }

    /// The most recent refusals, newest first, at most `n`.
    pub fn recent_rejections(&self, n: usize) -> Vec<Rejection> {
        self.lock().recent.iter().rev().take(n).cloned().collect()
    }

    /// Records a refusal; `table_exists` says whether it counts towards
    /// the table's statistics.
    pub fn rejected(&self, mut r: Rejection, table_exists: bool) {
        r.reason = clip(&r.reason);
        r.table = r.table.as_deref().map(clip);
        let mut inner = self.lock();
        if let (true, Some(t)) = (table_exists, &r.table) {
            let s = inner.stats.entry(t.clone()).or_default();
            s.rejected += 1;
            s.last_rejected = Some(r.at);
            s.last_status = Some(r.status);
        }
        if inner.recent.len() == MAX_REJECTIONS {
            inner.recent.pop_front();
        }
        inner.recent.push_back(r);
    }

    /// Forgets the statistics of tables that no longer exist.
    pub fn retain_tables(&self, exists: impl Fn(&str) -> bool) {
        self.lock().stats.retain(|t, _| exists(t));
    }

    /// The rows of `rivulet_catalog.<name>`, most recent refusal first.
    pub fn rows(&self, name: &str) -> Vec<Row> {
        let inner = self.lock();
        match name {
            "webhook_rejections" => inner
                .recent
                .iter()
                .rev()
                .map(|r| {
                    vec![
                        Value::Timestamptz(r.at),
                        r.table.clone().map_or(Value::Null, Value::Text),
                        Value::Int4(i32::from(r.status)),
                        Value::Text(r.reason.clone()),
                        Value::Int8(r.body_bytes as i64),
                        Value::Text(r.remote_addr.clone()),
                    ]
                })
                .collect(),
            "webhook_stats" => inner
                .stats
                .iter()
                .map(|(t, s)| {
                    vec![
                        Value::Text(t.clone()),
                        Value::Int8(s.accepted),
                        Value::Int8(s.rows),
                        Value::Int8(s.rejected),
                        timestamp(s.last_accepted),
                        timestamp(s.last_rejected),
                        s.last_status
                            .map_or(Value::Null, |st| Value::Int4(i32::from(st))),
                    ]
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_clipped() {
        let log = WebhookLog::default();
        for i in 0..(MAX_REJECTIONS + 10) {
            log.rejected(
                Rejection {
                    at: i as i64,
                    table: Some("é".repeat(200)),
                    status: 401,
                    reason: "x".repeat(1000),
                    body_bytes: 3,
                    remote_addr: "127.0.0.1:1".into(),
                },
                i % 2 == 0,
            );
        }
        let rows = log.rows("webhook_rejections");
        assert_eq!(rows.len(), MAX_REJECTIONS);
        assert_eq!(rows[0][0], Value::Timestamptz((MAX_REJECTIONS + 9) as i64));
        let Value::Text(t) = &rows[0][1] else {
            panic!()
        };
        assert!(t.len() <= MAX_TEXT && t.chars().all(|c| c == 'é'));
        let stats = log.rows("webhook_stats");
        assert_eq!(stats.len(), 1);
        assert_eq!(stats[0][3], Value::Int8((MAX_REJECTIONS as i64 + 10) / 2));
        log.retain_tables(|_| false);
        assert!(log.rows("webhook_stats").is_empty());
    }
}
