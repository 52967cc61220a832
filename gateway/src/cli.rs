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
    Serve(ServeArgs),
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// YAML config file (see docs/configuration.md).
    #[arg(long, env = "DUCKGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Listen address, HOST:PORT.
    #[arg(long, env = "DUCKGATE_LISTEN")]
    pub listen: Option<String>,
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
    /// Log format: text or json.
    #[arg(long, env = "DUCKGATE_LOG_FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,
    /// Log filter, e.g. info or duckgate_gateway=debug.
    #[arg(long, env = "DUCKGATE_LOG_LEVEL")]
    pub log_level: Option<String>,
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
        let Command::Serve(a) = cli.command;
        assert_eq!(a.resolve().unwrap().limits.max_connections, 9);
        let cli =
            Cli::try_parse_from(["duckgate-gateway", "serve", "--max-connections", "3"]).unwrap();
        let Command::Serve(a) = cli.command;
        assert_eq!(a.resolve().unwrap().limits.max_connections, 3);
        std::env::remove_var("DUCKGATE_MAX_CONNECTIONS");
    }
}
