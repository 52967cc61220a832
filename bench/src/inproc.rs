//! In-process DuckDB references: the same `duckdb` crate and engine build as the gateway,
//! no protocol, no network. These are the floors the gateway is compared against.

use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::Context;
use duckdb::arrow::array::{Array, Int64Array, StringArray, StringViewArray};
use duckdb::Connection;
use serde_json::{json, Value};

use crate::util::{cpu_seconds, ms, status_kib, summary_us, us};

#[derive(clap::Args)]
pub struct W1Args {
    #[arg(long)]
    pub db: PathBuf,
    /// Seconds per mode.
    #[arg(long, default_value_t = 3.0)]
    pub secs: f64,
}

/// Per-query cost of `SELECT 1`, row read included: once through a prepared statement, once
/// from the query text each time (parse + plan + execute, what a simple-protocol query costs).
pub fn w1(a: W1Args) -> anyhow::Result<Value> {
    let c = Connection::open(&a.db)?;
    let dur = Duration::from_secs_f64(a.secs);
    let mut prepared = Vec::new();
    {
        let mut stmt = c.prepare("SELECT 1")?;
        let end = Instant::now() + dur;
        while Instant::now() < end {
            let t = Instant::now();
            let mut rows = stmt.query([])?;
            let v: i32 = rows.next()?.context("no row")?.get(0)?;
            std::hint::black_box(v);
            drop(rows);
            prepared.push(us(t.elapsed()));
        }
    }
    let mut text = Vec::new();
    let end = Instant::now() + dur;
    while Instant::now() < end {
        let t = Instant::now();
        let v: i32 = c.query_row("SELECT 1", [], |r| r.get(0))?;
        std::hint::black_box(v);
        text.push(us(t.elapsed()));
    }
    Ok(json!({
        "prepared": summary_us(&mut prepared),
        "text": summary_us(&mut text),
    }))
}

#[derive(clap::Args)]
pub struct W2Args {
    #[arg(long)]
    pub db: PathBuf,
    #[arg(long)]
    pub threads: usize,
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
    /// select1 or point
    #[arg(long)]
    pub query: String,
    #[arg(long, default_value_t = 1_000_000)]
    pub kv_rows: u64,
}

/// Queries per second with N threads, each on its own connection to one database instance.
pub fn w2(a: W2Args) -> anyhow::Result<Value> {
    let base = Connection::open(&a.db)?;
    let sql = match a.query.as_str() {
        "select1" => "SELECT 1",
        "point" => "SELECT v FROM kv WHERE id = ?",
        q => anyhow::bail!("unknown query {q}"),
    };
    let point = a.query == "point";
    let barrier = Arc::new(Barrier::new(a.threads + 1));
    let dur = Duration::from_secs_f64(a.secs);
    let mut handles = Vec::new();
    for i in 0..a.threads {
        let c = base.try_clone()?;
        let barrier = barrier.clone();
        let kv_rows = a.kv_rows;
        handles.push(std::thread::spawn(move || -> anyhow::Result<u64> {
            let mut stmt = c.prepare(sql)?;
            let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (i as u64 + 1);
            barrier.wait();
            let end = Instant::now() + dur;
            let mut n = 0u64;
            while Instant::now() < end {
                if point {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let id = (rng % kv_rows + 1) as i64;
                    let mut rows = stmt.query([id])?;
                    let v: String = rows.next()?.context("no row")?.get(0)?;
                    std::hint::black_box(v);
                } else {
                    let mut rows = stmt.query([])?;
                    let v: i32 = rows.next()?.context("no row")?.get(0)?;
                    std::hint::black_box(v);
                }
                n += 1;
            }
            Ok(n)
        }));
    }
    let cpu_before = cpu_seconds(None);
    barrier.wait();
    let t = Instant::now();
    let mut total = 0;
    for h in handles {
        total += h.join().expect("worker panicked")?;
    }
    let elapsed = t.elapsed().as_secs_f64();
    // CPU per query of the whole process (DuckDB's own threads included), comparable with a
    // server's CPU per transaction in W2
    let cpu_us = cpu_before
        .zip(cpu_seconds(None))
        .map(|(b, a)| (a - b) * 1e6 / total.max(1) as f64);
    Ok(
        json!({"threads": a.threads, "queries": total, "seconds": elapsed,
              "qps": total as f64 / elapsed, "cpu_us": cpu_us}),
    )
}

#[derive(clap::Args)]
pub struct W3Args {
    #[arg(long)]
    pub db: PathBuf,
    #[arg(long, default_value = "SELECT a, b, c FROM stream10m")]
    pub query: String,
}

/// Iterate every value of the 10M-row result through DuckDB's streaming result (Arrow
/// batches), touching each integer and each string's bytes.
pub fn w3(a: W3Args) -> anyhow::Result<Value> {
    let c = Connection::open(&a.db)?;
    let _ = std::fs::write("/proc/self/clear_refs", "5"); // reset VmHWM
    let rss_before = status_kib(std::process::id(), "VmRSS");
    let t = Instant::now();
    let mut stmt = c.prepare(&a.query)?;
    let mut first = None;
    let (mut rows, mut sum, mut bytes) = (0u64, 0i64, 0u64);
    for batch in stmt.stream_arrow([])? {
        if first.is_none() {
            first = Some(t.elapsed());
        }
        let ia = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .context("a")?;
        let ib = batch
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .context("b")?;
        for i in 0..batch.num_rows() {
            sum = sum.wrapping_add(ia.value(i)).wrapping_add(ib.value(i));
        }
        let col = batch.column(2);
        if let Some(s) = col.as_any().downcast_ref::<StringArray>() {
            for i in 0..s.len() {
                bytes += s.value(i).len() as u64;
            }
        } else if let Some(s) = col.as_any().downcast_ref::<StringViewArray>() {
            for i in 0..s.len() {
                bytes += s.value(i).len() as u64;
            }
        } else {
            anyhow::bail!("unexpected arrow type {:?}", col.data_type());
        }
        rows += batch.num_rows() as u64;
    }
    let total = t.elapsed();
    std::hint::black_box((sum, bytes));
    Ok(json!({
        "rows": rows,
        "seconds": total.as_secs_f64(),
        "rows_per_s": rows as f64 / total.as_secs_f64(),
        "first_row_ms": first.map(ms),
        "rss_before_kib": rss_before,
        "peak_rss_kib": status_kib(std::process::id(), "VmHWM"),
    }))
}

#[derive(clap::Args)]
pub struct W4Args {
    #[arg(long)]
    pub db: PathBuf,
    #[arg(long)]
    pub queries_dir: PathBuf,
}

/// Each TPC-H query once, all rows fetched; milliseconds per query.
pub fn w4(a: W4Args) -> anyhow::Result<Value> {
    let c = Connection::open(&a.db)?;
    let mut out = serde_json::Map::new();
    for nr in 1..=22 {
        let sql = std::fs::read_to_string(a.queries_dir.join(format!("q{nr:02}.sql")))?;
        let t = Instant::now();
        let mut stmt = c.prepare(sql.trim().trim_end_matches(';'))?;
        let mut rows = stmt.query([])?;
        let mut n = 0u64;
        while rows.next()?.is_some() {
            n += 1;
        }
        std::hint::black_box(n);
        out.insert(format!("q{nr:02}"), json!(ms(t.elapsed())));
    }
    Ok(Value::Object(out))
}

#[derive(clap::Args)]
pub struct W7Args {
    /// SQL run once on a fresh in-memory instance: extensions, secrets, ATTACH, USE.
    #[arg(long)]
    pub setup: PathBuf,
    /// Run on every new connection before its first query (e.g. USE lake).
    #[arg(long, default_value = "USE lake")]
    pub per_connection: String,
    #[arg(long, default_value_t = 300)]
    pub iters: usize,
    #[arg(long, default_value_t = 20)]
    pub new_conns: usize,
    #[arg(long, default_value_t = 100_000)]
    pub rows: u64,
}

pub const LAKE_POINT: &str = "SELECT v FROM bench_items WHERE id = $1";
pub const LAKE_COUNT: &str = "SELECT count(*) FROM bench_items";

/// The DuckLake small queries in process: steady-state latency of a point query and of a
/// count on one connection, and the first query on each of several new connections.
pub fn w7(a: W7Args) -> anyhow::Result<Value> {
    let t = Instant::now();
    let c = Connection::open_in_memory()?;
    c.execute_batch(&std::fs::read_to_string(&a.setup)?)
        .context("DuckLake setup")?;
    let attach_ms = ms(t.elapsed());
    c.execute_batch(&a.per_connection)?;
    let mut point = Vec::new();
    let mut count = Vec::new();
    {
        let mut sp = c.prepare(LAKE_POINT)?;
        let mut sc = c.prepare(LAKE_COUNT)?;
        for i in 0..(a.iters + 20) {
            let id = ((i as u64 * 7919) % a.rows + 1) as i64;
            let t = Instant::now();
            let mut r = sp.query([id])?;
            let v: String = r.next()?.context("no row")?.get(0)?;
            std::hint::black_box(v);
            drop(r);
            let d = us(t.elapsed());
            let t = Instant::now();
            let n: i64 = sc.query_row([], |r| r.get(0))?;
            std::hint::black_box(n);
            let e = us(t.elapsed());
            if i >= 20 {
                point.push(d);
                count.push(e);
            }
        }
    }
    let mut first = Vec::new();
    for i in 0..a.new_conns {
        let t = Instant::now();
        let c2 = c.try_clone()?;
        c2.execute_batch(&a.per_connection)?;
        let id = ((i as u64 * 104_729) % a.rows + 1) as i64;
        let v: String = c2.query_row(LAKE_POINT, [id], |r| r.get(0))?;
        std::hint::black_box(v);
        first.push(us(t.elapsed()));
    }
    Ok(json!({
        "attach_ms": attach_ms,
        "point": summary_us(&mut point),
        "count": summary_us(&mut count),
        "first_query": summary_us(&mut first),
    }))
}
