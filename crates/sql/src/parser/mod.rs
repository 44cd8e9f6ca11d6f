//! Statement rules. [`parse`] is the entry point.

mod expr;
mod lexer;

use nom::Err;

use lexer::{
    any_word, depth, fail, fatal, ident, kw, peek_kw, skip, string_lit, sym, token_at, too_deep,
    DepthGuard, PErr, PResult, MAX_TREE_DEPTH,
};

use crate::ast::{
    ColumnDef, CommentOn, CopyOptions, CopySource, Cte, DropKind, Expr, Ident, Include, JoinKind,
    Literal, ObjectName, OrderByExpr, Query, SelectItem, SetOp, ShowKind, Since, SqlOption,
    Statement, TableRef,
};
use crate::{ParseError, Result};

/// Parses a query string of `;`-separated statements. Empty statements are
/// skipped. Nothing is returned unless every statement parses, so a syntax
/// error anywhere means nothing runs (as in PostgreSQL).
pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    let mut out = Vec::new();
    let mut i = sql;
    loop {
        i = skip(i);
        if let Some(rest) = i.strip_prefix(';') {
            i = rest;
            continue;
        }
        if i.is_empty() {
            return Ok(out);
        }
        if i.starts_with("/*") {
            return Err(ParseError {
                message: "unterminated /* comment".into(),
                offset: sql.len() - i.len(),
                too_deep: false,
            });
        }
        let (rest, stmt) = statement(i).map_err(|e| to_parse_error(sql, e))?;
        out.push(stmt);
        let rest = skip(rest);
        if !rest.is_empty() && !rest.starts_with(';') {
            return Err(syntax_error(sql, rest));
        }
        i = rest;
    }
}

/// Parses a single standalone expression (used by tests and tools).
pub fn parse_expr(sql: &str) -> Result<Expr> {
    let (rest, e) = expr::expr(sql).map_err(|e| to_parse_error(sql, e))?;
    if !skip(rest).is_empty() {
        return Err(syntax_error(sql, rest));
    }
    Ok(e)
}

fn syntax_error(sql: &str, at: &str) -> ParseError {
    let at = skip(at);
    let message = if at.is_empty() {
        "syntax error at end of input".to_string()
    } else {
        format!("syntax error at or near \"{}\"", token_at(at))
    };
    ParseError {
        message,
        offset: sql.len() - at.len(),
        too_deep: false,
    }
}

fn to_parse_error(sql: &str, e: Err<PErr<'_>>) -> ParseError {
    match e {
        Err::Error(p) | Err::Failure(p) => match p.message {
            Some(message) => ParseError {
                message,
                offset: sql.len() - skip(p.input).len(),
                too_deep: p.too_deep,
            },
            None => syntax_error(sql, p.input),
        },
        Err::Incomplete(_) => syntax_error(sql, ""),
    }
}

/// Turns a recoverable error into a failure, so `alt`-style dispatch stops
/// once a statement's leading keywords have matched.
fn commit<T>(r: PResult<'_, T>) -> PResult<'_, T> {
    r.map_err(|e| match e {
        Err::Error(p) => Err::Failure(p),
        other => other,
    })
}

/// statement = create | drop | insert | delete | update | select | show | set | reset
///           | begin | commit | rollback | flush
fn statement(i: &str) -> PResult<'_, Statement> {
    if let Ok((r, _)) = kw("create")(i) {
        return commit(create(r));
    }
    if let Ok((r, _)) = kw("drop")(i) {
        return commit(drop(r));
    }
    if let Ok((r, _)) = kw("insert")(i) {
        return commit(insert(r));
    }
    if let Ok((r, _)) = kw("delete")(i) {
        return commit(delete(r));
    }
    if let Ok((r, _)) = kw("truncate")(i) {
        return commit(truncate(r));
    }
    if let Ok((r, _)) = kw("update")(i) {
        return commit(update(r));
    }
    if let Ok((r, _)) = kw("explain")(i) {
        let _guard = DepthGuard::enter(i)?;
        let (r, inner) = commit(statement(r))?;
        return Ok((r, Statement::Explain(Box::new(inner))));
    }
    if starts_query(i) {
        let (r, q) = commit(query(i))?;
        return Ok((r, Statement::Query(q)));
    }
    if let Ok((r, _)) = kw("show")(i) {
        return commit(show(r));
    }
    if let Ok((r, _)) = kw("set")(i) {
        return commit(set(r));
    }
    if let Ok((r, _)) = kw("savepoint")(i) {
        let (r, name) = commit(any_word(r))?;
        return Ok((r, Statement::Savepoint(name)));
    }
    if let Ok((r, _)) = kw("release")(i) {
        let r = kw("savepoint")(r).map_or(r, |(r, _)| r);
        let (r, name) = commit(any_word(r))?;
        return Ok((r, Statement::ReleaseSavepoint(name)));
    }
    if let Ok((r, _)) = kw("lock")(i) {
        return lock(r);
    }
    if let Ok((r, _)) = kw("discard")(i) {
        let (r, what) = commit(any_word(r))?;
        let what = what.as_str().to_ascii_uppercase();
        if !matches!(
            what.as_str(),
            "ALL" | "PLANS" | "SEQUENCES" | "TEMP" | "TEMPORARY"
        ) {
            return fail(skip(r));
        }
        return Ok((r, Statement::Discard(what)));
    }
    if let Ok((r, _)) = kw("deallocate")(i) {
        let r = kw("prepare")(r).map_or(r, |(r, _)| r);
        if let Ok((r, _)) = kw("all")(r) {
            return Ok((r, Statement::Deallocate(None)));
        }
        let (r, name) = commit(any_word(r))?;
        return Ok((r, Statement::Deallocate(Some(name))));
    }
    if let Ok((r, _)) = kw("prepare")(i) {
        let (r, name) = commit(ident(r))?;
        let (mut r, types) = match sym("(")(r) {
            Ok((mut r2, _)) => {
                let mut types = Vec::new();
                loop {
                    let (r3, t) = commit(expr::type_name(r2))?;
                    types.push(t);
                    if let Ok((r4, _)) = sym(",")(r3) {
                        r2 = r4;
                        continue;
                    }
                    break (commit(sym(")")(r3))?.0, types);
                }
            }
            Err(_) => (r, Vec::new()),
        };
        r = commit(kw("as")(r))?.0;
        let _guard = DepthGuard::enter(i)?;
        let (r, inner) = commit(statement(r))?;
        return Ok((
            r,
            Statement::Prepare {
                name,
                types,
                statement: Box::new(inner),
            },
        ));
    }
    if let Ok((r, _)) = kw("execute")(i) {
        let (r, name) = commit(ident(r))?;
        let (r, args) = match sym("(")(r) {
            Ok((r2, _)) => {
                commit(expr_list(r2)).and_then(|(r3, args)| Ok((commit(sym(")")(r3))?.0, args)))?
            }
            Err(_) => (r, Vec::new()),
        };
        return Ok((r, Statement::Execute { name, args }));
    }
    if let Ok((r, _)) = kw("declare")(i) {
        return commit(declare(r));
    }
    if let Ok((r, _)) = kw("fetch")(i) {
        return commit(fetch(r));
    }
    if let Ok((r, _)) = kw("close")(i) {
        if let Ok((r, _)) = kw("all")(r) {
            return Ok((r, Statement::CloseCursor(None)));
        }
        let (r, name) = commit(ident(r))?;
        return Ok((r, Statement::CloseCursor(Some(name))));
    }
    if let Ok((r, _)) = kw("copy")(i) {
        return commit(copy(r));
    }
    if let Ok((r, _)) = kw("comment")(i) {
        return comment(r);
    }
    if let Ok((r, _)) = kw("refresh")(i) {
        let (r, _) = commit(kw("materialized")(r))?;
        let (r, _) = commit(kw("view")(r))?;
        let r = kw("concurrently")(r).map_or(r, |(r, _)| r);
        let (r, name) = commit(object_name(r))?;
        return Ok((r, Statement::RefreshMaterializedView(name)));
    }
    if let Ok((r, _)) = kw("reset")(i) {
        let (r, name) = commit(any_word(r))?;
        return Ok((r, Statement::ResetVariable { name }));
    }
    for (word, stmt) in [
        ("begin", Statement::Begin),
        ("commit", Statement::Commit),
        ("end", Statement::Commit),
        ("rollback", Statement::Rollback),
        ("abort", Statement::Rollback),
        ("flush", Statement::Flush),
    ] {
        if let Ok((r, _)) = kw(word)(i) {
            let r = kw("transaction")(r)
                .or_else(|_| kw("work")(r))
                .map_or(r, |(r, _)| r);
            if matches!(stmt, Statement::Rollback) {
                if let Ok((r, _)) = kw("to")(r) {
                    let r = kw("savepoint")(r).map_or(r, |(r, _)| r);
                    let (r, name) = commit(any_word(r))?;
                    return Ok((r, Statement::RollbackToSavepoint(name)));
                }
            }
            // Transaction modes (`BEGIN ISOLATION LEVEL ...`, `READ ONLY`)
            // are accepted and have no effect.
            let r = if matches!(stmt, Statement::Begin) {
                transaction_modes(r).0
            } else {
                r
            };
            return Ok((r, stmt));
        }
    }
    if let Ok((r, _)) = kw("start")(i) {
        let (r, _) = commit(kw("transaction")(r))?;
        return Ok((transaction_modes(r).0, Statement::StartTransaction));
    }
    fail(skip(i))
}

/// order_by_list = key (',' key)*
/// key = expr [ASC | DESC] [NULLS (FIRST | LAST)]
#[inline(never)]
pub(crate) fn order_by_list(mut r: &str) -> PResult<'_, Vec<OrderByExpr>> {
    let mut list = Vec::new();
    loop {
        let (r2, e) = expr::expr(r)?;
        let (r2, desc) = if let Ok((r3, _)) = kw("desc")(r2) {
            (r3, true)
        } else if let Ok((r3, _)) = kw("asc")(r2) {
            (r3, false)
        } else {
            (r2, false)
        };
        let (r2, nulls_first) = match kw("nulls")(r2) {
            Ok((r3, _)) => match kw("first")(r3) {
                Ok((r4, _)) => (r4, Some(true)),
                Err(_) => (kw("last")(r3)?.0, Some(false)),
            },
            Err(_) => (r2, None),
        };
        list.push(OrderByExpr {
            expr: e,
            desc,
            nulls_first,
        });
        match sym(",")(r2) {
            Ok((r3, _)) => r = r3,
            Err(_) => return Ok((r2, list)),
        }
    }
}

/// if_not_exists = (IF NOT EXISTS)?
fn if_not_exists(i: &str) -> PResult<'_, bool> {
    match kw("if")(i) {
        Ok((r, _)) => {
            let (r, _) = kw("not")(r)?;
            let (r, _) = kw("exists")(r)?;
            Ok((r, true))
        }
        Err(_) => Ok((i, false)),
    }
}

/// object_name = ident ('.' ident){0,2}
fn object_name(i: &str) -> PResult<'_, ObjectName> {
    let (mut r, first) = ident(i)?;
    let mut parts = vec![first];
    while parts.len() < 3 {
        match sym(".")(r) {
            Ok((r2, _)) => {
                let (r2, p) = ident(r2)?;
                parts.push(p);
                r = r2;
            }
            Err(_) => break,
        }
    }
    Ok((r, ObjectName(parts)))
}

/// create = CREATE (SECRET ... | TABLE ... | MATERIALIZED VIEW ...)
fn create(i: &str) -> PResult<'_, Statement> {
    if let Ok((r, _)) = kw("secret")(i) {
        return create_secret(r);
    }
    if let Ok((r, _)) = kw("table")(i) {
        return create_table(r);
    }
    if let Ok((r, _)) = kw("subscription")(i) {
        return create_subscription(r);
    }
    if let Ok((r, _)) = kw("view")(i) {
        let (r, if_not_exists) = if_not_exists(r)?;
        let (r, name) = object_name(r)?;
        let (r, columns) = column_aliases(r)?;
        let (r, _) = kw("as")(r)?;
        let (r, query) = query(r)?;
        return Ok((
            r,
            Statement::CreateView {
                name,
                if_not_exists,
                columns,
                query,
            },
        ));
    }
    if let Ok((r, _)) = kw("materialized")(i) {
        let (r, _) = kw("view")(r)?;
        let (r, if_not_exists) = if_not_exists(r)?;
        let (r, name) = object_name(r)?;
        let (r, _) = kw("as")(r)?;
        let (r, query) = query(r)?;
        return Ok((
            r,
            Statement::CreateMaterializedView {
                name,
                if_not_exists,
                query,
            },
        ));
    }
    fail(skip(i))
}

/// create_subscription = SUBSCRIPTION [IF NOT EXISTS] name FROM name [WITH options]
#[inline(never)]
fn create_subscription(i: &str) -> PResult<'_, Statement> {
    let (r, if_not_exists) = if_not_exists(i)?;
    let (r, name) = object_name(r)?;
    let (r, _) = kw("from")(r)?;
    let (r, from) = object_name(r)?;
    let (r, with) = with_options(r)?;
    Ok((
        r,
        Statement::CreateSubscription {
            name,
            if_not_exists,
            from,
            with,
        },
    ))
}

/// create_secret = SECRET [IF NOT EXISTS] name [WITH options] AS string
fn create_secret(i: &str) -> PResult<'_, Statement> {
    let (r, if_not_exists) = if_not_exists(i)?;
    let (r, name) = object_name(r)?;
    let (r, with) = with_options(r)?;
    let (r, _) = kw("as")(r)?;
    let (r, value) = string_lit(r)?;
    Ok((
        r,
        Statement::CreateSecret {
            name,
            if_not_exists,
            with,
            value,
        },
    ))
}

/// comment = COMMENT ON (TABLE | VIEW | MATERIALIZED VIEW | COLUMN) name
///           IS (string | NULL)
#[inline(never)]
fn comment(i: &str) -> PResult<'_, Statement> {
    let (r, _) = commit(kw("on")(i))?;
    let (r, on) = if let Ok((r, _)) = kw("table")(r) {
        (r, CommentOn::Table)
    } else if let Ok((r, _)) = kw("view")(r) {
        (r, CommentOn::View)
    } else if let Ok((r, _)) = kw("column")(r) {
        (r, CommentOn::Column)
    } else {
        let (r, _) = commit(kw("materialized")(r))?;
        let (r, _) = commit(kw("view")(r))?;
        (r, CommentOn::MaterializedView)
    };
    let (r, name) = commit(object_name(r))?;
    let (r, _) = commit(kw("is")(r))?;
    let (r, text) = match kw("null")(r) {
        Ok((r, _)) => (r, None),
        Err(_) => {
            let (r, t) = commit(string_lit(r))?;
            (r, Some(t))
        }
    };
    Ok((r, Statement::Comment { on, name, text }))
}

/// lock = LOCK [TABLE] [ONLY] name ['*'] (',' [ONLY] name ['*'])*
///        [IN lock_mode MODE] [NOWAIT]
fn lock(i: &str) -> PResult<'_, Statement> {
    let mut r = kw("table")(i).map_or(i, |(r, _)| r);
    let mut names = Vec::new();
    loop {
        r = kw("only")(r).map_or(r, |(r, _)| r);
        let (r2, name) = commit(object_name(r))?;
        names.push(name);
        r = sym("*")(r2).map_or(r2, |(r, _)| r);
        match sym(",")(r) {
            Ok((r2, _)) => r = r2,
            Err(_) => break,
        }
    }
    if let Ok((r2, _)) = kw("in")(r) {
        // ACCESS SHARE, ROW EXCLUSIVE, SHARE UPDATE EXCLUSIVE, ...
        let mut r3 = r2;
        let mut words = 0;
        while kw("mode")(r3).is_err() {
            let word = ["access", "row", "share", "update", "exclusive"]
                .into_iter()
                .find_map(|w| kw(w)(r3).ok());
            match word {
                Some((r4, _)) if words < 3 => {
                    r3 = r4;
                    words += 1;
                }
                _ => return fail(skip(r3)),
            }
        }
        let (r4, _) = kw("mode")(r3)?;
        r = r4;
    }
    r = kw("nowait")(r).map_or(r, |(r, _)| r);
    Ok((r, Statement::Lock(names)))
}

/// create_table = TABLE [IF NOT EXISTS] name '(' column_def (',' column_def)*
///                [',' PRIMARY KEY '(' ident ')'] ')' [WITH options]
///                [VALIDATE [SECRET ident] AS expr]
fn create_table(i: &str) -> PResult<'_, Statement> {
    let (r, if_not_exists) = if_not_exists(i)?;
    let (r, name) = object_name(r)?;
    let (mut r, _) = sym("(")(r)?;
    let mut columns: Vec<ColumnDef> = Vec::new();
    let mut primary_key: Vec<Ident> = Vec::new();
    loop {
        if let Ok((r2, _)) = kw("primary")(r) {
            if !primary_key.is_empty() {
                return fatal(
                    skip(r),
                    format!("multiple primary keys for table \"{name}\" are not allowed"),
                );
            }
            let (r2, _) = kw("key")(r2)?;
            let (r2, _) = sym("(")(r2)?;
            let mut r3 = r2;
            loop {
                let (r4, col) = ident(r3)?;
                match columns.iter().find(|c| c.name == col) {
                    Some(_) => primary_key.push(col),
                    None => {
                        return fatal(
                            skip(r3),
                            format!("column \"{col}\" named in key does not exist"),
                        )
                    }
                }
                match sym(",")(r4) {
                    Ok((r5, _)) => r3 = r5,
                    Err(_) => {
                        r3 = r4;
                        break;
                    }
                }
            }
            let (r2, _) = sym(")")(r3)?;
            r = r2;
        } else {
            let (r2, col) = column_def(r)?;
            columns.push(col);
            r = r2;
        }
        match sym(",")(r) {
            Ok((r2, _)) => r = r2,
            Err(_) => break,
        }
    }
    let (mut r, _) = sym(")")(r)?;
    let mut include = Vec::new();
    while let Ok((r2, _)) = kw("include")(r) {
        let (r2, kind) = ident(r2)?;
        let (r2, key) = string_lit(r2)?;
        let (r2, alias) = match kw("as")(r2) {
            Ok((r3, _)) => {
                let (r3, a) = ident(r3)?;
                (r3, Some(a))
            }
            Err(_) => (r2, None),
        };
        include.push(Include { kind, key, alias });
        r = r2;
    }
    let (r, with) = with_options(r)?;
    let (r, validate) = match kw("validate")(r) {
        Ok((r, _)) => {
            let (r, secret) = match kw("secret")(r) {
                Ok((r, _)) => {
                    let (r, s) = ident(r)?;
                    (r, Some(s))
                }
                Err(_) => (r, None),
            };
            let (r, _) = kw("as")(r)?;
            let (r, e) = expr::expr(r)?;
            (r, Some((secret, e)))
        }
        Err(_) => (r, None),
    };
    Ok((
        r,
        Statement::CreateTable {
            name,
            if_not_exists,
            columns,
            primary_key,
            include,
            with,
            validate,
        },
    ))
}

/// column_def = ident type_name [PRIMARY KEY] [NOT NULL | NULL]
fn column_def(i: &str) -> PResult<'_, ColumnDef> {
    let (r, name) = ident(i)?;
    let (mut r, type_name) = expr::type_name(r)?;
    let mut primary_key = false;
    let mut not_null = false;
    let mut unsupported = None;
    loop {
        if let Ok((r2, _)) = kw("primary")(r) {
            let (r2, _) = kw("key")(r2)?;
            primary_key = true;
            r = r2;
        } else if let Ok((r2, _)) = kw("not")(r) {
            let (r2, _) = kw("null")(r2)?;
            not_null = true;
            r = r2;
        } else if let Ok((r2, _)) = kw("null")(r) {
            r = r2;
        } else if let Ok((r2, what)) = unsupported_column_option(r) {
            unsupported.get_or_insert(what);
            r = r2;
        } else {
            break;
        }
    }
    Ok((
        r,
        ColumnDef {
            name,
            type_name,
            primary_key,
            not_null,
            unsupported,
        },
    ))
}

/// The column options Rivulet parses only to refuse by name: `DEFAULT
/// expr`, `UNIQUE`, `CHECK (expr)`, `GENERATED ALWAYS AS (expr) STORED`
/// and RisingWave's `AS expr`.
#[inline(never)]
fn unsupported_column_option(i: &str) -> PResult<'_, &'static str> {
    if let Ok((r, _)) = kw("default")(i) {
        let (r, _) = expr::expr(r)?;
        return Ok((r, "DEFAULT"));
    }
    if let Ok((r, _)) = kw("unique")(i) {
        return Ok((r, "UNIQUE"));
    }
    if let Ok((r, _)) = kw("check")(i) {
        let (r, _) = sym("(")(r)?;
        let (r, _) = expr::expr(r)?;
        let (r, _) = sym(")")(r)?;
        return Ok((r, "CHECK"));
    }
    if let Ok((r, _)) = kw("generated")(i) {
        let (r, _) = kw("always")(r)?;
        let (r, _) = kw("as")(r)?;
        let (r, _) = sym("(")(r)?;
        let (r, _) = expr::expr(r)?;
        let (r, _) = sym(")")(r)?;
        let r = kw("stored")(r).map_or(r, |(r, _)| r);
        return Ok((r, "generated column"));
    }
    if let Ok((r, _)) = kw("as")(i) {
        let (r, _) = expr::expr(r)?;
        return Ok((r, "generated column"));
    }
    fail(i)
}

/// with_options = (WITH '(' option (',' option)* ','? ')')?
/// option = word ('.' word)* '=' literal
fn with_options(i: &str) -> PResult<'_, Vec<SqlOption>> {
    let Ok((r, _)) = kw("with")(i) else {
        return Ok((i, Vec::new()));
    };
    let (mut r, _) = sym("(")(r)?;
    let mut opts = Vec::new();
    loop {
        if let Ok((r2, _)) = sym(")")(r) {
            return Ok((r2, opts));
        }
        let (r2, mut name) = any_word(r)?;
        let mut r2 = r2;
        while let Ok((r3, _)) = sym(".")(r2) {
            let (r3, part) = any_word(r3)?;
            name = Ident(format!("{}.{}", name.0, part.0));
            r2 = r3;
        }
        let (r2, _) = sym("=")(r2)?;
        let (r2, value) = option_value(r2)?;
        opts.push(SqlOption { name, value });
        r = match sym(",")(r2) {
            Ok((r3, _)) => r3,
            Err(_) => {
                let (r3, _) = sym(")")(r2)?;
                return Ok((r3, opts));
            }
        };
    }
}

/// option_value = string | number | true | false | word
fn option_value(i: &str) -> PResult<'_, Literal> {
    if let Ok((r, s)) = string_lit(i) {
        return Ok((r, Literal::String(s)));
    }
    if let Ok((r, n)) = lexer::number_lit(i) {
        return Ok((r, Literal::Number(n)));
    }
    if let Ok((r, _)) = kw("true")(i) {
        return Ok((r, Literal::Boolean(true)));
    }
    if let Ok((r, _)) = kw("false")(i) {
        return Ok((r, Literal::Boolean(false)));
    }
    let (r, w) = any_word(i)?;
    Ok((r, Literal::String(w.0)))
}

/// drop = DROP (TABLE | MATERIALIZED VIEW | SECRET) [IF EXISTS]
///        name (',' name)* [CASCADE | RESTRICT]
fn drop(i: &str) -> PResult<'_, Statement> {
    let (r, kind) = if let Ok((r, _)) = kw("table")(i) {
        (r, DropKind::Table)
    } else if let Ok((r, _)) = kw("secret")(i) {
        (r, DropKind::Secret)
    } else if let Ok((r, _)) = kw("subscription")(i) {
        (r, DropKind::Subscription)
    } else if let Ok((r, _)) = kw("view")(i) {
        (r, DropKind::View)
    } else {
        let (r, _) = kw("materialized")(i)?;
        let (r, _) = kw("view")(r)?;
        (r, DropKind::MaterializedView)
    };
    let (r, if_exists) = match kw("if")(r) {
        Ok((r, _)) => (kw("exists")(r)?.0, true),
        Err(_) => (r, false),
    };
    let (mut r, first) = object_name(r)?;
    let mut names = vec![first];
    while let Ok((r2, _)) = sym(",")(r) {
        let (r2, n) = object_name(r2)?;
        names.push(n);
        r = r2;
    }
    let (r, cascade) = if let Ok((r, _)) = kw("cascade")(r) {
        (r, true)
    } else if let Ok((r, _)) = kw("restrict")(r) {
        (r, false)
    } else {
        (r, false)
    };
    Ok((
        r,
        Statement::Drop {
            kind,
            if_exists,
            names,
            cascade,
        },
    ))
}

/// returning = [RETURNING select_item (',' select_item)*]
#[inline(never)]
fn returning(i: &str) -> PResult<'_, Vec<SelectItem>> {
    match kw("returning")(i) {
        Ok((r, _)) => {
            let (mut r, first) = commit(select_item(r))?;
            let mut items = vec![first];
            while let Ok((r2, _)) = sym(",")(r) {
                let (r2, item) = commit(select_item(r2))?;
                items.push(item);
                r = r2;
            }
            Ok((r, items))
        }
        Err(_) => Ok((i, Vec::new())),
    }
}

/// insert = INSERT INTO name ['(' ident (',' ident)* ')']
///          (VALUES row (',' row)* | query)
/// row = '(' expr (',' expr)* ')'
fn insert(i: &str) -> PResult<'_, Statement> {
    let (r, _) = kw("into")(i)?;
    let (r, table) = object_name(r)?;
    let (mut r, columns) = match sym("(")(r) {
        Ok((mut r, _)) => {
            let mut cols = Vec::new();
            loop {
                let (r2, c) = ident(r)?;
                cols.push(c);
                match sym(",")(r2) {
                    Ok((r3, _)) => r = r3,
                    Err(_) => {
                        let (r3, _) = sym(")")(r2)?;
                        break (r3, cols);
                    }
                }
            }
        }
        Err(_) => (r, Vec::new()),
    };
    r = match kw("values")(r) {
        Ok((r, _)) => r,
        Err(_) => {
            let (r, query) = query(r)?;
            let (r, returning) = returning(r)?;
            return Ok((
                r,
                Statement::InsertSelect {
                    table,
                    columns,
                    query: Box::new(query),
                    returning,
                },
            ));
        }
    };
    let mut rows = Vec::new();
    loop {
        let (r2, _) = sym("(")(r)?;
        let (r2, row) = expr_list(r2)?;
        let (r2, _) = sym(")")(r2)?;
        rows.push(row);
        match sym(",")(r2) {
            Ok((r3, _)) => r = r3,
            Err(_) => {
                let (r2, returning) = returning(r2)?;
                return Ok((
                    r2,
                    Statement::Insert {
                        table,
                        columns,
                        rows,
                        returning,
                    },
                ));
            }
        }
    }
}

/// expr_list = expr (',' expr)*
fn expr_list(i: &str) -> PResult<'_, Vec<Expr>> {
    let (mut r, first) = expr::expr(i)?;
    let mut out = vec![first];
    while let Ok((r2, _)) = sym(",")(r) {
        let (r2, e) = expr::expr(r2)?;
        out.push(e);
        r = r2;
    }
    Ok((r, out))
}

/// truncate = TRUNCATE [TABLE] name (',' name)* [CONTINUE IDENTITY |
///            RESTART IDENTITY] [RESTRICT]
fn truncate(i: &str) -> PResult<'_, Statement> {
    let mut r = kw("table")(i).map_or(i, |(r, _)| r);
    let mut tables = Vec::new();
    loop {
        let (r2, t) = object_name(r)?;
        tables.push(t);
        match sym(",")(r2) {
            Ok((r3, _)) => r = r3,
            Err(_) => {
                r = r2;
                break;
            }
        }
    }
    // Rivulet has no sequences to restart, and nothing references a
    // table but its views (which a TRUNCATE empties with it).
    for (a, b) in [("continue", "identity"), ("restart", "identity")] {
        if let Ok((r2, _)) = kw(a)(r) {
            r = kw(b)(r2)?.0;
        }
    }
    let r = kw("restrict")(r).map_or(r, |(r, _)| r);
    Ok((r, Statement::Truncate(tables)))
}

/// delete = DELETE FROM name [WHERE expr]
fn delete(i: &str) -> PResult<'_, Statement> {
    let (r, _) = kw("from")(i)?;
    let (r, table) = object_name(r)?;
    let (r, selection) = opt_where(r)?;
    Ok((r, Statement::Delete { table, selection }))
}

/// opt_where = [WHERE expr]
fn opt_where(i: &str) -> PResult<'_, Option<Expr>> {
    match kw("where")(i) {
        Ok((r, _)) => {
            let (r, e) = expr::expr(r)?;
            Ok((r, Some(e)))
        }
        Err(_) => Ok((i, None)),
    }
}

/// update = UPDATE name SET assignment (',' assignment)* [WHERE expr]
/// assignment = ident '=' expr | '(' ident (',' ident)* ')' '=' '(' expr_list ')'
fn update(i: &str) -> PResult<'_, Statement> {
    let (r, table) = object_name(i)?;
    let (mut r, _) = kw("set")(r)?;
    let mut assignments = Vec::new();
    loop {
        if let Ok((r2, _)) = sym("(")(r) {
            let (r2, first) = ident(r2)?;
            let mut cols = vec![first];
            let mut r2 = r2;
            while let Ok((r3, _)) = sym(",")(r2) {
                let (r3, c) = ident(r3)?;
                cols.push(c);
                r2 = r3;
            }
            let (r2, _) = sym(")")(r2)?;
            let (r2, _) = sym("=")(r2)?;
            let (r2, _) = sym("(")(r2)?;
            let (r2, values) = expr_list(r2)?;
            let (r2, _) = sym(")")(r2)?;
            if values.len() != cols.len() {
                return fatal(r2, "number of columns does not match number of values");
            }
            assignments.extend(cols.into_iter().zip(values));
            r = r2;
        } else {
            let (r2, col) = ident(r)?;
            let (r2, _) = sym("=")(r2)?;
            let (r2, e) = expr::expr(r2)?;
            assignments.push((col, e));
            r = r2;
        }
        match sym(",")(r) {
            Ok((r2, _)) => r = r2,
            Err(_) => break,
        }
    }
    let (r, selection) = opt_where(r)?;
    Ok((
        r,
        Statement::Update {
            table,
            assignments,
            selection,
        },
    ))
}

/// Whether a query starts here (`SELECT`, `WITH` or `VALUES`).
pub(crate) fn starts_query(i: &str) -> bool {
    peek_kw(i, "select") || peek_kw(i, "with") || peek_kw(i, "values")
}

/// query_core = select_core | values
fn query_core(i: &str) -> PResult<'_, Query> {
    match kw("values")(i) {
        Ok((r, _)) => values(r),
        Err(_) => select_core(i),
    }
}

/// values = VALUES row (',' row)*, row = '(' expr (',' expr)* ')': as
/// PostgreSQL, a query whose columns are `column1`, `column2`, ..., its
/// rows one `SELECT` each under `UNION ALL` (which types the columns
/// across the rows).
fn values(i: &str) -> PResult<'_, Query> {
    let mut rows: Vec<Query> = Vec::new();
    let mut r = i;
    loop {
        let (row, _) = sym("(")(r)?;
        let (r2, exprs) = expr_list(row)?;
        let (r2, _) = sym(")")(r2)?;
        if rows
            .first()
            .is_some_and(|f| f.projection.len() != exprs.len())
        {
            // PostgreSQL points at the row's first value.
            return fatal(row.trim_start(), "VALUES lists must all be the same length");
        }
        let projection = exprs
            .into_iter()
            .enumerate()
            .map(|(n, expr)| SelectItem::Expr {
                expr,
                alias: Some(Ident(format!("column{}", n + 1))),
            })
            .collect();
        rows.push(Query::select(projection, None));
        match sym(",")(r2) {
            Ok((r3, _)) => r = r3,
            Err(_) => {
                let mut rows = rows.into_iter();
                let Some(mut first) = rows.next() else {
                    return fail(r2);
                };
                first.unions = rows.map(|q| (true, q)).collect();
                return Ok((r2, first));
            }
        }
    }
}

/// term = query_core (INTERSECT [ALL | DISTINCT] query_core)*: INTERSECT
/// binds tighter than UNION and EXCEPT.
fn term(i: &str) -> PResult<'_, Query> {
    let (mut r, mut q) = query_core(i)?;
    while let Ok((r2, _)) = kw("intersect")(r) {
        let (r2, all) = set_quantifier(r2);
        let (r2, next) = query_core(r2)?;
        q = Query::set_operation(SetOp::Intersect, all, q, next);
        r = r2;
    }
    Ok((r, q))
}

/// `[ALL | DISTINCT]` after a set operator: whether ALL.
fn set_quantifier(i: &str) -> (&str, bool) {
    match kw("all")(i) {
        Ok((r, _)) => (r, true),
        Err(_) => (kw("distinct")(i).map_or(i, |(r, _)| r), false),
    }
}

/// query = term ((UNION | EXCEPT) [ALL | DISTINCT] term)*
///         [ORDER BY order_item (',' order_item)*] [LIMIT expr] [OFFSET expr]
pub(crate) fn query(i: &str) -> PResult<'_, Query> {
    let _guard = DepthGuard::enter(i)?;
    let (i, with) = with_clause(i)?;
    let (mut r, mut q) = term(i)?;
    loop {
        if let Ok((r2, _)) = kw("union")(r) {
            let (r2, all) = set_quantifier(r2);
            let (r2, mut next) = term(r2)?;
            // A VALUES list's rows after the first join the chain as UNION
            // ALL branches of their own.
            let rows = std::mem::take(&mut next.unions);
            q.unions.push((all, next));
            q.unions.extend(rows);
            r = r2;
        } else if let Ok((r2, _)) = kw("except")(r) {
            let (r2, all) = set_quantifier(r2);
            let (r2, next) = term(r2)?;
            q = Query::set_operation(SetOp::Except, all, q, next);
            r = r2;
        } else {
            break;
        }
    }
    q.with = with;
    if let Ok((r2, _)) = kw("order")(r) {
        let (r2, _) = kw("by")(r2)?;
        let (r2, list) = order_by_list(r2)?;
        q.order_by = list;
        r = r2;
    }
    for _ in 0..2 {
        if q.limit.is_none() {
            if let Ok((r2, _)) = kw("limit")(r) {
                let (r2, e) = if let Ok((r3, _)) = kw("all")(r2) {
                    (r3, Expr::Literal(Literal::Null))
                } else {
                    expr::expr(r2)?
                };
                q.limit = Some(e);
                r = r2;
            }
        }
        if q.offset.is_none() {
            if let Ok((r2, _)) = kw("offset")(r) {
                let (r2, e) = expr::expr(r2)?;
                q.offset = Some(e);
                r = r2;
            }
        }
    }
    Ok((r, q))
}

/// ctes = cte (',' cte)*, cte = name ['(' ident (',' ident)* ')'] AS '(' query ')'
fn ctes(i: &str) -> PResult<'_, Vec<Cte>> {
    let mut out = Vec::new();
    let mut r = i;
    loop {
        let (r2, name) = ident(r)?;
        let (r2, columns) = column_aliases(r2)?;
        let (r2, _) = kw("as")(r2)?;
        let (r2, _) = sym("(")(r2)?;
        let (r2, query) = query(r2)?;
        let (r2, _) = sym(")")(r2)?;
        out.push(Cte {
            name,
            columns,
            query,
            recursive: false,
        });
        match sym(",")(r2) {
            Ok((r3, _)) => r = r3,
            Err(_) => return Ok((r2, out)),
        }
    }
}

/// with_clause = [WITH [RECURSIVE] ctes]
#[inline(never)]
fn with_clause(i: &str) -> PResult<'_, Vec<Cte>> {
    let Ok((r, _)) = kw("with")(i) else {
        return Ok((i, Vec::new()));
    };
    let (r, recursive) = match kw("recursive")(r) {
        Ok((r, _)) => (r, true),
        Err(_) => (r, false),
    };
    let (r, mut ctes) = commit(ctes(r))?;
    ctes.iter_mut().for_each(|c| c.recursive = recursive);
    Ok((r, ctes))
}

/// column_aliases = ['(' ident (',' ident)* ')']
fn column_aliases(i: &str) -> PResult<'_, Vec<Ident>> {
    let Ok((mut r, _)) = sym("(")(i) else {
        return Ok((i, Vec::new()));
    };
    let mut out = Vec::new();
    loop {
        let (r2, c) = ident(r)?;
        out.push(c);
        if let Ok((r3, _)) = sym(",")(r2) {
            r = r3;
            continue;
        }
        let (r2, _) = sym(")")(r2)?;
        return Ok((r2, out));
    }
}

/// select_core = SELECT [DISTINCT [ON '(' expr (',' expr)* ')'] | ALL]
///               select_item (',' select_item)*
///               [FROM table_ref] [WHERE expr]
///               [GROUP BY expr (',' expr)*] [HAVING expr]
fn select_core(i: &str) -> PResult<'_, Query> {
    let (r, _) = kw("select")(i)?;
    let (r, distinct, distinct_on) = match kw("distinct")(r) {
        Ok((r, _)) => match kw("on")(r) {
            Ok((r, _)) => {
                let (r, _) = sym("(")(r)?;
                let (r, on) = expr_list(r)?;
                let (r, _) = sym(")")(r)?;
                (r, false, on)
            }
            Err(_) => (r, true, Vec::new()),
        },
        Err(_) => (kw("all")(r).map_or(r, |(r, _)| r), false, Vec::new()),
    };
    let (mut r, first) = select_item(r)?;
    let mut projection = vec![first];
    while let Ok((r2, _)) = sym(",")(r) {
        let (r2, item) = select_item(r2)?;
        projection.push(item);
        r = r2;
    }
    let (r, from) = match kw("from")(r) {
        Ok((r, _)) => {
            let (r, t) = table_ref(r)?;
            (r, Some(t))
        }
        Err(_) => (r, None),
    };
    let (r, selection) = match kw("where")(r) {
        Ok((r, _)) => {
            let (r, e) = expr::expr(r)?;
            (r, Some(e))
        }
        Err(_) => (r, None),
    };
    let (r, group_by) = match kw("group")(r) {
        Ok((r, _)) => {
            let (r, _) = kw("by")(r)?;
            expr_list(r)?
        }
        Err(_) => (r, Vec::new()),
    };
    let (r, having) = match kw("having")(r) {
        Ok((r, _)) => {
            let (r, e) = expr::expr(r)?;
            (r, Some(e))
        }
        Err(_) => (r, None),
    };
    Ok((
        r,
        Query {
            with: Vec::new(),
            distinct,
            distinct_on,
            set_op: None,
            projection,
            from,
            selection,
            group_by,
            having,
            unions: Vec::new(),
            order_by: Vec::new(),
            limit: None,
            offset: None,
        },
    ))
}

/// table_ref = table_factor (',' table_factor
///                          | [INNER] JOIN table_factor join_condition
///                          | LEFT [OUTER] JOIN table_factor join_condition)*
/// join_condition = ON expr | USING '(' ident (',' ident)* ')'
fn table_ref(i: &str) -> PResult<'_, TableRef> {
    let (mut r, mut left) = table_factor(i)?;
    // Each join wraps `left` once more: the tree grows a level.
    let mut chain = 0;
    loop {
        chain += 1;
        if chain + depth() > MAX_TREE_DEPTH {
            return Err(too_deep(r));
        }
        // `FROM a, b`: a cross join, written as an inner join on true.
        if let Ok((r2, _)) = sym(",")(r) {
            let (r2, right) = table_factor(r2)?;
            let on = Expr::Literal(Literal::Boolean(true));
            left = TableRef::Join {
                left: Box::new(left),
                right: Box::new(right),
                kind: JoinKind::Inner,
                on,
                using: Vec::new(),
            };
            r = r2;
            continue;
        }
        // `CROSS JOIN b`: an inner join on true.
        if let Ok((r2, _)) = kw("cross")(r) {
            let (r2, _) = kw("join")(r2)?;
            let (r2, right) = table_factor(r2)?;
            left = TableRef::Join {
                left: Box::new(left),
                right: Box::new(right),
                kind: JoinKind::Inner,
                on: Expr::Literal(Literal::Boolean(true)),
                using: Vec::new(),
            };
            r = r2;
            continue;
        }
        let (r2, kind) = if let Ok((r2, _)) = kw("join")(r) {
            (r2, JoinKind::Inner)
        } else if let Ok((r2, _)) = kw("inner")(r) {
            (kw("join")(r2)?.0, JoinKind::Inner)
        } else if let Ok((r2, _)) = kw("left")(r) {
            let r2 = kw("outer")(r2).map_or(r2, |(r3, _)| r3);
            (kw("join")(r2)?.0, JoinKind::Left)
        } else {
            return Ok((r, left));
        };
        let (r2, right) = table_factor(r2)?;
        let (r2, on, using) = if let Ok((r2, _)) = kw("using")(r2) {
            let (r2, _) = sym("(")(r2)?;
            let (mut r2, first) = ident(r2)?;
            let mut using = vec![first];
            while let Ok((r3, _)) = sym(",")(r2) {
                let (r3, c) = ident(r3)?;
                using.push(c);
                r2 = r3;
            }
            let (r2, _) = sym(")")(r2)?;
            (r2, Expr::Literal(Literal::Boolean(true)), using)
        } else {
            let (r2, _) = kw("on")(r2)?;
            let (r2, on) = expr::expr(r2)?;
            (r2, on, Vec::new())
        };
        left = TableRef::Join {
            left: Box::new(left),
            right: Box::new(right),
            kind,
            on,
            using,
        };
        r = r2;
    }
}

/// table_factor = object_name [[AS] ident] | '(' table_ref ')'
///              | '(' query ')' [AS] ident ['(' ident (',' ident)* ')']
fn table_factor(i: &str) -> PResult<'_, TableRef> {
    // Set-returning functions may read earlier items either way.
    let i = kw("lateral")(i).map_or(i, |(r, _)| r);
    if let Ok((r, _)) = sym("(")(i) {
        if starts_query(r) {
            let (r, q) = query(r)?;
            let (r, _) = sym(")")(r)?;
            let r2 = kw("as")(r).map_or(r, |(r2, _)| r2);
            let Ok((r2, alias)) = ident(r2) else {
                return fatal(r, "subquery in FROM must have an alias");
            };
            let (r2, columns) = column_aliases(r2)?;
            return Ok((
                r2,
                TableRef::Derived {
                    query: Box::new(q),
                    alias,
                    columns,
                },
            ));
        }
        let (r, t) = table_ref(r)?;
        let (r, _) = sym(")")(r)?;
        return Ok((r, t));
    }
    let (r, name) = object_name(i)?;
    if let Ok((r2, _)) = sym("(")(r) {
        return table_function(r2, name);
    }
    let (r, alias) = optional_alias(r)?;
    Ok((r, TableRef::Table { name, alias }))
}

/// `[AS] alias`, if one follows.
fn optional_alias(r: &str) -> PResult<'_, Option<Ident>> {
    if let Ok((r2, _)) = kw("as")(r) {
        let (r2, a) = ident(r2)?;
        Ok((r2, Some(a)))
    } else if let Ok((r2, a)) = ident(r) {
        Ok((r2, Some(a)))
    } else {
        Ok((r, None))
    }
}

/// The rest of `name '(' [expr (',' expr)*] ')' [[AS] alias ['(' ident, ... ')']]`
/// in FROM, after the '('.
#[inline(never)]
fn table_function(i: &str, name: ObjectName) -> PResult<'_, TableRef> {
    let (r, args) = match sym(")")(i) {
        Ok((r, _)) => (r, Vec::new()),
        Err(_) => {
            let (r, args) = expr_list(i)?;
            (sym(")")(r)?.0, args)
        }
    };
    let (r, alias) = optional_alias(r)?;
    let (r, columns) = if alias.is_some() {
        column_aliases(r)?
    } else {
        (r, Vec::new())
    };
    let name = name.name().clone();
    Ok((
        r,
        TableRef::Function {
            name,
            args,
            alias,
            columns,
        },
    ))
}

/// select_item = '*' | expr [[AS] ident]
fn select_item(i: &str) -> PResult<'_, SelectItem> {
    if let Ok((r, _)) = sym("*")(i) {
        return Ok((r, SelectItem::Wildcard));
    }
    // `a.*`, `s.a.*`
    let mut parts = Vec::new();
    let mut r = i;
    while let Ok((r2, part)) = ident(r) {
        let Ok((r3, _)) = sym(".")(r2) else { break };
        parts.push(part);
        if let Ok((r4, _)) = sym("*")(r3) {
            return Ok((r4, SelectItem::QualifiedWildcard(parts)));
        }
        r = r3;
    }
    let (r, e) = expr::expr(i)?;
    if let Ok((r2, _)) = kw("as")(r) {
        let (r2, alias) = any_word(r2)?;
        return Ok((
            r2,
            SelectItem::Expr {
                expr: e,
                alias: Some(alias),
            },
        ));
    }
    match ident(r) {
        Ok((r2, alias)) => Ok((
            r2,
            SelectItem::Expr {
                expr: e,
                alias: Some(alias),
            },
        )),
        Err(_) => Ok((
            r,
            SelectItem::Expr {
                expr: e,
                alias: None,
            },
        )),
    }
}

/// show = SHOW (TABLES | MATERIALIZED VIEWS | SECRETS
///        | CREATE TABLE name | CREATE MATERIALIZED VIEW name
///        | TRANSACTION ISOLATION LEVEL | word)
fn show(i: &str) -> PResult<'_, Statement> {
    let kind = if let Ok((r, _)) = kw("tables")(i) {
        // `SHOW TABLES FROM schema` is accepted; the schema is checked later.
        let r = match kw("from")(r) {
            Ok((r2, _)) => ident(r2)?.0,
            Err(_) => r,
        };
        return Ok((r, Statement::Show(ShowKind::Tables)));
    } else if let Ok((r, _)) = kw("materialized")(i) {
        let (r, _) = kw("views")(r)?;
        return Ok((r, Statement::Show(ShowKind::MaterializedViews)));
    } else if let Ok((r, _)) = kw("secrets")(i) {
        return Ok((r, Statement::Show(ShowKind::Secrets)));
    } else if let Ok((r, _)) = kw("subscriptions")(i) {
        return Ok((r, Statement::Show(ShowKind::Subscriptions)));
    } else if let Ok((r, _)) = kw("subscription")(i) {
        let (r, _) = kw("cursors")(r)?;
        return Ok((r, Statement::Show(ShowKind::SubscriptionCursors)));
    } else if let Ok((r, _)) = kw("create")(i) {
        if let Ok((r, _)) = kw("table")(r) {
            let (r, n) = object_name(r)?;
            return Ok((r, Statement::Show(ShowKind::CreateTable(n))));
        }
        let (r, _) = kw("materialized")(r)?;
        let (r, _) = kw("view")(r)?;
        let (r, n) = object_name(r)?;
        return Ok((r, Statement::Show(ShowKind::CreateMaterializedView(n))));
    } else if let Ok((r, _)) = kw("transaction")(i) {
        let (r, _) = kw("isolation")(r)?;
        let (r, _) = kw("level")(r)?;
        return Ok((
            r,
            Statement::Show(ShowKind::Variable(Ident::new("transaction_isolation"))),
        ));
    } else {
        let (r, name) = any_word(i)?;
        (r, ShowKind::Variable(name))
    };
    Ok((kind.0, Statement::Show(kind.1)))
}

/// declare = DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [[NO] SCROLL]
///           CURSOR [(WITH | WITHOUT) HOLD] FOR query
fn declare(i: &str) -> PResult<'_, Statement> {
    let (mut r, name) = ident(i)?;
    if let Ok((r2, _)) = kw("subscription")(r) {
        return declare_subscription(r2, name);
    }
    for word in ["binary", "asensitive", "insensitive", "no", "scroll"] {
        if let Ok((r2, _)) = kw(word)(r) {
            r = r2;
        }
    }
    let (r, _) = kw("cursor")(r)?;
    let (r, hold) = if let Ok((r2, _)) = kw("with")(r) {
        (kw("hold")(r2)?.0, true)
    } else if let Ok((r2, _)) = kw("without")(r) {
        (kw("hold")(r2)?.0, false)
    } else {
        (r, false)
    };
    let (r, _) = kw("for")(r)?;
    let (r, q) = query(r)?;
    Ok((
        r,
        Statement::DeclareCursor {
            name,
            hold,
            query: Box::new(q),
        },
    ))
}

/// declare_subscription = SUBSCRIPTION CURSOR FOR name
///                        [SINCE (now() | proctime() | begin() | unix_ms) | FULL]
#[inline(never)]
fn declare_subscription(i: &str, name: Ident) -> PResult<'_, Statement> {
    let (r, _) = kw("cursor")(i)?;
    let (r, _) = kw("for")(r)?;
    let (r, subscription) = object_name(r)?;
    let (r, since) = if let Ok((r2, _)) = kw("full")(r) {
        (r2, Since::Full)
    } else if let Ok((r2, _)) = kw("since")(r) {
        if let Ok((r3, n)) = lexer::number_lit(r2) {
            match n.parse::<u64>() {
                Ok(ms) => (r3, Since::Millis(ms)),
                Err(_) => return fatal(r2, "SINCE takes a time in milliseconds since 1970"),
            }
        } else {
            let (r3, f) = any_word(r2)?;
            let (r3, _) = sym("(")(r3)?;
            let (r3, _) = sym(")")(r3)?;
            match f.as_str().to_ascii_lowercase().as_str() {
                "now" | "proctime" => (r3, Since::Now),
                "begin" => (r3, Since::Begin),
                _ => {
                    return fatal(
                        r2,
                        "SINCE takes now(), proctime(), begin() or a time in milliseconds",
                    )
                }
            }
        }
    } else {
        (r, Since::Now)
    };
    Ok((
        r,
        Statement::DeclareSubscriptionCursor {
            name,
            subscription,
            since,
        },
    ))
}

/// fetch = FETCH [NEXT | FORWARD [count | ALL] | count | ALL] [FROM | IN] name
fn fetch(i: &str) -> PResult<'_, Statement> {
    let count = |r| -> PResult<'_, Option<Option<u64>>> {
        if let Ok((r2, _)) = kw("all")(r) {
            return Ok((r2, Some(None)));
        }
        match lexer::number_lit(r) {
            Ok((r2, n)) => match n.parse::<u64>() {
                Ok(n) => Ok((r2, Some(Some(n)))),
                Err(_) => fatal(r, "FETCH takes a whole number of rows"),
            },
            Err(_) => Ok((r, None)),
        }
    };
    let (r, n) = if let Ok((r2, _)) = kw("next")(i) {
        (r2, Some(1))
    } else if let Ok((r2, _)) = kw("forward")(i) {
        let (r2, n) = count(r2)?;
        (r2, n.unwrap_or(Some(1)))
    } else {
        let (r2, n) = count(i)?;
        (r2, n.unwrap_or(Some(1)))
    };
    let r = kw("from")(r)
        .or_else(|_| kw("in")(r))
        .map_or(r, |(r2, _)| r2);
    let (r, name) = ident(r)?;
    let (r, with) = with_options(r)?;
    let mut timeout = None;
    for opt in with {
        match (opt.name.as_str().to_ascii_lowercase().as_str(), opt.value) {
            ("timeout", Literal::String(t)) => timeout = Some(t),
            _ => return fatal(r, "FETCH takes only WITH (timeout = 'interval')"),
        }
    }
    Ok((
        r,
        Statement::Fetch {
            name,
            count: n,
            timeout,
        },
    ))
}

/// copy = COPY (name ['(' ident, ... ')'] | '(' query ')') TO STDOUT options
///      | COPY name ['(' ident, ... ')'] FROM STDIN options
/// options = [[WITH] ('(' option, ... ')' | CSV [HEADER] | option...)]
fn copy(i: &str) -> PResult<'_, Statement> {
    let (r, source) = if let Ok((r, _)) = sym("(")(i).and_then(|(r, _)| kw("subscribe")(r)) {
        subscribe(r)?
    } else if let Ok((r, _)) = sym("(")(i) {
        let (r, q) = query(r)?;
        let (r, _) = sym(")")(r)?;
        (r, CopySource::Query(Box::new(q)))
    } else {
        let (r, name) = object_name(i)?;
        let (r, columns) = column_aliases(r)?;
        (r, CopySource::Table { name, columns })
    };
    if let Ok((r2, _)) = kw("from")(r) {
        let CopySource::Table { name, columns } = source else {
            return fatal(r, "COPY FROM takes a table, not a query");
        };
        let Ok((r2, _)) = kw("stdin")(r2) else {
            return fatal(
                r2,
                "COPY from a file is not supported; use COPY ... FROM STDIN (psql's \\copy)",
            );
        };
        let (r2, options) = copy_options(r2)?;
        return Ok((
            r2,
            Statement::CopyFrom {
                table: name,
                columns,
                options,
            },
        ));
    }
    let (r, _) = kw("to")(r)?;
    let Ok((r, _)) = kw("stdout")(r) else {
        return fatal(
            r,
            "COPY to a file is not supported; use COPY ... TO STDOUT (psql's \\copy)",
        );
    };
    let (r, options) = copy_options(r)?;
    Ok((r, Statement::CopyTo { source, options }))
}

/// subscribe = SUBSCRIBE [TO] name [WITH (SNAPSHOT = bool)] ')'
#[inline(never)]
fn subscribe(i: &str) -> PResult<'_, CopySource> {
    let r = kw("to")(i).map_or(i, |(r, _)| r);
    let (r, name) = object_name(r)?;
    let (r, with) = with_options(r)?;
    let mut snapshot = true;
    for opt in with {
        match (opt.name.as_str().to_ascii_lowercase().as_str(), opt.value) {
            ("snapshot", Literal::Boolean(b)) => snapshot = b,
            _ => return fatal(r, "SUBSCRIBE takes only WITH (SNAPSHOT = true | false)"),
        }
    }
    let (r, _) = sym(")")(r)?;
    Ok((r, CopySource::Subscribe { name, snapshot }))
}

/// The options after `COPY ... TO STDOUT` or `FROM STDIN`.
fn copy_options(r: &str) -> PResult<'_, CopyOptions> {
    let mut options = CopyOptions::default();
    let mut r = kw("with")(r).map_or(r, |(r, _)| r);
    let parenthesised = sym("(")(r).ok();
    if let Some((r2, _)) = parenthesised {
        r = r2;
    }
    loop {
        let r2 = if parenthesised.is_some() {
            sym(",")(r).map_or(r, |(r2, _)| r2)
        } else {
            r
        };
        if let Ok((r3, _)) = kw("format")(r2) {
            let (r3, f) = any_word(r3)?;
            match f.as_str().to_ascii_lowercase().as_str() {
                "csv" => options.csv = true,
                "text" => options.csv = false,
                _ => return fatal(r3, format!("COPY format \"{}\" not recognized", f.as_str())),
            }
            r = r3;
        } else if let Ok((r3, _)) = kw("csv")(r2) {
            options.csv = true;
            r = r3;
        } else if let Ok((r3, _)) = kw("header")(r2) {
            let (r3, on) = match kw("true")(r3).or_else(|_| kw("on")(r3)) {
                Ok((r4, _)) => (r4, true),
                Err(_) => match kw("false")(r3).or_else(|_| kw("off")(r3)) {
                    Ok((r4, _)) => (r4, false),
                    Err(_) => (r3, true),
                },
            };
            options.header = on;
            r = r3;
        } else if let Ok((r3, _)) = kw("delimiter")(r2) {
            let r3 = kw("as")(r3).map_or(r3, |(r4, _)| r4);
            let (r3, d) = string_lit(r3)?;
            let mut chars = d.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => options.delimiter = Some(c),
                _ => return fatal(r3, "COPY delimiter must be a single one-byte character"),
            }
            r = r3;
        } else if let Ok((r3, _)) = kw("null")(r2) {
            let r3 = kw("as")(r3).map_or(r3, |(r4, _)| r4);
            let (r3, n) = string_lit(r3)?;
            options.null = Some(n);
            r = r3;
        } else {
            break;
        }
    }
    if parenthesised.is_some() {
        r = sym(")")(r)?.0;
    }
    Ok((r, options))
}

/// The transaction modes after `BEGIN`, `START TRANSACTION` or `SET
/// TRANSACTION`, and their text: `ISOLATION LEVEL level`, `READ WRITE`,
/// `READ ONLY`, `[NOT] DEFERRABLE`, separated by commas or spaces.
fn transaction_modes(i: &str) -> (&str, String) {
    let mut r = i;
    let mut words = Vec::new();
    loop {
        let r2 = sym(",")(r).map_or(r, |(r2, _)| r2);
        let word = [
            "isolation",
            "level",
            "read",
            "write",
            "only",
            "committed",
            "uncommitted",
            "repeatable",
            "serializable",
            "not",
            "deferrable",
        ]
        .iter()
        .find_map(|w| kw(w)(r2).ok().map(|(rest, _)| (rest, *w)));
        match word {
            Some((rest, w)) => {
                words.push(w.to_ascii_uppercase());
                r = rest;
            }
            None => return (r, words.join(" ")),
        }
    }
}

/// set = SET [SESSION | LOCAL] (TIME ZONE value | TRANSACTION modes
///       | SESSION CHARACTERISTICS AS TRANSACTION modes
///       | word ('=' | TO) value (',' value)*)
fn set(i: &str) -> PResult<'_, Statement> {
    if let Ok((r, _)) = kw("session")(i)
        .and_then(|(r, _)| kw("characteristics")(r))
        .and_then(|(r, _)| kw("as")(r))
    {
        let (r, _) = kw("transaction")(r)?;
        let (r, modes) = transaction_modes(r);
        return Ok((
            r,
            Statement::SetTransaction {
                session: true,
                modes,
            },
        ));
    }
    let r = kw("session")(i)
        .or_else(|_| kw("local")(i))
        .map_or(i, |(r, _)| r);
    if let Ok((r2, _)) = kw("transaction")(r) {
        let (r2, modes) = transaction_modes(r2);
        if modes.is_empty() {
            return fail(skip(r2));
        }
        return Ok((
            r2,
            Statement::SetTransaction {
                session: false,
                modes,
            },
        ));
    }
    if let Ok((r2, _)) = kw("time")(r) {
        let (r2, _) = kw("zone")(r2)?;
        let (r2, v) = option_value(r2)?;
        return Ok((
            r2,
            Statement::SetVariable {
                name: Ident::new("timezone"),
                value: vec![v],
            },
        ));
    }
    let (r, name) = any_word(r)?;
    let (r, _) = sym("=")(r).or_else(|_| kw("to")(r))?;
    let (mut r, first) = set_value(r)?;
    let mut value = vec![first];
    while let Ok((r2, _)) = sym(",")(r) {
        let (r2, v) = set_value(r2)?;
        value.push(v);
        r = r2;
    }
    Ok((r, Statement::SetVariable { name, value }))
}

/// set_value = option_value | '-' number
fn set_value(i: &str) -> PResult<'_, Literal> {
    if let Ok((r, _)) = sym("-")(i) {
        let (r, n) = lexer::number_lit(r)?;
        return Ok((r, Literal::Number(format!("-{n}"))));
    }
    option_value(i)
}

#[cfg(test)]
mod tests;
