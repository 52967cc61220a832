//! Exact message sequences of the extended protocol, driven byte by byte.

mod common;

use common::raw::{tags, Raw};
use common::start;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_reports_parameters_and_negotiation_answers_n() {
    let gw = start().await;
    // GSSENCRequest then SSLRequest, as pgJDBC with gssEncMode=prefer sends them:
    // GSS encryption is refused with 'N', TLS accepted with 'S'
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", gw.port))
        .await
        .unwrap();
    s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30])
        .await
        .unwrap();
    assert_eq!(s.read_u8().await.unwrap(), b'N');
    s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
        .await
        .unwrap();
    assert_eq!(s.read_u8().await.unwrap(), b'S');
    drop(s);

    let (_raw, msgs) = Raw::connect(gw.port, &[("user", "u"), ("database", "md:")]).await;
    let params: Vec<(String, String)> = msgs
        .iter()
        .filter(|m| m.tag == b'S')
        .map(|m| {
            let mut parts = m.body.split(|&b| b == 0);
            (
                String::from_utf8_lossy(parts.next().unwrap()).into_owned(),
                String::from_utf8_lossy(parts.next().unwrap()).into_owned(),
            )
        })
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("client_encoding"), Some("UTF8"));
    assert_eq!(get("standard_conforming_strings"), Some("on"));
    assert_eq!(get("integer_datetimes"), Some("on"));
    assert!(get("DateStyle").unwrap().starts_with("ISO"));
    assert!(get("server_version").unwrap().starts_with("16."));
    assert_eq!(get("session_authorization"), Some("u"));
    assert_eq!(get("TimeZone"), Some("UTC"));
    assert!(msgs.iter().any(|m| m.tag == b'K'), "BackendKeyData");
    assert_eq!(msgs.last().unwrap().tag, b'Z');
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_in_pipeline_skips_to_sync() {
    let gw = start().await;
    let (mut raw, _) = Raw::connect(gw.port, &[("user", "u"), ("database", "md:")]).await;
    let mut pipeline = Vec::new();
    pipeline.extend(Raw::parse("", "SELECT 1", &[]));
    pipeline.extend(Raw::bind("", "", &[], 0));
    pipeline.extend(Raw::execute("", 0));
    pipeline.extend(Raw::parse("", "SELECT * FROM does_not_exist", &[]));
    pipeline.extend(Raw::bind("", "", &[], 0));
    pipeline.extend(Raw::execute("", 0));
    pipeline.extend(Raw::parse("", "SELECT 3", &[]));
    pipeline.extend(Raw::bind("", "", &[], 0));
    pipeline.extend(Raw::execute("", 0));
    pipeline.extend(Raw::sync());
    pipeline.extend(Raw::parse("", "SELECT 4", &[]));
    pipeline.extend(Raw::bind("", "", &[], 0));
    pipeline.extend(Raw::execute("", 0));
    pipeline.extend(Raw::sync());
    raw.send(&pipeline).await;
    let first = raw.until_ready().await;
    // 1, 2, C for SELECT 1; then the Parse error; everything else until Sync is skipped
    assert_eq!(tags(&first), "12DCEZ");
    assert_eq!(first[4].sqlstate().as_deref(), Some("42P01"));
    assert_eq!(first.last().unwrap().body, vec![b'I']);
    let second = raw.until_ready().await;
    assert_eq!(tags(&second), "12DCZ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_does_not_run_and_named_statements_survive_sync() {
    let gw = start().await;
    let (mut raw, _) = Raw::connect(gw.port, &[("user", "u"), ("database", "md:")]).await;
    raw.send(&Raw::query("CREATE TABLE side_effects(x INTEGER)"))
        .await;
    raw.until_ready().await;
    let mut m = Vec::new();
    m.extend(Raw::parse(
        "ins",
        "INSERT INTO side_effects VALUES ($1) RETURNING x",
        &[0],
    ));
    m.extend(Raw::describe(b'S', "ins"));
    m.extend(Raw::sync());
    raw.send(&m).await;
    let msgs = raw.until_ready().await;
    // ParseComplete, ParameterDescription(int4), RowDescription, ReadyForQuery
    assert_eq!(tags(&msgs), "1tTZ");
    assert_eq!(&msgs[1].body, &[0, 1, 0, 0, 0, 23]);
    raw.send(&Raw::query("SELECT count(*) FROM side_effects"))
        .await;
    let msgs = raw.until_ready().await;
    let row = msgs.iter().find(|m| m.tag == b'D').unwrap();
    assert_eq!(&row.body[6..], b"0", "Describe must not execute the INSERT");

    // the named statement is reused after Sync, with a portal executed in two steps
    let mut m = Vec::new();
    m.extend(Raw::bind("", "ins", &[Some("5")], 0));
    m.extend(Raw::execute("", 0));
    m.extend(Raw::sync());
    m.extend(Raw::parse("r", "SELECT * FROM range(5)", &[]));
    m.extend(Raw::bind("p", "r", &[], 0));
    m.extend(Raw::describe(b'P', "p"));
    m.extend(Raw::execute("p", 2));
    m.extend(Raw::execute("p", 0));
    m.extend(Raw::close(b'P', "p"));
    m.extend(Raw::close(b'S', "r"));
    m.extend(Raw::sync());
    raw.send(&m).await;
    let a = raw.until_ready().await;
    assert_eq!(tags(&a), "2DCZ");
    assert_eq!(a[2].body, b"INSERT 0 1\0");
    let b = raw.until_ready().await;
    // RowDescription, 2 rows, PortalSuspended, 3 rows, CommandComplete, 2 CloseComplete
    assert_eq!(tags(&b), "12TDDsDDDC33Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_query_and_command_tags() {
    let gw = start().await;
    let (mut raw, _) = Raw::connect(gw.port, &[("user", "u"), ("database", "md:")]).await;
    raw.send(&Raw::query("")).await;
    assert_eq!(tags(&raw.until_ready().await), "IZ");
    raw.send(&Raw::query(
        "CREATE TABLE t(a INTEGER); INSERT INTO t VALUES (1),(2); UPDATE t SET a = a + 1; \
         DELETE FROM t WHERE a = 3; SELECT * FROM t; CREATE VIEW v AS SELECT 1; DROP VIEW v; \
         CREATE TABLE t2 AS SELECT * FROM t; BEGIN; COMMIT; SET application_name = 'x'",
    ))
    .await;
    let msgs = raw.until_ready().await;
    let tags: Vec<String> = msgs
        .iter()
        .filter(|m| m.tag == b'C')
        .map(|m| String::from_utf8_lossy(&m.body[..m.body.len() - 1]).into_owned())
        .collect();
    assert_eq!(
        tags,
        vec![
            "CREATE TABLE",
            "INSERT 0 2",
            "UPDATE 2",
            "DELETE 1",
            "SELECT 1",
            "CREATE VIEW",
            "DROP VIEW",
            "SELECT 1",
            "BEGIN",
            "COMMIT",
            "SET"
        ]
    );
    // SET of a reported parameter sends ParameterStatus
    assert!(msgs
        .iter()
        .any(|m| m.tag == b'S' && m.body.starts_with(b"application_name\0x\0")));
    // ReadyForQuery inside a block is 'T', after an error in it 'E'
    raw.send(&Raw::query("BEGIN")).await;
    assert_eq!(raw.until_ready().await.last().unwrap().body, vec![b'T']);
    raw.send(&Raw::query("SELECT nope")).await;
    assert_eq!(raw.until_ready().await.last().unwrap().body, vec![b'E']);
    raw.send(&Raw::query("ROLLBACK")).await;
    assert_eq!(raw.until_ready().await.last().unwrap().body, vec![b'I']);
}
