//! The gateway's configuration file, rendered with `duckgate-config` (the one format the
//! gateway reads), and the ConfigMap holding it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use duckgate_config::storage::{CatalogConfig, DatabaseConfig, DatabaseKind, S3Config, SecretRef};
use duckgate_config::{AdminConfig, AuthConfig, GatewayConfig, Limits, LogConfig, TlsConfig};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;

use super::{child_meta, names, Resolved};
use crate::crd::endpoint::{self, DatabaseSpec, PostgresEndpoint, PostgresEndpointSpec, S3Spec};

pub const CONFIG_KEY: &str = "gateway.yaml";
pub const CONFIG_DIR: &str = "/etc/duckgate/config";
pub const TLS_DIR: &str = "/etc/duckgate/tls";
pub const TOKENS_DIR: &str = "/etc/duckgate/tokens";
pub const TOKENS_FILE: &str = "tokens.yaml";
pub const SECRETS_DIR: &str = "/etc/duckgate/secrets";
pub const DATA_DIR: &str = "/var/lib/duckgate";
pub const VOLUMES_DIR: &str = "/var/lib/duckgate/volumes";
pub const EXTENSIONS_DIR: &str = "/opt/duckgate/extensions";
pub const POSTGRES_PORT: u16 = 5432;
pub const ADMIN_PORT: u16 = 8080;

/// File names of a database's credentials under `SECRETS_DIR/<database>/`.
pub const CATALOG_PASSWORD_FILE: &str = "catalog-password";
pub const S3_KEY_ID_FILE: &str = "s3-access-key-id";
pub const S3_SECRET_FILE: &str = "s3-secret-access-key";

pub fn config_path() -> String {
    format!("{CONFIG_DIR}/{CONFIG_KEY}")
}

fn secret_file(db: &str, file: &str) -> SecretRef {
    SecretRef {
        file: Some(PathBuf::from(format!("{SECRETS_DIR}/{db}/{file}"))),
        env: None,
    }
}

fn s3_config(db: &str, s3: &S3Spec) -> S3Config {
    S3Config {
        endpoint: s3.endpoint.clone(),
        region: s3.region.clone(),
        url_style: match s3.url_style {
            endpoint::UrlStyle::Path => "path".into(),
            endpoint::UrlStyle::Vhost => "vhost".into(),
        },
        use_ssl: s3.use_ssl,
        key_id: secret_file(db, S3_KEY_ID_FILE),
        secret: secret_file(db, S3_SECRET_FILE),
    }
}

/// Where a local database's volume is mounted.
pub fn local_mount_dir(db: &str) -> String {
    format!("{VOLUMES_DIR}/{db}")
}

fn database_config(d: &DatabaseSpec) -> Option<DatabaseConfig> {
    let kind = if let Some(l) = &d.ducklake {
        DatabaseKind::Ducklake {
            catalog: CatalogConfig {
                host: l.catalog.host.clone(),
                port: u16::try_from(l.catalog.port).unwrap_or(5432),
                database: l.catalog.database.clone(),
                user: l.catalog.user.clone(),
                password: secret_file(&d.name, CATALOG_PASSWORD_FILE),
                schema: l.catalog.schema.clone(),
            },
            data_path: l.data_path.clone(),
            s3: s3_config(&d.name, &l.s3),
            read_only: l.read_only,
        }
    } else if let Some(f) = &d.duckdb {
        DatabaseKind::Duckdb {
            path: f.path.clone(),
            s3: s3_config(&d.name, &f.s3),
        }
    } else if let Some(l) = &d.local {
        let file = l
            .file
            .clone()
            .unwrap_or_else(|| format!("{}.duckdb", d.name));
        DatabaseKind::Local {
            path: PathBuf::from(format!("{}/{file}", local_mount_dir(&d.name))),
        }
    } else {
        return None;
    };
    Some(DatabaseConfig {
        name: d.name.clone(),
        default: d.default,
        kind,
    })
}

fn non_negative(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn non_negative32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// Drain timeout in milliseconds (the spec's or the gateway's default).
pub fn drain_timeout_ms(spec: &PostgresEndpointSpec) -> u64 {
    spec.limits
        .drain_timeout_ms
        .map(non_negative)
        .unwrap_or_else(|| Limits::default().drain_timeout_ms)
}

/// The gateway configuration for an endpoint.
pub fn gateway_config(spec: &PostgresEndpointSpec, resolved: &Resolved) -> GatewayConfig {
    let mut limits = Limits::default();
    let l = &spec.limits;
    if let Some(v) = l.max_connections {
        limits.max_connections = non_negative32(v);
    }
    if let Some(v) = l.max_connections_per_token {
        limits.max_connections_per_token = non_negative32(v);
    }
    if let Some(v) = l.statement_timeout_ms {
        limits.statement_timeout_ms = non_negative(v);
    }
    if let Some(v) = l.idle_session_timeout_ms {
        limits.idle_session_timeout_ms = non_negative(v);
    }
    if let Some(v) = l.idle_in_transaction_timeout_ms {
        limits.idle_in_transaction_timeout_ms = non_negative(v);
    }
    limits.memory_limit = l.memory_limit.clone();
    limits.threads = l.threads.map(non_negative32);
    limits.drain_timeout_ms = drain_timeout_ms(spec);

    let mut auth = AuthConfig {
        token_file: Some(PathBuf::from(format!("{TOKENS_DIR}/{TOKENS_FILE}"))),
        method: match spec.auth.method {
            endpoint::AuthMethod::Scram => duckgate_config::AuthMethod::Scram,
            endpoint::AuthMethod::Password => duckgate_config::AuthMethod::Password,
        },
        ..Default::default()
    };
    if let Some(v) = spec.auth.max_failures_per_minute {
        auth.max_failures_per_minute = non_negative32(v);
    }

    GatewayConfig {
        listen: format!("0.0.0.0:{POSTGRES_PORT}"),
        data_dir: PathBuf::from(DATA_DIR),
        allow_create_databases: false,
        limits,
        log: LogConfig {
            format: match spec.log.format {
                endpoint::LogFormat::Json => duckgate_config::LogFormat::Json,
                endpoint::LogFormat::Text => duckgate_config::LogFormat::Text,
            },
            level: spec.log.level.clone(),
        },
        tls: TlsConfig {
            cert_file: Some(PathBuf::from(format!("{TLS_DIR}/tls.crt"))),
            key_file: Some(PathBuf::from(format!("{TLS_DIR}/tls.key"))),
            ca_file: resolved
                .tls_has_ca
                .then(|| PathBuf::from(format!("{TLS_DIR}/ca.crt"))),
            allow_plaintext: false,
        },
        auth,
        extension_directory: Some(PathBuf::from(EXTENSIONS_DIR)),
        databases: spec.databases.iter().filter_map(database_config).collect(),
        object_store: None,
        admin: AdminConfig {
            listen: Some(format!("0.0.0.0:{ADMIN_PORT}")),
        },
    }
}

/// The ConfigMap with `gateway.yaml`.
pub fn config_map(ep: &PostgresEndpoint, rendered: &str) -> ConfigMap {
    ConfigMap {
        metadata: child_meta(ep, names::config_map(&ep.name_any())),
        data: Some(BTreeMap::from([(
            CONFIG_KEY.to_owned(),
            rendered.to_owned(),
        )])),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::testing;

    #[test]
    fn config_is_valid_for_the_gateway_and_round_trips() {
        let spec = testing::spec();
        let cfg = gateway_config(&spec, &testing::resolved());
        cfg.validate().unwrap();
        let yaml = cfg.to_yaml();
        let back = GatewayConfig::from_yaml(&yaml).unwrap();
        assert_eq!(back, cfg);
        assert_eq!(back.listen, "0.0.0.0:5432");
        assert_eq!(back.admin.listen.as_deref(), Some("0.0.0.0:8080"));
        assert_eq!(back.data_dir, PathBuf::from("/var/lib/duckgate"));
        assert_eq!(
            back.extension_directory,
            Some(PathBuf::from("/opt/duckgate/extensions"))
        );
        assert_eq!(
            back.tls.cert_file,
            Some(PathBuf::from("/etc/duckgate/tls/tls.crt"))
        );
        assert_eq!(
            back.tls.key_file,
            Some(PathBuf::from("/etc/duckgate/tls/tls.key"))
        );
        assert_eq!(
            back.tls.ca_file,
            Some(PathBuf::from("/etc/duckgate/tls/ca.crt"))
        );
        assert_eq!(
            back.auth.token_file,
            Some(PathBuf::from("/etc/duckgate/tokens/tokens.yaml"))
        );
        assert!(!back.auth.trust && !back.tls.allow_plaintext);
        assert_eq!(back.log.format, duckgate_config::LogFormat::Json);
    }

    #[test]
    fn databases_read_credentials_from_mounted_files() {
        let cfg = gateway_config(&testing::spec(), &testing::resolved());
        assert_eq!(cfg.databases.len(), 2);
        let lake = &cfg.databases[0];
        assert!(lake.default);
        let DatabaseKind::Ducklake {
            catalog,
            s3,
            data_path,
            read_only,
        } = &lake.kind
        else {
            panic!("{lake:?}")
        };
        assert_eq!(
            catalog.password.file,
            Some(PathBuf::from("/etc/duckgate/secrets/lake/catalog-password"))
        );
        assert_eq!(catalog.port, 5432);
        assert_eq!(
            s3.key_id.file,
            Some(PathBuf::from("/etc/duckgate/secrets/lake/s3-access-key-id"))
        );
        assert_eq!(
            s3.secret.file,
            Some(PathBuf::from(
                "/etc/duckgate/secrets/lake/s3-secret-access-key"
            ))
        );
        assert_eq!(s3.url_style, "path");
        assert!(!s3.use_ssl);
        assert_eq!(s3.endpoint.as_deref(), Some("minio.storage:9000"));
        assert_eq!(data_path, "s3://analytics/lake/");
        assert!(!read_only);
        let DatabaseKind::Duckdb { path, s3 } = &cfg.databases[1].kind else {
            panic!()
        };
        assert_eq!(path, "s3://analytics/archive.duckdb");
        assert_eq!(s3.url_style, "vhost");
        assert!(s3.use_ssl);
        assert_eq!(s3.region, "us-east-1");
        // no credential value ever appears in the config
        assert!(!cfg.to_yaml().contains("env:"));
    }

    #[test]
    fn limits_override_only_what_the_spec_sets() {
        let mut spec = testing::spec();
        spec.limits.max_connections = Some(50);
        spec.limits.statement_timeout_ms = Some(30_000);
        spec.limits.memory_limit = Some("2GB".into());
        spec.limits.drain_timeout_ms = Some(10_000);
        let cfg = gateway_config(&spec, &testing::resolved());
        assert_eq!(cfg.limits.max_connections, 50);
        assert_eq!(cfg.limits.statement_timeout_ms, 30_000);
        assert_eq!(cfg.limits.memory_limit.as_deref(), Some("2GB"));
        assert_eq!(cfg.limits.drain_timeout_ms, 10_000);
        assert_eq!(
            cfg.limits.startup_timeout_ms,
            Limits::default().startup_timeout_ms
        );
        assert_eq!(
            cfg.limits.max_message_bytes,
            Limits::default().max_message_bytes
        );
    }

    #[test]
    fn local_databases_live_on_their_volume_and_no_ca_means_no_ca_file() {
        let mut spec = testing::spec();
        spec.databases =
            vec![serde_yaml::from_str("{name: scratch, local: {claimName: pvc}}").unwrap()];
        let mut r = testing::resolved();
        r.tls_has_ca = false;
        let cfg = gateway_config(&spec, &r);
        assert_eq!(
            cfg.databases[0].kind,
            DatabaseKind::Local {
                path: PathBuf::from("/var/lib/duckgate/volumes/scratch/scratch.duckdb")
            }
        );
        assert_eq!(cfg.tls.ca_file, None);
    }

    #[test]
    fn config_map_holds_gateway_yaml() {
        let ep = testing::endpoint(testing::spec());
        let cm = config_map(&ep, "listen: 0.0.0.0:5432\n");
        assert_eq!(cm.metadata.name.as_deref(), Some("db-config"));
        assert_eq!(cm.metadata.namespace.as_deref(), Some("analytics"));
        assert_eq!(cm.data.unwrap()["gateway.yaml"], "listen: 0.0.0.0:5432\n");
    }
}
