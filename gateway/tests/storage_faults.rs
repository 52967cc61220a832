//! Faults under a DuckLake database, against the real PostgreSQL and S3 server the test command
//! starts: a gateway killed with SIGKILL in the middle of committed inserts loses nothing it
//! acknowledged, and the catalog PostgreSQL restarting under a running gateway gives errors,
//! then recovery without restarting the gateway. One test function, because it stops the
//! shared PostgreSQL.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::lake::write_lake_config;
use duckgate_config::storage::{DatabaseConfig, DatabaseKind};

fn write_config(dir: &Path, id: &str) -> PathBuf {
    let path = write_lake_config(dir, id, None);
    // plus a local database, to see that it keeps serving while the catalog is down
    let mut c = duckgate_config::GatewayConfig::from_file(&path).unwrap();
    c.databases.push(DatabaseConfig {
        name: "scratch".into(),
        default: false,
        kind: DatabaseKind::Local {
            path: dir.join("scratch.duckdb"),
        },
    });
    std::fs::write(&path, c.to_yaml()).unwrap();
    path
}

/// Start the gateway binary with a config; returns it and its port.
fn spawn(config: &Path) -> (Child, u16) {
    let mut child = Command::new(common::gateway_binary())
        .args(["serve", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            let port = rest
                .split_whitespace()
                .next()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            std::thread::spawn(move || for _ in lines {});
            return (child, port);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("gateway did not start");
}

fn script(name: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts")
        .join(name);
    let out = Command::new("bash").arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_minus_nine_and_catalog_restart() {
    let dir = tempfile::tempdir().unwrap();
    let id = format!("faults_{}", std::process::id());
    let config = write_config(dir.path(), &id);

    // --- kill -9 in the middle of a stream of committed inserts
    let (mut gw, port) = spawn(&config);
    let conn = format!("host=127.0.0.1 port={port} user=t dbname=md:");
    let c = common::connect(&conn).await;
    c.batch_execute("CREATE TABLE acked(id INTEGER, payload VARCHAR)")
        .await
        .unwrap();
    let writer = {
        let c = c;
        tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..10_000 {
                let sql = format!("INSERT INTO acked SELECT {i}, repeat('x', 100) FROM range(20)");
                match c.batch_execute(&sql).await {
                    Ok(()) => acked.push(i),
                    Err(_) => break,
                }
            }
            acked
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    gw.kill().unwrap(); // SIGKILL
    gw.wait().unwrap();
    let acked = writer.await.unwrap();
    assert!(
        acked.len() > 5,
        "only {} inserts were acknowledged before the kill",
        acked.len()
    );

    let (mut gw, port) = spawn(&config);
    let c = common::connect(&format!("host=127.0.0.1 port={port} user=t dbname=md:")).await;
    let rows = c
        .query(
            "SELECT id, count(*) FROM acked GROUP BY id ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    let present: Vec<(i32, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    // every acknowledged insert is there, and every insert that is there is whole
    for i in &acked {
        assert!(
            present.iter().any(|(id, _)| id == i),
            "acknowledged insert {i} is missing"
        );
    }
    assert!(
        present.iter().all(|(_, n)| *n == 20),
        "a partial insert is visible"
    );
    assert!(
        present.len() <= acked.len() + 1,
        "{} present, {} acked",
        present.len(),
        acked.len()
    );
    eprintln!(
        "kill -9: {} inserts acknowledged, {} present after restart",
        acked.len(),
        present.len()
    );

    // --- the catalog PostgreSQL restarts under the running gateway
    script("stop-postgres.sh");
    let e = c
        .query("SELECT count(*) FROM acked", &[])
        .await
        .unwrap_err();
    eprintln!("while the catalog is down: {e:?}");
    assert!(
        e.code().is_some(),
        "a SQL error, not a dropped connection: {e:?}"
    );
    script("start-postgres.sh");
    let mut recovered = false;
    for _ in 0..50 {
        if let Ok(r) = c.query_one("SELECT count(*) FROM acked", &[]).await {
            let n: i64 = r.get(0);
            assert_eq!(n as usize, present.len() * 20);
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        recovered,
        "the gateway did not recover after the catalog came back"
    );
    c.batch_execute("INSERT INTO acked VALUES (-1, 'after restart')")
        .await
        .unwrap();
    let _ = gw.kill();
    let _ = gw.wait();
}
