//! Values on the wire: PostgreSQL type identities and text/binary forms.

use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use pgwire::api::Type;
use pgwire::types::format::FormatOptions;
use pgwire::types::ToSqlText;
use postgres_types::{IsNull, ToSql};
use rivulet_expr::{DataType, Value};

/// The wire type of a SQL type.
pub fn pg_type(ty: DataType) -> Type {
    match ty {
        DataType::Boolean => Type::BOOL,
        DataType::Int4 => Type::INT4,
        DataType::Int8 => Type::INT8,
        DataType::Float8 => Type::FLOAT8,
        DataType::Numeric => Type::NUMERIC,
        DataType::Text | DataType::Unknown => Type::TEXT,
        DataType::Bytea => Type::BYTEA,
        DataType::Jsonb => Type::JSONB,
        DataType::Timestamptz => Type::TIMESTAMPTZ,
    }
}

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

/// A value as sent to a client.
#[derive(Debug)]
pub struct PgValue<'a>(pub &'a Value);

impl ToSqlText for PgValue<'_> {
    fn to_sql_text(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
        _format_options: &FormatOptions,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self.0.to_pg_text() {
            None => Ok(IsNull::Yes),
            Some(s) => {
                out.put_slice(s.as_bytes());
                Ok(IsNull::No)
            }
        }
    }
}

impl ToSql for PgValue<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self.0 {
            Value::Null => return Ok(IsNull::Yes),
            Value::Bool(b) => out.put_u8(*b as u8),
            Value::Int4(v) => out.put_i32(*v),
            Value::Int8(v) => out.put_i64(*v),
            Value::Float8(v) => out.put_f64(*v),
            Value::Text(s) => out.put_slice(s.as_bytes()),
            Value::Bytea(b) => out.put_slice(b),
            Value::Jsonb(j) => {
                // Binary jsonb is a version byte followed by the text form.
                out.put_u8(1);
                out.put_slice(j.to_string().as_bytes());
            }
            Value::Timestamptz(t) => out.put_i64(t - PG_EPOCH_OFFSET_MICROS),
            Value::Numeric(_) => {
                return Err("binary format for numeric is not supported; request text".into())
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    postgres_types::to_sql_checked!();
}
