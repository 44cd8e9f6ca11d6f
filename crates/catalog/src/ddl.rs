//! DDL rules: turning CREATE statements into catalog objects, and DROP
//! statements into the ordered list of objects to remove.
//!
//! Webhook tables follow RisingWave's rules and messages: exactly one JSONB
//! column, VALIDATE only with the webhook connector, and `secure_compare`
//! as VALIDATE's top-level function.

use std::sync::Arc;

use rivulet_expr::{DataType, Interval};
use rivulet_sql::{DropKind, Expr as AstExpr, Literal, ObjectName, Statement};

use crate::binder::CatalogType;
use crate::binder::{type_from_name, Binder, Scope, ScopeColumn};
use crate::catalog::{
    Dedup, DedupKey, Handshake, DEFAULT_DEDUP_WINDOW_MICROS, MAX_DEDUP_WINDOW_MICROS,
};
use crate::planner::{plan_view, Plan};
use crate::{
    Catalog, Column, Error, Relation, RelationKind, Result, Secret, Subscription, TableSpec,
    Validator, ViewSpec, WebhookSpec,
};

/// The longest subscription `retention`.
pub const MAX_RETENTION_MICROS: i64 = 366 * 24 * 3600 * 1_000_000;

/// A new catalog object.
#[derive(Debug)]
pub enum NewObject {
    /// A secret.
    Secret(Secret),
    /// A table or materialized view.
    Relation(Box<Relation>),
    /// A subscription.
    Subscription(Box<Subscription>),
    /// A comment on a relation (column `attnum`, 0 for the relation
    /// itself); `None` removes it.
    Comment {
        /// The relation's id.
        relation: u64,
        /// The column's number, or 0.
        attnum: i32,
        /// The text.
        text: Option<String>,
    },
}

/// Position of `headers`, the payload and the secret in the row a VALIDATE
/// expression is evaluated against.
pub const VALIDATE_HEADERS: usize = 0;
/// Position of the request body in VALIDATE's row.
pub const VALIDATE_BODY: usize = 1;
/// Position of the secret in VALIDATE's row.
pub const VALIDATE_SECRET: usize = 2;

/// The outcome of a CREATE: a new object, or a notice that it already
/// existed (`IF NOT EXISTS`).
#[derive(Debug)]
pub enum Created {
    /// An object to add to the catalog.
    New(NewObject),
    /// Nothing to do (`IF NOT EXISTS` on an existing name), with the NOTICE to send.
    Skipped(String),
}

/// Builds the object a CREATE statement defines, with id `id`.
pub fn create(stmt: &Statement, id: u64, catalog: &Catalog) -> Result<Created> {
    match stmt {
        Statement::CreateSecret {
            name,
            if_not_exists,
            with,
            value,
        } => {
            let bare = Catalog::resolve_name(name)?;
            if catalog.secret(bare).is_some() {
                let taken = Error::DuplicateObject(format!("secret \"{bare}\" already exists"));
                return name_taken(*if_not_exists, taken);
            }
            for opt in with {
                match (opt.name.as_str(), &opt.value) {
                    ("backend", Literal::String(b)) if b == "meta" => {}
                    ("backend", v) => {
                        return Err(Error::NotSupported(format!(
                            "secret backend {v} is not supported (only 'meta')"
                        )))
                    }
                    (other, _) => {
                        return Err(Error::InvalidParameter(format!(
                            "unrecognized secret option \"{other}\""
                        )))
                    }
                }
            }
            Ok(Created::New(NewObject::Secret(Secret::new(
                id,
                bare.to_string(),
                value.clone(),
            ))))
        }
        Statement::CreateTable {
            name,
            if_not_exists,
            ..
        } => {
            let bare = Catalog::resolve_name(name)?;
            if catalog.relation(bare).is_some() {
                return name_taken(*if_not_exists, Error::DuplicateTable(bare.to_string()));
            }
            create_table(stmt, id, bare, catalog)
                .map(|r| Created::New(NewObject::Relation(Box::new(r))))
        }
        Statement::CreateView {
            name,
            if_not_exists,
            columns,
            query,
        } => {
            let bare = Catalog::resolve_name(name)?;
            if catalog.relation(bare).is_some() {
                return name_taken(*if_not_exists, Error::DuplicateTable(bare.to_string()));
            }
            // Planned, not run: subqueries are planned where it is read.
            let (plan, _) = crate::planner::describe_query(query, catalog)?;
            let mut output = own_columns(&plan.output);
            if columns.len() > output.len() {
                return Err(Error::Syntax(
                    "CREATE VIEW specifies more column names than columns".into(),
                ));
            }
            for (c, n) in output.iter_mut().zip(columns) {
                c.name = n.as_str().to_string();
            }
            check_unique_columns(&output)?;
            Ok(Created::New(NewObject::Relation(Box::new(Relation {
                id,
                name: bare.to_string(),
                columns: output,
                kind: RelationKind::View(crate::PlainView {
                    query: Box::new(query.clone()),
                    columns: columns.clone(),
                    references: referenced_relations(query, catalog),
                }),
                definition: normalized(stmt),
            }))))
        }
        Statement::CreateMaterializedView {
            name,
            if_not_exists,
            query,
        } => {
            let bare = Catalog::resolve_name(name)?;
            if catalog.relation(bare).is_some() {
                return name_taken(*if_not_exists, Error::DuplicateTable(bare.to_string()));
            }
            let plan = plan_view(query, catalog)?;
            if query.from.is_none() && query.set_op.is_none() {
                return Err(Error::NotSupported(
                    "a materialized view needs a FROM clause".into(),
                ));
            }
            if !query.order_by.is_empty() || plan.limit.is_some() || plan.offset > 0 {
                return Err(Error::NotSupported(
                    "ORDER BY, LIMIT and OFFSET are not supported in materialized views; order when querying the view".into(),
                ));
            }
            check_unique_columns(&plan.output)?;
            refuse_arrays(&plan.output, "materialized views")?;
            if !query.distinct_on.is_empty() {
                return Err(Error::NotSupported(
                    "DISTINCT ON in materialized views is not supported yet".into(),
                ));
            }
            if has_window(&plan.root) {
                return Err(Error::NotSupported(
                    "window functions in materialized views are not supported yet".into(),
                ));
            }
            let mut reads_system = false;
            plan.root
                .visit_scans(&mut |r| reads_system |= r.system().is_some());
            if reads_system {
                return Err(Error::NotSupported(
                    "materialized views over system catalogs are not supported".into(),
                ));
            }
            Ok(Created::New(NewObject::Relation(Box::new(Relation {
                id,
                name: bare.to_string(),
                columns: own_columns(&plan.output),
                kind: RelationKind::MaterializedView({
                    let mut spec = ViewSpec::new(plan.root);
                    for r in referenced_relations(query, catalog) {
                        if !spec.references.contains(&r) {
                            spec.references.push(r);
                        }
                    }
                    spec
                }),
                definition: normalized(stmt),
            }))))
        }
        Statement::CreateSubscription {
            name,
            if_not_exists,
            from,
            with,
        } => {
            let bare = Catalog::resolve_name(name)?;
            if catalog.subscription(bare).is_some() {
                let taken =
                    Error::DuplicateObject(format!("subscription \"{bare}\" already exists"));
                return name_taken(*if_not_exists, taken);
            }
            let rel = catalog.get_relation(from)?;
            if rel.system().is_some() {
                return Err(Error::NotSupported(
                    "subscriptions to system catalogs are not supported".into(),
                ));
            }
            let mut retention = None;
            for opt in with {
                match opt.name.as_str() {
                    "retention" => retention = Some(retention_of(&opt.value)?),
                    other => {
                        return Err(Error::InvalidParameter(format!(
                            "unrecognized subscription option \"{other}\""
                        )))
                    }
                }
            }
            let retention_micros = retention.ok_or_else(|| {
                Error::InvalidParameter(
                    "a subscription needs WITH (retention = '<interval>'), how long its changes are kept".into(),
                )
            })?;
            Ok(Created::New(NewObject::Subscription(Box::new(
                Subscription {
                    id,
                    name: bare.to_string(),
                    relation: rel.id,
                    retention_micros,
                    definition: normalized(stmt),
                },
            ))))
        }
        Statement::Comment { on, name, text } => comment(*on, name, text.clone(), catalog),
        other => Err(Error::InvalidDefinition(format!(
            "not a CREATE statement: {other}"
        ))),
    }
}

/// `COMMENT ON ...`: the relation (and column) it names, checked as
/// PostgreSQL checks it.
fn comment(
    on: rivulet_sql::CommentOn,
    name: &ObjectName,
    text: Option<String>,
    catalog: &Catalog,
) -> Result<Created> {
    use rivulet_sql::CommentOn;
    let (relation_name, column) = match on {
        CommentOn::Column => {
            let parts = &name.0;
            let Some((column, table)) = parts.split_last().filter(|(_, t)| !t.is_empty()) else {
                return Err(Error::Syntax(format!(
                    "column name must be qualified: {name}"
                )));
            };
            (ObjectName(table.to_vec()), Some(column.clone()))
        }
        _ => (name.clone(), None),
    };
    let rel = catalog.get_relation(&relation_name)?;
    let (wanted, what) = match on {
        CommentOn::Table => (rel.table().is_some(), "a table"),
        CommentOn::View => (rel.plain_view().is_some(), "a view"),
        CommentOn::MaterializedView => (rel.view().is_some(), "a materialized view"),
        CommentOn::Column => (
            !matches!(rel.kind, RelationKind::System(_)),
            "a table, view or materialized view",
        ),
    };
    if !wanted || matches!(rel.kind, RelationKind::System(_)) {
        return Err(Error::WrongObjectType(format!(
            "\"{}\" is not {what}",
            rel.name
        )));
    }
    let attnum = match column {
        None => 0,
        Some(c) => match rel.columns.iter().position(|col| col.name == c.0) {
            Some(i) => i as i32 + 1,
            None => {
                return Err(Error::UndefinedColumnOf {
                    column: c.0,
                    table: rel.name.clone(),
                })
            }
        },
    };
    Ok(Created::New(NewObject::Comment {
        relation: rel.id,
        attnum,
        text: text.filter(|t| !t.is_empty()),
    }))
}

/// A subscription's `retention`: a positive interval of at most a year
/// (`'1h'`, `'1D'`).
fn retention_of(v: &Literal) -> Result<i64> {
    positive_interval("retention", v, MAX_RETENTION_MICROS)
}

/// Option `name`: an interval of more than 0 and at most `max` µs (366
/// days), in µs.
fn positive_interval(name: &str, v: &Literal, max: i64) -> Result<i64> {
    let text = option_string(name, v)?;
    let span = Interval::parse(&text)
        .map_err(|e| Error::InvalidParameter(format!("option \"{name}\": {e}")))?
        .span();
    if span <= 0 || span > i128::from(max) {
        return Err(Error::InvalidParameter(format!(
            "option \"{name}\" must be more than 0 and at most 366 days, not '{text}'"
        )));
    }
    Ok(span as i64)
}

/// A CREATE whose name is taken: a notice with IF NOT EXISTS (as
/// PostgreSQL words it), otherwise the error.
fn name_taken(if_not_exists: bool, taken: Error) -> Result<Created> {
    if if_not_exists {
        Ok(Created::Skipped(format!("{taken}, skipping")))
    } else {
        Err(taken)
    }
}

/// Whether a plan computes window functions (ad-hoc queries only: their
/// operator emits when its input ends).
/// The stored relations a query names (tables, materialized views and
/// views; system catalogs aside), each once: what a DROP must not pull
/// from under it.
fn referenced_relations(q: &rivulet_sql::Query, catalog: &Catalog) -> Vec<u64> {
    fn table(t: &rivulet_sql::TableRef, catalog: &Catalog, out: &mut Vec<u64>) {
        match t {
            rivulet_sql::TableRef::Table { name, .. } => {
                if let Ok(r) = catalog.get_relation(name) {
                    if r.system().is_none() && !out.contains(&r.id) {
                        out.push(r.id);
                    }
                }
            }
            rivulet_sql::TableRef::Join { left, right, .. } => {
                table(left, catalog, out);
                table(right, catalog, out);
            }
            rivulet_sql::TableRef::Derived { query, .. } => query_refs(query, catalog, out),
            rivulet_sql::TableRef::Function { .. } => {}
        }
    }
    fn query_refs(q: &rivulet_sql::Query, catalog: &Catalog, out: &mut Vec<u64>) {
        for cte in &q.with {
            query_refs(&cte.query, catalog, out);
        }
        if let Some(t) = &q.from {
            table(t, catalog, out);
        }
        for (_, u) in &q.unions {
            query_refs(u, catalog, out);
        }
        if let Some(s) = &q.set_op {
            query_refs(&s.left, catalog, out);
            query_refs(&s.right, catalog, out);
        }
        // Subqueries in expressions.
        let mut nested = Vec::new();
        q.clone().visit_exprs_mut(&mut |e| match e {
            rivulet_sql::Expr::Subquery(s)
            | rivulet_sql::Expr::Exists(s)
            | rivulet_sql::Expr::ArraySubquery(s)
            | rivulet_sql::Expr::InSubquery { query: s, .. } => nested.push((**s).clone()),
            _ => {}
        });
        for s in nested {
            query_refs(&s, catalog, out);
        }
    }
    let mut out = Vec::new();
    query_refs(q, catalog, &mut out);
    out
}

fn has_window(plan: &Plan) -> bool {
    matches!(plan, Plan::Window { .. }) || plan.inputs().into_iter().any(has_window)
}

/// Arrays are values of queries only: 0A000 for a stored column of one.
fn refuse_arrays(cols: &[Column], what: &str) -> Result<()> {
    match cols.iter().find(|c| matches!(c.ty, DataType::Array(_))) {
        Some(c) => Err(Error::NotSupported(format!(
            "column \"{}\" is of type {}: arrays in {what} are not supported yet",
            c.name, c.ty
        ))),
        None => Ok(()),
    }
}

/// The statement as stored and shown by SHOW CREATE: without IF NOT EXISTS.
fn normalized(stmt: &Statement) -> Statement {
    let mut s = stmt.clone();
    match &mut s {
        Statement::CreateTable { if_not_exists, .. }
        | Statement::CreateMaterializedView { if_not_exists, .. }
        | Statement::CreateSecret { if_not_exists, .. }
        | Statement::CreateSubscription { if_not_exists, .. } => *if_not_exists = false,
        _ => {}
    }
    s
}

fn check_unique_columns(cols: &[Column]) -> Result<()> {
    for (i, c) in cols.iter().enumerate() {
        if cols[..i].iter().any(|o| o.name == c.name) {
            return Err(Error::DuplicateColumn(c.name.clone()));
        }
    }
    Ok(())
}

fn option_bool(name: &str, v: &Literal) -> Result<bool> {
    match v {
        Literal::Boolean(b) => Ok(*b),
        Literal::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Literal::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(Error::InvalidParameter(format!(
            "option \"{name}\" must be a boolean, not {other}"
        ))),
    }
}

/// Whether the options say `connector = 'webhook'`.
fn connector_is_webhook(with: &[rivulet_sql::SqlOption]) -> bool {
    with.iter().any(|o| {
        o.name.as_str() == "connector"
            && matches!(&o.value, Literal::String(c) if c.eq_ignore_ascii_case("webhook"))
    })
}

fn option_string(name: &str, v: &Literal) -> Result<String> {
    match v {
        Literal::String(s) if !s.is_empty() => Ok(s.clone()),
        other => Err(Error::InvalidParameter(format!(
            "option \"{name}\" must be a non-empty string, not {other}"
        ))),
    }
}

/// An HTTP header name (RFC 9110 token characters), lower-cased.
fn header_name(what: &str, name: &str) -> Result<String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(Error::InvalidParameter(format!(
            "{what}: \"{name}\" is not an HTTP header name"
        )));
    }
    Ok(name.to_ascii_lowercase())
}

/// `dedup_window`: a positive interval of at most a year (`'24 hours'`).
fn window(v: &Literal) -> Result<i64> {
    positive_interval("dedup_window", v, MAX_DEDUP_WINDOW_MICROS)
}

fn create_table(stmt: &Statement, id: u64, name: &str, catalog: &Catalog) -> Result<Relation> {
    let Statement::CreateTable {
        columns,
        primary_key: key_columns,
        include,
        with,
        validate,
        ..
    } = stmt
    else {
        return Err(Error::InvalidDefinition("not CREATE TABLE".into()));
    };
    if let Some(c) = columns.iter().find(|c| c.unsupported.is_some()) {
        let what = c.unsupported.unwrap_or_default();
        return Err(Error::NotSupported(if connector_is_webhook(with) {
            format!(
                "column \"{}\": {what} is not supported on webhook tables",
                c.name
            )
        } else {
            format!("column \"{}\": {what} is not supported", c.name)
        }));
    }
    let mut cols = columns
        .iter()
        .map(|c| Ok(Column::new(c.name.0.clone(), type_from_name(&c.type_name)?)))
        .collect::<Result<Vec<_>>>()?;
    check_unique_columns(&cols)?;
    refuse_arrays(&cols, "tables")?;
    // The key's columns in the order `PRIMARY KEY (...)` names them, or
    // those declared PRIMARY KEY in table order.
    if !key_columns.is_empty() && columns.iter().any(|c| c.primary_key) {
        return Err(Error::InvalidTableDefinition(format!(
            "multiple primary keys for table \"{name}\" are not allowed"
        )));
    }
    if let Some(twice) = key_columns
        .iter()
        .enumerate()
        .find(|(i, k)| key_columns[..*i].contains(k))
    {
        return Err(Error::DuplicateKeyColumn(twice.1.to_string()));
    }
    let primary_key: Vec<usize> = if key_columns.is_empty() {
        columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.primary_key)
            .map(|(i, _)| i)
            .collect()
    } else {
        key_columns
            .iter()
            .filter_map(|k| columns.iter().position(|c| c.name == *k))
            .collect()
    };

    let mut connector = None;
    let mut is_batched = false;
    let mut dedup_key: Option<DedupKey> = None;
    let mut dedup_window: Option<i64> = None;
    let mut url_verification: Option<String> = None;
    let mut verify_token: Option<String> = None;
    for opt in with {
        match opt.name.as_str() {
            name @ ("dedup_field" | "dedup_header") => {
                let value = option_string(name, &opt.value)?;
                if dedup_key.is_some() {
                    return Err(Error::InvalidParameter(
                        "give one of \"dedup_field\" and \"dedup_header\"".into(),
                    ));
                }
                dedup_key = Some(if name == "dedup_field" {
                    DedupKey::Field(value)
                } else {
                    DedupKey::Header(header_name(name, &value)?)
                });
            }
            "dedup_window" => dedup_window = Some(window(&opt.value)?),
            "url_verification" => {
                url_verification = Some(option_string("url_verification", &opt.value)?)
            }
            "verify_token" => verify_token = Some(option_string("verify_token", &opt.value)?),
            "connector" => match &opt.value {
                Literal::String(c) => connector = Some(c.to_ascii_lowercase()),
                other => {
                    return Err(Error::InvalidParameter(format!(
                        "invalid connector {other}"
                    )))
                }
            },
            "is_batched" => is_batched = option_bool("is_batched", &opt.value)?,
            other => {
                return Err(Error::InvalidParameter(format!(
                    "unrecognized table option \"{other}\""
                )))
            }
        }
    }
    let webhook = match connector.as_deref() {
        None => None,
        Some("webhook") => Some(()),
        Some(other) => {
            return Err(Error::NotSupported(format!(
                "connector '{other}' is not supported"
            )))
        }
    };
    if webhook.is_none() && is_batched {
        return Err(Error::InvalidParameter(
            "option \"is_batched\" requires connector = 'webhook'".into(),
        ));
    }
    if webhook.is_none() && (dedup_key.is_some() || dedup_window.is_some()) {
        return Err(Error::InvalidParameter(
            "deduplication options require connector = 'webhook'".into(),
        ));
    }
    if webhook.is_none() && !include.is_empty() {
        return Err(Error::NotSupported(
            "INCLUDE is only supported on tables with connector = 'webhook'".into(),
        ));
    }
    if webhook.is_none() && (url_verification.is_some() || verify_token.is_some()) {
        return Err(Error::InvalidParameter(
            "url_verification requires connector = 'webhook'".into(),
        ));
    }
    let mode = url_verification.as_deref().map(str::to_ascii_lowercase);
    let handshake = match (mode.as_deref(), verify_token) {
        (None, None) => None,
        (Some("slack"), None) => Some(Handshake::Slack),
        (Some("meta"), Some(secret)) => {
            let secret = catalog.secret(&secret).cloned().ok_or_else(|| {
                Error::UndefinedObject(format!("secret \"{secret}\" does not exist"))
            })?;
            Some(Handshake::Meta(secret))
        }
        (Some("meta"), None) => {
            return Err(Error::InvalidParameter(
                "url_verification = 'meta' needs verify_token = '<name of a secret>'".into(),
            ))
        }
        (Some("slack") | None, Some(_)) => {
            return Err(Error::InvalidParameter(
                "option \"verify_token\" goes with url_verification = 'meta'".into(),
            ))
        }
        (Some(other), _) => {
            return Err(Error::InvalidParameter(format!(
                "unknown url_verification '{other}' (expected 'slack' or 'meta')"
            )))
        }
    };
    let dedup = match (dedup_key, dedup_window) {
        (Some(key), window) => Some(Dedup {
            key,
            window_micros: window.unwrap_or(DEFAULT_DEDUP_WINDOW_MICROS),
        }),
        (None, Some(_)) => {
            return Err(Error::InvalidParameter(
                "option \"dedup_window\" requires \"dedup_field\" or \"dedup_header\"".into(),
            ))
        }
        (None, None) => None,
    };
    let webhook = match webhook {
        None => {
            if validate.is_some() {
                return Err(Error::InvalidDefinition(
                    "VALIDATE is only supported on tables with connector = 'webhook'".into(),
                ));
            }
            None
        }
        Some(()) => {
            if let Some(c) = columns.iter().find(|c| c.not_null) {
                return Err(Error::NotSupported(format!(
                    "column \"{}\": NOT NULL is not supported on webhook tables",
                    c.name
                )));
            }
            // One JSONB column takes the whole document; any other
            // columns take the document's top-level fields by name, and
            // VALIDATE calls the raw body `payload` (as RisingWave does).
            let typed = !(cols.len() == 1 && cols[0].ty == DataType::Jsonb);
            let payload = if typed {
                "payload"
            } else {
                cols[0].name.as_str()
            };
            let validate = validate
                .as_ref()
                .map(|(secret, expr)| bind_validate(secret.as_ref(), expr, payload, catalog))
                .transpose()?;
            let mut include_headers = Vec::new();
            for inc in include {
                if !inc.kind.as_str().eq_ignore_ascii_case("header") {
                    return Err(Error::NotSupported(format!(
                        "INCLUDE {} is not supported on webhook tables; use INCLUDE header 'name' AS column",
                        inc.kind
                    )));
                }
                let Some(alias) = &inc.alias else {
                    return Err(Error::Syntax(format!(
                        "INCLUDE header '{}' needs AS and a column name",
                        inc.key
                    )));
                };
                include_headers.push(header_name("INCLUDE header", &inc.key)?);
                cols.push(Column::new(alias.0.clone(), DataType::Text));
            }
            check_unique_columns(&cols)?;
            Some(WebhookSpec {
                is_batched,
                validate,
                typed,
                include_headers,
                dedup,
                handshake,
            })
        }
    };
    Ok(Relation {
        id,
        name: name.to_string(),
        columns: cols,
        kind: RelationKind::Table(TableSpec {
            primary_key,
            webhook,
            varchar: columns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| varchar_typmod(&c.type_name).map(|m| (i, m)))
                .collect(),
        }),
        definition: normalized(stmt),
    })
}

/// A view's columns: its query's, each keeping the relation column it
/// copies (so one declared `varchar` stays `varchar` to clients).
fn own_columns(output: &[Column]) -> Vec<Column> {
    output.to_vec()
}

/// For a column type that is PostgreSQL's `character varying`, its type
/// modifier: the length plus 4, or -1 without one.
fn varchar_typmod(type_name: &str) -> Option<i32> {
    let (base, rest) = type_name.split_once('(').unwrap_or((type_name, ""));
    if !matches!(
        base.trim(),
        "varchar" | "character varying" | "pg_catalog.varchar"
    ) {
        return None;
    }
    let length = rest.trim_end_matches(')').trim().parse::<i32>().ok();
    Some(
        length
            .filter(|n| *n > 0)
            .map_or(-1, |n| n.saturating_add(4)),
    )
}

/// Whether a VALIDATE expression can only be true when some
/// `secure_compare` is: `secure_compare(...)` itself, an AND with such an
/// operand (a signature plus a replay window, say), or an OR of such
/// operands (several signatures during a key rotation).
fn guarded(expr: &AstExpr) -> bool {
    use rivulet_sql::BinaryOperator;
    match expr {
        AstExpr::Function { name, .. } => name.as_str() == "secure_compare",
        AstExpr::Binary {
            left,
            op: BinaryOperator::And,
            right,
        } => guarded(left) || guarded(right),
        AstExpr::Binary {
            left,
            op: BinaryOperator::Or,
            right,
        } => guarded(left) && guarded(right),
        _ => false,
    }
}

/// Binds a VALIDATE expression over `headers`, the payload column (as
/// bytea) and the secret's name (as its text value).
fn bind_validate(
    secret: Option<&rivulet_sql::Ident>,
    expr: &AstExpr,
    payload: &str,
    catalog: &Catalog,
) -> Result<Validator> {
    if !guarded(expr) {
        return Err(Error::InvalidDefinition(
            "The signature verification function must be SECURE_COMPARE()".into(),
        ));
    }
    let secret: Option<Arc<Secret>> = secret
        .map(|s| {
            catalog
                .secret(s.as_str())
                .cloned()
                .ok_or_else(|| Error::UndefinedObject(format!("secret \"{s}\" does not exist")))
        })
        .transpose()?;
    let col = |name: &str, ty| ScopeColumn {
        qualifier: None,
        name: name.to_string(),
        ty,
        hidden: false,
        system: false,
        catalog_type: CatalogType::Plain,
        origin: None,
    };
    let mut scope = Scope {
        columns: vec![
            col("headers", DataType::Jsonb),
            col(payload, DataType::Bytea),
        ],
        star: None,
    };
    if let Some(s) = &secret {
        scope.columns.push(col(&s.name, DataType::Text));
    }
    let expr = Binder::new(&scope).bind_predicate(expr, "VALIDATE")?;
    Ok(Validator::new(expr, secret))
}

/// Plans a DROP: the objects to remove, dependents first, plus notices for
/// missing objects under IF EXISTS.
pub fn drop(stmt: &Statement, catalog: &Catalog) -> Result<(Vec<DropTarget>, Vec<String>)> {
    let Statement::Drop {
        kind,
        if_exists,
        names,
        cascade,
    } = stmt
    else {
        return Err(Error::InvalidDefinition("not a DROP statement".into()));
    };
    let mut targets: Vec<DropTarget> = Vec::new();
    let mut notices = Vec::new();
    for name in names {
        let bare = Catalog::resolve_name(name)?;
        if *kind == DropKind::Secret {
            if catalog.secret(bare).is_none() {
                if *if_exists {
                    notices.push(format!("secret \"{bare}\" does not exist, skipping"));
                    continue;
                }
                return Err(Error::UndefinedObject(format!(
                    "secret \"{bare}\" does not exist"
                )));
            }
            let users = catalog.tables_using_secret(bare);
            if !users.is_empty() {
                return Err(Error::DependentObjects {
                    object: format!("secret {bare}"),
                    detail: users
                        .iter()
                        .map(|t| format!("table {} depends on secret {bare}", t.name))
                        .collect::<Vec<_>>()
                        .join("\n"),
                });
            }
            targets.push(DropTarget::Secret(bare.to_string()));
            continue;
        }
        if *kind == DropKind::Subscription {
            if catalog.subscription(bare).is_none() {
                if *if_exists {
                    notices.push(format!("subscription \"{bare}\" does not exist, skipping"));
                    continue;
                }
                return Err(Error::UndefinedObject(format!(
                    "subscription \"{bare}\" does not exist"
                )));
            }
            targets.push(DropTarget::Subscription(bare.to_string()));
            continue;
        }
        let noun = match kind {
            DropKind::Table => "table",
            DropKind::View => "view",
            _ => "materialized view",
        };
        let Some(rel) = catalog.relation(bare) else {
            if *if_exists {
                notices.push(format!("{noun} \"{bare}\" does not exist, skipping"));
                continue;
            }
            return Err(Error::UndefinedTable(bare.to_string()));
        };
        if rel.kind_name() != noun {
            return Err(Error::WrongDropKind {
                message: format!("\"{bare}\" is not a {noun}"),
                hint: match rel.kind_name() {
                    "view" => "Use DROP VIEW to remove a view.",
                    "materialized view" => {
                        "Use DROP MATERIALIZED VIEW to remove a materialized view."
                    }
                    _ => "Use DROP TABLE to remove a table.",
                },
            });
        }
        let mut deps = catalog.transitive_dependents(rel.id);
        // In creation order, each once: a dependent after what it reads.
        deps.sort_by_key(|d| d.id);
        deps.dedup_by_key(|d| d.id);
        let relations = || deps.iter().chain(std::iter::once(rel));
        let subs: Vec<(Arc<Subscription>, String)> = relations()
            .flat_map(|r| {
                catalog
                    .subscriptions_of(r.id)
                    .into_iter()
                    .map(|s| (s, r.name.clone()))
            })
            .collect();
        if (!deps.is_empty() || !subs.is_empty()) && !cascade {
            // Each dependent with what it depends on directly.
            let views = deps.iter().map(|d| {
                let on = std::iter::once(rel)
                    .chain(deps.iter())
                    .find(|o| {
                        d.view().is_some_and(|v| v.references.contains(&o.id))
                            || d.plain_view().is_some_and(|v| v.references.contains(&o.id))
                    })
                    .unwrap_or(rel);
                format!(
                    "{} {} depends on {} {}",
                    d.kind_name(),
                    d.name,
                    on.kind_name(),
                    on.name
                )
            });
            let subscriptions = subs
                .iter()
                .map(|(s, on)| format!("subscription {} depends on {on}", s.name));
            return Err(Error::DependentObjects {
                object: format!("{noun} {bare}"),
                detail: views.chain(subscriptions).collect::<Vec<_>>().join("\n"),
            });
        }
        match deps.as_slice() {
            [] => {}
            [d] => notices.push(format!("drop cascades to {} {}", d.kind_name(), d.name)),
            more => notices.push(format!("drop cascades to {} other objects", more.len())),
        }
        for (s, _) in subs {
            if !targets
                .iter()
                .any(|t| matches!(t, DropTarget::Subscription(n) if *n == s.name))
            {
                targets.push(DropTarget::Subscription(s.name.clone()));
            }
        }
        // Newest first: every dependent goes before what it reads.
        for d in deps
            .iter()
            .rev()
            .cloned()
            .chain(std::iter::once(rel.clone()))
        {
            if !targets
                .iter()
                .any(|t| matches!(t, DropTarget::Relation(r) if r.id == d.id))
            {
                targets.push(DropTarget::Relation(d));
            }
        }
    }
    Ok((targets, notices))
}

/// One object a DROP removes.
#[derive(Debug, Clone)]
pub enum DropTarget {
    /// A table or view.
    Relation(Arc<Relation>),
    /// A secret, by name.
    Secret(String),
    /// A subscription, by name.
    Subscription(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(cat: &mut Catalog, sql: &str) -> Result<()> {
        let stmt = rivulet_sql::parse(sql).unwrap().remove(0);
        let id = cat.allocate_id();
        match create(&stmt, id, cat)? {
            Created::New(NewObject::Secret(s)) => cat.insert_secret(s),
            Created::New(NewObject::Relation(r)) => cat.insert_relation(*r),
            Created::New(NewObject::Subscription(s)) => cat.insert_subscription(*s),
            Created::New(NewObject::Comment {
                relation,
                attnum,
                text,
            }) => {
                cat.set_comment(relation, attnum, text.map(|t| (id, t)));
            }
            Created::Skipped(_) => {}
        }
        Ok(())
    }

    #[test]
    fn subquery_tests_in_views_become_joins() {
        let mut cat = Catalog::new();
        apply(
            &mut cat,
            "CREATE TABLE u (id INT PRIMARY KEY, name VARCHAR)",
        )
        .unwrap();
        apply(&mut cat, "CREATE TABLE o (id INT PRIMARY KEY, uid INT)").unwrap();
        apply(&mut cat, "CREATE MATERIALIZED VIEW v AS SELECT id FROM u WHERE EXISTS (SELECT 1 FROM o WHERE o.uid = u.id)").unwrap();
        let spec = cat.relation("v").and_then(|r| r.view()).unwrap();
        let plan = spec.plan.to_string();
        assert!(plan.contains("SemiJoin: [#0] = [#1]"), "{plan}");
        // The subquery's table is a source: its changes reach the view.
        assert_eq!(spec.sources.len(), 2);
    }

    #[test]
    fn system_rows_are_as_wide_as_their_relations() {
        let mut cat = Catalog::new();
        apply(
            &mut cat,
            "CREATE TABLE t (a INT, b TEXT, PRIMARY KEY (b, a))",
        )
        .unwrap();
        apply(&mut cat, "CREATE TABLE e (data JSONB)").unwrap();
        apply(
            &mut cat,
            "CREATE MATERIALIZED VIEW m AS SELECT b, count(*) AS n FROM t GROUP BY b",
        )
        .unwrap();
        apply(&mut cat, "CREATE VIEW v AS SELECT a FROM t").unwrap();
        for table in crate::SystemTable::all() {
            let width = table.relation().columns.len();
            for row in crate::system::system_rows(table, &cat) {
                assert_eq!(row.len(), width, "{:?}", table.name());
            }
        }
    }

    #[test]
    fn subscriptions_follow_risingwave_rules() {
        let stmt = |sql: &str| rivulet_sql::parse(sql).unwrap().remove(0);
        let mut cat = Catalog::new();
        apply(&mut cat, "CREATE TABLE t (v INT)").unwrap();
        apply(&mut cat, "CREATE MATERIALIZED VIEW v AS SELECT v FROM t").unwrap();
        let e = apply(&mut cat, "CREATE SUBSCRIPTION s FROM v").unwrap_err();
        assert_eq!(e.sqlstate(), "22023", "{e}");
        for bad in ["'0 seconds'", "'400 days'", "'soon'"] {
            let sql = format!("CREATE SUBSCRIPTION s FROM v WITH (retention = {bad})");
            assert_eq!(apply(&mut cat, &sql).unwrap_err().sqlstate(), "22023");
        }
        let e = apply(
            &mut cat,
            "CREATE SUBSCRIPTION s FROM nope WITH (retention = '1h')",
        );
        assert_eq!(e.unwrap_err().sqlstate(), "42P01");
        apply(
            &mut cat,
            "CREATE SUBSCRIPTION s FROM v WITH (retention = '1D')",
        )
        .unwrap();
        let s = cat.subscription("s").unwrap();
        assert_eq!(s.retention_micros, 86_400_000_000);
        assert_eq!(s.relation, cat.relation("v").unwrap().id);
        let e = apply(
            &mut cat,
            "CREATE SUBSCRIPTION s FROM t WITH (retention = '1h')",
        );
        assert_eq!(e.unwrap_err().sqlstate(), "42710");
        apply(
            &mut cat,
            "CREATE SUBSCRIPTION IF NOT EXISTS s FROM t WITH (retention = '1h')",
        )
        .unwrap();
        let e = drop(&stmt("DROP MATERIALIZED VIEW v"), &cat).unwrap_err();
        assert_eq!(e.sqlstate(), "2BP01");
        assert!(
            format!("{:?}", e).contains("subscription s depends on v"),
            "{e:?}"
        );
        let (targets, _) = drop(&stmt("DROP TABLE t CASCADE"), &cat).unwrap();
        assert!(matches!(&targets[0], DropTarget::Subscription(n) if n == "s"));
        let (targets, notices) = drop(&stmt("DROP SUBSCRIPTION IF EXISTS nope, s"), &cat).unwrap();
        assert_eq!(targets.len(), 1);
        assert_eq!(
            notices,
            vec!["subscription \"nope\" does not exist, skipping"]
        );
    }

    #[test]
    fn risingwave_rules() {
        let mut cat = Catalog::new();
        apply(&mut cat, "CREATE SECRET s WITH (backend = 'meta') AS 'v'").unwrap();
        let err = |cat: &mut Catalog, sql: &str| apply(cat, sql).unwrap_err();
        // Other columns than one JSONB take the document's fields; the raw
        // body is then `payload` in VALIDATE.
        assert_eq!(
            err(
                &mut cat,
                "CREATE TABLE t (a JSONB, b JSONB) WITH (connector = 'webhook') VALIDATE SECRET s AS secure_compare(convert_from(a, 'utf8'), s)"
            )
            .to_string(),
            "column \"a\" does not exist"
        );
        apply(&mut cat, "CREATE TABLE typed (id varchar PRIMARY KEY, n numeric) WITH (connector = 'webhook') VALIDATE SECRET s AS secure_compare(convert_from(payload, 'utf8'), s)").unwrap();
        let typed = cat.relation("typed").unwrap().table().unwrap();
        assert!(typed.webhook.as_ref().unwrap().typed);
        assert_eq!(typed.primary_key, vec![0]);
        assert_eq!(
            err(&mut cat, "CREATE TABLE t (data JSONB) WITH (connector = 'webhook') VALIDATE SECRET s AS s = 'x'").to_string(),
            "The signature verification function must be SECURE_COMPARE()"
        );
        // AND and OR are allowed where the result still needs a
        // secure_compare to be true.
        for unguarded in [
            "secure_compare(s, 'a') OR true",
            "true AND (secure_compare(s, 'a') OR now() IS NOT NULL)",
            "NOT secure_compare(s, 'a')",
        ] {
            let sql = format!("CREATE TABLE g (data JSONB) WITH (connector = 'webhook') VALIDATE SECRET s AS {unguarded}");
            assert_eq!(err(&mut cat, &sql).sqlstate(), "42P17", "{unguarded}");
        }
        for (i, guarded) in [
            "secure_compare(s, 'a') OR secure_compare(s, 'b')",
            "(secure_compare(s, 'a') OR secure_compare(s, 'b')) AND now() IS NOT NULL",
            "now() IS NOT NULL AND secure_compare(s, 'a')",
        ]
        .into_iter()
        .enumerate()
        {
            let sql = format!("CREATE TABLE g{i} (data JSONB) WITH (connector = 'webhook') VALIDATE SECRET s AS {guarded}");
            apply(&mut cat, &sql).unwrap();
        }
        assert_eq!(
            err(
                &mut cat,
                "CREATE TABLE t (data JSONB) VALIDATE AS secure_compare('a', 'b')"
            )
            .sqlstate(),
            "42P17"
        );
        assert_eq!(
            err(&mut cat, "CREATE TABLE t (data JSONB) WITH (connector = 'webhook') VALIDATE SECRET nope AS secure_compare('a', 'b')").sqlstate(),
            "42704"
        );
        apply(&mut cat, "CREATE TABLE t (data JSONB) WITH (connector = 'webhook') VALIDATE SECRET s AS secure_compare(headers->>'x-signature', encode(hmac(s, data, 'sha1'), 'hex'))").unwrap();
        let validator = cat
            .relation("t")
            .and_then(|r| r.table())
            .and_then(|t| t.webhook.as_ref())
            .and_then(|w| w.validate.as_ref())
            .expect("a webhook table with VALIDATE");
        assert_eq!(
            validator.headers_read.as_deref(),
            Some(&["x-signature".to_string()][..])
        );
        assert_eq!(err(&mut cat, "CREATE TABLE t (x int)").sqlstate(), "42P07");
        apply(&mut cat, "CREATE TABLE IF NOT EXISTS t (x int)").unwrap();
        apply(
            &mut cat,
            "CREATE MATERIALIZED VIEW v AS SELECT data->>'a' AS a FROM t",
        )
        .unwrap();
        apply(
            &mut cat,
            "CREATE MATERIALIZED VIEW v2 AS SELECT a FROM v WHERE a IS NOT NULL",
        )
        .unwrap();

        let stmt = |sql: &str| rivulet_sql::parse(sql).unwrap().remove(0);
        let e = drop(&stmt("DROP TABLE t"), &cat).unwrap_err();
        assert_eq!(e.sqlstate(), "2BP01");
        assert_eq!(
            e.to_string(),
            "cannot drop table t because other objects depend on it"
        );
        let (targets, _) = drop(&stmt("DROP TABLE t CASCADE"), &cat).unwrap();
        let names: Vec<_> = targets
            .iter()
            .map(|t| match t {
                DropTarget::Relation(r) => r.name.clone(),
                DropTarget::Secret(s) | DropTarget::Subscription(s) => s.clone(),
            })
            .collect();
        assert_eq!(names, vec!["v2", "v", "t"]);
        assert_eq!(
            drop(&stmt("DROP SECRET s"), &cat).unwrap_err().sqlstate(),
            "2BP01"
        );
        assert_eq!(
            drop(&stmt("DROP MATERIALIZED VIEW t"), &cat)
                .unwrap_err()
                .sqlstate(),
            "42809"
        );
        let (t, notices) = drop(&stmt("DROP TABLE IF EXISTS zz"), &cat).unwrap();
        assert!(t.is_empty());
        assert_eq!(notices, vec!["table \"zz\" does not exist, skipping"]);
    }
}
