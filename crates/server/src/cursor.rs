//! SQL cursors: `DECLARE name CURSOR FOR query`, `FETCH n FROM name`,
//! `CLOSE name` (what psycopg2's named cursors and SQLAlchemy's
//! `stream_results` send). A cursor over rows that are final as read
//! streams them: a reader on the blocking pool runs the query and waits,
//! a few chunks ahead, until FETCH takes its rows, so a cursor over a
//! table many times the memory budget holds a few chunks. Any other
//! cursor runs its query to the end at DECLARE, as a SELECT would.
//! Cursors without `WITH HOLD` close when their transaction block ends.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use pgwire::api::portal::Format;
use pgwire::api::results::Response;
use rivulet_expr::Row;
use rivulet_sql::Query;
use rivulet_stream::Database;

use crate::error::{Error, Result};
use crate::results::{result_set, STREAM_AHEAD, STREAM_CHUNK, STREAM_READERS};

/// Where an open cursor's rows come from.
enum Source {
    /// A reader still producing chunks; dropping it stops the reader.
    Reader {
        rx: tokio::sync::mpsc::Receiver<rivulet_stream::Result<Vec<Row>>>,
        stop: Arc<AtomicBool>,
    },
    /// Every row has arrived (in `buffered`).
    Done,
}

/// One open cursor.
struct Cursor {
    columns: Vec<rivulet_catalog::Column>,
    hold: bool,
    buffered: VecDeque<Row>,
    source: Source,
    /// Set for a subscription cursor: where it reads changes.
    subscription: Option<Box<crate::subscribe::SubscriptionCursor>>,
}

impl Drop for Cursor {
    fn drop(&mut self) {
        if let Source::Reader { stop, .. } = &self.source {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

/// Most cursors a session may hold open (each may hold a reader).
const MAX_CURSORS: usize = 64;

/// A session's open cursors.
#[derive(Default)]
pub struct Cursors(Mutex<HashMap<String, Cursor>>);

impl std::fmt::Debug for Cursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.with(|m| m.keys().cloned().collect());
        f.debug_tuple("Cursors").field(&names).finish()
    }
}

impl Cursors {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Cursor>) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// `DECLARE name CURSOR [WITH HOLD] FOR query`.
    pub async fn declare(
        &self,
        db: &Database,
        name: &str,
        hold: bool,
        in_block: bool,
        query: Query,
    ) -> Result<()> {
        if !hold && !in_block {
            return Err(Error::NoTransactionBlock("DECLARE CURSOR"));
        }
        self.check_free(name)?;
        let db2 = db.clone();
        let plan = tokio::task::spawn_blocking(move || {
            db2.plan_query_blocking(&query, &AtomicBool::new(false))
        })
        .await??;
        let columns = plan.output.clone();
        let permit = if plan.final_as_read() {
            STREAM_READERS.try_acquire().ok()
        } else {
            None
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (buffered, source) = match permit {
            Some(permit) => {
                let (tx, rx) = tokio::sync::mpsc::channel(STREAM_AHEAD);
                let (db2, flag) = (db.clone(), stop.clone());
                tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    let mut chunk = Vec::with_capacity(STREAM_CHUNK);
                    let r = db2.query_blocking(&plan, &flag, &mut |row| {
                        chunk.push(row);
                        if chunk.len() >= STREAM_CHUNK
                            && tx.blocking_send(Ok(std::mem::take(&mut chunk))).is_err()
                        {
                            return Ok(false); // closed
                        }
                        Ok(true)
                    });
                    let last = r.map(|()| chunk);
                    let _ = tx.blocking_send(last);
                });
                (VecDeque::new(), Source::Reader { rx, stop })
            }
            None => {
                let db2 = db.clone();
                let rows = tokio::task::spawn_blocking(move || {
                    let mut rows = Vec::new();
                    db2.query_blocking(&plan, &stop, &mut |row| {
                        rows.push(row);
                        Ok(true)
                    })
                    .map(|()| rows)
                })
                .await??;
                (rows.into(), Source::Done)
            }
        };
        self.with(|m| {
            m.insert(
                name.to_string(),
                Cursor {
                    columns,
                    hold,
                    buffered,
                    source,
                    subscription: None,
                },
            )
        });
        Ok(())
    }

    /// `DECLARE name SUBSCRIPTION CURSOR FOR sub [SINCE ... | FULL]`. Like
    /// RisingWave's, it needs no transaction block and outlives one.
    pub async fn declare_subscription(
        &self,
        db: &Database,
        name: &str,
        subscription: &rivulet_sql::ObjectName,
        since: rivulet_sql::Since,
    ) -> Result<()> {
        self.check_free(name)?;
        let cursor = crate::subscribe::SubscriptionCursor::declare(db, subscription, since).await?;
        self.check_free(name)?;
        self.with(|m| {
            m.insert(
                name.to_string(),
                Cursor {
                    columns: cursor
                        .columns()
                        .into_iter()
                        .map(|(n, t)| rivulet_catalog::Column::new(n, t))
                        .collect(),
                    hold: true,
                    buffered: VecDeque::new(),
                    source: Source::Done,
                    subscription: Some(Box::new(cursor)),
                },
            )
        });
        Ok(())
    }

    fn check_free(&self, name: &str) -> Result<()> {
        self.with(|m| {
            if m.contains_key(name) {
                Err(Error::DuplicateCursor(name.to_string()))
            } else if m.len() >= MAX_CURSORS {
                Err(Error::TooManyCursors(MAX_CURSORS))
            } else {
                Ok(())
            }
        })
    }

    /// The columns FETCH from cursor `name` answers with, if it is open.
    pub fn columns(&self, name: &str) -> Option<Vec<rivulet_catalog::Column>> {
        self.with(|m| m.get(name).map(|c| c.columns.clone()))
    }

    /// The open subscription cursors: (name, subscription).
    pub fn subscription_cursors(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self.with(|m| {
            m.iter()
                .filter_map(|(n, c)| {
                    Some((
                        n.clone(),
                        c.subscription.as_ref()?.subscription().to_string(),
                    ))
                })
                .collect()
        });
        out.sort();
        out
    }

    /// `FETCH count FROM name [WITH (timeout = ...)]` (`None`: all that
    /// are left; on a subscription cursor, all that are committed). Only
    /// a subscription cursor waits.
    pub async fn fetch(
        &self,
        db: &Database,
        name: &str,
        count: Option<u64>,
        wait: crate::subscribe::Wait,
        fmt: &Format,
    ) -> Result<Response> {
        let mut cursor = self
            .with(|m| m.remove(name))
            .ok_or_else(|| Error::UndefinedCursor(name.to_string()))?;
        if let Some(sub) = &mut cursor.subscription {
            let rows = sub.fetch(db, count, wait).await;
            let columns = cursor.columns.clone();
            self.with(|m| m.insert(name.to_string(), cursor));
            let mut response = result_set(&columns, &rows?, fmt)?;
            if let Response::Query(q) = &mut response {
                q.set_command_tag("FETCH");
            }
            return Ok(response);
        }
        let want = count.map_or(usize::MAX, |n| n.min(usize::MAX as u64) as usize);
        let mut failure = None;
        while cursor.buffered.len() < want {
            let Source::Reader { rx, .. } = &mut cursor.source else {
                break;
            };
            match rx.recv().await {
                Some(Ok(chunk)) => cursor.buffered.extend(chunk),
                Some(Err(e)) => {
                    failure = Some(e);
                    cursor.source = Source::Done;
                }
                None => cursor.source = Source::Done,
            }
        }
        let n = want.min(cursor.buffered.len());
        let rows: Vec<Row> = cursor.buffered.drain(..n).collect();
        let columns = cursor.columns.clone();
        self.with(|m| m.insert(name.to_string(), cursor));
        if let Some(e) = failure {
            return Err(e.into());
        }
        let mut response = result_set(&columns, &rows, fmt)?;
        if let Response::Query(q) = &mut response {
            q.set_command_tag("FETCH");
        }
        Ok(response)
    }

    /// `CLOSE name` or `CLOSE ALL`.
    pub fn close(&self, name: Option<&str>) -> Result<()> {
        self.with(|m| match name {
            None => {
                m.clear();
                Ok(())
            }
            Some(n) => m
                .remove(n)
                .map(drop)
                .ok_or_else(|| Error::UndefinedCursor(n.to_string())),
        })
    }

    /// Closes the cursors of a transaction block that ended.
    pub fn end_of_block(&self) {
        self.with(|m| m.retain(|_, c| c.hold));
    }
}
