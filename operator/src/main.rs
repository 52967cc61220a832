//! `duckgate-operator run`: the reconcilers behind leader election, with health and metrics.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use duckgate_operator::admin::{self, Health};
use duckgate_operator::certs::{parse_go_duration, CaPolicy};
use duckgate_operator::controller::{self, Context};
use duckgate_operator::leader::{Election, LeaderConfig};
use duckgate_operator::metrics::Metrics;
use duckgate_operator::resources::OperatorSettings;
use tokio::sync::watch;

#[derive(Debug, Parser)]
#[command(
    name = "duckgate-operator",
    version,
    about = "Kubernetes operator for duckgate endpoints"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reconcile PostgresEndpoints and EndpointCertificates.
    Run(Box<RunArgs>),
    /// Print the CustomResourceDefinitions (YAML) to stdout.
    Crds,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Only watch this namespace (default: all namespaces).
    #[arg(long, env = "WATCH_NAMESPACE")]
    watch_namespace: Option<String>,
    /// Elect one active replica with a Lease; the others wait.
    #[arg(long, env = "DUCKGATE_LEADER_ELECTION")]
    leader_election: bool,
    /// Namespace of the leader Lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    leader_election_namespace: String,
    /// Name of the leader Lease.
    #[arg(long, default_value = "duckgate-operator")]
    lease_name: String,
    /// Seconds the lease stays valid without renewal (how long a crashed leader blocks others).
    #[arg(long, default_value_t = 15)]
    lease_duration_seconds: u64,
    /// This replica's identity in the lease (default: the pod name, else host name and pid).
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// Admin listener: /healthz, /readyz, /metrics.
    #[arg(
        long,
        env = "DUCKGATE_OPERATOR_ADMIN_LISTEN",
        default_value = "0.0.0.0:8081"
    )]
    admin_listen: SocketAddr,
    /// Log format: text or json.
    #[arg(long, env = "DUCKGATE_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Log filter, e.g. info or duckgate_operator=debug.
    #[arg(long, env = "DUCKGATE_LOG_LEVEL", default_value = "info")]
    log_level: String,
    /// Gateway image for endpoints that name none.
    #[arg(long, env = "DUCKGATE_GATEWAY_IMAGE")]
    gateway_image: Option<String>,
    /// The cluster's DNS domain (for certificate names).
    #[arg(long, env = "DUCKGATE_CLUSTER_DOMAIN", default_value = "cluster.local")]
    cluster_domain: String,
    /// Validity of the namespace CAs the operator creates (Go duration). Their successors are
    /// published with a third of this left and sign from a sixth left.
    #[arg(long, default_value = "43800h")]
    ca_validity: String,
}

fn init_logging(format: &str, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal(tx: watch::Sender<bool>) {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("signal handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down");
    let _ = tx.send(true);
}

async fn wait_true(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

async fn run(args: RunArgs) -> anyhow::Result<i32> {
    init_logging(&args.log_format, &args.log_level);
    let ca_validity = parse_go_duration(&args.ca_validity).ok_or_else(|| {
        anyhow::anyhow!(
            "--ca-validity {:?} is not a duration like 43800h",
            args.ca_validity
        )
    })?;
    let mut settings = OperatorSettings {
        cluster_domain: args.cluster_domain.clone(),
        ..Default::default()
    };
    if let Some(i) = &args.gateway_image {
        settings.gateway_image = i.clone();
    }

    let metrics = Arc::new(Metrics::new());
    let health = Arc::new(Health::default());
    let (addr, _admin) = admin::serve(args.admin_listen, health.clone(), metrics.clone()).await?;
    tracing::info!(%addr, "admin listener (/healthz, /readyz, /metrics)");

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(shutdown_signal(stop_tx));

    let client = kube::Client::try_default().await?;
    let version = client.apiserver_version().await?;
    tracing::info!(version = %version.git_version, namespace = ?args.watch_namespace, "connected to the API server");
    health.set_ready(true);

    let ctx = Arc::new(Context::new(
        client.clone(),
        settings,
        metrics.clone(),
        args.watch_namespace.clone(),
        CaPolicy::for_validity(ca_validity),
    ));

    if !args.leader_election {
        metrics.set_leader(true);
        controller::run(ctx, wait_true(stop_rx)).await;
        return Ok(0);
    }

    let identity = args.identity.clone().unwrap_or_else(|| {
        format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "duckgate-operator".into()),
            std::process::id()
        )
    });
    let cfg = LeaderConfig {
        namespace: args.leader_election_namespace.clone(),
        lease_name: args.lease_name.clone(),
        identity: identity.clone(),
        duration_seconds: args.lease_duration_seconds,
        grace_seconds: (args.lease_duration_seconds / 3).max(1),
    };
    let mut election = Election::start(client, &cfg).await?;
    tracing::info!(%identity, lease = %cfg.lease_name, namespace = %cfg.namespace, "waiting for the leader lease");
    tokio::select! {
        r = election.acquired() => r?,
        _ = wait_true(stop_rx.clone()) => {
            election.release().await;
            return Ok(0);
        }
    }
    tracing::info!(%identity, "acquired the leader lease: reconciling");
    metrics.set_leader(true);

    let (lost_tx, lost_rx) = watch::channel(false);
    let mut watch_lease = election.is_leader.clone();
    let lost_task = tokio::spawn(async move {
        let _ = watch_lease.wait_for(|l| !*l).await;
        let _ = lost_tx.send(true);
    });
    let stop = stop_rx.clone();
    let lost = lost_rx.clone();
    controller::run(ctx, async move {
        tokio::select! {
            _ = wait_true(stop) => {}
            _ = wait_true(lost) => {}
        }
    })
    .await;
    metrics.set_leader(false);
    lost_task.abort();
    if *lost_rx.borrow() && !*stop_rx.borrow() {
        // Another replica may reconcile now; start over as a fresh process.
        tracing::error!("lost the leader lease: exiting");
        return Ok(1);
    }
    election.release().await;
    Ok(0)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds => {
            for (_, crd) in duckgate_operator::crd::all() {
                print!("---\n{}", duckgate_operator::crd::render(&crd));
            }
            Ok(())
        }
        Command::Run(args) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let code = rt.block_on(run(*args))?;
            std::process::exit(code);
        }
    }
}
