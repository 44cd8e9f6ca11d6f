//! Aggregation: the aggregate calls of a GROUP BY query, collected from
//! the select list, HAVING and ORDER BY, and those expressions rewritten
//! over the aggregate's output (group keys, then aggregate results).

use std::fmt;
use std::sync::Arc;

use rivulet_expr::{
    decode_row, encode_row, encode_value_ordered, CallFn, Callable, DataType, Expr, Value,
};
use rivulet_sql as ast;

use crate::binder::CatalogType;
use crate::binder::{is_aggregate, Binder, Scope, ScopeColumn};
use crate::{Error, Result};

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    /// `count(*)`.
    CountStar,
    /// `count(x)`: non-NULL inputs.
    Count,
    /// `sum`.
    Sum,
    /// `avg`.
    Avg,
    /// `min`.
    Min,
    /// `max`.
    Max,
    /// `bool_and`.
    BoolAnd,
    /// `bool_or`.
    BoolOr,
    /// `array_agg(x [ORDER BY ...])`: every input as an array, in input
    /// order, or sorted (descending with `desc`) by its ORDER BY keys.
    /// Its input is an [`OrderedPair`] of the keys and the value.
    ArrayAgg {
        /// Sorted by the ORDER BY keys.
        sorted: bool,
        /// ... descending.
        desc: bool,
    },
}

impl AggKind {
    fn name(self) -> &'static str {
        match self {
            AggKind::CountStar | AggKind::Count => "count",
            AggKind::Sum => "sum",
            AggKind::Avg => "avg",
            AggKind::Min => "min",
            AggKind::Max => "max",
            AggKind::BoolAnd => "bool_and",
            AggKind::BoolOr => "bool_or",
            AggKind::ArrayAgg { .. } => "array_agg",
        }
    }
}

/// One aggregate call.
#[derive(Debug, Clone, PartialEq)]
pub struct AggCall {
    /// Which aggregate.
    pub kind: AggKind,
    /// The argument, over the aggregate's input row (`None` for `count(*)`).
    pub arg: Option<Expr>,
    /// `count(DISTINCT x)` and friends.
    pub distinct: bool,
    /// The argument's type.
    pub input_type: DataType,
    /// The result type, as PostgreSQL types it.
    pub output_type: DataType,
}

impl AggCall {
    /// The call that combines partial results of this one (found in
    /// `column`) into the result over all their inputs, if there is one:
    /// counts and sums add up, extremes and boolean folds fold again.
    /// `avg` and DISTINCT aggregates have none.
    pub fn combining(&self, column: usize) -> Option<AggCall> {
        if self.distinct {
            return None;
        }
        let kind = match self.kind {
            AggKind::CountStar | AggKind::Count | AggKind::Sum => AggKind::Sum,
            AggKind::Min | AggKind::Max | AggKind::BoolAnd | AggKind::BoolOr => self.kind,
            AggKind::Avg | AggKind::ArrayAgg { .. } => return None,
        };
        Some(AggCall {
            kind,
            arg: Some(Expr::Column(column)),
            distinct: false,
            input_type: self.output_type,
            output_type: self.output_type,
        })
    }
}

impl fmt::Display for AggCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.arg {
            None => write!(f, "count(*)"),
            Some(a) => write!(
                f,
                "{}({}{a})",
                self.kind.name(),
                if self.distinct { "DISTINCT " } else { "" }
            ),
        }
    }
}

/// Prefix of the synthetic names standing for group keys and aggregate
/// results while binding post-aggregation expressions; a NUL cannot appear
/// in any identifier a user writes.
const SYNTHETIC: &str = "\u{0}";

fn synthetic(kind: char, i: usize) -> ast::Expr {
    ast::Expr::Identifier(vec![ast::Ident(format!("{SYNTHETIC}{kind}{i}"))])
}

/// Collects the aggregate calls of a GROUP BY query and rewrites
/// expressions over its output.
pub(super) struct AggBinder<'a> {
    input: &'a Scope,
    group_asts: Vec<ast::Expr>,
    group_types: Vec<DataType>,
    pub(super) aggs: Vec<AggCall>,
    agg_asts: Vec<ast::Expr>,
    /// For each aggregate, whether its result is an ordered pair to take
    /// the value from (`first_value`/`last_value`; see [`OrderedPair`]).
    pub(super) paired: Vec<bool>,
}

impl<'a> AggBinder<'a> {
    /// A binder for a query over `input` grouped by `group_asts`.
    pub(super) fn new(
        input: &'a Scope,
        group_asts: Vec<ast::Expr>,
        group_types: Vec<DataType>,
    ) -> AggBinder<'a> {
        AggBinder {
            input,
            group_asts,
            group_types,
            aggs: Vec::new(),
            agg_asts: Vec::new(),
            paired: Vec::new(),
        }
    }

    /// Replaces group-key subexpressions and aggregate calls by synthetic
    /// column references.
    pub(super) fn rewrite(&mut self, e: &ast::Expr) -> Result<ast::Expr> {
        if let Some(i) = self.group_asts.iter().position(|g| g == e) {
            return Ok(synthetic('g', i));
        }
        if let ast::Expr::Function {
            name,
            args,
            star,
            distinct,
        } = e
        {
            if let ("jsonb_object_agg" | "json_object_agg", [key, value]) =
                (name.as_str(), args.as_slice())
            {
                // The (key, value) pairs collected as by array_agg, then
                // made one object (PostgreSQL's final function's name).
                let pair = ast::Expr::Function {
                    name: ast::Ident("jsonb_build_array".into()),
                    args: vec![key.clone(), value.clone()],
                    star: false,
                    distinct: false,
                };
                let collected = ast::Expr::Function {
                    name: ast::Ident("array_agg".into()),
                    args: vec![pair],
                    star: false,
                    distinct: *distinct,
                };
                return Ok(ast::Expr::Function {
                    name: ast::Ident("jsonb_object_agg_finalfn".into()),
                    args: vec![self.rewrite(&collected)?],
                    star: false,
                    distinct: false,
                });
            }
            if name.as_str() == "string_agg" {
                // The values collected as by array_agg (its ORDER BY
                // included), then joined (PostgreSQL's final function's
                // name); the delimiter is read once per group.
                let (plain, order) = match args.split_last() {
                    Some((o @ ast::Expr::AggregateOrder(_), rest)) => (rest, Some(o)),
                    _ => (args.as_slice(), None),
                };
                // string_agg(text, text) only, named as PostgreSQL names a
                // call it has no function for.
                let binder = Binder::new(self.input);
                let types = plain
                    .iter()
                    .map(|a| binder.bind(a).map(|(_, t)| t))
                    .collect::<Result<Vec<DataType>>>()?;
                let texts = types
                    .iter()
                    .all(|t| matches!(t, DataType::Text | DataType::Unknown));
                let (true, [value, delimiter]) = (texts, plain) else {
                    let names: Vec<String> = types.iter().map(|t| t.to_string()).collect();
                    return Err(Error::UndefinedFunction(format!(
                        "function string_agg({}) does not exist",
                        names.join(", ")
                    )));
                };
                let collected = ast::Expr::Function {
                    name: ast::Ident("array_agg".into()),
                    args: std::iter::once(value.clone())
                        .chain(order.cloned())
                        .collect(),
                    star: false,
                    distinct: *distinct,
                };
                return Ok(ast::Expr::Function {
                    name: ast::Ident("string_agg_finalfn".into()),
                    args: vec![self.rewrite(&collected)?, self.rewrite(delimiter)?],
                    star: false,
                    distinct: false,
                });
            }
            if matches!(name.as_str(), "jsonb_agg" | "json_agg") {
                // The values as an array, then as a JSON array (there is
                // no json type: json_agg answers jsonb too).
                let collected = ast::Expr::Function {
                    name: ast::Ident("array_agg".into()),
                    args: args.clone(),
                    star: *star,
                    distinct: *distinct,
                };
                return Ok(ast::Expr::Function {
                    name: ast::Ident("to_jsonb".into()),
                    args: vec![self.rewrite(&collected)?],
                    star: false,
                    distinct: false,
                });
            }
            if is_aggregate(name.as_str()) {
                let i = match self.agg_asts.iter().position(|a| a == e) {
                    Some(i) => i,
                    None => {
                        // ORDER BY inside the call: only first_value and
                        // last_value depend on it.
                        let (args, order_by) = match args.split_last() {
                            Some((ast::Expr::AggregateOrder(o), rest)) => (rest, o.as_slice()),
                            _ => (args.as_slice(), &[][..]),
                        };
                        let (call, paired) = match name.as_str() {
                            "first_value" | "last_value" => {
                                (self.bind_positional(name.as_str(), args, order_by)?, true)
                            }
                            "array_agg" => (self.bind_array_agg(args, order_by, *distinct)?, false),
                            _ => (self.bind_agg(name.as_str(), args, *star, *distinct)?, false),
                        };
                        self.paired.push(paired);
                        self.aggs.push(call);
                        self.agg_asts.push(e.clone());
                        self.aggs.len() - 1
                    }
                };
                return Ok(synthetic('a', i));
            }
        }
        let r = |x: &ast::Expr, me: &mut Self| me.rewrite(x).map(Box::new);
        Ok(match e {
            ast::Expr::Literal(_)
            | ast::Expr::Parameter(_)
            | ast::Expr::Subquery(_)
            | ast::Expr::Exists(_) => e.clone(),
            ast::Expr::InSubquery {
                expr,
                query,
                negated,
            } => ast::Expr::InSubquery {
                expr: r(expr, self)?,
                query: query.clone(),
                negated: *negated,
            },
            ast::Expr::Identifier(parts) => {
                let name = parts
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                return Err(Error::Grouping(format!(
                    "column \"{name}\" must appear in the GROUP BY clause or be used in an aggregate function"
                )));
            }
            ast::Expr::Unary { op, expr } => ast::Expr::Unary {
                op: *op,
                expr: r(expr, self)?,
            },
            ast::Expr::Binary { op, left, right } => ast::Expr::Binary {
                op: *op,
                left: r(left, self)?,
                right: r(right, self)?,
            },
            ast::Expr::IsNull { expr, negated } => ast::Expr::IsNull {
                expr: r(expr, self)?,
                negated: *negated,
            },
            ast::Expr::Array(items) => ast::Expr::Array(
                items
                    .iter()
                    .map(|x| self.rewrite(x))
                    .collect::<Result<_>>()?,
            ),
            ast::Expr::ArraySubquery(_) => e.clone(),
            ast::Expr::Subscript { expr, index } => ast::Expr::Subscript {
                expr: r(expr, self)?,
                index: r(index, self)?,
            },
            ast::Expr::Field { expr, field } => ast::Expr::Field {
                expr: r(expr, self)?,
                field: field.clone(),
            },
            ast::Expr::IsDistinctFrom {
                left,
                right,
                negated,
            } => ast::Expr::IsDistinctFrom {
                left: r(left, self)?,
                right: r(right, self)?,
                negated: *negated,
            },
            ast::Expr::Cast { expr, type_name } => ast::Expr::Cast {
                expr: r(expr, self)?,
                type_name: type_name.clone(),
            },
            ast::Expr::Function {
                name,
                args,
                star,
                distinct,
            } => ast::Expr::Function {
                name: name.clone(),
                args: args
                    .iter()
                    .map(|a| self.rewrite(a))
                    .collect::<Result<_>>()?,
                star: *star,
                distinct: *distinct,
            },
            ast::Expr::Window(_) => {
                return Err(Error::NotSupported(
                    "window functions in a grouped query are not supported yet".into(),
                ))
            }
            ast::Expr::AggregateOrder(order) => ast::Expr::AggregateOrder(
                order
                    .iter()
                    .map(|o| {
                        Ok(ast::OrderByExpr {
                            expr: self.rewrite(&o.expr)?,
                            desc: o.desc,
                            nulls_first: o.nulls_first,
                        })
                    })
                    .collect::<Result<_>>()?,
            ),
            ast::Expr::Case {
                operand,
                whens,
                else_result,
            } => ast::Expr::Case {
                operand: operand.as_ref().map(|o| r(o, self)).transpose()?,
                whens: whens
                    .iter()
                    .map(|(w, t)| Ok((self.rewrite(w)?, self.rewrite(t)?)))
                    .collect::<Result<_>>()?,
                else_result: else_result.as_ref().map(|x| r(x, self)).transpose()?,
            },
            ast::Expr::AnyArray {
                expr,
                array,
                negated,
            } => ast::Expr::AnyArray {
                expr: r(expr, self)?,
                array: r(array, self)?,
                negated: *negated,
            },
            ast::Expr::InList {
                expr,
                list,
                negated,
            } => ast::Expr::InList {
                expr: r(expr, self)?,
                list: list
                    .iter()
                    .map(|x| self.rewrite(x))
                    .collect::<Result<_>>()?,
                negated: *negated,
            },
            ast::Expr::Between {
                expr,
                low,
                high,
                negated,
            } => ast::Expr::Between {
                expr: r(expr, self)?,
                low: r(low, self)?,
                high: r(high, self)?,
                negated: *negated,
            },
            ast::Expr::Like {
                expr,
                pattern,
                negated,
                case_insensitive,
                escape,
            } => ast::Expr::Like {
                expr: r(expr, self)?,
                pattern: r(pattern, self)?,
                negated: *negated,
                case_insensitive: *case_insensitive,
                escape: escape.as_deref().map(|e| r(e, self)).transpose()?,
            },
        })
    }

    pub(super) fn bind_agg(
        &self,
        name: &str,
        args: &[ast::Expr],
        star: bool,
        distinct: bool,
    ) -> Result<AggCall> {
        let binder = Binder::new(self.input);
        if star {
            if name != "count" {
                return Err(Error::UndefinedFunction(format!(
                    "function {name}(*) does not exist"
                )));
            }
            return Ok(AggCall {
                kind: AggKind::CountStar,
                arg: None,
                distinct: false,
                input_type: DataType::Int8,
                output_type: DataType::Int8,
            });
        }
        let [arg] = args else {
            return Err(Error::UndefinedFunction(format!(
                "function {name} with {} arguments does not exist",
                args.len()
            )));
        };
        let (mut expr, mut ty) = binder.bind(arg)?;
        if ty == DataType::Unknown {
            expr = binder.bind_as(arg, DataType::Text, "argument")?;
            ty = DataType::Text;
        }
        let bad = || Error::UndefinedFunction(format!("function {name}({ty}) does not exist"));
        let (kind, output_type) = match name {
            "count" => (AggKind::Count, DataType::Int8),
            "sum" => (
                AggKind::Sum,
                match ty {
                    DataType::Int4 => DataType::Int8,
                    DataType::Int8 | DataType::Numeric => DataType::Numeric,
                    DataType::Float8 => DataType::Float8,
                    _ => return Err(bad()),
                },
            ),
            "avg" => (
                AggKind::Avg,
                match ty {
                    DataType::Int4 | DataType::Int8 | DataType::Numeric => DataType::Numeric,
                    DataType::Float8 => DataType::Float8,
                    _ => return Err(bad()),
                },
            ),
            "min" | "max" if ty == DataType::Jsonb => return Err(bad()),
            "min" => (AggKind::Min, ty),
            "max" => (AggKind::Max, ty),
            "bool_and" | "bool_or" if ty != DataType::Boolean => return Err(bad()),
            "bool_and" => (AggKind::BoolAnd, DataType::Boolean),
            _ => (AggKind::BoolOr, DataType::Boolean),
        };
        Ok(AggCall {
            kind,
            arg: Some(expr),
            distinct,
            input_type: ty,
            output_type,
        })
    }

    /// `first_value(x ORDER BY k, ...)` / `last_value(...)`: the value of
    /// the first (last) input row in that order. Bound as `min` (`max`) of
    /// an [`OrderedPair`] of the keys and the value, so views maintain it
    /// like any `min`; the pair's value is taken out above the aggregate.
    fn bind_positional(
        &self,
        name: &str,
        args: &[ast::Expr],
        order_by: &[ast::OrderByExpr],
    ) -> Result<AggCall> {
        let order_by = &ast::OrderByExpr::expand_nulls(order_by);
        let binder = Binder::new(self.input);
        let [arg] = args else {
            return Err(Error::UndefinedFunction(format!(
                "function {name} with {} arguments does not exist",
                args.len()
            )));
        };
        let Some(desc) = order_by.first().map(|o| o.desc) else {
            return Err(Error::NotSupported(format!(
                "{name} needs an ORDER BY inside its call: {name}(x ORDER BY y)"
            )));
        };
        if order_by.iter().any(|o| o.desc != desc) {
            return Err(Error::NotSupported(format!(
                "{name} with ORDER BY keys in different directions is not supported yet"
            )));
        }
        let (mut value, mut ty) = binder.bind(arg)?;
        if ty == DataType::Unknown {
            value = binder.bind_as(arg, DataType::Text, "argument")?;
            ty = DataType::Text;
        }
        let mut parts = Vec::with_capacity(order_by.len() + 1);
        for o in order_by {
            let (k, kty) = binder.bind(&o.expr)?;
            parts.push(if kty == DataType::Unknown {
                binder.bind_as(&o.expr, DataType::Text, "ORDER BY")?
            } else {
                k
            });
        }
        parts.push(value);
        // The first in ascending order is the least pair; in descending
        // order, the greatest. last_value is the other end.
        let greatest = desc != (name == "last_value");
        Ok(AggCall {
            kind: if greatest { AggKind::Max } else { AggKind::Min },
            arg: Some(Expr::Call(CallFn(Arc::new(OrderedPair)), parts)),
            distinct: false,
            input_type: DataType::Bytea,
            output_type: ty,
        })
    }

    /// `array_agg([DISTINCT] x [ORDER BY k, ...])`: the inputs' values as
    /// an array; with DISTINCT each value once, in the value's order (its
    /// ORDER BY may only name the value, as in PostgreSQL).
    fn bind_array_agg(
        &self,
        args: &[ast::Expr],
        order_by: &[ast::OrderByExpr],
        distinct: bool,
    ) -> Result<AggCall> {
        if distinct && order_by.iter().any(|o| args.first() != Some(&o.expr)) {
            return Err(Error::InvalidColumnReference(
                "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list"
                    .into(),
            ));
        }
        let order_by = &ast::OrderByExpr::expand_nulls(order_by);
        let binder = Binder::new(self.input);
        let [arg] = args else {
            return Err(Error::UndefinedFunction(format!(
                "function array_agg with {} arguments does not exist",
                args.len()
            )));
        };
        let desc = order_by.first().is_some_and(|o| o.desc);
        if order_by.iter().any(|o| o.desc != desc) {
            return Err(Error::NotSupported(
                "array_agg with ORDER BY keys in different directions is not supported yet".into(),
            ));
        }
        let (mut value, mut ty) = binder.bind(arg)?;
        if ty == DataType::Unknown {
            value = binder.bind_as(arg, DataType::Text, "argument")?;
            ty = DataType::Text;
        }
        if matches!(ty, DataType::Array(_)) {
            return Err(Error::NotSupported(
                "array_agg of arrays is not supported".into(),
            ));
        }
        let mut parts = Vec::with_capacity(order_by.len() + 1);
        // With DISTINCT the keys come from the value alone (its nullness,
        // so NULL sorts last, and itself): distinct pairs are distinct
        // values.
        if distinct {
            parts.push(Expr::IsNull(Box::new(value.clone()), false));
            parts.push(value.clone());
        } else {
            for o in order_by {
                parts.push(binder.bind(&o.expr)?.0);
            }
        }
        parts.push(value);
        Ok(AggCall {
            kind: AggKind::ArrayAgg {
                sorted: distinct || !order_by.is_empty(),
                desc,
            },
            arg: Some(Expr::Call(CallFn(Arc::new(OrderedPair)), parts)),
            distinct,
            input_type: DataType::Bytea,
            output_type: DataType::array_of(ty),
        })
    }

    /// The scope of the aggregate's output: synthetic group keys, then
    /// synthetic aggregate results.
    pub(super) fn output_scope(&self) -> Scope {
        let col = |kind: char, i: usize, ty: DataType| ScopeColumn {
            qualifier: None,
            name: format!("{SYNTHETIC}{kind}{i}"),
            ty,
            hidden: false,
            system: false,
            catalog_type: CatalogType::Plain,
            origin: None,
        };
        let mut columns: Vec<ScopeColumn> = self
            .group_types
            .iter()
            .enumerate()
            .map(|(i, t)| col('g', i, *t))
            .collect();
        columns.extend(
            self.aggs
                .iter()
                .enumerate()
                .map(|(i, a)| col('a', i, a.output_type)),
        );
        Scope {
            columns,
            star: None,
        }
    }
}

pub(super) fn contains_aggregate(e: &ast::Expr) -> bool {
    match e {
        ast::Expr::Function { name, args, .. } => {
            is_aggregate(name.as_str()) || args.iter().any(contains_aggregate)
        }
        ast::Expr::Literal(_)
        | ast::Expr::Identifier(_)
        | ast::Expr::Parameter(_)
        | ast::Expr::Subquery(_)
        | ast::Expr::Exists(_) => false,
        ast::Expr::InSubquery { expr, .. } => contains_aggregate(expr),
        ast::Expr::Unary { expr, .. }
        | ast::Expr::IsNull { expr, .. }
        | ast::Expr::Cast { expr, .. } => contains_aggregate(expr),
        ast::Expr::Binary { left, right, .. } => {
            contains_aggregate(left) || contains_aggregate(right)
        }
        ast::Expr::Case {
            operand,
            whens,
            else_result,
        } => {
            operand.as_deref().is_some_and(contains_aggregate)
                || whens
                    .iter()
                    .any(|(w, t)| contains_aggregate(w) || contains_aggregate(t))
                || else_result.as_deref().is_some_and(contains_aggregate)
        }
        ast::Expr::InList { expr, list, .. } => {
            contains_aggregate(expr) || list.iter().any(contains_aggregate)
        }
        ast::Expr::AnyArray { expr, array, .. } => {
            contains_aggregate(expr) || contains_aggregate(array)
        }
        ast::Expr::AggregateOrder(order) => order.iter().any(|o| contains_aggregate(&o.expr)),
        // A window's own function is not a grouping aggregate.
        ast::Expr::Window(w) => {
            let args_aggregate = match &w.func {
                ast::Expr::Function { args, .. } => args.iter().any(contains_aggregate),
                other => contains_aggregate(other),
            };
            args_aggregate
                || w.partition_by.iter().any(contains_aggregate)
                || w.order_by.iter().any(|o| contains_aggregate(&o.expr))
        }
        ast::Expr::IsDistinctFrom { left, right, .. } => {
            contains_aggregate(left) || contains_aggregate(right)
        }
        ast::Expr::Array(items) => items.iter().any(contains_aggregate),
        ast::Expr::ArraySubquery(_) => false,
        ast::Expr::Subscript { expr, index } => {
            contains_aggregate(expr) || contains_aggregate(index)
        }
        ast::Expr::Field { expr, .. } => contains_aggregate(expr),
        ast::Expr::Between {
            expr, low, high, ..
        } => contains_aggregate(expr) || contains_aggregate(low) || contains_aggregate(high),
        ast::Expr::Like {
            expr,
            pattern,
            escape,
            ..
        } => {
            contains_aggregate(expr)
                || contains_aggregate(pattern)
                || escape.as_deref().is_some_and(contains_aggregate)
        }
    }
}

/// Sort keys and a value as one byte string that orders like the keys
/// (each NULL after every value, as PostgreSQL sorts ascending), then the
/// value: `min` of such pairs is the value of the first row in key order.
/// Layout: per key a flag byte (1 value, 2 NULL) and its order-preserving
/// encoding; then the value's row encoding and its length (u32, BE).
#[derive(Debug)]
pub struct OrderedPair;

impl Callable for OrderedPair {
    fn call(&self, args: &[Value]) -> rivulet_expr::Result<Value> {
        let Some((value, keys)) = args.split_last() else {
            return Ok(Value::Null);
        };
        let mut out = Vec::new();
        for k in keys {
            if k.is_null() {
                out.push(2);
            } else {
                out.push(1);
                encode_value_ordered(&mut out, k);
            }
        }
        let v = encode_row(std::slice::from_ref(value));
        out.extend_from_slice(&v);
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        Ok(Value::Bytea(out))
    }
}

/// The value of an [`OrderedPair`] (NULL for none).
#[derive(Debug)]
pub(super) struct PairValue;

impl Callable for PairValue {
    fn call(&self, args: &[Value]) -> rivulet_expr::Result<Value> {
        let Some(Value::Bytea(b)) = args.first() else {
            return Ok(Value::Null);
        };
        pair_value(b)
    }

    fn name(&self) -> &'static str {
        "pair_value"
    }
}

impl OrderedPair {
    /// The value in a pair's bytes.
    pub fn value_of(b: &[u8]) -> rivulet_expr::Result<Value> {
        pair_value(b)
    }
}

fn pair_value(b: &[u8]) -> rivulet_expr::Result<Value> {
    {
        let corrupt = rivulet_expr::Error::Corrupted("ordered pair");
        let split = b.len().checked_sub(4).ok_or(corrupt.clone())?;
        let len = u32::from_be_bytes(b[split..].try_into().map_err(|_| corrupt.clone())?) as usize;
        let start = split.checked_sub(len).ok_or(corrupt.clone())?;
        let mut row = decode_row(&b[start..split])?;
        row.pop().ok_or(corrupt)
    }
}
