//! Project: computes the output columns of each row (optionally only of
//! rows passing a filter, fused so input rows are read in place). Keys pass
//! through; an update that changes no projected value disappears.

use rivulet_expr::{Expr, Row};

use super::{Change, EvalCtx};

fn row(exprs: &[Expr], r: &Row, ctx: &mut EvalCtx) -> Row {
    exprs.iter().map(|e| ctx.eval(e, r)).collect()
}

pub(super) fn apply(
    filter: Option<&Expr>,
    exprs: &[Expr],
    changes: &[Change],
    ctx: &mut EvalCtx,
) -> Vec<Change> {
    let map = |r: &Option<Row>, ctx: &mut EvalCtx| {
        r.as_ref()
            .filter(|r| filter.is_none_or(|p| ctx.holds(p, r)))
            .map(|r| row(exprs, r, ctx))
    };
    changes
        .iter()
        .filter_map(|c| {
            let old = map(&c.old, ctx);
            let new = map(&c.new, ctx);
            (old != new).then(|| Change {
                key: c.key.clone(),
                old,
                new,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivulet_expr::{BinaryOp, Jsonb, Value};

    #[test]
    fn unchanged_projection_is_silent() {
        // SELECT data->>'a'
        let e = vec![Expr::Binary(
            BinaryOp::JsonGetText,
            Box::new(Expr::Column(0)),
            Box::new(Expr::Literal(Value::Text("a".into()))),
        )];
        let j = |s: &str| vec![Value::Jsonb(Jsonb::parse(s).unwrap())];
        let changes = vec![
            Change {
                key: vec![1],
                old: None,
                new: Some(j(r#"{"a":"x"}"#)),
            },
            Change {
                key: vec![2],
                old: Some(j(r#"{"a":"x","b":1}"#)),
                new: Some(j(r#"{"a":"x","b":2}"#)),
            },
            Change {
                key: vec![3],
                old: Some(j(r#"{"a":"x"}"#)),
                new: Some(j(r#"{"a":"y"}"#)),
            },
        ];
        let out: Vec<String> = apply(None, &e, &changes, &mut EvalCtx::strict())
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(out, vec!["+ x", "- x\n+ y"]);
    }
}
