//! Statement text fit for logs: literals redacted, and a fingerprint that groups statements
//! differing only in their literals.

use super::lexer::{tokens, Tok};

/// The statement with every literal (strings, numbers, dollar-quoted bodies) replaced by `?`
/// and comments dropped, so values a client sends (a secret in `CREATE SECRET`, personal data
/// in a `WHERE`) never reach the logs.
pub fn redact(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut prev_end = None;
    for t in tokens(sql) {
        if let Some(end) = prev_end {
            // keep the spacing between tokens, but never text from inside a comment
            let gap = &sql[end..t.start];
            if !gap.is_empty() {
                out.push(' ');
            }
        }
        match t.tok {
            Tok::Literal => out.push('?'),
            _ => out.push_str(&sql[t.start..t.end]),
        }
        prev_end = Some(t.end);
    }
    out
}

/// A stable 64-bit FNV-1a hash of the normalised statement (literals as `?`, words in lower
/// case, whitespace and comments ignored), printed as 16 hex digits.
pub fn fingerprint(sql: &str) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(PRIME);
        }
    };
    for t in tokens(sql) {
        match t.tok {
            Tok::Literal => feed(b"?"),
            Tok::Word => feed(sql[t.start..t.end].to_ascii_lowercase().as_bytes()),
            _ => feed(&sql.as_bytes()[t.start..t.end]),
        }
        feed(b" ");
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_comments_never_survive_redaction() {
        let r = redact(
            "SELECT * FROM t WHERE name = 'alice' AND id = 42 -- token abc\n AND x = $$secret$$",
        );
        assert_eq!(r, "SELECT * FROM t WHERE name = ? AND id = ? AND x = ?");
        let r = redact("CREATE SECRET s (TYPE s3, KEY_ID 'AKIA', SECRET E'x\\'y')");
        assert!(!r.contains("AKIA") && !r.contains('x'), "{r}");
        assert_eq!(redact("SELECT /* pw */ $1"), "SELECT $1");
    }

    #[test]
    fn fingerprints_ignore_literals_case_and_spacing() {
        let a = fingerprint("select * from t where id = 1");
        let b = fingerprint("SELECT  *\nFROM t WHERE id = 99 -- x");
        let c = fingerprint("SELECT * FROM u WHERE id = 1");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 16);
    }
}
