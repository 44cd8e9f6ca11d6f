//! UNION [ALL], INTERSECT [ALL] and EXCEPT [ALL]: the inputs' columns
//! unified by position. INTERSECT and EXCEPT count each distinct row on
//! both sides (a UNION ALL of the sides, each row tagged with its side,
//! grouped by all columns) and keep it once, or — with ALL — as many times
//! as the lesser count (the difference), through `generate_series`.

use rivulet_expr::{ArithOp, BinaryOp, CmpOp, DataType, Expr, SetFunc, Value};
use rivulet_sql::{self as ast, Query};

use super::select::limit_offset;
use super::{AggCall, AggKind, Plan, Planner, QueryPlan};
use crate::binder::{coerce, common_type, make_array};
use crate::{Column, Error, Result};

impl Planner<'_> {
    /// `a UNION [ALL] b ...`: the inputs' columns unified by position, ordered
    /// and cut as a whole.
    pub(super) fn union(&self, q: &Query) -> Result<QueryPlan> {
        let core = |x: &Query| Query {
            unions: Vec::new(),
            order_by: Vec::new(),
            limit: None,
            offset: None,
            ..x.clone()
        };
        let branches: Vec<&Query> = std::iter::once(q)
            .chain(q.unions.iter().map(|(_, u)| u))
            .collect();
        let mut parts = Vec::with_capacity(branches.len());
        for b in &branches {
            parts.push(match &b.set_op {
                Some(s) => self.set_operation(s)?,
                None => self.select(&core(b))?,
            });
        }
        // A branch's bare NULL or string literal takes its type from the
        // other branches, as in PostgreSQL, not the text it defaults to.
        let typed = |b: usize, i: usize| match branches[b].projection.get(i) {
            Some(ast::SelectItem::Expr {
                expr: ast::Expr::Literal(ast::Literal::Null | ast::Literal::String(_)),
                ..
            }) => DataType::Unknown,
            _ => parts[b].output[i].ty,
        };
        let n = parts[0].output.len();
        if parts.iter().any(|p| p.output.len() != n) {
            return Err(Error::InvalidDefinition(
                "each UNION query must have the same number of columns".into(),
            ));
        }
        let mut types = Vec::with_capacity(n);
        for i in 0..n {
            let mut ty = DataType::Unknown;
            for b in 0..parts.len() {
                let t = typed(b, i);
                ty = common_type(ty, t).ok_or_else(|| {
                    Error::DatatypeMismatch(format!("UNION types {ty} and {t} cannot be matched"))
                })?;
            }
            types.push(resolved(ty));
        }
        let output = retyped(&parts[0].output, &types);
        let from: Vec<Vec<DataType>> = (0..parts.len())
            .map(|b| (0..n).map(|i| typed(b, i)).collect())
            .collect();
        let mut inputs = Vec::with_capacity(parts.len());
        for (p, from) in parts.into_iter().zip(from) {
            let exprs = (0..n)
                .map(|i| coerce(Expr::Column(i), from[i], types[i], ""))
                .collect::<Result<Vec<_>>>()?;
            inputs.push(Plan::Project {
                input: Box::new(p.root),
                exprs,
            });
        }
        // UNION is left-associative: `a UNION b UNION ALL c` keeps each
        // row of `a` and `b` once, then every row of `c`. The branches up
        // to the last plain UNION are made distinct together.
        let mut root = match q.unions.iter().rposition(|(all, _)| !all) {
            Some(last) => {
                let rest = inputs.split_off(last + 2);
                let distinct = Plan::Aggregate {
                    input: Box::new(Plan::Union { inputs }),
                    group_keys: (0..n).map(Expr::Column).collect(),
                    aggs: Vec::new(),
                };
                if rest.is_empty() {
                    distinct
                } else {
                    Plan::Union {
                        inputs: std::iter::once(distinct).chain(rest).collect(),
                    }
                }
            }
            None => Plan::Union { inputs },
        };
        let mut order_by = Vec::new();
        // NULLS FIRST/LAST against a direction's default: the key's
        // NULLness, a hidden column after the output, sorts first.
        let mut nullness = Vec::new();
        for o in &q.order_by {
            let pos = match &o.expr {
                ast::Expr::Literal(ast::Literal::Number(num)) => num
                    .parse::<usize>()
                    .ok()
                    .filter(|p| (1..=n).contains(p))
                    .map(|p| p - 1),
                ast::Expr::Identifier(parts) if parts.len() == 1 => {
                    output.iter().position(|c| c.name == parts[0].0)
                }
                _ => None,
            };
            let pos = pos.ok_or_else(|| {
                Error::NotSupported(
                    "ORDER BY on a UNION must name or number an output column".into(),
                )
            })?;
            if let Some(first) = o.nulls_override() {
                nullness.push(Expr::IsNull(Box::new(Expr::Column(pos)), false));
                order_by.push((n + nullness.len() - 1, first));
            }
            order_by.push((pos, o.desc));
        }
        if !nullness.is_empty() {
            root = Plan::Project {
                input: Box::new(root),
                exprs: (0..n).map(Expr::Column).chain(nullness).collect(),
            };
        }
        let (limit, offset) = limit_offset(q)?;
        Ok(QueryPlan {
            root,
            output,
            order_by,
            limit,
            offset,
        })
    }

    /// `left INTERSECT | EXCEPT [ALL] right`, unordered and uncut.
    fn set_operation(&self, s: &ast::SetOperation) -> Result<QueryPlan> {
        let name = match s.op {
            ast::SetOp::Intersect => "INTERSECT",
            ast::SetOp::Except => "EXCEPT",
        };
        let (left, right) = (self.query(&s.left)?, self.query(&s.right)?);
        let n = left.output.len();
        if right.output.len() != n {
            return Err(Error::Syntax(format!(
                "each {name} query must have the same number of columns"
            )));
        }
        let mut types = Vec::with_capacity(n);
        for (l, r) in left.output.iter().zip(&right.output) {
            let ty = common_type(l.ty, r.ty).ok_or_else(|| {
                Error::DatatypeMismatch(format!(
                    "{name} types {} and {} cannot be matched",
                    l.ty, r.ty
                ))
            })?;
            types.push(resolved(ty));
        }
        let output = retyped(&left.output, &types);
        // Each side's rows, cast to the common types, then 1 in the
        // column of the side they come from.
        let side = |p: QueryPlan, tag: [i32; 2]| -> Result<Plan> {
            let mut exprs = (0..n)
                .map(|i| coerce(Expr::Column(i), p.output[i].ty, types[i], ""))
                .collect::<Result<Vec<_>>>()?;
            exprs.extend(tag.map(|t| Expr::Literal(Value::Int4(t))));
            Ok(Plan::Project {
                input: Box::new(p.root),
                exprs,
            })
        };
        let count = |col: usize| AggCall {
            kind: AggKind::Sum,
            arg: Some(Expr::Column(col)),
            distinct: false,
            input_type: DataType::Int4,
            output_type: DataType::Int8,
        };
        let counted = Plan::Aggregate {
            input: Box::new(Plan::Union {
                inputs: vec![side(left, [1, 0])?, side(right, [0, 1])?],
            }),
            group_keys: (0..n).map(Expr::Column).collect(),
            aggs: vec![count(n), count(n + 1)],
        };
        let (l, r) = (Expr::Column(n), Expr::Column(n + 1));
        let cmp = |op, a: Expr, b: Expr| Expr::Binary(BinaryOp::Cmp(op), Box::new(a), Box::new(b));
        let zero = || Expr::Literal(Value::Int8(0));
        // How many times each row is kept: once (without ALL) when it is
        // on the left and, for INTERSECT, on the right too (for EXCEPT,
        // not).
        let once = |on_right| {
            Expr::Case(
                vec![(
                    Expr::And(
                        Box::new(cmp(CmpOp::Gt, l.clone(), zero())),
                        Box::new(cmp(on_right, r.clone(), zero())),
                    ),
                    Expr::Literal(Value::Int8(1)),
                )],
                Box::new(zero()),
            )
        };
        let times = match (s.op, s.all) {
            (ast::SetOp::Intersect, false) => once(CmpOp::Gt),
            (ast::SetOp::Except, false) => once(CmpOp::Eq),
            (ast::SetOp::Intersect, true) => {
                Expr::Case(vec![(cmp(CmpOp::Lt, l.clone(), r.clone()), l)], Box::new(r))
            }
            (ast::SetOp::Except, true) => {
                Expr::Binary(BinaryOp::Arith(ArithOp::Sub), Box::new(l), Box::new(r))
            }
        };
        let kept = Plan::Filter {
            input: Box::new(Plan::Project {
                input: Box::new(counted),
                exprs: (0..n).map(Expr::Column).chain([times]).collect(),
            }),
            predicate: cmp(CmpOp::Gt, Expr::Column(n), zero()),
        };
        let root = if s.all {
            // Each kept row once per number in 1..times.
            Plan::Project {
                input: Box::new(Plan::Unnest {
                    input: Box::new(kept),
                    funcs: vec![(
                        SetFunc::Series(&DataType::Int8),
                        make_array(vec![Expr::Literal(Value::Int8(1)), Expr::Column(n)]),
                    )],
                    outer: false,
                }),
                exprs: (0..n).map(Expr::Column).collect(),
            }
        } else {
            Plan::Project {
                input: Box::new(kept),
                exprs: (0..n).map(Expr::Column).collect(),
            }
        };
        Ok(QueryPlan {
            root,
            output,
            order_by: Vec::new(),
            limit: None,
            offset: 0,
        })
    }
}

/// A set operation's column type: untyped literals on every side are text.
fn resolved(ty: DataType) -> DataType {
    if ty == DataType::Unknown {
        DataType::Text
    } else {
        ty
    }
}

/// The first input's column names with the operation's types.
fn retyped(columns: &[Column], types: &[DataType]) -> Vec<Column> {
    columns
        .iter()
        .zip(types)
        .map(|(c, t)| Column::new(c.name.clone(), *t))
        .collect()
}
