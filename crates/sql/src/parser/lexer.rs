//! Lexical rules: whitespace and comments, keywords, identifiers, literals
//! and symbols. Every token parser skips the whitespace before it.

use std::cell::Cell;

use nom::error::{ErrorKind, ParseError as NomParseError};
use nom::{Err, IResult};

use crate::ast::Ident;
use crate::keywords::is_reserved;

/// The parser's error: where it happened and, for errors that are not plain
/// syntax errors, what to say.
#[derive(Debug)]
pub(crate) struct PErr<'a> {
    pub input: &'a str,
    pub message: Option<String>,
    /// The input nests deeper than the parser (and everything that walks
    /// the tree after it) allows: PostgreSQL's 54001, not a syntax error.
    pub too_deep: bool,
}

impl<'a> NomParseError<&'a str> for PErr<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        PErr {
            input,
            message: None,
            too_deep: false,
        }
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    /// Of two failed alternatives, report the one that got further.
    fn or(self, other: Self) -> Self {
        if self.input.len() <= other.input.len() {
            self
        } else {
            other
        }
    }
}

pub(crate) type PResult<'a, T> = IResult<&'a str, T, PErr<'a>>;

/// A recoverable failure at `input` (lets `alt` try the next branch).
pub(crate) fn fail<T>(input: &str) -> PResult<'_, T> {
    Err(Err::Error(PErr {
        input,
        message: None,
        too_deep: false,
    }))
}

/// Runs a parser whose plain failure means "not this alternative": `None`
/// on a recoverable error, while a fatal error still propagates.
pub(crate) fn attempt<'a, T>(r: PResult<'a, T>) -> Result<Option<(&'a str, T)>, Err<PErr<'a>>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Err::Error(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An unrecoverable failure with a specific message.
pub(crate) fn fatal<'a, T>(input: &'a str, message: impl Into<String>) -> PResult<'a, T> {
    Err(Err::Failure(PErr {
        input,
        message: Some(message.into()),
        too_deep: false,
    }))
}

/// skip = (whitespace | '--' ... newline | '/*' ... '*/')*
pub(crate) fn skip(mut i: &str) -> &str {
    loop {
        let t = i.trim_start();
        if let Some(rest) = t.strip_prefix("--") {
            i = rest.find('\n').map_or("", |n| &rest[n + 1..]);
        } else if let Some(rest) = t.strip_prefix("/*") {
            // Block comments nest, as in PostgreSQL.
            let mut depth = 1;
            let b = rest.as_bytes();
            let mut k = 0;
            while depth > 0 && k < b.len() {
                if b[k..].starts_with(b"/*") {
                    depth += 1;
                    k += 2;
                } else if b[k..].starts_with(b"*/") {
                    depth -= 1;
                    k += 2;
                } else {
                    k += 1;
                }
            }
            if depth > 0 {
                // Leave the unterminated comment for the caller to report.
                return t;
            }
            i = &rest[k..];
        } else {
            return t;
        }
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// The bare word at the start of `i` (after whitespace), if any.
fn word(i: &str) -> Option<(&str, &str)> {
    let i = skip(i);
    if !i.starts_with(is_ident_start) {
        return None;
    }
    let end = i.find(|c| !is_ident_char(c)).unwrap_or(i.len());
    Some((&i[end..], &i[..end]))
}

/// keyword = a case-insensitive word, not followed by an identifier char.
pub(crate) fn kw<'a>(k: &'static str) -> impl Fn(&'a str) -> PResult<'a, &'a str> {
    move |i| match word(i) {
        Some((rest, w)) if w.eq_ignore_ascii_case(k) => Ok((rest, w)),
        _ => fail(skip(i)),
    }
}

/// Whether the next token is keyword `k`.
pub(crate) fn peek_kw(i: &str, k: &str) -> bool {
    word(i).is_some_and(|(_, w)| w.eq_ignore_ascii_case(k))
}

/// symbol = an exact punctuation string.
pub(crate) fn sym<'a>(s: &'static str) -> impl Fn(&'a str) -> PResult<'a, &'a str> {
    move |i| {
        let i = skip(i);
        match i.strip_prefix(s) {
            Some(rest) => Ok((rest, &i[..s.len()])),
            None => fail(i),
        }
    }
}

/// identifier = unquoted word (not reserved; folded to lower case)
///            | '"' ( [^"] | '""' )* '"'
pub(crate) fn ident(i: &str) -> PResult<'_, Ident> {
    let i = skip(i);
    if let Some(body) = i.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((k, c)) = chars.next() {
            if c == '"' {
                if body[k + 1..].starts_with('"') {
                    out.push('"');
                    chars.next();
                } else {
                    if out.is_empty() {
                        return fatal(i, "zero-length delimited identifier at or near \"\"\"\"");
                    }
                    return Ok((&body[k + 1..], Ident(out)));
                }
            } else {
                out.push(c);
            }
        }
        return fatal(i, "unterminated quoted identifier");
    }
    match word(i) {
        Some((rest, w)) if !is_reserved(&w.to_ascii_lowercase()) => {
            Ok((rest, Ident(w.to_lowercase())))
        }
        _ => fail(i),
    }
}

/// Like [`ident`] but also accepts reserved words (for option names and
/// variable names, where PostgreSQL allows them).
pub(crate) fn any_word(i: &str) -> PResult<'_, Ident> {
    match word(i) {
        Some((rest, w)) => Ok((rest, Ident(w.to_lowercase()))),
        None => ident(i),
    }
}

/// dollar = "$" tag? "$" any* "$" tag? "$", where the tag is an
/// identifier not starting with a digit (so `$1` stays a parameter).
fn dollar_quoted(i: &str) -> Option<PResult<'_, String>> {
    let rest = i.strip_prefix('$')?;
    let tag_len = rest.find('$')?;
    let tag = &rest[..tag_len];
    let valid = tag
        .chars()
        .next()
        .is_none_or(|c| is_ident_start(c) && c != '$')
        && tag.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !valid {
        return None;
    }
    let delim = &i[..tag_len + 2];
    let body = &rest[tag_len + 1..];
    Some(match body.find(delim) {
        Some(end) => Ok((&body[end + delim.len()..], body[..end].to_string())),
        None => fatal(i, "unterminated dollar-quoted string"),
    })
}

/// string = [Ee]? "'" ( [^'] | "''" | escape )* "'" | dollar  (adjacent
/// quoted literals separated by a newline concatenate, as in the SQL
/// standard)
pub(crate) fn string_lit(i: &str) -> PResult<'_, String> {
    let i = skip(i);
    if let Some(r) = dollar_quoted(i) {
        return r;
    }
    let (escapes, body) = match i.as_bytes() {
        [b'E' | b'e', b'\'', ..] => (true, &i[2..]),
        [b'\'', ..] => (false, &i[1..]),
        _ => return fail(i),
    };
    let mut out = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((k, c)) = chars.next() {
        match c {
            '\'' if body[k + 1..].starts_with('\'') => {
                out.push('\'');
                chars.next();
            }
            '\'' => {
                let rest = &body[k + 1..];
                // A literal continued on the next line: 'a'\n'b' = 'ab'.
                let ws = &rest[..rest.len() - rest.trim_start().len()];
                if ws.contains('\n') && rest.trim_start().starts_with('\'') {
                    let (rest2, more) = string_lit(rest)?;
                    out.push_str(&more);
                    return Ok((rest2, out));
                }
                return Ok((rest, out));
            }
            '\\' if escapes => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    other => out.push(other),
                }
            }
            other => out.push(other),
        }
    }
    fatal(i, "unterminated quoted string")
}

/// number = digits ('.' digits?)? exponent? | '.' digits exponent?
pub(crate) fn number_lit(i: &str) -> PResult<'_, String> {
    let i = skip(i);
    let b = i.as_bytes();
    let mut k = 0;
    let digits = |k: &mut usize| {
        let s = *k;
        while *k < b.len() && b[*k].is_ascii_digit() {
            *k += 1;
        }
        *k - s
    };
    let int = digits(&mut k);
    if k < b.len() && b[k] == b'.' && !(k + 1 < b.len() && b[k + 1] == b'.') {
        k += 1;
        let frac = digits(&mut k);
        if int == 0 && frac == 0 {
            return fail(i);
        }
    } else if int == 0 {
        return fail(i);
    }
    if k < b.len() && (b[k] == b'e' || b[k] == b'E') {
        let save = k;
        k += 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        if digits(&mut k) == 0 {
            k = save;
        }
    }
    if let Some(c) = i[k..].chars().next().filter(|c| is_ident_start(*c)) {
        let shown = &i[..k + c.len_utf8()];
        return fatal(
            &i[k..],
            format!("trailing junk after numeric literal at or near \"{shown}\""),
        );
    }
    Ok((&i[k..], i[..k].to_string()))
}

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Deepest expression nesting the parser accepts; deeper input is rejected
/// before it can exhaust the stack.
const MAX_DEPTH: usize = 100;

/// Deepest expression tree accepted, counting operator chains such as
/// `1 + 1 + ... + 1` (which parse in a loop but build a tree as deep as
/// they are long): binding, evaluating, printing and dropping it recurse.
/// PostgreSQL gives up at about the same size (a chain of ~1,000 terms);
/// the server's threads have stacks sized for walking such trees.
pub(crate) const MAX_TREE_DEPTH: usize = 1000;

/// The failure for input nested too deeply.
pub(crate) fn too_deep(i: &str) -> Err<PErr<'_>> {
    Err::Failure(PErr {
        input: i,
        message: Some("stack depth limit exceeded".into()),
        too_deep: true,
    })
}

/// The current expression recursion depth.
pub(crate) fn depth() -> usize {
    DEPTH.with(Cell::get)
}

/// Tracks recursion depth for the expression parser; released on drop.
pub(crate) struct DepthGuard;

impl DepthGuard {
    pub(crate) fn enter(i: &str) -> Result<DepthGuard, Err<PErr<'_>>> {
        let d = DEPTH.with(|d| {
            d.set(d.get() + 1);
            d.get()
        });
        let guard = DepthGuard;
        if d > MAX_DEPTH {
            return Err(too_deep(i));
        }
        Ok(guard)
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// The token at the start of `i`, for `syntax error at or near "..."`.
pub(crate) fn token_at(i: &str) -> &str {
    let i = skip(i);
    if let Some((_, w)) = word(i) {
        return w;
    }
    if i.starts_with(|c: char| c.is_ascii_digit()) {
        let end = i
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '.')
            .unwrap_or(i.len());
        return &i[..end];
    }
    for op in ["->>", "::", "->", "||", "<=", ">=", "<>", "!="] {
        if i.starts_with(op) {
            return &i[..op.len()];
        }
    }
    i.chars().next().map_or("", |c| &i[..c.len_utf8()])
}
