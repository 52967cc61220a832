//! Status computed from what the API server returned. Pure: the reconcilers pass the objects in.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use crate::crd::conditions::{self, Cond, DEGRADED, PROGRESSING, READY};
use crate::crd::endpoint::{PostgresEndpoint, PostgresEndpointStatus, ServiceType};
use crate::resources::{selector_labels, selector_string};

/// The current time with whole seconds, as the API server stores it.
pub fn now() -> Time {
    let t = Timestamp::now();
    Time(Timestamp::from_second(t.as_second()).expect("now is in range"))
}

/// What the reconciler learned besides the Deployment and Service.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub tls_secret_name: Option<String>,
    pub certificate_not_after: Option<Timestamp>,
}

/// Host clients reach: the load balancer's address when there is one, else the Service's
/// cluster DNS name.
pub fn host(ep: &PostgresEndpoint, service: Option<&Service>) -> String {
    let ns = ep.namespace().unwrap_or_default();
    if ep.spec.service.type_ == ServiceType::LoadBalancer {
        let ingress = service
            .and_then(|s| s.status.as_ref())
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref())
            .and_then(|i| i.first());
        if let Some(i) = ingress {
            if let Some(h) = i.hostname.clone().or_else(|| i.ip.clone()) {
                return h;
            }
        }
    }
    format!("{}.{}.svc", ep.name_any(), ns)
}

/// `postgresql://host:port/db?sslmode=verify-full`, without user or token.
pub fn connection_uri(ep: &PostgresEndpoint, host: &str) -> String {
    let db = ep
        .spec
        .databases
        .iter()
        .find(|d| d.default)
        .or_else(|| ep.spec.databases.first())
        .map(|d| d.name.clone())
        // `md:` selects the default database; percent-encoded in a URI path
        .unwrap_or_else(|| "md%3A".into());
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    format!(
        "postgresql://{host}:{}/{db}?sslmode=verify-full",
        ep.spec.service.port
    )
}

/// Progress of a Deployment as (desired, existing, updated, ready, available, rollout done,
/// deadline exceeded).
struct Rollout {
    desired: i32,
    replicas: i32,
    ready: i32,
    available: i32,
    done: bool,
    deadline_exceeded: bool,
}

fn rollout(d: &Deployment) -> Rollout {
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = d.status.clone().unwrap_or_default();
    let replicas = st.replicas.unwrap_or(0);
    let updated = st.updated_replicas.unwrap_or(0);
    let ready = st.ready_replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    let observed = st.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0);
    let done = observed && updated >= desired && replicas <= updated && available >= desired;
    let deadline_exceeded = st.conditions.unwrap_or_default().iter().any(|c| {
        c.type_ == "Progressing"
            && c.status == "False"
            && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    });
    Rollout {
        desired,
        replicas,
        ready,
        available,
        done,
        deadline_exceeded,
    }
}

/// The conditions of a reconcile that applied everything.
pub fn applied_conditions(d: &Deployment) -> Vec<Cond> {
    let r = rollout(d);
    let ready = if r.desired == 0 {
        Cond::new(READY, false, "ScaledToZero", "the endpoint has 0 replicas")
    } else if r.available > 0 {
        Cond::new(
            READY,
            true,
            "Available",
            format!("{} of {} gateway pods ready", r.ready, r.desired),
        )
    } else {
        Cond::new(
            READY,
            false,
            "NoPodsReady",
            format!("0 of {} gateway pods ready", r.desired),
        )
    };
    let progressing = if r.done {
        Cond::new(
            PROGRESSING,
            false,
            "RolloutComplete",
            "every gateway pod runs the current spec",
        )
    } else {
        Cond::new(
            PROGRESSING,
            true,
            "RollingOut",
            format!(
                "{} of {} gateway pods available with the current spec",
                r.available.min(r.desired),
                r.desired
            ),
        )
    };
    let degraded = if r.deadline_exceeded {
        Cond::new(
            DEGRADED,
            true,
            "ProgressDeadlineExceeded",
            format!("the Deployment {} stopped making progress", d.name_any()),
        )
    } else {
        Cond::new(DEGRADED, false, "AsExpected", "")
    };
    vec![ready, progressing, degraded]
}

/// Conditions when a reconcile stopped at an error: `Degraded` (or `Progressing` for a wait)
/// with its reason; `Ready` keeps what the previous status said, since running pods keep serving.
pub fn error_conditions(
    previous: &[Condition],
    reason: &str,
    message: &str,
    wait: bool,
) -> Vec<Cond> {
    let ready = match conditions::find(previous, READY) {
        Some(c) if c.status == "True" => Cond::new(READY, true, &c.reason, c.message.clone()),
        _ => Cond::new(READY, false, reason, message),
    };
    if wait {
        vec![
            ready,
            Cond::new(PROGRESSING, true, reason, message),
            Cond::new(DEGRADED, false, "AsExpected", ""),
        ]
    } else {
        vec![
            ready,
            Cond::new(PROGRESSING, false, reason, message),
            Cond::new(DEGRADED, true, reason, message),
        ]
    }
}

/// Conditions of a paused endpoint.
pub fn paused_conditions(previous: &[Condition]) -> Vec<Cond> {
    let carry = |t: &'static str, default_reason: &str| match conditions::find(previous, t) {
        Some(c) => Cond::new(t, c.status == "True", &c.reason, c.message.clone()),
        None => Cond::new(t, false, default_reason, ""),
    };
    vec![
        carry(READY, "Paused"),
        Cond::new(
            PROGRESSING,
            false,
            "Paused",
            "spec.paused is set: the operator changes nothing",
        ),
        carry(DEGRADED, "Paused"),
    ]
}

/// The full status after a reconcile. `deployment`/`service` are what the API server returned
/// (absent when the reconcile stopped before applying them).
pub fn endpoint_status(
    ep: &PostgresEndpoint,
    deployment: Option<&Deployment>,
    service: Option<&Service>,
    observed: &Observed,
    computed: &[Cond],
    now: &Time,
) -> PostgresEndpointStatus {
    let previous = ep.status.clone().unwrap_or_default();
    let mut s = PostgresEndpointStatus {
        observed_generation: ep.metadata.generation,
        conditions: conditions::merge(&previous.conditions, computed, ep.metadata.generation, now),
        selector: Some(selector_string(&selector_labels(&ep.name_any()))),
        ..Default::default()
    };
    if let Some(d) = deployment {
        let r = rollout(d);
        s.replicas = Some(r.replicas);
        s.ready_replicas = Some(r.ready);
        s.desired_replicas = Some(r.desired);
    } else {
        s.replicas = previous.replicas;
        s.ready_replicas = previous.ready_replicas;
        s.desired_replicas = previous.desired_replicas;
    }
    if deployment.is_some() || service.is_some() {
        let h = host(ep, service);
        s.connection_uri = Some(connection_uri(ep, &h));
        s.host = Some(h);
        s.port = Some(ep.spec.service.port);
    } else {
        s.host = previous.host;
        s.port = previous.port;
        s.connection_uri = previous.connection_uri;
    }
    s.tls_secret_name = observed.tls_secret_name.clone();
    s.certificate_not_after = observed.certificate_not_after.map(Time);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::testing;
    use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentSpec, DeploymentStatus};
    use k8s_openapi::api::core::v1::{LoadBalancerIngress, LoadBalancerStatus, ServiceStatus};

    fn deploy(
        gen: i64,
        observed: i64,
        desired: i32,
        replicas: i32,
        updated: i32,
        available: i32,
    ) -> Deployment {
        Deployment {
            metadata: kube::api::ObjectMeta {
                name: Some("db".into()),
                generation: Some(gen),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(desired),
                ..Default::default()
            }),
            status: Some(DeploymentStatus {
                observed_generation: Some(observed),
                replicas: Some(replicas),
                updated_replicas: Some(updated),
                ready_replicas: Some(available),
                available_replicas: Some(available),
                ..Default::default()
            }),
        }
    }

    fn t(s: i64) -> Time {
        Time(Timestamp::from_second(s).unwrap())
    }

    #[test]
    fn ready_and_rolled_out() {
        let ep = testing::endpoint(testing::spec());
        let d = deploy(2, 2, 2, 2, 2, 2);
        let c = applied_conditions(&d);
        assert_eq!(
            (c[0].type_, c[0].status, c[0].reason.as_str()),
            (READY, true, "Available")
        );
        assert_eq!((c[1].type_, c[1].status), (PROGRESSING, false));
        assert_eq!((c[2].type_, c[2].status), (DEGRADED, false));
        let s = endpoint_status(&ep, Some(&d), None, &Observed::default(), &c, &t(5));
        assert_eq!(s.observed_generation, Some(3));
        assert_eq!(
            (s.replicas, s.ready_replicas, s.desired_replicas),
            (Some(2), Some(2), Some(2))
        );
        assert_eq!(s.host.as_deref(), Some("db.analytics.svc"));
        assert_eq!(s.port, Some(5432));
        assert_eq!(
            s.connection_uri.as_deref(),
            Some("postgresql://db.analytics.svc:5432/lake?sslmode=verify-full")
        );
        assert_eq!(
            s.selector.as_deref(),
            Some("app.kubernetes.io/component=gateway,app.kubernetes.io/instance=db,app.kubernetes.io/name=duckgate")
        );
    }

    #[test]
    fn rolling_out_while_old_pods_remain_or_generation_unobserved() {
        for d in [
            deploy(3, 2, 2, 2, 2, 2),
            deploy(3, 3, 2, 3, 1, 2),
            deploy(3, 3, 2, 2, 2, 1),
        ] {
            let c = applied_conditions(&d);
            assert!(c[1].status, "{d:?}");
            assert_eq!(c[1].reason, "RollingOut");
        }
        let none_ready = applied_conditions(&deploy(1, 1, 1, 1, 1, 0));
        assert_eq!(
            (none_ready[0].status, none_ready[0].reason.as_str()),
            (false, "NoPodsReady")
        );
        let zero = applied_conditions(&deploy(1, 1, 0, 0, 0, 0));
        assert_eq!(zero[0].reason, "ScaledToZero");
        assert!(!zero[1].status, "scaled to zero is a finished rollout");
    }

    #[test]
    fn a_stuck_rollout_is_degraded() {
        let mut d = deploy(1, 1, 1, 1, 1, 0);
        d.status.as_mut().unwrap().conditions = Some(vec![DeploymentCondition {
            type_: "Progressing".into(),
            status: "False".into(),
            reason: Some("ProgressDeadlineExceeded".into()),
            ..Default::default()
        }]);
        let c = applied_conditions(&d);
        assert_eq!(
            (c[2].status, c[2].reason.as_str()),
            (true, "ProgressDeadlineExceeded")
        );
    }

    #[test]
    fn load_balancer_address_is_the_host() {
        let mut spec = testing::spec();
        spec.service.type_ = ServiceType::LoadBalancer;
        let ep = testing::endpoint(spec);
        let mut svc = Service::default();
        assert_eq!(
            host(&ep, Some(&svc)),
            "db.analytics.svc",
            "not assigned yet"
        );
        svc.status = Some(ServiceStatus {
            load_balancer: Some(LoadBalancerStatus {
                ingress: Some(vec![LoadBalancerIngress {
                    ip: Some("2001:db8::5".into()),
                    ..Default::default()
                }]),
            }),
            ..Default::default()
        });
        assert_eq!(host(&ep, Some(&svc)), "2001:db8::5");
        assert_eq!(
            connection_uri(&ep, "2001:db8::5"),
            "postgresql://[2001:db8::5]:5432/lake?sslmode=verify-full"
        );
    }

    #[test]
    fn without_databases_the_uri_asks_for_the_default() {
        let mut spec = testing::spec();
        spec.databases.clear();
        assert_eq!(
            connection_uri(&testing::endpoint(spec), "h"),
            "postgresql://h:5432/md%3A?sslmode=verify-full"
        );
    }

    #[test]
    fn errors_keep_ready_pods_ready_and_mark_degraded() {
        let prev = conditions::merge(
            &[],
            &[Cond::new(READY, true, "Available", "1 of 1")],
            Some(1),
            &t(1),
        );
        let c = error_conditions(&prev, "SecretNotFound", "Secret \"x\" not found", false);
        assert_eq!((c[0].status, c[0].reason.as_str()), (true, "Available"));
        assert_eq!(
            (c[2].status, c[2].reason.as_str()),
            (true, "SecretNotFound")
        );
        let fresh = error_conditions(&[], "InvalidSpec", "bad", false);
        assert_eq!(
            (fresh[0].status, fresh[0].reason.as_str()),
            (false, "InvalidSpec")
        );
        let wait = error_conditions(&[], "CertificateNotReady", "soon", true);
        assert_eq!((wait[1].status, wait[2].status), (true, false));
    }

    #[test]
    fn status_is_a_fixed_point_when_nothing_changed() {
        let mut ep = testing::endpoint(testing::spec());
        let d = deploy(1, 1, 1, 1, 1, 1);
        let c = applied_conditions(&d);
        let first = endpoint_status(&ep, Some(&d), None, &Observed::default(), &c, &t(10));
        ep.status = Some(first.clone());
        let second = endpoint_status(&ep, Some(&d), None, &Observed::default(), &c, &t(20));
        assert_eq!(first, second);
    }

    #[test]
    fn paused_keeps_ready_and_says_paused() {
        let prev = conditions::merge(
            &[],
            &[Cond::new(READY, true, "Available", "ok")],
            Some(1),
            &t(1),
        );
        let c = paused_conditions(&prev);
        assert_eq!((c[0].status, c[0].reason.as_str()), (true, "Available"));
        assert_eq!(c[1].reason, "Paused");
    }
}
