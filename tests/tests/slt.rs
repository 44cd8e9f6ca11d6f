//! The sqllogictest suite: every directory under `tests/slt` is one
//! scenario run against a fresh server, its `.slt` files in name order. A
//! file whose name contains `restart` is not run: the server is killed
//! with SIGKILL and restarted on the same data directory and ports instead.
//! `system` steps find the sender program in `$RIVULET_SEND` and the
//! webhook listener in `$RIVULET_WEBHOOK`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rivulet_tests::{Server, TempDir};
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};
use tokio_postgres::SimpleQueryMessage;

/// One psql-like connection to Rivulet.
struct Rivulet {
    client: tokio_postgres::Client,
}

/// A driver error, displayed with the server's message (what `statement
/// error <regex>` matches).
#[derive(Debug)]
struct DbError(tokio_postgres::Error);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_db_error() {
            Some(db) => write!(f, "{}: {}", db.code().code(), db.message()),
            None => write!(f, "{}", self.0),
        }
    }
}

impl std::error::Error for DbError {}

#[async_trait]
impl AsyncDB for Rivulet {
    type Error = DbError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DbError> {
        let messages = self.client.simple_query(sql).await.map_err(DbError)?;
        let mut rows = Vec::new();
        let mut columns = None;
        let mut count = 0;
        for m in messages {
            match m {
                SimpleQueryMessage::RowDescription(cols) => columns = Some(cols.len()),
                SimpleQueryMessage::Row(r) => rows.push(
                    (0..r.len())
                        .map(|i| match r.get(i) {
                            None => "NULL".to_string(),
                            Some("") => "(empty)".to_string(),
                            Some(v) => v.to_string(),
                        })
                        .collect(),
                ),
                SimpleQueryMessage::CommandComplete(n) => count = n,
                _ => {}
            }
        }
        Ok(match columns {
            Some(n) => DBOutput::Rows {
                types: vec![DefaultColumnType::Any; n],
                rows,
            },
            None => DBOutput::StatementComplete(count),
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "rivulet"
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await;
    }

    async fn run_command(
        mut command: std::process::Command,
    ) -> std::io::Result<std::process::Output> {
        tokio::process::Command::from(std::mem::replace(
            &mut command,
            std::process::Command::new("true"),
        ))
        .output()
        .await
    }

    fn error_sql_state(err: &DbError) -> Option<String> {
        err.0.as_db_error().map(|e| e.code().code().to_string())
    }
}

fn free_addr() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").to_string()
}

async fn runner(
    server: &Server,
) -> Runner<Rivulet, impl sqllogictest::MakeConnection<Conn = Rivulet>> {
    let (host, port) = server.pg_addr.rsplit_once(':').expect("addr");
    let conn = format!("host={host} port={port} user=root dbname=dev");
    Runner::new(move || {
        let conn = conn.clone();
        async move {
            let (client, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
                .await
                .map_err(DbError)?;
            tokio::spawn(connection);
            Ok(Rivulet { client })
        }
    })
}

async fn run_scenario(dir: &Path) {
    let data = TempDir::new("slt");
    let mut server = Server::start_on(&data.0, &free_addr(), &free_addr(), &[])
        .await
        .unwrap();
    std::env::set_var("RIVULET_WEBHOOK", &server.webhook_addr);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .collect();
    files.sort();
    let mut r = runner(&server).await;
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if name.contains("restart") {
            server.kill9().await.unwrap();
            server = server.restart_same_ports().await.unwrap();
            r = runner(&server).await;
            continue;
        }
        r.run_file_async(&file)
            .await
            .unwrap_or_else(|e| panic!("{}:\n{e}", file.display()));
    }
}

#[tokio::test]
async fn sqllogictest_suite() {
    std::env::set_var("RIVULET_SEND", env!("CARGO_BIN_EXE_rivulet-send"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("slt");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for dir in dirs {
        run_scenario(&dir).await;
    }
}
