//! ORDER BY ... LIMIT without holding every row: the best rows so far, cut
//! back to the ones that can still be in the answer whenever twice that
//! many have gathered. Each scan thread keeps its own, and the calling
//! thread keeps the best of theirs.

use std::cmp::Ordering;

use rivulet_expr::Row;

use super::memory::{row_size, Reservation};
use crate::{Change, Result};

/// How rows are ordered.
pub(super) type Order<'a> = &'a (dyn Fn(&Row, &Row) -> Ordering + Sync);

/// The rows a query wants: the first `keep` in `order`.
#[derive(Clone, Copy)]
pub(super) struct TopN<'a> {
    pub(super) keep: usize,
    pub(super) order: Order<'a>,
}

/// The best rows seen so far, at most twice `keep` (or 1,024) of them.
pub(super) struct TopRows<'a> {
    top: TopN<'a>,
    rows: Vec<Change>,
    /// Bytes charged to the reservation for `rows`.
    charged: usize,
}

impl<'a> TopRows<'a> {
    pub(super) fn new(top: TopN<'a>) -> TopRows<'a> {
        TopRows {
            top,
            rows: Vec::new(),
            charged: 0,
        }
    }

    /// Adds the inserted rows of `changes` (the plan only inserts),
    /// charging them to `memory`; 53200 past the query memory limit.
    pub(super) fn add(&mut self, changes: Vec<Change>, memory: &Reservation) -> Result<()> {
        for c in changes {
            if let Some(r) = &c.new {
                let n = row_size(r);
                self.charged += n;
                memory.charge(n);
                self.rows.push(c);
            }
        }
        if self.rows.len() > self.top.keep.saturating_mul(2).max(1024) {
            let order = self.top.order;
            let by_row = |a: &Change, b: &Change| match (&a.new, &b.new) {
                (Some(a), Some(b)) => order(a, b),
                _ => Ordering::Equal,
            };
            if self.top.keep < self.rows.len() {
                self.rows.select_nth_unstable_by(self.top.keep, by_row);
            }
            self.rows.truncate(self.top.keep);
            memory.release(self.charged);
            self.charged = self
                .rows
                .iter()
                .filter_map(|c| c.new.as_ref())
                .map(|r| row_size(r))
                .sum();
            memory.charge(self.charged);
        }
        memory.check()
    }

    /// The rows kept (unsorted), as inserts, giving back their charge:
    /// whoever keeps them charges them again.
    pub(super) fn into_changes(self, memory: &Reservation) -> Vec<Change> {
        memory.release(self.charged);
        self.rows
    }
}
