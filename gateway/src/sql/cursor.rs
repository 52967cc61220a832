//! SQL-level cursors (`DECLARE … CURSOR`, `FETCH`, `MOVE`, `CLOSE`) and savepoint names: pure
//! parsing. The session runs cursors as portals (psycopg2's named cursors and SQLAlchemy's
//! `stream_results` declare one and fetch from it in batches).

use super::lexer::statement_tokens;
use super::unquote;

/// A cursor statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorCommand {
    /// `DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [NO SCROLL] CURSOR [WITH[OUT] HOLD]
    /// FOR query`.
    Declare {
        name: String,
        query: String,
        hold: bool,
        binary: bool,
    },
    /// `FETCH` / `MOVE` `[FORWARD | NEXT] [count | ALL] [FROM | IN] name`.
    Fetch {
        name: String,
        /// `None` = ALL.
        count: Option<u64>,
        /// MOVE: skip the rows instead of sending them.
        skip: bool,
    },
    /// `CLOSE name` / `CLOSE ALL` (`None`).
    Close { name: Option<String> },
}

/// A cursor statement the gateway cannot run, with the reason (0A000), or a syntax error
/// (42601).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorError {
    pub code: &'static str,
    pub message: String,
}

fn unsupported(message: impl Into<String>) -> CursorError {
    CursorError {
        code: "0A000",
        message: message.into(),
    }
}

fn syntax(message: impl Into<String>) -> CursorError {
    CursorError {
        code: "42601",
        message: message.into(),
    }
}

/// A name as PostgreSQL folds it: quoted names keep their case, others are lower-cased.
pub fn identifier(text: &str) -> String {
    if text.starts_with('"') {
        unquote(text)
    } else {
        text.to_ascii_lowercase()
    }
}

/// Parse a statement that starts with DECLARE, FETCH, MOVE or CLOSE. `None`: not one of them.
pub fn parse(sql: &str) -> Option<Result<CursorCommand, CursorError>> {
    let toks = statement_tokens(sql);
    let word = |i: usize| {
        toks.get(i)
            .map(|t| sql[t.start..t.end].to_ascii_uppercase())
            .unwrap_or_default()
    };
    let text = |i: usize| toks.get(i).map(|t| &sql[t.start..t.end]).unwrap_or("");
    match word(0).as_str() {
        "DECLARE" => Some(parse_declare(sql, &toks, &word, &text)),
        "FETCH" | "MOVE" => Some(parse_fetch(word(0) == "MOVE", toks.len(), &word, &text)),
        "CLOSE" => Some(match (toks.len(), word(1).as_str()) {
            (2, "ALL") => Ok(CursorCommand::Close { name: None }),
            (2, _) => Ok(CursorCommand::Close {
                name: Some(identifier(text(1))),
            }),
            _ => Err(syntax(
                "syntax error in CLOSE: expected CLOSE name or CLOSE ALL",
            )),
        }),
        _ => None,
    }
}

fn parse_declare<'s>(
    sql: &'s str,
    toks: &[super::lexer::Token],
    word: &impl Fn(usize) -> String,
    text: &impl Fn(usize) -> &'s str,
) -> Result<CursorCommand, CursorError> {
    if toks.len() < 2 {
        return Err(syntax("syntax error in DECLARE: a cursor name is missing"));
    }
    let name = identifier(text(1));
    let (mut binary, mut hold) = (false, false);
    let mut i = 2;
    loop {
        match word(i).as_str() {
            "BINARY" => binary = true,
            "ASENSITIVE" | "INSENSITIVE" => {}
            "NO" if word(i + 1) == "SCROLL" => i += 1,
            "SCROLL" => {
                return Err(unsupported(
                    "SCROLL cursors are not supported: cursors only move forward here",
                ))
            }
            "CURSOR" => break,
            _ => return Err(syntax("syntax error in DECLARE: expected CURSOR")),
        }
        i += 1;
    }
    i += 1;
    match (word(i).as_str(), word(i + 1).as_str()) {
        ("WITH", "HOLD") => {
            hold = true;
            i += 2;
        }
        ("WITHOUT", "HOLD") => i += 2,
        _ => {}
    }
    if word(i) != "FOR" || i + 1 >= toks.len() {
        return Err(syntax("syntax error in DECLARE: expected FOR query"));
    }
    let query = sql[toks[i + 1].start..toks[toks.len() - 1].end].to_owned();
    Ok(CursorCommand::Declare {
        name,
        query,
        hold,
        binary,
    })
}

fn parse_fetch<'s>(
    skip: bool,
    len: usize,
    word: &impl Fn(usize) -> String,
    text: &impl Fn(usize) -> &'s str,
) -> Result<CursorCommand, CursorError> {
    let mut i = 1;
    let mut count = Some(1);
    // NEXT is one row; FORWARD is followed by a count, ALL, or nothing (one row)
    let next = word(i) == "NEXT";
    if next || word(i) == "FORWARD" {
        i += 1;
    }
    match word(i).as_str() {
        _ if next => {}
        "ALL" => {
            count = None;
            i += 1;
        }
        w if w.parse::<u64>().is_ok() => {
            count = w.parse().ok();
            i += 1;
        }
        "PRIOR" | "FIRST" | "LAST" | "ABSOLUTE" | "RELATIVE" | "BACKWARD" | "-" => {
            return Err(unsupported(format!(
                "FETCH {} is not supported: cursors only move forward here",
                word(i)
            )))
        }
        _ => {}
    }
    if matches!(word(i).as_str(), "FROM" | "IN") {
        i += 1;
    }
    if i + 1 != len {
        return Err(syntax(format!(
            "syntax error in {}: expected [FORWARD] [count | ALL] [FROM] cursor",
            if skip { "MOVE" } else { "FETCH" }
        )));
    }
    Ok(CursorCommand::Fetch {
        name: identifier(text(i)),
        count,
        skip,
    })
}

/// The savepoint name of `SAVEPOINT name`, `RELEASE [SAVEPOINT] name` or
/// `ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name`: the last token.
pub fn savepoint_name(sql: &str) -> Option<String> {
    let toks = statement_tokens(sql);
    let last = toks.last()?;
    (toks.len() >= 2).then(|| identifier(&sql[last.start..last.end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_as_psycopg2_and_sqlalchemy_send_them() {
        assert_eq!(
            parse("DECLARE \"c_7f_1\" CURSOR WITHOUT HOLD FOR SELECT * FROM t WHERE x = 'a;b'"),
            Some(Ok(CursorCommand::Declare {
                name: "c_7f_1".into(),
                query: "SELECT * FROM t WHERE x = 'a;b'".into(),
                hold: false,
                binary: false,
            }))
        );
        assert_eq!(
            parse("declare Cur binary no scroll cursor with hold for select 1;"),
            Some(Ok(CursorCommand::Declare {
                name: "cur".into(),
                query: "select 1".into(),
                hold: true,
                binary: true,
            }))
        );
        assert_eq!(
            parse("DECLARE c SCROLL CURSOR FOR SELECT 1")
                .unwrap()
                .unwrap_err()
                .code,
            "0A000"
        );
        assert_eq!(
            parse("DECLARE c CURSOR").unwrap().unwrap_err().code,
            "42601"
        );
        assert_eq!(parse("DECLARE").unwrap().unwrap_err().code, "42601");
    }

    #[test]
    fn fetch_and_move_forward_only() {
        let f = |s| parse(s).unwrap();
        assert_eq!(
            f("FETCH FORWARD 2000 FROM \"c_1\""),
            Ok(CursorCommand::Fetch {
                name: "c_1".into(),
                count: Some(2000),
                skip: false
            })
        );
        assert_eq!(
            f("fetch all in c"),
            Ok(CursorCommand::Fetch {
                name: "c".into(),
                count: None,
                skip: false
            })
        );
        assert_eq!(
            f("FETCH c"),
            Ok(CursorCommand::Fetch {
                name: "c".into(),
                count: Some(1),
                skip: false
            })
        );
        assert_eq!(
            f("MOVE FORWARD ALL FROM c"),
            Ok(CursorCommand::Fetch {
                name: "c".into(),
                count: None,
                skip: true
            })
        );
        assert_eq!(
            f("FETCH 10 c").unwrap(),
            CursorCommand::Fetch {
                name: "c".into(),
                count: Some(10),
                skip: false
            }
        );
        assert_eq!(f("FETCH BACKWARD 1 FROM c").unwrap_err().code, "0A000");
        assert_eq!(f("FETCH ABSOLUTE 3 FROM c").unwrap_err().code, "0A000");
        assert_eq!(f("FETCH 1 FROM c extra").unwrap_err().code, "42601");
        assert_eq!(f("FETCH").unwrap_err().code, "42601");
    }

    #[test]
    fn close_and_savepoint_names() {
        assert_eq!(
            parse("CLOSE \"Big\""),
            Some(Ok(CursorCommand::Close {
                name: Some("Big".into())
            }))
        );
        assert_eq!(
            parse("close all"),
            Some(Ok(CursorCommand::Close { name: None }))
        );
        assert_eq!(parse("SELECT 1"), None);
        assert_eq!(savepoint_name("SAVEPOINT sp1").as_deref(), Some("sp1"));
        assert_eq!(
            savepoint_name("ROLLBACK TO SAVEPOINT \"_pg3_1\"").as_deref(),
            Some("_pg3_1")
        );
        assert_eq!(savepoint_name("release a").as_deref(), Some("a"));
        assert_eq!(savepoint_name("SAVEPOINT"), None);
    }
}
