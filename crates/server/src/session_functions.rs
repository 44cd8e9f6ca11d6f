//! Functions whose value comes from the session, not from rows:
//! `current_setting(name [, missing_ok])`, `set_config(name, value,
//! is_local)` and the statement's start time (`now()`,
//! `current_timestamp`, `transaction_timestamp()`, `statement_timestamp()`).
//! A statement has them replaced by constants before it is planned, the
//! way PostgreSQL evaluates them once per statement; `set_config` changes
//! the setting as it is replaced. Materialized views cannot use them: a
//! view's rows must not depend on when or by whom it was read.

use rivulet_sql::{Expr, Literal, Query, SelectItem, Statement};

use crate::error::{Error, Result};
use crate::vars::SessionVars;

/// Replaces the session functions in `q` by their values. Without `vars`
/// (describing a prepared statement), settings read as empty text and
/// `set_config` changes nothing: only the types matter then.
pub fn bind(q: &mut Query, vars: Option<&SessionVars>) -> Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let now = rivulet_expr::format_timestamptz(now);
    // An unaliased select item keeps the function's name as its column
    // name, as in PostgreSQL, though it becomes a constant.
    for item in &mut q.projection {
        if let SelectItem::Expr {
            expr,
            alias: alias @ None,
        } = item
        {
            if let Ok(Some(_)) = replacement(expr, None, "") {
                *alias = match expr {
                    Expr::Function { name, .. } => Some(name.clone()),
                    Expr::Identifier(parts) => parts.first().cloned(),
                    _ => None,
                };
            }
        }
    }
    // Off the search path (pg_dump empties it), relations in a view's
    // definition are printed with their schema, as PostgreSQL prints them.
    if vars.is_some_and(|v| {
        v.get("search_path")
            .is_ok_and(|p| !p.split(',').any(|s| s.trim().trim_matches('"') == "public"))
    }) {
        q.visit_exprs_mut(&mut |e| {
            if let Expr::Function { name, .. } = e {
                if name.as_str() == "pg_get_viewdef" {
                    *name = rivulet_sql::Ident(QUALIFIED_VIEWDEF.into());
                }
            }
        });
    }
    // pg_settings lists this session's settings.
    if let Some(vars) = vars {
        q.visit_queries_mut(&mut |sub| {
            if let Some(from) = &mut sub.from {
                settings_relation(from, vars);
            }
        });
    }
    let mut failure = None;
    q.visit_exprs_mut(&mut |e| {
        if failure.is_some() {
            return;
        }
        match replacement(e, vars, &now) {
            Ok(Some(v)) => *e = v,
            Ok(None) => {}
            Err(err) => failure = Some(err),
        }
    });
    failure.map_or(Ok(()), Err)
}

/// The columns of `pg_settings`, in order.
const SETTINGS_COLUMNS: &[&str] = &[
    "name",
    "setting",
    "unit",
    "category",
    "short_desc",
    "extra_desc",
    "context",
    "vartype",
    "source",
    "min_val",
    "max_val",
    "enumvals",
    "boot_val",
    "reset_val",
    "sourcefile",
    "sourceline",
    "pending_restart",
];

/// Replaces each `pg_settings` that `t` reads by the session's settings
/// as a VALUES list with `pg_settings`' columns.
fn settings_relation(t: &mut rivulet_sql::TableRef, vars: &SessionVars) {
    use rivulet_sql::{Ident, TableRef};
    match t {
        TableRef::Join { left, right, .. } => {
            settings_relation(left, vars);
            settings_relation(right, vars);
        }
        TableRef::Table { name, alias } => {
            let parts: Vec<&str> = name.0.iter().map(|p| p.as_str()).collect();
            if !matches!(
                parts.as_slice(),
                ["pg_settings"] | ["pg_catalog", "pg_settings"]
            ) {
                return;
            }
            let alias = alias.clone().unwrap_or_else(|| Ident("pg_settings".into()));
            *t = TableRef::Derived {
                query: Box::new(settings_values(vars)),
                alias,
                columns: SETTINGS_COLUMNS
                    .iter()
                    .map(|c| Ident((*c).into()))
                    .collect(),
            };
        }
        TableRef::Derived { .. } | TableRef::Function { .. } => {}
    }
}

/// The session's settings as a VALUES list of `pg_settings` rows.
fn settings_values(vars: &SessionVars) -> Query {
    let text = |s: &str| cast(Some(s.to_string()), "text");
    let null = |ty: &str| cast(None, ty);
    let rows: Vec<Query> = vars
        .settings()
        .into_iter()
        .map(|s| {
            let unit = s.name.ends_with("_timeout").then_some("ms");
            let source = if s.value == s.default {
                "default"
            } else {
                "session"
            };
            let items = vec![
                text(s.name),
                text(&s.value),
                unit.map_or_else(|| null("text"), text),
                text("Rivulet session"),
                null("text"),
                null("text"),
                text(if s.settable { "user" } else { "internal" }),
                text(s.vartype),
                text(source),
                null("text"),
                null("text"),
                null("text[]"),
                text(s.default),
                text(s.default),
                null("text"),
                null("integer"),
                cast(Some("false".into()), "boolean"),
            ];
            Query::select(
                items
                    .into_iter()
                    .map(|expr| SelectItem::Expr { expr, alias: None })
                    .collect(),
                None,
            )
        })
        .collect();
    let mut rows = rows.into_iter();
    let mut first = rows
        .next()
        .unwrap_or_else(|| Query::select(Vec::new(), None));
    first.unions = rows.map(|r| (true, r)).collect();
    first
}

/// `pg_get_viewdef` printing schema-qualified relation names.
const QUALIFIED_VIEWDEF: &str = rivulet_catalog::QUALIFIED_VIEWDEF;

/// Applies [`bind`] to the queries a statement runs.
pub fn bind_statement(stmt: &mut Statement, vars: Option<&SessionVars>) -> Result<()> {
    match stmt {
        Statement::Query(q) => bind(q, vars),
        Statement::CopyTo {
            source: rivulet_sql::CopySource::Query(q),
            ..
        } => bind(q, vars),
        _ => Ok(()),
    }
}

fn cast(value: Option<String>, ty: &str) -> Expr {
    Expr::Cast {
        expr: Box::new(Expr::Literal(value.map_or(Literal::Null, Literal::String))),
        type_name: ty.to_string(),
    }
}

/// A literal string argument (a bound parameter is one cast to text),
/// or 0A000.
fn text_arg<'a>(args: &'a [Expr], i: usize, f: &str) -> Result<&'a str> {
    match args.get(i).map(uncast) {
        Some(Expr::Literal(Literal::String(s))) => Ok(s),
        _ => Err(Error::NotSupported(format!(
            "{f}() takes constant arguments here"
        ))),
    }
}

/// An argument without its casts to a string type (`$1::varchar`, and a
/// bound parameter's cast to text).
fn uncast(e: &Expr) -> &Expr {
    match e {
        Expr::Cast { expr, type_name }
            if matches!(
                type_name.to_ascii_lowercase().as_str(),
                "text" | "varchar" | "character varying" | "unknown"
            ) =>
        {
            uncast(expr)
        }
        other => other,
    }
}

fn replacement(e: &Expr, vars: Option<&SessionVars>, now: &str) -> Result<Option<Expr>> {
    let (name, args) = match e {
        Expr::Function { name, args, .. } => (name.as_str(), args.as_slice()),
        Expr::Identifier(parts) if parts.len() == 1 => (parts[0].as_str(), &[][..]),
        _ => return Ok(None),
    };
    Ok(Some(match (name, args.len(), e) {
        ("now" | "transaction_timestamp" | "statement_timestamp", 0, Expr::Function { .. })
        | ("current_timestamp" | "localtimestamp", 0, _) => {
            cast(Some(now.to_string()), "timestamptz")
        }
        // The schemas of the session's search path that exist (public,
        // or none once pg_dump empties it), with the implicit pg_catalog.
        ("current_schemas", 1, Expr::Function { .. }) if vars.is_some() => {
            let implicit = match args.first() {
                Some(Expr::Literal(Literal::Boolean(b))) => *b,
                _ => return Ok(None),
            };
            let path = vars.map_or(Ok(String::new()), |v| v.get("search_path"))?;
            let mut schemas: Vec<&str> = Vec::new();
            if implicit {
                schemas.push("pg_catalog");
            }
            if path
                .split(',')
                .any(|s| s.trim().trim_matches('"') == "public")
            {
                schemas.push("public");
            }
            cast(Some(format!("{{{}}}", schemas.join(","))), "text[]")
        }
        ("current_date", 0, _) => Expr::Cast {
            expr: Box::new(cast(Some(now.to_string()), "timestamptz")),
            type_name: "date".into(),
        },
        // Described before its parameters are known (`current_setting($1)`):
        // only the type matters, and the call is replaced again once they
        // are.
        ("current_setting" | "set_config", _, Expr::Function { .. })
            if vars.is_none() && matches!(args.first().map(uncast), Some(Expr::Parameter(_))) =>
        {
            cast(Some(String::new()), "text")
        }
        // With arguments that vary by row (`set_config(name, ...) FROM
        // pg_settings`) the call is left to the binder.
        ("current_setting" | "set_config", _, _) if text_arg(args, 0, name).is_err() => {
            return Ok(None)
        }
        ("current_setting", 1 | 2, Expr::Function { .. }) => {
            let setting = text_arg(args, 0, "current_setting")?;
            let missing_ok = matches!(args.get(1), Some(Expr::Literal(Literal::Boolean(true))));
            let value = match vars {
                None => Some(String::new()),
                Some(v) => match v.get(setting) {
                    Ok(value) => Some(value),
                    Err(_) if missing_ok => None,
                    Err(e) => return Err(e),
                },
            };
            cast(value, "text")
        }
        ("set_config", 3, Expr::Function { .. }) => {
            let setting = text_arg(args, 0, "set_config")?;
            let value = text_arg(args, 1, "set_config")?;
            let shown = match vars {
                None => String::new(),
                Some(v) => {
                    v.set(setting, &[Literal::String(value.to_string())])?;
                    v.get(setting)?
                }
            };
            cast(Some(shown), "text")
        }
        _ => return Ok(None),
    }))
}

/// Whether `q` calls a session function (not allowed in a view).
pub fn uses_session_functions(q: &Query) -> Option<String> {
    let mut copy = q.clone();
    let mut found = None;
    copy.visit_exprs_mut(&mut |e| {
        if found.is_none() {
            if let Ok(Some(_)) = replacement(e, None, "") {
                found = Some(match e {
                    Expr::Function { name, .. } => name.as_str().to_string(),
                    Expr::Identifier(parts) => parts[0].as_str().to_string(),
                    _ => String::new(),
                });
            }
        }
    });
    found
}
