//! The HorizontalPodAutoscaler (autoscaling/v2), when the spec asks for autoscaling.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec,
    MetricIdentifier, MetricSpec, MetricTarget, PodsMetricSource, ResourceMetricSource,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::ResourceExt;

use super::{child_meta, names};
use crate::crd::endpoint::PostgresEndpoint;

/// The pod metric a metrics adapter serves from the gateway's Prometheus endpoint.
pub const CONNECTIONS_METRIC: &str = "duckgate_active_connections";

pub fn hpa(ep: &PostgresEndpoint) -> Option<HorizontalPodAutoscaler> {
    let a = ep.spec.autoscaling.as_ref()?;
    let name = ep.name_any();
    let mut metrics = Vec::new();
    if let Some(cpu) = a.target_cpu_utilization_percentage {
        metrics.push(MetricSpec {
            type_: "Resource".into(),
            resource: Some(ResourceMetricSource {
                name: "cpu".into(),
                target: MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(cpu),
                    ..Default::default()
                },
            }),
            ..Default::default()
        });
    }
    if let Some(conns) = a.target_active_connections_per_pod {
        metrics.push(MetricSpec {
            type_: "Pods".into(),
            pods: Some(PodsMetricSource {
                metric: MetricIdentifier {
                    name: CONNECTIONS_METRIC.into(),
                    selector: None,
                },
                target: MetricTarget {
                    type_: "AverageValue".into(),
                    average_value: Some(Quantity(conns.to_string())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        });
    }
    Some(HorizontalPodAutoscaler {
        metadata: child_meta(ep, names::hpa(&name)),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: names::deployment(&name),
            },
            min_replicas: Some(a.min_replicas),
            max_replicas: a.max_replicas,
            metrics: Some(metrics),
            behavior: None,
        }),
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::testing;

    #[test]
    fn no_autoscaling_no_hpa() {
        assert!(hpa(&testing::endpoint(testing::spec())).is_none());
    }

    #[test]
    fn cpu_and_connection_targets() {
        let mut spec = testing::spec();
        spec.autoscaling = Some(
            serde_yaml::from_str(
                "{minReplicas: 2, maxReplicas: 8, targetCPUUtilizationPercentage: 75, targetActiveConnectionsPerPod: 200}",
            )
            .unwrap(),
        );
        let h = hpa(&testing::endpoint(spec)).unwrap();
        let s = h.spec.unwrap();
        assert_eq!(s.scale_target_ref.kind, "Deployment");
        assert_eq!(s.scale_target_ref.name, "db");
        assert_eq!((s.min_replicas, s.max_replicas), (Some(2), 8));
        let m = s.metrics.unwrap();
        assert_eq!(
            m[0].resource.as_ref().unwrap().target.average_utilization,
            Some(75)
        );
        let pods = m[1].pods.as_ref().unwrap();
        assert_eq!(pods.metric.name, "duckgate_active_connections");
        assert_eq!(pods.target.average_value, Some(Quantity("200".into())));
    }
}
