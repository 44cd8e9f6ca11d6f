//! What integration-test harnesses rely on: listeners on port 0 with the
//! bound addresses announced on standard output and in a ready file, and
//! an ephemeral server that keeps everything in memory.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use rivulet_tests::{command, connect_to, listening, rivulet_bin, scalar, Hook, TempDir};
use tokio::process::{Child, Command};

/// Starts the binary in `dir` (its working directory) with `args`.
fn spawn(dir: &std::path::Path, args: &[&str]) -> Child {
    command().current_dir(dir).args(args).spawn().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ephemeral_server_announces_its_ports_and_leaves_nothing_behind() {
    let dir = TempDir::new("harness");
    let ready = dir.0.join("ready.json");
    let ready_arg = ready.display().to_string();
    let args = [
        "--ephemeral",
        "--pg-listen",
        "127.0.0.1:0",
        "--webhook-listen",
        "127.0.0.1:0",
        "--ready-file",
        &ready_arg,
    ];
    let mut child = spawn(&dir.0, &args);
    let (pg, hook) = listening(&mut child).await.unwrap();
    for addr in [&pg, &hook] {
        assert!(
            addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
            "{addr}"
        );
    }
    // The ready file says the same, with the process id.
    let text = std::fs::read_to_string(&ready).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["pg"], pg.as_str());
    assert_eq!(v["webhook"], hook.as_str());
    assert_eq!(v["pid"].as_u64(), child.id().map(u64::from));

    // A working server.
    let c = connect_to(&pg).await.unwrap();
    c.batch_execute(
        "CREATE TABLE events (data JSONB) WITH (connector = 'webhook');
         CREATE MATERIALIZED VIEW kinds AS SELECT data->>'kind' AS kind, count(*) AS n FROM events GROUP BY 1;",
    )
    .await
    .unwrap();
    let (status, body) = Hook::new(&hook)
        .post("/webhook/dev/public/events", &[], r#"{"kind":"push"}"#)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        scalar(&c, "SELECT n FROM kinds WHERE kind = 'push'")
            .await
            .unwrap()
            .as_deref(),
        Some("1")
    );

    // A clean stop removes the ready file; nothing else was written.
    let pid = child.id().unwrap().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the server did not stop on SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit}");
    let left: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");

    // The next ephemeral server starts empty.
    let mut child = spawn(&dir.0, &args);
    let (pg, _) = listening(&mut child).await.unwrap();
    let c = connect_to(&pg).await.unwrap();
    let err = c.simple_query("SELECT * FROM events").await.unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE)
    );
}

#[tokio::test]
async fn ephemeral_and_a_data_directory_are_refused_together() {
    let dir = TempDir::new("harness-conflict");
    let out = Command::new(rivulet_bin())
        .current_dir(&dir.0)
        .args(["--ephemeral", "--data-dir", "somewhere"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--ephemeral") && err.contains("--data-dir"),
        "{err}"
    );
    assert!(!dir.0.join("somewhere").exists());
}

/// `RUST_LOG` works like `RIVULET_LOG`; at debug every statement is logged
/// as it runs, a secret's value redacted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_log_debug_logs_statements_without_secrets() {
    use tokio::io::AsyncBufReadExt;
    let dir = TempDir::new("harness-log");
    let mut child = command()
        .current_dir(&dir.0)
        .env_remove("RIVULET_LOG")
        .env("RUST_LOG", "rivulet=debug")
        .args([
            "--ephemeral",
            "--pg-listen",
            "127.0.0.1:0",
            "--webhook-listen",
            "127.0.0.1:0",
        ])
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let announced = tokio::io::BufReader::new(stdout)
        .lines()
        .next_line()
        .await
        .unwrap()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&announced).unwrap();
    let c = connect_to(v["pg"].as_str().unwrap()).await.unwrap();
    c.batch_execute("CREATE SECRET s AS 'topsecret-value'; SELECT 40 + 2")
        .await
        .unwrap();
    child.start_kill().unwrap();
    let mut log = String::new();
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        log.push_str(&line);
        log.push('\n');
    }
    assert!(log.contains("SELECT 40 + 2"), "{log}");
    assert!(log.contains("CREATE SECRET s"), "{log}");
    assert!(!log.contains("topsecret-value"), "{log}");
}
