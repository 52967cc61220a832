//! The gateway's ServiceAccount (its identity for cloud workload identity; the gateway itself
//! never calls the Kubernetes API, so no token is mounted).

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::ResourceExt;

use super::{child_meta, names};
use crate::crd::endpoint::PostgresEndpoint;

pub fn service_account(ep: &PostgresEndpoint) -> ServiceAccount {
    let mut meta = child_meta(ep, names::service_account(&ep.name_any()));
    if !ep.spec.service_account_annotations.is_empty() {
        meta.annotations = Some(ep.spec.service_account_annotations.clone());
    }
    ServiceAccount {
        metadata: meta,
        automount_service_account_token: Some(false),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::testing;

    #[test]
    fn no_token_and_annotations_pass_through() {
        let mut spec = testing::spec();
        spec.service_account_annotations
            .insert("iam.example/role".into(), "arn:x".into());
        let sa = service_account(&testing::endpoint(spec));
        assert_eq!(sa.metadata.name.as_deref(), Some("db"));
        assert_eq!(sa.automount_service_account_token, Some(false));
        assert_eq!(
            sa.metadata.annotations.unwrap()["iam.example/role"],
            "arn:x"
        );
    }
}
