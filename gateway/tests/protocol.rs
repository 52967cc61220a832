//! The gateway core against a real client (tokio-postgres): simple and extended protocol,
//! transactions, errors, cancel and timeouts.

mod common;

use std::time::{Duration, Instant};

use common::{sqlstate, start};
use tokio_postgres::SimpleQueryMessage;

fn simple_rows(msgs: &[SimpleQueryMessage]) -> Vec<Vec<Option<String>>> {
    msgs.iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect()
}

fn completions(msgs: &[SimpleQueryMessage]) -> Vec<u64> {
    msgs.iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_protocol_multi_statement_and_counts() {
    let gw = start().await;
    let c = gw.connect().await;
    let msgs = c
        .simple_query(
            "CREATE TABLE t(id INTEGER PRIMARY KEY, name VARCHAR); \
             INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c'); \
             UPDATE t SET name = 'z' WHERE id > 1; \
             DELETE FROM t WHERE id = 3; \
             SELECT id, name FROM t ORDER BY id",
        )
        .await
        .unwrap();
    assert_eq!(completions(&msgs), vec![0, 3, 2, 1, 2]);
    assert_eq!(
        simple_rows(&msgs),
        vec![
            vec![Some("1".into()), Some("a".into())],
            vec![Some("2".into()), Some("z".into())]
        ]
    );
    // empty queries
    assert!(simple_rows(&c.simple_query("").await.unwrap()).is_empty());
    assert!(simple_rows(&c.simple_query(" ;; ").await.unwrap()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_statement_query_is_one_implicit_transaction() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE t(a INTEGER)").await.unwrap();
    // the failing statement rolls back the insert before it, as in PostgreSQL
    let e = c
        .batch_execute("INSERT INTO t VALUES (1); SELECT * FROM missing_table")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42P01");
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    c.batch_execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)")
        .await
        .unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_sqlstates_and_session_survives() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE u(id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
        .await
        .unwrap();
    let cases = [
        ("SELEC 1", "42601"),
        ("SELECT * FROM nope", "42P01"),
        ("SELECT nope FROM u", "42703"),
        ("SELECT nope_fn(1)", "42883"),
        ("SELECT 'x'::INTEGER", "22P02"),
        ("INSERT INTO u VALUES (1, NULL)", "23502"),
        ("SELECT 9223372036854775807::BIGINT + 1", "22003"),
    ];
    for (sql, code) in cases {
        let e = c.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&e), code, "{sql}: {e:?}");
        // the same through the extended protocol
        let e = c.query(sql, &[]).await.unwrap_err();
        assert_eq!(sqlstate(&e), code, "extended {sql}: {e:?}");
    }
    c.batch_execute("INSERT INTO u VALUES (1, 1)")
        .await
        .unwrap();
    let e = c
        .batch_execute("INSERT INTO u VALUES (1, 2)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "23505");
    let v: i32 = c.query_one("SELECT v FROM u", &[]).await.unwrap().get(0);
    assert_eq!(v, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_and_failed_state() {
    let gw = start().await;
    let mut c = gw.connect().await;
    c.batch_execute("CREATE TABLE t(a INTEGER)").await.unwrap();
    c.batch_execute("BEGIN; INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let e = c.batch_execute("SELECT * FROM missing").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42P01");
    // everything but ROLLBACK/COMMIT fails until the block ends
    let e = c.batch_execute("SELECT 1").await.unwrap_err();
    assert_eq!(sqlstate(&e), "25P02");
    let e = c.query("SELECT 1", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&e), "25P02");
    c.batch_execute("ROLLBACK").await.unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    // START TRANSACTION with an isolation clause, then COMMIT
    c.batch_execute(
        "START TRANSACTION ISOLATION LEVEL SERIALIZABLE; INSERT INTO t VALUES (5); COMMIT",
    )
    .await
    .unwrap();
    // the driver's own transaction API
    let tx = c.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (6)", &[]).await.unwrap();
    tx.rollback().await.unwrap();
    let tx = c.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (7)", &[]).await.unwrap();
    tx.commit().await.unwrap();
    let rows = c.query("SELECT a FROM t ORDER BY a", &[]).await.unwrap();
    let got: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(got, vec![5, 7]);
    // COMMIT of a failed block rolls back
    c.batch_execute("BEGIN; INSERT INTO t VALUES (8)")
        .await
        .unwrap();
    let _ = c.batch_execute("SELECT 1/'x'").await;
    c.batch_execute("COMMIT").await.unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM t WHERE a = 8", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    // savepoints work while nothing needs undoing (tests/cursors.rs has the rest)
    c.batch_execute("BEGIN; SAVEPOINT s1; RELEASE s1; COMMIT")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_and_parameters() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE p(id INTEGER, name VARCHAR, score DOUBLE)")
        .await
        .unwrap();
    let ins = c
        .prepare("INSERT INTO p VALUES ($1, $2, $3)")
        .await
        .unwrap();
    assert_eq!(
        ins.params(),
        &[
            tokio_postgres::types::Type::INT4,
            tokio_postgres::types::Type::TEXT,
            tokio_postgres::types::Type::FLOAT8
        ]
    );
    for i in 0..10i32 {
        let n = c
            .execute(&ins, &[&i, &format!("n{i}"), &(f64::from(i) / 2.0)])
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    let sel = c
        .prepare("SELECT name, score FROM p WHERE id >= $1 ORDER BY id")
        .await
        .unwrap();
    let rows = c.query(&sel, &[&7i32]).await.unwrap();
    let got: Vec<(String, f64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        got,
        vec![("n7".into(), 3.5), ("n8".into(), 4.0), ("n9".into(), 4.5)]
    );
    // an untyped parameter is text, like PostgreSQL's unknown
    let r = c.query_one("SELECT $1 AS x", &[&"hello"]).await.unwrap();
    assert_eq!(r.get::<_, String>(0), "hello");
    // a parameter DuckDB cannot infer falls back to the client's type
    let r = c
        .query_one("SELECT id FROM p WHERE id = $1::INTEGER + 1", &[&4i32])
        .await
        .unwrap();
    assert_eq!(r.get::<_, i32>(0), 5);
    // ... and when the client declares no type either, a text value binds like an untyped literal
    let typed = c
        .prepare_typed(
            "SELECT id FROM p WHERE id = $1 + 1",
            &[tokio_postgres::types::Type::INT4],
        )
        .await
        .unwrap();
    assert_eq!(
        c.query_one(&typed, &[&5i32])
            .await
            .unwrap()
            .get::<_, i32>(0),
        6
    );
    let untyped = c
        .prepare("SELECT id FROM p WHERE id = $1 + 1")
        .await
        .unwrap();
    assert_eq!(untyped.params(), &[tokio_postgres::types::Type::TEXT]);
    // DuckDB cannot type the result before binding either: it is described as text, and the
    // rows must agree with that description
    let row = c.query_one(&untyped, &[&"2"]).await.unwrap();
    assert_eq!(row.columns()[0].type_(), &tokio_postgres::types::Type::TEXT);
    assert_eq!(row.get::<_, String>(0), "3");
    // NULL parameters
    let r = c
        .query_one(
            "SELECT count(*) FROM p WHERE name IS NOT DISTINCT FROM $1",
            &[&None::<String>],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<_, i64>(0), 0);
    // wrong parameter count is a protocol-level error, the session continues
    let stmt = c.prepare("SELECT $1::INTEGER").await.unwrap();
    assert!(c.query(&stmt, &[]).await.is_err());
    assert_eq!(
        c.query_one(&stmt, &[&1i32]).await.unwrap().get::<_, i32>(0),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_suspension_in_a_transaction() {
    let gw = start().await;
    let mut c = gw.connect().await;
    let tx = c.transaction().await.unwrap();
    let stmt = tx
        .prepare("SELECT i FROM range(10) t(i) ORDER BY i")
        .await
        .unwrap();
    let portal = tx.bind(&stmt, &[]).await.unwrap();
    let mut all = Vec::new();
    loop {
        let rows = tx.query_portal(&portal, 3).await.unwrap();
        if rows.is_empty() {
            break;
        }
        assert!(rows.len() <= 3);
        all.extend(rows.iter().map(|r| r.get::<_, i64>(0)));
    }
    assert_eq!(all, (0..10).collect::<Vec<i64>>());
    // a second portal interleaved with the first
    let p1 = tx.bind(&stmt, &[]).await.unwrap();
    let p2 = tx.bind(&stmt, &[]).await.unwrap();
    let a = tx.query_portal(&p1, 4).await.unwrap();
    let b = tx.query_portal(&p2, 6).await.unwrap();
    let a2 = tx.query_portal(&p1, 100).await.unwrap();
    assert_eq!(a.len() + a2.len(), 10);
    assert_eq!(b.len(), 6);
    assert_eq!(a2.first().unwrap().get::<_, i64>(0), 4);
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_request_interrupts_a_running_query() {
    let gw = start().await;
    let c = gw.connect().await;
    let token = c.cancel_token();
    let started = Instant::now();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        token.cancel_query(tokio_postgres::NoTls).await.unwrap();
        Instant::now()
    });
    let e = c
        .query_one(
            "SELECT count(*) FROM range(1000000000000) a(x) WHERE x % 7 = 3",
            &[],
        )
        .await
        .unwrap_err();
    let cancelled_at = canceller.await.unwrap();
    assert_eq!(sqlstate(&e), "57014", "{e:?}");
    assert!(e.to_string().contains("user request") || format!("{e:?}").contains("user request"));
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(1),
        "the query stopped {:?} after the cancel",
        cancelled_at.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // session still usable
    let v: i32 = c.query_one("SELECT 41 + 1", &[]).await.unwrap().get(0);
    assert_eq!(v, 42);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_from_set_and_startup_option() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute("SET statement_timeout = 200")
        .await
        .unwrap();
    let e = c
        .query_one(
            "SELECT count(*) FROM range(1000000000000) a(x) WHERE x % 7 = 3",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "57014");
    assert!(format!("{e:?}").contains("statement timeout"), "{e:?}");
    c.batch_execute("RESET statement_timeout").await.unwrap();
    let r = c.simple_query("SHOW statement_timeout").await.unwrap();
    assert_eq!(simple_rows(&r), vec![vec![Some("0".into())]]);

    let c2 = common::connect(&format!(
        "{} options='-c statement_timeout=150'",
        gw.conn_str("md:")
    ))
    .await;
    let e = c2
        .simple_query("SELECT count(*) FROM range(1000000000000) a(x) WHERE x % 7 = 3")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "57014");
    assert_eq!(
        c2.query_one("SELECT 1::INTEGER", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_parameters_and_routing() {
    let gw = start().await;
    let c = common::connect(&format!(
        "{} application_name=probe options='-c TimeZone=Asia/Kolkata'",
        gw.conn_str("md:")
    ))
    .await;
    let r = c
        .simple_query(
            "SHOW application_name; SHOW TimeZone; SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00'",
        )
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&r),
        vec![
            vec![Some("probe".into())],
            vec![Some("Asia/Kolkata".into())],
            vec![Some("2024-01-01 05:30:00+05:30".into())]
        ]
    );
    // SHOW's column is the setting's name as PostgreSQL spells it, whatever case was asked
    let r = c
        .simple_query("SHOW timezone; SHOW datestyle; SHOW search_path")
        .await
        .unwrap();
    let names: Vec<String> = r
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => {
                Some(row.columns()[0].name().to_owned())
            }
            _ => None,
        })
        .collect();
    assert_eq!(names, ["TimeZone", "DateStyle", "search_path"]);
    let v: String = c.query_one("SELECT version()", &[]).await.unwrap().get(0);
    // SQLAlchemy parses "PostgreSQL <major>.<minor>" out of this
    assert!(v.starts_with("PostgreSQL 16."), "{v}");
    assert!(v.contains("DuckDB v1.5.5"), "{v}");
    let v: String = c
        .query_one("select pg_catalog.version()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(v.starts_with("PostgreSQL 16."), "{v}");
    // the constant in the version text is the DuckDB really linked
    let v: String = c
        .query_one("SELECT library_version FROM pragma_version()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, duckgate_gateway::sql::compat::DUCKDB_VERSION);
    // unknown database
    let e = tokio_postgres::connect(&gw.conn_str("nosuchdb"), tokio_postgres::NoTls)
        .await
        .err()
        .expect("unknown database must be refused");
    assert_eq!(sqlstate(&e), "3D000");
    // named databases are separate files; with creation allowed a new name makes one
    let gw2 = common::start_with(|c| c.allow_create_databases = true).await;
    let a = gw2.connect_db("sales").await;
    a.batch_execute("CREATE TABLE only_in_sales(x INTEGER)")
        .await
        .unwrap();
    let d = gw2.connect().await;
    let e = d
        .query("SELECT * FROM only_in_sales", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42P01");
    assert!(gw2.data_dir.path().join("sales.duckdb").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_timeouts_end_sessions_like_postgres() {
    let gw = start().await;
    let (mut raw, _) =
        common::raw::Raw::connect(gw.port, &[("user", "u"), ("database", "md:")]).await;
    raw.send(&common::raw::Raw::query("CREATE TABLE t(a INTEGER)"))
        .await;
    raw.until_ready().await;
    raw.send(&common::raw::Raw::query(
        "SET idle_in_transaction_session_timeout = 300; BEGIN; INSERT INTO t VALUES (1)",
    ))
    .await;
    raw.until_ready().await;
    // idle inside the transaction: the server ends the session with 25P03
    let m = raw.read().await;
    assert_eq!(m.tag, b'E');
    assert_eq!(m.sqlstate().as_deref(), Some("25P03"));
    // the open transaction was not committed
    let c = gw.connect().await;
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    let (mut raw, _) = common::raw::Raw::connect(
        gw.port,
        &[
            ("user", "u"),
            ("database", "md:"),
            ("options", "-c idle_session_timeout=300"),
        ],
    )
    .await;
    let started = Instant::now();
    let m = raw.read().await;
    assert_eq!(m.sqlstate().as_deref(), Some("57P05"));
    assert!(started.elapsed() >= Duration::from_millis(250));
    // a session that keeps working is not cut off
    let busy = common::connect(&format!(
        "{} options='-c idle_session_timeout=400'",
        gw.conn_str("md:")
    ))
    .await;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        busy.simple_query("SELECT 1").await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_settings_lists_the_session_settings_as_show_answers_them() {
    let gw = start().await;
    let (c, conn) = tokio_postgres::connect(
        &format!("{} application_name=tool", gw.conn_str("md:")),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let rows = |sql: &'static str| {
        let c = &c;
        async move {
            c.simple_query(sql)
                .await
                .unwrap()
                .into_iter()
                .filter_map(|m| match m {
                    SimpleQueryMessage::Row(r) => Some(
                        (0..r.len())
                            .map(|i| r.get(i).unwrap_or("NULL").to_owned())
                            .collect::<Vec<_>>()
                            .join("|"),
                    ),
                    _ => None,
                })
                .collect::<Vec<_>>()
        }
    };
    const Q: &str = "SELECT name, setting, unit, source, reset_val, current_setting(name) FROM pg_settings \
                     WHERE name IN ('application_name', 'statement_timeout', 'TimeZone') ORDER BY name";
    assert_eq!(
        rows(Q).await,
        [
            "TimeZone|UTC|NULL|default|UTC|UTC",
            "application_name|tool|NULL|client|tool|tool",
            "statement_timeout|0|ms|default|0|0",
        ]
    );
    // SET shows at once, with PostgreSQL's units in pg_settings and SHOW's text elsewhere
    c.batch_execute("SET statement_timeout = '5s'; SET TIME ZONE 'Europe/Berlin'")
        .await
        .unwrap();
    assert_eq!(
        rows(Q).await,
        [
            "TimeZone|Europe/Berlin|NULL|session|UTC|Europe/Berlin",
            "application_name|tool|NULL|client|tool|tool",
            "statement_timeout|5000|ms|session|0|5s",
        ]
    );
    // DBeaver's SettingCache: one setting by name, PostgreSQL's row
    let r = c
        .query_one(
            "select * from pg_catalog.pg_settings where name=$1",
            &[&"standard_conforming_strings"],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<_, Option<String>>("setting").as_deref(), Some("on"));
    assert_eq!(
        r.get::<_, Option<String>>("vartype").as_deref(),
        Some("bool")
    );
    assert_eq!(
        r.get::<_, Option<String>>("context").as_deref(),
        Some("user")
    );
    // DuckDB's own settings are still listed, the session's names once
    assert_eq!(
        rows("SELECT count(*) FROM pg_settings WHERE lower(name) IN ('timezone', 'search_path')")
            .await,
        ["2"]
    );
    assert_eq!(
        rows("SELECT count(*) > 0 FROM pg_settings WHERE name = 'threads'").await,
        ["t"]
    );
    // psql's \dconfig: the non-default ones
    c.batch_execute("RESET statement_timeout").await.unwrap();
    assert_eq!(
        rows(
            "SELECT s.name, pg_catalog.current_setting(s.name) FROM pg_catalog.pg_settings s \
             WHERE s.source <> 'default' AND s.setting IS DISTINCT FROM s.boot_val ORDER BY 1"
        )
        .await,
        ["TimeZone|Europe/Berlin", "application_name|tool"]
    );
}
