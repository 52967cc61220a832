//! Latency summaries and /proc memory readings.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

/// p50 / p99 / mean of latencies in microseconds (sorts the input).
pub fn summary_us(lat: &mut [f64]) -> Value {
    if lat.is_empty() {
        return json!({"n": 0});
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mean = lat.iter().sum::<f64>() / lat.len() as f64;
    json!({
        "n": lat.len(),
        "p50_us": pct(lat, 50.0),
        "p99_us": pct(lat, 99.0),
        "mean_us": mean,
        "min_us": lat[0],
        "max_us": lat[lat.len() - 1],
    })
}

/// Nearest-rank percentile of sorted data.
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// CPU time (user + system, every thread) a process has used so far, in seconds; `None` for
/// the calling process reads `/proc/self`.
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".into(),
    };
    let s = std::fs::read_to_string(path).ok()?;
    // fields after the command name, which may itself contain spaces; utime and stime are
    // fields 14 and 15 of the line, in USER_HZ ticks (100 per second in Linux's ABI)
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// A field of /proc/PID/status in KiB (VmRSS, VmHWM, RssAnon, ...).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Private (unshared) memory of a process in KiB, from smaps_rollup.
pub fn private_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let mut total = 0;
    for l in s.lines() {
        if l.starts_with("Private_Clean:") || l.starts_with("Private_Dirty:") {
            total += l.split_whitespace().nth(1)?.parse::<u64>().ok()?;
        }
    }
    Some(total)
}

/// Samples VmRSS of one process every few milliseconds on a thread; `stop` returns the peak.
pub struct PeakRss {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl PeakRss {
    pub fn start(pid: u32, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(status_kib(pid, "VmRSS").unwrap_or(0)));
        let (s, p) = (stop.clone(), peak.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(v) = status_kib(pid, "VmRSS") {
                    p.fetch_max(v, Ordering::Relaxed);
                }
                std::thread::sleep(every);
            }
        });
        PeakRss {
            stop,
            peak,
            handle: Some(handle),
        }
    }

    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.peak.load(Ordering::Relaxed)
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// xorshift64: ids and operation choices without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}
