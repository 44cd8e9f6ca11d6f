//! Rows a group appends to one relation under fresh ids, encoded back to
//! back in one buffer until the group commits them as packs (see
//! [`rows`](crate::rows)).
//!
//! Holding them apart from the store's pending writes saves, per row, a
//! key, a buffer of its own and two ordered-map operations (the insert,
//! then taking it out again to pack it); the buffer keeps its capacity
//! from one group to the next.

use rivulet_expr::{encode_row_into, Value};

/// Capacity a run's buffer keeps between groups at most (a group that
/// appended more gives it back). Only the relations the last group
/// appended to keep a run at all (see `Store::pack_appended`).
const RETAIN: usize = 4 << 20;

/// Rows appended to one relation, ascending by id.
#[derive(Default)]
pub(super) struct Run {
    /// Each row's id and where its encoding ends in `bytes`.
    rows: Vec<(u64, usize)>,
    /// The rows' encodings, back to back.
    bytes: Vec<u8>,
    /// Rows appended before the open savepoint began (a rollback keeps
    /// them).
    mark: usize,
}

impl Run {
    /// Whether the run holds no row.
    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether a row with `id` can go at the end (its id is above every
    /// row's in the run).
    pub(super) fn takes(&self, id: u64) -> bool {
        self.rows.last().is_none_or(|&(last, _)| last < id)
    }

    /// Appends `row` under `id` (which [`takes`](Run::takes) must allow).
    pub(super) fn push(&mut self, id: u64, row: &[Value]) {
        encode_row_into(&mut self.bytes, row);
        self.rows.push((id, self.bytes.len()));
    }

    /// Each row's id and encoding, ascending by id.
    pub(super) fn rows(&self) -> impl Iterator<Item = (u64, &[u8])> {
        let mut start = 0;
        self.rows.iter().map(move |&(id, end)| {
            let bytes = &self.bytes[start..end];
            start = end;
            (id, bytes)
        })
    }

    /// Rows appended before the open savepoint began.
    pub(super) fn marked(&self) -> usize {
        self.mark
    }

    /// Notes that a savepoint begins: the rows so far survive its rollback.
    pub(super) fn begin(&mut self) {
        self.mark = self.rows.len();
    }

    /// Drops the rows appended since the savepoint began.
    pub(super) fn rollback(&mut self) {
        self.rows.truncate(self.mark);
        let end = self.rows.last().map_or(0, |&(_, end)| end);
        self.bytes.truncate(end);
    }

    /// Empties the run, keeping a buffer of moderate size for the next
    /// group.
    pub(super) fn clear(&mut self) {
        self.rows.clear();
        self.bytes.clear();
        self.mark = 0;
        if self.bytes.capacity() > RETAIN {
            self.bytes = Vec::new();
            self.rows = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivulet_expr::encode_row;

    #[test]
    fn rows_come_back_as_encoded_and_a_rollback_keeps_the_marked_ones() {
        let row = |i: i64| vec![Value::Int8(i), Value::Text("x".repeat(i as usize))];
        let mut run = Run::default();
        assert!(run.is_empty() && run.takes(1));
        run.push(1, &row(1));
        run.push(4, &row(4));
        assert!(!run.takes(4) && run.takes(5));
        run.begin();
        run.push(7, &row(7));
        assert_eq!(run.marked(), 2);
        let all: Vec<(u64, Vec<u8>)> = run.rows().map(|(id, b)| (id, b.to_vec())).collect();
        assert_eq!(
            all,
            vec![
                (1, encode_row(&row(1))),
                (4, encode_row(&row(4))),
                (7, encode_row(&row(7)))
            ]
        );
        run.rollback();
        let kept: Vec<u64> = run.rows().map(|(id, _)| id).collect();
        assert_eq!(kept, vec![1, 4]);
        assert!(run.takes(5));
        run.push(5, &row(5));
        assert_eq!(
            run.rows().last().map(|(_, b)| b.to_vec()),
            Some(encode_row(&row(5)))
        );
        run.clear();
        assert!(run.is_empty() && run.marked() == 0);
    }
}
