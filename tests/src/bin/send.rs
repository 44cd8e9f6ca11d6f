//! `rivulet-send`: posts one webhook request signed the way a real sender
//! signs it, and checks the status. Used by the sqllogictest files'
//! `system ok` steps.
//!
//! ```text
//! rivulet-send TABLE PROVIDER SECRET BODY [EXPECTED_STATUS]
//! ```
//!
//! PROVIDER is `segment` (X-Signature, hex HMAC-SHA1), `github-sha1`
//! (X-Hub-Signature: sha1=...), `github-sha256` (X-Hub-Signature-256:
//! sha256=...), `rudderstack` (Authorization: the secret), `hubspot`
//! (X-HubSpot-Signature v2: hex SHA-256 of secret + method + URL + body),
//! `bad` (a wrong X-Signature) or `none`. The body may contain `\n` escapes
//! for batched (NDJSON) requests. The listener address comes from
//! `RIVULET_WEBHOOK` (host:port).

use anyhow::{bail, Context, Result};
use rivulet_tests::sign;
use sha2::{Digest, Sha256};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [table, provider, secret, body, rest @ ..] = args.as_slice() else {
        bail!("usage: rivulet-send TABLE PROVIDER SECRET BODY [EXPECTED_STATUS]");
    };
    let expected: u16 = rest.first().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let addr = std::env::var("RIVULET_WEBHOOK").context("RIVULET_WEBHOOK is not set")?;
    let body = body.replace("\\n", "\n");
    let path = format!("/webhook/dev/public/{table}");
    let header: Option<(&str, String)> = match provider.as_str() {
        "segment" => Some(sign::segment(secret, body.as_bytes())),
        "github-sha1" => Some(sign::github_sha1(secret, body.as_bytes())),
        "github-sha256" => Some(sign::github_sha256(secret, body.as_bytes())),
        "rudderstack" => Some(("authorization", secret.clone())),
        "hubspot" => {
            let url = format!("http://{addr}{path}");
            let digest = Sha256::digest(format!("{secret}POST{url}{body}").as_bytes());
            Some((
                "x-hubspot-signature",
                digest.iter().map(|b| format!("{b:02x}")).collect(),
            ))
        }
        "bad" => Some(("x-signature", "0".repeat(40))),
        "none" => None,
        other => bail!("unknown provider {other}"),
    };
    let hook = rivulet_tests::Hook::new(&addr);
    let headers: Vec<(&str, &str)> = header.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, text) = hook.post(&path, &headers, body).await?;
    if status != expected {
        bail!("{path}: expected {expected}, got {status}: {text}");
    }
    Ok(())
}
