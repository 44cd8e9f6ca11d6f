//! Helpers shared by the engine's integration tests.

// Each test binary uses some of these helpers.
#![allow(dead_code)]

use rivulet_expr::{Jsonb, Value};
use rivulet_stream::Database;

/// One parsed statement.
pub fn stmt(sql: &str) -> rivulet_sql::Statement {
    rivulet_sql::parse(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .remove(0)
}

/// A one-column row holding a JSONB document.
pub fn doc(s: &str) -> Vec<Value> {
    vec![Value::Jsonb(Jsonb::parse(s).unwrap())]
}

/// A relation's rows as sorted `a|b|c` lines in PostgreSQL's text forms.
pub async fn texts(db: &Database, rel: &str) -> Vec<String> {
    let rel = db.catalog().relation(rel).unwrap().clone();
    let mut out: Vec<String> = db
        .scan(rel)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| v.to_pg_text().unwrap_or("NULL".into()))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    out.sort();
    out
}
