//! The listener and the process-wide state every connection shares.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use duckgate_config::GatewayConfig;
use tokio::net::TcpListener;

use crate::auth::{FailureLimiter, TokenStore};
use crate::cgroup::ContainerLimits;
use crate::metrics::Metrics;
use crate::session::stream::{CancelState, CANCEL_SHUTDOWN};
use crate::shards::{self, ConnectionThreads};
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
    pub metrics: Arc<Metrics>,
    cancel_keys: Mutex<HashMap<i32, (i32, Arc<CancelState>)>>,
    connections: Arc<AtomicUsize>,
    per_token: Arc<Mutex<HashMap<String, usize>>>,
    /// Connection tasks alive (including ones still in the startup handshake).
    live: Arc<AtomicUsize>,
    drain: tokio::sync::watch::Sender<DrainState>,
    /// The threads connections run on; `None`: the general async workers. Held here, not
    /// by the listener, so that draining connections keep their threads after it closes.
    connection_threads: Option<ConnectionThreads>,
}

/// Where the gateway is in a graceful shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainState {
    Serving,
    /// Not accepting, not ready: idle sessions close now, busy ones when their statement or
    /// transaction ends.
    Draining,
    /// The deadline passed: every session closes now.
    Closing,
}

/// Counts a connection task as alive until dropped.
pub struct LiveConnection {
    live: Arc<AtomicUsize>,
    metrics: Arc<Metrics>,
}

impl Drop for LiveConnection {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
        self.metrics.connections_current.dec();
    }
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
        connection_threads: Option<ConnectionThreads>,
    ) -> Self {
        Shared {
            connection_threads,
            tls,
            client_ca,
            limiter: FailureLimiter::new(config.auth.max_failures_per_minute),
            tokens,
            config,
            registry,
            metrics: Arc::new(Metrics::new()),
            cancel_keys: Mutex::new(HashMap::new()),
            connections: Arc::new(AtomicUsize::new(0)),
            per_token: Arc::new(Mutex::new(HashMap::new())),
            live: Arc::new(AtomicUsize::new(0)),
            drain: tokio::sync::watch::channel(DrainState::Serving).0,
        }
    }

    /// A connection was accepted: count it until the returned guard drops.
    pub fn connection_opened(&self) -> LiveConnection {
        self.live.fetch_add(1, Ordering::SeqCst);
        self.metrics.connections_total.inc();
        self.metrics.connections_current.inc();
        LiveConnection {
            live: self.live.clone(),
            metrics: self.metrics.clone(),
        }
    }

    pub fn live_connections(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    pub fn drain_state(&self) -> DrainState {
        *self.drain.borrow()
    }

    pub fn watch_drain(&self) -> tokio::sync::watch::Receiver<DrainState> {
        self.drain.subscribe()
    }

    /// Ready for traffic: every configured database attached and not shutting down. (TLS
    /// material is loaded before the listener exists, and a failed reload keeps the previous
    /// certificate serving.)
    pub fn is_ready(&self) -> bool {
        self.drain_state() == DrainState::Serving && self.registry.all_open()
    }

    /// Graceful shutdown: stop accepting and report not-ready, give running statements and
    /// open transactions up to `deadline` to finish (idle sessions close at once), then close
    /// the rest with 57P01. Returns when every connection is gone (or 5 s after the deadline).
    pub async fn shutdown(&self, deadline: std::time::Duration) {
        self.metrics.draining.set(1);
        self.drain.send_replace(DrainState::Draining);
        tracing::info!(
            connections = self.live_connections(),
            deadline_ms = deadline.as_millis() as u64,
            "draining"
        );
        let until = tokio::time::Instant::now() + deadline;
        while self.live_connections() > 0 && tokio::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if self.live_connections() > 0 {
            tracing::info!(
                connections = self.live_connections(),
                "drain deadline reached; closing sessions"
            );
        }
        self.drain.send_replace(DrainState::Closing);
        for (_, target) in self.cancel_keys.lock().unwrap().values() {
            target.cancel(CANCEL_SHUTDOWN);
        }
        let until = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while self.live_connections() > 0 && tokio::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        tracing::info!(left = self.live_connections(), "drained");
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

/// DuckDB threads and memory: configured, else derived from the container's cgroup limits.
fn instance_options(config: &GatewayConfig, limits: &ContainerLimits) -> InstanceOptions {
    let options = InstanceOptions {
        threads: crate::cgroup::derive_threads(config.limits.threads, limits),
        memory_limit: crate::cgroup::derive_memory_limit(
            config.limits.memory_limit.as_deref(),
            limits,
        ),
    };
    tracing::info!(
        threads = ?options.threads,
        memory_limit = ?options.memory_limit,
        cgroup_memory = ?limits.memory_bytes,
        cgroup_cpus = ?limits.cpus,
        "DuckDB resources"
    );
    options
}

/// The connection threads: configured, else [`shards::DEFAULT_THREADS_PER_CORE`] per core of
/// the container's CPU limit; `None` for 0 (or when no thread could be started: the general
/// async workers serve connections then).
fn connection_threads(
    config: &GatewayConfig,
    limits: &ContainerLimits,
) -> Option<ConnectionThreads> {
    let n = crate::cgroup::derive_connection_threads(
        config.limits.connection_threads,
        limits,
        shards::DEFAULT_THREADS_PER_CORE,
    );
    let threads = match n {
        0 => None,
        n => match ConnectionThreads::start(n) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(error = %e, "no connection threads; using the async workers");
                None
            }
        },
    };
    tracing::info!(
        connection_threads = threads.as_ref().map_or(0, |t| t.len()),
        "connection threads"
    );
    threads
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
        let limits = crate::cgroup::read_limits(std::path::Path::new("/sys/fs/cgroup"));
        let mut registry = DatabaseRegistry::new(
            &config.data_dir,
            config.allow_create_databases,
            instance_options(&config, &limits),
        );
        let cfg = config.clone();
        registry = tokio::task::spawn_blocking(move || {
            registry.open_configured(&cfg);
            registry
        })
        .await?;
        let listener = TcpListener::bind(&config.listen).await?;
        let threads = connection_threads(&config, &limits);
        let shared = Arc::new(Shared::new(
            registry, config, tokens, acceptor, client_ca, threads,
        ));
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

    /// Accept connections until a drain starts (or the task is dropped).
    pub async fn run(self) -> anyhow::Result<()> {
        tracing::info!(listen = %self.local_addr(), "gateway listening");
        let mut drain = self.shared.watch_drain();
        loop {
            let accepted = tokio::select! {
                biased;
                _ = drain.wait_for(|s| *s != DrainState::Serving) => {
                    tracing::info!("listener closed");
                    return Ok(());
                }
                a = self.listener.accept() => a,
            };
            let (tcp, _) = match accepted {
                Ok(c) => c,
                Err(e) => {
                    // e.g. out of file descriptors: keep serving the connections we have
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let shared = self.shared.clone();
            let serve = |tcp| crate::protocol::connection::serve_connection(tcp, shared);
            match &self.shared.connection_threads {
                Some(threads) => threads.spawn(tcp, serve),
                None => {
                    tokio::spawn(serve(tcp));
                }
            }
        }
    }
}
