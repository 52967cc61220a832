//! What real drivers send that DuckDB alone would get wrong; found by the client suite in
//! tests/clients (each test names the driver).

mod common;

use common::raw::{tags, Raw};
use common::start;
use tokio_postgres::SimpleQueryMessage;

async fn text_of(c: &tokio_postgres::Client, expr: &str) -> Option<String> {
    let msgs = c.simple_query(&format!("SELECT {expr}")).await.unwrap();
    for m in msgs {
        if let SimpleQueryMessage::Row(r) = m {
            return r.get(0).map(str::to_owned);
        }
    }
    panic!("no row for {expr}");
}

/// psycopg2 inlines `bytes` parameters as PostgreSQL hex input, `'\x0200ff'::bytea`; they must
/// arrive as those three bytes (DuckDB alone would read `\x02` then the text `00ff`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg2_hex_bytea_literals_keep_their_bytes() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TABLE bin (id INTEGER, b BLOB); \
         INSERT INTO bin VALUES (1, '\\x0200ff'::bytea), (2, '\\x'::bytea)",
    )
    .await
    .unwrap();
    let rows = c.query("SELECT b FROM bin ORDER BY id", &[]).await.unwrap();
    let got: Vec<Vec<u8>> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(got, vec![vec![2u8, 0, 0xff], vec![]]);
    assert_eq!(
        text_of(&c, "'\\x4142'::bytea").await.as_deref(),
        Some("\\x4142")
    );
    // DuckDB's own escapes, and casts to BLOB, keep DuckDB's meaning
    assert_eq!(
        text_of(&c, "'\\x41\\x42'::bytea").await.as_deref(),
        Some("\\x4142")
    );
    assert_eq!(
        text_of(&c, "'\\x4142'::BLOB").await.as_deref(),
        Some("\\x413432")
    );
}

/// asyncpg's startup packet carries `client_encoding` as `'utf-8'`, quotes included; PostgreSQL
/// compares encoding names by their letters and digits only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asyncpg_quoted_client_encoding_is_accepted() {
    let gw = start().await;
    let (mut raw, msgs) = Raw::connect(
        gw.port,
        &[
            ("client_encoding", "'utf-8'"),
            ("user", "u"),
            ("database", "md:"),
        ],
    )
    .await;
    assert!(
        !msgs.iter().any(|m| m.tag == b'E'),
        "{:?}",
        msgs.iter().find_map(|m| m.field(b'M'))
    );
    assert_eq!(msgs.last().unwrap().tag, b'Z');
    raw.send(&Raw::query("SHOW client_encoding")).await;
    let msgs = raw.until_ready().await;
    let row = msgs.iter().find(|m| m.tag == b'D').unwrap();
    assert_eq!(&row.body[6..], b"UTF8");
    // other encodings stay refused
    let (_, msgs) = Raw::connect(gw.port, &[("client_encoding", "'latin1'"), ("user", "u")]).await;
    assert_eq!(msgs.last().unwrap().sqlstate().as_deref(), Some("22023"));
}

/// psycopg 3 prepares protocol-level statements (`_pg3_0`, ...) and then sends SQL
/// `DEALLOCATE ALL` at every rollback and `DEALLOCATE _pg3_N` when its cache evicts one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg3_deallocate_reaches_protocol_statements() {
    let gw = start().await;
    let (mut raw, _) = Raw::connect(gw.port, &[("user", "u"), ("database", "md:")]).await;
    let mut m = Vec::new();
    m.extend(Raw::parse("_pg3_0", "SELECT $1::INTEGER + 1", &[23]));
    m.extend(Raw::parse("_pg3_1", "SELECT 2", &[]));
    m.extend(Raw::parse("_pg3_2", "SELECT 3", &[]));
    m.extend(Raw::sync());
    raw.send(&m).await;
    assert_eq!(tags(&raw.until_ready().await), "111Z");

    let command_tag = |msgs: &[common::raw::Msg]| {
        let c = msgs
            .iter()
            .find(|m| m.tag == b'C')
            .expect("CommandComplete");
        String::from_utf8_lossy(&c.body[..c.body.len() - 1]).into_owned()
    };
    // one by name (unquoted names fold to lower case), in the simple and extended protocol
    raw.send(&Raw::query("DEALLOCATE _PG3_1")).await;
    assert_eq!(command_tag(&raw.until_ready().await), "DEALLOCATE");
    let mut m = Vec::new();
    m.extend(Raw::parse("", "DEALLOCATE PREPARE \"_pg3_2\"", &[]));
    m.extend(Raw::bind("", "", &[], 0));
    m.extend(Raw::execute("", 0));
    m.extend(Raw::sync());
    raw.send(&m).await;
    assert_eq!(command_tag(&raw.until_ready().await), "DEALLOCATE");
    for gone in ["_pg3_1", "_pg3_2"] {
        let mut m = Vec::new();
        m.extend(Raw::bind("", gone, &[], 0));
        m.extend(Raw::sync());
        raw.send(&m).await;
        let msgs = raw.until_ready().await;
        assert_eq!(msgs[0].sqlstate().as_deref(), Some("26000"), "{gone}");
    }
    // _pg3_0 still works
    let mut m = Vec::new();
    m.extend(Raw::bind("", "_pg3_0", &[Some("41")], 0));
    m.extend(Raw::execute("", 0));
    m.extend(Raw::sync());
    raw.send(&m).await;
    let msgs = raw.until_ready().await;
    assert_eq!(tags(&msgs), "2DCZ");

    // BEGIN; ROLLBACK; DEALLOCATE ALL as psycopg sends them
    raw.send(&Raw::query("BEGIN")).await;
    raw.until_ready().await;
    raw.send(&Raw::query("ROLLBACK")).await;
    raw.until_ready().await;
    raw.send(&Raw::query("DEALLOCATE ALL")).await;
    let msgs = raw.until_ready().await;
    assert_eq!(command_tag(&msgs), "DEALLOCATE ALL");
    let mut m = Vec::new();
    m.extend(Raw::bind("", "_pg3_0", &[Some("41")], 0));
    m.extend(Raw::sync());
    raw.send(&m).await;
    assert_eq!(
        raw.until_ready().await[0].sqlstate().as_deref(),
        Some("26000")
    );

    // DuckDB's SQL-level PREPARE / DEALLOCATE keep their own namespace
    let c = gw.connect().await;
    c.batch_execute("PREPARE p AS SELECT 42").await.unwrap();
    c.batch_execute("DEALLOCATE p").await.unwrap();
}

/// psycopg 3 sends a list of `str` untyped (OID 0) as `'{a,c}'`; `col = ANY($1)` types such a
/// parameter as an array, as PostgreSQL does, instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untyped_any_parameters_are_arrays() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TABLE letters (s VARCHAR, i INTEGER); \
         INSERT INTO letters VALUES ('a', 1), ('b', 2), ('c', 3)",
    )
    .await
    .unwrap();
    let (mut raw, _) = Raw::connect(gw.port, &[("user", "psycopg"), ("database", "md:")]).await;
    let mut msgs = Raw::parse(
        "",
        "SELECT i FROM letters WHERE s = ANY($1) ORDER BY i",
        &[0],
    );
    msgs.extend(Raw::bind("", "", &[Some("{a,c}")], 0));
    msgs.extend(Raw::execute("", 0));
    msgs.extend(Raw::sync());
    raw.send(&msgs).await;
    let (rows, _, other) = raw.count_rows_until_ready().await;
    assert_eq!(rows, 2, "{}", tags(&other));
    assert!(!tags(&other).contains('E'), "{}", tags(&other));
}
