//! Pure builders: an endpoint's spec (plus what the reconciler read from the cluster) in, the
//! Kubernetes objects it should have out. One file per object; no I/O anywhere here.

pub mod certmanager;
pub mod configmap;
pub mod cronjob;
pub mod deployment;
pub mod hpa;
pub mod pdb;
pub mod pod;
pub mod secret;
pub mod service;
pub mod serviceaccount;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::{Resource, ResourceExt};
use sha2::{Digest, Sha256};

use crate::crd::PostgresEndpoint;

/// The field manager of every server-side apply the operator makes.
pub const FIELD_MANAGER: &str = "duckgate-operator";

pub const LABEL_NAME: &str = "app.kubernetes.io/name";
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
pub const LABEL_COMPONENT: &str = "app.kubernetes.io/component";
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const APP_NAME: &str = "duckgate";
pub const MANAGED_BY: &str = "duckgate-operator";

/// Pod template annotation: hash of the rendered gateway config (a change rolls the pods).
pub const ANNOTATION_CONFIG_HASH: &str = "duckgate.io/config-hash";
/// Pod template annotation: hash of the database credentials, which the gateway reads only at
/// start-up (a change rolls the pods).
pub const ANNOTATION_CREDENTIALS_HASH: &str = "duckgate.io/credentials-hash";
/// Deployment annotation (not on the pod template): hash of the token file. The gateway
/// re-reads tokens and certificates while running, so these never roll pods.
pub const ANNOTATION_TOKENS_HASH: &str = "duckgate.io/tokens-hash";

/// Settings of the operator process that builders need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSettings {
    /// Gateway image when the spec names none.
    pub gateway_image: String,
    /// The cluster's DNS domain (`cluster.local`).
    pub cluster_domain: String,
}

impl Default for OperatorSettings {
    fn default() -> Self {
        OperatorSettings {
            gateway_image: format!("duckgate/duckgate-gateway:{}", env!("CARGO_PKG_VERSION")),
            cluster_domain: "cluster.local".into(),
        }
    }
}

/// What the reconciler resolved from references, as the builders need it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolved {
    /// The `kubernetes.io/tls` Secret the pods mount.
    pub tls_secret_name: String,
    /// Whether that Secret has a `ca.crt`.
    pub tls_has_ca: bool,
    /// Hash of every database credential value (see [`hash_values`]).
    pub credentials_hash: String,
    /// Hash of the token file.
    pub tokens_hash: String,
}

/// Every label the operator puts on an endpoint's objects.
pub fn labels(endpoint: &str) -> BTreeMap<String, String> {
    let mut l = selector_labels(endpoint);
    l.insert(LABEL_MANAGED_BY.into(), MANAGED_BY.into());
    l
}

/// The labels that select an endpoint's gateway pods.
pub fn selector_labels(endpoint: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_NAME.to_owned(), APP_NAME.to_owned()),
        (LABEL_INSTANCE.to_owned(), endpoint.to_owned()),
        (LABEL_COMPONENT.to_owned(), "gateway".to_owned()),
    ])
}

/// `key=value,...` for a label selector string.
pub fn selector_string(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The owner reference that makes an object garbage-collected with its endpoint.
pub fn owner_reference<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    owner
        .controller_owner_ref(&())
        .expect("an object read from the API server has a name and uid")
}

/// Metadata of a child object: name, namespace, labels, owner.
pub fn child_meta(ep: &PostgresEndpoint, name: String) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: ep.namespace(),
        labels: Some(labels(&ep.name_any())),
        owner_references: Some(vec![owner_reference(ep)]),
        ..Default::default()
    }
}

/// Names of an endpoint's children.
pub mod names {
    pub fn deployment(ep: &str) -> String {
        ep.to_owned()
    }
    pub fn service(ep: &str) -> String {
        ep.to_owned()
    }
    pub fn config_map(ep: &str) -> String {
        format!("{ep}-config")
    }
    pub fn service_account(ep: &str) -> String {
        ep.to_owned()
    }
    pub fn hpa(ep: &str) -> String {
        ep.to_owned()
    }
    pub fn pdb(ep: &str) -> String {
        ep.to_owned()
    }
    pub fn cronjob(ep: &str) -> String {
        format!("{ep}-maintenance")
    }
}

/// A short hex SHA-256 of some bytes.
pub fn short_hash(bytes: &[u8]) -> String {
    crate::certs::hex(&Sha256::digest(bytes))[..16].to_owned()
}

/// A hash of named values, independent of their order.
pub fn hash_values<'a>(values: impl IntoIterator<Item = (String, &'a [u8])>) -> String {
    let mut sorted: Vec<(String, &[u8])> = values.into_iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    for (k, v) in sorted {
        h.update((k.len() as u64).to_be_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_be_bytes());
        h.update(v);
    }
    crate::certs::hex(&h.finalize())[..16].to_owned()
}

#[cfg(test)]
pub(crate) mod testing {
    //! A complete endpoint for the builder tests.
    use super::*;
    use crate::crd::endpoint::*;

    pub fn spec() -> PostgresEndpointSpec {
        serde_yaml::from_str(
            r#"
auth:
  tokenSecret: {name: tokens}
tls:
  certificate: db-cert
databases:
- name: lake
  default: true
  ducklake:
    catalog:
      host: pg.data.svc
      database: lake_catalog
      user: lake_rw
      passwordSecretRef: {name: catalog, key: password}
    dataPath: s3://analytics/lake/
    s3:
      endpoint: minio.storage:9000
      urlStyle: path
      useSsl: false
      accessKeyIdSecretRef: {name: s3, key: id}
      secretAccessKeySecretRef: {name: s3, key: secret}
- name: archive
  duckdb:
    path: s3://analytics/archive.duckdb
    s3:
      accessKeyIdSecretRef: {name: s3, key: id}
      secretAccessKeySecretRef: {name: s3, key: secret}
"#,
        )
        .unwrap()
    }

    pub fn endpoint(spec: PostgresEndpointSpec) -> PostgresEndpoint {
        let mut ep = PostgresEndpoint::new("db", spec);
        ep.metadata.namespace = Some("analytics".into());
        ep.metadata.uid = Some("0000-1111".into());
        ep.metadata.generation = Some(3);
        ep
    }

    pub fn resolved() -> Resolved {
        Resolved {
            tls_secret_name: "db-cert-tls".into(),
            tls_has_ca: true,
            credentials_hash: "c0ffee".into(),
            tokens_hash: "7070".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_ignore_order_but_not_content() {
        let a = hash_values([("x".into(), &b"1"[..]), ("y".into(), &b"2"[..])]);
        let b = hash_values([("y".into(), &b"2"[..]), ("x".into(), &b"1"[..])]);
        let c = hash_values([("x".into(), &b"1"[..]), ("y".into(), &b"3"[..])]);
        // a value moving between keys changes the hash too
        let d = hash_values([("x".into(), &b"12"[..]), ("y".into(), &b""[..])]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn children_are_owned_and_labelled() {
        let ep = testing::endpoint(testing::spec());
        let meta = child_meta(&ep, "db".into());
        let owner = &meta.owner_references.unwrap()[0];
        assert_eq!(owner.kind, "PostgresEndpoint");
        assert_eq!(owner.api_version, "duckgate.io/v1alpha1");
        assert_eq!(owner.uid, "0000-1111");
        assert_eq!(owner.controller, Some(true));
        let l = meta.labels.unwrap();
        assert_eq!(l[LABEL_MANAGED_BY], "duckgate-operator");
        assert_eq!(l[LABEL_INSTANCE], "db");
        assert_eq!(selector_string(&selector_labels("db")), "app.kubernetes.io/component=gateway,app.kubernetes.io/instance=db,app.kubernetes.io/name=duckgate");
    }
}
