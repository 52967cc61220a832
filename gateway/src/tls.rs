//! TLS for client connections: loading a certificate and key, reloading them when a Kubernetes
//! Secret changes, and generating an embedded local CA when no certificate is configured.
//!
//! Every [`ServerConfig`] built here offers TLS 1.2 and 1.3 only and sets the ALPN protocol
//! `postgresql`: PostgreSQL 17 clients that use direct TLS (`sslnegotiation=direct`) require it,
//! and `pgwire::tokio::server::negotiate_tls` refuses a direct TLS connection without it.
//!
//! Configs are built with an explicit ring [`CryptoProvider`](rustls::crypto::CryptoProvider)
//! so nothing depends on a process-wide default provider having been installed.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, DnsName, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// The ALPN protocol name PostgreSQL registered for itself (used by direct TLS).
pub const ALPN_POSTGRESQL: &[u8] = b"postgresql";

/// File names of the embedded default certificates inside the TLS directory.
pub const CA_CERT_FILE: &str = "ca.crt";
pub const CA_KEY_FILE: &str = "ca.key";
pub const SERVER_CERT_FILE: &str = "server.crt";
pub const SERVER_KEY_FILE: &str = "server.key";

/// Common name of the generated local CA (what users see when they inspect `ca.crt`).
const CA_COMMON_NAME: &str = "duckgate local CA";
/// The CA outlives many server certificates so clients configure `sslrootcert` once.
const CA_VALID_DAYS: u64 = 3652;
/// Short enough for clients that cap leaf lifetimes (Apple: 398 days).
const SERVER_VALID_DAYS: u64 = 365;
/// Certificates start an hour in the past so a client whose clock lags still accepts them.
const CLOCK_SKEW: Duration = Duration::from_secs(3600);
/// Lower bound for the watcher's poll interval (`tokio::time::interval` panics on zero).
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Why a certificate or key could not be loaded or generated. Messages name the file and the
/// cause; they never quote file contents, so no key material ends up in logs.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{} is not valid PEM: {reason}", path.display())]
    Pem { path: PathBuf, reason: &'static str },
    #[error("{} contains no PEM certificate (expected a \"BEGIN CERTIFICATE\" block)", path.display())]
    NoCertificate { path: PathBuf },
    #[error(
        "{} contains no PEM private key (expected a \"BEGIN PRIVATE KEY\", \
         \"BEGIN RSA PRIVATE KEY\" or \"BEGIN EC PRIVATE KEY\" block)",
        path.display()
    )]
    NoKey { path: PathBuf },
    #[error("private key {} does not match the certificate in {}", key.display(), cert.display())]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("cannot use certificate {} with private key {}: {source}", cert.display(), key.display())]
    Rejected {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
    #[error("cannot create directory {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot generate the {what}: {source}")]
    Generate {
        what: &'static str,
        source: rcgen::Error,
    },
}

/// PEM files as a Kubernetes TLS Secret mounts them: `tls.crt` (leaf first, then any
/// intermediates), `tls.key`, and optionally `ca.crt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// CA bundle for verifying client certificates. Kept for later: client certificates are
    /// not requested yet, so this file is not read.
    pub client_ca: Option<PathBuf>,
}

/// Build a server config from the certificate chain and private key in `paths`.
///
/// The key may be PKCS#8, PKCS#1 (RSA) or SEC1 (EC). rustls checks that the key belongs to the
/// leaf certificate (`CertifiedKey::keys_match` inside `with_single_cert`); a mismatch is
/// reported as [`TlsError::KeyMismatch`].
pub fn load_server_config(paths: &TlsPaths) -> Result<Arc<ServerConfig>, TlsError> {
    build_server_config(paths, &PemPair::read(paths)?)
}

/// The raw bytes of a certificate and key file. Reading both once and parsing from memory means
/// the content hash always describes exactly the bytes that were loaded.
struct PemPair {
    cert: Vec<u8>,
    key: Vec<u8>,
}

impl PemPair {
    fn read(paths: &TlsPaths) -> Result<Self, TlsError> {
        Ok(PemPair {
            cert: read_file(&paths.cert)?,
            key: read_file(&paths.key)?,
        })
    }

    /// SHA-256 over both files; the certificate length is included so that moving bytes from
    /// one file to the other changes the hash.
    fn digest(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update((self.cert.len() as u64).to_be_bytes());
        hasher.update(&self.cert);
        hasher.update(&self.key);
        hasher.finalize().into()
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn build_server_config(paths: &TlsPaths, pem: &PemPair) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = parse_cert_chain(&paths.cert, &pem.cert)?;
    let key = parse_private_key(&paths.key, &pem.key)?;
    let rejected = |source| match source {
        rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch {
            cert: paths.cert.clone(),
            key: paths.key.clone(),
        },
        source => TlsError::Rejected {
            cert: paths.cert.clone(),
            key: paths.key.clone(),
            source,
        },
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // The safe defaults are exactly TLS 1.3 and TLS 1.2 (the `tls12` feature is enabled).
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(rejected)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(rejected)?;
    config.alpn_protocols = vec![ALPN_POSTGRESQL.to_vec()];
    Ok(Arc::new(config))
}

fn parse_cert_chain(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, &e))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(chain)
}

fn parse_private_key(path: &Path, pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoKey {
            path: path.to_owned(),
        },
        e => pem_error(path, &e),
    })
}

/// Describe a PEM syntax error without its payload: some variants carry a line of the file,
/// which for a key file could be key material.
fn pem_error(path: &Path, e: &pem::Error) -> TlsError {
    let reason = match e {
        pem::Error::MissingSectionEnd { .. } => "a block has no END line (truncated file?)",
        pem::Error::IllegalSectionStart { .. } => "a BEGIN line is malformed",
        pem::Error::Base64Decode(_) => "a block is not valid base64",
        pem::Error::SectionTooLarge => "a block is too large",
        pem::Error::NoItemsFound => "no PEM block found",
        _ => "unreadable PEM",
    };
    TlsError::Pem {
        path: path.to_owned(),
        reason,
    }
}

/// A TLS acceptor whose certificate follows the files on disk.
///
/// Each connection is accepted with the acceptor current at that moment and keeps that
/// `ServerConfig` for its whole life, so a reload never disturbs established sessions: it only
/// changes what new connections are offered.
pub struct ReloadingAcceptor {
    paths: TlsPaths,
    current: RwLock<TlsAcceptor>,
    /// Hash of the file contents last looked at, whether they were loaded or rejected. The
    /// mutex also serialises reloads so an older read can never replace a newer one.
    seen: Mutex<[u8; 32]>,
}

impl fmt::Debug for ReloadingAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingAcceptor")
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

impl ReloadingAcceptor {
    /// Load the certificate and key; fails (rather than starting without TLS) if they are bad.
    pub fn new(paths: TlsPaths) -> Result<Self, TlsError> {
        let pem = PemPair::read(&paths)?;
        let config = build_server_config(&paths, &pem)?;
        Ok(ReloadingAcceptor {
            current: RwLock::new(TlsAcceptor::from(config)),
            seen: Mutex::new(pem.digest()),
            paths,
        })
    }

    /// The files this acceptor serves.
    pub fn paths(&self) -> &TlsPaths {
        &self.paths
    }

    /// The acceptor for a new connection (a reference-count increment).
    pub fn acceptor(&self) -> TlsAcceptor {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Re-read the files and, if their contents changed, switch new connections to them.
    ///
    /// Contents are compared, not modification times: Kubernetes updates a Secret volume by
    /// swapping a `..data` symlink, which leaves timestamps of the visible paths meaningless.
    /// A pair that does not load (half-written update, a cert and key read across a swap) keeps
    /// the previous certificate serving; it is logged and returned as `Err` once, and later
    /// calls return `Ok(false)` until the contents change again. A file that cannot be read
    /// is an `Err` on every call. Returns `Ok(true)` when new connections get the new pair.
    ///
    /// Does blocking file I/O; call it from a blocking context.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let pem = PemPair::read(&self.paths).inspect_err(|e| {
            tracing::warn!(error = %e, "TLS reload failed; still serving the previous certificate");
        })?;
        let digest = pem.digest();
        if digest == *seen {
            return Ok(false);
        }
        *seen = digest;
        let config = build_server_config(&self.paths, &pem).inspect_err(|e| {
            tracing::warn!(error = %e, "TLS reload failed; still serving the previous certificate");
        })?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = TlsAcceptor::from(config);
        tracing::info!(cert = %self.paths.cert.display(), "TLS certificate reloaded");
        Ok(true)
    }

    /// Poll the files every `every` (at least 10 ms) on a blocking thread. The task holds only
    /// a weak reference and ends once every other `Arc` to this acceptor is dropped.
    pub fn spawn_watcher(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every.max(MIN_POLL_INTERVAL));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await; // the first tick is immediate; the files were just loaded
            loop {
                ticks.tick().await;
                let Some(this) = weak.upgrade() else { break };
                // Outcomes are logged by reload_if_changed itself.
                if let Err(e) = tokio::task::spawn_blocking(move || this.reload_if_changed()).await
                {
                    tracing::warn!(error = %e, "TLS reload task failed");
                }
            }
        })
    }
}

/// Where clients find the embedded CA certificate (for `sslrootcert`).
pub fn ca_path(tls_dir: &Path) -> PathBuf {
    tls_dir.join(CA_CERT_FILE)
}

/// The embedded default: use `ca.crt`, `server.crt` and `server.key` in `tls_dir` if all exist,
/// otherwise generate a local CA and a server certificate signed by it.
///
/// Clients verify the server with `sslrootcert=<tls_dir>/ca.crt sslmode=verify-full` using
/// `localhost`, `127.0.0.1`, `::1` or this machine's host name. The CA key (`ca.key`) is kept
/// next to it, mode 0600, so the server certificate could be reissued under the same CA; that
/// is not done yet: existing files are used as they are, even once `server.crt` (valid for a
/// year) has expired, and removing any of the three files regenerates the CA as well.
pub fn ensure_embedded_certs(tls_dir: &Path) -> Result<TlsPaths, TlsError> {
    let paths = TlsPaths {
        cert: tls_dir.join(SERVER_CERT_FILE),
        key: tls_dir.join(SERVER_KEY_FILE),
        client_ca: None,
    };
    if exists(&ca_path(tls_dir))? && exists(&paths.cert)? && exists(&paths.key)? {
        return Ok(paths);
    }
    create_private_dir(tls_dir)?;
    generate_embedded(tls_dir)?;
    tracing::info!(
        ca = %ca_path(tls_dir).display(),
        "generated a local CA and server certificate; clients can verify with sslrootcert=<ca>"
    );
    Ok(paths)
}

/// Whether `path` exists; any error other than "not found" (e.g. permissions) is reported
/// rather than treated as absent, so unreadable certificates are never silently replaced.
fn exists(path: &Path) -> Result<bool, TlsError> {
    match fs::metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(TlsError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn create_private_dir(dir: &Path) -> Result<(), TlsError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| TlsError::CreateDir {
        path: dir.to_owned(),
        source,
    })
}

/// Generate and write all four files. `server.crt` doubles as the completion marker: it is
/// removed first and written last, so an interrupted run leaves it absent and the next start
/// regenerates a consistent set instead of pairing a new CA with an old server certificate.
fn generate_embedded(dir: &Path) -> Result<(), TlsError> {
    remove_if_exists(&dir.join(SERVER_CERT_FILE))?;
    let now = unix_now();
    let ca_key = generate_key("local CA key")?;
    let ca = CertifiedIssuer::self_signed(ca_params(now), ca_key).map_err(|source| {
        TlsError::Generate {
            what: "local CA certificate",
            source,
        }
    })?;
    let server_key = generate_key("server key")?;
    let server_cert = server_params(now)?
        .signed_by(&server_key, &*ca)
        .map_err(|source| TlsError::Generate {
            what: "server certificate",
            source,
        })?;
    write_atomically(dir, CA_KEY_FILE, ca.key().serialize_pem().as_bytes(), 0o600)?;
    write_atomically(dir, CA_CERT_FILE, ca.pem().as_bytes(), 0o644)?;
    write_atomically(
        dir,
        SERVER_KEY_FILE,
        server_key.serialize_pem().as_bytes(),
        0o600,
    )?;
    write_atomically(dir, SERVER_CERT_FILE, server_cert.pem().as_bytes(), 0o644)
}

/// An ECDSA P-256 key: small, fast, and accepted by every TLS 1.2+ client.
fn generate_key(what: &'static str) -> Result<KeyPair, TlsError> {
    KeyPair::generate().map_err(|source| TlsError::Generate { what, source })
}

fn ca_params(now: Duration) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name(CA_COMMON_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut params, now, CA_VALID_DAYS);
    params
}

fn server_params(now: Duration) -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name("localhost");
    params.subject_alt_names = server_alt_names()?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // Lets OpenSSL-based clients (libpq) pick the right CA if several share the same name.
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, now, SERVER_VALID_DAYS);
    Ok(params)
}

/// `localhost`, the loopback addresses, and the host name when it is a usable DNS name.
fn server_alt_names() -> Result<Vec<SanType>, TlsError> {
    let mut names = vec![
        dns_san("localhost")?,
        SanType::IpAddress([127, 0, 0, 1].into()),
        SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
    ];
    if let Some(host) = host_dns_name() {
        names.push(dns_san(&host)?);
    }
    Ok(names)
}

fn dns_san(name: &str) -> Result<SanType, TlsError> {
    let name = name.try_into().map_err(|source| TlsError::Generate {
        what: "server certificate name",
        source,
    })?;
    Ok(SanType::DnsName(name))
}

/// The machine's host name, lower-cased, if it is a valid DNS name that adds something.
fn host_dns_name() -> Option<String> {
    let name = hostname::get()
        .ok()?
        .into_string()
        .ok()?
        .to_ascii_lowercase();
    let name = name.trim_end_matches('.');
    if name.is_empty() || name == "localhost" || name.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    DnsName::try_from(name).ok()?;
    Some(name.to_owned())
}

fn common_name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

fn set_validity(params: &mut CertificateParams, now: Duration, days: u64) {
    // rcgen takes `time::OffsetDateTime`, which this crate does not depend on directly; the
    // epoch plus a std Duration builds one without naming the type.
    params.not_before = rcgen::date_time_ymd(1970, 1, 1) + now.saturating_sub(CLOCK_SKEW);
    params.not_after = params.not_before + Duration::from_secs(days * 86_400);
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn remove_if_exists(path: &Path) -> Result<(), TlsError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(TlsError::Write {
            path: path.to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Write `dir/name` via a temporary file and a rename, so the file is either complete or absent
/// and a key file is never readable by others, not even briefly.
fn write_atomically(dir: &Path, name: &str, contents: &[u8], mode: u32) -> Result<(), TlsError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let write_err = |source| TlsError::Write {
        path: path.clone(),
        source,
    };
    remove_if_exists(&tmp)?;
    let mut file = create_new_file(&tmp, mode).map_err(write_err)?;
    file.write_all(contents).map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    fs::rename(&tmp, &path).map_err(write_err)
}

fn create_new_file(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::pki_types::ServerName;
    use tokio_rustls::rustls::{ClientConfig, RootCertStore};
    use tokio_rustls::TlsConnector;

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(10);

    /// What a completed handshake showed each side.
    struct Handshake {
        peer_leaf: CertificateDer<'static>,
        server_alpn: Option<Vec<u8>>,
        version: Option<rustls::ProtocolVersion>,
    }

    fn read_certs(path: &Path) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_file_iter(path)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    }

    fn client_config_with(
        trusted_ca_files: &[&Path],
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        for path in trusted_ca_files {
            for cert in read_certs(path) {
                roots.add(cert).unwrap();
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_POSTGRESQL.to_vec()];
        Arc::new(config)
    }

    /// A client that trusts only the given CA files and offers ALPN `postgresql`.
    fn client_config(trusted_ca_files: &[&Path]) -> Arc<ClientConfig> {
        client_config_with(trusted_ca_files, rustls::DEFAULT_VERSIONS)
    }

    /// Run a full handshake over an in-memory stream; `Err` carries the client's error.
    async fn handshake(
        acceptor: TlsAcceptor,
        client: Arc<ClientConfig>,
        server_name: &str,
    ) -> Result<Handshake, String> {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let name = ServerName::try_from(server_name.to_owned()).unwrap();
        let connect = TlsConnector::from(client).connect(name, client_io);
        let accept = acceptor.accept(server_io);
        let (client, server) =
            tokio::time::timeout(TIMEOUT, async { tokio::join!(connect, accept) })
                .await
                .expect("handshake timed out");
        let client = client.map_err(|e| e.to_string())?;
        let server = server.map_err(|e| format!("server: {e}"))?;
        let (_, client_conn) = client.get_ref();
        Ok(Handshake {
            peer_leaf: client_conn.peer_certificates().unwrap()[0].clone(),
            server_alpn: server.get_ref().1.alpn_protocol().map(<[u8]>::to_vec),
            version: client_conn.protocol_version(),
        })
    }

    fn embedded_acceptor(dir: &Path) -> TlsAcceptor {
        let paths = ensure_embedded_certs(dir).unwrap();
        TlsAcceptor::from(load_server_config(&paths).unwrap())
    }

    fn read_all(dir: &Path) -> Vec<Vec<u8>> {
        [CA_CERT_FILE, CA_KEY_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE]
            .iter()
            .map(|name| fs::read(dir.join(name)).unwrap())
            .collect()
    }

    #[test]
    fn embedded_certs_are_generated_once_and_reused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tls");
        let first = ensure_embedded_certs(&dir).unwrap();
        assert_eq!(first.cert, dir.join("server.crt"));
        assert_eq!(first.key, dir.join("server.key"));
        assert_eq!(first.client_ca, None);
        assert_eq!(ca_path(&dir), dir.join("ca.crt"));
        let contents = read_all(&dir);
        assert!(contents.iter().all(|c| !c.is_empty()));

        let second = ensure_embedded_certs(&dir).unwrap();
        assert_eq!(second, first);
        assert_eq!(read_all(&dir), contents, "second call must not regenerate");
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 4);
    }

    #[cfg(unix)]
    #[test]
    fn embedded_key_files_and_directory_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tls");
        ensure_embedded_certs(&dir).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(CA_KEY_FILE)), 0o600);
        assert_eq!(mode(&dir.join(SERVER_KEY_FILE)), 0o600);
    }

    #[test]
    fn missing_embedded_file_regenerates_a_consistent_set() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        ensure_embedded_certs(dir).unwrap();
        let before = read_all(dir);
        fs::remove_file(dir.join(SERVER_KEY_FILE)).unwrap();
        let paths = ensure_embedded_certs(dir).unwrap();
        let after = read_all(dir);
        assert_ne!(after[0], before[0], "a new CA is generated");
        // The regenerated server certificate matches the regenerated key.
        load_server_config(&paths).unwrap();
    }

    #[tokio::test]
    async fn embedded_ca_verifies_localhost_and_loopback_addresses() {
        let tmp = tempfile::tempdir().unwrap();
        let acceptor = embedded_acceptor(tmp.path());
        let client = client_config(&[&ca_path(tmp.path())]);
        let served = read_certs(&tmp.path().join(SERVER_CERT_FILE));
        let mut names = vec!["localhost".to_owned(), "127.0.0.1".into(), "::1".into()];
        names.extend(host_dns_name());
        for name in &names {
            let hs = handshake(acceptor.clone(), client.clone(), name)
                .await
                .unwrap_or_else(|e| panic!("handshake as {name} failed: {e}"));
            assert_eq!(hs.peer_leaf, served[0]);
            assert_eq!(hs.server_alpn.as_deref(), Some(ALPN_POSTGRESQL));
            assert_eq!(hs.version, Some(rustls::ProtocolVersion::TLSv1_3));
        }
    }

    #[tokio::test]
    async fn embedded_certificate_rejects_other_names() {
        let tmp = tempfile::tempdir().unwrap();
        let acceptor = embedded_acceptor(tmp.path());
        let client = client_config(&[&ca_path(tmp.path())]);
        for name in ["wrong.example", "10.1.2.3"] {
            let err = handshake(acceptor.clone(), client.clone(), name)
                .await
                .err()
                .unwrap_or_else(|| panic!("{name} must not verify"));
            assert!(err.contains("not valid for name"), "{name}: {err}");
        }
    }

    #[tokio::test]
    async fn client_trusting_another_ca_rejects_the_server() {
        let served = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let acceptor = embedded_acceptor(served.path());
        ensure_embedded_certs(other.path()).unwrap();
        let client = client_config(&[&ca_path(other.path())]);
        let err = handshake(acceptor, client, "localhost")
            .await
            .err()
            .unwrap();
        // Both CAs are named "duckgate local CA", so the client finds the other CA by name and
        // rejects the signature rather than reporting an unknown issuer.
        assert!(err.contains("invalid peer certificate"), "{err}");
    }

    #[tokio::test]
    async fn tls12_clients_are_accepted() {
        let tmp = tempfile::tempdir().unwrap();
        let acceptor = embedded_acceptor(tmp.path());
        let client = client_config_with(&[&ca_path(tmp.path())], &[&rustls::version::TLS12]);
        let hs = handshake(acceptor, client, "localhost").await.unwrap();
        assert_eq!(hs.version, Some(rustls::ProtocolVersion::TLSv1_2));
        assert_eq!(hs.server_alpn.as_deref(), Some(ALPN_POSTGRESQL));
    }

    #[tokio::test]
    async fn client_without_alpn_negotiates_none() {
        let tmp = tempfile::tempdir().unwrap();
        let acceptor = embedded_acceptor(tmp.path());
        let mut client = (*client_config(&[&ca_path(tmp.path())])).clone();
        client.alpn_protocols.clear();
        let hs = handshake(acceptor, Arc::new(client), "localhost")
            .await
            .unwrap();
        assert_eq!(hs.server_alpn, None);
    }

    #[test]
    fn missing_file_is_reported_with_its_path() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = ensure_embedded_certs(tmp.path()).unwrap();
        let missing = tmp.path().join("nope.crt");
        let err = load_server_config(&TlsPaths {
            cert: missing.clone(),
            ..paths
        })
        .unwrap_err();
        assert!(
            matches!(&err, TlsError::Read { path, .. } if *path == missing),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("nope.crt") && msg.contains("cannot read"),
            "{msg}"
        );
    }

    #[test]
    fn key_not_matching_the_certificate_is_reported() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let a_paths = ensure_embedded_certs(a.path()).unwrap();
        let b_paths = ensure_embedded_certs(b.path()).unwrap();
        let mixed = TlsPaths {
            cert: a_paths.cert.clone(),
            key: b_paths.key.clone(),
            client_ca: None,
        };
        let err = load_server_config(&mixed).unwrap_err();
        assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("does not match"), "{msg}");
        assert!(msg.contains(&a_paths.cert.display().to_string()), "{msg}");
        assert!(msg.contains(&b_paths.key.display().to_string()), "{msg}");
    }

    #[test]
    fn files_without_certificate_or_key_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = ensure_embedded_certs(tmp.path()).unwrap();
        // Swapped files: the key file holds only a certificate and vice versa.
        let swapped = TlsPaths {
            cert: paths.key.clone(),
            key: paths.cert.clone(),
            client_ca: None,
        };
        let err = load_server_config(&swapped).unwrap_err();
        assert!(matches!(err, TlsError::NoCertificate { .. }), "{err:?}");
        assert!(err.to_string().contains("server.key"), "{err}");

        let cert_only = TlsPaths {
            key: paths.cert.clone(),
            ..paths.clone()
        };
        let err = load_server_config(&cert_only).unwrap_err();
        assert!(matches!(err, TlsError::NoKey { .. }), "{err:?}");
        assert!(err.to_string().contains("server.crt"), "{err}");
    }

    #[test]
    fn truncated_key_is_reported_without_key_material() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = ensure_embedded_certs(tmp.path()).unwrap();
        let key = fs::read_to_string(&paths.key).unwrap();
        let truncated = tmp.path().join("truncated.key");
        fs::write(&truncated, &key[..key.len() - 40]).unwrap();
        let err = load_server_config(&TlsPaths {
            key: truncated,
            ..paths
        })
        .unwrap_err();
        assert!(matches!(err, TlsError::Pem { .. }), "{err:?}");
        let shown = format!("{err} {err:?}");
        for line in key.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!shown.contains(line), "error leaks key material: {shown}");
        }
    }

    /// Copy the server certificate and key of an embedded set to `dst` (as a Secret update).
    fn install(src: &TlsPaths, dst: &TlsPaths) {
        fs::copy(&src.cert, &dst.cert).unwrap();
        fs::copy(&src.key, &dst.key).unwrap();
    }

    struct ReloadFixture {
        _tmp: tempfile::TempDir,
        live: TlsPaths,
        a: TlsPaths,
        b: TlsPaths,
        client: Arc<ClientConfig>,
    }

    fn reload_fixture() -> ReloadFixture {
        let tmp = tempfile::tempdir().unwrap();
        let a = ensure_embedded_certs(&tmp.path().join("a")).unwrap();
        let b = ensure_embedded_certs(&tmp.path().join("b")).unwrap();
        let live = TlsPaths {
            cert: tmp.path().join("tls.crt"),
            key: tmp.path().join("tls.key"),
            client_ca: None,
        };
        install(&a, &live);
        let client = client_config(&[
            &ca_path(&tmp.path().join("a")),
            &ca_path(&tmp.path().join("b")),
        ]);
        ReloadFixture {
            _tmp: tmp,
            live,
            a,
            b,
            client,
        }
    }

    async fn served_leaf(acceptor: &ReloadingAcceptor, client: &Arc<ClientConfig>) -> Vec<u8> {
        let hs = handshake(acceptor.acceptor(), client.clone(), "localhost")
            .await
            .unwrap();
        hs.peer_leaf.to_vec()
    }

    fn leaf(paths: &TlsPaths) -> Vec<u8> {
        read_certs(&paths.cert)[0].to_vec()
    }

    #[tokio::test]
    async fn reload_switches_certificates_and_keeps_serving_on_bad_files() {
        let f = reload_fixture();
        let acceptor = ReloadingAcceptor::new(f.live.clone()).unwrap();
        assert_eq!(served_leaf(&acceptor, &f.client).await, leaf(&f.a));
        assert!(
            !acceptor.reload_if_changed().unwrap(),
            "nothing changed yet"
        );

        install(&f.b, &f.live);
        assert!(acceptor.reload_if_changed().unwrap());
        assert_eq!(served_leaf(&acceptor, &f.client).await, leaf(&f.b));
        assert!(!acceptor.reload_if_changed().unwrap(), "unchanged files");

        // A half-written update: the old certificate keeps serving.
        fs::write(&f.live.key, "garbage").unwrap();
        let err = acceptor.reload_if_changed().unwrap_err();
        assert!(matches!(err, TlsError::NoKey { .. }), "{err:?}");
        assert_eq!(served_leaf(&acceptor, &f.client).await, leaf(&f.b));
        assert!(
            !acceptor.reload_if_changed().unwrap(),
            "rejected contents are reported once"
        );

        // A certificate and key from different generations (read across a swap) are rejected.
        fs::copy(&f.a.key, &f.live.key).unwrap();
        let err = acceptor.reload_if_changed().unwrap_err();
        assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err:?}");
        assert_eq!(served_leaf(&acceptor, &f.client).await, leaf(&f.b));

        // A missing file is an error on every call, and still nothing changes.
        fs::remove_file(&f.live.cert).unwrap();
        assert!(matches!(
            acceptor.reload_if_changed(),
            Err(TlsError::Read { .. })
        ));
        assert!(matches!(
            acceptor.reload_if_changed(),
            Err(TlsError::Read { .. })
        ));
        assert_eq!(served_leaf(&acceptor, &f.client).await, leaf(&f.b));

        // Once the update completes, it is picked up.
        install(&f.a, &f.live);
        assert!(acceptor.reload_if_changed().unwrap());
        assert_eq!(served_leaf(&acceptor, &f.client).await, leaf(&f.a));
    }

    #[tokio::test]
    async fn established_sessions_survive_a_reload() {
        let f = reload_fixture();
        let acceptor = ReloadingAcceptor::new(f.live.clone()).unwrap();
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let name = ServerName::try_from("localhost").unwrap();
        let connect = TlsConnector::from(f.client.clone()).connect(name, client_io);
        let (client, server) = tokio::join!(connect, acceptor.acceptor().accept(server_io));
        let (mut client, mut server) = (client.unwrap(), server.unwrap());

        install(&f.b, &f.live);
        assert!(acceptor.reload_if_changed().unwrap());

        client.write_all(b"ping").await.unwrap();
        client.flush().await.unwrap();
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        let seen = client.get_ref().1.peer_certificates().unwrap()[0].to_vec();
        assert_eq!(seen, leaf(&f.a));
    }

    #[tokio::test]
    async fn watcher_picks_up_changes_and_stops_with_the_acceptor() {
        let f = reload_fixture();
        let acceptor = Arc::new(ReloadingAcceptor::new(f.live.clone()).unwrap());
        let watcher = acceptor.spawn_watcher(Duration::from_millis(20));
        install(&f.b, &f.live);
        let switched = tokio::time::timeout(TIMEOUT, async {
            while served_leaf(&acceptor, &f.client).await != leaf(&f.b) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(switched.is_ok(), "watcher did not reload the certificate");

        drop(acceptor);
        tokio::time::timeout(TIMEOUT, watcher)
            .await
            .expect("watcher must stop once the acceptor is dropped")
            .unwrap();
    }

    /// The acceptor works with pgwire's negotiation: PostgreSQL 17 direct TLS (which requires
    /// ALPN `postgresql`) and the classic SSLRequest.
    #[tokio::test]
    async fn pgwire_negotiates_direct_tls_and_sslrequest() {
        let tmp = tempfile::tempdir().unwrap();
        let acceptor = embedded_acceptor(tmp.path());
        let client = client_config(&[&ca_path(tmp.path())]);
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for _ in 0..2 {
                let (tcp, _) = listener.accept().await.unwrap();
                let negotiated =
                    pgwire::tokio::server::negotiate_tls::<String>(tcp, Some(acceptor.clone()))
                        .await;
                outcomes.push(matches!(negotiated, Ok(Some(_))));
            }
            outcomes
        });
        let name = ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into());

        // Direct TLS: the TLS ClientHello is the first thing on the wire.
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let tls = TlsConnector::from(client.clone())
            .connect(name.clone(), tcp)
            .await
            .unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(ALPN_POSTGRESQL));

        // SSLRequest: length 8, code 80877103; the server answers 'S'.
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
            .await
            .unwrap();
        assert_eq!(tcp.read_u8().await.unwrap(), b'S');
        TlsConnector::from(client).connect(name, tcp).await.unwrap();

        let outcomes = tokio::time::timeout(TIMEOUT, server)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(outcomes, [true, true]);
    }
}
