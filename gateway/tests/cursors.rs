//! SQL cursors (DECLARE / FETCH / MOVE / CLOSE, as psycopg2's named cursors and SQLAlchemy's
//! `stream_results` use them) and savepoints, over the simple protocol.

mod common;

use common::{sqlstate, start};
use tokio_postgres::{Client, SimpleQueryMessage};

/// First-column values and command tags' row counts of a simple query.
async fn run(c: &Client, sql: &str) -> (Vec<String>, Vec<u64>) {
    let msgs = c.simple_query(sql).await.unwrap();
    let mut values = Vec::new();
    let mut counts = Vec::new();
    for m in msgs {
        match m {
            SimpleQueryMessage::Row(r) => values.push(r.get(0).unwrap_or("NULL").to_owned()),
            SimpleQueryMessage::CommandComplete(n) => counts.push(n),
            _ => {}
        }
    }
    (values, counts)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_and_move_forward_through_a_cursor() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "BEGIN; DECLARE \"Cur\" NO SCROLL CURSOR WITHOUT HOLD FOR \
         SELECT i::VARCHAR FROM range(10) t(i) ORDER BY i",
    )
    .await
    .unwrap();
    assert_eq!(
        run(&c, "FETCH 3 FROM \"Cur\"").await,
        (strs(&["0", "1", "2"]), vec![3])
    );
    assert_eq!(
        run(&c, "FETCH FORWARD 4 IN \"Cur\"").await,
        (strs(&["3", "4", "5", "6"]), vec![4])
    );
    assert_eq!(run(&c, "MOVE 1 FROM \"Cur\"").await, (vec![], vec![1]));
    assert_eq!(
        run(&c, "FETCH ALL FROM \"Cur\"").await,
        (strs(&["8", "9"]), vec![2])
    );
    assert_eq!(run(&c, "FETCH NEXT FROM \"Cur\"").await, (vec![], vec![0]));
    // names fold like PostgreSQL's: the quoted name keeps its case
    let e = c.simple_query("FETCH 1 FROM cur").await.unwrap_err();
    assert_eq!(sqlstate(&e), "34000");
    c.batch_execute("ROLLBACK").await.unwrap();

    // a cursor ends with its transaction; CLOSE ends it earlier
    c.batch_execute("BEGIN; DECLARE c CURSOR FOR SELECT 1; CLOSE c")
        .await
        .unwrap();
    assert_eq!(
        sqlstate(&c.simple_query("FETCH 1 FROM c").await.unwrap_err()),
        "34000"
    );
    c.batch_execute("ROLLBACK; BEGIN; DECLARE c CURSOR FOR SELECT 1; COMMIT")
        .await
        .unwrap();
    assert_eq!(
        sqlstate(&c.simple_query("FETCH 1 FROM c").await.unwrap_err()),
        "34000"
    );
    // refused: outside a transaction block, backwards, duplicates, statements without rows
    let e = c
        .simple_query("DECLARE c CURSOR FOR SELECT 1")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "25P01");
    c.batch_execute("BEGIN; DECLARE c CURSOR FOR SELECT 1")
        .await
        .unwrap();
    let e = c.simple_query("FETCH BACKWARD 1 FROM c").await.unwrap_err();
    assert_eq!(sqlstate(&e), "0A000");
    c.batch_execute("ROLLBACK; BEGIN; DECLARE c CURSOR FOR SELECT 1")
        .await
        .unwrap();
    let e = c
        .simple_query("DECLARE c CURSOR FOR SELECT 2")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42P03");
    c.batch_execute("ROLLBACK; BEGIN").await.unwrap();
    let e = c
        .simple_query("DECLARE d CURSOR FOR CREATE TABLE x(i INTEGER)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42P11");
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(run(&c, "SELECT 'healthy'").await.0, strs(&["healthy"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_cursor_streams_and_survives_other_statements() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TABLE big AS SELECT i FROM range(200000) t(i); BEGIN; \
         DECLARE big_c CURSOR FOR SELECT i::VARCHAR FROM big ORDER BY i",
    )
    .await
    .unwrap();
    let (rows, _) = run(&c, "FETCH FORWARD 2000 FROM big_c").await;
    assert_eq!(rows.len(), 2000);
    assert_eq!(rows[1999], "1999");
    // another statement in the same transaction while the cursor is open
    assert_eq!(
        run(&c, "SELECT count(*) FROM big").await.0,
        strs(&["200000"])
    );
    let mut seen = 2000;
    loop {
        let (rows, counts) = run(&c, "FETCH FORWARD 50000 FROM big_c").await;
        assert_eq!(counts, vec![rows.len() as u64]);
        if rows.is_empty() {
            break;
        }
        assert_eq!(rows[0], seen.to_string());
        seen += rows.len();
    }
    assert_eq!(seen, 200000);
    c.batch_execute("CLOSE big_c; COMMIT").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_hold_cursors_outlive_their_transaction() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute("DECLARE h CURSOR WITH HOLD FOR SELECT i FROM range(5) t(i) ORDER BY i")
        .await
        .unwrap();
    assert_eq!(run(&c, "FETCH 2 FROM h").await.0, strs(&["0", "1"]));
    c.batch_execute("BEGIN; SELECT 1; COMMIT").await.unwrap();
    assert_eq!(run(&c, "FETCH ALL FROM h").await.0, strs(&["2", "3", "4"]));
    c.batch_execute("CLOSE ALL").await.unwrap();
    assert_eq!(
        sqlstate(&c.simple_query("FETCH 1 FROM h").await.unwrap_err()),
        "34000"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn savepoints_roll_back_only_what_needs_no_undo() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE s(i INTEGER)").await.unwrap();

    // nested blocks that all succeed (psycopg's nested `transaction()`, Django's atomic)
    c.batch_execute(
        "BEGIN; SAVEPOINT a; INSERT INTO s VALUES (1); SAVEPOINT b; INSERT INTO s VALUES (2); \
         RELEASE b; RELEASE SAVEPOINT a; COMMIT",
    )
    .await
    .unwrap();
    assert_eq!(run(&c, "SELECT count(*) FROM s").await.0, strs(&["2"]));

    // a lookup that fails inside a savepoint (SQLAlchemy's hstore probe): ROLLBACK TO
    // recovers the transaction and the earlier write commits
    c.batch_execute("BEGIN; INSERT INTO s VALUES (3); SAVEPOINT probe")
        .await
        .unwrap();
    let e = c
        .simple_query("SELECT * FROM no_such_table")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42P01");
    assert_eq!(
        sqlstate(&c.simple_query("SELECT 1").await.unwrap_err()),
        "25P02"
    );
    c.batch_execute("ROLLBACK TO SAVEPOINT probe")
        .await
        .unwrap();
    c.batch_execute("RELEASE probe; COMMIT").await.unwrap();
    assert_eq!(run(&c, "SELECT count(*) FROM s").await.0, strs(&["3"]));

    // undoing a write needs nested transactions: refused, and the whole transaction goes
    c.batch_execute("BEGIN; SAVEPOINT w; INSERT INTO s VALUES (4)")
        .await
        .unwrap();
    let e = c.simple_query("ROLLBACK TO w").await.unwrap_err();
    assert_eq!(sqlstate(&e), "0A000");
    assert_eq!(
        sqlstate(&c.simple_query("SELECT 1").await.unwrap_err()),
        "25P02"
    );
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(run(&c, "SELECT count(*) FROM s").await.0, strs(&["3"]));

    // outside a block, unknown names
    assert_eq!(
        sqlstate(&c.simple_query("SAVEPOINT x").await.unwrap_err()),
        "25P01"
    );
    c.batch_execute("BEGIN").await.unwrap();
    assert_eq!(
        sqlstate(&c.simple_query("RELEASE nope").await.unwrap_err()),
        "3B001"
    );
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(run(&c, "SELECT 'healthy'").await.0, strs(&["healthy"]));
}
