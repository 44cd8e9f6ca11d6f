//! The admin listener: Prometheus metrics scraped and parsed while
//! webhooks arrive, and the health and readiness endpoints.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use bytes::Bytes;
use rivulet_tests::sign::{segment, segment_track};
use rivulet_tests::{Hook, Server, TempDir};

/// Prometheus' text format: each sample's `name{labels}` and value.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    assert_eq!(
        text.lines().last(),
        Some("# EOF"),
        "OpenMetrics ends with # EOF"
    );
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        assert!(
            out.insert(series.to_string(), value).is_none(),
            "{series} twice"
        );
    }
    out
}

#[tokio::test]
async fn metrics_health_and_readiness() {
    let dir = TempDir::new("admin");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let admin = Hook::new(s.admin_addr.as_deref().expect("an admin listener"));
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "CREATE SECRET s AS 'TEST_WEBHOOK';
         CREATE TABLE events (data JSONB) WITH (connector = 'webhook')
           VALIDATE SECRET s AS secure_compare(headers->>'x-signature', encode(hmac(s, data, 'sha1'), 'hex'));
         CREATE MATERIALIZED VIEW per_event AS SELECT data->>'event' AS event, count(*) AS n FROM events GROUP BY 1;",
    )
    .await
    .unwrap();

    let get = |path: &'static str| {
        let admin = admin.clone();
        async move { admin.request("GET", path, &[], Bytes::new()).await.unwrap() }
    };
    assert_eq!(get("/health").await, (200, "ok\n".to_string()));
    assert_eq!(get("/ready").await, (200, "ready\n".to_string()));
    assert_eq!(get("/nope").await.0, 404);
    assert_eq!(
        admin
            .request("POST", "/metrics", &[], Bytes::new())
            .await
            .unwrap()
            .0,
        405
    );

    let path = "/webhook/dev/public/events";
    for i in 0..20 {
        let body = segment_track(&format!("m-{i}"), "u", if i % 2 == 0 { "A" } else { "B" });
        let (h, sig) = segment("TEST_WEBHOOK", body.as_bytes());
        assert_eq!(s.post(path, &[(h, &sig)], body).await.unwrap().0, 200);
    }
    for _ in 0..3 {
        assert_eq!(
            s.post(path, &[("x-signature", "00")], "{}")
                .await
                .unwrap()
                .0,
            401
        );
    }
    for _ in 0..2 {
        let (h, sig) = segment("TEST_WEBHOOK", b"{nope");
        assert_eq!(s.post(path, &[(h, &sig)], "{nope").await.unwrap().0, 422);
    }
    assert_eq!(
        s.post("/webhook/dev/public/missing", &[], "{}")
            .await
            .unwrap()
            .0,
        404
    );

    let (status, text) = get("/metrics").await;
    assert_eq!(status, 200);
    let m = parse(&text);
    let at = |series: &str| {
        *m.get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    assert_eq!(
        at(r#"rivulet_webhook_requests_total{table="events",status="200"}"#),
        20.0
    );
    assert_eq!(
        at(r#"rivulet_webhook_requests_total{table="events",status="401"}"#),
        3.0
    );
    assert_eq!(
        at(r#"rivulet_webhook_requests_total{table="events",status="422"}"#),
        2.0
    );
    assert_eq!(
        at(r#"rivulet_webhook_requests_total{table="",status="404"}"#),
        1.0
    );
    assert_eq!(
        at(r#"rivulet_webhook_rejections_total{reason="signature_mismatch"}"#),
        3.0
    );
    assert_eq!(
        at(r#"rivulet_webhook_rejections_total{reason="invalid_json"}"#),
        2.0
    );
    assert_eq!(
        at(r#"rivulet_webhook_rejections_total{reason="unknown_table"}"#),
        1.0
    );
    assert_eq!(at("rivulet_webhook_ack_seconds_count"), 20.0);
    assert!(at(r#"rivulet_webhook_ack_seconds_bucket{le="+Inf"}"#) == 20.0);
    let groups = at("rivulet_writer_group_commands_count");
    assert!(
        groups >= 20.0,
        "each request waited for its own group: {groups}"
    );
    assert_eq!(at("rivulet_writer_fsync_seconds_count"), groups);
    assert!(at("rivulet_writer_fsync_seconds_sum") > 0.0);
    assert_eq!(at(r#"rivulet_relation_rows{name="events"}"#), 20.0);
    assert_eq!(at(r#"rivulet_relation_rows{name="per_event"}"#), 2.0);
    assert!(at(r#"rivulet_view_maintenance_seconds_total{name="per_event"}"#) > 0.0);
    // The per-event counts' state waits for a checkpoint, or one wrote it.
    assert!(
        at("rivulet_state_deferred_bytes") > 0.0 || at("rivulet_checkpoints_total") >= 1.0,
        "no operator state was deferred"
    );
    assert!(at("rivulet_memory_resident_bytes") > 1e6);
    assert_eq!(at("rivulet_memory_budget_bytes"), 192.0 * 1024.0 * 1024.0);
    assert!(text
        .contains("# HELP rivulet_webhook_ack_seconds Time from a delivery's arrival to its 200"));

    // Every series the Grafana dashboard and docs/operations.md query is
    // one the server exports.
    for doc in ["grafana-dashboard.json", "operations.md"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs")
            .join(doc);
        let content = std::fs::read_to_string(path).unwrap();
        let mut names: Vec<&str> = content
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("rivulet_") && *w != "rivulet_catalog")
            .collect();
        names.sort();
        names.dedup();
        assert!(names.len() >= 8, "{doc}: {names:?}");
        for name in names {
            assert!(
                m.keys().any(|series| series.starts_with(name)),
                "{doc} uses {name}, which /metrics does not export"
            );
        }
    }
}

/// The status page, rendered by a real headless browser (Debian's
/// Chromium): tables with their counts, each view's dataflow as a graph,
/// and the refused deliveries.
#[tokio::test]
async fn status_page_in_a_browser() {
    let dir = TempDir::new("status");
    let s = Server::start(&dir.0, &[]).await.unwrap();
    let c = s.connect().await.unwrap();
    c.batch_execute(
        "CREATE SECRET s AS 'TEST_WEBHOOK';
         CREATE TABLE events (data JSONB) WITH (connector = 'webhook')
           VALIDATE SECRET s AS secure_compare(headers->>'x-signature', encode(hmac(s, data, 'sha1'), 'hex'));
         CREATE TABLE orders (id varchar PRIMARY KEY, amount numeric) WITH (connector = 'webhook');
         CREATE MATERIALIZED VIEW per_event AS SELECT data->>'event' AS event, count(*) AS n FROM events GROUP BY 1;
         CREATE MATERIALIZED VIEW order_events AS
           SELECT o.id, e.data->>'event' AS event FROM orders o JOIN events e ON o.id = e.data->>'userId';",
    )
    .await
    .unwrap();
    for i in 0..12 {
        let body = segment_track(
            &format!("m-{i}"),
            &format!("o-{}", i % 3),
            "Order <Completed>",
        );
        let (h, sig) = segment("TEST_WEBHOOK", body.as_bytes());
        assert_eq!(
            s.post("/webhook/dev/public/events", &[(h, &sig)], body)
                .await
                .unwrap()
                .0,
            200
        );
    }
    for i in 0..3 {
        let body = format!(r#"{{"id":"o-{i}","amount":{i}}}"#);
        assert_eq!(
            s.post("/webhook/dev/public/orders", &[], body)
                .await
                .unwrap()
                .0,
            200
        );
    }
    assert_eq!(
        s.post("/webhook/dev/public/events", &[("x-signature", "00")], "{}")
            .await
            .unwrap()
            .0,
        401
    );

    let url = format!("http://{}/status", s.admin_addr.as_deref().unwrap());
    let chromium = |extra: &[&str]| {
        let mut cmd = std::process::Command::new("chromium");
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(extra)
        .arg(&url);
        cmd.output().unwrap_or_else(|e| {
            panic!("chromium runs ({e}); scripts/install-test-deps.sh installs it")
        })
    };
    let out = chromium(&["--dump-dom"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8(out.stdout).unwrap();
    let row = |cells: &[&str]| {
        cells
            .iter()
            .map(|c| {
                format!(
                    "<td{}>{c}</td>",
                    if c.parse::<f64>().is_ok() {
                        " class=\"n\""
                    } else {
                        ""
                    }
                )
            })
            .collect::<String>()
    };
    assert!(dom.contains(&row(&["events", "webhook", "12"])), "{dom}");
    assert!(
        dom.contains(&row(&["orders", "webhook (typed)", "3"])),
        "{dom}"
    );
    assert!(
        dom.contains("<td>per_event</td><td class=\"n\">1</td>"),
        "{dom}"
    );
    assert!(
        dom.contains("<td>order_events</td><td class=\"n\">12</td>"),
        "{dom}"
    );
    assert_eq!(
        dom.matches("<svg class=\"dataflow\"").count(),
        2,
        "one graph per view"
    );
    // Project, Aggregate, Scan; Project, Join, Scan, Scan.
    assert_eq!(dom.matches("<g class=\"node\">").count(), 3 + 4, "{dom}");
    assert!(
        dom.contains(">Scan: orders</text>") && dom.contains(">Scan: events</text>"),
        "{dom}"
    );
    assert!(dom.contains("Signature verification failed"), "{dom}");
    // Values are escaped: the event name's brackets never become markup.
    assert!(!dom.contains("<Completed>"), "{dom}");
    // And it draws: a screenshot of the page.
    let shot = dir.0.join("status.png");
    let out = chromium(&[
        "--window-size=1100,900",
        &format!("--screenshot={}", shot.display()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}
