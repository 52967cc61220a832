//! The DuckLake fixture shared by the storage tests: the real PostgreSQL catalog and S3 server
//! that scripts/test.sh starts, described as gateway config.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use duckgate_config::storage::{CatalogConfig, DatabaseConfig, DatabaseKind, S3Config, SecretRef};

/// A setting exported by scripts/test.sh; the storage tests fail without it.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through scripts/test.sh, which starts PostgreSQL and S3")
    })
}

/// The test S3 server; the secret is written to `<dir>/s3-secret`, the key id comes from
/// `key_id` (a credential reference, as a deployment would give it).
pub fn s3_config(dir: &Path, secret: &str, key_id: SecretRef) -> S3Config {
    std::fs::write(dir.join("s3-secret"), secret).unwrap();
    S3Config {
        endpoint: Some(
            env("DUCKGATE_TEST_S3_ENDPOINT")
                .trim_start_matches("http://")
                .to_owned(),
        ),
        region: "us-east-1".into(),
        url_style: "path".into(),
        use_ssl: false,
        key_id,
        secret: SecretRef {
            file: Some(dir.join("s3-secret")),
            env: None,
        },
    }
}

/// The default database `lake`: catalog in schema `schema` of the test PostgreSQL (as the
/// least-privilege role), data under `data_path`.
pub fn ducklake_database(schema: &str, data_path: String, s3: S3Config) -> DatabaseConfig {
    DatabaseConfig {
        name: "lake".into(),
        default: true,
        kind: DatabaseKind::Ducklake {
            catalog: CatalogConfig {
                host: "127.0.0.1".into(),
                port: env("DUCKGATE_TEST_PG_PORT").parse().unwrap(),
                database: "ducklake_catalog".into(),
                user: "ducklake_rw".into(),
                password: SecretRef {
                    file: Some(PathBuf::from(env("DUCKGATE_TEST_PG_PASSWORD_FILE"))),
                    env: None,
                },
                schema: Some(schema.to_owned()),
            },
            data_path,
            s3,
            read_only: false,
        },
    }
}

pub fn extension_directory() -> PathBuf {
    PathBuf::from(env("DUCKGATE_EXTENSION_DIR"))
}

/// A gateway config file in `dir` (loopback, trust, plaintext) whose default database `lake` is
/// a DuckLake with catalog schema `id` and data under `s3://duckgate-test/<id>/lake/`; the S3
/// endpoint can be overridden (a proxy in front of the test server).
pub fn write_lake_config(dir: &Path, id: &str, s3_endpoint: Option<String>) -> PathBuf {
    let mut c = duckgate_config::GatewayConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.join("data"),
        extension_directory: Some(extension_directory()),
        ..Default::default()
    };
    c.auth.trust = true;
    c.tls.allow_plaintext = true;
    let key_id = SecretRef {
        file: Some(dir.join("s3-secret")),
        env: None,
    };
    let mut s3 = s3_config(dir, "lake-test-secret", key_id);
    if s3_endpoint.is_some() {
        s3.endpoint = s3_endpoint;
    }
    c.databases = vec![ducklake_database(
        id,
        format!("s3://duckgate-test/{id}/lake/"),
        s3,
    )];
    let path = dir.join("gateway.yaml");
    std::fs::write(&path, c.to_yaml()).unwrap();
    path
}
