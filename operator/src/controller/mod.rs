//! The reconcilers and what they share: the context, server-side apply, status writes, events.
//!
//! Both controllers watch their custom resource as `DynamicObject` and decode each object in
//! the reconcile, so one object that does not match the Rust types is reported on that object
//! (`Degraded`, reason `InvalidObject`) instead of breaking the watch for every other one.

pub mod backoff;
pub mod certificate;
pub mod endpoint;
pub mod error;
pub mod status;

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::certs::CaPolicy;
use crate::crd::conditions;
use crate::metrics::Metrics;
use crate::resources::{OperatorSettings, FIELD_MANAGER};
pub use backoff::Backoff;
pub use error::{Error, Result};

/// What every reconcile gets.
pub struct Context {
    pub client: Client,
    pub settings: OperatorSettings,
    pub metrics: Arc<Metrics>,
    pub recorder: Recorder,
    pub backoff: Backoff,
    /// Only this namespace, or all.
    pub namespace: Option<String>,
    pub ca_policy: CaPolicy,
}

impl Context {
    pub fn new(
        client: Client,
        settings: OperatorSettings,
        metrics: Arc<Metrics>,
        namespace: Option<String>,
        ca_policy: CaPolicy,
    ) -> Self {
        let reporter = Reporter {
            controller: FIELD_MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            settings,
            metrics,
            backoff: Backoff::default(),
            namespace,
            ca_policy,
        }
    }

    /// An Api of `K` in the watched namespace(s).
    pub fn api_all<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        match &self.namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        }
    }

    pub fn dynamic_all(&self, ar: &ApiResource) -> Api<DynamicObject> {
        match &self.namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, ar),
            None => Api::all_with(self.client.clone(), ar),
        }
    }
}

/// The ApiResource of a custom resource type.
pub fn api_resource<K: Resource<DynamicType = ()>>() -> ApiResource {
    ApiResource::erase::<K>(&())
}

/// Decode a dynamic object into its typed form.
pub fn decode<K: DeserializeOwned>(obj: &DynamicObject) -> Result<K> {
    serde_json::to_value(obj)
        .and_then(serde_json::from_value)
        .map_err(Error::Decode)
}

/// Server-side apply `obj` under the operator's field manager, taking over conflicting fields.
pub async fn apply<K>(client: &Client, namespace: &str, obj: &K) -> Result<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Serialize
        + DeserializeOwned
        + Clone
        + Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let name = obj.meta().name.clone().expect("built objects are named");
    Ok(api
        .patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(obj),
        )
        .await?)
}

/// Delete an object if it exists.
pub async fn delete_if_exists<K>(client: &Client, namespace: &str, name: &str) -> Result<bool>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + DeserializeOwned
        + Clone
        + Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    match api.delete(name, &Default::default()).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Write `status` with server-side apply (so fields the operator stops setting are removed),
/// but only when it differs from what the object has: an unchanged status is never written, so
/// the controller does not wake itself up.
pub async fn write_status<S: Serialize + PartialEq>(
    client: &Client,
    ar: &ApiResource,
    namespace: &str,
    name: &str,
    previous: Option<&S>,
    status: &S,
) -> Result<bool> {
    if previous == Some(status) {
        return Ok(false);
    }
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, ar);
    let body = serde_json::json!({
        "apiVersion": ar.api_version,
        "kind": ar.kind,
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(body),
    )
    .await?;
    Ok(true)
}

/// Publish an event for each condition that changed status or reason.
pub async fn publish_transitions(
    ctx: &Context,
    reference: &ObjectReference,
    previous: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    next: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
) {
    for c in conditions::transitions(previous, next) {
        // A first status says "nothing wrong" for the negative conditions: not news.
        let first = conditions::find(previous, &c.type_).is_none();
        if first
            && c.status == "False"
            && (c.type_ == conditions::DEGRADED || c.type_ == conditions::ISSUING)
        {
            continue;
        }
        let bad = (c.type_ == conditions::DEGRADED && c.status == "True")
            || (c.type_ == conditions::READY && c.status == "False" && !previous.is_empty());
        let ev = Event {
            type_: if bad {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: c.reason.clone(),
            note: Some(
                format!("{}={}: {}", c.type_, c.status, c.message)
                    .chars()
                    .take(1000)
                    .collect(),
            ),
            action: "Reconcile".into(),
            secondary: None,
        };
        if let Err(e) = ctx.recorder.publish(&ev, reference).await {
            tracing::warn!(error = %e, "cannot publish event");
        }
    }
}

/// Publish one event.
pub async fn publish(
    ctx: &Context,
    reference: &ObjectReference,
    warning: bool,
    reason: &str,
    note: String,
) {
    let ev = Event {
        type_: if warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: reason.into(),
        note: Some(note.chars().take(1000).collect()),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&ev, reference).await {
        tracing::warn!(error = %e, "cannot publish event");
    }
}

/// The error policy both controllers use: back off per object, reset on success.
pub fn error_policy(obj: Arc<DynamicObject>, err: &Error, ctx: Arc<Context>) -> Action {
    let key = format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any());
    let wait = ctx.backoff.failed(&key);
    tracing::warn!(object = %key, error = %err, retry_in = ?wait, "reconcile failed");
    Action::requeue(wait)
}

/// Run both controllers until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let shutdown = futures::future::FutureExt::shared(Box::pin(shutdown));
    let endpoints = endpoint::controller(ctx.clone())
        .graceful_shutdown_on(shutdown.clone())
        .run(endpoint::reconcile, error_policy, ctx.clone())
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::warn!(error = %e, "endpoint controller");
            }
        });
    let certificates = certificate::controller(ctx.clone())
        .graceful_shutdown_on(shutdown)
        .run(certificate::reconcile, error_policy, ctx.clone())
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::warn!(error = %e, "certificate controller");
            }
        });
    tokio::join!(endpoints, certificates);
}

/// Debounce for both controllers: many child events of one change become one reconcile.
pub const DEBOUNCE: Duration = Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::PostgresEndpoint;

    #[test]
    fn an_object_that_does_not_match_the_types_is_an_error_not_a_panic() {
        let ar = api_resource::<PostgresEndpoint>();
        let mut obj = DynamicObject::new("db", &ar).within("ns");
        obj.data = serde_json::json!({"spec": {"auth": {"tokenSecret": {"name": "t"}}, "tls": {"certificate": "c"}}});
        let ep: PostgresEndpoint = decode(&obj).unwrap();
        assert_eq!(ep.spec.replicas, 1, "defaults apply");
        obj.data = serde_json::json!({"spec": {"auth": "not an object", "tls": {}}});
        let err = decode::<PostgresEndpoint>(&obj).unwrap_err();
        assert_eq!(err.reason(), "InvalidObject");
        assert!(err.is_user_error());
    }
}
