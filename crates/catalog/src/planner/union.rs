//! UNION [ALL]: the inputs' columns unified by position.

use rivulet_expr::{DataType, Expr};
use rivulet_sql::{self as ast, Query};

use super::select::limit_offset;
use super::{Plan, Planner, QueryPlan};
use crate::binder::{coerce, common_type};
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
            parts.push(self.select(&core(b))?);
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
            types.push(if ty == DataType::Unknown {
                DataType::Text
            } else {
                ty
            });
        }
        let output: Vec<Column> = parts[0]
            .output
            .iter()
            .zip(&types)
            .map(|(c, t)| Column {
                name: c.name.clone(),
                ty: *t,
            })
            .collect();
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
        let mut root = Plan::Union { inputs };
        if q.unions.iter().any(|(all, _)| !all) {
            root = Plan::Aggregate {
                input: Box::new(root),
                group_keys: (0..n).map(Expr::Column).collect(),
                aggs: Vec::new(),
            };
        }
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
}
