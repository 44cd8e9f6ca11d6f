//! Catalog objects and the immutable catalog snapshot.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use rivulet_expr::{DataType, Expr};

use crate::Plan;
use rivulet_sql::{ObjectName, Statement};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The one database Rivulet serves.
pub const DEFAULT_DATABASE: &str = "dev";
/// The one schema Rivulet serves.
pub const DEFAULT_SCHEMA: &str = "public";

/// A column of a table or view.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// The column's type.
    pub ty: DataType,
    /// For a query's result column that is a relation's column as such:
    /// which, as PostgreSQL describes result columns to clients; for a
    /// view's column, the column its query copies, if any.
    pub origin: Option<ColumnOrigin>,
}

impl Column {
    /// A column of no particular origin.
    pub fn new(name: impl Into<String>, ty: DataType) -> Column {
        Column {
            name: name.into(),
            ty,
            origin: None,
        }
    }
}

/// The relation column a result column is (the table OID and attribute
/// number of PostgreSQL's RowDescription).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnOrigin {
    /// The relation's OID.
    pub table_oid: i64,
    /// The column's number in it, from 1.
    pub attnum: i16,
    /// Declared `varchar`: described with that type's OID.
    pub varchar: bool,
}

/// A named secret. Its value is only reachable through [`Secret::value`];
/// `Debug` redacts it so it cannot leak into logs.
#[derive(Clone)]
pub struct Secret {
    /// The secret's catalog id.
    pub id: u64,
    /// The secret's name.
    pub name: String,
    value: String,
}

impl Secret {
    /// Creates a secret.
    pub fn new(id: u64, name: String, value: String) -> Secret {
        Secret { id, name, value }
    }

    /// The secret value, for VALIDATE evaluation and persistence only.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("value", &"[REDACTED]")
            .finish()
    }
}

/// A compiled VALIDATE clause. It is evaluated against the row
/// `[headers jsonb, body bytea, secret text]`, so the secret's value is
/// bound at request time and never embedded in the expression.
#[derive(Debug, Clone)]
pub struct Validator {
    /// The bound predicate over `[headers, body, secret]`.
    pub expr: Expr,
    /// The secret named by `VALIDATE SECRET s`, if any.
    pub secret: Option<Arc<Secret>>,
    /// The header names `expr` reads, when it reads `headers` only as
    /// `headers->'name'` or `headers->>'name'` with constant names: a
    /// `headers` object of just those answers it the same. `None` when it
    /// uses `headers` any other way.
    pub headers_read: Option<Vec<String>>,
}

/// The constant keys `expr` reads column `col` with (see
/// [`Validator::headers_read`]).
fn keys_read(expr: &Expr, col: usize) -> Option<Vec<String>> {
    use rivulet_expr::{BinaryOp, Value};
    let mut keys = Vec::new();
    let (mut keyed, mut uses) = (0usize, 0usize);
    expr.walk(&mut |e| match e {
        Expr::Binary(BinaryOp::JsonGet | BinaryOp::JsonGetText, doc, key)
            if matches!(**doc, Expr::Column(c) if c == col) =>
        {
            if let Expr::Literal(Value::Text(k)) = &**key {
                keyed += 1;
                keys.push(k.clone());
            }
        }
        Expr::Column(c) if *c == col => uses += 1,
        _ => {}
    });
    keys.sort();
    keys.dedup();
    (keyed == uses).then_some(keys)
}

impl Validator {
    /// A validator checking `expr` (over `[headers, body, secret]`).
    pub fn new(expr: Expr, secret: Option<Arc<Secret>>) -> Validator {
        let headers_read = keys_read(&expr, crate::ddl::VALIDATE_HEADERS);
        Validator {
            expr,
            secret,
            headers_read,
        }
    }
}

/// How a webhook table accepts requests.
#[derive(Debug, Clone)]
pub struct WebhookSpec {
    /// Split the body on newlines, one row per non-empty line.
    pub is_batched: bool,
    /// The VALIDATE check; `None` accepts unsigned requests.
    pub validate: Option<Validator>,
    /// Each document's top-level fields go into the columns of the same
    /// names (the table is not a single JSONB column); otherwise the
    /// whole document goes into the one JSONB column.
    pub typed: bool,
    /// Request headers stored in the columns after the payload column, in
    /// column order, by lower-cased name (`INCLUDE header 'name' AS col`).
    pub include_headers: Vec<String>,
    /// How a delivery sent again is recognized and stored only once.
    pub dedup: Option<Dedup>,
    /// The verification a sender runs when the endpoint is set up
    /// (`url_verification`).
    pub handshake: Option<Handshake>,
}

/// A sender's check that an endpoint is the receiver it was told of.
#[derive(Debug, Clone)]
pub enum Handshake {
    /// Slack's Events API: a (signed) POST of `{"type":
    /// "url_verification", "challenge": ...}` is answered with the
    /// challenge, and nothing is stored.
    Slack,
    /// Meta (WhatsApp, Instagram, Messenger): `GET
    /// ?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C` is answered
    /// with C when T is this secret's value.
    Meta(Arc<Secret>),
}

/// Deduplication of deliveries (`dedup_field` or `dedup_header`, and
/// `dedup_window`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dedup {
    /// Where each delivery's id is found.
    pub key: DedupKey,
    /// How long an id is remembered, in microseconds.
    pub window_micros: i64,
}

/// Where a delivery's id is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DedupKey {
    /// A top-level field of each event (`messageId`): each row on its own.
    Field(String),
    /// A request header (`x-github-delivery`, lower-cased): the request's
    /// rows as one.
    Header(String),
}

/// `dedup_window` when only a field or header is given.
pub const DEFAULT_DEDUP_WINDOW_MICROS: i64 = 24 * 3600 * 1_000_000;

/// The longest `dedup_window`.
pub const MAX_DEDUP_WINDOW_MICROS: i64 = 366 * 24 * 3600 * 1_000_000;

/// What a table is beyond its columns.
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// Primary-key column positions; empty means rows get a hidden row id.
    pub primary_key: Vec<usize>,
    /// Present for `connector = 'webhook'` tables.
    pub webhook: Option<WebhookSpec>,
    /// Columns declared `varchar` (`character varying`), by position, with
    /// PostgreSQL's type modifier (the length plus 4, or -1 for none):
    /// text in every way but what catalogs show for their type (the
    /// length is not enforced).
    pub varchar: Vec<(usize, i32)>,
}

/// A materialized view: the plan of its SELECT, which the stream engine
/// maintains incrementally.
#[derive(Debug, Clone)]
pub struct ViewSpec {
    /// The plan the view maintains.
    pub plan: Plan,
    /// The relations the plan reads, each once, in first-scan order.
    pub sources: Vec<u64>,
    /// The relations its definition names (a view it reads is named but
    /// not read: its query is), each once.
    pub references: Vec<u64>,
}

impl ViewSpec {
    /// A view over `plan`.
    pub fn new(plan: Plan) -> ViewSpec {
        let sources: Vec<u64> = plan.distinct_scans().iter().map(|r| r.id).collect();
        ViewSpec {
            plan,
            references: sources.clone(),
            sources,
        }
    }
}

/// A (non-materialized) view.
#[derive(Debug, Clone)]
pub struct PlainView {
    /// The defining query.
    pub query: Box<rivulet_sql::Query>,
    /// Names for the query's columns (empty: the query's own).
    pub columns: Vec<rivulet_sql::Ident>,
    /// The relations the query names (tables, views), each once.
    pub references: Vec<u64>,
}

/// Table, materialized view, or system catalog relation.
#[derive(Debug, Clone)]
pub enum RelationKind {
    /// A table (webhook or plain).
    Table(TableSpec),
    /// A materialized view.
    MaterializedView(ViewSpec),
    /// A view: its query, planned where the view is read.
    View(PlainView),
    /// Computed from the catalog when read; never stored.
    System(crate::SystemTable),
}

/// A table or materialized view.
#[derive(Debug, Clone)]
pub struct Relation {
    /// The relation's catalog id (also its storage key prefix).
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<Column>,
    /// Table, view or system catalog, with what that kind needs.
    pub kind: RelationKind,
    /// The defining statement, printed by `SHOW CREATE`.
    pub definition: Statement,
}

impl Relation {
    /// The table spec, if this is a table.
    pub fn table(&self) -> Option<&TableSpec> {
        match &self.kind {
            RelationKind::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The view spec, if this is a materialized view.
    pub fn view(&self) -> Option<&ViewSpec> {
        match &self.kind {
            RelationKind::MaterializedView(v) => Some(v),
            _ => None,
        }
    }

    /// The view's query, if this is a (non-materialized) view.
    pub fn plain_view(&self) -> Option<&PlainView> {
        match &self.kind {
            RelationKind::View(v) => Some(v),
            _ => None,
        }
    }

    /// The system table this relation is, if it is one.
    pub fn system(&self) -> Option<crate::SystemTable> {
        match &self.kind {
            RelationKind::System(t) => Some(*t),
            _ => None,
        }
    }

    /// "table" or "materialized view", for messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            RelationKind::Table(_) => "table",
            RelationKind::MaterializedView(_) => "materialized view",
            RelationKind::View(_) => "view",
            RelationKind::System(_) => "system view",
        }
    }
}

/// A subscription: the changes of one table or materialized view, kept
/// for `retention` so that subscription cursors can read them.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// The subscription's catalog id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The relation whose changes it keeps.
    pub relation: u64,
    /// How long a change is kept, in microseconds.
    pub retention_micros: i64,
    /// The defining statement, printed by `rivulet dump`.
    pub definition: Statement,
}

/// How a catalog object is persisted: its defining SQL (which never holds
/// a secret value) and, for a secret, the value. `Debug` redacts the value.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredObject {
    /// The object's catalog id; objects are restored in id order.
    pub id: u64,
    /// The defining statement's SQL.
    pub sql: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// A secret's value (secrets only).
    pub secret_value: Option<String>,
}

impl fmt::Debug for StoredObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredObject")
            .field("id", &self.id)
            .field("sql", &self.sql)
            .field(
                "secret_value",
                &self.secret_value.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

impl StoredObject {
    /// Serialises for storage.
    pub fn encode(&self) -> Vec<u8> {
        // Serialising a struct of strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Deserialises from storage.
    pub fn decode(bytes: &[u8]) -> Result<StoredObject> {
        serde_json::from_slice(bytes).map_err(|e| Error::Corrupted(e.to_string()))
    }
}

/// An immutable snapshot of every object. Cheap to clone (objects are
/// shared); changed by building a new snapshot.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    relations: BTreeMap<String, Arc<Relation>>,
    secrets: BTreeMap<String, Arc<Secret>>,
    subscriptions: BTreeMap<String, Arc<Subscription>>,
    names_by_id: HashMap<u64, String>,
    /// `COMMENT ON` comments by (relation id, column number or 0 for the
    /// relation itself): the stored object holding each, and its text.
    comments: BTreeMap<(u64, i32), (u64, String)>,
    next_id: u64,
}

impl Catalog {
    /// An empty catalog whose first object gets id 1.
    pub fn new() -> Catalog {
        Catalog {
            next_id: 1,
            ..Catalog::default()
        }
    }

    /// Reserves the next object id.
    pub fn allocate_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Resolves a possibly qualified name to the bare relation name, checking
    /// the database and schema parts.
    pub fn resolve_name(name: &ObjectName) -> Result<&str> {
        let parts = &name.0;
        if parts.len() == 3 && parts[0].as_str() != DEFAULT_DATABASE {
            return Err(Error::NotSupported(format!(
                "cross-database references are not implemented: \"{name}\""
            )));
        }
        if parts.len() >= 2 {
            let schema = parts[parts.len() - 2].as_str();
            if schema != DEFAULT_SCHEMA {
                return Err(Error::UndefinedSchema(schema.to_string()));
            }
        }
        Ok(name.name().as_str())
    }

    /// A relation by bare name.
    pub fn relation(&self, name: &str) -> Option<&Arc<Relation>> {
        self.relations.get(name)
    }

    /// A relation by (possibly qualified) name, or 42P01. `pg_catalog`,
    /// `information_schema` and `rw_catalog` names resolve to system
    /// relations, and an unqualified name with no user relation is looked
    /// up in `pg_catalog`, then `rw_catalog`.
    pub fn get_relation(&self, name: &ObjectName) -> Result<Arc<Relation>> {
        let parts = &name.0;
        let schema = (parts.len() >= 2).then(|| parts[parts.len() - 2].as_str());
        if let Some(s) = schema.filter(|s| crate::SystemTable::is_system_schema(s)) {
            return crate::SystemTable::lookup(Some(s), name.name().as_str())
                .map(|t| t.relation())
                .ok_or_else(|| Error::UndefinedTable(name.to_string()));
        }
        let bare = Self::resolve_name(name)?;
        if let Some(r) = self.relation(bare) {
            return Ok(r.clone());
        }
        if schema.is_none() {
            if let Some(t) = crate::SystemTable::lookup(None, bare) {
                return Ok(t.relation());
            }
        }
        Err(Error::UndefinedTable(bare.to_string()))
    }

    /// A relation by id.
    pub fn relation_by_id(&self, id: u64) -> Option<&Arc<Relation>> {
        self.names_by_id
            .get(&id)
            .and_then(|n| self.relations.get(n))
            .filter(|r| r.id == id)
    }

    /// A secret by name.
    pub fn secret(&self, name: &str) -> Option<&Arc<Secret>> {
        self.secrets.get(name)
    }

    /// Every relation, by name.
    pub fn relations(&self) -> impl Iterator<Item = &Arc<Relation>> {
        self.relations.values()
    }

    /// A subscription by name.
    pub fn subscription(&self, name: &str) -> Option<&Arc<Subscription>> {
        self.subscriptions.get(name)
    }

    /// Every subscription, by name.
    pub fn subscriptions(&self) -> impl Iterator<Item = &Arc<Subscription>> {
        self.subscriptions.values()
    }

    /// The subscriptions of relation `id`.
    pub fn subscriptions_of(&self, id: u64) -> Vec<Arc<Subscription>> {
        self.subscriptions
            .values()
            .filter(|s| s.relation == id)
            .cloned()
            .collect()
    }

    /// Adds a subscription (the caller has checked the name is free).
    pub fn insert_subscription(&mut self, sub: Subscription) {
        self.next_id = self.next_id.max(sub.id + 1);
        self.subscriptions.insert(sub.name.clone(), Arc::new(sub));
    }

    /// Removes a subscription by name.
    pub fn remove_subscription(&mut self, name: &str) -> Option<Arc<Subscription>> {
        self.subscriptions.remove(name)
    }

    /// Every secret, by name.
    pub fn secrets(&self) -> impl Iterator<Item = &Arc<Secret>> {
        self.secrets.values()
    }

    /// Makes sure ids up to `id` are never allocated (they name objects
    /// whose data is still being removed).
    pub fn reserve_ids_through(&mut self, id: u64) {
        self.next_id = self.next_id.max(id + 1);
    }

    /// Adds a relation (the caller has checked the name is free).
    pub fn insert_relation(&mut self, rel: Relation) {
        self.next_id = self.next_id.max(rel.id + 1);
        self.names_by_id.insert(rel.id, rel.name.clone());
        self.relations.insert(rel.name.clone(), Arc::new(rel));
    }

    /// Adds a secret (the caller has checked the name is free).
    pub fn insert_secret(&mut self, secret: Secret) {
        self.next_id = self.next_id.max(secret.id + 1);
        self.secrets.insert(secret.name.clone(), Arc::new(secret));
    }

    /// Removes a relation by name.
    pub fn remove_relation(&mut self, name: &str) -> Option<Arc<Relation>> {
        let rel = self.relations.remove(name)?;
        self.names_by_id.remove(&rel.id);
        self.comments.retain(|(r, _), _| *r != rel.id);
        Some(rel)
    }

    /// Sets (or with `None` removes) the comment on relation `rel` (column
    /// `attnum`, 0 for the relation), held by stored object `object`;
    /// returns the stored object that held the previous one.
    pub fn set_comment(
        &mut self,
        rel: u64,
        attnum: i32,
        comment: Option<(u64, String)>,
    ) -> Option<u64> {
        let before = match comment {
            Some(c) => {
                // Its object's id is taken, restored or not.
                self.next_id = self.next_id.max(c.0 + 1);
                self.comments.insert((rel, attnum), c)
            }
            None => self.comments.remove(&(rel, attnum)),
        };
        before.map(|(object, _)| object)
    }

    /// The comment on relation `rel` (column `attnum`, 0 for the relation).
    pub fn comment(&self, rel: u64, attnum: i32) -> Option<&str> {
        self.comments.get(&(rel, attnum)).map(|(_, t)| t.as_str())
    }

    /// Every comment: relation id, column number (0 for the relation), the
    /// stored object holding it, and its text.
    pub fn comments(&self) -> impl Iterator<Item = (u64, i32, u64, &str)> + '_ {
        self.comments
            .iter()
            .map(|((rel, attnum), (object, text))| (*rel, *attnum, *object, text.as_str()))
    }

    /// Removes a secret by name.
    pub fn remove_secret(&mut self, name: &str) -> Option<Arc<Secret>> {
        self.secrets.remove(name)
    }

    /// Views reading directly from relation `id`.
    pub fn dependent_views(&self, id: u64) -> Vec<Arc<Relation>> {
        self.relations
            .values()
            .filter(|r| {
                r.view()
                    .is_some_and(|v| v.sources.contains(&id) || v.references.contains(&id))
                    || r.plain_view().is_some_and(|v| v.references.contains(&id))
            })
            .cloned()
            .collect()
    }

    /// Tables whose VALIDATE uses secret `name`.
    pub fn tables_using_secret(&self, name: &str) -> Vec<Arc<Relation>> {
        self.relations
            .values()
            .filter(|r| {
                let Some(w) = r.table().and_then(|t| t.webhook.as_ref()) else {
                    return false;
                };
                let validates = w
                    .validate
                    .as_ref()
                    .and_then(|v| v.secret.as_ref())
                    .is_some_and(|s| s.name == name);
                let verifies = matches!(&w.handshake, Some(Handshake::Meta(s)) if s.name == name);
                validates || verifies
            })
            .cloned()
            .collect()
    }

    /// Every view that (transitively) reads relation `id`, dependents before
    /// the views they read from reversed: the order to drop them in.
    pub fn transitive_dependents(&self, id: u64) -> Vec<Arc<Relation>> {
        let mut out = Vec::new();
        for v in self.dependent_views(id) {
            out.extend(self.transitive_dependents(v.id));
            out.push(v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivulet_expr::{BinaryOp, Value};

    fn get(op: BinaryOp, col: usize, key: Value) -> Expr {
        Expr::Binary(
            op,
            Box::new(Expr::Column(col)),
            Box::new(Expr::Literal(key)),
        )
    }

    #[test]
    fn a_validator_knows_the_headers_it_reads_by_name() {
        let text = |s: &str| Value::Text(s.into());
        let sig = get(BinaryOp::JsonGetText, 0, text("x-signature"));
        let ts = get(BinaryOp::JsonGet, 0, text("x-timestamp"));
        let both = Expr::And(
            Box::new(Expr::IsNull(Box::new(sig.clone()), true)),
            Box::new(Expr::And(
                Box::new(Expr::IsNull(Box::new(ts), true)),
                Box::new(Expr::IsNull(Box::new(sig), true)),
            )),
        );
        assert_eq!(
            Validator::new(both.clone(), None).headers_read,
            Some(vec!["x-signature".to_string(), "x-timestamp".to_string()])
        );
        // The whole object, or a key that is not a constant name: every
        // header.
        let whole = Expr::And(
            Box::new(both.clone()),
            Box::new(Expr::IsNull(Box::new(Expr::Column(0)), true)),
        );
        assert_eq!(Validator::new(whole, None).headers_read, None);
        let computed = Expr::Binary(
            BinaryOp::JsonGetText,
            Box::new(Expr::Column(0)),
            Box::new(Expr::Column(2)),
        );
        assert_eq!(Validator::new(computed, None).headers_read, None);
        let index = get(BinaryOp::JsonGet, 0, Value::Int4(0));
        assert_eq!(Validator::new(index, None).headers_read, None);
        // Not reading headers at all: none of them.
        let body_only = Expr::IsNull(Box::new(Expr::Column(1)), true);
        assert_eq!(Validator::new(body_only, None).headers_read, Some(vec![]));
    }
}
