//! Rivulet's SQL frontend: text in, abstract syntax tree out.
//!
//! [`parse`] turns a query string holding one or more `;`-separated
//! statements into [`Statement`]s, using one small nom function per grammar
//! rule and precedence climbing for expressions. Every AST node implements
//! `Display`, printing SQL that parses back to the same tree; the catalog
//! stores definitions in that form and `SHOW CREATE` prints it.
//!
//! The parser knows syntax only. Whether a table exists, what type an
//! expression has, or whether a function is defined is the binder's job in
//! `rivulet-catalog`. A [`Statement`]'s `Display` never prints a secret's
//! value, so statements are safe to log.

mod ast;
mod error;
mod keywords;
pub use keywords::reserved_words;
mod parser;

pub use ast::{
    BinaryOperator, ColumnDef, CommentOn, CopyOptions, CopySource, Cte, DropKind, Expr, Ident,
    JoinKind, Literal, ObjectName, OrderByExpr, Query, SelectItem, SetOp, SetOperation, ShowKind,
    Since, SqlOption, Statement, TableRef, UnaryOperator, WindowCall,
};
pub use error::{ParseError, Result};
pub use parser::{parse, parse_expr};
