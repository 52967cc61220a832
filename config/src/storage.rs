//! Database definitions: what each dbname serves, and where its credentials come from.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A credential kept outside the config: a file (a mounted Kubernetes Secret key) or an
/// environment variable. Exactly one of the two.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

impl SecretRef {
    /// Read the value (trailing newlines removed, as Secret files often have one).
    pub fn read(&self) -> Result<String, String> {
        let v = match (&self.file, &self.env) {
            (Some(p), None) => std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read credential file {}: {e}", p.display()))?,
            (None, Some(name)) => std::env::var(name)
                .map_err(|_| format!("environment variable {name} is not set"))?,
            _ => return Err("a credential needs exactly one of `file` or `env`".into()),
        };
        Ok(v.trim_end_matches(['\n', '\r']).to_owned())
    }
}

/// An S3-compatible object store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Config {
    /// `host:port` of the service (no scheme); unset = AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default = "default_region")]
    pub region: String,
    /// `path` or `vhost`.
    #[serde(default = "default_url_style")]
    pub url_style: String,
    #[serde(default = "yes")]
    pub use_ssl: bool,
    pub key_id: SecretRef,
    pub secret: SecretRef,
}

fn default_region() -> String {
    "us-east-1".into()
}
fn default_url_style() -> String {
    "vhost".into()
}
fn yes() -> bool {
    true
}

/// The PostgreSQL server holding a DuckLake catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CatalogConfig {
    pub host: String,
    #[serde(default = "default_pg_port")]
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: SecretRef,
    /// PostgreSQL schema of the DuckLake metadata tables (default: DuckLake's own default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

fn default_pg_port() -> u16 {
    5432
}

/// What a database is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum DatabaseKind {
    /// DuckLake: catalog in PostgreSQL, data files under `dataPath` on S3.
    Ducklake {
        catalog: CatalogConfig,
        /// `s3://bucket/prefix/`
        data_path: String,
        s3: S3Config,
        #[serde(default)]
        read_only: bool,
    },
    /// A DuckDB database file on object storage, attached read-only.
    Duckdb { path: String, s3: S3Config },
    /// A DuckDB file on a local path or volume (one writer).
    Local { path: PathBuf },
}

/// One database clients can connect to with `dbname=<name>`.
/// (No `deny_unknown_fields` here: serde does not support it with `flatten`; the kind's own
/// fields are still checked.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseConfig {
    pub name: String,
    /// The database `md:` and an empty dbname select.
    #[serde(default)]
    pub default: bool,
    #[serde(flatten)]
    pub kind: DatabaseKind,
}

/// Server-wide object storage for `read_parquet('s3://…')` and friends, limited to prefixes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectStoreConfig {
    pub s3: S3Config,
    /// Prefixes clients may read, e.g. `s3://bucket/shared/`.
    pub allowed_prefixes: Vec<String>,
}
