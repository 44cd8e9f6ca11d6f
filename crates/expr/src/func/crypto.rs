//! Cryptographic builtins: `hmac`, `sha256` and `secure_compare`.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::{as_bytes, as_text};
use crate::{Error, Result, Value};

/// `hmac(key, data, algorithm)`: the keyed digest of `data` as bytea, with
/// `algorithm` one of `sha1` or `sha256` (case-insensitive).
pub(super) fn hmac(key: &Value, data: &Value, algorithm: &Value) -> Result<Value> {
    let key = as_bytes(key)?;
    let data = as_bytes(data)?;
    let algorithm = as_text(algorithm)?;
    let digest = match algorithm.to_ascii_lowercase().as_str() {
        "sha1" => {
            // Hmac accepts keys of any length, so new_from_slice cannot fail.
            let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key)
                .map_err(|_| Error::InvalidParameterValue("invalid hmac key".into()))?;
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        "sha256" => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
                .map_err(|_| Error::InvalidParameterValue("invalid hmac key".into()))?;
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        other => {
            return Err(Error::InvalidParameterValue(format!(
                "unsupported hmac algorithm \"{other}\" (expected sha1 or sha256)"
            )))
        }
    };
    Ok(Value::Bytea(digest))
}

/// `sha256(bytea)`: the SHA-256 digest.
pub(super) fn sha256(data: &Value) -> Result<Value> {
    Ok(Value::Bytea(Sha256::digest(as_bytes(data)?).to_vec()))
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
