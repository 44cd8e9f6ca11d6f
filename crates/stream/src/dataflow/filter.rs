//! Filter: keeps rows for which the predicate is true. An update whose row
//! enters or leaves the filter becomes an insert or a delete.

use rivulet_expr::Expr;

use super::{Change, EvalCtx};

pub(super) fn apply(predicate: &Expr, changes: &[Change], ctx: &mut EvalCtx) -> Vec<Change> {
    changes
        .iter()
        .filter_map(|c| {
            let old = c.old.as_ref().filter(|r| ctx.holds(predicate, r));
            let new = c.new.as_ref().filter(|r| ctx.holds(predicate, r));
            (old != new).then(|| Change {
                key: c.key.clone(),
                old: old.cloned(),
                new: new.cloned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivulet_expr::{BinaryOp, CmpOp, Value};

    fn row(v: i32) -> Vec<Value> {
        vec![Value::Int4(v)]
    }

    #[test]
    fn updates_cross_the_filter() {
        // WHERE #0 > 10
        let p = Expr::Binary(
            BinaryOp::Cmp(CmpOp::Gt),
            Box::new(Expr::Column(0)),
            Box::new(Expr::Literal(Value::Int4(10))),
        );
        let changes = vec![
            Change {
                key: vec![1],
                old: None,
                new: Some(row(5)),
            },
            Change {
                key: vec![2],
                old: None,
                new: Some(row(50)),
            },
            Change {
                key: vec![3],
                old: Some(row(50)),
                new: Some(row(5)),
            },
            Change {
                key: vec![4],
                old: Some(row(5)),
                new: Some(row(50)),
            },
            Change {
                key: vec![5],
                old: Some(row(20)),
                new: Some(row(30)),
            },
        ];
        let out: Vec<String> = apply(&p, &changes, &mut EvalCtx::strict())
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(out, vec!["+ 50", "- 50", "+ 50", "- 20\n+ 30"]);
    }
}
