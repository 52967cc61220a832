//! The listener and the process-wide state every connection shares.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use duckgate_config::GatewayConfig;
use tokio::net::TcpListener;

use crate::auth::{FailureLimiter, TokenStore};
use crate::session::stream::CancelState;
use crate::storage::{DatabaseRegistry, InstanceOptions};
use crate::tls::{self, ReloadingAcceptor, TlsPaths};

/// State shared by all connections of one gateway process.
pub struct Shared {
    pub config: GatewayConfig,
    pub registry: DatabaseRegistry,
    /// TLS material, reloaded when the files change.
    pub tls: Arc<ReloadingAcceptor>,
    /// The CA clients should trust (`sslrootcert`), when known.
    pub client_ca: Option<std::path::PathBuf>,
    /// Token store; `None` under `auth.trust`.
    pub tokens: Option<Arc<TokenStore>>,
    pub limiter: FailureLimiter,
    cancel_keys: Mutex<HashMap<i32, (i32, Arc<CancelState>)>>,
    connections: Arc<AtomicUsize>,
    per_token: Arc<Mutex<HashMap<String, usize>>>,
}

/// Holds one of `maxConnections` until dropped.
pub struct ConnectionSlot(Arc<AtomicUsize>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Holds one of a token identity's `maxConnectionsPerToken` until dropped.
pub struct TokenSlot {
    counts: Arc<Mutex<HashMap<String, usize>>>,
    identity: String,
}

impl Drop for TokenSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap();
        if let Some(n) = counts.get_mut(&self.identity) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.identity);
            }
        }
    }
}

impl Shared {
    pub fn new(
        registry: DatabaseRegistry,
        config: GatewayConfig,
        tokens: Option<Arc<TokenStore>>,
        tls: Arc<ReloadingAcceptor>,
        client_ca: Option<std::path::PathBuf>,
    ) -> Self {
        Shared {
            tls,
            client_ca,
            limiter: FailureLimiter::new(config.auth.max_failures_per_minute),
            tokens,
            config,
            registry,
            cancel_keys: Mutex::new(HashMap::new()),
            connections: Arc::new(AtomicUsize::new(0)),
            per_token: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn try_acquire_connection(&self) -> Option<ConnectionSlot> {
        let max = self.config.limits.max_connections as usize;
        let prev = self.connections.fetch_add(1, Ordering::SeqCst);
        let slot = ConnectionSlot(self.connections.clone());
        (prev < max).then_some(slot)
    }

    /// A connection slot for a token identity, unless it is at `maxConnectionsPerToken`.
    pub fn try_acquire_token_slot(&self, identity: &str) -> Option<TokenSlot> {
        let max = self.config.limits.max_connections_per_token as usize;
        let mut counts = self.per_token.lock().unwrap();
        let n = counts.entry(identity.to_owned()).or_insert(0);
        if max > 0 && *n >= max {
            return None;
        }
        *n += 1;
        Some(TokenSlot {
            counts: self.per_token.clone(),
            identity: identity.to_owned(),
        })
    }

    pub fn active_connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Register a session for cancel requests; returns its (pid, secret).
    pub fn register_cancel(&self, target: Arc<CancelState>) -> (i32, i32) {
        let mut keys = self.cancel_keys.lock().unwrap();
        loop {
            let pid = rand::random::<i32>() & 0x7fff_ffff;
            if pid != 0 && !keys.contains_key(&pid) {
                let secret = rand::random::<i32>();
                keys.insert(pid, (secret, target));
                return (pid, secret);
            }
        }
    }

    pub fn unregister_cancel(&self, pid: i32) {
        self.cancel_keys.lock().unwrap().remove(&pid);
    }

    /// The session a CancelRequest names, if pid and secret both match (compared in constant time).
    pub fn cancel_target(&self, pid: i32, secret: i32) -> Option<Arc<CancelState>> {
        let keys = self.cancel_keys.lock().unwrap();
        let (s, target) = keys.get(&pid)?;
        let equal = (s ^ secret) == 0;
        equal.then(|| target.clone())
    }
}

/// Reopen unavailable configured databases every 2 seconds until all are open.
fn spawn_database_retries(shared: &Arc<Shared>) {
    if shared.registry.all_open() {
        return;
    }
    let weak = Arc::downgrade(shared);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            let Some(shared) = weak.upgrade() else { return };
            let s = shared.clone();
            let _ =
                tokio::task::spawn_blocking(move || s.registry.retry_unavailable(&s.config)).await;
            if shared.registry.all_open() {
                tracing::info!("all databases attached");
                return;
            }
        }
    });
}

/// The token file in use: `auth.tokenFile`, or `<dataDir>/tokens.yaml`.
pub fn token_file_path(config: &GatewayConfig) -> std::path::PathBuf {
    config
        .auth
        .token_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join("tokens.yaml"))
}

/// A bound gateway, ready to serve.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl Server {
    pub async fn bind(config: GatewayConfig) -> anyhow::Result<Self> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir)?;
        let tokens = if config.auth.trust {
            None
        } else {
            let path = token_file_path(&config);
            let store = Arc::new(TokenStore::load(&path).map_err(|e| {
                anyhow::anyhow!(
                    "{e}; create a token with `duckgate-gateway token create --token-file {}`",
                    path.display()
                )
            })?);
            store.spawn_watcher(std::time::Duration::from_secs(2));
            Some(store)
        };
        let (paths, client_ca) = match (&config.tls.cert_file, &config.tls.key_file) {
            (Some(cert), Some(key)) => (
                TlsPaths {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: config.tls.ca_file.clone(),
                },
                config.tls.ca_file.clone(),
            ),
            _ => {
                // the embedded default makes its own CA and server certificate
                let dir = config.data_dir.join("tls");
                (tls::ensure_embedded_certs(&dir)?, Some(tls::ca_path(&dir)))
            }
        };
        let acceptor = Arc::new(ReloadingAcceptor::new(paths)?);
        acceptor.spawn_watcher(std::time::Duration::from_secs(2));
        let mut registry = DatabaseRegistry::new(
            &config.data_dir,
            config.allow_create_databases,
            InstanceOptions {
                threads: config.limits.threads,
                memory_limit: config.limits.memory_limit.clone(),
            },
        );
        let cfg = config.clone();
        registry = tokio::task::spawn_blocking(move || {
            registry.open_configured(&cfg);
            registry
        })
        .await?;
        let listener = TcpListener::bind(&config.listen).await?;
        let shared = Arc::new(Shared::new(registry, config, tokens, acceptor, client_ca));
        spawn_database_retries(&shared);
        Ok(Server { listener, shared })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// The CA certificate clients should use as `sslrootcert`.
    pub fn client_ca_path(&self) -> Option<std::path::PathBuf> {
        self.shared.client_ca.clone()
    }

    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Accept connections until the task is dropped.
    pub async fn run(self) -> anyhow::Result<()> {
        tracing::info!(listen = %self.local_addr(), "gateway listening");
        loop {
            let (tcp, _) = match self.listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // e.g. out of file descriptors: keep serving the connections we have
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let shared = self.shared.clone();
            tokio::spawn(crate::protocol::connection::serve_connection(tcp, shared));
        }
    }
}
