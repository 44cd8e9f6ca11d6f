//! `COPY table [(columns)] FROM STDIN`: rows in PostgreSQL's text format
//! (tab-separated, `\N` for NULL, backslash escapes, `\.` to end) or as
//! CSV (quotes, `""`, an optional header line), parsed line by line as the
//! client's CopyData messages arrive and inserted as one statement when it
//! sends CopyDone: all the rows or, after any error, none.
//!
//! The rows are held until then, charged to the query memory pool
//! (`--query-memory`) for themselves and for the writer's copy of them at
//! commit: a copy that would need more fails with 53200 and stores nothing
//! (about 190,000 Segment events fit the default 256 MiB; larger loads are
//! split into several copies). The first bad line is reported with PostgreSQL's
//! SQLSTATE and CONTEXT (`COPY t, line 3, column n: "x"`); whatever the
//! client sends after it is read and dropped.

use std::sync::Arc;

use rivulet_catalog::Relation;
use rivulet_expr::{cast, DataType, Row, Value};
use rivulet_sql::{CopyOptions, Ident, ObjectName};
use rivulet_stream::{Database, Reservation};

use crate::error::{Error, Result};

/// Bytes charged per row beyond its values (row and vector headers).
const ROW_OVERHEAD: usize = 48;

/// Copies of each row in memory at once at the end: the parsed rows, and
/// the writer's encoded rows and view changes while it commits them
/// (measured: 200,000 Segment events, 120 MB of text, peaked at 2.0× their
/// estimated size).
const COPIES_AT_COMMIT: usize = 2;

/// A copy in progress on one session.
#[derive(Debug)]
pub struct CopyIn {
    table: Arc<Relation>,
    /// Table positions of the columns each line gives.
    targets: Vec<usize>,
    csv: bool,
    delimiter: u8,
    null: String,
    /// A CSV header line still to skip.
    header: bool,
    /// Bytes after the last complete line (charged to `memory`).
    pending: Vec<u8>,
    /// Where in `pending` the search for the line's end resumes, and
    /// whether that point is inside CSV quotes.
    scan: usize,
    quoted: bool,
    rows: Vec<Row>,
    /// Lines read so far (for error context).
    line: u64,
    /// `\.` was seen: the rest is ignored.
    ended: bool,
    /// The first error; later data is dropped.
    error: Option<Error>,
    memory: Arc<Reservation>,
}

impl CopyIn {
    /// Starts a copy into `table`, checking the target first (a view or a
    /// missing column fails before any data is asked for).
    pub fn start(
        db: &Database,
        table: &ObjectName,
        columns: &[Ident],
        options: &CopyOptions,
    ) -> Result<CopyIn> {
        let (table, targets) = rivulet_catalog::bind_copy_from(&db.catalog(), table, columns)?;
        let delimiter = options
            .delimiter
            .unwrap_or(if options.csv { ',' } else { '\t' });
        if !delimiter.is_ascii() {
            return Err(Error::NotSupported(
                "COPY delimiter must be a single one-byte character".into(),
            ));
        }
        if options.header && !options.csv {
            return Err(Error::NotSupported(
                "COPY HEADER is available only in CSV mode".into(),
            ));
        }
        Ok(CopyIn {
            table,
            targets,
            csv: options.csv,
            delimiter: delimiter as u8,
            null: options
                .null
                .clone()
                .unwrap_or_else(|| if options.csv { "" } else { "\\N" }.into()),
            header: options.header,
            pending: Vec::new(),
            scan: 0,
            quoted: false,
            rows: Vec::new(),
            line: 0,
            ended: false,
            error: None,
            memory: db.reserve_query_memory(),
        })
    }

    /// The number of columns each line has.
    pub fn columns(&self) -> usize {
        self.targets.len()
    }

    /// Takes one CopyData message.
    pub fn data(&mut self, bytes: &[u8]) {
        if self.error.is_some() || self.ended {
            return;
        }
        // An unfinished line is held too: it counts against the limit.
        if let Err(e) = self.memory.try_charge(bytes.len()) {
            self.fail(e.into());
            return;
        }
        // Taken out while its lines are read, so they need no copies.
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(end) = self.line_end(&pending) {
            let read = self.record(&pending[start..end]);
            start = end + 1;
            self.scan = start;
            if let Err(e) = read {
                self.fail(e);
                return;
            }
            if self.ended {
                return;
            }
        }
        self.memory.release(start);
        pending.drain(..start);
        self.scan -= start;
        self.pending = pending;
    }

    /// Records the copy's first error and drops what is held.
    fn fail(&mut self, e: Error) {
        self.error = Some(e);
        self.pending = Vec::new();
        self.rows = Vec::new();
    }

    /// The end (newline) of the line being read, searching on from where
    /// the last search stopped; a CSV newline inside quotes is data.
    fn line_end(&mut self, pending: &[u8]) -> Option<usize> {
        while self.scan < pending.len() {
            let b = pending[self.scan];
            if self.csv && b == b'"' {
                self.quoted = !self.quoted;
            } else if b == b'\n' && !self.quoted {
                return Some(self.scan);
            }
            self.scan += 1;
        }
        None
    }

    /// Ends the copy (CopyDone): the table and every row, or the first
    /// error.
    pub fn finish(mut self) -> Result<(Arc<Relation>, Vec<Row>)> {
        if self.error.is_none() && !self.ended && !self.pending.is_empty() {
            // A last line without its newline.
            let record = std::mem::take(&mut self.pending);
            if self.csv && self.quoted {
                self.line += 1;
                let line = String::from_utf8_lossy(&record);
                return Err(self.bad("unterminated CSV quoted field", &line));
            }
            if let Err(e) = self.record(&record) {
                self.error = Some(e);
            }
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok((self.table.clone(), std::mem::take(&mut self.rows))),
        }
    }

    fn context(&self) -> String {
        format!("COPY {}, line {}", self.table.name, self.line)
    }

    /// 22P04, with the line's text in the context as PostgreSQL gives it.
    fn bad(&self, message: &str, line: &str) -> Error {
        Error::BadCopyData {
            message: message.into(),
            context: format!("{}: \"{line}\"", self.context()),
        }
    }

    /// One line (without its newline).
    fn record(&mut self, record: &[u8]) -> Result<()> {
        self.line += 1;
        let record = record.strip_suffix(b"\r").unwrap_or(record);
        // The end-of-data marker, in either format.
        if record == b"\\." {
            self.ended = true;
            return Ok(());
        }
        if self.header {
            self.header = false;
            return Ok(());
        }
        let text = std::str::from_utf8(record).map_err(|_| {
            Error::Expr(rivulet_expr::Error::CharacterNotInRepertoire(
                "invalid byte sequence for encoding \"UTF8\"".into(),
            ))
        })?;
        let fields = if self.csv {
            self.csv_fields(text)?
        } else {
            self.text_fields(text)
        };
        if fields.len() > self.targets.len() {
            return Err(self.bad("extra data after last expected column", text));
        }
        // Column by column, as PostgreSQL converts them: a bad value before
        // the first missing one is what is reported.
        let mut row = vec![Value::Null; self.table.columns.len()];
        let mut fields = fields.into_iter();
        for &i in &self.targets {
            let column = &self.table.columns[i];
            let Some(field) = fields.next() else {
                let message = format!("missing data for column \"{}\"", column.name);
                return Err(self.bad(&message, text));
            };
            let Some(text) = field else { continue };
            let value = match column.ty {
                DataType::Text => Value::Text(text),
                ty => cast(Value::Text(text.clone()), ty).map_err(|source| Error::CopyValue {
                    context: format!("{}, column {}: \"{text}\"", self.context(), column.name),
                    source,
                })?,
            };
            row[i] = value;
        }
        let size = row.iter().map(Value::approx_size).sum::<usize>() + ROW_OVERHEAD;
        self.memory.try_charge(size * COPIES_AT_COMMIT)?;
        self.rows.push(row);
        Ok(())
    }

    /// Text format: fields split at the delimiter, `\N` (or the NULL
    /// string) for NULL, backslash escapes undone.
    fn text_fields(&self, line: &str) -> Vec<Option<String>> {
        line.split(self.delimiter as char)
            .map(|raw| (raw != self.null).then(|| unescape(raw)))
            .collect()
    }

    /// CSV: quoted fields may hold delimiters, newlines and `""`; an
    /// unquoted field equal to the NULL string (empty by default) is NULL.
    fn csv_fields(&self, line: &str) -> Result<Vec<Option<String>>> {
        let delimiter = self.delimiter as char;
        let mut fields = Vec::new();
        let mut chars = line.chars().peekable();
        // The field being read: its value, its raw text outside quotes,
        // and whether any of it was quoted.
        let (mut value, mut raw, mut quoted) = (String::new(), String::new(), false);
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    quoted = true;
                    loop {
                        match chars.next() {
                            None => return Err(self.bad("unterminated CSV quoted field", line)),
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                value.push('"');
                            }
                            Some('"') => break,
                            Some(c) => value.push(c),
                        }
                    }
                }
                c if c == delimiter => {
                    let field = std::mem::take(&mut value);
                    fields.push(self.csv_value(field, std::mem::take(&mut raw), quoted));
                    quoted = false;
                }
                c => {
                    value.push(c);
                    raw.push(c);
                }
            }
        }
        fields.push(self.csv_value(value, raw, quoted));
        Ok(fields)
    }

    fn csv_value(&self, value: String, raw: String, quoted: bool) -> Option<String> {
        (quoted || raw != self.null).then_some(value)
    }
}

/// Undoes the text format's backslash escapes: `\b \f \n \r \t \v \\`,
/// octal `\ooo`, hex `\xhh`, and any other `\c` as `c`.
fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let b = raw.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 == b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match b.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' if b.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                let mut v = 0u32;
                for _ in 0..2 {
                    match b.get(i).and_then(|&d| (d as char).to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            i += 1;
                        }
                        None => break,
                    }
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_are_undone() {
        assert_eq!(unescape(r"a\tb\\c\nd"), "a\tb\\c\nd");
        assert_eq!(unescape(r"\101\x42"), "AB");
        assert_eq!(unescape("plain"), "plain");
    }
}
