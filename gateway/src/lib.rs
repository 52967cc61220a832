//! duckgate gateway: a PostgreSQL wire-protocol endpoint for DuckDB.
//!
//! A connection passes through: `protocol` (negotiation, startup, message dispatch) →
//! `session` (transaction state, settings, prepared statements, portals) → `sql` (splitting,
//! statements answered by the gateway, command tags) → `engine` (DuckDB, off the async threads)
//! → `types` (DuckDB values → PostgreSQL text/binary wire format). `storage` owns the database
//! instances; `server` the listener and process-wide state; `shards` the threads connections
//! run on.

pub mod admin;
pub mod auth;
pub mod cgroup;
pub mod cli;
pub mod engine;
pub mod error;
pub mod metrics;
pub mod protocol;
pub mod server;
pub mod session;
pub mod shards;
pub mod sql;
pub mod storage;
pub mod tls;
pub mod types;

pub use duckgate_config::GatewayConfig;
pub use server::Server;
