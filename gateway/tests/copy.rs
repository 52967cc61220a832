//! COPY FROM STDIN / TO STDOUT through real clients: tokio-postgres (extended protocol, text
//! and binary) and psql's `\copy` (simple protocol).

mod common;

use bytes::Bytes;
use futures::{SinkExt, StreamExt, TryStreamExt};
use tokio_postgres::binary_copy::{BinaryCopyInWriter, BinaryCopyOutStream};
use tokio_postgres::types::Type;

use common::{psql, sqlstate};

async fn copy_in(
    c: &tokio_postgres::Client,
    sql: &str,
    data: &str,
) -> Result<u64, tokio_postgres::Error> {
    let sink = c.copy_in(sql).await?;
    futures::pin_mut!(sink);
    sink.send(Bytes::from(data.to_owned())).await?;
    sink.finish().await
}

async fn count(c: &tokio_postgres::Client, table: &str) -> i64 {
    c.query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

async fn copy_out(c: &tokio_postgres::Client, sql: &str) -> String {
    let stream = c.copy_out(sql).await.unwrap();
    let chunks: Vec<Bytes> = stream.try_collect().await.unwrap();
    String::from_utf8(chunks.concat()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_csv_round_trip_with_escapes_and_nulls() {
    let gw = common::start().await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE t (i INT, s VARCHAR, d DATE, b BOOLEAN, x BLOB)")
        .await
        .unwrap();
    let n = copy_in(
        &c,
        "COPY t FROM STDIN",
        "1\ttab\\there\\nnewline\t2024-01-02\tt\t\\\\x0102ff\n2\t\\N\t\\N\tf\t\\N\n",
    )
    .await
    .unwrap();
    assert_eq!(n, 2);
    let n = copy_in(
        &c,
        "COPY t (i, s) FROM STDIN WITH (FORMAT csv, HEADER true)",
        "i,s\n3,\"quoted, \"\"with\"\" comma\"\n4,\n5,\"\"\n",
    )
    .await
    .unwrap();
    assert_eq!(n, 3);
    let rows = c
        .query("SELECT i, s, s IS NULL FROM t ORDER BY i", &[])
        .await
        .unwrap();
    let got: Vec<(i32, Option<String>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        got,
        vec![
            (1, Some("tab\there\nnewline".into())),
            (2, None),
            (3, Some("quoted, \"with\" comma".into())),
            (4, None),
            (5, Some("".into())),
        ]
    );
    let blob: Vec<u8> = c
        .query_one("SELECT x FROM t WHERE i = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(blob, vec![1, 2, 0xff]);

    let text = copy_out(
        &c,
        "COPY (SELECT i, s, b FROM t WHERE i <= 2 ORDER BY i) TO STDOUT",
    )
    .await;
    assert_eq!(text, "1\ttab\\there\\nnewline\tt\n2\t\\N\tf\n");
    let csv = copy_out(
        &c,
        "COPY (SELECT i, s FROM t WHERE i >= 3 ORDER BY i) TO STDOUT WITH (FORMAT csv, HEADER)",
    )
    .await;
    assert_eq!(csv, "i,s\n3,\"quoted, \"\"with\"\" comma\"\n4,\n5,\"\"\n");
    // a table, with a column list
    let out = copy_out(&c, "COPY t (i) TO STDOUT").await;
    let mut ids: Vec<&str> = out.lines().collect();
    ids.sort();
    assert_eq!(ids, vec!["1", "2", "3", "4", "5"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_copy_round_trips_typed_values() {
    let gw = common::start().await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE b (id BIGINT, name VARCHAR, score DOUBLE)")
        .await
        .unwrap();
    let sink = c
        .copy_in("COPY b FROM STDIN (FORMAT binary)")
        .await
        .unwrap();
    let writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::TEXT, Type::FLOAT8]);
    futures::pin_mut!(writer);
    for i in 0..1000i64 {
        let name = format!("n{i}");
        let score = i as f64 / 4.0;
        writer.as_mut().write(&[&i, &name, &score]).await.unwrap();
    }
    assert_eq!(writer.finish().await.unwrap(), 1000);
    let stream = c
        .copy_out("COPY (SELECT id, name, score FROM b ORDER BY id) TO STDOUT (FORMAT binary)")
        .await
        .unwrap();
    let rows = BinaryCopyOutStream::new(stream, &[Type::INT8, Type::TEXT, Type::FLOAT8]);
    let rows: Vec<_> = rows.try_collect().await.unwrap();
    assert_eq!(rows.len(), 1000);
    assert_eq!(rows[999].get::<i64>(0), 999);
    assert_eq!(rows[999].get::<&str>(1), "n999");
    assert_eq!(rows[999].get::<f64>(2), 249.75);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_row_aborts_with_its_line_and_loads_nothing() {
    let gw = common::start().await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE m (i INT, s VARCHAR)")
        .await
        .unwrap();
    // many good rows before the bad one, so earlier batches were already appended
    let mut data = String::new();
    for i in 0..10_000 {
        data.push_str(&format!("{i}\tok\n"));
    }
    data.push_str("oops\tbad\n");
    let e = copy_in(&c, "COPY m FROM STDIN", &data).await.unwrap_err();
    assert_eq!(sqlstate(&e), "22P02");
    let msg = e.as_db_error().unwrap().message().to_owned();
    assert!(
        msg.contains("line 10001") && msg.contains("\"oops\""),
        "{msg}"
    );
    assert_eq!(count(&c, "m").await, 0, "nothing half-loaded");

    // wrong column counts, unterminated CSV quote
    let e = copy_in(&c, "COPY m FROM STDIN", "1\n").await.unwrap_err();
    assert_eq!(sqlstate(&e), "22P04");
    let e = copy_in(&c, "COPY m FROM STDIN", "1\ta\textra\n")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "22P04");
    let e = copy_in(&c, "COPY m FROM STDIN (FORMAT csv)", "1,\"open\n")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "22P04");
    // bad options
    let e = c
        .simple_query("COPY m FROM STDIN (FORMAT xml)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "22023");
    // files stay refused
    let e = c.simple_query("COPY m TO '/tmp/m.csv'").await.unwrap_err();
    assert_eq!(sqlstate(&e), "0A000");
    // the session is healthy
    assert_eq!(
        copy_in(&c, "COPY m FROM STDIN", "7\tfine\n").await.unwrap(),
        1
    );
    // an unknown table (last: after a COPY that failed to start, rust-postgres sends
    // CopyFail + Sync and trips over the extra ReadyForQuery — with PostgreSQL too)
    let e = copy_in(&c, "COPY nope FROM STDIN", "1\n")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42P01");
    let (_, _, ok) = psql(&gw.conn_str("md:"), &["-c", "SELECT count(*) FROM m"], None);
    assert!(ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_inside_a_transaction_follows_it() {
    let gw = common::start().await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE x (i INT)").await.unwrap();
    c.batch_execute("BEGIN").await.unwrap();
    copy_in(&c, "COPY x FROM STDIN", "1\n2\n").await.unwrap();
    c.batch_execute("ROLLBACK").await.unwrap();
    let n: i64 = count(&c, "x").await;
    assert_eq!(n, 0);
    c.batch_execute("BEGIN").await.unwrap();
    copy_in(&c, "COPY x FROM STDIN", "1\n2\n").await.unwrap();
    c.batch_execute("COMMIT").await.unwrap();
    // an error inside a block fails the block, like any statement
    c.batch_execute("BEGIN").await.unwrap();
    assert!(copy_in(&c, "COPY x FROM STDIN", "z\n").await.is_err());
    let e = c.simple_query("SELECT 1").await.unwrap_err();
    assert_eq!(sqlstate(&e), "25P02");
    c.batch_execute("ROLLBACK").await.unwrap();
    let n: i64 = count(&c, "x").await;
    assert_eq!(n, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_abandoning_a_copy_leaves_nothing() {
    let gw = common::start().await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE a (i INT)").await.unwrap();
    {
        // dropping the sink without finish() sends CopyFail
        let sink = c.copy_in::<_, Bytes>("COPY a FROM STDIN").await.unwrap();
        futures::pin_mut!(sink);
        sink.send(Bytes::from_static(b"1\n2\n")).await.unwrap();
    }
    let n: i64 = count(&c, "a").await;
    assert_eq!(n, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_copy_loads_and_unloads_a_million_rows() {
    let gw = common::start().await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE big (id BIGINT, v BIGINT, s VARCHAR)")
        .await
        .unwrap();
    let conn = gw.conn_str("md:");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.csv");
    let mut data = String::with_capacity(30_000_000);
    for i in 0..1_000_000u64 {
        data.push_str(&format!("{i},{},row {i}\n", i * 7));
    }
    std::fs::write(&file, &data).unwrap();
    let started = std::time::Instant::now();
    let (out, err, ok) = psql(
        &conn,
        &[
            "-c",
            &format!("\\copy big FROM '{}' WITH (FORMAT csv)", file.display()),
        ],
        None,
    );
    assert!(ok && out.contains("COPY 1000000"), "{out} {err}");
    eprintln!("psql \\copy of 1M rows in: {:?}", started.elapsed());
    let row = c
        .query_one("SELECT count(*), sum(v), max(s) FROM big", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1_000_000);
    let back = dir.path().join("back.csv");
    let (out, err, ok) = psql(
        &conn,
        &[
            "-c",
            &format!(
                "\\copy (SELECT * FROM big ORDER BY id) TO '{}' WITH (FORMAT csv)",
                back.display()
            ),
        ],
        None,
    );
    assert!(ok && out.contains("COPY 1000000"), "{out} {err}");
    assert_eq!(std::fs::read_to_string(&back).unwrap(), data);
    // COPY OUT streams: the first bytes arrive long before the end
    let stream = c
        .copy_out("COPY (SELECT * FROM big) TO STDOUT")
        .await
        .unwrap();
    futures::pin_mut!(stream);
    assert!(!stream.next().await.unwrap().unwrap().is_empty());
}
