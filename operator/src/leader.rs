//! Leader election on a coordination.k8s.io Lease (kube-lease-manager): only the holder
//! reconciles; a standby waits, and takes over when the holder stops renewing or releases the
//! lease on shutdown.

use kube::Client;
use kube_lease_manager::{LeaseManagerBuilder, LeaseParams};
use tokio::sync::watch;

/// Lease settings.
#[derive(Debug, Clone)]
pub struct LeaderConfig {
    pub namespace: String,
    pub lease_name: String,
    pub identity: String,
    /// Seconds a lease stays valid after its last renewal.
    pub duration_seconds: u64,
    /// Seconds before expiry the holder renews.
    pub grace_seconds: u64,
}

/// A running election: `is_leader` follows the lease; dropping `Election` (after
/// [`Election::release`]) gives the lease up.
pub struct Election {
    pub is_leader: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<kube_lease_manager::Result<kube_lease_manager::LeaseManager>>,
}

impl Election {
    pub async fn start(client: Client, cfg: &LeaderConfig) -> anyhow::Result<Election> {
        let manager = LeaseManagerBuilder::new(client, &cfg.lease_name)
            .with_namespace(&cfg.namespace)
            .with_parameters(
                LeaseParams::new(
                    cfg.identity.clone(),
                    cfg.duration_seconds,
                    cfg.grace_seconds,
                )
                .with_field_manager(format!("duckgate-operator-{}", cfg.identity)),
            )
            .build()
            .await?;
        let (is_leader, task) = manager.watch().await;
        Ok(Election { is_leader, task })
    }

    /// Wait until this replica holds the lease.
    pub async fn acquired(&mut self) -> anyhow::Result<()> {
        self.is_leader.wait_for(|l| *l).await?;
        Ok(())
    }

    /// Resolve when this replica no longer holds the lease.
    pub async fn lost(&mut self) {
        let _ = self.is_leader.wait_for(|l| !*l).await;
    }

    /// Give the lease up (closing the channel makes the manager release it) and wait for that.
    pub async fn release(self) {
        drop(self.is_leader);
        match self.task.await {
            Ok(Ok(_)) => tracing::info!("leader lease released"),
            Ok(Err(e)) => tracing::warn!(error = %e, "releasing the leader lease failed"),
            Err(e) => tracing::warn!(error = %e, "lease task failed"),
        }
    }
}
