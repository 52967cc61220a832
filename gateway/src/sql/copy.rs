//! `COPY … FROM STDIN` / `COPY … TO STDOUT`: the statement, as PostgreSQL and psql's `\copy`
//! write it (the parenthesised option list and the pre-9.0 keyword options).
//!
//! COPY to or from a server file never gets here: the guard refuses it.

use super::lexer::{tokens, Tok, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFormat {
    Text,
    Csv,
    Binary,
}

/// Options of a COPY, with PostgreSQL's defaults for the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOptions {
    pub format: CopyFormat,
    pub delimiter: u8,
    pub null: String,
    pub header: bool,
    pub quote: u8,
    pub escape: u8,
    /// CSV output: quote every non-NULL value.
    pub force_quote_all: bool,
}

impl CopyOptions {
    fn for_format(format: CopyFormat) -> Self {
        let csv = format == CopyFormat::Csv;
        CopyOptions {
            format,
            delimiter: if csv { b',' } else { b'\t' },
            null: if csv { String::new() } else { "\\N".into() },
            header: false,
            quote: b'"',
            escape: b'"',
            force_quote_all: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopySource {
    /// A table (as written, possibly qualified and quoted) and an optional column list.
    Table { name: String, columns: Vec<String> },
    /// `COPY (query) TO STDOUT`.
    Query(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyStatement {
    /// `FROM STDIN` (true) or `TO STDOUT` (false).
    pub from_client: bool,
    pub source: CopySource,
    pub options: CopyOptions,
}

impl CopyStatement {
    /// The query whose rows `COPY … TO STDOUT` sends.
    pub fn out_query(&self) -> String {
        match &self.source {
            CopySource::Query(q) => q.clone(),
            CopySource::Table { name, columns } if columns.is_empty() => {
                format!("SELECT * FROM {name}")
            }
            CopySource::Table { name, columns } => {
                format!("SELECT {} FROM {name}", columns.join(", "))
            }
        }
    }
}

/// Why a COPY statement is refused: (SQLSTATE, message).
pub type CopyError = (&'static str, String);

fn word(sql: &str, t: &Token) -> String {
    sql[t.start..t.end].to_ascii_lowercase()
}

fn literal(sql: &str, t: &Token) -> String {
    let s = &sql[t.start..t.end];
    let s = s.strip_prefix(['E', 'e']).unwrap_or(s);
    let inner = s.get(1..s.len().saturating_sub(1)).unwrap_or("");
    inner.replace("''", "'")
}

fn single_byte(name: &str, v: &str) -> Result<u8, CopyError> {
    match v.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => Err((
            "0A000",
            format!("COPY {name} must be a single one-byte character"),
        )),
    }
}

fn boolean(name: &str, v: Option<&str>) -> Result<bool, CopyError> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("true" | "on" | "1") => Ok(true),
        Some("false" | "off" | "0") => Ok(false),
        Some(other) => Err((
            "22023",
            format!("{name} requires a Boolean value, got {other}"),
        )),
    }
}

/// Parse a `COPY` statement that reads from or writes to the client. `None` when it is not
/// one (a COPY to a file, `COPY FROM DATABASE`, not a COPY at all).
pub fn parse(sql: &str) -> Option<Result<CopyStatement, CopyError>> {
    let toks = tokens(sql);
    let mut i = 0;
    let is_word = |t: Option<&Token>, w: &str| {
        t.is_some_and(|t| t.tok == Tok::Word && sql[t.start..t.end].eq_ignore_ascii_case(w))
    };
    if !is_word(toks.first(), "copy") {
        return None;
    }
    i += 1;
    let source_start = toks.get(i)?;
    let mut source = if source_start.tok == Tok::OpenParen {
        // (query): up to the matching parenthesis
        let mut depth = 0;
        let mut end = None;
        for (j, t) in toks.iter().enumerate().skip(i) {
            match t.tok {
                Tok::OpenParen => depth += 1,
                Tok::CloseParen => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end?;
        let q = sql[toks[i].end..toks[end].start].trim().to_owned();
        i = end + 1;
        CopySource::Query(q)
    } else {
        // name[.name[.name]]
        let start = source_start.start;
        let mut end = source_start.end;
        i += 1;
        while toks.get(i).is_some_and(|t| &sql[t.start..t.end] == ".")
            && toks.get(i + 1).is_some_and(|t| t.tok == Tok::Word)
        {
            end = toks[i + 1].end;
            i += 2;
        }
        CopySource::Table {
            // `COPY public.t FROM STDIN` (psql \copy, pgJDBC's CopyManager): DuckDB's `main`
            name: super::compat::public_schema(&sql[start..end]).into_owned(),
            columns: Vec::new(),
        }
    };
    if toks.get(i).is_some_and(|t| t.tok == Tok::OpenParen) {
        let CopySource::Table { columns, .. } = &mut source else {
            return None;
        };
        i += 1;
        while let Some(t) = toks.get(i) {
            match t.tok {
                Tok::CloseParen => break,
                Tok::Word => columns.push(sql[t.start..t.end].to_owned()),
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    let from_client = if is_word(toks.get(i), "from") {
        true
    } else if is_word(toks.get(i), "to") {
        false
    } else {
        return None;
    };
    i += 1;
    let target = toks.get(i).map(|t| word(sql, t)).unwrap_or_default();
    match (from_client, target.as_str()) {
        (true, "stdin") | (false, "stdout") => {}
        _ => return None,
    }
    i += 1;
    if matches!(source, CopySource::Query(_)) && from_client {
        return Some(Err((
            "42601",
            "COPY (query) FROM STDIN is not valid: copy into a table".into(),
        )));
    }
    Some(parse_options(sql, &toks[i..]).map(|options| CopyStatement {
        from_client,
        source,
        options,
    }))
}

/// `WITH (name value, …)` or the old keyword form (`CSV HEADER DELIMITER ','`).
fn parse_options(sql: &str, toks: &[Token]) -> Result<CopyOptions, CopyError> {
    let mut toks: Vec<&Token> = toks.iter().filter(|t| t.tok != Tok::Semicolon).collect();
    if toks.first().is_some_and(|t| word(sql, t) == "with") {
        toks.remove(0);
    }
    // (name value) pairs as (lowercase name, raw value)
    let mut pairs: Vec<(String, Option<String>)> = Vec::new();
    let value_of = |t: &Token| match t.tok {
        Tok::Literal if sql[t.start..].starts_with(['\'', 'E', 'e']) => literal(sql, t),
        _ => sql[t.start..t.end].to_owned(),
    };
    if toks.first().is_some_and(|t| t.tok == Tok::OpenParen) {
        let mut i = 1;
        while i < toks.len() && toks[i].tok != Tok::CloseParen {
            let t = toks[i];
            if t.tok == Tok::Word {
                let name = word(sql, t);
                let mut j = i + 1;
                let mut value = None;
                if let Some(v) = toks.get(j) {
                    if !matches!(v.tok, Tok::CloseParen) && &sql[v.start..v.end] != "," {
                        value = Some(value_of(v));
                        j += 1;
                    }
                }
                pairs.push((name, value));
                i = j;
            } else {
                i += 1;
            }
        }
    } else {
        let mut i = 0;
        while i < toks.len() {
            let name = word(sql, toks[i]);
            match name.as_str() {
                "binary" | "csv" | "text" => pairs.push(("format".into(), Some(name))),
                "header" => pairs.push(("header".into(), None)),
                "delimiter" | "null" | "quote" | "escape" => {
                    i += 1;
                    if toks.get(i).is_some_and(|t| word(sql, t) == "as") {
                        i += 1;
                    }
                    let v = toks.get(i).map(|t| value_of(t));
                    pairs.push((name, v));
                }
                "force" => {
                    // FORCE QUOTE * | FORCE QUOTE col, … | FORCE NOT NULL …
                    let what: Vec<String> = toks[i + 1..].iter().map(|t| word(sql, t)).collect();
                    if what.first().map(String::as_str) == Some("quote")
                        && what.get(1).map(String::as_str) == Some("*")
                    {
                        pairs.push(("force_quote".into(), Some("*".into())));
                        i += 2;
                    } else {
                        return Err((
                            "0A000",
                            "COPY FORCE options other than FORCE QUOTE * are not supported".into(),
                        ));
                    }
                }
                "oids" | "freeze" => {}
                other => return Err(("42601", format!("syntax error in COPY at \"{other}\""))),
            }
            i += 1;
        }
    }
    let format = match pairs
        .iter()
        .find(|(n, _)| n == "format")
        .and_then(|(_, v)| v.as_deref())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("text") => CopyFormat::Text,
        Some("csv") => CopyFormat::Csv,
        Some("binary") => CopyFormat::Binary,
        Some(other) => return Err(("22023", format!("COPY format \"{other}\" not recognized"))),
    };
    let mut o = CopyOptions::for_format(format);
    for (name, value) in &pairs {
        let v = value.as_deref();
        match name.as_str() {
            "format" => {}
            "header" => o.header = boolean("header", v)?,
            "delimiter" => o.delimiter = single_byte("delimiter", v.unwrap_or(""))?,
            "null" => o.null = v.unwrap_or("").to_owned(),
            "quote" => o.quote = single_byte("quote", v.unwrap_or(""))?,
            "escape" => o.escape = single_byte("escape", v.unwrap_or(""))?,
            "force_quote" if v == Some("*") => o.force_quote_all = true,
            "encoding" => {
                if !v.unwrap_or("").eq_ignore_ascii_case("utf8")
                    && !v.unwrap_or("").eq_ignore_ascii_case("utf-8")
                {
                    return Err(("0A000", "COPY supports only the UTF8 encoding".into()));
                }
            }
            "freeze" => {}
            other => return Err(("0A000", format!("COPY option \"{other}\" is not supported"))),
        }
    }
    if format == CopyFormat::Binary && pairs.iter().any(|(n, _)| n != "format") {
        return Err((
            "42601",
            "cannot specify DELIMITER, NULL, HEADER or QUOTE in BINARY mode".into(),
        ));
    }
    if format == CopyFormat::Text && o.header {
        // PostgreSQL 15 accepts HEADER for text output; keep it simple and symmetric
        return Err(("0A000", "COPY HEADER is available only in CSV mode".into()));
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(sql: &str) -> CopyStatement {
        parse(sql).expect("a client COPY").expect("valid")
    }

    #[test]
    fn psql_and_driver_forms_parse() {
        let c = ok("COPY t FROM STDIN");
        assert!(c.from_client);
        assert_eq!(c.options, CopyOptions::for_format(CopyFormat::Text));
        let c = ok("copy public.\"My T\" (a, \"B\") from stdin with (format csv, header true, delimiter ';', null 'NA')");
        assert_eq!(
            c.source,
            CopySource::Table {
                // PostgreSQL's default schema is DuckDB's main
                name: "main.\"My T\"".into(),
                columns: vec!["a".into(), "\"B\"".into()]
            }
        );
        assert_eq!(c.options.format, CopyFormat::Csv);
        assert!(c.options.header);
        assert_eq!(c.options.delimiter, b';');
        assert_eq!(c.options.null, "NA");
        let c = ok("COPY t TO STDOUT WITH CSV HEADER DELIMITER AS '|'");
        assert!(!c.from_client);
        assert_eq!(c.options.format, CopyFormat::Csv);
        assert!(c.options.header);
        assert_eq!(c.options.delimiter, b'|');
        assert_eq!(c.out_query(), "SELECT * FROM t");
        let c = ok("COPY (SELECT a, 'x)' FROM t WHERE (b > 1)) TO STDOUT (FORMAT binary)");
        assert_eq!(
            c.source,
            CopySource::Query("SELECT a, 'x)' FROM t WHERE (b > 1)".into())
        );
        assert_eq!(c.options.format, CopyFormat::Binary);
        let c = ok("COPY t (a) TO STDOUT");
        assert_eq!(c.out_query(), "SELECT a FROM t");
        assert!(
            ok("COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE *)")
                .options
                .force_quote_all
        );
    }

    #[test]
    fn files_and_other_statements_are_not_client_copies() {
        assert!(parse("COPY t TO '/tmp/x.csv'").is_none());
        assert!(parse("COPY t FROM 'data.csv'").is_none());
        assert!(parse("SELECT 1").is_none());
        assert!(parse("COPY FROM DATABASE a TO b").is_none());
    }

    #[test]
    fn bad_options_are_refused_with_a_sqlstate() {
        let err = |sql: &str| parse(sql).unwrap().unwrap_err().0;
        assert_eq!(err("COPY t FROM STDIN (FORMAT xml)"), "22023");
        assert_eq!(err("COPY t FROM STDIN (DELIMITER ',,')"), "0A000");
        assert_eq!(err("COPY t FROM STDIN (FORMAT binary, HEADER)"), "42601");
        assert_eq!(err("COPY t FROM STDIN (ENCODING 'LATIN1')"), "0A000");
        assert_eq!(err("COPY (SELECT 1) FROM STDIN"), "42601");
    }
}
