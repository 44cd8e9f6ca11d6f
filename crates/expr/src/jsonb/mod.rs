//! JSONB documents with PostgreSQL's input and output rules, kept in a
//! binary layout that is read in place.
//!
//! Text is parsed into a [`JsonTree`] (keys de-duplicated, last value
//! winning, and sorted in PostgreSQL's key order; numbers keeping their
//! written digits) and laid out once as a [`Jsonb`]: immutable bytes that
//! share one buffer with every sub-document taken from them. Reading a
//! path such as `data->'properties'->>'revenue'` binary-searches the keys
//! of each object on the way and copies nothing but the final text; a
//! stored row's document is used as stored, never decoded into a tree.
//! [`Jsonb`]'s `Display` is PostgreSQL's `jsonb_out`.
//!
//! # Layout
//!
//! Every value is a tag byte (low three bits: the kind) and a body whose
//! length is known from the enclosing container (or the whole buffer):
//!
//! ```text
//! null | false | true               tag only
//! number                            tag, PostgreSQL's text of the number
//! string                            tag, UTF-8 bytes
//! array   tag|w<<4, n:varint, n end offsets, elements
//! object  tag|w<<4, n:varint, n key end offsets, n value end offsets,
//!         keys (in key order), values
//! ```
//!
//! Offsets are little-endian, `w` selects their width (1, 2 or 4 bytes,
//! the narrowest that fits the container), and each end offset counts from
//! the start of its area, so element `i` spans `end[i-1]..end[i]`.
//! PostgreSQL's own jsonb layout works the same way (a header of entry
//! offsets, keys sorted shorter-first); we do not use the `jsonb` crate
//! because it stores numbers as binary floats or integers (losing the
//! written scale: `2.50` would print as `2.5`) and orders keys bytewise
//! only — see `docs/architecture.md`.

mod tree;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::{self, Write};

use bytes::Bytes;

use crate::{Numeric, Result};

pub use tree::JsonTree;
use tree::Node;

/// Deepest nesting accepted on input. Deeper documents are rejected rather
/// than risking the stack of the thread that parses them.
pub const MAX_DEPTH: usize = 512;

/// PostgreSQL's JSONB object key order: shorter keys first, then bytewise.
pub fn key_order(a: &str, b: &str) -> Ordering {
    key_order_bytes(a.as_bytes(), b.as_bytes())
}

fn key_order_bytes(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

mod tag {
    pub const NULL: u8 = 0;
    pub const FALSE: u8 = 1;
    pub const TRUE: u8 = 2;
    pub const NUMBER: u8 = 3;
    pub const STRING: u8 = 4;
    pub const ARRAY: u8 = 5;
    pub const OBJECT: u8 = 6;
    /// Low bits of a tag byte holding the kind.
    pub const KIND: u8 = 0x07;
    /// Offset widths, indexed by the tag's bits 4 and 5.
    pub const WIDTHS: [usize; 3] = [1, 2, 4];
}

/// A JSONB document in the binary layout. Cloning shares the buffer.
/// Equality is byte equality, which is structural equality (the layout of a
/// tree is canonical); SQL comparison is [`Jsonb::total_cmp`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Jsonb(Bytes);

/// The kind of a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl Jsonb {
    /// Parses JSON text, laying it out directly (no tree in between).
    pub fn parse(text: &str) -> Result<Jsonb> {
        let node = Node::parse(text)?;
        let mut out = Vec::with_capacity(node.encoded_len());
        encode_node(&node, &mut out);
        Ok(Jsonb(Bytes::from(out)))
    }

    /// Lays a tree out.
    pub fn from_tree(t: &JsonTree) -> Jsonb {
        let mut out = Vec::new();
        encode(t, &mut out);
        Jsonb(Bytes::from(out))
    }

    /// A document from bytes in this layout (as stored). Reads are
    /// bounds-checked, so damaged bytes read as missing values, never as a
    /// crash.
    pub fn from_bytes(bytes: Bytes) -> Jsonb {
        Jsonb(bytes)
    }

    /// The document's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The document as a tree (for functions that rebuild documents).
    pub fn to_tree(&self) -> JsonTree {
        decode(&self.0)
    }

    /// Builds an object from pairs in any order; a repeated key keeps its
    /// last value, as PostgreSQL does.
    pub fn object_from_pairs(pairs: Vec<(String, Jsonb)>) -> Jsonb {
        let pairs = pairs.into_iter().map(|(k, v)| (k, v.to_tree())).collect();
        Jsonb::from_tree(&JsonTree::object_from_pairs(pairs))
    }

    /// A JSON string.
    pub fn string(s: &str) -> Jsonb {
        let mut out = Vec::with_capacity(1 + s.len());
        out.push(tag::STRING);
        out.extend_from_slice(s.as_bytes());
        Jsonb(Bytes::from(out))
    }

    /// The value's kind.
    pub fn kind(&self) -> JsonKind {
        match self.0.first().map(|t| t & tag::KIND) {
            Some(tag::FALSE | tag::TRUE) => JsonKind::Bool,
            Some(tag::NUMBER) => JsonKind::Number,
            Some(tag::STRING) => JsonKind::String,
            Some(tag::ARRAY) => JsonKind::Array,
            Some(tag::OBJECT) => JsonKind::Object,
            _ => JsonKind::Null,
        }
    }

    fn slice(&self, (start, end): (usize, usize)) -> Jsonb {
        Jsonb(self.0.slice(start..end))
    }

    /// `jsonb -> text`: the value of an object key.
    pub fn get_key(&self, key: &str) -> Option<Jsonb> {
        Some(self.slice(key_range(&self.0, key.as_bytes())?))
    }

    /// `doc -> k1 -> ... -> kn` over object keys, looked up in place: the
    /// value at the end as a borrowed [`JsonRef`], with no intermediate
    /// documents built.
    pub fn get_path<'a>(&'a self, keys: &[&str]) -> Option<JsonRef<'a>> {
        let mut b: &[u8] = &self.0;
        for key in keys {
            let (start, end) = key_range(b, key.as_bytes())?;
            b = &b[start..end];
        }
        Some(JsonRef(b))
    }

    /// `jsonb -> int`: an array element; negative indexes count from the end.
    pub fn get_index(&self, index: i64) -> Option<Jsonb> {
        let c = Container::open(&self.0, tag::ARRAY)?;
        let len = c.n as i64;
        let i = if index < 0 { len + index } else { index };
        if !(0..len).contains(&i) {
            return None;
        }
        Some(self.slice(c.element_range(i as usize)?))
    }

    /// The elements of an array (`None` for other kinds).
    pub fn elements(&self) -> Option<Vec<Jsonb>> {
        let c = Container::open(&self.0, tag::ARRAY)?;
        (0..c.n)
            .map(|i| Some(self.slice(c.element_range(i)?)))
            .collect()
    }

    /// The number of elements of an array (`None` for other kinds).
    pub fn array_len(&self) -> Option<usize> {
        Container::open(&self.0, tag::ARRAY).map(|c| c.n)
    }

    /// A boolean's value.
    pub fn as_bool(&self) -> Option<bool> {
        match self.0.first() {
            Some(&tag::TRUE) => Some(true),
            Some(&tag::FALSE) => Some(false),
            _ => None,
        }
    }

    /// A number's value.
    pub fn as_numeric(&self) -> Option<Numeric> {
        match self.0.split_first() {
            Some((&tag::NUMBER, body)) => Numeric::parse(std::str::from_utf8(body).ok()?).ok(),
            _ => None,
        }
    }

    /// A string's text.
    pub fn as_str(&self) -> Option<Cow<'_, str>> {
        match self.0.split_first() {
            Some((&tag::STRING, body)) => Some(String::from_utf8_lossy(body)),
            _ => None,
        }
    }

    /// A number's text as written, or a string's contents, borrowed from
    /// the document (`None` for other kinds, or text that is not UTF-8).
    pub fn text(&self) -> Option<&str> {
        match self.0.split_first() {
            Some((&(tag::STRING | tag::NUMBER), body)) => std::str::from_utf8(body).ok(),
            _ => None,
        }
    }

    /// The text `->>` returns: strings unquoted, JSON null as SQL NULL,
    /// numbers as written, everything else in its JSONB text form.
    pub fn to_text(&self) -> Option<String> {
        match self.0.split_first() {
            None | Some((&tag::NULL, _)) => None,
            Some((&(tag::STRING | tag::NUMBER), body)) => Some(match std::str::from_utf8(body) {
                Ok(s) => s.to_owned(),
                Err(_) => String::from_utf8_lossy(body).into_owned(),
            }),
            _ => Some(self.to_string()),
        }
    }

    /// The type name `jsonb_typeof` reports.
    pub fn type_name(&self) -> &'static str {
        match self.kind() {
            JsonKind::Null => "null",
            JsonKind::Bool => "boolean",
            JsonKind::Number => "number",
            JsonKind::String => "string",
            JsonKind::Array => "array",
            JsonKind::Object => "object",
        }
    }

    /// `jsonb || jsonb`: objects merge (right side wins), arrays concatenate,
    /// and scalars are treated as one-element arrays.
    pub fn concat(&self, other: &Jsonb) -> Jsonb {
        Jsonb::from_tree(&self.to_tree().concat(&other.to_tree()))
    }

    /// The document with every number in normalized form, so documents
    /// PostgreSQL considers equal (`{"a": 1.0}` and `{"a": 1}`) are equal.
    pub fn normalized(&self) -> Jsonb {
        fn norm(t: JsonTree) -> JsonTree {
            match t {
                JsonTree::Number(n) => JsonTree::Number(n.normalized()),
                JsonTree::Array(items) => JsonTree::Array(items.into_iter().map(norm).collect()),
                JsonTree::Object(pairs) => {
                    JsonTree::Object(pairs.into_iter().map(|(k, v)| (k, norm(v))).collect())
                }
                other => other,
            }
        }
        if !self.0.contains(&tag::NUMBER) {
            // No number tag byte anywhere: nothing to normalize.
            return self.clone();
        }
        Jsonb::from_tree(&norm(self.to_tree()))
    }

    /// PostgreSQL's btree order for jsonb: objects > arrays > booleans >
    /// numbers > strings > null; containers by size first, then contents.
    pub fn total_cmp(&self, other: &Jsonb) -> Ordering {
        compare(&self.0, &other.0)
    }
}

/// A container's header, read from its bytes.
/// The byte range, within the encoded value `b`, of the value of its
/// object key `key` (`None` when `b` is no object or lacks the key).
fn key_range(b: &[u8], key: &[u8]) -> Option<(usize, usize)> {
    let c = Container::open(b, tag::OBJECT)?;
    let (mut lo, mut hi) = (0, c.n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match key_order_bytes(c.key(mid)?, key) {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => return c.value_range(mid),
        }
    }
    None
}

/// A value inside a document, borrowed where it lies.
#[derive(Debug, Clone, Copy)]
pub struct JsonRef<'a>(&'a [u8]);

impl<'a> JsonRef<'a> {
    /// Whether it is JSON `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.0.first(), None | Some(&tag::NULL))
    }

    /// A number's text as written, or a string's contents (`None` for
    /// other kinds, or text that is not UTF-8).
    pub fn text(&self) -> Option<&'a str> {
        std::str::from_utf8(self.text_bytes()?).ok()
    }

    /// The bytes of [`JsonRef::text`], not checked to be UTF-8 (for
    /// comparing with text that is).
    pub fn text_bytes(&self) -> Option<&'a [u8]> {
        match self.0.split_first() {
            Some((&(tag::STRING | tag::NUMBER), body)) => Some(body),
            _ => None,
        }
    }
}

struct Container<'a> {
    n: usize,
    width: usize,
    offsets: &'a [u8],
    /// Start of the data area within the container's bytes.
    data_start: usize,
    data: &'a [u8],
}

impl<'a> Container<'a> {
    fn open(b: &'a [u8], kind: u8) -> Option<Container<'a>> {
        let (&t, rest) = b.split_first()?;
        if t & tag::KIND != kind {
            return None;
        }
        let width = *tag::WIDTHS.get(usize::from(t >> 4))?;
        let (n, used) = read_varint(rest)?;
        let rest = &rest[used..];
        let tables = if kind == tag::OBJECT { 2 } else { 1 };
        let table_len = n.checked_mul(width)?.checked_mul(tables)?;
        let offsets = rest.get(..table_len)?;
        let data = rest.get(table_len..)?;
        Some(Container {
            n,
            width,
            offsets,
            data_start: b.len() - data.len(),
            data,
        })
    }

    fn offset(&self, i: usize) -> Option<usize> {
        let b = self.offsets.get(i * self.width..(i + 1) * self.width)?;
        Some(
            b.iter()
                .rev()
                .fold(0usize, |acc, &x| (acc << 8) | usize::from(x)),
        )
    }

    /// Range `end[i-1]..end[i]` of table `t` (0: elements or keys, 1:
    /// values), relative to the data area.
    fn span(&self, t: usize, i: usize) -> Option<(usize, usize)> {
        let start = if i == 0 {
            0
        } else {
            self.offset(t * self.n + i - 1)?
        };
        let end = self.offset(t * self.n + i)?;
        (start <= end).then_some((start, end))
    }

    fn element_range(&self, i: usize) -> Option<(usize, usize)> {
        let (s, e) = self.span(0, i)?;
        self.data.get(s..e)?;
        Some((self.data_start + s, self.data_start + e))
    }

    fn keys_len(&self) -> Option<usize> {
        if self.n == 0 {
            Some(0)
        } else {
            self.offset(self.n - 1)
        }
    }

    fn key(&self, i: usize) -> Option<&'a [u8]> {
        let (s, e) = self.span(0, i)?;
        self.data.get(s..e)
    }

    fn value_range(&self, i: usize) -> Option<(usize, usize)> {
        let base = self.keys_len()?;
        let (s, e) = self.span(1, i)?;
        self.data.get(base + s..base + e)?;
        Some((self.data_start + base + s, self.data_start + base + e))
    }

    fn element(&self, b: &'a [u8], i: usize) -> &'a [u8] {
        self.element_range(i)
            .and_then(|(s, e)| b.get(s..e))
            .unwrap_or_default()
    }

    fn value(&self, b: &'a [u8], i: usize) -> &'a [u8] {
        self.value_range(i)
            .and_then(|(s, e)| b.get(s..e))
            .unwrap_or_default()
    }
}

fn read_varint(b: &[u8]) -> Option<(usize, usize)> {
    let mut v = 0usize;
    for (i, &x) in b.iter().enumerate().take(9) {
        v |= usize::from(x & 0x7f) << (7 * i);
        if x < 0x80 {
            return Some((v, i + 1));
        }
    }
    None
}

fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The width code for offsets up to `max`.
fn width_code(max: usize) -> usize {
    if max <= 0xff {
        0
    } else if max <= 0xffff {
        1
    } else {
        2
    }
}

fn put_offsets(out: &mut Vec<u8>, ends: &[usize], code: usize) {
    let w = tag::WIDTHS[code];
    for &e in ends {
        out.extend_from_slice(&(e as u32).to_le_bytes()[..w]);
    }
}

/// Bytes [`put_varint`] writes for `v`.
fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Lays out a parsed node: the same bytes as [`encode`] of its tree,
/// written once in order, since each container knows its children's size.
fn encode_node(n: &Node<'_>, out: &mut Vec<u8>) {
    match n {
        Node::Null => out.push(tag::NULL),
        Node::Bool(false) => out.push(tag::FALSE),
        Node::Bool(true) => out.push(tag::TRUE),
        Node::Number(t) => {
            out.push(tag::NUMBER);
            out.extend_from_slice(t.as_bytes());
        }
        Node::String(s) => {
            out.push(tag::STRING);
            out.extend_from_slice(s.as_bytes());
        }
        Node::Array(items, data) => {
            let code = width_code(*data);
            out.push(tag::ARRAY | (code as u8) << 4);
            put_varint(out, items.len());
            let w = tag::WIDTHS[code];
            let mut end = 0;
            for item in items {
                end += item.encoded_len();
                out.extend_from_slice(&(end as u32).to_le_bytes()[..w]);
            }
            for item in items {
                encode_node(item, out);
            }
        }
        Node::Object(pairs, keys, values) => {
            let code = width_code((*keys).max(*values));
            out.push(tag::OBJECT | (code as u8) << 4);
            put_varint(out, pairs.len());
            let w = tag::WIDTHS[code];
            let mut end = 0;
            for (k, _) in pairs {
                end += k.len();
                out.extend_from_slice(&(end as u32).to_le_bytes()[..w]);
            }
            end = 0;
            for (_, v) in pairs {
                end += v.encoded_len();
                out.extend_from_slice(&(end as u32).to_le_bytes()[..w]);
            }
            for (k, _) in pairs {
                out.extend_from_slice(k.as_bytes());
            }
            for (_, v) in pairs {
                encode_node(v, out);
            }
        }
    }
}

fn encode(t: &JsonTree, out: &mut Vec<u8>) {
    match t {
        JsonTree::Null => out.push(tag::NULL),
        JsonTree::Bool(false) => out.push(tag::FALSE),
        JsonTree::Bool(true) => out.push(tag::TRUE),
        JsonTree::Number(n) => {
            out.push(tag::NUMBER);
            // Writing into a Vec cannot fail.
            let _ = write!(VecWriter(out), "{n}");
        }
        JsonTree::String(s) => {
            out.push(tag::STRING);
            out.extend_from_slice(s.as_bytes());
        }
        JsonTree::Array(items) => {
            let mut data = Vec::new();
            let mut ends = Vec::with_capacity(items.len());
            for item in items {
                encode(item, &mut data);
                ends.push(data.len());
            }
            let code = width_code(data.len());
            out.push(tag::ARRAY | (code as u8) << 4);
            put_varint(out, items.len());
            put_offsets(out, &ends, code);
            out.extend_from_slice(&data);
        }
        JsonTree::Object(pairs) => {
            let mut keys = Vec::new();
            let mut key_ends = Vec::with_capacity(pairs.len());
            let mut values = Vec::new();
            let mut value_ends = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                keys.extend_from_slice(k.as_bytes());
                key_ends.push(keys.len());
                encode(v, &mut values);
                value_ends.push(values.len());
            }
            let code = width_code(keys.len().max(values.len()));
            out.push(tag::OBJECT | (code as u8) << 4);
            put_varint(out, pairs.len());
            put_offsets(out, &key_ends, code);
            put_offsets(out, &value_ends, code);
            out.extend_from_slice(&keys);
            out.extend_from_slice(&values);
        }
    }
}

/// `fmt::Write` into a byte vector.
struct VecWriter<'a>(&'a mut Vec<u8>);

impl Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn decode(b: &[u8]) -> JsonTree {
    let lossy = |body: &[u8]| String::from_utf8_lossy(body).into_owned();
    match b.split_first() {
        None => JsonTree::Null,
        Some((&t, body)) => match t & tag::KIND {
            tag::FALSE => JsonTree::Bool(false),
            tag::TRUE => JsonTree::Bool(true),
            tag::NUMBER => std::str::from_utf8(body)
                .ok()
                .and_then(|s| Numeric::parse(s).ok())
                .map_or(JsonTree::Null, JsonTree::Number),
            tag::STRING => JsonTree::String(lossy(body)),
            tag::ARRAY => match Container::open(b, tag::ARRAY) {
                Some(c) => JsonTree::Array((0..c.n).map(|i| decode(c.element(b, i))).collect()),
                None => JsonTree::Null,
            },
            tag::OBJECT => match Container::open(b, tag::OBJECT) {
                Some(c) => JsonTree::Object(
                    (0..c.n)
                        .map(|i| (lossy(c.key(i).unwrap_or_default()), decode(c.value(b, i))))
                        .collect(),
                ),
                None => JsonTree::Null,
            },
            _ => JsonTree::Null,
        },
    }
}

fn rank(b: &[u8]) -> u8 {
    match b.first().map(|t| t & tag::KIND) {
        Some(tag::STRING) => 1,
        Some(tag::NUMBER) => 2,
        Some(tag::FALSE | tag::TRUE) => 3,
        Some(tag::ARRAY) => 4,
        Some(tag::OBJECT) => 5,
        _ => 0,
    }
}

fn compare(a: &[u8], b: &[u8]) -> Ordering {
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    let body = |x: &'_ [u8]| x.get(1..).unwrap_or_default().to_vec();
    match ra {
        1 => body(a).cmp(&body(b)),
        2 => {
            let num = |x: &[u8]| {
                std::str::from_utf8(x.get(1..).unwrap_or_default())
                    .ok()
                    .and_then(|s| Numeric::parse(s).ok())
                    .unwrap_or_else(Numeric::nan)
            };
            num(a).total_cmp(&num(b))
        }
        3 => a.first().cmp(&b.first()),
        4 => match (
            Container::open(a, tag::ARRAY),
            Container::open(b, tag::ARRAY),
        ) {
            (Some(x), Some(y)) => x.n.cmp(&y.n).then_with(|| {
                (0..x.n)
                    .map(|i| compare(x.element(a, i), y.element(b, i)))
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            }),
            _ => Ordering::Equal,
        },
        5 => match (
            Container::open(a, tag::OBJECT),
            Container::open(b, tag::OBJECT),
        ) {
            (Some(x), Some(y)) => x.n.cmp(&y.n).then_with(|| {
                (0..x.n)
                    .map(|i| {
                        key_order_bytes(x.key(i).unwrap_or_default(), y.key(i).unwrap_or_default())
                            .then_with(|| compare(x.value(a, i), y.value(b, i)))
                    })
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            }),
            _ => Ordering::Equal,
        },
        _ => Ordering::Equal,
    }
}

/// Writes `s` as a JSON string literal with PostgreSQL's escaping.
pub fn write_json_string(out: &mut impl Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.write_str(&s[start..i])?;
        if esc.is_empty() {
            write!(out, "\\u{:04x}", c as u32)?;
        } else {
            out.write_str(esc)?;
        }
        start = i + c.len_utf8();
    }
    out.write_str(&s[start..])?;
    out.write_char('"')
}

fn write_value(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    let Some((&t, body)) = b.split_first() else {
        return f.write_str("null");
    };
    match t & tag::KIND {
        tag::FALSE => f.write_str("false"),
        tag::TRUE => f.write_str("true"),
        tag::NUMBER => f.write_str(&String::from_utf8_lossy(body)),
        tag::STRING => write_json_string(f, &String::from_utf8_lossy(body)),
        tag::ARRAY => {
            let Some(c) = Container::open(b, tag::ARRAY) else {
                return f.write_str("null");
            };
            f.write_char('[')?;
            for i in 0..c.n {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_value(f, c.element(b, i))?;
            }
            f.write_char(']')
        }
        tag::OBJECT => {
            let Some(c) = Container::open(b, tag::OBJECT) else {
                return f.write_str("null");
            };
            f.write_char('{')?;
            for i in 0..c.n {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_json_string(f, &String::from_utf8_lossy(c.key(i).unwrap_or_default()))?;
                f.write_str(": ")?;
                write_value(f, c.value(b, i))?;
            }
            f.write_char('}')
        }
        _ => f.write_str("null"),
    }
}

impl fmt::Display for Jsonb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_value(f, &self.0)
    }
}

impl fmt::Debug for Jsonb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Jsonb({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Jsonb {
        Jsonb::parse(s).unwrap()
    }

    #[test]
    fn paths_read_in_place() {
        let doc = j(
            r#"{"type":"track","properties":{"revenue":12.50,"plan":"Pro","tags":["a",null,3]},"n":null}"#,
        );
        let props = doc.get_key("properties").unwrap();
        assert_eq!(
            props.get_key("revenue").unwrap().to_text().unwrap(),
            "12.50"
        );
        assert_eq!(props.get_key("plan").unwrap().to_text().unwrap(), "Pro");
        assert_eq!(props.get_key("missing"), None);
        let tags = props.get_key("tags").unwrap();
        assert_eq!(tags.array_len(), Some(3));
        assert_eq!(tags.get_index(-1).unwrap().to_string(), "3");
        assert_eq!(tags.get_index(1).unwrap().to_text(), None);
        assert_eq!(tags.get_index(3), None);
        assert_eq!(doc.get_key("n").unwrap().kind(), JsonKind::Null);
        assert_eq!(doc.get_key("type").unwrap().as_str().unwrap(), "track");
        // A sub-document is a slice of the same buffer.
        let whole = doc.as_bytes().as_ptr_range();
        assert!(whole.contains(&props.as_bytes().as_ptr()));
    }

    #[test]
    fn wide_containers_use_wide_offsets() {
        let long = "x".repeat(70_000);
        let text = format!(r#"{{"a":"{long}","b":[1,"{long}",{{"c":true}}]}}"#);
        let doc = j(&text);
        assert_eq!(doc.get_key("a").unwrap().to_text().unwrap().len(), 70_000);
        let b = doc.get_key("b").unwrap();
        assert_eq!(
            b.get_index(2).unwrap().get_key("c").unwrap().as_bool(),
            Some(true)
        );
        assert_eq!(Jsonb::parse(&doc.to_string()).unwrap(), doc);
        assert_eq!(Jsonb::from_tree(&doc.to_tree()), doc);
    }

    #[test]
    fn orders_like_postgres() {
        let order = [
            "null",
            r#""""#,
            r#""b""#,
            "-1",
            "1",
            "1.5",
            "false",
            "true",
            "[]",
            "[1]",
            "[2]",
            "[1,2]",
            "{}",
            r#"{"a":1}"#,
            r#"{"b":0}"#,
            r#"{"a":1,"b":2}"#,
        ];
        for w in order.windows(2) {
            assert_eq!(
                j(w[0]).total_cmp(&j(w[1])),
                Ordering::Less,
                "{} < {}",
                w[0],
                w[1]
            );
        }
        assert_eq!(
            j(r#"{"a":1.0}"#).total_cmp(&j(r#"{"a":1}"#)),
            Ordering::Equal
        );
        assert_eq!(j(r#"{"a":[1.50]}"#).normalized(), j(r#"{"a":[1.5]}"#));
    }

    #[test]
    fn damaged_bytes_never_panic() {
        let good = j(r#"{"a":[1,"x",{"b":null}],"cc":"d"}"#);
        let bytes = good.as_bytes().to_vec();
        for cut in 0..bytes.len() {
            for flip in [0u8, 0x10, 0xff] {
                let mut b = bytes.clone();
                b.truncate(cut + 1);
                b[cut] ^= flip;
                let d = Jsonb::from_bytes(Bytes::from(b));
                let _ = d.to_string();
                let _ = d.get_key("a").map(|a| a.get_index(2));
                let _ = d.to_tree();
                let _ = d.total_cmp(&good);
            }
        }
    }
}
