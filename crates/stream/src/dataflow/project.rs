//! Project: computes the output columns of each row. Keys pass through; an
//! update that changes no projected value disappears.

use rivulet_expr::{Expr, Row};

use super::{Change, EvalCtx};

fn row(exprs: &[Expr], r: &Row, ctx: &mut EvalCtx) -> Row {
    exprs.iter().map(|e| ctx.eval(e, r)).collect()
}

pub(super) fn apply(exprs: &[Expr], changes: Vec<Change>, ctx: &mut EvalCtx) -> Vec<Change> {
    changes
        .into_iter()
        .filter_map(|c| {
            let old = c.old.map(|r| row(exprs, &r, ctx));
            let new = c.new.map(|r| row(exprs, &r, ctx));
            (old != new).then_some(Change {
                key: c.key,
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
        let out: Vec<String> = apply(&e, changes, &mut EvalCtx::strict())
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(out, vec!["+ x", "- x\n+ y"]);
    }
}
