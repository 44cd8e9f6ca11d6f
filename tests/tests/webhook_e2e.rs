//! RisingWave's "Ingest data from Segment webhook" guide, run against the
//! real binary with real signed requests, then `kill -9` and again.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rivulet_tests::sign::{github_sha1, github_sha256, segment, segment_track};
use rivulet_tests::{rows, scalar, sql_error, Server, TempDir};

const SECRET: &str = "TEST_WEBHOOK";
const SEGMENT_PATH: &str = "/webhook/dev/public/wbhtable";

/// The guide's SQL, verbatim.
const GUIDE_SQL: &str = "
CREATE SECRET test_secret WITH ( backend = 'meta') AS 'TEST_WEBHOOK';
CREATE TABLE wbhtable (
  data JSONB
) WITH (
  connector = 'webhook',
) VALIDATE SECRET test_secret AS secure_compare(
  headers->>'x-signature',
  encode(hmac(test_secret, data, 'sha1'), 'hex')
);
CREATE MATERIALIZED VIEW events AS
  SELECT data->>'action' AS action, data->'sender'->>'login' AS sender FROM wbhtable;
CREATE MATERIALIZED VIEW track_events AS
  SELECT data->>'type' AS type, data->>'event' AS event, data->>'userId' AS user_id,
         (data->>'timestamp')::timestamptz AS ts, data->'properties'->>'plan' AS plan
  FROM wbhtable;
CREATE TABLE wbhtable_raw (
  data JSONB
) WITH (
  connector = 'webhook'
) VALIDATE AS secure_compare(
  headers->>'x-signature',
  encode(hmac('TEST_WEBHOOK', data, 'sha1'), 'hex')
);
";

async fn post_segment(s: &Server, body: &str) -> (u16, String) {
    let (h, sig) = segment(SECRET, body.as_bytes());
    s.post(
        SEGMENT_PATH,
        &[
            (h, &sig),
            ("content-type", "application/json"),
            ("user-agent", "Segment (Actions)"),
        ],
        body.to_string(),
    )
    .await
    .unwrap()
}

/// How a case's request is signed.
enum Sign {
    /// As Segment signs: HMAC-SHA1 of the body under the table's secret.
    Segment,
    /// One literal header.
    Header(&'static str, &'static str),
    /// No signature header at all.
    Unsigned,
}

/// A request the guide's tables must refuse, and how.
struct Rejection {
    what: &'static str,
    method: &'static str,
    path: &'static str,
    sign: Sign,
    body: String,
    status: u16,
    /// The exact answer body, where it is fixed; otherwise any
    /// `{"error": "..."}`.
    answer: Option<&'static str>,
}

/// Every way the guide's setup refuses a request, one row each.
#[rustfmt::skip]
fn rejections(body: &str, big: &str) -> Vec<Rejection> {
    let case = |what, method, path, sign, body: &str, status, answer| Rejection {
        what, method, path, sign, body: body.to_string(), status, answer,
    };
    let not_webhook = r#"{"error":"table \"plain\" is not a webhook table"}"#;
    let mismatch = r#"{"error":"Signature verification failed"}"#;
    vec![
        case("wrong signature", "POST", SEGMENT_PATH, Sign::Header("x-signature", "0000"), body, 401, Some(mismatch)),
        // VALIDATE reads a header that is missing, so it evaluates to NULL.
        case("no signature header", "POST", SEGMENT_PATH, Sign::Unsigned, body, 400, None),
        // Correctly signed but not JSON: validation came first.
        case("signed, not JSON", "POST", SEGMENT_PATH, Sign::Segment, "{\"type\": \"track\",", 422, None),
        case("over --webhook-max-body", "POST", SEGMENT_PATH, Sign::Segment, big, 413, None),
        case("GET", "GET", SEGMENT_PATH, Sign::Unsigned, "", 405, None),
        case("unknown database", "POST", "/webhook/nodb/public/wbhtable", Sign::Unsigned, body, 404, None),
        case("unknown schema", "POST", "/webhook/dev/nosch/wbhtable", Sign::Unsigned, body, 404, None),
        case("unknown table", "POST", "/webhook/dev/public/nope", Sign::Unsigned, body, 404, None),
        case("not a webhook path", "POST", "/nothing", Sign::Unsigned, body, 404, None),
        case("not a webhook table", "POST", "/webhook/dev/public/plain", Sign::Unsigned, body, 403, Some(not_webhook)),
    ]
}

/// Checks everything the guide promises, given `n` accepted events.
async fn check_guide_state(s: &Server, n: usize) {
    let c = s.connect().await.unwrap();
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM wbhtable").await.unwrap(),
        Some(n.to_string())
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM events").await.unwrap(),
        Some(n.to_string())
    );
    let r = rows(
        &c,
        "SELECT type, event, user_id, ts, plan FROM track_events ORDER BY user_id LIMIT 1",
    )
    .await
    .unwrap();
    assert_eq!(
        r,
        vec![vec![
            Some("track".into()),
            Some("Order Completed".into()),
            Some("user-0".into()),
            Some("2015-12-12 19:11:01.249+00".into()),
            Some("Pro".into())
        ]]
    );
    let tables = rows(&c, "SHOW TABLES").await.unwrap();
    assert!(tables.contains(&vec![Some("wbhtable".into())]));
    assert_eq!(
        rows(&c, "SHOW SECRETS").await.unwrap(),
        vec![vec![Some("test_secret".into())]]
    );
}

#[tokio::test]
async fn segment_guide_with_every_status_and_kill9() {
    let dir = TempDir::new("guide");
    let mut s = Server::start(&dir.0, &["--webhook-max-body", "65536"])
        .await
        .unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(GUIDE_SQL).await.unwrap();

    // Accepted events are visible in the view as soon as the 200 arrives.
    for i in 0..5 {
        let body = segment_track(&format!("msg-{i}"), &format!("user-{i}"), "Order Completed");
        assert_eq!(post_segment(&s, &body).await, (200, String::new()));
        let seen = scalar(
            &c,
            &format!("SELECT count(*) FROM track_events WHERE user_id = 'user-{i}'"),
        )
        .await
        .unwrap();
        assert_eq!(
            seen,
            Some("1".into()),
            "event {i} visible right after its 200"
        );
    }

    c.batch_execute("CREATE TABLE plain (x int)").await.unwrap();
    let body = segment_track("m", "u", "e");
    let sig_ok = segment(SECRET, body.as_bytes()).1;
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70_000));
    for r in rejections(&body, &big) {
        let signed;
        let headers: Vec<(&str, &str)> = match r.sign {
            Sign::Segment => {
                signed = segment(SECRET, r.body.as_bytes());
                vec![(signed.0, signed.1.as_str())]
            }
            Sign::Header(name, value) => vec![(name, value)],
            Sign::Unsigned => vec![],
        };
        let (code, text) = s
            .request(r.method, r.path, &headers, r.body.clone().into())
            .await
            .unwrap();
        assert_eq!(code, r.status, "{}: {text}", r.what);
        match r.answer {
            Some(exact) => assert_eq!(text, exact, "{}", r.what),
            None => assert!(
                code == 405
                    || serde_json::from_str::<serde_json::Value>(&text).unwrap()["error"]
                        .is_string(),
                "{}: {text}",
                r.what
            ),
        }
        // No answer echoes the secret or a valid signature.
        assert!(
            !text.contains(SECRET) && !text.contains(&sig_ok),
            "{}",
            r.what
        );
    }

    // None of the rejected requests stored anything.
    check_guide_state(&s, 5).await;

    // Secrets stay secret.
    let create = rows(&c, "SHOW CREATE TABLE wbhtable").await.unwrap();
    let text = format!("{create:?}");
    assert!(
        text.contains("VALIDATE SECRET test_secret") && !text.contains(SECRET),
        "{text}"
    );
    let (_, msg) = sql_error(&c, "SELECT test_secret").await;
    assert!(!msg.contains(SECRET));

    // kill -9: every acknowledged event, the catalog and the views survive.
    s.kill9().await.unwrap();
    let s2 = s.restart().await.unwrap();
    check_guide_state(&s2, 5).await;
    // The secret still validates after recovery, and ingest carries on.
    let body = segment_track("msg-5", "user-5", "Order Completed");
    assert_eq!(post_segment(&s2, &body).await.0, 200);
    check_guide_state(&s2, 6).await;
    let c2 = s2.connect().await.unwrap();
    // Row ids continue after recovery: no acknowledged row was overwritten.
    assert_eq!(
        scalar(
            &c2,
            "SELECT count(*) FROM track_events WHERE user_id = 'user-0'"
        )
        .await
        .unwrap(),
        Some("1".into())
    );
    // The guide's view over a GitHub-shaped event, and the raw-string VALIDATE.
    let gh = r#"{"action":"opened","sender":{"login":"octocat"}}"#;
    assert_eq!(post_segment(&s2, gh).await.0, 200);
    assert_eq!(
        rows(
            &c2,
            "SELECT action, sender FROM events WHERE action IS NOT NULL"
        )
        .await
        .unwrap(),
        vec![vec![Some("opened".into()), Some("octocat".into())]]
    );
    let (h, sig) = segment(SECRET, gh.as_bytes());
    assert_eq!(
        s2.post("/webhook/dev/public/wbhtable_raw", &[(h, &sig)], gh)
            .await
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        s2.post("/webhook/dev/public/wbhtable_raw", &[(h, "bad")], gh)
            .await
            .unwrap()
            .0,
        401
    );
    assert_eq!(
        scalar(&c2, "SELECT data->'sender'->>'login' FROM wbhtable_raw")
            .await
            .unwrap(),
        Some("octocat".into())
    );
}

#[tokio::test]
async fn github_rudderstack_raw_string_and_no_validate() {
    let dir = TempDir::new("senders");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "
        CREATE SECRET gh WITH (backend = 'meta') AS 'It''s a Secret to Everybody';
        CREATE TABLE github (data JSONB) WITH (connector = 'webhook')
          VALIDATE SECRET gh AS secure_compare(
            headers->>'x-hub-signature-256', 'sha256=' || encode(hmac(gh, data, 'sha256'), 'hex'));
        CREATE TABLE github_sha1 (data JSONB) WITH (connector = 'webhook')
          VALIDATE SECRET gh AS secure_compare(
            headers->>'x-hub-signature', 'sha1=' || encode(hmac(gh, data, 'sha1'), 'hex'));
        CREATE TABLE rudder (data JSONB) WITH (connector = 'webhook')
          VALIDATE AS secure_compare(headers->>'authorization', 'Bearer rudder-token');
        CREATE TABLE open (data JSONB) WITH (connector = 'webhook');
        CREATE MATERIALIZED VIEW pushes AS
          SELECT data->>'ref' AS ref, data->'sender'->>'login' AS sender FROM github
          WHERE data->>'ref' IS NOT NULL;
        ",
    )
    .await
    .unwrap();
    let push = r#"{"ref":"refs/heads/main","sender":{"login":"octocat"},"commits":[{"id":"abc"}]}"#;
    let (h, v) = github_sha256("It's a Secret to Everybody", push.as_bytes());
    assert_eq!(
        s.post(
            "/webhook/dev/public/github",
            &[(h, &v), ("x-github-event", "push")],
            push
        )
        .await
        .unwrap()
        .0,
        200
    );
    let ping = r#"{"zen":"Keep it logically awesome."}"#;
    let (h, v) = github_sha256("It's a Secret to Everybody", ping.as_bytes());
    assert_eq!(
        s.post("/webhook/dev/public/github", &[(h, &v)], ping)
            .await
            .unwrap()
            .0,
        200
    );
    // A sha1 signature does not satisfy the sha256 table.
    let (_, v1) = github_sha1("It's a Secret to Everybody", push.as_bytes());
    assert_eq!(
        s.post(
            "/webhook/dev/public/github",
            &[("x-hub-signature-256", &v1)],
            push
        )
        .await
        .unwrap()
        .0,
        401
    );
    let (h, v) = github_sha1("It's a Secret to Everybody", push.as_bytes());
    assert_eq!(
        s.post("/webhook/dev/public/github_sha1", &[(h, &v)], push)
            .await
            .unwrap()
            .0,
        200
    );

    assert_eq!(
        s.post(
            "/webhook/dev/public/rudder",
            &[("authorization", "Bearer rudder-token")],
            r#"{"a":1}"#
        )
        .await
        .unwrap()
        .0,
        200
    );
    assert_eq!(
        s.post(
            "/webhook/dev/public/rudder",
            &[("authorization", "Bearer wrong")],
            r#"{"a":1}"#
        )
        .await
        .unwrap()
        .0,
        401
    );
    assert_eq!(
        s.post("/webhook/dev/public/open", &[], r#"[1, {"b": 2}]"#)
            .await
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        s.post("/webhook/dev/public/open", &[], "not json")
            .await
            .unwrap()
            .0,
        422
    );

    assert_eq!(
        rows(&c, "SELECT ref, sender FROM pushes").await.unwrap(),
        vec![vec![Some("refs/heads/main".into()), Some("octocat".into())]]
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM github").await.unwrap(),
        Some("2".into())
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM github_sha1")
            .await
            .unwrap(),
        Some("1".into())
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM rudder").await.unwrap(),
        Some("1".into())
    );
    assert_eq!(
        scalar(&c, "SELECT data FROM open").await.unwrap(),
        Some(r#"[1, {"b": 2}]"#.into())
    );
}

#[tokio::test]
async fn batched_primary_key_segment_batch_and_validate_errors() {
    let dir = TempDir::new("batched");
    let mut s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(&format!(
        "
        CREATE SECRET seg WITH (backend = 'meta') AS '{SECRET}';
        CREATE TABLE batched (data JSONB) WITH (connector = 'webhook', is_batched = true)
          VALIDATE SECRET seg AS secure_compare(headers->>'x-signature', encode(hmac(seg, data, 'sha1'), 'hex'));
        CREATE TABLE dedup (data JSONB PRIMARY KEY) WITH (connector = 'webhook')
          VALIDATE SECRET seg AS secure_compare(headers->>'x-signature', encode(hmac(seg, data, 'sha1'), 'hex'));
        CREATE TABLE segbatch (data JSONB) WITH (connector = 'webhook')
          VALIDATE SECRET seg AS secure_compare(headers->>'x-signature', encode(hmac(seg, data, 'sha1'), 'hex'));
        CREATE TABLE strict_hex (data JSONB) WITH (connector = 'webhook')
          VALIDATE SECRET seg AS secure_compare(encode(decode(headers->>'x-signature', 'hex'), 'hex'), encode(hmac(seg, data, 'sha1'), 'hex'));
        CREATE MATERIALIZED VIEW dedup_ids AS SELECT data->>'messageId' AS id FROM dedup;
        "
    ))
    .await
    .unwrap();

    // is_batched: one row per non-empty line; the signature covers the body.
    let lines = format!(
        "{}\n\n{}\n{}\n",
        segment_track("a", "u1", "x"),
        segment_track("b", "u2", "x"),
        segment_track("c", "u3", "x")
    );
    let (h, v) = segment(SECRET, lines.as_bytes());
    assert_eq!(
        s.post("/webhook/dev/public/batched", &[(h, &v)], lines.clone())
            .await
            .unwrap(),
        (200, String::new())
    );
    // One bad line rejects the whole request.
    let bad = format!("{}\n{{oops\n", segment_track("d", "u4", "x"));
    let (h, v) = segment(SECRET, bad.as_bytes());
    let (code, text) = s
        .post("/webhook/dev/public/batched", &[(h, &v)], bad)
        .await
        .unwrap();
    assert_eq!(code, 422);
    assert!(text.contains("line 2"), "{text}");
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM batched").await.unwrap(),
        Some("3".into())
    );

    // PRIMARY KEY: Segment's retries of the same event are stored once.
    let ev = segment_track("retry-me", "u", "x");
    let (h, v) = segment(SECRET, ev.as_bytes());
    for _ in 0..3 {
        assert_eq!(
            s.post("/webhook/dev/public/dedup", &[(h, &v)], ev.clone())
                .await
                .unwrap()
                .0,
            200
        );
    }
    let ev2 = segment_track("other", "u", "x");
    let (h2, v2) = segment(SECRET, ev2.as_bytes());
    assert_eq!(
        s.post("/webhook/dev/public/dedup", &[(h2, &v2)], ev2)
            .await
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM dedup").await.unwrap(),
        Some("2".into())
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM dedup_ids").await.unwrap(),
        Some("2".into())
    );

    // Segment batch mode: a JSON array whose signature covers element 0
    // only, accepted where the table opted into batches.
    let batch = r#"[{"cool":false},{"cool":true}]"#;
    let (h, v) = segment("abc123", br#"{"cool":false}"#);
    assert_eq!(v, "c702b94a2569dd8d2f7185ce0ae951021bef4706");
    c.batch_execute("CREATE SECRET seg2 AS 'abc123'; CREATE TABLE segb2 (data JSONB) WITH (connector = 'webhook', is_batched = true) VALIDATE SECRET seg2 AS secure_compare(headers->>'x-signature', encode(hmac(seg2, data, 'sha1'), 'hex'))").await.unwrap();
    // Without is_batched, a captured signed event cannot carry extra rows:
    // only a signature over the whole body counts.
    c.batch_execute("CREATE TABLE segsingle (data JSONB) WITH (connector = 'webhook') VALIDATE SECRET seg2 AS secure_compare(headers->>'x-signature', encode(hmac(seg2, data, 'sha1'), 'hex'))").await.unwrap();
    assert_eq!(
        s.post("/webhook/dev/public/segsingle", &[(h, &v)], batch)
            .await
            .unwrap()
            .0,
        401
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM segsingle").await.unwrap(),
        Some("0".into())
    );
    assert_eq!(
        s.post("/webhook/dev/public/segb2", &[(h, &v)], batch)
            .await
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        rows(&c, "SELECT data FROM segb2").await.unwrap(),
        vec![
            vec![Some(r#"{"cool": false}"#.into())],
            vec![Some(r#"{"cool": true}"#.into())]
        ]
    );
    // A batch whose first element is not what was signed is refused.
    let forged = r#"[{"cool":"forged"},{"cool":true}]"#;
    assert_eq!(
        s.post("/webhook/dev/public/segb2", &[(h, &v)], forged)
            .await
            .unwrap()
            .0,
        401
    );

    // 500: VALIDATE raises (the header is not hex), and nothing is stored.
    let ev = segment_track("z", "u", "x");
    let (code, text) = s
        .post(
            "/webhook/dev/public/strict_hex",
            &[("x-signature", "zz-not-hex")],
            ev,
        )
        .await
        .unwrap();
    assert_eq!(code, 500, "{text}");
    assert!(!text.contains(SECRET));
    // An error over a value derived from the secret does not quote it
    // either: only the SQLSTATE is reported.
    c.batch_execute(
        "CREATE TABLE derived_secret (data JSONB) WITH (connector = 'webhook')
           VALIDATE SECRET seg AS secure_compare(headers->>'x-signature', (substr(seg, 2)::int)::text)",
    )
    .await
    .unwrap();
    let (code, text) = s
        .post(
            "/webhook/dev/public/derived_secret",
            &[("x-signature", "1")],
            r#"{"a":1}"#,
        )
        .await
        .unwrap();
    assert_eq!(code, 500, "{text}");
    assert!(!text.contains(&SECRET[1..]), "{text}");
    assert!(text.contains("SQLSTATE 22P02"), "{text}");
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM strict_hex").await.unwrap(),
        Some("0".into())
    );

    s.kill9().await.unwrap();
    let s2 = s.restart().await.unwrap();
    let c2 = s2.connect().await.unwrap();
    assert_eq!(
        scalar(&c2, "SELECT count(*) FROM batched").await.unwrap(),
        Some("3".into())
    );
    assert_eq!(
        scalar(&c2, "SELECT count(*) FROM dedup").await.unwrap(),
        Some("2".into())
    );
    // The retried event after recovery still collapses into the stored row.
    let ev = segment_track("retry-me", "u", "x");
    let (h, v) = segment(SECRET, ev.as_bytes());
    assert_eq!(
        s2.post("/webhook/dev/public/dedup", &[(h, &v)], ev)
            .await
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        scalar(&c2, "SELECT count(*) FROM dedup_ids").await.unwrap(),
        Some("2".into())
    );
    assert_eq!(
        scalar(&c2, "SELECT count(*) FROM segb2").await.unwrap(),
        Some("2".into())
    );
}

#[tokio::test]
async fn concurrent_senders_are_all_stored_exactly_once() {
    let dir = TempDir::new("concurrent");
    let mut s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(GUIDE_SQL).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..16 {
        let s_ref = s.hook();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let body = segment_track(
                    &format!("m-{t}-{i}"),
                    &format!("user-{t}-{i}"),
                    "Order Completed",
                );
                let (h, sig) = segment(SECRET, body.as_bytes());
                let (code, _) = s_ref.post(SEGMENT_PATH, &[(h, &sig)], body).await.unwrap();
                assert_eq!(code, 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM events").await.unwrap(),
        Some("400".into())
    );
    s.kill9().await.unwrap();
    let s2 = s.restart().await.unwrap();
    let c2 = s2.connect().await.unwrap();
    assert_eq!(
        scalar(&c2, "SELECT count(*) FROM wbhtable").await.unwrap(),
        Some("400".into())
    );
    assert_eq!(
        scalar(&c2, "SELECT count(*) FROM events").await.unwrap(),
        Some("400".into())
    );
}
