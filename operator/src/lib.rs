//! duckgate operator: turns PostgresEndpoint and EndpointCertificate resources into gateway
//! Deployments, Services, ConfigMaps, autoscalers and TLS Secrets.
//!
//! It renders the gateway's configuration with the shared `duckgate-config` crate and never
//! links DuckDB; `tests/no_duckdb.rs` keeps it that way.
//!
//! Layout: `crd` (the API types), `resources` (pure builders: spec → object), `certs` (pure
//! certificate issuing), `controller` (the reconcilers: read → validate → build → apply →
//! status), and the process around them (`metrics`, `leader`, `admin`).

pub mod admin;
pub mod certs;
pub mod controller;
pub mod crd;
pub mod leader;
pub mod metrics;
pub mod resources;
pub mod validate;
