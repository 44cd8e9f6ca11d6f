//! System catalogs: the `pg_catalog`, `information_schema` and
//! RisingWave `rw_catalog` relations, computed from the catalog when read,
//! so psql's meta-commands, drivers, dbt and dashboards see Rivulet's real
//! tables, views and columns.
//!
//! Every system relation is declared once, in `DEFS`: its schema, name,
//! typed columns and the function computing its rows (none for relations
//! that are always empty in Rivulet, such as indexes, triggers and
//! sequences). OIDs follow PostgreSQL's conventions: user relations get
//! `16384 + id`, namespaces `pg_catalog` 11, `public` 2200,
//! `information_schema` 13000, the owner (`root`) 10, types their built-in
//! OIDs.

use std::sync::Arc;

use rivulet_expr::{quote_ident, DataType, Row, Value};
use rivulet_sql::Statement;

use crate::{Catalog, Column, Relation, RelationKind};

/// First OID of user relations, as in PostgreSQL.
pub const FIRST_USER_OID: u64 = 16384;
const PG_CATALOG_OID: i64 = 11;
const PUBLIC_OID: i64 = 2200;
const INFORMATION_SCHEMA_OID: i64 = 13000;
const RW_CATALOG_OID: i64 = 13200;
const RIVULET_CATALOG_OID: i64 = 13400;
const OWNER_OID: i64 = 10;
/// `pg_database_owner`, the role PostgreSQL 15 makes own `public`.
const DATABASE_OWNER_OID: i64 = 6171;
const DATABASE_OID: i64 = 16383;
/// `pg_class`'s own OID: the class of relations in `pg_depend`.
const PG_CLASS_OID: i64 = 1259;

use DataType::{Boolean as B, Int4 as I4, Int8 as I8, Oid as O, Text as T, Timestamptz as TZ};

/// `text[]`.
const TA: DataType = DataType::Array(&DataType::Text);
/// `integer[]` (PostgreSQL's `int2[]` and `int2vector` columns).
const I4A: DataType = DataType::Array(&DataType::Int4);
/// `bigint[]` (PostgreSQL's `oidvector` columns).
const I8A: DataType = DataType::Array(&DataType::Int8);

/// OIDs of the index behind a table's primary key, and of the constraint:
/// the table's id past these bases, above every relation's OID.
const PKEY_INDEX_OID: i64 = 1 << 30;
const PKEY_CONSTRAINT_OID: i64 = 3 << 29;

/// What a system relation's rows are computed from.
struct Ctx<'a> {
    catalog: &'a Catalog,
    /// User relations, by id.
    user: Vec<Arc<Relation>>,
    /// System relations, in declaration order.
    system: Vec<Arc<Relation>>,
}

/// One system relation.
struct Def {
    schema: &'static str,
    name: &'static str,
    columns: &'static [(&'static str, DataType)],
    /// Its rows; `None` for a relation that is always empty in Rivulet.
    rows: Option<fn(&Ctx<'_>) -> Vec<Row>>,
}

/// Every system relation. The position is part of each one's OID, so new
/// ones go at the end.
static DEFS: &[Def] = &[
    Def {
        schema: "pg_catalog",
        name: "pg_namespace",
        columns: &[("oid", O), ("nspname", T), ("nspowner", O), ("nspacl", T)],
        rows: Some(pg_namespace),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_class",
        columns: &[
            ("oid", O),
            ("relname", T),
            ("relnamespace", O),
            ("reltype", O),
            ("relowner", O),
            ("relam", O),
            ("reltablespace", O),
            ("reltoastrelid", O),
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
            ("reloftype", O),
            ("relacl", T),
            ("reloptions", TA),
            ("relpartbound", T),
            ("relpages", I4),
            ("relfrozenxid", I8),
            ("relminmxid", I8),
            ("reltuples", DataType::Float8),
        ],
        rows: Some(pg_class),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_am",
        columns: &[("oid", O), ("amname", T), ("amtype", T), ("amhandler", I8)],
        rows: Some(pg_am),
    },
    // A session's cursors are its own; drivers look here only to decide
    // whether to CLOSE one (psycopg2), which a commit does anyway.
    Def {
        schema: "pg_catalog",
        name: "pg_cursors",
        columns: &[
            ("name", T),
            ("statement", T),
            ("is_holdable", B),
            ("is_binary", B),
            ("is_scrollable", B),
            ("creation_time", TZ),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_tablespace",
        columns: &[
            ("oid", O),
            ("spcname", T),
            ("spcowner", O),
            ("spcacl", T),
            ("spcoptions", T),
        ],
        rows: Some(pg_tablespace),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_database",
        columns: &[
            ("oid", O),
            ("datname", T),
            ("datdba", O),
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
        rows: Some(pg_database),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_attribute",
        columns: &[
            ("attrelid", O),
            ("attname", T),
            ("atttypid", O),
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
            ("attcollation", O),
            ("attstorage", T),
            ("attcompression", T),
            ("attstattarget", I4),
            ("attacl", TA),
            ("attoptions", TA),
            ("attfdwoptions", TA),
            ("attalign", T),
            ("attmissingval", T),
        ],
        rows: Some(pg_attribute),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_type",
        columns: &[
            ("oid", O),
            ("typname", T),
            ("typnamespace", O),
            ("typowner", O),
            ("typlen", I4),
            ("typtype", T),
            ("typcategory", T),
            ("typrelid", O),
            ("typelem", O),
            ("typarray", O),
            ("typbasetype", O),
            ("typtypmod", I4),
            ("typnotnull", B),
            ("typdelim", T),
            ("typinput", T),
            ("typoutput", T),
            ("typcollation", O),
            ("typdefault", T),
            ("typndims", I4),
            ("typacl", TA),
            ("typisdefined", B),
            ("typstorage", T),
        ],
        rows: Some(pg_type),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_index",
        columns: &[
            ("indexrelid", O),
            ("indrelid", O),
            ("indnatts", I4),
            ("indnkeyatts", I4),
            ("indisunique", B),
            ("indnullsnotdistinct", B),
            ("indisprimary", B),
            ("indisexclusion", B),
            ("indimmediate", B),
            ("indisclustered", B),
            ("indisvalid", B),
            ("indcheckxmin", B),
            ("indisready", B),
            ("indislive", B),
            ("indisreplident", B),
            ("indkey", I4A),
            ("indcollation", I8A),
            ("indclass", I8A),
            ("indoption", I4A),
            ("indexprs", T),
            ("indpred", T),
        ],
        rows: Some(pg_index),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_constraint",
        columns: &[
            ("oid", O),
            ("conname", T),
            ("conrelid", O),
            ("contype", T),
            ("connamespace", O),
            ("confrelid", O),
            ("conkey", I4A),
            ("confkey", I4A),
            ("condeferrable", B),
            ("condeferred", B),
            ("convalidated", B),
            ("contypid", O),
            ("conindid", O),
            ("conparentid", O),
            ("confupdtype", T),
            ("confdeltype", T),
            ("confmatchtype", T),
            ("conislocal", B),
            ("coninhcount", I4),
            ("connoinherit", B),
            ("conbin", T),
        ],
        rows: Some(pg_constraint),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_inherits",
        columns: &[
            ("inhrelid", O),
            ("inhparent", O),
            ("inhseqno", I4),
            ("inhdetachpending", B),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_trigger",
        columns: &[
            ("oid", O),
            ("tgrelid", O),
            ("tgname", T),
            ("tgfoid", O),
            ("tgenabled", T),
            ("tgisinternal", B),
            ("tgparentid", O),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_policy",
        columns: &[
            ("oid", O),
            ("polname", T),
            ("polrelid", O),
            ("polcmd", T),
            ("polpermissive", B),
            ("polroles", I8A),
            ("polqual", T),
            ("polwithcheck", T),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_roles",
        columns: &[
            ("oid", O),
            ("rolname", T),
            ("rolsuper", B),
            ("rolcanlogin", B),
            ("rolinherit", B),
            ("rolcreaterole", B),
            ("rolcreatedb", B),
            ("rolreplication", B),
            ("rolbypassrls", B),
            ("rolconnlimit", I4),
            ("rolvaliduntil", TZ),
        ],
        rows: Some(pg_roles),
    },
    // Settings are the session's: a session reads its own settings here
    // (rivulet-server replaces the name by them before planning); without
    // a session this is empty.
    Def {
        schema: "pg_catalog",
        name: "pg_settings",
        columns: &[
            ("name", T),
            ("setting", T),
            ("unit", T),
            ("category", T),
            ("short_desc", T),
            ("extra_desc", T),
            ("context", T),
            ("vartype", T),
            ("source", T),
            ("min_val", T),
            ("max_val", T),
            ("enumvals", TA),
            ("boot_val", T),
            ("reset_val", T),
            ("sourcefile", T),
            ("sourceline", I4),
            ("pending_restart", B),
        ],
        rows: None,
    },
    // `pg_get_keywords()`, read in FROM like a relation: the words the
    // parser reserves.
    Def {
        schema: "pg_catalog",
        name: "pg_get_keywords",
        columns: &[
            ("word", T),
            ("catcode", T),
            ("barelabel", B),
            ("catdesc", T),
            ("baredesc", T),
        ],
        rows: Some(pg_get_keywords),
    },
    // Role memberships: the one role is a member of none.
    Def {
        schema: "pg_catalog",
        name: "pg_auth_members",
        columns: &[
            ("roleid", O),
            ("member", O),
            ("grantor", O),
            ("admin_option", B),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_attrdef",
        columns: &[("oid", O), ("adrelid", O), ("adnum", I4), ("adbin", T)],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_collation",
        columns: &[
            ("oid", O),
            ("collname", T),
            ("collnamespace", O),
            ("collowner", O),
            ("collencoding", I4),
        ],
        rows: None,
    },
    Def {
        schema: "information_schema",
        name: "tables",
        columns: &[
            ("table_catalog", T),
            ("table_schema", T),
            ("table_name", T),
            ("table_type", T),
        ],
        rows: Some(info_tables),
    },
    Def {
        schema: "information_schema",
        name: "columns",
        columns: &[
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
        rows: Some(info_columns),
    },
    Def {
        schema: "information_schema",
        name: "schemata",
        columns: &[("catalog_name", T), ("schema_name", T), ("schema_owner", T)],
        rows: Some(info_schemata),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_description",
        columns: &[
            ("objoid", O),
            ("classoid", O),
            ("objsubid", I4),
            ("description", T),
        ],
        rows: Some(pg_description),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_sequence",
        columns: &[
            ("seqrelid", O),
            ("seqtypid", O),
            ("seqstart", I8),
            ("seqincrement", I8),
            ("seqmax", I8),
            ("seqmin", I8),
            ("seqcache", I8),
            ("seqcycle", B),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_opclass",
        columns: &[
            ("oid", O),
            ("opcmethod", O),
            ("opcname", T),
            ("opcnamespace", O),
            ("opcdefault", B),
            ("opcowner", O),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_extension",
        columns: &[
            ("oid", O),
            ("extname", T),
            ("extowner", O),
            ("extnamespace", O),
            ("extversion", T),
            ("extrelocatable", B),
            ("extconfig", I8A),
            ("extcondition", TA),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_proc",
        columns: &[
            ("oid", O),
            ("proname", T),
            ("pronamespace", O),
            ("proowner", O),
            ("prokind", T),
            ("prorettype", O),
            ("proretset", B),
            ("proargtypes", T),
            ("prolang", O),
            ("pronargs", I4),
            ("proacl", TA),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_rewrite",
        columns: &[
            ("oid", O),
            ("rulename", T),
            ("ev_class", O),
            ("ev_type", T),
            ("ev_enabled", T),
            ("is_instead", B),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_depend",
        columns: &[
            ("classid", O),
            ("objid", O),
            ("objsubid", I4),
            ("refclassid", O),
            ("refobjid", O),
            ("refobjsubid", I4),
            ("deptype", T),
        ],
        rows: Some(pg_depend),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_tables",
        columns: &[
            ("schemaname", T),
            ("tablename", T),
            ("tableowner", T),
            ("tablespace", T),
            ("hasindexes", B),
            ("hasrules", B),
            ("hastriggers", B),
            ("rowsecurity", B),
        ],
        rows: Some(pg_tables),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_views",
        columns: &[
            ("schemaname", T),
            ("viewname", T),
            ("viewowner", T),
            ("definition", T),
        ],
        rows: Some(pg_views),
    },
    Def {
        schema: "pg_catalog",
        name: "pg_matviews",
        columns: &[
            ("schemaname", T),
            ("matviewname", T),
            ("matviewowner", T),
            ("tablespace", T),
            ("hasindexes", B),
            ("ispopulated", B),
            ("definition", T),
        ],
        rows: Some(pg_matviews),
    },
    Def {
        schema: "information_schema",
        name: "views",
        columns: &[
            ("table_catalog", T),
            ("table_schema", T),
            ("table_name", T),
            ("view_definition", T),
        ],
        rows: None,
    },
    Def {
        schema: "rw_catalog",
        name: "rw_schemas",
        columns: &[("id", I4), ("name", T), ("owner", I4), ("acl", T)],
        rows: Some(rw_schemas),
    },
    Def {
        schema: "rw_catalog",
        name: "rw_relations",
        columns: &[
            ("id", I4),
            ("name", T),
            ("relation_type", T),
            ("schema_id", I4),
            ("owner", I4),
            ("definition", T),
            ("acl", T),
        ],
        rows: Some(rw_relations),
    },
    Def {
        schema: "rw_catalog",
        name: "rw_tables",
        columns: &[
            ("id", I4),
            ("name", T),
            ("schema_id", I4),
            ("owner", I4),
            ("definition", T),
            ("acl", T),
        ],
        rows: Some(rw_tables),
    },
    Def {
        schema: "rw_catalog",
        name: "rw_materialized_views",
        columns: &[
            ("id", I4),
            ("name", T),
            ("schema_id", I4),
            ("owner", I4),
            ("definition", T),
            ("acl", T),
        ],
        rows: Some(rw_materialized_views),
    },
    Def {
        schema: "rw_catalog",
        name: "rw_views",
        columns: &[
            ("id", I4),
            ("name", T),
            ("schema_id", I4),
            ("owner", I4),
            ("definition", T),
            ("acl", T),
        ],
        rows: Some(rw_views),
    },
    Def {
        schema: "rw_catalog",
        name: "rw_sources",
        columns: &[
            ("id", I4),
            ("name", T),
            ("schema_id", I4),
            ("owner", I4),
            ("definition", T),
        ],
        rows: None,
    },
    Def {
        schema: "rw_catalog",
        name: "rw_sinks",
        columns: &[
            ("id", I4),
            ("name", T),
            ("schema_id", I4),
            ("owner", I4),
            ("definition", T),
        ],
        rows: None,
    },
    // Rivulet's own: what the webhook listener refused, and per-table
    // counts. Their rows come from the listener's memory, not the catalog
    // (see `SystemTable::from_listener`).
    Def {
        schema: "rivulet_catalog",
        name: "webhook_rejections",
        columns: &[
            ("at", TZ),
            ("table_name", T),
            ("status", I4),
            ("reason", T),
            ("body_bytes", I8),
            ("remote_addr", T),
        ],
        rows: None,
    },
    Def {
        schema: "rivulet_catalog",
        name: "webhook_stats",
        columns: &[
            ("table_name", T),
            ("accepted", I8),
            ("rows", I8),
            ("rejected", I8),
            ("last_accepted_at", TZ),
            ("last_rejected_at", TZ),
            ("last_status", I4),
        ],
        rows: None,
    },
    // RisingWave's list of secrets: names only, never a value. Ids share
    // the relations' numbering, so ordering by id is creation order.
    Def {
        schema: "rw_catalog",
        name: "rw_secrets",
        columns: &[("id", I4), ("name", T), ("schema_id", I4), ("owner", I4)],
        rows: Some(rw_secrets),
    },
    // RisingWave's subscriptions, with the relation each reads.
    Def {
        schema: "rw_catalog",
        name: "rw_subscriptions",
        columns: &[
            ("id", I4),
            ("name", T),
            ("schema_id", I4),
            ("owner", I4),
            ("definition", T),
            ("retention_seconds", I8),
            ("dependent_table_id", I4),
        ],
        rows: Some(rw_subscriptions),
    },
    // Objects Rivulet has none of, declared so tools that list every
    // kind of object (pg_dump, DBeaver) read them as empty.
    Def {
        schema: "pg_catalog",
        name: "pg_language",
        columns: &[
            ("oid", O),
            ("lanname", T),
            ("lanowner", O),
            ("lanispl", B),
            ("lanpltrusted", B),
            ("lanplcallfoid", O),
            ("laninline", O),
            ("lanvalidator", O),
            ("lanacl", TA),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_operator",
        columns: &[
            ("oid", O),
            ("oprname", T),
            ("oprnamespace", O),
            ("oprowner", O),
            ("oprkind", T),
            ("oprleft", O),
            ("oprright", O),
            ("oprresult", O),
            ("oprcode", I8),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_opfamily",
        columns: &[
            ("oid", O),
            ("opfmethod", O),
            ("opfname", T),
            ("opfnamespace", O),
            ("opfowner", O),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_ts_parser",
        columns: &[
            ("oid", O),
            ("prsname", T),
            ("prsnamespace", O),
            ("prsstart", I8),
            ("prstoken", I8),
            ("prsend", I8),
            ("prsheadline", I8),
            ("prslextype", I8),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_ts_template",
        columns: &[
            ("oid", O),
            ("tmplname", T),
            ("tmplnamespace", O),
            ("tmplinit", I8),
            ("tmpllexize", I8),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_ts_dict",
        columns: &[
            ("oid", O),
            ("dictname", T),
            ("dictnamespace", O),
            ("dictowner", O),
            ("dicttemplate", O),
            ("dictinitoption", T),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_ts_config",
        columns: &[
            ("oid", O),
            ("cfgname", T),
            ("cfgnamespace", O),
            ("cfgowner", O),
            ("cfgparser", O),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_foreign_data_wrapper",
        columns: &[
            ("oid", O),
            ("fdwname", T),
            ("fdwowner", O),
            ("fdwhandler", O),
            ("fdwvalidator", O),
            ("fdwacl", TA),
            ("fdwoptions", TA),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_foreign_server",
        columns: &[
            ("oid", O),
            ("srvname", T),
            ("srvowner", O),
            ("srvfdw", O),
            ("srvtype", T),
            ("srvversion", T),
            ("srvacl", TA),
            ("srvoptions", TA),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_foreign_table",
        columns: &[("ftrelid", O), ("ftserver", O), ("ftoptions", TA)],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_default_acl",
        columns: &[
            ("oid", O),
            ("defaclrole", O),
            ("defaclnamespace", O),
            ("defaclobjtype", T),
            ("defaclacl", TA),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_conversion",
        columns: &[
            ("oid", O),
            ("conname", T),
            ("connamespace", O),
            ("conowner", O),
            ("conforencoding", I4),
            ("contoencoding", I4),
            ("conproc", I8),
            ("condefault", B),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_cast",
        columns: &[
            ("oid", O),
            ("castsource", O),
            ("casttarget", O),
            ("castfunc", O),
            ("castcontext", T),
            ("castmethod", T),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_range",
        columns: &[("rngtypid", O), ("rngsubtype", O), ("rngmultitypid", O)],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_transform",
        columns: &[
            ("oid", O),
            ("trftype", O),
            ("trflang", O),
            ("trffromsql", I8),
            ("trftosql", I8),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_event_trigger",
        columns: &[
            ("oid", O),
            ("evtname", T),
            ("evtevent", T),
            ("evtowner", O),
            ("evtfoid", O),
            ("evtenabled", T),
            ("evttags", TA),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_statistic_ext",
        columns: &[
            ("oid", O),
            ("stxrelid", O),
            ("stxname", T),
            ("stxnamespace", O),
            ("stxowner", O),
            ("stxstattarget", I4),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_publication",
        columns: &[
            ("oid", O),
            ("pubname", T),
            ("pubowner", O),
            ("puballtables", B),
            ("pubinsert", B),
            ("pubupdate", B),
            ("pubdelete", B),
            ("pubtruncate", B),
            ("pubviaroot", B),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_publication_rel",
        columns: &[
            ("oid", O),
            ("prpubid", O),
            ("prrelid", O),
            ("prqual", T),
            ("prattrs", I4A),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_publication_namespace",
        columns: &[("oid", O), ("pnpubid", O), ("pnnspid", O)],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_subscription",
        columns: &[
            ("oid", O),
            ("subdbid", O),
            ("subname", T),
            ("subowner", O),
            ("subenabled", B),
            ("subbinary", B),
            ("substream", B),
            ("subtwophasestate", T),
            ("subdisableonerr", B),
            ("subconninfo", T),
            ("subslotname", T),
            ("subsynccommit", T),
            ("subpublications", TA),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_amop",
        columns: &[
            ("oid", O),
            ("amopfamily", O),
            ("amoplefttype", O),
            ("amoprighttype", O),
            ("amopstrategy", I4),
            ("amopopr", O),
            ("amopmethod", O),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_amproc",
        columns: &[
            ("oid", O),
            ("amprocfamily", O),
            ("amproclefttype", O),
            ("amprocrighttype", O),
            ("amprocnum", I4),
            ("amproc", I8),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_init_privs",
        columns: &[
            ("objoid", O),
            ("classoid", O),
            ("objsubid", I4),
            ("privtype", T),
            ("initprivs", TA),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_seclabels",
        columns: &[
            ("objoid", O),
            ("classoid", O),
            ("objsubid", I4),
            ("objtype", T),
            ("objnamespace", O),
            ("objname", T),
            ("provider", T),
            ("label", T),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_partitioned_table",
        columns: &[
            ("partrelid", O),
            ("partstrat", T),
            ("partnatts", I4),
            ("partdefid", O),
            ("partattrs", I4A),
            ("partclass", I8A),
            ("partcollation", I8A),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_largeobject_metadata",
        columns: &[("oid", O), ("lomowner", O), ("lomacl", TA)],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_enum",
        columns: &[
            ("oid", O),
            ("enumtypid", O),
            ("enumsortorder", DataType::Float8),
            ("enumlabel", T),
        ],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_shdescription",
        columns: &[("objoid", O), ("classoid", O), ("description", T)],
        rows: None,
    },
    Def {
        schema: "pg_catalog",
        name: "pg_policies",
        columns: &[
            ("schemaname", T),
            ("tablename", T),
            ("policyname", T),
            ("permissive", T),
            ("roles", TA),
            ("cmd", T),
            ("qual", T),
            ("with_check", T),
        ],
        rows: None,
    },
];

/// A system relation: its position in `DEFS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemTable(usize);

impl SystemTable {
    fn def(self) -> &'static Def {
        &DEFS[self.0]
    }

    /// Schema and name.
    pub fn name(self) -> (&'static str, &'static str) {
        (self.def().schema, self.def().name)
    }

    /// Whether the relation never has rows in Rivulet (no indexes,
    /// constraints other than keys, inheritance, triggers, policies, column
    /// defaults, sequences or collations beyond the default).
    pub fn always_empty(self) -> bool {
        self.def().rows.is_none() && !self.from_listener()
    }

    /// Whether the rows come from the webhook listener's memory
    /// (`rivulet_catalog`), not from the catalog.
    pub fn from_listener(self) -> bool {
        self.def().schema == "rivulet_catalog"
    }

    /// The relation a query scans for this table.
    pub fn relation(self) -> Arc<Relation> {
        Arc::new(Relation {
            id: u64::MAX - self.0 as u64,
            name: self.def().name.to_string(),
            columns: self
                .def()
                .columns
                .iter()
                .map(|(n, t)| Column::new(*n, *t))
                .collect(),
            kind: RelationKind::System(self),
            definition: Statement::Flush,
        })
    }

    /// The system relation named `schema.name`. Without a schema,
    /// `pg_catalog` and then `rw_catalog` are searched, as PostgreSQL's and
    /// RisingWave's search paths do.
    pub fn lookup(schema: Option<&str>, name: &str) -> Option<SystemTable> {
        let find = |s: &str| {
            DEFS.iter()
                .position(|d| d.schema == s && d.name == name)
                .map(SystemTable)
        };
        match schema {
            Some(s) => find(s),
            None => find("pg_catalog").or_else(|| find("rw_catalog")),
        }
    }

    /// Whether `schema` holds system relations.
    pub fn is_system_schema(schema: &str) -> bool {
        DEFS.iter().any(|d| d.schema == schema)
    }

    /// Every system relation.
    pub(crate) fn all() -> impl Iterator<Item = SystemTable> {
        (0..DEFS.len()).map(SystemTable)
    }
}

/// The OID of a schema, if there is one of that name.
pub(crate) fn schema_oid(name: &str) -> Option<i64> {
    match name {
        "public" => Some(PUBLIC_OID),
        "pg_catalog" | "information_schema" | "rw_catalog" | "rivulet_catalog" => {
            Some(namespace_oid(name))
        }
        _ => None,
    }
}

/// The name of the schema with OID `oid`, if there is one.
pub(crate) fn schema_name(oid: i64) -> Option<&'static str> {
    [
        "public",
        "pg_catalog",
        "information_schema",
        "rw_catalog",
        "rivulet_catalog",
    ]
    .into_iter()
    .find(|s| schema_oid(s) == Some(oid))
}

/// The name `regclass` prints for a relation OID: a user relation's or a
/// primary key's index (quoted where needed), a system relation's
/// (qualified outside `pg_catalog`, which is always searched); `None` for
/// an OID that names no relation.
pub(crate) fn regclass_name(catalog: &Catalog, oid: i64) -> Option<String> {
    if let Some((id, KeyObject::Index)) = key_object_of_oid(oid) {
        return catalog
            .relation_by_id(id)
            .filter(|r| primary_key(r).is_some())
            .map(|r| quote_ident(&pkey_name(r)));
    }
    if let Some(id) = relation_of_oid(oid) {
        return catalog.relation_by_id(id).map(|r| quote_ident(&r.name));
    }
    SystemTable::all()
        .find(|t| system_oid(*t) == oid)
        .map(|t| match t.name() {
            ("pg_catalog", name) => quote_ident(name),
            (schema, name) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
        })
}

/// Whether a system relation's column is one PostgreSQL types as a
/// vector (`int2vector`, `oidvector`), which prints as its elements
/// separated by spaces: `pg_index`'s key columns.
pub(crate) fn is_vector(c: crate::ColumnOrigin) -> bool {
    let Some(index) = SystemTable::lookup(Some("pg_catalog"), "pg_index") else {
        return false;
    };
    c.table_oid == system_oid(index)
        && usize::try_from(c.attnum - 1)
            .ok()
            .and_then(|i| index.def().columns.get(i))
            .is_some_and(|(name, _)| {
                matches!(*name, "indkey" | "indclass" | "indcollation" | "indoption")
            })
}

/// The OID of the primary key's index named `name` (in `public`).
pub(crate) fn pkey_index_oid(catalog: &Catalog, name: &rivulet_sql::ObjectName) -> Option<i64> {
    if name.0.len() > 1 && Catalog::resolve_name(name).is_err() {
        return None;
    }
    let wanted = name.name().as_str();
    catalog
        .relations()
        .find(|r| primary_key(r).is_some() && pkey_name(r) == wanted)
        .map(|r| PKEY_INDEX_OID + r.id as i64)
}

/// The OID of a system schema.
fn namespace_oid(schema: &str) -> i64 {
    match schema {
        "information_schema" => INFORMATION_SCHEMA_OID,
        "rw_catalog" => RW_CATALOG_OID,
        "rivulet_catalog" => RIVULET_CATALOG_OID,
        _ => PG_CATALOG_OID,
    }
}

/// The OID of a relation: `pg_catalog` relations in 10000.., the
/// `information_schema` ones in 13100.. and `rw_catalog` ones in 13300..
/// (outside the search path, so `pg_table_is_visible` is false for them),
/// user relations from 16384.
pub fn relation_oid(rel: &Relation) -> i64 {
    match rel.kind {
        RelationKind::System(t) => system_oid(t),
        _ => (FIRST_USER_OID + rel.id) as i64,
    }
}

/// The OID of a system relation.
fn system_oid(t: SystemTable) -> i64 {
    if let Some(oid) = catalog_oid(t.name()) {
        return oid;
    }
    let idx = t.0 as i64;
    match t.name().0 {
        "information_schema" => 13_100 + idx,
        "rw_catalog" => 13_300 + idx,
        "rivulet_catalog" => 13_500 + idx,
        _ => 10_000 + idx,
    }
}

/// `character varying` and its array, which columns declared `varchar`
/// show as their type.
const VARCHAR_OID: i64 = 1043;
const VARCHAR_ARRAY_OID: i64 = 1015;

/// What catalogs show for the type of column `i` of `r`: its OID, SQL
/// name, `pg_type` name and type modifier.
fn column_type(r: &Relation, i: usize) -> (i64, String, &'static str, i32) {
    let declared = r
        .table()
        .and_then(|t| t.varchar.iter().find(|(p, _)| *p == i).copied());
    // A view's column copied from a `varchar` one.
    let copied = r
        .columns
        .get(i)
        .filter(|c| r.table().is_none() && c.origin.is_some_and(|o| o.varchar))
        .map(|_| (i, -1));
    match (declared.or(copied), r.columns.get(i)) {
        (Some((_, m)), _) => (VARCHAR_OID, "character varying".into(), "varchar", m),
        (None, Some(c)) => (
            c.ty.oid() as i64,
            c.ty.to_string(),
            type_name_and_len(c.ty).0,
            -1,
        ),
        (None, None) => (0, String::new(), "", -1),
    }
}

/// The OID PostgreSQL gives a `pg_catalog` table (`tableoid`, and the
/// `classid` of `pg_depend` and `pg_description` rows), for those tools
/// match objects by.
fn catalog_oid((schema, name): (&str, &str)) -> Option<i64> {
    if schema != "pg_catalog" {
        return None;
    }
    Some(match name {
        "pg_type" => 1247,
        "pg_attribute" => 1249,
        "pg_proc" => 1255,
        "pg_class" => 1259,
        "pg_database" => 1262,
        "pg_tablespace" => 1213,
        "pg_foreign_server" => 1417,
        "pg_foreign_data_wrapper" => 2328,
        "pg_am" => 2601,
        "pg_amop" => 2602,
        "pg_amproc" => 2603,
        "pg_attrdef" => 2604,
        "pg_cast" => 2605,
        "pg_constraint" => 2606,
        "pg_conversion" => 2607,
        "pg_depend" => 2608,
        "pg_description" => 2609,
        "pg_index" => 2610,
        "pg_inherits" => 2611,
        "pg_language" => 2612,
        "pg_namespace" => 2615,
        "pg_opclass" => 2616,
        "pg_operator" => 2617,
        "pg_rewrite" => 2618,
        "pg_trigger" => 2620,
        "pg_sequence" => 2224,
        "pg_opfamily" => 2753,
        "pg_extension" => 3079,
        "pg_policy" => 3256,
        "pg_statistic_ext" => 3381,
        "pg_init_privs" => 3394,
        "pg_collation" => 3456,
        "pg_event_trigger" => 3466,
        "pg_range" => 3541,
        "pg_transform" => 3576,
        "pg_ts_dict" => 3600,
        "pg_ts_parser" => 3601,
        "pg_ts_config" => 3602,
        "pg_ts_template" => 3764,
        "pg_default_acl" => 826,
        "pg_subscription" => 6100,
        "pg_publication" => 6104,
        "pg_publication_rel" => 6106,
        "pg_publication_namespace" => 6237,
        _ => return None,
    })
}

/// `pg_type.typalign` of a type: how its values are aligned on disk.
fn type_align(ty: DataType) -> &'static str {
    match ty {
        DataType::Boolean => "c",
        DataType::Int4
        | DataType::Date
        | DataType::Text
        | DataType::Bytea
        | DataType::Jsonb
        | DataType::Oid
        | DataType::Reg(_) => "i",
        DataType::Numeric => "i",
        _ => "d",
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
        DataType::Interval => ("interval", 16),
        DataType::Date => ("date", 4),
        DataType::Numeric => ("numeric", -1),
        DataType::Jsonb => ("jsonb", -1),
        DataType::Oid => ("oid", 4),
        DataType::Reg(kind) => (kind.name(), 4),
        DataType::Record(_) => ("record", -1),
        DataType::Array(e) => match e {
            DataType::Boolean => ("_bool", -1),
            DataType::Bytea => ("_bytea", -1),
            DataType::Int8 => ("_int8", -1),
            DataType::Int4 => ("_int4", -1),
            DataType::Float8 => ("_float8", -1),
            DataType::Timestamptz => ("_timestamptz", -1),
            DataType::Interval => ("_interval", -1),
            DataType::Date => ("_date", -1),
            DataType::Numeric => ("_numeric", -1),
            DataType::Jsonb => ("_jsonb", -1),
            DataType::Oid => ("_oid", -1),
            _ => ("_text", -1),
        },
    }
}

/// The rows of a system table, computed from `catalog`.
pub fn system_rows(table: SystemTable, catalog: &Catalog) -> Vec<Row> {
    let Some(rows) = table.def().rows else {
        return Vec::new();
    };
    let mut user: Vec<Arc<Relation>> = catalog.relations().cloned().collect();
    user.sort_by_key(|r| r.id);
    let system = SystemTable::all().map(|t| t.relation()).collect();
    let mut rows = rows(&Ctx {
        catalog,
        user,
        system,
    });
    // OIDs are computed as numbers; columns of type `oid` hold them as such.
    let oids: Vec<usize> = (table.def().columns.iter())
        .enumerate()
        .filter(|(_, (_, ty))| *ty == DataType::Oid)
        .map(|(i, _)| i)
        .collect();
    if !oids.is_empty() {
        for row in &mut rows {
            for &i in &oids {
                if let Some(Value::Int8(v)) = row.get(i) {
                    row[i] = Value::Oid(*v as u32);
                }
            }
        }
    }
    rows
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn int(v: i64) -> Value {
    Value::Int8(v)
}

/// A RisingWave catalog id (`rw_catalog` columns are `integer`).
fn rw_id(rel: &Relation) -> Value {
    Value::Int4(relation_oid(rel) as i32)
}

fn pg_namespace(_: &Ctx<'_>) -> Vec<Row> {
    vec![
        vec![
            int(PG_CATALOG_OID),
            text("pg_catalog"),
            int(OWNER_OID),
            Value::Null,
        ],
        vec![
            int(PUBLIC_OID),
            text("public"),
            int(DATABASE_OWNER_OID),
            Value::Null,
        ],
        vec![
            int(INFORMATION_SCHEMA_OID),
            text("information_schema"),
            int(OWNER_OID),
            Value::Null,
        ],
        vec![
            int(RW_CATALOG_OID),
            text("rw_catalog"),
            int(OWNER_OID),
            Value::Null,
        ],
        vec![
            int(RIVULET_CATALOG_OID),
            text("rivulet_catalog"),
            int(OWNER_OID),
            Value::Null,
        ],
    ]
}

fn pg_class(c: &Ctx<'_>) -> Vec<Row> {
    let (user, system) = (&c.user, &c.system);
    let relations = user.iter().chain(system.iter()).map(|r| {
        let (ns, kind) = match &r.kind {
            RelationKind::Table(_) => (PUBLIC_OID, "r"),
            RelationKind::MaterializedView(_) => (PUBLIC_OID, "m"),
            RelationKind::View(_) => (PUBLIC_OID, "v"),
            RelationKind::System(t) => (namespace_oid(t.name().0), "v"),
        };
        class_row(ClassRow {
            oid: relation_oid(r),
            name: &r.name,
            namespace: ns,
            am: if kind == "v" { 0 } else { 2 },
            has_index: primary_key(r).is_some(),
            kind,
            columns: r.columns.len(),
            replica_identity: "d",
        })
    });
    // The index behind each primary key.
    let indexes = user.iter().filter_map(|r| {
        let key = primary_key(r)?;
        Some(class_row(ClassRow {
            oid: PKEY_INDEX_OID + r.id as i64,
            name: &pkey_name(r),
            namespace: PUBLIC_OID,
            am: 403,
            has_index: false,
            kind: "i",
            columns: key.len(),
            replica_identity: "n",
        }))
    });
    relations.chain(indexes).collect()
}

/// What differs between `pg_class` rows.
struct ClassRow<'a> {
    oid: i64,
    name: &'a str,
    namespace: i64,
    /// Access method: heap (2), btree (403), none (0).
    am: i64,
    has_index: bool,
    kind: &'a str,
    columns: usize,
    replica_identity: &'a str,
}

fn class_row(r: ClassRow<'_>) -> Row {
    vec![
        int(r.oid),
        text(r.name),
        int(r.namespace),
        int(0),
        int(OWNER_OID),
        int(r.am),
        int(0),
        int(0),
        Value::Bool(r.has_index),
        text("p"),
        text(r.kind),
        Value::Int4(r.columns as i32),
        Value::Int4(0),
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(true),
        text(r.replica_identity),
        Value::Bool(false),
        int(0),
        Value::Null,
        Value::Null,
        Value::Null,
        // An index has one page and no tuples counted; a relation
        // PostgreSQL never analyzed has -1 tuples.
        Value::Int4(i32::from(r.kind == "i")),
        int(0),
        int(0),
        Value::Float8(if r.kind == "i" { 0.0 } else { -1.0 }),
    ]
}

fn pg_am(_: &Ctx<'_>) -> Vec<Row> {
    vec![
        vec![int(2), text("heap"), text("t"), int(3)],
        vec![int(403), text("btree"), text("i"), int(330)],
    ]
}

/// PostgreSQL's two built-in tablespaces (Rivulet's data directory is
/// the default one).
fn pg_tablespace(_: &Ctx<'_>) -> Vec<Row> {
    ["pg_default", "pg_global"]
        .iter()
        .zip([1663, 1664])
        .map(|(name, oid)| {
            vec![
                int(oid),
                text(name),
                int(OWNER_OID),
                Value::Null,
                Value::Null,
            ]
        })
        .collect()
}

fn pg_database(_: &Ctx<'_>) -> Vec<Row> {
    vec![vec![
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
    ]]
}

fn pg_attribute(c: &Ctx<'_>) -> Vec<Row> {
    let (user, system) = (&c.user, &c.system);
    let relations = user.iter().chain(system.iter()).flat_map(|r| {
        let pk = r.table().map(|t| t.primary_key.clone()).unwrap_or_default();
        let oid = relation_oid(r);
        (0..r.columns.len())
            .map(move |i| attribute_row(r, oid, i, i + 1, pk.contains(&i)))
            .collect::<Vec<_>>()
    });
    // The columns of each primary key's index, in the key's order.
    let indexes = user.iter().flat_map(|r| {
        let key = primary_key(r).unwrap_or_default();
        key.iter()
            .enumerate()
            .map(|(n, &i)| attribute_row(r, PKEY_INDEX_OID + r.id as i64, i, n + 1, true))
            .collect::<Vec<_>>()
    });
    relations.chain(indexes).collect()
}

/// The `pg_attribute` row of column `i` of `r`, as attribute `attnum` of
/// relation `oid` (`r` itself, or its key's index).
fn attribute_row(r: &Relation, oid: i64, i: usize, attnum: usize, not_null: bool) -> Row {
    let ty = r.columns.get(i).map_or(DataType::Text, |c| c.ty);
    let name = r.columns.get(i).map_or("", |c| c.name.as_str());
    let (_, len) = type_name_and_len(ty);
    let (type_oid, _, _, typmod) = column_type(r, i);
    vec![
        int(oid),
        text(name),
        int(type_oid),
        Value::Int4(len),
        Value::Int4(attnum as i32),
        Value::Int4(typmod),
        Value::Bool(not_null),
        Value::Bool(false),
        Value::Bool(false),
        text(""),
        text(""),
        Value::Bool(false),
        Value::Bool(true),
        int(if ty == DataType::Text { 100 } else { 0 }),
        text(if len < 0 { "x" } else { "p" }),
        text(""),
        Value::Int4(-1),
        Value::Null,
        Value::Null,
        Value::Null,
        text(type_align(ty)),
        Value::Null,
    ]
}

fn pg_type(c: &Ctx<'_>) -> Vec<Row> {
    let mut rows = builtin_types(c);
    // `varchar` and `varchar[]`: text under another name.
    for (oid, name, elem, array, category, io) in [
        (VARCHAR_OID, "varchar", 0, VARCHAR_ARRAY_OID, "S", "varchar"),
        (VARCHAR_ARRAY_OID, "_varchar", VARCHAR_OID, 0, "A", "array_"),
    ] {
        let mut row = rows
            .iter()
            .find(|r| r.first() == Some(&int(DataType::Text.oid() as i64)))
            .cloned()
            .unwrap_or_default();
        if row.len() > 15 {
            row[0] = int(oid);
            row[1] = text(name);
            row[6] = text(category);
            row[8] = int(elem);
            row[9] = int(array);
            row[14] = text(&format!("{io}in"));
            row[15] = text(&format!("{io}out"));
            rows.push(row);
        }
    }
    rows
}

fn builtin_types(_: &Ctx<'_>) -> Vec<Row> {
    DataType::ALL
        .iter()
        .copied()
        .chain(DataType::ALL.into_iter().map(DataType::array_of))
        .map(|t| {
            let (name, len) = type_name_and_len(t);
            let (elem, array) = match t {
                DataType::Array(e) => (e.oid() as i64, 0),
                t => (0, DataType::array_of(t).oid() as i64),
            };
            vec![
                int(t.oid() as i64),
                text(name),
                int(PG_CATALOG_OID),
                int(OWNER_OID),
                Value::Int4(len),
                text("b"),
                text(match t {
                    DataType::Boolean => "B",
                    DataType::Int4
                    | DataType::Int8
                    | DataType::Float8
                    | DataType::Numeric
                    | DataType::Oid
                    | DataType::Reg(_) => "N",
                    DataType::Timestamptz | DataType::Date => "D",
                    DataType::Interval => "T",
                    DataType::Text => "S",
                    DataType::Array(_) => "A",
                    _ => "U",
                }),
                int(0),
                int(elem),
                int(array),
                int(0),
                Value::Int4(-1),
                Value::Bool(false),
                text(","),
                text(&match t {
                    DataType::Array(_) => "array_in".to_string(),
                    _ => format!("{name}in"),
                }),
                text(&match t {
                    DataType::Array(_) => "array_out".to_string(),
                    _ => format!("{name}out"),
                }),
                // The default collation for text and its arrays.
                int(match t {
                    DataType::Text | DataType::Array(DataType::Text) => 100,
                    _ => 0,
                }),
                Value::Null,
                Value::Int4(0),
                Value::Null,
                Value::Bool(true),
                text(if len < 0 { "x" } else { "p" }),
            ]
        })
        .collect()
}

fn pg_get_keywords(_: &Ctx<'_>) -> Vec<Row> {
    rivulet_sql::reserved_words()
        .iter()
        .map(|w| {
            vec![
                text(w),
                text("R"),
                Value::Bool(false),
                text("reserved"),
                text("requires AS"),
            ]
        })
        .collect()
}

fn pg_roles(_: &Ctx<'_>) -> Vec<Row> {
    let role = |oid: i64, name: &str, login: bool| {
        vec![
            int(oid),
            text(name),
            Value::Bool(login),
            Value::Bool(login),
            Value::Bool(true),
            Value::Bool(login),
            Value::Bool(login),
            Value::Bool(login),
            Value::Bool(login),
            Value::Int4(-1),
            Value::Null,
        ]
    };
    vec![
        role(OWNER_OID, "root", true),
        role(DATABASE_OWNER_OID, "pg_database_owner", false),
    ]
}

/// Comments: the one PostgreSQL gives the public schema, and those
/// `COMMENT ON` gave relations and their columns.
fn pg_description(c: &Ctx<'_>) -> Vec<Row> {
    let public = vec![
        int(PUBLIC_OID),
        int(2615),
        Value::Int4(0),
        text("standard public schema"),
    ];
    let comments = c
        .catalog
        .comments()
        .filter_map(|(rel, attnum, _, comment)| {
            let r = c.catalog.relation_by_id(rel)?;
            Some(vec![
                int(relation_oid(r)),
                int(PG_CLASS_OID),
                Value::Int4(attnum),
                text(comment),
            ])
        });
    std::iter::once(public).chain(comments).collect()
}

fn info_tables(c: &Ctx<'_>) -> Vec<Row> {
    let user = &c.user;
    user.iter()
        .map(|r| {
            vec![
                text(crate::DEFAULT_DATABASE),
                text(crate::DEFAULT_SCHEMA),
                text(&r.name),
                text(if r.view().is_some() || r.plain_view().is_some() {
                    "VIEW"
                } else {
                    "BASE TABLE"
                }),
            ]
        })
        .collect()
}

fn info_columns(c: &Ctx<'_>) -> Vec<Row> {
    let user = &c.user;
    user.iter()
        .flat_map(|r| {
            let pk = r.table().map(|t| t.primary_key.clone()).unwrap_or_default();
            r.columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let (_, sql_name, udt_name, _) = column_type(r, i);
                    vec![
                        text(crate::DEFAULT_DATABASE),
                        text(crate::DEFAULT_SCHEMA),
                        text(&r.name),
                        text(&c.name),
                        Value::Int4(i as i32 + 1),
                        Value::Null,
                        text(if pk.contains(&i) { "NO" } else { "YES" }),
                        text(&sql_name),
                        text(udt_name),
                    ]
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn info_schemata(_: &Ctx<'_>) -> Vec<Row> {
    [
        "pg_catalog",
        "public",
        "information_schema",
        "rw_catalog",
        "rivulet_catalog",
    ]
    .iter()
    .map(|s| vec![text(crate::DEFAULT_DATABASE), text(s), text("root")])
    .collect()
}

/// A view depends on each relation it reads (`deptype` `n`).
fn pg_depend(c: &Ctx<'_>) -> Vec<Row> {
    c.user
        .iter()
        .filter_map(|r| {
            let named = match (r.view(), r.plain_view()) {
                (Some(v), _) if !v.references.is_empty() => &v.references,
                (Some(v), _) => &v.sources,
                (None, Some(v)) => &v.references,
                (None, None) => return None,
            };
            Some((r, named))
        })
        .flat_map(|(r, named)| {
            named.iter().filter_map(move |src| {
                let source = c.catalog.relation_by_id(*src)?;
                Some(vec![
                    int(PG_CLASS_OID),
                    int(relation_oid(r)),
                    Value::Int4(0),
                    int(PG_CLASS_OID),
                    int(relation_oid(source)),
                    Value::Int4(0),
                    text("n"),
                ])
            })
        })
        .collect()
}

/// One row per user relation that `keep` picks, made by `row`.
fn user_rows(c: &Ctx<'_>, keep: fn(&Relation) -> bool, row: fn(&Relation) -> Row) -> Vec<Row> {
    c.user.iter().filter(|r| keep(r)).map(|r| row(r)).collect()
}

fn pg_tables(c: &Ctx<'_>) -> Vec<Row> {
    user_rows(
        c,
        |r| r.table().is_some(),
        |r| {
            vec![
                text(crate::DEFAULT_SCHEMA),
                text(&r.name),
                text("root"),
                Value::Null,
                Value::Bool(false),
                Value::Bool(false),
                Value::Bool(false),
                Value::Bool(false),
            ]
        },
    )
}

fn pg_views(c: &Ctx<'_>) -> Vec<Row> {
    user_rows(
        c,
        |r| r.plain_view().is_some(),
        |r| {
            vec![
                text(crate::DEFAULT_SCHEMA),
                text(&r.name),
                text("root"),
                text(&view_definition(r)),
            ]
        },
    )
}

fn pg_matviews(c: &Ctx<'_>) -> Vec<Row> {
    user_rows(
        c,
        |r| r.view().is_some(),
        |r| {
            vec![
                text(crate::DEFAULT_SCHEMA),
                text(&r.name),
                text("root"),
                Value::Null,
                Value::Bool(false),
                Value::Bool(true),
                text(&view_definition(r)),
            ]
        },
    )
}

/// A table's primary-key columns (positions), if it has a primary key.
fn primary_key(r: &Relation) -> Option<&[usize]> {
    r.table()
        .map(|t| t.primary_key.as_slice())
        .filter(|k| !k.is_empty())
}

/// The name of the index (and constraint) behind a table's primary key,
/// as PostgreSQL chooses it: `<table>_pkey`, the table's name shortened
/// to keep within 63 bytes.
fn pkey_name(r: &Relation) -> String {
    let mut end = r.name.len().min(63 - "_pkey".len());
    while !r.name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}_pkey", &r.name[..end])
}

/// The primary key's columns, quoted where they must be.
fn pkey_columns(r: &Relation, key: &[usize]) -> Vec<String> {
    key.iter()
        .filter_map(|&i| r.columns.get(i))
        .map(|c| quote_ident(&c.name))
        .collect()
}

/// The default btree operator class of a column type, as PostgreSQL 15
/// numbers it.
fn btree_opclass(ty: DataType) -> i64 {
    match ty {
        DataType::Boolean => 10003,
        DataType::Bytea => 10006,
        DataType::Date => 3122,
        DataType::Float8 => 3123,
        DataType::Int4 => 1978,
        DataType::Int8 => 3124,
        DataType::Interval => 10022,
        DataType::Numeric => 3125,
        DataType::Timestamptz => 3127,
        DataType::Jsonb => 10088,
        DataType::Oid => 1981,
        _ => 3126,
    }
}

fn pg_index(c: &Ctx<'_>) -> Vec<Row> {
    c.user
        .iter()
        .filter_map(|r| {
            let key = primary_key(r)?;
            let types: Vec<DataType> = key
                .iter()
                .filter_map(|&i| r.columns.get(i).map(|c| c.ty))
                .collect();
            let n = Value::Int4(key.len() as i32);
            Some(vec![
                int(PKEY_INDEX_OID + r.id as i64),
                int(relation_oid(r)),
                n.clone(),
                n,
                Value::Bool(true),
                Value::Bool(false),
                Value::Bool(true),
                Value::Bool(false),
                Value::Bool(true),
                Value::Bool(false),
                Value::Bool(true),
                Value::Bool(false),
                Value::Bool(true),
                Value::Bool(true),
                Value::Bool(false),
                Value::Array(key.iter().map(|&i| Value::Int4(i as i32 + 1)).collect()),
                Value::Array(
                    types
                        .iter()
                        .map(|t| int(if *t == DataType::Text { 100 } else { 0 }))
                        .collect(),
                ),
                Value::Array(types.iter().map(|t| int(btree_opclass(*t))).collect()),
                Value::Array(key.iter().map(|_| Value::Int4(0)).collect()),
                Value::Null,
                Value::Null,
            ])
        })
        .collect()
}

fn pg_constraint(c: &Ctx<'_>) -> Vec<Row> {
    c.user
        .iter()
        .filter_map(|r| {
            let key = primary_key(r)?;
            Some(vec![
                int(PKEY_CONSTRAINT_OID + r.id as i64),
                text(&pkey_name(r)),
                int(relation_oid(r)),
                text("p"),
                int(PUBLIC_OID),
                int(0),
                Value::Array(key.iter().map(|&i| Value::Int4(i as i32 + 1)).collect()),
                Value::Null,
                Value::Bool(false),
                Value::Bool(false),
                Value::Bool(true),
                int(0),
                int(PKEY_INDEX_OID + r.id as i64),
                int(0),
                text(" "),
                text(" "),
                text(" "),
                Value::Bool(true),
                Value::Int4(0),
                Value::Bool(true),
                Value::Null,
            ])
        })
        .collect()
}

/// What a primary key's index or constraint OID names.
pub(crate) enum KeyObject {
    /// The index behind it.
    Index,
    /// The constraint.
    Constraint,
}

/// The table whose primary key's index or constraint has OID `oid`.
pub(crate) fn key_object_of_oid(oid: i64) -> Option<(u64, KeyObject)> {
    if oid >= PKEY_CONSTRAINT_OID {
        Some(((oid - PKEY_CONSTRAINT_OID) as u64, KeyObject::Constraint))
    } else if oid >= PKEY_INDEX_OID {
        Some(((oid - PKEY_INDEX_OID) as u64, KeyObject::Index))
    } else {
        None
    }
}

/// `pg_get_indexdef(index)` of a table's primary-key index, or with
/// `column` > 0 that key column's name ('' past the last); `None` when
/// the table has no primary key.
pub(crate) fn index_definition(r: &Relation, column: i32) -> Option<String> {
    let key = primary_key(r)?;
    let cols = pkey_columns(r, key);
    if column > 0 {
        return Some(
            usize::try_from(column - 1)
                .ok()
                .and_then(|i| cols.get(i).cloned())
                .unwrap_or_default(),
        );
    }
    Some(format!(
        "CREATE UNIQUE INDEX {} ON public.{} USING btree ({})",
        quote_ident(&pkey_name(r)),
        quote_ident(&r.name),
        cols.join(", ")
    ))
}

/// `pg_get_constraintdef(constraint)` of a table's primary key.
pub(crate) fn constraint_definition(r: &Relation) -> Option<String> {
    let key = primary_key(r)?;
    Some(format!("PRIMARY KEY ({})", pkey_columns(r, key).join(", ")))
}

/// The id of the user relation with PostgreSQL oid `oid`, if it is one.
pub(crate) fn relation_of_oid(oid: i64) -> Option<u64> {
    if oid >= PKEY_INDEX_OID {
        return None;
    }
    u64::try_from(oid).ok()?.checked_sub(FIRST_USER_OID)
}

/// A view's defining query with each relation it reads named with its
/// schema, as `pg_get_viewdef` prints it when `public` is not on the
/// search path (pg_dump's sessions).
pub(crate) fn qualified_view_definition(r: &Relation, catalog: &Catalog) -> String {
    let (Statement::CreateMaterializedView { query, .. } | Statement::CreateView { query, .. }) =
        &r.definition
    else {
        return view_definition(r);
    };
    let mut query = query.clone();
    let mut ctes = std::collections::HashSet::new();
    query.visit_queries_mut(&mut |q| {
        ctes.extend(q.with.iter().map(|c| c.name.clone()));
    });
    query.visit_queries_mut(&mut |q| {
        if let Some(from) = &mut q.from {
            from.visit_table_names_mut(&mut |name| {
                let user = catalog
                    .get_relation(name)
                    .is_ok_and(|rel| !matches!(rel.kind, RelationKind::System(_)));
                if name.0.len() == 1 && !ctes.contains(&name.0[0]) && user {
                    name.0.insert(0, rivulet_sql::Ident("public".into()));
                }
            });
        }
    });
    format!(" {query};")
}

/// A view's defining query, as `pg_get_viewdef` prints it.
pub(crate) fn view_definition(r: &Relation) -> String {
    match &r.definition {
        Statement::CreateMaterializedView { query, .. } | Statement::CreateView { query, .. } => {
            format!(" {query};")
        }
        other => other.to_string(),
    }
}

fn rw_schemas(_: &Ctx<'_>) -> Vec<Row> {
    [
        (PG_CATALOG_OID, "pg_catalog"),
        (PUBLIC_OID, "public"),
        (INFORMATION_SCHEMA_OID, "information_schema"),
        (RW_CATALOG_OID, "rw_catalog"),
        (RIVULET_CATALOG_OID, "rivulet_catalog"),
    ]
    .iter()
    .map(|(id, name)| {
        vec![
            Value::Int4(*id as i32),
            text(name),
            Value::Int4(OWNER_OID as i32),
            Value::Null,
        ]
    })
    .collect()
}

/// RisingWave's name for a relation's kind.
fn rw_relation_type(r: &Relation) -> &'static str {
    match r.kind {
        RelationKind::Table(_) => "table",
        RelationKind::MaterializedView(_) => "materialized view",
        RelationKind::View(_) => "view",
        RelationKind::System(_) => "system table",
    }
}

fn rw_relations(c: &Ctx<'_>) -> Vec<Row> {
    c.user
        .iter()
        .chain(c.system.iter())
        .map(|r| {
            let schema = match r.kind {
                RelationKind::System(t) => namespace_oid(t.name().0),
                _ => PUBLIC_OID,
            };
            vec![
                rw_id(r),
                text(&r.name),
                text(rw_relation_type(r)),
                Value::Int4(schema as i32),
                Value::Int4(OWNER_OID as i32),
                definition(r),
                Value::Null,
            ]
        })
        .collect()
}

/// A user relation's `CREATE` statement (secrets redacted); NULL for a
/// system one.
fn definition(r: &Relation) -> Value {
    match r.kind {
        RelationKind::System(_) => Value::Null,
        _ => text(&r.definition.to_string()),
    }
}

/// A `rw_tables` or `rw_materialized_views` row.
fn rw_row(r: &Relation) -> Row {
    vec![
        rw_id(r),
        text(&r.name),
        Value::Int4(PUBLIC_OID as i32),
        Value::Int4(OWNER_OID as i32),
        definition(r),
        Value::Null,
    ]
}

fn rw_subscriptions(c: &Ctx<'_>) -> Vec<Row> {
    let mut subs: Vec<_> = c.catalog.subscriptions().collect();
    subs.sort_by_key(|s| s.id);
    subs.into_iter()
        .map(|s| {
            vec![
                Value::Int4((FIRST_USER_OID + s.id) as i32),
                text(&s.name),
                Value::Int4(PUBLIC_OID as i32),
                Value::Int4(OWNER_OID as i32),
                text(&s.definition.to_string()),
                Value::Int8(s.retention_micros / 1_000_000),
                Value::Int4((FIRST_USER_OID + s.relation) as i32),
            ]
        })
        .collect()
}

fn rw_secrets(c: &Ctx<'_>) -> Vec<Row> {
    let mut secrets: Vec<_> = c.catalog.secrets().collect();
    secrets.sort_by_key(|s| s.id);
    secrets
        .into_iter()
        .map(|s| {
            vec![
                Value::Int4((FIRST_USER_OID + s.id) as i32),
                text(&s.name),
                Value::Int4(PUBLIC_OID as i32),
                Value::Int4(OWNER_OID as i32),
            ]
        })
        .collect()
}

fn rw_tables(c: &Ctx<'_>) -> Vec<Row> {
    user_rows(c, |r| r.table().is_some(), rw_row)
}

fn rw_materialized_views(c: &Ctx<'_>) -> Vec<Row> {
    user_rows(c, |r| r.view().is_some(), rw_row)
}

fn rw_views(c: &Ctx<'_>) -> Vec<Row> {
    user_rows(c, |r| r.plain_view().is_some(), rw_row)
}
