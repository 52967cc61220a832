//! The name PostgreSQL gives a result column that has no alias.
//!
//! DuckDB names such a column after the expression's text as it prints it
//! (`format_type(a.atttypid, a.atttypmod)`, `CAST(c.oid AS VARCHAR)`, `''`); PostgreSQL after the
//! expression's shape (its `FigureColname`): a column reference by its last field, a function call
//! by the function's name, a cast by its operand's name or else the type's, `CASE` by its `ELSE`
//! branch or else `case`, a scalar subquery by its first column, anything else (operators,
//! constants, parameters) `?column?`. Clients that read columns by name (SQLAlchemy's
//! `row.format_type`, psql's `\d` output headers, pgJDBC) see PostgreSQL's names when the
//! RowDescription uses [`pg_column_name`].

use super::lexer::{tokens, Tok, Token};

/// PostgreSQL's name for the unaliased column whose DuckDB name is `duckdb_name`, or `None` when
/// the name is not an expression's text (a plain name, an alias such as `Access privileges`) or
/// PostgreSQL's name is the same. An alias that happens to read as an expression (`AS "a.b"`) is
/// renamed too: DuckDB does not say whether a name was written or derived.
pub fn pg_column_name(duckdb_name: &str) -> Option<String> {
    if duckdb_name.eq_ignore_ascii_case("null") {
        return Some("?column?".to_owned());
    }
    // the common case: a column or alias name, no allocation
    if duckdb_name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b' ' || b >= 0x80)
        && !duckdb_name.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let toks = tokens(duckdb_name);
    if toks.is_empty() {
        return None;
    }
    let p = Parser {
        src: duckdb_name,
        toks: &toks,
    };
    // DuckDB prints an operator expression in parentheses (`(a IS NULL)`, `(x || 'y')`): at the
    // top level only one term is an expression's text (`Foreign-data wrapper` is an alias)
    let ((name, strength), end) = p.term(0, toks.len())?;
    if end != toks.len() {
        return None;
    }
    let name = if strength == 0 {
        "?column?".to_owned()
    } else {
        name
    };
    (name != duckdb_name).then_some(name)
}

struct Parser<'a> {
    src: &'a str,
    toks: &'a [Token],
}

/// How sure the name is, as in PostgreSQL: 2 for a column, field or function name, 1 for a type
/// name or `case`, 0 for none (`?column?`).
type Named = (String, u8);

/// Keywords that make a token sequence an operator expression rather than one term.
const OPERATOR_WORDS: &[&str] = &[
    "and", "or", "not", "is", "in", "like", "ilike", "between", "similar", "glob", "collate", "at",
    "isnull", "notnull",
];

/// DuckDB's spellings of functions PostgreSQL names otherwise, and the session's lookups that
/// stand for a cast (`'t'::regclass` is `duckgate_regclass('t')`).
fn function_name(name: &str) -> Option<Named> {
    Some(match name {
        "count_star" => ("count".into(), 2),
        "list_value" | "array_value" => ("array".into(), 2),
        "struct_pack" | "row" => ("row".into(), 2),
        "duckgate_regclass" => ("regclass".into(), 1),
        "duckgate_regtype" => ("regtype".into(), 1),
        "duckgate_current_setting" => ("current_setting".into(), 2),
        _ => return None,
    })
}

/// PostgreSQL's name of a type DuckDB prints in a cast (`CAST(x AS BIGINT)` of a constant is
/// PostgreSQL's `x::int8`, named `int8`).
fn type_name(duckdb_type: &str) -> String {
    // DuckDB prints some types quoted: `CAST(1 AS "UINTEGER")`
    let t = duckdb_type
        .trim()
        .trim_end_matches("[]")
        .trim_matches('"')
        .to_ascii_uppercase();
    let base = t.split('(').next().unwrap_or("").trim();
    match base {
        "BOOLEAN" | "BOOL" => "bool",
        "TINYINT" | "SMALLINT" | "INT2" => "int2",
        "INTEGER" | "INT" | "INT4" => "int4",
        "BIGINT" | "INT8" => "int8",
        // `x::oid` is `x::UINTEGER` on the way to DuckDB (sql::compat)
        "UINTEGER" => "oid",
        "FLOAT" | "REAL" | "FLOAT4" => "float4",
        "DOUBLE" | "FLOAT8" => "float8",
        "DECIMAL" | "NUMERIC" => "numeric",
        "VARCHAR" | "TEXT" | "STRING" => "text",
        "BLOB" | "BYTEA" => "bytea",
        "TIMESTAMP WITH TIME ZONE" | "TIMESTAMPTZ" => "timestamptz",
        "TIME WITH TIME ZONE" | "TIMETZ" => "timetz",
        other => return other.to_ascii_lowercase().replace(' ', "_"),
    }
    .to_owned()
}

impl Parser<'_> {
    fn text(&self, i: usize) -> &str {
        let t = &self.toks[i];
        &self.src[t.start..t.end]
    }

    fn lower(&self, i: usize) -> String {
        self.text(i).to_ascii_lowercase()
    }

    fn is(&self, i: usize, s: &str) -> bool {
        i < self.toks.len() && self.text(i).eq_ignore_ascii_case(s)
    }

    /// An identifier's name: quotes removed, case kept (DuckDB prints identifiers as written).
    fn ident(&self, i: usize) -> String {
        let s = self.text(i);
        match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            Some(inner) => inner.replace("\"\"", "\""),
            None => s.to_owned(),
        }
    }

    /// The index just past the parenthesis or bracket group opening at `i`.
    fn close(&self, i: usize) -> Option<usize> {
        let mut depth = 0i32;
        for k in i..self.toks.len() {
            let s = self.text(k);
            match (self.toks[k].tok, s) {
                (Tok::OpenParen, _) | (Tok::Other, "[") => depth += 1,
                (Tok::CloseParen, _) | (Tok::Other, "]") => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(k + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Split `[from, to)` at top-level occurrences of `sep` (a word or punctuation).
    fn split(&self, from: usize, to: usize, sep: &str) -> Vec<(usize, usize)> {
        let mut parts = Vec::new();
        let (mut start, mut k) = (from, from);
        while k < to {
            if matches!(self.toks[k].tok, Tok::OpenParen) || self.text(k) == "[" {
                k = self.close(k).unwrap_or(to);
                continue;
            }
            if self.is(k, sep) {
                parts.push((start, k));
                start = k + 1;
            }
            k += 1;
        }
        parts.push((start, to));
        parts
    }

    /// The name of the expression `[from, to)`, `None` when it is not one expression.
    fn expr(&self, from: usize, to: usize) -> Option<Named> {
        let (name, end) = self.term(from, to)?;
        if end == to {
            return Some(name);
        }
        // more after the first term: an operator expression, if what follows is one
        let mut k = end;
        let mut operator = false;
        while k < to {
            let t = self.toks[k];
            match t.tok {
                Tok::Other => operator = true,
                Tok::Word if OPERATOR_WORDS.contains(&self.lower(k).as_str()) => operator = true,
                Tok::OpenParen => {
                    k = self.close(k)?;
                    continue;
                }
                Tok::Semicolon => return None,
                _ => {}
            }
            k += 1;
        }
        operator.then(|| ("?column?".to_owned(), 0))
    }

    /// One term starting at `i`: its name and where it ends.
    fn term(&self, i: usize, to: usize) -> Option<(Named, usize)> {
        let t = *self.toks.get(i)?;
        let (mut named, mut end) = match t.tok {
            Tok::Literal | Tok::Param(_) => ((String::new(), 0), i + 1),
            Tok::OpenParen => {
                let close = self.close(i)?;
                if close > to {
                    return None;
                }
                let inner = (i + 1, close - 1);
                let named = if self.is(inner.0, "select") {
                    self.subquery(inner.0 + 1, inner.1)?
                } else {
                    self.expr(inner.0, inner.1)?
                };
                (named, close)
            }
            Tok::Other if self.text(i) == "[" => (("array".to_owned(), 2), self.close(i)?),
            Tok::Other => {
                // a prefix operator (`-1`, `NOT x` is a word): an operator expression
                let (_, end) = self.term(i + 1, to)?;
                (("?column?".to_owned(), 0), end)
            }
            Tok::Word => self.word_term(i, to)?,
            Tok::Semicolon | Tok::CloseParen => return None,
        };
        // postfix: subscripts keep the name, `.field` takes the field's
        while end < to {
            if self.text(end) == "[" {
                end = self.close(end)?;
            } else if self.is(end, ".") && end + 1 < to && self.toks[end + 1].tok == Tok::Word {
                named = (self.ident(end + 1), 2);
                end += 2;
            } else {
                break;
            }
        }
        Some((named, end))
    }

    fn word_term(&self, i: usize, to: usize) -> Option<(Named, usize)> {
        let w = self.lower(i);
        let quoted = self.text(i).starts_with('"');
        if !quoted {
            match w.as_str() {
                "null" | "true" | "false" => return Some(((String::new(), 0), i + 1)),
                "not" => {
                    let (_, end) = self.term(i + 1, to)?;
                    return Some((("?column?".to_owned(), 0), end));
                }
                "case" => return self.case(i, to),
                "cast" | "try_cast" if self.is(i + 1, "(") => return self.cast(i + 1, to),
                "exists" if self.is(i + 1, "(") => {
                    return Some((("exists".to_owned(), 2), self.close(i + 1)?));
                }
                "array" if self.is(i + 1, "(") || self.is(i + 1, "[") => {
                    return Some((("array".to_owned(), 2), self.close(i + 1)?));
                }
                _ => {}
            }
        }
        // a dotted name: a column reference or a (schema-qualified) function call
        let mut last = i;
        while self.is(last + 1, ".") && last + 2 < to && self.toks[last + 2].tok == Tok::Word {
            last += 2;
        }
        // DuckDB prints a call with its parenthesis right after the name; `total (usd)` is an
        // alias someone wrote
        if self
            .toks
            .get(last + 1)
            .is_some_and(|t| t.tok == Tok::OpenParen && t.start == self.toks[last].end)
        {
            let close = self.close(last + 1)?;
            let name = self.ident(last).to_ascii_lowercase();
            if matches!(
                name.as_str(),
                "duckgate_regclass_name" | "duckgate_regtype_name"
            ) {
                // `x::regclass` printed as a name: PostgreSQL names the cast after `x`
                let (named, _) = self.cast_operand(last + 2, close - 1)?;
                return Some((named, close));
            }
            let named = function_name(&name).unwrap_or((name, 2));
            return Some((named, close));
        }
        if last == i && !quoted {
            // a lone word: a column name, or a keyword-led expression DuckDB does not print
            return Some(((self.ident(i), 2), i + 1));
        }
        Some(((self.ident(last), 2), last + 1))
    }

    fn cast_operand(&self, from: usize, to: usize) -> Option<(Named, usize)> {
        let named = self.expr(from, to)?;
        Some((named, to))
    }

    /// `CAST(x AS type)` with `(` at `open`.
    fn cast(&self, open: usize, to: usize) -> Option<(Named, usize)> {
        let close = self.close(open)?;
        if close > to {
            return None;
        }
        let parts = self.split(open + 1, close - 1, "as");
        let [(xs, xe), (ts, te)] = parts[..] else {
            return None;
        };
        let (name, strength) = self.expr(xs, xe)?;
        if strength == 2 {
            return Some(((name, 2), close));
        }
        let ty = &self.src[self.toks[ts].start..self.toks[te - 1].end];
        Some(((type_name(ty), 1), close))
    }

    /// `CASE … [ELSE x] END` starting at `i`.
    fn case(&self, i: usize, to: usize) -> Option<(Named, usize)> {
        // find the matching END (CASE nests)
        let (mut depth, mut k, mut else_at) = (0, i, None);
        let end = loop {
            if k >= to {
                return None;
            }
            if self.toks[k].tok == Tok::OpenParen {
                k = self.close(k)?;
                continue;
            }
            if self.is(k, "case") {
                depth += 1;
            } else if self.is(k, "end") {
                depth -= 1;
                if depth == 0 {
                    break k;
                }
            } else if depth == 1 && self.is(k, "else") {
                else_at = Some(k);
            }
            k += 1;
        };
        let named = match else_at {
            Some(e) => match self.expr(e + 1, end) {
                Some((n, 2)) => (n, 2),
                _ => ("case".to_owned(), 1),
            },
            None => ("case".to_owned(), 1),
        };
        Some((named, end + 1))
    }

    /// A scalar subquery's name: its first result column's alias or name.
    fn subquery(&self, from: usize, to: usize) -> Option<Named> {
        let mut k = from;
        if self.is(k, "distinct") || self.is(k, "all") {
            k += 1;
        }
        // the first select-list item ends at a top-level comma or FROM/WHERE/...
        let mut end = k;
        while end < to {
            if self.toks[end].tok == Tok::OpenParen || self.text(end) == "[" {
                end = self.close(end)?;
                continue;
            }
            let w = self.lower(end);
            if w == ","
                || matches!(
                    w.as_str(),
                    "from" | "where" | "group" | "having" | "order" | "limit" | "union" | "window"
                )
            {
                break;
            }
            end += 1;
        }
        if end >= k + 2 && self.is(end - 2, "as") {
            return Some((self.ident(end - 1), 2));
        }
        self.expr(k, end)
    }
}

#[cfg(test)]
mod tests {
    use super::pg_column_name as name;

    #[test]
    fn aliases_with_spaced_parentheses_are_kept() {
        assert_eq!(name("total (usd)"), None);
        assert_eq!(name("Sales (EUR, net)"), None);
        assert_eq!(name("sum(x)").as_deref(), Some("sum"));
    }

    #[test]
    fn names_and_aliases_are_kept() {
        for n in [
            "relname",
            "Schema",
            "Access privileges",
            "?column?",
            "x_1",
            "Foreign-data wrapper",
        ] {
            assert_eq!(name(n), None, "{n}");
        }
    }

    #[test]
    fn column_references_functions_and_casts() {
        let cases = [
            ("c.relname", "relname"),
            ("format_type(a.atttypid, a.atttypmod)", "format_type"),
            (
                "main.rtrim(pg_get_ruledef(r.oid, CAST('t' AS BOOLEAN)), ';')",
                "rtrim",
            ),
            ("current_schema()", "current_schema"),
            ("CAST(c.oid AS VARCHAR)", "oid"),
            ("CAST(CAST(c.reloftype AS VARCHAR) AS VARCHAR)", "reloftype"),
            ("CAST('t' AS BOOLEAN)", "bool"),
            ("CAST(1 AS BIGINT)", "int8"),
            ("CAST(CAST(1 AS VARCHAR) AS \"UINTEGER\")", "oid"),
            (
                "pg_get_viewdef(CAST('21498' AS BIGINT), CAST('t' AS BOOLEAN))",
                "pg_get_viewdef",
            ),
            ("count_star()", "count"),
            ("duckgate_regclass_name(c.oid)", "oid"),
            ("CAST(duckgate_regtype_name(t.oid) AS VARCHAR)", "oid"),
            ("duckgate_regclass('big_orders')", "regclass"),
            ("\"Weird\".\"Name\"", "Name"),
            ("(_pg_expandarray(main.list_value(3, 4))).n", "n"),
            ("tags[1]", "tags"),
        ];
        for (duck, pg) in cases {
            assert_eq!(name(duck).as_deref(), Some(pg), "{duck}");
        }
    }

    #[test]
    fn constants_and_operators_are_unnamed() {
        for n in [
            "''",
            "1",
            "NULL",
            "$1",
            "(n.nspname = ANY(SELECT unnest(current_schemas(CAST('t' AS BOOLEAN)))))",
            "(a + 1)",
            "(a IS NULL)",
            "-1",
            "(NOT x)",
        ] {
            assert_eq!(name(n).as_deref(), Some("?column?"), "{n}");
        }
    }

    #[test]
    fn case_and_subqueries() {
        assert_eq!(
            name("CASE  WHEN ((pol.polroles = '{0}')) THEN (NULL) ELSE array_to_string(pol.polroles, ',') END")
                .as_deref(),
            Some("array_to_string")
        );
        assert_eq!(
            name("CASE  WHEN ((c.reloftype = 0)) THEN ('') ELSE CAST(CAST(c.reloftype AS VARCHAR) AS VARCHAR) END")
                .as_deref(),
            Some("reloftype")
        );
        assert_eq!(
            name("CASE WHEN (x > 1) THEN 'a' ELSE 'b' END").as_deref(),
            Some("case")
        );
        assert_eq!(
            name("(SELECT pg_get_expr(d.adbin, d.adrelid, CAST('t' AS BOOLEAN)) FROM pg_attrdef AS d WHERE (d.adrelid = a.attrelid))")
                .as_deref(),
            Some("pg_get_expr")
        );
        assert_eq!(
            name("(SELECT c.collname AS x FROM pg_collation AS c)").as_deref(),
            Some("x")
        );
        assert_eq!(name("EXISTS(SELECT 1 FROM t)").as_deref(), Some("exists"));
    }
}
