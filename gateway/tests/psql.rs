//! The real psql binary against the gateway.

mod common;

use common::{psql, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_connects_runs_statements_and_reports_errors() {
    let gw = start().await;
    let conn = gw.conn_str("md:");
    let (out, err, ok) = psql(
        &conn,
        &[
            "-c",
            "CREATE TABLE items(id INTEGER, name VARCHAR)",
            "-c",
            "INSERT INTO items VALUES (1, 'one'), (2, NULL)",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(out, "CREATE TABLE\nINSERT 0 2\n");

    // aligned output, NULL display, multi-statement input, an error in the middle
    let script = "\\pset null '(null)'\n\
                  SELECT id, name FROM items ORDER BY id;\n\
                  SELECT * FROM missing;\n\
                  SELECT 'still alive' AS status;\n\
                  \\x\n\
                  SELECT 1 AS a, 'b' AS b;\n";
    let (out, err, _) = psql(&conn, &[], Some(script));
    assert!(
        out.contains(" id |  name  \n----+--------\n  1 | one\n  2 | (null)\n(2 rows)"),
        "{out}"
    );
    assert!(err.contains("ERROR:") && err.contains("missing"), "{err}");
    assert!(out.contains("still alive"), "{out}");
    assert!(out.contains("-[ RECORD 1 ]\na | 1\nb | b"), "{out}");

    // -A -t output of types
    let (out, err, ok) = psql(
        &conn,
        &[
            "-A",
            "-t",
            "-c",
            "SELECT 1.5::DOUBLE, DATE '2024-01-01', [1,2]::INTEGER[], true",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(out, "1.5|2024-01-01|{1,2}|t\n");

    // errors set a failing exit status with ON_ERROR_STOP
    let (_, err, ok) = psql(&conn, &["-v", "ON_ERROR_STOP=1", "-c", "SELEC 1"], None);
    assert!(!ok);
    assert!(err.contains("syntax error"), "{err}");

    // an unknown database is refused at connect time
    let (_, err, ok) = psql(&gw.conn_str("nope"), &["-c", "SELECT 1"], None);
    assert!(!ok);
    assert!(err.contains("database \"nope\" does not exist"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_transactions_and_settings() {
    let gw = start().await;
    let conn = gw.conn_str("md:");
    let script = "CREATE TABLE t(a INTEGER);\n\
                  BEGIN;\n\
                  INSERT INTO t VALUES (1);\n\
                  SELECT 1/0::INTEGER AS x, nope;\n\
                  SELECT 1;\n\
                  ROLLBACK;\n\
                  SELECT count(*) AS n FROM t;\n\
                  SET TimeZone = 'America/New_York';\n\
                  SELECT TIMESTAMPTZ '2024-01-01 12:00:00+00' AS ts;\n\
                  SHOW TimeZone;\n";
    let (out, err, _) = psql(&conn, &["-A", "-t"], Some(script));
    assert!(err.contains("current transaction is aborted"), "{err}");
    assert!(out.contains("ROLLBACK\n0\n"), "{out}");
    assert!(out.contains("2024-01-01 07:00:00-05"), "{out}");
    assert!(out.contains("America/New_York"), "{out}");
}

/// psql's catalog listings answer with the DuckDB database's real objects (sql::catalog).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_backslash_listings_show_the_duckdb_objects() {
    let gw = start().await;
    let conn = gw.conn_str("md:");
    let (_, err, ok) = psql(
        &conn,
        &[
            "-c",
            "CREATE SCHEMA sales",
            "-c",
            "CREATE TABLE orders(id INTEGER PRIMARY KEY, amount DECIMAL(10,2))",
            "-c",
            "CREATE TABLE sales.leads(id INTEGER)",
            "-c",
            "CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100",
        ],
        None,
    );
    assert!(ok, "{err}");
    let run = |cmd: &str| {
        let (out, err, ok) = psql(&conn, &["-c", cmd], None);
        assert!(ok && err.is_empty(), "{cmd}: {err}");
        out
    };
    let l = run("\\l");
    assert!(
        l.contains("List of databases") && l.contains(" default | duckdb | UTF8"),
        "{l}"
    );
    assert!(!l.contains("system") && !l.contains(" temp "), "{l}");
    let dn = run("\\dn");
    // PostgreSQL 15's public schema belongs to pg_database_owner
    assert!(
        dn.contains(" public | pg_database_owner")
            && dn.contains(" sales  | duckdb")
            && !dn.contains(" main "),
        "{dn}"
    );
    let dt = run("\\dt");
    assert!(dt.contains(" public | orders | table | duckdb"), "{dt}");
    assert!(!dt.contains("big_orders"), "{dt}");
    let dt_all = run("\\dt sales.*");
    assert!(
        dt_all.contains(" sales  | leads | table | duckdb"),
        "{dt_all}"
    );
    let dv = run("\\dv");
    assert!(dv.contains(" public | big_orders | view | duckdb"), "{dv}");
    let du = run("\\du");
    assert!(du.contains(" duckdb    | Superuser"), "{du}");
    let d = run("\\d orders");
    assert!(d.contains("Table \"public.orders\""), "{d}");
    assert!(
        d.contains(" id     | integer       |           | not null |"),
        "{d}"
    );
    assert!(d.contains(" amount | numeric(10,2) |"), "{d}");
    let dplus = run("\\d+ orders");
    assert!(
        dplus.contains("Storage") && dplus.contains(" amount "),
        "{dplus}"
    );
    let dv = run("\\d big_orders");
    assert!(dv.contains("View \"public.big_orders\""), "{dv}");
    let all = run("\\d");
    assert!(
        all.contains(" orders ") && all.contains(" big_orders "),
        "{all}"
    );
    let (_, err, ok) = psql(
        &conn,
        &["-c", "CREATE INDEX amount_idx ON orders(amount)"],
        None,
    );
    assert!(ok, "{err}");
    let di = run("\\di");
    let row = |name: &str| {
        di.lines()
            .any(|l| l.contains(&format!(" {name} ")) && l.contains("| index | duckdb | orders"))
    };
    assert!(row("amount_idx"), "{di}");
    // the PRIMARY KEY's index, under PostgreSQL's name
    assert!(row("orders_pkey"), "{di}");
}

/// Session statements pools and drivers send: asyncpg's reset batch, DISCARD ALL, set_config /
/// current_setting, LISTEN refused with 0A000.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_reset_statements_and_setting_functions() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute("SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;")
        .await
        .unwrap();
    c.batch_execute("CREATE TEMP TABLE scratch(i INT); SET application_name = 'before'")
        .await
        .unwrap();
    let stmt = c.prepare("SELECT 1").await.unwrap();
    c.batch_execute("DISCARD ALL").await.unwrap();
    let e = c.simple_query("SELECT * FROM scratch").await.unwrap_err();
    assert_eq!(common::sqlstate(&e), "42P01", "temporary tables are gone");
    assert!(
        c.query(&stmt, &[]).await.is_err(),
        "prepared statements are gone"
    );
    let row = c
        .query_one(
            "SELECT set_config('application_name', 'pooled', false)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "pooled");
    let row = c
        .query_one("SELECT current_setting('application_name')", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "pooled");
    let e = c.simple_query("LISTEN jobs").await.unwrap_err();
    assert_eq!(common::sqlstate(&e), "0A000");
    c.batch_execute("BEGIN").await.unwrap();
    let e = c.simple_query("DISCARD ALL").await.unwrap_err();
    assert_eq!(common::sqlstate(&e), "25001");
}

/// What psql's `\d` and the ORMs' reflection read about keys, indexes, types and comments: the
/// DuckDB objects under PostgreSQL's names (sql::catalog).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_keys_indexes_types_and_comments() {
    let gw = start().await;
    let conn = gw.conn_str("md:");
    let setup = "CREATE TYPE mood AS ENUM ('happy', 'sad');\n\
                 CREATE TABLE customers(id INTEGER PRIMARY KEY, email TEXT UNIQUE, m mood, \
                   n INTEGER NOT NULL CHECK (n > 0));\n\
                 CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id));\n\
                 CREATE SCHEMA inv;\n\
                 CREATE TABLE inv.items(sku VARCHAR PRIMARY KEY);\n\
                 COMMENT ON TABLE customers IS 'people who buy';\n\
                 COMMENT ON COLUMN customers.email IS 'contact';\n";
    let (_, err, ok) = psql(&conn, &["-v", "ON_ERROR_STOP=1"], Some(setup));
    assert!(ok, "{err}");
    let q = |sql: &str| {
        let (out, err, ok) = psql(&conn, &["-A", "-t", "-c", sql], None);
        assert!(ok && err.is_empty(), "{sql}: {err}");
        out
    };
    // constraints: PostgreSQL's names and definitions, no NOT NULL rows
    assert_eq!(
        q(
            "SELECT conname, contype, pg_get_constraintdef(oid, true) FROM pg_constraint \
           WHERE conrelid IN ('customers'::regclass, 'orders'::regclass) ORDER BY conname"
        ),
        "customers_email_key|u|UNIQUE (email)\n\
         customers_n_check|c|CHECK ((n > 0))\n\
         customers_pkey|p|PRIMARY KEY (id)\n\
         orders_customer_id_fkey|f|FOREIGN KEY (customer_id) REFERENCES customers(id)\n\
         orders_pkey|p|PRIMARY KEY (id)\n"
    );
    // the foreign key points at the referenced table, its columns and its key's index
    assert_eq!(
        q("SELECT confrelid::regclass, confkey, conindid::regclass FROM pg_constraint WHERE contype = 'f'"),
        "customers|{1}|customers_pkey\n"
    );
    // the keys' indexes, as psql's \d lists them
    assert_eq!(
        q("SELECT c2.relname, i.indisprimary, i.indisunique, pg_get_indexdef(i.indexrelid, 0, true), am.amname \
           FROM pg_class c2 JOIN pg_index i ON i.indexrelid = c2.oid JOIN pg_am am ON am.oid = c2.relam \
           WHERE i.indrelid = 'customers'::regclass ORDER BY i.indisprimary DESC, c2.relname"),
        "customers_pkey|t|t|CREATE UNIQUE INDEX customers_pkey ON customers USING btree (id)|btree\n\
         customers_email_key|f|t|CREATE UNIQUE INDEX customers_email_key ON customers USING btree (email)|btree\n"
    );
    // a schema outside the search path is not visible and is qualified
    assert_eq!(
        q("SELECT relname, pg_table_is_visible(oid) FROM pg_class WHERE relname IN ('items', 'orders') ORDER BY 1"),
        "items|f\norders|t\n"
    );
    assert_eq!(
        q("SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'inv.items'::regclass"),
        "CREATE UNIQUE INDEX items_pkey ON inv.items USING btree (sku)\n"
    );
    // comments
    assert_eq!(
        q("SELECT obj_description('customers'::regclass, 'pg_class'), col_description('customers'::regclass, 2)"),
        "people who buy|contact\n"
    );
    // an enum is a type of its own, with an array type, and its columns have it
    assert_eq!(
        q("SELECT t.typname, t.typtype, a.typname, a.typelem = t.oid, format_type(t.typarray, NULL) \
           FROM pg_type t JOIN pg_type a ON a.oid = t.typarray WHERE t.oid = to_regtype('mood')"),
        "mood|e|_mood|t|mood[]\n"
    );
    assert_eq!(
        q("SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
           WHERE attrelid = 'customers'::regclass AND attname = 'm'"),
        "mood\n"
    );
    assert_eq!(
        q("SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = to_regtype('mood')"),
        "happy,sad\n"
    );
}
