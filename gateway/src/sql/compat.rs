//! Rewrites of PostgreSQL-only constructs that clients send on their own, one rule per
//! construct, each naming the client that needs it. Rules work on tokens, so literals and
//! comments are never touched.

use std::borrow::Cow;

use super::lexer::{apply_edits, contains_ignore_case, statement_tokens, tokens, Tok, Token};

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

/// The rules about names ([`public_schema`], [`rewrite_catalog_qualified_system_schema`]): the
/// catalog layer applies them first, so that its own rules see `main.t` and
/// `information_schema.columns` whatever the client wrote.
pub fn names(sql: &str) -> Cow<'_, str> {
    match public_schema(sql) {
        Cow::Borrowed(_) => rewrite_catalog_qualified_system_schema(sql),
        Cow::Owned(s) => Cow::Owned(rewrite_catalog_qualified_system_schema(&s).into_owned()),
    }
}

/// Apply every rule.
pub fn rewrite(sql: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(sql);
    for rule in [
        public_schema,
        rewrite_bytea_hex,
        rewrite_version,
        rewrite_catalog_qualified_system_schema,
        rewrite_oid_casts,
    ] {
        if let Cow::Owned(s) = rule(&out) {
            out = Cow::Owned(s);
        }
    }
    out
}

/// `x::oid` / `x::pg_catalog.oid` → `x::UINTEGER`, and asyncpg's
/// `array_agg(ia.atttypid ORDER BY …)` → an array of UINTEGER. DuckDB aliases `oid` to BIGINT
/// (int8 on the wire); PostgreSQL's oid is an unsigned 32-bit integer, and UINTEGER travels as
/// `oid`. asyncpg's type introspection query binds `$1::oid[]` and reads `attrtypoids`: it has
/// built-in codecs for oid[] and text[] only, and asks the catalog about any other array type
/// with that same query (endlessly, for int8[]).
fn rewrite_oid_casts(sql: &str) -> Cow<'_, str> {
    if !contains_ignore_case(sql, "oid") && !contains_ignore_case(sql, "atttypid") {
        return Cow::Borrowed(sql);
    }
    let toks = tokens(sql);
    let text = |i: usize| toks.get(i).map(|t| &sql[t.start..t.end]).unwrap_or("");
    let mut edits: Vec<(usize, usize, &str)> = Vec::new();
    for i in 0..toks.len() {
        if text(i) == ":" && text(i + 1) == ":" {
            let mut k = i + 2;
            if text(k).eq_ignore_ascii_case("pg_catalog") && text(k + 1) == "." {
                k += 2;
            }
            if toks.get(k).is_some_and(|t| t.tok == Tok::Word)
                && text(k).eq_ignore_ascii_case("oid")
            {
                edits.push((toks[i + 2].start, toks[k].end, "UINTEGER"));
            }
        }
        if text(i).eq_ignore_ascii_case("array_agg")
            && text(i + 1) == "("
            && text(i + 2).eq_ignore_ascii_case("ia")
            && text(i + 3) == "."
            && text(i + 4).eq_ignore_ascii_case("atttypid")
            && text(i + 5).eq_ignore_ascii_case("ORDER")
        {
            edits.push((toks[i + 4].end, toks[i + 4].end, "::UINTEGER"));
        }
    }
    if edits.is_empty() {
        return Cow::Borrowed(sql);
    }
    Cow::Owned(apply_edits(sql, edits))
}

/// PostgreSQL's default schema `public` → DuckDB's `main`, wherever a statement names it as a
/// schema: `public.t`, `"public"."t"`, `db.public.t`, `public.t.col`, `CREATE SCHEMA [IF NOT
/// EXISTS] [db.]public` (dbt-postgres creates its target schema that way), and the sequence
/// name of `nextval('public.t_id_seq')` / `currval` / `setval` (what `pg_get_serial_sequence`
/// answers; SQLAlchemy and Django pass it back). pgJDBC's `DatabaseMetaData`, psql, SQLAlchemy
/// and dbt qualify relations with the schema the catalog reports, which the catalog layer
/// shows as `public` (`sql::catalog`). Literals and comments are left alone, and so is a
/// statement that uses `public` as an alias (`… AS public`, `FROM t public`), where `public.x`
/// is a column. Without a catalog the rule cannot tell a struct field named `public`
/// (`col.public.x`) from the schema (rare in client SQL). A DuckDB schema really named `public`
/// is not reachable by that name.
pub fn public_schema(sql: &str) -> Cow<'_, str> {
    if !contains_ignore_case(sql, "public") {
        return Cow::Borrowed(sql);
    }
    let toks = tokens(sql);
    let text = |i: usize| toks.get(i).map(|t| &sql[t.start..t.end]).unwrap_or("");
    let is_public = |i: usize| {
        toks.get(i).is_some_and(|t| t.tok == Tok::Word)
            && (text(i).eq_ignore_ascii_case("public") || text(i) == "\"public\"")
    };
    // `… AS public` / `FROM t public`: an alias, so `public.x` is its column. After these words
    // `public` is the schema or the role (`GRANT … TO PUBLIC`), not an alias.
    const NOT_ALIASED: &[&str] = &["schema", "exists", "to", "from", "on", "table", "into"];
    let alias = |i: usize| {
        is_public(i)
            && text(i + 1) != "."
            && toks[i - 1].tok == Tok::Word
            && !NOT_ALIASED
                .iter()
                .any(|w| text(i - 1).eq_ignore_ascii_case(w))
    };
    if (1..toks.len()).any(alias) {
        return Cow::Borrowed(sql);
    }
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for i in 0..toks.len() {
        if is_public(i) {
            let qualifies = text(i + 1) == "."
                && toks
                    .get(i + 2)
                    .is_some_and(|t| t.tok == Tok::Word || text(i + 2) == "*");
            // `SCHEMA [IF [NOT] EXISTS] [db.]public` (CREATE, DROP, ALTER, COMMENT ON)
            let mut k = i;
            if k >= 2 && text(k - 1) == "." && toks[k - 2].tok == Tok::Word {
                k -= 2;
            }
            if k >= 1 && text(k - 1).eq_ignore_ascii_case("exists") {
                k -= 1;
                if k >= 1 && text(k - 1).eq_ignore_ascii_case("not") {
                    k -= 1;
                }
                if k >= 1 && text(k - 1).eq_ignore_ascii_case("if") {
                    k -= 1;
                }
            }
            let names_schema = k >= 1 && text(k - 1).eq_ignore_ascii_case("schema");
            if qualifies || names_schema {
                let quoted = text(i).starts_with('"');
                let with = if quoted { "\"main\"" } else { "main" };
                edits.push((toks[i].start, toks[i].end, with.to_owned()));
            }
        }
        // nextval('public.seq'): the literal names a sequence (a regclass in PostgreSQL)
        if toks[i].tok == Tok::Word
            && ["nextval", "currval", "setval"]
                .iter()
                .any(|f| text(i).eq_ignore_ascii_case(f))
            && toks.get(i + 1).is_some_and(|t| t.tok == Tok::OpenParen)
            && toks
                .get(i + 2)
                .is_some_and(|t| t.tok == Tok::Literal && text(i + 2).starts_with('\''))
        {
            let lit = &toks[i + 2];
            let inner = &sql[lit.start + 1..lit.end - 1];
            for prefix in ["public.", "\"public\"."] {
                // `get`: the literal may have a multi-byte character at that offset
                if inner.len() > prefix.len()
                    && inner
                        .get(..prefix.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
                {
                    let quoted = prefix.starts_with('"');
                    if quoted && !inner.starts_with(prefix) {
                        continue;
                    }
                    let with = if quoted { "\"main\"" } else { "main" };
                    edits.push((
                        lit.start + 1,
                        lit.start + 1 + prefix.len() - 1,
                        with.to_owned(),
                    ));
                    break;
                }
            }
        }
    }
    if edits.is_empty() {
        return Cow::Borrowed(sql);
    }
    Cow::Owned(apply_edits(sql, edits))
}

/// `"db".information_schema.columns` / `db.pg_catalog.pg_class` → without the database.
/// dbt-postgres names every relation with its database (`"db".INFORMATION_SCHEMA.columns` in
/// `get_columns_in_relation`, which incremental models run); in DuckDB these schemas live in
/// the system catalog, not in the attached database, so the three-part name does not resolve.
/// A session sees one database, so the database part adds nothing.
pub fn rewrite_catalog_qualified_system_schema(sql: &str) -> Cow<'_, str> {
    if !contains_ignore_case(sql, "information_schema") && !contains_ignore_case(sql, "pg_catalog")
    {
        return Cow::Borrowed(sql);
    }
    let toks = tokens(sql);
    let dot = |i: usize| {
        toks.get(i)
            .is_some_and(|t| t.tok == Tok::Other && &sql[t.start..t.end] == ".")
    };
    let system = |i: usize| {
        toks.get(i).is_some_and(|t| {
            let w = sql[t.start..t.end].trim_matches('"');
            t.tok == Tok::Word
                && (w.eq_ignore_ascii_case("information_schema")
                    || w.eq_ignore_ascii_case("pg_catalog"))
        })
    };
    let mut out = String::new();
    let mut at = 0;
    for i in 0..toks.len() {
        let starts_name = i == 0 || !dot(i - 1);
        if toks[i].tok == Tok::Word
            && starts_name
            && dot(i + 1)
            && system(i + 2)
            && dot(i + 3)
            && toks.get(i + 4).is_some_and(|t| t.tok == Tok::Word)
        {
            out.push_str(&sql[at..toks[i].start]);
            at = toks[i + 2].start;
        }
    }
    if at == 0 {
        return Cow::Borrowed(sql);
    }
    out.push_str(&sql[at..]);
    Cow::Owned(out)
}

/// Where the parts of `CREATE [OR REPLACE] [TEMP | TEMPORARY | UNLOGGED] TABLE [IF NOT EXISTS]
/// name (` are among a statement's tokens; `None` for any other statement (CTAS included).
struct CreateTableHead {
    temp: bool,
    /// The tokens of the name's parts (`db`, `schema`, `table`), dots skipped.
    name: Vec<usize>,
    /// The column list's opening parenthesis.
    columns: usize,
}

fn create_table_head(sql: &str, toks: &[Token]) -> Option<CreateTableHead> {
    let text = |i: usize| toks.get(i).map(|t| &sql[t.start..t.end]).unwrap_or("");
    let kw = |i: usize, w: &str| text(i).eq_ignore_ascii_case(w);
    if !kw(0, "CREATE") {
        return None;
    }
    let mut i = 1;
    if kw(i, "OR") && kw(i + 1, "REPLACE") {
        i += 2;
    }
    let temp = kw(i, "TEMP") || kw(i, "TEMPORARY");
    if temp || kw(i, "UNLOGGED") {
        i += 1;
    }
    if !kw(i, "TABLE") {
        return None;
    }
    i += 1;
    if kw(i, "IF") && kw(i + 1, "NOT") && kw(i + 2, "EXISTS") {
        i += 3;
    }
    let mut name = vec![i];
    while text(i + 1) == "." {
        i += 2;
        name.push(i);
    }
    i += 1;
    if toks.get(i)?.tok != Tok::OpenParen {
        return None;
    }
    Some(CreateTableHead {
        temp,
        name,
        columns: i,
    })
}

/// `CREATE TABLE` with `SERIAL` / `BIGSERIAL` / `SMALLSERIAL` columns (SQLAlchemy's, Django's
/// and Rails' default for an integer primary key; DuckDB has no such types) → the statements
/// PostgreSQL runs for it: a sequence `<table>_<column>_seq` per column, then the table with
/// `INTEGER DEFAULT nextval('<sequence>')`. `None` when the statement has no serial column.
pub fn serial_table(sql: &str) -> Option<Vec<String>> {
    let toks = statement_tokens(sql);
    let text = |i: usize| toks.get(i).map(|t| &sql[t.start..t.end]).unwrap_or("");
    let head = create_table_head(sql, &toks)?;
    let temp = head.temp;
    let (name_start, last) = (head.name[0], head.name[head.name.len() - 1]);
    let qualifier = &sql[toks[name_start].start..toks[last].start];
    let table = super::cursor::identifier(text(last));
    let i = head.columns;
    // column definitions: the first token after '(' or a top-level ','
    let mut depth = 0usize;
    let mut at_column = true;
    let mut sequences = Vec::new();
    let mut out = String::new();
    let mut copied = 0;
    for j in i..toks.len() {
        match toks[j].tok {
            Tok::OpenParen => {
                depth += 1;
                if depth == 1 {
                    at_column = true;
                    continue;
                }
            }
            Tok::CloseParen => depth = depth.saturating_sub(1),
            Tok::Other if depth == 1 && text(j) == "," => {
                at_column = true;
                continue;
            }
            _ => {}
        }
        if depth == 1 && at_column && toks[j].tok == Tok::Word {
            at_column = false;
            let ty = match text(j + 1).to_ascii_uppercase().as_str() {
                "SERIAL" | "SERIAL4" => "INTEGER",
                "BIGSERIAL" | "SERIAL8" => "BIGINT",
                "SMALLSERIAL" | "SERIAL2" => "SMALLINT",
                _ => continue,
            };
            let column = super::cursor::identifier(text(j));
            let sequence = format!(
                "{qualifier}{}",
                super::quote_ident(&format!("{table}_{column}_seq"))
            );
            out.push_str(&sql[copied..toks[j + 1].start]);
            out.push_str(&format!(
                "{ty} DEFAULT nextval({})",
                super::quote_literal(&sequence)
            ));
            copied = toks[j + 1].end;
            sequences.push(format!(
                "CREATE {}SEQUENCE IF NOT EXISTS {sequence}",
                if temp { "TEMP " } else { "" }
            ));
        } else if depth == 1 && toks[j].tok != Tok::Word {
            at_column = false;
        }
    }
    if sequences.is_empty() {
        return None;
    }
    out.push_str(&sql[copied..]);
    sequences.push(out.trim_end().trim_end_matches(';').to_owned());
    Some(sequences)
}

/// A declared length a `CREATE TABLE` column keeps as a CHECK constraint (see [`declared_lengths`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthKind {
    /// `varchar(n)`, `character varying(n)`: PostgreSQL's `varchar`.
    Varchar,
    /// `char(n)`, `character(n)`, `bpchar(n)`: PostgreSQL's blank-padded `bpchar`.
    Bpchar,
}

/// PostgreSQL's largest `varchar(n)` / `char(n)` length.
pub const MAX_DECLARED_LENGTH: u32 = 10_485_760;

/// The CHECK that stands for a declared length: `len(col) <= n` for `varchar(n)`,
/// `len(rtrim(col)) <= n` for `char(n)` (PostgreSQL drops the blanks beyond `n` of a
/// `char(n)` value). The catalog recognizes exactly these shapes as DuckDB prints them back
/// (`catalog::LENGTH_CHECK_PATTERN`) and reports the column as `varchar(n)` / `bpchar(n)` with
/// PostgreSQL's typmod `n + 4`; a violation answers 22001 (`engine::error`).
pub fn length_check(column: &str, kind: LengthKind, n: u32) -> String {
    match kind {
        LengthKind::Varchar => format!("CHECK (len({column}) <= {n})"),
        LengthKind::Bpchar => format!("CHECK (len(rtrim({column})) <= {n})"),
    }
}

/// A `CREATE TABLE` whose columns declare a `varchar(n)` / `char(n)` length (SQLAlchemy's
/// `String(50)`, Django's `CharField(max_length=…)`, dbt seeds, hand-written DDL): DuckDB accepts
/// the length and forgets it, so the statement gets one [`length_check`] per such column, which
/// DuckDB stores with the table (every session, every gateway on the same database, and a
/// restart see it) and enforces on INSERT, UPDATE and COPY. Answers the table name's parts (so
/// the session can check that its catalog stores CHECK constraints: DuckLake's do not) and the
/// rewritten statement; `None` when no column declares a length. Arrays of such types keep
/// DuckDB's behaviour (no length).
pub fn declared_lengths(sql: &str) -> Option<DeclaredLengths> {
    if !contains_ignore_case(sql, "char") {
        return None;
    }
    let toks = statement_tokens(sql);
    let text = |i: usize| toks.get(i).map(|t| &sql[t.start..t.end]).unwrap_or("");
    let kw = |i: usize, w: &str| text(i).eq_ignore_ascii_case(w);
    let head = create_table_head(sql, &toks)?;
    let temp = head.temp;
    let parts: Vec<String> = head
        .name
        .iter()
        .map(|&n| super::cursor::identifier(text(n)))
        .collect();
    let i = head.columns;
    let mut depth = 0usize;
    let mut at_element = true;
    let mut checks = Vec::new();
    let mut close = None;
    let mut j = i;
    while j < toks.len() {
        match toks[j].tok {
            Tok::OpenParen => {
                depth += 1;
                if depth == 1 {
                    at_element = true;
                    j += 1;
                    continue;
                }
            }
            Tok::CloseParen => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    close = Some(j);
                    break;
                }
            }
            Tok::Other if depth == 1 && text(j) == "," => {
                at_element = true;
                j += 1;
                continue;
            }
            _ => {}
        }
        if depth == 1 && at_element {
            at_element = false;
            let table_constraint = [
                "CONSTRAINT",
                "PRIMARY",
                "UNIQUE",
                "CHECK",
                "FOREIGN",
                "EXCLUDE",
                "LIKE",
            ]
            .iter()
            .any(|w| kw(j, w));
            if toks[j].tok == Tok::Word && !table_constraint {
                if let Some((kind, n)) = declared_length(&toks[j + 1..], sql) {
                    checks.push(length_check(text(j), kind, n));
                }
            }
        }
        j += 1;
    }
    let close = close?;
    if checks.is_empty() || parts.iter().any(String::is_empty) || parts.len() > 3 {
        return None;
    }
    let at = toks[close].start;
    let rewritten = format!("{}, {}{}", &sql[..at], checks.join(", "), &sql[at..]);
    Some(DeclaredLengths {
        parts,
        temp,
        sql: rewritten.trim_end().trim_end_matches(';').to_owned(),
    })
}

/// A `CREATE TABLE` with its declared lengths as CHECK constraints ([`declared_lengths`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredLengths {
    /// The table name's parts, unquoted.
    pub parts: Vec<String>,
    /// `CREATE TEMP TABLE`: the table lands in DuckDB's own `temp` catalog.
    pub temp: bool,
    /// The statement with the CHECK constraints.
    pub sql: String,
}

/// The declared length a CHECK expression stands for, when it has exactly the shape of
/// [`length_check`] as DuckDB prints it back: `(len(<column>) <= n)` or
/// `(len(rtrim(<column>)) <= n)`.
pub fn parse_length_check(expression: &str) -> Option<(LengthKind, u32)> {
    let inner = expression.strip_prefix("(len(")?.strip_suffix(')')?;
    let (call, n) = inner.rsplit_once(") <= ")?;
    if call.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = n.parse().ok()?;
    let (kind, column) = match call
        .strip_prefix("rtrim(")
        .and_then(|c| c.strip_suffix(')'))
    {
        Some(c) => (LengthKind::Bpchar, c),
        None => (LengthKind::Varchar, call),
    };
    (is_printed_identifier(column) && (1..=MAX_DECLARED_LENGTH).contains(&n)).then_some((kind, n))
}

/// A column name as DuckDB prints it in an expression: bare, or double-quoted with inner quotes
/// doubled.
fn is_printed_identifier(s: &str) -> bool {
    match s.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
        Some(inner) => !inner.is_empty() && !inner.replace("\"\"", "").contains('"'),
        None => {
            !s.is_empty()
                && !s.starts_with(|c: char| c.is_ascii_digit())
                && s.chars().all(|c| c == '_' || c.is_alphanumeric())
        }
    }
}

/// PostgreSQL's name of a declared length's type, as its 22001 message says it.
pub fn length_type_name(kind: LengthKind, n: u32) -> String {
    match kind {
        LengthKind::Varchar => format!("character varying({n})"),
        LengthKind::Bpchar => format!("character({n})"),
    }
}

/// The length a column's type declares (`toks` start at the type): `[pg_catalog.]varchar(n)`,
/// `character varying(n)`, `char varying(n)`, `char(n)`, `character(n)`, `bpchar(n)`, not
/// followed by an array bound.
fn declared_length(toks: &[Token], sql: &str) -> Option<(LengthKind, u32)> {
    let text = |i: usize| toks.get(i).map(|t| &sql[t.start..t.end]).unwrap_or("");
    let kw = |i: usize, w: &str| text(i).eq_ignore_ascii_case(w);
    let mut i = 0;
    if kw(0, "pg_catalog") && text(1) == "." {
        i = 2;
    }
    let kind = if kw(i, "varchar") {
        i += 1;
        LengthKind::Varchar
    } else if (kw(i, "character") || kw(i, "char")) && kw(i + 1, "varying") {
        i += 2;
        LengthKind::Varchar
    } else if kw(i, "character") || kw(i, "char") || kw(i, "bpchar") {
        i += 1;
        LengthKind::Bpchar
    } else {
        return None;
    };
    if toks.get(i)?.tok != Tok::OpenParen || toks.get(i + 2)?.tok != Tok::CloseParen {
        return None;
    }
    let n: u32 = text(i + 1).parse().ok()?;
    let array = text(i + 3) == "[" || kw(i + 3, "ARRAY");
    ((1..=MAX_DECLARED_LENGTH).contains(&n) && !array).then_some((kind, n))
}

/// `ALTER TABLE name RENAME TO other`: the name's parts (database, schema, relation; one to
/// three of them, unquoted as PostgreSQL folds them). PostgreSQL renames a view this way (dbt
/// swaps every model, views included, with `alter table … rename to …`); DuckDB wants ALTER
/// VIEW for a view, so the session checks what the name is.
pub fn alter_table_rename(sql: &str) -> Option<Vec<String>> {
    let toks = statement_tokens(sql);
    let text = |i: usize| toks.get(i).map(|t| &sql[t.start..t.end]).unwrap_or("");
    let kw = |i: usize, w: &str| text(i).eq_ignore_ascii_case(w);
    if !(kw(0, "ALTER") && kw(1, "TABLE")) {
        return None;
    }
    let mut i = 2;
    if kw(i, "IF") && kw(i + 1, "EXISTS") {
        i += 2;
    }
    let mut parts = vec![super::cursor::identifier(text(i))];
    while text(i + 1) == "." {
        i += 2;
        parts.push(super::cursor::identifier(text(i)));
    }
    let renames = kw(i + 1, "RENAME") && kw(i + 2, "TO") && toks.len() == i + 4;
    (renames && parts.len() <= 3 && !parts.iter().any(String::is_empty)).then_some(parts)
}

/// The same statement with `TABLE` replaced by `VIEW`.
pub fn alter_table_as_view(sql: &str) -> String {
    let toks = tokens(sql);
    match toks.get(1) {
        Some(t) => format!("{}VIEW{}", &sql[..t.start], &sql[t.end..]),
        None => sql.to_owned(),
    }
}

/// `'\x0200ff'::bytea` (PostgreSQL's hex bytea input) → `'\x02\x00\xff'::bytea`.
/// psycopg2 inlines every `bytes` parameter in that form; DuckDB reads `\x` as a one-byte escape
/// and would store `\x02` followed by the characters `00ff`. Only a plain literal of `\x` and
/// whole hex bytes, cast with `::bytea`, is rewritten (PostgreSQL rejects any other `\x` text).
fn rewrite_bytea_hex(sql: &str) -> Cow<'_, str> {
    if !sql.contains("\\x") {
        return Cow::Borrowed(sql);
    }
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
    if !contains_ignore_case(sql, "version") {
        return Cow::Borrowed(sql);
    }
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
        // a select-list item keeps PostgreSQL's column name
        let prev = toks[..i - if qualified { 2 } else { 0 }].last();
        let next = toks.get(i + 3);
        let item_start = prev.is_some_and(|t| {
            let s = &sql[t.start..t.end];
            s.eq_ignore_ascii_case("select") || s == ","
        });
        let item_end = next.is_none_or(|t| {
            let s = &sql[t.start..t.end];
            t.tok == Tok::Semicolon || s == "," || s.eq_ignore_ascii_case("from")
        });
        if item_start && item_end {
            out.push_str(" AS version");
        }
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
            format!("select '{v}' AS version")
        );
        assert_eq!(
            rewrite("SELECT VERSION ( ), 1"),
            format!("SELECT '{v}' AS version, 1")
        );
        assert_eq!(
            rewrite("SELECT version() AS v WHERE version() LIKE 'P%'"),
            format!("SELECT '{v}' AS v WHERE '{v}' LIKE 'P%'")
        );
        assert_eq!(rewrite("select 'version()'"), "select 'version()'");
        assert_eq!(rewrite("select other.version()"), "select other.version()");
        assert_eq!(rewrite("select version from t"), "select version from t");
    }

    #[test]
    fn public_schema_is_duckdbs_main() {
        let cases = [
            ("SELECT * FROM public.t", "SELECT * FROM main.t"),
            (
                r#"SELECT "public"."t".a FROM "public"."t""#,
                r#"SELECT "main"."t".a FROM "main"."t""#,
            ),
            (
                "insert into db.PUBLIC.t select * from public.u, Public.v.w",
                "insert into db.main.t select * from main.u, main.v.w",
            ),
            (
                "CREATE TABLE public.t (a INT)",
                "CREATE TABLE main.t (a INT)",
            ),
            (
                "DROP TABLE IF EXISTS public.t",
                "DROP TABLE IF EXISTS main.t",
            ),
            (
                r#"create schema if not exists "db"."public""#,
                r#"create schema if not exists "db"."main""#,
            ),
            ("CREATE SCHEMA public", "CREATE SCHEMA main"),
            ("SELECT public.* FROM public.t", "SELECT main.* FROM main.t"),
            (
                "GRANT SELECT ON public.t TO PUBLIC",
                "GRANT SELECT ON main.t TO PUBLIC",
            ),
            (
                "DROP SCHEMA IF EXISTS public CASCADE",
                "DROP SCHEMA IF EXISTS main CASCADE",
            ),
            (
                "SELECT nextval('public.t_id_seq'), currval('\"public\".s'), setval('PUBLIC.s', 3)",
                "SELECT nextval('main.t_id_seq'), currval('\"main\".s'), setval('main.s', 3)",
            ),
        ];
        for (sql, want) in cases {
            assert_eq!(rewrite(sql), want, "{sql}");
        }
        for sql in [
            // literals, comments, other names
            "SELECT 'public.t', \"Public\".t /* public.t */ -- public.t",
            "SELECT * FROM t WHERE nspname = 'public'",
            "SELECT t.public, public FROM t",
            "SELECT x.public FROM publication.t",
            "SET search_path = public",
            "GRANT SELECT ON t TO PUBLIC",
            "SELECT nextval('public')",
            "SELECT nextval('s'), lower('public.t')",
            "SELECT nextval('públic.s'), nextval('éééé.s'), currval('\"publiç\".s')",
            // an alias named public: public.x is its column
            "SELECT public.x FROM t AS public",
            "SELECT public.x FROM t public WHERE public.y = 1",
            "SELECT p.x FROM t p JOIN u public ON public.id = p.id",
        ] {
            assert_eq!(rewrite(sql), sql);
        }
    }

    #[test]
    fn system_schemas_lose_their_database_qualifier() {
        assert_eq!(
            rewrite(
                r#"select column_name from "analytics".INFORMATION_SCHEMA.columns where table_schema = 'main'"#
            ),
            "select column_name from INFORMATION_SCHEMA.columns where table_schema = 'main'"
        );
        assert_eq!(
            rewrite("SELECT * FROM db.pg_catalog.pg_class c, x.\"information_schema\".tables"),
            "SELECT * FROM pg_catalog.pg_class c, \"information_schema\".tables"
        );
        for sql in [
            "SELECT * FROM information_schema.columns",
            "SELECT * FROM main.information_schema",
            "SELECT 'db.information_schema.columns'",
            "SELECT a.b.information_schema.c",
        ] {
            assert_eq!(rewrite(sql), sql);
        }
    }

    #[test]
    fn oid_casts_are_unsigned_32_bit() {
        assert_eq!(
            rewrite("SELECT t.oid = any($1::oid[]), 'x'::pg_catalog.oid, oid FROM pg_type t"),
            "SELECT t.oid = any($1::UINTEGER[]), 'x'::UINTEGER, oid FROM pg_type t"
        );
        assert_eq!(
            rewrite("SELECT array_agg(ia.atttypid ORDER BY ia.attnum) FROM pg_attribute ia"),
            "SELECT array_agg(ia.atttypid::UINTEGER ORDER BY ia.attnum) FROM pg_attribute ia"
        );
        assert_eq!(rewrite("SELECT '::oid'"), "SELECT '::oid'");
    }

    #[test]
    fn declared_lengths_become_check_constraints() {
        let DeclaredLengths { parts, temp, sql } = declared_lengths(
            "CREATE TABLE IF NOT EXISTS s.\"Users\" (\n  id SERIAL PRIMARY KEY,\n  name VARCHAR(50) NOT NULL,\n  \
             code pg_catalog.bpchar(3), \"Nick\" character varying (20) DEFAULT 'x', c CHAR(2), \
             w char varying(7), t TEXT, arr varchar(4)[], big varchar(10485761), d DECIMAL(10, 2),\n  \
             CONSTRAINT k UNIQUE (name), CHECK (id > 0)\n);\n",
        )
        .unwrap();
        assert_eq!(parts, ["s", "Users"]);
        assert!(!temp);
        assert!(
            declared_lengths("create temporary table x (a varchar(1))")
                .unwrap()
                .temp
        );
        assert_eq!(
            sql,
            "CREATE TABLE IF NOT EXISTS s.\"Users\" (\n  id SERIAL PRIMARY KEY,\n  name VARCHAR(50) NOT NULL,\n  \
             code pg_catalog.bpchar(3), \"Nick\" character varying (20) DEFAULT 'x', c CHAR(2), \
             w char varying(7), t TEXT, arr varchar(4)[], big varchar(10485761), d DECIMAL(10, 2),\n  \
             CONSTRAINT k UNIQUE (name), CHECK (id > 0)\n, CHECK (len(name) <= 50), \
             CHECK (len(rtrim(code)) <= 3), CHECK (len(\"Nick\") <= 20), CHECK (len(rtrim(c)) <= 2), \
             CHECK (len(w) <= 7))"
        );
        // the serial rule still sees the columns
        assert_eq!(serial_table(&sql).unwrap().len(), 2);
        for sql in [
            "CREATE TABLE t (a TEXT, b VARCHAR, c CHAR)",
            "CREATE TABLE t AS SELECT 'x'::varchar(3) AS a",
            "CREATE TABLE t (a varchar(0))",
            "CREATE TABLE t (a varchar(3)[])",
            "CREATE VIEW v AS SELECT CAST(a AS varchar(3)) FROM t",
            "ALTER TABLE t ADD COLUMN a varchar(3)",
            "CREATE TABLE t (a TEXT DEFAULT CAST('x' AS varchar(3)))",
            "SELECT 'CREATE TABLE t (a varchar(3))'",
        ] {
            assert_eq!(declared_lengths(sql), None, "{sql}");
        }
    }

    #[test]
    fn length_checks_are_read_back_as_duckdb_prints_them() {
        use LengthKind::*;
        assert_eq!(parse_length_check("(len(a) <= 5)"), Some((Varchar, 5)));
        assert_eq!(
            parse_length_check("(len(\"name\") <= 100)"),
            Some((Varchar, 100))
        );
        assert_eq!(
            parse_length_check("(len(\"a\"\"b c\") <= 1)"),
            Some((Varchar, 1))
        );
        assert_eq!(
            parse_length_check("(len(rtrim(code)) <= 3)"),
            Some((Bpchar, 3))
        );
        assert_eq!(parse_length_check("(len(Odd) <= 10)"), Some((Varchar, 10)));
        for other in [
            "(len(a) < 5)",
            "(len(a) <= 0)",
            "(len(a) <= 5) AND (a <> '')",
            "(len((a || b)) <= 5)",
            "(length(a) <= 5)",
            "(len(rtrim(a, 'x')) <= 5)",
            "(len(a) <= -5)",
            "(len(\"a\"b\") <= 5)",
            "(c > 0)",
        ] {
            assert_eq!(parse_length_check(other), None, "{other}");
        }
        assert_eq!(length_type_name(Varchar, 5), "character varying(5)");
        assert_eq!(length_type_name(Bpchar, 3), "character(3)");
    }

    #[test]
    fn serial_columns_become_sequences() {
        assert_eq!(
            serial_table(
                "CREATE TABLE users (\n\tid SERIAL NOT NULL, \n\tname VARCHAR(50), big bigserial, \n\tPRIMARY KEY (id)\n)\n\n"
            ),
            Some(vec![
                "CREATE SEQUENCE IF NOT EXISTS \"users_id_seq\"".to_owned(),
                "CREATE SEQUENCE IF NOT EXISTS \"users_big_seq\"".to_owned(),
                "CREATE TABLE users (\n\tid INTEGER DEFAULT nextval('\"users_id_seq\"') NOT NULL, \n\tname VARCHAR(50), big BIGINT DEFAULT nextval('\"users_big_seq\"'), \n\tPRIMARY KEY (id)\n)".to_owned(),
            ])
        );
        assert_eq!(
            serial_table("create temp table if not exists s.\"T\" (\"Id\" smallserial primary key);"),
            Some(vec![
                "CREATE TEMP SEQUENCE IF NOT EXISTS s.\"T_Id_seq\"".to_owned(),
                "create temp table if not exists s.\"T\" (\"Id\" SMALLINT DEFAULT nextval('s.\"T_Id_seq\"') primary key)".to_owned(),
            ])
        );
        for sql in [
            "CREATE TABLE t (id INTEGER, serial_no TEXT)",
            "CREATE TABLE t (serial INTEGER)",
            "CREATE TABLE t AS SELECT 1 AS serial",
            "CREATE VIEW v AS SELECT 1",
            "SELECT 'id SERIAL'",
        ] {
            assert_eq!(serial_table(sql), None, "{sql}");
        }
    }

    #[test]
    fn alter_table_rename_is_recognised() {
        assert_eq!(
            alter_table_rename(r#"alter table "db"."main"."v__dbt_backup" rename to "v""#),
            Some(vec!["db".into(), "main".into(), "v__dbt_backup".into()])
        );
        assert_eq!(
            alter_table_rename("ALTER TABLE IF EXISTS V RENAME TO w;"),
            Some(vec!["v".into()])
        );
        assert_eq!(
            alter_table_rename("ALTER TABLE v RENAME COLUMN a TO b"),
            None
        );
        assert_eq!(alter_table_rename("ALTER TABLE v ADD COLUMN a INT"), None);
        assert_eq!(
            alter_table_as_view("alter table x rename to y"),
            "alter VIEW x rename to y"
        );
    }

    #[test]
    fn hex_bytea_literals_become_duckdb_escapes() {
        assert_eq!(
            rewrite(r"INSERT INTO t VALUES ('\x0200ff'::bytea, '\x'::BYTEA)"),
            r"INSERT INTO t VALUES ('\x02\x00\xff'::bytea, ''::BYTEA)"
        );
        assert_eq!(
            rewrite(r"SELECT '\x41'::bytea, version()"),
            format!(r"SELECT '\x41'::bytea, '{}' AS version", version_string())
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
