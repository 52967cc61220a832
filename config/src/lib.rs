//! The one definition of the gateway's configuration file.
//!
//! The gateway reads it (merged with environment variables and flags) and the operator renders it
//! into a ConfigMap. This crate has no DuckDB dependency on purpose: the operator links it.
//! Every key is documented in `docs/configuration.md`.

pub mod storage;
pub mod tokens;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Top-level gateway configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayConfig {
    /// Address of the PostgreSQL listener, `HOST:PORT`.
    pub listen: String,
    /// Directory holding the embedded default database and other local state.
    pub data_dir: PathBuf,
    /// Allow a dbname without a database file to create `<name>.duckdb` in the data directory.
    pub allow_create_databases: bool,
    /// Session and resource limits.
    pub limits: Limits,
    /// Logging.
    pub log: LogConfig,
    /// TLS for client connections.
    pub tls: TlsConfig,
    /// Client authentication.
    pub auth: AuthConfig,
    /// Directory with the DuckDB extensions the databases need
    /// (`<dir>/v1.5.5/linux_amd64/<name>.duckdb_extension`); nothing is downloaded at run time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension_directory: Option<PathBuf>,
    /// Configured databases; without any, the embedded default serves `<dataDir>`.
    pub databases: Vec<storage::DatabaseConfig>,
    /// Server-wide object storage readable by clients under allowed prefixes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_store: Option<storage::ObjectStoreConfig>,
    /// HTTP admin listener: `/healthz`, `/readyz`, `/metrics`.
    pub admin: AdminConfig,
}

/// The HTTP admin listener (probes and Prometheus metrics). It serves no data and needs no
/// token, so bind it where only the kubelet and the metrics scraper reach it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct AdminConfig {
    /// `HOST:PORT`; unset = no admin listener.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:5432".to_owned(),
            data_dir: PathBuf::from("./duckgate-data"),
            allow_create_databases: false,
            limits: Limits::default(),
            log: LogConfig::default(),
            tls: TlsConfig::default(),
            auth: AuthConfig::default(),
            extension_directory: None,
            databases: Vec::new(),
            object_store: None,
            admin: AdminConfig::default(),
        }
    }
}

/// Limits that protect the gateway and its sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    /// Maximum concurrent client connections; more are refused with SQLSTATE 53300.
    pub max_connections: u32,
    /// Maximum concurrent connections of one token identity (0 = no per-token limit).
    pub max_connections_per_token: u32,
    /// Default `statement_timeout` in milliseconds for every session (0 = none).
    pub statement_timeout_ms: u64,
    /// Time a client has to finish the startup handshake, in milliseconds.
    pub startup_timeout_ms: u64,
    /// Largest frontend message accepted, in bytes.
    pub max_message_bytes: usize,
    /// DuckDB `memory_limit` for each database instance (e.g. `4GB`); unset = 75% of the
    /// container's memory limit (cgroup) when there is one, else DuckDB's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<String>,
    /// DuckDB `threads` for each database instance; unset = derived from the container's CPU
    /// limit (cgroup), else the machine's CPU count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
    /// Threads serving client connections, each a single-threaded async runtime owning the
    /// connections pinned to it; unset = four per core (cgroup CPU limit, else the machine's
    /// CPUs); 0 = connections share the process's general async workers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_threads: Option<u32>,
    /// Default `idle_in_transaction_session_timeout` in milliseconds (0 = none).
    pub idle_in_transaction_timeout_ms: u64,
    /// Default `idle_session_timeout` in milliseconds (0 = none).
    pub idle_session_timeout_ms: u64,
    /// On SIGTERM, how long running statements and open transactions may take to finish
    /// before their sessions are closed with 57P01.
    pub drain_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1000,
            max_connections_per_token: 0,
            statement_timeout_ms: 0,
            startup_timeout_ms: 10_000,
            max_message_bytes: 64 * 1024 * 1024,
            memory_limit: None,
            threads: None,
            connection_threads: None,
            idle_in_transaction_timeout_ms: 0,
            idle_session_timeout_ms: 0,
            drain_timeout_ms: 30_000,
        }
    }
}

/// Log output settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `duckgate_gateway=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// TLS settings. With no certificate configured, the gateway generates its own CA and server
/// certificate under `<dataDir>/tls` (the embedded default).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsConfig {
    /// PEM certificate chain (`tls.crt` of a Kubernetes TLS Secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// PEM private key (`tls.key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Optional CA bundle (`ca.crt`), published for clients' `sslrootcert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Accept connections without TLS. Only allowed when `listen` is a loopback address.
    pub allow_plaintext: bool,
}

/// How clients authenticate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthConfig {
    /// Token file (YAML, see `duckgate-gateway token create`); default `<dataDir>/tokens.yaml`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// `scram` (SCRAM-SHA-256) or `password` (cleartext password over TLS).
    pub method: AuthMethod,
    /// Accept every client without a token. Only allowed when `listen` is a loopback address.
    pub trust: bool,
    /// Failed logins allowed per client address per minute before further attempts are refused.
    pub max_failures_per_minute: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            token_file: None,
            method: AuthMethod::Scram,
            trust: false,
            max_failures_per_minute: 10,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    Scram,
    Password,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: serde_yaml::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl GatewayConfig {
    /// Parse a YAML document.
    pub fn from_yaml(text: &str) -> Result<Self, serde_yaml::Error> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_yaml::from_str(text)
    }

    /// Read and parse a YAML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_yaml(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Render as YAML (what the operator writes into the ConfigMap).
    pub fn to_yaml(&self) -> String {
        serde_yaml::to_string(self).expect("config serializes")
    }

    /// Check cross-field rules that serde cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "listen must be HOST:PORT with an IP address, got {:?}",
                self.listen
            )));
        }
        if self.limits.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "limits.maxConnections must be at least 1".into(),
            ));
        }
        let loopback = self
            .listen
            .parse::<std::net::SocketAddr>()
            .map(|a| a.ip().is_loopback())
            .unwrap_or(false);
        if self.tls.allow_plaintext && !loopback {
            return Err(ConfigError::Invalid(
                "tls.allowPlaintext is only allowed when listen is a loopback address".into(),
            ));
        }
        if self.auth.trust && !loopback {
            return Err(ConfigError::Invalid(
                "auth.trust is only allowed when listen is a loopback address".into(),
            ));
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            return Err(ConfigError::Invalid(
                "tls.certFile and tls.keyFile must be given together".into(),
            ));
        }
        let mut names = std::collections::HashSet::new();
        for d in &self.databases {
            if !names.insert(d.name.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "database {:?} is defined twice",
                    d.name
                )));
            }
        }
        if self.databases.iter().filter(|d| d.default).count() > 1 {
            return Err(ConfigError::Invalid(
                "only one database can be the default".into(),
            ));
        }
        if let Some(admin) = &self.admin.listen {
            if admin.parse::<std::net::SocketAddr>().is_err() {
                return Err(ConfigError::Invalid(format!(
                    "admin.listen must be HOST:PORT with an IP address, got {admin:?}"
                )));
            }
        }
        if self.limits.max_message_bytes < 1024 {
            return Err(ConfigError::Invalid(
                "limits.maxMessageBytes must be at least 1024".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_document_is_default() {
        assert_eq!(
            GatewayConfig::from_yaml("").unwrap(),
            GatewayConfig::default()
        );
    }

    #[test]
    fn yaml_round_trips() {
        let mut c = GatewayConfig {
            listen: "0.0.0.0:6543".into(),
            ..Default::default()
        };
        c.limits.statement_timeout_ms = 1500;
        c.limits.memory_limit = Some("2GB".into());
        c.log.format = LogFormat::Json;
        let back = GatewayConfig::from_yaml(&c.to_yaml()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = GatewayConfig::from_yaml("listn: 1.2.3.4:5").unwrap_err();
        assert!(err.to_string().contains("listn"), "{err}");
    }

    #[test]
    fn partial_documents_keep_defaults() {
        let c = GatewayConfig::from_yaml("limits:\n  maxConnections: 7\n  connectionThreads: 0\n")
            .unwrap();
        assert_eq!(c.limits.max_connections, 7);
        assert_eq!(c.limits.connection_threads, Some(0));
        assert_eq!(c.limits.threads, None);
        assert_eq!(c.limits.startup_timeout_ms, 10_000);
        assert_eq!(c.listen, "127.0.0.1:5432");
    }

    #[test]
    fn validation_catches_bad_listen_and_zero_limits() {
        let mut c = GatewayConfig {
            listen: "localhost".into(),
            ..Default::default()
        };
        assert!(c.validate().is_err());
        c.listen = "127.0.0.1:1".into();
        c.limits.max_connections = 0;
        assert!(c.validate().is_err());
        c.limits.max_connections = 1;
        c.validate().unwrap();
    }

    #[test]
    fn database_definitions_parse() {
        let c = GatewayConfig::from_yaml(
            "databases:\n\
             - name: lake\n  default: true\n  ducklake:\n    catalog: {host: pg, database: cat, user: rw, password: {file: /s/pw}}\n    dataPath: s3://b/lake/\n    s3: {endpoint: 'minio:9000', urlStyle: path, useSsl: false, keyId: {env: KEY}, secret: {file: /s/secret}}\n\
             - name: archive\n  duckdb:\n    path: s3://b/a.duckdb\n    s3: {keyId: {env: K}, secret: {env: S}}\n\
             - name: scratch\n  local: {path: /data/scratch.duckdb}\n",
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.databases.len(), 3);
        assert!(c.databases[0].default);
        assert!(
            matches!(&c.databases[0].kind, storage::DatabaseKind::Ducklake { data_path, .. } if data_path == "s3://b/lake/")
        );
        let back = GatewayConfig::from_yaml(&c.to_yaml()).unwrap();
        assert_eq!(back, c);
        let mut twice = c.clone();
        twice.databases.push(c.databases[1].clone());
        assert!(twice.validate().is_err());
    }

    #[test]
    fn insecure_modes_are_loopback_only() {
        let mut c = GatewayConfig {
            listen: "0.0.0.0:5432".into(),
            ..Default::default()
        };
        c.validate().unwrap();
        c.tls.allow_plaintext = true;
        assert!(c.validate().is_err());
        c.tls.allow_plaintext = false;
        c.auth.trust = true;
        assert!(c.validate().is_err());
        c.listen = "127.0.0.1:5432".into();
        c.tls.allow_plaintext = true;
        c.validate().unwrap();
        c.tls.cert_file = Some("/x".into());
        assert!(c.validate().is_err());
    }
}
