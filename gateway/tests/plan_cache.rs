//! The session's plan cache (repeated simple-protocol SELECTs and unnamed Parse messages reuse
//! a DuckDB prepared statement): a cached plan never answers with what a statement used to
//! mean.

mod common;

use common::start;
use tokio_postgres::SimpleQueryMessage;

/// Column names and text values of a simple query's rows.
fn table(msgs: &[SimpleQueryMessage]) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let mut names = Vec::new();
    let mut rows = Vec::new();
    for m in msgs {
        match m {
            SimpleQueryMessage::RowDescription(cols) => {
                names = cols.iter().map(|c| c.name().to_owned()).collect()
            }
            SimpleQueryMessage::Row(r) => {
                rows.push((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => {}
        }
    }
    (names, rows)
}

fn row(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some((*v).to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_sessions_schema_change_reaches_a_cached_simple_query() {
    let gw = start().await;
    let a = gw.connect().await;
    let b = gw.connect().await;
    a.batch_execute("CREATE TABLE pc(x INTEGER); INSERT INTO pc VALUES (1)")
        .await
        .unwrap();
    for _ in 0..3 {
        let (names, rows) = table(&a.simple_query("SELECT * FROM pc").await.unwrap());
        assert_eq!(names, ["x"]);
        assert_eq!(rows, [row(&["1"])]);
    }
    // another session widens the table: the cached plan now produces two columns
    b.batch_execute("ALTER TABLE pc ADD COLUMN y VARCHAR DEFAULT 'new'")
        .await
        .unwrap();
    let (names, rows) = table(&a.simple_query("SELECT * FROM pc").await.unwrap());
    assert_eq!(names, ["x", "y"]);
    assert_eq!(rows, [row(&["1", "new"])]);
    // and replaces it with one of another type under the same name
    b.batch_execute("DROP TABLE pc; CREATE TABLE pc(x VARCHAR); INSERT INTO pc VALUES ('text')")
        .await
        .unwrap();
    let (names, rows) = table(&a.simple_query("SELECT * FROM pc").await.unwrap());
    assert_eq!(names, ["x"]);
    assert_eq!(rows, [row(&["text"])]);
    let col = a.query("SELECT * FROM pc", &[]).await.unwrap();
    assert_eq!(col[0].get::<_, String>(0), "text");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_changes_empty_the_cache() {
    let gw = start().await;
    let a = gw.connect().await;
    a.batch_execute(
        "CREATE TABLE sc(v VARCHAR); INSERT INTO sc VALUES ('main'); \
         CREATE SCHEMA other; CREATE TABLE other.sc(v VARCHAR); INSERT INTO other.sc VALUES ('other')",
    )
    .await
    .unwrap();
    let q = "SELECT v FROM sc";
    assert_eq!(table(&a.simple_query(q).await.unwrap()).1, [row(&["main"])]);
    assert_eq!(table(&a.simple_query(q).await.unwrap()).1, [row(&["main"])]);
    // the search path decides which table the same text reads
    a.batch_execute("SET search_path = other").await.unwrap();
    assert_eq!(
        table(&a.simple_query(q).await.unwrap()).1,
        [row(&["other"])]
    );
    a.batch_execute("RESET search_path").await.unwrap();
    assert_eq!(table(&a.simple_query(q).await.unwrap()).1, [row(&["main"])]);
    // a temporary table shadows the persistent one
    a.batch_execute("CREATE TEMP TABLE sc(v VARCHAR); INSERT INTO sc VALUES ('temp')")
        .await
        .unwrap();
    assert_eq!(table(&a.simple_query(q).await.unwrap()).1, [row(&["temp"])]);
    // DDL inside a transaction that rolls back
    a.batch_execute("DROP TABLE temp.sc").await.unwrap();
    assert_eq!(table(&a.simple_query(q).await.unwrap()).1, [row(&["main"])]);
    a.batch_execute("BEGIN; ALTER TABLE sc RENAME COLUMN v TO w")
        .await
        .unwrap();
    let err = a.simple_query(q).await.unwrap_err();
    assert_eq!(common::sqlstate(&err), "42703", "{err}");
    a.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(table(&a.simple_query(q).await.unwrap()).1, [row(&["main"])]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unnamed_statements_reuse_plans_and_see_new_data() {
    let gw = start().await;
    let a = gw.connect().await;
    let b = gw.connect().await;
    a.batch_execute("CREATE TABLE un(k INTEGER, v VARCHAR); INSERT INTO un VALUES (1, 'one')")
        .await
        .unwrap();
    let q = "SELECT v FROM un WHERE k = $1";
    let types = [tokio_postgres::types::Type::INT4];
    for _ in 0..3 {
        let r = a
            .query_typed(q, &[(&1i32, types[0].clone())])
            .await
            .unwrap();
        assert_eq!(r[0].get::<_, String>(0), "one");
    }
    b.batch_execute("INSERT INTO un VALUES (2, 'two')")
        .await
        .unwrap();
    let r = a
        .query_typed(q, &[(&2i32, types[0].clone())])
        .await
        .unwrap();
    assert_eq!(r[0].get::<_, String>(0), "two");
    // a schema change under an unnamed statement that was already described: PostgreSQL's
    // error for a changed plan (pgJDBC re-prepares on it), then the new shape
    b.batch_execute("ALTER TABLE un ALTER COLUMN v TYPE INTEGER USING k * 10")
        .await
        .unwrap();
    let first = a.query_typed(q, &[(&2i32, types[0].clone())]).await;
    if let Err(e) = &first {
        assert_eq!(common::sqlstate(e), "0A000", "{e}");
        assert_eq!(
            e.as_db_error().map(|d| d.message()),
            Some("cached plan must not change result type")
        );
    }
    let r = a
        .query_typed(q, &[(&2i32, types[0].clone())])
        .await
        .unwrap();
    assert_eq!(r[0].get::<_, i32>(0), 20);
    // the session is healthy
    assert_eq!(
        a.query_one("SELECT count(*) FROM un", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        2
    );
}
