//! Per-object exponential backoff for failed reconciles, reset by the next success.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Record a failure of `key` and return how long to wait before the next attempt:
    /// base, 2×base, 4×base, … up to max.
    pub fn failed(&self, key: &str) -> Duration {
        let mut f = self.failures.lock().unwrap();
        let n = f.entry(key.to_owned()).or_insert(0);
        *n = n.saturating_add(1);
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// Forget the failures of `key`.
    pub fn succeeded(&self, key: &str) {
        self.failures.lock().unwrap().remove(key);
    }

    /// Failures recorded for `key` since its last success.
    pub fn failures(&self, key: &str) -> u32 {
        self.failures.lock().unwrap().get(key).copied().unwrap_or(0)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_secs(2), Duration::from_secs(300))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_per_object_caps_and_resets() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        let waits: Vec<u64> = (0..6).map(|_| b.failed("ns/a").as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 10, 10]);
        // another object has its own count
        assert_eq!(b.failed("ns/b"), Duration::from_secs(1));
        b.succeeded("ns/a");
        assert_eq!(b.failures("ns/a"), 0);
        assert_eq!(b.failed("ns/a"), Duration::from_secs(1));
        // no overflow after very many failures
        for _ in 0..100 {
            b.failed("ns/c");
        }
        assert_eq!(b.failed("ns/c"), Duration::from_secs(10));
    }
}
