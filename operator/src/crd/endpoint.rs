//! `PostgresEndpoint`: one gateway Deployment serving a set of databases over the PostgreSQL
//! wire protocol, with its Service, certificate, tokens and autoscaling.

// kube's repeated `printcolumn(...)` entries look like duplicated attributes to clippy.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, ResourceRequirements, Toleration, TopologySpreadConstraint,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A PostgreSQL-wire endpoint for DuckDB: the operator runs duckgate gateways for it and keeps
/// their configuration, Service, certificate and scaling in line with this spec.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[kube(
    group = "duckgate.io",
    version = "v1alpha1",
    kind = "PostgresEndpoint",
    namespaced,
    shortname = "pge",
    category = "duckgate",
    status = "PostgresEndpointStatus",
    derive = "PartialEq",
    doc = "A PostgreSQL-wire endpoint for DuckDB served by duckgate gateways.",
    scale(
        spec_replicas_path = ".spec.replicas",
        status_replicas_path = ".status.replicas",
        label_selector_path = ".status.selector"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status",
        description = "Whether the endpoint accepts connections"
    ),
    printcolumn(
        name = "Replicas",
        type_ = "integer",
        json_path = ".status.readyReplicas",
        description = "Gateway pods ready"
    ),
    printcolumn(
        name = "Desired",
        type_ = "integer",
        json_path = ".status.desiredReplicas",
        description = "Gateway pods wanted"
    ),
    printcolumn(
        name = "Host",
        type_ = "string",
        json_path = ".status.host",
        description = "Host clients connect to"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason",
        priority = 1
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("size(self.metadata.name) <= 40").message("the name of a PostgresEndpoint is at most 40 characters (its maintenance CronJob adds a suffix)"),
)]
#[x_kube(validation = Rule::new("!has(self.databases) || self.databases.filter(d, has(d.default) && d.default).size() <= 1").message("at most one database can be the default"))]
#[x_kube(validation = Rule::new("!has(self.databases) || self.databases.all(d, self.databases.exists_one(e, e.name == d.name))").message("database names must be unique"))]
#[x_kube(validation = Rule::new("!has(self.databases) || !self.databases.exists(d, has(d.local)) || (!has(self.autoscaling) && (!has(self.replicas) || self.replicas <= 1))").message("a local database has a single writer: use replicas 0 or 1 and no autoscaling"))]
#[serde(rename_all = "camelCase")]
pub struct PostgresEndpointSpec {
    /// Gateway container image. Unset: the image the operator was installed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,

    /// Image pull policy of the gateway container. Unset: Kubernetes' default for the tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,

    /// Names of Secrets (in this namespace) used to pull the image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub image_pull_secrets: Vec<String>,

    /// Number of gateway pods (also what `kubectl scale` sets). Ignored while `autoscaling` is
    /// set: the HorizontalPodAutoscaler then owns the replica count.
    #[serde(default = "one")]
    #[schemars(range(min = 0, max = 1000))]
    pub replicas: i32,

    /// Scale the gateway with a HorizontalPodAutoscaler (autoscaling/v2) instead of a fixed
    /// replica count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<AutoscalingSpec>,

    /// CPU and memory requests and limits of the gateway container. DuckDB's memory_limit
    /// defaults to 75% of the memory limit given here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,

    /// The databases clients can open with `dbname=<name>`. Empty: each pod serves an embedded
    /// default database in its own ephemeral storage (for trying things out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub databases: Vec<DatabaseSpec>,

    /// Client authentication: the Secret with the token file.
    pub auth: AuthSpec,

    /// The server certificate clients see.
    pub tls: TlsSpec,

    /// The Service clients connect through.
    #[serde(default)]
    pub service: ServiceSpec,

    /// Session and resource limits of each gateway pod.
    #[serde(default)]
    pub limits: LimitsSpec,

    /// Where gateway pods may run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling: Option<SchedulingSpec>,

    /// DuckLake maintenance (merge small files, expire old snapshots, delete unreferenced files)
    /// as a CronJob. Unset: no maintenance job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<MaintenanceSpec>,

    /// Gateway logging.
    #[serde(default)]
    pub log: LogSpec,

    /// Annotations added to the gateway pods (e.g. for a metrics scraper).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_annotations: BTreeMap<String, String>,

    /// Labels added to the gateway pods. The operator's own `app.kubernetes.io/*` labels win.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_labels: BTreeMap<String, String>,

    /// Annotations of the gateway's ServiceAccount (e.g. a cloud workload identity).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub service_account_annotations: BTreeMap<String, String>,

    /// Stop reconciling: the operator leaves every object of this endpoint as it is (for manual
    /// intervention) and reports `Progressing=False` with reason `Paused`. Nothing is deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
}

/// Image pull policy.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(&self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

/// Autoscaling between `minReplicas` and `maxReplicas` on CPU and, with a custom metrics adapter
/// serving the gateway's `duckgate_active_connections` pod metric, on connections per pod.
#[derive(KubeSchema, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[x_kube(validation = Rule::new("self.maxReplicas >= self.minReplicas").message("maxReplicas must be at least minReplicas"))]
#[x_kube(validation = Rule::new("has(self.targetCPUUtilizationPercentage) || has(self.targetActiveConnectionsPerPod)").message("autoscaling needs targetCPUUtilizationPercentage or targetActiveConnectionsPerPod"))]
#[serde(rename_all = "camelCase")]
pub struct AutoscalingSpec {
    /// Fewest gateway pods.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 1000))]
    pub min_replicas: i32,
    /// Most gateway pods.
    #[schemars(range(min = 1, max = 1000))]
    pub max_replicas: i32,
    /// Target average CPU utilisation of the pods, in percent of their CPU request (the
    /// gateway needs a CPU request for this).
    #[serde(
        default,
        rename = "targetCPUUtilizationPercentage",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1, max = 100))]
    pub target_cpu_utilization_percentage: Option<i32>,
    /// Target average number of open client connections per pod. Needs a metrics adapter
    /// (e.g. prometheus-adapter) serving the pod metric `duckgate_active_connections`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub target_active_connections_per_pod: Option<i32>,
}

fn one() -> i32 {
    1
}

/// One database clients can open with `dbname=<name>`: exactly one of `ducklake`, `duckdb`
/// or `local`.
#[derive(KubeSchema, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[x_kube(validation = Rule::new("[has(self.ducklake), has(self.duckdb), has(self.local)].filter(x, x).size() == 1").message("a database is exactly one of ducklake, duckdb or local"))]
#[serde(rename_all = "camelCase")]
pub struct DatabaseSpec {
    /// The dbname clients use (letters, digits, `_` and `-`).
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
    )]
    pub name: String,
    /// The database that `md:` and an empty dbname select.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    /// A DuckLake: catalog in PostgreSQL, data files on S3-compatible object storage. Any
    /// number of gateway pods can serve it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ducklake: Option<DucklakeSpec>,
    /// A DuckDB database file on object storage, attached read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duckdb: Option<DuckdbFileSpec>,
    /// A DuckDB file on a PersistentVolumeClaim (one writer: one pod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalSpec>,
}

/// A DuckLake database.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DucklakeSpec {
    /// The PostgreSQL server holding the DuckLake catalog.
    pub catalog: CatalogSpec,
    /// Where the data files live, e.g. `s3://bucket/lake/`.
    #[schemars(regex(pattern = r"^s3://[^/]+/.*$"))]
    pub data_path: String,
    /// The object storage of `dataPath`.
    pub s3: S3Spec,
    /// Refuse writes through this endpoint.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// A PostgreSQL database holding a DuckLake catalog. Use a role that can only reach it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogSpec {
    /// Host name or address of the PostgreSQL server.
    #[schemars(length(min = 1))]
    pub host: String,
    /// Port of the PostgreSQL server.
    #[serde(default = "pg_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// Database name of the catalog.
    #[schemars(length(min = 1))]
    pub database: String,
    /// PostgreSQL role.
    #[schemars(length(min = 1))]
    pub user: String,
    /// The Secret key holding the role's password.
    pub password_secret_ref: SecretKeyRef,
    /// PostgreSQL schema of the DuckLake metadata tables. Unset: DuckLake's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

fn pg_port() -> i32 {
    5432
}

/// An S3-compatible object store and the credentials to reach it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct S3Spec {
    /// `host:port` of the service, without scheme. Unset: AWS S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Region of the bucket.
    #[serde(default = "default_region")]
    pub region: String,
    /// Addressing style: `path` (most self-hosted stores) or `vhost` (AWS).
    #[serde(default)]
    pub url_style: UrlStyle,
    /// Use HTTPS to reach the store.
    #[serde(default = "yes")]
    pub use_ssl: bool,
    /// The Secret key holding the access key id.
    pub access_key_id_secret_ref: SecretKeyRef,
    /// The Secret key holding the secret access key.
    pub secret_access_key_secret_ref: SecretKeyRef,
}

fn default_region() -> String {
    "us-east-1".into()
}

fn yes() -> bool {
    true
}

/// S3 addressing style.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UrlStyle {
    Path,
    #[default]
    Vhost,
}

/// A DuckDB database file on object storage, attached read-only.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DuckdbFileSpec {
    /// The file, e.g. `s3://bucket/archive/2024.duckdb`.
    #[schemars(regex(pattern = r"^s3://[^/]+/.+$"))]
    pub path: String,
    /// The object storage of `path`.
    pub s3: S3Spec,
}

/// A DuckDB file on an existing PersistentVolumeClaim, mounted at
/// `/var/lib/duckgate/volumes/<database name>`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalSpec {
    /// Name of the PersistentVolumeClaim (in this namespace).
    #[schemars(length(min = 1, max = 253))]
    pub claim_name: String,
    /// File name of the database on the volume. Unset: `<database name>.duckdb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[^/]+$"))]
    pub file: Option<String>,
}

/// A key of a Secret in the endpoint's namespace.
#[derive(
    Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key within the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// Client authentication.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthSpec {
    /// The Secret holding the token file (the format `duckgate-gateway token create` writes:
    /// SCRAM verifiers only, never the tokens). The gateway re-reads it while running, so
    /// editing the Secret changes tokens without restarting pods.
    pub token_secret: TokenSecretRef,
    /// `scram` (SCRAM-SHA-256) or `password` (cleartext password over TLS, what MotherDuck
    /// clients send).
    #[serde(default)]
    pub method: AuthMethod,
    /// Failed logins allowed per client address per minute. Unset: the gateway's default (10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_failures_per_minute: Option<i32>,
}

/// The Secret with the token file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenSecretRef {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key of the token file within the Secret.
    #[serde(default = "default_token_key")]
    pub key: String,
}

fn default_token_key() -> String {
    "tokens.yaml".into()
}

/// Authentication method.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    #[default]
    Scram,
    Password,
}

/// The server certificate: exactly one of `certificate` (an EndpointCertificate the operator
/// issues and renews) or `secretName` (an existing `kubernetes.io/tls` Secret). The gateway
/// reloads a renewed certificate without restarting.
#[derive(KubeSchema, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[x_kube(validation = Rule::new("has(self.certificate) != has(self.secretName)").message("tls needs exactly one of certificate or secretName"))]
#[serde(rename_all = "camelCase")]
pub struct TlsSpec {
    /// Name of an EndpointCertificate in this namespace. Its default DNS names are this
    /// endpoint's Service names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub certificate: Option<String>,
    /// Name of an existing `kubernetes.io/tls` Secret with `tls.crt`, `tls.key` and, for
    /// clients' `sslrootcert`, optionally `ca.crt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub secret_name: Option<String>,
}

/// The Service in front of the gateway pods.
#[derive(KubeSchema, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[x_kube(validation = Rule::new("!has(self.loadBalancerSourceRanges) || size(self.loadBalancerSourceRanges) == 0 || self.type == 'LoadBalancer'").message("loadBalancerSourceRanges needs type LoadBalancer"))]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// `ClusterIP`, `NodePort` or `LoadBalancer`.
    #[serde(default, rename = "type")]
    pub type_: ServiceType,
    /// The port clients connect to.
    #[serde(default = "pg_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// Annotations of the Service (e.g. for a cloud load balancer).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Client address ranges (CIDR) a load balancer admits. Empty: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub load_balancer_source_ranges: Vec<String>,
}

impl Default for ServiceSpec {
    fn default() -> Self {
        ServiceSpec {
            type_: ServiceType::ClusterIP,
            port: pg_port(),
            annotations: BTreeMap::new(),
            load_balancer_source_ranges: Vec::new(),
        }
    }
}

/// Service type.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default, JsonSchema)]
pub enum ServiceType {
    #[default]
    ClusterIP,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    pub fn as_str(&self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

/// Limits of each gateway pod. Unset fields keep the gateway's defaults.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitsSpec {
    /// Concurrent client connections per pod; more are refused with SQLSTATE 53300.
    /// Unset: 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_connections: Option<i32>,
    /// Concurrent connections of one token identity per pod. Unset: no per-token limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_connections_per_token: Option<i32>,
    /// Default `statement_timeout` of every session, in milliseconds (0 = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub statement_timeout_ms: Option<i64>,
    /// Default `idle_session_timeout`, in milliseconds (0 = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub idle_session_timeout_ms: Option<i64>,
    /// Default `idle_in_transaction_session_timeout`, in milliseconds (0 = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub idle_in_transaction_timeout_ms: Option<i64>,
    /// DuckDB `memory_limit` of each database instance, e.g. `4GB`. Unset: 75% of the
    /// container's memory limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$"))]
    pub memory_limit: Option<String>,
    /// DuckDB `threads` of each database instance. Unset: from the container's CPU limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub threads: Option<i32>,
    /// On shutdown, how long running statements may take to finish before their sessions are
    /// closed with 57P01, in milliseconds. The pod's termination grace period is this plus
    /// 5 seconds. Unset: 30000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600000))]
    pub drain_timeout_ms: Option<i64>,
}

/// Pod placement.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchedulingSpec {
    /// Node labels a gateway pod's node must have.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Taints the gateway pods tolerate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Node and pod affinity of the gateway pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// How gateway pods spread over the cluster. Unset: spread over zones and nodes where
    /// possible (`ScheduleAnyway`). Empty list: no spreading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
    /// PriorityClass of the gateway pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
}

/// DuckLake maintenance as a CronJob running `duckgate-gateway maintenance`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceSpec {
    /// Cron schedule (five fields, the CronJob's time zone).
    #[serde(default = "default_schedule")]
    #[schemars(regex(
        pattern = r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|\S+\s+\S+\s+\S+\s+\S+\s+\S+)$"
    ))]
    pub schedule: String,
    /// Keep snapshots and files younger than this: `30s`, `15min`, `6h`, `7d`.
    #[serde(default = "default_retention")]
    #[schemars(regex(pattern = r"^[0-9]+(ms|s|min|h|d)$"))]
    pub retention: String,
    /// Only this database. Unset: every DuckLake database of the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Suspend the CronJob.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspend: bool,
    /// Resources of the maintenance container. Unset: the gateway's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

fn default_schedule() -> String {
    "17 3 * * *".into()
}

fn default_retention() -> String {
    "7d".into()
}

/// Gateway logging.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogSpec {
    /// `json` (one object per line) or `text`.
    #[serde(default)]
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `info,duckgate_gateway=debug`.
    #[serde(default = "default_level")]
    pub level: String,
}

impl Default for LogSpec {
    fn default() -> Self {
        LogSpec {
            format: LogFormat::Json,
            level: default_level(),
        }
    }
}

fn default_level() -> String {
    "info".into()
}

/// Log format.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Text,
}

/// What the operator observed. Written only when it changes.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostgresEndpointStatus {
    /// The generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` (clients can connect), `Progressing` (a rollout or first start is under way) and
    /// `Degraded` (the spec or a reference is invalid, or applying failed), each with a reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Gateway pods that exist (for the scale subresource).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Gateway pods ready to serve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
    /// Gateway pods wanted (the spec's, or the autoscaler's current choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_replicas: Option<i32>,
    /// Label selector of the gateway pods (for the scale subresource).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Host clients connect to: the load balancer's address, or the Service's cluster DNS name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port clients connect to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// Connection URI without credentials: add the token as the password
    /// (`PGPASSWORD`) and the CA from the certificate Secret's `ca.crt` as `sslrootcert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_uri: Option<String>,
    /// The Secret with the server certificate the pods mount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret_name: Option<String>,
    /// Expiry of the server certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_not_after: Option<Time>,
}
