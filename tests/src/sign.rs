//! Request signing exactly as real senders do it.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA1 of `body`, lower-case hex.
pub fn hmac_sha1_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// HMAC-SHA256 of `body`, lower-case hex.
pub fn hmac_sha256_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// Segment (Webhooks Actions): `X-Signature` = hex HMAC-SHA1 of the body.
pub fn segment(secret: &str, body: &[u8]) -> (&'static str, String) {
    ("x-signature", hmac_sha1_hex(secret, body))
}

/// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`.
pub fn github_sha256(secret: &str, body: &[u8]) -> (&'static str, String) {
    (
        "x-hub-signature-256",
        format!("sha256={}", hmac_sha256_hex(secret, body)),
    )
}

/// GitHub's legacy `X-Hub-Signature: sha1=<hex HMAC-SHA1>`.
pub fn github_sha1(secret: &str, body: &[u8]) -> (&'static str, String) {
    (
        "x-hub-signature",
        format!("sha1={}", hmac_sha1_hex(secret, body)),
    )
}

/// A realistic Segment `track` event, compact as `JSON.stringify` makes it.
pub fn segment_track(message_id: &str, user: &str, event: &str) -> String {
    serde_json::json!({
        "anonymousId": format!("anon-{user}"),
        "context": {
            "ip": "203.0.113.7",
            "library": {"name": "analytics.js", "version": "2.11.1"},
            "page": {"path": "/pricing", "url": "https://example.com/pricing"},
            "userAgent": "Mozilla/5.0"
        },
        "event": event,
        "messageId": message_id,
        "originalTimestamp": "2015-12-12T19:11:01.152Z",
        "properties": {"plan": "Pro", "revenue": 39.95, "currency": "USD"},
        "receivedAt": "2015-12-12T19:11:01.266Z",
        "sentAt": "2015-12-12T19:11:01.169Z",
        "timestamp": "2015-12-12T19:11:01.249Z",
        "type": "track",
        "userId": user,
        "version": 2
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_vectors() {
        assert_eq!(
            segment("abc123", b"{\"cool\":true}").1,
            "5099cab379b3be52908387457007040cc934ef86"
        );
        assert_eq!(
            github_sha256("It's a Secret to Everybody", b"Hello, World!").1,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }
}
