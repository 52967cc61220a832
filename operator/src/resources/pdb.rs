//! The PodDisruptionBudget: voluntary evictions take one gateway pod at a time.

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;

use super::{child_meta, names, selector_labels};
use crate::crd::endpoint::PostgresEndpoint;

pub fn pdb(ep: &PostgresEndpoint) -> PodDisruptionBudget {
    let name = ep.name_any();
    PodDisruptionBudget {
        metadata: child_meta(ep, names::pdb(&name)),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(selector_labels(&name)),
                match_expressions: None,
            }),
            // a pod that never became ready may always be evicted
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".into()),
            ..Default::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::testing;

    #[test]
    fn one_pod_at_a_time() {
        let p = pdb(&testing::endpoint(testing::spec()));
        let s = p.spec.unwrap();
        assert_eq!(s.max_unavailable, Some(IntOrString::Int(1)));
        assert_eq!(s.min_available, None);
        assert_eq!(
            s.selector.unwrap().match_labels.unwrap()["app.kubernetes.io/instance"],
            "db"
        );
    }
}
