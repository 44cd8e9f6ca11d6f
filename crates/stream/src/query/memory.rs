//! What ad-hoc queries may hold in memory at once.
//!
//! Every running query holds rows and operator state for its length: the
//! groups of its aggregates, the values its DISTINCT calls have seen, both
//! sides of its joins, and the rows it sorts. All queries together draw on
//! one [`QueryMemory`] pool; each query charges what it holds to its own
//! [`Reservation`] and gives it all back when it ends. A query that would
//! take the pool past its limit fails with 53200 (`out of memory`) instead
//! of taking the process with it. Sizes are estimates (a value's heap
//! bytes plus fixed overheads), accurate to within a small factor.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use rivulet_expr::Value;

use crate::{Error, Result};

/// Fixed cost charged for each entry of a map (node, hash slot, key and
/// value headers).
pub(crate) const ENTRY_OVERHEAD: usize = 64;

/// The pool all queries share.
#[derive(Debug)]
pub struct QueryMemory {
    limit: usize,
    used: AtomicUsize,
}

impl QueryMemory {
    /// A pool of `limit` bytes.
    pub fn new(limit: usize) -> QueryMemory {
        QueryMemory {
            limit,
            used: AtomicUsize::new(0),
        }
    }

    /// Bytes held by running queries now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

/// What one query holds from the pool; released when dropped.
#[derive(Debug)]
pub struct Reservation {
    pool: Arc<QueryMemory>,
    held: AtomicUsize,
    over: AtomicBool,
}

impl Reservation {
    /// An empty reservation against `pool`.
    pub(crate) fn new(pool: Arc<QueryMemory>) -> Arc<Reservation> {
        Arc::new(Reservation {
            pool,
            held: AtomicUsize::new(0),
            over: AtomicBool::new(false),
        })
    }

    /// A reservation against a pool of its own without a useful limit, for
    /// callers that bound memory some other way.
    pub fn unlimited() -> Arc<Reservation> {
        Reservation::new(Arc::new(QueryMemory::new(usize::MAX)))
    }

    /// Takes `bytes` more; false (remembered for [`Reservation::check`])
    /// once the pool is past its limit. The bytes count as held either way.
    pub(crate) fn charge(&self, bytes: usize) -> bool {
        self.held.fetch_add(bytes, Ordering::Relaxed);
        let used = self.pool.used.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if used > self.pool.limit {
            self.over.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Takes `bytes` more, or fails with 53200 past the limit (the bytes
    /// stay held until the reservation ends).
    pub fn try_charge(&self, bytes: usize) -> Result<()> {
        match self.charge(bytes) {
            true => Ok(()),
            false => Err(self.exhausted()),
        }
    }

    /// Gives back `bytes` taken earlier.
    pub fn release(&self, bytes: usize) {
        let bytes = bytes.min(self.held.load(Ordering::Relaxed));
        self.held.fetch_sub(bytes, Ordering::Relaxed);
        self.pool.used.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// 53200 once a charge went past the limit.
    pub(crate) fn check(&self) -> Result<()> {
        if self.over.load(Ordering::Relaxed) {
            return Err(self.exhausted());
        }
        Ok(())
    }

    /// The error for a charge past the limit.
    pub(crate) fn exhausted(&self) -> Error {
        Error::OutOfMemory {
            limit: self.pool.limit,
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.pool
            .used
            .fetch_sub(*self.held.get_mut(), Ordering::Relaxed);
    }
}

/// Estimated bytes a row of `values` holds.
pub(crate) fn row_size(values: &[Value]) -> usize {
    values.iter().map(Value::approx_size).sum::<usize>() + 24
}
