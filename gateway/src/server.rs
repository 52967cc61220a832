//! The listener and the process-wide state every connection shares.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use duckgate_config::GatewayConfig;
use tokio::net::TcpListener;

use crate::session::stream::CancelState;
use crate::storage::{DatabaseRegistry, InstanceOptions};

/// State shared by all connections of one gateway process.
pub struct Shared {
    pub config: GatewayConfig,
    pub registry: DatabaseRegistry,
    cancel_keys: Mutex<HashMap<i32, (i32, Arc<CancelState>)>>,
    connections: Arc<AtomicUsize>,
}

/// Holds one of `maxConnections` until dropped.
pub struct ConnectionSlot(Arc<AtomicUsize>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shared {
    pub fn new(config: GatewayConfig) -> Self {
        let registry = DatabaseRegistry::new(
            &config.data_dir,
            config.allow_create_databases,
            InstanceOptions {
                threads: config.limits.threads,
                memory_limit: config.limits.memory_limit.clone(),
            },
        );
        Shared {
            config,
            registry,
            cancel_keys: Mutex::new(HashMap::new()),
            connections: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn try_acquire_connection(&self) -> Option<ConnectionSlot> {
        let max = self.config.limits.max_connections as usize;
        let prev = self.connections.fetch_add(1, Ordering::SeqCst);
        let slot = ConnectionSlot(self.connections.clone());
        (prev < max).then_some(slot)
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

/// A bound gateway, ready to serve.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl Server {
    pub async fn bind(config: GatewayConfig) -> anyhow::Result<Self> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir)?;
        let listener = TcpListener::bind(&config.listen).await?;
        Ok(Server {
            listener,
            shared: Arc::new(Shared::new(config)),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
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
