//! Database instances: which dbname opens which DuckDB database, opened once per process and
//! shared by every session on it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::engine::{Database, DbError};
use crate::error::PgError;

/// The name of the embedded default database (what `md:` and an empty dbname select).
pub const DEFAULT_DATABASE: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("database \"{0}\" does not exist")]
    NotFound(String),
    #[error("invalid database name \"{0}\"")]
    InvalidName(String),
    #[error("database \"{name}\" cannot be opened: {source}")]
    Open { name: String, source: DbError },
}

impl From<RouteError> for PgError {
    fn from(e: RouteError) -> Self {
        let code = match &e {
            RouteError::NotFound(_) | RouteError::InvalidName(_) => "3D000",
            RouteError::Open { .. } => "58000",
        };
        PgError::fatal(code, e.to_string())
    }
}

/// Map a client's dbname to a database name: `md:` / empty → the default, `md:name` → name.
pub fn database_name(dbname: &str) -> Result<String, RouteError> {
    let name = dbname.strip_prefix("md:").unwrap_or(dbname);
    if name.is_empty() {
        return Ok(DEFAULT_DATABASE.to_owned());
    }
    let valid = name.len() <= 63
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        && !name.starts_with('-');
    if !valid {
        return Err(RouteError::InvalidName(dbname.to_owned()));
    }
    Ok(name.to_owned())
}

/// DuckDB options every database instance is opened with.
#[derive(Debug, Clone, Default)]
pub struct InstanceOptions {
    pub threads: Option<u32>,
    pub memory_limit: Option<String>,
}

/// Opens `<data_dir>/<name>.duckdb` on first use and keeps it open.
pub struct DatabaseRegistry {
    data_dir: PathBuf,
    allow_create: bool,
    options: InstanceOptions,
    open: Mutex<HashMap<String, Arc<Database>>>,
}

impl DatabaseRegistry {
    pub fn new(data_dir: &Path, allow_create: bool, options: InstanceOptions) -> Self {
        DatabaseRegistry {
            data_dir: data_dir.to_owned(),
            allow_create,
            options,
            open: Mutex::new(HashMap::new()),
        }
    }

    pub fn path_of(&self, name: &str) -> PathBuf {
        self.data_dir.join(format!("{name}.duckdb"))
    }

    /// Resolve a client's dbname to an open database (opening it if needed).
    pub async fn route(&self, dbname: &str) -> Result<(String, Arc<Database>), RouteError> {
        let name = database_name(dbname)?;
        let mut open = self.open.lock().await;
        if let Some(db) = open.get(&name) {
            return Ok((name, db.clone()));
        }
        let path = self.path_of(&name);
        if name != DEFAULT_DATABASE && !self.allow_create && !path.exists() {
            return Err(RouteError::NotFound(name));
        }
        let options = self.options.clone();
        let path_str = path.to_string_lossy().into_owned();
        let db = tokio::task::spawn_blocking(move || open_instance(&path_str, &options))
            .await
            .expect("open task panicked")
            .map_err(|source| RouteError::Open {
                name: name.clone(),
                source,
            })?;
        open.insert(name.clone(), db.clone());
        tracing::info!(database = %name, path = %path.display(), "database opened");
        Ok((name, db))
    }
}

/// Open one DuckDB instance with the gateway's fixed options.
pub fn open_instance(path: &str, options: &InstanceOptions) -> Result<Arc<Database>, DbError> {
    let threads = options.threads.map(|t| t.to_string());
    let mut opts: Vec<(&str, &str)> = vec![
        // extensions are never fetched or loaded implicitly at run time
        ("autoinstall_known_extensions", "false"),
        ("autoload_known_extensions", "false"),
        ("allow_community_extensions", "false"),
        ("allow_unsigned_extensions", "false"),
        // server credentials live in memory only, never in ~/.duckdb
        ("allow_persistent_secrets", "false"),
    ];
    if let Some(t) = &threads {
        opts.push(("threads", t));
    }
    if let Some(m) = &options.memory_limit {
        opts.push(("memory_limit", m));
    }
    let db = Database::open(path, &opts)?;
    lock_down(&db)?;
    Ok(db)
}

/// The sandbox's first layer, applied once per database instance before any client SQL runs
/// (and after whatever the server itself needs to load or attach): no file system or network
/// access for client SQL, and a locked configuration so no SET/RESET/PRAGMA can undo it.
/// `enable_external_access` must be set at run time, after extensions are loaded: given at
/// open it would also block the server's own LOAD.
pub fn lock_down(db: &Arc<Database>) -> Result<(), DbError> {
    let conn = db.connect()?;
    conn.execute_batch(
        "SET GLOBAL enable_external_access = false; \
         SET GLOBAL lock_configuration = true;",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbname_routing() {
        assert_eq!(database_name("").unwrap(), DEFAULT_DATABASE);
        assert_eq!(database_name("md:").unwrap(), DEFAULT_DATABASE);
        assert_eq!(database_name("md:sales").unwrap(), "sales");
        assert_eq!(database_name("sales_2024").unwrap(), "sales_2024");
        assert!(database_name("../etc/passwd").is_err());
        assert!(database_name("a/b").is_err());
        assert!(database_name("-x").is_err());
    }
}
