//! Expressions that several views of one relation compute from its rows,
//! computed once per changed row for all of them.
//!
//! Dashboards over one webhook table read the same few JSON paths again and
//! again (`data->>'userId'`, `(data->>'timestamp')::timestamptz`, ...). For
//! each relation, the views whose every read of it is a projection, a
//! filter under one, or an aggregate's input are looked at together; an
//! expression they evaluate on its rows at least twice becomes a shared
//! column, computed once per row and appended to it ([`Shared::widen`]),
//! and those views get a second dataflow whose expressions read the shared
//! columns instead (built by [`Shared::plan`]). Rows never leave such a
//! view's bottom operators wide: a projection or an aggregate makes its
//! own rows.
//!
//! Only expressions every evaluation computes count (not the right side of
//! `AND`, say), so computing them ahead does no work evaluation could have
//! skipped. If one fails on some row (a cast of a non-number), the whole
//! batch goes through the views' plain dataflows instead, so a view's value
//! is what evaluating its own expression gives, error handling included.

use std::collections::HashMap;

use rivulet_catalog::Plan;
use rivulet_expr::{Expr, Row};

use super::{Change, Dataflow};

/// The shared columns of one relation.
pub struct Shared {
    /// The relation's own width: shared column `i` is at `width + i`.
    width: usize,
    /// Each shared column's expression over the row and the shared
    /// columns before it.
    exprs: Vec<Expr>,
}

/// An expression's identity for finding repeats (expressions have no
/// `Hash`; plans are compared once, when views change).
fn ident(e: &Expr) -> String {
    format!("{e:?}")
}

/// Whether `e` is worth computing once and safe to compute ahead: it reads
/// the row, does some work, and gives the same value every time.
fn shareable(e: &Expr) -> bool {
    if matches!(e, Expr::Column(_) | Expr::Literal(_)) || e.is_constant() {
        return false;
    }
    repeatable(e)
}

/// Whether `e` gives the same value every time it is evaluated on the same
/// row: no parameters, no calls that read storage, no volatile functions.
pub(crate) fn repeatable(e: &Expr) -> bool {
    let mut pure = true;
    e.walk(&mut |x| match x {
        Expr::Param(_) | Expr::Call(..) => pure = false,
        Expr::Func(f, _) if f.is_volatile() => pure = false,
        _ => {}
    });
    pure
}

/// Calls `f` on each expression of `plan` evaluated on `rel`'s rows (`f`
/// may replace it) and returns whether every scan of `rel` is read by a
/// projection or an aggregate, directly or through a filter; it stops at
/// the first that is not.
fn row_exprs(plan: &mut Plan, rel: u64, f: &mut impl FnMut(&mut Expr)) -> bool {
    let scans = |p: &Plan| matches!(p, Plan::Scan { rel: r } if r.id == rel);
    // A scan of `rel`, directly or under a filter.
    let reads = |p: &Plan| match p {
        Plan::Filter { input, .. } => scans(input),
        p => scans(p),
    };
    let filter = |p: &mut Plan, f: &mut dyn FnMut(&mut Expr)| {
        if let Plan::Filter { predicate, .. } = p {
            f(predicate);
        }
    };
    match plan {
        Plan::Scan { rel: r } => r.id != rel,
        Plan::Project { input, exprs } if reads(input) => {
            filter(input, f);
            exprs.iter_mut().for_each(f);
            true
        }
        Plan::Aggregate {
            input,
            group_keys,
            aggs,
        } if reads(input) => {
            filter(input, f);
            group_keys.iter_mut().for_each(&mut *f);
            aggs.iter_mut().filter_map(|a| a.arg.as_mut()).for_each(f);
            true
        }
        Plan::Values => true,
        Plan::Filter { input, .. }
        | Plan::Project { input, .. }
        | Plan::Aggregate { input, .. }
        | Plan::Unnest { input, .. }
        | Plan::Window { input, .. } => row_exprs(input, rel, f),
        // A plan that fails is dropped whole: stopping early is fine.
        Plan::Join { left, right, .. } => row_exprs(left, rel, f) && row_exprs(right, rel, f),
        Plan::Union { inputs } => inputs.iter_mut().all(|i| row_exprs(i, rel, f)),
    }
}

impl Shared {
    /// Finds the expressions the views `readers` (id and plan) of relation
    /// `rel`, `width` columns wide, share. Returns them (`None` if there
    /// are none) and, for each view that reads them, its plan rewritten to
    /// take them from the shared columns.
    pub fn plan(
        rel: u64,
        width: usize,
        readers: &[(u64, &Plan)],
    ) -> (Option<Shared>, Vec<(u64, Plan)>) {
        // Every view that can read wide rows, and how often each
        // expression is evaluated across them.
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut eligible: Vec<(u64, Plan)> = Vec::new();
        for &(id, plan) in readers {
            let mut plan = plan.clone();
            let mut seen: Vec<String> = Vec::new();
            let ok = row_exprs(&mut plan, rel, &mut |e| {
                e.visit_eager(&mut |x| {
                    if shareable(x) {
                        seen.push(ident(x));
                    }
                    true
                })
            });
            if ok {
                for s in seen {
                    *counts.entry(s).or_default() += 1;
                }
                eligible.push((id, plan));
            }
        }
        // The largest repeated expressions: where one is taken, its parts
        // are computed within it.
        let mut chosen: Vec<(String, Expr)> = Vec::new();
        for (_, plan) in &mut eligible {
            row_exprs(plan, rel, &mut |e| {
                e.visit_eager(&mut |x| {
                    let id = ident(x);
                    let repeated = shareable(x) && counts.get(&id).is_some_and(|&n| n > 1);
                    if repeated && !chosen.iter().any(|(c, _)| *c == id) {
                        chosen.push((id, x.clone()));
                    }
                    !repeated
                })
            });
        }
        if chosen.is_empty() {
            return (None, Vec::new());
        }
        // Smaller first, each then computed from those before it (a part
        // is always shorter than the whole).
        chosen.sort_by_key(|(id, _)| id.len());
        let mut slots: HashMap<String, usize> = HashMap::new();
        let mut exprs = Vec::with_capacity(chosen.len());
        for (id, e) in chosen {
            exprs.push(substitute(&e, &slots));
            slots.insert(id, width + exprs.len() - 1);
        }
        let rewritten = eligible
            .into_iter()
            .filter_map(|(id, mut plan)| {
                let mut changed = false;
                row_exprs(&mut plan, rel, &mut |e| {
                    let s = substitute(e, &slots);
                    changed |= s != *e;
                    *e = s;
                });
                changed.then_some((id, plan))
            })
            .collect();
        (Some(Shared { width, exprs }), rewritten)
    }

    /// The dataflows of the rewritten plans from [`Shared::plan`].
    pub fn flows(plans: Vec<(u64, Plan)>) -> impl Iterator<Item = (u64, Dataflow)> {
        plans
            .into_iter()
            .map(|(id, plan)| (id, Dataflow::new(id, &plan)))
    }

    /// `changes` with every row followed by the shared columns computed
    /// from it; `None` if any of them fails on some row (the caller then
    /// uses the views' plain dataflows).
    pub fn widen(&self, changes: &[Change]) -> Option<Vec<Change>> {
        let widen = |row: &Option<Row>| -> Option<Option<Row>> {
            let Some(row) = row else {
                return Some(None);
            };
            let mut wide = Vec::with_capacity(self.width + self.exprs.len());
            wide.extend_from_slice(row);
            for e in &self.exprs {
                let v = e.eval(&wide).ok()?;
                wide.push(v);
            }
            Some(Some(wide))
        };
        changes
            .iter()
            .map(|c| {
                Some(Change {
                    key: c.key.clone(),
                    old: widen(&c.old)?,
                    new: widen(&c.new)?,
                })
            })
            .collect()
    }
}

/// `e` with each subexpression that has a shared column (`slots`, by
/// identity) read from it.
fn substitute(e: &Expr, slots: &HashMap<String, usize>) -> Expr {
    e.rewrite(&mut |x| slots.get(&ident(x)).map(|&c| Expr::Column(c)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rivulet_expr::{Jsonb, Value};
    use rivulet_storage::MemoryEngine;

    use super::*;
    use crate::{Database, Options};

    async fn views(defs: &[&str]) -> (Database, u64, Vec<(u64, Plan)>) {
        let db = Database::open(Arc::new(MemoryEngine::new()), Options::default()).unwrap();
        let ddl = |sql: &str| rivulet_sql::parse(sql).unwrap().remove(0);
        db.execute_ddl(ddl("CREATE TABLE t (data JSONB, k INT)"))
            .await
            .unwrap();
        db.execute_ddl(ddl("CREATE TABLE u (k INT)")).await.unwrap();
        for (i, def) in defs.iter().enumerate() {
            db.execute_ddl(ddl(&format!("CREATE MATERIALIZED VIEW v{i} AS {def}")))
                .await
                .unwrap();
        }
        let catalog = db.catalog();
        let t = catalog.relation("t").unwrap().id;
        let plans = (0..defs.len())
            .map(|i| {
                let r = catalog.relation(&format!("v{i}")).unwrap();
                (r.id, r.view().unwrap().plan.clone())
            })
            .collect();
        (db, t, plans)
    }

    fn shared(t: u64, plans: &[(u64, Plan)]) -> (Option<Shared>, Vec<(u64, Plan)>) {
        let refs: Vec<(u64, &Plan)> = plans.iter().map(|(id, p)| (*id, p)).collect();
        Shared::plan(t, 2, &refs)
    }

    #[tokio::test]
    async fn repeated_paths_are_computed_once_for_the_views_that_can_read_them() {
        let (db, t, plans) = views(&[
            "SELECT data->>'event' AS e, (data->>'ts')::timestamptz AS ts FROM t",
            "SELECT data->>'event' AS e, count(*) FROM t GROUP BY 1",
            "SELECT date_trunc('minute', (data->>'ts')::timestamptz) AS m, count(DISTINCT data->>'user') FROM t WHERE k > 1 GROUP BY 1",
            "SELECT date_trunc('minute', (data->>'ts')::timestamptz) AS m FROM t WHERE k > 1",
            // Reads t in a join: keeps its plain operators.
            "SELECT data->>'event' AS e FROM t JOIN u ON t.k = u.k",
            // Evaluated only where the first condition fails: not counted.
            "SELECT k > 2 OR data->>'user' = 'a' AS x FROM t",
        ])
        .await;
        let (shared, rewritten) = shared(t, &plans);
        let shared = shared.unwrap();
        let names: Vec<String> = shared.exprs.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "(#1 > 1)",
                "(#0 ->> 'event'::text)",
                "CAST((#0 ->> 'ts'::text) AS timestamp with time zone)",
                // Computed from the cast's column.
                "date_trunc('minute'::text, #4)",
            ]
        );
        let ids: Vec<u64> = rewritten.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [plans[0].0, plans[1].0, plans[2].0, plans[3].0]);

        // A row widened by the four, and a batch where one fails.
        let row = |doc: &str| vec![Value::Jsonb(Jsonb::parse(doc).unwrap()), Value::Int4(3)];
        let good = Change::insert(
            vec![1],
            row(r#"{"event":"a","ts":"2026-11-30 10:11:12+00"}"#),
        );
        let wide = shared.widen(std::slice::from_ref(&good)).unwrap();
        let shown: Vec<String> = wide[0].new.as_ref().unwrap()[2..]
            .iter()
            .map(|v| v.to_pg_text().unwrap())
            .collect();
        assert_eq!(
            shown,
            ["t", "a", "2026-11-30 10:11:12+00", "2026-11-30 10:11:00+00"]
        );
        let bad = Change::insert(vec![2], row(r#"{"event":"a","ts":"soon"}"#));
        assert!(shared.widen(&[good, bad]).is_none());
        db.shutdown();
    }

    #[tokio::test]
    async fn nothing_is_shared_without_repeats() {
        let (db, t, plans) = views(&[
            "SELECT data->>'a' AS a FROM t",
            "SELECT data->>'b' AS b, count(*) FROM t GROUP BY 1",
        ])
        .await;
        let (shared, rewritten) = shared(t, &plans);
        assert!(shared.is_none() && rewritten.is_empty());
        db.shutdown();
    }
}
