//! `EndpointCertificate`: a server certificate for PostgresEndpoints, issued and renewed by the
//! operator (or by cert-manager) into a `kubernetes.io/tls` Secret.

// kube's repeated `printcolumn(...)` entries look like duplicated attributes to clippy.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A server certificate kept in a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, `ca.crt`)
/// and renewed before it expires.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[kube(
    group = "duckgate.io",
    version = "v1alpha1",
    kind = "EndpointCertificate",
    namespaced,
    shortname = "epcert",
    category = "duckgate",
    status = "EndpointCertificateStatus",
    derive = "PartialEq",
    doc = "A server certificate for duckgate endpoints, issued and renewed into a TLS Secret.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status",
        description = "Whether the Secret holds a valid certificate"
    ),
    printcolumn(
        name = "Secret",
        type_ = "string",
        json_path = ".status.secretName",
        description = "The TLS Secret"
    ),
    printcolumn(
        name = "NotAfter",
        type_ = "string",
        json_path = ".status.notAfter",
        description = "Expiry of the current certificate"
    ),
    printcolumn(
        name = "RenewalTime",
        type_ = "string",
        json_path = ".status.renewalTime",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[x_kube(validation = Rule::new("duration(self.renewBefore) < duration(self.duration)").message("renewBefore must be shorter than duration"))]
#[x_kube(validation = Rule::new("duration(self.duration) >= duration('1h')").message("duration must be at least 1h"))]
#[serde(rename_all = "camelCase")]
pub struct EndpointCertificateSpec {
    /// DNS names of the certificate. Empty: the names of the Services of the PostgresEndpoints
    /// that use this certificate (`<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc`,
    /// `<svc>.<ns>.svc.<cluster domain>`) and their load balancers' host names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub dns_names: Vec<String>,
    /// IP addresses of the certificate. With `dnsNames` empty, the load balancer addresses of
    /// the endpoints' Services are added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub ip_addresses: Vec<String>,
    /// Who signs the certificate. Default: `selfSigned`.
    #[serde(default)]
    pub issuer: IssuerSpec,
    /// Validity of each certificate, as a Go duration (`2160h` = 90 days).
    #[serde(default = "default_duration")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$"))]
    pub duration: String,
    /// Renew this long before expiry, as a Go duration (`720h` = 30 days).
    #[serde(default = "default_renew_before")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$"))]
    pub renew_before: String,
    /// The private key.
    #[serde(default)]
    pub private_key: PrivateKeySpec,
    /// The `kubernetes.io/tls` Secret to write. Default: `<name>-tls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub secret_name: Option<String>,
}

fn default_duration() -> String {
    "2160h".into()
}

fn default_renew_before() -> String {
    "720h".into()
}

/// Who signs: exactly one of `selfSigned`, `ca` or `certManager`.
#[derive(KubeSchema, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[x_kube(validation = Rule::new("[has(self.selfSigned), has(self.ca), has(self.certManager)].filter(x, x).size() == 1").message("issuer needs exactly one of selfSigned, ca or certManager"))]
#[serde(rename_all = "camelCase")]
pub struct IssuerSpec {
    /// A CA the operator creates and rotates, one per namespace (Secret `duckgate-ca`). During
    /// a rotation both the old and the new CA are in `ca.crt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_signed: Option<SelfSignedIssuer>,
    /// A CA of yours: a Secret in this namespace with `tls.crt` and `tls.key` (and optionally a
    /// `ca.crt` bundle to publish instead of `tls.crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<CaIssuer>,
    /// Let cert-manager issue it: the operator creates a cert-manager Certificate with the same
    /// names and Secret and reports its state. Needs cert-manager's CRDs in the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_manager: Option<CertManagerIssuer>,
}

impl Default for IssuerSpec {
    fn default() -> Self {
        IssuerSpec {
            self_signed: Some(SelfSignedIssuer {}),
            ca: None,
            cert_manager: None,
        }
    }
}

/// The namespace's operator-managed CA.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default, JsonSchema)]
pub struct SelfSignedIssuer {}

/// A CA kept in a Secret.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaIssuer {
    /// Name of the Secret with the CA's `tls.crt` and `tls.key`.
    #[schemars(length(min = 1, max = 253))]
    pub secret_name: String,
}

/// A cert-manager issuer.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertManagerIssuer {
    /// The cert-manager Issuer or ClusterIssuer.
    pub issuer_ref: IssuerRef,
}

/// A reference to a cert-manager issuer.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuerRef {
    /// Name of the issuer.
    #[schemars(length(min = 1))]
    pub name: String,
    /// `Issuer` (this namespace) or `ClusterIssuer`.
    #[serde(default = "default_issuer_kind")]
    pub kind: String,
    /// API group of the issuer.
    #[serde(default = "default_issuer_group")]
    pub group: String,
}

fn default_issuer_kind() -> String {
    "Issuer".into()
}

fn default_issuer_group() -> String {
    "cert-manager.io".into()
}

/// The private key.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivateKeySpec {
    /// Key algorithm. A new key is generated for every certificate.
    #[serde(default)]
    pub algorithm: KeyAlgorithm,
}

/// Private key algorithm.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default, JsonSchema)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (widely supported, the default).
    #[default]
    #[serde(rename = "ECDSA-P256")]
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    #[serde(rename = "ECDSA-P384")]
    EcdsaP384,
    /// Ed25519 (not every client library supports it).
    Ed25519,
}

impl KeyAlgorithm {
    pub fn as_str(&self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => "ECDSA-P256",
            KeyAlgorithm::EcdsaP384 => "ECDSA-P384",
            KeyAlgorithm::Ed25519 => "Ed25519",
        }
    }
}

/// What the operator observed. Written only when it changes.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointCertificateStatus {
    /// The generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` (the Secret holds a valid certificate for the current spec) and `Issuing` (a
    /// certificate is being issued or renewed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The Secret holding the certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// Start of the current certificate's validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Time>,
    /// End of the current certificate's validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<Time>,
    /// When the operator renews it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_time: Option<Time>,
    /// Incremented each time a certificate is issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    /// DNS names in the current certificate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    /// IP addresses in the current certificate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_addresses: Vec<String>,
}
