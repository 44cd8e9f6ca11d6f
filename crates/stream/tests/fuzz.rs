//! Property test of the binder and the expression evaluator: random
//! expressions over a table of awkward values (NULLs, extremes, JSON of
//! every kind), bound and run as a query. Each one either is refused with
//! an error or runs; none panics, however types and values combine.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use rivulet_catalog::{plan_query, Catalog};
use rivulet_expr::{Jsonb, Numeric, Value};
use rivulet_storage::MemoryEngine;
use rivulet_stream::{Change, Database, Dataflow, EvalCtx, MemState, Options};

/// The catalog with `t (a INT, n NUMERIC, s TEXT, data JSONB, ts TIMESTAMPTZ)`.
fn catalog() -> Arc<Catalog> {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let db = Database::open(Arc::new(MemoryEngine::new()), Options::default()).unwrap();
            rt.block_on(
                db.execute_ddl(
                    rivulet_sql::parse(
                        "CREATE TABLE t (a INT, n NUMERIC, s TEXT, data JSONB, ts TIMESTAMPTZ)",
                    )
                    .unwrap()
                    .remove(0),
                ),
            )
            .unwrap();
            let c = db.catalog();
            db.shutdown();
            c
        })
        .clone()
}

fn rows() -> Vec<Change> {
    let doc = |s: &str| Value::Jsonb(Jsonb::parse(s).unwrap());
    let num = |s: &str| Value::Numeric(Numeric::parse(s).unwrap());
    [
        vec![
            Value::Int4(1),
            num("12.50"),
            Value::Text("x".into()),
            doc(r#"{"k":[1,{"z":null}],"n":"7"}"#),
            Value::Timestamptz(0),
        ],
        vec![
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ],
        vec![
            Value::Int4(i32::MIN),
            num("-99999999999999999999.999"),
            Value::Text(String::new()),
            doc("[]"),
            Value::Timestamptz(i64::MAX / 2),
        ],
        vec![
            Value::Int4(i32::MAX),
            num("0"),
            Value::Text("%_\\".into()),
            doc("null"),
            Value::Timestamptz(-1),
        ],
        vec![
            Value::Int4(0),
            num("1e-20"),
            Value::Text("2015-12-12T19:11:01Z".into()),
            doc(r#""str""#),
            Value::Timestamptz(1),
        ],
        vec![
            Value::Int4(-1),
            num("3"),
            Value::Text("{a,b}".into()),
            doc("1e30"),
            Value::Null,
        ],
    ]
    .into_iter()
    .enumerate()
    .map(|(i, r)| Change::insert((i as u64).to_be_bytes().to_vec(), r))
    .collect()
}

/// The SQL types the generator writes expressions of.
#[derive(Debug, Clone, Copy)]
enum Ty {
    Int,
    Num,
    Text,
    Bool,
    Json,
    Ts,
}

/// A random expression of type `ty`, `depth` levels deep at most: typed
/// so that most bind and run, reaching the evaluator rather than stopping
/// at the binder; values (division by zero, bad casts, overflow) still
/// fail at run time.
fn gen(ty: Ty, depth: u32) -> BoxedStrategy<String> {
    use Ty::*;
    let leaves: &[&'static str] = match ty {
        Int => &["a", "1", "0", "-1", "2147483647", "(-2147483647 - 1)"],
        Num => &["n", "2.5", "1e300::numeric", "0.000", "-99.99"],
        Text => &[
            "s",
            "'x'",
            "''",
            "'12'",
            "'2015-12-12T19:11:01Z'",
            "data->>'n'",
        ],
        Bool => &["true", "false", "NULL::boolean"],
        Json => &[
            "data",
            "data->'k'",
            "data #> '{k,1}'",
            "'[1,\"a\",null]'::jsonb",
            "data->0",
        ],
        Ts => &["ts", "'2015-12-12'::timestamptz"],
    };
    let leaf = prop::sample::select(leaves.to_vec()).prop_map(str::to_string);
    if depth == 0 {
        return leaf.boxed();
    }
    let g = |t: Ty| gen(t, depth - 1);
    let two = |t: Ty, u: Ty| (gen(t, depth - 1), gen(u, depth - 1));
    let inner = match ty {
        Int => prop_oneof![
            two(Int, Int).prop_map(|(l, r)| format!("({l} + {r})")),
            two(Int, Int).prop_map(|(l, r)| format!("({l} * {r})")),
            two(Int, Int).prop_map(|(l, r)| format!("({l} / {r})")),
            two(Int, Int).prop_map(|(l, r)| format!("({l} % {r})")),
            g(Int).prop_map(|e| format!("abs({e})")),
            g(Int).prop_map(|e| format!("-({e})")),
            g(Text).prop_map(|e| format!("({e})::int")),
            g(Num).prop_map(|e| format!("({e})::int")),
            g(Text).prop_map(|e| format!("length({e})")),
            two(Bool, Int).prop_map(|(c, e)| format!("CASE WHEN {c} THEN {e} ELSE 7 END")),
            two(Int, Int).prop_map(|(l, r)| format!("coalesce({l}, {r})")),
        ]
        .boxed(),
        Num => prop_oneof![
            two(Num, Num).prop_map(|(l, r)| format!("({l} + {r})")),
            two(Num, Num).prop_map(|(l, r)| format!("({l} * {r})")),
            two(Num, Num).prop_map(|(l, r)| format!("({l} / {r})")),
            two(Num, Int).prop_map(|(l, r)| format!("({l} - {r})")),
            g(Num).prop_map(|e| format!("abs({e})")),
            g(Int).prop_map(|e| format!("({e})::numeric")),
            g(Text).prop_map(|e| format!("({e})::numeric")),
            g(Json).prop_map(|e| format!("({e} ->> 'n')::numeric")),
            two(Num, Num).prop_map(|(l, r)| format!("greatest({l}, {r})")),
        ]
        .boxed(),
        Text => prop_oneof![
            two(Text, Text).prop_map(|(l, r)| format!("({l} || {r})")),
            g(Text).prop_map(|e| format!("upper({e})")),
            two(Text, Int).prop_map(|(l, r)| format!("substr({l}, {r})")),
            two(Json, Text).prop_map(|(l, r)| format!("({l} ->> {r})")),
            two(Text, Text).prop_map(|(l, r)| format!("encode(hmac({l}, {r}, 'sha1'), 'hex')")),
            g(Json).prop_map(|e| format!("jsonb_typeof({e})")),
            g(Num).prop_map(|e| format!("({e})::text")),
            g(Ts).prop_map(|e| format!("({e})::text")),
            g(Json).prop_map(|e| format!("({e})::text")),
            two(Text, Text).prop_map(|(l, r)| format!("replace({l}, 'x', {r})")),
        ]
        .boxed(),
        Bool => prop_oneof![
            two(Int, Int).prop_map(|(l, r)| format!("({l} < {r})")),
            two(Text, Text).prop_map(|(l, r)| format!("({l} = {r})")),
            two(Num, Num).prop_map(|(l, r)| format!("({l} >= {r})")),
            two(Bool, Bool).prop_map(|(l, r)| format!("({l} AND {r})")),
            two(Bool, Bool).prop_map(|(l, r)| format!("({l} OR {r})")),
            g(Bool).prop_map(|e| format!("NOT ({e})")),
            two(Text, Text).prop_map(|(l, r)| format!("({l} LIKE {r})")),
            g(Json).prop_map(|e| format!("({e}) IS NULL")),
            g(Json).prop_map(|e| format!("({e} ? 'k')")),
            two(Json, Json).prop_map(|(l, r)| format!("({l} @> {r})")),
            two(Ts, Ts).prop_map(|(l, r)| format!("({l} < {r})")),
        ]
        .boxed(),
        Json => prop_oneof![
            two(Json, Text).prop_map(|(l, r)| format!("({l} -> {r})")),
            two(Json, Int).prop_map(|(l, r)| format!("({l} -> {r})")),
            two(Json, Json).prop_map(|(l, r)| format!("({l} || {r})")),
            two(Text, Int).prop_map(|(t, i)| format!("jsonb_build_object('k', {t}, 'v', {i})")),
            g(Text).prop_map(|e| format!("({e})::jsonb")),
            g(Json).prop_map(|e| format!("jsonb_build_object('a', {e}, 'b', {e})")),
        ]
        .boxed(),
        Ts => prop_oneof![
            g(Ts).prop_map(|e| format!("date_trunc('hour', {e})")),
            g(Text).prop_map(|e| format!("({e})::timestamptz")),
        ]
        .boxed(),
    };
    prop_oneof![1 => leaf, 3 => inner].boxed()
}

fn expr() -> impl Strategy<Value = String> {
    use Ty::*;
    prop::sample::select(vec![Int, Num, Text, Bool, Json, Ts]).prop_flat_map(|t| gen(t, 4))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(600), ..ProptestConfig::default() })]

    #[test]
    fn random_expressions_bind_and_run_or_err(e in expr(), w in expr(), shape in 0..3u8) {
        let sql = match shape {
            0 => format!("SELECT {e} FROM t WHERE {w} IS NOT NULL"),
            1 => format!("SELECT {e} AS g, count(*), min({w}), sum(a) FROM t GROUP BY 1"),
            _ => format!("SELECT DISTINCT {e}, {w} FROM t"),
        };
        let Ok(mut stmts) = rivulet_sql::parse(&sql) else { return Ok(()) };
        let rivulet_sql::Statement::Query(q) = stmts.remove(0) else { return Ok(()) };
        let Ok(plan) = plan_query(&q, &catalog()) else { return Ok(()) };
        let flow = Dataflow::new(0, &plan.root);
        let mut st = MemState::new();
        let mut ctx = EvalCtx::strict();
        let _ = flow.init(&mut ctx, &mut st);
        for rel in plan.root.distinct_scans() {
            let _ = flow.push(rel.id, &rows(), &mut ctx, &mut st);
        }
        let _ = ctx.finish();
    }
}
