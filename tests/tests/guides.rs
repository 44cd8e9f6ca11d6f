//! Every page of docs/guides is run as written: its SQL creates the
//! tables, and requests signed as each sender signs them (by helpers
//! checked against the senders' published vectors in `sign.rs`) are
//! accepted, while stale, tampered and unsigned ones are refused.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rivulet_tests::sign::{
    github_sha256, segment, segment_track, shopify, slack, standard_webhooks, stripe,
    SLACK_EXAMPLE_BODY,
};
use rivulet_tests::{rows, scalar, Server, TempDir};

/// The first ```sql block of a guide.
fn guide_sql(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/guides")
        .join(format!("{name}.md"));
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("```sql\n").expect("a sql block") + 7;
    let end = start + text[start..].find("```").unwrap();
    text[start..end].to_string()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn post(s: &Server, table: &str, headers: &[(&str, String)], body: &str) -> u16 {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    s.post(
        &format!("/webhook/dev/public/{table}"),
        &headers,
        body.to_string(),
    )
    .await
    .unwrap()
    .0
}

async fn count(c: &tokio_postgres::Client, table: &str) -> i64 {
    scalar(c, &format!("SELECT count(*) FROM {table}"))
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap()
}

/// Runs `rivulet send` with `body` on standard input; returns whether it
/// exited 0 and what it printed.
fn rivulet_send(s: &Server, secret: &str, args: &[&str], body: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(rivulet_tests::rivulet_bin())
        .arg("send")
        .args(["--webhook", &s.webhook_addr])
        .args(args)
        .env("RIVULET_SEND_SECRET", secret)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

/// A guide's table without its replay window, as `<table>_vector`: the
/// same signature check, so the sender's published vector (signed years
/// ago) can be posted to it.
fn without_replay_window(guide: &str, table: &str) -> String {
    let sql = guide_sql(guide);
    let start = sql.find(&format!("CREATE TABLE {table} ")).unwrap();
    let end = start + sql[start..].find(';').unwrap();
    let create = &sql[start..end];
    let cut = create
        .find("\n    AND abs(extract(epoch from now())")
        .unwrap();
    format!(
        "{};",
        create[..cut].replacen(
            &format!("CREATE TABLE {table} "),
            &format!("CREATE TABLE {table}_vector "),
            1
        )
    )
}

#[tokio::test]
async fn every_guide_checks_its_senders_published_vector() {
    let dir = TempDir::new("vectors");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    for (guide, table) in [
        ("stripe", "stripe_events"),
        ("standard-webhooks", "standard_events"),
        ("slack", "slack_events"),
    ] {
        let sql = guide_sql(guide);
        let secret = &sql[..sql.find(";\n").unwrap() + 1];
        c.batch_execute(secret).await.unwrap();
        c.batch_execute(&without_replay_window(guide, table))
            .await
            .unwrap_or_else(|e| panic!("{guide}: {e}"));
    }
    // Stripe's vector, exactly as published.
    let body = r#"{"id":"evt_test","object":"event"}"#;
    let header = (
        "stripe-signature",
        "t=1700000000,v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"
            .to_string(),
    );
    assert_eq!(post(&s, "stripe_events_vector", &[header], body).await, 200);
    let forged = (
        "stripe-signature",
        "t=1700000001,v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"
            .to_string(),
    );
    assert_eq!(post(&s, "stripe_events_vector", &[forged], body).await, 401);
    // Standard Webhooks' vector.
    let body = r#"{"test": 2432232314}"#;
    let headers = [
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek".to_string()),
        ("webhook-timestamp", "1614265330".to_string()),
        (
            "webhook-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".to_string(),
        ),
    ];
    assert_eq!(
        post(&s, "standard_events_vector", &headers, body).await,
        200
    );
    // Slack's documented example: the signature passes, then the form body
    // is refused as not JSON (a wrong signature would be 401).
    let headers = [
        ("x-slack-request-timestamp", "1531420618".to_string()),
        (
            "x-slack-signature",
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503".to_string(),
        ),
    ];
    assert_eq!(
        post(&s, "slack_events_vector", &headers, SLACK_EXAMPLE_BODY).await,
        422
    );
    let mut bad = headers.clone();
    bad[1].1.replace_range(3..4, "b");
    assert_eq!(
        post(&s, "slack_events_vector", &bad, SLACK_EXAMPLE_BODY).await,
        401
    );
}

#[tokio::test]
async fn every_guide_works_as_written() {
    let dir = TempDir::new("guides");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    for guide in [
        "segment",
        "github",
        "stripe",
        "standard-webhooks",
        "slack",
        "shopify",
    ] {
        c.batch_execute(&guide_sql(guide))
            .await
            .unwrap_or_else(|e| panic!("{guide}: {e}"));
    }

    // Segment: signed events, a retry stored once.
    let body = segment_track("m-1", "u-1", "Signed Up");
    let sig = segment("my-shared-secret", body.as_bytes());
    let headers = [
        (sig.0, sig.1),
        ("user-agent", "Segment (Actions)".to_string()),
    ];
    assert_eq!(post(&s, "segment_events", &headers, &body).await, 200);
    assert_eq!(post(&s, "segment_events", &headers, &body).await, 200);
    assert_eq!(
        rows(
            &c,
            "SELECT event, user_id, user_agent FROM segment_tracks JOIN segment_events ON true"
        )
        .await
        .unwrap(),
        vec![vec![
            Some("Signed Up".into()),
            Some("u-1".into()),
            Some("Segment (Actions)".into())
        ]]
    );

    // GitHub: a redelivery has the same delivery id.
    let body = r#"{"action":"opened","sender":{"login":"octocat"}}"#;
    let sig = github_sha256("my-webhook-secret", body.as_bytes());
    let headers = [
        (sig.0, sig.1),
        ("x-github-event", "issues".to_string()),
        (
            "x-github-delivery",
            "72d3162e-cc78-11e3-81ab-4c9367dc0958".to_string(),
        ),
    ];
    assert_eq!(post(&s, "github_events", &headers, body).await, 200);
    assert_eq!(post(&s, "github_events", &headers, body).await, 200);
    assert_eq!(
        rows(&c, "SELECT event, action, sender FROM github_activity")
            .await
            .unwrap(),
        vec![vec![
            Some("issues".into()),
            Some("opened".into()),
            Some("octocat".into())
        ]]
    );

    // Stripe: fresh and signed, a rolled secret's second signature, stale,
    // tampered, and the published vector (signed in 2023, so stale).
    let body = r#"{"id":"evt_1","object":"event","type":"charge.succeeded"}"#;
    let fresh = stripe("whsec_test_secret", now(), body.as_bytes());
    assert_eq!(
        post(&s, "stripe_events", std::slice::from_ref(&fresh), body).await,
        200
    );
    let body2 = r#"{"id":"evt_2","object":"event","type":"charge.succeeded"}"#;
    let (h, good) = stripe("whsec_test_secret", now(), body2.as_bytes());
    let (t, v1) = good.split_once(',').unwrap();
    let rolled = format!("{t},v1=0000,{v1}");
    assert_eq!(post(&s, "stripe_events", &[(h, rolled)], body2).await, 200);
    let stale = stripe("whsec_test_secret", now() - 600, body.as_bytes());
    assert_eq!(post(&s, "stripe_events", &[stale], body).await, 401);
    assert_eq!(
        post(&s, "stripe_events", &[fresh], body2).await,
        401,
        "tampered"
    );
    let vector = r#"{"id":"evt_test","object":"event"}"#;
    let published = stripe("whsec_test_secret", 1_700_000_000, vector.as_bytes());
    assert_eq!(post(&s, "stripe_events", &[published], vector).await, 401);
    assert_eq!(
        post(&s, "stripe_events", &[], vector).await,
        400,
        "no header: VALIDATE is NULL"
    );
    assert_eq!(
        rows(&c, "SELECT type, n FROM stripe_event_types")
            .await
            .unwrap(),
        vec![vec![Some("charge.succeeded".into()), Some("2".into())]]
    );

    // Standard Webhooks: the second of two signatures matches; stale and
    // the published vector (2021) are refused; a retry is stored once.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let body = r#"{"test": 2432232314}"#;
    let mut headers = standard_webhooks(secret, "msg_1", now(), body.as_bytes());
    headers[2].1 = format!("v1,AAAA {}", headers[2].1);
    assert_eq!(post(&s, "standard_events", &headers, body).await, 200);
    assert_eq!(post(&s, "standard_events", &headers, body).await, 200);
    assert_eq!(count(&c, "standard_events").await, 1);
    let stale = standard_webhooks(secret, "msg_2", now() - 600, body.as_bytes());
    assert_eq!(post(&s, "standard_events", &stale, body).await, 401);
    let published = standard_webhooks(
        secret,
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1_614_265_330,
        body.as_bytes(),
    );
    assert_eq!(post(&s, "standard_events", &published, body).await, 401);

    // Slack: JSON events; the documented slash-command body passes the
    // signature and is then refused as not JSON.
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let body = r#"{"type":"event_callback","event":{"type":"app_mention"}}"#;
    assert_eq!(
        post(
            &s,
            "slack_events",
            &slack(secret, now(), body.as_bytes()),
            body
        )
        .await,
        200
    );
    assert_eq!(
        post(
            &s,
            "slack_events",
            &slack(secret, now() - 600, body.as_bytes()),
            body
        )
        .await,
        401
    );
    // Setting up the URL: Slack's signed challenge is echoed, not stored.
    let hello = r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let headers: Vec<(&str, String)> = slack(secret, now(), hello.as_bytes());
    let (status, answer) = s
        .post(
            "/webhook/dev/public/slack_events",
            &headers
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
            hello.to_string(),
        )
        .await
        .unwrap();
    assert_eq!(
        (status, answer.as_str()),
        (200, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    );
    assert_eq!(
        post(&s, "slack_events", &[], hello).await,
        400,
        "unsigned: VALIDATE is NULL"
    );
    let form = slack(secret, now(), SLACK_EXAMPLE_BODY.as_bytes());
    assert_eq!(
        post(&s, "slack_events", &form, SLACK_EXAMPLE_BODY).await,
        422
    );
    assert_eq!(count(&c, "slack_events").await, 1);

    // Shopify: the published vector itself, then its retry.
    let body = r#"{"id":1,"topic":"orders/create"}"#;
    let headers = [
        shopify("shpss_test_secret", body.as_bytes()),
        ("x-shopify-topic", "orders/create".to_string()),
        (
            "x-shopify-webhook-id",
            "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043".to_string(),
        ),
    ];
    assert_eq!(headers[0].1, "k72tceQzwLrcNoh8q2ZaNlbbj/oVrcHNV4qHTP1iWNs=");
    assert_eq!(post(&s, "shopify_events", &headers, body).await, 200);
    assert_eq!(post(&s, "shopify_events", &headers, body).await, 200);
    assert_eq!(
        rows(&c, "SELECT topic, data->>'id' FROM shopify_events")
            .await
            .unwrap(),
        vec![vec![Some("orders/create".into()), Some("1".into())]]
    );

    // `rivulet send` signs as each sender does.
    let event = |id: &str| format!(r#"{{"id":"{id}","type":"t","messageId":"{id}"}}"#);
    let batch = format!(
        "[{},{}]",
        segment_track("sb-1", "u", "A"),
        segment_track("sb-2", "u", "B")
    );
    let cases: [(&str, &str, &str, String, &[&str]); 8] = [
        (
            "segment_events",
            "segment",
            "my-shared-secret",
            segment_track("s-1", "u", "A"),
            &[],
        ),
        (
            "segment_events",
            "segment-batch",
            "my-shared-secret",
            batch,
            &[],
        ),
        (
            "segment_events",
            "segment",
            "my-shared-secret",
            segment_track("s-2", "u", "A"),
            &["--gzip", "--method", "PATCH"],
        ),
        (
            "github_events",
            "github",
            "my-webhook-secret",
            event("g-1"),
            &["--event", "push", "--id", "d-9"],
        ),
        (
            "stripe_events",
            "stripe",
            "whsec_test_secret",
            event("evt_9"),
            &[],
        ),
        (
            "standard_events",
            "standard-webhooks",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            event("w-1"),
            &[],
        ),
        (
            "slack_events",
            "slack",
            "8f742231b10e8888abcd99yyyzzz85a5",
            event("k-1"),
            &[],
        ),
        (
            "shopify_events",
            "shopify",
            "shpss_test_secret",
            event("p-1"),
            &["--event", "orders/paid"],
        ),
    ];
    for (table, sender, secret, body, extra) in cases {
        let before = count(&c, table).await;
        let mut args = vec!["--sender", sender, "--table", table];
        args.extend_from_slice(extra);
        let (ok, out) = rivulet_send(&s, secret, &args, &body);
        assert!(ok && out == "200", "{sender}: {out}");
        let added = if sender == "segment-batch" { 2 } else { 1 };
        assert_eq!(count(&c, table).await, before + added, "{sender}");
    }
    // The same delivery id again is a retry; a wrong secret is refused.
    let args = [
        "--sender",
        "github",
        "--table",
        "github_events",
        "--event",
        "push",
        "--id",
        "d-9",
    ];
    assert!(rivulet_send(&s, "my-webhook-secret", &args, &event("g-1")).0);
    assert_eq!(count(&c, "github_events").await, 2);
    let (ok, out) = rivulet_send(&s, "wrong", &args, &event("g-2"));
    assert!(!ok && out.starts_with("401"), "{out}");
}
