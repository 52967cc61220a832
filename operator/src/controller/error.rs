//! Everything a reconcile can fail with. Each error has a condition reason; errors in the spec
//! or in what it references are reported on the object and waited out (a watch or a slow requeue
//! brings the fix), while API failures are retried with per-object exponential backoff.

use crate::certs::CertError;
use crate::validate::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("the object does not match the CRD: {0}")]
    Decode(#[source] serde_json::Error),
    #[error("invalid spec: {0}")]
    Invalid(Invalid),
    #[error("Secret {0:?} not found")]
    SecretNotFound(String),
    #[error("Secret {name:?} has no key {key:?}")]
    SecretKeyMissing { name: String, key: String },
    #[error("the token file in Secret {name:?} (key {key:?}) is not valid: {message}")]
    InvalidTokenFile {
        name: String,
        key: String,
        message: String,
    },
    #[error("EndpointCertificate {0:?} not found")]
    CertificateNotFound(String),
    #[error("EndpointCertificate {0:?} has not issued its Secret yet")]
    CertificateNotReady(String),
    #[error("TLS Secret {name:?}: {message}")]
    InvalidTlsSecret { name: String, message: String },
    #[error("CA Secret {name:?}: {message}")]
    InvalidCa { name: String, message: String },
    #[error("no DNS names or IP addresses: set spec.dnsNames or reference this certificate from a PostgresEndpoint")]
    NoNames,
    #[error("cert-manager's Certificate API (cert-manager.io/v1) is not installed")]
    CertManagerMissing,
    #[error("certificate: {0}")]
    Cert(#[from] CertError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The condition reason (and metric label) of this error.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Kube(_) => "ApiError",
            Error::Decode(_) => "InvalidObject",
            Error::Invalid(_) => "InvalidSpec",
            Error::SecretNotFound(_) => "SecretNotFound",
            Error::SecretKeyMissing { .. } => "SecretKeyMissing",
            Error::InvalidTokenFile { .. } => "InvalidTokenFile",
            Error::CertificateNotFound(_) => "CertificateNotFound",
            Error::CertificateNotReady(_) => "CertificateNotReady",
            Error::InvalidTlsSecret { .. } => "InvalidTLSSecret",
            Error::InvalidCa { .. } => "InvalidCA",
            Error::NoNames => "NoNames",
            Error::CertManagerMissing => "CertManagerNotInstalled",
            Error::Cert(_) => "IssueFailed",
        }
    }

    /// A problem with the spec or the objects it references: a user must act. Reported as a
    /// condition; retrying quickly would not help.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Error::Kube(_) | Error::Cert(CertError::Generate(_)))
    }

    /// `Progressing` rather than `Degraded`: something the operator itself is still producing.
    pub fn is_transient_wait(&self) -> bool {
        matches!(self, Error::CertificateNotReady(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_reason_and_a_class() {
        let e = Error::SecretNotFound("tokens".into());
        assert_eq!(e.reason(), "SecretNotFound");
        assert!(e.is_user_error());
        assert_eq!(e.to_string(), "Secret \"tokens\" not found");
        let api = Error::Kube(kube::Error::LinesCodecMaxLineLengthExceeded);
        assert_eq!(api.reason(), "ApiError");
        assert!(!api.is_user_error());
        assert!(Error::CertificateNotReady("c".into()).is_transient_wait());
        assert_eq!(
            Error::CertManagerMissing.reason(),
            "CertManagerNotInstalled"
        );
    }
}
