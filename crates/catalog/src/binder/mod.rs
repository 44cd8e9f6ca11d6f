//! The expression binder: resolves names against a [`Scope`], types every
//! node, inserts the casts PostgreSQL would, and picks typed operators.
//!
//! [`Binder::bind`] dispatches on the expression; the stages live beside
//! it: [`scope`] (name resolution), `operators` (unary, binary, CASE),
//! `functions` (calls and overloads) and `coercion` (literal types, common
//! types, implicit casts). Subqueries are not the binder's business: a
//! [`ScalarSubquery`] hook, which the planner implements, turns one into a
//! value.

mod arrays;
mod catalog_functions;
mod coercion;
mod functions;
mod operators;
pub mod scope;

use rivulet_expr::{BinaryOp, DataType, Expr, Func, Value};
use rivulet_sql::{self as ast, BinaryOperator, UnaryOperator};

use crate::{Error, Result};

pub(crate) use arrays::{make_array, subscript, vector_text};
pub(crate) use coercion::{coerce, common_type, type_from_name, unify};
use coercion::{fold, fold_call, literal};
pub(crate) use functions::is_aggregate;
pub use scope::{CatalogType, Scope, ScopeColumn};

/// Turns a subquery into values while an expression is bound.
pub trait ScalarSubquery: Sync {
    /// The value of subquery `q`, written in an expression over `outer`,
    /// and its type: a constant, or (when `q` refers to `outer`'s
    /// columns) an expression that runs it for each outer row.
    fn scalar(&self, q: &ast::Query, outer: &Scope) -> Result<(Expr, DataType)>;

    /// Every value of the one-column subquery `q` (for `IN`), and its type.
    fn column(&self, q: &ast::Query, outer: &Scope) -> Result<(Vec<Value>, DataType)>;

    /// Whether subquery `q` has a row (for `EXISTS`), constant or for
    /// each outer row as [`ScalarSubquery::scalar`].
    fn exists(&self, q: &ast::Query, outer: &Scope) -> Result<Expr>;

    /// The catalog the statement is planned against.
    fn catalog(&self) -> &crate::Catalog;

    /// The values of the one-column subquery `q` as an array (`ARRAY(q)`),
    /// constant or for each outer row, and the element type.
    fn array(&self, q: &ast::Query, outer: &Scope) -> Result<(Expr, DataType)>;
}

/// Binds expressions against one scope.
pub struct Binder<'a> {
    scope: &'a Scope,
    /// Binds scalar subqueries (the planner supplies it).
    subquery: Option<&'a dyn ScalarSubquery>,
}

impl<'a> Binder<'a> {
    /// A binder over `scope`; it refuses subqueries.
    pub fn new(scope: &'a Scope) -> Binder<'a> {
        Binder {
            scope,
            subquery: None,
        }
    }

    /// A binder that hands scalar subqueries to `subquery`.
    pub fn with_subqueries(scope: &'a Scope, subquery: &'a dyn ScalarSubquery) -> Binder<'a> {
        Binder {
            scope,
            subquery: Some(subquery),
        }
    }

    /// The hook the planner gave this binder for subqueries.
    fn subqueries(&self) -> Result<&'a dyn ScalarSubquery> {
        self.subquery
            .ok_or_else(|| Error::NotSupported("subqueries are not supported here".into()))
    }

    /// A scalar subquery: its value.
    fn bind_subquery(&self, q: &ast::Query) -> Result<(Expr, DataType)> {
        self.subqueries()?.scalar(q, self.scope)
    }

    /// `expr [NOT] IN (subquery)`: the subquery's values, as a list.
    fn bind_in_subquery(
        &self,
        expr: &ast::Expr,
        q: &ast::Query,
        negated: bool,
    ) -> Result<(Expr, DataType)> {
        let (values, qty) = match self.subqueries()?.column(q, self.scope) {
            // Correlated: `x IN (q)` is `x = ANY (ARRAY(q))`, run per row.
            Err(Error::Correlated) => {
                let (array, elem) = self.subqueries()?.array(q, self.scope)?;
                return self.any_of(expr, (array, DataType::array_of(elem)), negated);
            }
            other => other?,
        };
        let (e, t) = self.bind(expr)?;
        if values.is_empty() {
            // Nothing to match: false (true for NOT IN), even for NULL.
            return Ok((Expr::Literal(Value::Bool(negated)), DataType::Boolean));
        }
        let ty = match common_type(t, qty) {
            Some(DataType::Unknown) => DataType::Text,
            Some(ty) => ty,
            None => {
                return Err(Error::UndefinedFunction(format!(
                    "operator does not exist: {t} = {qty}"
                )))
            }
        };
        let e = coerce(e, t, ty, "")?;
        // Each value in the compared type, then a sorted set: a row's test
        // is a binary search, however many values there are.
        let values = values
            .into_iter()
            .map(|v| rivulet_expr::cast(v, ty).map_err(Error::from))
            .collect::<Result<Vec<_>>>()?;
        let set = std::sync::Arc::new(rivulet_expr::ValueSet::new(values));
        Ok((Expr::InSet(Box::new(e), set, negated), DataType::Boolean))
    }

    /// Binds an expression, returning it with its type. String literals that
    /// nothing constrains come back as `Unknown`; see [`Binder::bind_as`].
    pub fn bind(&self, e: &ast::Expr) -> Result<(Expr, DataType)> {
        match e {
            ast::Expr::Literal(l) => Ok(literal(l)?),
            // A parameter's type comes from its context, like a string
            // literal's; see `QueryPlan::parameter_types`.
            ast::Expr::Parameter(n) => Ok((Expr::Param(n - 1), DataType::Unknown)),
            ast::Expr::Subquery(q) => self.bind_subquery(q),
            ast::Expr::InSubquery {
                expr,
                query,
                negated,
            } => self.bind_in_subquery(expr, query, *negated),
            ast::Expr::Exists(q) => {
                Ok((self.subqueries()?.exists(q, self.scope)?, DataType::Boolean))
            }
            ast::Expr::Identifier(parts) => match self.scope.resolve(parts) {
                Ok((i, ty)) => Ok((Expr::Column(i), ty)),
                // SQL's niladic functions, written without parentheses.
                Err(Error::UndefinedColumn(_)) if parts.len() == 1 => {
                    let v = match parts[0].as_str() {
                        "current_user" | "session_user" | "user" | "current_role" => "root",
                        "current_catalog" => crate::DEFAULT_DATABASE,
                        "current_schema" => crate::DEFAULT_SCHEMA,
                        _ => return Err(Error::UndefinedColumn(parts[0].0.clone())),
                    };
                    Ok((Expr::Literal(Value::Text(v.into())), DataType::Text))
                }
                Err(e) => Err(e),
            },
            ast::Expr::Unary { op, expr } => {
                let (inner, ty) = self.bind(expr)?;
                match op {
                    UnaryOperator::Not => {
                        let inner = coerce(inner, ty, DataType::Boolean, "argument of NOT")?;
                        Ok((Expr::Not(Box::new(inner)), DataType::Boolean))
                    }
                    UnaryOperator::Plus if ty.is_numeric() => Ok((inner, ty)),
                    UnaryOperator::Minus if ty.is_numeric() || ty == DataType::Interval => {
                        Ok((Expr::Neg(Box::new(inner)), ty))
                    }
                    UnaryOperator::Plus | UnaryOperator::Minus => {
                        Err(Error::UndefinedFunction(format!(
                            "operator does not exist: {} {ty}",
                            if *op == UnaryOperator::Minus {
                                "-"
                            } else {
                                "+"
                            }
                        )))
                    }
                }
            }
            ast::Expr::Binary { op, left, right } => self.bind_binary(*op, left, right),
            ast::Expr::IsNull { expr, negated } => {
                let (inner, _) = self.bind(expr)?;
                Ok((Expr::IsNull(Box::new(inner), *negated), DataType::Boolean))
            }
            ast::Expr::IsDistinctFrom {
                left,
                right,
                negated,
            } => {
                // Not distinct: equal, or both NULL.
                let (eq, _) = self.bind_binary(ast::BinaryOperator::Eq, left, right)?;
                let (l, _) = self.bind(left)?;
                let (r, _) = self.bind(right)?;
                let both_null = Expr::And(
                    Box::new(Expr::IsNull(Box::new(l), false)),
                    Box::new(Expr::IsNull(Box::new(r), false)),
                );
                let same = Expr::Coalesce(vec![eq, both_null]);
                Ok((
                    if *negated {
                        same
                    } else {
                        Expr::Not(Box::new(same))
                    },
                    DataType::Boolean,
                ))
            }
            ast::Expr::Cast { expr, type_name } => {
                if let Some(alias) = self.reg_cast(expr, type_name)? {
                    return Ok(alias);
                }
                if let Some(name) = regproc_literal(expr, type_name) {
                    return Ok((Expr::Literal(Value::Text(name)), DataType::Text));
                }
                let to = type_from_name(type_name)?;
                let (inner, from) = self.bind(expr)?;
                Ok((
                    fold(Expr::Cast(Box::new(inner), to)).map_err(|e| {
                        // Keep PostgreSQL's wording for impossible casts.
                        if let Error::Expr(rivulet_expr::Error::CannotCoerce { .. }) = e {
                            Error::Expr(rivulet_expr::Error::CannotCoerce {
                                from: from.to_string(),
                                to: to.to_string(),
                            })
                        } else {
                            e
                        }
                    })?,
                    to,
                ))
            }
            ast::Expr::Function {
                name,
                args,
                star,
                distinct,
            } => {
                if *distinct || matches!(args.last(), Some(ast::Expr::AggregateOrder(_))) {
                    return Err(Error::Grouping(format!(
                        "aggregate function {name} is not allowed here"
                    )));
                }
                self.bind_function(name.as_str(), args, *star)
            }
            ast::Expr::Case {
                operand,
                whens,
                else_result,
            } => self.bind_case(operand.as_deref(), whens, else_result.as_deref()),
            ast::Expr::AggregateOrder(_) => Err(Error::Syntax(
                "ORDER BY is allowed inside an aggregate call only".into(),
            )),
            // The planner puts windows (select list) in their place.
            ast::Expr::Window(_) => Err(Error::Windowing(
                "window functions are not allowed here".into(),
            )),
            ast::Expr::AnyArray {
                expr,
                array,
                negated,
            } => self.bind_any_array(expr, array, *negated),
            ast::Expr::Array(items) => self.bind_array(items),
            ast::Expr::ArraySubquery(q) => self.bind_array_subquery(q),
            ast::Expr::Subscript { expr, index } => self.bind_subscript(expr, index),
            ast::Expr::Field { expr, field } => self.bind_field(expr, field),
            ast::Expr::InList {
                expr,
                list,
                negated,
            } => {
                let (e, t) = self.bind(expr)?;
                let items = list
                    .iter()
                    .map(|x| self.bind(x))
                    .collect::<Result<Vec<_>>>()?;
                let mut ty = t;
                for (_, it) in &items {
                    ty = common_type(ty, *it).ok_or_else(|| {
                        Error::UndefinedFunction(format!("operator does not exist: {t} = {it}"))
                    })?;
                }
                if ty == DataType::Unknown {
                    ty = DataType::Text;
                }
                let e = coerce(e, t, ty, "")?;
                let items = items
                    .into_iter()
                    .map(|(x, it)| coerce(x, it, ty, ""))
                    .collect::<Result<_>>()?;
                Ok((
                    Expr::InList(Box::new(e), items, *negated),
                    DataType::Boolean,
                ))
            }
            ast::Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let ge = ast::Expr::Binary {
                    op: BinaryOperator::GtEq,
                    left: expr.clone(),
                    right: low.clone(),
                };
                let le = ast::Expr::Binary {
                    op: BinaryOperator::LtEq,
                    left: expr.clone(),
                    right: high.clone(),
                };
                let both = ast::Expr::Binary {
                    op: BinaryOperator::And,
                    left: Box::new(ge),
                    right: Box::new(le),
                };
                let (both, _) = self.bind(&both)?;
                Ok((
                    if *negated {
                        Expr::Not(Box::new(both))
                    } else {
                        both
                    },
                    DataType::Boolean,
                ))
            }
            ast::Expr::Like {
                expr,
                pattern,
                negated,
                case_insensitive,
                escape,
            } => {
                let (e, t) = self.bind(expr)?;
                let (p, pt) = self.bind(pattern)?;
                let text = |e, t: DataType| match t {
                    DataType::Text | DataType::Unknown => coerce(e, t, DataType::Text, ""),
                    other => Err(Error::UndefinedFunction(format!(
                        "operator does not exist: {other} ~~ text"
                    ))),
                };
                let mut p = text(p, pt)?;
                // `ESCAPE c` rewrites the pattern to the default backslash
                // form, as PostgreSQL's like_escape() does.
                if let Some(esc) = escape {
                    let (x, xt) = self.bind(esc)?;
                    let x = coerce(x, xt, DataType::Text, "ESCAPE")?;
                    p = fold_call(Expr::Func(Func::LikeEscape, vec![p, x]))?;
                }
                let like = Expr::Binary(
                    BinaryOp::Like(*case_insensitive),
                    Box::new(text(e, t)?),
                    Box::new(p),
                );
                Ok((
                    if *negated {
                        Expr::Not(Box::new(like))
                    } else {
                        like
                    },
                    DataType::Boolean,
                ))
            }
        }
    }

    /// `(record).field`. Off `bind`'s frame, which every level of a deep
    /// expression repeats.
    #[inline(never)]
    fn bind_field(&self, expr: &ast::Expr, field: &ast::Ident) -> Result<(Expr, DataType)> {
        let (e, ty) = self.bind(expr)?;
        let DataType::Record(fields) = ty else {
            return Err(Error::Expr(rivulet_expr::Error::Undefined(
                "42809",
                format!(
                    "column notation .{field} applied to type {ty}, which is not a composite type"
                ),
            )));
        };
        let (i, (_, field_ty)) = fields
            .iter()
            .enumerate()
            .find(|(_, (name, _))| *name == field.as_str())
            .ok_or_else(|| {
                Error::Expr(rivulet_expr::Error::Undefined(
                    "42703",
                    format!("could not identify column \"{field}\" in record data type"),
                ))
            })?;
        Ok((Expr::Func(Func::RecordField(i), vec![e]), *field_ty))
    }

    /// Binds an expression and casts it to `ty` as an assignment would
    /// (string literals parse as `ty`; numbers convert).
    pub fn bind_as(&self, e: &ast::Expr, ty: DataType, what: &str) -> Result<Expr> {
        let (expr, from) = self.bind(e)?;
        if from == ty
            || from == DataType::Unknown
            || (from.is_numeric() && ty.is_numeric())
            || ty == DataType::Text
            || DataType::oid_implicit(from, ty)
        {
            if from == ty {
                return Ok(expr);
            }
            return fold(Expr::Cast(Box::new(expr), ty));
        }
        Err(Error::DatatypeMismatch(format!(
            "{what} is of type {ty} but expression is of type {from}"
        )))
    }

    /// Binds a predicate (WHERE, VALIDATE): must be boolean.
    pub fn bind_predicate(&self, e: &ast::Expr, clause: &str) -> Result<Expr> {
        let (expr, ty) = self.bind(e)?;
        match ty {
            DataType::Boolean => Ok(expr),
            DataType::Unknown => fold(Expr::Cast(Box::new(expr), DataType::Boolean)),
            other => Err(Error::DatatypeMismatch(format!(
                "argument of {clause} must be type boolean, not type {other}"
            ))),
        }
    }
}

/// `'name'::regproc`: a function as the catalogs name it (pg_type's
/// `typinput`, `typoutput`), schema `pg_catalog` left out as PostgreSQL
/// prints it. `None` for any other cast, or a number.
fn regproc_literal(e: &ast::Expr, type_name: &str) -> Option<String> {
    let base = type_name.trim().trim_start_matches("pg_catalog.");
    let ast::Expr::Literal(ast::Literal::String(text)) = e else {
        return None;
    };
    if base != "regproc" || text.trim().parse::<i64>().is_ok() {
        return None;
    }
    Some(text.trim().trim_start_matches("pg_catalog.").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            columns: vec![
                ScopeColumn {
                    qualifier: Some("t".into()),
                    name: "data".into(),
                    ty: DataType::Jsonb,
                    hidden: false,
                    system: false,
                    catalog_type: CatalogType::Plain,
                    origin: None,
                },
                ScopeColumn {
                    qualifier: Some("t".into()),
                    name: "n".into(),
                    ty: DataType::Int8,
                    hidden: false,
                    system: false,
                    catalog_type: CatalogType::Plain,
                    origin: None,
                },
            ],
            star: None,
        }
    }

    fn bind(sql: &str) -> Result<(Expr, DataType)> {
        let s = scope();
        Binder::new(&s).bind(&rivulet_sql::parse_expr(sql).unwrap())
    }

    #[test]
    fn types_and_errors() {
        assert_eq!(bind("data->>'a'").unwrap().1, DataType::Text);
        assert_eq!(bind("t.data->'a'->0").unwrap().1, DataType::Jsonb);
        assert_eq!(bind("n = 1").unwrap().1, DataType::Boolean);
        assert_eq!(bind("'a' || 1").unwrap().1, DataType::Text);
        assert_eq!(bind("coalesce(data->>'a', 'x')").unwrap().1, DataType::Text);
        assert_eq!(
            bind("'{\"a\":1}'::jsonb").unwrap().0.to_string(),
            "'{\"a\": 1}'::jsonb"
        );
        assert_eq!(bind("nope").unwrap_err().sqlstate(), "42703");
        assert_eq!(bind("data->>'a' = 1").unwrap_err().sqlstate(), "42883");
        assert_eq!(
            bind("foo(1)").unwrap_err().to_string(),
            "function foo(integer) does not exist"
        );
        assert_eq!(bind("'x'::int").unwrap_err().sqlstate(), "22P02");
        assert_eq!(bind("1::blob").unwrap_err().sqlstate(), "42704");
        assert_eq!(
            bind("encode(hmac('k', 'data', 'sha1'), 'hex')").unwrap().1,
            DataType::Text
        );
    }
}
