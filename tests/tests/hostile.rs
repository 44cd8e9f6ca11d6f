//! The hostile-input corpus: what a careless or malicious client sends to
//! either port, each with the exact answer it must get. After every case
//! nothing was stored, both ports still answer, and the server's memory
//! stayed within its budget's reach.
//!
//! The cases are data (`http_cases`, `wire_cases`); a regression found
//! anywhere (fuzzing, a report) becomes one more entry.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use rivulet_tests::sign::hmac_sha1_hex;
use rivulet_tests::{scalar, Server, TempDir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "hostile-secret";

/// `--memory-budget`, MiB.
const BUDGET_MIB: u64 = 64;

/// What the server may use beyond its budget (code, stacks in use, the
/// allocator's slack); a case that pushes resident memory past budget plus
/// this failed to bound something.
const HEADROOM_MIB: u64 = 160;

/// `--webhook-read-timeout`, seconds: short, so stalled clients are quick
/// to test.
const READ_TIMEOUT: u64 = 2;

const SETUP: &str = "
CREATE SECRET s WITH (backend = 'meta') AS 'hostile-secret';
CREATE TABLE seg (data JSONB) WITH (connector = 'webhook')
  VALIDATE SECRET s AS secure_compare(headers->>'x-signature', encode(hmac(s, data, 'sha1'), 'hex'));
CREATE TABLE batch (data JSONB) WITH (connector = 'webhook', is_batched = true)
  VALIDATE SECRET s AS secure_compare(headers->>'x-signature', encode(hmac(s, data, 'sha1'), 'hex'));
CREATE TABLE open (data JSONB) WITH (connector = 'webhook');
CREATE TABLE keyed (data JSONB, id TEXT PRIMARY KEY);
CREATE TABLE plain (a INT);
CREATE MATERIALIZED VIEW wrapped AS SELECT jsonb_build_object('e', data) AS w FROM open;
";

/// Tables no case may leave a row in.
const TABLES: &[&str] = &["seg", "batch", "open", "keyed", "plain", "wrapped"];

/// What a case must get back.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// This HTTP status.
    Status(u16),
    /// The connection closed (or stayed silent until the case's limit)
    /// without any answer.
    NoAnswer,
    /// A PostgreSQL ErrorResponse with this SQLSTATE.
    Sqlstate(&'static str),
    /// The connection closed, with or without an ErrorResponse first.
    Closed,
    /// Every statement answered without error.
    Fine,
    /// The session answered, then closed at the next message.
    ClosedLater,
    /// The session answered, then failed a plain query: never expected.
    Broken,
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    rivulet_tests::raw_request(method, path, "localhost", headers, body)
}

/// A POST signed as Segment signs it.
fn signed(path: &str, body: &[u8]) -> Vec<u8> {
    signed_with(path, body, &[])
}

/// A signed POST with more headers (the signature is over `body` as sent).
fn signed_with(path: &str, body: &[u8], more: &[(&str, &str)]) -> Vec<u8> {
    let sig = hmac_sha1_hex(SECRET, body);
    let mut headers = vec![("x-signature", sig.as_str())];
    headers.extend_from_slice(more);
    request("POST", path, &headers, body)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

const SEG: &str = "/webhook/dev/public/seg";
const BATCH: &str = "/webhook/dev/public/batch";
const OPEN: &str = "/webhook/dev/public/open";

/// One HTTP case: bytes to send (in pieces, with pauses: `None` stalls
/// until the server gives up) and the answer.
struct HttpCase {
    name: &'static str,
    parts: Vec<Option<Vec<u8>>>,
    expect: Expect,
}

fn case(name: &'static str, bytes: Vec<u8>, expect: Expect) -> HttpCase {
    HttpCase {
        name,
        parts: vec![Some(bytes)],
        expect,
    }
}

fn http_cases() -> Vec<HttpCase> {
    use Expect::*;
    let event = br#"{"type":"track","event":"x","messageId":"m-1"}"#.to_vec();
    let deep = |n: usize| ("[".repeat(n) + &"]".repeat(n)).into_bytes();
    let mut cases = vec![
        // Methods and paths.
        case("GET on a table", request("GET", SEG, &[], b""), Status(405)),
        // PUT and PATCH are accepted like POST (Segment offers them), so
        // unsigned they meet VALIDATE's NULL.
        case("unsigned PUT on a table", request("PUT", SEG, &[], &event), Status(400)),
        case("DELETE on a table", request("DELETE", SEG, &[], b""), Status(405)),
        case("unsigned PATCH on a table", request("PATCH", SEG, &[], &event), Status(400)),
        case("GET with a Meta challenge on another table", request("GET", &format!("{SEG}?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1"), &[], b""), Status(405)),
        // Compressed bodies.
        case("gzip that is not gzip", signed_with(SEG, &event, &[("content-encoding", "gzip")]), Status(400)),
        case("gzip cut short", signed_with(SEG, &gzip(&event)[..12], &[("content-encoding", "gzip")]), Status(400)),
        case("gzip bomb past the body limit", signed_with(SEG, &gzip(&vec![b'0'; 80 << 20]), &[("content-encoding", "gzip")]), Status(413)),
        case("brotli", signed_with(SEG, &event, &[("content-encoding", "br")]), Status(415)),
        case("two gzip layers", signed_with(SEG, &gzip(&gzip(&event)), &[("content-encoding", "gzip, gzip")]), Status(415)),
        case("unknown method", request("BREW", SEG, &[], &event), Status(405)),
        case("root path", signed("/", &event), Status(404)),
        case("path without table", signed("/webhook/dev/public", &event), Status(404)),
        case("unknown database", signed("/webhook/nodb/public/seg", &event), Status(404)),
        case("unknown schema", signed("/webhook/dev/nope/seg", &event), Status(404)),
        case("unknown table", signed("/webhook/dev/public/nope", &event), Status(404)),
        case("extra path segment", signed("/webhook/dev/public/seg/x", &event), Status(404)),
        case("dot segments", signed("/webhook/dev/public/../public/seg", &event), Status(404)),
        // Path segments are percent-decoded, so this is table `seg`.
        case("percent-encoded name", signed("/webhook/dev/public/%73eg", &event), Status(200)),
        case("query string", signed("/webhook/dev/public/seg?x=1", &event), Status(200)),
        case("8 KiB path", signed(&format!("/webhook/dev/public/{}", "a".repeat(8192)), &event), Status(404)),
        case("table without webhook connector", signed("/webhook/dev/public/plain", &event), Status(403)),
        // Only tables take webhooks: a view is no table of that name.
        case("materialized view", signed("/webhook/dev/public/wrapped", &event), Status(404)),
        case("system catalog", signed("/webhook/dev/pg_catalog/pg_class", &event), Status(404)),
        // Signatures.
        case("no signature", request("POST", SEG, &[], &event), Status(400)),
        case("wrong signature", request("POST", SEG, &[("x-signature", &"0".repeat(40))], &event), Status(401)),
        case("empty signature", request("POST", SEG, &[("x-signature", "")], &event), Status(401)),
        case("upper-case hex signature", request("POST", SEG, &[("x-signature", &hmac_sha1_hex(SECRET, &event).to_uppercase())], &event), Status(401)),
        case("signature of another body", request("POST", SEG, &[("x-signature", &hmac_sha1_hex(SECRET, b"{}"))], &event), Status(401)),
        case("signature with the wrong key", request("POST", SEG, &[("x-signature", &hmac_sha1_hex("guess", &event))], &event), Status(401)),
        case("signature 1 MiB long", request("POST", SEG, &[("x-signature", &"a".repeat(1 << 20))], &event), Status(431)),
        // A captured body's signature over [captured, forged] (finding 3).
        case("signed array on a table without batches", request("POST", SEG, &[("x-signature", &hmac_sha1_hex(SECRET, &event))], &[b"[".as_slice(), &event, b",{\"forged\":true}]"].concat()), Status(401)),
        case("signed NDJSON on a table without batches", request("POST", SEG, &[("x-signature", &hmac_sha1_hex(SECRET, &event))], &[event.as_slice(), b"\n{\"forged\":true}"].concat()), Status(401)),
        // Headers and framing.
        case("200 headers", {
            let many: Vec<(String, String)> = (0..200).map(|i| (format!("x-h{i}"), "v".into())).collect();
            let refs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            request("POST", OPEN, &refs, &event)
        }, Status(431)),
        case("header name with a space", b"POST /webhook/dev/public/open HTTP/1.1\r\nbad header: x\r\ncontent-length: 2\r\n\r\n{}".to_vec(), Status(400)),
        case("non-numeric content-length", b"POST /webhook/dev/public/open HTTP/1.1\r\ncontent-length: ten\r\n\r\n{}".to_vec(), Status(400)),
        case("negative content-length", b"POST /webhook/dev/public/open HTTP/1.1\r\ncontent-length: -2\r\n\r\n{}".to_vec(), Status(400)),
        case("two different content-lengths", b"POST /webhook/dev/public/open HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}x".to_vec(), Status(400)),
        case("content-length beyond the body limit", b"POST /webhook/dev/public/open HTTP/1.1\r\ncontent-length: 99999999999\r\n\r\n".to_vec(), Status(413)),
        case("malformed chunk size", b"POST /webhook/dev/public/open HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_vec(), Status(400)),
        case("chunked body beyond the limit", {
            let mut r = b"POST /webhook/dev/public/open HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
            let chunk = vec![b' '; 1 << 20];
            for _ in 0..17 {
                r.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                r.extend_from_slice(&chunk);
                r.extend_from_slice(b"\r\n");
            }
            r.extend_from_slice(b"0\r\n\r\n");
            r
        }, Status(413)),
        case("garbage request line", b"HELLO THERE\r\n\r\n".to_vec(), Status(400)),
        case("binary junk", (0..512u32).map(|i| (i * 7919 % 251) as u8).collect(), Status(400)),
        // The listener speaks HTTP/1.1 only: it hangs up on HTTP/2.
        case("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(), NoAnswer),
        case("unsupported HTTP version", b"POST /webhook/dev/public/open HTTP/3.0\r\ncontent-length: 2\r\n\r\n{}".to_vec(), Status(400)),
        // Bodies, correctly signed, that are not acceptable JSON.
        case("empty body", signed(SEG, b""), Status(422)),
        case("truncated object", signed(SEG, br#"{"a":"#), Status(422)),
        case("trailing garbage", signed(SEG, br#"{} x"#), Status(422)),
        case("invalid UTF-8", signed(SEG, b"{\"a\":\"\xff\xfe\"}"), Status(422)),
        case("byte order mark", signed(SEG, b"\xef\xbb\xbf{}"), Status(422)),
        case("lone surrogate escape", signed(SEG, br#"{"a":"\ud800"}"#), Status(422)),
        case("NUL escape in a string", signed(SEG, br#"{"a":"\u0000"}"#), Status(422)),
        case("nested 10,000 deep", signed(SEG, &deep(10_000)), Status(422)),
        case("nested one level too deep", signed(SEG, &deep(10_001)), Status(422)),
        case("number beyond numeric's range", signed(SEG, br#"{"n":1e1000000}"#), Status(422)),
        case("NaN literal", signed(SEG, br#"{"n":NaN}"#), Status(422)),
        case("single-quoted strings", signed(SEG, br#"{'a':'b'}"#), Status(422)),
        case("comments", signed(SEG, b"{/* c */}"), Status(422)),
        case("raw control character in a string", signed(SEG, b"{\"a\":\"\x01\"}"), Status(422)),
        // Batches: all or nothing, and bounded.
        case("NDJSON with one bad line", signed(BATCH, &[event.as_slice(), b"\n{bad}\n", &event].concat()), Status(422)),
        case("array with one bad element", signed(BATCH, &[b"[".as_slice(), &event, b",{\"a\":\"\\ud800\"}]"].concat()), Status(422)),
        case("a million tiny lines", signed(BATCH, "1\n".repeat(1_000_000).as_bytes()), Status(413)),
        // Signed over the whole body, a batched body is split on lines (as
        // RisingWave does): `[]` is one line, one row.
        case("empty array, signed whole", signed(BATCH, b"[]"), Status(200)),
        // Slow and stalled clients.
        HttpCase {
            name: "connects and sends nothing",
            parts: vec![None],
            expect: NoAnswer,
        },
        HttpCase {
            name: "half the headers, then silence",
            parts: vec![Some(b"POST /webhook/dev/public/open HTTP/1.1\r\nhost: x\r\n".to_vec()), None],
            expect: NoAnswer,
        },
        HttpCase {
            name: "half the body, then silence",
            parts: vec![Some(b"POST /webhook/dev/public/open HTTP/1.1\r\ncontent-length: 100\r\n\r\n{\"a\":".to_vec()), None],
            expect: Status(408),
        },
        HttpCase {
            name: "headers a byte at a time",
            parts: b"POST /webhook/dev/public/open HTTP/1.1\r\nx-slow: 1234567890\r\n"
                .iter()
                .map(|b| Some(vec![*b]))
                .collect(),
            expect: NoAnswer,
        },
    ];
    // An Expect: 100-continue for a body over the limit is refused before
    // the body is sent.
    cases.push(case(
        "expect-continue beyond the limit",
        b"POST /webhook/dev/public/open HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 50000000\r\n\r\n".to_vec(),
        Status(413),
    ));
    cases
}

/// The status of the first response on `s`, or `None` if the connection
/// closed or stayed silent for `limit`.
async fn read_status(s: &mut TcpStream, limit: Duration) -> Option<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.windows(2).any(|w| w == b"\r\n") {
            break;
        }
    }
    let line = String::from_utf8_lossy(&buf);
    let status = line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    // A 100 Continue is not the answer.
    if status == 100 {
        return None;
    }
    Some(status)
}

async fn run_http(server: &Server, c: &HttpCase) -> Expect {
    let mut s = TcpStream::connect(&server.webhook_addr).await.unwrap();
    // Send; the server may answer (and close) before everything is sent.
    let mut stalled = false;
    for part in &c.parts {
        match part {
            Some(bytes) => {
                if s.write_all(bytes).await.is_err() {
                    break;
                }
                if c.parts.len() > 2 {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
            }
            None => stalled = true,
        }
    }
    let limit = if stalled {
        Duration::from_secs(3 * READ_TIMEOUT + 5)
    } else {
        Duration::from_secs(30)
    };
    match read_status(&mut s, limit).await {
        Some(code) => Expect::Status(code),
        None => Expect::NoAnswer,
    }
}

/// Both ports answer, no table gained a row, memory is bounded.
async fn still_sound(server: &Server, pg: &tokio_postgres::Client, after: &str) {
    for t in TABLES {
        let n = scalar(pg, &format!("SELECT count(*) FROM {t}"))
            .await
            .unwrap_or_else(|e| panic!("after {after}: the Postgres port fails: {e}"));
        assert_eq!(n.as_deref(), Some("0"), "after {after}: {t} gained rows");
    }
    let (status, _) = server
        .post("/webhook/dev/public/nope", &[], "{}")
        .await
        .unwrap_or_else(|e| panic!("after {after}: the webhook port fails: {e}"));
    assert_eq!(status, 404, "after {after}");
    // Freed memory returns to the OS half a second after it is freed.
    let mut rss = u64::MAX;
    for _ in 0..20 {
        rss = rivulet_tests::rss(server.pid().unwrap()) >> 20;
        if rss <= BUDGET_MIB + HEADROOM_MIB {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        rss <= BUDGET_MIB + HEADROOM_MIB,
        "after {after}: {rss} MiB resident with a {BUDGET_MIB} MiB budget, a second later"
    );
}

async fn start() -> (TempDir, Server, tokio_postgres::Client) {
    let dir = TempDir::new("hostile");
    let server = Server::start(
        &dir.0,
        &[
            "--memory-budget",
            &format!("{BUDGET_MIB}MiB"),
            "--webhook-read-timeout",
            &READ_TIMEOUT.to_string(),
            "--max-connections",
            "16",
            "--authentication-timeout",
            "2",
        ],
    )
    .await
    .unwrap();
    let pg = server.connect().await.unwrap();
    pg.batch_execute(SETUP).await.unwrap();
    (dir, server, pg)
}

#[tokio::test]
async fn hostile_http_requests_get_exact_answers_and_store_nothing() {
    let (_dir, server, pg) = start().await;
    let cases = http_cases();
    assert!(cases.len() >= 50, "{} HTTP cases", cases.len());
    eprintln!("{} HTTP cases", cases.len());
    let mut wrong = Vec::new();
    for c in &cases {
        let got = run_http(&server, c).await;
        // The few cases that are accepted are cleaned up again.
        if got == Expect::Status(200) {
            pg.batch_execute("DELETE FROM seg; DELETE FROM batch; DELETE FROM open")
                .await
                .unwrap();
        }
        if got != c.expect {
            wrong.push(format!("{}: expected {:?}, got {got:?}", c.name, c.expect));
        }
        still_sound(&server, &pg, c.name).await;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------
// The Postgres port.

fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn startup_with(version: i32, params: &[(&str, &str)]) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    for (k, v) in params {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut out = (body.len() as i32 + 4).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

fn startup() -> Vec<u8> {
    startup_with(196_608, &[("user", "root"), ("database", "dev")])
}

fn cstr(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

fn query(sql: &str) -> Vec<u8> {
    let mut b = Vec::new();
    cstr(&mut b, sql);
    msg(b'Q', &b)
}

fn parse(name: &str, sql: &str, types: &[u32]) -> Vec<u8> {
    let mut b = Vec::new();
    cstr(&mut b, name);
    cstr(&mut b, sql);
    b.extend_from_slice(&(types.len() as u16).to_be_bytes());
    for t in types {
        b.extend_from_slice(&t.to_be_bytes());
    }
    msg(b'P', &b)
}

/// Bind: parameters as (length, bytes): a length of -1 is NULL, other
/// negative lengths are malformed.
fn bind(portal: &str, stmt: &str, formats: &[i16], params: &[(i32, &[u8])]) -> Vec<u8> {
    let mut b = Vec::new();
    cstr(&mut b, portal);
    cstr(&mut b, stmt);
    b.extend_from_slice(&(formats.len() as i16).to_be_bytes());
    for f in formats {
        b.extend_from_slice(&f.to_be_bytes());
    }
    b.extend_from_slice(&(params.len() as i16).to_be_bytes());
    for (len, bytes) in params {
        b.extend_from_slice(&len.to_be_bytes());
        b.extend_from_slice(bytes);
    }
    b.extend_from_slice(&0i16.to_be_bytes());
    msg(b'B', &b)
}

fn execute(portal: &str) -> Vec<u8> {
    let mut b = Vec::new();
    cstr(&mut b, portal);
    b.extend_from_slice(&0i32.to_be_bytes());
    msg(b'E', &b)
}

fn describe(kind: u8, name: &str) -> Vec<u8> {
    let mut b = vec![kind];
    cstr(&mut b, name);
    msg(b'D', &b)
}

fn sync() -> Vec<u8> {
    msg(b'S', b"")
}

struct WireCase {
    name: &'static str,
    /// Whether the case starts on an established session.
    session: bool,
    bytes: Vec<u8>,
    expect: Expect,
}

fn wire(name: &'static str, session: bool, bytes: Vec<u8>, expect: Expect) -> WireCase {
    WireCase {
        name,
        session,
        bytes,
        expect,
    }
}

fn wire_cases() -> Vec<WireCase> {
    use Expect::*;
    let chain = |op: &str, n: usize| vec!["1"; n].join(op);
    let grow = |levels: usize| {
        let mut e = "'aaaaaaaaaa'".to_string();
        for _ in 0..levels {
            e = format!("replace({e}, 'a', 'aaaaaaaaaa')");
        }
        e
    };
    vec![
        // Before a session exists.
        wire(
            "random bytes instead of a startup",
            false,
            (0..64u32).map(|i| (i * 31 % 256) as u8).collect(),
            Closed,
        ),
        wire(
            "startup claiming 2 GiB",
            false,
            [i32::MAX.to_be_bytes(), 196_608i32.to_be_bytes()].concat(),
            Closed,
        ),
        // Waits for the rest, then --authentication-timeout closes it.
        wire(
            "startup shorter than its header",
            false,
            4i32.to_be_bytes().to_vec(),
            Closed,
        ),
        // PostgreSQL sends 0A000 first; pgwire closes at once.
        wire(
            "protocol version 4.0",
            false,
            startup_with(4 << 16, &[("user", "root")]),
            Closed,
        ),
        wire(
            "protocol version 2.0",
            false,
            startup_with(2 << 16, &[("user", "root")]),
            Closed,
        ),
        wire(
            "startup without a user",
            false,
            startup_with(196_608, &[("database", "dev")]),
            Sqlstate("28000"),
        ),
        wire(
            "unknown database",
            false,
            startup_with(196_608, &[("user", "root"), ("database", "nope")]),
            Sqlstate("3D000"),
        ),
        wire(
            "cancel request for no session",
            false,
            [
                16i32.to_be_bytes(),
                80_877_102i32.to_be_bytes(),
                7i32.to_be_bytes(),
                7i32.to_be_bytes(),
            ]
            .concat(),
            Closed,
        ),
        // The cut-off pair leaves no user name.
        wire(
            "startup parameter without its end",
            false,
            {
                let mut b = 196_608i32.to_be_bytes().to_vec();
                b.extend_from_slice(b"user\0ro");
                let mut out = (b.len() as i32 + 4).to_be_bytes().to_vec();
                out.extend_from_slice(&b);
                out
            },
            Sqlstate("28000"),
        ),
        // Beyond PostgreSQL's 10,000-byte start-up packet.
        wire(
            "10,000 startup parameters",
            false,
            {
                let names: Vec<String> = (0..10_000).map(|i| format!("p{i}")).collect();
                let mut params: Vec<(&str, &str)> =
                    names.iter().map(|n| (n.as_str(), "v")).collect();
                params.push(("user", "root"));
                startup_with(196_608, &params)
            },
            Closed,
        ),
        // Framing on a session.
        wire(
            "message claiming 2 GiB",
            true,
            [vec![b'Q'], i32::MAX.to_be_bytes().to_vec()].concat(),
            Closed,
        ),
        // Tolerated by pgwire: the session carries on.
        wire(
            "message length below its own header",
            true,
            [vec![b'Q'], 2i32.to_be_bytes().to_vec()].concat(),
            Fine,
        ),
        wire("unknown message type", true, msg(b'y', b"hello"), Closed),
        wire(
            "query without its terminating NUL",
            true,
            msg(b'Q', b"SELECT 1"),
            ClosedLater,
        ),
        // Ignored, as PostgreSQL ignores stray copy data.
        wire(
            "password message nobody asked for",
            true,
            msg(b'p', b"secret\0"),
            NoAnswer,
        ),
        wire(
            "copy data out of context",
            true,
            msg(b'd', b"1\t2\n"),
            NoAnswer,
        ),
        wire(
            "function call",
            true,
            msg(b'F', &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
            Closed,
        ),
        // SQL that is too much. (pgwire decodes query text leniently, so
        // invalid UTF-8 arrives as U+FFFD rather than as PostgreSQL's 22021.)
        wire(
            "query with invalid UTF-8",
            true,
            msg(b'Q', b"SELECT '\xff'\0"),
            Fine,
        ),
        wire(
            "1,100 chained additions",
            true,
            query(&format!("SELECT {}", chain(" + ", 1_100))),
            Sqlstate("54001"),
        ),
        wire(
            "parentheses 5,000 deep",
            true,
            query(&format!(
                "SELECT {}1{}",
                "(".repeat(5_000),
                ")".repeat(5_000)
            )),
            Sqlstate("54001"),
        ),
        wire(
            "JSON literal nested 100,000 deep",
            true,
            query(&format!(
                "SELECT '{}{}'::jsonb",
                "[".repeat(100_000),
                "]".repeat(100_000)
            )),
            Sqlstate("54001"),
        ),
        wire(
            "10,000 statements in one query",
            true,
            query(&"SELECT 1;".repeat(10_000)),
            Fine,
        ),
        wire(
            "replace() growing a value to 1 GB",
            true,
            query(&format!("SELECT length({})", grow(8))),
            Sqlstate("54000"),
        ),
        wire(
            "|| doubling a value past 256 MiB",
            true,
            query(&{
                let mut e = grow(7);
                for _ in 0..5 {
                    e = format!("({e} || {e})");
                }
                format!("SELECT length({e})")
            }),
            Sqlstate("54000"),
        ),
        wire(
            "numeric product beyond the range",
            true,
            query("SELECT 1e100000::numeric * 1e100000::numeric"),
            Sqlstate("22003"),
        ),
        // A server-side file is never read.
        wire(
            "COPY FROM a file",
            true,
            query("COPY plain FROM '/etc/passwd'"),
            Sqlstate("42601"),
        ),
        // The extended protocol.
        wire(
            "65,535 untyped parameters",
            true,
            [parse("", "SELECT $1", &vec![0; 65_535]), sync()].concat(),
            Fine,
        ),
        wire(
            "a parameter number beyond 65,535",
            true,
            [parse("", "SELECT $70000", &[]), sync()].concat(),
            Sqlstate("54000"),
        ),
        wire(
            "bind to an unknown statement",
            true,
            [bind("", "nope", &[], &[]), sync()].concat(),
            Sqlstate("26000"),
        ),
        // pgwire reports unknown portals with 26000 (PostgreSQL: 34000).
        wire(
            "execute an unknown portal",
            true,
            [execute("nope"), sync()].concat(),
            Sqlstate("26000"),
        ),
        wire(
            "describe an unknown statement",
            true,
            [describe(b'S', "nope"), sync()].concat(),
            Sqlstate("26000"),
        ),
        wire(
            "describe an unknown portal",
            true,
            [describe(b'P', "nope"), sync()].concat(),
            Sqlstate("26000"),
        ),
        wire(
            "bind with too few parameters",
            true,
            [
                parse("s", "SELECT $1::int + $2::int", &[]),
                bind("", "s", &[], &[(1, b"1")]),
                execute(""),
                sync(),
            ]
            .concat(),
            Sqlstate("08P01"),
        ),
        wire(
            "binary int4 of 3 bytes",
            true,
            [
                parse("s", "SELECT $1::int", &[23]),
                bind("", "s", &[1], &[(3, b"\0\0\x01")]),
                execute(""),
                sync(),
            ]
            .concat(),
            Sqlstate("22P03"),
        ),
        // Read as NULL by pgwire.
        wire(
            "parameter length -2",
            true,
            [
                parse("s", "SELECT $1::int", &[23]),
                bind("", "s", &[], &[(-2, b"")]),
                execute(""),
                sync(),
            ]
            .concat(),
            Fine,
        ),
        wire(
            "describe kind that does not exist",
            true,
            [describe(b'X', "s"), sync()].concat(),
            Sqlstate("08P01"),
        ),
    ]
}

/// What a session answered: the first SQLSTATE, whether ReadyForQuery
/// came, whether the connection closed.
struct Answer {
    code: Option<String>,
    ready: bool,
    closed: bool,
}

/// Reads backend messages until ReadyForQuery, a close, or `limit`.
async fn read_answer(s: &mut TcpStream, limit: Duration) -> Answer {
    let mut a = Answer {
        code: None,
        ready: false,
        closed: false,
    };
    let deadline = Instant::now() + limit;
    loop {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return a;
        };
        let mut head = [0u8; 5];
        match tokio::time::timeout(left, s.read_exact(&mut head)).await {
            Err(_) => return a,
            Ok(Err(_)) => {
                a.closed = true;
                return a;
            }
            Ok(Ok(_)) => {}
        }
        let len = i32::from_be_bytes([head[1], head[2], head[3], head[4]]);
        let mut body = vec![0u8; (len.max(4) - 4) as usize];
        if s.read_exact(&mut body).await.is_err() {
            a.closed = true;
            return a;
        }
        match head[0] {
            b'E' if a.code.is_none() => {
                let mut fields = body.split(|b| *b == 0);
                a.code = fields
                    .find(|f| f.first() == Some(&b'C'))
                    .map(|f| String::from_utf8_lossy(&f[1..]).into_owned());
            }
            b'Z' => {
                a.ready = true;
                return a;
            }
            _ => {}
        }
    }
}

async fn run_wire(server: &Server, c: &WireCase) -> Expect {
    let mut s = TcpStream::connect(&server.pg_addr).await.unwrap();
    if c.session {
        s.write_all(&startup()).await.unwrap();
        let a = read_answer(&mut s, Duration::from_secs(10)).await;
        assert!(a.ready && a.code.is_none(), "{}: no session", c.name);
    }
    let _ = s.write_all(&c.bytes).await;
    let a = read_answer(&mut s, Duration::from_secs(20)).await;
    // After a ReadyForQuery, the session must still run a query.
    if a.ready && c.session {
        let _ = s.write_all(&query("SELECT 1")).await;
        let again = read_answer(&mut s, Duration::from_secs(10)).await;
        if again.closed && again.code.is_none() {
            return Expect::ClosedLater;
        }
        if !again.ready || again.code.is_some() {
            return Expect::Broken;
        }
    }
    match a {
        Answer { code: Some(c), .. } => Expect::Sqlstate(leak(c)),
        Answer { ready: true, .. } => Expect::Fine,
        Answer { closed: true, .. } => Expect::Closed,
        _ => Expect::NoAnswer,
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[tokio::test]
async fn hostile_wire_messages_get_exact_answers_and_store_nothing() {
    let (_dir, server, pg) = start().await;
    let cases = wire_cases();
    assert!(cases.len() >= 30, "{} wire cases", cases.len());
    eprintln!("{} wire cases and a connection flood", cases.len());
    let mut wrong = Vec::new();
    for c in &cases {
        let got = run_wire(&server, c).await;
        if got != c.expect {
            wrong.push(format!("{}: expected {:?}, got {got:?}", c.name, c.expect));
        }
        still_sound(&server, &pg, c.name).await;
    }
    // A flood of sessions beyond --max-connections (16, one in use) is
    // told 53300 at once, and the server serves again afterwards.
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..24 {
        let mut s = TcpStream::connect(&server.pg_addr).await.unwrap();
        s.write_all(&startup()).await.unwrap();
        let a = read_answer(&mut s, Duration::from_secs(10)).await;
        match a.code.as_deref() {
            None if a.ready => held.push(s),
            Some("53300") => refused += 1,
            other => wrong.push(format!("connection flood: got {other:?}")),
        }
    }
    assert_eq!(held.len(), 15, "sessions let in");
    assert_eq!(refused, 9);
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    still_sound(&server, &pg, "a connection flood").await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The backend message types a session answers `bytes` with, up to and
/// including ReadyForQuery.
async fn message_types(server: &Server, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(&server.pg_addr).await.unwrap();
    s.write_all(&startup()).await.unwrap();
    let a = read_answer(&mut s, Duration::from_secs(10)).await;
    assert!(a.ready && a.code.is_none(), "no session");
    s.write_all(bytes).await.unwrap();
    let mut types = Vec::new();
    loop {
        let mut head = [0u8; 5];
        s.read_exact(&mut head).await.unwrap();
        let len = i32::from_be_bytes([head[1], head[2], head[3], head[4]]);
        let mut body = vec![0u8; (len.max(4) - 4) as usize];
        s.read_exact(&mut body).await.unwrap();
        types.push(head[0]);
        if head[0] == b'Z' {
            return types;
        }
    }
}

/// Describe and empty queries answer with PostgreSQL's messages: a
/// statement without rows is ParameterDescription then NoData (pgJDBC
/// counts batch rows from that), one with rows a RowDescription, and a
/// query of only comments EmptyQueryResponse.
#[tokio::test]
async fn describe_and_empty_queries_answer_like_postgres() {
    let (_dir, server, pg) = start().await;
    pg.batch_execute("CREATE TABLE d (id int)").await.unwrap();
    let describe_statement =
        |sql: &str| [parse("s", sql, &[]), describe(b'S', "s"), sync()].concat();
    assert_eq!(
        message_types(&server, &describe_statement("INSERT INTO d VALUES ($1)")).await,
        b"1tnZ"
    );
    assert_eq!(
        message_types(
            &server,
            &describe_statement("SELECT id FROM d WHERE id = $1")
        )
        .await,
        b"1tTZ"
    );
    assert_eq!(
        message_types(&server, &describe_statement("SET statement_timeout = 0")).await,
        b"1tnZ"
    );
    assert_eq!(message_types(&server, &query("-- nothing")).await, b"IZ");
    assert_eq!(message_types(&server, &query(";;")).await, b"IZ");
}
