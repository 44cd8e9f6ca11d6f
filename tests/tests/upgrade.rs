//! A data directory written by the first storage format — sled files at
//! the top level, operator state nowhere, JSONB rows as tagged trees — is
//! moved to the LSM layout and upgraded by the real binary at start-up;
//! its views come back exact and keep working across restarts.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rivulet_storage::{keys, Engine, SledEngine, WriteBatch};
use rivulet_tests::{rows, Server, TempDir};

/// A row of one JSONB object of string values, as format 1 stored it:
/// column count, then the JSONB tree tag (9), object tag (6), pair count,
/// and per pair a length-prefixed key and a string (tag 4, length, bytes).
/// Keys must be given in PostgreSQL's key order.
fn v1_row(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = vec![1, 9, 6, pairs.len() as u8];
    for (k, v) in pairs {
        out.push(k.len() as u8);
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&[4, v.len() as u8]);
        out.extend_from_slice(v.as_bytes());
    }
    out
}

fn catalog_entry(id: u64, sql: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "id": id, "sql": sql })).unwrap()
}

async fn sorted(server: &Server, sql: &str) -> Vec<Vec<Option<String>>> {
    let c = server.connect().await.unwrap();
    let mut r = rows(&c, sql).await.unwrap();
    r.sort();
    r
}

fn row(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some(v.to_string())).collect()
}

#[tokio::test]
async fn a_format_1_sled_directory_is_upgraded_by_the_server() {
    let dir = TempDir::new("upgrade");
    {
        let sled = SledEngine::open(&dir.0, 8 << 20).unwrap();
        let mut b = WriteBatch::new();
        b.put(keys::meta("format_version"), b"1".to_vec());
        b.put(
            keys::catalog(1),
            catalog_entry(
                1,
                "CREATE TABLE events (data JSONB) WITH (connector = 'webhook')",
            ),
        );
        b.put(
            keys::catalog(2),
            catalog_entry(
                2,
                "CREATE MATERIALIZED VIEW per_type AS SELECT data->>'type' AS type, count(*) AS n, max(data->>'user') AS last FROM events GROUP BY 1",
            ),
        );
        for (i, (ty, user)) in [("track", "a"), ("page", "b"), ("track", "c")]
            .iter()
            .enumerate()
        {
            b.put(
                keys::row(1, &keys::row_id(i as u64 + 1)),
                v1_row(&[("type", ty), ("user", user)]),
            );
        }
        sled.apply(&b).unwrap();
        sled.flush().unwrap();
    }

    let server = Server::start(&dir.0, &[]).await.unwrap();
    assert!(dir.0.join("lsm").is_dir(), "moved to the LSM layout");
    assert!(!dir.0.join("conf").exists(), "sled files removed");
    assert_eq!(
        sorted(&server, "SELECT * FROM per_type").await,
        vec![row(&["page", "1", "b"]), row(&["track", "2", "c"])]
    );
    assert_eq!(
        sorted(&server, "SELECT data FROM events").await,
        vec![
            row(&[r#"{"type": "page", "user": "b"}"#]),
            row(&[r#"{"type": "track", "user": "a"}"#]),
            row(&[r#"{"type": "track", "user": "c"}"#]),
        ]
    );
    let (status, body) = server
        .post(
            "/webhook/dev/public/events",
            &[],
            r#"{"type":"track","user":"z"}"#,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let mut server = server;
    server.kill9().await.unwrap();
    let server = server.restart().await.unwrap();
    assert_eq!(
        sorted(&server, "SELECT * FROM per_type").await,
        vec![row(&["page", "1", "b"]), row(&["track", "3", "z"])]
    );
    assert_eq!(
        sorted(&server, "SELECT count(*) FROM events").await,
        vec![row(&["4"])]
    );
}
