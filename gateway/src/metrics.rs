//! Prometheus metrics of one gateway process, served on the admin listener's `/metrics`.
//!
//! Labels carry token identities and database names, never tokens or statement text.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SessionLabels {
    pub database: String,
    pub identity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueryLabels {
    /// The command tag's command (`SELECT`, `INSERT`, …), from a fixed list.
    pub command: &'static str,
    /// `ok` or `error`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClassLabel {
    /// The first two characters of the SQLSTATE (`42`, `57`, …).
    pub class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DatabaseLabel {
    pub database: String,
}

/// Why a connection was turned away before it had a session.
#[derive(Debug, Clone, Copy)]
pub enum Rejection {
    MaxConnections,
    MaxConnectionsPerToken,
    AuthRateLimited,
}

impl Rejection {
    fn as_str(self) -> &'static str {
        match self {
            Rejection::MaxConnections => "max_connections",
            Rejection::MaxConnectionsPerToken => "max_connections_per_token",
            Rejection::AuthRateLimited => "auth_rate_limited",
        }
    }
}

/// Every metric the gateway exports.
pub struct Metrics {
    registry: Registry,
    pub connections_current: Gauge,
    pub connections_total: Counter,
    rejected: Family<ReasonLabel, Counter>,
    sessions: Family<SessionLabels, Gauge>,
    queries: Family<QueryLabels, Counter>,
    pub query_duration: Histogram,
    pub rows_sent: Counter,
    pub bytes_sent: Counter,
    errors: Family<ClassLabel, Counter>,
    pub cancels: Counter,
    pub statement_timeouts: Counter,
    pub idle_timeouts: Counter,
    pub auth_failures: Counter,
    tls_handshakes: Family<OutcomeLabel, Counter>,
    pub statements_running: Gauge,
    duckdb_memory: Family<DatabaseLabel, Gauge>,
    pub draining: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("duckgate");
        let m = Metrics {
            connections_current: Gauge::default(),
            connections_total: Counter::default(),
            rejected: Family::default(),
            sessions: Family::default(),
            queries: Family::default(),
            // 100 µs … ~52 s
            query_duration: Histogram::new(
                prometheus_client::metrics::histogram::exponential_buckets(0.0001, 2.0, 20),
            ),
            rows_sent: Counter::default(),
            bytes_sent: Counter::default(),
            errors: Family::default(),
            cancels: Counter::default(),
            statement_timeouts: Counter::default(),
            idle_timeouts: Counter::default(),
            auth_failures: Counter::default(),
            tls_handshakes: Family::default(),
            statements_running: Gauge::default(),
            duckdb_memory: Family::default(),
            draining: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "connections",
            "Client connections open now",
            m.connections_current.clone(),
        );
        registry.register(
            "connections_accepted",
            "Client connections accepted",
            m.connections_total.clone(),
        );
        registry.register(
            "connections_rejected",
            "Connections refused, by reason",
            m.rejected.clone(),
        );
        registry.register(
            "sessions",
            "Authenticated sessions open now, by database and token identity",
            m.sessions.clone(),
        );
        registry.register(
            "queries",
            "Statements executed, by command and outcome",
            m.queries.clone(),
        );
        registry.register(
            "query_duration_seconds",
            "Statement execution time, including sending the result",
            m.query_duration.clone(),
        );
        registry.register("rows_sent", "Result rows sent", m.rows_sent.clone());
        registry.register(
            "bytes_sent",
            "Result row bytes sent (DataRow bodies)",
            m.bytes_sent.clone(),
        );
        registry.register(
            "errors",
            "Errors sent to clients, by SQLSTATE class",
            m.errors.clone(),
        );
        registry.register("cancels", "Cancel requests honoured", m.cancels.clone());
        registry.register(
            "statement_timeouts",
            "Statements cancelled by statement_timeout",
            m.statement_timeouts.clone(),
        );
        registry.register(
            "idle_timeouts",
            "Sessions closed by an idle timeout",
            m.idle_timeouts.clone(),
        );
        registry.register(
            "auth_failures",
            "Failed authentications",
            m.auth_failures.clone(),
        );
        registry.register(
            "tls_handshakes",
            "TLS handshakes, by outcome",
            m.tls_handshakes.clone(),
        );
        registry.register(
            "statements_running",
            "Statements executing or streaming now",
            m.statements_running.clone(),
        );
        registry.register(
            "duckdb_memory_bytes",
            "Memory DuckDB's buffer manager holds, by database instance",
            m.duckdb_memory.clone(),
        );
        registry.register(
            "draining",
            "1 while the gateway drains for shutdown",
            m.draining.clone(),
        );
        Metrics { registry, ..m }
    }

    pub fn rejected(&self, why: Rejection) {
        self.rejected
            .get_or_create(&ReasonLabel {
                reason: why.as_str().to_owned(),
            })
            .inc();
    }

    pub fn tls_handshake(&self, ok: bool) {
        self.tls_handshakes
            .get_or_create(&OutcomeLabel {
                outcome: if ok { "ok" } else { "error" }.to_owned(),
            })
            .inc();
    }

    /// A session started; it is counted until the returned guard drops.
    pub fn session_started(
        self: &std::sync::Arc<Self>,
        database: &str,
        identity: &str,
    ) -> SessionGauge {
        let labels = SessionLabels {
            database: database.to_owned(),
            identity: identity.to_owned(),
        };
        self.sessions.get_or_create(&labels).inc();
        SessionGauge {
            metrics: self.clone(),
            labels,
        }
    }

    /// A statement finished: its command, outcome (SQLSTATE on error) and duration. (The error
    /// itself is counted where it is sent, with [`Metrics::error`].)
    pub fn statement(&self, command: &'static str, sqlstate: Option<&str>, seconds: f64) {
        // static labels: no allocation per statement
        self.queries
            .get_or_create(&QueryLabels {
                command,
                outcome: if sqlstate.is_some() { "error" } else { "ok" },
            })
            .inc();
        self.query_duration.observe(seconds);
    }

    /// An error sent to a client outside a statement (startup, protocol).
    pub fn error(&self, sqlstate: &str) {
        self.errors
            .get_or_create(&ClassLabel {
                class: sqlstate.get(..2).unwrap_or("XX").to_owned(),
            })
            .inc();
    }

    pub fn set_duckdb_memory(&self, database: &str, bytes: i64) {
        self.duckdb_memory
            .get_or_create(&DatabaseLabel {
                database: database.to_owned(),
            })
            .set(bytes);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// Keeps a session counted in `duckgate_sessions` while it lives.
pub struct SessionGauge {
    metrics: std::sync::Arc<Metrics>,
    labels: SessionLabels,
}

impl Drop for SessionGauge {
    fn drop(&mut self) {
        self.metrics.sessions.get_or_create(&self.labels).dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn statements_sessions_and_errors_are_counted_with_labels() {
        let m = Arc::new(Metrics::new());
        m.statement("SELECT", None, 0.002);
        m.statement("SELECT", None, 0.004);
        m.statement("INSERT", Some("40001"), 0.1);
        m.error("40001");
        m.error("08P01");
        let g = m.session_started("lake", "alice");
        let text = m.render();
        assert_eq!(
            value(
                &text,
                r#"duckgate_queries_total{command="SELECT",outcome="ok"}"#
            ),
            Some(2.0)
        );
        assert_eq!(
            value(
                &text,
                r#"duckgate_queries_total{command="INSERT",outcome="error"}"#
            ),
            Some(1.0)
        );
        assert_eq!(
            value(&text, r#"duckgate_errors_total{class="40"}"#),
            Some(1.0)
        );
        assert_eq!(
            value(&text, r#"duckgate_errors_total{class="08"}"#),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                r#"duckgate_sessions{database="lake",identity="alice"}"#
            ),
            Some(1.0)
        );
        assert_eq!(
            value(&text, "duckgate_query_duration_seconds_count"),
            Some(3.0)
        );
        drop(g);
        let text = m.render();
        assert_eq!(
            value(
                &text,
                r#"duckgate_sessions{database="lake",identity="alice"}"#
            ),
            Some(0.0)
        );
    }

    #[test]
    fn rejections_are_counted_by_reason() {
        let m = Metrics::new();
        m.rejected(Rejection::MaxConnections);
        m.rejected(Rejection::MaxConnections);
        m.rejected(Rejection::AuthRateLimited);
        let text = m.render();
        assert_eq!(
            value(
                &text,
                r#"duckgate_connections_rejected_total{reason="max_connections"}"#
            ),
            Some(2.0)
        );
        assert_eq!(
            value(
                &text,
                r#"duckgate_connections_rejected_total{reason="auth_rate_limited"}"#
            ),
            Some(1.0)
        );
    }
}
