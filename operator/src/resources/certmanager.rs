//! The cert-manager `Certificate` an EndpointCertificate with the `certManager` issuer asks
//! cert-manager for (as JSON: the operator does not link cert-manager's types).

use kube::api::ApiResource;
use kube::ResourceExt;
use serde_json::{json, Value};

use super::owner_reference;
use super::secret::certificate_secret_name;
use crate::certs::Sans;
use crate::crd::certificate::{CertManagerIssuer, KeyAlgorithm};
use crate::crd::EndpointCertificate;

pub fn api_resource() -> ApiResource {
    ApiResource {
        group: "cert-manager.io".into(),
        version: "v1".into(),
        api_version: "cert-manager.io/v1".into(),
        kind: "Certificate".into(),
        plural: "certificates".into(),
    }
}

pub fn certificate(cert: &EndpointCertificate, issuer: &CertManagerIssuer, sans: &Sans) -> Value {
    let (algorithm, size) = match cert.spec.private_key.algorithm {
        KeyAlgorithm::EcdsaP256 => ("ECDSA", Some(256)),
        KeyAlgorithm::EcdsaP384 => ("ECDSA", Some(384)),
        KeyAlgorithm::Ed25519 => ("Ed25519", None),
    };
    let mut private_key = json!({"algorithm": algorithm, "rotationPolicy": "Always"});
    if let Some(s) = size {
        private_key["size"] = json!(s);
    }
    let mut spec = json!({
        "secretName": certificate_secret_name(cert),
        "duration": cert.spec.duration,
        "renewBefore": cert.spec.renew_before,
        "privateKey": private_key,
        "usages": ["server auth", "digital signature", "key encipherment"],
        "issuerRef": {
            "name": issuer.issuer_ref.name,
            "kind": issuer.issuer_ref.kind,
            "group": issuer.issuer_ref.group,
        },
        "secretTemplate": {"labels": {
            super::LABEL_NAME: super::APP_NAME,
            super::LABEL_MANAGED_BY: super::MANAGED_BY,
            "duckgate.io/certificate": cert.name_any(),
        }},
    });
    if !sans.dns_names.is_empty() {
        spec["dnsNames"] = json!(sans.dns_names);
        spec["commonName"] = json!(sans.dns_names[0]);
    }
    if !sans.ip_addresses.is_empty() {
        spec["ipAddresses"] = json!(sans
            .ip_addresses
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>());
    }
    json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {
            "name": cert.name_any(),
            "namespace": cert.namespace(),
            "labels": {super::LABEL_NAME: super::APP_NAME, super::LABEL_MANAGED_BY: super::MANAGED_BY},
            "ownerReferences": [owner_reference(cert)],
        },
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_the_endpoint_certificate() {
        let mut c: EndpointCertificate = EndpointCertificate::new(
            "db-cert",
            serde_yaml::from_str(
                "{issuer: {certManager: {issuerRef: {name: letsencrypt, kind: ClusterIssuer}}}, privateKey: {algorithm: ECDSA-P384}, secretName: db-tls}",
            )
            .unwrap(),
        );
        c.metadata.namespace = Some("ns".into());
        c.metadata.uid = Some("u".into());
        let issuer = c.spec.issuer.cert_manager.clone().unwrap();
        let sans = Sans {
            dns_names: vec!["db.ns.svc".into()],
            ip_addresses: vec!["10.1.2.3".parse().unwrap()],
        };
        let v = certificate(&c, &issuer, &sans);
        assert_eq!(v["spec"]["secretName"], "db-tls");
        assert_eq!(v["spec"]["dnsNames"], json!(["db.ns.svc"]));
        assert_eq!(v["spec"]["ipAddresses"], json!(["10.1.2.3"]));
        assert_eq!(v["spec"]["duration"], "2160h");
        assert_eq!(v["spec"]["renewBefore"], "720h");
        assert_eq!(
            v["spec"]["privateKey"],
            json!({"algorithm": "ECDSA", "size": 384, "rotationPolicy": "Always"})
        );
        assert_eq!(
            v["spec"]["issuerRef"],
            json!({"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"})
        );
        assert_eq!(
            v["metadata"]["ownerReferences"][0]["kind"],
            "EndpointCertificate"
        );
    }
}
