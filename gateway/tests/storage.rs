//! Shared remote storage against real components: DuckLake with its catalog in PostgreSQL 15
//! and data in an S3 server (both started by scripts/test.sh on loopback), several gateways on
//! the same lake, conflicts, prefixes, and credentials that clients never see.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use common::lake::{ducklake_database, env, extension_directory, s3_config};
use common::{sqlstate, start_with, TestGateway};
use duckgate_config::storage::{
    DatabaseConfig, DatabaseKind, ObjectStoreConfig, S3Config, SecretRef,
};

/// A fresh lake per test: its own catalog schema and data prefix.
fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

const S3_KEY: &str = "duckgate-test-key";
const S3_SECRET: &str = "duckgate-super-secret-s3-key-xyz";

fn s3(dir: &std::path::Path) -> S3Config {
    let key_id = SecretRef {
        file: None,
        env: Some("DUCKGATE_TEST_S3_KEY".into()),
    };
    s3_config(dir, S3_SECRET, key_id)
}

struct Lake {
    schema: String,
    prefix: String,
    secrets_dir: PathBuf,
}

fn lake() -> Lake {
    std::env::set_var("DUCKGATE_TEST_S3_KEY", S3_KEY);
    let id = unique("lake");
    Lake {
        schema: id.clone(),
        prefix: format!("s3://duckgate-test/{id}/"),
        secrets_dir: tempfile::tempdir().unwrap().keep(),
    }
}

/// The lake's databases and object store, as a gateway config carries them.
fn lake_config(l: &Lake, c: &mut duckgate_config::GatewayConfig) {
    let s3 = s3(&l.secrets_dir);
    c.extension_directory = Some(extension_directory());
    c.databases = vec![ducklake_database(
        &l.schema,
        format!("{}lake/", l.prefix),
        s3.clone(),
    )];
    c.object_store = Some(ObjectStoreConfig {
        s3,
        allowed_prefixes: vec![format!("{}shared/", l.prefix)],
    });
}

async fn gateway_on(l: &Lake) -> TestGateway {
    let mut db = duckgate_config::GatewayConfig::default();
    lake_config(l, &mut db);
    start_with(move |c| {
        c.extension_directory = db.extension_directory;
        c.databases = db.databases;
        c.object_store = db.object_store;
    })
    .await
}

fn gw_config_yaml(l: &Lake) -> String {
    let mut c = duckgate_config::GatewayConfig::default();
    lake_config(l, &mut c);
    c.to_yaml()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_share_one_lake_and_conflicts_are_40001() {
    let l = lake();
    let a = gateway_on(&l).await;
    let b = gateway_on(&l).await;
    let ca = a.connect().await;
    let cb = b.connect().await;
    ca.batch_execute("CREATE TABLE accounts(id INTEGER, balance INTEGER)")
        .await
        .unwrap();
    ca.batch_execute("INSERT INTO accounts SELECT i, 100 FROM range(1000) t(i)")
        .await
        .unwrap();
    // a write through one gateway is read through the other
    let n: i64 = cb
        .query_one("SELECT count(*) FROM accounts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1000);
    // a bulk insert through B is visible through A
    cb.batch_execute("INSERT INTO accounts SELECT 1000 + i, 1 FROM range(1000000) t(i)")
        .await
        .unwrap();
    let n: i64 = ca
        .query_one("SELECT count(*) FROM accounts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1_001_000);

    // concurrent updates of the same row: one commits, the other gets 40001
    ca.batch_execute("BEGIN; UPDATE accounts SET balance = balance - 10 WHERE id = 1")
        .await
        .unwrap();
    cb.batch_execute("BEGIN; UPDATE accounts SET balance = balance + 5 WHERE id = 1")
        .await
        .unwrap();
    let ra = ca.batch_execute("COMMIT").await;
    let rb = cb.batch_execute("COMMIT").await;
    let outcomes = [ra.is_ok(), rb.is_ok()];
    assert_eq!(
        outcomes.iter().filter(|ok| **ok).count(),
        1,
        "{ra:?} {rb:?}"
    );
    let err = ra.err().or(rb.err()).unwrap();
    assert_eq!(sqlstate(&err), "40001", "{err:?}");
    // no lost update: exactly one of the two changes is there
    let v: i32 = cb
        .query_one("SELECT balance FROM accounts WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert!(v == 90 || v == 105, "balance {v}");
    // both sessions keep working
    ca.batch_execute("SELECT 1").await.unwrap();
    cb.batch_execute("SELECT 1").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_stdin_bulk_loads_into_a_lake_seen_by_another_gateway() {
    use futures::SinkExt;
    let l = lake();
    let a = gateway_on(&l).await;
    let b = gateway_on(&l).await;
    let ca = a.connect().await;
    ca.batch_execute("CREATE TABLE events(id BIGINT, kind VARCHAR)")
        .await
        .unwrap();
    let mut data = String::new();
    for i in 0..200_000 {
        data.push_str(&format!("{i}\tkind{}\n", i % 7));
    }
    let sink = ca.copy_in("COPY events FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from(data)).await.unwrap();
    assert_eq!(sink.finish().await.unwrap(), 200_000);
    let cb = b.connect().await;
    let row = cb
        .query_one("SELECT count(*), count(DISTINCT kind) FROM events", &[])
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (200_000, 7));
    // bulk, not row by row: a handful of data files, not thousands
    let files: i64 = cb
        .query_one(
            "SELECT count(*) FROM ducklake_list_files('lake', 'events')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!((1..=4).contains(&files), "{files} data files for one COPY");
    // a bad row rolls the whole COPY back, on the lake too
    let sink = ca.copy_in("COPY events FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"1\ta\nnot-a-number\tb\n"))
        .await
        .unwrap();
    let e = sink.finish().await.unwrap_err();
    assert_eq!(sqlstate(&e), "22P02");
    let n: i64 = cb
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 200_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_prefixes_and_credentials_stay_server_side() {
    let l = lake();
    let gw = gateway_on(&l).await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE t AS SELECT i FROM range(10) r(i)")
        .await
        .unwrap();
    // only the configured prefixes are reachable for server-side reads
    let e = c
        .query(
            &format!("SELECT * FROM read_parquet('{}other/x.parquet')", l.prefix),
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42501", "{e:?}");
    let e = c
        .query(
            &format!(
                "SELECT * FROM read_parquet('{}shared/missing.parquet')",
                l.prefix
            ),
            &[],
        )
        .await
        .unwrap_err();
    assert_ne!(
        sqlstate(&e),
        "42501",
        "an allowed prefix is reachable: {e:?}"
    );
    // no client-visible place shows the S3 secret or the catalog password
    let pg_password = std::fs::read_to_string(env("DUCKGATE_TEST_PG_PASSWORD_FILE")).unwrap();
    let pg_password = pg_password.trim();
    let mut seen = String::new();
    for sql in [
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM duckdb_databases()",
        "SELECT * FROM duckdb_extensions()",
        "EXPLAIN SELECT * FROM t",
        "SELECT current_setting('s3_secret_access_key')",
        "SELECT current_setting('s3_access_key_id')",
    ] {
        match c.simple_query(sql).await {
            Ok(msgs) => {
                for m in msgs {
                    if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
                        for i in 0..r.len() {
                            seen.push_str(r.get(i).unwrap_or(""));
                            seen.push('\n');
                        }
                    }
                }
            }
            Err(e) => seen.push_str(&format!("{e:?}\n")),
        }
    }
    let e = c
        .simple_query(&format!("SELECT * FROM '{}lake/nope.parquet'", l.prefix))
        .await
        .unwrap_err();
    seen.push_str(&format!("{e:?}"));
    assert!(!seen.contains(S3_SECRET), "the S3 secret leaked");
    assert!(!seen.contains(pg_password), "the catalog password leaked");
    // and clients cannot replace the server's secrets or reach the catalog directly
    for sql in [
        "CREATE SECRET evil (TYPE s3, KEY_ID 'k', SECRET 's', ENDPOINT '127.0.0.1:1', SCOPE 's3://duckgate-test/')",
        "DROP SECRET duckgate_lake_s3",
        "SELECT * FROM postgres_query('__ducklake_metadata_lake', 'SELECT 1')",
        "SELECT * FROM __ducklake_metadata_lake.ducklake_snapshot",
    ] {
        let e = c.batch_execute(sql).await.unwrap_err();
        assert_eq!(sqlstate(&e), "0A000", "{sql}: {e:?}");
    }
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 10);
}

/// Put an object into the test S3 server (moto does not check signatures).
async fn put_object(key: &str, body: &[u8]) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let endpoint = env("DUCKGATE_TEST_S3_ENDPOINT");
    let hostport = endpoint.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&hostport).await.unwrap();
    let head = format!(
        "PUT /duckgate-test/{key} HTTP/1.1\r\nHost: {hostport}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

/// pg_table_size() and its kin on a lake (psql `\dt+`): the bytes of the table's current data
/// and delete files, as DuckLake lists them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relation_sizes_of_a_lake_table_are_its_files() {
    let l = lake();
    let gw = gateway_on(&l).await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE sized(id BIGINT, s VARCHAR)")
        .await
        .unwrap();
    let sizes = "SELECT pg_table_size('sized'), pg_indexes_size('sized'), \
                 pg_total_relation_size('sized')";
    let files =
        "SELECT COALESCE(sum(data_file_size_bytes), 0) + COALESCE(sum(delete_file_size_bytes), 0) \
                 FROM ducklake_list_files('lake', 'sized')";
    let text = |m: Vec<tokio_postgres::SimpleQueryMessage>| common::text_rows(&m);
    assert_eq!(
        text(c.simple_query(sizes).await.unwrap()),
        [["0", "0", "0"]]
    );
    let mut last = 0i64;
    for batch in 0..2 {
        c.batch_execute(&format!(
            "INSERT INTO sized SELECT range, 'row ' || range FROM range({}, {})",
            batch * 20_000,
            (batch + 1) * 20_000
        ))
        .await
        .unwrap();
        let want = text(c.simple_query(files).await.unwrap())[0][0].clone();
        let got = text(c.simple_query(sizes).await.unwrap());
        assert_eq!(got, [[want.clone(), "0".into(), want.clone()]]);
        let n: i64 = want.parse().unwrap();
        assert!(n > last, "{last} -> {n}");
        last = n;
    }
    // deleted rows add a delete file
    c.batch_execute("DELETE FROM sized WHERE id % 2 = 0")
        .await
        .unwrap();
    let want = text(c.simple_query(files).await.unwrap())[0][0].clone();
    assert!(want.parse::<i64>().unwrap() > last, "{want}");
    assert_eq!(
        text(
            c.simple_query("SELECT pg_table_size('sized')")
                .await
                .unwrap()
        ),
        [[want]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duckdb_file_on_object_storage_is_served_read_only() {
    std::env::set_var("DUCKGATE_TEST_S3_KEY", S3_KEY);
    // make a DuckDB file locally (through a local gateway database) and upload it
    let local = start_with(|c| c.allow_create_databases = true).await;
    let w = local.connect_db("archive_src").await;
    w.batch_execute(
        "CREATE TABLE sales AS SELECT i AS id, i * 1.5 AS amount FROM range(1000) t(i)",
    )
    .await
    .unwrap();
    // a separate statement: CHECKPOINT cannot run inside the implicit transaction of a
    // multi-statement query (PostgreSQL refuses VACUUM there too)
    w.batch_execute("CHECKPOINT").await.unwrap();
    drop(w);
    let file = std::fs::read(local.data_dir.path().join("archive_src.duckdb")).unwrap();
    let key = format!("{}/archive.duckdb", unique("files"));
    put_object(&key, &file).await;

    let secrets = tempfile::tempdir().unwrap().keep();
    let s3 = s3(&secrets);
    let ext = extension_directory();
    let path = format!("s3://duckgate-test/{key}");
    let gw = start_with(move |c| {
        c.extension_directory = Some(ext);
        c.databases = vec![DatabaseConfig {
            name: "archive".into(),
            default: true,
            kind: DatabaseKind::Duckdb { path, s3 },
        }];
    })
    .await;
    let c = gw.connect().await;
    let n: i64 = c
        .query_one("SELECT count(*) FROM sales", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1000);
    // sizes of a DuckDB file read from object storage: its stored segments
    let row = c
        .query_one(
            "SELECT pg_table_size('sales'), pg_database_size(current_database())",
            &[],
        )
        .await
        .unwrap();
    let (table, database): (i64, i64) = (row.get(0), row.get(1));
    assert!(table > 0 && table <= database, "{table} of {database}");
    for sql in [
        "INSERT INTO sales VALUES (1, 1)",
        "CREATE TABLE x(a INTEGER)",
        "DELETE FROM sales",
    ] {
        let e = c.batch_execute(sql).await.unwrap_err();
        assert_eq!(sqlstate(&e), "25006", "{sql}: {e:?}");
    }
    let n: i64 = c
        .query_one("SELECT count(*) FROM sales", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_compacts_small_commits_while_serving() {
    let l = lake();
    let gw = gateway_on(&l).await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE events(id INTEGER, payload VARCHAR)")
        .await
        .unwrap();
    for i in 0..40 {
        c.batch_execute(&format!(
            "INSERT INTO events SELECT {i} * 100 + x, 'p' || x FROM range(100) t(x)"
        ))
        .await
        .unwrap();
    }
    let count_files = format!("SELECT count(*) FROM glob('{}lake/**/*.parquet')", l.prefix);
    let before: i64 = c.query_one(&count_files, &[]).await.unwrap().get(0);
    assert!(before >= 40, "{before} files before maintenance");
    // the subcommand, against the same config the gateway uses
    let config_file = l.secrets_dir.join("gateway.yaml");
    std::fs::write(&config_file, gw_config_yaml(&l)).unwrap();
    let out = std::process::Command::new(common::gateway_binary())
        .args(["maintenance", "--retention", "0s", "--config"])
        .arg(&config_file)
        .env("DUCKGATE_TEST_S3_KEY", S3_KEY)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("maintained lake"));
    let after: i64 = c.query_one(&count_files, &[]).await.unwrap().get(0);
    eprintln!("maintenance: {before} parquet files before, {after} after");
    assert!(after < before / 4, "{before} files before, {after} after");
    // the serving gateway still reads everything, and writes
    let (n, s): (i64, i64) = {
        let r = c
            .query_one("SELECT count(*), sum(id)::BIGINT FROM events", &[])
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(n, 4000);
    assert_eq!(s, (0..4000i64).sum::<i64>());
    c.batch_execute("INSERT INTO events VALUES (-1, 'after')")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_lengths_are_accepted_and_forgotten_on_a_lake() {
    // DuckLake stores no CHECK constraints, which keep a varchar(n) length elsewhere: the
    // length is accepted and forgotten, as DuckDB does, rather than the CREATE TABLE failing
    let l = lake();
    let gw = gateway_on(&l).await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TABLE people (id INTEGER, name VARCHAR(5), code CHAR(2)); \
         INSERT INTO people VALUES (1, 'longer than five', 'abc')",
    )
    .await
    .unwrap();
    let r = c
        .query_one(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'people'::regclass AND attname = 'name'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<_, String>(0), "text");
    // a temporary table lands in the session's own DuckDB catalog, which keeps the length
    c.batch_execute("CREATE TEMP TABLE scratch (k VARCHAR(1))")
        .await
        .unwrap();
    let e = c
        .batch_execute("INSERT INTO scratch VALUES ('ab')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "22001", "{e:?}");
}
