//! Prometheus metrics of the operator, served on the admin listener's `/metrics`.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabels {
    pub controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub controller: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CertificateLabels {
    pub namespace: String,
    pub name: String,
}

fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

pub struct Metrics {
    registry: Mutex<Registry>,
    reconciles: Family<ControllerLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    duration: Family<ControllerLabels, Histogram, fn() -> Histogram>,
    certificate_not_after: Family<CertificateLabels, Gauge>,
    leader: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("duckgate_operator");
        let reconciles = Family::<ControllerLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let duration =
            Family::<ControllerLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram as fn() -> Histogram,
            );
        let certificate_not_after = Family::<CertificateLabels, Gauge>::default();
        let leader = Gauge::default();
        registry.register(
            "reconciles",
            "Reconciles run, by controller",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Reconciles that failed or found a problem, by controller and condition reason",
            errors.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Time one reconcile took, by controller",
            duration.clone(),
        );
        registry.register(
            "certificate_not_after_seconds",
            "Expiry (Unix time) of each EndpointCertificate's current certificate",
            certificate_not_after.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the leader lease and reconciles",
            leader.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            reconciles,
            errors,
            duration,
            certificate_not_after,
            leader,
        }
    }

    pub fn reconciled(&self, controller: &str, took: Duration) {
        let l = ControllerLabels {
            controller: controller.into(),
        };
        self.reconciles.get_or_create(&l).inc();
        self.duration.get_or_create(&l).observe(took.as_secs_f64());
    }

    pub fn error(&self, controller: &str, reason: &str) {
        self.errors
            .get_or_create(&ErrorLabels {
                controller: controller.into(),
                reason: reason.into(),
            })
            .inc();
    }

    pub fn certificate_not_after(&self, namespace: &str, name: &str, unix_seconds: Option<i64>) {
        let l = CertificateLabels {
            namespace: namespace.into(),
            name: name.into(),
        };
        match unix_seconds {
            Some(s) => {
                self.certificate_not_after.get_or_create(&l).set(s);
            }
            None => {
                self.certificate_not_after.remove(&l);
            }
        }
    }

    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry.lock().unwrap())
            .expect("writing to a String");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_every_metric() {
        let m = Metrics::new();
        m.reconciled("endpoint", Duration::from_millis(20));
        m.error("endpoint", "SecretNotFound");
        m.certificate_not_after("ns", "c", Some(1_900_000_000));
        m.set_leader(true);
        let text = m.encode();
        for needle in [
            "duckgate_operator_reconciles_total{controller=\"endpoint\"} 1",
            "duckgate_operator_reconcile_errors_total{controller=\"endpoint\",reason=\"SecretNotFound\"} 1",
            "duckgate_operator_reconcile_duration_seconds_count{controller=\"endpoint\"} 1",
            "duckgate_operator_certificate_not_after_seconds{namespace=\"ns\",name=\"c\"} 1900000000",
            "duckgate_operator_leader 1",
        ] {
            assert!(text.contains(needle), "{needle} missing in\n{text}");
        }
        m.certificate_not_after("ns", "c", None);
        assert!(!m.encode().contains("name=\"c\""));
    }
}
