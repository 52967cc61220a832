use clap::Parser;
use duckgate_config::LogFormat;
use duckgate_gateway::cli::{Cli, Command, ServeArgs, TokenCommand};
use duckgate_gateway::server::token_file_path;
use duckgate_gateway::storage;
use duckgate_gateway::{auth, Server};
use tokio::signal::unix::{signal, SignalKind};
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    // The general async workers (one per core) accept connections and run the admin
    // endpoints and file watchers; client connections run on the connection threads
    // (`shards`, `limits.connection_threads`).
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Maintenance(args) => {
            let config = duckgate_config::GatewayConfig::from_file(&args.config)?;
            let done = tokio::task::spawn_blocking(move || {
                storage::run_maintenance(&config, args.database.as_deref(), &args.retention)
            })
            .await??;
            if done.is_empty() {
                anyhow::bail!("no DuckLake database to maintain in the configuration");
            }
            for name in done {
                println!("maintained {name}");
            }
            Ok(())
        }
        Command::Token(TokenCommand::Create(args)) => {
            let path = args.token_file();
            let token =
                auth::create_token(&path, &args.name, args.databases.clone(), args.read_only)?;
            println!(
                "token {:?} added to {}; it is shown only now:",
                args.name,
                path.display()
            );
            println!("{token}");
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.resolve()?;
    let filter = EnvFilter::try_new(&config.log.level)?;
    // logs on stderr; stdout carries only the start-up banner (address, first token)
    match config.log.format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .init(),
        LogFormat::Text => tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .init(),
    }
    std::fs::create_dir_all(&config.data_dir)?;
    // The embedded default starts usable: a first token when there is no token file yet.
    let mut first_token = None;
    let tokens = token_file_path(&config);
    if !config.auth.trust && config.auth.token_file.is_none() && !tokens.exists() {
        first_token = Some(auth::create_token(&tokens, "admin", vec![], false)?);
    }
    let server = Server::bind(config.clone()).await?;
    let addr = server.local_addr();
    let shared = server.shared();
    if let Some(admin) = &config.admin.listen {
        let listener = tokio::net::TcpListener::bind(admin).await?;
        println!("admin endpoints on http://{}/", listener.local_addr()?);
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Err(e) = duckgate_gateway::admin::serve(listener, shared).await {
                tracing::error!(error = %e, "admin listener failed");
            }
        });
    }
    println!(
        "duckgate listening on {addr} (data directory {})",
        config.data_dir.display()
    );
    let mut conn = format!("host={} port={} dbname=md: user=me", addr.ip(), addr.port());
    if let Some(ca) = server.client_ca_path() {
        conn.push_str(&format!(
            " sslmode=verify-full sslrootcert={}",
            ca.display()
        ));
    }
    println!("connect with: psql \"{conn}\"");
    if let Some(t) = first_token {
        println!(
            "a first token was created in {} (shown only now; use it as the password):\n{t}",
            tokens.display()
        );
    }
    let mut serving = tokio::spawn(server.run());
    let mut sigterm = signal(SignalKind::terminate())?;
    tokio::select! {
        r = &mut serving => return r?,
        _ = sigterm.recv() => tracing::info!("SIGTERM: draining"),
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupt: draining"),
    }
    // a second signal skips the wait for running statements
    let deadline = std::time::Duration::from_millis(config.limits.drain_timeout_ms);
    tokio::select! {
        _ = shared.shutdown(deadline) => {}
        _ = sigterm.recv() => {
            tracing::info!("second signal: closing sessions now");
            shared.shutdown(std::time::Duration::ZERO).await;
        }
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("second signal: closing sessions now");
            shared.shutdown(std::time::Duration::ZERO).await;
        }
    }
    Ok(())
}
