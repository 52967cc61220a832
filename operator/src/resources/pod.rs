//! What the gateway's pods and the maintenance job's pods share: volumes, mounts, security
//! context, scheduling.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapVolumeSource, Container, EmptyDirVolumeSource, KeyToPath,
    LocalObjectReference, PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec,
    ProjectedVolumeSource, SeccompProfile, SecretProjection, SecretVolumeSource, SecurityContext,
    TopologySpreadConstraint, Volume, VolumeMount, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::ResourceExt;

use super::configmap::{
    self, local_mount_dir, CATALOG_PASSWORD_FILE, CONFIG_DIR, DATA_DIR, S3_KEY_ID_FILE,
    S3_SECRET_FILE, SECRETS_DIR, TLS_DIR, TOKENS_DIR, TOKENS_FILE,
};
use super::{names, selector_labels, OperatorSettings, Resolved};
use crate::crd::endpoint::{DatabaseSpec, PostgresEndpoint, S3Spec, SecretKeyRef};

/// The user the gateway runs as (the image's non-root user).
pub const RUN_AS_USER: i64 = 65532;

/// Secret keys a database reads, with the file name each is mounted as.
pub fn credential_files(d: &DatabaseSpec) -> Vec<(&SecretKeyRef, &'static str)> {
    fn s3(s3: &S3Spec) -> [(&SecretKeyRef, &'static str); 2] {
        [
            (&s3.access_key_id_secret_ref, S3_KEY_ID_FILE),
            (&s3.secret_access_key_secret_ref, S3_SECRET_FILE),
        ]
    }
    let mut out = Vec::new();
    if let Some(l) = &d.ducklake {
        out.push((&l.catalog.password_secret_ref, CATALOG_PASSWORD_FILE));
        out.extend(s3(&l.s3));
    }
    if let Some(f) = &d.duckdb {
        out.extend(s3(&f.s3));
    }
    out
}

/// The projected volume of one database's credentials: one projection per Secret, each key
/// mapped to its fixed file name.
fn credentials_volume(index: usize, d: &DatabaseSpec) -> Option<Volume> {
    let files = credential_files(d);
    if files.is_empty() {
        return None;
    }
    let mut by_secret: BTreeMap<&str, Vec<KeyToPath>> = BTreeMap::new();
    for (r, file) in files {
        by_secret
            .entry(r.name.as_str())
            .or_default()
            .push(KeyToPath {
                key: r.key.clone(),
                path: file.to_owned(),
                mode: None,
            });
    }
    Some(Volume {
        name: format!("db-{index}-credentials"),
        projected: Some(ProjectedVolumeSource {
            default_mode: Some(0o440),
            sources: Some(
                by_secret
                    .into_iter()
                    .map(|(name, items)| VolumeProjection {
                        secret: Some(SecretProjection {
                            name: name.to_owned(),
                            items: Some(items),
                            optional: Some(false),
                        }),
                        ..Default::default()
                    })
                    .collect(),
            ),
        }),
        ..Default::default()
    })
}

/// Volumes of a gateway (or maintenance) pod.
pub fn volumes(ep: &PostgresEndpoint, resolved: &Resolved) -> Vec<Volume> {
    let spec = &ep.spec;
    let mut v = vec![
        Volume {
            name: "config".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: names::config_map(&ep.name_any()),
                default_mode: Some(0o444),
                ..Default::default()
            }),
            ..Default::default()
        },
        Volume {
            name: "tls".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(resolved.tls_secret_name.clone()),
                default_mode: Some(0o440),
                ..Default::default()
            }),
            ..Default::default()
        },
        Volume {
            name: "tokens".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(spec.auth.token_secret.name.clone()),
                items: Some(vec![KeyToPath {
                    key: spec.auth.token_secret.key.clone(),
                    path: TOKENS_FILE.into(),
                    mode: None,
                }]),
                default_mode: Some(0o440),
                ..Default::default()
            }),
            ..Default::default()
        },
        Volume {
            name: "data".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        },
        Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        },
    ];
    for (i, d) in spec.databases.iter().enumerate() {
        v.extend(credentials_volume(i, d));
        if let Some(l) = &d.local {
            v.push(Volume {
                name: format!("db-{i}-volume"),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: l.claim_name.clone(),
                    read_only: Some(false),
                }),
                ..Default::default()
            });
        }
    }
    v
}

fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: Some(read_only),
        ..Default::default()
    }
}

/// Mounts of the gateway container (no subPath anywhere, so Secret updates reach the files).
pub fn volume_mounts(ep: &PostgresEndpoint) -> Vec<VolumeMount> {
    let mut m = vec![
        mount("config", CONFIG_DIR, true),
        mount("tls", TLS_DIR, true),
        mount("tokens", TOKENS_DIR, true),
        mount("data", DATA_DIR, false),
        mount("tmp", "/tmp", false),
    ];
    for (i, d) in ep.spec.databases.iter().enumerate() {
        if !credential_files(d).is_empty() {
            m.push(mount(
                &format!("db-{i}-credentials"),
                &format!("{SECRETS_DIR}/{}", d.name),
                true,
            ));
        }
        if d.local.is_some() {
            m.push(mount(
                &format!("db-{i}-volume"),
                &local_mount_dir(&d.name),
                false,
            ));
        }
    }
    m
}

/// Pod security context: non-root, the runtime's default seccomp profile, volumes group-owned.
pub fn pod_security_context() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS_USER),
        run_as_group: Some(RUN_AS_USER),
        fs_group: Some(RUN_AS_USER),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        }),
        ..Default::default()
    }
}

/// Container security context: read-only root file system, no privilege escalation, no
/// capabilities.
pub fn container_security_context() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        privileged: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: None,
        }),
        ..Default::default()
    }
}

/// The default spreading: across zones and nodes where possible, never blocking scheduling.
pub fn default_topology_spread(ep: &str) -> Vec<TopologySpreadConstraint> {
    ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
        .into_iter()
        .map(|key| TopologySpreadConstraint {
            max_skew: 1,
            topology_key: key.into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            label_selector: Some(LabelSelector {
                match_labels: Some(selector_labels(ep)),
                match_expressions: None,
            }),
            ..Default::default()
        })
        .collect()
}

/// The container image.
pub fn image(ep: &PostgresEndpoint, settings: &OperatorSettings) -> String {
    ep.spec
        .image
        .clone()
        .unwrap_or_else(|| settings.gateway_image.clone())
}

/// A pod spec around `container`, with the endpoint's volumes, identity and scheduling.
pub fn pod_spec(
    ep: &PostgresEndpoint,
    resolved: &Resolved,
    container: Container,
    gateway: bool,
) -> PodSpec {
    let spec = &ep.spec;
    let sched = spec.scheduling.clone().unwrap_or_default();
    let name = ep.name_any();
    PodSpec {
        containers: vec![container],
        volumes: Some(volumes(ep, resolved)),
        service_account_name: Some(names::service_account(&name)),
        automount_service_account_token: Some(false),
        security_context: Some(pod_security_context()),
        enable_service_links: Some(false),
        image_pull_secrets: (!spec.image_pull_secrets.is_empty()).then(|| {
            spec.image_pull_secrets
                .iter()
                .map(|n| LocalObjectReference { name: n.clone() })
                .collect()
        }),
        node_selector: (!sched.node_selector.is_empty()).then(|| sched.node_selector.clone()),
        tolerations: (!sched.tolerations.is_empty()).then(|| sched.tolerations.clone()),
        affinity: sched.affinity.clone(),
        topology_spread_constraints: if gateway {
            match &sched.topology_spread_constraints {
                Some(c) if c.is_empty() => None,
                Some(c) => Some(c.clone()),
                None => Some(default_topology_spread(&name)),
            }
        } else {
            None
        },
        priority_class_name: sched.priority_class_name.clone(),
        termination_grace_period_seconds: gateway
            .then(|| i64::try_from(configmap::drain_timeout_ms(spec) / 1000).unwrap_or(3600) + 5),
        ..Default::default()
    }
}
