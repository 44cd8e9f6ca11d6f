//! Text builtins: `lower`, `upper`, `length`.

use super::{as_bytes, as_text};
use crate::{Error, Result, Value};

pub(super) fn lower(v: &Value) -> Result<Value> {
    Ok(Value::Text(as_text(v)?.to_lowercase()))
}

pub(super) fn upper(v: &Value) -> Result<Value> {
    Ok(Value::Text(as_text(v)?.to_uppercase()))
}

/// Length in characters.
pub(super) fn length_text(v: &Value) -> Result<Value> {
    int4(as_text(v)?.chars().count())
}

/// Length in bytes.
pub(super) fn length_bytea(v: &Value) -> Result<Value> {
    int4(as_bytes(v)?.len())
}

fn int4(n: usize) -> Result<Value> {
    i32::try_from(n)
        .map(Value::Int4)
        .map_err(|_| Error::NumericValueOutOfRange("integer out of range".into()))
}

fn int_arg(v: &Value) -> Result<i64> {
    match v {
        Value::Int4(i) => Ok(*i as i64),
        Value::Int8(i) => Ok(*i),
        other => Err(Error::DatatypeMismatch(format!(
            "expected integer, got {}",
            other.data_type()
        ))),
    }
}

/// `substr(s, start [, count])`, counting characters from 1; a start before
/// 1 shortens the result as PostgreSQL does.
pub(super) fn substr(args: &[Value]) -> Result<Value> {
    let s = as_text(&args[0])?;
    let start = int_arg(&args[1])?;
    let end = match args.get(2) {
        Some(n) => {
            let n = int_arg(n)?;
            if n < 0 {
                return Err(Error::SubstringError);
            }
            start.saturating_add(n)
        }
        None => i64::MAX,
    };
    let from = start.max(1);
    if end <= from {
        return Ok(Value::Text(String::new()));
    }
    let out: String = s
        .chars()
        .skip((from - 1) as usize)
        .take(usize::try_from(end - from).unwrap_or(usize::MAX))
        .collect();
    Ok(Value::Text(out))
}

/// `split_part(s, delimiter, n)`: the nth field (negative n counts from
/// the end).
pub(super) fn split_part(args: &[Value]) -> Result<Value> {
    let s = as_text(&args[0])?;
    let delim = as_text(&args[1])?;
    let n = int_arg(&args[2])?;
    if n == 0 {
        return Err(Error::InvalidParameterValue(
            "field position must not be zero".into(),
        ));
    }
    let parts: Vec<&str> = if delim.is_empty() {
        vec![s]
    } else {
        s.split(delim).collect()
    };
    let idx = if n > 0 { n - 1 } else { parts.len() as i64 + n };
    Ok(Value::Text(
        usize::try_from(idx)
            .ok()
            .and_then(|i| parts.get(i))
            .unwrap_or(&"")
            .to_string(),
    ))
}

/// `concat(a, b, ...)`: output forms of the non-NULL arguments.
pub(super) fn concat(args: &[Value]) -> Result<Value> {
    let parts: Vec<String> = args.iter().filter_map(Value::to_pg_text).collect();
    crate::check_value_len(parts.iter().map(String::len).sum())?;
    Ok(Value::Text(parts.concat()))
}

/// Which ends `trim` works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimSide {
    /// Both ends (`btrim`).
    Both,
    /// The start (`ltrim`).
    Leading,
    /// The end (`rtrim`).
    Trailing,
}

/// `btrim`/`ltrim`/`rtrim(s [, characters])`.
pub(super) fn trim(side: TrimSide, args: &[Value]) -> Result<Value> {
    let s = as_text(&args[0])?;
    let set: Vec<char> = match args.get(1) {
        Some(c) => as_text(c)?.chars().collect(),
        None => vec![' '],
    };
    let is_set = |c: char| set.contains(&c);
    Ok(Value::Text(
        match side {
            TrimSide::Both => s.trim_matches(is_set),
            TrimSide::Leading => s.trim_start_matches(is_set),
            TrimSide::Trailing => s.trim_end_matches(is_set),
        }
        .to_string(),
    ))
}

/// `replace(s, from, to)`.
/// `regexp_replace(source, pattern, replacement [, flags])`: the first
/// match (every one with flag `g`; `i` ignores case) replaced, `\1` ...
/// `\9` in the replacement standing for groups and `\&` for the match.
pub(super) fn regexp_replace(args: &[Value]) -> Result<Value> {
    let s = as_text(&args[0])?;
    let pattern = as_text(&args[1])?;
    let replacement = as_text(&args[2])?;
    let flags = match args.get(3) {
        Some(f) => as_text(f)?,
        None => "",
    };
    let mut global = false;
    let mut case_insensitive = false;
    for f in flags.chars() {
        match f {
            'g' => global = true,
            'i' => case_insensitive = true,
            'c' => case_insensitive = false,
            other => {
                return Err(Error::InvalidParameterValue(format!(
                    "invalid regular expression option: \"{other}\""
                )))
            }
        }
    }
    let re = regex::RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| Error::InvalidRegex(e.to_string()))?;
    // PostgreSQL's replacement syntax in the regex crate's: `$` is
    // literal, `\n` a group, `\&` the whole match, `\\` a backslash.
    let mut rep = String::with_capacity(replacement.len());
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => rep.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d @ '1'..='9') => {
                    chars.next();
                    rep.push_str(&format!("${{{d}}}"));
                }
                Some('&') => {
                    chars.next();
                    rep.push_str("${0}");
                }
                Some('\\') => {
                    chars.next();
                    rep.push('\\');
                }
                _ => rep.push('\\'),
            },
            c => rep.push(c),
        }
    }
    let out = if global {
        re.replace_all(s, rep.as_str())
    } else {
        re.replace(s, rep.as_str())
    };
    crate::check_value_len(out.len())?;
    Ok(Value::Text(out.into_owned()))
}

pub(super) fn replace(args: &[Value]) -> Result<Value> {
    let s = as_text(&args[0])?;
    let from = as_text(&args[1])?;
    let to = as_text(&args[2])?;
    if from.is_empty() {
        return Ok(Value::Text(s.to_string()));
    }
    if to.len() > from.len() {
        let grows = s
            .matches(from)
            .count()
            .saturating_mul(to.len() - from.len());
        crate::check_value_len(s.len().saturating_add(grows))?;
    }
    Ok(Value::Text(s.replace(from, to)))
}

/// `strpos(s, sub)` / `position(sub IN s)`: 1-based character position, 0
/// when absent.
pub(super) fn strpos(args: &[Value]) -> Result<Value> {
    let s = as_text(&args[0])?;
    let sub = as_text(&args[1])?;
    Ok(Value::Int4(match s.find(sub) {
        Some(byte) => s[..byte].chars().count() as i32 + 1,
        None => 0,
    }))
}

/// `like_escape(pattern, escape)`: `pattern` written with `escape` (one
/// character, or empty for none) rewritten to the backslash form LIKE
/// reads.
pub(super) fn like_escape(args: &[Value]) -> Result<Value> {
    let pattern = as_text(&args[0])?;
    let escape = as_text(&args[1])?;
    let mut esc = escape.chars();
    let esc = match (esc.next(), esc.next()) {
        (None, _) => None,
        (Some(c), None) => Some(c),
        _ => return Err(Error::InvalidEscape("invalid escape string".into())),
    };
    if esc == Some('\\') {
        return Ok(Value::Text(pattern.to_string()));
    }
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == esc {
            out.push('\\');
            // A trailing escape stays dangling; LIKE refuses it only if
            // matching reaches it, as PostgreSQL does.
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Ok(Value::Text(out))
}

/// The first character of each word (a run of letters and digits) in
/// upper case, the rest lower, as PostgreSQL's `initcap`.
pub(super) fn initcap(v: &Value) -> Result<Value> {
    let mut out = String::new();
    let mut in_word = false;
    for c in as_text(v)?.chars() {
        if c.is_alphanumeric() {
            if in_word {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            in_word = true;
        } else {
            out.push(c);
            in_word = false;
        }
    }
    Ok(Value::Text(out))
}

/// `repeat(s, n)`: `s` n times (nothing for n <= 0).
pub(super) fn repeat(args: &[Value]) -> Result<Value> {
    let s = as_text(&args[0])?;
    let n = int_arg(&args[1])?.max(0) as usize;
    crate::check_value_len(s.len().saturating_mul(n))?;
    Ok(Value::Text(s.repeat(n)))
}

/// `left(s, n)` / `right(s, n)`: the first (last) n characters; a
/// negative n is all but the last (first) |n|.
pub(super) fn left_right(args: &[Value], left: bool) -> Result<Value> {
    let chars: Vec<char> = as_text(&args[0])?.chars().collect();
    let n = int_arg(&args[1])?;
    let len = chars.len() as i64;
    let keep = if n >= 0 { n.min(len) } else { (len + n).max(0) } as usize;
    let out: String = if left {
        chars[..keep].iter().collect()
    } else {
        chars[chars.len() - keep..].iter().collect()
    };
    Ok(Value::Text(out))
}

/// `lpad(s, n [, fill])` / `rpad`: `s` filled (with spaces by default) or
/// cut to n characters.
pub(super) fn pad(args: &[Value], left: bool) -> Result<Value> {
    let s: Vec<char> = as_text(&args[0])?.chars().collect();
    let n = int_arg(&args[1])?.max(0) as usize;
    let fill: Vec<char> = match args.get(2) {
        Some(f) => as_text(f)?.chars().collect(),
        None => vec![' '],
    };
    crate::check_value_len(n.saturating_mul(4))?;
    if s.len() >= n || fill.is_empty() {
        return Ok(Value::Text(s.iter().take(n).collect()));
    }
    let filler: String = fill.iter().cycle().take(n - s.len()).collect();
    let s: String = s.into_iter().collect();
    Ok(Value::Text(if left { filler + &s } else { s + &filler }))
}

/// `reverse(s)`.
pub(super) fn reverse(v: &Value) -> Result<Value> {
    Ok(Value::Text(as_text(v)?.chars().rev().collect()))
}

/// `string_to_array(s, delimiter [, null_string])`: the fields as a text
/// array (each character a field when the delimiter is NULL, the whole
/// string one field when it is empty; fields equal to `null_string` NULL).
pub(super) fn string_to_array(args: &[Value]) -> Result<Value> {
    let s = match &args[0] {
        Value::Null => return Ok(Value::Null),
        v => as_text(v)?,
    };
    let null = match args.get(2) {
        Some(Value::Null) | None => None,
        Some(v) => Some(as_text(v)?),
    };
    if s.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    let fields: Vec<String> = match &args[1] {
        Value::Null => s.chars().map(String::from).collect(),
        d => {
            let d = as_text(d)?;
            if d.is_empty() {
                vec![s.to_string()]
            } else {
                s.split(d).map(String::from).collect()
            }
        }
    };
    Ok(Value::Array(
        fields
            .into_iter()
            .map(|f| match null {
                Some(n) if f == n => Value::Null,
                _ => Value::Text(f),
            })
            .collect(),
    ))
}

/// `starts_with(s, prefix)`.
pub(super) fn starts_with(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(
        as_text(&args[0])?.starts_with(as_text(&args[1])?),
    ))
}

/// `chr(n)`: the character with code point n.
pub(super) fn chr(v: &Value) -> Result<Value> {
    let n = int_arg(v)?;
    match u32::try_from(n).ok().and_then(char::from_u32) {
        Some('\0') => Err(Error::ProgramLimitExceeded(
            "null character not permitted".into(),
        )),
        Some(c) => Ok(Value::Text(c.to_string())),
        None => Err(Error::InvalidParameterValue(
            "requested character too large for encoding: ".to_string() + &n.to_string(),
        )),
    }
}

/// `ascii(s)`: the code point of the first character (0 for '').
pub(super) fn ascii(v: &Value) -> Result<Value> {
    Ok(Value::Int4(
        as_text(v)?.chars().next().map_or(0, |c| c as i32),
    ))
}
