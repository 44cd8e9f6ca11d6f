//! Builtin functions: name and argument-type resolution, and evaluation.
//!
//! One file per family: [`crypto`] (hmac, sha256, secure_compare),
//! [`encoding`] (encode, decode, convert_to, convert_from), [`text`] (lower,
//! upper, length) and [`system`] (version).

mod crypto;
mod encoding;
mod system;
mod text;

use std::fmt;

use crate::{DataType, Error, Result, Value};

/// A resolved builtin function. Every builtin is strict: a NULL argument
/// gives a NULL result without calling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Hmac,
    Sha256,
    SecureCompare,
    Encode,
    Decode,
    ConvertTo,
    ConvertFrom,
    Lower,
    Upper,
    LengthText,
    LengthBytea,
    Version,
}

use DataType::{Boolean, Bytea, Int4, Text};

/// One overload: function, parameter types, result type.
type Signature = (Func, &'static [DataType], DataType);

/// Every overload, by SQL name. Unknown-typed arguments (string literals)
/// match any parameter type and are cast to it.
const SIGNATURES: &[(&str, Signature)] = &[
    ("hmac", (Func::Hmac, &[Text, Bytea, Text], Bytea)),
    ("hmac", (Func::Hmac, &[Bytea, Bytea, Text], Bytea)),
    ("hmac", (Func::Hmac, &[Text, Text, Text], Bytea)),
    ("sha256", (Func::Sha256, &[Bytea], Bytea)),
    (
        "secure_compare",
        (Func::SecureCompare, &[Text, Text], Boolean),
    ),
    ("encode", (Func::Encode, &[Bytea, Text], Text)),
    ("decode", (Func::Decode, &[Text, Text], Bytea)),
    ("convert_to", (Func::ConvertTo, &[Text, Text], Bytea)),
    ("convert_from", (Func::ConvertFrom, &[Bytea, Text], Text)),
    ("lower", (Func::Lower, &[Text], Text)),
    ("upper", (Func::Upper, &[Text], Text)),
    ("length", (Func::LengthText, &[Text], Int4)),
    ("length", (Func::LengthBytea, &[Bytea], Int4)),
    ("char_length", (Func::LengthText, &[Text], Int4)),
    ("octet_length", (Func::LengthBytea, &[Bytea], Int4)),
    ("version", (Func::Version, &[], Text)),
];

/// How well an argument type fits a parameter type.
fn fit(arg: DataType, param: DataType) -> Option<u8> {
    if arg == param {
        Some(0)
    } else if arg == DataType::Unknown {
        Some(1)
    } else {
        None
    }
}

impl Func {
    /// Chooses the overload of `name` for `args`, returning the function,
    /// the parameter types each argument must be cast to, and the result
    /// type. Exact matches win over matches that need a literal cast.
    pub fn resolve(name: &str, args: &[DataType]) -> Result<(Func, Vec<DataType>, DataType)> {
        let mut best: Option<(u32, &Signature)> = None;
        for (_, sig) in SIGNATURES.iter().filter(|(n, _)| *n == name) {
            if sig.1.len() != args.len() {
                continue;
            }
            let cost: Option<u32> = args
                .iter()
                .zip(sig.1)
                .map(|(a, p)| fit(*a, *p).map(u32::from))
                .sum();
            if let Some(cost) = cost {
                if best.is_none_or(|(c, _)| cost < c) {
                    best = Some((cost, sig));
                }
            }
        }
        match best {
            Some((_, (f, params, ret))) => Ok((*f, params.to_vec(), *ret)),
            None => Err(Error::UndefinedFunction(format!(
                "function {name}({}) does not exist",
                args.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Whether a function of this name exists at all (for error messages).
    pub fn exists(name: &str) -> bool {
        SIGNATURES.iter().any(|(n, _)| *n == name)
    }

    /// Evaluates the function on already-cast arguments.
    pub fn eval(self, args: &[Value]) -> Result<Value> {
        if args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        match self {
            Func::Hmac => crypto::hmac(&args[0], &args[1], &args[2]),
            Func::Sha256 => crypto::sha256(&args[0]),
            Func::SecureCompare => crypto::secure_compare(&args[0], &args[1]),
            Func::Encode => encoding::encode(&args[0], &args[1]),
            Func::Decode => encoding::decode(&args[0], &args[1]),
            Func::ConvertTo => encoding::convert_to(&args[0], &args[1]),
            Func::ConvertFrom => encoding::convert_from(&args[0], &args[1]),
            Func::Lower => text::lower(&args[0]),
            Func::Upper => text::upper(&args[0]),
            Func::LengthText => text::length_text(&args[0]),
            Func::LengthBytea => text::length_bytea(&args[0]),
            Func::Version => Ok(system::version()),
        }
    }

    /// The SQL name, for printing.
    pub fn name(self) -> &'static str {
        match self {
            Func::Hmac => "hmac",
            Func::Sha256 => "sha256",
            Func::SecureCompare => "secure_compare",
            Func::Encode => "encode",
            Func::Decode => "decode",
            Func::ConvertTo => "convert_to",
            Func::ConvertFrom => "convert_from",
            Func::Lower => "lower",
            Func::Upper => "upper",
            Func::LengthText => "length",
            Func::LengthBytea => "octet_length",
            Func::Version => "version",
        }
    }
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Extracts a text argument; the binder guarantees the type.
fn as_text(v: &Value) -> Result<&str> {
    match v {
        Value::Text(s) => Ok(s),
        other => Err(Error::DatatypeMismatch(format!(
            "expected text, got {}",
            other.data_type()
        ))),
    }
}

/// Extracts a bytea argument; the binder guarantees the type.
fn as_bytes(v: &Value) -> Result<&[u8]> {
    match v {
        Value::Bytea(b) => Ok(b),
        Value::Text(s) => Ok(s.as_bytes()),
        other => Err(Error::DatatypeMismatch(format!(
            "expected bytea, got {}",
            other.data_type()
        ))),
    }
}
