//! Spec validation the reconciler runs before building anything. The CRD's CEL rules catch most
//! of this at admission; this repeats them (objects may predate a rule, or come from an older
//! CRD) and adds what CEL cannot check. A failure becomes `Degraded=True` with the reason, never
//! a crash loop.

use std::collections::HashSet;
use std::net::IpAddr;

use kube::ResourceExt;

use crate::crd::endpoint::PostgresEndpoint;
use crate::resources::{configmap, Resolved};

/// Why a spec cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "spec.{}: {}", self.field, self.message)
    }
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> Result<(), Invalid> {
    Err(Invalid {
        field: field.into(),
        message: message.into(),
    })
}

/// A retention as `duckgate-gateway maintenance --retention` accepts it.
pub fn valid_retention(s: &str) -> bool {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    !num.is_empty() && num.parse::<u64>().is_ok() && matches!(unit, "ms" | "s" | "min" | "h" | "d")
}

/// A cron schedule: five fields of cron characters, or one of the `@` macros.
pub fn valid_schedule(s: &str) -> bool {
    if let Some(m) = s.strip_prefix('@') {
        return matches!(
            m,
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly"
        );
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    fields.len() == 5
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | ',' | '-' | '/' | '?'))
        })
}

/// An address range in CIDR notation.
pub fn valid_cidr(s: &str) -> bool {
    let Some((addr, prefix)) = s.split_once('/') else {
        return false;
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    prefix.parse::<u8>().is_ok_and(|p| p <= max)
}

fn valid_db_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn valid_memory(s: &str) -> bool {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    num.parse::<f64>().is_ok()
        && matches!(
            unit.trim(),
            "B" | "KB" | "MB" | "GB" | "TB" | "KiB" | "MiB" | "GiB" | "TiB"
        )
}

/// Check an endpoint's spec. `Ok` means the builders can turn it into objects that work.
pub fn validate_endpoint(ep: &PostgresEndpoint) -> Result<(), Invalid> {
    let spec = &ep.spec;
    if ep.name_any().len() > 40 {
        return bad("metadata.name", "at most 40 characters");
    }
    if spec.replicas < 0 {
        return bad("replicas", "must not be negative");
    }
    if let Some(a) = &spec.autoscaling {
        if a.min_replicas < 1 || a.max_replicas < a.min_replicas {
            return bad("autoscaling", "needs 1 <= minReplicas <= maxReplicas");
        }
        if a.target_cpu_utilization_percentage.is_none()
            && a.target_active_connections_per_pod.is_none()
        {
            return bad(
                "autoscaling",
                "needs targetCPUUtilizationPercentage or targetActiveConnectionsPerPod",
            );
        }
    }

    let mut names = HashSet::new();
    for (i, d) in spec.databases.iter().enumerate() {
        let field = format!("databases[{i}]");
        if !valid_db_name(&d.name) {
            return bad(
                format!("{field}.name"),
                format!(
                    "{:?} is not a database name (letters, digits, _ and -)",
                    d.name
                ),
            );
        }
        if !names.insert(d.name.as_str()) {
            return bad(
                format!("{field}.name"),
                format!("database {:?} is defined twice", d.name),
            );
        }
        let kinds = [d.ducklake.is_some(), d.duckdb.is_some(), d.local.is_some()];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return bad(
                field,
                "a database is exactly one of ducklake, duckdb or local",
            );
        }
        if let Some(l) = &d.ducklake {
            if !l.data_path.starts_with("s3://") {
                return bad(format!("{field}.ducklake.dataPath"), "must be an s3:// URL");
            }
            if !(1..=65535).contains(&l.catalog.port) {
                return bad(format!("{field}.ducklake.catalog.port"), "must be 1..65535");
            }
        }
        if let Some(f) = &d.duckdb {
            if !f.path.starts_with("s3://") {
                return bad(format!("{field}.duckdb.path"), "must be an s3:// URL");
            }
        }
        if let Some(l) = &d.local {
            if l.file
                .as_deref()
                .is_some_and(|f| f.is_empty() || f.contains('/') || f == "..")
            {
                return bad(format!("{field}.local.file"), "must be a plain file name");
            }
            if spec.autoscaling.is_some() || spec.replicas > 1 {
                return bad(
                    field,
                    "a local database has a single writer: use replicas 0 or 1 and no autoscaling",
                );
            }
        }
    }
    if spec.databases.iter().filter(|d| d.default).count() > 1 {
        return bad("databases", "at most one database can be the default");
    }

    if spec.tls.certificate.is_some() == spec.tls.secret_name.is_some() {
        return bad("tls", "needs exactly one of certificate or secretName");
    }
    if spec.auth.token_secret.key.is_empty() {
        return bad("auth.tokenSecret.key", "must not be empty");
    }

    let svc = &spec.service;
    if !(1..=65535).contains(&svc.port) {
        return bad("service.port", "must be 1..65535");
    }
    if let Some(r) = svc
        .load_balancer_source_ranges
        .iter()
        .find(|r| !valid_cidr(r))
    {
        return bad(
            "service.loadBalancerSourceRanges",
            format!("{r:?} is not a CIDR range"),
        );
    }
    if !svc.load_balancer_source_ranges.is_empty()
        && svc.type_ != crate::crd::endpoint::ServiceType::LoadBalancer
    {
        return bad(
            "service.loadBalancerSourceRanges",
            "needs type LoadBalancer",
        );
    }

    let l = &spec.limits;
    let negative = [
        ("limits.maxConnections", l.max_connections.map(i64::from)),
        (
            "limits.maxConnectionsPerToken",
            l.max_connections_per_token.map(i64::from),
        ),
        ("limits.statementTimeoutMs", l.statement_timeout_ms),
        ("limits.idleSessionTimeoutMs", l.idle_session_timeout_ms),
        (
            "limits.idleInTransactionTimeoutMs",
            l.idle_in_transaction_timeout_ms,
        ),
        ("limits.threads", l.threads.map(i64::from)),
        ("limits.drainTimeoutMs", l.drain_timeout_ms),
        (
            "auth.maxFailuresPerMinute",
            spec.auth.max_failures_per_minute.map(i64::from),
        ),
    ]
    .into_iter()
    .find(|(_, v)| v.is_some_and(|v| v < 0));
    if let Some((field, _)) = negative {
        return bad(field, "must not be negative");
    }
    if let Some(m) = &spec.limits.memory_limit {
        if !valid_memory(m) {
            return bad(
                "limits.memoryLimit",
                format!("{m:?} is not a size like 4GB"),
            );
        }
    }
    if spec.log.level.trim().is_empty() {
        return bad("log.level", "must not be empty");
    }

    if let Some(m) = &spec.maintenance {
        let lakes: Vec<&str> = spec
            .databases
            .iter()
            .filter(|d| d.ducklake.is_some())
            .map(|d| d.name.as_str())
            .collect();
        if lakes.is_empty() {
            return bad(
                "maintenance",
                "maintenance needs at least one ducklake database",
            );
        }
        if let Some(db) = &m.database {
            if !lakes.contains(&db.as_str()) {
                return bad(
                    "maintenance.database",
                    format!("{db:?} is not a ducklake database of this endpoint"),
                );
            }
        }
        if !valid_retention(&m.retention) {
            return bad(
                "maintenance.retention",
                format!("{:?}: use e.g. 30s, 15min, 6h, 7d", m.retention),
            );
        }
        if !valid_schedule(&m.schedule) {
            return bad(
                "maintenance.schedule",
                format!("{:?} is not a cron schedule", m.schedule),
            );
        }
    }

    // Last: the gateway's own rules on the config the builders render.
    let cfg = configmap::gateway_config(spec, &Resolved::default());
    if let Err(e) = cfg.validate() {
        return bad("", e.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::testing;

    fn check(edit: impl FnOnce(&mut crate::crd::PostgresEndpointSpec)) -> Result<(), Invalid> {
        let mut spec = testing::spec();
        edit(&mut spec);
        validate_endpoint(&testing::endpoint(spec))
    }

    #[test]
    fn the_example_is_valid() {
        check(|_| {}).unwrap();
    }

    #[test]
    fn replica_rules() {
        // replicas is ignored while autoscaling
        check(|s| {
            s.replicas = 2;
            s.autoscaling = Some(
                serde_yaml::from_str("{maxReplicas: 3, targetCPUUtilizationPercentage: 50}")
                    .unwrap(),
            );
        })
        .unwrap();
        assert_eq!(check(|s| s.replicas = -1).unwrap_err().field, "replicas");
        assert!(check(|s| s.autoscaling = Some(
            serde_yaml::from_str(
                "{minReplicas: 4, maxReplicas: 3, targetCPUUtilizationPercentage: 50}"
            )
            .unwrap()
        ))
        .is_err());
        assert!(
            check(|s| s.autoscaling = Some(serde_yaml::from_str("{maxReplicas: 3}").unwrap()))
                .is_err()
        );
        check(|s| {
            s.autoscaling = Some(
                serde_yaml::from_str("{maxReplicas: 3, targetActiveConnectionsPerPod: 100}")
                    .unwrap(),
            )
        })
        .unwrap();
        check(|s| s.replicas = 0).unwrap();
    }

    #[test]
    fn database_rules() {
        let e = check(|s| s.databases[1].name = "lake".into()).unwrap_err();
        assert!(e.message.contains("twice"), "{e}");
        assert!(check(|s| s.databases[1].default = true)
            .unwrap_err()
            .message
            .contains("default"));
        assert!(check(|s| s.databases[0].name = "no spaces".into()).is_err());
        assert!(
            check(|s| s.databases[0].duckdb = s.databases[1].duckdb.clone())
                .unwrap_err()
                .message
                .contains("exactly one")
        );
        assert!(
            check(|s| s.databases[1].duckdb.as_mut().unwrap().path = "/etc/passwd".into()).is_err()
        );
        let local = || serde_yaml::from_str("{name: scratch, local: {claimName: pvc}}").unwrap();
        check(|s| s.databases.push(local())).unwrap();
        let e = check(|s| {
            s.databases.push(local());
            s.replicas = 2;
        })
        .unwrap_err();
        assert!(e.message.contains("single writer"), "{e}");
        assert!(check(|s| {
            s.databases.push(
                serde_yaml::from_str("{name: scratch, local: {claimName: pvc, file: ../x}}")
                    .unwrap(),
            )
        })
        .is_err());
    }

    #[test]
    fn tls_service_and_limits() {
        assert!(check(|s| s.tls.secret_name = Some("x".into())).is_err());
        assert!(check(|s| s.tls.certificate = None).is_err());
        assert!(
            check(|s| s.service.load_balancer_source_ranges = vec!["10.0.0.0/8".into()]).is_err(),
            "needs LoadBalancer"
        );
        check(|s| {
            s.service.type_ = crate::crd::endpoint::ServiceType::LoadBalancer;
            s.service.load_balancer_source_ranges =
                vec!["10.0.0.0/8".into(), "2001:db8::/32".into()];
        })
        .unwrap();
        assert!(check(|s| {
            s.service.type_ = crate::crd::endpoint::ServiceType::LoadBalancer;
            s.service.load_balancer_source_ranges = vec!["10.0.0.0/33".into()];
        })
        .is_err());
        assert!(check(|s| s.limits.memory_limit = Some("lots".into())).is_err());
        assert_eq!(
            check(|s| s.limits.statement_timeout_ms = Some(-1))
                .unwrap_err()
                .field,
            "limits.statementTimeoutMs"
        );
        check(|s| s.limits.memory_limit = Some("1.5GB".into())).unwrap();
        assert_eq!(
            check(|s| s.limits.max_connections = Some(0))
                .unwrap_err()
                .field,
            ""
        );
    }

    #[test]
    fn maintenance_rules() {
        let m = |y: &str| Some(serde_yaml::from_str(y).unwrap());
        check(|s| s.maintenance = m("{}")).unwrap();
        check(|s| s.maintenance = m("{schedule: '@daily', retention: 15min, database: lake}"))
            .unwrap();
        assert!(
            check(|s| s.maintenance = m("{database: archive}")).is_err(),
            "not a ducklake"
        );
        assert!(check(|s| s.maintenance = m("{retention: 1week}")).is_err());
        assert!(check(|s| s.maintenance = m("{schedule: 'every day'}")).is_err());
        assert!(check(|s| {
            s.databases.remove(0);
            s.maintenance = m("{}");
        })
        .is_err());
    }

    #[test]
    fn helpers() {
        assert!(
            valid_retention("7d")
                && valid_retention("30s")
                && valid_retention("15min")
                && valid_retention("0s")
        );
        assert!(!valid_retention("d") && !valid_retention("1w") && !valid_retention("-1d"));
        assert!(
            valid_schedule("*/5 * * * *")
                && valid_schedule("0 3 * * MON-FRI")
                && !valid_schedule("* * *")
        );
        assert!(valid_cidr("0.0.0.0/0") && !valid_cidr("1.2.3.4") && !valid_cidr("x/8"));
    }
}
