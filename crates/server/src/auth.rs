//! SCRAM-SHA-256 password authentication (RFC 5802 / RFC 7677), as
//! PostgreSQL does it, for when a password is configured.
//!
//! The server keeps only the salted keys, computed once at start-up; the
//! password itself is dropped.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// PostgreSQL's default iteration count.
const ITERATIONS: u32 = 4096;

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    #[allow(clippy::expect_used)]
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("hmac takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA-256 with one output block (SCRAM's `Hi`).
fn hi(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac(password, &block);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac(password, &u);
        out.iter_mut().zip(u).for_each(|(o, x)| *o ^= x);
    }
    out
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The OS random source only fails on exotic platforms; fall back to a
    // time-derived value rather than refusing to start.
    if getrandom::getrandom(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let h = Sha256::digest(t.to_le_bytes());
        b.iter_mut()
            .zip(h.iter().cycle())
            .for_each(|(o, x)| *o = *x);
    }
    b
}

/// What the server stores for the password.
pub struct ScramSecret {
    salt: [u8; 16],
    stored_key: [u8; 32],
    server_key: [u8; 32],
}

impl ScramSecret {
    /// Derives the stored keys from a password with a fresh salt.
    pub fn new(password: &str) -> ScramSecret {
        let salt = random_bytes::<16>();
        let salted = hi(password.as_bytes(), &salt, ITERATIONS);
        let client_key = hmac(&salted, b"Client Key");
        ScramSecret {
            salt,
            stored_key: Sha256::digest(client_key).into(),
            server_key: hmac(&salted, b"Server Key"),
        }
    }
}

impl std::fmt::Debug for ScramSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScramSecret([REDACTED])")
    }
}

/// One authentication exchange, between the client's first and final
/// messages.
#[derive(Debug)]
pub struct Exchange {
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

/// Why an exchange failed.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    /// The message was not valid SCRAM (08P01).
    Protocol(&'static str),
    /// Wrong password (28P01).
    Failed,
}

impl Exchange {
    /// Handles client-first-message (`n,,n=user,r=nonce`); returns the
    /// exchange and the server-first-message.
    pub fn start(
        secret: &ScramSecret,
        client_first: &[u8],
    ) -> Result<(Exchange, String), AuthError> {
        let text =
            std::str::from_utf8(client_first).map_err(|_| AuthError::Protocol("not UTF-8"))?;
        // GS2 header: no channel binding ("n") or "client supports it but
        // the server did not offer it" ("y"); no authzid.
        let bare = text
            .strip_prefix("n,,")
            .or_else(|| text.strip_prefix("y,,"))
            .ok_or(AuthError::Protocol("unsupported channel binding"))?;
        let client_nonce = bare
            .split(',')
            .find_map(|a| a.strip_prefix("r="))
            .filter(|n| !n.is_empty())
            .ok_or(AuthError::Protocol("missing nonce"))?;
        let nonce = format!("{client_nonce}{}", B64.encode(random_bytes::<18>()));
        let server_first = format!("r={nonce},s={},i={ITERATIONS}", B64.encode(secret.salt));
        Ok((
            Exchange {
                client_first_bare: bare.to_string(),
                server_first: server_first.clone(),
                nonce,
            },
            server_first,
        ))
    }

    /// Handles client-final-message (`c=...,r=nonce,p=proof`); returns the
    /// server-final-message when the proof is right.
    pub fn finish(self, secret: &ScramSecret, client_final: &[u8]) -> Result<String, AuthError> {
        let text =
            std::str::from_utf8(client_final).map_err(|_| AuthError::Protocol("not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or(AuthError::Protocol("missing proof"))?;
        let nonce = without_proof
            .split(',')
            .find_map(|a| a.strip_prefix("r="))
            .ok_or(AuthError::Protocol("missing nonce"))?;
        if nonce != self.nonce {
            return Err(AuthError::Protocol("nonce mismatch"));
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| AuthError::Protocol("bad proof encoding"))?;
        if proof.len() != 32 {
            return Err(AuthError::Failed);
        }
        let auth_message = format!(
            "{},{},{}",
            self.client_first_bare, self.server_first, without_proof
        );
        let client_signature = hmac(&secret.stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof
            .iter()
            .zip(client_signature)
            .map(|(p, s)| p ^ s)
            .collect();
        let stored: [u8; 32] = Sha256::digest(&client_key).into();
        if !constant_time_eq(&stored, &secret.stored_key) {
            return Err(AuthError::Failed);
        }
        let server_signature = hmac(&secret.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677's SCRAM-SHA-256 test vector.
    #[test]
    fn rfc7677_vector() {
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let salted = hi(b"pencil", &salt, 4096);
        let client_key = hmac(&salted, b"Client Key");
        let secret = ScramSecret {
            salt: salt.clone().try_into().unwrap(),
            stored_key: Sha256::digest(client_key).into(),
            server_key: hmac(&salted, b"Server Key"),
        };
        let ex = Exchange {
            client_first_bare: "n=user,r=rOprNGfwEbeRWgbNEkqO".into(),
            server_first: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".into(),
            nonce: "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into(),
        };
        let final_msg = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        assert_eq!(
            ex.finish(&secret, final_msg.as_bytes()).unwrap(),
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }

    #[test]
    fn wrong_proof_fails() {
        let secret = ScramSecret::new("right");
        let (ex, server_first) = Exchange::start(&secret, b"n,,n=,r=abc").unwrap();
        let nonce = server_first
            .split(',')
            .next()
            .unwrap()
            .trim_start_matches("r=");
        let bad = format!("c=biws,r={nonce},p={}", B64.encode([0u8; 32]));
        assert_eq!(ex.finish(&secret, bad.as_bytes()), Err(AuthError::Failed));
        assert!(Exchange::start(&secret, b"p=tls-server-end-point,,n=,r=x").is_err());
    }
}
