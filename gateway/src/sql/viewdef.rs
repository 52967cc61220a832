//! `pg_get_viewdef()`: a view's SELECT as PostgreSQL 15 deparses it, from DuckDB's parse tree of
//! the view's query (`json_serialize_sql`) and the column types of the view's database.
//!
//! psql `\d+ view` prints the pretty form (`pg_get_viewdef(oid, true)`), SQLAlchemy's
//! `get_view_definition` reads the plain one (`pg_get_viewdef(oid)`). PostgreSQL prints its own
//! analyzed query tree, not the text the view was created with, so the layout here follows
//! PostgreSQL's rules: ` SELECT` and one select item per line, `   FROM`, joins on lines of their
//! own, `  WHERE`, `  GROUP BY`, ` HAVING`, `  ORDER BY`, ` OFFSET`, ` LIMIT`, a final `;`;
//! every column qualified with its table's alias or name (PostgreSQL 15's view trees always hold
//! several range-table entries); the casts the analyzer adds shown (`o.amount > 100::numeric`);
//! in the plain form every operator, join and ON clause parenthesized.
//!
//! What the analyzer adds depends on types (which operator `=` resolves to, which side gets a
//! cast), so the deparser types expressions itself, from the catalog's column types and a small
//! table of PostgreSQL's operator and function resolution. Handled: column references, stars,
//! constants, casts, comparison / arithmetic / `||` / LIKE operators, AND / OR / NOT, IS [NOT]
//! NULL, IN lists, BETWEEN, searched CASE, COALESCE, count / sum / avg / min / max (DISTINCT,
//! FILTER), lower / upper / length / abs; joins of every kind with ON or USING, comma lists,
//! derived tables, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT / OFFSET, DISTINCT, chains of one
//! set operation. Anything else (subquery expressions, CTEs, window functions, functions it has
//! no signature for, constants whose PostgreSQL spelling it cannot derive such as timestamps,
//! enums, float4 arithmetic, mixed set operations, tables outside the view's own database such
//! as a temporary view's, …) answers `None`, and the caller falls back to DuckDB's SQL text: an
//! answer is PostgreSQL's or DuckDB's, never a guess.
//!
//! Known differences: DuckDB's parser folds `NOT (a = b)` to `a <> b` and `CASE x WHEN 1` to
//! `CASE WHEN x = 1`, so those print PostgreSQL's way of the folded form; an unnamed expression's
//! column is DuckDB's (`count(*) AS "count_star()"`, as the gateway's catalog names it) where
//! PostgreSQL would have named it `count`.

use std::collections::HashMap;

use super::quote_literal;
use serde_json::Value;

/// PostgreSQL types the deparser reasons about.
#[derive(Clone, Debug, PartialEq)]
enum Ty {
    Int2,
    Int4,
    Int8,
    Numeric,
    Float4,
    Float8,
    Text,
    Varchar,
    Bpchar,
    Bool,
    /// Any other type, by its `format_type` name (compared, never coerced to).
    Other(String),
}

impl Ty {
    fn name(&self) -> &str {
        match self {
            Ty::Int2 => "smallint",
            Ty::Int4 => "integer",
            Ty::Int8 => "bigint",
            Ty::Numeric => "numeric",
            Ty::Float4 => "real",
            Ty::Float8 => "double precision",
            Ty::Text => "text",
            Ty::Varchar => "character varying",
            Ty::Bpchar => "bpchar",
            Ty::Bool => "boolean",
            Ty::Other(n) => n,
        }
    }

    /// Rank in PostgreSQL's numeric category (int2 < int4 < int8 < numeric < float8), for
    /// common types and cross-type operators; float4 is left out on purpose (its resolution
    /// against integers is not a simple widening).
    fn numeric_rank(&self) -> Option<u8> {
        match self {
            Ty::Int2 => Some(0),
            Ty::Int4 => Some(1),
            Ty::Int8 => Some(2),
            Ty::Numeric => Some(3),
            Ty::Float8 => Some(4),
            _ => None,
        }
    }

    fn is_int(&self) -> bool {
        matches!(self, Ty::Int2 | Ty::Int4 | Ty::Int8)
    }

    /// The type of a DuckDB catalog column (`duckdb_columns().data_type`); `len_type` is the
    /// PostgreSQL type OID the gateway recorded for a declared `varchar(n)` / `char(n)`.
    fn from_duckdb(data_type: &str, len_type: &str) -> Ty {
        let upper = data_type.to_ascii_uppercase();
        match upper.as_str() {
            "SMALLINT" => Ty::Int2,
            "INTEGER" => Ty::Int4,
            "BIGINT" => Ty::Int8,
            "REAL" | "FLOAT" => Ty::Float4,
            "DOUBLE" => Ty::Float8,
            "BOOLEAN" => Ty::Bool,
            "VARCHAR" => match len_type {
                "1043" => Ty::Varchar,
                "1042" => Ty::Bpchar,
                _ => Ty::Text,
            },
            "DATE" => Ty::Other("date".into()),
            "TIMESTAMP" => Ty::Other("timestamp without time zone".into()),
            "TIMESTAMP WITH TIME ZONE" => Ty::Other("timestamp with time zone".into()),
            "UUID" => Ty::Other("uuid".into()),
            "BLOB" => Ty::Other("bytea".into()),
            "INTERVAL" => Ty::Other("interval".into()),
            "TIME" => Ty::Other("time without time zone".into()),
            _ if upper.starts_with("DECIMAL(") => Ty::Numeric,
            // DuckDB's own name: comparable with itself only
            _ => Ty::Other(format!("duckdb {upper}")),
        }
    }

    /// The PostgreSQL type of a cast's target (`cast_type` of DuckDB's parse tree) and the
    /// spelling PostgreSQL prints for it (with its type modifier).
    fn from_cast(t: &Value) -> Option<(Ty, String)> {
        let id = t.get("id")?.as_str()?;
        let ty = match id {
            "SMALLINT" => Ty::Int2,
            "INTEGER" => Ty::Int4,
            "BIGINT" => Ty::Int8,
            "FLOAT" => Ty::Float4,
            "DOUBLE" => Ty::Float8,
            "BOOLEAN" => Ty::Bool,
            // `::text` and `::varchar` both parse to VARCHAR (without its length): text
            "VARCHAR" => Ty::Text,
            "DATE" => Ty::Other("date".into()),
            "DECIMAL" => {
                let info = t.get("type_info");
                let width = info.and_then(|i| i.get("width")).and_then(Value::as_u64);
                let scale = info.and_then(|i| i.get("scale")).and_then(Value::as_u64);
                return Some(match (width, scale) {
                    (Some(w), Some(s)) if w > 0 => (Ty::Numeric, format!("numeric({w},{s})")),
                    _ => (Ty::Numeric, "numeric".into()),
                });
            }
            _ => return None,
        };
        if t.get("type_info").is_some_and(|i| !i.is_null()) && id != "VARCHAR" {
            return None;
        }
        let name = ty.name().to_string();
        Some((ty, name))
    }
}

/// What a deparsed expression is, for PostgreSQL's pretty-mode parenthesization
/// (`isSimpleNode`) and for the select list's `AS`.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// A column reference (its column name).
    Var(String),
    Const,
    /// A cast: printed with its own delimiters.
    Func,
    /// COALESCE or CASE: printed with its own delimiters.
    Own,
    /// A function call or aggregate.
    Call,
    /// A binary or prefix operator (its symbol).
    Op(String),
    /// `x op ANY/ALL (ARRAY[…])`.
    ArrayOp,
    NullTest,
    And,
    Or,
    Not,
}

/// A deparsed expression: its text (self-parenthesized in the plain form), its type when known,
/// its kind, and for an untyped string literal its value (typed by its context).
#[derive(Clone, Debug)]
struct Expr {
    text: String,
    ty: Option<Ty>,
    kind: Kind,
    unknown: Option<String>,
}

impl Expr {
    fn new(text: String, ty: Option<Ty>, kind: Kind) -> Self {
        Expr {
            text,
            ty,
            kind,
            unknown: None,
        }
    }
}

/// One relation of the FROM clause: its reference name and columns.
struct Rel {
    refname: String,
    columns: Vec<(String, Ty)>,
}

/// A USING join's merged column: unqualified references resolve to this relation.
struct Merged {
    column: String,
    rel: usize,
    /// The relations of the join: the column anywhere else makes a reference ambiguous.
    join: std::ops::Range<usize>,
}

struct Deparser<'a> {
    pretty: bool,
    catalog: &'a Catalog,
    view_schema: &'a str,
    rels: Vec<Rel>,
    merged: Vec<Merged>,
    /// The reference names of every SELECT deparsed so far.
    used: Vec<String>,
    /// The reference names inside the current SELECT's derived tables: PostgreSQL renames
    /// one equal to an outer name (`orders_1`), not handled.
    inner: Vec<String>,
}

/// A catalog relation: its schema and name as spelled, its columns and their types.
type Relation = (String, String, Vec<(String, Ty)>);

/// Column names and types of the relations of one database, by (schema, name) in lower case.
struct Catalog {
    relations: HashMap<(String, String), Relation>,
}

impl Catalog {
    /// Lines `schema \t relation \t column \t data_type \t length type oid`, columns in order.
    fn parse(text: &str) -> Catalog {
        let mut relations: HashMap<(String, String), Relation> = HashMap::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 4 {
                continue;
            }
            let ty = Ty::from_duckdb(f[3], f.get(4).copied().unwrap_or(""));
            relations
                .entry((f[0].to_lowercase(), f[1].to_lowercase()))
                .or_insert_with(|| (f[0].to_string(), f[1].to_string(), Vec::new()))
                .2
                .push((f[2].to_string(), ty));
        }
        Catalog { relations }
    }

    fn get(&self, schema: &str, name: &str) -> Option<&Relation> {
        self.relations
            .get(&(schema.to_lowercase(), name.to_lowercase()))
    }
}

/// PostgreSQL 15's keywords that are not unreserved: `quote_ident` quotes them.
const QUOTED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// An identifier as PostgreSQL's `quote_ident` prints it: bare when it can be.
fn quote_ident(name: &str) -> String {
    let safe = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !QUOTED_KEYWORDS.contains(&name);
    if safe {
        name.to_string()
    } else {
        super::quote_ident(name)
    }
}

/// The PostgreSQL 15 definition of a view (`pretty` as `pg_get_viewdef`'s second argument):
/// `select_json` is `json_serialize_sql` of the view's SELECT, `catalog` the columns of the
/// view's database (see [`Catalog::parse`]), the view itself included for its column names.
/// `None` when the query uses something the deparser does not handle.
pub fn deparse_view(
    select_json: &str,
    pretty: bool,
    catalog: &str,
    view_schema: &str,
    view_name: &str,
) -> Option<String> {
    let parsed: Value = serde_json::from_str(select_json).ok()?;
    if parsed.get("error").and_then(Value::as_bool) != Some(false) {
        return None;
    }
    let statements = parsed.get("statements")?.as_array()?;
    if statements.len() != 1 {
        return None;
    }
    let catalog = Catalog::parse(catalog);
    let view_columns: Vec<String> = catalog
        .get(view_schema, view_name)?
        .2
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    let mut d = Deparser {
        pretty,
        catalog: &catalog,
        view_schema,
        rels: Vec::new(),
        merged: Vec::new(),
        used: Vec::new(),
        inner: Vec::new(),
    };
    let (body, _) = d.query(statements[0].get("node")?, Some(&view_columns))?;
    Some(format!("{};", trim_before_newlines(&body)))
}

/// The SELECTs of a chain of one set operation (same kind, same ALL), in order.
fn collect_leaves<'v>(node: &'v Value, out: &mut Vec<&'v Value>) -> Option<()> {
    let children: Vec<&Value> = match (node.get("left"), node.get("right")) {
        (Some(l), Some(r)) => vec![l, r],
        _ => list(node, "children").iter().collect(),
    };
    if children.len() < 2 {
        return None;
    }
    for child in children {
        if str_field(child, "type") != "SET_OPERATION_NODE" {
            out.push(child);
            continue;
        }
        let same = str_field(child, "setop_type") == str_field(node, "setop_type")
            && child.get("setop_all") == node.get("setop_all")
            && list(child, "modifiers").is_empty();
        if !same {
            return None;
        }
        collect_leaves(child, out)?;
    }
    Some(())
}

/// PostgreSQL removes the spaces before each line break it starts (`appendContextKeyword`):
/// `  WHERE` before a CASE on its own line. Quoted literals and identifiers keep theirs.
fn trim_before_newlines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    for ch in text.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '\'' || ch == '"' => quote = Some(ch),
            None if ch == '\n' => {
                let kept = out.trim_end_matches(' ').len();
                out.truncate(kept);
            }
            None => {}
        }
        out.push(ch);
    }
    out
}

fn str_field<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A JSON array field, empty when absent or null.
fn list<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn present(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(|x| !x.is_null())
}

impl Deparser<'_> {
    /// A query: a SELECT, or UNION / INTERSECT / EXCEPT of them. `names` are the view's column
    /// names (the leftmost SELECT's output); the other SELECTs show their own.
    fn query(
        &mut self,
        node: &Value,
        names: Option<&[String]>,
    ) -> Option<(String, Vec<(String, Ty)>)> {
        if str_field(node, "type") != "SET_OPERATION_NODE" {
            // each SELECT has its own FROM scope
            let saved = (
                std::mem::take(&mut self.rels),
                std::mem::take(&mut self.merged),
                std::mem::take(&mut self.inner),
            );
            let answer = self.select(node, names);
            let refnames = self.rels.iter().map(|r| r.refname.clone());
            self.used.extend(refnames.collect::<Vec<_>>());
            (self.rels, self.merged, self.inner) = saved;
            return answer;
        }
        if !list(node, "modifiers").is_empty()
            || !list(node.get("cte_map").unwrap_or(&Value::Null), "map").is_empty()
        {
            return None;
        }
        let word = match str_field(node, "setop_type") {
            "UNION" => "UNION",
            "INTERSECT" => "INTERSECT",
            "EXCEPT" => "EXCEPT",
            _ => return None,
        };
        // in a derived table PostgreSQL has no view column names to pass down: not handled
        names?;
        let all = node.get("setop_all").and_then(Value::as_bool) == Some(true);
        // a chain of one kind prints flat (PostgreSQL's left-deep tree of `a UNION b UNION c`;
        // DuckDB may nest it to the right, the same for UNION and INTERSECT); other nestings
        // need PostgreSQL's parentheses: not handled
        let mut leaves = Vec::new();
        collect_leaves(node, &mut leaves)?;
        if leaves.len() > 2 && word == "EXCEPT" {
            return None;
        }
        let mut texts = Vec::new();
        let mut types: Option<Vec<(String, Ty)>> = None;
        for leaf in leaves {
            // every SELECT shows the view's column names (PostgreSQL 15 passes them down)
            let (text, leaf_types) = self.query(leaf, names)?;
            match &types {
                None => types = Some(leaf_types),
                Some(t) => {
                    // PostgreSQL coerces the inputs to common column types: only equal ones
                    // (varchar with text: the same values) are handled
                    let same = t.len() == leaf_types.len()
                        && t.iter().zip(&leaf_types).all(|((_, a), (_, b))| {
                            a == b
                                || matches!(
                                    (a, b),
                                    (Ty::Text | Ty::Varchar, Ty::Text | Ty::Varchar)
                                )
                        });
                    if !same {
                        return None;
                    }
                }
            }
            texts.push(text);
        }
        let all = if all { " ALL" } else { "" };
        Some((texts.join(&format!("\n{word}{all}\n")), types?))
    }

    /// A plain SELECT (no CTE, window, QUALIFY, SAMPLE, GROUPING SETS).
    fn select(
        &mut self,
        node: &Value,
        names: Option<&[String]>,
    ) -> Option<(String, Vec<(String, Ty)>)> {
        if str_field(node, "type") != "SELECT_NODE"
            || !list(node.get("cte_map")?, "map").is_empty()
            || present(node, "qualify")
            || present(node, "sample")
            || str_field(node, "aggregate_handling") != "STANDARD_HANDLING"
            || list(node, "group_sets").len() > 1
        {
            return None;
        }
        let mut distinct = false;
        let mut orders: &[Value] = &[];
        let mut limit = None;
        let mut offset = None;
        for m in list(node, "modifiers") {
            match str_field(m, "type") {
                "DISTINCT_MODIFIER" => {
                    if !list(m, "distinct_on_targets").is_empty() {
                        return None;
                    }
                    distinct = true;
                }
                "ORDER_MODIFIER" => orders = list(m, "orders"),
                "LIMIT_MODIFIER" => {
                    limit = m.get("limit").filter(|v| !v.is_null());
                    offset = m.get("offset").filter(|v| !v.is_null());
                }
                _ => return None,
            }
        }

        let from = match node.get("from_table") {
            Some(f) if str_field(f, "type") != "EMPTY" => Some(self.range_list(f)?),
            _ => None,
        };

        // the select list, stars expanded (PostgreSQL stores the columns a star meant)
        let mut targets: Vec<Expr> = Vec::new();
        for item in list(node, "select_list") {
            if str_field(item, "class") == "STAR" {
                targets.extend(self.star(item)?);
            } else {
                targets.push(self.expr(item)?);
            }
        }
        // the output names: the view's, or (a later SELECT of a set operation) the aliases
        // and column names PostgreSQL keeps
        let view_columns: Vec<String> = match names {
            Some(n) => n.to_vec(),
            None => {
                let aliases: Vec<&str> = list(node, "select_list")
                    .iter()
                    .map(|i| str_field(i, "alias"))
                    .collect();
                if aliases.len() != targets.len() {
                    return None;
                }
                targets
                    .iter()
                    .zip(aliases)
                    .map(|(t, a)| match (&t.kind, a) {
                        (_, a) if !a.is_empty() => Some(a.to_string()),
                        (Kind::Var(c), _) => Some(c.clone()),
                        _ => None,
                    })
                    .collect::<Option<_>>()?
            }
        };
        if targets.len() != view_columns.len() {
            return None;
        }
        let mut out = String::from(" SELECT");
        if distinct {
            out.push_str(" DISTINCT");
        }
        let mut types = Vec::new();
        for (i, (t, name)) in targets.iter().zip(&view_columns).enumerate() {
            // a string literal or NULL in the select list is resolved to text
            let t = match (&t.unknown, &t.ty) {
                (Some(_), _) => self.coerce(t, &Ty::Text)?,
                (None, None) if t.kind == Kind::Const => {
                    Expr::new("NULL::text".into(), Some(Ty::Text), Kind::Const)
                }
                _ => t.clone(),
            };
            // an item on lines of its own (CASE) starts right after the separator
            out.push_str(match (i, t.text.starts_with('\n')) {
                (0, false) => " ",
                (_, false) => ",\n    ",
                (0, true) => "",
                (_, true) => ",",
            });
            out.push_str(&t.text);
            if t.kind != Kind::Var(name.clone()) {
                out.push_str(" AS ");
                out.push_str(&quote_ident(name));
            }
            types.push((name.clone(), t.ty.clone()?));
        }
        if let Some(from) = from {
            out.push_str("\n   FROM ");
            out.push_str(&from);
        }
        if let Some(w) = node.get("where_clause").filter(|v| !v.is_null()) {
            let w = self.condition(w)?;
            out.push_str("\n  WHERE ");
            out.push_str(&w);
        }
        let groups = list(node, "group_expressions");
        if !groups.is_empty() {
            let items = groups
                .iter()
                .map(|g| self.sort_item(g, &targets, &view_columns, false))
                .collect::<Option<Vec<_>>>()?;
            out.push_str("\n  GROUP BY ");
            out.push_str(&items.join(", "));
        }
        if let Some(h) = node.get("having").filter(|v| !v.is_null()) {
            let h = self.condition(h)?;
            out.push_str("\n HAVING ");
            out.push_str(&h);
        }
        if !orders.is_empty() {
            let mut items = Vec::new();
            for o in orders {
                let mut item =
                    self.sort_item(o.get("expression")?, &targets, &view_columns, true)?;
                let desc = match str_field(o, "type") {
                    "ORDER_DEFAULT" | "ASCENDING" => false,
                    "DESCENDING" => true,
                    _ => return None,
                };
                if desc {
                    item.push_str(" DESC");
                }
                match (str_field(o, "null_order"), desc) {
                    ("ORDER_DEFAULT", _) | ("NULLS LAST", false) | ("NULLS FIRST", true) => {}
                    ("NULLS FIRST", false) => item.push_str(" NULLS FIRST"),
                    ("NULLS LAST", true) => item.push_str(" NULLS LAST"),
                    _ => return None,
                }
                items.push(item);
            }
            out.push_str("\n  ORDER BY ");
            out.push_str(&items.join(", "));
        }
        if let Some(o) = offset {
            let o = self.count(o)?;
            out.push_str("\n OFFSET ");
            out.push_str(&o);
        }
        if let Some(l) = limit {
            let l = self.count(l)?;
            out.push_str("\n LIMIT ");
            out.push_str(&l);
        }
        let inner = &self.inner;
        if self
            .rels
            .iter()
            .any(|r| inner.iter().any(|n| n.eq_ignore_ascii_case(&r.refname)))
        {
            return None;
        }
        Some((out, types))
    }

    /// A LIMIT or OFFSET: a non-negative integer constant (PostgreSQL's implicit bigint cast
    /// is not shown there).
    fn count(&mut self, v: &Value) -> Option<String> {
        let e = self.expr(v)?;
        (e.kind == Kind::Const && e.ty.as_ref().is_some_and(Ty::is_int) && !e.text.contains('\''))
            .then_some(e.text)
    }

    /// A WHERE, HAVING or ON condition: boolean.
    fn condition(&mut self, v: &Value) -> Option<String> {
        let e = self.expr(v)?;
        (e.ty == Some(Ty::Bool)).then_some(e.text)
    }

    /// A GROUP BY or ORDER BY item (also by select-list position or output name): a column as
    /// is, another expression in parentheses (pretty form; the plain form adds them to function
    /// calls only, operators having their own).
    /// A bare name is an output column first in ORDER BY, an input column first in GROUP BY.
    fn sort_item(
        &mut self,
        v: &Value,
        targets: &[Expr],
        names: &[String],
        order_by: bool,
    ) -> Option<String> {
        let target = if str_field(v, "class") == "CONSTANT" {
            let n = v.get("value")?.get("value")?.as_u64()? as usize;
            targets.get(n.checked_sub(1)?)?.clone()
        } else {
            let cols = list(v, "column_names");
            let output = match cols {
                [name] => names
                    .iter()
                    .position(|n| Some(n.as_str()) == name.as_str())
                    .or_else(|| {
                        names
                            .iter()
                            .position(|n| name.as_str().is_some_and(|m| n.eq_ignore_ascii_case(m)))
                    }),
                _ => None,
            };
            match (self.expr(v), output) {
                (Some(_), Some(i)) if order_by => targets[i].clone(),
                (Some(e), _) => e,
                (None, Some(i)) => targets[i].clone(),
                (None, None) => return None,
            }
        };
        match target.kind {
            Kind::Var(_) => Some(target.text),
            Kind::Const => None,
            Kind::Call => Some(format!("({})", target.text)),
            _ if self.pretty => Some(format!("({})", target.text)),
            // casts print parenthesized or not by their kind of node: not handled
            Kind::Func => None,
            _ => Some(target.text),
        }
    }

    /// The FROM clause: DuckDB's cross joins along the left are PostgreSQL's comma list.
    fn range_list(&mut self, f: &Value) -> Option<String> {
        if str_field(f, "type") == "JOIN" && str_field(f, "ref_type") == "CROSS" {
            let left = self.range_list(f.get("left")?)?;
            let right = self.range_item(f.get("right")?)?;
            return Some(format!("{left},\n    {right}"));
        }
        self.range_item(f)
    }

    fn range_item(&mut self, f: &Value) -> Option<String> {
        match str_field(f, "type") {
            "BASE_TABLE" => {
                if !str_field(f, "catalog_name").is_empty()
                    || !list(f, "column_name_alias").is_empty()
                    || present(f, "sample")
                    || present(f, "at_clause")
                {
                    return None;
                }
                let name = str_field(f, "table_name");
                let schema = str_field(f, "schema_name");
                let (schema, table, columns) = if schema.is_empty() {
                    self.catalog
                        .get(self.view_schema, name)
                        .or_else(|| self.catalog.get("main", name))?
                } else {
                    self.catalog.get(schema, name)?
                };
                let mut text = if schema == "main" {
                    quote_ident(table)
                } else {
                    format!("{}.{}", quote_ident(schema), quote_ident(table))
                };
                let alias = str_field(f, "alias");
                let refname = if alias.is_empty() {
                    table.clone()
                } else {
                    text.push(' ');
                    text.push_str(&quote_ident(alias));
                    alias.to_string()
                };
                if self
                    .rels
                    .iter()
                    .any(|r| r.refname.eq_ignore_ascii_case(&refname))
                {
                    return None;
                }
                self.rels.push(Rel {
                    refname,
                    columns: columns.clone(),
                });
                Some(text)
            }
            "SUBQUERY" => {
                // a derived table: its SELECT one level in (PostgreSQL's startIndent)
                let alias = str_field(f, "alias");
                if alias.is_empty()
                    || !list(f, "column_name_alias").is_empty()
                    || present(f, "sample")
                    || self
                        .rels
                        .iter()
                        .any(|r| r.refname.eq_ignore_ascii_case(alias))
                {
                    return None;
                }
                let before = self.used.len();
                let (text, columns) = self.query(f.get("subquery")?.get("node")?, None)?;
                let inner = self.used[before..].to_vec();
                self.inner.extend(inner);
                self.rels.push(Rel {
                    refname: alias.to_string(),
                    columns,
                });
                Some(format!(
                    "({}) {}",
                    text.replace('\n', "\n        "),
                    quote_ident(alias)
                ))
            }
            "JOIN" => {
                if !str_field(f, "alias").is_empty() {
                    return None;
                }
                let keyword = match (str_field(f, "ref_type"), str_field(f, "join_type")) {
                    ("CROSS", _) => "CROSS JOIN",
                    ("REGULAR", "INNER") => "JOIN",
                    ("REGULAR", "LEFT") => "LEFT JOIN",
                    ("REGULAR", "RIGHT") => "RIGHT JOIN",
                    ("REGULAR", "FULL") => "FULL JOIN",
                    _ => return None,
                };
                let first = self.rels.len();
                let left = self.range_item(f.get("left")?)?;
                let split = self.rels.len();
                let right_node = f.get("right")?;
                let right = self.range_item(right_node)?;
                let right = if self.pretty && str_field(right_node, "type") == "JOIN" {
                    format!("({right})")
                } else {
                    right
                };
                let using = list(f, "using_columns");
                let cond = if !using.is_empty() {
                    let mut names = Vec::new();
                    for u in using {
                        let u = u.as_str()?;
                        // the merged column is the left input's, the right's for RIGHT JOIN;
                        // FULL JOIN's is a COALESCE PostgreSQL prints unqualified: not handled
                        let side = match keyword {
                            "JOIN" | "LEFT JOIN" => first..split,
                            "RIGHT JOIN" => split..self.rels.len(),
                            _ => return None,
                        };
                        let (rel, name) = self.find_column(side, u)?;
                        self.merged.push(Merged {
                            column: name.clone(),
                            rel,
                            join: first..usize::MAX,
                        });
                        names.push(quote_ident(&name));
                    }
                    format!(" USING ({})", names.join(", "))
                } else if let Some(c) = f.get("condition").filter(|c| !c.is_null()) {
                    let c = self.condition(c)?;
                    if self.pretty {
                        format!(" ON {c}")
                    } else {
                        format!(" ON ({c})")
                    }
                } else if keyword == "CROSS JOIN" {
                    String::new()
                } else {
                    return None;
                };
                let end = self.rels.len();
                for m in self.merged.iter_mut().filter(|m| m.join.end == usize::MAX) {
                    m.join.end = end;
                }
                let body = format!("{left}\n     {keyword} {right}{cond}");
                Some(if self.pretty {
                    body
                } else {
                    format!("({body})")
                })
            }
            _ => None,
        }
    }

    /// The one column `name` of the relations `range`: (relation index, its spelling).
    fn find_column(&self, range: std::ops::Range<usize>, name: &str) -> Option<(usize, String)> {
        let mut found = None;
        for i in range {
            if let Some((c, _)) = self.rels[i]
                .columns
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(name))
            {
                if found.is_some() {
                    return None;
                }
                found = Some((i, c.clone()));
            }
        }
        found
    }

    fn var(&self, rel: usize, name: &str) -> Option<Expr> {
        let r = &self.rels[rel];
        let (col, ty) = r
            .columns
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(name))?;
        Some(Expr::new(
            format!("{}.{}", quote_ident(&r.refname), quote_ident(col)),
            Some(ty.clone()),
            Kind::Var(col.clone()),
        ))
    }

    fn column_ref(&self, v: &Value) -> Option<Expr> {
        let names: Vec<&str> = list(v, "column_names")
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()?;
        match names.as_slice() {
            [rel, col] => {
                let i = self
                    .rels
                    .iter()
                    .position(|r| r.refname.eq_ignore_ascii_case(rel))?;
                self.var(i, col)
            }
            [col] => {
                if let Some(m) = self
                    .merged
                    .iter()
                    .find(|m| m.column.eq_ignore_ascii_case(col))
                {
                    let elsewhere = (0..self.rels.len())
                        .filter(|i| !m.join.contains(i))
                        .any(|i| {
                            self.rels[i]
                                .columns
                                .iter()
                                .any(|(c, _)| c.eq_ignore_ascii_case(col))
                        });
                    return if elsewhere {
                        None
                    } else {
                        self.var(m.rel, col)
                    };
                }
                let (i, _) = self.find_column(0..self.rels.len(), col)?;
                self.var(i, col)
            }
            _ => None,
        }
    }

    /// `*` or `rel.*`: the columns it stands for.
    fn star(&self, item: &Value) -> Option<Vec<Expr>> {
        if !list(item, "exclude_list").is_empty()
            || !list(item, "replace_list").is_empty()
            || !list(item, "rename_list").is_empty()
            || item.get("columns").and_then(Value::as_bool) == Some(true)
            || present(item, "expr")
            || !self.merged.is_empty()
        {
            return None;
        }
        let rel = str_field(item, "relation_name");
        let mut out = Vec::new();
        for (i, r) in self.rels.iter().enumerate() {
            if rel.is_empty() || r.refname.eq_ignore_ascii_case(rel) {
                for (c, _) in &r.columns {
                    out.push(self.var(i, c)?);
                }
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// `child` wrapped in parentheses when pretty mode needs them under a parent of kind
    /// `parent` (PostgreSQL's `isSimpleNode`); `first` says whether it is the parent
    /// operator's left argument.
    fn paren(&self, child: &Expr, parent: &Kind, first: bool) -> String {
        if !self.pretty || self.simple(child, parent, first) {
            child.text.clone()
        } else {
            format!("({})", child.text)
        }
    }

    fn simple(&self, child: &Expr, parent: &Kind, first: bool) -> bool {
        let class = |op: &str| -> Option<bool> {
            // Some(true): * / %, Some(false): + -
            match op {
                "*" | "/" | "%" => Some(true),
                "+" | "-" => Some(false),
                _ => None,
            }
        };
        match &child.kind {
            Kind::Var(_) | Kind::Const | Kind::Func | Kind::Call | Kind::Own => true,
            Kind::Op(op) => {
                if let Kind::Op(parent_op) = parent {
                    return match (class(op), class(parent_op)) {
                        (Some(true), Some(false)) => true,
                        (Some(false), Some(true)) => false,
                        (Some(_), Some(_)) => first,
                        _ => false,
                    };
                }
                matches!(parent, Kind::And | Kind::Or | Kind::Not)
            }
            Kind::NullTest => matches!(parent, Kind::And | Kind::Or | Kind::Not),
            // PostgreSQL does not list `= ANY (…)` as simple anywhere
            Kind::ArrayOp => false,
            Kind::And | Kind::Not => matches!(parent, Kind::And | Kind::Or),
            Kind::Or => *parent == Kind::Or,
        }
    }

    /// `e` as type `ty` where the analyzer coerces it: an untyped literal becomes a constant of
    /// that type, anything else gets a cast (`(x)::numeric`, pretty `x::numeric`).
    fn coerce(&self, e: &Expr, ty: &Ty) -> Option<Expr> {
        if let Some(lit) = &e.unknown {
            return typed_literal(lit, ty);
        }
        if e.ty.as_ref() == Some(ty) {
            return Some(e.clone());
        }
        e.ty.as_ref()?;
        Some(self.cast(e, ty.name(), ty.clone()))
    }

    fn cast(&self, e: &Expr, name: &str, ty: Ty) -> Expr {
        let inner = if self.pretty {
            // casts parenthesize operators and boolean expressions
            match e.kind {
                Kind::Var(_) | Kind::Const | Kind::Func | Kind::Call | Kind::Own => e.text.clone(),
                _ => format!("({})", e.text),
            }
        } else {
            format!("({})", e.text)
        };
        Expr::new(format!("{inner}::{name}"), Some(ty), Kind::Func)
    }

    /// A binary operator PostgreSQL prints as `a op b`, after its operator resolution.
    fn binary(&self, op: &str, l: Expr, r: Expr) -> Option<Expr> {
        let comparison = matches!(op, "=" | "<>" | "<" | ">" | "<=" | ">=");
        let arithmetic = matches!(op, "+" | "-" | "*" | "/" | "%");
        let (l, r, ty) = if comparison || arithmetic {
            let (l, r, operand) = match (&l.unknown, &r.unknown, &l.ty, &r.ty) {
                (Some(_), Some(_), _, _) if comparison => (
                    self.coerce(&l, &Ty::Text)?,
                    self.coerce(&r, &Ty::Text)?,
                    Ty::Text,
                ),
                (Some(_), None, _, Some(t)) | (None, Some(_), Some(t), _) => {
                    // the literal takes the other side's type; varchar has no operators of
                    // its own: both sides are read as text
                    let t = match t {
                        _ if arithmetic && t.numeric_rank().is_none() => return None,
                        Ty::Varchar => Ty::Text,
                        t => t.clone(),
                    };
                    (self.coerce(&l, &t)?, self.coerce(&r, &t)?, t)
                }
                (None, None, Some(a), Some(b)) => {
                    if let (Some(ra), Some(rb)) = (a.numeric_rank(), b.numeric_rank()) {
                        if a.is_int() && b.is_int() {
                            // cross-type integer operators exist (int48gt, int24pl, …),
                            // but `%` is same-type only
                            if op == "%" && a != b {
                                return None;
                            }
                            let t = if ra >= rb { a.clone() } else { b.clone() };
                            (l.clone(), r.clone(), t)
                        } else {
                            let t = if ra >= rb { a.clone() } else { b.clone() };
                            (self.coerce(&l, &t)?, self.coerce(&r, &t)?, t)
                        }
                    } else if arithmetic {
                        return None;
                    } else if a == b && *a != Ty::Varchar {
                        (l.clone(), r.clone(), a.clone())
                    } else if matches!(a, Ty::Text | Ty::Varchar)
                        && matches!(b, Ty::Text | Ty::Varchar)
                    {
                        (
                            self.coerce(&l, &Ty::Text)?,
                            self.coerce(&r, &Ty::Text)?,
                            Ty::Text,
                        )
                    } else {
                        return None;
                    }
                }
                _ => return None,
            };
            if arithmetic
                && (operand.numeric_rank().is_none() || op == "%" && operand == Ty::Float8)
            {
                return None;
            }
            let ty = if comparison { Ty::Bool } else { operand };
            (l, r, ty)
        } else if op == "||" {
            let l = self.textual(&l)?;
            let r = self.textual(&r)?;
            (l, r, Ty::Text)
        } else if matches!(op, "~~" | "!~~" | "~~*" | "!~~*") {
            // text LIKE text, bpchar LIKE text; varchar is read as text
            let l = match &l.ty {
                Some(Ty::Bpchar) if l.unknown.is_none() => l.clone(),
                _ => self.textual(&l)?,
            };
            let r = self.textual(&r)?;
            (l, r, Ty::Bool)
        } else {
            return None;
        };
        let kind = Kind::Op(op.to_string());
        let text = format!(
            "{} {op} {}",
            self.paren(&l, &kind, true),
            self.paren(&r, &kind, false)
        );
        Some(self.wrap(text, Some(ty), kind))
    }

    /// A text operand: text as is, varchar and char cast to text, a literal typed text.
    fn textual(&self, e: &Expr) -> Option<Expr> {
        match (&e.unknown, &e.ty) {
            (Some(_), _) => self.coerce(e, &Ty::Text),
            (None, Some(Ty::Text)) => Some(e.clone()),
            (None, Some(Ty::Varchar | Ty::Bpchar)) => self.coerce(e, &Ty::Text),
            _ => None,
        }
    }

    /// An operator's text, self-parenthesized in the plain form.
    fn wrap(&self, text: String, ty: Option<Ty>, kind: Kind) -> Expr {
        let text = if self.pretty {
            text
        } else {
            format!("({text})")
        };
        Expr::new(text, ty, kind)
    }

    fn boolean(&self, e: Expr) -> Option<Expr> {
        (e.ty == Some(Ty::Bool)).then_some(e)
    }

    fn expr(&mut self, v: &Value) -> Option<Expr> {
        let class = str_field(v, "class");
        let kind = str_field(v, "type");
        match class {
            "COLUMN_REF" => self.column_ref(v),
            "CONSTANT" => constant(v.get("value")?),
            "CAST" => {
                if v.get("try_cast").and_then(Value::as_bool) == Some(true) {
                    return None;
                }
                let child = self.expr(v.get("child")?)?;
                let (ty, name) = Ty::from_cast(v.get("cast_type")?)?;
                if let Some(lit) = &child.unknown {
                    // a typed literal (`'x'::date`, `true`): a constant of that type
                    if name != ty.name() {
                        return None;
                    }
                    return typed_literal(lit, &ty);
                }
                let from = child.ty.clone()?;
                if from == ty && name == ty.name() && from != Ty::Varchar {
                    // a cast to the expression's own type is no node at all
                    return Some(child);
                }
                Some(self.cast(&child, &name, ty))
            }
            "COMPARISON" => {
                let op = match kind {
                    "COMPARE_EQUAL" => "=",
                    "COMPARE_NOTEQUAL" => "<>",
                    "COMPARE_LESSTHAN" => "<",
                    "COMPARE_GREATERTHAN" => ">",
                    "COMPARE_LESSTHANOREQUALTO" => "<=",
                    "COMPARE_GREATERTHANOREQUALTO" => ">=",
                    _ => return None,
                };
                let l = self.expr(v.get("left")?)?;
                let r = self.expr(v.get("right")?)?;
                self.binary(op, l, r)
            }
            "CONJUNCTION" => {
                let k = match kind {
                    "CONJUNCTION_AND" => Kind::And,
                    "CONJUNCTION_OR" => Kind::Or,
                    _ => return None,
                };
                let word = if k == Kind::And { " AND " } else { " OR " };
                let mut parts = Vec::new();
                for c in list(v, "children") {
                    let c = self.expr(c)?;
                    let c = self.boolean(c)?;
                    parts.push(self.paren(&c, &k, false));
                }
                if parts.len() < 2 {
                    return None;
                }
                Some(self.wrap(parts.join(word), Some(Ty::Bool), k))
            }
            "BETWEEN" => {
                // PostgreSQL stores `a BETWEEN x AND y` as `a >= x AND a <= y`
                let input = self.expr(v.get("input")?)?;
                let lower = self.expr(v.get("lower")?)?;
                let upper = self.expr(v.get("upper")?)?;
                let ge = self.binary(">=", input.clone(), lower)?;
                let le = self.binary("<=", input, upper)?;
                let text = format!(
                    "{} AND {}",
                    self.paren(&ge, &Kind::And, false),
                    self.paren(&le, &Kind::And, false)
                );
                Some(self.wrap(text, Some(Ty::Bool), Kind::And))
            }
            "OPERATOR" => {
                let children = list(v, "children");
                match kind {
                    "OPERATOR_IS_NULL" | "OPERATOR_IS_NOT_NULL" if children.len() == 1 => {
                        let c = self.expr(&children[0])?;
                        if c.unknown.is_some() || c.ty.is_none() {
                            return None;
                        }
                        let word = if kind == "OPERATOR_IS_NULL" {
                            "IS NULL"
                        } else {
                            "IS NOT NULL"
                        };
                        let text = format!("{} {word}", self.paren(&c, &Kind::NullTest, true));
                        Some(self.wrap(text, Some(Ty::Bool), Kind::NullTest))
                    }
                    "OPERATOR_NOT" if children.len() == 1 => {
                        // NOT over BETWEEN is also what `NOT BETWEEN` parses to, which
                        // PostgreSQL prints differently: not handled
                        if str_field(&children[0], "class") == "BETWEEN" {
                            return None;
                        }
                        let c = self.expr(&children[0])?;
                        let c = self.boolean(c)?;
                        let text = format!("NOT {}", self.paren(&c, &Kind::Not, true));
                        Some(self.wrap(text, Some(Ty::Bool), Kind::Not))
                    }
                    "COMPARE_IN" | "COMPARE_NOT_IN" if children.len() >= 2 => {
                        let not = kind == "COMPARE_NOT_IN";
                        let lhs = self.expr(&children[0])?;
                        let items = children[1..]
                            .iter()
                            .map(|c| self.expr(c))
                            .collect::<Option<Vec<_>>>()?;
                        self.in_list(lhs, items, not)
                    }
                    "OPERATOR_COALESCE" if children.len() >= 2 => {
                        let items = children
                            .iter()
                            .map(|c| self.expr(c))
                            .collect::<Option<Vec<_>>>()?;
                        let ty = common_type(&items)?;
                        let args = items
                            .iter()
                            .map(|e| self.coerce(e, &ty).map(|e| e.text))
                            .collect::<Option<Vec<_>>>()?;
                        Some(Expr::new(
                            format!("COALESCE({})", args.join(", ")),
                            Some(ty),
                            Kind::Own,
                        ))
                    }
                    _ => None,
                }
            }
            "FUNCTION" => self.function(v),
            "CASE" => self.case(v),
            _ => None,
        }
    }

    /// A searched CASE, on lines of its own as PostgreSQL prints it (indented one step per
    /// enclosing CASE); a missing ELSE is PostgreSQL's `ELSE NULL::type`. DuckDB parses
    /// `CASE x WHEN 1` to `CASE WHEN x = 1`, printed the searched way.
    fn case(&mut self, v: &Value) -> Option<Expr> {
        let mut whens = Vec::new();
        let mut results = Vec::new();
        for check in list(v, "case_checks") {
            let w = self.expr(check.get("when_expr")?)?;
            whens.push(self.boolean(w)?.text);
            results.push(self.expr(check.get("then_expr")?)?);
        }
        if whens.is_empty() {
            return None;
        }
        let default = self.expr(v.get("else_expr")?)?;
        let mut all = results.clone();
        all.push(default.clone());
        let typed: Vec<Expr> = all
            .iter()
            .filter(|e| !(e.kind == Kind::Const && e.ty.is_none() && e.unknown.is_none()))
            .cloned()
            .collect();
        let ty = common_type(&typed)?;
        let result = |e: &Expr| -> Option<String> {
            if e.kind == Kind::Const && e.ty.is_none() && e.unknown.is_none() {
                return Some(format!("NULL::{}", ty.name()));
            }
            let e = self.coerce(e, &ty)?;
            // a nested CASE is one step further in
            Some(e.text.replace('\n', "\n    "))
        };
        let indent = " ".repeat(8);
        let mut text = format!("\n{indent}CASE");
        for (w, r) in whens.iter().zip(&results) {
            text.push_str(&format!(
                "\n{indent}    WHEN {} THEN {}",
                w.replace('\n', "\n    "),
                result(r)?
            ));
        }
        text.push_str(&format!("\n{indent}    ELSE {}", result(&default)?));
        text.push_str(&format!("\n{indent}END"));
        Some(Expr::new(text, Some(ty), Kind::Own))
    }

    /// `a IN (x, y)`: PostgreSQL's `a = ANY (ARRAY[x, y])` over constants (`<> ALL` for NOT
    /// IN; one item is a plain comparison).
    fn in_list(&self, lhs: Expr, items: Vec<Expr>, not: bool) -> Option<Expr> {
        let op = if not { "<>" } else { "=" };
        if items.len() == 1 {
            return self.binary(op, lhs, items.into_iter().next()?);
        }
        if items.iter().any(|e| e.kind != Kind::Const) || lhs.unknown.is_some() {
            // list items with columns become separate comparisons in PostgreSQL
            return None;
        }
        let mut all = vec![lhs.clone()];
        all.extend(items.iter().cloned());
        let ty = common_type(&all)?;
        let elems = items
            .iter()
            .map(|e| self.coerce(e, &ty).map(|e| e.text))
            .collect::<Option<Vec<_>>>()?;
        let array = format!("ARRAY[{}]", elems.join(", "));
        let (lhs, array) = if ty == Ty::Varchar {
            // no varchar = varchar: both sides read as text
            let arr = if self.pretty {
                format!("{array}::text[]")
            } else {
                format!("({array})::text[]")
            };
            (self.coerce(&lhs, &Ty::Text)?, arr)
        } else if matches!(ty, Ty::Other(_) | Ty::Bpchar) {
            return None;
        } else {
            (self.coerce(&lhs, &ty)?, array)
        };
        let quant = if not { "ALL" } else { "ANY" };
        let text = format!(
            "{} {op} {quant} ({array})",
            self.paren(&lhs, &Kind::ArrayOp, true)
        );
        Some(self.wrap(text, Some(Ty::Bool), Kind::ArrayOp))
    }

    fn function(&mut self, v: &Value) -> Option<Expr> {
        let name = str_field(v, "function_name");
        if !str_field(v, "schema").is_empty()
            || !str_field(v, "catalog").is_empty()
            || v.get("export_state").and_then(Value::as_bool) == Some(true)
            || v.get("order_bys")
                .is_some_and(|o| !list(o, "orders").is_empty())
        {
            return None;
        }
        let args = list(v, "children")
            .iter()
            .map(|c| self.expr(c))
            .collect::<Option<Vec<_>>>()?;
        let distinct = v.get("distinct").and_then(Value::as_bool) == Some(true);
        let filter = v.get("filter").filter(|f| !f.is_null());
        if v.get("is_operator").and_then(Value::as_bool) == Some(true) {
            if distinct || filter.is_some() {
                return None;
            }
            return match args.len() {
                2 => {
                    let mut it = args.into_iter();
                    let (l, r) = (it.next()?, it.next()?);
                    self.binary(name, l, r)
                }
                1 if name == "-" || name == "+" => {
                    let a = &args[0];
                    let ty = a.ty.clone()?;
                    if a.unknown.is_some() || ty.numeric_rank().is_none() {
                        return None;
                    }
                    let kind = Kind::Op(name.to_string());
                    let text = format!("{name} {}", self.paren(a, &kind, false));
                    Some(self.wrap(text, Some(ty), kind))
                }
                _ => None,
            };
        }
        if args.iter().any(|a| a.unknown.is_some() || a.ty.is_none()) {
            return None;
        }
        let arg_ty = args.first().and_then(|a| a.ty.clone());
        let (pg_name, ty, aggregate) = match (name, args.len()) {
            ("count_star", 0) => ("count", Ty::Int8, true),
            ("count", 1) => ("count", Ty::Int8, true),
            ("sum", 1) => (
                "sum",
                match arg_ty? {
                    Ty::Int2 | Ty::Int4 => Ty::Int8,
                    Ty::Int8 | Ty::Numeric => Ty::Numeric,
                    Ty::Float8 => Ty::Float8,
                    _ => return None,
                },
                true,
            ),
            ("avg", 1) => (
                "avg",
                match arg_ty? {
                    Ty::Int2 | Ty::Int4 | Ty::Int8 | Ty::Numeric => Ty::Numeric,
                    Ty::Float8 => Ty::Float8,
                    _ => return None,
                },
                true,
            ),
            ("min" | "max", 1) => {
                let t = arg_ty?;
                if matches!(t, Ty::Other(_) | Ty::Bool) {
                    return None;
                }
                // no max(varchar): read as text
                let t = if t == Ty::Varchar { Ty::Text } else { t };
                (name, t, true)
            }
            ("lower" | "upper", 1) => (name, Ty::Text, false),
            ("length", 1) => ("length", Ty::Int4, false),
            ("abs", 1) if arg_ty.as_ref()?.numeric_rank().is_some() => ("abs", arg_ty?, false),
            _ => return None,
        };
        if !aggregate && (distinct || filter.is_some()) {
            return None;
        }
        let args = if matches!(pg_name, "min" | "max") && args[0].ty == Some(Ty::Varchar) {
            vec![self.coerce(&args[0], &Ty::Text)?]
        } else if matches!(pg_name, "lower" | "upper" | "length") {
            // text functions: varchar and char arguments are read as text
            vec![match &args[0].ty {
                Some(Ty::Text) => args[0].clone(),
                Some(Ty::Varchar) => self.coerce(&args[0], &Ty::Text)?,
                _ => return None,
            }]
        } else {
            args
        };
        let mut text = format!("{pg_name}(");
        if name == "count_star" {
            text.push('*');
        }
        if distinct {
            text.push_str("DISTINCT ");
        }
        text.push_str(
            &args
                .iter()
                .map(|a| a.text.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        );
        text.push(')');
        if let Some(f) = filter {
            let f = self.condition(f)?;
            text.push_str(&format!(" FILTER (WHERE {f})"));
        }
        Some(Expr::new(text, Some(ty), Kind::Call))
    }
}

/// The type all of `items` are resolved to (PostgreSQL's `select_common_type` for the cases
/// handled: one type, numeric widening, untyped literals taking the others' type).
fn common_type(items: &[Expr]) -> Option<Ty> {
    let mut ty: Option<Ty> = None;
    for e in items {
        if e.unknown.is_some() {
            continue;
        }
        let t = e.ty.clone()?;
        ty = Some(match ty {
            None => t,
            Some(cur) if cur == t => cur,
            Some(cur) => match (cur.numeric_rank(), t.numeric_rank()) {
                (Some(a), Some(b)) => {
                    if a >= b {
                        cur
                    } else {
                        t
                    }
                }
                _ => return None,
            },
        });
    }
    Some(ty.unwrap_or(Ty::Text))
}

/// A constant of DuckDB's parse tree. String literals stay untyped until their context types
/// them (PostgreSQL's `unknown`).
fn constant(value: &Value) -> Option<Expr> {
    if value.get("is_null").and_then(Value::as_bool) == Some(true) {
        // NULL: typed by its context; only the select list's (text) is handled
        return Some(Expr::new("NULL".into(), None, Kind::Const));
    }
    let t = value.get("type")?;
    let v = value.get("value")?;
    let c = |text: String, ty: Ty| Some(Expr::new(text, Some(ty), Kind::Const));
    match t.get("id")?.as_str()? {
        "INTEGER" => {
            let n = v.as_i64()?;
            if n < 0 {
                // PostgreSQL's negative int4 constants print quoted, to re-read as one constant
                c(format!("'{n}'::integer"), Ty::Int4)
            } else {
                c(n.to_string(), Ty::Int4)
            }
        }
        "BIGINT" => c(format!("'{}'::bigint", v.as_i64()?), Ty::Int8),
        "DECIMAL" => {
            let scale = t.get("type_info")?.get("scale")?.as_u64()? as usize;
            let n = match v {
                Value::Number(n) => n.as_i64()?,
                _ => return None,
            };
            if n < 0 || scale == 0 {
                return None;
            }
            let digits = format!("{:0>width$}", n, width = scale + 1);
            let (int, frac) = digits.split_at(digits.len() - scale);
            c(format!("{int}.{frac}"), Ty::Numeric)
        }
        "VARCHAR" => {
            let s = v.as_str()?;
            Some(Expr {
                text: quote_literal(s),
                ty: None,
                kind: Kind::Const,
                unknown: Some(s.to_string()),
            })
        }
        _ => None,
    }
}

/// An untyped literal as a constant of type `ty`, printed as PostgreSQL prints constants
/// (through the type's output function: only values whose output is derivable are handled).
fn typed_literal(lit: &str, ty: &Ty) -> Option<Expr> {
    let c = |text: String| Some(Expr::new(text, Some(ty.clone()), Kind::Const));
    match ty {
        Ty::Text | Ty::Varchar | Ty::Bpchar => c(format!("{}::{}", quote_literal(lit), ty.name())),
        Ty::Bool => match lit.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "yes" | "on" | "1" => c("true".into()),
            "f" | "false" | "no" | "off" | "0" => c("false".into()),
            _ => None,
        },
        Ty::Int2 | Ty::Int4 | Ty::Int8 => {
            let n: i64 = lit.trim().parse().ok()?;
            let fits = match ty {
                Ty::Int2 => i16::try_from(n).is_ok(),
                Ty::Int4 => i32::try_from(n).is_ok(),
                _ => true,
            };
            if !fits {
                return None;
            }
            if *ty == Ty::Int4 && n >= 0 {
                c(n.to_string())
            } else {
                c(format!("'{n}'::{}", ty.name()))
            }
        }
        Ty::Numeric => {
            let s = lit.trim();
            let (int, frac) = s.split_once('.').unwrap_or((s, ""));
            let digits = |p: &str| p.chars().all(|ch| ch.is_ascii_digit());
            if int.is_empty() || !digits(int) || !digits(frac) || s.ends_with('.') {
                return None;
            }
            // numeric's output drops leading zeros of the integer part
            let int = int.trim_start_matches('0');
            let int = if int.is_empty() { "0" } else { int };
            if frac.is_empty() {
                c(format!("'{int}'::numeric"))
            } else {
                c(format!("{int}.{frac}"))
            }
        }
        Ty::Other(name) if name == "date" => {
            let b = lit.as_bytes();
            let ok = b.len() == 10
                && b.iter().enumerate().all(|(i, ch)| {
                    if i == 4 || i == 7 {
                        *ch == b'-'
                    } else {
                        ch.is_ascii_digit()
                    }
                });
            ok.then(|| Expr::new(format!("'{lit}'::date"), Some(ty.clone()), Kind::Const))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The corpus's schema, as the catalog argument.
    const CATALOG: &str = "main\tcustomers\tid\tINTEGER\t\n\
        main\tcustomers\tname\tVARCHAR\t1043\n\
        main\tcustomers\temail\tVARCHAR\t\n\
        main\tcustomers\tbalance\tDECIMAL(12,2)\t\n\
        main\tcustomers\tcode\tVARCHAR\t1042\n\
        main\torders\tid\tINTEGER\t\n\
        main\torders\tcustomer_id\tINTEGER\t\n\
        main\torders\tamount\tDECIMAL(10,2)\t\n\
        main\torders\tqty\tBIGINT\t\n\
        main\torders\tratio\tDOUBLE\t\n\
        main\torders\tshipped\tBOOLEAN\t\n\
        main\torders\tplaced\tDATE\t\n\
        inventory\titems\tsku\tVARCHAR\t\n\
        inventory\titems\tqty\tSMALLINT\t\n";

    /// Parse trees are DuckDB's: tests build them from a small SQL-ish description through
    /// these helpers so that each case reads like the view it stands for.
    fn col(names: &[&str]) -> Value {
        serde_json::json!({"class": "COLUMN_REF", "type": "COLUMN_REF", "column_names": names})
    }
    fn int(n: i64) -> Value {
        serde_json::json!({"class": "CONSTANT", "type": "VALUE_CONSTANT",
            "value": {"type": {"id": "INTEGER"}, "is_null": false, "value": n}})
    }
    fn string(s: &str) -> Value {
        serde_json::json!({"class": "CONSTANT", "type": "VALUE_CONSTANT",
            "value": {"type": {"id": "VARCHAR"}, "is_null": false, "value": s}})
    }
    fn cmp(kind: &str, l: Value, r: Value) -> Value {
        serde_json::json!({"class": "COMPARISON", "type": kind, "left": l, "right": r})
    }
    fn op(name: &str, args: Vec<Value>) -> Value {
        serde_json::json!({"class": "FUNCTION", "type": "FUNCTION", "function_name": name,
            "children": args, "is_operator": true, "order_bys": {"type": "ORDER_MODIFIER"}})
    }
    fn func(name: &str, args: Vec<Value>) -> Value {
        serde_json::json!({"class": "FUNCTION", "type": "FUNCTION", "function_name": name,
            "children": args, "order_bys": {"type": "ORDER_MODIFIER"}})
    }
    fn aliased(mut e: Value, alias: &str) -> Value {
        e["alias"] = Value::from(alias);
        e
    }
    fn table(name: &str, alias: &str) -> Value {
        serde_json::json!({"type": "BASE_TABLE", "table_name": name, "alias": alias,
            "schema_name": "", "catalog_name": "", "column_name_alias": []})
    }
    fn join(kind: &str, l: Value, r: Value, cond: Value) -> Value {
        serde_json::json!({"type": "JOIN", "alias": "", "left": l, "right": r, "condition": cond,
            "join_type": kind, "ref_type": "REGULAR", "using_columns": []})
    }
    fn select(items: Vec<Value>, from: Value, extra: &[(&str, Value)]) -> Value {
        let mut node = serde_json::json!({"type": "SELECT_NODE", "modifiers": [],
            "cte_map": {"map": []}, "select_list": items, "from_table": from,
            "group_expressions": [], "group_sets": [], "aggregate_handling": "STANDARD_HANDLING",
            "having": null, "sample": null, "qualify": null});
        for (k, v) in extra {
            node[*k] = v.clone();
        }
        node
    }

    /// Both forms of the view `v` whose columns are `columns`.
    fn both(node: Value, columns: &[&str]) -> (Option<String>, Option<String>) {
        let json = serde_json::json!({"error": false, "statements": [{"node": node}]}).to_string();
        let mut catalog = CATALOG.to_string();
        for c in columns {
            catalog.push_str(&format!("main\tv\t{c}\tINTEGER\t\n"));
        }
        (
            deparse_view(&json, false, &catalog, "main", "v"),
            deparse_view(&json, true, &catalog, "main", "v"),
        )
    }

    #[test]
    fn the_corpus_view_in_both_forms() {
        let node = select(
            vec![
                col(&["o", "id"]),
                col(&["c", "name"]),
                col(&["o", "amount"]),
            ],
            join(
                "INNER",
                table("orders", "o"),
                table("customers", "c"),
                cmp(
                    "COMPARE_EQUAL",
                    col(&["c", "id"]),
                    col(&["o", "customer_id"]),
                ),
            ),
            &[(
                "where_clause",
                cmp("COMPARE_GREATERTHAN", col(&["o", "amount"]), int(100)),
            )],
        );
        let (plain, pretty) = both(node, &["id", "name", "amount"]);
        assert_eq!(
            plain.as_deref(),
            Some(
                " SELECT o.id,\n    c.name,\n    o.amount\n   FROM (orders o\n     JOIN customers c ON ((c.id = o.customer_id)))\n  WHERE (o.amount > (100)::numeric);"
            )
        );
        assert_eq!(
            pretty.as_deref(),
            Some(
                " SELECT o.id,\n    c.name,\n    o.amount\n   FROM orders o\n     JOIN customers c ON c.id = o.customer_id\n  WHERE o.amount > 100::numeric;"
            )
        );
    }

    #[test]
    fn single_table_columns_are_qualified_and_renamed_columns_get_as() {
        let node = select(
            vec![aliased(col(&["id"]), "order_id"), col(&["amount"])],
            table("orders", ""),
            &[],
        );
        let (plain, pretty) = both(node, &["order_id", "amount"]);
        let want = " SELECT orders.id AS order_id,\n    orders.amount\n   FROM orders;";
        assert_eq!(plain.as_deref(), Some(want));
        assert_eq!(pretty.as_deref(), Some(want));
    }

    #[test]
    fn star_expands_to_the_tables_columns() {
        let star = serde_json::json!({"class": "STAR", "type": "STAR", "relation_name": "",
            "exclude_list": [], "replace_list": []});
        let node = select(vec![star], table("items", ""), &[]);
        let json = serde_json::json!({"error": false, "statements": [{"node": node}]}).to_string();
        let catalog =
            format!("{CATALOG}inventory\tv\tsku\tVARCHAR\t\ninventory\tv\tqty\tSMALLINT\t\n");
        assert_eq!(
            deparse_view(&json, true, &catalog, "inventory", "v").as_deref(),
            Some(" SELECT items.sku,\n    items.qty\n   FROM inventory.items;")
        );
    }

    #[test]
    fn string_literals_take_their_context_type() {
        // text column: the literal becomes text; varchar column: both read as text
        let node = select(
            vec![col(&["id"]), string("x")],
            table("customers", ""),
            &[(
                "where_clause",
                serde_json::json!({"class": "CONJUNCTION", "type": "CONJUNCTION_AND", "children": [
                    cmp("COMPARE_EQUAL", col(&["email"]), string("a@b")),
                    cmp("COMPARE_NOTEQUAL", col(&["name"]), string("Bob")),
                    cmp("COMPARE_EQUAL", col(&["code"]), string("A")),
                ]}),
            )],
        );
        let (plain, pretty) = both(node, &["id", "lit"]);
        assert_eq!(
            plain.as_deref(),
            Some(" SELECT customers.id,\n    'x'::text AS lit\n   FROM customers\n  WHERE ((customers.email = 'a@b'::text) AND ((customers.name)::text <> 'Bob'::text) AND (customers.code = 'A'::bpchar));")
        );
        assert_eq!(
            pretty.as_deref(),
            Some(" SELECT customers.id,\n    'x'::text AS lit\n   FROM customers\n  WHERE customers.email = 'a@b'::text AND customers.name::text <> 'Bob'::text AND customers.code = 'A'::bpchar;")
        );
    }

    #[test]
    fn arithmetic_precedence_and_casts() {
        // (amount + 1) * 2 > ratio ; qty - 1 - 2 ; qty - (1 - 2)
        let sum = op("+", vec![col(&["amount"]), int(1)]);
        let prod = op("*", vec![sum, int(2)]);
        let node = select(
            vec![
                aliased(prod.clone(), "p"),
                aliased(
                    op("-", vec![op("-", vec![col(&["qty"]), int(1)]), int(2)]),
                    "a",
                ),
                aliased(
                    op("-", vec![col(&["qty"]), op("-", vec![int(1), int(2)])]),
                    "b",
                ),
                aliased(op("-", vec![col(&["id"])]), "neg"),
            ],
            table("orders", ""),
            &[(
                "where_clause",
                cmp("COMPARE_GREATERTHAN", prod, col(&["ratio"])),
            )],
        );
        let (plain, pretty) = both(node, &["p", "a", "b", "neg"]);
        assert_eq!(
            pretty.as_deref(),
            Some(" SELECT (orders.amount + 1::numeric) * 2::numeric AS p,\n    orders.qty - 1 - 2 AS a,\n    orders.qty - (1 - 2) AS b,\n    - orders.id AS neg\n   FROM orders\n  WHERE ((orders.amount + 1::numeric) * 2::numeric)::double precision > orders.ratio;")
        );
        assert_eq!(
            plain.as_deref(),
            Some(" SELECT ((orders.amount + (1)::numeric) * (2)::numeric) AS p,\n    ((orders.qty - 1) - 2) AS a,\n    (orders.qty - (1 - 2)) AS b,\n    (- orders.id) AS neg\n   FROM orders\n  WHERE ((((orders.amount + (1)::numeric) * (2)::numeric))::double precision > orders.ratio);")
        );
    }

    #[test]
    fn left_join_using_group_by_having_order_limit() {
        let mut j = join(
            "LEFT",
            table("customers", "c"),
            table("orders", "o"),
            Value::Null,
        );
        j["using_columns"] = serde_json::json!([]);
        j["condition"] = cmp(
            "COMPARE_EQUAL",
            col(&["o", "customer_id"]),
            col(&["c", "id"]),
        );
        let node = select(
            vec![
                col(&["c", "name"]),
                aliased(func("count_star", vec![]), "n"),
                aliased(func("sum", vec![col(&["o", "amount"])]), "total"),
            ],
            j,
            &[
                (
                    "group_expressions",
                    serde_json::json!([col(&["c", "name"])]),
                ),
                ("group_sets", serde_json::json!([[0]])),
                (
                    "having",
                    cmp("COMPARE_GREATERTHAN", func("count_star", vec![]), int(1)),
                ),
                (
                    "modifiers",
                    serde_json::json!([
                        {"type": "ORDER_MODIFIER", "orders": [
                            {"type": "DESCENDING", "null_order": "ORDER_DEFAULT", "expression": int(1)},
                            {"type": "ASCENDING", "null_order": "NULLS FIRST", "expression": col(&["n"])}]},
                        {"type": "LIMIT_MODIFIER", "limit": int(10), "offset": int(5)}
                    ]),
                ),
            ],
        );
        // ordering by the aggregate's output name: the aggregate, parenthesized
        let (plain, pretty) = both(node.clone(), &["name", "n", "total"]);
        for form in [plain, pretty] {
            assert!(
                form.as_deref().is_some_and(
                    |f| f.contains("\n  ORDER BY c.name DESC, (count(*)) NULLS FIRST\n")
                ),
                "{form:?}"
            );
        }
        let mut node = node;
        node["modifiers"][0]["orders"] = serde_json::json!([
            {"type": "DESCENDING", "null_order": "ORDER_DEFAULT", "expression": int(1)},
            {"type": "ASCENDING", "null_order": "NULLS FIRST", "expression": col(&["c", "id"])}]);
        let (plain, pretty) = both(node, &["name", "n", "total"]);
        assert_eq!(
            plain.as_deref(),
            Some(" SELECT c.name,\n    count(*) AS n,\n    sum(o.amount) AS total\n   FROM (customers c\n     LEFT JOIN orders o ON ((o.customer_id = c.id)))\n  GROUP BY c.name\n HAVING (count(*) > 1)\n  ORDER BY c.name DESC, c.id NULLS FIRST\n OFFSET 5\n LIMIT 10;")
        );
        assert_eq!(
            pretty.as_deref(),
            Some(" SELECT c.name,\n    count(*) AS n,\n    sum(o.amount) AS total\n   FROM customers c\n     LEFT JOIN orders o ON o.customer_id = c.id\n  GROUP BY c.name\n HAVING count(*) > 1\n  ORDER BY c.name DESC, c.id NULLS FIRST\n OFFSET 5\n LIMIT 10;")
        );
    }

    #[test]
    fn using_joins_and_three_way_joins() {
        let mut j = join(
            "INNER",
            table("orders", "a"),
            table("orders", "b"),
            Value::Null,
        );
        j["using_columns"] = serde_json::json!(["customer_id"]);
        let j2 = join(
            "FULL",
            j,
            table("customers", ""),
            cmp(
                "COMPARE_EQUAL",
                col(&["customers", "id"]),
                col(&["b", "customer_id"]),
            ),
        );
        let node = select(vec![col(&["customer_id"]), col(&["email"])], j2, &[]);
        let (plain, pretty) = both(node, &["customer_id", "email"]);
        assert_eq!(
            plain.as_deref(),
            Some(" SELECT a.customer_id,\n    customers.email\n   FROM ((orders a\n     JOIN orders b USING (customer_id))\n     FULL JOIN customers ON ((customers.id = b.customer_id)));")
        );
        assert_eq!(
            pretty.as_deref(),
            Some(" SELECT a.customer_id,\n    customers.email\n   FROM orders a\n     JOIN orders b USING (customer_id)\n     FULL JOIN customers ON customers.id = b.customer_id;")
        );
    }

    #[test]
    fn comma_joins_in_and_null_tests_like_and_boolean_structure() {
        let cross = serde_json::json!({"type": "JOIN", "alias": "", "left": table("orders", "o"),
            "right": table("customers", "c"), "join_type": "INNER", "ref_type": "CROSS",
            "using_columns": []});
        let in_list = serde_json::json!({"class": "OPERATOR", "type": "COMPARE_IN",
            "children": [col(&["o", "id"]), int(1), int(2)]});
        let not_in = serde_json::json!({"class": "OPERATOR", "type": "COMPARE_NOT_IN",
            "children": [col(&["c", "name"]), string("a"), string("b")]});
        let is_null = serde_json::json!({"class": "OPERATOR", "type": "OPERATOR_IS_NULL",
            "children": [col(&["c", "email"])]});
        let like = op("~~", vec![col(&["c", "name"]), string("A%")]);
        let or = serde_json::json!({"class": "CONJUNCTION", "type": "CONJUNCTION_OR",
            "children": [is_null, like]});
        let not = serde_json::json!({"class": "OPERATOR", "type": "OPERATOR_NOT",
            "children": [col(&["o", "shipped"])]});
        let and = serde_json::json!({"class": "CONJUNCTION", "type": "CONJUNCTION_AND",
            "children": [in_list, not_in, or, not]});
        let node = select(vec![col(&["o", "id"])], cross, &[("where_clause", and)]);
        let (plain, pretty) = both(node, &["id"]);
        assert_eq!(
            plain.as_deref(),
            Some(" SELECT o.id\n   FROM orders o,\n    customers c\n  WHERE ((o.id = ANY (ARRAY[1, 2])) AND ((c.name)::text <> ALL ((ARRAY['a'::character varying, 'b'::character varying])::text[])) AND ((c.email IS NULL) OR ((c.name)::text ~~ 'A%'::text)) AND (NOT o.shipped));")
        );
        assert_eq!(
            pretty.as_deref(),
            Some(" SELECT o.id\n   FROM orders o,\n    customers c\n  WHERE (o.id = ANY (ARRAY[1, 2])) AND (c.name::text <> ALL (ARRAY['a'::character varying, 'b'::character varying]::text[])) AND (c.email IS NULL OR c.name::text ~~ 'A%'::text) AND NOT o.shipped;")
        );
    }

    #[test]
    fn distinct_casts_literals_and_between() {
        let cast = |e: Value, id: &str| {
            serde_json::json!({"class": "CAST", "type": "OPERATOR_CAST", "child": e,
                "cast_type": {"id": id, "type_info": null}, "try_cast": false})
        };
        let between = serde_json::json!({"class": "BETWEEN", "type": "COMPARE_BETWEEN",
            "input": col(&["placed"]), "lower": cast(string("2024-01-01"), "DATE"),
            "upper": string("2024-12-31")});
        let mut node = select(
            vec![
                aliased(cast(col(&["amount"]), "INTEGER"), "a"),
                aliased(cast(string("t"), "BOOLEAN"), "flag"),
                aliased(int(-1), "m"),
                aliased(
                    serde_json::json!({"class": "CONSTANT", "type": "VALUE_CONSTANT", "value": {
                        "type": {"id": "DECIMAL", "type_info": {"width": 3, "scale": 2}},
                        "is_null": false, "value": 150}}),
                    "d",
                ),
            ],
            table("orders", ""),
            &[("where_clause", between)],
        );
        node["modifiers"] =
            serde_json::json!([{"type": "DISTINCT_MODIFIER", "distinct_on_targets": []}]);
        let (plain, pretty) = both(node, &["a", "flag", "m", "d"]);
        assert_eq!(
            pretty.as_deref(),
            Some(" SELECT DISTINCT orders.amount::integer AS a,\n    true AS flag,\n    '-1'::integer AS m,\n    1.50 AS d\n   FROM orders\n  WHERE orders.placed >= '2024-01-01'::date AND orders.placed <= '2024-12-31'::date;")
        );
        assert_eq!(
            plain.as_deref(),
            Some(" SELECT DISTINCT (orders.amount)::integer AS a,\n    true AS flag,\n    '-1'::integer AS m,\n    1.50 AS d\n   FROM orders\n  WHERE ((orders.placed >= '2024-01-01'::date) AND (orders.placed <= '2024-12-31'::date));")
        );
    }

    fn case(checks: Vec<(Value, Value)>, default: Value) -> Value {
        let checks: Vec<Value> = checks
            .into_iter()
            .map(|(w, t)| serde_json::json!({"when_expr": w, "then_expr": t}))
            .collect();
        serde_json::json!({"class": "CASE", "type": "CASE_EXPR", "case_checks": checks,
            "else_expr": default})
    }

    fn null() -> Value {
        serde_json::json!({"class": "CONSTANT", "type": "VALUE_CONSTANT",
            "value": {"type": {"id": "NULL"}, "is_null": true}})
    }

    #[test]
    fn case_is_printed_on_lines_of_its_own() {
        // nested CASE one step further in; a missing ELSE is NULL of the result type; a CASE
        // compared in WHERE starts its own line after `WHERE`
        let inner = case(
            vec![(
                cmp("COMPARE_GREATERTHAN", col(&["id"]), int(5)),
                string("huge"),
            )],
            string("big"),
        );
        let outer = case(
            vec![(cmp("COMPARE_GREATERTHAN", col(&["id"]), int(1)), inner)],
            null(),
        );
        let amount = case(vec![(col(&["shipped"]), col(&["amount"]))], int(0));
        let node = select(
            vec![aliased(outer, "size"), col(&["id"])],
            table("orders", ""),
            &[("where_clause", cmp("COMPARE_GREATERTHAN", amount, int(5)))],
        );
        let (plain, pretty) = both(node, &["size", "id"]);
        assert_eq!(
            pretty.as_deref(),
            Some(" SELECT\n        CASE\n            WHEN orders.id > 1 THEN\n            CASE\n                WHEN orders.id > 5 THEN 'huge'::text\n                ELSE 'big'::text\n            END\n            ELSE NULL::text\n        END AS size,\n    orders.id\n   FROM orders\n  WHERE\n        CASE\n            WHEN orders.shipped THEN orders.amount\n            ELSE 0::numeric\n        END > 5::numeric;")
        );
        assert_eq!(
            plain.as_deref(),
            Some(" SELECT\n        CASE\n            WHEN (orders.id > 1) THEN\n            CASE\n                WHEN (orders.id > 5) THEN 'huge'::text\n                ELSE 'big'::text\n            END\n            ELSE NULL::text\n        END AS size,\n    orders.id\n   FROM orders\n  WHERE (\n        CASE\n            WHEN orders.shipped THEN orders.amount\n            ELSE (0)::numeric\n        END > (5)::numeric);")
        );
    }

    #[test]
    fn set_operations_print_their_selects_with_the_views_column_names() {
        let setop = |kind: &str, all: bool, l: Value, r: Value| {
            serde_json::json!({"type": "SET_OPERATION_NODE", "modifiers": [], "cte_map": {"map": []},
                "setop_type": kind, "setop_all": all, "children": [l, r]})
        };
        let a = select(vec![aliased(col(&["id"]), "x")], table("orders", ""), &[]);
        let b = select(vec![col(&["customer_id"])], table("orders", ""), &[]);
        let c = select(vec![col(&["id"])], table("customers", ""), &[]);
        // DuckDB nests a chain to the right: PostgreSQL prints it flat
        let node = setop(
            "UNION",
            true,
            a.clone(),
            setop("UNION", true, b.clone(), c.clone()),
        );
        let (plain, pretty) = both(node, &["x"]);
        let want = " SELECT orders.id AS x\n   FROM orders\nUNION ALL\n SELECT orders.customer_id AS x\n   FROM orders\nUNION ALL\n SELECT customers.id AS x\n   FROM customers;";
        assert_eq!(plain.as_deref(), Some(want));
        assert_eq!(pretty.as_deref(), Some(want));
        // mixed kinds need PostgreSQL's parentheses, different column types its coercions
        let mixed = setop("UNION", false, a.clone(), setop("UNION", true, b, c));
        assert_eq!(both(mixed, &["x"]), (None, None));
        let amount = select(vec![col(&["amount"])], table("orders", ""), &[]);
        assert_eq!(
            both(setop("EXCEPT", false, a, amount), &["x"]),
            (None, None)
        );
    }

    #[test]
    fn an_alias_equal_to_the_table_name_stays_and_max_reads_varchar_as_text() {
        let node = select(
            vec![aliased(func("max", vec![col(&["customers", "name"])]), "m")],
            table("customers", "customers"),
            &[],
        );
        let (plain, pretty) = both(node, &["m"]);
        assert_eq!(
            plain.as_deref(),
            Some(" SELECT max((customers.name)::text) AS m\n   FROM customers customers;")
        );
        assert_eq!(
            pretty.as_deref(),
            Some(" SELECT max(customers.name::text) AS m\n   FROM customers customers;")
        );
    }

    #[test]
    fn derived_tables_are_one_level_in_and_a_reused_name_falls_back() {
        let inner = select(
            vec![
                col(&["customer_id"]),
                aliased(func("sum", vec![col(&["amount"])]), "total"),
            ],
            table("orders", ""),
            &[
                (
                    "group_expressions",
                    serde_json::json!([col(&["customer_id"])]),
                ),
                ("group_sets", serde_json::json!([[0]])),
            ],
        );
        let derived = |alias: &str| {
            serde_json::json!({"type": "SUBQUERY", "alias": alias, "column_name_alias": [],
                "subquery": {"node": inner.clone()}})
        };
        let node = select(
            vec![col(&["c", "name"]), col(&["s", "total"])],
            join(
                "INNER",
                table("customers", "c"),
                derived("s"),
                cmp(
                    "COMPARE_EQUAL",
                    col(&["s", "customer_id"]),
                    col(&["c", "id"]),
                ),
            ),
            &[],
        );
        let (plain, pretty) = both(node, &["name", "total"]);
        assert_eq!(
            pretty.as_deref(),
            Some(" SELECT c.name,\n    s.total\n   FROM customers c\n     JOIN ( SELECT orders.customer_id,\n            sum(orders.amount) AS total\n           FROM orders\n          GROUP BY orders.customer_id) s ON s.customer_id = c.id;")
        );
        assert_eq!(
            plain.as_deref(),
            Some(" SELECT c.name,\n    s.total\n   FROM (customers c\n     JOIN ( SELECT orders.customer_id,\n            sum(orders.amount) AS total\n           FROM orders\n          GROUP BY orders.customer_id) s ON ((s.customer_id = c.id)));")
        );
        // `orders` outside and inside: PostgreSQL would print the inner one as orders_1
        let node = select(
            vec![col(&["orders", "id"])],
            join(
                "INNER",
                table("orders", ""),
                derived("s"),
                cmp(
                    "COMPARE_EQUAL",
                    col(&["s", "customer_id"]),
                    col(&["orders", "id"]),
                ),
            ),
            &[],
        );
        assert_eq!(both(node, &["id"]), (None, None));
    }

    #[test]
    fn spaces_before_line_breaks_go_but_not_inside_quotes() {
        assert_eq!(
            trim_before_newlines("  WHERE \n x = 'a \n' AND \"b \n\" \n"),
            "  WHERE\n x = 'a \n' AND \"b \n\"\n"
        );
    }

    #[test]
    fn what_is_not_handled_answers_none() {
        let case = serde_json::json!({"class": "CASE", "type": "CASE_EXPR", "case_checks": [],
            "else_expr": int(1)});
        let cases = vec![
            // CASE, an unknown function, an ambiguous column, a missing table, a column
            // count that does not match the view's
            select(vec![case], table("orders", ""), &[]),
            select(
                vec![func("md5", vec![col(&["email"])])],
                table("customers", ""),
                &[],
            ),
            select(
                vec![col(&["id"])],
                join(
                    "INNER",
                    table("orders", ""),
                    table("customers", ""),
                    cmp("COMPARE_EQUAL", int(1), int(1)),
                ),
                &[],
            ),
            select(vec![col(&["id"])], table("nowhere", ""), &[]),
            select(
                vec![col(&["id"]), col(&["amount"])],
                table("orders", ""),
                &[],
            ),
            // float4-less but still unresolvable: text compared with a number
            select(
                vec![col(&["id"])],
                table("customers", ""),
                &[(
                    "where_clause",
                    cmp("COMPARE_EQUAL", col(&["email"]), int(1)),
                )],
            ),
        ];
        for node in cases {
            assert_eq!(both(node.clone(), &["x"]), (None, None), "{node}");
        }
        // a parse error, a set operation
        assert_eq!(
            deparse_view("{\"error\": true}", true, CATALOG, "main", "v"),
            None
        );
        let union = serde_json::json!({"error": false, "statements": [{"node": {
            "type": "SET_OPERATION_NODE"}}]});
        assert_eq!(
            deparse_view(&union.to_string(), true, CATALOG, "main", "v"),
            None
        );
    }

    #[test]
    fn identifiers_are_quoted_as_postgresql_does() {
        assert_eq!(quote_ident("name"), "name");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("Mixed"), "\"Mixed\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("count_star()"), "\"count_star()\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
