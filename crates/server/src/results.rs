//! Result rows on the wire, and what every streaming answer shares: the
//! column descriptions in the formats the client asked for, whole result
//! sets, the cancel guard of a reader running off the async workers, and
//! the sizes and limits of the chunks readers hand to connections. Used by
//! SELECT (`exec`), `COPY ... TO STDOUT` (`copy`) and cursors (`cursor`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::stream;
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response};
use rivulet_catalog::{Column, ColumnOrigin};
use rivulet_expr::{DataType, Row};
use rivulet_sql::CopyOptions;

use crate::error::{Error, Result};
use crate::pgvalue::{pg_type, PgValue};

/// The format of result column `i`: a client may send one code for all
/// columns or one per column; anything missing means text.
pub fn format_for(fmt: &Format, i: usize) -> FieldFormat {
    match fmt {
        Format::UnifiedText => FieldFormat::Text,
        Format::UnifiedBinary => FieldFormat::Binary,
        Format::Individual(codes) => match codes.as_slice() {
            [one] => FieldFormat::from(*one),
            many => many
                .get(i)
                .map_or(FieldFormat::Text, |c| FieldFormat::from(*c)),
        },
    }
}

/// A result column as clients are told of it: name and type, and the
/// relation column it is, if it is one as such.
pub(crate) trait ResultColumn {
    /// Its name.
    fn name(&self) -> &str;
    /// Its type.
    fn ty(&self) -> DataType;
    /// The relation column it is.
    fn origin(&self) -> Option<ColumnOrigin> {
        None
    }
}

impl ResultColumn for (String, DataType) {
    fn name(&self) -> &str {
        &self.0
    }

    fn ty(&self) -> DataType {
        self.1
    }
}

impl ResultColumn for Column {
    fn name(&self) -> &str {
        &self.name
    }

    fn ty(&self) -> DataType {
        self.ty
    }

    fn origin(&self) -> Option<ColumnOrigin> {
        self.origin
    }
}

/// One column's description, as PostgreSQL's RowDescription gives it:
/// a relation's column as such carries the relation's OID and its
/// attribute number (drivers read them for result-set metadata), and a
/// `varchar` one that type.
pub(crate) fn field(c: &impl ResultColumn, format: FieldFormat) -> FieldInfo {
    let (table, attnum, ty) = match c.origin() {
        Some(o) => (
            // OIDs are unsigned 32-bit numbers, sent as their bits.
            Some(o.table_oid as u32 as i32),
            Some(o.attnum),
            if o.varchar {
                pgwire::api::Type::VARCHAR
            } else {
                pg_type(c.ty())
            },
        ),
        None => (None, None, pg_type(c.ty())),
    };
    FieldInfo::new(c.name().to_string(), table, attnum, ty, format)
}

/// The description of result columns, each in the format the client
/// asked for.
pub(crate) fn fields(columns: &[impl ResultColumn], fmt: &Format) -> Arc<Vec<FieldInfo>> {
    Arc::new(
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| field(c, format_for(fmt, i)))
            .collect(),
    )
}

/// A result set, each column in the format the client asked for.
pub fn result_set(columns: &[impl ResultColumn], rows: &[Row], fmt: &Format) -> Result<Response> {
    let fields = fields(columns, fmt);
    let mut encoder = DataRowEncoder::new(fields.clone());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        for v in row {
            encoder.encode_field(&PgValue(v)).map_err(Error::Encode)?;
        }
        out.push(Ok(encoder.take_row()));
    }
    Ok(Response::Query(QueryResponse::new(
        fields,
        stream::iter(out),
    )))
}

/// Sets a flag when dropped: a query's future is dropped when the client
/// cancels it, and the blocking work then stops at its next check.
pub(crate) struct CancelOnDrop(pub(crate) Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Rows per message from a streaming query's reader to its connection.
pub(crate) const STREAM_CHUNK: usize = 256;

/// Result chunks a streaming query may have ready before its reader waits
/// for the client to take them.
pub(crate) const STREAM_AHEAD: usize = 4;

/// Streaming queries reading at once. A reader waiting for a slow client
/// (or a suspended portal) holds a blocking thread; past this many, a
/// query runs to the end before it answers, as other queries do.
pub(crate) static STREAM_READERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(64);

/// How one row of `COPY ... TO STDOUT` (and `SUBSCRIBE`) is written:
/// PostgreSQL's text format or CSV.
pub(crate) struct CopyFormat {
    csv: bool,
    delimiter: char,
    null: String,
}

impl CopyFormat {
    pub(crate) fn new(o: &CopyOptions) -> CopyFormat {
        CopyFormat {
            csv: o.csv,
            delimiter: o.delimiter.unwrap_or(if o.csv { ',' } else { '\t' }),
            null: o
                .null
                .clone()
                .unwrap_or_else(|| if o.csv { String::new() } else { "\\N".into() }),
        }
    }

    /// One field, quoted or escaped as the format needs.
    fn field(&self, out: &mut String, text: Option<&str>) {
        let Some(s) = text else {
            out.push_str(&self.null);
            return;
        };
        if self.csv {
            let quote = s == self.null || s.contains([self.delimiter, '"', '\n', '\r']);
            if quote {
                out.push('"');
                out.push_str(&s.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(s);
            }
            return;
        }
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c == self.delimiter => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
    }

    pub(crate) fn line<'a>(&self, fields: impl Iterator<Item = Option<&'a str>>) -> Bytes {
        let mut out = String::new();
        for (i, f) in fields.enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            self.field(&mut out, f);
        }
        out.push('\n');
        Bytes::from(out)
    }
}
