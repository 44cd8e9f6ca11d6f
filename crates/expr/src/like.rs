//! `LIKE` and `ILIKE` pattern matching: `%` matches any run of characters,
//! `_` any one character, and `\` makes the next character literal.

use crate::{Error, Result};

/// One element of a compiled pattern.
#[derive(Debug, PartialEq)]
enum Token {
    Any,
    One,
    Char(char),
    /// A backslash ending the pattern: an error if matching reaches it
    /// with text left, as in PostgreSQL.
    DanglingEscape,
}

fn compile(pattern: &str, fold: bool) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '%' => {
                if out.last() == Some(&Token::Any) {
                    continue;
                }
                Token::Any
            }
            '_' => Token::One,
            '\\' => chars.next().map_or(Token::DanglingEscape, Token::Char),
            c => Token::Char(c),
        });
    }
    if fold {
        for t in out.iter_mut() {
            if let Token::Char(c) = t {
                *c = fold_char(*c);
            }
        }
    }
    out
}

fn fold_char(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// Whether `text` matches `pattern` (case-insensitively for ILIKE).
/// Runs in O(len(text) × len(pattern)) at worst, without recursion.
pub fn like(text: &str, pattern: &str, case_insensitive: bool) -> Result<bool> {
    let pat = compile(pattern, case_insensitive);
    let text: Vec<char> = if case_insensitive {
        text.chars().map(fold_char).collect()
    } else {
        text.chars().collect()
    };
    // Greedy matching with a single backtrack point at the last `%`.
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(Token::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(Token::One) => {
                t += 1;
                p += 1;
            }
            Some(Token::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Token::DanglingEscape) => {
                return Err(Error::InvalidEscape(
                    "LIKE pattern must not end with escape character".into(),
                ))
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return Ok(false),
            },
        }
    }
    Ok(pat[p..].iter().all(|t| *t == Token::Any))
}

#[cfg(test)]
mod tests {
    use super::like;

    fn like_ok(t: &str, p: &str, ci: bool) -> bool {
        like(t, p, ci).unwrap()
    }

    #[test]
    fn patterns() {
        assert!(like_ok("abc", "abc", false));
        assert!(like_ok("abc", "a%", false));
        assert!(like_ok("abc", "%c", false));
        assert!(like_ok("abc", "_b_", false));
        assert!(!like_ok("abc", "_b", false));
        assert!(like_ok("a%c", "a\\%c", false));
        assert!(!like_ok("abc", "a\\%c", false));
        assert!(like_ok("ABC", "a%", true));
        assert!(!like_ok("ABC", "a%", false));
        assert!(like_ok("", "%", false));
        assert!(like_ok("mississippi", "%iss%pi", false));
        assert!(like_ok("héllo", "h_llo", false));
        // A trailing escape errs only if matching reaches it.
        assert!(!like_ok("a", "a\\", false));
        assert!(like("ab", "a\\", false).is_err());
    }
}
