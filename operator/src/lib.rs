//! duckgate operator (skeleton): turns PostgresEndpoint resources into gateway Deployments.
//!
//! It renders the gateway's configuration with the shared `duckgate-config` crate and never
//! links DuckDB; `tests/no_duckdb.rs` keeps it that way.

use duckgate_config::GatewayConfig;

/// The gateway configuration the operator writes into an endpoint's ConfigMap.
pub fn render_gateway_config(listen_port: u16) -> String {
    GatewayConfig {
        listen: format!("0.0.0.0:{listen_port}"),
        data_dir: "/var/lib/duckgate".into(),
        ..Default::default()
    }
    .to_yaml()
}

#[cfg(test)]
mod tests {
    #[test]
    fn rendered_config_is_readable_by_the_gateway_format() {
        let yaml = super::render_gateway_config(5432);
        let back = duckgate_config::GatewayConfig::from_yaml(&yaml).unwrap();
        assert_eq!(back.listen, "0.0.0.0:5432");
        back.validate().unwrap();
    }
}
