//! The expression binder: resolves names against a [`Scope`], types every
//! node, inserts the casts PostgreSQL would, and picks typed operators.

use rivulet_expr::{cast, ArithOp, BinaryOp, CmpOp, DataType, Expr, Func, Value, Variadic};
use rivulet_sql::{self as ast, BinaryOperator, Literal, UnaryOperator};

use crate::{Error, Result};

/// A column visible to an expression.
#[derive(Debug, Clone)]
pub struct ScopeColumn {
    /// The relation name it can be qualified with, if any.
    pub qualifier: Option<String>,
    pub name: String,
    pub ty: DataType,
}

/// The columns an expression may reference; `Expr::Column(i)` refers to
/// the `i`th entry.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub columns: Vec<ScopeColumn>,
}

impl Scope {
    /// A scope of one relation's columns.
    pub fn of_relation(name: &str, columns: &[crate::Column]) -> Scope {
        Scope {
            columns: columns
                .iter()
                .map(|c| ScopeColumn {
                    qualifier: Some(name.to_string()),
                    name: c.name.clone(),
                    ty: c.ty,
                })
                .collect(),
        }
    }

    fn resolve(&self, parts: &[ast::Ident]) -> Result<(usize, DataType)> {
        let full = parts
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let (qualifier, name) = match parts {
            [name] => (None, name.as_str()),
            [.., q, name] => (Some(q.as_str()), name.as_str()),
            [] => return Err(Error::UndefinedColumn(full)),
        };
        let mut found = None;
        for (i, c) in self.columns.iter().enumerate() {
            let qualifier_ok = qualifier.is_none_or(|q| c.qualifier.as_deref() == Some(q));
            if c.name == name && qualifier_ok {
                if found.is_some() {
                    return Err(Error::AmbiguousColumn(full));
                }
                found = Some((i, c.ty));
            }
        }
        found.ok_or(Error::UndefinedColumn(full))
    }
}

/// Names PostgreSQL treats as aggregate functions.
pub(crate) fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "count" | "sum" | "avg" | "min" | "max" | "bool_and" | "bool_or"
    )
}

/// Binds expressions against one scope.
pub struct Binder<'a> {
    scope: &'a Scope,
    /// For resolving the relations of subqueries.
    catalog: Option<&'a crate::Catalog>,
    /// For evaluating uncorrelated scalar subqueries.
    runner: Option<&'a dyn crate::plan::SubqueryRunner>,
}

impl<'a> Binder<'a> {
    /// A binder over `scope`.
    pub fn new(scope: &'a Scope) -> Binder<'a> {
        Binder {
            scope,
            catalog: None,
            runner: None,
        }
    }

    /// Lets the binder evaluate uncorrelated scalar subqueries.
    pub fn runner(mut self, runner: Option<&'a dyn crate::plan::SubqueryRunner>) -> Binder<'a> {
        self.runner = runner;
        self
    }

    /// A binder that can also resolve the relations subqueries read.
    pub fn with_catalog(scope: &'a Scope, catalog: &'a crate::Catalog) -> Binder<'a> {
        Binder {
            scope,
            catalog: Some(catalog),
            runner: None,
        }
    }

    /// A scalar subquery. An uncorrelated one is evaluated once, while the
    /// statement is planned, when a runner is available (ad-hoc queries);
    /// one that reads (through inner joins) a relation that is always empty
    /// is NULL whatever it references. Others are not supported yet.
    fn bind_subquery(&self, q: &rivulet_sql::Query) -> Result<(Expr, DataType)> {
        if let (Some(catalog), Some(runner)) = (self.catalog, self.runner) {
            if let Ok(plan) = crate::plan::plan_query_with(q, catalog, Some(runner)) {
                if plan.output.len() != 1 {
                    return Err(Error::InvalidDefinition(
                        "subquery must return only one column".into(),
                    ));
                }
                let ty = plan.output[0].ty;
                return Ok((Expr::Literal(runner.scalar(&plan)?), ty));
            }
        }
        fn empty_inner(t: &rivulet_sql::TableRef, catalog: &crate::Catalog) -> bool {
            match t {
                rivulet_sql::TableRef::Table { name, .. } => catalog
                    .get_relation(name)
                    .ok()
                    .and_then(|r| r.system())
                    .is_some_and(|s| s.always_empty()),
                rivulet_sql::TableRef::Join {
                    left, right, kind, ..
                } => {
                    empty_inner(left, catalog)
                        || (*kind == rivulet_sql::JoinKind::Inner && empty_inner(right, catalog))
                }
            }
        }
        match (self.catalog, &q.from) {
            (Some(c), Some(from)) if q.group_by.is_empty() && empty_inner(from, c) => {
                Ok((Expr::Literal(Value::Null), DataType::Unknown))
            }
            _ => Err(Error::NotSupported(
                "subqueries are not supported yet".into(),
            )),
        }
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
                    UnaryOperator::Minus if ty.is_numeric() => Ok((Expr::Neg(Box::new(inner)), ty)),
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
            ast::Expr::Cast { expr, type_name } => {
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
                if *distinct {
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
            } => {
                let (e, t) = self.bind(expr)?;
                let (p, pt) = self.bind(pattern)?;
                let text = |e, t: DataType| match t {
                    DataType::Text | DataType::Unknown => coerce(e, t, DataType::Text, ""),
                    other => Err(Error::UndefinedFunction(format!(
                        "operator does not exist: {other} ~~ text"
                    ))),
                };
                let like = Expr::Binary(
                    BinaryOp::Like(*case_insensitive),
                    Box::new(text(e, t)?),
                    Box::new(text(p, pt)?),
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

    /// Binds an expression and casts it to `ty` as an assignment would
    /// (string literals parse as `ty`; numbers convert).
    pub fn bind_as(&self, e: &ast::Expr, ty: DataType, what: &str) -> Result<Expr> {
        let (expr, from) = self.bind(e)?;
        if from == ty
            || from == DataType::Unknown
            || (from.is_numeric() && ty.is_numeric())
            || ty == DataType::Text
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

    fn bind_binary(
        &self,
        op: BinaryOperator,
        left: &ast::Expr,
        right: &ast::Expr,
    ) -> Result<(Expr, DataType)> {
        use BinaryOperator as B;
        let (l, lt) = self.bind(left)?;
        let (r, rt) = self.bind(right)?;
        let no_operator = || {
            Error::UndefinedFunction(format!(
                "operator does not exist: {lt} {} {rt}",
                op.symbol()
            ))
        };
        let boxed = |l, r| (Box::new(l), Box::new(r));
        match op {
            B::And | B::Or => {
                let what = if op == B::And {
                    "argument of AND"
                } else {
                    "argument of OR"
                };
                let (l, r) = boxed(
                    coerce(l, lt, DataType::Boolean, what)?,
                    coerce(r, rt, DataType::Boolean, what)?,
                );
                let e = if op == B::And {
                    Expr::And(l, r)
                } else {
                    Expr::Or(l, r)
                };
                Ok((e, DataType::Boolean))
            }
            B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq => {
                let ty = common_type(lt, rt).ok_or_else(no_operator)?;
                let cmp = match op {
                    B::Eq => CmpOp::Eq,
                    B::NotEq => CmpOp::NotEq,
                    B::Lt => CmpOp::Lt,
                    B::LtEq => CmpOp::LtEq,
                    B::Gt => CmpOp::Gt,
                    _ => CmpOp::GtEq,
                };
                let (l, r) = boxed(coerce(l, lt, ty, "")?, coerce(r, rt, ty, "")?);
                Ok((Expr::Binary(BinaryOp::Cmp(cmp), l, r), DataType::Boolean))
            }
            B::Arrow | B::LongArrow => {
                if !matches!(lt, DataType::Jsonb | DataType::Unknown) {
                    return Err(no_operator());
                }
                let key_ty = match rt {
                    DataType::Text | DataType::Unknown => DataType::Text,
                    DataType::Int4 | DataType::Int8 => rt,
                    _ => return Err(no_operator()),
                };
                let (l, r) = boxed(
                    coerce(l, lt, DataType::Jsonb, "")?,
                    coerce(r, rt, key_ty, "")?,
                );
                Ok(if op == B::Arrow {
                    (Expr::Binary(BinaryOp::JsonGet, l, r), DataType::Jsonb)
                } else {
                    (Expr::Binary(BinaryOp::JsonGetText, l, r), DataType::Text)
                })
            }
            B::Concat => {
                use DataType::{Bytea, Jsonb, Text, Unknown};
                let (kind, ty) = match (lt, rt) {
                    (Jsonb, Jsonb | Unknown) | (Unknown, Jsonb) => (BinaryOp::ConcatJsonb, Jsonb),
                    (Bytea, Bytea | Unknown) | (Unknown, Bytea) => (BinaryOp::ConcatBytea, Bytea),
                    (Text | Unknown, _) | (_, Text | Unknown) => (BinaryOp::ConcatText, Text),
                    _ => return Err(no_operator()),
                };
                let cl = if lt == Unknown {
                    coerce(l, lt, ty, "")?
                } else {
                    l
                };
                let cr = if rt == Unknown {
                    coerce(r, rt, ty, "")?
                } else {
                    r
                };
                Ok((Expr::Binary(kind, Box::new(cl), Box::new(cr)), ty))
            }
            B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo => {
                let ty = match common_type(lt, rt) {
                    Some(t) if t.is_numeric() => t,
                    _ => return Err(no_operator()),
                };
                if ty == DataType::Float8 && op == B::Modulo {
                    return Err(no_operator());
                }
                let a = match op {
                    B::Plus => ArithOp::Add,
                    B::Minus => ArithOp::Sub,
                    B::Multiply => ArithOp::Mul,
                    B::Divide => ArithOp::Div,
                    _ => ArithOp::Mod,
                };
                let (l, r) = boxed(coerce(l, lt, ty, "")?, coerce(r, rt, ty, "")?);
                Ok((Expr::Binary(BinaryOp::Arith(a), l, r), ty))
            }
            B::RegexMatch | B::RegexIMatch | B::RegexNotMatch | B::RegexNotIMatch => {
                let text = |e, t: DataType| match t {
                    DataType::Text | DataType::Unknown => coerce(e, t, DataType::Text, ""),
                    _ => Err(no_operator()),
                };
                let kind = BinaryOp::Regex {
                    case_insensitive: matches!(op, B::RegexIMatch | B::RegexNotIMatch),
                    negated: matches!(op, B::RegexNotMatch | B::RegexNotIMatch),
                };
                Ok((
                    Expr::Binary(kind, Box::new(text(l, lt)?), Box::new(text(r, rt)?)),
                    DataType::Boolean,
                ))
            }
            B::HashArrow | B::HashLongArrow | B::Question | B::Contains => {
                if !matches!(lt, DataType::Jsonb | DataType::Unknown) {
                    return Err(no_operator());
                }
                let l = coerce(l, lt, DataType::Jsonb, "")?;
                let (kind, rty, out) = match op {
                    B::HashArrow => (BinaryOp::JsonPath, DataType::Text, DataType::Jsonb),
                    B::HashLongArrow => (BinaryOp::JsonPathText, DataType::Text, DataType::Text),
                    B::Question => (BinaryOp::JsonHasKey, DataType::Text, DataType::Boolean),
                    _ => (BinaryOp::JsonContains, DataType::Jsonb, DataType::Boolean),
                };
                if rt != rty && rt != DataType::Unknown {
                    return Err(no_operator());
                }
                let r = coerce(r, rt, rty, "")?;
                Ok((Expr::Binary(kind, Box::new(l), Box::new(r)), out))
            }
        }
    }

    fn bind_function(
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
        let bound = args
            .iter()
            .map(|a| self.bind(a))
            .collect::<Result<Vec<_>>>()?;
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

impl Binder<'_> {
    fn bind_case(
        &self,
        operand: Option<&ast::Expr>,
        whens: &[(ast::Expr, ast::Expr)],
        else_result: Option<&ast::Expr>,
    ) -> Result<(Expr, DataType)> {
        let mut conds = Vec::with_capacity(whens.len());
        let mut results = Vec::with_capacity(whens.len() + 1);
        for (w, t) in whens {
            let cond = match operand {
                Some(o) => ast::Expr::Binary {
                    op: BinaryOperator::Eq,
                    left: Box::new(o.clone()),
                    right: Box::new(w.clone()),
                },
                None => w.clone(),
            };
            conds.push(self.bind_predicate(&cond, "CASE/WHEN")?);
            results.push(self.bind(t)?);
        }
        results.push(match else_result {
            Some(e) => self.bind(e)?,
            None => (Expr::Literal(Value::Null), DataType::Unknown),
        });
        let (mut results, ty) = unify(results, "CASE")?;
        let otherwise = results.pop().unwrap_or(Expr::Literal(Value::Null));
        Ok((
            Expr::Case(
                conds.into_iter().zip(results).collect(),
                Box::new(otherwise),
            ),
            ty,
        ))
    }
}

/// Casts every expression to the common type of all (text if all unknown).
fn unify(items: Vec<(Expr, DataType)>, what: &str) -> Result<(Vec<Expr>, DataType)> {
    let mut ty = DataType::Unknown;
    for (_, t) in &items {
        ty = common_type(ty, *t).ok_or_else(|| {
            Error::DatatypeMismatch(format!("{what} types {ty} and {t} cannot be matched"))
        })?;
    }
    if ty == DataType::Unknown {
        ty = DataType::Text;
    }
    let out = items
        .into_iter()
        .map(|(e, t)| coerce(e, t, ty, ""))
        .collect::<Result<_>>()?;
    Ok((out, ty))
}

/// Binds a variadic builtin.
fn bind_variadic(
    name: &str,
    v: Variadic,
    bound: Vec<(Expr, DataType)>,
) -> Result<(Expr, DataType)> {
    let (func, ret) = Func::of_variadic(v);
    let args = match v {
        Variadic::Concat | Variadic::BuildObject => bound
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

/// Types a literal: integers are `integer` if they fit, else `bigint`, else
/// `numeric`; other numbers `numeric`; strings `unknown` until context
/// decides.
fn literal(l: &Literal) -> Result<(Expr, DataType)> {
    Ok(match l {
        Literal::Number(n) => {
            let integral = n.bytes().all(|b| b.is_ascii_digit() || b == b'-');
            let v = match (integral, n.parse::<i64>()) {
                (true, Ok(v)) => match i32::try_from(v) {
                    Ok(v) => Value::Int4(v),
                    Err(_) => Value::Int8(v),
                },
                _ => cast(Value::Text(n.clone()), DataType::Numeric)?,
            };
            let ty = v.data_type();
            (Expr::Literal(v), ty)
        }
        Literal::String(s) => (Expr::Literal(Value::Text(s.clone())), DataType::Unknown),
        Literal::Boolean(b) => (Expr::Literal(Value::Bool(*b)), DataType::Boolean),
        Literal::Null => (Expr::Literal(Value::Null), DataType::Unknown),
    })
}

/// Resolves a type name, ignoring modifiers such as `(10,2)`.
pub(crate) fn type_from_name(name: &str) -> Result<DataType> {
    let base = name.split('(').next().unwrap_or(name).trim();
    DataType::from_name(base)
        .ok_or_else(|| Error::UndefinedObject(format!("type \"{base}\" does not exist")))
}

/// The type two operands are compared or combined as, if any.
pub(crate) fn common_type(a: DataType, b: DataType) -> Option<DataType> {
    use DataType::Unknown;
    match (a, b) {
        _ if a == b => Some(if a == Unknown { DataType::Text } else { a }),
        (Unknown, t) | (t, Unknown) => Some(t),
        _ if a.is_numeric() && b.is_numeric() => Some(if a.numeric_rank() > b.numeric_rank() {
            a
        } else {
            b
        }),
        _ => None,
    }
}

/// Casts `e` (of type `from`) to `to` where PostgreSQL would do so
/// implicitly: literals of unknown type and numeric widening.
pub(crate) fn coerce(e: Expr, from: DataType, to: DataType, what: &str) -> Result<Expr> {
    if from == to {
        return Ok(e);
    }
    if from == DataType::Unknown
        || (from.is_numeric() && to.is_numeric() && from.numeric_rank() < to.numeric_rank())
    {
        return fold(Expr::Cast(Box::new(e), to));
    }
    Err(Error::DatatypeMismatch(if what.is_empty() {
        format!("cannot use {from} as {to}")
    } else {
        format!("{what} must be type {to}, not type {from}")
    }))
}

/// Evaluates a cast of a constant at bind time (so `'x'::jsonb` is parsed
/// once, and bad literals fail when the statement is analysed).
fn fold(e: Expr) -> Result<Expr> {
    if let Expr::Cast(inner, _) = &e {
        if matches!(**inner, Expr::Literal(_)) {
            return Ok(Expr::Literal(e.eval(&[])?));
        }
    }
    Ok(e)
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
                },
                ScopeColumn {
                    qualifier: Some("t".into()),
                    name: "n".into(),
                    ty: DataType::Int8,
                },
            ],
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
