//! Request signing exactly as real senders do it: the listener crate's
//! signers (checked there against each sender's published vector), and
//! the events the tests send.

pub use rivulet_webhook::sign::*;

/// Slack's documented signing example: a slash command's form body.
pub const SLACK_EXAMPLE_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

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
