//! TLS (verify-full, plaintext refusal, rotation), token authentication (SCRAM and cleartext),
//! database-scoped and read-only tokens, with real clients.

mod common;

use std::path::{Path, PathBuf};

use common::tls::{peer_certificate, RustlsConnect};
use common::{psql, sqlstate, start_with, TestGateway};
use duckgate_config::AuthMethod;
use duckgate_gateway::auth::create_token;

/// A gateway with TLS required and tokens; returns it with its CA path.
async fn secure_gateway(
    method: AuthMethod,
    tokens: &[(&str, &[&str], bool)],
) -> (TestGateway, PathBuf, Vec<String>) {
    let token_dir = tempfile::tempdir().unwrap().keep();
    let token_file = token_dir.join("tokens.yaml");
    let secrets: Vec<String> = tokens
        .iter()
        .map(|(name, dbs, ro)| {
            create_token(
                &token_file,
                name,
                dbs.iter().map(|s| s.to_string()).collect(),
                *ro,
            )
            .unwrap()
        })
        .collect();
    let gw = start_with(|c| {
        c.auth.trust = false;
        c.tls.allow_plaintext = false;
        c.auth.method = method;
        c.auth.token_file = Some(token_file.clone());
        c.auth.max_failures_per_minute = 5;
        c.allow_create_databases = true;
    })
    .await;
    let ca = gw.data_dir.path().join("tls").join("ca.crt");
    assert!(ca.exists(), "the embedded default generates its CA");
    (gw, ca, secrets)
}

fn conn(gw: &TestGateway, db: &str, password: &str) -> String {
    format!(
        "host=localhost port={} user=anyone dbname={db} password={password}",
        gw.port
    )
}

async fn connect_tls(
    gw: &TestGateway,
    ca: &Path,
    db: &str,
    password: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let cs = format!("{} sslmode=require", conn(gw, db, password));
    let (client, connection) = tokio_postgres::connect(&cs, RustlsConnect::trusting(ca)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_verify_full_with_the_generated_ca() {
    let (gw, ca, tokens) = secure_gateway(AuthMethod::Scram, &[("admin", &["*"], false)]).await;
    let ca = ca.display().to_string();
    for host in ["localhost", "127.0.0.1"] {
        let cs = format!(
            "host={host} port={} user=me dbname=md: password={} sslmode=verify-full sslrootcert={ca}",
            gw.port, tokens[0]
        );
        let (out, err, ok) = psql(
            &cs,
            &["-A", "-t", "-c", "SELECT 40 + 2", "-c", "\\conninfo"],
            None,
        );
        assert!(ok, "{host}: {err}");
        assert!(out.starts_with("42\n"), "{out}");
        assert!(out.contains("SSL connection (protocol: TLSv1.3"), "{out}");
    }
    // wrong host name: the certificate does not name it
    let cs = format!(
        "host=wrong.example hostaddr=127.0.0.1 port={} user=me dbname=md: password={} sslmode=verify-full sslrootcert={ca}",
        gw.port, tokens[0]
    );
    let (_, err, ok) = psql(&cs, &["-c", "SELECT 1"], None);
    assert!(!ok);
    assert!(err.contains("does not match host name"), "{err}");
    // wrong CA
    let other = tempfile::tempdir().unwrap();
    duckgate_gateway::tls::ensure_embedded_certs(other.path()).unwrap();
    let cs = format!(
        "host=localhost port={} user=me dbname=md: password={} sslmode=verify-full sslrootcert={}",
        gw.port,
        tokens[0],
        other.path().join("ca.crt").display()
    );
    let (_, err, ok) = psql(&cs, &["-c", "SELECT 1"], None);
    assert!(!ok);
    assert!(err.contains("certificate verify failed"), "{err}");
    // plaintext is refused with a clear FATAL
    let cs = format!(
        "host=localhost port={} user=me dbname=md: password={} sslmode=disable",
        gw.port, tokens[0]
    );
    let (_, err, ok) = psql(&cs, &["-c", "SELECT 1"], None);
    assert!(!ok);
    assert!(err.contains("requires TLS"), "{err}");
    let e = tokio_postgres::connect(&conn(&gw, "md:", &tokens[0]), tokio_postgres::NoTls)
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&e), "28000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_and_cleartext_accept_tokens_and_fail_identically() {
    for method in [AuthMethod::Scram, AuthMethod::Password] {
        let (gw, ca, tokens) =
            secure_gateway(method, &[("alice", &["*"], false), ("bob", &["*"], false)]).await;
        for t in &tokens {
            let c = connect_tls(&gw, &ca, "md:", t).await.unwrap();
            let v: i32 = c.query_one("SELECT 7::INTEGER", &[]).await.unwrap().get(0);
            assert_eq!(v, 7);
        }
        let mut messages = Vec::new();
        for bad in ["dg_not-a-token", "", &tokens[0][..tokens[0].len() - 1]] {
            let e = connect_tls(&gw, &ca, "md:", bad).await.err().unwrap();
            assert_eq!(sqlstate(&e), "28P01", "{method:?} {e:?}");
            messages.push(e.as_db_error().unwrap().message().to_owned());
        }
        assert!(messages.iter().all(|m| m == &messages[0]), "{messages:?}");
        assert!(!messages[0].contains("dg_"), "the token must not be echoed");
        // psql speaks the same exchange
        let cs = format!(
            "{} sslmode=verify-full sslrootcert={}",
            conn(&gw, "md:", &tokens[1]),
            ca.display()
        );
        let (out, err, ok) = psql(&cs, &["-A", "-t", "-c", "SELECT 1 + 1 = 2"], None);
        assert!(ok && out.trim() == "t", "{method:?}: {out} {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limits_global_and_per_token() {
    let token_file = tempfile::tempdir().unwrap().keep().join("tokens.yaml");
    let a = create_token(&token_file, "a", vec![], false).unwrap();
    let b = create_token(&token_file, "b", vec![], false).unwrap();
    let gw = start_with(|c| {
        c.auth.trust = false;
        c.auth.token_file = Some(token_file.clone());
        c.limits.max_connections = 3;
        c.limits.max_connections_per_token = 2;
    })
    .await;
    let ca = gw.data_dir.path().join("tls/ca.crt");
    let a1 = connect_tls(&gw, &ca, "md:", &a).await.unwrap();
    let _a2 = connect_tls(&gw, &ca, "md:", &a).await.unwrap();
    let e = connect_tls(&gw, &ca, "md:", &a).await.err().unwrap();
    assert_eq!(sqlstate(&e), "53300");
    assert!(
        format!("{e:?}").contains("too many connections for token"),
        "{e:?}"
    );
    let _b1 = connect_tls(&gw, &ca, "md:", &b).await.unwrap();
    let e = connect_tls(&gw, &ca, "md:", &b).await.err().unwrap();
    assert_eq!(sqlstate(&e), "53300");
    assert!(format!("{e:?}").contains("too many clients"), "{e:?}");
    // a closed session frees its slots
    drop(a1);
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if connect_tls(&gw, &ca, "md:", &b).await.is_ok() {
            ok = true;
            break;
        }
    }
    assert!(ok, "slots were not released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_reaches_only_its_own_database() {
    let gw = start_with(|c| c.allow_create_databases = true).await;
    let other = gw.connect_db("other").await;
    other
        .batch_execute("CREATE TABLE secret_rows(x INTEGER)")
        .await
        .unwrap();
    let c = gw.connect().await;
    for sql in [
        "SELECT * FROM other.main.secret_rows",
        "SELECT * FROM other.secret_rows",
    ] {
        let e = c.query(sql, &[]).await.unwrap_err();
        assert!(
            ["42P01", "3D000", "3F000"].contains(&sqlstate(&e).as_str()),
            "{sql}: {e:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_17_direct_tls_with_alpn() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (gw, ca, tokens) = secure_gateway(AuthMethod::Password, &[("d", &["*"], false)]).await;
    let RustlsConnect(cfg) = RustlsConnect::trusting(&ca);
    let mut cfg = (*cfg).clone();
    cfg.alpn_protocols = vec![b"postgresql".to_vec()];
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", gw.port))
        .await
        .unwrap();
    // no SSLRequest: the TLS ClientHello is the first thing on the wire
    let mut tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg))
        .connect(
            rustls_pki_types::ServerName::try_from("localhost").unwrap(),
            tcp,
        )
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"postgresql"[..]));
    let mut body = 196_608i32.to_be_bytes().to_vec();
    for kv in ["user", "me", "database", "md:"] {
        body.extend_from_slice(kv.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut pkt = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    pkt.extend_from_slice(&body);
    tls.write_all(&pkt).await.unwrap();
    // AuthenticationCleartextPassword
    let tag = tls.read_u8().await.unwrap();
    let len = tls.read_i32().await.unwrap();
    let mut rest = vec![0; len as usize - 4];
    tls.read_exact(&mut rest).await.unwrap();
    assert_eq!((tag, rest.as_slice()), (b'R', &3i32.to_be_bytes()[..]));
    let mut pw = tokens[0].as_bytes().to_vec();
    pw.push(0);
    let mut msg = vec![b'p'];
    msg.extend_from_slice(&((pw.len() + 4) as i32).to_be_bytes());
    msg.extend_from_slice(&pw);
    tls.write_all(&msg).await.unwrap();
    // AuthenticationOk
    assert_eq!(tls.read_u8().await.unwrap(), b'R');
    let _ = tls.read_i32().await.unwrap();
    assert_eq!(tls.read_i32().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_rate_limited_per_address() {
    let (gw, ca, tokens) = secure_gateway(AuthMethod::Scram, &[("alice", &["*"], false)]).await;
    for _ in 0..5 {
        let e = connect_tls(&gw, &ca, "md:", "wrong").await.err().unwrap();
        assert_eq!(sqlstate(&e), "28P01");
    }
    // the limit is reached: even the right token is refused, with the same answer
    let e = connect_tls(&gw, &ca, "md:", &tokens[0])
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&e), "28P01");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_scoped_and_read_only_tokens() {
    let (gw, ca, tokens) = secure_gateway(
        AuthMethod::Scram,
        &[
            ("writer", &["*"], false),
            ("sales-only", &["sales"], false),
            ("reader", &["*"], true),
        ],
    )
    .await;
    let (writer, scoped, reader) = (&tokens[0], &tokens[1], &tokens[2]);
    let w = connect_tls(&gw, &ca, "md:", writer).await.unwrap();
    w.batch_execute("CREATE TABLE facts(x INTEGER); INSERT INTO facts VALUES (1), (2)")
        .await
        .unwrap();

    let e = connect_tls(&gw, &ca, "md:", scoped).await.err().unwrap();
    assert_eq!(sqlstate(&e), "42501");
    let s = connect_tls(&gw, &ca, "sales", scoped).await.unwrap();
    s.batch_execute("CREATE TABLE orders(id INTEGER)")
        .await
        .unwrap();

    let r = connect_tls(&gw, &ca, "md:", reader).await.unwrap();
    let n: i64 = r
        .query_one("SELECT count(*) FROM facts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    for sql in [
        "INSERT INTO facts VALUES (3)",
        "UPDATE facts SET x = 0",
        "DELETE FROM facts",
        "CREATE TABLE nope(a INTEGER)",
        "DROP TABLE facts",
        "ALTER TABLE facts ADD COLUMN y INTEGER",
        "CREATE TABLE t2 AS SELECT * FROM facts",
        "CHECKPOINT",
    ] {
        let e = r.batch_execute(sql).await.unwrap_err();
        assert_eq!(sqlstate(&e), "25006", "{sql}: {e:?}");
        let e = r.query(sql, &[]).await.unwrap_err();
        assert_eq!(sqlstate(&e), "25006", "extended {sql}: {e:?}");
    }
    // an explicit transaction of a read-only token is read-only too
    r.batch_execute("BEGIN").await.unwrap();
    let n: i64 = r
        .query_one("SELECT count(*) FROM facts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    r.batch_execute("COMMIT").await.unwrap();
    let n: i64 = w
        .query_one("SELECT count(*) FROM facts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2, "nothing the read-only token tried was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_rotation_serves_new_connections_and_keeps_old_sessions() {
    // two certificate sets from two different CAs
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    duckgate_gateway::tls::ensure_embedded_certs(a.path()).unwrap();
    duckgate_gateway::tls::ensure_embedded_certs(b.path()).unwrap();
    let mounted = tempfile::tempdir().unwrap();
    let install = |from: &Path| {
        for (src, dst) in [
            ("server.crt", "tls.crt"),
            ("server.key", "tls.key"),
            ("ca.crt", "ca.crt"),
        ] {
            let tmp = mounted.path().join(format!(".{dst}.tmp"));
            std::fs::copy(from.join(src), &tmp).unwrap();
            std::fs::rename(&tmp, mounted.path().join(dst)).unwrap();
        }
    };
    install(a.path());
    let (cert, key) = (
        mounted.path().join("tls.crt"),
        mounted.path().join("tls.key"),
    );
    let token_file = mounted.path().join("tokens.yaml");
    let token = create_token(&token_file, "t", vec![], false).unwrap();
    let gw = start_with(|c| {
        c.auth.trust = false;
        c.tls.allow_plaintext = false;
        c.tls.cert_file = Some(cert.clone());
        c.tls.key_file = Some(key.clone());
        c.auth.token_file = Some(token_file.clone());
    })
    .await;
    let old = connect_tls(&gw, &a.path().join("ca.crt"), "md:", &token)
        .await
        .unwrap();
    old.batch_execute("CREATE TABLE r(x INTEGER)")
        .await
        .unwrap();
    let cert_a = peer_certificate(gw.port, &a.path().join("ca.crt")).await;

    install(b.path());
    // the watcher polls every 2 seconds
    let mut rotated = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if connect_tls(&gw, &b.path().join("ca.crt"), "md:", &token)
            .await
            .is_ok()
        {
            rotated = true;
            break;
        }
    }
    assert!(rotated, "new connections never got the new certificate");
    let cert_b = peer_certificate(gw.port, &b.path().join("ca.crt")).await;
    assert_ne!(cert_a, cert_b);
    assert!(connect_tls(&gw, &a.path().join("ca.crt"), "md:", &token)
        .await
        .is_err());
    // the session opened before the rotation still works
    old.batch_execute("INSERT INTO r VALUES (1)").await.unwrap();
    let n: i64 = old
        .query_one("SELECT count(*) FROM r", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[test]
fn token_create_prints_the_token_once_and_stores_only_its_verifier() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.yaml");
    let out = std::process::Command::new(common::gateway_binary())
        .args([
            "token",
            "create",
            "--name",
            "cli",
            "--databases",
            "a,b",
            "--read-only",
            "--token-file",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.lines().last().unwrap();
    assert!(token.starts_with("dg_") && !token.contains(' '), "{stdout}");
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(!stored.contains(token));
    let store = duckgate_gateway::auth::TokenStore::load(&file).unwrap();
    let id = store.verify_password(token).unwrap();
    assert_eq!(id.name, "cli");
    assert_eq!(id.databases, vec!["a", "b"]);
    assert!(id.read_only);
}

/// The README's promise: the embedded default starts with TLS and a first token, and psql
/// connects with verify-full straight away.
#[test]
fn embedded_default_first_start_is_usable_with_psql_verify_full() {
    use std::io::BufRead;
    let data = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(common::gateway_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        let done = line.starts_with("dg_");
        printed.push(line);
        if done {
            break;
        }
    }
    let conn_line = printed
        .iter()
        .find(|l| l.starts_with("connect with:"))
        .expect("connection line")
        .clone();
    let token = printed.last().unwrap().clone();
    let conn = conn_line
        .split('"')
        .nth(1)
        .unwrap()
        .replace("host=127.0.0.1", "host=localhost");
    assert!(
        conn.contains("sslmode=verify-full") && conn.contains("sslrootcert="),
        "{conn}"
    );
    let (out, err, ok) = psql(
        &format!("{conn} password={token}"),
        &["-A", "-t", "-c", "SELECT 'hello'"],
        None,
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "{err}");
    assert_eq!(out, "hello\n");
}
