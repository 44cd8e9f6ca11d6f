//! Binary/text conversions: `encode`, `decode`, `convert_to`, `convert_from`.

use base64::Engine as _;

use super::{as_bytes, as_text};
use crate::cast::{decode_hex, parse_bytea};
use crate::{Error, Result, Value};

/// Lower-case hex digits of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// `encode(bytea, format)` for `hex`, `base64` (wrapped at 76 characters, as
/// PostgreSQL does) and `escape`.
pub(super) fn encode(data: &Value, format: &Value) -> Result<Value> {
    let data = as_bytes(data)?;
    // Hex doubles the input, base64 adds a third, escape at most quadruples.
    let most = match as_text(format)?.to_ascii_lowercase().as_str() {
        "hex" => data.len().saturating_mul(2),
        "base64" => data.len().saturating_mul(3) / 2,
        _ => data.len().saturating_mul(4),
    };
    crate::check_value_len(most)?;
    let text = match as_text(format)?.to_ascii_lowercase().as_str() {
        "hex" => to_hex(data),
        "base64" => {
            let raw = base64::engine::general_purpose::STANDARD.encode(data);
            let mut out = String::with_capacity(raw.len() + raw.len() / 76);
            for (i, chunk) in raw.as_bytes().chunks(76).enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                // base64 output is ASCII.
                out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            }
            out
        }
        "escape" => {
            let mut out = String::with_capacity(data.len());
            for &b in data {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    0 | 0x80..=0xff => out.push_str(&format!("\\{b:03o}")),
                    _ => out.push(b as char),
                }
            }
            out
        }
        other => return Err(unknown_format(other)),
    };
    Ok(Value::Text(text))
}

/// `decode(text, format)` for `hex`, `base64` and `escape`.
pub(super) fn decode(text: &Value, format: &Value) -> Result<Value> {
    let text = as_text(text)?;
    let bytes = match as_text(format)?.to_ascii_lowercase().as_str() {
        "hex" => decode_hex(text)
            .ok_or_else(|| Error::InvalidParameterValue("invalid hexadecimal data".into()))?,
        "base64" => {
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| Error::InvalidParameterValue(format!("invalid base64 data: {e}")))?
        }
        "escape" => parse_bytea(text).ok_or_else(|| Error::InvalidTextRepresentation {
            ty: "bytea",
            input: text.to_string(),
        })?,
        other => return Err(unknown_format(other)),
    };
    Ok(Value::Bytea(bytes))
}

fn unknown_format(name: &str) -> Error {
    Error::InvalidParameterValue(format!("unrecognized encoding: \"{name}\""))
}

/// Whether `name` names UTF-8 the way PostgreSQL matches encoding names
/// (case and punctuation ignored).
fn is_utf8(name: &str) -> bool {
    let norm: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    norm == "utf8" || norm == "unicode"
}

/// `convert_to(text, 'UTF8')`: the text's bytes.
pub(super) fn convert_to(text: &Value, encoding: &Value) -> Result<Value> {
    let enc = as_text(encoding)?;
    if !is_utf8(enc) {
        return Err(Error::InvalidParameterValue(format!(
            "invalid destination encoding name \"{enc}\""
        )));
    }
    Ok(Value::Bytea(as_text(text)?.as_bytes().to_vec()))
}

/// `convert_from(bytea, 'UTF8')`: the bytes as text; invalid UTF-8 is an error.
pub(super) fn convert_from(bytes: &Value, encoding: &Value) -> Result<Value> {
    let enc = as_text(encoding)?;
    if !is_utf8(enc) {
        return Err(Error::InvalidParameterValue(format!(
            "invalid source encoding name \"{enc}\""
        )));
    }
    let bytes = as_bytes(bytes)?;
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Value::Text(s.to_string())),
        Err(e) => {
            let at = e.valid_up_to();
            let shown: Vec<String> = bytes[at..bytes.len().min(at + 2)]
                .iter()
                .map(|b| format!("0x{b:02x}"))
                .collect();
            Err(Error::CharacterNotInRepertoire(shown.join(" ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn encodes_like_postgres() {
        let b = Value::Bytea(vec![0, b'a', b'\\', 0xff]);
        assert_eq!(encode(&b, &t("hex")), Ok(t("00615cff")));
        assert_eq!(encode(&b, &t("base64")), Ok(t("AGFc/w==")));
        assert_eq!(encode(&b, &t("escape")), Ok(t("\\000a\\\\\\377")));
        let long = Value::Bytea(vec![0u8; 60]);
        let Ok(Value::Text(s)) = encode(&long, &t("base64")) else {
            panic!()
        };
        assert_eq!(s.lines().map(str::len).collect::<Vec<_>>(), vec![76, 4]);
        assert!(encode(&b, &t("rot13")).is_err());
    }

    #[test]
    fn decodes() {
        assert_eq!(
            decode(&t("00615cff"), &t("hex")),
            Ok(Value::Bytea(vec![0, b'a', b'\\', 0xff]))
        );
        assert_eq!(
            decode(&t("AGFc\n/w=="), &t("base64")),
            Ok(Value::Bytea(vec![0, b'a', b'\\', 0xff]))
        );
        assert!(decode(&t("0g"), &t("hex")).is_err());
    }

    #[test]
    fn converts_utf8() {
        assert_eq!(
            convert_to(&t("é"), &t("UTF8")),
            Ok(Value::Bytea(vec![0xc3, 0xa9]))
        );
        assert_eq!(
            convert_from(&Value::Bytea(vec![0xc3, 0xa9]), &t("utf-8")),
            Ok(t("é"))
        );
        assert_eq!(
            convert_from(&Value::Bytea(vec![0xff]), &t("utf8"))
                .unwrap_err()
                .sqlstate(),
            "22021"
        );
        assert!(convert_to(&t("x"), &t("LATIN9")).is_err());
    }
}
