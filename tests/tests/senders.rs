//! What senders do beyond a plain signed POST: other methods, gzip
//! bodies, headers stored as columns, and deliveries sent again (stored
//! once, also across `kill -9`), through the real binary.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use bytes::Bytes;
use rivulet_tests::sign::{github_sha256, segment, segment_track};
use rivulet_tests::{rows, scalar, sql_error, Server, TempDir};

const SECRET: &str = "TEST_WEBHOOK";

const SETUP: &str = "
CREATE SECRET s AS 'TEST_WEBHOOK';
CREATE TABLE seg (data JSONB)
  INCLUDE header 'User-Agent' AS agent
  INCLUDE header 'x-request-id' AS request_id
  WITH (connector = 'webhook', dedup_field = 'messageId')
  VALIDATE SECRET s AS secure_compare(headers->>'x-signature', encode(hmac(s, data, 'sha1'), 'hex'));
CREATE TABLE seg_batch (data JSONB)
  WITH (connector = 'webhook', is_batched = true, dedup_field = 'messageId', dedup_window = '2 seconds')
  VALIDATE SECRET s AS secure_compare(headers->>'x-signature', encode(hmac(s, data, 'sha1'), 'hex'));
CREATE TABLE gh (data JSONB)
  INCLUDE header 'x-github-event' AS event_type
  WITH (connector = 'webhook', dedup_header = 'X-GitHub-Delivery')
  VALIDATE SECRET s AS secure_compare(headers->>'x-hub-signature-256', 'sha256=' || encode(hmac(s, data, 'sha256'), 'hex'));
CREATE MATERIALIZED VIEW by_agent AS SELECT agent, count(*) AS n FROM seg GROUP BY agent;
CREATE MATERIALIZED VIEW gh_events AS SELECT event_type, data->>'action' AS action FROM gh;
";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

async fn send(
    s: &Server,
    method: &str,
    table: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> (u16, String) {
    s.hook()
        .request(
            method,
            &format!("/webhook/dev/public/{table}"),
            headers,
            body.into(),
        )
        .await
        .unwrap()
}

/// A Segment event signed as Segment signs it, sent with `method`.
async fn segment_event(
    s: &Server,
    method: &str,
    table: &str,
    body: &str,
    extra: &[(&str, &str)],
) -> (u16, String) {
    let (h, sig) = segment(SECRET, body.as_bytes());
    let mut headers = vec![(h, sig.as_str()), ("user-agent", "Segment (Actions)")];
    headers.extend_from_slice(extra);
    send(s, method, table, &headers, body.to_string()).await
}

async fn count(c: &tokio_postgres::Client, sql: &str) -> i64 {
    scalar(c, sql).await.unwrap().unwrap().parse().unwrap()
}

#[tokio::test]
async fn methods_gzip_headers_and_redelivery() {
    let dir = TempDir::new("senders");
    let mut s = Server::start(&dir.0, &["--webhook-max-body", "65536"])
        .await
        .unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(SETUP).await.unwrap();

    // Segment's destination may be set to POST, PUT or PATCH.
    for (i, method) in ["POST", "PUT", "PATCH"].into_iter().enumerate() {
        let body = segment_track(&format!("m-{method}"), &format!("u{i}"), "Signed Up");
        assert_eq!(
            segment_event(&s, method, "seg", &body, &[]).await,
            (200, String::new()),
            "{method}"
        );
    }
    let (status, answer) = segment_event(&s, "DELETE", "seg", "{}", &[]).await;
    assert_eq!(status, 405, "{answer}");
    assert!(answer.contains("use POST, PUT or PATCH"), "{answer}");

    // Included headers: by name regardless of case, NULL when absent.
    assert_eq!(
        rows(
            &c,
            "SELECT data->>'messageId', agent, request_id FROM seg ORDER BY 1"
        )
        .await
        .unwrap(),
        vec![
            vec![
                Some("m-PATCH".into()),
                Some("Segment (Actions)".into()),
                None
            ],
            vec![
                Some("m-POST".into()),
                Some("Segment (Actions)".into()),
                None
            ],
            vec![Some("m-PUT".into()), Some("Segment (Actions)".into()), None],
        ]
    );
    let body = segment_track("m-rid", "u9", "Signed Up");
    assert_eq!(
        segment_event(&s, "POST", "seg", &body, &[("X-Request-ID", "req-7")])
            .await
            .0,
        200
    );
    assert_eq!(
        scalar(
            &c,
            "SELECT request_id FROM seg WHERE data->>'messageId' = 'm-rid'"
        )
        .await
        .unwrap(),
        Some("req-7".into())
    );
    assert_eq!(
        rows(&c, "SELECT agent, n FROM by_agent").await.unwrap(),
        vec![vec![Some("Segment (Actions)".into()), Some("4".into())]]
    );

    // gzip: signed over the JSON, sent compressed.
    let body = segment_track("m-gz", "u5", "Order Completed");
    let (h, sig) = segment(SECRET, body.as_bytes());
    let headers = [
        (h, sig.as_str()),
        ("content-encoding", "gzip"),
        ("user-agent", "gz"),
    ];
    assert_eq!(
        send(&s, "POST", "seg", &headers, gzip(body.as_bytes())).await,
        (200, String::new())
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM seg WHERE agent = 'gz'").await,
        1
    );
    let (status, answer) = send(&s, "POST", "seg", &headers, b"\x1f\x8b not gzip".to_vec()).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("not valid gzip"), "{answer}");
    let br = [(h, sig.as_str()), ("content-encoding", "br")];
    let (status, answer) = send(&s, "POST", "seg", &br, body.clone()).await;
    assert_eq!(
        (status, answer.as_str()),
        (
            415,
            r#"{"error":"unsupported Content-Encoding \"br\"; send gzip or identity"}"#
        )
    );
    // The body limit holds for what the body inflates to.
    let bomb = format!("{{\"pad\":\"{}\"}}", "0".repeat(10 << 20));
    let (h2, sig2) = segment(SECRET, bomb.as_bytes());
    let (status, answer) = send(
        &s,
        "POST",
        "seg",
        &[(h2, sig2.as_str()), ("content-encoding", "gzip")],
        gzip(bomb.as_bytes()),
    )
    .await;
    assert_eq!(status, 413, "{answer}");

    // Refusals can be read from SQL, without the body.
    let body = "{\"card\": \"4111-SECRET-PAYLOAD\"";
    assert_eq!(segment_event(&s, "POST", "seg", body, &[]).await.0, 422);
    assert_eq!(send(&s, "POST", "nope", &[], "{}").await.0, 404);
    let refused = rows(
        &c,
        "SELECT table_name, status, reason, body_bytes > 0, remote_addr LIKE '127.0.0.1:%' \
         FROM rivulet_catalog.webhook_rejections ORDER BY at",
    )
    .await
    .unwrap();
    let t = |v: &str| Some(v.to_string());
    assert_eq!(
        refused
            .iter()
            .map(|r| (r[0].clone(), r[1].clone(), r[3].clone(), r[4].clone()))
            .collect::<Vec<_>>(),
        vec![
            (t("seg"), t("405"), t("f"), t("t")),
            (t("seg"), t("400"), t("t"), t("t")),
            (t("seg"), t("415"), t("t"), t("t")),
            (t("seg"), t("413"), t("t"), t("t")),
            (t("seg"), t("422"), t("t"), t("t")),
            (t("nope"), t("404"), t("f"), t("t")),
        ]
    );
    assert_eq!(
        refused[0][2],
        t("method DELETE not allowed; use POST, PUT or PATCH")
    );
    assert_eq!(refused[4][2], t("invalid JSON"));
    let everything = rows(&c, "SELECT * FROM rivulet_catalog.webhook_rejections")
        .await
        .unwrap();
    assert!(
        !format!("{everything:?}").contains("SECRET-PAYLOAD"),
        "{everything:?}"
    );
    assert_eq!(
        rows(&c, "SELECT table_name, accepted, rows, rejected, last_status FROM rivulet_catalog.webhook_stats").await.unwrap(),
        // The 405 came before the table was looked up.
        vec![vec![t("seg"), t("5"), t("5"), t("4"), t("422")]]
    );

    // A delivery sent again is answered 200 and stored once.
    let before = count(&c, "SELECT count(*) FROM seg").await;
    let body = segment_track("m-POST", "u0", "Signed Up");
    assert_eq!(
        segment_event(&s, "POST", "seg", &body, &[]).await,
        (200, String::new())
    );
    assert_eq!(count(&c, "SELECT count(*) FROM seg").await, before);
    assert_eq!(
        count(
            &c,
            "SELECT n FROM by_agent WHERE agent = 'Segment (Actions)'"
        )
        .await,
        count(
            &c,
            "SELECT count(*) FROM seg WHERE agent = 'Segment (Actions)'"
        )
        .await
    );

    // Within one batch, and across batches.
    let batch = [
        segment_track("b1", "u1", "A"),
        segment_track("b2", "u2", "A"),
        segment_track("b1", "u1", "A"),
    ]
    .join("\n");
    assert_eq!(
        segment_event(&s, "POST", "seg_batch", &batch, &[]).await.0,
        200
    );
    let batch = [
        segment_track("b2", "u2", "A"),
        segment_track("b3", "u3", "A"),
    ]
    .join("\n");
    assert_eq!(
        segment_event(&s, "POST", "seg_batch", &batch, &[]).await.0,
        200
    );
    assert_eq!(
        rows(&c, "SELECT data->>'messageId' FROM seg_batch ORDER BY 1")
            .await
            .unwrap(),
        vec![
            vec![Some("b1".into())],
            vec![Some("b2".into())],
            vec![Some("b3".into())]
        ]
    );

    // GitHub: one delivery id per request, in a header.
    let gh = |action: &str| format!(r#"{{"action":"{action}","sender":{{"login":"octocat"}}}}"#);
    for (delivery, action) in [("d-1", "opened"), ("d-2", "closed"), ("d-1", "opened")] {
        let body = gh(action);
        let (h, sig) = github_sha256(SECRET, body.as_bytes());
        let headers = [
            (h, sig.as_str()),
            ("x-github-event", "issues"),
            ("x-github-delivery", delivery),
        ];
        assert_eq!(
            send(&s, "POST", "gh", &headers, body).await,
            (200, String::new())
        );
    }
    assert_eq!(
        rows(&c, "SELECT event_type, action FROM gh_events ORDER BY 2")
            .await
            .unwrap(),
        vec![
            vec![Some("issues".into()), Some("closed".into())],
            vec![Some("issues".into()), Some("opened".into())],
        ]
    );

    // Retries after kill -9 are still recognized; the DDL came back whole.
    s.kill9().await.unwrap();
    let s = s.restart().await.unwrap();
    let c = s.connect().await.unwrap();
    let body = segment_track("m-PUT", "u1", "Signed Up");
    assert_eq!(segment_event(&s, "POST", "seg", &body, &[]).await.0, 200);
    let body = gh("opened");
    let (h, sig) = github_sha256(SECRET, body.as_bytes());
    let headers = [
        (h, sig.as_str()),
        ("x-github-event", "issues"),
        ("x-github-delivery", "d-1"),
    ];
    assert_eq!(send(&s, "POST", "gh", &headers, body).await.0, 200);
    assert_eq!(count(&c, "SELECT count(*) FROM seg").await, before);
    assert_eq!(count(&c, "SELECT count(*) FROM gh").await, 2);
    let body = segment_track("m-new", "u1", "Signed Up");
    assert_eq!(
        segment_event(&s, "POST", "seg", &body, &[("x-request-id", "r")])
            .await
            .0,
        200
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM seg WHERE request_id = 'r'").await,
        1
    );

    // Past its window an id is new again.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let batch = segment_track("b1", "u1", "A");
    assert_eq!(
        segment_event(&s, "POST", "seg_batch", &batch, &[]).await.0,
        200
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM seg_batch WHERE data->>'messageId' = 'b1'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn sender_options_are_checked() {
    let dir = TempDir::new("sender-ddl");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    let cases = [
        ("CREATE TABLE t (data JSONB) WITH (connector = 'webhook', dedup_window = '1 hour')", "22023", "requires \"dedup_field\" or \"dedup_header\""),
        ("CREATE TABLE t (data JSONB) WITH (connector = 'webhook', dedup_field = 'id', dedup_header = 'x-id')", "22023", "give one of"),
        ("CREATE TABLE t (data JSONB) WITH (connector = 'webhook', dedup_field = 'id', dedup_window = '-1 hour')", "22023", "must be more than 0"),
        ("CREATE TABLE t (data JSONB) WITH (connector = 'webhook', dedup_field = 'id', dedup_window = 'soon')", "22023", "invalid input syntax for type interval"),
        ("CREATE TABLE t (data JSONB) WITH (connector = 'webhook', dedup_header = 'x id')", "22023", "is not an HTTP header name"),
        ("CREATE TABLE t (data JSONB) WITH (dedup_field = 'id')", "22023", "require connector = 'webhook'"),
        ("CREATE TABLE t (data JSONB) INCLUDE header 'x' AS x", "0A000", "only supported on tables with connector = 'webhook'"),
        ("CREATE TABLE t (data JSONB) INCLUDE header 'x' WITH (connector = 'webhook')", "42601", "needs AS"),
        ("CREATE TABLE t (data JSONB) INCLUDE key 'x' AS x WITH (connector = 'webhook')", "0A000", "INCLUDE key is not supported"),
        ("CREATE TABLE t (data JSONB) INCLUDE header 'a' AS data WITH (connector = 'webhook')", "42701", "data"),
        ("CREATE TABLE t (data JSONB DEFAULT '{}') WITH (connector = 'webhook')", "0A000", "column \"data\": DEFAULT is not supported on webhook tables"),
        ("CREATE TABLE t (id int UNIQUE, n int) WITH (connector = 'webhook')", "0A000", "column \"id\": UNIQUE is not supported on webhook tables"),
        ("CREATE TABLE t (n int CHECK (n > 0)) WITH (connector = 'webhook')", "0A000", "CHECK is not supported on webhook tables"),
        ("CREATE TABLE t (n int, m int GENERATED ALWAYS AS (n + 1) STORED) WITH (connector = 'webhook')", "0A000", "generated column is not supported on webhook tables"),
        ("CREATE TABLE t (n int, m int AS n + 1) WITH (connector = 'webhook')", "0A000", "generated column is not supported on webhook tables"),
        ("CREATE TABLE t (n int DEFAULT 1)", "0A000", "column \"n\": DEFAULT is not supported"),
    ];
    for (sql, state, msg) in cases {
        let (code, text) = sql_error(&c, sql).await;
        assert_eq!(code, state, "{sql}: {text}");
        assert!(text.contains(msg), "{sql}: {text}");
    }
    let (code, text) = sql_error(
        &c,
        "CREATE TABLE t (data JSONB NOT NULL) WITH (connector = 'webhook')",
    )
    .await;
    assert_eq!(
        (code.as_str(), text.as_str()),
        (
            "0A000",
            "column \"data\": NOT NULL is not supported on webhook tables"
        )
    );
    // A table without VALIDATE is created, with a notice saying what that
    // means.
    let (host, port) = s.pg_addr.rsplit_once(':').unwrap();
    let out = std::process::Command::new("psql")
        .args(["-h", host, "-p", port, "-d", "dev", "-U", "root", "-X"])
        .args([
            "-c",
            "CREATE TABLE open_hook (data JSONB) WITH (connector = 'webhook')",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "CREATE TABLE");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "NOTICE:  table \"open_hook\" has no VALIDATE: it accepts unsigned requests from anyone who can reach the webhook port"
    );
    c.batch_execute("CREATE TABLE t (data JSONB) INCLUDE header 'X-Trace' AS trace WITH (connector = 'webhook', dedup_header = 'Idempotency-Key', dedup_window = '90 minutes')").await.unwrap();
    let shown = rows(&c, "SHOW CREATE TABLE t").await.unwrap();
    let ddl = shown[0][1].clone().unwrap();
    assert!(ddl.contains("INCLUDE header 'X-Trace' AS trace"), "{ddl}");
    assert!(ddl.contains("dedup_window = '90 minutes'"), "{ddl}");
    assert_eq!(
        rows(&c, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position").await.unwrap(),
        vec![
            vec![Some("data".into()), Some("jsonb".into())],
            vec![Some("trace".into()), Some("text".into())],
        ]
    );
}

#[tokio::test]
async fn typed_tables_take_fields_by_name() {
    let dir = TempDir::new("typed");
    let mut s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "CREATE SECRET s AS 'TEST_WEBHOOK';
         CREATE TABLE orders (id varchar PRIMARY KEY, amount numeric, qty int, paid boolean,
                              at timestamptz, meta jsonb)
           INCLUDE header 'x-shop' AS shop
           WITH (connector = 'webhook', is_batched = true)
           VALIDATE SECRET s AS secure_compare(headers->>'x-signature', encode(hmac(s, payload, 'sha1'), 'hex'));
         CREATE MATERIALIZED VIEW revenue AS SELECT shop, sum(amount * qty) AS total, count(*) AS n FROM orders GROUP BY shop;",
    )
    .await
    .unwrap();
    let post = |body: &'static str| {
        let (h, sig) = segment(SECRET, body.as_bytes());
        let s = &s;
        async move {
            send(
                s,
                "POST",
                "orders",
                &[(h, sig.as_str()), ("x-shop", "north")],
                body,
            )
            .await
        }
    };
    let ok = r#"{"id":"o-1","amount":"12.50","qty":2,"paid":true,"at":"2026-11-29T10:00:00Z","meta":{"via":"web"},"extra":"ignored"}
{"id":"o-2","amount":7,"qty":1}"#;
    assert_eq!(post(ok).await, (200, String::new()));
    assert_eq!(
        rows(
            &c,
            "SELECT id, amount, qty, paid, at, meta, shop FROM orders ORDER BY id"
        )
        .await
        .unwrap(),
        vec![
            vec![
                Some("o-1".into()),
                Some("12.50".into()),
                Some("2".into()),
                Some("t".into()),
                Some("2026-11-29 10:00:00+00".into()),
                Some(r#"{"via": "web"}"#.into()),
                Some("north".into())
            ],
            vec![
                Some("o-2".into()),
                Some("7".into()),
                Some("1".into()),
                None,
                None,
                None,
                Some("north".into())
            ],
        ]
    );
    assert_eq!(
        rows(&c, "SELECT shop, total, n FROM revenue")
            .await
            .unwrap(),
        vec![vec![
            Some("north".into()),
            Some("32.00".into()),
            Some("2".into())
        ]]
    );
    // A key seen again replaces its row.
    assert_eq!(post(r#"{"id":"o-2","amount":8,"qty":1}"#).await.0, 200);
    assert_eq!(
        rows(&c, "SELECT total, n FROM revenue").await.unwrap(),
        vec![vec![Some("33.00".into()), Some("2".into())]]
    );
    // Refused whole, with 422: a missing key, a value of the wrong type, not
    // an object; the reason kept for SQL does not quote the value.
    for (body, msg) in [
        (
            r#"{"amount":1}"#,
            "primary key column \"id\" is missing or null",
        ),
        (
            r#"{"id":"o-3","qty":"many"}"#,
            "column \"qty\": invalid input syntax for type integer: \"many\"",
        ),
        ("[1]", "expected a JSON object"),
    ] {
        let (status, answer) = post(body).await;
        assert_eq!(status, 422, "{body}");
        let error: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert!(error["error"].as_str().unwrap().contains(msg), "{answer}");
    }
    assert_eq!(
        scalar(
            &c,
            "SELECT reason FROM rivulet_catalog.webhook_rejections WHERE reason LIKE '%qty%'"
        )
        .await
        .unwrap(),
        Some("failed to decode webhook JSON payload: column \"qty\" is not a valid integer".into())
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM orders").await.unwrap(),
        Some("2".into())
    );
    // The definition survives a restart.
    s.kill9().await.unwrap();
    let s = s.restart().await.unwrap();
    let c = s.connect().await.unwrap();
    let body = r#"{"id":"o-4","amount":1,"qty":1}"#;
    let (h, sig) = segment(SECRET, body.as_bytes());
    assert_eq!(
        send(
            &s,
            "POST",
            "orders",
            &[(h, sig.as_str()), ("x-shop", "south")],
            body
        )
        .await
        .0,
        200
    );
    assert_eq!(
        rows(&c, "SELECT shop, total FROM revenue ORDER BY 1")
            .await
            .unwrap(),
        vec![
            vec![Some("north".into()), Some("33.00".into())],
            vec![Some("south".into()), Some("1".into())]
        ]
    );
}

#[tokio::test]
async fn meta_verification_and_its_errors() {
    let dir = TempDir::new("meta");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "CREATE SECRET meta_app AS 'app-secret';
         CREATE SECRET meta_token AS 'tok 123';
         CREATE TABLE whatsapp (data JSONB)
           WITH (connector = 'webhook', url_verification = 'meta', verify_token = 'meta_token')
           VALIDATE SECRET meta_app AS secure_compare(headers->>'x-hub-signature-256',
             'sha256=' || encode(hmac(meta_app, data, 'sha256'), 'hex'));",
    )
    .await
    .unwrap();
    let get = |query: &'static str| {
        let hook = s.hook();
        async move {
            hook.request(
                "GET",
                &format!("/webhook/dev/public/{query}"),
                &[],
                Bytes::new(),
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(
        get("whatsapp?hub.mode=subscribe&hub.verify_token=tok+123&hub.challenge=1158201444").await,
        (200, "1158201444".to_string())
    );
    assert_eq!(
        get("whatsapp?hub.mode=subscribe&hub.verify_token=tok%20123&hub.challenge=x%2By")
            .await
            .1,
        "x+y"
    );
    assert_eq!(
        get("whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
            .await
            .0,
        403
    );
    assert_eq!(
        get("whatsapp?hub.mode=subscribe&hub.verify_token=tok+123")
            .await
            .0,
        400
    );
    assert_eq!(get("whatsapp").await.0, 400);
    c.batch_execute("CREATE TABLE plainhook (data JSONB) WITH (connector = 'webhook')")
        .await
        .unwrap();
    assert_eq!(
        get("plainhook?hub.mode=subscribe&hub.verify_token=tok+123&hub.challenge=1")
            .await
            .0,
        405
    );
    // Events are signed with the app secret and stored as usual.
    let body = r#"{"object":"whatsapp_business_account","entry":[]}"#;
    let (h, sig) = github_sha256("app-secret", body.as_bytes());
    assert_eq!(
        send(&s, "POST", "whatsapp", &[(h, sig.as_str())], body)
            .await
            .0,
        200
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM whatsapp").await.unwrap(),
        Some("1".into())
    );
    // The token is a secret the table depends on.
    let (code, _) = sql_error(&c, "DROP SECRET meta_token").await;
    assert_eq!(code, "2BP01");
    for (sql, state) in [
        ("CREATE TABLE t (data JSONB) WITH (connector = 'webhook', url_verification = 'meta')", "22023"),
        ("CREATE TABLE t (data JSONB) WITH (connector = 'webhook', url_verification = 'meta', verify_token = 'nope')", "42704"),
        ("CREATE TABLE t (data JSONB) WITH (connector = 'webhook', url_verification = 'slack', verify_token = 'meta_token')", "22023"),
        ("CREATE TABLE t (data JSONB) WITH (connector = 'webhook', url_verification = 'carrier pigeon')", "22023"),
        ("CREATE TABLE t (data JSONB) WITH (url_verification = 'slack')", "22023"),
    ] {
        assert_eq!(sql_error(&c, sql).await.0, state, "{sql}");
    }
}
