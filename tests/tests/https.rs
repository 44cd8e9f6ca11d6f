//! The webhook listener over HTTPS, with a certificate made here: a signed
//! Segment event over TLS (HTTP/1.1 and HTTP/2 by ALPN) is stored, plain
//! HTTP on the TLS port is not, and a server given a certificate without
//! its key refuses to start.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rivulet_tests::sign::{segment, segment_track};
use rivulet_tests::{scalar, Server, TempDir};
use tokio::net::TcpStream;

const SETUP: &str = "
CREATE SECRET s AS 'TEST_WEBHOOK';
CREATE TABLE events (data JSONB) WITH (connector = 'webhook')
  VALIDATE SECRET s AS secure_compare(headers->>'x-signature', encode(hmac(s, data, 'sha1'), 'hex'));
";

/// Posts a signed event over TLS, speaking `alpn`; returns the status and
/// the protocol the server chose.
async fn post_tls(
    addr: &str,
    ca: &rustls::pki_types::CertificateDer<'static>,
    alpn: &[u8],
    id: &str,
) -> (u16, Vec<u8>) {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    let chosen = tls.get_ref().1.alpn_protocol().unwrap_or_default().to_vec();
    let body = segment_track(id, "u-1", "Signed Up");
    let (h, sig) = segment("TEST_WEBHOOK", body.as_bytes());
    let req = hyper::Request::builder()
        .method("POST")
        .uri("https://localhost/webhook/dev/public/events")
        .header(h, sig)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let status = if chosen == b"h2" {
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                .await
                .unwrap();
        tokio::spawn(conn);
        let resp = send.send_request(req).await.unwrap();
        let status = resp.status().as_u16();
        resp.into_body().collect().await.unwrap();
        status
    } else {
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        let resp = send.send_request(req).await.unwrap();
        let status = resp.status().as_u16();
        resp.into_body().collect().await.unwrap();
        status
    };
    (status, chosen)
}

#[tokio::test]
async fn webhooks_over_https() {
    let dir = TempDir::new("https");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_path = dir.0.join("cert.pem");
    let key_path = dir.0.join("key.pem");
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let data = dir.0.join("data");
    let (c, k) = (cert_path.to_str().unwrap(), key_path.to_str().unwrap());
    let s = Server::start(&data, &["--webhook-tls-cert", c, "--webhook-tls-key", k])
        .await
        .unwrap();
    let client = s.connect().await.unwrap();
    client.batch_execute(SETUP).await.unwrap();
    let ca = cert.cert.der().clone();

    assert_eq!(
        post_tls(&s.webhook_addr, &ca, b"http/1.1", "m-1").await,
        (200, b"http/1.1".to_vec())
    );
    assert_eq!(
        post_tls(&s.webhook_addr, &ca, b"h2", "m-2").await,
        (200, b"h2".to_vec())
    );
    assert_eq!(
        scalar(&client, "SELECT count(*) FROM events")
            .await
            .unwrap(),
        Some("2".into())
    );
    // Plain HTTP to the TLS port gets no answer.
    let plain = s.hook().post("/webhook/dev/public/events", &[], "{}").await;
    assert!(plain.is_err(), "{plain:?}");
    assert_eq!(
        scalar(&client, "SELECT count(*) FROM events")
            .await
            .unwrap(),
        Some("2".into())
    );

    // RisingWave's variables work too; a certificate without its key is
    // an error at start-up, not a plain-HTTP listener.
    let out = std::process::Command::new(rivulet_tests::rivulet_bin())
        .args([
            "--ephemeral",
            "--pg-listen",
            "127.0.0.1:0",
            "--webhook-listen",
            "127.0.0.1:0",
        ])
        .env("RW_SSL_CERT", c)
        .env_remove("RW_SSL_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("HTTPS needs both a certificate and a key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = rivulet_tests::command()
        .args([
            "--ephemeral",
            "--pg-listen",
            "127.0.0.1:0",
            "--webhook-listen",
            "127.0.0.1:0",
        ])
        .env("RW_SSL_CERT", c)
        .env("RW_SSL_KEY", k)
        .spawn()
        .unwrap();
    let (_, hook) = rivulet_tests::listening(&mut child).await.unwrap();
    // The table does not exist there: a 404, over TLS.
    assert_eq!(
        post_tls(&hook, &ca, b"http/1.1", "m-3").await,
        (404, b"http/1.1".to_vec())
    );
    child.kill().await.unwrap();
}
