//! Client libraries people already use, installed by their packages
//! (`scripts/install-test-deps.sh`), each driving a fresh server the way
//! applications do: node-postgres with pg-cursor, and SQLAlchemy 2 over
//! psycopg2. The scripts live in `tests/clients/` and exit non-zero on the
//! first difference from what PostgreSQL would answer.

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

#[tokio::test]
async fn node_postgres_and_cursors() {
    run_client("node-pg", "node", &clients().join("node/check.js")).await;
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
