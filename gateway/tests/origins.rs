//! Result columns name their table and attribute in RowDescription, as PostgreSQL's do:
//! pgJDBC's `ResultSetMetaData.getTableName`/`isNullable`, Npgsql's KeyInfo and DBeaver's
//! editable grids look them up in pg_class / pg_attribute.

mod common;

use common::start;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn described_columns_carry_the_table_oid_and_attribute_of_pg_attribute() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, note VARCHAR); \
         CREATE TABLE pets (id INTEGER, owner INTEGER, kind VARCHAR); \
         CREATE SCHEMA zoo; CREATE TABLE zoo.people (zid INTEGER); \
         CREATE TEMP TABLE scratch (s INTEGER)",
    )
    .await
    .unwrap();
    // what the catalog says each (table, column) is
    let attr = |table: &'static str, column: &'static str| {
        let c = &c;
        async move {
            let r = c
                .query_one(
                    "SELECT a.attrelid::BIGINT, a.attnum::INTEGER FROM pg_attribute a \
                     JOIN pg_class k ON k.oid = a.attrelid \
                     WHERE k.relname = $1 AND a.attname = $2 \
                     AND pg_table_is_visible(k.oid)",
                    &[&table, &column],
                )
                .await
                .unwrap();
            (r.get::<_, i64>(0) as u32, r.get::<_, i32>(1) as i16)
        }
    };
    let origins = |sql: &'static str| described(&c, sql);
    let id = attr("people", "id").await;
    let name = attr("people", "name").await;
    let note = attr("people", "note").await;
    assert_ne!(id.0, 0);
    assert_eq!(
        origins("SELECT name, id, id + 1 AS next, 'x' FROM people WHERE id > 0").await,
        [name, id, (0, 0), (0, 0)]
    );
    assert_eq!(origins("SELECT * FROM people").await, [id, name, note]);
    // joins: by alias, and an unqualified column only one table has
    let kind = attr("pets", "kind").await;
    let pet_id = attr("pets", "id").await;
    assert_eq!(
        origins("SELECT p.name, kind, x.id FROM people p JOIN pets x ON x.owner = p.id").await,
        [name, kind, pet_id]
    );
    // a column qualified by an alias, and a table's star by the table's name
    let both = origins("SELECT p.id, pets.* FROM people p, pets").await;
    assert_eq!(both[0], id);
    assert_eq!(both[1], pet_id);
    // another schema's table of the same name, and a temporary table
    let zid = c
        .query_one(
            "SELECT a.attrelid::BIGINT FROM pg_attribute a WHERE a.attname = 'zid'",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0) as u32;
    assert_eq!(origins("SELECT zid FROM zoo.people").await, [(zid, 1)]);
    assert_ne!(origins("SELECT s FROM scratch").await[0], (0, 0));
    // what is not a plain column of a table claims nothing
    assert_eq!(origins("SELECT count(*) FROM people").await, [(0, 0)]);
    assert_eq!(
        origins("WITH people AS (SELECT 1 AS id) SELECT id FROM people").await,
        [(0, 0)]
    );
    assert_eq!(
        origins("SELECT id FROM (SELECT id FROM people) s").await,
        [(0, 0)]
    );
    assert_eq!(origins("SELECT 1").await, [(0, 0)]);
    // the statement still runs, and the session is unaffected by the lookups in a transaction
    c.batch_execute("BEGIN").await.unwrap();
    c.execute("INSERT INTO people VALUES (1, 'a', NULL)", &[])
        .await
        .unwrap();
    assert_eq!(origins("SELECT name FROM people").await, [name]);
    let n: i64 = c
        .query_one("SELECT count(*) FROM people", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    c.batch_execute("COMMIT").await.unwrap();
}

/// (table OID, attribute) of each column of `sql`, as the gateway describes it.
async fn described(c: &tokio_postgres::Client, sql: &str) -> Vec<(u32, i16)> {
    let s = c.prepare(sql).await.unwrap();
    s.columns()
        .iter()
        .map(|col| (col.table_oid().unwrap_or(0), col.column_id().unwrap_or(0)))
        .collect()
}

/// The catalog rows behind the origins are shared by the sessions of a database; another
/// session's DDL, a session's own temporary tables and uncommitted DDL must all be seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origins_follow_other_sessions_ddl_temporary_tables_and_open_transactions() {
    let gw = start().await;
    let a = gw.connect().await;
    let b = gw.connect().await;
    a.batch_execute("CREATE TABLE t (x INTEGER, y INTEGER)")
        .await
        .unwrap();
    let before = described(&a, "SELECT y FROM t").await;
    assert_eq!(before[0].1, 2);
    // b recreates t with the columns swapped: a's next first Describe sees the new table
    b.batch_execute("DROP TABLE t; CREATE TABLE t (y INTEGER, x INTEGER)")
        .await
        .unwrap();
    let after = described(&a, "SELECT y, x FROM t").await;
    assert_eq!(after.iter().map(|o| o.1).collect::<Vec<_>>(), [1, 2]);
    assert_ne!(after[0].0, before[0].0, "a new table has a new OID");
    // b's temporary t shadows the table for b only
    b.batch_execute("CREATE TEMP TABLE t (z INTEGER)")
        .await
        .unwrap();
    let in_b = described(&b, "SELECT * FROM t").await;
    assert_eq!(in_b.len(), 1);
    assert_ne!(in_b[0].0, 0);
    assert_ne!(in_b[0].0, after[0].0);
    assert_eq!(in_b[0].1, 1);
    assert_eq!(described(&a, "SELECT * FROM t").await, after);
    // a's uncommitted column is a's alone: b still gets t as committed
    a.batch_execute("BEGIN; ALTER TABLE t ADD COLUMN w INTEGER")
        .await
        .unwrap();
    assert_eq!(described(&a, "SELECT * FROM t").await.len(), 3);
    assert_eq!(described(&a, "SELECT w FROM t").await[0].1, 3);
    let c = gw.connect().await;
    assert_eq!(described(&c, "SELECT * FROM t").await, after);
    a.batch_execute("ROLLBACK").await.unwrap();
    // a table created in a's open transaction is a's alone until COMMIT
    a.batch_execute("BEGIN; CREATE TABLE fresh (f1 INTEGER, f2 INTEGER)")
        .await
        .unwrap();
    assert_eq!(described(&a, "SELECT f2 FROM fresh").await[0].1, 2);
    a.batch_execute("COMMIT").await.unwrap();
    assert_eq!(described(&b, "SELECT f1, f2 FROM fresh").await[1].1, 2);
}
