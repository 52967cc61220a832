//! The HTTP admin listener: probes for the kubelet and metrics for Prometheus.
//!
//! - `/healthz`: the process is alive and its runtime answers (liveness).
//! - `/readyz`: every configured database is attached and the gateway is not draining
//!   (readiness; a pod that cannot serve its databases gets no traffic). The body names what
//!   is missing.
//! - `/metrics`: Prometheus text format, see [`crate::metrics`].

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use crate::server::{DrainState, Shared};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

async fn readyz(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let mut problems = Vec::new();
    if shared.drain_state() != DrainState::Serving {
        problems.push("draining".to_owned());
    }
    for (name, cause) in shared.registry.unavailable() {
        problems.push(format!("database {name:?} unavailable: {cause}"));
    }
    if problems.is_empty() {
        (StatusCode::OK, "ready\n".to_owned())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", problems.join("; ")),
        )
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    // DuckDB's memory is read at scrape time, off the async threads
    let s = shared.clone();
    let _ = tokio::task::spawn_blocking(move || {
        for (name, bytes) in s.registry.memory_usage() {
            s.metrics.set_duckdb_memory(&name, bytes);
        }
    })
    .await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.render(),
    )
}

/// Serve the admin endpoints on `listener` until the process ends.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>) -> std::io::Result<()> {
    tracing::info!(listen = %listener.local_addr()?, "admin listener");
    axum::serve(listener, router(shared)).await
}
