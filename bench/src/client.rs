//! PostgreSQL-protocol clients (tokio-postgres, rustls with ring): the same code measures the
//! gateway and the PostgreSQL reference.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::util::{cpu_seconds, ms, private_kib, status_kib, summary_us, us, PeakRss, Rng};

/// How to reach a server: a libpq-style key=value string plus an optional CA file. With a
/// CA the client requires TLS and verifies the server certificate against it.
#[derive(Clone)]
pub struct Target {
    config: Config,
    tls: Option<MakeRustlsConnect>,
}

impl Target {
    pub fn new(conn: &str, ca: Option<&Path>) -> anyhow::Result<Self> {
        let config: Config = conn.parse().context("connection string")?;
        let tls = match ca {
            None => None,
            Some(ca) => {
                use rustls_pki_types::pem::PemObject;
                let mut roots = rustls::RootCertStore::empty();
                for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca)? {
                    roots.add(cert?)?;
                }
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let cfg = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                Some(MakeRustlsConnect::new(cfg))
            }
        };
        Ok(Target { config, tls })
    }

    /// Connect (startup, TLS, authentication, up to ReadyForQuery); the connection task runs
    /// in the background and ends when the client is dropped.
    pub async fn connect(&self) -> anyhow::Result<(Client, tokio::task::JoinHandle<()>)> {
        Ok(match &self.tls {
            None => {
                let (client, conn) = self.config.connect(NoTls).await?;
                (
                    client,
                    tokio::spawn(async move {
                        let _ = conn.await;
                    }),
                )
            }
            Some(tls) => {
                let (client, conn) = self.config.connect(tls.clone()).await?;
                (
                    client,
                    tokio::spawn(async move {
                        let _ = conn.await;
                    }),
                )
            }
        })
    }
}

#[derive(clap::Args)]
pub struct Common {
    /// key=value connection string (host=127.0.0.1 port=... user=... dbname=... [password=... sslmode=require])
    #[arg(long)]
    pub conn: String,
    /// CA certificate (PEM): connect with TLS and verify the server against it.
    #[arg(long)]
    pub ca: Option<PathBuf>,
}

impl Common {
    fn target(&self) -> anyhow::Result<Target> {
        Target::new(&self.conn, self.ca.as_deref())
    }
}

/// The server process serving `client`: the gateway's pid as given, or PostgreSQL's backend.
async fn server_pid(client: &Client, pid: Option<u32>, pg: bool) -> anyhow::Result<Option<u32>> {
    if pg {
        let r = client.query_one("SELECT pg_backend_pid()", &[]).await?;
        return Ok(Some(r.get::<_, i32>(0) as u32));
    }
    Ok(pid)
}

#[derive(clap::Args)]
pub struct StreamArgs {
    #[command(flatten)]
    pub c: Common,
    /// text (simple query protocol), binary (extended protocol, binary results) or copy,
    /// through tokio-postgres; text-raw and binary-raw: the same through the lean reader
    /// (crate::raw)
    #[arg(long)]
    pub mode: String,
    /// Gateway pid whose memory to sample.
    #[arg(long)]
    pub pid: Option<u32>,
    /// The server is PostgreSQL: sample the connection's backend process.
    #[arg(long)]
    pub pg: bool,
    #[arg(long, default_value = "SELECT a, b, c FROM stream10m")]
    pub query: String,
}

/// W3: receive every row of the streaming query, decoding every value; time to first row,
/// rows per second, and the serving process's peak RSS while it streams.
pub async fn stream(a: StreamArgs) -> anyhow::Result<Value> {
    if let Some(binary) = match a.mode.as_str() {
        "text-raw" => Some(false),
        "binary-raw" => Some(true),
        _ => None,
    } {
        return stream_raw(a, binary).await;
    }
    let (client, _conn) = a.c.target()?.connect().await?;
    let pid = server_pid(&client, a.pid, a.pg).await?;
    let stmt = if a.mode == "binary" {
        Some(client.prepare(&a.query).await?)
    } else {
        None
    };
    let measured = Measured::start(pid);
    let t = measured.t;
    let mut first = None;
    let mut rows = 0u64;
    let mut bytes = 0u64;
    let mut sum = 0i64;
    match a.mode.as_str() {
        "text" => {
            let s = client.simple_query_raw(&a.query).await?;
            futures::pin_mut!(s);
            while let Some(m) = s.try_next().await? {
                if let SimpleQueryMessage::Row(r) = m {
                    if first.is_none() {
                        first = Some(t.elapsed());
                    }
                    for i in 0..3 {
                        bytes += r.get(i).map_or(0, |v| v.len()) as u64;
                    }
                    rows += 1;
                }
            }
        }
        "binary" => {
            let params: [&(dyn ToSql + Sync); 0] = [];
            let s = client.query_raw(stmt.as_ref().unwrap(), params).await?;
            futures::pin_mut!(s);
            while let Some(r) = s.try_next().await? {
                if first.is_none() {
                    first = Some(t.elapsed());
                }
                let x: i64 = r.get(0);
                let y: i64 = r.get(1);
                let z: &str = r.get(2);
                sum = sum.wrapping_add(x).wrapping_add(y);
                bytes += z.len() as u64;
                rows += 1;
            }
        }
        "copy" => {
            let s = client
                .copy_out(&format!("COPY ({}) TO STDOUT", a.query))
                .await?;
            futures::pin_mut!(s);
            while let Some(chunk) = s.try_next().await? {
                if first.is_none() {
                    first = Some(t.elapsed());
                }
                bytes += chunk.len() as u64;
                rows += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            }
        }
        m => anyhow::bail!("unknown mode {m}"),
    }
    std::hint::black_box(sum);
    Ok(measured.finish(&a.mode, rows, bytes, first))
}

/// W3 through the lean reader ([`crate::raw`]): the same decoding without tokio-postgres's
/// per-row allocations, so rows/s follow the server rather than the client.
async fn stream_raw(a: StreamArgs, binary: bool) -> anyhow::Result<Value> {
    let mut conn = crate::raw::connect(&a.c.conn).await?;
    let pid = if a.pg { conn.backend_pid } else { a.pid };
    let measured = Measured::start(pid);
    let s = crate::raw::stream(&mut conn, &a.query, binary).await?;
    std::hint::black_box(s.sum);
    Ok(measured.finish(&a.mode, s.rows, s.bytes, s.first_row))
}

/// Server memory and both sides' CPU around one stream.
struct Measured {
    pid: Option<u32>,
    rss_before: Option<u64>,
    sampler: Option<PeakRss>,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
    t: Instant,
}

impl Measured {
    fn start(pid: Option<u32>) -> Self {
        let rss_before = pid.and_then(|p| status_kib(p, "VmRSS"));
        if let Some(p) = pid {
            let _ = std::fs::write(format!("/proc/{p}/clear_refs"), "5"); // reset VmHWM
        }
        Measured {
            pid,
            rss_before,
            sampler: pid.map(|p| PeakRss::start(p, Duration::from_millis(5))),
            server_cpu: pid.and_then(|p| cpu_seconds(Some(p))),
            client_cpu: cpu_seconds(None),
            t: Instant::now(),
        }
    }

    fn finish(self, mode: &str, rows: u64, bytes: u64, first: Option<Duration>) -> Value {
        let total = self.t.elapsed();
        // CPU each side spent on the stream: the client shares the machine's cores with the
        // server, so this shows which of them bounds the rows/s
        let server_cpu = self
            .server_cpu
            .and_then(|c| Some(cpu_seconds(self.pid)? - c));
        let client_cpu = self.client_cpu.and_then(|c| Some(cpu_seconds(None)? - c));
        let sampled = self.sampler.map(|s| s.stop());
        let hwm = self.pid.and_then(|p| status_kib(p, "VmHWM"));
        let peak = match (sampled, hwm) {
            (Some(s), Some(h)) => Some(s.max(h)),
            (s, h) => s.or(h),
        };
        json!({
            "mode": mode,
            "rows": rows,
            "bytes": bytes,
            "seconds": total.as_secs_f64(),
            "rows_per_s": rows as f64 / total.as_secs_f64(),
            "first_row_ms": first.map(ms),
            "rss_before_kib": self.rss_before,
            "peak_rss_kib": peak,
            "server_cpu_s": server_cpu,
            "client_cpu_s": client_cpu,
        })
    }
}

#[derive(clap::Args)]
pub struct IdleArgs {
    #[command(flatten)]
    pub c: Common,
    #[arg(long)]
    pub n: usize,
    /// Connection attempts in flight at once.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// Gateway pid (memory per connection = its RSS growth / n).
    #[arg(long)]
    pub pid: Option<u32>,
    /// The server is PostgreSQL: memory per connection = private memory of its backends / n.
    #[arg(long)]
    pub pg: bool,
}

/// W5: open n connections (bounded concurrency), leave them idle, measure the server side.
pub async fn idle(a: IdleArgs) -> anyhow::Result<Value> {
    let target = a.c.target()?;
    let (probe, _pc) = target.connect().await?; // the database is open before the baseline
    probe.simple_query("SELECT 1").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = a.pid.and_then(|p| status_kib(p, "VmRSS"));
    let t = Instant::now();
    let results: Vec<anyhow::Result<(Client, tokio::task::JoinHandle<()>)>> =
        futures::stream::iter((0..a.n).map(|_| {
            let target = target.clone();
            async move { target.connect().await }
        }))
        .buffer_unordered(a.concurrency)
        .collect()
        .await;
    let open_s = t.elapsed().as_secs_f64();
    let mut clients = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for r in results {
        match r {
            Ok(c) => clients.push(c),
            Err(e) => {
                errors += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut out = json!({
        "n": a.n,
        "opened": clients.len(),
        "errors": errors,
        "first_error": first_error,
        "open_seconds": open_s,
    });
    if a.pg {
        let rows = probe
            .query(
                "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'
                 AND usename = current_user AND pid <> pg_backend_pid()",
                &[],
            )
            .await?;
        let pids: Vec<u32> = rows.iter().map(|r| r.get::<_, i32>(0) as u32).collect();
        let total: u64 = pids.iter().filter_map(|p| private_kib(*p)).sum();
        let rss: u64 = pids.iter().filter_map(|p| status_kib(*p, "VmRSS")).sum();
        out["backends"] = json!(pids.len());
        out["private_kib_total"] = json!(total);
        out["rss_kib_total"] = json!(rss);
        out["bytes_per_conn"] = json!(total as f64 * 1024.0 / clients.len().max(1) as f64);
    } else if let Some(p) = a.pid {
        let after = status_kib(p, "VmRSS");
        out["rss_before_kib"] = json!(before);
        out["rss_after_kib"] = json!(after);
        if let (Some(b), Some(af)) = (before, after) {
            out["bytes_per_conn"] =
                json!((af as f64 - b as f64) * 1024.0 / clients.len().max(1) as f64);
        }
    }
    // every idle connection still answers
    let mut alive = 0;
    for (c, _) in &clients {
        if c.simple_query("SELECT 1").await.is_ok() {
            alive += 1;
        }
    }
    out["alive_after"] = json!(alive);
    drop(clients);
    Ok(out)
}

#[derive(clap::Args)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub c: Common,
    #[arg(long, default_value_t = 200)]
    pub n: usize,
}

/// W6: sequential connection setups (TCP, TLS, authentication, until ReadyForQuery).
pub async fn connect(a: ConnectArgs) -> anyhow::Result<Value> {
    let target = a.c.target()?;
    let mut lat = Vec::with_capacity(a.n);
    for i in 0..(a.n + 5) {
        let t = Instant::now();
        let (client, task) = target.connect().await?;
        let d = us(t.elapsed());
        if i >= 5 {
            lat.push(d);
        }
        drop(client);
        let _ = task.await;
    }
    Ok(json!({"setup": summary_us(&mut lat)}))
}

#[derive(clap::Args)]
pub struct LakeArgs {
    #[command(flatten)]
    pub c: Common,
    #[arg(long, default_value_t = 300)]
    pub iters: usize,
    #[arg(long, default_value_t = 20)]
    pub new_conns: usize,
    #[arg(long, default_value_t = 100_000)]
    pub rows: u64,
}

/// W7 over the protocol: the same queries as `inproc-w7`.
pub async fn lake(a: LakeArgs) -> anyhow::Result<Value> {
    use crate::inproc::{LAKE_COUNT, LAKE_POINT};
    let target = a.c.target()?;
    let (client, _conn) = target.connect().await?;
    let sp = client.prepare(LAKE_POINT).await?;
    let sc = client.prepare(LAKE_COUNT).await?;
    let (mut point, mut count) = (Vec::new(), Vec::new());
    for i in 0..(a.iters + 20) {
        let id = ((i as u64 * 7919) % a.rows + 1) as i64;
        let t = Instant::now();
        let r = client.query_one(&sp, &[&id]).await?;
        std::hint::black_box(r.get::<_, &str>(0));
        let d = us(t.elapsed());
        let t = Instant::now();
        let r = client.query_one(&sc, &[]).await?;
        std::hint::black_box(r.get::<_, i64>(0));
        let e = us(t.elapsed());
        if i >= 20 {
            point.push(d);
            count.push(e);
        }
    }
    let (mut first, mut setup, mut query) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..a.new_conns {
        let id = ((i as u64 * 104_729) % a.rows + 1) as i64;
        let t = Instant::now();
        let (c2, task) = target.connect().await?;
        let s = t.elapsed();
        let r = c2.query_one(LAKE_POINT, &[&id]).await?;
        std::hint::black_box(r.get::<_, &str>(0));
        let total = t.elapsed();
        first.push(us(total));
        setup.push(us(s));
        query.push(us(total - s));
        drop(c2);
        let _ = task.await;
    }
    Ok(json!({
        "point": summary_us(&mut point),
        "count": summary_us(&mut count),
        "first_query": summary_us(&mut first),
        "first_query_connect": summary_us(&mut setup),
        "first_query_after_connect": summary_us(&mut query),
    }))
}

#[derive(clap::Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub c: Common,
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    #[arg(long, default_value_t = 150.0)]
    pub secs: f64,
    /// Gateway pid whose RSS is sampled.
    #[arg(long)]
    pub pid: Option<u32>,
    #[arg(long, default_value_t = 5.0)]
    pub sample_secs: f64,
    #[arg(long, default_value_t = 1_000_000)]
    pub kv_rows: u64,
    #[arg(long, default_value_t = 10_000_000)]
    pub stream_rows: u64,
    /// Reads only: the insert and count-own-inserts shares become point lookups.
    #[arg(long)]
    pub read_only: bool,
}

const OPS: [&str; 6] = [
    "select1_simple",
    "select1_prepared",
    "point_lookup",
    "range_aggregate",
    "insert",
    "count_own_inserts",
];

/// Mixed short queries from `clients` connections for `secs`: every error is counted, the
/// server's RSS is sampled every `sample_secs`.
pub async fn load(a: LoadArgs) -> anyhow::Result<Value> {
    let target = a.c.target()?;
    let dur = Duration::from_secs_f64(a.secs);
    let start = Instant::now();
    let deadline = start + dur;
    // RSS of the gateway, and what DuckDB's buffer manager holds (duckdb_memory(): cached
    // table blocks, indexes, appended rows), to tell a cache filling up from a leak
    let (probe, _probe_conn) = target.connect().await?;
    let sampler = {
        let pid = a.pid;
        let every = Duration::from_secs_f64(a.sample_secs);
        tokio::spawn(async move {
            let mut series = Vec::new();
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let t = start.elapsed().as_secs_f64();
                let duck = probe
                    .simple_query("SELECT sum(memory_usage_bytes)::BIGINT FROM duckdb_memory()")
                    .await
                    .ok()
                    .and_then(|m| {
                        m.into_iter().find_map(|r| match r {
                            SimpleQueryMessage::Row(r) => {
                                r.get(0).and_then(|v| v.parse::<u64>().ok())
                            }
                            _ => None,
                        })
                    })
                    .map(|b| b / 1024);
                series.push(json!([t, pid.and_then(|p| status_kib(p, "VmRSS")), duck]));
                if Instant::now() >= deadline {
                    break;
                }
            }
            series
        })
    };
    let mut tasks = Vec::new();
    for id in 0..a.clients {
        let target = target.clone();
        let (kv_rows, stream_rows, read_only) = (a.kv_rows, a.stream_rows, a.read_only);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut counts = [0u64; OPS.len()];
            let mut errors: Vec<String> = Vec::new();
            let (client, _conn) = match target.connect().await {
                Ok(c) => c,
                Err(e) => return (lat, counts, vec![format!("connect: {e:#}")], 1u64),
            };
            let prep = async {
                Ok::<_, tokio_postgres::Error>((
                    client.prepare("SELECT 1").await?,
                    client.prepare("SELECT v FROM kv WHERE id = $1").await?,
                    client
                        .prepare("SELECT count(*), sum(b) FROM stream10m WHERE a BETWEEN $1::BIGINT AND $1::BIGINT + 1000")
                        .await?,
                    client
                        .prepare("INSERT INTO load_events VALUES ($1, $2, now())")
                        .await?,
                    client
                        .prepare("SELECT count(*) FROM load_events WHERE client = $1")
                        .await?,
                ))
            };
            let (s1, sp, sa, si, sc) = match prep.await {
                Ok(s) => s,
                Err(e) => return (lat, counts, vec![format!("prepare: {e:#}")], 1u64),
            };
            let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ ((id as u64 + 1) << 17));
            let mut seq = 0i64;
            let mut nerr = 0u64;
            let cid = id as i32;
            while Instant::now() < deadline {
                let pick = rng.next() % 100;
                let op = match pick {
                    0..=19 => 0,
                    20..=39 => 1,
                    40..=69 => 2,
                    70..=84 => 3,
                    _ if read_only => 2,
                    85..=94 => 4,
                    _ => 5,
                };
                let t = Instant::now();
                let r: Result<(), tokio_postgres::Error> = async {
                    match op {
                        0 => {
                            client.simple_query("SELECT 1").await?;
                        }
                        1 => {
                            client.query_one(&s1, &[]).await?;
                        }
                        2 => {
                            let k = (rng.next() % kv_rows + 1) as i64;
                            client.query_one(&sp, &[&k]).await?;
                        }
                        3 => {
                            let k = (rng.next() % stream_rows) as i64;
                            client.query_one(&sa, &[&k]).await?;
                        }
                        4 => {
                            seq += 1;
                            client.execute(&si, &[&cid, &seq]).await?;
                        }
                        _ => {
                            client.query_one(&sc, &[&cid]).await?;
                        }
                    }
                    Ok(())
                }
                .await;
                lat.push(us(t.elapsed()));
                counts[op] += 1;
                if let Err(e) = r {
                    nerr += 1;
                    if errors.len() < 5 {
                        errors.push(format!("{}: {e:#}", OPS[op]));
                    }
                }
            }
            (lat, counts, errors, nerr)
        }));
    }
    let mut all = Vec::new();
    let mut counts = [0u64; OPS.len()];
    let mut errors = 0u64;
    let mut samples = Vec::new();
    for t in tasks {
        let (lat, c, e, n) = t.await?;
        all.extend(lat);
        for (i, v) in c.iter().enumerate() {
            counts[i] += v;
        }
        errors += n;
        for m in e {
            if samples.len() < 10 {
                samples.push(m);
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let series = sampler.await?;
    let ops: serde_json::Map<String, Value> = OPS
        .iter()
        .zip(counts.iter())
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    Ok(json!({
        "clients": a.clients,
        "seconds": elapsed,
        "queries": all.len(),
        "qps": all.len() as f64 / elapsed,
        "errors": errors,
        "error_samples": samples,
        "ops": ops,
        "latency": summary_us(&mut all),
        "rss_series_kib": series,
    }))
}

#[derive(clap::Args)]
pub struct SqlArgs {
    #[command(flatten)]
    pub c: Common,
    /// Statements, run in order with the simple query protocol.
    pub statements: Vec<String>,
}

/// Setup helper: run statements; the rows of the last one come back as text.
pub async fn sql(a: SqlArgs) -> anyhow::Result<Value> {
    let (client, _conn) = a.c.target()?.connect().await?;
    let mut rows = Vec::new();
    for s in &a.statements {
        rows.clear();
        for m in client.simple_query(s).await.with_context(|| s.clone())? {
            if let SimpleQueryMessage::Row(r) = m {
                rows.push(
                    (0..r.len())
                        .map(|i| r.get(i).map(str::to_owned))
                        .collect::<Vec<_>>(),
                );
            }
        }
    }
    Ok(json!({"rows": rows}))
}
