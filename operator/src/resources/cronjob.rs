//! The DuckLake maintenance CronJob: `duckgate-gateway maintenance` with the gateway's config
//! and volumes, on the spec's schedule.

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{Container, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;

use super::configmap::config_path;
use super::pod::{container_security_context, image, pod_spec, volume_mounts};
use super::{child_meta, labels, names, OperatorSettings, Resolved};
use crate::crd::endpoint::PostgresEndpoint;

pub fn cronjob(
    ep: &PostgresEndpoint,
    settings: &OperatorSettings,
    resolved: &Resolved,
) -> Option<CronJob> {
    let m = ep.spec.maintenance.as_ref()?;
    let name = ep.name_any();
    let mut args = vec![
        "maintenance".to_owned(),
        "--config".to_owned(),
        config_path(),
        "--retention".to_owned(),
        m.retention.clone(),
    ];
    if let Some(db) = &m.database {
        args.push("--database".into());
        args.push(db.clone());
    }
    let container = Container {
        name: "maintenance".into(),
        image: Some(image(ep, settings)),
        image_pull_policy: ep.spec.image_pull_policy.map(|p| p.as_str().to_owned()),
        command: Some(vec!["duckgate-gateway".into()]),
        args: Some(args),
        resources: m.resources.clone().or_else(|| ep.spec.resources.clone()),
        security_context: Some(container_security_context()),
        volume_mounts: Some(volume_mounts(ep)),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    };
    let mut pod = pod_spec(ep, resolved, container, false);
    pod.restart_policy = Some("Never".into());
    let mut pod_labels = labels(&name);
    pod_labels.insert(super::LABEL_COMPONENT.into(), "maintenance".into());
    Some(CronJob {
        metadata: child_meta(ep, names::cronjob(&name)),
        spec: Some(CronJobSpec {
            schedule: m.schedule.clone(),
            suspend: Some(m.suspend),
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(1),
            failed_jobs_history_limit: Some(3),
            starting_deadline_seconds: Some(3600),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    backoff_limit: Some(2),
                    ttl_seconds_after_finished: Some(86_400),
                    template: PodTemplateSpec {
                        metadata: Some(ObjectMeta {
                            labels: Some(pod_labels),
                            ..Default::default()
                        }),
                        spec: Some(pod),
                    },
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::testing;

    #[test]
    fn no_maintenance_no_cronjob() {
        assert!(cronjob(
            &testing::endpoint(testing::spec()),
            &OperatorSettings::default(),
            &testing::resolved()
        )
        .is_none());
    }

    #[test]
    fn maintenance_runs_the_gateway_subcommand_with_the_same_volumes() {
        let mut spec = testing::spec();
        spec.maintenance = Some(
            serde_yaml::from_str("{schedule: '0 4 * * *', retention: 2d, database: lake}").unwrap(),
        );
        let ep = testing::endpoint(spec);
        let cj = cronjob(&ep, &OperatorSettings::default(), &testing::resolved()).unwrap();
        assert_eq!(cj.metadata.name.as_deref(), Some("db-maintenance"));
        let s = cj.spec.unwrap();
        assert_eq!(s.schedule, "0 4 * * *");
        assert_eq!(s.concurrency_policy.as_deref(), Some("Forbid"));
        let pod_t = s.job_template.spec.unwrap().template;
        let labels = pod_t.metadata.unwrap().labels.unwrap();
        assert_eq!(
            labels["app.kubernetes.io/component"], "maintenance",
            "not selected by the Service"
        );
        let pod = pod_t.spec.unwrap();
        let c = &pod.containers[0];
        assert_eq!(
            c.args.as_ref().unwrap(),
            &[
                "maintenance",
                "--config",
                "/etc/duckgate/config/gateway.yaml",
                "--retention",
                "2d",
                "--database",
                "lake"
            ]
        );
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        let gw = crate::resources::deployment::deployment(
            &ep,
            &OperatorSettings::default(),
            &testing::resolved(),
            "x",
        );
        let gw_pod = gw.spec.unwrap().template.spec.unwrap();
        assert_eq!(pod.volumes, gw_pod.volumes);
        assert_eq!(c.volume_mounts, gw_pod.containers[0].volume_mounts);
        assert_eq!(
            c.security_context
                .as_ref()
                .unwrap()
                .read_only_root_filesystem,
            Some(true)
        );
    }
}
