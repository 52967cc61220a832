//! Operating the gateway: probes and metrics on the admin listener, graceful drain on SIGTERM,
//! statement logs, a vanished client, and the object store going away under a DuckLake
//! database. Each test runs the gateway binary as its own process.

mod common;

use std::time::{Duration, Instant};

use common::lake::{env, write_lake_config};
use common::proxy::Proxy;
use common::raw::Raw;
use common::{metric_value, spawn_process, spawn_process_in, sqlstate};
use tokio_postgres::{Client, NoTls};

const ADMIN: [&str; 2] = ["--admin-listen", "127.0.0.1:0"];

/// Connect and keep the connection task's result, to see how the server ended it.
async fn connect_watched(
    port: u16,
    user: &str,
    db: &str,
) -> (
    Client,
    tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
) {
    let conn = format!("host=127.0.0.1 port={port} user={user} dbname={db}");
    let (client, connection) = tokio_postgres::connect(&conn, NoTls).await.unwrap();
    (client, tokio::spawn(connection))
}

/// The SQLSTATE the server closed a connection with.
async fn closed_with(
    task: tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
    within: Duration,
) -> String {
    match tokio::time::timeout(within, task).await {
        Ok(Ok(Err(e))) => sqlstate(&e),
        Ok(Ok(Ok(()))) => "closed without an error".into(),
        Ok(Err(e)) => panic!("connection task failed: {e}"),
        Err(_) => "still open".into(),
    }
}

/// Poll until `f` is true or `within` passes.
async fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_and_metrics_report_what_happened() {
    let gw = spawn_process(&ADMIN);
    let (status, body) = gw.admin_get("/healthz");
    assert_eq!((status, body.trim()), (200, "ok"));
    let (status, body) = gw.admin_get("/readyz");
    assert_eq!((status, body.trim()), (200, "ready"));

    let (c, _task) = connect_watched(gw.port, "alice", "md:").await;
    for _ in 0..3 {
        c.simple_query("SELECT 42").await.unwrap();
    }
    let rows = c.query("SELECT * FROM range(10)", &[]).await.unwrap();
    assert_eq!(rows.len(), 10);
    let e = c
        .simple_query("SELECT * FROM no_such_table")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42P01");
    c.batch_execute("CREATE TABLE t AS SELECT range AS i FROM range(5)")
        .await
        .unwrap();

    let (status, text) = gw.admin_get("/metrics");
    assert_eq!(status, 200);
    let m = |series: &str| metric_value(&text, series);
    assert_eq!(
        m(r#"duckgate_queries_total{command="SELECT",outcome="ok"}"#),
        Some(5.0), // 3 simple, 1 extended, 1 CREATE TABLE AS (tagged SELECT, as in PostgreSQL)
        "{text}"
    );
    assert_eq!(
        m(r#"duckgate_queries_total{command="SELECT",outcome="error"}"#),
        Some(1.0)
    );
    assert_eq!(m(r#"duckgate_errors_total{class="42"}"#), Some(1.0));
    assert_eq!(
        m(r#"duckgate_sessions{database="default",identity="alice"}"#),
        Some(1.0)
    );
    assert_eq!(m("duckgate_connections"), Some(1.0));
    assert!(m("duckgate_connections_accepted_total").unwrap() >= 1.0);
    assert_eq!(m("duckgate_rows_sent_total"), Some(13.0));
    assert!(m("duckgate_bytes_sent_total").unwrap() > 13.0);
    assert_eq!(m("duckgate_query_duration_seconds_count"), Some(6.0));
    assert_eq!(m("duckgate_draining"), Some(0.0));
    // the engine thread lowers the gauge just after it hands over the last result
    assert!(
        eventually(Duration::from_secs(5), || gw
            .metric("duckgate_statements_running")
            == Some(0.0))
        .await
    );
    assert!(
        m(r#"duckgate_duckdb_memory_bytes{database="default"}"#).is_some(),
        "{text}"
    );
    // no token, statement text or literal ever appears in metrics
    assert!(!text.contains("no_such_table"));

    drop(c);
    assert!(
        eventually(Duration::from_secs(5), || gw.metric(
            r#"duckgate_sessions{database="default",identity="alice"}"#
        ) == Some(0.0))
        .await
    );
    assert!(
        eventually(Duration::from_secs(5), || gw.metric("duckgate_connections")
            == Some(0.0))
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_rejections_are_counted() {
    let gw = spawn_process(&[ADMIN[0], ADMIN[1], "--max-connections", "1"]);
    let (_c, _t) = connect_watched(gw.port, "a", "md:").await;
    let conn = format!("host=127.0.0.1 port={} user=b dbname=md:", gw.port);
    let e = tokio_postgres::connect(&conn, NoTls).await.err().unwrap();
    assert_eq!(sqlstate(&e), "53300");
    assert_eq!(
        gw.metric(r#"duckgate_connections_rejected_total{reason="max_connections"}"#),
        Some(1.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_running_work_then_closes_sessions_with_57p01() {
    let mut gw = spawn_process(&[ADMIN[0], ADMIN[1], "--drain-timeout-ms", "4000"]);
    let (setup, _t) = connect_watched(gw.port, "setup", "md:").await;
    setup.batch_execute("CREATE TABLE t (i INT)").await.unwrap();
    drop(setup);
    let (_idle, idle_task) = connect_watched(gw.port, "idle", "md:").await;
    let (busy, busy_task) = connect_watched(gw.port, "busy", "md:").await;
    busy.batch_execute("BEGIN; INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let (stuck, stuck_task) = connect_watched(gw.port, "stuck", "md:").await;
    stuck
        .batch_execute("BEGIN; INSERT INTO t VALUES (2)")
        .await
        .unwrap();

    let signalled = Instant::now();
    gw.terminate();
    // an idle session is closed at once, so its pool reconnects elsewhere
    assert_eq!(
        closed_with(idle_task, Duration::from_secs(3)).await,
        "57P01"
    );
    let (status, body) = gw.admin_get("/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("draining"), "{body}");
    assert_eq!(gw.metric("duckgate_draining"), Some(1.0));
    // no new sessions
    let conn = format!("host=127.0.0.1 port={} user=late dbname=md:", gw.port);
    assert!(tokio_postgres::connect(&conn, NoTls).await.is_err());
    // an open transaction may finish; its session closes when it has
    busy.batch_execute("INSERT INTO t VALUES (3); COMMIT")
        .await
        .unwrap();
    assert_eq!(
        closed_with(busy_task, Duration::from_secs(3)).await,
        "57P01"
    );
    // one that never finishes is closed at the deadline, and rolled back
    assert_eq!(
        closed_with(stuck_task, Duration::from_secs(10)).await,
        "57P01"
    );
    assert!(
        signalled.elapsed() >= Duration::from_millis(3500),
        "the stuck transaction was closed before the drain deadline"
    );
    let exited = eventually(Duration::from_secs(10), || {
        matches!(gw.child.try_wait(), Ok(Some(_)))
    })
    .await;
    assert!(exited, "the gateway did not exit after draining");
    assert!(gw.child.wait().unwrap().success());

    let data = std::mem::replace(&mut gw.data_dir, tempfile::tempdir().unwrap());
    let again = spawn_process_in(data, &[]);
    let (c, _t) = connect_watched(again.port, "check", "md:").await;
    let rows = c.query("SELECT i FROM t ORDER BY i", &[]).await.unwrap();
    let got: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        got,
        vec![1, 3],
        "committed work kept, the unfinished transaction rolled back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_are_logged_with_outcome_and_fingerprint_but_never_literals() {
    let gw = spawn_process(&["--log-format", "json", "--log-level", "info"]);
    let (c, _t) = connect_watched(gw.port, "logger", "md:").await;
    c.simple_query("SELECT 'very-secret-value' AS x")
        .await
        .unwrap();
    let e = c
        .simple_query("SELECT * FROM missing_table WHERE k = 'another-secret'")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42P01");
    drop(c);
    let statements = |gw: &common::GatewayProcess| -> Vec<serde_json::Value> {
        gw.logs()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["fields"]["message"] == "statement")
            .collect()
    };
    assert!(eventually(Duration::from_secs(5), || statements(&gw).len() >= 2).await);
    let lines = statements(&gw);
    let ok = &lines[0]["fields"];
    assert_eq!(ok["command"], "SELECT");
    assert_eq!(ok["rows"], 1);
    assert_eq!(ok["sqlstate"], "00000");
    assert_eq!(ok["identity"], "logger");
    assert_eq!(ok["fingerprint"].as_str().unwrap().len(), 16);
    assert!(ok["duration_us"].as_u64().is_some());
    assert!(
        ok.get("sql").is_none(),
        "statement text at info level: {ok}"
    );
    assert_eq!(lines[1]["fields"]["sqlstate"], "42P01");
    assert!(
        eventually(Duration::from_secs(5), || gw.logs().iter().any(|l| l
            .contains("connection closed")
            && l.contains("duration_ms")))
        .await
    );
    let all = gw.logs().join("\n");
    assert!(!all.contains("very-secret-value") && !all.contains("another-secret"));

    // at debug level the text is there, with its literals redacted
    let gw = spawn_process(&[
        "--log-format",
        "json",
        "--log-level",
        "info,duckgate::statement=debug",
    ]);
    let (c, _t) = connect_watched(gw.port, "logger", "md:").await;
    c.simple_query("SELECT 'very-secret-value' AS x, 42 AS y")
        .await
        .unwrap();
    assert!(eventually(Duration::from_secs(5), || !statements(&gw).is_empty()).await);
    assert_eq!(statements(&gw)[0]["fields"]["sql"], "SELECT ? AS x, ? AS y");
    assert!(!gw.logs().join("\n").contains("very-secret-value"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_vanishing_mid_result_leaves_no_duckdb_work_behind() {
    let gw = spawn_process(&ADMIN);
    let (mut raw, _) = Raw::connect(gw.port, &[("user", "vanisher"), ("database", "md:")]).await;
    raw.send(&Raw::query(
        "SELECT range, md5(range::VARCHAR) FROM range(2000000000)",
    ))
    .await;
    // the result is streaming
    loop {
        let m = raw.read().await;
        if m.tag == b'D' {
            break;
        }
    }
    assert_eq!(gw.metric("duckgate_statements_running"), Some(1.0));
    drop(raw);
    assert!(
        eventually(Duration::from_secs(20), || gw
            .metric("duckgate_statements_running")
            == Some(0.0))
        .await,
        "DuckDB kept working for a client that is gone"
    );
    assert!(
        eventually(Duration::from_secs(5), || gw.metric("duckgate_connections")
            == Some(0.0))
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_outage_gives_errors_then_recovers_without_a_restart() {
    let s3 = env("DUCKGATE_TEST_S3_ENDPOINT");
    let proxy = Proxy::start(s3.trim_start_matches("http://").to_owned()).await;
    let dir = tempfile::tempdir().unwrap();
    let id = format!("outage_{}", std::process::id());
    let config = write_lake_config(dir.path(), &id, Some(format!("127.0.0.1:{}", proxy.port)));
    let gw = spawn_process(&["--config", config.to_str().unwrap(), ADMIN[0], ADMIN[1]]);
    let (c, _t) = connect_watched(gw.port, "lake", "lake").await;
    // enough rows that DuckLake writes a data file rather than inlining them in the catalog
    c.batch_execute("CREATE TABLE t AS SELECT range AS i FROM range(1000)")
        .await
        .unwrap();

    proxy.down();
    let e = c
        .batch_execute("INSERT INTO t SELECT range + 1000 FROM range(1000)")
        .await
        .unwrap_err();
    let code = sqlstate(&e);
    assert!(!code.starts_with("no sqlstate"), "{e}");
    // the session survives the error and the database stays attached (ready): the outage
    // is everyone's, so failing readiness would only empty the Service
    c.simple_query("SELECT 1").await.unwrap();
    assert_eq!(gw.admin_get("/readyz").0, 200);

    proxy.up();
    c.batch_execute("INSERT INTO t SELECT range + 5000 FROM range(1000)")
        .await
        .unwrap();
    let row = c
        .query_one("SELECT count(*), max(i) FROM t", &[])
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, i64>(0),
        2000,
        "the failed INSERT left nothing behind"
    );
    assert_eq!(row.get::<_, i64>(1), 5999);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_cannot_attach_makes_the_gateway_not_ready_until_it_does() {
    // the catalog PostgreSQL behind a proxy that starts down
    let pg_port: u16 = env("DUCKGATE_TEST_PG_PORT").parse().unwrap();
    let proxy = Proxy::start(format!("127.0.0.1:{pg_port}")).await;
    proxy.down();
    let dir = tempfile::tempdir().unwrap();
    let id = format!("notready_{}", std::process::id());
    let config = write_lake_config(dir.path(), &id, None);
    // point the catalog at the proxy
    let mut c = duckgate_config::GatewayConfig::from_file(&config).unwrap();
    if let duckgate_config::storage::DatabaseKind::Ducklake { catalog, .. } =
        &mut c.databases[0].kind
    {
        catalog.port = proxy.port;
    }
    std::fs::write(&config, c.to_yaml()).unwrap();
    let gw = spawn_process(&["--config", config.to_str().unwrap(), ADMIN[0], ADMIN[1]]);
    let (status, body) = gw.admin_get("/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"lake\""), "{body}");
    assert!(!body.contains(
        &std::fs::read_to_string(env("DUCKGATE_TEST_PG_PASSWORD_FILE"))
            .unwrap()
            .trim()
            .to_string()
    ));
    proxy.up();
    assert!(
        eventually(Duration::from_secs(30), || gw.admin_get("/readyz").0 == 200).await,
        "never became ready: {:?}",
        gw.admin_get("/readyz")
    );
    let (c, _t) = connect_watched(gw.port, "x", "lake").await;
    c.simple_query("SELECT 1").await.unwrap();
}
