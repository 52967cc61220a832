//! Certificates without I/O: create CAs, issue server certificates with `rcgen`, read existing
//! ones, and decide when to renew, reissue or rotate the CA. The controller only moves the
//! results in and out of Secrets.

use std::net::IpAddr;
use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

use crate::crd::certificate::KeyAlgorithm;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertError {
    #[error("cannot generate a key or certificate: {0}")]
    Generate(String),
    #[error("not a PEM certificate: {0}")]
    Parse(String),
    #[error("the CA key does not fit the CA certificate: {0}")]
    CaKey(String),
    #[error("invalid name {0:?} for a certificate")]
    Name(String),
}

fn gen_err(e: rcgen::Error) -> CertError {
    CertError::Generate(e.to_string())
}

/// A PEM certificate and its PEM (PKCS#8) private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedCert {
    pub cert_pem: String,
    pub key_pem: String,
}

/// What a reconcile needs to know about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub is_ca: bool,
    /// SHA-256 of the DER certificate, hex.
    pub fingerprint: String,
    /// The subject's common name, if any.
    pub common_name: Option<String>,
}

/// The names a server certificate is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sans {
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
}

impl Sans {
    /// Sorted and without duplicates, so two equal sets compare equal.
    pub fn normalized(mut self) -> Self {
        for d in &mut self.dns_names {
            *d = d.to_ascii_lowercase();
        }
        self.dns_names.sort();
        self.dns_names.dedup();
        self.ip_addresses.sort();
        self.ip_addresses.dedup();
        self
    }

    pub fn is_empty(&self) -> bool {
        self.dns_names.is_empty() && self.ip_addresses.is_empty()
    }
}

fn to_offset(t: Timestamp) -> Result<time::OffsetDateTime, CertError> {
    time::OffsetDateTime::from_unix_timestamp(t.as_second())
        .map_err(|e| CertError::Generate(e.to_string()))
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

fn key_for(alg: KeyAlgorithm) -> Result<KeyPair, CertError> {
    let a = match alg {
        KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        KeyAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
    };
    KeyPair::generate_for(a).map_err(gen_err)
}

fn random_serial() -> Result<SerialNumber, CertError> {
    // 16 random bytes from a throwaway key's public point would be odd; use the system RNG
    // through ring, which rcgen already depends on.
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| CertError::Generate("no randomness".into()))?;
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x01; // and not shortened by DER
    Ok(SerialNumber::from_slice(&bytes))
}

/// A new self-signed CA, valid from `now` (minus a minute of clock skew) for `validity`.
pub fn new_ca(
    common_name: &str,
    now: Timestamp,
    validity: Duration,
) -> Result<KeyedCert, CertError> {
    let key = key_for(KeyAlgorithm::EcdsaP256)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "duckgate");
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = to_offset(now - SignedDuration::from_mins(1))?;
    params.not_after = to_offset(now + signed(validity))?;
    params.serial_number = Some(random_serial()?);
    let cert = params.self_signed(&key).map_err(gen_err)?;
    Ok(KeyedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Issue a server certificate for `sans`, signed by `ca`, valid from `now` for `validity` (but
/// never past the CA's own expiry).
pub fn issue_server_cert(
    ca: &KeyedCert,
    sans: &Sans,
    alg: KeyAlgorithm,
    now: Timestamp,
    validity: Duration,
) -> Result<KeyedCert, CertError> {
    let ca_info = inspect(&ca.cert_pem)?;
    let ca_key = KeyPair::from_pem(&ca.key_pem).map_err(|e| CertError::CaKey(e.to_string()))?;
    let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, &ca_key)
        .map_err(|e| CertError::CaKey(e.to_string()))?;
    if !public_key_matches(&ca.cert_pem, &ca_key)? {
        return Err(CertError::CaKey(
            "the private key belongs to another certificate".into(),
        ));
    }

    let key = key_for(alg)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "duckgate");
    let cn = sans
        .dns_names
        .first()
        .cloned()
        .or_else(|| sans.ip_addresses.first().map(|i| i.to_string()))
        .unwrap_or_else(|| "duckgate".into());
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    for d in &sans.dns_names {
        let name = d
            .clone()
            .try_into()
            .map_err(|_| CertError::Name(d.clone()))?;
        params.subject_alt_names.push(SanType::DnsName(name));
    }
    for ip in &sans.ip_addresses {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial()?);
    let not_after = std::cmp::min(now + signed(validity), ca_info.not_after);
    params.not_before = to_offset(now - SignedDuration::from_mins(1))?;
    params.not_after = to_offset(not_after)?;
    let cert = params.signed_by(&key, &issuer).map_err(gen_err)?;
    Ok(KeyedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn public_key_matches(cert_pem: &str, key: &KeyPair) -> Result<bool, CertError> {
    let pems = pems(cert_pem)?;
    let first = pems
        .first()
        .ok_or_else(|| CertError::Parse("no certificate".into()))?;
    let x = first
        .parse_x509()
        .map_err(|e| CertError::Parse(e.to_string()))?;
    Ok(x.public_key().subject_public_key.data.as_ref() == rcgen::PublicKeyData::der_bytes(key))
}

fn pems(text: &str) -> Result<Vec<Pem>, CertError> {
    let mut out = Vec::new();
    for p in Pem::iter_from_buffer(text.as_bytes()) {
        let p = p.map_err(|e| CertError::Parse(e.to_string()))?;
        if p.label == "CERTIFICATE" {
            out.push(p);
        }
    }
    Ok(out)
}

fn info_of(p: &Pem) -> Result<CertInfo, CertError> {
    let x = p
        .parse_x509()
        .map_err(|e| CertError::Parse(e.to_string()))?;
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Ok(Some(san)) = x.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => dns_names.push(d.to_string()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => ip_addresses.push(IpAddr::from(<[u8; 4]>::try_from(*b).unwrap())),
                    16 => ip_addresses.push(IpAddr::from(<[u8; 16]>::try_from(*b).unwrap())),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let ts = |t: i64| Timestamp::from_second(t).map_err(|e| CertError::Parse(e.to_string()));
    let common_name = x
        .subject()
        .iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
        .map(str::to_owned);
    Ok(CertInfo {
        not_before: ts(x.validity().not_before.timestamp())?,
        not_after: ts(x.validity().not_after.timestamp())?,
        dns_names,
        ip_addresses,
        is_ca: x.is_ca(),
        fingerprint: hex(&Sha256::digest(&p.contents)),
        common_name,
    })
}

/// Read the first certificate of a PEM text.
pub fn inspect(pem_text: &str) -> Result<CertInfo, CertError> {
    let all = pems(pem_text)?;
    info_of(
        all.first()
            .ok_or_else(|| CertError::Parse("no certificate in PEM".into()))?,
    )
}

/// Read every certificate of a PEM bundle.
pub fn inspect_bundle(pem_text: &str) -> Result<Vec<CertInfo>, CertError> {
    pems(pem_text)?.iter().map(info_of).collect()
}

/// Split a PEM bundle into one PEM text per certificate.
pub fn split_bundle(pem_text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in pem_text.lines() {
        if line.starts_with("-----BEGIN CERTIFICATE") {
            cur.clear();
        }
        cur.push_str(line);
        cur.push('\n');
        if line.starts_with("-----END CERTIFICATE") {
            out.push(std::mem::take(&mut cur));
        }
    }
    out
}

/// Whether the first certificate of `leaf_pem` was signed by the first of `ca_pem`.
pub fn signed_by(leaf_pem: &str, ca_pem: &str) -> bool {
    let (Ok(l), Ok(c)) = (pems(leaf_pem), pems(ca_pem)) else {
        return false;
    };
    let (Some(l), Some(c)) = (l.first(), c.first()) else {
        return false;
    };
    let (Ok(l), Ok(c)) = (l.parse_x509(), c.parse_x509()) else {
        return false;
    };
    l.verify_signature(Some(c.public_key())).is_ok()
}

/// Whether a PEM private key belongs to the first certificate of a PEM text.
pub fn key_matches(cert_pem: &str, key_pem: &str) -> bool {
    KeyPair::from_pem(key_pem)
        .ok()
        .and_then(|k| public_key_matches(cert_pem, &k).ok())
        .unwrap_or(false)
}

/// The key algorithm of a PEM private key, if it is one we issue.
pub fn key_algorithm(key_pem: &str) -> Option<KeyAlgorithm> {
    let k = KeyPair::from_pem(key_pem).ok()?;
    let a = k.algorithm();
    if a == &rcgen::PKCS_ECDSA_P256_SHA256 {
        Some(KeyAlgorithm::EcdsaP256)
    } else if a == &rcgen::PKCS_ECDSA_P384_SHA384 {
        Some(KeyAlgorithm::EcdsaP384)
    } else if a == &rcgen::PKCS_ED25519 {
        Some(KeyAlgorithm::Ed25519)
    } else {
        None
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parse a Go duration as cert-manager and CEL's `duration()` accept it: `2160h`, `1h30m`,
/// `90s`, `1.5h`.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        if num_end == 0 {
            return None;
        }
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * secs;
        rest = &rest[unit_end..];
    }
    Duration::try_from_secs_f64(total).ok()
}

/// When to renew a certificate: `renewBefore` ahead of expiry, or at two thirds of its life if
/// `renewBefore` is not shorter than the certificate's actual validity (e.g. capped by the CA).
pub fn renewal_time(
    not_before: Timestamp,
    not_after: Timestamp,
    renew_before: Duration,
) -> Timestamp {
    let life = not_after.duration_since(not_before);
    let rb = signed(renew_before);
    if rb >= life {
        not_before + life * 2 / 3
    } else {
        not_after - rb
    }
}

/// Why a server certificate must be (re)issued, if it must.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueReason {
    /// No certificate yet, or the Secret's content is unreadable or incomplete.
    Missing,
    /// The names differ from what the spec (or the endpoints' Services) ask for.
    NamesChanged,
    /// The key algorithm changed.
    KeyAlgorithmChanged,
    /// The certificate is not signed by the current CA (a CA rotation or a new CA Secret).
    IssuerChanged,
    /// Renewal time reached.
    Renewal,
}

impl IssueReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            IssueReason::Missing => "Missing",
            IssueReason::NamesChanged => "NamesChanged",
            IssueReason::KeyAlgorithmChanged => "KeyAlgorithmChanged",
            IssueReason::IssuerChanged => "IssuerChanged",
            IssueReason::Renewal => "Renewal",
        }
    }
}

/// The server certificate currently in a TLS Secret.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    pub cert_pem: Option<String>,
    pub key_pem: Option<String>,
}

/// Decide whether the certificate in a Secret must be issued again.
pub fn issue_reason(
    existing: &Existing,
    wanted: &Sans,
    alg: KeyAlgorithm,
    ca_cert_pem: &str,
    renew_before: Duration,
    now: Timestamp,
) -> Option<IssueReason> {
    let (Some(cert), Some(key)) = (&existing.cert_pem, &existing.key_pem) else {
        return Some(IssueReason::Missing);
    };
    let Ok(info) = inspect(cert) else {
        return Some(IssueReason::Missing);
    };
    if !key_matches(cert, key) {
        return Some(IssueReason::Missing);
    }
    let have = Sans {
        dns_names: info.dns_names.clone(),
        ip_addresses: info.ip_addresses.clone(),
    }
    .normalized();
    if have != wanted.clone().normalized() {
        return Some(IssueReason::NamesChanged);
    }
    if key_algorithm(key) != Some(alg) {
        return Some(IssueReason::KeyAlgorithmChanged);
    }
    if !signed_by(cert, ca_cert_pem) {
        return Some(IssueReason::IssuerChanged);
    }
    if now >= renewal_time(info.not_before, info.not_after, renew_before) {
        return Some(IssueReason::Renewal);
    }
    None
}

/// The namespace CA the operator manages for `selfSigned` certificates, as stored in its
/// Secret: the CA that signs (`active`), a successor already published to clients (`next`),
/// and retired CAs still trusted until they expire (`retired`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaSet {
    pub active: Option<KeyedCert>,
    pub next: Option<KeyedCert>,
    pub retired: Vec<String>,
}

/// How long the managed CA lives and when it rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaPolicy {
    /// Validity of a new CA.
    pub validity: Duration,
    /// When the active CA has less than this left, a successor is created and published in
    /// every `ca.crt` (clients start trusting it) while the old one keeps signing.
    pub introduce_before: Duration,
    /// When the active CA has less than this left, the successor becomes the signing CA and
    /// every server certificate is reissued by it; the old CA stays trusted until it expires.
    pub promote_before: Duration,
}

impl CaPolicy {
    /// A CA of `validity`: its successor is published with a third of its life left and takes
    /// over with a sixth left, so clients have a sixth of the CA's life to pick up the new one.
    pub fn for_validity(validity: Duration) -> Self {
        CaPolicy {
            validity,
            introduce_before: validity / 3,
            promote_before: validity / 6,
        }
    }
}

/// What changed in a CA set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaChange {
    Created,
    SuccessorPublished,
    Promoted,
    RetiredDropped(usize),
}

fn remaining(pem: &str, now: Timestamp) -> Option<SignedDuration> {
    inspect(pem).ok().map(|i| i.not_after.duration_since(now))
}

/// Advance the CA set to `now`: create, introduce a successor, promote it, drop expired
/// retired CAs. Returns the changes made (empty: nothing to write).
pub fn plan_ca(
    set: &mut CaSet,
    policy: &CaPolicy,
    now: Timestamp,
    common_name: &str,
) -> Result<Vec<CaChange>, CertError> {
    let mut changes = Vec::new();
    let usable =
        |k: &KeyedCert| inspect(&k.cert_pem).is_ok() && key_matches(&k.cert_pem, &k.key_pem);
    if set.active.as_ref().is_some_and(|a| !usable(a)) {
        set.active = None;
    }
    if set.next.as_ref().is_some_and(|n| !usable(n)) {
        set.next = None;
    }
    if set.active.is_none() {
        if let Some(next) = set.next.take() {
            set.active = Some(next);
            changes.push(CaChange::Promoted);
        } else {
            set.active = Some(new_ca(common_name, now, policy.validity)?);
            changes.push(CaChange::Created);
        }
    }
    let active_left =
        remaining(&set.active.as_ref().unwrap().cert_pem, now).unwrap_or(SignedDuration::ZERO);
    if set.next.is_none() && active_left < signed(policy.introduce_before) {
        set.next = Some(new_ca(common_name, now, policy.validity)?);
        changes.push(CaChange::SuccessorPublished);
    }
    if set.next.is_some() && active_left < signed(policy.promote_before) {
        let old = set.active.take().unwrap();
        set.active = set.next.take();
        set.retired.insert(0, old.cert_pem);
        changes.push(CaChange::Promoted);
    }
    let before = set.retired.len();
    set.retired
        .retain(|pem| remaining(pem, now).is_some_and(|d| d > SignedDuration::ZERO));
    if set.retired.len() != before {
        changes.push(CaChange::RetiredDropped(before - set.retired.len()));
    }
    Ok(changes)
}

impl CaSet {
    /// Every CA clients should trust, signing CA first: what goes into `ca.crt`.
    pub fn bundle(&self) -> String {
        let mut out = String::new();
        if let Some(a) = &self.active {
            out.push_str(&a.cert_pem);
        }
        if let Some(n) = &self.next {
            out.push_str(&n.cert_pem);
        }
        for r in &self.retired {
            out.push_str(r);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn now() -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap()
    }

    fn sans() -> Sans {
        Sans {
            dns_names: vec!["db.ns.svc".into(), "db".into()],
            ip_addresses: vec!["10.0.0.7".parse().unwrap()],
        }
    }

    #[test]
    fn go_durations_parse_like_cel() {
        assert_eq!(
            parse_go_duration("2160h"),
            Some(Duration::from_secs(2160 * 3600))
        );
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_go_duration("7d"), None);
        assert_eq!(parse_go_duration("h"), None);
        assert_eq!(parse_go_duration(""), None);
    }

    #[test]
    fn issued_certificate_has_the_names_and_validity_asked_for() {
        let ca = new_ca("duckgate test CA", now(), 365 * DAY).unwrap();
        let ca_info = inspect(&ca.cert_pem).unwrap();
        assert!(ca_info.is_ca);
        let leaf =
            issue_server_cert(&ca, &sans(), KeyAlgorithm::EcdsaP256, now(), 90 * DAY).unwrap();
        let info = inspect(&leaf.cert_pem).unwrap();
        assert!(!info.is_ca);
        assert_eq!(info.dns_names, vec!["db.ns.svc", "db"]);
        assert_eq!(
            info.ip_addresses,
            vec!["10.0.0.7".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(info.not_after, now() + SignedDuration::from_hours(90 * 24));
        assert!(info.not_before < now());
        assert!(signed_by(&leaf.cert_pem, &ca.cert_pem));
        assert!(key_matches(&leaf.cert_pem, &leaf.key_pem));
        assert!(!key_matches(&leaf.cert_pem, &ca.key_pem));
        assert_eq!(key_algorithm(&leaf.key_pem), Some(KeyAlgorithm::EcdsaP256));
    }

    #[test]
    fn every_key_algorithm_issues() {
        let ca = new_ca("ca", now(), 365 * DAY).unwrap();
        for alg in [
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::Ed25519,
        ] {
            let leaf = issue_server_cert(&ca, &sans(), alg, now(), DAY).unwrap();
            assert_eq!(key_algorithm(&leaf.key_pem), Some(alg));
            assert!(signed_by(&leaf.cert_pem, &ca.cert_pem));
        }
    }

    #[test]
    fn a_leaf_never_outlives_its_ca() {
        let ca = new_ca("ca", now(), 10 * DAY).unwrap();
        let leaf =
            issue_server_cert(&ca, &sans(), KeyAlgorithm::EcdsaP256, now(), 90 * DAY).unwrap();
        assert_eq!(
            inspect(&leaf.cert_pem).unwrap().not_after,
            inspect(&ca.cert_pem).unwrap().not_after
        );
    }

    #[test]
    fn a_mismatched_ca_key_is_refused() {
        let a = new_ca("a", now(), DAY).unwrap();
        let b = new_ca("b", now(), DAY).unwrap();
        let franken = KeyedCert {
            cert_pem: a.cert_pem,
            key_pem: b.key_pem,
        };
        assert!(matches!(
            issue_server_cert(&franken, &sans(), KeyAlgorithm::EcdsaP256, now(), DAY),
            Err(CertError::CaKey(_))
        ));
    }

    #[test]
    fn renewal_time_is_renew_before_ahead_or_two_thirds() {
        let nb = now();
        let na = nb + SignedDuration::from_hours(90 * 24);
        assert_eq!(
            renewal_time(nb, na, 30 * DAY),
            nb + SignedDuration::from_hours(60 * 24)
        );
        // renewBefore longer than the life: two thirds of it
        assert_eq!(
            renewal_time(nb, na, 100 * DAY),
            nb + SignedDuration::from_hours(60 * 24)
        );
    }

    #[test]
    fn reissue_reasons() {
        let ca = new_ca("ca", now(), 365 * DAY).unwrap();
        let leaf =
            issue_server_cert(&ca, &sans(), KeyAlgorithm::EcdsaP256, now(), 90 * DAY).unwrap();
        let existing = Existing {
            cert_pem: Some(leaf.cert_pem.clone()),
            key_pem: Some(leaf.key_pem.clone()),
        };
        let rb = 30 * DAY;
        let alg = KeyAlgorithm::EcdsaP256;
        assert_eq!(
            issue_reason(&existing, &sans(), alg, &ca.cert_pem, rb, now()),
            None
        );
        // names in another order are the same names
        let mut shuffled = sans();
        shuffled.dns_names.reverse();
        assert_eq!(
            issue_reason(&existing, &shuffled, alg, &ca.cert_pem, rb, now()),
            None
        );
        assert_eq!(
            issue_reason(&Existing::default(), &sans(), alg, &ca.cert_pem, rb, now()),
            Some(IssueReason::Missing)
        );
        let garbage = Existing {
            cert_pem: Some("nope".into()),
            key_pem: Some(leaf.key_pem.clone()),
        };
        assert_eq!(
            issue_reason(&garbage, &sans(), alg, &ca.cert_pem, rb, now()),
            Some(IssueReason::Missing)
        );
        let mut more = sans();
        more.dns_names.push("db.example.com".into());
        assert_eq!(
            issue_reason(&existing, &more, alg, &ca.cert_pem, rb, now()),
            Some(IssueReason::NamesChanged)
        );
        assert_eq!(
            issue_reason(
                &existing,
                &sans(),
                KeyAlgorithm::Ed25519,
                &ca.cert_pem,
                rb,
                now()
            ),
            Some(IssueReason::KeyAlgorithmChanged)
        );
        let other = new_ca("other", now(), DAY).unwrap();
        assert_eq!(
            issue_reason(&existing, &sans(), alg, &other.cert_pem, rb, now()),
            Some(IssueReason::IssuerChanged)
        );
        let later = now() + SignedDuration::from_hours(61 * 24);
        assert_eq!(
            issue_reason(&existing, &sans(), alg, &ca.cert_pem, rb, later),
            Some(IssueReason::Renewal)
        );
    }

    #[test]
    fn ca_rotation_overlaps_old_and_new() {
        let policy = CaPolicy::for_validity(300 * DAY); // successor at 100 days left, promotion at 50
        let mut set = CaSet::default();
        assert_eq!(
            plan_ca(&mut set, &policy, now(), "ns CA").unwrap(),
            vec![CaChange::Created]
        );
        let first = set.active.clone().unwrap();
        assert_eq!(inspect_bundle(&set.bundle()).unwrap().len(), 1);
        // nothing to do while young
        assert!(plan_ca(
            &mut set,
            &policy,
            now() + SignedDuration::from_hours(24 * 100),
            "ns CA"
        )
        .unwrap()
        .is_empty());

        // a third of the life left: the successor is published, the old CA still signs
        let t1 = now() + SignedDuration::from_hours(24 * 201);
        assert_eq!(
            plan_ca(&mut set, &policy, t1, "ns CA").unwrap(),
            vec![CaChange::SuccessorPublished]
        );
        assert_eq!(set.active.as_ref().unwrap(), &first);
        let bundle = inspect_bundle(&set.bundle()).unwrap();
        assert_eq!(bundle.len(), 2);
        assert!(
            plan_ca(&mut set, &policy, t1, "ns CA").unwrap().is_empty(),
            "stable"
        );

        // a sixth left: the successor signs, the old one is still trusted
        let t2 = now() + SignedDuration::from_hours(24 * 251);
        assert_eq!(
            plan_ca(&mut set, &policy, t2, "ns CA").unwrap(),
            vec![CaChange::Promoted]
        );
        assert_ne!(set.active.as_ref().unwrap(), &first);
        assert_eq!(set.retired, vec![first.cert_pem.clone()]);
        let b = set.bundle();
        assert_eq!(split_bundle(&b).len(), 2);
        assert!(b.starts_with(&set.active.as_ref().unwrap().cert_pem));

        // a leaf of the old CA must be reissued by the new one
        let old_leaf =
            issue_server_cert(&first, &sans(), KeyAlgorithm::EcdsaP256, t1, 30 * DAY).unwrap();
        let ex = Existing {
            cert_pem: Some(old_leaf.cert_pem),
            key_pem: Some(old_leaf.key_pem),
        };
        assert_eq!(
            issue_reason(
                &ex,
                &sans(),
                KeyAlgorithm::EcdsaP256,
                &set.active.as_ref().unwrap().cert_pem,
                DAY,
                t2
            ),
            Some(IssueReason::IssuerChanged)
        );

        // after the old CA expired it leaves the bundle
        let t3 = now() + SignedDuration::from_hours(24 * 301);
        assert_eq!(
            plan_ca(&mut set, &policy, t3, "ns CA").unwrap(),
            vec![CaChange::RetiredDropped(1)]
        );
        assert_eq!(split_bundle(&set.bundle()).len(), 1);
    }

    #[test]
    fn a_broken_active_ca_is_replaced() {
        let policy = CaPolicy::for_validity(300 * DAY);
        let mut set = CaSet {
            active: Some(KeyedCert {
                cert_pem: "garbage".into(),
                key_pem: "garbage".into(),
            }),
            ..Default::default()
        };
        assert_eq!(
            plan_ca(&mut set, &policy, now(), "x").unwrap(),
            vec![CaChange::Created]
        );
        assert!(inspect(&set.active.unwrap().cert_pem).unwrap().is_ca);
    }
}
