use clap::Parser;
use duckgate_config::LogFormat;
use duckgate_gateway::cli::{Cli, Command};
use duckgate_gateway::Server;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let config = args.resolve()?;
            let filter = EnvFilter::try_new(&config.log.level)?;
            match config.log.format {
                LogFormat::Json => tracing_subscriber::fmt()
                    .json()
                    .with_env_filter(filter)
                    .init(),
                LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
            }
            let server = Server::bind(config.clone()).await?;
            let addr = server.local_addr();
            tracing::info!(data_dir = %config.data_dir.display(), "embedded default database in the data directory");
            println!(
                "duckgate listening on {addr}; connect with: psql \"host={} port={} dbname=md: user=duckgate\"",
                addr.ip(),
                addr.port()
            );
            tokio::select! {
                r = server.run() => r,
                _ = tokio::signal::ctrl_c() => {
                    tracing::info!("shutting down");
                    Ok(())
                }
            }
        }
    }
}
