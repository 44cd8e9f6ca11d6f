//! Reserved words: what the parser refuses as a bare identifier and the
//! printer therefore quotes.

/// Words that cannot be used as bare identifiers or aliases.
const RESERVED: &[&str] = &[
    "all",
    "and",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "cast",
    "create",
    "cross",
    "delete",
    "desc",
    "distinct",
    "drop",
    "else",
    "end",
    "except",
    "false",
    "from",
    "full",
    "group",
    "having",
    "ilike",
    "in",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "join",
    "left",
    "like",
    "limit",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "or",
    "order",
    "outer",
    "returning",
    "right",
    "select",
    "then",
    "true",
    "union",
    "using",
    "values",
    "when",
    "where",
    "with",
];

/// The reserved words, lower-case (what `pg_get_keywords()` lists).
pub fn reserved_words() -> &'static [&'static str] {
    RESERVED
}

/// Whether `word` (lower-case) is reserved.
pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word)
}
