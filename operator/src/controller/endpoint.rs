//! The PostgresEndpoint reconciler: read references → validate → build (pure) → apply →
//! status from what the API server returned.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{DynamicObject, ListParams};
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};

use super::status::{self, Observed};
use super::{
    api_resource, apply, decode, delete_if_exists, publish_transitions, write_status, Context,
    Error, Result,
};
use crate::crd::conditions::Cond;
use crate::crd::{EndpointCertificate, PostgresEndpoint};
use crate::resources::{
    self, configmap, cronjob, deployment, hpa, pdb, pod, secret, service, serviceaccount, Resolved,
};
use crate::validate::validate_endpoint;

pub const CONTROLLER: &str = "endpoint";

/// Names of the Secrets an endpoint reads (tokens, credentials, TLS when given directly).
fn referenced_secrets(ep: &PostgresEndpoint) -> Vec<String> {
    let mut v = vec![ep.spec.auth.token_secret.name.clone()];
    if let Some(s) = &ep.spec.tls.secret_name {
        v.push(s.clone());
    }
    for d in &ep.spec.databases {
        v.extend(
            pod::credential_files(d)
                .into_iter()
                .map(|(r, _)| r.name.clone()),
        );
    }
    v
}

/// The controller with every watch that should wake an endpoint.
pub fn controller(ctx: Arc<Context>) -> Controller<DynamicObject> {
    let ar = api_resource::<PostgresEndpoint>();
    let managed = watcher::Config::default().labels(&format!(
        "{}={}",
        resources::LABEL_MANAGED_BY,
        resources::MANAGED_BY
    ));
    let c = Controller::new_with(ctx.dynamic_all(&ar), watcher::Config::default(), ar.clone())
        .with_config(Config::default().debounce(super::DEBOUNCE))
        .owns_with(ctx.api_all::<Deployment>(), (), managed.clone())
        .owns_with(ctx.api_all::<Service>(), (), managed.clone())
        .owns_with(ctx.api_all::<ConfigMap>(), (), managed.clone())
        .owns_with(ctx.api_all::<ServiceAccount>(), (), managed.clone())
        .owns_with(ctx.api_all::<PodDisruptionBudget>(), (), managed.clone())
        .owns_with(
            ctx.api_all::<HorizontalPodAutoscaler>(),
            (),
            managed.clone(),
        )
        .owns_with(ctx.api_all::<CronJob>(), (), managed);

    // Secrets and certificates an endpoint references (no owner link): look the endpoints up
    // in the controller's own cache.
    let store = c.store();
    let ar2 = ar.clone();
    let c = c.watches(
        ctx.api_all::<Secret>(),
        watcher::Config::default(),
        move |s: Secret| {
            let ns = s.namespace();
            let name = s.name_any();
            store
                .state()
                .into_iter()
                .filter(|o| o.namespace() == ns)
                .filter(|o| {
                    decode::<PostgresEndpoint>(o).is_ok_and(|ep| {
                        referenced_secrets(&ep).contains(&name)
                            || ep.status.as_ref().and_then(|s| s.tls_secret_name.as_ref())
                                == Some(&name)
                    })
                })
                .map(|o| ObjectRef::from_obj_with(o.as_ref(), ar2.clone()))
                .collect::<Vec<_>>()
        },
    );
    let store = c.store();
    let cert_ar = api_resource::<EndpointCertificate>();
    c.watches_with(
        ctx.dynamic_all(&cert_ar),
        cert_ar,
        watcher::Config::default(),
        move |cert: DynamicObject| {
            let ns = cert.namespace();
            let name = cert.name_any();
            store
                .state()
                .into_iter()
                .filter(|o| o.namespace() == ns)
                .filter(|o| {
                    decode::<PostgresEndpoint>(o)
                        .is_ok_and(|ep| ep.spec.tls.certificate.as_deref() == Some(&name))
                })
                .map(|o| ObjectRef::from_obj_with(o.as_ref(), ar.clone()))
                .collect::<Vec<_>>()
        },
    )
}

pub async fn reconcile(obj: Arc<DynamicObject>, ctx: Arc<Context>) -> Result<Action> {
    let started = Instant::now();
    let key = format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any());
    let result = reconcile_inner(&obj, &ctx).await;
    ctx.metrics.reconciled(CONTROLLER, started.elapsed());
    match &result {
        Ok(_) => ctx.backoff.succeeded(&key),
        Err(e) => ctx.metrics.error(CONTROLLER, e.reason()),
    }
    result
}

/// Secrets read once per reconcile.
struct SecretCache<'a> {
    api: Api<Secret>,
    cache: BTreeMap<String, Option<Secret>>,
    _ctx: &'a Context,
}

impl<'a> SecretCache<'a> {
    async fn get(&mut self, name: &str) -> Result<Option<&Secret>> {
        if !self.cache.contains_key(name) {
            let s = self.api.get_opt(name).await?;
            self.cache.insert(name.to_owned(), s);
        }
        Ok(self.cache[name].as_ref())
    }

    async fn value(&mut self, name: &str, key: &str) -> Result<Vec<u8>> {
        let s = self
            .get(name)
            .await?
            .ok_or_else(|| Error::SecretNotFound(name.to_owned()))?;
        s.data
            .as_ref()
            .and_then(|d| d.get(key))
            .map(|b| b.0.clone())
            .ok_or_else(|| Error::SecretKeyMissing {
                name: name.to_owned(),
                key: key.to_owned(),
            })
    }
}

/// Read everything the spec references and check it is usable.
async fn resolve(ep: &PostgresEndpoint, ctx: &Context, ns: &str) -> Result<(Resolved, Observed)> {
    let mut secrets = SecretCache {
        api: Api::namespaced(ctx.client.clone(), ns),
        cache: BTreeMap::new(),
        _ctx: ctx,
    };
    let t = &ep.spec.auth.token_secret;
    let tokens = secrets.value(&t.name, &t.key).await?;
    let text = String::from_utf8_lossy(&tokens);
    if let Err(e) = duckgate_config::tokens::TokenFile::from_yaml(&text) {
        return Err(Error::InvalidTokenFile {
            name: t.name.clone(),
            key: t.key.clone(),
            message: e.to_string(),
        });
    }

    let mut credentials = Vec::new();
    for d in &ep.spec.databases {
        for (r, file) in pod::credential_files(d) {
            let v = secrets.value(&r.name, &r.key).await?;
            credentials.push((format!("{}/{file}", d.name), v));
        }
    }
    let credentials_hash =
        resources::hash_values(credentials.iter().map(|(k, v)| (k.clone(), v.as_slice())));

    let tls_secret_name = match (&ep.spec.tls.certificate, &ep.spec.tls.secret_name) {
        (Some(c), _) => {
            let certs: Api<DynamicObject> = Api::namespaced_with(
                ctx.client.clone(),
                ns,
                &api_resource::<EndpointCertificate>(),
            );
            let cert = certs
                .get_opt(c)
                .await?
                .ok_or_else(|| Error::CertificateNotFound(c.clone()))?;
            let cert: EndpointCertificate = decode(&cert)?;
            let name = secret::certificate_secret_name(&cert);
            if secrets.get(&name).await?.is_none() {
                return Err(Error::CertificateNotReady(c.clone()));
            }
            name
        }
        (None, Some(s)) => s.clone(),
        (None, None) => unreachable!("validated"),
    };
    let tls = secrets
        .get(&tls_secret_name)
        .await?
        .ok_or_else(|| Error::SecretNotFound(tls_secret_name.clone()))?
        .clone();
    let crt = secret::secret_text(&tls, secret::TLS_CRT);
    let has_key = secret::secret_text(&tls, secret::TLS_KEY).is_some();
    let info = match (&crt, has_key) {
        (Some(crt), true) => crate::certs::inspect(crt).map_err(|e| Error::InvalidTlsSecret {
            name: tls_secret_name.clone(),
            message: e.to_string(),
        })?,
        _ => {
            return Err(Error::InvalidTlsSecret {
                name: tls_secret_name.clone(),
                message: "needs tls.crt and tls.key".into(),
            })
        }
    };
    let resolved = Resolved {
        tls_has_ca: secret::secret_text(&tls, secret::CA_CRT).is_some(),
        tls_secret_name: tls_secret_name.clone(),
        credentials_hash,
        tokens_hash: resources::short_hash(&tokens),
    };
    let observed = Observed {
        tls_secret_name: Some(tls_secret_name),
        certificate_not_after: Some(info.not_after),
    };
    Ok((resolved, observed))
}

/// Objects the operator may have created earlier but the spec no longer asks for: found by
/// label, deleted.
async fn clean_up_orphans(
    ep: &PostgresEndpoint,
    ctx: &Context,
    ns: &str,
    hpa_wanted: bool,
    cron_wanted: bool,
) -> Result<()> {
    let name = ep.name_any();
    let selector = format!(
        "{}={},{}={}",
        resources::LABEL_INSTANCE,
        name,
        resources::LABEL_MANAGED_BY,
        resources::MANAGED_BY
    );
    let lp = ListParams::default().labels(&selector);
    if !hpa_wanted {
        let api: Api<HorizontalPodAutoscaler> = Api::namespaced(ctx.client.clone(), ns);
        for h in api.list_metadata(&lp).await? {
            delete_if_exists::<HorizontalPodAutoscaler>(&ctx.client, ns, &h.name_any()).await?;
        }
    }
    if !cron_wanted {
        let api: Api<CronJob> = Api::namespaced(ctx.client.clone(), ns);
        for c in api.list_metadata(&lp).await? {
            delete_if_exists::<CronJob>(&ctx.client, ns, &c.name_any()).await?;
        }
    }
    Ok(())
}

/// Write the status and publish events for condition transitions.
async fn finish(
    ep: &PostgresEndpoint,
    ctx: &Context,
    ns: &str,
    new: crate::crd::PostgresEndpointStatus,
) -> Result<()> {
    let previous = ep.status.clone();
    let written = write_status(
        &ctx.client,
        &api_resource::<PostgresEndpoint>(),
        ns,
        &ep.name_any(),
        previous.as_ref(),
        &new,
    )
    .await?;
    if written {
        let prev_conds = previous.map(|p| p.conditions).unwrap_or_default();
        publish_transitions(ctx, &ep.object_ref(&()), &prev_conds, &new.conditions).await;
    }
    Ok(())
}

async fn reconcile_inner(obj: &DynamicObject, ctx: &Context) -> Result<Action> {
    let ns = obj.namespace().unwrap_or_default();
    let ep: PostgresEndpoint = match decode(obj) {
        Ok(ep) => ep,
        Err(e) => {
            report_undecodable(obj, ctx, &ns, &e).await?;
            return Ok(Action::await_change());
        }
    };
    if ep.meta().deletion_timestamp.is_some() {
        // Children go with the garbage collector (owner references).
        return Ok(Action::await_change());
    }
    let previous = ep.status.clone().unwrap_or_default();
    let now = status::now();

    if ep.spec.paused {
        let conds = status::paused_conditions(&previous.conditions);
        let mut s = previous.clone();
        s.observed_generation = ep.metadata.generation;
        s.conditions = crate::crd::conditions::merge(
            &previous.conditions,
            &conds,
            ep.metadata.generation,
            &now,
        );
        finish(&ep, ctx, &ns, s).await?;
        return Ok(Action::await_change());
    }

    // validate, then read references
    let checked = validate_endpoint(&ep).map_err(Error::Invalid);
    let refs = match checked {
        Ok(()) => resolve(&ep, ctx, &ns).await,
        Err(e) => Err(e),
    };
    let (resolved, observed) = match refs {
        Ok(r) => r,
        Err(e) if e.is_user_error() => {
            tracing::info!(endpoint = %ep.name_any(), namespace = %ns, reason = e.reason(), "{e}");
            ctx.metrics.error(CONTROLLER, e.reason());
            let conds = status::error_conditions(
                &previous.conditions,
                e.reason(),
                &e.to_string(),
                e.is_transient_wait(),
            );
            let s = status::endpoint_status(&ep, None, None, &Observed::default(), &conds, &now);
            finish(&ep, ctx, &ns, s).await?;
            // The watches bring the fix; the requeue is a safety net.
            let wait = if e.is_transient_wait() { 10 } else { 300 };
            return Ok(Action::requeue(Duration::from_secs(wait)));
        }
        Err(e) => return Err(e),
    };

    // build
    let cfg = configmap::gateway_config(&ep.spec, &resolved);
    let yaml = cfg.to_yaml();
    let settings = &ctx.settings;
    let cm = configmap::config_map(&ep, &yaml);
    let sa = serviceaccount::service_account(&ep);
    let svc = service::service(&ep);
    let dep = deployment::deployment(&ep, settings, &resolved, &yaml);
    let budget = pdb::pdb(&ep);
    let autoscaler = hpa::hpa(&ep);
    let cron = cronjob::cronjob(&ep, settings, &resolved);

    // apply
    let applied = async {
        let c = &ctx.client;
        apply(c, &ns, &sa).await?;
        apply(c, &ns, &cm).await?;
        let svc = apply(c, &ns, &svc).await?;
        let dep = apply(c, &ns, &dep).await?;
        apply(c, &ns, &budget).await?;
        if let Some(h) = &autoscaler {
            apply(c, &ns, h).await?;
        }
        if let Some(j) = &cron {
            apply(c, &ns, j).await?;
        }
        clean_up_orphans(&ep, ctx, &ns, autoscaler.is_some(), cron.is_some()).await?;
        Ok::<_, Error>((dep, svc))
    }
    .await;
    let (dep, svc) = match applied {
        Ok(v) => v,
        Err(e) => {
            let conds = status::error_conditions(
                &previous.conditions,
                "ApplyFailed",
                &e.to_string(),
                false,
            );
            let s = status::endpoint_status(&ep, None, None, &observed, &conds, &now);
            if let Err(se) = finish(&ep, ctx, &ns, s).await {
                tracing::warn!(error = %se, "cannot write status");
            }
            return Err(e);
        }
    };

    // status from what the API server returned
    let conds: Vec<Cond> = status::applied_conditions(&dep);
    let s = status::endpoint_status(&ep, Some(&dep), Some(&svc), &observed, &conds, &now);
    finish(&ep, ctx, &ns, s).await?;
    Ok(Action::requeue(Duration::from_secs(300)))
}

/// An object that does not decode: say so on the object itself (status is a free-form merge
/// here, since the typed status cannot be trusted either).
async fn report_undecodable(obj: &DynamicObject, ctx: &Context, ns: &str, e: &Error) -> Result<()> {
    tracing::warn!(endpoint = %obj.name_any(), namespace = %ns, error = %e, "cannot decode PostgresEndpoint");
    ctx.metrics.error(CONTROLLER, e.reason());
    let ar = api_resource::<PostgresEndpoint>();
    let previous: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> = obj
        .data
        .get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .unwrap_or_default();
    let conds = status::error_conditions(&previous, e.reason(), &e.to_string(), false);
    let merged =
        crate::crd::conditions::merge(&previous, &conds, obj.metadata.generation, &status::now());
    if merged == previous {
        return Ok(());
    }
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, &ar);
    let body = serde_json::json!({"status": {"conditions": merged, "observedGeneration": obj.metadata.generation}});
    api.patch_status(
        &obj.name_any(),
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(body),
    )
    .await?;
    Ok(())
}
