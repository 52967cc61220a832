//! DuckDB's memory limit and thread count from the container's limits.
//!
//! DuckDB sizes itself from the host (80% of physical RAM, one thread per host core). In a
//! container with a 2 GiB / 2 CPU limit on a 64-core node that means an OOM kill and 64 threads
//! fighting over two cores' quota, so unless the config says otherwise the gateway reads the
//! cgroup (v2, else v1) and derives both.

use std::path::Path;

/// Share of the container's memory given to DuckDB; the rest is for the gateway's sessions,
/// result buffers and the allocator's slack.
const MEMORY_SHARE_PERCENT: u64 = 75;

/// Limits found in the cgroup; `None` where there is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ContainerLimits {
    pub memory_bytes: Option<u64>,
    pub cpus: Option<f64>,
}

/// cgroup v2 `memory.max`: a byte count or `max`.
pub fn parse_memory_max(text: &str) -> Option<u64> {
    let v = text.trim();
    if v == "max" {
        return None;
    }
    v.parse().ok()
}

/// cgroup v2 `cpu.max`: `<quota> <period>` or `max <period>`.
pub fn parse_cpu_max(text: &str) -> Option<f64> {
    let mut parts = text.split_whitespace();
    let quota = parts.next()?;
    let period: f64 = parts.next().unwrap_or("100000").parse().ok()?;
    if quota == "max" || period <= 0.0 {
        return None;
    }
    let quota: f64 = quota.parse().ok()?;
    (quota > 0.0).then(|| quota / period)
}

/// cgroup v1 `memory.limit_in_bytes`: "no limit" is a huge number near `i64::MAX`.
pub fn parse_v1_memory_limit(text: &str) -> Option<u64> {
    let v: u64 = text.trim().parse().ok()?;
    (v < (1u64 << 60)).then_some(v)
}

/// cgroup v1 `cpu.cfs_quota_us` (-1 = none) and `cpu.cfs_period_us`.
pub fn parse_v1_cpu(quota: &str, period: &str) -> Option<f64> {
    let quota: i64 = quota.trim().parse().ok()?;
    let period: i64 = period.trim().parse().ok()?;
    (quota > 0 && period > 0).then(|| quota as f64 / period as f64)
}

/// Read the limits of the cgroup this process runs in, under `root` (normally `/sys/fs/cgroup`).
pub fn read_limits(root: &Path) -> ContainerLimits {
    let read = |p: &str| std::fs::read_to_string(root.join(p)).ok();
    if let Some(mem) = read("memory.max") {
        // v2 (a container sees its own cgroup at the root of the mount)
        return ContainerLimits {
            memory_bytes: parse_memory_max(&mem),
            cpus: read("cpu.max").and_then(|c| parse_cpu_max(&c)),
        };
    }
    ContainerLimits {
        memory_bytes: read("memory/memory.limit_in_bytes").and_then(|m| parse_v1_memory_limit(&m)),
        cpus: match (read("cpu/cpu.cfs_quota_us"), read("cpu/cpu.cfs_period_us")) {
            (Some(q), Some(p)) => parse_v1_cpu(&q, &p),
            _ => None,
        },
    }
}

/// DuckDB `threads`: the configured value, else the CPU limit rounded up (at least 1).
pub fn derive_threads(configured: Option<u32>, limits: &ContainerLimits) -> Option<u32> {
    configured.or_else(|| limits.cpus.map(|c| (c.ceil() as u32).max(1)))
}

/// Connection threads: the configured value, else `per_core` for each core of the CPU limit
/// (rounded up), else of the CPUs this process may use.
pub fn derive_connection_threads(
    configured: Option<u32>,
    limits: &ContainerLimits,
    per_core: usize,
) -> usize {
    if let Some(n) = configured {
        return n as usize;
    }
    let cores = match limits.cpus {
        Some(c) => (c.ceil() as usize).max(1),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    per_core * cores
}

/// DuckDB `memory_limit`: the configured value, else a share of the container's memory.
pub fn derive_memory_limit(configured: Option<&str>, limits: &ContainerLimits) -> Option<String> {
    if let Some(m) = configured {
        return Some(m.to_owned());
    }
    let bytes = (limits.memory_bytes? as u128 * MEMORY_SHARE_PERCENT as u128 / 100) as u64;
    Some(format!("{}MiB", (bytes >> 20).max(64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_files_parse() {
        assert_eq!(parse_memory_max("max\n"), None);
        assert_eq!(parse_memory_max("2147483648\n"), Some(2 << 30));
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cpu_max("150000 100000\n"), Some(1.5));
        assert_eq!(parse_cpu_max("garbage"), None);
    }

    #[test]
    fn v1_files_parse() {
        assert_eq!(parse_v1_memory_limit("9223372036854771712\n"), None);
        assert_eq!(parse_v1_memory_limit("1073741824"), Some(1 << 30));
        assert_eq!(parse_v1_cpu("-1", "100000"), None);
        assert_eq!(parse_v1_cpu("50000\n", "100000\n"), Some(0.5));
    }

    #[test]
    fn derived_settings_prefer_the_config_and_round_sensibly() {
        let limits = ContainerLimits {
            memory_bytes: Some(2 << 30),
            cpus: Some(1.5),
        };
        assert_eq!(derive_threads(None, &limits), Some(2));
        assert_eq!(derive_threads(Some(8), &limits), Some(8));
        assert_eq!(derive_connection_threads(None, &limits, 4), 8);
        assert_eq!(derive_connection_threads(Some(0), &limits, 4), 0);
        assert_eq!(derive_connection_threads(Some(3), &limits, 4), 3);
        assert_eq!(
            derive_memory_limit(None, &limits).as_deref(),
            Some("1536MiB")
        );
        assert_eq!(
            derive_memory_limit(Some("4GB"), &limits).as_deref(),
            Some("4GB")
        );
        let none = ContainerLimits::default();
        assert_eq!(derive_threads(None, &none), None);
        assert_eq!(derive_memory_limit(None, &none), None);
        let tiny = ContainerLimits {
            memory_bytes: Some(10 << 20),
            cpus: Some(0.1),
        };
        assert_eq!(derive_threads(None, &tiny), Some(1));
        assert_eq!(derive_memory_limit(None, &tiny).as_deref(), Some("64MiB"));
    }

    #[test]
    fn reads_a_v2_hierarchy_from_disk() {
        let dir = std::env::temp_dir().join(format!("duckgate-cgroup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("memory.max"), "1073741824\n").unwrap();
        std::fs::write(dir.join("cpu.max"), "200000 100000\n").unwrap();
        let l = read_limits(&dir);
        assert_eq!(l.memory_bytes, Some(1 << 30));
        assert_eq!(l.cpus, Some(2.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
