//! The tree form of a JSON document: what the parser produces and what
//! functions that build documents assemble, before it is laid out in the
//! binary form ([`super::Jsonb`]).
//!
//! Parsing follows RFC 8259 like PostgreSQL's `jsonb_in`: object keys are
//! de-duplicated (the last value wins) and stored in PostgreSQL's key order
//! (shorter keys first, then bytewise); numbers become [`Numeric`]s that keep
//! their written digits.

use std::borrow::Cow;

use crate::{Error, Numeric, Result};

use super::{key_order, MAX_DEPTH};

/// The bytes that end a run of plain characters inside a JSON string: the
/// closing quote, a backslash and the control characters (an error).
const ENDS_PLAIN_RUN: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// A JSON document as a tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JsonTree {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, with its written digits.
    Number(Numeric),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<JsonTree>),
    /// Pairs sorted in PostgreSQL key order (shorter first, then bytewise), keys unique.
    Object(Vec<(String, JsonTree)>),
}

/// A parsed document that borrows its strings and numbers from the text
/// wherever it can: what [`super::Jsonb::parse`] lays out directly, and
/// [`JsonTree::parse`] turns into a tree. Objects are already in key order
/// without repeated keys, and every container knows the size of its
/// children's layout, so the layout is written once, front to back.
pub(super) enum Node<'a> {
    Null,
    Bool(bool),
    /// PostgreSQL's text for the number (the written text when that is
    /// the same).
    Number(Cow<'a, str>),
    String(Cow<'a, str>),
    /// Elements, and the bytes of their layouts together.
    Array(Vec<Node<'a>>, usize),
    /// Pairs in key order, and the bytes of their keys and of their
    /// values' layouts together.
    Object(Vec<(Cow<'a, str>, Node<'a>)>, usize, usize),
}

impl<'a> Node<'a> {
    /// Parses JSON text.
    pub(super) fn parse(text: &'a str) -> Result<Node<'a>> {
        let mut p = Parser {
            src: text,
            bytes: text.as_bytes(),
            pos: 0,
        };
        p.skip_ws();
        let v = p.value(0)?;
        p.skip_ws();
        if p.pos < p.bytes.len() {
            return Err(p.unexpected());
        }
        Ok(v)
    }

    fn into_tree(self) -> JsonTree {
        match self {
            Node::Null => JsonTree::Null,
            Node::Bool(b) => JsonTree::Bool(b),
            // The text came from the parser, which checked it parses.
            Node::Number(t) => Numeric::parse(&t).map_or(JsonTree::Null, JsonTree::Number),
            Node::String(s) => JsonTree::String(s.into_owned()),
            Node::Array(items, _) => {
                JsonTree::Array(items.into_iter().map(Node::into_tree).collect())
            }
            Node::Object(pairs, _, _) => JsonTree::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.into_tree()))
                    .collect(),
            ),
        }
    }

    fn array(items: Vec<Node<'a>>) -> Node<'a> {
        let data = items.iter().map(Node::encoded_len).sum();
        Node::Array(items, data)
    }

    /// An object from pairs in input order: sorted into key order, a
    /// repeated key keeping its last value (as PostgreSQL does).
    fn object(mut pairs: Vec<(Cow<'a, str>, Node<'a>)>) -> Node<'a> {
        // A stable sort keeps repeated keys in input order, so the last of
        // each run is the one to keep.
        if !pairs
            .windows(2)
            .all(|w| key_order(&w[0].0, &w[1].0).is_lt())
        {
            pairs.sort_by(|a, b| key_order(&a.0, &b.0));
            // In place: a repeated key's later value moves into the first
            // of its run, which is kept.
            pairs.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    std::mem::swap(&mut later.1, &mut kept.1);
                }
                same
            });
        }
        let keys = pairs.iter().map(|(k, _)| k.len()).sum();
        let values = pairs.iter().map(|(_, v)| v.encoded_len()).sum();
        Node::Object(pairs, keys, values)
    }

    /// Bytes of this value's layout.
    pub(super) fn encoded_len(&self) -> usize {
        match self {
            Node::Null | Node::Bool(_) => 1,
            Node::Number(t) | Node::String(t) => 1 + t.len(),
            Node::Array(items, data) => {
                let w = super::tag::WIDTHS[super::width_code(*data)];
                1 + super::varint_len(items.len()) + items.len() * w + data
            }
            Node::Object(pairs, keys, values) => {
                let w = super::tag::WIDTHS[super::width_code((*keys).max(*values))];
                1 + super::varint_len(pairs.len()) + 2 * pairs.len() * w + keys + values
            }
        }
    }
}

impl JsonTree {
    /// Parses JSON text into a normalised tree.
    pub fn parse(text: &str) -> Result<JsonTree> {
        Ok(Node::parse(text)?.into_tree())
    }

    /// Builds an object from pairs in any order; a repeated key keeps its
    /// last value, as PostgreSQL does.
    pub fn object_from_pairs(mut pairs: Vec<(String, JsonTree)>) -> JsonTree {
        // A stable sort keeps repeated keys in input order, so the last of
        // each run is the one to keep.
        pairs.sort_by(|a, b| key_order(&a.0, &b.0));
        let mut out: Vec<(String, JsonTree)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => out.push((k, v)),
            }
        }
        JsonTree::Object(out)
    }

    /// `jsonb || jsonb`: objects merge (right side wins), arrays concatenate,
    /// and scalars are treated as one-element arrays.
    pub fn concat(&self, other: &JsonTree) -> JsonTree {
        match (self, other) {
            (JsonTree::Object(a), JsonTree::Object(b)) => {
                let mut pairs = a.clone();
                pairs.extend(b.iter().cloned());
                JsonTree::object_from_pairs(pairs)
            }
            _ => {
                let mut items = self.clone().into_array_items();
                items.extend(other.clone().into_array_items());
                JsonTree::Array(items)
            }
        }
    }

    fn into_array_items(self) -> Vec<JsonTree> {
        match self {
            JsonTree::Array(items) => items,
            other => vec![other],
        }
    }
}

/// A recursive-descent JSON parser over UTF-8 text, one method per rule.
struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The error for whatever token starts at the current position, worded
    /// like PostgreSQL's DETAIL line.
    fn unexpected(&self) -> Error {
        if self.pos >= self.bytes.len() {
            return Error::InvalidJson {
                detail: "The input string ended unexpectedly.".into(),
            };
        }
        let rest = &self.src[self.pos..];
        let token: String = match rest.chars().next() {
            Some(c) if c.is_alphanumeric() || c == '-' || c == '.' => rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '.' || *c == '+')
                .take(40)
                .collect(),
            Some(c) => c.to_string(),
            None => String::new(),
        };
        Error::InvalidJson {
            detail: format!("Token \"{token}\" is invalid."),
        }
    }

    fn expect(&mut self, b: u8) -> Result<()> {
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b) {
            self.pos += 1;
            Ok(())
        } else if self.pos >= self.bytes.len() {
            Err(self.unexpected())
        } else {
            Err(Error::InvalidJson {
                detail: format!(
                    "Expected \"{}\", but found \"{}\".",
                    b as char,
                    self.src[self.pos..].chars().next().unwrap_or(' ')
                ),
            })
        }
    }

    /// value = object | array | string | number | true | false | null
    fn value(&mut self, depth: usize) -> Result<Node<'a>> {
        if depth >= MAX_DEPTH {
            return Err(Error::StackDepthExceeded);
        }
        match self.bytes.get(self.pos) {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Node::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.keyword(),
            None => Err(self.unexpected()),
        }
    }

    /// keyword = "true" | "false" | "null"
    fn keyword(&mut self) -> Result<Node<'a>> {
        let rest = &self.bytes[self.pos..];
        let end = rest
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let v = match &rest[..end] {
            b"true" => Node::Bool(true),
            b"false" => Node::Bool(false),
            b"null" => Node::Null,
            _ => return Err(self.unexpected()),
        };
        self.pos += end;
        Ok(v)
    }

    /// number = "-"? ("0" | [1-9][0-9]*) ("." [0-9]+)? ([eE] [+-]? [0-9]+)?
    fn number(&mut self) -> Result<Node<'a>> {
        let start = self.pos;
        let b = self.bytes;
        let mut i = self.pos;
        let digits = |i: &mut usize| {
            let s = *i;
            while *i < b.len() && b[*i].is_ascii_digit() {
                *i += 1;
            }
            *i - s
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let int_start = i;
        let n = digits(&mut i);
        let bad = n == 0 || (n > 1 && b[int_start] == b'0');
        let mut bad = bad;
        if b.get(i) == Some(&b'.') {
            i += 1;
            bad |= digits(&mut i) == 0;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            bad |= digits(&mut i) == 0;
        }
        // A number must end at a delimiter, not run into letters.
        bad |= b
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.');
        if bad {
            return Err(self.unexpected());
        }
        self.pos = i;
        let text = &self.src[start..i];
        // A short plain decimal prints as written (JSON allows no leading
        // zeros); an exponent, a negative zero or a long number goes
        // through the numeric type, as PostgreSQL's numeric_in/out does.
        if text.len() <= 32
            && !text.bytes().any(|c| c == b'e' || c == b'E')
            && !text.starts_with("-0")
        {
            return Ok(Node::Number(Cow::Borrowed(text)));
        }
        Numeric::parse(text)
            .map(|n| Node::Number(Cow::Owned(n.to_string())))
            .map_err(|_| Error::InvalidJson {
                detail: format!("Number \"{text}\" is out of range."),
            })
    }

    /// string = '"' (char | escape)* '"'
    ///
    /// Borrowed from the text unless it has escapes.
    fn string(&mut self) -> Result<Cow<'a, str>> {
        self.pos += 1; // opening quote
        let mut out: Option<String> = None;
        let mut run_start = self.pos;
        loop {
            // Plain characters first, a byte at a time without branching
            // on which special byte it might be.
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            let Some(plain) = rest.iter().position(|&c| ENDS_PLAIN_RUN[usize::from(c)]) else {
                return Err(Error::InvalidJson {
                    detail: "The input string ended unexpectedly.".into(),
                });
            };
            self.pos += plain;
            let c = rest.get(plain).copied().unwrap_or_default();
            match c {
                b'"' => {
                    let run = &self.src[run_start..self.pos];
                    self.pos += 1;
                    return Ok(match out {
                        None => Cow::Borrowed(run),
                        Some(mut s) => {
                            s.push_str(run);
                            Cow::Owned(s)
                        }
                    });
                }
                b'\\' => {
                    let s = out.get_or_insert_with(String::new);
                    s.push_str(&self.src[run_start..self.pos]);
                    self.escape(s)?;
                    run_start = self.pos;
                }
                // A control character: the only other byte ending a run.
                _ => {
                    return Err(Error::InvalidJson {
                        detail: format!("Character with value 0x{c:02x} must be escaped."),
                    })
                }
            }
        }
    }

    /// escape = '\' (["\\/bfnrt] | 'u' hex{4})
    fn escape(&mut self, out: &mut String) -> Result<()> {
        let c = self.bytes.get(self.pos + 1).copied();
        self.pos += 2;
        let ch = match c {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hi = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&hi) {
                    if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                        return Err(surrogate_error());
                    }
                    self.pos += 2;
                    let lo = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(surrogate_error());
                    }
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else if (0xDC00..0xE000).contains(&hi) {
                    return Err(surrogate_error());
                } else {
                    hi
                };
                if code == 0 {
                    return Err(Error::UntranslatableCharacter {
                        detail: "\\u0000 cannot be converted to text.".into(),
                    });
                }
                char::from_u32(code).ok_or_else(surrogate_error)?
            }
            _ => {
                let shown: String = self.src[self.pos - 2..].chars().take(2).collect();
                return Err(Error::InvalidJson {
                    detail: format!("Escape sequence \"{shown}\" is invalid."),
                });
            }
        };
        out.push(ch);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .filter(|d| d.iter().all(u8::is_ascii_hexdigit))
            .ok_or_else(|| Error::InvalidJson {
                detail: "\"\\u\" must be followed by four hexadecimal digits.".into(),
            })?;
        let v = digits.iter().fold(0u32, |acc, d| {
            acc * 16 + (*d as char).to_digit(16).unwrap_or(0)
        });
        self.pos += 4;
        Ok(v)
    }

    /// array = '[' (value (',' value)*)? ']'
    fn array(&mut self, depth: usize) -> Result<Node<'a>> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Node::array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Node::array(items));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// object = '{' (string ':' value (',' string ':' value)*)? '}'
    fn object(&mut self, depth: usize) -> Result<Node<'a>> {
        self.pos += 1;
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Node::object(Vec::new()));
        }
        let mut pairs = Vec::new();
        loop {
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.unexpected());
            }
            let key = self.string()?;
            self.expect(b':')?;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            pairs.push((key, value));
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Node::object(pairs));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }
}

fn surrogate_error() -> Error {
    Error::UntranslatableCharacter {
        detail: "Unicode low surrogate must follow a high surrogate.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(s: &str) -> String {
        super::super::Jsonb::parse(s).unwrap().to_string()
    }

    /// Each pair is (input, PostgreSQL 15's `SELECT input::jsonb` output).
    #[test]
    fn prints_like_postgres() {
        let cases = [
            (
                r#"{"b":[1,2.50,"x"],"a":1}"#,
                r#"{"a": 1, "b": [1, 2.50, "x"]}"#,
            ),
            (r#"{"aa":1,"b":2,"a":3}"#, r#"{"a": 3, "b": 2, "aa": 1}"#),
            (r#"{"a":1,"a":2}"#, r#"{"a": 2}"#),
            (
                r#"{"b":1,"a":1,"b":2,"a":3,"b":{"c":1,"c":[]},"a":null}"#,
                r#"{"a": null, "b": {"c": []}}"#,
            ),
            (r#"[1e3, -0.0, 1.5E+1, 0.00]"#, r#"[1000, 0.0, 15, 0.00]"#),
            (r#" { } "#, r#"{}"#),
            (r#"[]"#, r#"[]"#),
            (r#""a\u00e9\n\"\\\/\t\u001f""#, r#""aé\n\"\\/\t\u001f""#),
            (r#"{"B":1,"a":2,"ä":3}"#, r#"{"B": 1, "a": 2, "ä": 3}"#),
            (r#"[true,false,null]"#, r#"[true, false, null]"#),
            (r#""\ud83d\ude00""#, "\"😀\""),
        ];
        for (input, expected) in cases {
            assert_eq!(out(input), expected, "{input}");
        }
    }

    #[test]
    fn rejects_what_postgres_rejects() {
        for s in [
            "",
            "{",
            "[1,]",
            "{\"a\"}",
            "01",
            "1.",
            ".5",
            "+1",
            "tru",
            "nul",
            "{'a':1}",
            "[1 2]",
            "\"a",
            "\"\\x\"",
            "\"\\u00\"",
            "\"\\u0000\"",
            "\"\\ud800\"",
            "1e",
            "\"tab\there\"",
            "NaN",
            "[1]x",
        ] {
            assert!(JsonTree::parse(s).is_err(), "{s:?} should not parse");
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let pieces = [
            "{", "}", "[", "]", "\"", "\\", "u", "d83d", "\\u", ":", ",", "1", "-", ".", "e", "é",
            "😀", "true", "nul", " ", "\n", "0", "\u{1}",
        ];
        let mut state = 0x2545f4914f6cdd1du64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = (state % 16) as usize;
            let mut text = String::new();
            let mut s2 = state;
            for _ in 0..n {
                s2 = s2
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[((s2 >> 33) % pieces.len() as u64) as usize]);
            }
            if let Ok(v) = super::super::Jsonb::parse(&text) {
                // Whatever parses prints, and the printed form parses back.
                assert_eq!(
                    super::super::Jsonb::parse(&v.to_string()).unwrap(),
                    v,
                    "{text}"
                );
            }
        }
    }

    /// The direct layout of parsed text is byte for byte the layout of its
    /// tree, whose numbers went through the numeric type: so the
    /// written-text shortcut for plain decimals prints what PostgreSQL
    /// prints, and sizes and offsets are computed right.
    #[test]
    fn direct_layout_equals_tree_layout() {
        let numbers = [
            "0",
            "-1",
            "12",
            "2.50",
            "0.10",
            "-0",
            "-0.0",
            "-0.25",
            "1e3",
            "1.5E+1",
            "2e-3",
            "0.00",
            "123456789012345678901234567890",
            "-9.999",
            "100",
            "7.000",
            "12345678901234567890123456789012345678901234567890.5",
        ];
        let strings = [
            "",
            "a",
            "é",
            "a\\nb",
            "\\u00e9x",
            "\\\"q\\\"",
            "😀",
            "long-key-name",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        fn gen(
            next: &mut dyn FnMut(usize) -> usize,
            depth: usize,
            numbers: &[&str],
            strings: &[&str],
        ) -> String {
            match if depth > 4 { next(4) } else { next(7) } {
                0 => numbers[next(numbers.len())].to_string(),
                1 => format!("\"{}\"", strings[next(strings.len())]),
                2 => ["true", "false", "null"][next(3)].to_string(),
                3 => format!("\"{}\"", "x".repeat(next(300))),
                4 | 5 => {
                    let big = depth == 0 && next(10) == 0;
                    let n = next(if big { 300 } else { 6 });
                    let items: Vec<String> = (0..n)
                        .map(|_| gen(next, depth + 1, numbers, strings))
                        .collect();
                    format!("[{}]", items.join(", "))
                }
                _ => {
                    let big = depth == 0 && next(10) == 0;
                    let n = next(if big { 200 } else { 7 });
                    let pairs: Vec<String> = (0..n)
                        .map(|_| {
                            let key = match next(3) {
                                0 => strings[next(strings.len())].to_string(),
                                1 => format!("k{}", next(5)),
                                _ => "k".repeat(next(40)),
                            };
                            format!("\"{key}\": {}", gen(next, depth + 1, numbers, strings))
                        })
                        .collect();
                    format!("{{{}}}", pairs.join(","))
                }
            }
        }
        for _ in 0..3000 {
            let text = gen(&mut next, 0, &numbers, &strings);
            let direct = super::super::Jsonb::parse(&text).unwrap();
            let tree = super::super::Jsonb::from_tree(&JsonTree::parse(&text).unwrap());
            assert_eq!(direct.as_bytes(), tree.as_bytes(), "{text}");
        }
    }

    #[test]
    fn limits_depth() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(JsonTree::parse(&deep), Err(Error::StackDepthExceeded));
        let ok = "[".repeat(100) + &"]".repeat(100);
        assert!(JsonTree::parse(&ok).is_ok());
    }

    #[test]
    fn accessors() {
        let v = super::super::Jsonb::parse(r#"{"a":{"b":"x"},"n":null,"arr":[1,2,3]}"#).unwrap();
        assert_eq!(
            v.get_key("a")
                .unwrap()
                .get_key("b")
                .unwrap()
                .to_text()
                .unwrap(),
            "x"
        );
        assert_eq!(v.get_key("n").unwrap().to_text(), None);
        assert_eq!(
            v.get_key("arr").unwrap().get_index(-1).unwrap().to_string(),
            "3"
        );
        assert!(v.get_key("arr").unwrap().get_index(3).is_none());
        assert!(v.get_key("zz").is_none());
        assert_eq!(v.get_key("a").unwrap().to_text().unwrap(), r#"{"b": "x"}"#);
    }
}
