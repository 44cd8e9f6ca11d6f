//! Views that only filter and project a table without a primary key keep
//! its row ids as their row keys, and store their rows in packs as the
//! table does: deletes that take rows out of packs, views on such views,
//! inserts and deletes in one group, and reopening all leave every view
//! equal to what its query gives.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rivulet_expr::Value;
use rivulet_storage::{keys, Engine, MemoryEngine};
use rivulet_stream::{Database, Options};

mod common;

use common::{stmt, texts};

/// Stored entries (rows or packs) of a relation.
fn entries(engine: &MemoryEngine, rel: u64) -> usize {
    let mut n = 0;
    engine
        .for_each_prefix(&keys::rows_prefix(rel), &mut |_, _| {
            n += 1;
            true
        })
        .unwrap();
    n
}

/// What `p` and `pp` must hold for the rows `(a, b)` of `e`.
fn expected(model: &[(i32, i32)]) -> (Vec<String>, Vec<String>) {
    let mut p: Vec<String> = model
        .iter()
        .filter(|(a, _)| a % 4 != 0)
        .map(|(a, b)| format!("{a}|{}", b * 2))
        .collect();
    let mut pp: Vec<String> = model
        .iter()
        .filter(|(a, b)| a % 4 != 0 && b * 2 > 10)
        .map(|(a, b)| format!("{a}|{}", b * 2))
        .collect();
    p.sort();
    pp.sort();
    (p, pp)
}

async fn check(db: &Database, model: &[(i32, i32)], when: &str) {
    let (p, pp) = expected(model);
    assert_eq!(texts(db, "p").await, p, "{when}: p");
    assert_eq!(texts(db, "pp").await, pp, "{when}: pp");
    for (name, rows) in [("p", p.len()), ("pp", pp.len())] {
        let rel = db.catalog().relation(name).unwrap().clone();
        assert_eq!(
            db.row_count_blocking(&rel).unwrap(),
            rows as i64,
            "{when}: count of {name}"
        );
    }
}

fn predicate(db: &Database, sql: &str) -> rivulet_expr::Expr {
    let catalog = db.catalog();
    let rel = catalog.relation("e").unwrap();
    rivulet_catalog::Binder::new(&rivulet_catalog::Scope::of_relation("e", &rel.columns))
        .bind_predicate(&rivulet_sql::parse_expr(sql).unwrap(), "WHERE")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projections_of_packed_tables_are_packed() {
    let engine = Arc::new(MemoryEngine::new());
    let db = Database::open(engine.clone(), Options::default()).unwrap();
    for sql in [
        "CREATE TABLE e (a INT, b INT)",
        "CREATE MATERIALIZED VIEW p AS SELECT a, b * 2 AS d FROM e WHERE a % 4 <> 0",
        "CREATE MATERIALIZED VIEW pp AS SELECT a, d FROM p WHERE d > 10",
    ] {
        db.execute_ddl(stmt(sql)).await.unwrap();
    }
    let e = db.catalog().relation("e").unwrap().id;
    let row = |a: i32| vec![Value::Int4(a), Value::Int4(a % 13)];
    let mut model: Vec<(i32, i32)> = Vec::new();
    for batch in 0..10 {
        let rows: Vec<_> = (batch * 100..batch * 100 + 100).map(row).collect();
        db.insert(e, rows).await.unwrap();
        model.extend((batch * 100..batch * 100 + 100).map(|a| (a, a % 13)));
    }
    check(&db, &model, "after inserts").await;
    for name in ["p", "pp"] {
        let id = db.catalog().relation(name).unwrap().id;
        let n = entries(&engine, id);
        assert!(n <= 40, "{name} is stored in {n} entries, not in packs");
    }

    // Rows taken out of packs here and there, then whole packs.
    for sql in ["a % 7 = 0", "a < 300", "a >= 500 AND a < 533"] {
        db.delete(e, Some(predicate(&db, sql))).await.unwrap();
        let f: Box<dyn Fn(i32) -> bool> = match sql {
            "a % 7 = 0" => Box::new(|a| a % 7 == 0),
            "a < 300" => Box::new(|a| a < 300),
            _ => Box::new(|a| (500..533).contains(&a)),
        };
        model.retain(|(a, _)| !f(*a));
        check(&db, &model, &format!("after DELETE WHERE {sql}")).await;
    }

    // Inserts and deletes racing, so that some share a group: a delete
    // may then meet rows not yet packed.
    for round in 0..20 {
        let first = 1000 + round * 50;
        let rows: Vec<_> = (first..first + 50).map(row).collect();
        let sql = format!("a % 3 = 0 AND a >= {}", first - 50);
        let filter = predicate(&db, &sql);
        let (ins, del) = tokio::join!(db.insert(e, rows), db.delete(e, Some(filter)));
        ins.unwrap();
        del.unwrap();
        // Whatever order the two ran in, the view must match the table.
        let table: Vec<(i32, i32)> = texts(&db, "e")
            .await
            .iter()
            .map(|l| {
                let (a, b) = l.split_once('|').unwrap();
                (a.parse().unwrap(), b.parse().unwrap())
            })
            .collect();
        model = table;
        check(&db, &model, &format!("race {round}")).await;
    }

    // Reopened over the same storage, and carrying on.
    db.shutdown();
    drop(db);
    let db = Database::open(engine.clone(), Options::default()).unwrap();
    check(&db, &model, "after reopening").await;
    db.insert(e, (5000..5100).map(row).collect()).await.unwrap();
    model.extend((5000..5100).map(|a| (a, a % 13)));
    db.delete(e, Some(predicate(&db, "a % 2 = 0")))
        .await
        .unwrap();
    model.retain(|(a, _)| a % 2 != 0);
    check(&db, &model, "after reopening and writing").await;
    db.delete(e, None).await.unwrap();
    check(&db, &[], "after deleting everything").await;
    for name in ["p", "pp"] {
        let id = db.catalog().relation(name).unwrap().id;
        assert_eq!(entries(&engine, id), 0, "{name} keeps empty entries");
    }
    db.shutdown();
}
