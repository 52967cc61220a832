//! TLS Secrets: the server certificate of an EndpointCertificate, and the namespace CA the
//! operator manages for `selfSigned` certificates.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::ResourceExt;

use super::{owner_reference, APP_NAME, LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_NAME, MANAGED_BY};
use crate::certs::{CaSet, KeyedCert};
use crate::crd::EndpointCertificate;

/// The Secret holding a namespace's managed CA.
pub const CA_SECRET_NAME: &str = "duckgate-ca";
/// Annotation on a certificate Secret: the EndpointCertificate revision it holds.
pub const ANNOTATION_REVISION: &str = "duckgate.io/certificate-revision";

pub const TLS_CRT: &str = "tls.crt";
pub const TLS_KEY: &str = "tls.key";
pub const CA_CRT: &str = "ca.crt";
const NEXT_CRT: &str = "next.crt";
const NEXT_KEY: &str = "next.key";
const RETIRED_CRT: &str = "retired.crt";

/// The Secret name of an EndpointCertificate.
pub fn certificate_secret_name(cert: &EndpointCertificate) -> String {
    cert.spec
        .secret_name
        .clone()
        .unwrap_or_else(|| format!("{}-tls", cert.name_any()))
}

fn bytes(s: &str) -> ByteString {
    ByteString(s.as_bytes().to_vec())
}

/// Read a key of a Secret as UTF-8.
pub fn secret_text(secret: &Secret, key: &str) -> Option<String> {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .and_then(|b| String::from_utf8(b.0.clone()).ok())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key).cloned())
        })
}

/// The `kubernetes.io/tls` Secret of an EndpointCertificate: the server certificate, its key
/// and the CA bundle clients should trust.
pub fn tls_secret(
    cert: &EndpointCertificate,
    leaf: &KeyedCert,
    ca_bundle: &str,
    revision: i64,
) -> Secret {
    let mut labels = BTreeMap::from([
        (LABEL_NAME.to_owned(), APP_NAME.to_owned()),
        (LABEL_MANAGED_BY.to_owned(), MANAGED_BY.to_owned()),
        (LABEL_COMPONENT.to_owned(), "certificate".to_owned()),
    ]);
    labels.insert("duckgate.io/certificate".into(), cert.name_any());
    Secret {
        metadata: ObjectMeta {
            name: Some(certificate_secret_name(cert)),
            namespace: cert.namespace(),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(
                ANNOTATION_REVISION.to_owned(),
                revision.to_string(),
            )])),
            owner_references: Some(vec![owner_reference(cert)]),
            ..Default::default()
        },
        type_: Some("kubernetes.io/tls".into()),
        data: Some(BTreeMap::from([
            (TLS_CRT.to_owned(), bytes(&leaf.cert_pem)),
            (TLS_KEY.to_owned(), bytes(&leaf.key_pem)),
            (CA_CRT.to_owned(), bytes(ca_bundle)),
        ])),
        ..Default::default()
    }
}

/// The namespace CA Secret. It has no owner: it outlives any one certificate.
pub fn ca_secret(namespace: &str, set: &CaSet) -> Secret {
    let active = set
        .active
        .as_ref()
        .expect("a planned CA set has an active CA");
    let mut data = BTreeMap::from([
        (TLS_CRT.to_owned(), bytes(&active.cert_pem)),
        (TLS_KEY.to_owned(), bytes(&active.key_pem)),
        (CA_CRT.to_owned(), bytes(&set.bundle())),
    ]);
    if let Some(n) = &set.next {
        data.insert(NEXT_CRT.into(), bytes(&n.cert_pem));
        data.insert(NEXT_KEY.into(), bytes(&n.key_pem));
    }
    if !set.retired.is_empty() {
        data.insert(RETIRED_CRT.into(), bytes(&set.retired.concat()));
    }
    Secret {
        metadata: ObjectMeta {
            name: Some(CA_SECRET_NAME.into()),
            namespace: Some(namespace.into()),
            labels: Some(BTreeMap::from([
                (LABEL_NAME.to_owned(), APP_NAME.to_owned()),
                (LABEL_MANAGED_BY.to_owned(), MANAGED_BY.to_owned()),
                (LABEL_COMPONENT.to_owned(), "ca".to_owned()),
            ])),
            ..Default::default()
        },
        type_: Some("kubernetes.io/tls".into()),
        data: Some(data),
        ..Default::default()
    }
}

/// Read a CA set back from its Secret.
pub fn ca_set_from_secret(secret: &Secret) -> CaSet {
    let pair = |c: &str, k: &str| match (secret_text(secret, c), secret_text(secret, k)) {
        (Some(cert_pem), Some(key_pem)) => Some(KeyedCert { cert_pem, key_pem }),
        _ => None,
    };
    CaSet {
        active: pair(TLS_CRT, TLS_KEY),
        next: pair(NEXT_CRT, NEXT_KEY),
        retired: secret_text(secret, RETIRED_CRT)
            .map(|t| crate::certs::split_bundle(&t))
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::{new_ca, CaPolicy};
    use k8s_openapi::jiff::Timestamp;
    use std::time::Duration;

    fn cert() -> EndpointCertificate {
        let mut c = EndpointCertificate::new("db-cert", serde_yaml::from_str("{}").unwrap());
        c.metadata.namespace = Some("ns".into());
        c.metadata.uid = Some("u1".into());
        c
    }

    #[test]
    fn tls_secret_has_the_three_keys_and_an_owner() {
        let leaf = KeyedCert {
            cert_pem: "C".into(),
            key_pem: "K".into(),
        };
        let s = tls_secret(&cert(), &leaf, "CA", 4);
        assert_eq!(s.metadata.name.as_deref(), Some("db-cert-tls"));
        assert_eq!(s.type_.as_deref(), Some("kubernetes.io/tls"));
        assert_eq!(secret_text(&s, "tls.crt").unwrap(), "C");
        assert_eq!(secret_text(&s, "tls.key").unwrap(), "K");
        assert_eq!(secret_text(&s, "ca.crt").unwrap(), "CA");
        assert_eq!(s.metadata.annotations.unwrap()[ANNOTATION_REVISION], "4");
        assert_eq!(
            s.metadata.owner_references.unwrap()[0].kind,
            "EndpointCertificate"
        );
        let mut named = cert();
        named.spec.secret_name = Some("custom".into());
        assert_eq!(certificate_secret_name(&named), "custom");
    }

    #[test]
    fn ca_secret_round_trips_through_rotation_states() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let day = Duration::from_secs(86_400);
        let a = new_ca("a", now, day).unwrap();
        let b = new_ca("b", now, day).unwrap();
        let c = new_ca("c", now, day).unwrap();
        let set = CaSet {
            active: Some(a),
            next: Some(b),
            retired: vec![c.cert_pem.clone()],
        };
        let s = ca_secret("ns", &set);
        assert_eq!(s.metadata.owner_references, None);
        assert_eq!(ca_set_from_secret(&s), set);
        assert_eq!(
            crate::certs::split_bundle(&secret_text(&s, "ca.crt").unwrap()).len(),
            3
        );
        let _ = CaPolicy::for_validity(day);
    }
}
