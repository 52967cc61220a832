//! A small SQL lexer that knows where strings, quoted identifiers and comments are.
//!
//! It is not a parser: it splits multi-statement strings, finds leading keywords and
//! parameter placeholders, and never looks inside literals or comments.

/// A token of interest; everything else (operators, punctuation) is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Word,
    /// `$1`, `$2`, ...
    Param(usize),
    Semicolon,
    OpenParen,
    CloseParen,
    Literal,
    Other,
}

/// Token kind with its byte range in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// Tokenize, skipping whitespace and comments. Unterminated literals or comments run to the end.
pub fn tokens(sql: &str) -> Vec<Token> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            _ if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                // nested block comments, as in PostgreSQL
                let mut depth = 0usize;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'\'' => {
                i = skip_quoted(b, i + 1, b'\'', false);
                out.push(Token {
                    tok: Tok::Literal,
                    start,
                    end: i,
                });
            }
            b'E' | b'e' if b.get(i + 1) == Some(&b'\'') => {
                i = skip_quoted(b, i + 2, b'\'', true);
                out.push(Token {
                    tok: Tok::Literal,
                    start,
                    end: i,
                });
            }
            b'"' => {
                i = skip_quoted(b, i + 1, b'"', false);
                out.push(Token {
                    tok: Tok::Word,
                    start,
                    end: i,
                });
            }
            b'$' => {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j > i + 1 {
                    let n = sql[i + 1..j].parse().unwrap_or(0);
                    out.push(Token {
                        tok: Tok::Param(n),
                        start,
                        end: j,
                    });
                    i = j;
                } else if let Some(end) = dollar_quote_end(b, i) {
                    out.push(Token {
                        tok: Tok::Literal,
                        start,
                        end,
                    });
                    i = end;
                } else {
                    i += 1;
                    out.push(Token {
                        tok: Tok::Other,
                        start,
                        end: i,
                    });
                }
            }
            b';' => {
                i += 1;
                out.push(Token {
                    tok: Tok::Semicolon,
                    start,
                    end: i,
                });
            }
            b'(' => {
                i += 1;
                out.push(Token {
                    tok: Tok::OpenParen,
                    start,
                    end: i,
                });
            }
            b')' => {
                i += 1;
                out.push(Token {
                    tok: Tok::CloseParen,
                    start,
                    end: i,
                });
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'$'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Word,
                    start,
                    end: i,
                });
            }
            _ if c.is_ascii_digit() => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_')
                {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Literal,
                    start,
                    end: i,
                });
            }
            _ => {
                i += 1;
                out.push(Token {
                    tok: Tok::Other,
                    start,
                    end: i,
                });
            }
        }
    }
    out
}

fn skip_quoted(b: &[u8], mut i: usize, q: u8, backslash: bool) -> usize {
    while i < b.len() {
        if backslash && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// `$tag$ ... $tag$`: returns the end offset if `i` starts a dollar-quoted string.
fn dollar_quote_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    if b.get(j) != Some(&b'$') {
        return None;
    }
    let tag = &b[i..=j];
    let body = j + 1;
    let mut k = body;
    while k + tag.len() <= b.len() {
        if &b[k..k + tag.len()] == tag {
            return Some(k + tag.len());
        }
        k += 1;
    }
    Some(b.len())
}

/// Split a query string into statements at top-level semicolons. Statements that hold only
/// whitespace and comments are dropped; each returned slice is trimmed.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let toks = tokens(sql);
    let mut out = Vec::new();
    let mut first: Option<usize> = None;
    let mut last_end = 0;
    for t in &toks {
        if t.tok == Tok::Semicolon {
            if let Some(s) = first.take() {
                out.push(sql[s..last_end].trim());
            }
        } else {
            if first.is_none() {
                first = Some(t.start);
            }
            last_end = t.end;
        }
    }
    if let Some(s) = first {
        out.push(sql[s..last_end].trim());
    }
    out
}

/// The first `n` keywords of a statement, upper-cased (leading parentheses skipped).
pub fn leading_words(sql: &str, n: usize) -> Vec<String> {
    tokens(sql)
        .into_iter()
        .skip_while(|t| t.tok == Tok::OpenParen)
        .take_while(|t| t.tok == Tok::Word)
        .take(n)
        .map(|t| sql[t.start..t.end].to_ascii_uppercase())
        .collect()
}

/// True when `word` appears as a keyword outside parentheses, literals and comments.
pub fn has_top_level_word(sql: &str, word: &str) -> bool {
    let mut depth = 0i32;
    for t in tokens(sql) {
        match t.tok {
            Tok::OpenParen => depth += 1,
            Tok::CloseParen => depth -= 1,
            Tok::Word if depth == 0 && sql[t.start..t.end].eq_ignore_ascii_case(word) => {
                return true
            }
            _ => {}
        }
    }
    false
}

/// Highest `$n` placeholder used.
pub fn max_param(sql: &str) -> usize {
    tokens(sql)
        .into_iter()
        .filter_map(|t| match t.tok {
            Tok::Param(n) => Some(n),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// Placeholders used as the whole argument of `ANY(...)` / `ALL(...)`: PostgreSQL types them
/// as arrays (`col = ANY($1)`).
pub fn array_params(sql: &str) -> Vec<usize> {
    let toks = tokens(sql);
    toks.windows(4)
        .filter_map(|w| match w {
            [a, open, Token {
                tok: Tok::Param(n), ..
            }, close]
                if a.tok == Tok::Word
                    && (sql[a.start..a.end].eq_ignore_ascii_case("any")
                        || sql[a.start..a.end].eq_ignore_ascii_case("all"))
                    && open.tok == Tok::OpenParen
                    && close.tok == Tok::CloseParen =>
            {
                Some(*n)
            }
            _ => None,
        })
        .collect()
}

/// Rewrite `$n` as `($n::TYPE)` for the parameters in `casts` (indexed by n).
pub fn cast_params(sql: &str, casts: &[(usize, String)]) -> String {
    let mut out = String::with_capacity(sql.len() + 16 * casts.len());
    let mut at = 0;
    for t in tokens(sql) {
        if let Tok::Param(n) = t.tok {
            if let Some((_, ty)) = casts.iter().find(|(p, _)| *p == n) {
                out.push_str(&sql[at..t.start]);
                out.push_str(&format!("(${n}::{ty})"));
                at = t.end;
            }
        }
    }
    out.push_str(&sql[at..]);
    out
}

/// Whether `hay` contains `needle`, ASCII case-insensitively: the cheap test rewrite rules make
/// before tokenizing a statement.
pub fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// `sql` with each `(start, end, text)` edit applied: byte ranges in ascending order that do
/// not overlap (the rewrite rules' way of changing tokens).
pub fn apply_edits<S: AsRef<str>>(sql: &str, edits: Vec<(usize, usize, S)>) -> String {
    let mut out = sql.to_owned();
    for (start, end, text) in edits.into_iter().rev() {
        out.replace_range(start..end, text.as_ref());
    }
    out
}

/// The tokens of one statement without its semicolons.
pub fn statement_tokens(sql: &str) -> Vec<Token> {
    tokens(sql)
        .into_iter()
        .filter(|t| t.tok != Tok::Semicolon)
        .collect()
}

/// `sql` with each placeholder `$n` for which `with(n)` answers replaced by that text.
pub fn replace_params(sql: &str, with: impl Fn(usize) -> Option<String>) -> String {
    let mut out = String::with_capacity(sql.len() + 32);
    let mut at = 0;
    for t in tokens(sql) {
        if let Tok::Param(n) = t.tok {
            if let Some(text) = with(n) {
                out.push_str(&sql[at..t.start]);
                out.push_str(&text);
                at = t.end;
            }
        }
    }
    out.push_str(&sql[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_placeholders_outside_quotes() {
        let s = "SELECT * FROM range($1) t WHERE '$1' <> $2 -- $1\n";
        assert_eq!(
            replace_params(s, |n| (n == 1).then(|| "NULL".to_owned())),
            "SELECT * FROM range(NULL) t WHERE '$1' <> $2 -- $1\n"
        );
    }

    #[test]
    fn splits_respecting_quotes_and_comments() {
        let s = "select 'a;b'; select \"x;y\" from t -- c;\n; /* a; /* b; */ */ select $$;$$;;";
        assert_eq!(
            split_statements(s),
            vec!["select 'a;b'", "select \"x;y\" from t", "select $$;$$"]
        );
        assert!(split_statements(" ;; -- only a comment\n").is_empty());
        assert_eq!(split_statements("select 1"), vec!["select 1"]);
        assert_eq!(
            split_statements("select E'\\';'; x"),
            vec!["select E'\\';'", "x"]
        );
        assert_eq!(
            split_statements("select $tag$ a;$ $tag$; y"),
            vec!["select $tag$ a;$ $tag$", "y"]
        );
    }

    #[test]
    fn keywords_and_params() {
        assert_eq!(
            leading_words("  /* hi */ create OR replace TABLE t", 4),
            vec!["CREATE", "OR", "REPLACE", "TABLE"]
        );
        assert_eq!(leading_words("((select 1))", 1), vec!["SELECT"]);
        assert!(has_top_level_word(
            "insert into t values (1) returning id",
            "RETURNING"
        ));
        assert!(!has_top_level_word(
            "insert into t select 'returning'",
            "returning"
        ));
        assert!(!has_top_level_word(
            "select (select 1 returning)",
            "returning"
        ));
        assert_eq!(max_param("select $1, '$5', $3"), 3);
        assert_eq!(
            cast_params("select $1 + $2, '$1'", &[(1, "VARCHAR".into())]),
            "select ($1::VARCHAR) + $2, '$1'"
        );
    }
}
