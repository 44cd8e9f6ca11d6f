//! Function calls: aggregates refused outside GROUP BY contexts, variadic
//! builtins, and overload resolution with implicit casts.

use rivulet_expr::{BinaryOp, CmpOp, DataType, Expr, Func, Value, Variadic};
use rivulet_sql as ast;

use super::coercion::{coerce, unify};
use super::Binder;
use crate::{Error, Result};

/// Names PostgreSQL treats as aggregate functions.
pub(crate) fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "count"
            | "sum"
            | "avg"
            | "min"
            | "max"
            | "bool_and"
            | "bool_or"
            | "first_value"
            | "last_value"
            | "array_agg"
            | "string_agg"
            | "jsonb_agg"
            | "json_agg"
            | "jsonb_object_agg"
            | "json_object_agg"
    )
}

impl Binder<'_> {
    pub(super) fn bind_function(
        &self,
        name: &str,
        args: &[ast::Expr],
        star: bool,
    ) -> Result<(Expr, DataType)> {
        if is_aggregate(name) {
            return Err(Error::Grouping(format!(
                "aggregate function {name} is not allowed here"
            )));
        }
        if star {
            return Err(Error::UndefinedFunction(format!(
                "function {name}(*) does not exist"
            )));
        }
        if let ("pg_get_viewdef", [view, ..]) = (name, args) {
            return self.view_definition(view, false);
        }
        if let (crate::QUALIFIED_VIEWDEF, [view, ..]) = (name, args) {
            return self.view_definition(view, true);
        }
        if matches!(name, "pg_get_indexdef" | "pg_get_constraintdef") {
            return self.key_definition(name, args);
        }
        if let Some(object) = Privilege::of(name) {
            return self.privilege(name, object, args);
        }
        if matches!(name, "obj_description" | "col_description") {
            return self.description(name, args);
        }
        let bound = args
            .iter()
            .map(|a| self.bind(a))
            .collect::<Result<Vec<_>>>()?;
        if let Some(done) = super::arrays::bind_array_function(name, &bound)? {
            return Ok(done);
        }
        // `pg_typeof(x)`: the argument's type, known when binding, by the
        // name PostgreSQL prints for it.
        if let ("pg_typeof", [(_, ty)]) = (name, bound.as_slice()) {
            return Ok((Expr::Literal(Value::Text(ty.to_string())), DataType::Text));
        }
        if let Some(v) = Func::variadic(name) {
            return bind_variadic(name, v, bound);
        }
        match (name, bound.len()) {
            ("coalesce", n) if n > 0 => {
                let (args, ty) = unify(bound, "COALESCE")?;
                return Ok((Expr::Coalesce(args), ty));
            }
            ("greatest" | "least", n) if n > 0 => {
                let (args, ty) = unify(
                    bound,
                    if name == "greatest" {
                        "GREATEST"
                    } else {
                        "LEAST"
                    },
                )?;
                return Ok((Expr::Extreme(args, name == "greatest"), ty));
            }
            ("nullif", 2) => {
                let (mut args, ty) = unify(bound, "NULLIF")?;
                let b = args.pop().unwrap_or(Expr::Literal(Value::Null));
                let a = args.pop().unwrap_or(Expr::Literal(Value::Null));
                let eq = Expr::Binary(BinaryOp::Cmp(CmpOp::Eq), Box::new(a.clone()), Box::new(b));
                return Ok((
                    Expr::Case(vec![(eq, Expr::Literal(Value::Null))], Box::new(a)),
                    ty,
                ));
            }
            ("position", 2) => {
                // position(sub IN s) is strpos(s, sub).
                let mut b = bound;
                b.swap(0, 1);
                return self.resolve_fixed("strpos", b);
            }
            _ => {}
        }
        self.resolve_fixed(name, bound)
    }

    fn resolve_fixed(&self, name: &str, bound: Vec<(Expr, DataType)>) -> Result<(Expr, DataType)> {
        let types: Vec<DataType> = bound.iter().map(|(_, t)| *t).collect();
        let (func, params, ret) = Func::resolve(name, &types).map_err(|e| match e {
            rivulet_expr::Error::UndefinedFunction(m) => Error::UndefinedFunction(m),
            other => Error::Expr(other),
        })?;
        let args = bound
            .into_iter()
            .zip(params)
            .map(|((e, t), p)| coerce(e, t, p, ""))
            .collect::<Result<Vec<_>>>()?;
        Ok((Expr::Func(func, args), ret))
    }
}

/// Binds a variadic builtin.
fn bind_variadic(
    name: &str,
    v: Variadic,
    bound: Vec<(Expr, DataType)>,
) -> Result<(Expr, DataType)> {
    let (func, ret) = Func::of_variadic(v);
    let args = match v {
        Variadic::Concat | Variadic::BuildObject | Variadic::BuildArray => bound
            .into_iter()
            .map(|(e, t)| {
                if t == DataType::Unknown {
                    coerce(e, t, DataType::Text, "")
                } else {
                    Ok(e)
                }
            })
            .collect::<Result<Vec<_>>>()?,
        Variadic::ExtractPath(_) => {
            if bound.is_empty() {
                return Err(Error::UndefinedFunction(format!(
                    "function {name}() does not exist"
                )));
            }
            let mut out = Vec::with_capacity(bound.len());
            for (i, (e, t)) in bound.into_iter().enumerate() {
                let want = if i == 0 {
                    DataType::Jsonb
                } else {
                    DataType::Text
                };
                if t != want && t != DataType::Unknown {
                    return Err(Error::UndefinedFunction(format!(
                        "function {name} does not accept {t} at position {}",
                        i + 1
                    )));
                }
                out.push(coerce(e, t, want, "")?);
            }
            out
        }
    };
    Ok((Expr::Func(func, args), ret))
}

impl Binder<'_> {
    /// `pg_get_viewdef(view oid)`: the view's query as `pg_matviews` shows
    /// it (NULL for anything else), looked up in the catalog the query is
    /// planned against.
    fn view_definition(&self, view: &ast::Expr, qualified: bool) -> Result<(Expr, DataType)> {
        let catalog = self.subqueries()?.catalog().clone();
        let oid = self.bind_as(view, DataType::Int8, "pg_get_viewdef")?;
        let f = ViewDefinition { catalog, qualified };
        Ok((
            Expr::Call(rivulet_expr::CallFn(std::sync::Arc::new(f)), vec![oid]),
            DataType::Text,
        ))
    }
}

impl Binder<'_> {
    /// `pg_get_indexdef(index [, column, pretty])` and
    /// `pg_get_constraintdef(constraint [, pretty])`: the definition of a
    /// table's primary-key index or constraint (the only indexes and
    /// constraints Rivulet has), NULL for any other OID.
    fn key_definition(&self, name: &str, args: &[ast::Expr]) -> Result<(Expr, DataType)> {
        let index = name == "pg_get_indexdef";
        let wanted: &[DataType] = match (index, args.len()) {
            (true, 1) | (false, 1) => &[DataType::Int8],
            (true, 3) => &[DataType::Int8, DataType::Int4, DataType::Boolean],
            (false, 2) => &[DataType::Int8, DataType::Boolean],
            _ => {
                let types = args
                    .iter()
                    .map(|a| self.bind(a).map(|(_, t)| t.to_string()))
                    .collect::<Result<Vec<_>>>()?;
                return Err(Error::UndefinedFunction(format!(
                    "function {name}({}) does not exist",
                    types.join(", ")
                )));
            }
        };
        let catalog = self.subqueries()?.catalog().clone();
        let bound = args
            .iter()
            .zip(wanted)
            .map(|(a, ty)| self.bind_as(a, *ty, name))
            .collect::<Result<Vec<_>>>()?;
        let f = KeyDefinition { catalog, index };
        Ok((
            Expr::Call(rivulet_expr::CallFn(std::sync::Arc::new(f)), bound),
            DataType::Text,
        ))
    }
}

impl Binder<'_> {
    /// `obj_description(oid [, catalog])` and `col_description(oid,
    /// column)`: the comment `COMMENT ON` gave a relation or one of its
    /// columns (and the public schema's own), NULL where there is none.
    fn description(&self, name: &str, args: &[ast::Expr]) -> Result<(Expr, DataType)> {
        let column = name == "col_description";
        let wanted: &[DataType] = match (column, args.len()) {
            (false, 1) => &[DataType::Int8],
            (false, 2) => &[DataType::Int8, DataType::Text],
            (true, 2) => &[DataType::Int8, DataType::Int4],
            _ => {
                let types = args
                    .iter()
                    .map(|a| self.bind(a).map(|(_, t)| t.to_string()))
                    .collect::<Result<Vec<_>>>()?;
                return Err(Error::UndefinedFunction(format!(
                    "function {name}({}) does not exist",
                    types.join(", ")
                )));
            }
        };
        let bound = args
            .iter()
            .zip(wanted)
            .map(|(a, ty)| self.bind_as(a, *ty, name))
            .collect::<Result<Vec<_>>>()?;
        let catalog = self.subqueries()?.catalog().clone();
        let f = Description { catalog, column };
        Ok((
            Expr::Call(rivulet_expr::CallFn(std::sync::Arc::new(f)), bound),
            DataType::Text,
        ))
    }
}

/// `obj_description` or `col_description` over one catalog snapshot.
struct Description {
    catalog: crate::Catalog,
    /// `col_description` (else `obj_description`).
    column: bool,
}

impl std::fmt::Debug for Description {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(rivulet_expr::Callable::name(self))
    }
}

impl rivulet_expr::Callable for Description {
    fn call(&self, args: &[Value]) -> rivulet_expr::Result<Value> {
        let Some(Value::Int8(oid)) = args.first() else {
            return Ok(Value::Null);
        };
        let (attnum, class) = match (self.column, args.get(1)) {
            (true, Some(Value::Int4(n))) => (*n, "pg_class"),
            (true, _) => return Ok(Value::Null),
            (false, Some(Value::Text(c))) => (0, c.trim_start_matches("pg_catalog.")),
            (false, Some(_)) => return Ok(Value::Null),
            (false, None) => (0, "pg_class"),
        };
        if class == "pg_namespace" && *oid == crate::system::schema_oid("public").unwrap_or(0) {
            return Ok(Value::Text("standard public schema".into()));
        }
        if class != "pg_class" {
            return Ok(Value::Null);
        }
        Ok(crate::system::relation_of_oid(*oid)
            .and_then(|id| self.catalog.comment(id, attnum))
            .map_or(Value::Null, |c| Value::Text(c.to_string())))
    }

    fn name(&self) -> &'static str {
        if self.column {
            "col_description"
        } else {
            "obj_description"
        }
    }
}

/// What a `has_*_privilege` function asks about.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Privilege {
    Table,
    AnyColumn,
    Column,
    Schema,
    Database,
}

impl Privilege {
    fn of(name: &str) -> Option<Privilege> {
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

impl Binder<'_> {
    /// `has_table_privilege([user,] table, privilege)` and its kin: Rivulet
    /// has one role, which may do everything, so they answer true for an
    /// object that exists, and fail as PostgreSQL fails for one that does
    /// not, an unknown role or an unknown privilege.
    fn privilege(
        &self,
        name: &str,
        object: Privilege,
        args: &[ast::Expr],
    ) -> Result<(Expr, DataType)> {
        let with_column = object == Privilege::Column;
        let wanted = if with_column { 3 } else { 2 };
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
                let e = if matches!(ty, DataType::Int4 | DataType::Int8) {
                    Expr::Cast(Box::new(e), DataType::Text)
                } else {
                    coerce(e, ty, DataType::Text, name)?
                };
                Ok(e)
            })
            .collect::<Result<Vec<_>>>()?;
        let catalog = self.subqueries()?.catalog().clone();
        let f = HasPrivilege { catalog, object };
        Ok((
            Expr::Call(rivulet_expr::CallFn(std::sync::Arc::new(f)), bound),
            DataType::Boolean,
        ))
    }
}

/// A `has_*_privilege` call over one catalog snapshot.
struct HasPrivilege {
    catalog: crate::Catalog,
    object: Privilege,
}

impl std::fmt::Debug for HasPrivilege {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "has_{:?}_privilege", self.object)
    }
}

impl rivulet_expr::Callable for HasPrivilege {
    fn call(&self, args: &[Value]) -> rivulet_expr::Result<Value> {
        let text = |i: usize| match args.get(i) {
            Some(Value::Text(s)) => Some(s.as_str()),
            _ => None,
        };
        let (Some(object), Some(privileges)) = (text(0), text(args.len() - 1)) else {
            return Ok(Value::Null);
        };
        // `'SELECT, UPDATE WITH GRANT OPTION'`: each must be known.
        for p in privileges.split(',') {
            let p = p.trim().to_ascii_lowercase();
            let p = p.trim_end_matches(" with grant option").trim();
            if !self.object.known().contains(&p) {
                return Err(rivulet_expr::Error::InvalidParameterValue(format!(
                    "unrecognized privilege type: \"{}\"",
                    privileges.trim()
                )));
            }
        }
        let exists = |what: &str| -> rivulet_expr::Result<()> {
            match self.object {
                Privilege::Schema => crate::system::schema_oid(what).map(|_| ()).ok_or_else(|| {
                    rivulet_expr::Error::Undefined(
                        "3F000",
                        format!("schema \"{what}\" does not exist"),
                    )
                }),
                Privilege::Database if what != crate::DEFAULT_DATABASE => {
                    Err(rivulet_expr::Error::Undefined(
                        "3D000",
                        format!("database \"{what}\" does not exist"),
                    ))
                }
                Privilege::Database => Ok(()),
                _ => {
                    let rel = match what.trim().parse::<i64>() {
                        Ok(oid) => crate::system::relation_of_oid(oid)
                            .and_then(|id| self.catalog.relation_by_id(id).cloned())
                            .ok_or_else(|| format!("relation with OID {oid} does not exist")),
                        Err(_) => self
                            .catalog
                            .get_relation(&parse_qualified(what))
                            .map_err(|e| e.to_string()),
                    };
                    let rel = rel.map_err(rivulet_expr::Error::UndefinedTable)?;
                    match (self.object, text(1)) {
                        (Privilege::Column, Some(col)) if args.len() == 3 => {
                            if rel.columns.iter().any(|c| c.name == col) {
                                Ok(())
                            } else {
                                Err(rivulet_expr::Error::Undefined(
                                    "42703",
                                    format!(
                                        "column \"{col}\" of relation \"{}\" does not exist",
                                        rel.name
                                    ),
                                ))
                            }
                        }
                        _ => Ok(()),
                    }
                }
            }
        };
        exists(object)?;
        Ok(Value::Bool(true))
    }

    fn name(&self) -> &'static str {
        "has_privilege"
    }
}

/// `pg_get_indexdef` or `pg_get_constraintdef` over one catalog snapshot.
struct KeyDefinition {
    catalog: crate::Catalog,
    /// `pg_get_indexdef` (else `pg_get_constraintdef`).
    index: bool,
}

impl std::fmt::Debug for KeyDefinition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(rivulet_expr::Callable::name(self))
    }
}

impl rivulet_expr::Callable for KeyDefinition {
    fn call(&self, args: &[Value]) -> rivulet_expr::Result<Value> {
        use crate::system::{
            constraint_definition, index_definition, key_object_of_oid, KeyObject,
        };
        let Some(Value::Int8(oid)) = args.first() else {
            return Ok(Value::Null);
        };
        let table = key_object_of_oid(*oid).and_then(|(id, what)| {
            let wanted = matches!(what, KeyObject::Index) == self.index;
            self.catalog.relation_by_id(id).filter(|_| wanted)
        });
        let Some(table) = table else {
            return Ok(Value::Null);
        };
        let def = if self.index {
            let column = match args.get(1) {
                Some(Value::Int4(c)) => *c,
                Some(Value::Null) => return Ok(Value::Null),
                _ => 0,
            };
            index_definition(table, column)
        } else {
            constraint_definition(table)
        };
        Ok(def.map_or(Value::Null, Value::Text))
    }

    fn name(&self) -> &'static str {
        if self.index {
            "pg_get_indexdef"
        } else {
            "pg_get_constraintdef"
        }
    }
}

/// `pg_get_viewdef` over one catalog snapshot.
struct ViewDefinition {
    catalog: crate::Catalog,
    /// Relations named with their schema.
    qualified: bool,
}

impl std::fmt::Debug for ViewDefinition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("pg_get_viewdef")
    }
}

impl rivulet_expr::Callable for ViewDefinition {
    fn call(&self, args: &[Value]) -> rivulet_expr::Result<Value> {
        let Some(Value::Int8(oid)) = args.first() else {
            return Ok(Value::Null);
        };
        Ok(crate::system::relation_of_oid(*oid)
            .and_then(|id| self.catalog.relation_by_id(id))
            .filter(|r| r.view().is_some() || r.plain_view().is_some())
            .map_or(Value::Null, |r| {
                Value::Text(if self.qualified {
                    crate::system::qualified_view_definition(r, &self.catalog)
                } else {
                    crate::system::view_definition(r)
                })
            }))
    }

    fn name(&self) -> &'static str {
        "pg_get_viewdef"
    }
}

impl Binder<'_> {
    /// `'name'::regclass`: the relation's OID, looked up in the planning
    /// catalog (a number stays a number); 42P01 for no such relation.
    /// `'name'::regtype`: the type's OID (42704 for none). `None` for any
    /// other cast.
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
        let name = parse_qualified(text);
        let rel = catalog.get_relation(&name)?;
        Ok(Some(crate::system::relation_oid(&rel)))
    }
}

impl Binder<'_> {
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
        if !matches!(ty, DataType::Text | DataType::Unknown) {
            return Ok(None);
        }
        let Ok(catalog) = self.subqueries().map(|s| s.catalog().clone()) else {
            return Ok(None);
        };
        let f = RegclassIn(catalog);
        Ok(Some(Expr::Call(
            rivulet_expr::CallFn(std::sync::Arc::new(f)),
            vec![inner],
        )))
    }
}

/// `regclassin` over one catalog snapshot.
struct RegclassIn(crate::Catalog);

impl std::fmt::Debug for RegclassIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("regclassin")
    }
}

impl rivulet_expr::Callable for RegclassIn {
    fn call(&self, args: &[Value]) -> rivulet_expr::Result<Value> {
        let Some(Value::Text(text)) = args.first() else {
            return Ok(Value::Null);
        };
        if let Ok(oid) = text.trim().parse::<i64>() {
            return Ok(Value::Int8(oid));
        }
        match self.0.get_relation(&parse_qualified(text)) {
            Ok(rel) => Ok(Value::Int8(crate::system::relation_oid(&rel))),
            Err(e) => Err(rivulet_expr::Error::UndefinedTable(e.to_string())),
        }
    }

    fn name(&self) -> &'static str {
        "regclassin"
    }
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
