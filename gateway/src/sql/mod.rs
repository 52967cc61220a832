//! Statement-level SQL handling that does not need DuckDB: splitting, recognising the
//! statements the gateway answers itself (transaction control, session settings), and
//! PostgreSQL command tags.

pub mod catalog;
pub mod colname;
pub mod compat;
pub mod copy;
pub mod cursor;
pub mod fingerprint;
pub mod guard;
pub mod lexer;
pub mod origin;
pub mod viewdef;

use crate::engine::StatementKind;
use lexer::{leading_words, tokens, Tok};

/// A SQL string literal: `'…'` with quotes doubled.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A SQL identifier: `"…"` with quotes doubled.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Transaction control, handled by the session so the protocol's I/T/E state stays exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxControl {
    Begin {
        read_only: bool,
    },
    Commit,
    Rollback,
    /// `SAVEPOINT name` (DuckDB has no nested transactions: see the session's emulation).
    Savepoint {
        name: String,
    },
    /// `RELEASE [SAVEPOINT] name`.
    Release {
        name: String,
    },
    /// `ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name`.
    RollbackTo {
        name: String,
    },
}

/// A value in a SET statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetValue {
    Default,
    Values(Vec<String>),
}

/// Statements the gateway answers without handing the text to DuckDB as-is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intercept {
    Tx(TxControl),
    /// `SET [SESSION|LOCAL] name {TO|=} value` / `SET TIME ZONE value`.
    Set {
        name: String,
        value: SetValue,
    },
    /// `RESET name` / `RESET ALL` (name `all`).
    Reset {
        name: String,
    },
    /// `SHOW name` / `SHOW ALL` / `SHOW TRANSACTION ISOLATION LEVEL`.
    Show {
        name: String,
    },
    /// `SET [SESSION CHARACTERISTICS AS] TRANSACTION ...`: accepted, DuckDB has one isolation level.
    SetTransaction,
    /// `DEALLOCATE [PREPARE] {name | ALL}` (`None` = ALL): as in PostgreSQL it reaches the
    /// protocol-level prepared statements too; psycopg 3 sends `DEALLOCATE ALL` at every
    /// rollback once it has prepared one, and `DEALLOCATE name` when its cache evicts one.
    Deallocate {
        name: Option<String>,
    },
    /// `SELECT set_config('name', 'value', is_local)`: a SET that answers with the new value
    /// (pgJDBC, Npgsql, DBeaver).
    SetConfig {
        name: String,
        value: String,
    },
    /// `SELECT current_setting('name')` of a session setting (DuckDB's `current_setting` reads
    /// DuckDB's configuration, not the session's).
    CurrentSetting {
        name: String,
    },
    /// `DISCARD ALL`: RESET ALL, DEALLOCATE ALL, close portals, drop temporary tables (pools
    /// such as pgbouncer and asyncpg's reset).
    DiscardAll,
    /// `DECLARE … CURSOR`, `FETCH`, `MOVE`, `CLOSE` (or why one cannot run).
    Cursor(Result<cursor::CursorCommand, cursor::CursorError>),
    /// Statements about features the endpoint has nothing for, answered with their tag:
    /// `UNLISTEN`, `DISCARD PLANS|SEQUENCES|TEMP` (asyncpg's
    /// connection reset sends `CLOSE ALL; UNLISTEN *; RESET ALL`).
    NoOp {
        tag: &'static str,
    },
    /// One client statement that takes several DuckDB statements, run together and atomically
    /// (`CREATE TABLE` with SERIAL columns: the sequences, then the table).
    Batch {
        statements: Vec<String>,
        tag: &'static str,
    },
    /// `LISTEN` / `NOTIFY`: refused with 0A000 rather than a syntax error.
    Unsupported {
        what: &'static str,
    },
}

/// Recognise a statement the gateway handles itself. `is_session_setting` decides which
/// `SET`/`SHOW` names belong to the session (others go to DuckDB, e.g. `SHOW TABLES`).
pub fn intercept(sql: &str, is_session_setting: impl Fn(&str) -> bool) -> Option<Intercept> {
    let words = leading_words(sql, 4);
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match w(0) {
        "BEGIN" | "START" => Some(Intercept::Tx(TxControl::Begin {
            read_only: lexer::has_top_level_word(sql, "ONLY")
                && sql.to_ascii_uppercase().contains("READ ONLY"),
        })),
        "COMMIT" | "END" => Some(Intercept::Tx(TxControl::Commit)),
        "ABORT" => Some(Intercept::Tx(TxControl::Rollback)),
        "ROLLBACK" => {
            if lexer::has_top_level_word(sql, "TO") {
                let name = cursor::savepoint_name(sql)?;
                Some(Intercept::Tx(TxControl::RollbackTo { name }))
            } else {
                Some(Intercept::Tx(TxControl::Rollback))
            }
        }
        "SAVEPOINT" => Some(Intercept::Tx(TxControl::Savepoint {
            name: cursor::savepoint_name(sql)?,
        })),
        "RELEASE" => Some(Intercept::Tx(TxControl::Release {
            name: cursor::savepoint_name(sql)?,
        })),
        "SET" => parse_set(sql, &is_session_setting),
        "DEALLOCATE" => parse_deallocate(sql),
        "DISCARD" => match w(1) {
            "ALL" => Some(Intercept::DiscardAll),
            "PLANS" => Some(Intercept::NoOp {
                tag: "DISCARD PLANS",
            }),
            "SEQUENCES" => Some(Intercept::NoOp {
                tag: "DISCARD SEQUENCES",
            }),
            "TEMP" | "TEMPORARY" => Some(Intercept::NoOp {
                tag: "DISCARD TEMP",
            }),
            _ => None,
        },
        "DECLARE" | "FETCH" | "MOVE" | "CLOSE" => cursor::parse(sql).map(Intercept::Cursor),
        "UNLISTEN" => Some(Intercept::NoOp { tag: "UNLISTEN" }),
        "LISTEN" | "NOTIFY" => Some(Intercept::Unsupported {
            what: "LISTEN/NOTIFY",
        }),
        "SELECT" => parse_setting_function(sql, &is_session_setting),
        "RESET" => {
            let name = normalize_name(w(1));
            (name == "all" || is_session_setting(&name)).then_some(Intercept::Reset { name })
        }
        "SHOW" => {
            let name = if w(1) == "TRANSACTION" && w(2) == "ISOLATION" {
                "transaction_isolation".to_owned()
            } else if w(1) == "TIME" && w(2) == "ZONE" {
                "timezone".to_owned()
            } else {
                normalize_name(w(1))
            };
            (name == "all" || is_session_setting(&name)).then_some(Intercept::Show { name })
        }
        _ => None,
    }
}

/// `SELECT [pg_catalog.]set_config('n', 'v', bool)` or `SELECT [pg_catalog.]current_setting('n')`
/// of a session setting, alone in its statement.
fn parse_setting_function(
    sql: &str,
    is_session_setting: &impl Fn(&str) -> bool,
) -> Option<Intercept> {
    let toks: Vec<lexer::Token> = tokens(sql)
        .into_iter()
        .filter(|t| t.tok != Tok::Semicolon)
        .collect();
    let text = |i: usize| toks.get(i).map(|t| &sql[t.start..t.end]).unwrap_or("");
    let mut i = 1;
    if text(i).eq_ignore_ascii_case("pg_catalog") && text(i + 1) == "." {
        i += 2;
    }
    let func = text(i).to_ascii_lowercase();
    let literal = |k: usize| -> Option<String> {
        let t = toks.get(k)?;
        (t.tok == Tok::Literal && sql[t.start..].starts_with('\''))
            .then(|| sql[t.start + 1..t.end - 1].replace("''", "'"))
    };
    if text(i + 1) != "(" {
        return None;
    }
    let name = normalize_name(&literal(i + 2)?);
    if !is_session_setting(&name) {
        return None;
    }
    match func.as_str() {
        "current_setting" if text(i + 3) == ")" && toks.len() == i + 4 => {
            Some(Intercept::CurrentSetting { name })
        }
        "set_config"
            if text(i + 3) == ","
                && text(i + 5) == ","
                && text(i + 7) == ")"
                && toks.len() == i + 8 =>
        {
            let value = literal(i + 4)?;
            Some(Intercept::SetConfig { name, value })
        }
        _ => None,
    }
}

fn parse_deallocate(sql: &str) -> Option<Intercept> {
    let toks: Vec<&str> = tokens(sql)
        .iter()
        .filter(|t| t.tok != Tok::Semicolon)
        .map(|t| &sql[t.start..t.end])
        .collect();
    let rest = match toks.get(1) {
        Some(w) if w.eq_ignore_ascii_case("PREPARE") => &toks[2..],
        _ => &toks[1..],
    };
    match rest {
        [w] if w.eq_ignore_ascii_case("ALL") => Some(Intercept::Deallocate { name: None }),
        [w] if w.starts_with('"') => Some(Intercept::Deallocate {
            name: Some(w.trim_matches('"').replace("\"\"", "\"")),
        }),
        [w] if w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') => {
            Some(Intercept::Deallocate {
                name: Some(w.to_ascii_lowercase()),
            })
        }
        _ => None,
    }
}

fn normalize_name(s: &str) -> String {
    s.trim_matches('"').to_ascii_lowercase()
}

fn parse_set(sql: &str, is_session_setting: &impl Fn(&str) -> bool) -> Option<Intercept> {
    let toks = tokens(sql);
    let text = |i: usize| toks.get(i).map(|t| &sql[t.start..t.end]);
    let mut i = 1;
    let upper = |i: usize| text(i).map(str::to_ascii_uppercase).unwrap_or_default();
    if upper(i) == "SESSION" && upper(i + 1) == "CHARACTERISTICS" {
        return Some(Intercept::SetTransaction);
    }
    if upper(i) == "SESSION" || upper(i) == "LOCAL" {
        i += 1;
    }
    if upper(i) == "TRANSACTION" {
        return Some(Intercept::SetTransaction);
    }
    let name = if upper(i) == "TIME" && upper(i + 1) == "ZONE" {
        i += 2;
        "timezone".to_owned()
    } else if upper(i) == "SCHEMA" && toks.get(i + 1).is_some_and(|t| t.tok == Tok::Literal) {
        // PostgreSQL's `SET SCHEMA 'name'`: the search path (so `public` is DuckDB's main)
        i += 1;
        "search_path".to_owned()
    } else {
        let n = normalize_name(text(i)?);
        i += 1;
        match text(i) {
            Some("=") => i += 1,
            Some(t) if t.eq_ignore_ascii_case("to") => i += 1,
            _ => return None,
        }
        // DuckDB's `SET schema = 'name'` sets its search path too
        if n == "schema" {
            "search_path".to_owned()
        } else {
            n
        }
    };
    if !is_session_setting(&name) {
        return None;
    }
    let rest: Vec<_> = toks[i..]
        .iter()
        .filter(|t| !matches!(t.tok, Tok::Semicolon))
        .collect();
    if rest.len() == 1 && sql[rest[0].start..rest[0].end].eq_ignore_ascii_case("default") {
        return Some(Intercept::Set {
            name,
            value: SetValue::Default,
        });
    }
    // comma-separated list of literals / identifiers / numbers (a sign joins the number)
    let mut values = Vec::new();
    let mut current = String::new();
    for t in rest {
        let s = &sql[t.start..t.end];
        if s == "," {
            values.push(std::mem::take(&mut current));
            continue;
        }
        current.push_str(&unquote(s));
    }
    values.push(current);
    if name == "timezone" && values.len() == 1 && values[0].eq_ignore_ascii_case("local") {
        return Some(Intercept::Set {
            name,
            value: SetValue::Default,
        });
    }
    Some(Intercept::Set {
        name,
        value: SetValue::Values(values),
    })
}

/// Strip SQL quoting from a literal or identifier.
pub fn unquote(s: &str) -> String {
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        s[1..s.len() - 1].replace("''", "'")
    } else if s.len() >= 3 && (s.starts_with("E'") || s.starts_with("e'")) && s.ends_with('\'') {
        s[2..s.len() - 1].replace("\\'", "'").replace("''", "'")
    } else if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        s[1..s.len() - 1].replace("\"\"", "\"")
    } else {
        s.to_owned()
    }
}

/// Does this statement send rows back (and so a RowDescription)?
pub fn returns_rows(kind: StatementKind, sql: &str, column_count: usize) -> bool {
    if column_count == 0 {
        return false;
    }
    match kind {
        StatementKind::Select
        | StatementKind::Explain
        | StatementKind::Call
        | StatementKind::Pragma => true,
        StatementKind::Insert
        | StatementKind::Update
        | StatementKind::Delete
        | StatementKind::Merge => lexer::has_top_level_word(sql, "RETURNING"),
        StatementKind::Other => {
            // DESCRIBE / SUMMARIZE / FROM-first queries report as SELECT already; what is left
            // here (ATTACH, CHECKPOINT, ...) returns nothing useful.
            false
        }
        _ => false,
    }
}

/// Does this statement change data or schema (and so belong in an implicit transaction)?
pub fn is_write(kind: StatementKind) -> bool {
    matches!(
        kind,
        StatementKind::Insert
            | StatementKind::Update
            | StatementKind::Delete
            | StatementKind::Merge
            | StatementKind::Create
            | StatementKind::Drop
            | StatementKind::Alter
    )
}

const CREATE_MODIFIERS: &[&str] = &[
    "OR",
    "REPLACE",
    "TEMP",
    "TEMPORARY",
    "UNIQUE",
    "PERSISTENT",
    "IF",
    "NOT",
    "EXISTS",
    "UNLOGGED",
];

/// The object word after CREATE/DROP/ALTER: `TABLE`, `VIEW`, ...
fn object_word(sql: &str) -> String {
    let words = leading_words(sql, 12);
    let obj = words
        .iter()
        .skip(1)
        .find(|w| !CREATE_MODIFIERS.contains(&w.as_str()))
        .cloned()
        .unwrap_or_default();
    match obj.as_str() {
        "MACRO" => "FUNCTION".into(),
        "MATERIALIZED" => "MATERIALIZED VIEW".into(),
        _ => obj,
    }
}

/// The PostgreSQL CommandComplete tag for a finished statement.
/// Commands metrics are labelled with; anything else is `OTHER`, so clients cannot create
/// unbounded label values.
const METRIC_COMMANDS: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "COPY",
    "CREATE",
    "DROP",
    "ALTER",
    "SET",
    "RESET",
    "SHOW",
    "BEGIN",
    "START",
    "COMMIT",
    "END",
    "ROLLBACK",
    "ABORT",
    "SAVEPOINT",
    "RELEASE",
    "PREPARE",
    "EXECUTE",
    "DEALLOCATE",
    "DISCARD",
    "EXPLAIN",
    "WITH",
    "VALUES",
    "TABLE",
    "CALL",
    "PRAGMA",
    "ATTACH",
    "DETACH",
    "USE",
    "INSTALL",
    "LOAD",
    "CHECKPOINT",
    "VACUUM",
    "ANALYZE",
    "DESCRIBE",
    "SUMMARIZE",
    "EXPORT",
    "IMPORT",
    "TRUNCATE",
    "CLOSE",
    "LISTEN",
    "UNLISTEN",
    "NOTIFY",
    "FROM",
    "PIVOT",
    "UNPIVOT",
];

fn metric_command(word: &str) -> &'static str {
    METRIC_COMMANDS
        .iter()
        .find(|c| c.eq_ignore_ascii_case(word))
        .copied()
        .unwrap_or("OTHER")
}

/// The metrics label of a command tag: its first word (`INSERT 0 5` → `INSERT`).
pub fn tag_command(tag: &str) -> &'static str {
    metric_command(tag.split(' ').next().unwrap_or(""))
}

/// The metrics label of a statement that produced no tag (it failed): its first keyword.
pub fn statement_command(sql: &str) -> &'static str {
    metric_command(&leading_words(sql, 1).pop().unwrap_or_default())
}

pub fn command_tag(kind: StatementKind, sql: &str, rows: u64) -> String {
    let first = leading_words(sql, 1).pop().unwrap_or_default();
    match kind {
        StatementKind::Insert => format!("INSERT 0 {rows}"),
        StatementKind::Update => format!("UPDATE {rows}"),
        StatementKind::Delete => format!("DELETE {rows}"),
        StatementKind::Merge => format!("MERGE {rows}"),
        StatementKind::Copy => format!("COPY {rows}"),
        StatementKind::Create => {
            let obj = object_word(sql);
            if obj == "TABLE" && lexer::has_top_level_word(sql, "AS") {
                format!("SELECT {rows}")
            } else {
                format!("CREATE {obj}").trim_end().to_owned()
            }
        }
        StatementKind::Drop | StatementKind::Alter => format!("{first} {}", object_word(sql))
            .trim_end()
            .to_owned(),
        StatementKind::Select | StatementKind::Call | StatementKind::Pragma => match first.as_str()
        {
            "SHOW" if rows <= 1 && kind == StatementKind::Select => "SHOW".into(),
            _ => format!("SELECT {rows}"),
        },
        StatementKind::Explain => "EXPLAIN".into(),
        StatementKind::Set => {
            if first == "RESET" {
                "RESET".into()
            } else {
                "SET".into()
            }
        }
        StatementKind::Transaction => first,
        StatementKind::Attach
        | StatementKind::Detach
        | StatementKind::Load
        | StatementKind::Export
        | StatementKind::CopyDatabase
        | StatementKind::UpdateExtensions
        | StatementKind::Other => {
            if first.is_empty() {
                "OK".into()
            } else {
                first
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(n: &str) -> bool {
        matches!(
            n,
            "timezone"
                | "application_name"
                | "search_path"
                | "statement_timeout"
                | "transaction_isolation"
        )
    }

    #[test]
    fn metric_commands_are_bounded() {
        assert_eq!(tag_command("INSERT 0 5"), "INSERT");
        assert_eq!(tag_command("CREATE TABLE"), "CREATE");
        assert_eq!(statement_command("  select 1"), "SELECT");
        assert_eq!(statement_command("frobnicate1234 x"), "OTHER");
        assert_eq!(statement_command(""), "OTHER");
    }

    #[test]
    fn recognises_transaction_control() {
        let i = |s| intercept(s, session);
        assert_eq!(
            i("begin"),
            Some(Intercept::Tx(TxControl::Begin { read_only: false }))
        );
        assert_eq!(
            i("START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY"),
            Some(Intercept::Tx(TxControl::Begin { read_only: true }))
        );
        assert_eq!(i("end"), Some(Intercept::Tx(TxControl::Commit)));
        assert_eq!(i("ROLLBACK"), Some(Intercept::Tx(TxControl::Rollback)));
        assert_eq!(
            i("rollback to savepoint a"),
            Some(Intercept::Tx(TxControl::RollbackTo { name: "a".into() }))
        );
        assert_eq!(
            i("SAVEPOINT \"_pg3_1\""),
            Some(Intercept::Tx(TxControl::Savepoint {
                name: "_pg3_1".into()
            }))
        );
        assert_eq!(
            i("RELEASE SAVEPOINT b"),
            Some(Intercept::Tx(TxControl::Release { name: "b".into() }))
        );
        assert_eq!(i("select 1"), None);
    }

    #[test]
    fn recognises_session_settings() {
        let i = |s| intercept(s, session);
        assert_eq!(
            i("SET TIME ZONE 'Europe/Berlin'"),
            Some(Intercept::Set {
                name: "timezone".into(),
                value: SetValue::Values(vec!["Europe/Berlin".into()])
            })
        );
        assert_eq!(
            i("set session statement_timeout = 100"),
            Some(Intercept::Set {
                name: "statement_timeout".into(),
                value: SetValue::Values(vec!["100".into()])
            })
        );
        assert_eq!(
            i("SET search_path TO \"$user\", public"),
            Some(Intercept::Set {
                name: "search_path".into(),
                value: SetValue::Values(vec!["$user".into(), "public".into()])
            })
        );
        // SET SCHEMA (PostgreSQL) and SET schema = (DuckDB) set the search path
        for sql in [
            "SET SCHEMA 'public'",
            "set schema = public",
            "SET schema TO 'public'",
        ] {
            assert_eq!(
                i(sql),
                Some(Intercept::Set {
                    name: "search_path".into(),
                    value: SetValue::Values(vec!["public".into()])
                }),
                "{sql}"
            );
        }
        assert_eq!(
            i("set application_name to default"),
            Some(Intercept::Set {
                name: "application_name".into(),
                value: SetValue::Default
            })
        );
        assert_eq!(i("SET threads = 4"), None);
        assert_eq!(i("SHOW TABLES"), None);
        assert_eq!(
            i("show transaction isolation level"),
            Some(Intercept::Show {
                name: "transaction_isolation".into()
            })
        );
        assert_eq!(
            i("RESET ALL"),
            Some(Intercept::Reset { name: "all".into() })
        );
        assert_eq!(
            i("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED"),
            Some(Intercept::SetTransaction)
        );
    }

    #[test]
    fn command_tags() {
        use StatementKind::*;
        assert_eq!(
            command_tag(Insert, "insert into t values (1)", 3),
            "INSERT 0 3"
        );
        assert_eq!(
            command_tag(Create, "CREATE OR REPLACE TEMP TABLE t(a int)", 0),
            "CREATE TABLE"
        );
        assert_eq!(
            command_tag(Create, "create table t as select 1", 1),
            "SELECT 1"
        );
        assert_eq!(
            command_tag(Create, "create view v as select 1", 0),
            "CREATE VIEW"
        );
        assert_eq!(command_tag(Drop, "drop table if exists t", 0), "DROP TABLE");
        assert_eq!(
            command_tag(Alter, "alter table t add column b int", 0),
            "ALTER TABLE"
        );
        assert_eq!(command_tag(Select, "select * from t", 7), "SELECT 7");
        assert_eq!(command_tag(Other, "checkpoint", 0), "CHECKPOINT");
    }

    #[test]
    fn rows_or_not() {
        use StatementKind::*;
        assert!(returns_rows(Select, "select 1", 1));
        assert!(!returns_rows(Insert, "insert into t values (1)", 1));
        assert!(returns_rows(
            Insert,
            "insert into t values (1) returning *",
            1
        ));
        assert!(!returns_rows(Create, "create table t (a int)", 1));
    }
}
