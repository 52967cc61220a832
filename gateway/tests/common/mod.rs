//! Test harness: a real gateway on a loopback port, and real clients.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use duckgate_gateway::{GatewayConfig, Server};
use tokio_postgres::{Client, NoTls};

pub mod lake;
pub mod proxy;
pub mod raw;
pub mod tls;

pub struct TestGateway {
    pub port: u16,
    pub data_dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An in-process gateway on 127.0.0.1:<random>, with its own data directory.
pub async fn start() -> TestGateway {
    start_with(|_| {}).await
}

pub async fn start_with(f: impl FnOnce(&mut GatewayConfig)) -> TestGateway {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = GatewayConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: data_dir.path().to_owned(),
        ..Default::default()
    };
    config.limits.threads = Some(2);
    // core protocol tests run on loopback without TLS or tokens; auth tests turn them on
    config.auth.trust = true;
    config.tls.allow_plaintext = true;
    f(&mut config);
    let server = Server::bind(config).await.unwrap();
    let port = server.local_addr().port();
    let task = tokio::spawn(async move {
        let _ = server.run().await;
    });
    TestGateway {
        port,
        data_dir,
        task,
    }
}

impl TestGateway {
    pub fn conn_str(&self, db: &str) -> String {
        format!("host=127.0.0.1 port={} user=tester dbname={db}", self.port)
    }

    pub async fn connect(&self) -> Client {
        self.connect_db("md:").await
    }

    pub async fn connect_db(&self, db: &str) -> Client {
        connect(&self.conn_str(db)).await
    }
}

pub async fn connect(conn_str: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(conn_str, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect {conn_str}: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// SQLSTATE of a failed call.
pub fn sqlstate(e: &tokio_postgres::Error) -> String {
    e.code()
        .map(|c| c.code().to_owned())
        .unwrap_or_else(|| format!("no sqlstate: {e}"))
}

/// The gateway binary built by cargo for integration tests.
pub fn gateway_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_duckgate-gateway"))
}

/// A gateway as a separate process (to observe its memory), killed on drop.
pub struct GatewayProcess {
    pub child: Child,
    pub port: u16,
    /// The admin listener's port, when `--admin-listen` was given.
    pub admin_port: Option<u16>,
    pub data_dir: tempfile::TempDir,
    /// Everything the process wrote to stderr (its logs) so far.
    pub stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl GatewayProcess {
    pub fn logs(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// GET a path on the admin listener.
    pub fn admin_get(&self, path: &str) -> (u16, String) {
        http_get(self.admin_port.expect("started with --admin-listen"), path)
    }

    /// The value of one series in `/metrics` (exact series text incl. labels), if present.
    pub fn metric(&self, series: &str) -> Option<f64> {
        let (_, body) = self.admin_get("/metrics");
        metric_value(&body, series)
    }

    /// Send SIGTERM.
    pub fn terminate(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM failed");
    }
}

/// A value from a Prometheus text exposition.
pub fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// A minimal HTTP/1.0 GET on loopback: (status, body).
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("admin port");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start the gateway binary on a port it picks itself (no race with other tests for a free
/// port): the port is read from the line it prints when listening.
pub fn spawn_process(extra: &[&str]) -> GatewayProcess {
    spawn_process_in(tempfile::tempdir().unwrap(), extra)
}

/// [`spawn_process`] on an existing data directory (to restart a gateway on its data).
pub fn spawn_process_in(data_dir: tempfile::TempDir, extra: &[&str]) -> GatewayProcess {
    use std::io::BufRead;
    let mut child = Command::new(gateway_binary())
        .arg("serve")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(["--auth-trust", "true", "--allow-plaintext", "true"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gateway binary");
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = stderr.clone();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut admin_port = None;
    let port = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.split("admin endpoints on http://").nth(1) {
                    let addr = rest.trim_end_matches('/');
                    admin_port = addr.rsplit(':').next().and_then(|p| p.parse().ok());
                }
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap();
                    break addr.rsplit(':').next().unwrap().parse::<u16>().unwrap();
                }
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("gateway process exited before listening");
            }
        }
    };
    // keep draining stdout so the process never blocks on a full pipe
    std::thread::spawn(move || for _ in lines {});
    GatewayProcess {
        child,
        port,
        admin_port,
        data_dir,
        stderr,
    }
}

/// Resident set size of a process in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// Run psql with a connection string and extra args; returns (stdout, stderr, success).
pub fn psql(conn: &str, args: &[&str], stdin: Option<&str>) -> (String, String, bool) {
    use std::io::Write;
    let mut cmd = Command::new("psql");
    cmd.arg(conn)
        .args(["-X", "-v", "ON_ERROR_STOP=0"])
        .args(args)
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("psql is installed");
    if let Some(input) = stdin {
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

/// Run `sql` with the simple protocol and answer its rows as [`text_rows`]; panics with the
/// statement and the error if it fails.
pub async fn query_text(c: &Client, sql: &str) -> Vec<Vec<String>> {
    match c.simple_query(sql).await {
        Ok(m) => text_rows(&m),
        Err(e) => panic!("{sql}: {e:?}"),
    }
}

/// The rows of a simple-protocol answer as text, NULL as `"NULL"`.
pub fn text_rows(msgs: &[tokio_postgres::SimpleQueryMessage]) -> Vec<Vec<String>> {
    msgs.iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("NULL").to_owned())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}
