//! Where a SELECT's result columns come from: the table and attribute PostgreSQL puts in
//! RowDescription (`table_oid`, `column_attr`). pgJDBC's `ResultSetMetaData.getTableName`,
//! `getBaseColumnName` and `isNullable`, Npgsql's `KeyInfo` schema and DBeaver's editable
//! result grids read them; DuckDB's prepared statements do not say, so the gateway works it out
//! from DuckDB's own parse tree (`json_serialize_sql`) and catalog.
//!
//! Only plain cases are answered: one SELECT over base tables (joined or not), whose result
//! columns are column references or stars. Anything else (expressions, subqueries, CTEs,
//! set operations, table functions) leaves the origin unknown, as PostgreSQL does for
//! expressions: table 0, attribute 0.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Catalog rows `[database, schema, table, table oid, column, column index]` of the tables a
/// query names.
pub type TableRows = Arc<Vec<Vec<String>>>;

/// What the sessions of one DuckDB instance share, so that a statement's origins cost its
/// first Describe small queries once per instance rather than once per session:
/// - parse trees by statement text (they do not depend on the catalog);
/// - catalog rows by the (lower-case) table names asked for, read from `duckdb_columns()`
///   (about 1.5 ms): never a session's temporary tables, and retired whenever any session of
///   the instance runs a statement that may change a catalog or ends a transaction.
#[derive(Default)]
pub struct OriginCache {
    generation: AtomicU64,
    shapes: Mutex<HashMap<String, Option<Arc<Shape>>>>,
    tables: Mutex<HashMap<String, (u64, TableRows)>>,
}

/// Entries of each kind kept before the cache starts over.
const CACHE_ENTRIES: usize = 1024;

fn bounded_insert<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, k: K, v: V) {
    if map.len() >= CACHE_ENTRIES {
        map.clear();
    }
    map.insert(k, v);
}

impl OriginCache {
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// A catalog may have changed: forget every table's rows.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// `Some(shape)` when the statement text was read before (`Some(None)`: not plain).
    pub fn shape(&self, sql: &str) -> Option<Option<Arc<Shape>>> {
        let shapes = self.shapes.lock().unwrap_or_else(|p| p.into_inner());
        shapes.get(sql).cloned()
    }

    pub fn put_shape(&self, sql: &str, shape: Option<Arc<Shape>>) {
        let mut shapes = self.shapes.lock().unwrap_or_else(|p| p.into_inner());
        bounded_insert(&mut shapes, sql.to_owned(), shape);
    }

    pub fn tables(&self, names: &str) -> Option<TableRows> {
        let tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        match tables.get(names) {
            Some((g, rows)) if *g == self.generation() => Some(rows.clone()),
            _ => None,
        }
    }

    /// Keep rows read while the generation was `generation` (dropped if it moved since).
    pub fn put_tables(&self, names: String, generation: u64, rows: TableRows) {
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        if generation == self.generation() {
            bounded_insert(&mut tables, names, (generation, rows));
        }
    }
}

/// A table named in FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    pub catalog: Option<String>,
    pub schema: Option<String>,
    pub name: String,
    /// What the query calls it: its alias, or its name.
    pub called: String,
}

/// One entry of the select list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A column reference: the qualifier parts (relation, or schema and relation, …) and the
    /// column name.
    Column {
        qualifier: Vec<String>,
        name: String,
    },
    /// `*` (all tables) or `rel.*`.
    Star(Option<String>),
    /// Anything computed.
    Other,
}

/// The tables and select list of a plain SELECT, from `json_serialize_sql`'s output.
#[derive(Debug, PartialEq, Eq)]
pub struct Shape {
    pub tables: Vec<TableRef>,
    pub items: Vec<Item>,
}

/// A table's columns as the catalog lists them, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableColumns {
    pub oid: u32,
    /// (name, attribute number)
    pub columns: Vec<(String, i16)>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)?.as_str()? {
        "" => None,
        s => Some(s.to_owned()),
    }
}

fn is_empty(v: &Value, key: &str) -> bool {
    match v.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Bool(b)) => !b,
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    }
}

/// The base tables of a FROM clause, in the order their columns appear in `*`. `None` for
/// anything but base tables and joins of them; `star_safe` turns false where `*` would not be
/// the plain concatenation of the tables' columns (USING and NATURAL joins merge columns).
fn from_tables(v: &Value, out: &mut Vec<TableRef>, star_safe: &mut bool) -> Option<()> {
    match v.get("type")?.as_str()? {
        "BASE_TABLE" => {
            if !is_empty(v, "column_name_alias") || !is_empty(v, "at_clause") {
                return None;
            }
            let name = text(v, "table_name")?;
            out.push(TableRef {
                catalog: text(v, "catalog_name"),
                schema: text(v, "schema_name"),
                called: text(v, "alias").unwrap_or_else(|| name.clone()),
                name,
            });
            Some(())
        }
        "JOIN" => {
            if !is_empty(v, "using_columns") || v.get("ref_type")?.as_str()? == "NATURAL" {
                *star_safe = false;
            }
            from_tables(v.get("left")?, out, star_safe)?;
            from_tables(v.get("right")?, out, star_safe)
        }
        _ => None,
    }
}

/// Read the parse tree of one statement. `None` unless it is a plain SELECT over base tables.
pub fn shape(parse_tree: &str) -> Option<Shape> {
    let root: Value = serde_json::from_str(parse_tree).ok()?;
    if root.get("error")?.as_bool()? {
        return None;
    }
    let [statement] = root.get("statements")?.as_array()?.as_slice() else {
        return None;
    };
    let node = statement.get("node")?;
    if node.get("type")?.as_str()? != "SELECT_NODE" {
        return None;
    }
    // a CTE may shadow a table's name
    if !is_empty(node.get("cte_map")?, "map") {
        return None;
    }
    let mut tables = Vec::new();
    let mut star_safe = true;
    from_tables(node.get("from_table")?, &mut tables, &mut star_safe)?;
    let mut items = Vec::new();
    for e in node.get("select_list")?.as_array()? {
        let item = match e.get("class")?.as_str()? {
            "COLUMN_REF" => {
                let mut parts: Vec<String> = e
                    .get("column_names")?
                    .as_array()?
                    .iter()
                    .map(|p| p.as_str().map(str::to_owned))
                    .collect::<Option<_>>()?;
                let name = parts.pop()?;
                Item::Column {
                    qualifier: parts,
                    name,
                }
            }
            "STAR" => {
                let plain = ["exclude_list", "replace_list", "rename_list"]
                    .iter()
                    .chain(&["qualified_exclude_list", "columns", "expr"])
                    .all(|k| is_empty(e, k));
                if !plain || !star_safe {
                    return None;
                }
                Item::Star(text(e, "relation_name"))
            }
            _ => Item::Other,
        };
        items.push(item);
    }
    Some(Shape { tables, items })
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The (database, schema) places where `rows` hold a table of `t`'s name that its qualifiers
/// allow: `x.t` is schema x of some database, or database x's default schema.
fn candidates<'a>(t: &TableRef, rows: &'a [Vec<String>]) -> Vec<(&'a str, &'a str)> {
    let mut found: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r.len() >= 6 && same(&r[2], &t.name))
        .filter(|r| match (&t.catalog, &t.schema) {
            (Some(c), Some(s)) => same(&r[0], c) && same(&r[1], s),
            (None, Some(s)) => same(&r[1], s) || (same(&r[0], s) && same(&r[1], "main")),
            _ => true,
        })
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    found.dedup();
    found
}

/// Whether some table of `shape` is found in more than one place, so that resolving it needs
/// the session's current database and schema.
pub fn needs_place(shape: &Shape, rows: &[Vec<String>]) -> bool {
    shape.tables.iter().any(|t| candidates(t, rows).len() > 1)
}

/// The columns of the table `t` names, from catalog [`TableRows`] (`duckdb_columns()`, which
/// lists views too). A name found in one place is that table (DuckDB prepared the statement,
/// so the name resolved); one found in several is resolved as DuckDB resolves it, from the
/// session's current database and schema (`here`; `None` then finds nothing).
pub fn catalog_columns(
    t: &TableRef,
    rows: &[Vec<String>],
    here: Option<(&str, &str)>,
) -> Option<TableColumns> {
    let found = candidates(t, rows);
    let (db, schema) = match (found.as_slice(), here) {
        ([one], _) => *one,
        (_, None) => return None,
        (_, Some((current_db, current_schema))) => {
            // where the name may live, most likely first (current_schema() may present
            // DuckDB's `main` as `public`)
            let places: Vec<(&str, &str)> = match (&t.catalog, &t.schema) {
                (Some(c), Some(s)) => vec![(c, s)],
                (None, Some(s)) => vec![(current_db, s), (s, "main")],
                _ => vec![
                    ("temp", "main"),
                    (current_db, current_schema),
                    (current_db, "main"),
                ],
            };
            places
                .into_iter()
                .find(|(db, schema)| found.iter().any(|(d, s)| same(d, db) && same(s, schema)))?
        }
    };
    let mine: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r.len() >= 6 && same(&r[0], db) && same(&r[1], schema))
        .filter(|r| same(&r[2], &t.name))
        .collect();
    Some(TableColumns {
        oid: mine.first()?[3].parse().ok()?,
        columns: mine
            .iter()
            .map(|r| Some((r[4].clone(), r[5].parse().ok()?)))
            .collect::<Option<_>>()?,
    })
}

/// The table a qualifier names: its alias (or name), or `schema.table`, `catalog.schema.table`.
fn qualified<'a>(
    shape: &Shape,
    columns: &'a [Option<TableColumns>],
    qualifier: &[String],
) -> Option<&'a TableColumns> {
    let eq = |a: &str, b: &Option<String>| b.as_deref().is_some_and(|b| a.eq_ignore_ascii_case(b));
    let mut found = shape
        .tables
        .iter()
        .zip(columns)
        .filter(|(t, _)| match qualifier {
            [rel] => rel.eq_ignore_ascii_case(&t.called),
            [schema, rel] => {
                t.called == t.name && rel.eq_ignore_ascii_case(&t.name) && eq(schema, &t.schema)
            }
            [catalog, schema, rel] => {
                t.called == t.name
                    && rel.eq_ignore_ascii_case(&t.name)
                    && eq(schema, &t.schema)
                    && eq(catalog, &t.catalog)
            }
            _ => false,
        });
    match (found.next(), found.next()) {
        (Some((_, c)), None) => c.as_ref(),
        _ => None,
    }
}

/// (table OID, attribute number) of each result column, given the columns of each table of
/// `shape.tables` (`None`: not found in the catalog). `None` when the select list does not
/// expand to `result_columns` columns (then nothing is claimed).
pub fn origins(
    shape: &Shape,
    columns: &[Option<TableColumns>],
    result_columns: usize,
) -> Option<Vec<(u32, i16)>> {
    let mut out = Vec::with_capacity(result_columns);
    let attr = |t: &TableColumns, name: &str| {
        t.columns
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(name))
            .map(|&(_, n)| (t.oid, n))
    };
    for item in &shape.items {
        match item {
            Item::Other => out.push((0, 0)),
            Item::Column { qualifier, name } if qualifier.is_empty() => {
                // the one table that has such a column
                let mut hits = columns.iter().flatten().filter_map(|t| attr(t, name));
                out.push(match (hits.next(), hits.next()) {
                    (Some(hit), None) => hit,
                    _ => (0, 0),
                });
            }
            Item::Column { qualifier, name } => out.push(
                qualified(shape, columns, qualifier)
                    .and_then(|t| attr(t, name))
                    .unwrap_or((0, 0)),
            ),
            Item::Star(None) => {
                for t in columns {
                    // every table's columns are needed to know how many there are
                    let t = t.as_ref()?;
                    out.extend(t.columns.iter().map(|&(_, n)| (t.oid, n)));
                }
            }
            Item::Star(Some(rel)) => {
                let t = qualified(shape, columns, std::slice::from_ref(rel))?;
                out.extend(t.columns.iter().map(|&(_, n)| (t.oid, n)));
            }
        }
    }
    (out.len() == result_columns).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parts of DuckDB 1.5's `json_serialize_sql` output that [`shape`] reads.
    fn tree(select_list: &str, from: &str) -> String {
        format!(
            r#"{{"error":false,"statements":[{{"node":{{"type":"SELECT_NODE","modifiers":[],
            "cte_map":{{"map":[]}},"select_list":[{select_list}],"from_table":{from}}}}}]}}"#
        )
    }
    fn col(parts: &[&str]) -> String {
        format!(
            r#"{{"class":"COLUMN_REF","type":"COLUMN_REF","alias":"","column_names":{parts:?}}}"#
        )
    }
    fn star(rel: &str) -> String {
        format!(
            r#"{{"class":"STAR","type":"STAR","alias":"","relation_name":"{rel}","exclude_list":[],
            "replace_list":[],"columns":false,"expr":null,"qualified_exclude_list":[],"rename_list":[]}}"#
        )
    }
    fn table(name: &str, alias: &str) -> String {
        format!(
            r#"{{"type":"BASE_TABLE","alias":"{alias}","schema_name":"","table_name":"{name}",
            "column_name_alias":[],"catalog_name":"","at_clause":null}}"#
        )
    }
    fn join(l: &str, r: &str, using: &str, ref_type: &str) -> String {
        format!(
            r#"{{"type":"JOIN","left":{l},"right":{r},"join_type":"INNER","ref_type":"{ref_type}",
            "using_columns":[{using}]}}"#
        )
    }
    fn cols(oid: u32, names: &[&str]) -> Option<TableColumns> {
        Some(TableColumns {
            oid,
            columns: names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.to_string(), i as i16 + 1))
                .collect(),
        })
    }
    const OTHER: &str = r#"{"class":"FUNCTION","type":"FUNCTION","alias":"","function_name":"+"}"#;

    #[test]
    fn columns_and_stars_of_one_table() {
        let s = shape(&tree(
            &[col(&["b"]), col(&["t", "a"]), star(""), OTHER.into()].join(","),
            &table("orders", "t"),
        ))
        .unwrap();
        assert_eq!(s.tables[0].called, "t");
        let o = origins(&s, &[cols(7, &["a", "b"])], 5).unwrap();
        assert_eq!(o, vec![(7, 2), (7, 1), (7, 1), (7, 2), (0, 0)]);
        // a count that does not add up claims nothing
        assert_eq!(origins(&s, &[cols(7, &["a", "b"])], 4), None);
    }

    #[test]
    fn joins_resolve_by_alias_and_by_the_one_table_having_the_column() {
        let s = shape(&tree(
            &[
                col(&["x", "id"]),
                col(&["y", "id"]),
                col(&["only_y"]),
                col(&["id"]),
                star("y"),
            ]
            .join(","),
            &join(&table("a", "x"), &table("b", "y"), "", "REGULAR"),
        ))
        .unwrap();
        let t = [cols(1, &["id"]), cols(2, &["id", "only_y"])];
        let o = origins(&s, &t, 6).unwrap();
        // unqualified `id` is in both tables: unknown, as for an expression
        assert_eq!(o, vec![(1, 1), (2, 1), (2, 2), (0, 0), (2, 1), (2, 2)]);
    }

    #[test]
    fn what_is_not_a_plain_select_over_tables_has_no_shape() {
        // USING merges the join columns: `*` is not the concatenation any more
        let using = tree(
            &star(""),
            &join(&table("a", ""), &table("b", ""), r#""id""#, "REGULAR"),
        );
        assert_eq!(shape(&using), None);
        // but columns named one by one still are
        assert!(shape(&tree(
            &col(&["a", "id"]),
            &join(&table("a", ""), &table("b", ""), r#""id""#, "REGULAR")
        ))
        .is_some());
        let sub = tree(&star(""), r#"{"type":"SUBQUERY","alias":"s"}"#);
        assert_eq!(shape(&sub), None);
        let cte = tree(&star(""), &table("t", "")).replace(
            r#""cte_map":{"map":[]}"#,
            r#""cte_map":{"map":[{"key":"t"}]}"#,
        );
        assert_eq!(shape(&cte), None);
        let exclude = tree(
            &star("").replace(r#""exclude_list":[]"#, r#""exclude_list":["a"]"#),
            &table("t", ""),
        );
        assert_eq!(shape(&exclude), None);
        assert_eq!(shape(r#"{"error":true,"error_message":"syntax"}"#), None);
        assert_eq!(shape("not json"), None);
    }

    #[test]
    fn names_resolve_like_duckdb_temp_first_then_the_current_schema() {
        let row = |db: &str, schema: &str, t: &str, oid: u32, c: &str, i: i16| {
            [db, schema, t, &oid.to_string(), c, &i.to_string()]
                .map(str::to_owned)
                .to_vec()
        };
        let rows = vec![
            row("default", "main", "t", 10, "a", 1),
            row("default", "main", "t", 10, "b", 2),
            row("default", "sales", "T", 11, "x", 1),
            row("lake", "main", "t", 12, "y", 1),
            row("temp", "main", "tmp", 13, "z", 1),
        ];
        let t = |catalog: Option<&str>, schema: Option<&str>, name: &str| TableRef {
            catalog: catalog.map(str::to_owned),
            schema: schema.map(str::to_owned),
            name: name.into(),
            called: name.into(),
        };
        let here = Some(("default", "public"));
        let oid = |r: &TableRef| catalog_columns(r, &rows, here).map(|c| c.oid);
        assert_eq!(oid(&t(None, None, "T")), Some(10));
        assert_eq!(
            catalog_columns(&t(None, None, "t"), &rows, here)
                .unwrap()
                .columns,
            vec![("a".to_string(), 1), ("b".to_string(), 2)]
        );
        assert_eq!(oid(&t(None, None, "tmp")), Some(13));
        assert_eq!(oid(&t(None, Some("sales"), "t")), Some(11));
        // `lake.t`: no schema lake in the current database, so database lake's main
        assert_eq!(oid(&t(None, Some("lake"), "t")), Some(12));
        assert_eq!(oid(&t(Some("lake"), Some("main"), "t")), Some(12));
        assert_eq!(oid(&t(None, None, "missing")), None);
        assert_eq!(oid(&t(None, Some("nowhere"), "t")), None);
        // a name in one place needs no current schema; one in several does
        assert_eq!(
            catalog_columns(&t(None, None, "tmp"), &rows, None).map(|c| c.oid),
            Some(13)
        );
        assert_eq!(catalog_columns(&t(None, None, "t"), &rows, None), None);
        let shape = |name: &str| Shape {
            tables: vec![t(None, None, name)],
            items: vec![Item::Star(None)],
        };
        assert!(needs_place(&shape("t"), &rows));
        assert!(!needs_place(&shape("tmp"), &rows));
    }

    #[test]
    fn a_star_over_a_table_missing_from_the_catalog_claims_nothing() {
        let s = shape(&tree(&star(""), &table("t", ""))).unwrap();
        assert_eq!(origins(&s, &[None], 2), None);
        let s = shape(&tree(
            &[col(&["a"]), OTHER.into()].join(","),
            &table("t", ""),
        ))
        .unwrap();
        assert_eq!(origins(&s, &[None], 2), Some(vec![(0, 0), (0, 0)]));
    }
}
