//! `LIKE` and `ILIKE` pattern matching: `%` matches any run of characters,
//! `_` any one character, and `\` makes the next character literal.

/// One element of a compiled pattern.
#[derive(Debug, PartialEq)]
enum Token {
    Any,
    One,
    Char(char),
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
            '\\' => Token::Char(chars.next().unwrap_or('\\')),
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
pub fn like(text: &str, pattern: &str, case_insensitive: bool) -> bool {
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
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|t| *t == Token::Any)
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn patterns() {
        assert!(like("abc", "abc", false));
        assert!(like("abc", "a%", false));
        assert!(like("abc", "%c", false));
        assert!(like("abc", "_b_", false));
        assert!(!like("abc", "_b", false));
        assert!(like("a%c", "a\\%c", false));
        assert!(!like("abc", "a\\%c", false));
        assert!(like("ABC", "a%", true));
        assert!(!like("ABC", "a%", false));
        assert!(like("", "%", false));
        assert!(like("mississippi", "%iss%pi", false));
        assert!(like("héllo", "h_llo", false));
    }
}
