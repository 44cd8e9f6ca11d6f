//! Signing requests exactly as each sender signs them: for `rivulet send`
//! (smoke tests and scripts that post as a given sender would) and for
//! the test suite. Each scheme is checked against the sender's published
//! vector below.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA1 of `body`, lower-case hex.
pub fn hmac_sha1_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// HMAC-SHA256 of `body`, lower-case hex.
pub fn hmac_sha256_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
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

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Stripe: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`,
/// keyed with the whole `whsec_...` string.
pub fn stripe(secret: &str, t: i64, body: &[u8]) -> (&'static str, String) {
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    (
        "stripe-signature",
        format!("t={t},v1={}", hex(&hmac_sha256(secret.as_bytes(), &signed))),
    )
}

/// Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of
/// "id.ts.body">`, keyed with the base64 after `whsec_`; returns the
/// three headers it sends.
pub fn standard_webhooks(
    secret: &str,
    id: &str,
    ts: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap_or_default();
    let mut signed = format!("{id}.{ts}.").into_bytes();
    signed.extend_from_slice(body);
    vec![
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", ts.to_string()),
        (
            "webhook-signature",
            format!("v1,{}", b64.encode(hmac_sha256(&key, &signed))),
        ),
    ]
}

/// Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:ts:body">` with
/// `X-Slack-Request-Timestamp`; returns both headers.
pub fn slack(secret: &str, ts: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    let mut signed = format!("v0:{ts}:").into_bytes();
    signed.extend_from_slice(body);
    vec![
        ("x-slack-request-timestamp", ts.to_string()),
        (
            "x-slack-signature",
            format!("v0={}", hex(&hmac_sha256(secret.as_bytes(), &signed))),
        ),
    ]
}

/// Shopify: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the body.
pub fn shopify(secret: &str, body: &[u8]) -> (&'static str, String) {
    use base64::Engine;
    (
        "x-shopify-hmac-sha256",
        base64::engine::general_purpose::STANDARD.encode(hmac_sha256(secret.as_bytes(), body)),
    )
}

/// Whose signing scheme a request follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// Segment, one event: `X-Signature`, hex HMAC-SHA1 of the body.
    Segment,
    /// Segment's batch mode: a JSON array signed over its first element.
    SegmentBatch,
    /// GitHub: `X-Hub-Signature-256`, `X-GitHub-Event`, `X-GitHub-Delivery`.
    Github,
    /// Stripe: `Stripe-Signature: t=...,v1=...`.
    Stripe,
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`.
    StandardWebhooks,
    /// Slack: `X-Slack-Request-Timestamp`, `X-Slack-Signature`.
    Slack,
    /// Shopify: `X-Shopify-Hmac-Sha256`, `X-Shopify-Topic`,
    /// `X-Shopify-Webhook-Id`.
    Shopify,
    /// No signature.
    Unsigned,
}

impl Sender {
    /// Every sender, by the name `rivulet send --sender` takes.
    pub const NAMES: &'static [(&'static str, Sender)] = &[
        ("segment", Sender::Segment),
        ("segment-batch", Sender::SegmentBatch),
        ("github", Sender::Github),
        ("stripe", Sender::Stripe),
        ("standard-webhooks", Sender::StandardWebhooks),
        ("slack", Sender::Slack),
        ("shopify", Sender::Shopify),
        ("none", Sender::Unsigned),
    ];

    /// The sender called `name`.
    pub fn from_name(name: &str) -> Option<Sender> {
        Self::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, s)| *s)
    }

    /// The headers this sender puts on a request with `body`, at unix time
    /// `now`; `id` identifies the delivery (for senders that send one) and
    /// `event` names it (GitHub's event, Shopify's topic).
    pub fn headers(
        self,
        secret: &str,
        body: &[u8],
        now: i64,
        id: &str,
        event: &str,
    ) -> Result<Vec<(String, String)>, String> {
        let own = |pairs: Vec<(&str, String)>| {
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Vec<_>>()
        };
        Ok(match self {
            Sender::Segment => own(vec![segment(secret, body)]),
            Sender::SegmentBatch => {
                let first = crate::validate::first_array_element(body)
                    .ok_or("a Segment batch is a JSON array of at least one event")?;
                own(vec![segment(secret, first)])
            }
            Sender::Github => own(vec![
                github_sha256(secret, body),
                ("x-github-event", event.to_string()),
                ("x-github-delivery", id.to_string()),
            ]),
            Sender::Stripe => own(vec![stripe(secret, now, body)]),
            Sender::StandardWebhooks => own(standard_webhooks(secret, id, now, body)),
            Sender::Slack => own(slack(secret, now, body)),
            Sender::Shopify => own(vec![
                shopify(secret, body),
                ("x-shopify-topic", event.to_string()),
                ("x-shopify-webhook-id", id.to_string()),
            ]),
            Sender::Unsigned => Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slack's documented signing example: a slash command's form body.
    const SLACK_EXAMPLE_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

    #[test]
    fn segment_batches_are_signed_over_their_first_element() {
        let h = Sender::SegmentBatch
            .headers("abc123", br#"[{"cool":false},{"cool":true}]"#, 0, "", "")
            .unwrap();
        assert_eq!(h[0].1, "c702b94a2569dd8d2f7185ce0ae951021bef4706");
        assert!(Sender::SegmentBatch
            .headers("abc123", b"{}", 0, "", "")
            .is_err());
    }

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
        assert_eq!(
            stripe(
                "whsec_test_secret",
                1_700_000_000,
                br#"{"id":"evt_test","object":"event"}"#
            )
            .1,
            "t=1700000000,v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"
        );
        assert_eq!(
            standard_webhooks(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            )[2]
            .1,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_eq!(
            slack(
                "8f742231b10e8888abcd99yyyzzz85a5",
                1_531_420_618,
                SLACK_EXAMPLE_BODY.as_bytes()
            )[1]
            .1,
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
        assert_eq!(
            shopify("shpss_test_secret", br#"{"id":1,"topic":"orders/create"}"#).1,
            "k72tceQzwLrcNoh8q2ZaNlbbj/oVrcHNV4qHTP1iWNs="
        );
    }
}
