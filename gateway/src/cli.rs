//! Command line: flags override environment variables, which override the config file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use duckgate_config::{GatewayConfig, LogFormat};

#[derive(Debug, Parser)]
#[command(
    name = "duckgate-gateway",
    version,
    about = "PostgreSQL wire-protocol endpoint for DuckDB"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the PostgreSQL protocol (the embedded default: ./duckgate-data on 127.0.0.1:5432).
    Serve(Box<ServeArgs>),
    /// Manage access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// DuckLake maintenance: merge small files, expire old snapshots, delete unreferenced files.
    /// Safe while gateways serve: only snapshots and files older than --retention go.
    Maintenance(MaintenanceArgs),
}

#[derive(Debug, Args)]
pub struct MaintenanceArgs {
    /// The gateway config file with the databases.
    #[arg(long, env = "DUCKGATE_CONFIG")]
    pub config: PathBuf,
    /// Only this database (default: every DuckLake database).
    #[arg(long)]
    pub database: Option<String>,
    /// Keep snapshots and files younger than this: 30s, 15min, 6h, 7d.
    #[arg(long, default_value = "1d")]
    pub retention: String,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token: prints it once, on the last line of stdout; only its verifier is stored.
    Create(TokenCreateArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// Identity of the token (reported in logs and metrics).
    #[arg(long)]
    pub name: String,
    /// Databases the token may open (comma-separated); all when omitted.
    #[arg(long, value_delimiter = ',')]
    pub databases: Vec<String>,
    /// The token cannot write.
    #[arg(long)]
    pub read_only: bool,
    /// Data directory whose tokens.yaml receives the token.
    #[arg(long, conflicts_with = "token_file")]
    pub data_dir: Option<PathBuf>,
    /// Token file to write (created if missing).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}

impl TokenCreateArgs {
    pub fn token_file(&self) -> PathBuf {
        match (&self.token_file, &self.data_dir) {
            (Some(f), _) => f.clone(),
            (None, Some(d)) => d.join("tokens.yaml"),
            (None, None) => PathBuf::from("./duckgate-data/tokens.yaml"),
        }
    }
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// YAML config file (see docs/configuration.md).
    #[arg(long, env = "DUCKGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Listen address, HOST:PORT.
    #[arg(long, env = "DUCKGATE_LISTEN")]
    pub listen: Option<String>,
    /// HTTP admin listener (/healthz, /readyz, /metrics), HOST:PORT.
    #[arg(long, env = "DUCKGATE_ADMIN_LISTEN")]
    pub admin_listen: Option<String>,
    /// On SIGTERM, how long statements and transactions may run before sessions are closed.
    #[arg(long, env = "DUCKGATE_DRAIN_TIMEOUT_MS")]
    pub drain_timeout_ms: Option<u64>,
    /// Data directory of the embedded default database.
    #[arg(long, env = "DUCKGATE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Let an unknown dbname create `<name>.duckdb` in the data directory.
    #[arg(long, env = "DUCKGATE_ALLOW_CREATE_DATABASES")]
    pub allow_create_databases: Option<bool>,
    /// Maximum concurrent connections.
    #[arg(long, env = "DUCKGATE_MAX_CONNECTIONS")]
    pub max_connections: Option<u32>,
    /// Default statement_timeout in milliseconds (0 = none).
    #[arg(long, env = "DUCKGATE_STATEMENT_TIMEOUT_MS")]
    pub statement_timeout_ms: Option<u64>,
    /// DuckDB memory_limit per database (e.g. 4GB).
    #[arg(long, env = "DUCKGATE_MEMORY_LIMIT")]
    pub memory_limit: Option<String>,
    /// DuckDB threads per database.
    #[arg(long, env = "DUCKGATE_THREADS")]
    pub threads: Option<u32>,
    /// Threads serving client connections (0 = the general async workers; default 4 per core).
    #[arg(long, env = "DUCKGATE_CONNECTION_THREADS")]
    pub connection_threads: Option<u32>,
    /// Log format: text or json.
    #[arg(long, env = "DUCKGATE_LOG_FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,
    /// Log filter, e.g. info or duckgate_gateway=debug.
    #[arg(long, env = "DUCKGATE_LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Token file (default <data-dir>/tokens.yaml).
    #[arg(long, env = "DUCKGATE_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// Authentication method: scram or password (cleartext over TLS).
    #[arg(long, env = "DUCKGATE_AUTH_METHOD", value_parser = ["scram", "password"])]
    pub auth_method: Option<String>,
    /// Accept clients without a token (loopback listen addresses only).
    #[arg(long, env = "DUCKGATE_AUTH_TRUST")]
    pub auth_trust: Option<bool>,
    /// Accept connections without TLS (loopback listen addresses only).
    #[arg(long, env = "DUCKGATE_ALLOW_PLAINTEXT")]
    pub allow_plaintext: Option<bool>,
    /// PEM certificate chain; without one the gateway makes its own CA under <data-dir>/tls.
    #[arg(long, env = "DUCKGATE_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "DUCKGATE_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
}

impl ServeArgs {
    /// The effective configuration: file, then environment/flags (clap already resolved
    /// flag-over-environment for each key).
    pub fn resolve(&self) -> anyhow::Result<GatewayConfig> {
        let mut c = match &self.config {
            Some(p) => GatewayConfig::from_file(p)?,
            None => GatewayConfig::default(),
        };
        if let Some(v) = &self.listen {
            c.listen = v.clone();
        }
        if let Some(v) = &self.admin_listen {
            c.admin.listen = Some(v.clone());
        }
        if let Some(v) = self.drain_timeout_ms {
            c.limits.drain_timeout_ms = v;
        }
        if let Some(v) = &self.data_dir {
            c.data_dir = v.clone();
        }
        if let Some(v) = self.allow_create_databases {
            c.allow_create_databases = v;
        }
        if let Some(v) = self.max_connections {
            c.limits.max_connections = v;
        }
        if let Some(v) = self.statement_timeout_ms {
            c.limits.statement_timeout_ms = v;
        }
        if let Some(v) = &self.memory_limit {
            c.limits.memory_limit = Some(v.clone());
        }
        if let Some(v) = self.connection_threads {
            c.limits.connection_threads = Some(v);
        }
        if let Some(v) = self.threads {
            c.limits.threads = Some(v);
        }
        if let Some(v) = &self.log_format {
            c.log.format = if v == "json" {
                LogFormat::Json
            } else {
                LogFormat::Text
            };
        }
        if let Some(v) = &self.log_level {
            c.log.level = v.clone();
        }
        if let Some(v) = &self.token_file {
            c.auth.token_file = Some(v.clone());
        }
        if let Some(v) = &self.auth_method {
            c.auth.method = if v == "password" {
                duckgate_config::AuthMethod::Password
            } else {
                duckgate_config::AuthMethod::Scram
            };
        }
        if let Some(v) = self.auth_trust {
            c.auth.trust = v;
        }
        if let Some(v) = self.allow_plaintext {
            c.tls.allow_plaintext = v;
        }
        if let Some(v) = &self.tls_cert {
            c.tls.cert_file = Some(v.clone());
        }
        if let Some(v) = &self.tls_key {
            c.tls.key_file = Some(v.clone());
        }
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file() {
        let dir = std::env::temp_dir().join(format!("dg-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.yaml");
        std::fs::write(
            &file,
            "listen: 127.0.0.1:7000\nlimits:\n  maxConnections: 5\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(file),
            listen: Some("127.0.0.1:7001".into()),
            ..Default::default()
        };
        let c = args.resolve().unwrap();
        assert_eq!(c.listen, "127.0.0.1:7001");
        assert_eq!(c.limits.max_connections, 5);
    }

    #[test]
    fn env_is_read_and_flag_wins() {
        // clap resolves flag > env per key; check both paths through the real parser
        std::env::set_var("DUCKGATE_MAX_CONNECTIONS", "9");
        let cli = Cli::try_parse_from(["duckgate-gateway", "serve"]).unwrap();
        let Command::Serve(a) = cli.command else {
            panic!()
        };
        assert_eq!(a.resolve().unwrap().limits.max_connections, 9);
        let cli =
            Cli::try_parse_from(["duckgate-gateway", "serve", "--max-connections", "3"]).unwrap();
        let Command::Serve(a) = cli.command else {
            panic!()
        };
        assert_eq!(a.resolve().unwrap().limits.max_connections, 3);
        std::env::remove_var("DUCKGATE_MAX_CONNECTIONS");
    }
}
