//! Parse errors that point at the offending position.

/// A syntax error at a byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// What went wrong, worded as PostgreSQL words it
    /// (`syntax error at or near "x"`).
    pub message: String,
    /// Byte offset into the query string where the error was found.
    pub offset: usize,
    /// The input nests too deeply to process (54001) rather than being
    /// malformed.
    pub too_deep: bool,
}

impl ParseError {
    /// The SQLSTATE: `54001` (statement_too_complex's "stack depth limit
    /// exceeded") for input nested too deeply, else `42601` (syntax_error).
    pub fn sqlstate(&self) -> &'static str {
        if self.too_deep {
            "54001"
        } else {
            "42601"
        }
    }

    /// PostgreSQL's error position: 1-based, counted in characters.
    pub fn position(&self, sql: &str) -> usize {
        sql.get(..self.offset)
            .map_or(self.offset, |s| s.chars().count())
            + 1
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, ParseError>;
