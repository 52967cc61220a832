//! Rewrites of PostgreSQL-only constructs that clients send on their own, one rule per
//! construct, each naming the client that needs it. Rules work on tokens, so literals and
//! comments are never touched.

use std::borrow::Cow;

use super::lexer::{tokens, Tok};

/// What `version()` answers: SQLAlchemy parses `PostgreSQL <major>.<minor>` out of it.
pub fn version_string() -> String {
    format!(
        "PostgreSQL {} on x86_64-pc-linux-gnu, compiled by duckgate {} (DuckDB {})",
        crate::session::settings::SERVER_VERSION,
        env!("CARGO_PKG_VERSION"),
        DUCKDB_VERSION
    )
}

/// The DuckDB release linked into the gateway (the `duckdb` crate 1.10505.x is DuckDB 1.5.5).
pub const DUCKDB_VERSION: &str = "v1.5.5";

/// Apply every rule.
pub fn rewrite(sql: &str) -> Cow<'_, str> {
    match rewrite_bytea_hex(sql) {
        Cow::Borrowed(s) => rewrite_version(s),
        Cow::Owned(s) => Cow::Owned(rewrite_version(&s).into_owned()),
    }
}

/// `'\x0200ff'::bytea` (PostgreSQL's hex bytea input) → `'\x02\x00\xff'::bytea`.
/// psycopg2 inlines every `bytes` parameter in that form; DuckDB reads `\x` as a one-byte escape
/// and would store `\x02` followed by the characters `00ff`. Only a plain literal of `\x` and
/// whole hex bytes, cast with `::bytea`, is rewritten (PostgreSQL rejects any other `\x` text).
fn rewrite_bytea_hex(sql: &str) -> Cow<'_, str> {
    let toks = tokens(sql);
    let mut out = String::new();
    let mut at = 0;
    for (i, t) in toks.iter().enumerate() {
        let lit = &sql[t.start..t.end];
        let Some(hex) = lit.strip_prefix("'\\x").and_then(|r| r.strip_suffix('\'')) else {
            continue;
        };
        if t.tok != Tok::Literal
            || hex.len() % 2 != 0
            || !hex.bytes().all(|c| c.is_ascii_hexdigit())
        {
            continue;
        }
        let colon = |j: usize| {
            toks.get(j)
                .is_some_and(|c| c.tok == Tok::Other && &sql[c.start..c.end] == ":")
        };
        let cast = colon(i + 1)
            && colon(i + 2)
            && toks[i + 2].start == toks[i + 1].end
            && toks.get(i + 3).is_some_and(|w| {
                w.tok == Tok::Word && sql[w.start..w.end].eq_ignore_ascii_case("bytea")
            });
        if !cast {
            continue;
        }
        out.push_str(&sql[at..t.start]);
        out.push('\'');
        for pair in hex.as_bytes().chunks(2) {
            out.push_str("\\x");
            out.push(pair[0] as char);
            out.push(pair[1] as char);
        }
        out.push('\'');
        at = t.end;
    }
    if at == 0 {
        return Cow::Borrowed(sql);
    }
    out.push_str(&sql[at..]);
    Cow::Owned(out)
}

/// `version()` / `pg_catalog.version()` → PostgreSQL-style version text.
/// Needed by SQLAlchemy (`select pg_catalog.version()` at connect) and psql's `\conninfo`-era
/// tools; DuckDB's own `version()` answers `v1.5.5`, which they cannot parse.
fn rewrite_version(sql: &str) -> Cow<'_, str> {
    let toks = tokens(sql);
    let word = |i: usize, w: &str| {
        toks.get(i)
            .is_some_and(|t| t.tok == Tok::Word && sql[t.start..t.end].eq_ignore_ascii_case(w))
    };
    let is = |i: usize, tok: Tok| toks.get(i).is_some_and(|t| t.tok == tok);
    let mut out = String::new();
    let mut at = 0;
    for i in 0..toks.len() {
        if !(word(i, "version") && is(i + 1, Tok::OpenParen) && is(i + 2, Tok::CloseParen)) {
            continue;
        }
        // bare, or qualified with pg_catalog only; a preceding '.' otherwise means another schema
        let qualified = i >= 2
            && toks[i - 1].tok == Tok::Other
            && &sql[toks[i - 1].start..toks[i - 1].end] == ".";
        let start = if qualified {
            if !word(i - 2, "pg_catalog") {
                continue;
            }
            toks[i - 2].start
        } else {
            toks[i].start
        };
        out.push_str(&sql[at..start]);
        out.push('\'');
        out.push_str(&version_string());
        out.push('\'');
        at = toks[i + 2].end;
    }
    if at == 0 {
        return Cow::Borrowed(sql);
    }
    out.push_str(&sql[at..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_calls_are_rewritten_and_nothing_else() {
        let v = version_string();
        assert!(v.starts_with("PostgreSQL 16."));
        assert_eq!(
            rewrite("select pg_catalog.version()"),
            format!("select '{v}'")
        );
        assert_eq!(rewrite("SELECT VERSION ( )"), format!("SELECT '{v}'"));
        assert_eq!(rewrite("select 'version()'"), "select 'version()'");
        assert_eq!(rewrite("select other.version()"), "select other.version()");
        assert_eq!(rewrite("select version from t"), "select version from t");
    }

    #[test]
    fn hex_bytea_literals_become_duckdb_escapes() {
        assert_eq!(
            rewrite(r"INSERT INTO t VALUES ('\x0200ff'::bytea, '\x'::BYTEA)"),
            r"INSERT INTO t VALUES ('\x02\x00\xff'::bytea, ''::BYTEA)"
        );
        assert_eq!(
            rewrite(r"SELECT '\x41'::bytea, version()"),
            format!(r"SELECT '\x41'::bytea, '{}'", version_string())
        );
        // not PostgreSQL hex input, not a bytea cast, or an escape string: untouched
        for sql in [
            r"SELECT '\x0'::bytea",
            r"SELECT '\x0g'::bytea",
            r"SELECT '\x01\x02'::bytea",
            r"SELECT '\x0102'::blob",
            r"SELECT '\x0102'",
            r"SELECT E'\\x0102'::bytea",
            r"SELECT '\x0102': :bytea",
        ] {
            assert_eq!(rewrite(sql), sql);
        }
    }
}
