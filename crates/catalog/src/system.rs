//! System catalogs: `pg_catalog` and `information_schema` relations
//! computed from the catalog when read, so psql's meta-commands, drivers
//! and dashboards see Rivulet's real tables, views and columns.
//!
//! OIDs follow PostgreSQL's conventions: user relations get `16384 + id`,
//! namespaces `pg_catalog` 11, `public` 2200, `information_schema` 13000,
//! the owner (`root`) 10, types their built-in OIDs.

use std::sync::Arc;

use rivulet_expr::{DataType, Row, Value};
use rivulet_sql::Statement;

use crate::{Catalog, Column, Relation, RelationKind};

/// First OID of user relations, as in PostgreSQL.
pub const FIRST_USER_OID: u64 = 16384;
const PG_CATALOG_OID: i64 = 11;
const PUBLIC_OID: i64 = 2200;
const INFORMATION_SCHEMA_OID: i64 = 13000;
const OWNER_OID: i64 = 10;
const DATABASE_OID: i64 = 16383;

/// A system relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemTable {
    /// `pg_catalog.pg_namespace`.
    PgNamespace,
    /// `pg_catalog.pg_class`.
    PgClass,
    /// `pg_catalog.pg_am`.
    PgAm,
    /// `pg_catalog.pg_database`.
    PgDatabase,
    /// `pg_catalog.pg_attribute`.
    PgAttribute,
    /// `pg_catalog.pg_type`.
    PgType,
    /// `pg_catalog.pg_index`.
    PgIndex,
    /// `pg_catalog.pg_constraint`.
    PgConstraint,
    /// `pg_catalog.pg_inherits`.
    PgInherits,
    /// `pg_catalog.pg_trigger`.
    PgTrigger,
    /// `pg_catalog.pg_policy`.
    PgPolicy,
    /// `pg_catalog.pg_roles`.
    PgRoles,
    /// `pg_catalog.pg_attrdef`.
    PgAttrdef,
    /// `pg_catalog.pg_collation`.
    PgCollation,
    /// `information_schema.tables`.
    InfoTables,
    /// `information_schema.columns`.
    InfoColumns,
    /// `information_schema.schemata`.
    InfoSchemata,
}

use DataType::{Boolean as B, Int4 as I4, Int8 as I8, Text as T};

impl SystemTable {
    const ALL: [SystemTable; 17] = [
        SystemTable::PgNamespace,
        SystemTable::PgClass,
        SystemTable::PgAm,
        SystemTable::PgDatabase,
        SystemTable::PgAttribute,
        SystemTable::PgType,
        SystemTable::PgIndex,
        SystemTable::PgConstraint,
        SystemTable::PgInherits,
        SystemTable::PgTrigger,
        SystemTable::PgPolicy,
        SystemTable::PgRoles,
        SystemTable::PgAttrdef,
        SystemTable::PgCollation,
        SystemTable::InfoTables,
        SystemTable::InfoColumns,
        SystemTable::InfoSchemata,
    ];

    /// Schema and name.
    pub fn name(self) -> (&'static str, &'static str) {
        match self {
            SystemTable::PgNamespace => ("pg_catalog", "pg_namespace"),
            SystemTable::PgClass => ("pg_catalog", "pg_class"),
            SystemTable::PgAm => ("pg_catalog", "pg_am"),
            SystemTable::PgDatabase => ("pg_catalog", "pg_database"),
            SystemTable::PgAttribute => ("pg_catalog", "pg_attribute"),
            SystemTable::PgType => ("pg_catalog", "pg_type"),
            SystemTable::PgIndex => ("pg_catalog", "pg_index"),
            SystemTable::PgConstraint => ("pg_catalog", "pg_constraint"),
            SystemTable::PgInherits => ("pg_catalog", "pg_inherits"),
            SystemTable::PgTrigger => ("pg_catalog", "pg_trigger"),
            SystemTable::PgPolicy => ("pg_catalog", "pg_policy"),
            SystemTable::PgRoles => ("pg_catalog", "pg_roles"),
            SystemTable::PgAttrdef => ("pg_catalog", "pg_attrdef"),
            SystemTable::PgCollation => ("pg_catalog", "pg_collation"),
            SystemTable::InfoTables => ("information_schema", "tables"),
            SystemTable::InfoColumns => ("information_schema", "columns"),
            SystemTable::InfoSchemata => ("information_schema", "schemata"),
        }
    }

    fn columns(self) -> &'static [(&'static str, DataType)] {
        match self {
            SystemTable::PgNamespace => {
                &[("oid", I8), ("nspname", T), ("nspowner", I8), ("nspacl", T)]
            }
            SystemTable::PgClass => &[
                ("oid", I8),
                ("relname", T),
                ("relnamespace", I8),
                ("reltype", I8),
                ("relowner", I8),
                ("relam", I8),
                ("reltablespace", I8),
                ("reltoastrelid", I8),
                ("relhasindex", B),
                ("relpersistence", T),
                ("relkind", T),
                ("relnatts", I4),
                ("relchecks", I4),
                ("relhasrules", B),
                ("relhastriggers", B),
                ("relrowsecurity", B),
                ("relforcerowsecurity", B),
                ("relispopulated", B),
                ("relreplident", T),
                ("relispartition", B),
                ("reloftype", I8),
                ("relacl", T),
                ("reloptions", T),
                ("relpartbound", T),
            ],
            SystemTable::PgAm => &[("oid", I8), ("amname", T), ("amtype", T)],
            SystemTable::PgDatabase => &[
                ("oid", I8),
                ("datname", T),
                ("datdba", I8),
                ("encoding", I4),
                ("datlocprovider", T),
                ("datistemplate", B),
                ("datallowconn", B),
                ("datconnlimit", I4),
                ("datcollate", T),
                ("datctype", T),
                ("daticulocale", T),
                ("datacl", T),
            ],
            SystemTable::PgAttribute => &[
                ("attrelid", I8),
                ("attname", T),
                ("atttypid", I8),
                ("attlen", I4),
                ("attnum", I4),
                ("atttypmod", I4),
                ("attnotnull", B),
                ("atthasdef", B),
                ("atthasmissing", B),
                ("attidentity", T),
                ("attgenerated", T),
                ("attisdropped", B),
                ("attislocal", B),
                ("attcollation", I8),
                ("attstorage", T),
                ("attcompression", T),
                ("attstattarget", I4),
            ],
            SystemTable::PgType => &[
                ("oid", I8),
                ("typname", T),
                ("typnamespace", I8),
                ("typowner", I8),
                ("typlen", I4),
                ("typtype", T),
                ("typcategory", T),
                ("typrelid", I8),
                ("typelem", I8),
                ("typarray", I8),
                ("typbasetype", I8),
                ("typtypmod", I4),
                ("typnotnull", B),
            ],
            SystemTable::PgIndex => &[
                ("indexrelid", I8),
                ("indrelid", I8),
                ("indisprimary", B),
                ("indisunique", B),
            ],
            SystemTable::PgConstraint => &[
                ("oid", I8),
                ("conname", T),
                ("conrelid", I8),
                ("contype", T),
                ("connamespace", I8),
            ],
            SystemTable::PgInherits => &[
                ("inhrelid", I8),
                ("inhparent", I8),
                ("inhseqno", I4),
                ("inhdetachpending", B),
            ],
            SystemTable::PgTrigger => &[("oid", I8), ("tgrelid", I8), ("tgname", T)],
            SystemTable::PgPolicy => &[("oid", I8), ("polname", T), ("polrelid", I8)],
            SystemTable::PgAttrdef => &[("oid", I8), ("adrelid", I8), ("adnum", I4), ("adbin", T)],
            SystemTable::PgCollation => &[("oid", I8), ("collname", T), ("collnamespace", I8)],
            SystemTable::PgRoles => &[
                ("oid", I8),
                ("rolname", T),
                ("rolsuper", B),
                ("rolcanlogin", B),
            ],
            SystemTable::InfoTables => &[
                ("table_catalog", T),
                ("table_schema", T),
                ("table_name", T),
                ("table_type", T),
            ],
            SystemTable::InfoColumns => &[
                ("table_catalog", T),
                ("table_schema", T),
                ("table_name", T),
                ("column_name", T),
                ("ordinal_position", I4),
                ("column_default", T),
                ("is_nullable", T),
                ("data_type", T),
                ("udt_name", T),
            ],
            SystemTable::InfoSchemata => {
                &[("catalog_name", T), ("schema_name", T), ("schema_owner", T)]
            }
        }
    }

    /// Whether the table never has rows in Rivulet (no indexes,
    /// constraints other than keys, inheritance, triggers, policies, column
    /// defaults or collations beyond the default).
    pub fn always_empty(self) -> bool {
        matches!(
            self,
            SystemTable::PgIndex
                | SystemTable::PgConstraint
                | SystemTable::PgInherits
                | SystemTable::PgTrigger
                | SystemTable::PgPolicy
                | SystemTable::PgAttrdef
                | SystemTable::PgCollation
        )
    }

    /// The relation a query scans for this table.
    pub fn relation(self) -> Arc<Relation> {
        let idx = SystemTable::ALL
            .iter()
            .position(|t| *t == self)
            .unwrap_or(0) as u64;
        Arc::new(Relation {
            id: u64::MAX - idx,
            name: self.name().1.to_string(),
            columns: self
                .columns()
                .iter()
                .map(|(n, t)| Column {
                    name: n.to_string(),
                    ty: *t,
                })
                .collect(),
            kind: RelationKind::System(self),
            definition: Statement::Flush,
        })
    }

    /// The system table named `schema.name` (`schema` `None` searches
    /// `pg_catalog`, as PostgreSQL's search path does).
    pub fn lookup(schema: Option<&str>, name: &str) -> Option<SystemTable> {
        let schema = schema.unwrap_or("pg_catalog");
        SystemTable::ALL
            .iter()
            .copied()
            .find(|t| t.name() == (schema, name))
    }
}

/// The OID of a relation: `pg_catalog` relations in 10000.., the
/// `information_schema` ones in 13100.. (outside the search path, so
/// `pg_table_is_visible` is false for them), user relations from 16384.
pub fn relation_oid(rel: &Relation) -> i64 {
    match rel.kind {
        RelationKind::System(t) => {
            let idx = SystemTable::ALL.iter().position(|x| *x == t).unwrap_or(0) as i64;
            if t.name().0 == "information_schema" {
                13_100 + idx
            } else {
                10_000 + idx
            }
        }
        _ => (FIRST_USER_OID + rel.id) as i64,
    }
}

/// `pg_type.typname` and `typlen` of a type.
pub fn type_name_and_len(ty: DataType) -> (&'static str, i32) {
    match ty {
        DataType::Boolean => ("bool", 1),
        DataType::Bytea => ("bytea", -1),
        DataType::Int8 => ("int8", 8),
        DataType::Int4 => ("int4", 4),
        DataType::Text | DataType::Unknown => ("text", -1),
        DataType::Float8 => ("float8", 8),
        DataType::Timestamptz => ("timestamptz", 8),
        DataType::Numeric => ("numeric", -1),
        DataType::Jsonb => ("jsonb", -1),
    }
}

/// The rows of a system table, computed from `catalog`.
pub fn system_rows(table: SystemTable, catalog: &Catalog) -> Vec<Row> {
    let text = |s: &str| Value::Text(s.to_string());
    let int = Value::Int8;
    let mut user: Vec<Arc<Relation>> = catalog.relations().cloned().collect();
    user.sort_by_key(|r| r.id);
    let system: Vec<Arc<Relation>> = SystemTable::ALL.iter().map(|t| t.relation()).collect();
    match table {
        SystemTable::PgNamespace => vec![
            vec![
                int(PG_CATALOG_OID),
                text("pg_catalog"),
                int(OWNER_OID),
                Value::Null,
            ],
            vec![int(PUBLIC_OID), text("public"), int(OWNER_OID), Value::Null],
            vec![
                int(INFORMATION_SCHEMA_OID),
                text("information_schema"),
                int(OWNER_OID),
                Value::Null,
            ],
        ],
        SystemTable::PgClass => user
            .iter()
            .chain(&system)
            .map(|r| {
                let (ns, kind) = match &r.kind {
                    RelationKind::Table(_) => (PUBLIC_OID, "r"),
                    RelationKind::MaterializedView(_) => (PUBLIC_OID, "m"),
                    RelationKind::System(t) if t.name().0 == "information_schema" => {
                        (INFORMATION_SCHEMA_OID, "v")
                    }
                    RelationKind::System(_) => (PG_CATALOG_OID, "v"),
                };
                vec![
                    int(relation_oid(r)),
                    text(&r.name),
                    int(ns),
                    int(0),
                    int(OWNER_OID),
                    int(if kind == "v" { 0 } else { 2 }),
                    int(0),
                    int(0),
                    Value::Bool(false),
                    text("p"),
                    text(kind),
                    Value::Int4(r.columns.len() as i32),
                    Value::Int4(0),
                    Value::Bool(false),
                    Value::Bool(false),
                    Value::Bool(false),
                    Value::Bool(false),
                    Value::Bool(true),
                    text("d"),
                    Value::Bool(false),
                    int(0),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ]
            })
            .collect(),
        SystemTable::PgAm => vec![
            vec![int(2), text("heap"), text("t")],
            vec![int(403), text("btree"), text("i")],
        ],
        SystemTable::PgDatabase => vec![vec![
            int(DATABASE_OID),
            text(crate::DEFAULT_DATABASE),
            int(OWNER_OID),
            Value::Int4(6),
            text("c"),
            Value::Bool(false),
            Value::Bool(true),
            Value::Int4(-1),
            text("C.UTF-8"),
            text("C.UTF-8"),
            Value::Null,
            Value::Null,
        ]],
        SystemTable::PgAttribute => user
            .iter()
            .chain(&system)
            .flat_map(|r| {
                let pk = r.table().map(|t| t.primary_key.clone()).unwrap_or_default();
                let oid = relation_oid(r);
                r.columns
                    .iter()
                    .enumerate()
                    .map(move |(i, c)| {
                        let (_, len) = type_name_and_len(c.ty);
                        vec![
                            int(oid),
                            text(&c.name),
                            int(c.ty.oid() as i64),
                            Value::Int4(len),
                            Value::Int4(i as i32 + 1),
                            Value::Int4(-1),
                            Value::Bool(pk.contains(&i)),
                            Value::Bool(false),
                            Value::Bool(false),
                            text(""),
                            text(""),
                            Value::Bool(false),
                            Value::Bool(true),
                            int(if c.ty == DataType::Text { 100 } else { 0 }),
                            text(if len < 0 { "x" } else { "p" }),
                            text(""),
                            Value::Int4(-1),
                        ]
                    })
                    .collect::<Vec<_>>()
            })
            .collect(),
        SystemTable::PgType => DataType::ALL
            .iter()
            .map(|t| {
                let (name, len) = type_name_and_len(*t);
                vec![
                    int(t.oid() as i64),
                    text(name),
                    int(PG_CATALOG_OID),
                    int(OWNER_OID),
                    Value::Int4(len),
                    text("b"),
                    text(match t {
                        DataType::Boolean => "B",
                        DataType::Int4 | DataType::Int8 | DataType::Float8 | DataType::Numeric => {
                            "N"
                        }
                        DataType::Timestamptz => "D",
                        DataType::Text => "S",
                        _ => "U",
                    }),
                    int(0),
                    int(0),
                    int(0),
                    int(0),
                    Value::Int4(-1),
                    Value::Bool(false),
                ]
            })
            .collect(),
        SystemTable::PgRoles => vec![vec![
            int(OWNER_OID),
            text("root"),
            Value::Bool(true),
            Value::Bool(true),
        ]],
        t if t.always_empty() => Vec::new(),
        SystemTable::InfoTables => user
            .iter()
            .map(|r| {
                vec![
                    text(crate::DEFAULT_DATABASE),
                    text(crate::DEFAULT_SCHEMA),
                    text(&r.name),
                    text(if r.view().is_some() {
                        "VIEW"
                    } else {
                        "BASE TABLE"
                    }),
                ]
            })
            .collect(),
        SystemTable::InfoColumns => user
            .iter()
            .flat_map(|r| {
                let pk = r.table().map(|t| t.primary_key.clone()).unwrap_or_default();
                r.columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        vec![
                            text(crate::DEFAULT_DATABASE),
                            text(crate::DEFAULT_SCHEMA),
                            text(&r.name),
                            text(&c.name),
                            Value::Int4(i as i32 + 1),
                            Value::Null,
                            text(if pk.contains(&i) { "NO" } else { "YES" }),
                            text(&c.ty.to_string()),
                            text(type_name_and_len(c.ty).0),
                        ]
                    })
                    .collect::<Vec<_>>()
            })
            .collect(),
        SystemTable::PgIndex
        | SystemTable::PgConstraint
        | SystemTable::PgInherits
        | SystemTable::PgTrigger
        | SystemTable::PgPolicy
        | SystemTable::PgAttrdef
        | SystemTable::PgCollation => Vec::new(),
        SystemTable::InfoSchemata => ["pg_catalog", "public", "information_schema"]
            .iter()
            .map(|s| vec![text(crate::DEFAULT_DATABASE), text(s), text("root")])
            .collect(),
    }
}
