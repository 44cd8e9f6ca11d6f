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
mod jsonb;
mod like;
mod numeric;
mod timestamp;
mod types;
mod value;

pub use arith::{arith, negate, to_numeric, ArithOp};
pub use cast::cast;
pub use codec::{
    decode_row, decode_row_shared, encode_row, encode_value_key, encode_value_ordered,
};
pub use error::{Error, Result};
pub use eval::{BinaryOp, CmpOp, Expr};
pub use func::{Func, TrimSide, Variadic};
pub use jsonb::{JsonKind, JsonRef, JsonTree, Jsonb};
pub use numeric::Numeric;
pub use timestamp::{format_timestamptz, parse_timestamptz};
pub use types::DataType;
pub use value::{Row, Value};
