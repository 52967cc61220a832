//! sqlx (0.8: tokio, rustls with ring, no compile-time macros) against the gateway, as a Rust
//! service uses it: a `PgPool` over TLS verify-full with a token as the password, `query` /
//! `query_as` / `query_scalar` with binds, `fetch` streaming, transactions, errors.
//!
//! sqlx prepares every statement with the parameter OIDs of the Rust types (Parse with types,
//! Describe, Sync), sends every parameter and asks for every result in binary, and refuses to
//! decode a column whose PostgreSQL type is not the one the Rust type expects (i32 only from int4,
//! f64 only from float8, String only from text-like types, ...). So these tests check the binary
//! codecs and the result types the gateway reports, not only the values.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use common::{start_with, TestGateway};
use duckgate_config::AuthMethod;
use duckgate_gateway::auth::create_token;
use futures::TryStreamExt;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::postgres::types::PgInterval;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgSslMode};
use sqlx::types::Json;
use sqlx::{Connection, Executor, Row};
use uuid::Uuid;

/// A gateway that requires TLS (its generated CA) and a token, and the token.
struct Secure {
    gw: TestGateway,
    ca: PathBuf,
    token: String,
}

async fn secure(method: AuthMethod) -> Secure {
    let token_file = tempfile::tempdir().unwrap().keep().join("tokens.yaml");
    let token = create_token(&token_file, "sqlx", vec![], false).unwrap();
    let gw = start_with(|c| {
        c.auth.trust = false;
        c.tls.allow_plaintext = false;
        c.auth.method = method;
        c.auth.token_file = Some(token_file.clone());
        c.allow_create_databases = true;
    })
    .await;
    let ca = gw.data_dir.path().join("tls").join("ca.crt");
    Secure { gw, ca, token }
}

impl Secure {
    /// What a service configures: host name checked against the certificate, the gateway's CA,
    /// the token as the password, `md:` for the default database.
    fn options(&self) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .host("localhost")
            .port(self.gw.port)
            .username("sqlx")
            .password(&self.token)
            .database("md:")
            .ssl_mode(PgSslMode::VerifyFull)
            .ssl_root_cert(&self.ca)
            .application_name("sqlx-suite")
    }

    async fn pool(&self, max: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max)
            .connect_with(self.options())
            .await
            .expect("pool")
    }

    async fn conn(&self) -> PgConnection {
        PgConnection::connect_with(&self.options())
            .await
            .expect("connect")
    }
}

/// The SQLSTATE of a database error (panics on any other kind of error).
fn sqlstate(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()).unwrap_or_default(),
        other => panic!("not a database error: {other:?}"),
    }
}

async fn one_plus_one(conn: &mut PgConnection) -> i32 {
    sqlx::query_scalar("SELECT 1 + 1")
        .fetch_one(conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_over_verify_full_tls_with_scram_and_cleartext_tokens() {
    for method in [AuthMethod::Scram, AuthMethod::Password] {
        let s = secure(method).await;
        let pool = s.pool(4).await;
        // several connections at once, each doing prepared work
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(pool.acquire().await.unwrap());
        }
        assert_eq!(pool.size(), 3, "{method:?}");
        for (i, c) in held.iter_mut().enumerate() {
            let v: i32 = sqlx::query_scalar("SELECT $1 * 2")
                .bind(i as i32)
                .fetch_one(&mut **c)
                .await
                .unwrap();
            assert_eq!(v, i as i32 * 2);
        }
        drop(held);
        // more concurrent statements than connections
        let tasks: Vec<_> = (0..16i64)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    // (a table function's arguments stay literals: see the known gateway bug
                    // at the end of this file)
                    sqlx::query_scalar::<_, i64>(
                        "SELECT count(*) FROM range(20000) t(i) WHERE i < $1",
                    )
                    .bind(i * 1000)
                    .fetch_one(&pool)
                    .await
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap().unwrap(), i as i64 * 1000, "{method:?}");
        }
        // sum(BIGINT) is numeric, as in PostgreSQL (DuckDB's HUGEINT)
        let sum: Decimal = sqlx::query_scalar("SELECT sum(i) FROM range(5000) t(i) WHERE i < $1")
            .bind(1000i64)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(sum, Decimal::from(499_500));
        assert!(pool.size() <= 4);
        let app: String = sqlx::query_scalar("SHOW application_name")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(app, "sqlx-suite");
        pool.close().await;

        // the URL form, as in DATABASE_URL
        let url = format!(
            "postgres://sqlx:{}@localhost:{}/md:?sslmode=verify-full&sslrootcert={}",
            s.token,
            s.gw.port,
            s.ca.display()
        );
        let pool = PgPool::connect(&url).await.unwrap();
        let db: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(db, "default");
        pool.close().await;

        // a named database (created on first use: allow_create_databases)
        let mut c = PgConnection::connect_with(&s.options().database("md:sqlx_named"))
            .await
            .unwrap();
        let db: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(db, "sqlx_named");
        c.close().await.unwrap();

        // a wrong token, no TLS, a CA that did not sign the certificate
        let e = PgConnection::connect_with(&s.options().password("dg_wrong"))
            .await
            .err()
            .unwrap();
        assert_eq!(sqlstate(&e), "28P01", "{method:?}");
        let e = PgConnection::connect_with(&s.options().ssl_mode(PgSslMode::Disable))
            .await
            .err()
            .unwrap();
        assert_eq!(sqlstate(&e), "28000", "{method:?}");
        let other = tempfile::tempdir().unwrap();
        duckgate_gateway::tls::ensure_embedded_certs(other.path()).unwrap();
        let e = PgConnection::connect_with(&s.options().ssl_root_cert(other.path().join("ca.crt")))
            .await
            .err()
            .unwrap();
        // rustls refuses the chain during the handshake (sqlx reports it as an I/O error)
        assert!(
            matches!(e, sqlx::Error::Io(_) | sqlx::Error::Tls(_))
                && format!("{e:?}").contains("InvalidCertificate"),
            "{method:?} {e:?}"
        );
    }
}

const CREATE_ALL_TYPES: &str = "CREATE TABLE all_types (
    id INTEGER, i INTEGER, b BIGINT, s SMALLINT, t VARCHAR, ok BOOLEAN, f DOUBLE, r REAL,
    d DECIMAL(18,4), ts TIMESTAMP, tstz TIMESTAMPTZ, day DATE, tm TIME, u UUID, doc JSON,
    ints INTEGER[], tags VARCHAR[], bin BLOB)";

const INSERT_ALL_TYPES: &str = "INSERT INTO all_types VALUES
    ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

struct Sample {
    i: i32,
    b: i64,
    s: i16,
    t: String,
    ok: bool,
    f: f64,
    r: f32,
    d: Decimal,
    ts: NaiveDateTime,
    tstz: DateTime<Utc>,
    day: NaiveDate,
    tm: NaiveTime,
    u: Uuid,
    doc: serde_json::Value,
    ints: Vec<i32>,
    tags: Vec<String>,
    bin: Vec<u8>,
}

fn sample() -> Sample {
    Sample {
        i: -2_000_000_000,
        b: 9_000_000_000_000_000_000,
        s: -32000,
        t: "héllo, 'wörld' \\ \"x\"".into(),
        ok: true,
        f: 1.0e300 / 3.0,
        r: 1.5,
        d: Decimal::from_str("-12345678901234.5678").unwrap(),
        ts: NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_micro_opt(23, 59, 58, 123_456)
            .unwrap(),
        tstz: Utc.with_ymd_and_hms(1999, 12, 31, 23, 0, 1).unwrap(),
        day: NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(),
        tm: NaiveTime::from_hms_micro_opt(12, 34, 56, 789).unwrap(),
        u: Uuid::from_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap(),
        doc: json!({"a": [1, 2, {"b": null}], "c": "d"}),
        ints: vec![1, -2, 3],
        tags: vec!["a".into(), "b c".into(), "".into(), "{d}".into()],
        bin: vec![0, 1, 0xff, b'\\', b'x'],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binds_and_results_of_common_types_and_nulls() {
    let s = secure(AuthMethod::Scram).await;
    let pool = s.pool(2).await;
    pool.execute(CREATE_ALL_TYPES).await.unwrap();
    let v = sample();
    let done = sqlx::query(INSERT_ALL_TYPES)
        .bind(1i32)
        .bind(v.i)
        .bind(v.b)
        .bind(v.s)
        .bind(&v.t)
        .bind(v.ok)
        .bind(v.f)
        .bind(v.r)
        .bind(v.d)
        .bind(v.ts)
        .bind(v.tstz)
        .bind(v.day)
        .bind(v.tm)
        .bind(v.u)
        .bind(&v.doc)
        .bind(&v.ints)
        .bind(&v.tags)
        .bind(&v.bin)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    // every column NULL, bound as typed NULLs (Option::None)
    let done = sqlx::query(INSERT_ALL_TYPES)
        .bind(2i32)
        .bind(None::<i32>)
        .bind(None::<i64>)
        .bind(None::<i16>)
        .bind(None::<String>)
        .bind(None::<bool>)
        .bind(None::<f64>)
        .bind(None::<f32>)
        .bind(None::<Decimal>)
        .bind(None::<NaiveDateTime>)
        .bind(None::<DateTime<Utc>>)
        .bind(None::<NaiveDate>)
        .bind(None::<NaiveTime>)
        .bind(None::<Uuid>)
        .bind(None::<serde_json::Value>)
        .bind(None::<Vec<i32>>)
        .bind(None::<Vec<String>>)
        .bind(None::<Vec<u8>>)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);

    let row = sqlx::query("SELECT * FROM all_types WHERE id = $1")
        .bind(1i32)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(row.get::<i32, _>("i"), v.i);
    assert_eq!(row.get::<i64, _>("b"), v.b);
    assert_eq!(row.get::<i16, _>("s"), v.s);
    assert_eq!(row.get::<String, _>("t"), v.t);
    assert_eq!(row.get::<bool, _>("ok"), v.ok);
    assert_eq!(row.get::<f64, _>("f"), v.f);
    assert_eq!(row.get::<f32, _>("r"), v.r);
    assert_eq!(row.get::<Decimal, _>("d"), v.d);
    assert_eq!(row.get::<NaiveDateTime, _>("ts"), v.ts);
    assert_eq!(row.get::<DateTime<Utc>, _>("tstz"), v.tstz);
    assert_eq!(row.get::<NaiveDate, _>("day"), v.day);
    assert_eq!(row.get::<NaiveTime, _>("tm"), v.tm);
    assert_eq!(row.get::<Uuid, _>("u"), v.u);
    assert_eq!(row.get::<serde_json::Value, _>("doc"), v.doc);
    assert_eq!(row.get::<Vec<i32>, _>("ints"), v.ints);
    assert_eq!(row.get::<Vec<String>, _>("tags"), v.tags);
    assert_eq!(row.get::<Vec<u8>, _>("bin"), v.bin);

    let row = sqlx::query("SELECT * FROM all_types WHERE id = 2")
        .fetch_one(&pool)
        .await
        .unwrap();
    for (idx, col) in row.columns().iter().enumerate().skip(1) {
        use sqlx::Column;
        let raw = row.try_get_raw(idx).unwrap();
        assert!(sqlx::ValueRef::is_null(&raw), "{} is not NULL", col.name());
    }
    assert_eq!(row.get::<Option<Decimal>, _>("d"), None);
    assert_eq!(row.get::<Option<Vec<String>>, _>("tags"), None);
    assert_eq!(row.get::<Option<DateTime<Utc>>, _>("tstz"), None);

    // query_as into a tuple, with a WHERE on several typed binds
    let (id, t, tags): (i32, String, Vec<String>) = sqlx::query_as(
        "SELECT id, t, tags FROM all_types WHERE u = $1 AND day = $2 AND ok = $3 AND d = $4",
    )
    .bind(v.u)
    .bind(v.day)
    .bind(true)
    .bind(v.d)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((id, t, tags), (1, v.t.clone(), v.tags.clone()));
    let none: Option<(i32,)> = sqlx::query_as("SELECT id FROM all_types WHERE i = $1")
        .bind(7i32)
        .fetch_optional(&pool)
        .await
        .unwrap();
    assert!(none.is_none());
    let e = sqlx::query("SELECT id FROM all_types WHERE false")
        .fetch_one(&pool)
        .await
        .err()
        .unwrap();
    assert!(matches!(e, sqlx::Error::RowNotFound), "{e:?}");
}

/// `SELECT $1` returns the parameter with the type sqlx declared for it, so every Rust type
/// decodes back (sqlx checks the column type strictly). Unprepared (`persistent(false)`): sqlx's
/// statement cache is keyed by the SQL text alone, so a cached `SELECT $1` prepared for an int4
/// would be bound with an int8 next (on PostgreSQL too: "incorrect binary data format").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_parameter_comes_back_with_its_declared_type() {
    let s = secure(AuthMethod::Scram).await;
    let mut c = s.conn().await;
    let v = sample();
    macro_rules! echo {
        ($val:expr, $ty:ty) => {{
            let got: $ty = sqlx::query_scalar("SELECT $1")
                .bind($val.clone())
                .persistent(false)
                .fetch_one(&mut c)
                .await
                .unwrap_or_else(|e| panic!("SELECT $1 of {}: {e}", stringify!($ty)));
            assert_eq!(got, $val, "{}", stringify!($ty));
        }};
    }
    echo!(v.i, i32);
    echo!(v.b, i64);
    echo!(v.s, i16);
    echo!(v.t, String);
    echo!(v.ok, bool);
    echo!(v.f, f64);
    echo!(v.r, f32);
    echo!(v.d, Decimal);
    echo!(v.ts, NaiveDateTime);
    echo!(v.tstz, DateTime<Utc>);
    echo!(v.day, NaiveDate);
    echo!(v.tm, NaiveTime);
    echo!(v.u, Uuid);
    echo!(v.doc, serde_json::Value);
    echo!(v.ints, Vec<i32>);
    echo!(v.tags, Vec<String>);
    echo!(v.bin, Vec<u8>);
    echo!(Some(5i64), Option<i64>);
    echo!(None::<String>, Option<String>);
    echo!(vec![Some(1i64), None, Some(-3)], Vec<Option<i64>>);
    echo!(Vec::<i32>::new(), Vec<i32>);
    echo!(vec![0.5f64, -1e-10], Vec<f64>);
    echo!(vec![true, false], Vec<bool>);
    echo!(vec![v.d, Decimal::ZERO], Vec<Decimal>);
    echo!(vec![v.u, Uuid::nil()], Vec<Uuid>);
    echo!(vec![v.day], Vec<NaiveDate>);
    echo!(vec![v.tstz], Vec<DateTime<Utc>>);
    echo!(
        PgInterval {
            months: 14,
            days: -3,
            microseconds: 3_600_000_001
        },
        PgInterval
    );
    let map: BTreeMap<String, Vec<i32>> =
        [("a".to_owned(), vec![1, 2]), ("b".into(), vec![])].into();
    echo!(Json(map.clone()), Json<BTreeMap<String, Vec<i32>>>);
    // a numeric parameter in a position DuckDB cannot type (here: the whole select list) is
    // DECIMAL(38,10) (gateway/src/types/mod.rs, duck_type_for_oid): more fractional digits
    // are rounded, where PostgreSQL's unconstrained numeric keeps them. A cast, or a column
    // of the target type, keeps the scale.
    let fine = Decimal::from_str("0.123456789012345678").unwrap();
    let got: Decimal = sqlx::query_scalar("SELECT $1")
        .bind(fine)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(got, Decimal::from_str("0.1234567890").unwrap());
    let got: Decimal = sqlx::query_scalar("SELECT $1::DECIMAL(38,18)")
        .bind(fine)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(got, fine);
    // arithmetic on typed parameters keeps PostgreSQL's result types
    let n: i64 = sqlx::query_scalar("SELECT $1 + 1")
        .bind(41i64)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 42);
    let n: f64 = sqlx::query_scalar("SELECT $1 * 2")
        .bind(1.25f64)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 2.5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_streams_a_large_result() {
    let s = secure(AuthMethod::Scram).await;
    let pool = s.pool(2).await;
    const N: i64 = 200_000;
    let t0 = Instant::now();
    let mut rows = sqlx::query("SELECT i, 'row ' || i AS s FROM range(1000000) t(i) WHERE i < $1")
        .bind(N)
        .fetch(&pool);
    let (mut count, mut sum) = (0i64, 0i64);
    while let Some(row) = rows.try_next().await.unwrap() {
        let i: i64 = row.get(0);
        let s: &str = row.get(1);
        assert_eq!(s.len(), 4 + i.to_string().len());
        count += 1;
        sum += i;
    }
    drop(rows);
    assert_eq!(count, N);
    assert_eq!(sum, N * (N - 1) / 2);
    eprintln!("streamed {N} rows in {:?}", t0.elapsed());

    // a stream dropped after a few rows leaves its connection usable
    let mut c = pool.acquire().await.unwrap();
    {
        let mut rows =
            sqlx::query_scalar::<_, i64>("SELECT i FROM range(1000000) t(i) WHERE i < $1")
                .bind(N)
                .fetch(&mut *c);
        for want in 0..10 {
            assert_eq!(rows.try_next().await.unwrap(), Some(want));
        }
    }
    assert_eq!(one_plus_one(&mut c).await, 2);
    // fetch_all of a mid-sized result through query_as
    let all: Vec<(i64, String)> = sqlx::query_as("SELECT i, i::VARCHAR FROM range(5000) t(i)")
        .fetch_all(&mut *c)
        .await
        .unwrap();
    assert_eq!(all.len(), 5000);
    assert_eq!(all[4999], (4999, "4999".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_commit_roll_back_and_drop() {
    let s = secure(AuthMethod::Scram).await;
    let pool = s.pool(3).await;
    pool.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, note VARCHAR)")
        .await
        .unwrap();
    let count = |pool: PgPool| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM ledger")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let insert = "INSERT INTO ledger VALUES ($1, $2)";

    // commit
    let mut tx = pool.begin().await.unwrap();
    for id in 1..=2 {
        sqlx::query(insert)
            .bind(id)
            .bind(format!("kept {id}"))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let inside: i64 = sqlx::query_scalar("SELECT count(*) FROM ledger")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(inside, 2);
    // not visible to another connection before the commit
    assert_eq!(count(pool.clone()).await, 0);
    tx.commit().await.unwrap();
    assert_eq!(count(pool.clone()).await, 2);

    // rollback
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(insert)
        .bind(3)
        .bind("rolled back")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(count(pool.clone()).await, 2);

    // dropped without commit: sqlx rolls back before the connection is reused
    {
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(insert)
            .bind(4)
            .bind("dropped")
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    assert_eq!(count(pool.clone()).await, 2);

    // an error inside a transaction aborts it (25P02) until the rollback
    let mut tx = pool.begin().await.unwrap();
    let e = sqlx::query(insert)
        .bind(1)
        .bind("duplicate")
        .execute(&mut *tx)
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&e), "23505");
    let e = sqlx::query("SELECT 1")
        .execute(&mut *tx)
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&e), "25P02");
    tx.rollback().await.unwrap();

    // a nested transaction is a SAVEPOINT: committing it keeps its rows; rolling it back
    // after a write needs nested transactions, which DuckDB does not have (0A000)
    let mut tx = pool.begin().await.unwrap();
    let mut inner = tx.begin().await.unwrap();
    sqlx::query("INSERT INTO ledger VALUES (3, 'kept 3')")
        .execute(&mut *inner)
        .await
        .unwrap();
    inner.commit().await.unwrap();
    tx.commit().await.unwrap();
    // (sqlx keeps its savepoint depth when that rollback fails, so this part goes by hand)
    let mut c = pool.acquire().await.unwrap();
    for sql in [
        "BEGIN",
        "SAVEPOINT s",
        "INSERT INTO ledger VALUES (4, 'undone')",
    ] {
        sqlx::query(sql).execute(&mut *c).await.unwrap();
    }
    let e = sqlx::query("ROLLBACK TO SAVEPOINT s")
        .execute(&mut *c)
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&e), "0A000");
    sqlx::query("ROLLBACK").execute(&mut *c).await.unwrap();
    drop(c);

    let notes: Vec<String> = sqlx::query_scalar("SELECT note FROM ledger ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(notes, ["kept 1", "kept 2", "kept 3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_sqlstates_and_leave_the_connection_usable() {
    let s = secure(AuthMethod::Scram).await;
    let mut c = s.conn().await;
    c.execute("CREATE TABLE u (id INTEGER PRIMARY KEY)")
        .await
        .unwrap();
    c.execute("INSERT INTO u VALUES (1)").await.unwrap();
    let cases: [(&str, &str); 4] = [
        ("SELEC 1", "42601"),
        ("SELECT * FROM no_such_table", "42P01"),
        ("SELECT no_such_column FROM u", "42703"),
        ("INSERT INTO u VALUES (1)", "23505"),
    ];
    for (sql, code) in cases {
        // prepared (the statement fails at Parse or at Execute)
        let e = sqlx::query(sql).execute(&mut c).await.err().unwrap();
        assert_eq!(sqlstate(&e), code, "{sql}");
        let sqlx::Error::Database(d) = &e else {
            unreachable!()
        };
        assert!(!d.message().is_empty());
        assert_eq!(one_plus_one(&mut c).await, 2, "after {sql}");
        // and unprepared (simple query protocol)
        let e = sqlx::raw_sql(sql).execute(&mut c).await.err().unwrap();
        assert_eq!(sqlstate(&e), code, "{sql}");
        assert_eq!(one_plus_one(&mut c).await, 2, "after {sql}");
    }
    // a bind that does not convert: text into an INTEGER parameter position
    let e = sqlx::query("SELECT $1::INTEGER")
        .bind("abc")
        .fetch_one(&mut c)
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&e), "22P02");
    // a Rust type that does not match the column: a client-side decode error, no round trip lost
    let e = sqlx::query_scalar::<_, i32>("SELECT 'text'")
        .fetch_one(&mut c)
        .await
        .err()
        .unwrap();
    assert!(matches!(e, sqlx::Error::ColumnDecode { .. }), "{e:?}");
    assert_eq!(one_plus_one(&mut c).await, 2);
    c.close().await.unwrap();
}

/// What sqlx code does besides plain queries: bulk inserts with QueryBuilder or arrays, `= ANY`
/// with a Vec, the statement cache (reuse, eviction, clearing), unprepared multi-statement SQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_inserts_arrays_and_the_statement_cache() {
    let s = secure(AuthMethod::Password).await;
    let mut c = PgConnection::connect_with(&s.options().statement_cache_capacity(2))
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE items (id INTEGER, name VARCHAR, price DECIMAL(10,2)); \
         CREATE TABLE items2 (id INTEGER, name VARCHAR)",
    )
    .execute(&mut c)
    .await
    .unwrap();

    // QueryBuilder: one INSERT with 1000 rows of binds (3000 parameters)
    let mut qb = sqlx::QueryBuilder::new("INSERT INTO items (id, name, price) ");
    qb.push_values(0..1000, |mut b, i: i32| {
        b.push_bind(i)
            .push_bind(format!("item {i}"))
            .push_bind(Decimal::new(i64::from(i) * 101, 2));
    });
    let done = qb.build().execute(&mut c).await.unwrap();
    assert_eq!(done.rows_affected(), 1000);
    let total: Decimal = sqlx::query_scalar("SELECT sum(price) FROM items")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(total, Decimal::from_str("504495.00").unwrap());

    // arrays as whole parameters: = ANY($1) and UNNEST
    let ids: Vec<i32> = sqlx::query_scalar("SELECT id FROM items WHERE id = ANY($1) ORDER BY id")
        .bind(vec![3, 1, 999, 5000])
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(ids, [1, 3, 999]);
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM items WHERE name = ANY($1) ORDER BY id")
            .bind(vec!["item 7".to_owned(), "nope".into(), "item 2".into()])
            .fetch_all(&mut c)
            .await
            .unwrap();
    assert_eq!(names, ["item 2", "item 7"]);
    let done = sqlx::query("INSERT INTO items2 SELECT unnest($1), unnest($2)")
        .bind(vec![10, 20, 30])
        .bind(vec!["x", "y", "z"])
        .execute(&mut c)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 3);
    let back: Vec<(i32, String)> = sqlx::query_as("SELECT id, name FROM items2 ORDER BY id")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(back[2], (30, "z".to_owned()));

    // one statement many times on one connection (prepared once, then Bind/Execute), more
    // statements than the cache holds (sqlx closes the evicted ones), then clearing the cache
    for round in 0..3 {
        for (k, sql) in [
            "SELECT count(*) FROM items WHERE id < $1",
            "SELECT count(*) FROM items WHERE id <= $1",
            "SELECT count(*) FROM items WHERE id > $1",
        ]
        .iter()
        .enumerate()
        {
            for i in 0..20i32 {
                let n: i64 = sqlx::query_scalar(sql)
                    .bind(i)
                    .fetch_one(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("round {round} {sql}: {e}"));
                let want = match k {
                    0 => i,
                    1 => i + 1,
                    _ => 999 - i,
                };
                assert_eq!(n, i64::from(want), "{sql} {i}");
            }
        }
    }
    c.clear_cached_statements().await.unwrap();
    assert_eq!(c.cached_statements_size(), 0);
    // unnamed (persistent(false)) statements
    for i in 0..5i32 {
        let n: i32 = sqlx::query_scalar("SELECT $1 + 1")
            .bind(i)
            .persistent(false)
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(n, i + 1);
    }
    assert_eq!(one_plus_one(&mut c).await, 2);
    c.close().await.unwrap();
}

/// A table function whose arguments are parameters (`range($1)`, `generate_series(1, $1)`)
/// cannot be bound by DuckDB before the values are known (DuckDB describes one placeholder
/// column `unknown`); sqlx checks every column's type against the description.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_functions_with_parameter_arguments() {
    use sqlx::{Column, TypeInfo};
    let s = secure(AuthMethod::Scram).await;
    let mut c = s.conn().await;
    // DuckDB binds range($1) only once it has the value; the gateway describes the columns
    // from a probe with a typed NULL
    let row = sqlx::query("SELECT count(*) FROM range($1) t(i)")
        .bind(3i64)
        .fetch_one(&mut c)
        .await
        .unwrap();
    let col = &row.columns()[0];
    assert_eq!(col.type_info().name(), "INT8", "{}", col.name());
    assert_eq!(row.get::<i64, _>(0), 3);
    let v = sqlx::query_as::<_, (i64, i64)>("SELECT i, i * 2 AS j FROM range($1) t(i)")
        .bind(3i64)
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(v, [(0, 0), (1, 2), (2, 4)]);
    let v: Vec<(i64,)> = sqlx::query_as("SELECT * FROM generate_series(1, $1)")
        .bind(2i64)
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(v, [(1,), (2,)]);
    // the parameter in WHERE / LIMIT was never a problem
    let v: Vec<(i64, i64)> =
        sqlx::query_as("SELECT i, i * 2 AS j FROM range(1000) t(i) WHERE i < $1")
            .bind(3i64)
            .fetch_all(&mut c)
            .await
            .unwrap();
    assert_eq!(v, [(0, 0), (1, 2), (2, 4)]);
    assert_eq!(one_plus_one(&mut c).await, 2);
}
