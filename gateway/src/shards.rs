//! Where client connections run: a fixed set of connection threads, each driving a
//! single-threaded tokio runtime of its own, every connection pinned to one of them.
//!
//! Why not tokio's shared work-stealing workers: most statements run inline on the thread
//! that read them (see `session`), so the per-message path is "socket ready → read → DuckDB →
//! write", and on the shared runtime every hop of it may wake another worker (the I/O driver
//! is polled by one worker, the task runs on another, idle workers are woken to steal). A
//! thread that owns its connections and its own epoll set is woken once per message, by the
//! kernel, for the connection that is ready. Measured on 2 cores with pgbench -M prepared
//! `SELECT 1` (bench/notes.md has the runs): the minimal server served 28-30k q/s at 16 and
//! 64 connections on shared workers, 42-52k on eight such threads; the gateway moved the
//! same way (see `DEFAULT_THREADS_PER_CORE`).
//!
//! Work that may take long (a statement not known to be quick, COPY batches, commits) leaves
//! the connection thread through `spawn_blocking`, so it does not hold up the thread's other
//! connections; the connection thread itself only waits in epoll.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::runtime::Handle;

/// Connection threads per core when the configuration does not say. More threads than
/// cores, because a thread inside DuckDB cannot serve its other connections: with four per
/// core the kernel runs another one meanwhile.
pub const DEFAULT_THREADS_PER_CORE: usize = 4;

struct Shard {
    handle: Handle,
    /// Connections pinned to this thread and not yet closed.
    live: Arc<AtomicUsize>,
    /// Dropping it ends the thread (and cancels what still runs there).
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The connection threads of one server.
pub struct ConnectionThreads {
    shards: Vec<Shard>,
}

/// Decrements a shard's connection count when the connection's task ends.
struct Pinned(Arc<AtomicUsize>);

impl Drop for Pinned {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ConnectionThreads {
    /// Start `n` connection threads (at least one).
    pub fn start(n: usize) -> std::io::Result<Self> {
        let mut shards = Vec::with_capacity(n.max(1));
        for i in 0..n.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .thread_name("duckgate-blocking")
                .build()?;
            let handle = runtime.handle().clone();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            std::thread::Builder::new()
                .name(format!("duckgate-conn-{i}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        let _ = stopped.await;
                    });
                })?;
            shards.push(Shard {
                handle,
                live: Arc::new(AtomicUsize::new(0)),
                _stop: stop,
            });
        }
        Ok(Self { shards })
    }

    pub fn len(&self) -> usize {
        self.shards.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// Connections currently pinned to each thread.
    pub fn loads(&self) -> Vec<usize> {
        self.shards
            .iter()
            .map(|s| s.live.load(Ordering::Relaxed))
            .collect()
    }

    /// Serve an accepted connection on the thread with the fewest connections. The socket
    /// is moved to that thread's own reactor, so its readiness wakes that thread directly.
    pub fn spawn<F, Fut>(&self, tcp: TcpStream, serve: F)
    where
        F: FnOnce(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let shard = pick_least_loaded(&self.loads()).map_or(&self.shards[0], |i| &self.shards[i]);
        let socket = match tcp.into_std() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "could not hand a connection to its thread");
                return;
            }
        };
        shard.live.fetch_add(1, Ordering::Relaxed);
        let pinned = Pinned(shard.live.clone());
        shard.handle.spawn(async move {
            let _pinned = pinned;
            match TcpStream::from_std(socket) {
                Ok(tcp) => serve(tcp).await,
                Err(e) => tracing::warn!(error = %e, "could not register a connection"),
            }
        });
    }
}

/// The index of the smallest load (the first of equals), `None` for no shards.
fn pick_least_loaded(loads: &[usize]) -> Option<usize> {
    loads
        .iter()
        .enumerate()
        .min_by_key(|(_, l)| **l)
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_loaded_is_the_first_smallest() {
        assert_eq!(pick_least_loaded(&[]), None);
        assert_eq!(pick_least_loaded(&[0]), Some(0));
        assert_eq!(pick_least_loaded(&[3, 1, 2, 1]), Some(1));
        assert_eq!(pick_least_loaded(&[0, 0, 0]), Some(0));
    }

    #[test]
    fn connections_spread_and_are_counted_until_they_end() {
        let threads = ConnectionThreads::start(3).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut clients = Vec::new();
            let (done_tx, done_rx) = tokio::sync::watch::channel(false);
            let (name_tx, mut names) = tokio::sync::mpsc::unbounded_channel();
            for _ in 0..6 {
                clients.push(TcpStream::connect(addr).await.unwrap());
                let (tcp, _) = listener.accept().await.unwrap();
                let mut done = done_rx.clone();
                let name_tx = name_tx.clone();
                threads.spawn(tcp, move |tcp| async move {
                    let _ = name_tx.send(std::thread::current().name().map(str::to_owned));
                    let _ = done.wait_for(|d| *d).await;
                    drop(tcp);
                });
            }
            assert_eq!(threads.loads(), vec![2, 2, 2]);
            // each runs on a connection thread, not on this runtime
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..6 {
                seen.insert(names.recv().await.unwrap().unwrap_or_default());
            }
            let expected: std::collections::BTreeSet<String> =
                (0..3).map(|i| format!("duckgate-conn-{i}")).collect();
            assert_eq!(seen, expected);
            done_tx.send(true).unwrap();
            for _ in 0..200 {
                if threads.loads() == vec![0, 0, 0] {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            assert_eq!(threads.loads(), vec![0, 0, 0]);
            drop(clients);
        });
    }
}
