//! The EndpointCertificate reconciler: names → CA (managed, yours, or cert-manager's) → issue
//! or renew into the TLS Secret → status. Renewal is driven by a requeue at the renewal time,
//! not only by events.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Secret, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};

use super::{
    api_resource, apply, decode, publish, publish_transitions, write_status, Context, Error, Result,
};
use crate::certs::{self, CaChange, Existing, KeyedCert, Sans};
use crate::crd::certificate::{EndpointCertificateStatus, IssuerSpec};
use crate::crd::conditions::{self, Cond, ISSUING, READY};
use crate::crd::{EndpointCertificate, PostgresEndpoint};
use crate::resources::secret::{
    self as secrets, certificate_secret_name, secret_text, CA_SECRET_NAME,
};
use crate::resources::{certmanager, service::cluster_dns_names, FIELD_MANAGER};

pub const CONTROLLER: &str = "certificate";

/// How often a valid certificate is looked at even when nothing happens.
const RECHECK: Duration = Duration::from_secs(3600);

fn certs_in_namespace(
    store: &kube::runtime::reflector::Store<DynamicObject>,
    ns: Option<String>,
    ar: &kube::api::ApiResource,
    keep: impl Fn(&EndpointCertificate) -> bool,
) -> Vec<ObjectRef<DynamicObject>> {
    store
        .state()
        .into_iter()
        .filter(|o| o.namespace() == ns)
        .filter(|o| decode::<EndpointCertificate>(o).is_ok_and(|c| keep(&c)))
        .map(|o| ObjectRef::from_obj_with(o.as_ref(), ar.clone()))
        .collect()
}

pub fn controller(ctx: Arc<Context>) -> Controller<DynamicObject> {
    let ar = api_resource::<EndpointCertificate>();
    let c = Controller::new_with(ctx.dynamic_all(&ar), watcher::Config::default(), ar.clone())
        .with_config(Config::default().debounce(super::DEBOUNCE));

    // Endpoints decide the default names.
    let ep_ar = api_resource::<PostgresEndpoint>();
    let ar1 = ar.clone();
    let c = c.watches_with(
        ctx.dynamic_all(&ep_ar),
        ep_ar,
        watcher::Config::default(),
        move |o: DynamicObject| {
            decode::<PostgresEndpoint>(&o)
                .ok()
                .and_then(|ep| ep.spec.tls.certificate.clone())
                .map(|name| {
                    ObjectRef::new_with(&name, ar1.clone())
                        .within(&o.namespace().unwrap_or_default())
                })
        },
    );

    // Load balancer addresses of the endpoints' Services are names too.
    let store = c.store();
    let ar2 = ar.clone();
    let managed = watcher::Config::default().labels(&format!(
        "{}={}",
        crate::resources::LABEL_MANAGED_BY,
        crate::resources::MANAGED_BY
    ));
    let c = c.watches(ctx.api_all::<Service>(), managed, move |s: Service| {
        certs_in_namespace(&store, s.namespace(), &ar2, |c| c.spec.dns_names.is_empty())
    });

    // The TLS Secrets it writes (restored when deleted or edited), the namespace CA, a CA of yours.
    let store = c.store();
    c.watches(
        ctx.api_all::<Secret>(),
        watcher::Config::default(),
        move |s: Secret| {
            let name = s.name_any();
            certs_in_namespace(&store, s.namespace(), &ar, |c| {
                certificate_secret_name(c) == name
                    || (name == CA_SECRET_NAME && c.spec.issuer.self_signed.is_some())
                    || c.spec
                        .issuer
                        .ca
                        .as_ref()
                        .is_some_and(|ca| ca.secret_name == name)
            })
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

/// The names the certificate should carry.
async fn wanted_names(cert: &EndpointCertificate, ctx: &Context, ns: &str) -> Result<Sans> {
    let mut ips: Vec<IpAddr> = Vec::new();
    for s in &cert.spec.ip_addresses {
        ips.push(s.parse().map_err(|_| {
            Error::Invalid(crate::validate::Invalid {
                field: "ipAddresses".into(),
                message: format!("{s:?} is not an IP address"),
            })
        })?);
    }
    if !cert.spec.dns_names.is_empty() {
        return Ok(Sans {
            dns_names: cert.spec.dns_names.clone(),
            ip_addresses: ips,
        }
        .normalized());
    }
    let mut dns = Vec::new();
    let eps: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), ns, &api_resource::<PostgresEndpoint>());
    let services: Api<Service> = Api::namespaced(ctx.client.clone(), ns);
    for o in eps.list(&Default::default()).await? {
        let Ok(ep) = decode::<PostgresEndpoint>(&o) else {
            continue;
        };
        if ep.spec.tls.certificate.as_deref() != Some(cert.name_any().as_str()) {
            continue;
        }
        let svc = ep.name_any();
        dns.extend(cluster_dns_names(&svc, ns, &ctx.settings.cluster_domain));
        if let Some(s) = services.get_opt(&svc).await? {
            for i in s
                .status
                .and_then(|s| s.load_balancer)
                .and_then(|l| l.ingress)
                .unwrap_or_default()
            {
                if let Some(h) = i.hostname {
                    dns.push(h);
                }
                if let Some(ip) = i.ip.and_then(|ip| ip.parse().ok()) {
                    ips.push(ip);
                }
            }
        }
    }
    Ok(Sans {
        dns_names: dns,
        ip_addresses: ips,
    }
    .normalized())
}

/// The namespace's managed CA: created when missing, rotated as its policy says. Concurrent
/// reconciles race with create/replace (optimistic concurrency), never with blind writes.
async fn namespace_ca(
    ctx: &Context,
    ns: &str,
    reference: &k8s_openapi::api::core::v1::ObjectReference,
) -> Result<(KeyedCert, String)> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    let existing = api.get_opt(CA_SECRET_NAME).await?;
    let mut set = existing
        .as_ref()
        .map(secrets::ca_set_from_secret)
        .unwrap_or_default();
    let common_name = format!("duckgate CA ({ns})");
    let changes = certs::plan_ca(&mut set, &ctx.ca_policy, Timestamp::now(), &common_name)?;
    if !changes.is_empty() {
        let mut s = secrets::ca_secret(ns, &set);
        match &existing {
            None => {
                api.create(
                    &PostParams {
                        field_manager: Some(FIELD_MANAGER.into()),
                        ..Default::default()
                    },
                    &s,
                )
                .await?;
            }
            Some(old) => {
                s.metadata.resource_version = old.resource_version();
                s.metadata.labels = old.metadata.labels.clone().or(s.metadata.labels);
                api.replace(
                    CA_SECRET_NAME,
                    &PostParams {
                        field_manager: Some(FIELD_MANAGER.into()),
                        ..Default::default()
                    },
                    &s,
                )
                .await?;
            }
        }
        for c in changes {
            let note = match c {
                CaChange::Created => format!("created the namespace CA in Secret {CA_SECRET_NAME}"),
                CaChange::SuccessorPublished => {
                    "published the successor of the namespace CA in ca.crt".into()
                }
                CaChange::Promoted => {
                    "the successor CA now signs; the previous CA stays trusted until it expires"
                        .into()
                }
                CaChange::RetiredDropped(n) => format!("removed {n} expired CA(s) from ca.crt"),
            };
            tracing::info!(namespace = %ns, "{note}");
            publish(ctx, reference, false, "CARotation", note).await;
        }
    }
    let active = set.active.clone().expect("planned");
    Ok((active, set.bundle()))
}

/// A CA from a Secret of the user.
async fn secret_ca(ctx: &Context, ns: &str, name: &str) -> Result<(KeyedCert, String)> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    let s = api
        .get_opt(name)
        .await?
        .ok_or_else(|| Error::SecretNotFound(name.into()))?;
    let bad = |m: &str| Error::InvalidCa {
        name: name.into(),
        message: m.into(),
    };
    let (Some(cert_pem), Some(key_pem)) = (
        secret_text(&s, secrets::TLS_CRT),
        secret_text(&s, secrets::TLS_KEY),
    ) else {
        return Err(bad("needs tls.crt and tls.key"));
    };
    let info = certs::inspect(&cert_pem).map_err(|e| bad(&e.to_string()))?;
    if !info.is_ca {
        return Err(bad("tls.crt is not a CA certificate"));
    }
    if !certs::key_matches(&cert_pem, &key_pem) {
        return Err(bad("tls.key does not belong to tls.crt"));
    }
    let bundle = secret_text(&s, secrets::CA_CRT).unwrap_or_else(|| cert_pem.clone());
    Ok((KeyedCert { cert_pem, key_pem }, bundle))
}

fn status_from_leaf(
    cert: &EndpointCertificate,
    leaf_pem: &str,
    revision: i64,
    renew_before: Duration,
) -> Result<EndpointCertificateStatus> {
    let info = certs::inspect(leaf_pem)?;
    Ok(EndpointCertificateStatus {
        secret_name: Some(certificate_secret_name(cert)),
        not_before: Some(Time(info.not_before)),
        not_after: Some(Time(info.not_after)),
        renewal_time: Some(Time(certs::renewal_time(
            info.not_before,
            info.not_after,
            renew_before,
        ))),
        revision: Some(revision),
        dns_names: info.dns_names,
        ip_addresses: info.ip_addresses.iter().map(|i| i.to_string()).collect(),
        ..Default::default()
    })
}

async fn finish(
    cert: &EndpointCertificate,
    ctx: &Context,
    ns: &str,
    mut s: EndpointCertificateStatus,
    computed: &[Cond],
) -> Result<()> {
    let previous = cert.status.clone();
    let prev_conds = previous
        .as_ref()
        .map(|p| p.conditions.clone())
        .unwrap_or_default();
    s.observed_generation = cert.metadata.generation;
    s.conditions = conditions::merge(
        &prev_conds,
        computed,
        cert.metadata.generation,
        &super::status::now(),
    );
    ctx.metrics.certificate_not_after(
        ns,
        &cert.name_any(),
        s.not_after.as_ref().map(|t| t.0.as_second()),
    );
    if write_status(
        &ctx.client,
        &api_resource::<EndpointCertificate>(),
        ns,
        &cert.name_any(),
        previous.as_ref(),
        &s,
    )
    .await?
    {
        publish_transitions(ctx, &cert.object_ref(&()), &prev_conds, &s.conditions).await;
    }
    Ok(())
}

fn durations(cert: &EndpointCertificate) -> Result<(Duration, Duration)> {
    let parse = |field: &str, v: &str| {
        certs::parse_go_duration(v).ok_or_else(|| {
            Error::Invalid(crate::validate::Invalid {
                field: field.into(),
                message: format!("{v:?} is not a duration like 2160h"),
            })
        })
    };
    let d = parse("duration", &cert.spec.duration)?;
    let rb = parse("renewBefore", &cert.spec.renew_before)?;
    Ok((d, rb))
}

fn issuer_kind(i: &IssuerSpec) -> Result<&'static str> {
    match (&i.self_signed, &i.ca, &i.cert_manager) {
        (Some(_), None, None) => Ok("selfSigned"),
        (None, Some(_), None) => Ok("ca"),
        (None, None, Some(_)) => Ok("certManager"),
        _ => Err(Error::Invalid(crate::validate::Invalid {
            field: "issuer".into(),
            message: "needs exactly one of selfSigned, ca or certManager".into(),
        })),
    }
}

async fn reconcile_inner(obj: &DynamicObject, ctx: &Context) -> Result<Action> {
    let ns = obj.namespace().unwrap_or_default();
    let cert: EndpointCertificate = match decode(obj) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(certificate = %obj.name_any(), namespace = %ns, error = %e, "cannot decode EndpointCertificate");
            return Ok(Action::await_change());
        }
    };
    if cert.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    match issue(&cert, ctx, &ns).await {
        Ok(action) => Ok(action),
        Err(e) if e.is_user_error() => {
            tracing::info!(certificate = %cert.name_any(), namespace = %ns, reason = e.reason(), "{e}");
            ctx.metrics.error(CONTROLLER, e.reason());
            let mut s = cert.status.clone().unwrap_or_default();
            s.conditions.clear();
            let computed = [
                Cond::new(READY, false, e.reason(), e.to_string()),
                Cond::new(ISSUING, false, e.reason(), e.to_string()),
            ];
            finish(&cert, ctx, &ns, s, &computed).await?;
            // cert-manager may be installed any time and is not watched: look again soon.
            let wait = if matches!(e, Error::CertManagerMissing) {
                30
            } else {
                300
            };
            Ok(Action::requeue(Duration::from_secs(wait)))
        }
        Err(e) => Err(e),
    }
}

async fn issue(cert: &EndpointCertificate, ctx: &Context, ns: &str) -> Result<Action> {
    let (duration, renew_before) = durations(cert)?;
    let kind = issuer_kind(&cert.spec.issuer)?;
    let sans = wanted_names(cert, ctx, ns).await?;
    if sans.is_empty() {
        return Err(Error::NoNames);
    }
    if kind == "certManager" {
        return via_cert_manager(cert, ctx, ns, &sans).await;
    }
    let reference = cert.object_ref(&());
    let (ca, bundle) = if kind == "selfSigned" {
        namespace_ca(ctx, ns, &reference).await?
    } else {
        secret_ca(ctx, ns, &cert.spec.issuer.ca.as_ref().unwrap().secret_name).await?
    };

    let secret_name = certificate_secret_name(cert);
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    let current = api.get_opt(&secret_name).await?;
    let existing = Existing {
        cert_pem: current
            .as_ref()
            .and_then(|s| secret_text(s, secrets::TLS_CRT)),
        key_pem: current
            .as_ref()
            .and_then(|s| secret_text(s, secrets::TLS_KEY)),
    };
    let stored_revision = current
        .as_ref()
        .and_then(|s| {
            s.annotations()
                .get(secrets::ANNOTATION_REVISION)
                .and_then(|r| r.parse::<i64>().ok())
        })
        .unwrap_or(0);
    let revision = stored_revision.max(cert.status.as_ref().and_then(|s| s.revision).unwrap_or(0));
    let alg = cert.spec.private_key.algorithm;
    let now = Timestamp::now();

    let (leaf, revision) =
        match certs::issue_reason(&existing, &sans, alg, &ca.cert_pem, renew_before, now) {
            Some(reason) => {
                let leaf = certs::issue_server_cert(&ca, &sans, alg, now, duration)?;
                let revision = revision + 1;
                apply(
                    &ctx.client,
                    ns,
                    &secrets::tls_secret(cert, &leaf, &bundle, revision),
                )
                .await?;
                let info = certs::inspect(&leaf.cert_pem)?;
                let note = format!(
                    "issued revision {revision} into Secret {secret_name} ({}), valid until {}",
                    reason.as_str(),
                    info.not_after
                );
                tracing::info!(certificate = %cert.name_any(), namespace = %ns, "{note}");
                publish(ctx, &reference, false, "Issued", note).await;
                (leaf, revision)
            }
            None => {
                let leaf = KeyedCert {
                    cert_pem: existing.cert_pem.clone().unwrap(),
                    key_pem: existing.key_pem.clone().unwrap(),
                };
                let stale = current
                    .as_ref()
                    .and_then(|s| secret_text(s, secrets::CA_CRT))
                    .as_deref()
                    != Some(bundle.as_str())
                    || stored_revision != revision
                    || current.as_ref().and_then(|s| s.type_.as_deref())
                        != Some("kubernetes.io/tls");
                if stale {
                    // Same server certificate; the CA bundle (a rotation) or metadata changed.
                    apply(
                        &ctx.client,
                        ns,
                        &secrets::tls_secret(cert, &leaf, &bundle, revision),
                    )
                    .await?;
                }
                (leaf, revision)
            }
        };

    let status = status_from_leaf(cert, &leaf.cert_pem, revision, renew_before)?;
    let renewal = status.renewal_time.as_ref().map(|t| t.0).unwrap_or(now);
    let computed = [
        Cond::new(
            READY,
            true,
            "Issued",
            format!(
                "valid until {}",
                status
                    .not_after
                    .as_ref()
                    .map(|t| t.0.to_string())
                    .unwrap_or_default()
            ),
        ),
        Cond::new(ISSUING, false, "UpToDate", format!("renews at {renewal}")),
    ];
    finish(cert, ctx, ns, status, &computed).await?;
    // the renewal timer
    let until = renewal.duration_since(Timestamp::now());
    let wait = Duration::try_from(until)
        .unwrap_or(Duration::ZERO)
        .clamp(Duration::from_secs(1), RECHECK);
    Ok(Action::requeue(wait))
}

/// The `certManager` issuer: keep a cert-manager Certificate in line and report its state.
async fn via_cert_manager(
    cert: &EndpointCertificate,
    ctx: &Context,
    ns: &str,
    sans: &Sans,
) -> Result<Action> {
    let ar = certmanager::api_resource();
    let gvk = kube::api::GroupVersionKind::gvk(&ar.group, &ar.version, &ar.kind);
    if kube::discovery::pinned_kind(&ctx.client, &gvk)
        .await
        .is_err()
    {
        return Err(Error::CertManagerMissing);
    }
    let issuer = cert.spec.issuer.cert_manager.as_ref().unwrap();
    let body = certmanager::certificate(cert, issuer, sans);
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, &ar);
    let applied = api
        .patch(
            &cert.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await?;
    let st = applied.data.get("status").cloned().unwrap_or_default();
    let time = |k: &str| {
        st.get(k)
            .and_then(|v| serde_json::from_value::<Time>(v.clone()).ok())
    };
    let ready = st
        .get("conditions")
        .and_then(|c| c.as_array())
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
        .cloned();
    let is_ready = ready.as_ref().is_some_and(|c| c["status"] == "True");
    let message = ready
        .as_ref()
        .and_then(|c| c["message"].as_str())
        .unwrap_or("waiting for cert-manager")
        .to_owned();
    let status = EndpointCertificateStatus {
        secret_name: Some(certificate_secret_name(cert)),
        not_before: time("notBefore"),
        not_after: time("notAfter"),
        renewal_time: time("renewalTime"),
        revision: st.get("revision").and_then(|r| r.as_i64()),
        dns_names: sans.dns_names.clone(),
        ip_addresses: sans.ip_addresses.iter().map(|i| i.to_string()).collect(),
        ..Default::default()
    };
    let computed = if is_ready {
        [
            Cond::new(READY, true, "Issued", message),
            Cond::new(ISSUING, false, "UpToDate", "cert-manager keeps it renewed"),
        ]
    } else {
        [
            Cond::new(READY, false, "Issuing", message.clone()),
            Cond::new(ISSUING, true, "CertManager", message),
        ]
    };
    finish(cert, ctx, ns, status, &computed).await?;
    Ok(Action::requeue(if is_ready {
        RECHECK
    } else {
        Duration::from_secs(15)
    }))
}
