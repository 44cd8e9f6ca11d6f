//! Cryptographic builtins: `hmac`, the SHA-2 digests, `md5` and
//! `secure_compare`.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use super::{as_bytes, as_text};
use crate::{Error, Result, Value};

/// The keyed digest of `data` under `key` with `M` (an HMAC).
fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    // Hmac accepts keys of any length, so new_from_slice cannot fail.
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
        .map_err(|_| Error::InvalidParameterValue("invalid hmac key".into()))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// `hmac(key, data, algorithm)`: the keyed digest of `data` as bytea, with
/// `algorithm` one of `sha1`, `sha224`, `sha256`, `sha384` or `sha512`
/// (case-insensitive), as pgcrypto names them.
pub(super) fn hmac(key: &Value, data: &Value, algorithm: &Value) -> Result<Value> {
    let key = as_bytes(key)?;
    let data = as_bytes(data)?;
    let algorithm = as_text(algorithm)?;
    let digest = match algorithm.to_ascii_lowercase().as_str() {
        "sha1" => mac::<Hmac<Sha1>>(key, data)?,
        "sha224" => mac::<Hmac<Sha224>>(key, data)?,
        "sha256" => mac::<Hmac<Sha256>>(key, data)?,
        "sha384" => mac::<Hmac<Sha384>>(key, data)?,
        "sha512" => mac::<Hmac<Sha512>>(key, data)?,
        other => {
            return Err(Error::InvalidParameterValue(format!(
                "unsupported hmac algorithm \"{other}\" (expected sha1, sha224, sha256, sha384 or sha512)"
            )))
        }
    };
    Ok(Value::Bytea(digest))
}

/// `sha224`, `sha256`, `sha384`, `sha512` (bytea): the digest, by its
/// output size in bits.
pub(super) fn sha(bits: u16, data: &Value) -> Result<Value> {
    let data = as_bytes(data)?;
    Ok(Value::Bytea(match bits {
        224 => Sha224::digest(data).to_vec(),
        384 => Sha384::digest(data).to_vec(),
        512 => Sha512::digest(data).to_vec(),
        _ => Sha256::digest(data).to_vec(),
    }))
}

/// `md5(text | bytea)`: the digest as 32 lowercase hex digits (what dbt's
/// surrogate keys are made of).
pub(super) fn md5(data: &Value) -> Result<Value> {
    let bytes = match data {
        Value::Text(s) => s.as_bytes(),
        other => as_bytes(other)?,
    };
    let digest = md5::Md5::digest(bytes);
    Ok(Value::Text(
        digest.iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

/// `secure_compare(a, b)`: equality whose running time does not depend on
/// where the inputs differ (only on their lengths).
pub(super) fn secure_compare(a: &Value, b: &Value) -> Result<Value> {
    let (a, b) = (as_text(a)?, as_text(b)?);
    Ok(Value::Bool(constant_time_eq::constant_time_eq(
        a.as_bytes(),
        b.as_bytes(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::func::encoding::to_hex;

    fn hex_hmac(key: &str, data: &str, algo: &str) -> String {
        match hmac(
            &Value::Text(key.into()),
            &Value::Bytea(data.as_bytes().to_vec()),
            &Value::Text(algo.into()),
        )
        .unwrap()
        {
            Value::Bytea(b) => to_hex(&b),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reference_vectors() {
        assert_eq!(
            hex_hmac("your_secret_key", "your_webhook_payload", "sha256"),
            "cef8b98a91902c492b85d97f049aa4bfc5e7e3f9b8b7bf7cb49c5f829d2dac85"
        );
        assert_eq!(
            hex_hmac("your_secret_key", "your_webhook_payload", "sha1"),
            "65cb920a4b8c6ab8e2eab861a096a7bc2c05d8ba"
        );
        // Segment's documented vector.
        assert_eq!(
            hex_hmac("abc123", "{\"cool\":true}", "sha1"),
            "5099cab379b3be52908387457007040cc934ef86"
        );
        // GitHub's documented vector.
        assert_eq!(
            hex_hmac("It's a Secret to Everybody", "Hello, World!", "SHA256"),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        // Stripe signs "t.body".
        assert_eq!(
            hex_hmac(
                "whsec_test_secret",
                "1700000000.{\"id\":\"evt_test\",\"object\":\"event\"}",
                "sha256"
            ),
            "8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"
        );
    }

    #[test]
    fn rejects_unknown_algorithm() {
        let e = hmac(
            &Value::Text("k".into()),
            &Value::Bytea(vec![]),
            &Value::Text("md5".into()),
        )
        .unwrap_err();
        assert_eq!(e.sqlstate(), "22023");
    }

    #[test]
    fn compares() {
        let t = |s: &str| Value::Text(s.into());
        assert_eq!(secure_compare(&t("abc"), &t("abc")), Ok(Value::Bool(true)));
        assert_eq!(secure_compare(&t("abc"), &t("abd")), Ok(Value::Bool(false)));
        assert_eq!(secure_compare(&t("abc"), &t("ab")), Ok(Value::Bool(false)));
    }
}
