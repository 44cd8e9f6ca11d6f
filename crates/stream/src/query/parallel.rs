//! Reading one large relation on several threads.
//!
//! A query over one stored relation runs its bottom on `WORKERS` threads,
//! each over its own range of the relation's keys, and feeds their output
//! to the rest of the plan on the calling thread
//! ([`Plan::split_for_parallel_scan`] chooses the bottom). The bottom is
//! the stateless part (scan, filters, projections) and, when its calls
//! combine, the aggregate above it: each thread then aggregates its range
//! to the end and hands up one row per group, which the calling thread
//! combines. Otherwise the threads hand up rows as they go, with the
//! aggregate's keys and arguments already computed. Either way rows are
//! decoded, and JSON paths evaluated, in parallel.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use std::sync::Arc;

use super::memory::{row_size, ENTRY_OVERHEAD};
use super::top::{TopN, TopRows};
use crate::{Change, Database, Dataflow, EvalCtx, MemState, Reservation, Result, ScanSpec};
use rivulet_catalog::Plan;
use rivulet_expr::Row;

/// Threads reading at once (this machine class has two cores).
const WORKERS: usize = 2;

/// Relations smaller than this are read on the calling thread.
const MIN_ROWS: i64 = 50_000;

/// Relation id standing for the workers' output in the rest of the plan.
const PLACEHOLDER: u64 = u64::MAX;

/// Rows per chunk handed from a worker to the calling thread.
const CHUNK: usize = 1024;

/// Rows by output key: a query's result, or a thread's aggregate groups.
pub(super) type Rows = BTreeMap<Vec<u8>, Row>;

/// Applies output changes to the rows collected so far, charging what they
/// hold to `memory`; 53200 past the query memory limit.
pub(super) fn apply(rows: &mut Rows, changes: Vec<Change>, memory: &Reservation) -> Result<()> {
    let size = |k: &[u8], r: &Row| k.len() + row_size(r) + ENTRY_OVERHEAD;
    for c in changes {
        let old = match c.new {
            Some(r) => {
                memory.charge(size(&c.key, &r));
                rows.insert(c.key.clone(), r)
            }
            None => rows.remove(&c.key),
        };
        if let Some(old) = old {
            memory.release(size(&c.key, &old));
        }
    }
    memory.check()
}

/// `parts - 1` keys dividing `first..=last` into ranges of about equal
/// width, read as 8-byte big-endian numbers (row ids are exactly that;
/// other keys split by their first 8 bytes, which keeps every key in
/// exactly one range whatever their distribution).
fn split_keys(first: &[u8], last: &[u8], parts: usize) -> Vec<Vec<u8>> {
    let num = |k: &[u8]| {
        let mut b = [0u8; 8];
        let n = k.len().min(8);
        b[..n].copy_from_slice(&k[..n]);
        u64::from_be_bytes(b)
    };
    let (lo, hi) = (num(first), num(last));
    if hi <= lo || ((hi - lo) as usize) < parts {
        return Vec::new();
    }
    (1..parts)
        .map(|i| {
            (lo + ((hi - lo) as u128 * i as u128 / parts as u128) as u64)
                .to_be_bytes()
                .to_vec()
        })
        .collect()
}

/// What receives a query's output changes; returns whether it wants more.
pub(super) type Sink<'a> = dyn FnMut(Vec<Change>) -> Result<bool> + 'a;

/// Runs `root` with its reading split over threads, if it has the shape
/// for it and its relation is large, handing its output to `sink`; returns
/// false, having done nothing, otherwise (the caller runs it on one
/// thread). Blocking.
pub(super) fn try_run(
    db: &Database,
    root: &Plan,
    cancelled: &AtomicBool,
    memory: &Arc<Reservation>,
    top: Option<TopN<'_>>,
    sink: &mut Sink<'_>,
) -> Result<bool> {
    let scans = root.distinct_scans();
    let [rel] = scans.as_slice() else {
        return Ok(false);
    };
    if rel.system().is_some() || db.row_count_blocking(rel)? < MIN_ROWS {
        return Ok(false);
    }
    let Some((prefix, rest)) = root.split_for_parallel_scan(PLACEHOLDER) else {
        return Ok(false);
    };
    let Some((first, last)) = db.key_bounds_blocking(rel)? else {
        return Ok(false);
    };
    let bounds = split_keys(&first, &last, WORKERS);
    if bounds.is_empty() {
        return Ok(false);
    }
    let columns = prefix.scan_columns().remove(&rel.id);
    let predicate = prefix.scan_predicates().remove(&rel.id);
    let partial = !prefix.is_stateless();
    // When the threads run the whole plan and only the best rows are
    // wanted, each hands up only its own best.
    let top = top.filter(|_| !partial && matches!(rest, Plan::Scan { .. }));

    let rest_flow = Dataflow::for_query(&rest, memory);
    let mut st = MemState::charged_to(memory.clone());
    let mut ctx = EvalCtx::strict();
    let stop = AtomicBool::new(false);
    if !sink(rest_flow.init(&mut ctx, &mut st)?)? {
        return Ok(true);
    }

    let (tx, rx) = mpsc::sync_channel::<crate::Result<Vec<Change>>>(2 * WORKERS);
    let mut failure: Option<crate::Error> = None;
    let mut done = false;
    std::thread::scope(|s| {
        for i in 0..=bounds.len() {
            let from = i.checked_sub(1).map(|j| bounds[j].clone());
            let to = bounds.get(i).cloned();
            let tx = tx.clone();
            let (prefix, columns, predicate, stop) = (&prefix, &columns, &predicate, &stop);
            let spawned = std::thread::Builder::new()
                .name("rivulet-scan".into())
                .stack_size(crate::THREAD_STACK)
                .spawn_scoped(s, move || {
                    let flow = Dataflow::for_query(prefix, memory);
                    let mut st = MemState::charged_to(memory.clone());
                    let mut ctx = EvalCtx::strict();
                    let halted =
                        || cancelled.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed);
                    // A thread running a whole aggregate keeps its groups
                    // until it has read its range; other rows go up at once.
                    let mut groups = Rows::new();
                    let mut best = top.map(TopRows::new);
                    let mut run = || -> crate::Result<()> {
                        if partial {
                            apply(&mut groups, flow.init(&mut ctx, &mut st)?, memory)?;
                        }
                        db.scan_range_blocking(
                            rel,
                            from.as_deref(),
                            to.as_deref(),
                            CHUNK,
                            ScanSpec {
                                columns: columns.as_deref(),
                                predicate: predicate.as_ref(),
                            },
                            &mut |chunk| {
                                if halted() {
                                    return Ok(false);
                                }
                                let out = flow.push_owned(rel.id, chunk, &mut ctx, &mut st)?;
                                memory.check()?;
                                if partial {
                                    apply(&mut groups, out, memory)?;
                                    return Ok(!ctx.failed());
                                }
                                if let Some(best) = &mut best {
                                    best.add(out, memory)?;
                                    return Ok(!ctx.failed());
                                }
                                Ok(!ctx.failed() && tx.send(Ok(out)).is_ok())
                            },
                        )?;
                        if !halted() {
                            let out = flow.finish(&mut ctx, &mut st)?;
                            if partial {
                                apply(&mut groups, out, memory)?;
                            } else if let Some(best) = &mut best {
                                best.add(out, memory)?;
                            } else if !out.is_empty() && tx.send(Ok(out)).is_err() {
                                return Ok(());
                            }
                        }
                        std::mem::take(&mut ctx).finish()
                    };
                    match run() {
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                        Ok(()) if (partial || best.is_some()) && !halted() => {
                            let rows: Vec<Change> = match best {
                                Some(best) => best.into_changes(memory),
                                None => groups
                                    .into_iter()
                                    .map(|(k, r)| Change::insert(k, r))
                                    .collect(),
                            };
                            let mut rows = rows.into_iter().peekable();
                            while rows.peek().is_some() {
                                let part: Vec<Change> = rows.by_ref().take(CHUNK).collect();
                                if tx.send(Ok(part)).is_err() {
                                    break;
                                }
                            }
                        }
                        Ok(()) => {}
                    }
                });
            if let Err(e) = spawned {
                // A range nobody reads would silently be missing.
                failure = Some(crate::Error::Storage(rivulet_storage::Error::Io(e)));
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        drop(tx);
        // Drain everything (workers may be waiting to send), keeping the
        // first error.
        for msg in rx {
            if failure.is_some() || done {
                continue;
            }
            let step = msg.and_then(|out| {
                let changes = rest_flow.push_owned(PLACEHOLDER, out, &mut ctx, &mut st)?;
                memory.check()?;
                sink(changes)
            });
            match step {
                Ok(true) if ctx.failed() => {
                    failure = std::mem::take(&mut ctx).finish().err();
                }
                Ok(true) => {}
                Ok(false) => done = true,
                Err(e) => failure = Some(e),
            }
            if failure.is_some() || done {
                stop.store(true, Ordering::Relaxed);
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    if !done {
        let out = rest_flow.finish(&mut ctx, &mut st)?;
        std::mem::take(&mut ctx).finish()?;
        sink(out)?;
    }
    ctx.finish()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_row_ids_evenly() {
        let k = |n: u64| n.to_be_bytes().to_vec();
        assert_eq!(split_keys(&k(1), &k(101), 2), vec![k(51)]);
        assert_eq!(split_keys(&k(5), &k(5), 2), Vec::<Vec<u8>>::new());
        assert_eq!(split_keys(b"\\x07abc", b"\\x07xyz", 2).len(), 1);
    }
}
