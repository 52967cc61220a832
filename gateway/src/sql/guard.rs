//! The statement guard: what the Postgres endpoint refuses, whatever the spelling.
//!
//! Layer one of the sandbox is DuckDB's own configuration, applied to every database instance
//! before any client SQL runs and then locked (`storage::lock_down`): no local file system,
//! no extension loading, no configuration changes. This guard is layer two: it refuses, with
//! SQLSTATE 0A000 and a message naming the command, what those settings cannot express —
//! statements that change the server's own state (ATTACH/DETACH/secrets/extensions), and
//! functions that reach other systems or run SQL from strings.
//!
//! It works on DuckDB's statement type (from preparing the statement) and on the token stream
//! of our lexer, so case, comments, whitespace, quoting of identifiers, schema qualification
//! and nesting (CTEs, subqueries, joins, macro bodies) all look the same to it. Choice of
//! parser: DuckDB's `json_serialize_sql` only serializes SELECT statements and `sqlparser`'s
//! DuckDB dialect does not accept everything DuckDB does (a refusal by parse failure would
//! break valid queries, an acceptance would be a hole); statement types come from DuckDB
//! itself, and function calls are unambiguous at token level (`name (`).

use super::lexer::{tokens, Tok};
use crate::engine::StatementKind;

/// Why a statement is refused (SQLSTATE 0A000).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl Refusal {
    fn new(what: impl Into<String>) -> Self {
        Refusal(what.into())
    }
}

/// Functions that reach other systems or execute SQL text, refused anywhere in a statement.
const DENIED_FUNCTIONS: &[(&str, &str)] = &[
    (
        "postgres_scan",
        "reads a PostgreSQL server of the client's choosing",
    ),
    (
        "postgres_scan_pushdown",
        "reads a PostgreSQL server of the client's choosing",
    ),
    (
        "postgres_query",
        "queries a PostgreSQL server of the client's choosing",
    ),
    ("postgres_execute", "runs SQL on a PostgreSQL server"),
    ("postgres_attach", "attaches a PostgreSQL server"),
    ("postgres_clear_cache", "changes server state"),
    ("mysql_scan", "reads another server"),
    ("mysql_query", "reads another server"),
    ("mysql_execute", "runs SQL on another server"),
    ("mysql_attach", "attaches another server"),
    ("sqlite_scan", "reads a server file"),
    ("sqlite_attach", "attaches a server file"),
    ("query", "runs SQL given as a string"),
    ("query_table", "runs SQL given as a string"),
    ("duckdb_secrets", "lists the server's secrets"),
    ("which_secret", "inspects the server's secrets"),
    ("load_extension", "loads code"),
    ("install_extension", "installs code"),
    ("md_run", "runs on the server's local machine"),
];

/// DuckDB settings a client may still change (everything else is the server's).
const SETTABLE: &[&str] = &["search_path", "schema"];

/// Read-only PRAGMAs.
const ALLOWED_PRAGMAS: &[&str] = &[
    "show_tables",
    "show_tables_expanded",
    "table_info",
    "show",
    "database_list",
    "database_size",
    "storage_info",
    "functions",
    "version",
    "platform",
    "collations",
    "metadata_info",
    "user_agent",
];

fn name_of(sql: &str, t: &super::lexer::Token) -> String {
    sql[t.start..t.end]
        .trim_matches('"')
        .replace("\"\"", "\"")
        .to_ascii_lowercase()
}

/// Token-level checks that need no DuckDB: leading commands and function calls.
pub fn check_text(sql: &str) -> Result<(), Refusal> {
    let toks = tokens(sql);
    let words: Vec<String> = toks
        .iter()
        .take_while(|t| matches!(t.tok, Tok::Word | Tok::OpenParen))
        .filter(|t| t.tok == Tok::Word)
        .take(6)
        .map(|t| name_of(sql, t))
        .collect();
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let first = w(0);
    match first {
        "attach" => {
            return Err(Refusal::new(
                "ATTACH: databases are configured on the server; connect with their dbname instead",
            ))
        }
        "detach" => {
            return Err(Refusal::new(
                "DETACH: the server's databases cannot be detached",
            ))
        }
        "use" => {
            return Err(Refusal::new(
                "USE: each dbname is its own database; connect with another dbname",
            ))
        }
        "load" => {
            return Err(Refusal::new(
                "LOAD: extensions are loaded by the server at start-up",
            ))
        }
        "install" => {
            return Err(Refusal::new(
                "INSTALL: extensions are installed by the server operator",
            ))
        }
        "force" if w(1) == "install" => {
            return Err(Refusal::new(
                "FORCE INSTALL: extensions are installed by the server operator",
            ))
        }
        "update" if w(1) == "extensions" => {
            return Err(Refusal::new(
                "UPDATE EXTENSIONS: extensions are managed by the server",
            ))
        }
        "export" => return Err(Refusal::new("EXPORT DATABASE: writes files on the server")),
        "import" => return Err(Refusal::new("IMPORT DATABASE: reads files on the server")),
        _ => {}
    }
    if matches!(first, "create" | "drop" | "alter") {
        let object = words[1..]
            .iter()
            .find(|x| {
                !matches!(
                    x.as_str(),
                    "or" | "replace"
                        | "persistent"
                        | "temporary"
                        | "temp"
                        | "if"
                        | "not"
                        | "exists"
                )
            })
            .map(String::as_str)
            .unwrap_or("");
        match object {
            "secret" => {
                return Err(Refusal::new(format!(
                    "{} SECRET: credentials are managed by the server",
                    first.to_ascii_uppercase()
                )))
            }
            "database" => {
                return Err(Refusal::new(format!(
                    "{} DATABASE: databases are configured on the server",
                    first.to_ascii_uppercase()
                )))
            }
            _ => {}
        }
    }
    if first == "copy" {
        check_copy(sql)?;
    }
    if matches!(first, "set" | "reset") {
        let mut i = 1;
        if matches!(w(i), "global" | "session" | "local") {
            i += 1;
        }
        let name = w(i);
        if name != "variable" && !SETTABLE.contains(&name) {
            return Err(Refusal::new(format!(
                "{} {name}: this setting belongs to the server",
                first.to_ascii_uppercase()
            )));
        }
    }
    if first == "pragma" && !ALLOWED_PRAGMAS.contains(&w(1)) {
        return Err(Refusal::new(format!(
            "PRAGMA {}: only informational PRAGMAs are available",
            w(1)
        )));
    }
    // function calls anywhere: `name (` with optional qualification and quoting
    for (i, t) in toks.iter().enumerate() {
        if t.tok != Tok::Word || toks.get(i + 1).map(|n| n.tok) != Some(Tok::OpenParen) {
            continue;
        }
        let name = name_of(sql, t);
        if let Some((f, why)) = DENIED_FUNCTIONS.iter().find(|(f, _)| *f == name) {
            return Err(Refusal::new(format!("function {f}(): {why}")));
        }
    }
    // DuckLake keeps its catalog in an attached database named `__ducklake_metadata_<lake>`:
    // reading or writing it directly would bypass DuckLake (and reach the catalog server)
    if toks
        .iter()
        .any(|t| t.tok == Tok::Word && name_of(sql, t).starts_with("__ducklake_metadata"))
    {
        return Err(Refusal::new(
            "the DuckLake catalog database belongs to the server; query the lake's tables instead",
        ));
    }
    // `MD_RUN := ...` / `MD_RUN=...` named parameters
    if toks
        .iter()
        .any(|t| t.tok == Tok::Word && name_of(sql, t) == "md_run")
    {
        return Err(Refusal::new(
            "MD_RUN: nothing runs on the server's local machine",
        ));
    }
    Ok(())
}

/// COPY is allowed only from the client (STDIN) or to the client (STDOUT).
fn check_copy(sql: &str) -> Result<(), Refusal> {
    let toks = tokens(sql);
    let mut depth = 0;
    for (i, t) in toks.iter().enumerate() {
        match t.tok {
            Tok::OpenParen => depth += 1,
            Tok::CloseParen => depth -= 1,
            Tok::Word if depth == 0 => {
                let w = name_of(sql, t);
                if w == "from" || w == "to" {
                    let target = toks.get(i + 1).map(|n| name_of(sql, n)).unwrap_or_default();
                    if target != "stdin" && target != "stdout" {
                        return Err(Refusal::new(
                            "COPY to or from a server file: copy through the client instead (psql \\copy)",
                        ));
                    }
                    // the session runs the forms it recognises before the guard sees them;
                    // this is some other spelling DuckDB would read as /dev/stdin
                    return Err(Refusal::new(
                        "this form of COPY is not supported: use COPY table [(columns)] FROM STDIN or COPY {table | (query)} TO STDOUT, with options in WITH (…)",
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks on DuckDB's own statement type, a second net under the token checks.
pub fn check_kind(kind: StatementKind) -> Result<(), Refusal> {
    match kind {
        StatementKind::Attach => Err(Refusal::new(
            "ATTACH: databases are configured on the server",
        )),
        StatementKind::Detach => Err(Refusal::new(
            "DETACH: the server's databases cannot be detached",
        )),
        StatementKind::Load => Err(Refusal::new(
            "LOAD/INSTALL: extensions are managed by the server",
        )),
        StatementKind::Export => Err(Refusal::new("EXPORT/IMPORT DATABASE: server files")),
        StatementKind::CopyDatabase => Err(Refusal::new(
            "COPY FROM DATABASE: databases are configured on the server",
        )),
        StatementKind::UpdateExtensions => Err(Refusal::new(
            "UPDATE EXTENSIONS: extensions are managed by the server",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str) -> bool {
        check_text(sql).is_err()
    }

    #[test]
    fn refuses_whatever_the_spelling() {
        for sql in [
            "ATTACH ':memory:' AS m",
            "  /* c */ attach 'x.db'",
            "DETACH db",
            "INSTALL httpfs",
            "FORCE INSTALL httpfs",
            "load '/tmp/evil.duckdb_extension'",
            "CREATE SECRET s (TYPE s3)",
            "create or replace persistent secret s (type s3)",
            "DROP SECRET s",
            "SELECT * FROM Postgres_Scan('host=x', 'public', 't')",
            "SELECT * FROM \"postgres_query\" ('x', 'select 1')",
            "SELECT * FROM system.main.postgres_scan /* x */ ('a','b','c')",
            "WITH x AS (SELECT * FROM postgres_query('a','b')) SELECT * FROM x",
            "SELECT * FROM t JOIN query('select 1') q ON true",
            "SELECT (SELECT count(*) FROM query_table('t'))",
            "CREATE MACRO m() AS TABLE SELECT * FROM postgres_scan('a','b','c')",
            "SELECT * FROM duckdb_secrets()",
            "COPY t TO '/tmp/x.csv'",
            "copy t from '/etc/passwd'",
            "COPY (SELECT 1) TO 'x.parquet' (FORMAT parquet)",
            "EXPORT DATABASE '/tmp/x'",
            "IMPORT DATABASE '/tmp/x'",
            "SET enable_external_access = true",
            "set global lock_configuration=false",
            "RESET lock_configuration",
            "PRAGMA enable_external_access=true",
            "PRAGMA disable_checkpoint_on_shutdown",
            "USE other",
            "SELECT * FROM read_csv('s3://b/x.csv', MD_RUN=LOCAL)",
            "CREATE DATABASE x",
            "SELECT * FROM __ducklake_metadata_lake.public.ducklake_snapshot",
            "select * from \"__DuckLake_Metadata_lake\".ducklake_table",
        ] {
            assert!(refused(sql), "{sql}");
        }
    }

    #[test]
    fn allows_ordinary_sql() {
        for sql in [
            "SELECT * FROM t",
            "SELECT 'postgres_scan(' AS not_a_call",
            "SELECT query FROM log",
            "SET search_path = 'main'",
            "SET VARIABLE x = 1",
            "PRAGMA table_info('t')",
            "CREATE TABLE s(secret VARCHAR)",
            "CREATE TABLE t AS SELECT * FROM range(3)",
            "UPDATE t SET a = 1",
            "CHECKPOINT",
            "FORCE CHECKPOINT",
            "UPDATE t SET x = 1 WHERE extensions = 2",
            "SELECT md5('x')",
        ] {
            assert_eq!(check_text(sql), Ok(()), "{sql}");
        }
    }
}

#[cfg(test)]
mod fuzz {
    //! Property tests: the guard never panics, and spelling never gets a refused statement through.
    use super::*;
    use proptest::prelude::*;

    const REFUSED: &[&str] = &[
        "ATTACH ':memory:' AS m",
        "DETACH db",
        "INSTALL httpfs",
        "LOAD httpfs",
        "CREATE SECRET s (TYPE s3)",
        "DROP SECRET s",
        "SELECT * FROM postgres_scan('a', 'b', 'c')",
        "SELECT * FROM t JOIN query('select 1') q ON true",
        "WITH x AS (SELECT * FROM postgres_query('a', 'b')) SELECT * FROM x",
        "COPY t TO '/tmp/x.csv'",
        "EXPORT DATABASE '/tmp/x'",
        "SET enable_external_access = true",
        "PRAGMA enable_external_access = true",
        "SELECT * FROM duckdb_secrets()",
        "CREATE MACRO m() AS TABLE SELECT * FROM postgres_scan('a', 'b', 'c')",
    ];

    /// Re-spell a statement: random letter case outside quotes, random comments and whitespace
    /// at token boundaries (where SQL allows them).
    fn respell(sql: &str, seed: &[u8]) -> String {
        let mut out = String::new();
        let mut quote: Option<char> = None;
        let mut k = 0;
        let mut next = || {
            k += 1;
            seed[k % seed.len()]
        };
        for ch in sql.chars() {
            if let Some(q) = quote {
                out.push(ch);
                if ch == q {
                    quote = None;
                }
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = Some(ch);
                out.push(ch);
                continue;
            }
            if ch == ' ' {
                match next() % 4 {
                    0 => out.push_str(" /* noise; 'x' */ "),
                    1 => out.push_str("\n\t "),
                    2 => out.push_str(" -- line comment ;\n"),
                    _ => out.push(' '),
                }
                continue;
            }
            if ch.is_ascii_alphabetic() && next() % 2 == 0 {
                out.push(ch.to_ascii_uppercase());
            } else {
                out.push(ch.to_ascii_lowercase());
            }
        }
        out
    }

    proptest! {
        // GUARD_FUZZ_CASES raises the count for a long run; the test command uses the default
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("GUARD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(4000)
        ))]

        #[test]
        fn never_panics_on_any_text(s in "\\PC*") {
            let _ = check_text(&s);
            let _ = crate::sql::lexer::split_statements(&s);
            let _ = crate::sql::intercept(&s, |_| true);
            let _ = crate::sql::compat::rewrite(&s);
        }

        #[test]
        fn never_panics_on_sql_like_text(s in "[a-zA-Z_ ;'\"$()/*\\-\n0-9.,=]{0,200}") {
            let _ = check_text(&s);
            let _ = crate::sql::lexer::split_statements(&s);
        }

        #[test]
        fn spelling_does_not_get_through(i in 0..REFUSED.len(), seed in proptest::collection::vec(any::<u8>(), 1..64)) {
            let sql = respell(REFUSED[i], &seed);
            prop_assert!(check_text(&sql).is_err(), "{}", sql);
        }
    }
}
