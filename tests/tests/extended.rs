//! The extended query protocol through tokio-postgres: prepared statements,
//! inferred parameter types, binary results with the right type OIDs,
//! portals with a row limit, and errors inside an extended exchange.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use postgres_types::{FromSql, Type};
use rivulet_tests::{Server, TempDir};

/// A NUMERIC value's raw binary form (tokio-postgres has no numeric type
/// without extra crates), to check Rivulet's encoding byte for byte.
struct RawNumeric(Vec<u8>);

impl<'a> FromSql<'a> for RawNumeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawNumeric(raw.to_vec()))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

#[tokio::test]
async fn prepared_statements_with_binary_results() {
    let dir = TempDir::new("extended");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, data JSONB, score DOUBLE PRECISION)",
    )
    .await
    .unwrap();

    // Parameter types are inferred from where the parameters are used.
    let ins = c
        .prepare("INSERT INTO t VALUES ($1, $2, $3, $4)")
        .await
        .unwrap();
    assert_eq!(
        ins.params(),
        &[Type::INT8, Type::TEXT, Type::JSONB, Type::FLOAT8]
    );
    for (id, name) in [(1i64, "ann"), (2, "bob"), (3, "cy"), (4, "di"), (5, "ed")] {
        let data = serde_json::json!({"a": name, "n": id, "p": 2.50});
        let n = c
            .execute(&ins, &[&id, &name, &data, &(id as f64 / 4.0)])
            .await
            .unwrap();
        assert_eq!(n, 1);
    }

    // Arrays in binary results (tokio-postgres asks for binary).
    let arrays = c
        .query_one(
            "SELECT array_agg(id ORDER BY id), ARRAY['a', NULL], ARRAY[]::int[], current_schemas(true) FROM t",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(arrays.get::<_, Vec<i64>>(0), vec![1, 2, 3, 4, 5]);
    assert_eq!(
        arrays.get::<_, Vec<Option<String>>>(1),
        vec![Some("a".to_string()), None]
    );
    assert!(arrays.get::<_, Vec<i32>>(2).is_empty());
    assert_eq!(arrays.get::<_, Vec<String>>(3), ["pg_catalog", "public"]);

    let q = c
        .prepare("SELECT id, name, data, data->>'a' AS a, id > $1 AS big, score, (data->>'p')::numeric AS p FROM t WHERE name <> $2 ORDER BY id")
        .await
        .unwrap();
    assert_eq!(q.params(), &[Type::INT8, Type::TEXT]);
    let types: Vec<Type> = q.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(
        types,
        vec![
            Type::INT8,
            Type::TEXT,
            Type::JSONB,
            Type::TEXT,
            Type::BOOL,
            Type::FLOAT8,
            Type::NUMERIC
        ]
    );
    let rows = c.query(&q, &[&2i64, &"bob"]).await.unwrap();
    assert_eq!(rows.len(), 4);
    let first = &rows[0];
    assert_eq!(first.get::<_, i64>(0), 1);
    assert_eq!(first.get::<_, String>(1), "ann");
    assert_eq!(
        first.get::<_, serde_json::Value>(2),
        serde_json::json!({"a": "ann", "n": 1, "p": 2.5})
    );
    assert_eq!(first.get::<_, Option<String>>(3).as_deref(), Some("ann"));
    assert!(!first.get::<_, bool>(4));
    assert_eq!(first.get::<_, f64>(5), 0.25);
    // serde_json sent 2.5; PostgreSQL's binary numeric for it: 2 digits,
    // weight 0, positive, dscale 1, digits [2, 5000].
    assert_eq!(
        first.get::<_, RawNumeric>(6).0,
        vec![0, 2, 0, 0, 0, 0, 0, 1, 0, 2, 0x13, 0x88]
    );
    assert!(rows[3].get::<_, bool>(4));

    // NULL parameters and text results through the unnamed statement.
    let r = c
        .query(
            "SELECT $1::text IS NULL, coalesce($2, 'dflt')",
            &[&None::<String>, &None::<String>],
        )
        .await
        .unwrap();
    assert!(r[0].get::<_, bool>(0));
    assert_eq!(r[0].get::<_, String>(1), "dflt");

    // A portal fetched two rows at a time.
    let mut c = c;
    let tx = c.transaction().await.unwrap();
    let all = tx.prepare("SELECT id FROM t ORDER BY id").await.unwrap();
    let portal = tx.bind(&all, &[]).await.unwrap();
    let mut got = Vec::new();
    loop {
        let batch = tx.query_portal(&portal, 2).await.unwrap();
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() <= 2);
        got.extend(batch.iter().map(|r| r.get::<_, i64>(0)));
    }
    assert_eq!(got, vec![1, 2, 3, 4, 5]);
    tx.commit().await.unwrap();

    // Errors inside the extended protocol leave the connection usable.
    let e = c.prepare("SELEC 1").await.unwrap_err();
    assert_eq!(e.as_db_error().unwrap().code().code(), "42601");
    let e = c.query("SELECT 1 / $1", &[&0i32]).await.unwrap_err();
    assert_eq!(e.as_db_error().unwrap().code().code(), "22012");
    let e = c.prepare("SELECT $70000").await.unwrap_err();
    assert_eq!(e.as_db_error().unwrap().code().code(), "54000");
    let e = c.prepare("SELECT 1; SELECT 2").await.unwrap_err();
    assert_eq!(e.as_db_error().unwrap().code().code(), "42601");
    let r = c
        .query_one("SELECT count(*) FROM t WHERE id >= $1", &[&3i64])
        .await
        .unwrap();
    assert_eq!(r.get::<_, i64>(0), 3);
    // A statement prepared once runs many times.
    let one = c.prepare("SELECT name FROM t WHERE id = $1").await.unwrap();
    for id in 1..=5i64 {
        let name: String = c.query_one(&one, &[&id]).await.unwrap().get(0);
        assert!(name.len() >= 2, "{name}");
    }
    // DDL and DELETE through the extended protocol.
    c.execute("DELETE FROM t WHERE id = $1", &[&5i64])
        .await
        .unwrap();
    assert_eq!(
        c.query_one("SELECT count(*) FROM t", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        4
    );
    c.execute("CREATE MATERIALIZED VIEW names AS SELECT name FROM t", &[])
        .await
        .unwrap();
    assert_eq!(c.query("SELECT * FROM names", &[]).await.unwrap().len(), 4);
}

#[tokio::test]
async fn psycopg3_driver() {
    let dir = TempDir::new("psycopg");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let (host, port) = s.pg_addr.rsplit_once(':').unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/psycopg_check.py");
    let out = tokio::process::Command::new("python3")
        .arg(&script)
        .args([host, port])
        .output()
        .await
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "psycopg check failed (scripts/install-test-deps.sh installs psycopg):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
