//! The catalog: which secrets, tables and materialized views exist, their
//! columns and dependencies, and the binder that resolves SQL against them.
//!
//! A [`Catalog`] is an immutable snapshot; changes produce a new snapshot
//! (copy-on-write), so readers never block writers. Each object persists as
//! a [`StoredObject`]: its defining SQL plus (for secrets) the value, and is
//! rebuilt on start-up by re-binding that SQL in id order ([`restore`]) —
//! one code path for creation and recovery.
//!
//! The binder ([`Binder`]) turns parsed expressions into typed
//! [`rivulet_expr::Expr`] trees, and [`plan_query`] turns a SELECT into a
//! [`QueryPlan`] around a relational [`Plan`] tree. DDL rules — RisingWave's for webhook tables — live in
//! [`ddl`]. The catalog does not read or write rows; `rivulet-stream` does.

mod binder;
mod catalog;
pub mod ddl;
mod dml;
mod error;
mod planner;
mod restore;
pub mod system;

pub use binder::{Binder, ScalarSubquery, Scope, ScopeColumn};
pub use catalog::{
    Catalog, Column, ColumnOrigin, Dedup, DedupKey, Handshake, PlainView, Relation, RelationKind,
    Secret, StoredObject, Subscription, TableSpec, Validator, ViewSpec, WebhookSpec,
    DEFAULT_DATABASE, DEFAULT_SCHEMA,
};
pub use dml::{
    bind_copy_from, bind_delete, bind_insert, bind_insert_select, bind_update,
    type_insert_literals, BoundDelete, BoundInsert, BoundInsertSelect, BoundUpdate,
};
pub use error::{Error, Result, SqlError};
pub use planner::{
    describe_query, infer_parameter_types, nest, plan_query, plan_query_with, plan_returning,
    plan_view, AggCall, AggKind, JoinKind, OrderedPair, Plan, QueryPlan, SubqueryRunner,
    WindowFunc, WindowKind,
};
pub use restore::restore;
pub use system::SystemTable;

/// The name sessions give `pg_get_viewdef` when `public` is not on their
/// search path: the definition then names relations with their schema.
pub const QUALIFIED_VIEWDEF: &str = "pg_get_viewdef_qualified";
