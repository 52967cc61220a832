//! The Service clients connect through.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;

use super::{child_meta, names, selector_labels};
use crate::crd::endpoint::{PostgresEndpoint, ServiceType};

pub fn service(ep: &PostgresEndpoint) -> Service {
    let name = ep.name_any();
    let s = &ep.spec.service;
    let mut meta = child_meta(ep, names::service(&name));
    if !s.annotations.is_empty() {
        meta.annotations = Some(s.annotations.clone());
    }
    let lb = s.type_ == ServiceType::LoadBalancer;
    Service {
        metadata: meta,
        spec: Some(ServiceSpec {
            type_: Some(s.type_.as_str().into()),
            selector: Some(selector_labels(&name)),
            ports: Some(vec![ServicePort {
                name: Some("postgres".into()),
                port: s.port,
                target_port: Some(IntOrString::String("postgres".into())),
                protocol: Some("TCP".into()),
                app_protocol: Some("postgresql".into()),
                ..Default::default()
            }]),
            load_balancer_source_ranges: (lb && !s.load_balancer_source_ranges.is_empty())
                .then(|| s.load_balancer_source_ranges.clone()),
            // Long-lived sessions: keep a client on its pod.
            session_affinity: Some("None".into()),
            ..Default::default()
        }),
        status: None,
    }
}

/// The Service's DNS names inside the cluster, most specific last.
pub fn cluster_dns_names(service: &str, namespace: &str, cluster_domain: &str) -> Vec<String> {
    vec![
        service.to_owned(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.{cluster_domain}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::testing;

    #[test]
    fn default_service_is_cluster_ip_on_5432() {
        let s = service(&testing::endpoint(testing::spec()));
        assert_eq!(s.metadata.name.as_deref(), Some("db"));
        let spec = s.spec.unwrap();
        assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
        let p = &spec.ports.as_ref().unwrap()[0];
        assert_eq!(p.port, 5432);
        assert_eq!(p.target_port, Some(IntOrString::String("postgres".into())));
        assert_eq!(spec.selector.unwrap()["app.kubernetes.io/instance"], "db");
        assert_eq!(spec.load_balancer_source_ranges, None);
        assert_eq!(s.metadata.annotations, None);
    }

    #[test]
    fn load_balancer_gets_annotations_and_source_ranges() {
        let mut spec = testing::spec();
        spec.service = serde_yaml::from_str(
            "{type: LoadBalancer, port: 6432, annotations: {lb.example/internal: 'true'}, loadBalancerSourceRanges: [10.0.0.0/8]}",
        )
        .unwrap();
        let s = service(&testing::endpoint(spec));
        assert_eq!(
            s.metadata.annotations.unwrap()["lb.example/internal"],
            "true"
        );
        let spec = s.spec.unwrap();
        assert_eq!(spec.type_.as_deref(), Some("LoadBalancer"));
        assert_eq!(spec.ports.unwrap()[0].port, 6432);
        assert_eq!(
            spec.load_balancer_source_ranges.unwrap(),
            vec!["10.0.0.0/8"]
        );
    }

    #[test]
    fn dns_names() {
        assert_eq!(
            cluster_dns_names("db", "ns", "cluster.local"),
            vec!["db", "db.ns", "db.ns.svc", "db.ns.svc.cluster.local"]
        );
    }
}
