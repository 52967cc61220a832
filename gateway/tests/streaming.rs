//! Results stream with backpressure: a 10-million-row SELECT keeps the gateway's memory flat,
//! in binary (a driver) and text (simple query), and a client that stops reading or vanishes
//! does not make the server buffer the rest.

mod common;

use std::time::{Duration, Instant};

use common::raw::Raw;
use common::{rss_kib, spawn_process};
use futures::{pin_mut, TryStreamExt};

const ROWS: i64 = 10_000_000;
const QUERY: &str = "SELECT i, i * 2, 'row number ' || i::VARCHAR FROM range(10000000) t(i)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_million_rows_stream_with_bounded_memory() {
    let gw = spawn_process(&["--threads", "2"]);
    let pid = gw.child.id();
    let conn = format!("host=127.0.0.1 port={} user=t dbname=md:", gw.port);
    let client = common::connect(&conn).await;
    client.query_one("SELECT 1::INTEGER", &[]).await.unwrap();
    let baseline = rss_kib(pid);

    // binary, through tokio-postgres' streaming API
    let started = Instant::now();
    let stream = client
        .query_raw(QUERY, std::iter::empty::<i32>())
        .await
        .unwrap();
    pin_mut!(stream);
    let mut n: i64 = 0;
    let mut peak = baseline;
    let mut first_row = None;
    while let Some(row) = stream.try_next().await.unwrap() {
        if n == 0 {
            first_row = Some(started.elapsed());
        }
        if n % 1_000_000 == 0 {
            assert_eq!(row.get::<_, i64>(0), n);
            assert_eq!(row.get::<_, i64>(1), 2 * n);
            assert_eq!(row.get::<_, &str>(2), format!("row number {n}"));
            peak = peak.max(rss_kib(pid));
        }
        n += 1;
    }
    assert_eq!(n, ROWS);
    let binary_secs = started.elapsed().as_secs_f64();
    let growth_mib = (peak.saturating_sub(baseline)) / 1024;
    eprintln!(
        "binary: {ROWS} rows in {binary_secs:.2}s, first row after {:?}, gateway RSS {} MiB -> peak {} MiB",
        first_row.unwrap(),
        baseline / 1024,
        peak / 1024
    );
    assert!(
        growth_mib < 100,
        "gateway RSS grew by {growth_mib} MiB while streaming"
    );

    // text, through the simple protocol, counted without keeping rows
    let (mut raw, _) = Raw::connect(gw.port, &[("user", "t"), ("database", "md:")]).await;
    let started = Instant::now();
    raw.send(&Raw::query(QUERY)).await;
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        for _ in 0..400 {
            peak = peak.max(rss_kib(pid));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        peak
    });
    let (rows, bytes, _) = raw.count_rows_until_ready().await;
    assert_eq!(rows as i64, ROWS);
    let text_secs = started.elapsed().as_secs_f64();
    sampler.abort();
    let peak_now = rss_kib(pid);
    eprintln!(
        "text: {rows} rows, {} MiB in {text_secs:.2}s; gateway RSS now {} MiB",
        bytes / (1 << 20),
        peak_now / 1024
    );
    assert!((peak_now.saturating_sub(baseline)) / 1024 < 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_not_buffered_and_one_that_vanishes_is_cleaned_up() {
    let gw = spawn_process(&["--threads", "2"]);
    let pid = gw.child.id();
    let (mut raw, _) = Raw::connect(gw.port, &[("user", "t"), ("database", "md:")]).await;
    let baseline = rss_kib(pid);
    raw.send(&Raw::query(QUERY)).await;
    // read a little, then stop reading for a while: the server must block, not buffer
    for _ in 0..1000 {
        raw.read().await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stalled = rss_kib(pid);
    eprintln!(
        "stalled client: RSS {} -> {} MiB",
        baseline / 1024,
        stalled / 1024
    );
    assert!((stalled.saturating_sub(baseline)) / 1024 < 64);
    // vanish mid-result
    drop(raw);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // the server keeps serving new sessions promptly
    let conn = format!("host=127.0.0.1 port={} user=t dbname=md:", gw.port);
    let c = common::connect(&conn).await;
    let started = Instant::now();
    let v: i64 = c.query_one("SELECT 7::BIGINT", &[]).await.unwrap().get(0);
    assert_eq!(v, 7);
    assert!(started.elapsed() < Duration::from_secs(2));
}
