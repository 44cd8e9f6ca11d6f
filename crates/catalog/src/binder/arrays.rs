//! One-dimensional arrays in queries: `ARRAY[...]`, `ARRAY(query)`,
//! subscripts, `= ANY (array)`, and the array functions catalog queries and
//! reports use (`array_to_string`, `array_length`, `cardinality`,
//! `array_position`, `array_upper`/`array_lower`, `current_schemas`).
//! Each function is a small [`Callable`] over its argument values.
//! Arrays are values of query results only: tables and materialized views
//! do not store them (see `ddl`).

use std::sync::Arc;

use rivulet_expr::{cast, CallFn, Callable, DataType, Expr, Result as ExprResult, Value};
use rivulet_sql as ast;

use super::coercion::{coerce, common_type};
use super::Binder;
use crate::{Error, Result};

/// Calls `f` with the bound arguments.
fn call(f: impl Callable + 'static, args: Vec<Expr>) -> Expr {
    Expr::Call(CallFn(Arc::new(f)), args)
}

/// The element type of an array type, or 42883 naming `what`.
fn element(ty: DataType, what: &str) -> Result<DataType> {
    match ty {
        DataType::Array(e) => Ok(*e),
        other => Err(Error::UndefinedFunction(format!(
            "function {what}({other}) does not exist"
        ))),
    }
}

impl Binder<'_> {
    /// `ARRAY[a, b, ...]`: the elements in their common type.
    pub(super) fn bind_array(&self, items: &[ast::Expr]) -> Result<(Expr, DataType)> {
        let bound = items
            .iter()
            .map(|e| self.bind(e))
            .collect::<Result<Vec<_>>>()?;
        let mut ty = DataType::Unknown;
        for (_, t) in bound.iter().filter(|(_, t)| *t != DataType::Unknown) {
            ty = common_type(ty, *t).ok_or_else(|| {
                Error::DatatypeMismatch(format!("ARRAY types {ty} and {t} cannot be matched"))
            })?;
        }
        if ty == DataType::Unknown {
            ty = DataType::Text;
        }
        if matches!(ty, DataType::Array(_)) {
            return Err(Error::NotSupported(
                "multidimensional arrays are not supported".into(),
            ));
        }
        let args = bound
            .into_iter()
            .map(|(e, t)| coerce(e, t, ty, ""))
            .collect::<Result<Vec<_>>>()?;
        Ok((call(MakeArray, args), DataType::array_of(ty)))
    }

    /// `ARRAY(query)`: the query's one column, as an array.
    pub(super) fn bind_array_subquery(&self, q: &ast::Query) -> Result<(Expr, DataType)> {
        let (e, ty) = self.subqueries()?.array(q, self.scope)?;
        let ty = if ty == DataType::Unknown {
            DataType::Text
        } else {
            ty
        };
        Ok((e, DataType::array_of(ty)))
    }

    /// `array[index]`: the element, or NULL outside the array.
    pub(super) fn bind_subscript(
        &self,
        array: &ast::Expr,
        index: &ast::Expr,
    ) -> Result<(Expr, DataType)> {
        let (a, ty) = self.bind(array)?;
        if let (ast::Expr::Identifier(parts), DataType::Text) = (array, ty) {
            if self.scope.catalog_type(parts) == super::scope::CatalogType::Name {
                let (i, ity) = self.bind(index)?;
                let i = coerce(i, ity, DataType::Int4, "subscript")?;
                return Ok((call(NameChar, vec![a, i]), DataType::Text));
            }
        }
        let elem = match ty {
            DataType::Array(e) => *e,
            other => {
                return Err(Error::DatatypeMismatch(format!(
                    "cannot subscript type {other} because it does not support subscripting"
                )))
            }
        };
        let mut i = self.bind_as(index, DataType::Int4, "array subscript")?;
        // PostgreSQL's vectors (`indkey`) count from 0.
        if let ast::Expr::Identifier(parts) = array {
            if self.scope.catalog_type(parts) == super::scope::CatalogType::Vector {
                i = Expr::Binary(
                    rivulet_expr::BinaryOp::Arith(rivulet_expr::ArithOp::Add),
                    Box::new(i),
                    Box::new(Expr::Literal(Value::Int4(1))),
                );
            }
        }
        Ok((call(Subscript, vec![a, i]), elem))
    }

    /// `value = ANY (array)` (or `<> ALL`): as `IN` over the array's
    /// elements, with SQL's NULL rules.
    pub(super) fn bind_any_array(
        &self,
        value: &ast::Expr,
        array: &ast::Expr,
        negated: bool,
    ) -> Result<(Expr, DataType)> {
        let bound = self.bind(array)?;
        self.any_of(value, bound, negated)
    }

    /// `value = ANY (array)` over an array already bound.
    pub(super) fn any_of(
        &self,
        value: &ast::Expr,
        (a, aty): (Expr, DataType),
        negated: bool,
    ) -> Result<(Expr, DataType)> {
        let elem = match aty {
            DataType::Array(e) => *e,
            other => {
                return Err(Error::UndefinedFunction(format!(
                    "op ANY/ALL (array) requires array on right side, not {other}"
                )))
            }
        };
        let (v, vty) = self.bind(value)?;
        let ty = match common_type(vty, elem) {
            Some(DataType::Unknown) => DataType::Text,
            Some(t) => t,
            None => {
                return Err(Error::UndefinedFunction(format!(
                    "operator does not exist: {vty} = {elem}"
                )))
            }
        };
        let v = coerce(v, vty, ty, "")?;
        Ok((call(AnyEq { ty, negated }, vec![v, a]), DataType::Boolean))
    }
}

/// `a || b` with an array on either side: both arrays' elements, or an
/// element added at either end (NULL arrays count as empty, as in
/// PostgreSQL's `array_cat`).
pub(super) fn concat(l: Expr, lt: DataType, r: Expr, rt: DataType) -> Result<(Expr, DataType)> {
    let (elem, l, r) = match (lt, rt) {
        (DataType::Array(a), DataType::Array(b)) => {
            let e = common_type(*a, *b).ok_or_else(|| {
                Error::UndefinedFunction(format!("operator does not exist: {lt} || {rt}"))
            })?;
            (e, l, r)
        }
        (DataType::Array(a), other) => (*a, l, wrap(coerce(r, other, *a, "")?)),
        (other, DataType::Array(b)) => (*b, wrap(coerce(l, other, *b, "")?), r),
        _ => {
            return Err(Error::UndefinedFunction(format!(
                "operator does not exist: {lt} || {rt}"
            )))
        }
    };
    let ty = DataType::array_of(if elem == DataType::Unknown {
        DataType::Text
    } else {
        elem
    });
    Ok((call(Concat, vec![l, r]), ty))
}

/// One element as an array.
fn wrap(e: Expr) -> Expr {
    call(MakeArray, vec![e])
}

/// `array || array`.
#[derive(Debug)]
struct Concat;

impl Callable for Concat {
    fn call(&self, args: &[Value]) -> ExprResult<Value> {
        let mut out = Vec::new();
        let mut any = false;
        for a in args {
            if let Some(e) = elements(a) {
                out.extend_from_slice(e);
                any = true;
            }
        }
        Ok(if any { Value::Array(out) } else { Value::Null })
    }

    fn name(&self) -> &'static str {
        "array_cat"
    }
}

/// The array functions, by name, over bound arguments; `None` for other
/// names.
pub(super) fn bind_array_function(
    name: &str,
    args: &[(Expr, DataType)],
) -> Result<Option<(Expr, DataType)>> {
    let exprs = || args.iter().map(|(e, _)| e.clone()).collect::<Vec<_>>();
    let int = |i: usize, what: &str| -> Result<Expr> {
        let (e, t) = &args[i];
        match t {
            DataType::Int4 | DataType::Unknown => coerce(e.clone(), *t, DataType::Int4, what),
            DataType::Int8 => Ok(Expr::Cast(Box::new(e.clone()), DataType::Int4)),
            other => Err(Error::UndefinedFunction(format!(
                "function {what}(..., {other}) does not exist"
            ))),
        }
    };
    // Over a value that is not an array (a catalog column Rivulet keeps
    // as text, like `datacl`), the text functions of these names apply.
    let first_is_array = args
        .first()
        .is_some_and(|(_, t)| matches!(t, DataType::Array(_)));
    if !first_is_array && name != "current_schemas" {
        return Ok(None);
    }
    Ok(Some(match (name, args.len()) {
        ("array_to_string", 2 | 3) => {
            element(args[0].1, name)?;
            let mut a = exprs();
            for (i, slot) in a.iter_mut().enumerate().skip(1) {
                *slot = coerce(slot.clone(), args[i].1, DataType::Text, name)?;
            }
            (call(ArrayToString, a), DataType::Text)
        }
        ("array_length" | "array_upper" | "array_lower", 2) => {
            element(args[0].1, name)?;
            let f = match name {
                "array_lower" => Bound::Lower,
                _ => Bound::Upper,
            };
            (
                call(f, vec![args[0].0.clone(), int(1, name)?]),
                DataType::Int4,
            )
        }
        ("cardinality", 1) => {
            element(args[0].1, name)?;
            (call(Cardinality, exprs()), DataType::Int4)
        }
        ("array_position", 2) => {
            let elem = element(args[0].1, name)?;
            let (v, vty) = &args[1];
            let v = coerce(v.clone(), *vty, elem, name).map_err(|_| {
                Error::UndefinedFunction(format!(
                    "function array_position({}, {vty}) does not exist",
                    args[0].1
                ))
            })?;
            (call(Position, vec![args[0].0.clone(), v]), DataType::Int4)
        }
        ("array_remove", 2) => {
            let elem = element(args[0].1, name)?;
            let (v, vty) = &args[1];
            let v = coerce(v.clone(), *vty, elem, name).map_err(|_| {
                Error::UndefinedFunction(format!(
                    "function array_remove({}, {vty}) does not exist",
                    args[0].1
                ))
            })?;
            (call(Remove, vec![args[0].0.clone(), v]), args[0].1)
        }
        ("current_schemas", 1) => {
            let b = coerce(args[0].0.clone(), args[0].1, DataType::Boolean, name)?;
            (
                call(CurrentSchemas, vec![b]),
                DataType::array_of(DataType::Text),
            )
        }
        _ => return Ok(None),
    }))
}

/// An array of the arguments' values (already of one type, or the
/// arguments of a function that takes its arguments as one array).
pub(crate) fn make_array(args: Vec<Expr>) -> Expr {
    call(MakeArray, args)
}

/// `ARRAY[...]`.
#[derive(Debug)]
struct MakeArray;

impl Callable for MakeArray {
    fn call(&self, args: &[Value]) -> ExprResult<Value> {
        Ok(Value::Array(args.to_vec()))
    }

    fn name(&self) -> &'static str {
        "array"
    }
}

/// The elements of an array argument (`None` for NULL).
fn elements(v: &Value) -> Option<&[Value]> {
    match v {
        Value::Array(e) => Some(e),
        _ => None,
    }
}

/// `array[i]`, 1-based.
#[derive(Debug)]
struct Subscript;

impl Callable for Subscript {
    fn call(&self, args: &[Value]) -> ExprResult<Value> {
        let (Some(elems), Some(Value::Int4(i))) = (args.first().and_then(elements), args.get(1))
        else {
            return Ok(Value::Null);
        };
        Ok(usize::try_from(*i)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| elems.get(i))
            .cloned()
            .unwrap_or(Value::Null))
    }

    fn name(&self) -> &'static str {
        "array_subscript"
    }
}

/// `v = ANY (array)`: true if an element equals `v`; NULL if none does but
/// `v` or an element is NULL; false otherwise. `<> ALL` is its negation.
#[derive(Debug)]
struct AnyEq {
    ty: DataType,
    negated: bool,
}

impl Callable for AnyEq {
    fn call(&self, args: &[Value]) -> ExprResult<Value> {
        let (Some(v), Some(elems)) = (args.first(), args.get(1).and_then(elements)) else {
            return Ok(Value::Null);
        };
        let mut unknown = v.is_null() && !elems.is_empty();
        let mut found = false;
        if !v.is_null() {
            for e in elems {
                if e.is_null() {
                    unknown = true;
                } else if cast(e.clone(), self.ty)?.total_cmp(v).is_eq() {
                    found = true;
                    break;
                }
            }
        }
        Ok(match (found, unknown) {
            (true, _) => Value::Bool(!self.negated),
            (false, true) => Value::Null,
            (false, false) => Value::Bool(self.negated),
        })
    }

    fn name(&self) -> &'static str {
        "any"
    }
}

/// `array_to_string(array, delimiter [, null_string])`.
#[derive(Debug)]
struct ArrayToString;

impl Callable for ArrayToString {
    fn call(&self, args: &[Value]) -> ExprResult<Value> {
        let (Some(elems), Some(Value::Text(sep))) = (args.first().and_then(elements), args.get(1))
        else {
            return Ok(Value::Null);
        };
        let null = match args.get(2) {
            Some(Value::Text(s)) => Some(s.as_str()),
            _ => None,
        };
        let parts: Vec<String> = elems
            .iter()
            .filter_map(|e| e.to_pg_text().or_else(|| null.map(str::to_string)))
            .collect();
        Ok(Value::Text(parts.join(sep)))
    }

    fn name(&self) -> &'static str {
        "array_to_string"
    }
}

/// `array_length`/`array_upper` (Upper) and `array_lower` (Lower) of
/// dimension 1; NULL for an empty array or another dimension.
#[derive(Debug)]
enum Bound {
    Upper,
    Lower,
}

impl Callable for Bound {
    fn call(&self, args: &[Value]) -> ExprResult<Value> {
        let (Some(elems), Some(Value::Int4(1))) = (args.first().and_then(elements), args.get(1))
        else {
            return Ok(Value::Null);
        };
        if elems.is_empty() {
            return Ok(Value::Null);
        }
        Ok(Value::Int4(match self {
            Bound::Upper => elems.len() as i32,
            Bound::Lower => 1,
        }))
    }

    fn name(&self) -> &'static str {
        match self {
            Bound::Upper => "array_upper",
            Bound::Lower => "array_lower",
        }
    }
}

/// `cardinality(array)`: its number of elements.
#[derive(Debug)]
struct Cardinality;

impl Callable for Cardinality {
    fn call(&self, args: &[Value]) -> ExprResult<Value> {
        Ok(args
            .first()
            .and_then(elements)
            .map_or(Value::Null, |e| Value::Int4(e.len() as i32)))
    }

    fn name(&self) -> &'static str {
        "cardinality"
    }
}

/// `array_position(array, value)`: the first position holding `value`
/// (NULL finds NULL, as in PostgreSQL).
#[derive(Debug)]
struct Position;

impl Callable for Position {
    fn call(&self, args: &[Value]) -> ExprResult<Value> {
        let (Some(elems), Some(v)) = (args.first().and_then(elements), args.get(1)) else {
            return Ok(Value::Null);
        };
        Ok(elems
            .iter()
            .position(|e| match (e.is_null(), v.is_null()) {
                (true, true) => true,
                (false, false) => e.total_cmp(v).is_eq(),
                _ => false,
            })
            .map_or(Value::Null, |i| Value::Int4(i as i32 + 1)))
    }

    fn name(&self) -> &'static str {
        "array_position"
    }
}

/// A catalog vector (`int2vector`, `oidvector`) as PostgreSQL prints it:
/// its elements separated by spaces.
pub(crate) fn vector_text(array: Expr) -> Expr {
    call(VectorOut, vec![array])
}

#[derive(Debug)]
struct VectorOut;

impl Callable for VectorOut {
    fn call(&self, args: &[Value]) -> ExprResult<Value> {
        let Some(elems) = args.first().and_then(elements) else {
            return Ok(Value::Null);
        };
        let parts: Vec<String> = elems.iter().filter_map(Value::to_pg_text).collect();
        Ok(Value::Text(parts.join(" ")))
    }

    fn name(&self) -> &'static str {
        "int2vectorout"
    }
}

/// `name[i]`: the character at 0-based position `i` of a catalog name
/// (NULL past either end).
#[derive(Debug)]
struct NameChar;

impl Callable for NameChar {
    fn call(&self, args: &[Value]) -> ExprResult<Value> {
        let (Some(Value::Text(s)), Some(Value::Int4(i))) = (args.first(), args.get(1)) else {
            return Ok(Value::Null);
        };
        Ok(usize::try_from(*i)
            .ok()
            .and_then(|i| s.chars().nth(i))
            .map_or(Value::Null, |c| Value::Text(c.to_string())))
    }

    fn name(&self) -> &'static str {
        "name subscript"
    }
}

/// `array[i]` for a constant position.
pub(crate) fn subscript(array: Expr, i: i32) -> Expr {
    call(Subscript, vec![array, Expr::Literal(Value::Int4(i))])
}

/// `array_remove(array, value)`: the array without the elements equal to
/// `value` (NULL removes NULLs, as in PostgreSQL).
#[derive(Debug)]
struct Remove;

impl Callable for Remove {
    fn call(&self, args: &[Value]) -> ExprResult<Value> {
        let (Some(elems), Some(v)) = (args.first().and_then(elements), args.get(1)) else {
            return Ok(Value::Null);
        };
        Ok(Value::Array(
            elems
                .iter()
                .filter(|e| match (e.is_null(), v.is_null()) {
                    (true, true) => false,
                    (false, false) => !e.total_cmp(v).is_eq(),
                    _ => true,
                })
                .cloned()
                .collect(),
        ))
    }

    fn name(&self) -> &'static str {
        "array_remove"
    }
}

/// `current_schemas(include_implicit)`: the schemas a name is looked up in.
#[derive(Debug)]
struct CurrentSchemas;

impl Callable for CurrentSchemas {
    fn call(&self, args: &[Value]) -> ExprResult<Value> {
        let text = |s: &str| Value::Text(s.to_string());
        Ok(match args.first() {
            Some(Value::Bool(true)) => Value::Array(vec![text("pg_catalog"), text("public")]),
            Some(Value::Bool(false)) => Value::Array(vec![text("public")]),
            _ => Value::Null,
        })
    }

    fn name(&self) -> &'static str {
        "current_schemas"
    }
}
