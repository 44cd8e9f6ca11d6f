//! Client libraries people already use, installed by their packages
//! (`scripts/install-test-deps.sh`), each driving a fresh server the way
//! applications do: node-postgres with pg-cursor, and SQLAlchemy 2 over
//! psycopg2, psycopg 3 reading subscriptions across kill -9, and pgJDBC
//! (beside PostgreSQL 15). The
//! scripts live in `tests/clients/` and exit non-zero on the first
//! difference from what PostgreSQL (or RisingWave, for subscriptions)
//! would answer. On the sending side,
//! Segment's own Webhooks (Actions) destination code signs and posts.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use rivulet_tests::{Server, TempDir};

/// Runs `program script HOST PORT` against a fresh server and checks it
/// succeeded.
async fn run_client(name: &str, program: &str, script: &Path) {
    let dir = TempDir::new(name);
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let (host, port) = s.pg_addr.rsplit_once(':').unwrap();
    let out = tokio::process::Command::new(program)
        .arg(script)
        .args([host, port])
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("{program} runs ({e}); scripts/install-test-deps.sh installs it")
        });
    assert!(
        out.status.success(),
        "{name} failed (scripts/install-test-deps.sh installs its packages):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn clients() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients")
}

/// What the client script `script` prints when run with `args`, which
/// must succeed (its packages come from scripts/install-test-deps.sh).
async fn python_output(script: &str, args: &[&str]) -> String {
    let out = tokio::process::Command::new("python3")
        .arg(clients().join(script))
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("python3 runs ({e})"));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{script} {args:?} failed (scripts/install-test-deps.sh installs its packages):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn node_postgres_and_cursors() {
    run_client("node-pg", "node", &clients().join("node/check.js")).await;
}

#[tokio::test]
async fn sqlalchemy_with_psycopg3() {
    run_client(
        "sqlalchemy-psycopg3",
        "python3",
        &clients().join("sqlalchemy_psycopg3_check.py"),
    )
    .await;
}

/// pandas over SQLAlchemy and psycopg2: read_sql (parameters, a view, an
/// index column), read_sql_table (with its reflection), chunks through a
/// server-side cursor, and to_sql appending rows.
#[tokio::test]
async fn pandas_read_sql_and_to_sql() {
    run_client("pandas", "python3", &clients().join("pandas_check.py")).await;
}

#[tokio::test]
async fn sqlalchemy_with_psycopg2() {
    run_client(
        "sqlalchemy",
        "python3",
        &clients().join("sqlalchemy_check.py"),
    )
    .await;
}

/// dbt through dbt-risingwave: debug, run (twice), test, docs generate
/// and a full refresh of materialized-view models.
#[tokio::test]
async fn dbt_with_dbt_risingwave() {
    run_client("dbt", "python3", &clients().join("dbt_check.py")).await;
}

/// The pgJDBC driver Debian packages (`libpostgresql-jdbc-java`), run by
/// the JDK's source launcher against Rivulet and against PostgreSQL 15:
/// batch update counts, UPDATE/DELETE counts, `LIMIT ? OFFSET ?`, jsonb
/// through `getObject`, SQLSTATEs, and DatabaseMetaData's schemas, tables
/// and types. Every line the program prints must be the same from both,
/// except those marked `info:`.
#[tokio::test]
async fn pgjdbc_matches_postgres() {
    let jar = Path::new("/usr/share/java/postgresql.jar");
    let program = clients().join("jdbc/JdbcCheck.java");
    let run = |url: String, user: &'static str| {
        let program = program.clone();
        async move {
            let out = tokio::process::Command::new("java")
                .arg("-cp")
                .arg(jar)
                .arg(&program)
                .args([url.as_str(), user])
                .output()
                .await
                .unwrap_or_else(|e| {
                    panic!("java runs ({e}); scripts/install-test-deps.sh installs it")
                });
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            assert!(
                out.status.success(),
                "pgJDBC check failed against {url} (scripts/install-test-deps.sh installs the JDK and the driver):\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            stdout
                .lines()
                .filter(|l| !l.starts_with("info:"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        }
    };
    let dir = TempDir::new("pgjdbc");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let rivulet = run(format!("jdbc:postgresql://{}/dev", s.pg_addr), "root").await;
    let oracle = rivulet_tests::oracle::Oracle::start().await.unwrap();
    let postgres = run(
        format!("jdbc:postgresql://127.0.0.1:{}/postgres", oracle.port()),
        "postgres",
    )
    .await;
    assert_eq!(rivulet, postgres);
    assert_eq!(rivulet.last().map(String::as_str), Some("jdbc ok"));
}

/// DBeaver's and Metabase's catalog queries (connecting, browsing a
/// schema's tables, columns, keys, indexes and privileges, syncing) over
/// psycopg2: what the tools read from each answer is the same from
/// Rivulet as from PostgreSQL 15 holding the same tables and views.
#[tokio::test]
async fn dbeaver_and_metabase_catalog_queries_match_postgres() {
    let run = |host: String, port: String, user: &'static str, db: &'static str| async move {
        python_output("catalog_tools_check.py", &[&host, &port, user, db]).await
    };
    let dir = TempDir::new("catalog-tools");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let (host, port) = s.pg_addr.rsplit_once(':').unwrap();
    let rivulet = run(host.to_string(), port.to_string(), "root", "dev").await;
    let oracle = rivulet_tests::oracle::Oracle::start().await.unwrap();
    // A fresh database: no extension functions, no comment.
    let created = tokio::process::Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", &oracle.port().to_string()])
        .args([
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            "CREATE DATABASE tools",
        ])
        .output()
        .await
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let postgres = run(
        "127.0.0.1".to_string(),
        oracle.port().to_string(),
        "postgres",
        "tools",
    )
    .await;
    // The one role is named differently on each side.
    assert_eq!(rivulet.replace("'root'", "'postgres'"), postgres);
    assert!(rivulet.ends_with("catalog tools ok\n"), "{rivulet}");
}

/// RowDescription as drivers read it (psycopg 3's result metadata): each
/// column's relation and attribute number where it is a relation's
/// column as such (tables, views, materialized views, through joins,
/// subqueries and grouping), and its type (`varchar` included), the same
/// as PostgreSQL's in text, binary and prepared results.
#[tokio::test]
async fn row_descriptions_match_postgres() {
    let run = |conninfo: String| async move {
        python_output("row_description_check.py", &[&conninfo]).await
    };
    let dir = TempDir::new("row-descriptions");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let (host, port) = s.pg_addr.rsplit_once(':').unwrap();
    let rivulet = run(format!("host={host} port={port} user=root dbname=dev")).await;
    let oracle = rivulet_tests::oracle::Oracle::start().await.unwrap();
    let postgres = run(format!(
        "host=127.0.0.1 port={} user=postgres dbname=postgres",
        oracle.port()
    ))
    .await;
    assert_eq!(rivulet, postgres);
    assert!(rivulet.ends_with("row descriptions ok\n"), "{rivulet}");
}

/// psycopg 3 reads subscriptions with subscription cursors while signed
/// webhooks arrive and the server is killed with SIGKILL three times: the
/// script starts and kills the server itself.
#[tokio::test]
async fn psycopg_subscribers_across_kill_9() {
    let dir = TempDir::new("subscription-kill");
    let out = tokio::process::Command::new("python3")
        .arg(clients().join("subscription_check.py"))
        .arg(rivulet_tests::rivulet_bin())
        .arg(&dir.0)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "subscription_check.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Segment's published destination code (`@segment/action-destinations`'
/// webhook destination run by `@segment/actions-core`) is the sender:
/// single events with POST, PUT and PATCH, a batch through `performBatch`
/// (signed over its first event), and a retry. The table stores exactly
/// the events Segment sent, each once.
#[tokio::test]
async fn segments_own_destination_code_sends() {
    let dir = TempDir::new("segment-npm");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "CREATE SECRET segment_secret AS 'npm-shared-secret';
         CREATE TABLE segment_events (data JSONB)
           WITH (connector = 'webhook', is_batched = true, dedup_field = 'messageId')
           VALIDATE SECRET segment_secret AS secure_compare(
             headers->>'x-signature', encode(hmac(segment_secret, data, 'sha1'), 'hex'));
         CREATE MATERIALIZED VIEW revenue AS
           SELECT data->'properties'->>'plan' AS plan,
                  sum((data->'properties'->>'revenue')::numeric) AS revenue
           FROM segment_events GROUP BY 1;",
    )
    .await
    .unwrap();
    let url = format!(
        "http://{}/webhook/dev/public/segment_events",
        s.webhook_addr
    );
    let out = tokio::process::Command::new("node")
        .arg(clients().join("segment/send.js"))
        .args([url.as_str(), "npm-shared-secret"])
        .output()
        .await
        .unwrap_or_else(|e| panic!("node runs ({e}); scripts/install-test-deps.sh installs it"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "Segment's sender failed (scripts/install-test-deps.sh installs it):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut sent: Vec<serde_json::Value> = Vec::new();
    for line in stdout.lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        sent.extend(r["sent"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(sent.len(), 6);
    let mut stored: Vec<serde_json::Value> = Vec::new();
    for row in c
        .query("SELECT data FROM segment_events", &[])
        .await
        .unwrap()
    {
        stored.push(row.get(0));
    }
    let key = |v: &serde_json::Value| v["messageId"].as_str().unwrap().to_string();
    sent.sort_by_key(key);
    stored.sort_by_key(key);
    assert_eq!(stored, sent, "exactly what Segment sent, each event once");
    let rows = rivulet_tests::rows(&c, "SELECT plan, revenue FROM revenue ORDER BY 1")
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Some("Free".to_string()), Some("120".to_string())],
            vec![Some("Pro".to_string()), Some("90".to_string())],
        ]
    );
}
