//! `SERIAL` columns (what SQLAlchemy's `create_all`, Django and Rails emit for an integer
//! primary key): a sequence per column and a DEFAULT, created atomically with the table.

mod common;

use common::{sqlstate, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serial_columns_number_rows_and_fail_atomically() {
    let gw = start().await;
    let c = gw.connect().await;
    // simple protocol, as SQLAlchemy's DDL goes through psycopg
    c.batch_execute("CREATE TABLE users (id SERIAL NOT NULL, name VARCHAR(50), PRIMARY KEY (id))")
        .await
        .unwrap();
    let ids: Vec<i32> = c
        .query(
            "INSERT INTO users (name) VALUES ('a'), ('b') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [1, 2]);
    // extended protocol, BIGSERIAL
    c.execute(
        "CREATE TABLE events (id BIGSERIAL PRIMARY KEY, v INTEGER)",
        &[],
    )
    .await
    .unwrap();
    c.execute("INSERT INTO events (v) VALUES (10)", &[])
        .await
        .unwrap();
    let id: i64 = c
        .query_one("SELECT id FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(id, 1);

    let sequences = |name: &'static str| {
        let c = &c;
        async move {
            c.query_one(
                "SELECT count(*) FROM duckdb_sequences() WHERE sequence_name = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get::<_, i64>(0)
        }
    };
    assert_eq!(sequences("users_id_seq").await, 1);
    // a table that fails leaves no sequence behind, in autocommit…
    let e = c
        .batch_execute("CREATE TABLE bad (id SERIAL, x NO_SUCH_TYPE)")
        .await
        .unwrap_err();
    assert!(!sqlstate(&e).is_empty());
    assert_eq!(sequences("bad_id_seq").await, 0);
    // …and in a transaction that rolls back
    c.batch_execute("BEGIN; CREATE TABLE later (id SMALLSERIAL); ROLLBACK")
        .await
        .unwrap();
    assert_eq!(sequences("later_id_seq").await, 0);
    let e = c
        .batch_execute("CREATE TABLE users (id SERIAL)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42P07", "{e:?}");
    let n: i64 = c
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}
