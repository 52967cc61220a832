//! Database instances: which dbname opens which DuckDB database, opened once per process and
//! shared by every session on it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Mutex;

use duckgate_config::storage::{DatabaseConfig, DatabaseKind, S3Config};
use duckgate_config::GatewayConfig;

use crate::engine::{Database, DbError};
use crate::error::PgError;
use crate::sql::{quote_ident as ident, quote_literal as lit};

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
    #[error("database \"{name}\" is not available right now: {cause}")]
    Unavailable { name: String, cause: String },
}

impl From<RouteError> for PgError {
    fn from(e: RouteError) -> Self {
        let code = match &e {
            RouteError::NotFound(_) | RouteError::InvalidName(_) => "3D000",
            RouteError::Open { .. } => "58000",
            // cannot_connect_now: pools retry, as with a starting PostgreSQL
            RouteError::Unavailable { .. } => "57P03",
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

/// An open database: its instance and, for attached kinds, the catalog sessions `USE`.
#[derive(Clone)]
pub struct OpenDatabase {
    pub db: Arc<Database>,
    pub catalog: Option<String>,
}

/// A configured database: open, or waiting for its catalog or storage to come back.
pub struct ConfiguredDatabase {
    config: DatabaseConfig,
    state: std::sync::RwLock<Result<OpenDatabase, String>>,
}

impl ConfiguredDatabase {
    pub fn is_open(&self) -> bool {
        self.state.read().unwrap().is_ok()
    }
}

/// Configured databases (opened at start-up, retried in the background while their
/// dependencies are unreachable) and the embedded default's `<data_dir>/<name>.duckdb` files
/// (opened on first use); all kept open.
pub struct DatabaseRegistry {
    data_dir: PathBuf,
    allow_create: bool,
    options: InstanceOptions,
    default_name: String,
    configured: HashMap<String, Arc<ConfiguredDatabase>>,
    open: Mutex<HashMap<String, Arc<Database>>>,
}

impl DatabaseRegistry {
    pub fn new(data_dir: &Path, allow_create: bool, options: InstanceOptions) -> Self {
        DatabaseRegistry {
            data_dir: data_dir.to_owned(),
            allow_create,
            options,
            default_name: DEFAULT_DATABASE.to_owned(),
            configured: HashMap::new(),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Try to open every configured database now (extensions, secrets, ATTACH, lock-down).
    /// One whose catalog or storage cannot be reached is logged with its cause and left for
    /// [`DatabaseRegistry::retry_unavailable`]; the others serve meanwhile.
    pub fn open_configured(&mut self, config: &GatewayConfig) {
        for d in &config.databases {
            if d.default {
                self.default_name = d.name.clone();
            }
            let state = open_logged(d, config, &self.options);
            self.configured.insert(
                d.name.clone(),
                Arc::new(ConfiguredDatabase {
                    config: d.clone(),
                    state: std::sync::RwLock::new(state),
                }),
            );
        }
    }

    /// True when every configured database is open (the readiness of the gateway).
    pub fn all_open(&self) -> bool {
        self.configured.values().all(|d| d.is_open())
    }

    /// Configured databases that are not attached, with the cause (for `/readyz`).
    pub fn unavailable(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .configured
            .iter()
            .filter_map(|(name, d)| match &*d.state.read().unwrap() {
                Ok(_) => None,
                Err(cause) => Some((name.clone(), cause.clone())),
            })
            .collect();
        out.sort();
        out
    }

    /// Bytes held by each open instance's buffer manager (`duckdb_memory()`). Blocking.
    pub fn memory_usage(&self) -> Vec<(String, i64)> {
        let mut instances: Vec<(String, Arc<Database>)> = self
            .configured
            .iter()
            .filter_map(|(name, d)| {
                let state = d.state.read().unwrap();
                state.as_ref().ok().map(|o| (name.clone(), o.db.clone()))
            })
            .collect();
        instances.extend(
            self.open
                .blocking_lock()
                .iter()
                .map(|(n, db)| (n.clone(), db.clone())),
        );
        instances
            .into_iter()
            .filter_map(|(name, db)| {
                let conn = db.connect().ok()?;
                let v = conn
                    .query_strings(
                        "SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT::VARCHAR FROM duckdb_memory()",
                    )
                    .ok()?;
                let bytes = v.first()?.as_deref()?.parse().ok()?;
                Some((name, bytes))
            })
            .collect()
    }

    /// Reopen configured databases that are not open yet (called periodically).
    pub fn retry_unavailable(&self, config: &GatewayConfig) {
        for d in self.configured.values().filter(|d| !d.is_open()) {
            let state = open_logged(&d.config, config, &self.options);
            *d.state.write().unwrap() = state;
        }
    }

    pub fn path_of(&self, name: &str) -> PathBuf {
        self.data_dir.join(format!("{name}.duckdb"))
    }

    /// The database name a client's dbname means (`md:` → the default).
    pub fn resolve(&self, dbname: &str) -> Result<String, RouteError> {
        let name = database_name(dbname)?;
        Ok(if name == DEFAULT_DATABASE {
            self.default_name.clone()
        } else {
            name
        })
    }

    /// Resolve a client's dbname to an open database (opening a local file if needed).
    pub async fn route(&self, dbname: &str) -> Result<(String, OpenDatabase), RouteError> {
        let name = self.resolve(dbname)?;
        if let Some(d) = self.configured.get(&name) {
            return match &*d.state.read().unwrap() {
                Ok(open) => Ok((name, open.clone())),
                Err(cause) => Err(RouteError::Unavailable {
                    name: name.clone(),
                    cause: cause.clone(),
                }),
            };
        }
        if !self.configured.is_empty() && name != DEFAULT_DATABASE {
            return Err(RouteError::NotFound(name));
        }
        let mut open = self.open.lock().await;
        if let Some(db) = open.get(&name) {
            return Ok((
                name,
                OpenDatabase {
                    db: db.clone(),
                    catalog: None,
                },
            ));
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
        Ok((name, OpenDatabase { db, catalog: None }))
    }
}

/// The options every database instance is opened with.
fn instance_options(
    options: &InstanceOptions,
    extension_dir: Option<&Path>,
) -> Vec<(String, String)> {
    let mut opts: Vec<(String, String)> = [
        // extensions are never fetched or loaded implicitly at run time
        ("autoinstall_known_extensions", "false"),
        ("autoload_known_extensions", "false"),
        ("allow_community_extensions", "false"),
        ("allow_unsigned_extensions", "false"),
        // server credentials live in memory only, never in ~/.duckdb
        ("allow_persistent_secrets", "false"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if let Some(dir) = extension_dir {
        opts.push((
            "extension_directory".into(),
            dir.to_string_lossy().into_owned(),
        ));
    }
    if let Some(t) = options.threads {
        opts.push(("threads".into(), t.to_string()));
    }
    if let Some(m) = &options.memory_limit {
        opts.push(("memory_limit".into(), m.clone()));
    }
    opts
}

fn open_with(path: &str, opts: &[(String, String)]) -> Result<Arc<Database>, DbError> {
    let borrowed: Vec<(&str, &str)> = opts.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Database::open(path, &borrowed)
}

/// Open one DuckDB instance with the gateway's fixed options.
pub fn open_instance(path: &str, options: &InstanceOptions) -> Result<Arc<Database>, DbError> {
    let opts = instance_options(options, None);
    let db = open_with(path, &opts)?;
    lock_down(&db, &[])?;
    Ok(db)
}

/// Open a configured database, logging the outcome (the cause, never a credential: secrets
/// are referenced by name in the ATTACH, so DuckDB's messages cannot contain them).
fn open_logged(
    d: &DatabaseConfig,
    config: &GatewayConfig,
    options: &InstanceOptions,
) -> Result<OpenDatabase, String> {
    match open_configured(d, config, options) {
        Ok(open) => {
            tracing::info!(database = %d.name, "database attached");
            Ok(open)
        }
        Err(e) => {
            let cause = e.message.lines().next().unwrap_or_default().to_owned();
            tracing::warn!(database = %d.name, %cause, "database unavailable; retrying");
            Err(cause)
        }
    }
}

fn credential(r: &duckgate_config::storage::SecretRef, what: &str) -> Result<String, DbError> {
    r.read()
        .map_err(|e| DbError::invalid_input(format!("{what}: {e}")))
}

/// `CREATE SECRET` for S3 scoped to prefixes (credentials are read now and live only in
/// DuckDB's in-memory secret store).
fn s3_secret_sql(name: &str, s3: &S3Config, scopes: &[String]) -> Result<String, DbError> {
    let mut parts = vec![
        "TYPE s3".to_owned(),
        format!("KEY_ID {}", lit(&credential(&s3.key_id, "S3 key id")?)),
        format!("SECRET {}", lit(&credential(&s3.secret, "S3 secret")?)),
        format!("REGION {}", lit(&s3.region)),
        format!("URL_STYLE {}", lit(&s3.url_style)),
        format!("USE_SSL {}", s3.use_ssl),
    ];
    if let Some(e) = &s3.endpoint {
        parts.push(format!("ENDPOINT {}", lit(e)));
    }
    if !scopes.is_empty() {
        let list: Vec<String> = scopes.iter().map(|s| lit(s)).collect();
        parts.push(format!("SCOPE [{}]", list.join(", ")));
    }
    Ok(format!(
        "CREATE SECRET {} ({})",
        ident(name),
        parts.join(", ")
    ))
}

/// Open a configured database: a private in-memory DuckDB instance with the remote database
/// attached (or the local file), the server-wide object store's secret, and the lock-down.
fn open_configured(
    d: &DatabaseConfig,
    config: &GatewayConfig,
    options: &InstanceOptions,
) -> Result<OpenDatabase, DbError> {
    let opts = instance_options(options, config.extension_directory.as_deref());
    let mut allowed: Vec<String> = Vec::new();
    let mut setup: Vec<String> = Vec::new();
    let (path, catalog) = match &d.kind {
        DatabaseKind::Local { path } => (path.to_string_lossy().into_owned(), None),
        DatabaseKind::Ducklake {
            catalog,
            data_path,
            s3,
            read_only,
        } => {
            setup.push("LOAD httpfs; LOAD postgres; LOAD ducklake".into());
            setup.push(s3_secret_sql(
                &format!("duckgate_{}_s3", d.name),
                s3,
                std::slice::from_ref(data_path),
            )?);
            let pg_secret = format!("duckgate_{}_catalog", d.name);
            setup.push(format!(
                "CREATE SECRET {} (TYPE postgres, HOST {}, PORT {}, DATABASE {}, USER {}, PASSWORD {})",
                ident(&pg_secret),
                lit(&catalog.host),
                catalog.port,
                lit(&catalog.database),
                lit(&catalog.user),
                lit(&credential(&catalog.password, "catalog password")?),
            ));
            let mut attach_opts = vec![
                format!("DATA_PATH {}", lit(data_path)),
                format!("META_SECRET {}", lit(&pg_secret)),
            ];
            if let Some(schema) = &catalog.schema {
                attach_opts.push(format!("METADATA_SCHEMA {}", lit(schema)));
            }
            if *read_only {
                attach_opts.push("READ_ONLY".into());
            }
            setup.push(format!(
                "ATTACH 'ducklake:postgres:' AS {} ({})",
                ident(&d.name),
                attach_opts.join(", ")
            ));
            allowed.push(data_path.clone());
            (":memory:".to_owned(), Some(d.name.clone()))
        }
        DatabaseKind::Duckdb { path, s3 } => {
            setup.push("LOAD httpfs".into());
            setup.push(s3_secret_sql(
                &format!("duckgate_{}_s3", d.name),
                s3,
                std::slice::from_ref(path),
            )?);
            setup.push(format!(
                "ATTACH {} AS {} (READ_ONLY)",
                lit(path),
                ident(&d.name)
            ));
            (":memory:".to_owned(), Some(d.name.clone()))
        }
    };
    if let Some(store) = &config.object_store {
        if !setup.iter().any(|s| s.starts_with("LOAD httpfs")) {
            setup.insert(0, "LOAD httpfs".into());
        }
        setup.push(s3_secret_sql(
            "duckgate_shared_s3",
            &store.s3,
            &store.allowed_prefixes,
        )?);
        allowed.extend(store.allowed_prefixes.iter().cloned());
    }
    let db = open_with(&path, &opts)?;
    {
        let conn = db.connect()?;
        for sql in &setup {
            conn.execute_batch(sql)?;
        }
    }
    lock_down(&db, &allowed)?;
    Ok(OpenDatabase { db, catalog })
}

/// The sandbox's first layer, applied once per database instance before any client SQL runs
/// (and after whatever the server itself needs to load or attach): no file system or network
/// access for client SQL, and a locked configuration so no SET/RESET/PRAGMA can undo it.
/// `enable_external_access` must be set at run time, after extensions are loaded: given at
/// open it would also block the server's own LOAD.
/// `allowed` lists the object-storage prefixes the server's own databases and the shared
/// object store live under; nothing else is reachable.
pub fn lock_down(db: &Arc<Database>, allowed: &[String]) -> Result<(), DbError> {
    let conn = db.connect()?;
    if !allowed.is_empty() {
        let list: Vec<String> = allowed.iter().map(|a| lit(a)).collect();
        conn.execute_batch(&format!(
            "SET GLOBAL allowed_directories = [{}]",
            list.join(", ")
        ))?;
    }
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

/// Maintenance statements for one DuckLake catalog, in order: flush inlined rows to files,
/// merge adjacent small files, expire snapshots older than the retention, then delete files
/// no live snapshot references (old enough that no running query can still read them).
pub const MAINTENANCE_STEPS: usize = 5;

pub fn maintenance_sql(catalog: &str, cutoff_utc: &str) -> Vec<String> {
    let c = lit(catalog);
    // a literal instant: TIMESTAMPTZ arithmetic would need the ICU extension
    let older = format!("TIMESTAMPTZ {}", lit(cutoff_utc));
    vec![
        format!("CALL ducklake_flush_inlined_data({c})"),
        format!("CALL ducklake_merge_adjacent_files({c})"),
        format!("SELECT count(*) FROM ducklake_expire_snapshots({c}, older_than => {older})"),
        format!("CALL ducklake_cleanup_old_files({c}, older_than => {older})"),
        format!("CALL ducklake_delete_orphaned_files({c}, older_than => {older})"),
    ]
}

/// Run maintenance on the configured DuckLake databases (all, or `only`).
/// `retention` keeps snapshots and files younger than it (`30s`, `15min`, `6h`, `7d`).
pub fn run_maintenance(
    config: &GatewayConfig,
    only: Option<&str>,
    retention: &str,
) -> Result<Vec<String>, DbError> {
    let ms = crate::session::settings::parse_duration_ms(retention).ok_or_else(|| {
        DbError::invalid_input(format!(
            "invalid retention {retention:?}: use e.g. 30s, 15min, 6h, 7d"
        ))
    })?;
    // the cutoff moves with each step, so files a merge just replaced count as old enough
    // once the retention has passed (with 0s: at once)
    let cutoff = || {
        (chrono::Utc::now() - chrono::Duration::milliseconds(ms as i64))
            .format("%Y-%m-%d %H:%M:%S%.6f+00")
            .to_string()
    };
    let mut done = Vec::new();
    for d in &config.databases {
        if !matches!(d.kind, DatabaseKind::Ducklake { .. }) || only.is_some_and(|o| o != d.name) {
            continue;
        }
        let opened = open_configured(d, config, &InstanceOptions::default())?;
        let conn = opened.db.connect()?;
        for step in 0..MAINTENANCE_STEPS {
            conn.query_strings(&maintenance_sql(&d.name, &cutoff())[step])?;
        }
        done.push(d.name.clone());
    }
    Ok(done)
}

#[cfg(test)]
mod maintenance_tests {
    #[test]
    fn maintenance_statements_quote_their_inputs() {
        let sql = super::maintenance_sql("la'ke", "2026-01-01 00:00:00+00");
        assert_eq!(sql.len(), super::MAINTENANCE_STEPS);
        assert!(sql[0].contains("'la''ke'"));
        assert!(sql[2].contains("older_than => TIMESTAMPTZ '2026-01-01 00:00:00+00'"));
    }
}
