//! duckgate-bench: the measuring half of `bench/run.sh`.
//!
//! * `prep-*` build the data sets (in-process DuckDB, so the gateway and the in-process
//!   reference read byte-identical database files);
//! * `inproc-*` are the in-process DuckDB references, through the same `duckdb` crate and
//!   DuckDB version the gateway embeds;
//! * the other commands are PostgreSQL-protocol clients (tokio-postgres) for what pgbench
//!   cannot measure: streaming formats, time to first row, connection setup, idle
//!   connections, the DuckLake first query, and the mixed-load soak.
//!
//! Every command prints one JSON object on stdout; the driver (bench/driver.py) collects them.

mod client;
mod floor;
mod inproc;
mod prep;
mod raw;
mod util;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "duckgate-bench")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create the point-lookup table `kv` and the streaming table `stream10m` in a DuckDB file.
    PrepDb(prep::PrepDbArgs),
    /// Generate TPC-H with DuckDB's dbgen, write the 22 queries and CSV + DDL for PostgreSQL.
    PrepTpch(prep::PrepTpchArgs),
    /// W1 in-process: per-query cost of SELECT 1 (prepared and from text).
    InprocW1(inproc::W1Args),
    /// W2 in-process: throughput with N threads, each with its own connection.
    InprocW2(inproc::W2Args),
    /// W3 in-process: iterate the 10M-row result.
    InprocW3(inproc::W3Args),
    /// W4 in-process: the 22 TPC-H queries.
    InprocW4(inproc::W4Args),
    /// W7 in-process: the same DuckLake ATTACH as the gateway, small queries.
    InprocW7(inproc::W7Args),
    /// W3 over the protocol: text, binary or COPY streaming.
    Stream(client::StreamArgs),
    /// W5: open N idle connections, report time and memory per connection.
    Idle(client::IdleArgs),
    /// W6: connection setup time.
    Connect(client::ConnectArgs),
    /// W7 over the protocol: steady-state small queries and the first query of new connections.
    Lake(client::LakeArgs),
    /// Mixed short queries from many clients, errors counted, server RSS sampled.
    Load(client::LoadArgs),
    /// The DuckDB library version this binary embeds.
    Version,
    /// Run SQL statements (one per argument) and print the rows of the last as JSON.
    Sql(client::SqlArgs),
    /// The bare cost of the wire (W1, W2): a server answering every statement with a canned
    /// row; prints its port, then serves until killed.
    WireFloor(floor::FloorArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let out = match cli.cmd {
        Cmd::PrepDb(a) => prep::prep_db(a)?,
        Cmd::PrepTpch(a) => prep::prep_tpch(a)?,
        Cmd::InprocW1(a) => inproc::w1(a)?,
        Cmd::InprocW2(a) => inproc::w2(a)?,
        Cmd::InprocW3(a) => inproc::w3(a)?,
        Cmd::InprocW4(a) => inproc::w4(a)?,
        Cmd::InprocW7(a) => inproc::w7(a)?,
        Cmd::Version => {
            let c = duckdb::Connection::open_in_memory()?;
            let v: String =
                c.query_row("SELECT library_version FROM pragma_version()", [], |r| {
                    r.get(0)
                })?;
            serde_json::json!({"duckdb": v})
        }
        cmd => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                match cmd {
                    Cmd::Stream(a) => client::stream(a).await,
                    Cmd::Idle(a) => client::idle(a).await,
                    Cmd::Connect(a) => client::connect(a).await,
                    Cmd::Lake(a) => client::lake(a).await,
                    Cmd::Load(a) => client::load(a).await,
                    Cmd::Sql(a) => client::sql(a).await,
                    Cmd::WireFloor(a) => floor::serve(a).await,
                    _ => unreachable!(),
                }
            })?
        }
    };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
