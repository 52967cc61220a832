//! pg_table_size(), pg_relation_size(), pg_indexes_size(), pg_total_relation_size(),
//! pg_database_size() and pg_size_pretty() (psql `\dt+` `\di+` `\l+`, DBeaver's statistics):
//! the bytes DuckDB's storage reports for each table (see `sql::catalog::relation_sizes_query`
//! for the definition), 0 or NULL where PostgreSQL answers 0 or NULL, PostgreSQL's errors, and
//! PostgreSQL's size units.

mod common;

use common::{query_text as q, sqlstate, start};

async fn one(c: &tokio_postgres::Client, sql: &str) -> String {
    q(c, sql).await[0][0].clone()
}

async fn int(c: &tokio_postgres::Client, sql: &str) -> i64 {
    let v = one(c, sql).await;
    v.parse().unwrap_or_else(|_| panic!("{sql}: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sizes_follow_what_duckdb_stores() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, s VARCHAR); \
         CREATE INDEX t_s ON t (s); \
         CREATE VIEW v AS SELECT * FROM t; \
         CREATE TABLE empty (x INTEGER); \
         CREATE SEQUENCE sq; \
         CREATE SCHEMA \"My Schema\"; \
         CREATE TABLE \"My Schema\".\"Odd Table\" (x BIGINT)",
    )
    .await
    .unwrap();

    // nothing written yet: 0 bytes, as an empty PostgreSQL table; a view and a sequence have no
    // data of their own (PostgreSQL: 0 for a view)
    for rel in ["'empty'", "'v'", "'sq'"] {
        assert_eq!(
            q(
                &c,
                &format!(
                    "SELECT pg_table_size({rel}), pg_relation_size({rel}), pg_indexes_size({rel}), \
                     pg_total_relation_size({rel})"
                )
            )
            .await,
            [["0", "0", "0", "0"]],
            "{rel}"
        );
    }

    // rows not yet checkpointed are in-memory segments: their values' widths (a temporary
    // table: 1000 INTEGERs = 4000 bytes plus the validity mask, 8 bytes per 64 rows)
    c.batch_execute(
        "CREATE TEMP TABLE tt (a INTEGER); INSERT INTO tt SELECT range FROM range(1000)",
    )
    .await
    .unwrap();
    assert_eq!(
        q(
            &c,
            "SELECT pg_table_size('tt'), pg_table_size('pg_temp.tt')"
        )
        .await,
        [["4128", "4128"]]
    );

    // sizes grow with the rows, by OID or by name (PostgreSQL's regclass input)
    c.batch_execute("INSERT INTO t SELECT range, 'row ' || range FROM range(1000)")
        .await
        .unwrap();
    let oid = one(&c, "SELECT oid FROM pg_class WHERE relname = 't'").await;
    let first = int(&c, &format!("SELECT pg_table_size({oid})")).await;
    assert!(first > 0, "{first}");
    assert_eq!(
        q(
            &c,
            "SELECT pg_table_size('t'), pg_table_size('public.t'), pg_relation_size('t'), \
             pg_relation_size('t', 'main'), pg_table_size('public.t'::regclass)"
        )
        .await,
        [[
            first.to_string(),
            first.to_string(),
            first.to_string(),
            first.to_string(),
            first.to_string()
        ]]
    );
    c.batch_execute("INSERT INTO t SELECT range, 'row ' || range FROM range(1000, 5000)")
        .await
        .unwrap();
    let grown = int(&c, "SELECT pg_table_size('t')").await;
    assert!(grown > first, "{first} -> {grown}");

    // indexes: each has a size; the table's indexes add up to pg_indexes_size and the total is
    // table + indexes; an index has no indexes of its own
    let index_sizes = q(
        &c,
        &format!(
            "SELECT c.relname, pg_relation_size(i.indexrelid), pg_indexes_size(i.indexrelid) \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = {oid} \
             ORDER BY 1"
        ),
    )
    .await;
    assert_eq!(index_sizes.len(), 2, "{index_sizes:?}");
    let sum: i64 = index_sizes
        .iter()
        .map(|r| {
            assert_eq!(r[2], "0", "{r:?}");
            let n: i64 = r[1].parse().unwrap();
            assert!(n > 0, "{r:?}");
            n
        })
        .sum();
    assert_eq!(
        q(
            &c,
            "SELECT pg_indexes_size('t'), pg_total_relation_size('t')"
        )
        .await,
        [[sum.to_string(), (grown + sum).to_string()]]
    );

    // names that need quoting
    c.batch_execute("INSERT INTO \"My Schema\".\"Odd Table\" SELECT range FROM range(100)")
        .await
        .unwrap();
    let odd = q(
        &c,
        "SELECT pg_table_size('\"My Schema\".\"Odd Table\"'), pg_table_size(c.oid) \
         FROM pg_class c WHERE c.relname = 'Odd Table'",
    )
    .await;
    assert_eq!(odd[0][0], odd[0][1]);
    assert!(odd[0][0].parse::<i64>().unwrap() > 0, "{odd:?}");

    // PostgreSQL: NULL for an OID that is no relation, an error for a name that is none, for a
    // fork that does not exist; the other forks of a DuckDB table are empty
    assert_eq!(
        q(
            &c,
            "SELECT pg_table_size(987654321), pg_total_relation_size(987654321), \
             pg_table_size(NULL::bigint), pg_relation_size('t', 'fsm')"
        )
        .await,
        [["NULL", "NULL", "NULL", "0"]]
    );
    let e = c
        .simple_query("SELECT pg_table_size('no_such_table')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42P01", "{e:?}");
    let e = c
        .simple_query("SELECT pg_relation_size('t', 'bogus')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "22023", "{e:?}");

    // the extended protocol, as DBeaver asks (`pg_relation_size(i.indexrelid)` with a parameter)
    let rows = c
        .query(
            "SELECT pg_catalog.pg_relation_size(c.oid) FROM pg_catalog.pg_class c \
             WHERE c.relname = $1",
            &[&"t"],
        )
        .await
        .unwrap();
    assert_eq!(rows[0].get::<_, i64>(0), grown);

    // a table created in the open transaction is there (its uncommitted rows are in the
    // transaction's own storage, which DuckDB reports once committed)
    c.batch_execute("BEGIN; CREATE TABLE tx (a INTEGER)")
        .await
        .unwrap();
    assert_eq!(one(&c, "SELECT pg_table_size('tx')").await, "0");
    c.batch_execute("ROLLBACK").await.unwrap();

    // written to the database file: each table's segments span from their offset in a block to
    // the next segment's (any table's) or the block's end, so the tables of a database add up
    // to exactly the blocks their segments use (pragma_storage_info, asked table by table)
    c.batch_execute("CHECKPOINT").await.unwrap();
    let db = one(&c, "SELECT current_database()").await;
    let tables = q(
        &c,
        &format!(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = '{db}' \
             AND NOT internal"
        ),
    )
    .await;
    assert!(tables.len() >= 3, "{tables:?}");
    let mut blocks = std::collections::BTreeSet::new();
    let mut extra = 0i64;
    for t in &tables {
        let name = format!(
            "\"{db}\".\"{}\".\"{}\"",
            t[0].replace('"', "\"\""),
            t[1].replace('"', "\"\"")
        );
        for r in q(
            &c,
            &format!(
                "SELECT block_id, len(additional_block_ids) FROM pragma_storage_info('{}') \
                 WHERE persistent AND block_id >= 0",
                name.replace('\'', "''")
            ),
        )
        .await
        {
            blocks.insert(r[0].clone());
            extra += r[1].parse::<i64>().unwrap();
        }
    }
    let block_size = int(
        &c,
        &format!("SELECT block_size FROM pragma_database_size() WHERE database_name = '{db}'"),
    )
    .await;
    assert!(!blocks.is_empty());
    let total = int(
        &c,
        &format!(
            "SELECT sum(pg_table_size(table_oid)) FROM duckdb_tables() \
             WHERE database_name = '{db}' AND NOT internal"
        ),
    )
    .await;
    assert_eq!(total, (blocks.len() as i64 + extra) * block_size);
    let stored = int(&c, "SELECT pg_table_size('t')").await;
    assert!(stored > 0 && stored <= total, "{stored} of {total}");
    // and grows again with rows written after the checkpoint
    c.batch_execute("INSERT INTO t SELECT range, 'more' FROM range(5000, 6000)")
        .await
        .unwrap();
    assert!(int(&c, "SELECT pg_table_size('t')").await > stored);

    // the database: its file's used blocks, by name or by OID; NULL for an unknown OID
    let (by_name, by_oid) = {
        let r = q(
            &c,
            "SELECT pg_database_size(current_database()), pg_database_size(d.oid) \
             FROM pg_database d WHERE d.datname = current_database()",
        )
        .await;
        (r[0][0].clone(), r[0][1].clone())
    };
    assert_eq!(by_name, by_oid);
    assert!(by_name.parse::<i64>().unwrap() >= total, "{by_name}");
    assert_eq!(one(&c, "SELECT pg_database_size(987654321)").await, "NULL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_pretty_uses_postgresql_units() {
    let gw = start().await;
    let c = gw.connect().await;
    // PostgreSQL 15's answers (half-rounded, 10 kB from 10240 bytes on, PB above TB)
    let cases = [
        (0i64, "0 bytes"),
        (1, "1 bytes"),
        (10239, "10239 bytes"),
        (10240, "10 kB"),
        (10752, "11 kB"),
        (524288, "512 kB"),
        (5000000, "4883 kB"),
        (10485247, "10239 kB"),
        (10485248, "10 MB"),
        (10736893951, "10239 MB"),
        (10736893952, "10 GB"),
        (10994579406847, "10239 GB"),
        (10994579406848, "10 TB"),
        (11258449312612351, "10239 TB"),
        (11258449312612352, "10 PB"),
    ];
    for (n, want) in cases {
        assert_eq!(
            q(
                &c,
                &format!(
                    "SELECT pg_catalog.pg_size_pretty({n}::bigint), pg_size_pretty(-{n}::bigint)"
                )
            )
            .await,
            [[
                want.to_string(),
                format!("-{want}").replace("-0 bytes", "0 bytes")
            ]],
            "{n}"
        );
    }
    assert_eq!(one(&c, "SELECT pg_size_pretty(NULL::bigint)").await, "NULL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_lists_show_sizes() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t SELECT range FROM range(3000)",
    )
    .await
    .unwrap();
    let size = one(&c, "SELECT pg_size_pretty(pg_table_size('t'))").await;
    let index = one(&c, "SELECT pg_size_pretty(pg_relation_size('t_pkey'))").await;
    let conn = gw.conn_str("md:");
    let (out, err, ok) = common::psql(&conn, &["-c", "\\dt+", "-c", "\\di+"], None);
    assert!(ok, "{err}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.split('|').nth(1).map(str::trim) == Some(name))
            .unwrap_or_else(|| panic!("{name} not in {out}"))
            .to_owned()
    };
    assert!(line("t").contains(&format!("| {size} ")), "{out}");
    assert!(line("t_pkey").contains(&format!("| {index} ")), "{out}");
}
