//! DuckDB's worker threads are the gateway's: they help statements not known to be short, and
//! short statements neither wake them nor lose anything.
//!
//! The workers are found by their thread names in /proc/self/task; their context switches
//! show whether DuckDB woke them, their CPU time whether they worked.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use duckgate_gateway::engine::workers::CALM;
use duckgate_gateway::engine::{Connection, Database};
use duckgate_gateway::storage::{open_instance, InstanceOptions};

/// Tests here count threads of the whole process: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn worker_threads() -> BTreeSet<u32> {
    let mut tids = BTreeSet::new();
    for e in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        if comm.starts_with("duckdb-worker") {
            tids.insert(e.file_name().to_string_lossy().parse().unwrap());
        }
    }
    tids
}

fn new_workers(before: &BTreeSet<u32>) -> Vec<u32> {
    worker_threads().difference(before).copied().collect()
}

/// The workers started since `before`, once `n` of them carry their names (a thread names
/// itself after it starts).
fn started_workers(before: &BTreeSet<u32>, n: usize) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let w = new_workers(before);
        if w.len() >= n || Instant::now() > deadline {
            return w;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Voluntary and involuntary context switches of these threads.
fn switches(tids: &[u32]) -> u64 {
    tids.iter()
        .map(|t| {
            let status = std::fs::read_to_string(format!("/proc/self/task/{t}/status")).unwrap();
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .map(|l| l.split_whitespace().last().unwrap().parse::<u64>().unwrap())
                .sum::<u64>()
        })
        .sum()
}

/// Run `n` short statements with no long work on the instance and check that they leave the
/// workers asleep (at most two switches, for a stray wake-up); returns the switches seen.
fn quiet_statements(workers: &[u32], conn: &Connection, n: usize) -> u64 {
    let before = switches(workers);
    for _ in 0..n {
        conn.query_strings("SELECT 1").unwrap();
    }
    let seen = switches(workers) - before;
    assert!(
        seen <= 2,
        "{n} short statements switched the workers {seen} times"
    );
    seen
}

/// User + system CPU time of these threads, in clock ticks.
fn cpu_ticks(tids: &[u32]) -> u64 {
    tids.iter()
        .map(|t| {
            let stat = std::fs::read_to_string(format!("/proc/self/task/{t}/stat")).unwrap();
            // fields after the parenthesised name; utime and stime are fields 14 and 15
            let rest = &stat[stat.rfind(')').unwrap() + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
        })
        .sum()
}

/// A database file in `dir`, opened as the gateway opens its instances.
fn open_with_threads(dir: &tempfile::TempDir, threads: u32) -> Arc<Database> {
    let options = InstanceOptions {
        threads: Some(threads),
        memory_limit: None,
    };
    let path = dir.path().join("db.duckdb");
    open_instance(path.to_str().unwrap(), &options).unwrap()
}

const HEAVY: &str = "SELECT sum(hash(i::VARCHAR || 'x'))::VARCHAR FROM big";

#[test]
fn instance_workers_help_only_on_demand() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = worker_threads();
    let dir = tempfile::tempdir().unwrap();
    let db = open_with_threads(&dir, 3);
    let workers = started_workers(&before, 2);
    assert_eq!(
        workers.len(),
        2,
        "threads = 3: two workers besides the statement's own"
    );
    let conn = db.connect().unwrap();
    assert_eq!(
        conn.query_rows(
            "SELECT current_setting('threads')::VARCHAR, current_setting('external_threads')::VARCHAR"
        )
        .unwrap(),
        vec![vec![Some("3".to_owned()), Some("3".to_owned())]],
        "every thread external: DuckDB runs none of its own and still plans for three"
    );
    conn.execute_batch("CREATE TABLE big AS SELECT i FROM range(10000000) t(i)")
        .unwrap();

    // short statements: DuckDB has nobody to wake
    let idle_switches = quiet_statements(&workers, &conn, 500);

    // a scan with no demand runs on the statement's thread alone, correctly
    let t0 = cpu_ticks(&workers);
    let started = Instant::now();
    let alone = conn.query_strings(HEAVY).unwrap();
    let alone_time = started.elapsed();
    assert_eq!(cpu_ticks(&workers) - t0, 0, "workers worked without demand");

    // a statement not known to be short brings the workers in, and the answer is the same
    assert!(!db.workers_active());
    let long = db
        .enter(true)
        .expect("an instance with threads = 3 has workers");
    assert!(db.workers_active());
    let t0 = cpu_ticks(&workers);
    let started = Instant::now();
    let helped = conn.query_strings(HEAVY).unwrap();
    let helped_time = started.elapsed();
    let worked = cpu_ticks(&workers) - t0;
    assert_eq!(helped, alone);
    assert!(
        worked > 0,
        "workers did not work under demand (alone {alone_time:?}, helped {helped_time:?})"
    );
    // work overlapping it: the CPUs are contended, so once the long statement ends, the
    // workers leave
    let short = db.enter(false).unwrap();
    assert!(db.workers_active());
    drop(long);
    assert!(!db.workers_active());
    drop(short);
    assert!(!db.workers_active());
    // work one at a time, but too soon after the overlap: still out
    drop(db.enter(false));
    assert!(!db.workers_active());
    // calm: after CALM without overlap, short work brings them in (a lone client's
    // statements wake them as DuckDB's own workers would)
    std::thread::sleep(CALM + Duration::from_millis(20));
    drop(db.enter(false));
    assert!(db.workers_active());
    drop(db.enter(true));
    assert!(db.workers_active(), "calm outlasts a long statement");
    // until two overlap again
    let a = db.enter(false);
    let b = db.enter(false);
    assert!(!db.workers_active());
    drop((a, b));

    // back to waiting on the gateway, not on DuckDB's queue
    std::thread::sleep(Duration::from_millis(50));
    let after = quiet_statements(&workers, &conn, 200);
    eprintln!(
        "scan alone {alone_time:?}, helped {helped_time:?} ({worked} worker ticks); \
         idle switches {idle_switches} / {after}"
    );

    // closing the instance stops its workers first
    drop(conn);
    drop(db);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !new_workers(&before).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        new_workers(&before).is_empty(),
        "workers outlived their instance"
    );
}

#[test]
fn single_thread_instance_has_no_workers() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = worker_threads();
    let dir = tempfile::tempdir().unwrap();
    let db = open_with_threads(&dir, 1);
    std::thread::sleep(Duration::from_millis(50));
    assert!(new_workers(&before).is_empty());
    assert!(db.enter(true).is_none());
    let conn = db.connect().unwrap();
    assert_eq!(
        conn.query_strings("SELECT current_setting('external_threads')::VARCHAR")
            .unwrap(),
        vec![Some("1".to_owned())]
    );
}

/// Over the wire: a repeated short statement runs inline without waking the workers, a long
/// one gets their help.
#[test]
fn sessions_wake_workers_only_for_long_statements() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = worker_threads();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(sessions_wake_workers(before));
}

async fn sessions_wake_workers(before: BTreeSet<u32>) {
    let gw = common::start().await; // threads = 2: one worker
    let c = gw.connect().await;
    let workers = started_workers(&before, 1);
    assert_eq!(workers.len(), 1);
    c.batch_execute("CREATE TABLE big AS SELECT i FROM range(10000000) t(i)")
        .await
        .unwrap();

    // four clients at once: the CPUs are contended, so the workers stay out of the short
    // statements
    let mut clients = vec![c];
    for _ in 0..3 {
        clients.push(gw.connect().await);
    }
    let run = |rounds: usize| {
        let clients = &clients;
        async move {
            let mut tasks = Vec::new();
            for c in clients {
                tasks.push(async move {
                    let one = c.prepare("SELECT 1").await.unwrap();
                    for _ in 0..rounds {
                        let rows = c.query(&one, &[]).await.unwrap();
                        assert_eq!(rows[0].get::<_, i32>(0), 1);
                    }
                });
            }
            futures::future::join_all(tasks).await;
        }
    };
    // the first run of each is not known to be short, and the first overlap ends calm
    run(50).await;
    let s0 = switches(&workers);
    run(500).await;
    let short_switches = switches(&workers) - s0;
    assert!(
        short_switches <= 100,
        "2000 overlapping short statements switched the worker {short_switches} times"
    );
    let c = &clients[0];

    let t0 = cpu_ticks(&workers);
    for _ in 0..2 {
        let rows = c.simple_query(HEAVY).await.unwrap();
        assert_eq!(common::text_rows(&rows).len(), 1);
    }
    let worked = cpu_ticks(&workers) - t0;
    assert!(worked > 0, "the worker did not help a long statement");
    eprintln!("short: {short_switches} worker switches; long: {worked} worker ticks");
}
