//! Composite types, row types and the pg_attribute rows that are not a table's columns
//! (issue #5): a composite (STRUCT) type has a pg_class row (relkind 'c') whose pg_attribute
//! rows are its fields (psycopg's CompositeInfo, asyncpg, pgx and Npgsql decode composites with
//! them); every table and view has a row type and an array type in pg_type that
//! pg_class.reltype points to (pgJDBC, DBeaver); tables have PostgreSQL's system columns and
//! indexes their columns (DBeaver, psql \d INDEX).

mod common;

use common::{query_text as q, start};

/// psycopg 3's CompositeInfo query (fields of one type, by name), as psycopg sends it.
const FIELDS: &str = "SELECT a.attname, a.atttypid, a.attnum \
     FROM pg_type t JOIN pg_attribute a ON a.attrelid = t.typrelid \
     WHERE t.oid = to_regtype($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

async fn fields(c: &tokio_postgres::Client, ty: &str) -> Vec<(String, u32, i16)> {
    c.query(FIELDS, &[&ty])
        .await
        .unwrap_or_else(|e| panic!("{ty}: {e:?}"))
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_types_have_a_class_and_their_fields_as_attributes() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TYPE mood AS ENUM ('a, b', 'c'); \
         CREATE TYPE address AS STRUCT(street TEXT, city VARCHAR); \
         CREATE TYPE \"odd one\" AS STRUCT(\"a b\" INTEGER, \"c\"\"d\" STRUCT(x DECIMAL(10,2), y TEXT[]), \
           m mood, n DECIMAL(12,3), f MAP(VARCHAR, INTEGER))",
    )
    .await
    .unwrap();
    assert_eq!(
        fields(&c, "address").await,
        [("street".into(), 25, 1), ("city".into(), 25, 2)]
    );
    let mood = q(&c, "SELECT oid FROM pg_type WHERE typname = 'mood'").await[0][0]
        .parse::<u32>()
        .unwrap();
    // quoted names, nested types (a nested STRUCT or MAP is json on the wire), an enum field
    assert_eq!(
        fields(&c, "\"odd one\"").await,
        [
            ("a b".into(), 23, 1),
            ("c\"d".into(), 114, 2),
            ("m".into(), mood, 3),
            ("n".into(), 1700, 4),
            ("f".into(), 114, 5),
        ]
    );
    // numeric(12,3)'s typmod, as PostgreSQL encodes it
    assert_eq!(
        q(
            &c,
            "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
             JOIN pg_type t ON a.attrelid = t.typrelid WHERE t.typname = 'odd one' AND a.attname = 'n'"
        )
        .await,
        [["numeric(12,3)"]]
    );
    // the type's class: relkind 'c', reltype back to the type, relnatts its field count; the
    // type is a composite read with record_in
    assert_eq!(
        q(
            &c,
            "SELECT c.relname, c.relkind, c.reltype = t.oid, c.relnatts, t.typtype, t.typinput, \
               t.typalign, c.relnamespace = t.typnamespace \
             FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid WHERE t.typname = 'address'"
        )
        .await,
        [["address", "c", "t", "2", "c", "record_in", "d", "t"]]
    );
    // regclass and regtype name the type's class and the type as the catalog numbers them
    assert_eq!(
        q(
            &c,
            "SELECT 'address'::regclass::oid = t.typrelid, c.oid::regclass, c.reltype::regtype, \
               pg_table_is_visible(c.oid) \
             FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid WHERE t.typname = 'address'"
        )
        .await,
        [["t", "address", "address", "t"]]
    );
    // a type created by another session afterwards is seen, a dropped one is gone
    let other = gw.connect().await;
    other
        .batch_execute("DROP TYPE address; CREATE TYPE address AS STRUCT(zip INTEGER)")
        .await
        .unwrap();
    assert_eq!(fields(&c, "address").await, [("zip".into(), 23, 1)]);
    // inside a transaction: the fields of a type created there, gone after ROLLBACK
    c.batch_execute("BEGIN; CREATE TYPE point2 AS STRUCT(x DOUBLE, y DOUBLE)")
        .await
        .unwrap();
    assert_eq!(
        fields(&c, "point2").await,
        [("x".into(), 701, 1), ("y".into(), 701, 2)]
    );
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(
        q(
            &c,
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE c.relname = 'point2'"
        )
        .await,
        [["0"]]
    );
    assert_eq!(fields(&c, "address").await, [("zip".into(), 23, 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relations_have_row_types_system_columns_and_index_columns() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, d DOUBLE, \"Odd Col\" INTEGER UNIQUE); \
         CREATE INDEX t_sd ON t (s, d); \
         CREATE INDEX t_expr ON t (\"Odd Col\", lower(s)); \
         CREATE VIEW v AS SELECT id FROM t",
    )
    .await
    .unwrap();
    // an array column's declared dimensions (DBeaver's column list reads attndims)
    c.batch_execute("CREATE TABLE arrays (a INTEGER[], b INTEGER[3][], s STRUCT(x INTEGER[]))")
        .await
        .unwrap();
    assert_eq!(
        q(
            &c,
            "SELECT attname, attndims FROM pg_attribute \
             WHERE attrelid = 'arrays'::regclass AND attnum > 0 ORDER BY attnum"
        )
        .await,
        [["a", "1"], ["b", "2"], ["s", "0"]]
    );
    // the row type and its array, as pgJDBC reads them; reltype and typrelid agree
    assert_eq!(
        q(
            &c,
            "SELECT c.relname, t.typname, t.typtype, t.typrelid = c.oid, a.typname, a.typelem = t.oid, \
               a.typinput, t.oid = c.reltype \
             FROM pg_class c JOIN pg_type t ON t.oid = c.reltype JOIN pg_type a ON a.oid = t.typarray \
             WHERE c.relname IN ('t', 'v') ORDER BY 1"
        )
        .await,
        [
            ["t", "t", "c", "t", "_t", "t", "array_in", "t"],
            ["v", "v", "c", "t", "_v", "t", "array_in", "t"],
        ]
    );
    // indexes have no row type; the names cast to regtype and regclass agree with the catalog
    assert_eq!(
        q(&c, "SELECT reltype FROM pg_class WHERE relname = 't_sd'").await,
        [["0"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT 't'::regtype::oid = (SELECT reltype FROM pg_class WHERE oid = 't'::regclass::oid), \
                    '_t'::regtype::oid = (SELECT typarray FROM pg_type WHERE typname = 't')"
        )
        .await,
        [["t", "t"]]
    );
    // system columns: PostgreSQL 15's numbers and types, tables only
    assert_eq!(
        q(
            &c,
            "SELECT attname, atttypid, attlen, attbyval FROM pg_attribute \
             WHERE attrelid = 't'::regclass AND attnum < 0 ORDER BY attnum DESC"
        )
        .await,
        [
            ["ctid", "27", "6", "f"],
            ["xmin", "28", "4", "t"],
            ["cmin", "29", "4", "t"],
            ["xmax", "28", "4", "t"],
            ["cmax", "29", "4", "t"],
            ["tableoid", "26", "4", "t"],
        ]
    );
    assert_eq!(
        q(
            &c,
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'v'::regclass AND attnum < 0"
        )
        .await,
        [["0"]]
    );
    // an index's columns (psql \d t_sd): attrelid = the index, in the index's order
    assert_eq!(
        q(
            &c,
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnum FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = 't_sd' ORDER BY a.attnum"
        )
        .await,
        [["s", "text", "1"], ["d", "double precision", "2"]]
    );
    // a quoted column name and an expression (PostgreSQL names it expr), the constraints'
    // indexes (primary key, unique)
    assert_eq!(
        q(
            &c,
            "SELECT a.attname, a.attnum FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE c.relname = 't_expr' ORDER BY a.attnum"
        )
        .await,
        [["Odd Col", "1"], ["expr", "2"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT i.indisprimary, a.attname FROM pg_attribute a JOIN pg_index i ON i.indexrelid = a.attrelid \
             WHERE i.indrelid = 't'::regclass AND i.indisunique ORDER BY 1"
        )
        .await,
        [["f", "Odd Col"], ["t", "id"]]
    );
}
