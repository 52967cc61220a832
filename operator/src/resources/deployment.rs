//! The gateway Deployment.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{Container, ContainerPort, HTTPGetAction, PodTemplateSpec, Probe};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;

use super::configmap::{config_path, ADMIN_PORT, POSTGRES_PORT};
use super::pod::{container_security_context, image, pod_spec, volume_mounts};
use super::{
    child_meta, names, selector_labels, short_hash, OperatorSettings, Resolved,
    ANNOTATION_CONFIG_HASH, ANNOTATION_CREDENTIALS_HASH, ANNOTATION_TOKENS_HASH,
};
use crate::crd::endpoint::PostgresEndpoint;

fn http_probe(path: &str, period: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String("admin".into()),
            scheme: Some("HTTP".into()),
            ..Default::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(2),
        failure_threshold: Some(failures),
        ..Default::default()
    }
}

/// The gateway container.
pub fn gateway_container(ep: &PostgresEndpoint, settings: &OperatorSettings) -> Container {
    Container {
        name: "gateway".into(),
        image: Some(image(ep, settings)),
        image_pull_policy: ep.spec.image_pull_policy.map(|p| p.as_str().to_owned()),
        command: Some(vec!["duckgate-gateway".into()]),
        args: Some(vec!["serve".into(), "--config".into(), config_path()]),
        ports: Some(vec![
            ContainerPort {
                name: Some("postgres".into()),
                container_port: POSTGRES_PORT.into(),
                protocol: Some("TCP".into()),
                ..Default::default()
            },
            ContainerPort {
                name: Some("admin".into()),
                container_port: ADMIN_PORT.into(),
                protocol: Some("TCP".into()),
                ..Default::default()
            },
        ]),
        // Opening remote databases can take a while: the startup probe allows two minutes
        // before liveness takes over.
        startup_probe: Some(http_probe("/healthz", 2, 60)),
        liveness_probe: Some(http_probe("/healthz", 10, 3)),
        readiness_probe: Some(http_probe("/readyz", 5, 2)),
        resources: ep.spec.resources.clone(),
        security_context: Some(container_security_context()),
        volume_mounts: Some(volume_mounts(ep)),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    }
}

/// The Deployment. With autoscaling, `spec.replicas` is left out so the HPA alone owns it.
pub fn deployment(
    ep: &PostgresEndpoint,
    settings: &OperatorSettings,
    resolved: &Resolved,
    config_yaml: &str,
) -> Deployment {
    let name = ep.name_any();
    let spec = &ep.spec;
    let replicas = if spec.autoscaling.is_some() {
        None
    } else {
        Some(spec.replicas)
    };
    // A local database is a file with one writer: the old pod must be gone before the new one
    // opens it.
    let single_writer = spec.databases.iter().any(|d| d.local.is_some());
    let strategy = if single_writer {
        DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        }
    } else {
        DeploymentStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(IntOrString::String("25%".into())),
                max_unavailable: Some(IntOrString::Int(0)),
            }),
        }
    };

    let mut pod_labels = spec.pod_labels.clone();
    pod_labels.extend(selector_labels(&name));
    let mut pod_annotations = spec.pod_annotations.clone();
    pod_annotations.insert(
        ANNOTATION_CONFIG_HASH.into(),
        short_hash(config_yaml.as_bytes()),
    );
    pod_annotations.insert(
        ANNOTATION_CREDENTIALS_HASH.into(),
        resolved.credentials_hash.clone(),
    );

    let mut meta = child_meta(ep, names::deployment(&name));
    meta.annotations = Some(BTreeMap::from([(
        ANNOTATION_TOKENS_HASH.to_owned(),
        resolved.tokens_hash.clone(),
    )]));
    Deployment {
        metadata: meta,
        spec: Some(DeploymentSpec {
            replicas,
            selector: LabelSelector {
                match_labels: Some(selector_labels(&name)),
                match_expressions: None,
            },
            strategy: Some(strategy),
            revision_history_limit: Some(5),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: Some(pod_annotations),
                    ..Default::default()
                }),
                spec: Some(pod_spec(
                    ep,
                    resolved,
                    gateway_container(ep, settings),
                    true,
                )),
            },
            ..Default::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::testing;

    fn build(ep: &PostgresEndpoint) -> Deployment {
        deployment(
            ep,
            &OperatorSettings::default(),
            &testing::resolved(),
            "cfg",
        )
    }

    #[test]
    fn gateway_runs_serve_with_the_config_and_probes_on_admin() {
        let ep = testing::endpoint(testing::spec());
        let d = build(&ep);
        let spec = d.spec.unwrap();
        assert_eq!(spec.replicas, Some(1));
        let pod = spec.template.spec.unwrap();
        let c = &pod.containers[0];
        assert_eq!(c.command.as_ref().unwrap(), &["duckgate-gateway"]);
        assert_eq!(
            c.args.as_ref().unwrap(),
            &["serve", "--config", "/etc/duckgate/config/gateway.yaml"]
        );
        assert_eq!(
            c.image.as_deref(),
            Some(OperatorSettings::default().gateway_image.as_str())
        );
        let ports: Vec<_> = c
            .ports
            .as_ref()
            .unwrap()
            .iter()
            .map(|p| (p.name.clone().unwrap(), p.container_port))
            .collect();
        assert_eq!(
            ports,
            vec![("postgres".into(), 5432), ("admin".into(), 8080)]
        );
        let live = c
            .liveness_probe
            .as_ref()
            .unwrap()
            .http_get
            .as_ref()
            .unwrap();
        assert_eq!(live.path.as_deref(), Some("/healthz"));
        assert_eq!(live.port, IntOrString::String("admin".into()));
        let ready = c
            .readiness_probe
            .as_ref()
            .unwrap()
            .http_get
            .as_ref()
            .unwrap();
        assert_eq!(ready.path.as_deref(), Some("/readyz"));
        // drain 30 s + 5
        assert_eq!(pod.termination_grace_period_seconds, Some(35));
        assert_eq!(pod.service_account_name.as_deref(), Some("db"));
        assert_eq!(pod.automount_service_account_token, Some(false));
    }

    #[test]
    fn pods_are_non_root_with_a_read_only_root() {
        let d = build(&testing::endpoint(testing::spec()));
        let pod = d.spec.unwrap().template.spec.unwrap();
        let psc = pod.security_context.unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert_eq!(psc.seccomp_profile.unwrap().type_, "RuntimeDefault");
        let sc = pod.containers[0].security_context.clone().unwrap();
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.capabilities.unwrap().drop.unwrap(), vec!["ALL"]);
        // the writable places are volumes
        let mounts: Vec<_> = pod.containers[0]
            .volume_mounts
            .as_ref()
            .unwrap()
            .iter()
            .filter(|m| m.read_only == Some(false))
            .map(|m| m.mount_path.clone())
            .collect();
        assert_eq!(mounts, vec!["/var/lib/duckgate", "/tmp"]);
    }

    #[test]
    fn secrets_are_mounted_as_files_without_subpath() {
        let d = build(&testing::endpoint(testing::spec()));
        let pod = d.spec.unwrap().template.spec.unwrap();
        let c = &pod.containers[0];
        assert!(c
            .volume_mounts
            .as_ref()
            .unwrap()
            .iter()
            .all(|m| m.sub_path.is_none()));
        let path_of = |vol: &str| {
            c.volume_mounts
                .as_ref()
                .unwrap()
                .iter()
                .find(|m| m.name == vol)
                .unwrap()
                .mount_path
                .clone()
        };
        assert_eq!(path_of("tls"), "/etc/duckgate/tls");
        assert_eq!(path_of("tokens"), "/etc/duckgate/tokens");
        assert_eq!(path_of("config"), "/etc/duckgate/config");
        assert_eq!(path_of("db-0-credentials"), "/etc/duckgate/secrets/lake");
        assert_eq!(path_of("db-1-credentials"), "/etc/duckgate/secrets/archive");
        let vols = pod.volumes.unwrap();
        let vol = |n: &str| vols.iter().find(|v| v.name == n).unwrap().clone();
        assert_eq!(
            vol("tls").secret.unwrap().secret_name.as_deref(),
            Some("db-cert-tls")
        );
        let tokens = vol("tokens").secret.unwrap();
        assert_eq!(tokens.secret_name.as_deref(), Some("tokens"));
        assert_eq!(tokens.items.unwrap()[0].key, "tokens.yaml");
        assert_eq!(vol("config").config_map.unwrap().name, "db-config");
        // lake: two Secrets, three files
        let sources = vol("db-0-credentials").projected.unwrap().sources.unwrap();
        let mut files: Vec<(String, String, String)> = sources
            .iter()
            .flat_map(|s| {
                let s = s.secret.as_ref().unwrap();
                s.items
                    .as_ref()
                    .unwrap()
                    .iter()
                    .map(move |i| (s.name.clone(), i.key.clone(), i.path.clone()))
            })
            .collect();
        files.sort();
        assert_eq!(
            files,
            vec![
                (
                    "catalog".into(),
                    "password".into(),
                    "catalog-password".into()
                ),
                ("s3".into(), "id".into(), "s3-access-key-id".into()),
                ("s3".into(), "secret".into(), "s3-secret-access-key".into()),
            ]
        );
    }

    #[test]
    fn config_and_credentials_roll_pods_but_tokens_and_certificates_do_not() {
        let ep = testing::endpoint(testing::spec());
        let s = OperatorSettings::default();
        let r = testing::resolved();
        let tmpl = |r: &Resolved, cfg: &str| deployment(&ep, &s, r, cfg).spec.unwrap().template;
        let base = tmpl(&r, "a");
        assert_ne!(base, tmpl(&r, "b"), "config change rolls");
        let mut creds = r.clone();
        creds.credentials_hash = "other".into();
        assert_ne!(base, tmpl(&creds, "a"), "credential change rolls");
        let mut tokens = r.clone();
        tokens.tokens_hash = "other".into();
        assert_eq!(base, tmpl(&tokens, "a"), "token change is hot-reloaded");
        let annotations = base.metadata.unwrap().annotations.unwrap();
        assert_eq!(annotations[ANNOTATION_CONFIG_HASH], short_hash(b"a"));
        assert_eq!(annotations[ANNOTATION_CREDENTIALS_HASH], "c0ffee");
        let d = deployment(&ep, &s, &tokens, "a");
        assert_eq!(
            d.metadata.annotations.unwrap()[ANNOTATION_TOKENS_HASH],
            "other"
        );
    }

    #[test]
    fn autoscaling_leaves_replicas_to_the_hpa() {
        let mut spec = testing::spec();
        spec.autoscaling = Some(
            serde_yaml::from_str(
                "{minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 70}",
            )
            .unwrap(),
        );
        let d = build(&testing::endpoint(spec));
        assert_eq!(d.spec.unwrap().replicas, None);
        let mut spec = testing::spec();
        spec.replicas = 4;
        assert_eq!(
            build(&testing::endpoint(spec)).spec.unwrap().replicas,
            Some(4)
        );
    }

    #[test]
    fn local_databases_recreate_and_mount_their_claim() {
        let mut spec = testing::spec();
        spec.databases.push(
            serde_yaml::from_str("{name: scratch, local: {claimName: scratch-pvc}}").unwrap(),
        );
        let d = build(&testing::endpoint(spec));
        let dspec = d.spec.unwrap();
        assert_eq!(dspec.strategy.unwrap().type_.as_deref(), Some("Recreate"));
        let pod = dspec.template.spec.unwrap();
        let vol = pod
            .volumes
            .unwrap()
            .into_iter()
            .find(|v| v.name == "db-2-volume")
            .unwrap();
        assert_eq!(
            vol.persistent_volume_claim.unwrap().claim_name,
            "scratch-pvc"
        );
        let m = pod.containers[0]
            .volume_mounts
            .as_ref()
            .unwrap()
            .iter()
            .find(|m| m.name == "db-2-volume")
            .unwrap()
            .clone();
        assert_eq!(m.mount_path, "/var/lib/duckgate/volumes/scratch");
        assert_eq!(m.read_only, Some(false));
    }

    #[test]
    fn scheduling_and_pod_metadata_pass_through() {
        let mut spec = testing::spec();
        spec.scheduling = Some(
            serde_yaml::from_str(
                "{nodeSelector: {pool: db}, tolerations: [{key: dedicated, operator: Exists}], priorityClassName: high}",
            )
            .unwrap(),
        );
        spec.pod_labels.insert("team".into(), "data".into());
        spec.pod_labels
            .insert("app.kubernetes.io/instance".into(), "spoofed".into());
        spec.pod_annotations
            .insert("prometheus.io/scrape".into(), "true".into());
        spec.image = Some("registry.example/duckgate:1".into());
        spec.image_pull_secrets = vec!["regcred".into()];
        let d = build(&testing::endpoint(spec));
        let t = d.spec.unwrap().template;
        let meta = t.metadata.unwrap();
        assert_eq!(meta.labels.as_ref().unwrap()["team"], "data");
        assert_eq!(
            meta.labels.as_ref().unwrap()["app.kubernetes.io/instance"],
            "db",
            "selector labels win"
        );
        assert_eq!(meta.annotations.unwrap()["prometheus.io/scrape"], "true");
        let pod = t.spec.unwrap();
        assert_eq!(pod.node_selector.unwrap()["pool"], "db");
        assert_eq!(
            pod.tolerations.unwrap()[0].key.as_deref(),
            Some("dedicated")
        );
        assert_eq!(pod.priority_class_name.as_deref(), Some("high"));
        assert_eq!(pod.image_pull_secrets.unwrap()[0].name, "regcred");
        assert_eq!(
            pod.containers[0].image.as_deref(),
            Some("registry.example/duckgate:1")
        );
        // default spreading
        let spread = pod.topology_spread_constraints.unwrap();
        assert_eq!(spread.len(), 2);
        assert!(spread
            .iter()
            .all(|c| c.when_unsatisfiable == "ScheduleAnyway"));
    }

    #[test]
    fn an_empty_spread_list_turns_spreading_off() {
        let mut spec = testing::spec();
        spec.scheduling = Some(serde_yaml::from_str("{topologySpreadConstraints: []}").unwrap());
        let d = build(&testing::endpoint(spec));
        assert_eq!(
            d.spec
                .unwrap()
                .template
                .spec
                .unwrap()
                .topology_spread_constraints,
            None
        );
    }

    #[test]
    fn serialized_deployment_has_no_nulls() {
        let d = build(&testing::endpoint(testing::spec()));
        let json = serde_json::to_string(&d).unwrap();
        assert!(!json.contains("null"), "{json}");
    }
}
