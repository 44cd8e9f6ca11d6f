//! Functions whose answers come from the catalog a statement is planned
//! against: view, index and constraint definitions, comments, privileges
//! and `regclass` lookups. Each binds to one [`CatalogFn`], a snapshot of
//! the catalog with the function computing the answer from it.

use std::sync::Arc;

use rivulet_expr::{CallFn, Callable, DataType, Expr, Value};
use rivulet_sql as ast;

use super::{coerce, Binder};
use crate::{Catalog, Error, Result};

/// The answer of a catalog function, from the catalog and the arguments.
type Answer = fn(&Catalog, &[Value]) -> rivulet_expr::Result<Value>;

/// A call answered from one catalog snapshot.
struct CatalogFn {
    name: &'static str,
    catalog: Catalog,
    answer: Answer,
}

impl std::fmt::Debug for CatalogFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Callable for CatalogFn {
    fn call(&self, args: &[Value]) -> rivulet_expr::Result<Value> {
        (self.answer)(&self.catalog, args)
    }

    fn name(&self) -> &'static str {
        self.name
    }
}

impl Binder<'_> {
    /// A call of `answer` over the planning catalog with `args`.
    fn catalog_call(&self, name: &'static str, answer: Answer, args: Vec<Expr>) -> Result<Expr> {
        let catalog = self.subqueries()?.catalog().clone();
        let f = CatalogFn {
            name,
            catalog,
            answer,
        };
        Ok(Expr::Call(CallFn(Arc::new(f)), args))
    }

    /// `args` bound as `wanted` (the signature for their number), or 42883
    /// naming the call's argument types as PostgreSQL does.
    fn bind_signature(
        &self,
        name: &str,
        args: &[ast::Expr],
        signatures: &[&[DataType]],
    ) -> Result<Vec<Expr>> {
        let Some(wanted) = signatures.iter().find(|s| s.len() == args.len()) else {
            let types = args
                .iter()
                .map(|a| self.bind(a).map(|(_, t)| t.to_string()))
                .collect::<Result<Vec<_>>>()?;
            return Err(Error::UndefinedFunction(format!(
                "function {name}({}) does not exist",
                types.join(", ")
            )));
        };
        args.iter()
            .zip(wanted.iter())
            .map(|(a, ty)| self.bind_as(a, *ty, name))
            .collect()
    }

    /// `pg_get_viewdef(view oid)`: the view's query as `pg_matviews` shows
    /// it (NULL for anything else); `qualified` names relations with their
    /// schema (a session whose search path leaves out `public`).
    pub(super) fn view_definition(
        &self,
        view: &ast::Expr,
        qualified: bool,
    ) -> Result<(Expr, DataType)> {
        let oid = self.bind_as(view, DataType::Int8, "pg_get_viewdef")?;
        let answer: Answer = if qualified {
            |c, a| view_definition(c, a, true)
        } else {
            |c, a| view_definition(c, a, false)
        };
        Ok((
            self.catalog_call("pg_get_viewdef", answer, vec![oid])?,
            DataType::Text,
        ))
    }

    /// `pg_get_indexdef(index [, column, pretty])` and
    /// `pg_get_constraintdef(constraint [, pretty])`: the definition of a
    /// table's primary-key index or constraint (the only indexes and
    /// constraints Rivulet has), NULL for any other OID.
    pub(super) fn key_definition(
        &self,
        name: &str,
        args: &[ast::Expr],
    ) -> Result<(Expr, DataType)> {
        use DataType::{Boolean, Int4, Int8};
        let (fname, signatures, answer): (&'static str, &[&[DataType]], Answer) =
            if name == "pg_get_indexdef" {
                (
                    "pg_get_indexdef",
                    &[&[Int8], &[Int8, Int4, Boolean]],
                    index_definition,
                )
            } else {
                (
                    "pg_get_constraintdef",
                    &[&[Int8], &[Int8, Boolean]],
                    constraint_definition,
                )
            };
        let bound = self.bind_signature(name, args, signatures)?;
        Ok((self.catalog_call(fname, answer, bound)?, DataType::Text))
    }

    /// `obj_description(oid [, catalog])` and `col_description(oid,
    /// column)`: the comment `COMMENT ON` gave a relation or one of its
    /// columns (and the public schema's own), NULL where there is none.
    pub(super) fn description(&self, name: &str, args: &[ast::Expr]) -> Result<(Expr, DataType)> {
        use DataType::{Int4, Int8, Text};
        let (fname, signatures, answer): (&'static str, &[&[DataType]], Answer) =
            if name == "col_description" {
                ("col_description", &[&[Int8, Int4]], column_description)
            } else {
                (
                    "obj_description",
                    &[&[Int8], &[Int8, Text]],
                    object_description,
                )
            };
        let bound = self.bind_signature(name, args, signatures)?;
        Ok((self.catalog_call(fname, answer, bound)?, DataType::Text))
    }

    /// `has_table_privilege([user,] table, privilege)` and its kin: Rivulet
    /// has one role, which may do everything, so they answer true for an
    /// object that exists, and fail as PostgreSQL fails for one that does
    /// not or for an unknown privilege.
    pub(super) fn privilege(
        &self,
        name: &str,
        object: Privilege,
        args: &[ast::Expr],
    ) -> Result<(Expr, DataType)> {
        let wanted = if object == Privilege::Column { 3 } else { 2 };
        let args = match args.len() {
            n if n == wanted => args,
            n if n == wanted + 1 => &args[1..],
            _ => {
                return Err(Error::UndefinedFunction(format!(
                    "function {name} with {} arguments does not exist",
                    args.len()
                )))
            }
        };
        let bound = args
            .iter()
            .map(|a| {
                let (e, ty) = self.bind(a)?;
                // An OID names the object as well as its name does.
                if matches!(ty, DataType::Int4 | DataType::Int8) {
                    Ok(Expr::Cast(Box::new(e), DataType::Text))
                } else {
                    coerce(e, ty, DataType::Text, name)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let (fname, answer): (&'static str, Answer) = match object {
            Privilege::Table => ("has_table_privilege", |c, a| {
                has_privilege(Privilege::Table, c, a)
            }),
            Privilege::AnyColumn => ("has_any_column_privilege", |c, a| {
                has_privilege(Privilege::AnyColumn, c, a)
            }),
            Privilege::Column => ("has_column_privilege", |c, a| {
                has_privilege(Privilege::Column, c, a)
            }),
            Privilege::Schema => ("has_schema_privilege", |c, a| {
                has_privilege(Privilege::Schema, c, a)
            }),
            Privilege::Database => ("has_database_privilege", |c, a| {
                has_privilege(Privilege::Database, c, a)
            }),
        };
        Ok((self.catalog_call(fname, answer, bound)?, DataType::Boolean))
    }

    /// `'name'::regclass`: the relation's OID, looked up in the planning
    /// catalog (a number stays a number); 42P01 for no such relation.
    /// `'name'::regtype`: the type's OID (42704 for none);
    /// `'name'::regnamespace`: the schema's (3F000). `None` for any other
    /// cast.
    pub(super) fn regclass_literal(&self, e: &ast::Expr, type_name: &str) -> Result<Option<i64>> {
        let base = type_name.trim().trim_start_matches("pg_catalog.");
        let ast::Expr::Literal(ast::Literal::String(text)) = e else {
            return Ok(None);
        };
        if !matches!(base, "regclass" | "regtype" | "regnamespace")
            || text.trim().parse::<i64>().is_ok()
        {
            return Ok(None);
        }
        if base == "regnamespace" {
            let name = parse_qualified(text);
            return crate::system::schema_oid(name.name().as_str())
                .map(Some)
                .ok_or_else(|| {
                    Error::UndefinedSchema(format!("schema \"{}\" does not exist", text.trim()))
                });
        }
        if base == "regtype" {
            // A type by name (`'int4'`, `'text[]'`, `'pg_catalog.jsonb'`).
            let name = text
                .trim()
                .trim_start_matches("pg_catalog.")
                .to_ascii_lowercase();
            return DataType::from_name(&name)
                .map(|t| Some(i64::from(t.oid())))
                .ok_or_else(|| {
                    Error::UndefinedObject(format!("type \"{}\" does not exist", text.trim()))
                });
        }
        let Ok(catalog) = self.subqueries().map(|s| s.catalog()) else {
            return Ok(None);
        };
        let rel = catalog.get_relation(&parse_qualified(text))?;
        Ok(Some(crate::system::relation_oid(&rel)))
    }

    /// `$1::regclass` (or any text cast to regclass): the relation's OID,
    /// looked up when the value is known; a number stays a number.
    pub(super) fn regclass_at_run_time(
        &self,
        e: &ast::Expr,
        type_name: &str,
    ) -> Result<Option<Expr>> {
        let base = type_name.trim().trim_start_matches("pg_catalog.");
        if base != "regclass" {
            return Ok(None);
        }
        let (inner, ty) = self.bind(e)?;
        if !matches!(ty, DataType::Text | DataType::Unknown) || self.subqueries().is_err() {
            return Ok(None);
        }
        Ok(Some(self.catalog_call(
            "regclassin",
            regclass_in,
            vec![inner],
        )?))
    }
}

fn view_definition(
    catalog: &Catalog,
    args: &[Value],
    qualified: bool,
) -> rivulet_expr::Result<Value> {
    let Some(Value::Int8(oid)) = args.first() else {
        return Ok(Value::Null);
    };
    Ok(crate::system::relation_of_oid(*oid)
        .and_then(|id| catalog.relation_by_id(id))
        .filter(|r| r.view().is_some() || r.plain_view().is_some())
        .map_or(Value::Null, |r| {
            Value::Text(if qualified {
                crate::system::qualified_view_definition(r, catalog)
            } else {
                crate::system::view_definition(r)
            })
        }))
}

/// The table whose primary key's index (`index`) or constraint has the
/// OID in `args[0]`.
fn keyed_table<'c>(
    catalog: &'c Catalog,
    args: &[Value],
    index: bool,
) -> Option<&'c Arc<crate::Relation>> {
    use crate::system::{key_object_of_oid, KeyObject};
    let Some(Value::Int8(oid)) = args.first() else {
        return None;
    };
    let (id, what) = key_object_of_oid(*oid)?;
    (matches!(what, KeyObject::Index) == index)
        .then(|| catalog.relation_by_id(id))
        .flatten()
}

fn index_definition(catalog: &Catalog, args: &[Value]) -> rivulet_expr::Result<Value> {
    let Some(table) = keyed_table(catalog, args, true) else {
        return Ok(Value::Null);
    };
    let column = match args.get(1) {
        Some(Value::Int4(c)) => *c,
        Some(Value::Null) => return Ok(Value::Null),
        _ => 0,
    };
    Ok(crate::system::index_definition(table, column).map_or(Value::Null, Value::Text))
}

fn constraint_definition(catalog: &Catalog, args: &[Value]) -> rivulet_expr::Result<Value> {
    Ok(keyed_table(catalog, args, false)
        .and_then(|t| crate::system::constraint_definition(t))
        .map_or(Value::Null, Value::Text))
}

/// The comment on column `attnum` (0: the relation itself) of the
/// relation with OID `oid`.
fn comment_of(catalog: &Catalog, oid: i64, attnum: i32) -> Value {
    crate::system::relation_of_oid(oid)
        .and_then(|id| catalog.comment(id, attnum))
        .map_or(Value::Null, |c| Value::Text(c.to_string()))
}

fn column_description(catalog: &Catalog, args: &[Value]) -> rivulet_expr::Result<Value> {
    Ok(match args {
        [Value::Int8(oid), Value::Int4(n)] => comment_of(catalog, *oid, *n),
        _ => Value::Null,
    })
}

fn object_description(catalog: &Catalog, args: &[Value]) -> rivulet_expr::Result<Value> {
    let (oid, class) = match args {
        [Value::Int8(oid)] => (*oid, "pg_class"),
        [Value::Int8(oid), Value::Text(c)] => (*oid, c.trim_start_matches("pg_catalog.")),
        _ => return Ok(Value::Null),
    };
    Ok(match class {
        "pg_namespace" if Some(oid) == crate::system::schema_oid("public") => {
            Value::Text("standard public schema".into())
        }
        "pg_class" => comment_of(catalog, oid, 0),
        _ => Value::Null,
    })
}

fn regclass_in(catalog: &Catalog, args: &[Value]) -> rivulet_expr::Result<Value> {
    let Some(Value::Text(text)) = args.first() else {
        return Ok(Value::Null);
    };
    if let Ok(oid) = text.trim().parse::<i64>() {
        return Ok(Value::Int8(oid));
    }
    match catalog.get_relation(&parse_qualified(text)) {
        Ok(rel) => Ok(Value::Int8(crate::system::relation_oid(&rel))),
        Err(e) => Err(rivulet_expr::Error::UndefinedTable(e.to_string())),
    }
}

/// What a `has_*_privilege` function asks about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Privilege {
    Table,
    AnyColumn,
    Column,
    Schema,
    Database,
}

impl Privilege {
    pub(super) fn of(name: &str) -> Option<Privilege> {
        Some(match name {
            "has_table_privilege" => Privilege::Table,
            "has_any_column_privilege" => Privilege::AnyColumn,
            "has_column_privilege" => Privilege::Column,
            "has_schema_privilege" => Privilege::Schema,
            "has_database_privilege" => Privilege::Database,
            _ => return None,
        })
    }

    /// The privileges PostgreSQL accepts for the object kind.
    fn known(self) -> &'static [&'static str] {
        match self {
            Privilege::Table => &[
                "select",
                "insert",
                "update",
                "delete",
                "truncate",
                "references",
                "trigger",
            ],
            Privilege::AnyColumn | Privilege::Column => {
                &["select", "insert", "update", "references"]
            }
            Privilege::Schema => &["usage", "create"],
            Privilege::Database => &["connect", "create", "temporary", "temp"],
        }
    }
}

/// True when the object (a relation by name or OID, with a column for
/// `has_column_privilege`; a schema; a database) exists and every listed
/// privilege is one PostgreSQL knows for its kind.
fn has_privilege(
    object: Privilege,
    catalog: &Catalog,
    args: &[Value],
) -> rivulet_expr::Result<Value> {
    let text = |i: usize| match args.get(i) {
        Some(Value::Text(s)) => Some(s.as_str()),
        _ => None,
    };
    let (Some(what), Some(privileges)) = (text(0), args.len().checked_sub(1).and_then(text)) else {
        return Ok(Value::Null);
    };
    // `'SELECT, UPDATE WITH GRANT OPTION'`: each must be known.
    for p in privileges.split(',') {
        let p = p.trim().to_ascii_lowercase();
        let p = p.trim_end_matches(" with grant option").trim();
        if !object.known().contains(&p) {
            return Err(rivulet_expr::Error::InvalidParameterValue(format!(
                "unrecognized privilege type: \"{}\"",
                privileges.trim()
            )));
        }
    }
    let undefined = |code, message: String| Err(rivulet_expr::Error::Undefined(code, message));
    match object {
        Privilege::Schema if crate::system::schema_oid(what).is_none() => {
            return undefined("3F000", format!("schema \"{what}\" does not exist"))
        }
        Privilege::Database if what != crate::DEFAULT_DATABASE => {
            return undefined("3D000", format!("database \"{what}\" does not exist"))
        }
        Privilege::Schema | Privilege::Database => {}
        Privilege::Table | Privilege::AnyColumn | Privilege::Column => {
            let rel = match what.trim().parse::<i64>() {
                Ok(oid) => crate::system::relation_of_oid(oid)
                    .and_then(|id| catalog.relation_by_id(id).cloned())
                    .ok_or_else(|| format!("relation with OID {oid} does not exist")),
                Err(_) => catalog
                    .get_relation(&parse_qualified(what))
                    .map_err(|e| e.to_string()),
            };
            let rel = rel.map_err(rivulet_expr::Error::UndefinedTable)?;
            if let (Privilege::Column, Some(col), 3) = (object, text(1), args.len()) {
                if !rel.columns.iter().any(|c| c.name == col) {
                    return undefined(
                        "42703",
                        format!(
                            "column \"{col}\" of relation \"{}\" does not exist",
                            rel.name
                        ),
                    );
                }
            }
        }
    }
    Ok(Value::Bool(true))
}

/// A relation name as `regclassin` reads it: dot-separated parts, each
/// lower-cased unless double-quoted.
fn parse_qualified(text: &str) -> rivulet_sql::ObjectName {
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut quoted = false;
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                part.push('"');
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(ast::Ident(std::mem::take(&mut part))),
            c if quoted => part.push(c),
            c => part.extend(c.to_lowercase()),
        }
    }
    parts.push(ast::Ident(part));
    rivulet_sql::ObjectName(parts)
}
