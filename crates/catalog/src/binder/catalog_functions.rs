//! Functions whose answers come from the catalog a statement is planned
//! against: view, index and constraint definitions, comments, privileges
//! and `regclass` lookups. Each binds to one [`CatalogFn`], a snapshot of
//! the catalog with the function computing the answer from it.

use std::sync::Arc;

use rivulet_expr::{CallFn, Callable, DataType, Expr, RegKind, Value};
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
        let oid = self.bind_as(view, DataType::Oid, "pg_get_viewdef")?;
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
        use DataType::{Boolean, Int4, Oid};
        let (fname, signatures, answer): (&'static str, &[&[DataType]], Answer) =
            if name == "pg_get_indexdef" {
                (
                    "pg_get_indexdef",
                    &[&[Oid], &[Oid, Int4, Boolean]],
                    index_definition,
                )
            } else {
                (
                    "pg_get_constraintdef",
                    &[&[Oid], &[Oid, Boolean]],
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
        use DataType::{Int4, Oid, Text};
        let (fname, signatures, answer): (&'static str, &[&[DataType]], Answer) =
            if name == "col_description" {
                ("col_description", &[&[Oid, Int4]], column_description)
            } else {
                (
                    "obj_description",
                    &[&[Oid], &[Oid, Text]],
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
                if matches!(
                    ty,
                    DataType::Int4 | DataType::Int8 | DataType::Oid | DataType::Reg(_)
                ) {
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

    /// A cast to an OID alias type (`regclass`, `regtype`,
    /// `regnamespace`): text is looked up by name (a number stays that
    /// OID), a number or OID named, both in the planning catalog, so the
    /// value prints as its object's name. A string literal is looked up
    /// once, when the statement is bound: 42P01 for no such relation, 42704
    /// for no such type, 3F000 for no such schema. `None` for any other
    /// cast, or an operand no alias is made from.
    #[inline(never)]
    pub(super) fn reg_cast(
        &self,
        e: &ast::Expr,
        type_name: &str,
    ) -> Result<Option<(Expr, DataType)>> {
        let base = type_name.trim().trim_start_matches("pg_catalog.");
        let Some(DataType::Reg(kind)) = DataType::from_name(base) else {
            return Ok(None);
        };
        let ty = DataType::Reg(kind);
        let Ok(catalog) = self.subqueries().map(|s| s.catalog()) else {
            return Ok(None);
        };
        if let ast::Expr::Literal(ast::Literal::String(text)) = e {
            let value = reg_in(kind, catalog, text).map_err(Error::Expr)?;
            return Ok(Some((Expr::Literal(value), ty)));
        }
        let (inner, from) = self.bind(e)?;
        let (name, answer, arg): (&'static str, Answer, Expr) = match from {
            DataType::Text | DataType::Unknown => match kind {
                RegKind::Class => (
                    "regclassin",
                    |c, a| reg_in_call(RegKind::Class, c, a),
                    inner,
                ),
                RegKind::Type => ("regtypein", |c, a| reg_in_call(RegKind::Type, c, a), inner),
                RegKind::Namespace => (
                    "regnamespacein",
                    |c, a| reg_in_call(RegKind::Namespace, c, a),
                    inner,
                ),
            },
            DataType::Int4 | DataType::Int8 | DataType::Oid | DataType::Reg(_) => {
                let oid = Expr::Cast(Box::new(inner), DataType::Oid);
                match kind {
                    RegKind::Class => ("regclassout", |c, a| reg_out(RegKind::Class, c, a), oid),
                    RegKind::Type => ("regtypeout", |c, a| reg_out(RegKind::Type, c, a), oid),
                    RegKind::Namespace => (
                        "regnamespaceout",
                        |c, a| reg_out(RegKind::Namespace, c, a),
                        oid,
                    ),
                }
            }
            _ => return Ok(None),
        };
        Ok(Some((self.catalog_call(name, answer, vec![arg])?, ty)))
    }
}

/// An OID argument of a catalog function (NULL or another type: none).
fn oid_arg(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Oid(o) | Value::Reg(_, o, _) => Some(i64::from(*o)),
        Value::Int4(i) => Some(i64::from(*i)),
        Value::Int8(i) => Some(*i),
        _ => None,
    }
}

/// The OID alias of kind `kind` for `oid`, named from the catalog (its
/// number when it names nothing, as PostgreSQL prints it).
fn reg_value(kind: RegKind, catalog: &Catalog, oid: u32) -> Value {
    let o = i64::from(oid);
    let name = match kind {
        RegKind::Class => crate::system::regclass_name(catalog, o),
        RegKind::Type => rivulet_expr::type_name(oid),
        RegKind::Namespace => crate::system::schema_name(o).map(rivulet_expr::quote_ident),
    };
    Value::Reg(kind, oid, name.unwrap_or_else(|| oid.to_string()).into())
}

fn reg_out(kind: RegKind, catalog: &Catalog, args: &[Value]) -> rivulet_expr::Result<Value> {
    Ok(match args.first() {
        Some(Value::Oid(oid)) => reg_value(kind, catalog, *oid),
        _ => Value::Null,
    })
}

fn reg_in_call(kind: RegKind, catalog: &Catalog, args: &[Value]) -> rivulet_expr::Result<Value> {
    match args.first() {
        Some(Value::Text(text)) => reg_in(kind, catalog, text),
        _ => Ok(Value::Null),
    }
}

/// `regclassin` and its kin: the object named by `text` (or the OID it
/// spells) as an alias value.
fn reg_in(kind: RegKind, catalog: &Catalog, text: &str) -> rivulet_expr::Result<Value> {
    if let Ok(Value::Oid(oid)) = rivulet_expr::cast(Value::Text(text.into()), DataType::Oid) {
        return Ok(reg_value(kind, catalog, oid));
    }
    let oid = match kind {
        RegKind::Class => {
            let name = parse_qualified(text);
            match catalog.get_relation(&name) {
                Ok(rel) => crate::system::relation_oid(&rel),
                Err(e) => crate::system::pkey_index_oid(catalog, &name)
                    .ok_or_else(|| rivulet_expr::Error::UndefinedTable(e.to_string()))?,
            }
        }
        RegKind::Type => {
            let name = text.trim().trim_start_matches("pg_catalog.");
            rivulet_expr::type_oid(name)
                .or_else(|| DataType::from_name(&name.to_ascii_lowercase()).map(DataType::oid))
                .map(i64::from)
                .ok_or_else(|| {
                    rivulet_expr::Error::Undefined(
                        "42704",
                        format!("type \"{}\" does not exist", text.trim()),
                    )
                })?
        }
        RegKind::Namespace => {
            let name = parse_qualified(text);
            crate::system::schema_oid(name.name().as_str()).ok_or_else(|| {
                rivulet_expr::Error::Undefined(
                    "3F000",
                    format!("schema \"{}\" does not exist", text.trim()),
                )
            })?
        }
    };
    Ok(reg_value(kind, catalog, oid as u32))
}

fn view_definition(
    catalog: &Catalog,
    args: &[Value],
    qualified: bool,
) -> rivulet_expr::Result<Value> {
    let Some(oid) = oid_arg(args.first()) else {
        return Ok(Value::Null);
    };
    Ok(crate::system::relation_of_oid(oid)
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
    let (id, what) = key_object_of_oid(oid_arg(args.first())?)?;
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
    Ok(match (oid_arg(args.first()), args.get(1)) {
        (Some(oid), Some(Value::Int4(n))) => comment_of(catalog, oid, *n),
        _ => Value::Null,
    })
}

fn object_description(catalog: &Catalog, args: &[Value]) -> rivulet_expr::Result<Value> {
    let (oid, class) = match (oid_arg(args.first()), args.get(1)) {
        (Some(oid), None) => (oid, "pg_class"),
        (Some(oid), Some(Value::Text(c))) => (oid, c.trim_start_matches("pg_catalog.")),
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
