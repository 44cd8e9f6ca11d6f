//! Values, types and scalar expression evaluation with PostgreSQL semantics.
//!
//! This crate knows how Rivulet's SQL types behave: how each value prints in
//! PostgreSQL's text form ([`Value::to_pg_text`]), how JSONB is parsed and
//! laid out for reading in place ([`Jsonb`]), how casts and comparisons work, and how a bound
//! expression tree ([`Expr`]) is evaluated against a row. It also owns the
//! compact binary row encoding used by storage ([`encode_row`]).
//!
//! It deliberately knows nothing about SQL syntax or the catalog: the binder
//! in `rivulet-catalog` turns parsed SQL into [`Expr`] trees, resolving names
//! to column positions and choosing the typed operator or builtin ([`Func`]).

mod arith;
mod cast;
mod codec;
mod error;
mod eval;
mod func;
mod interval;
mod jsonb;
mod like;
mod numeric;
mod timestamp;
mod types;
mod value;

pub use arith::{arith, negate, to_numeric, ArithOp};
pub use cast::cast;
pub use codec::{
    decode_row, decode_row_shared, encode_row, encode_row_into, encode_value_key,
    encode_value_ordered,
};
pub use error::{Error, Result};
pub use eval::{BinaryOp, CallFn, Callable, CmpOp, Expr, ValueSet};
pub use func::{quote_ident, type_name, type_oid, Func, SetFunc, TrimSide, Variadic};
pub use interval::Interval;
pub use jsonb::{JsonKind, JsonRef, JsonTree, Jsonb};
pub use numeric::Numeric;
pub use timestamp::{format_date, format_timestamptz, parse_date, parse_timestamptz};
pub use types::{DataType, RegKind};
pub use value::{Row, Value};

/// The largest text, bytea or JSONB value an expression may build: a
/// query such as nested `replace` calls that would grow a value beyond it
/// gets 54000 ("requested length too large") before anything of that size
/// is allocated. PostgreSQL allows 1 GB; Rivulet holds query values in
/// memory beside its budgeted caches, so it stops at a quarter of that,
/// still far above any document a webhook can deliver.
pub const MAX_VALUE_BYTES: usize = 256 << 20;

/// Refuses a value of `len` bytes beyond [`MAX_VALUE_BYTES`].
pub(crate) fn check_value_len(len: usize) -> Result<()> {
    if len > MAX_VALUE_BYTES {
        return Err(Error::ValueTooLarge);
    }
    Ok(())
}
