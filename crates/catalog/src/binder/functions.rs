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
        if let Some(object) = super::catalog_functions::Privilege::of(name) {
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
