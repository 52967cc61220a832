//! Integration tests against a real control plane (etcd, kube-apiserver,
//! kube-controller-manager from scripts/start-k8s.sh). The operator runs as its own process
//! under the least-privilege ClusterRole of operator/rbac/clusterrole.yaml, bound to the user
//! `duckgate-operator`; any "forbidden" in its log fails the test.
//!
//! `DUCKGATE_TEST_KUBECONFIG` is the admin kubeconfig (scripts/test.sh sets it); without it
//! every test here is skipped with a loud message. The operator's kubeconfig is
//! `DUCKGATE_TEST_OPERATOR_KUBECONFIG`, else `operator.kubeconfig` next to the admin one.
//! Each test works in its own namespace and deletes it at the end.

use std::future::Future;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use duckgate_operator::crd::{EndpointCertificate, PostgresEndpoint};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Resource, ResourceExt};
use serde_json::json;

const TEST_MANAGER: &str = "duckgate-operator-tests";

// ---------------------------------------------------------------------------------------------
// harness

struct Env {
    admin: Client,
    admin_kubeconfig: PathBuf,
    operator_kubeconfig: PathBuf,
    ns: String,
    torn_down: bool,
}

fn admin_kubeconfig(test: &str) -> Option<PathBuf> {
    match std::env::var_os("DUCKGATE_TEST_KUBECONFIG") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            eprintln!(
                "\n!!!!! SKIPPED {test}: DUCKGATE_TEST_KUBECONFIG is not set. These tests need a real \
                 control plane: run scripts/test.sh, or scripts/start-k8s.sh and export \
                 DUCKGATE_TEST_KUBECONFIG=<the path it prints>. !!!!!\n"
            );
            None
        }
    }
}

async fn client_for(path: &PathBuf) -> Client {
    let kc = Kubeconfig::read_from(path).expect("kubeconfig readable");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig usable");
    Client::try_from(cfg).expect("client")
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{:x}{:05x}",
        std::process::id() & 0xfff,
        nanos & 0xfffff
    )
}

async fn ssa<K>(api: &Api<K>, obj: &K)
where
    K: Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let name = obj.meta().name.clone().unwrap();
    api.patch(
        &name,
        &PatchParams::apply(TEST_MANAGER).force(),
        &Patch::Apply(obj),
    )
    .await
    .unwrap_or_else(|e| panic!("apply {name}: {e}"));
}

/// Install the CRDs and the operator's RBAC (idempotent), make a namespace.
async fn setup(test: &str) -> Option<Env> {
    let admin_path = admin_kubeconfig(test)?;
    let operator_kubeconfig = std::env::var_os("DUCKGATE_TEST_OPERATOR_KUBECONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| admin_path.with_file_name("operator.kubeconfig"));
    assert!(
        operator_kubeconfig.exists(),
        "{} missing (scripts/start-k8s.sh writes it)",
        operator_kubeconfig.display()
    );
    let admin = client_for(&admin_path).await;

    let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
    for (_, crd) in duckgate_operator::crd::all() {
        ssa(&crds, &crd).await;
    }
    for (_, crd) in duckgate_operator::crd::all() {
        let name = crd.name_any();
        eventually(&format!("CRD {name} established"), 30, || {
            let crds = crds.clone();
            let name = name.clone();
            async move {
                let c = crds.get(&name).await.ok()?;
                let ok = c
                    .status?
                    .conditions?
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True");
                ok.then_some(())
            }
        })
        .await;
    }

    let role_yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rbac/clusterrole.yaml"
    ))
    .unwrap();
    let role: ClusterRole = serde_yaml::from_str(&role_yaml).unwrap();
    ssa(&Api::<ClusterRole>::all(admin.clone()), &role).await;
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "duckgate-operator-tests"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role.name_any()},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "duckgate-operator"}],
    }))
    .unwrap();
    ssa(&Api::<ClusterRoleBinding>::all(admin.clone()), &binding).await;

    let ns = unique(&format!(
        "dg-{}",
        &test[..test.len().min(20)].replace('_', "-")
    ));
    let nss: Api<Namespace> = Api::all(admin.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(
            json!({"metadata": {"name": ns, "labels": {"duckgate.io/test": test}}}),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    Some(Env {
        admin,
        admin_kubeconfig: admin_path,
        operator_kubeconfig,
        ns,
        torn_down: false,
    })
}

impl Env {
    fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.admin.clone(), &self.ns)
    }

    /// Create or update objects from YAML documents (`NS` is replaced by the namespace).
    async fn apply_yaml(&self, yaml: &str) {
        let yaml = yaml.replace("NS", &self.ns);
        for doc in yaml.split("\n---\n") {
            if doc.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_yaml::from_str(doc).unwrap();
            let name = v["metadata"]["name"].as_str().unwrap().to_owned();
            let pp = PatchParams::apply(TEST_MANAGER).force();
            let r = match v["kind"].as_str().unwrap() {
                "Secret" => self
                    .api::<Secret>()
                    .patch(&name, &pp, &Patch::Apply(&v))
                    .await
                    .map(|_| ()),
                "PostgresEndpoint" => self
                    .api::<PostgresEndpoint>()
                    .patch(&name, &pp, &Patch::Apply(&v))
                    .await
                    .map(|_| ()),
                "EndpointCertificate" => self
                    .api::<EndpointCertificate>()
                    .patch(&name, &pp, &Patch::Apply(&v))
                    .await
                    .map(|_| ()),
                k => panic!("unexpected kind {k}"),
            };
            r.unwrap_or_else(|e| panic!("apply {name}: {e}"));
        }
    }

    async fn teardown(mut self) {
        let nss: Api<Namespace> = Api::all(self.admin.clone());
        let _ = nss.delete(&self.ns, &DeleteParams::default()).await;
        self.torn_down = true;
    }
}

impl Drop for Env {
    /// A failed test still deletes its namespace (from a thread of its own: the test's runtime
    /// is unwinding).
    fn drop(&mut self) {
        if self.torn_down {
            return;
        }
        let (path, ns) = (self.admin_kubeconfig.clone(), self.ns.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let nss: Api<Namespace> = Api::all(client_for(&path).await);
                let _ = nss.delete(&ns, &DeleteParams::default()).await;
            });
        })
        .join();
    }
}

/// Poll `f` every 250 ms until it returns `Some`, for at most `secs` seconds.
async fn eventually<T, F, Fut>(what: &str, secs: u64, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The operator binary, running under the operator's own kubeconfig.
struct Operator {
    child: Option<Child>,
    log: PathBuf,
    admin_port: u16,
    identity: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Operator {
    fn start(env: &Env, extra: &[&str]) -> Operator {
        let admin_port = free_port();
        let identity = unique("op");
        let log = std::env::temp_dir().join(format!("{}-{identity}.log", env.ns));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_duckgate-operator"))
            .args([
                "run",
                "--watch-namespace",
                &env.ns,
                "--admin-listen",
                &format!("127.0.0.1:{admin_port}"),
                "--identity",
                &identity,
                "--log-level",
                "info,duckgate_operator=debug",
            ])
            .args(extra)
            .env("KUBECONFIG", &env.operator_kubeconfig)
            .env_remove("WATCH_NAMESPACE")
            .env_remove("POD_NAMESPACE")
            .env_remove("POD_NAME")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("operator binary runs");
        Operator {
            child: Some(child),
            log,
            admin_port,
            identity,
        }
    }

    fn log_text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Lines where the API server refused the operator something.
    fn forbidden(&self) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|l| {
                l.contains("forbidden") || l.contains("Forbidden") || l.contains("code: 403")
            })
            .map(str::to_owned)
            .collect()
    }

    fn assert_nothing_forbidden(&self) {
        let f = self.forbidden();
        assert!(
            f.is_empty(),
            "the operator's RBAC is missing something:\n{}",
            f.join("\n")
        );
    }

    async fn metrics(&self) -> Option<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", self.admin_port))
            .await
            .ok()?;
        s.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).await.ok()?;
        Some(out)
    }

    /// SIGTERM, and wait for the process to end.
    fn terminate(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            let text = self.log_text();
            let tail: Vec<&str> = text.lines().rev().take(60).collect();
            eprintln!(
                "--- operator {} log tail ({}):\n{}",
                self.identity,
                self.log.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
}

const TOKENS: &str = r#"
apiVersion: v1
kind: Secret
metadata: {name: tokens, namespace: NS}
stringData:
  tokens.yaml: |
    scramSalt: c2FsdA==
    scramIterations: 4096
    tokens: []
"#;

const CREDENTIALS: &str = r#"
apiVersion: v1
kind: Secret
metadata: {name: catalog, namespace: NS}
stringData: {password: catalog-secret}
---
apiVersion: v1
kind: Secret
metadata: {name: s3, namespace: NS}
stringData: {id: AKIA0000, secret: s3-secret}
"#;

const ENDPOINT: &str = r#"
apiVersion: duckgate.io/v1alpha1
kind: EndpointCertificate
metadata: {name: lake-cert, namespace: NS}
spec: {}
---
apiVersion: duckgate.io/v1alpha1
kind: PostgresEndpoint
metadata: {name: lake, namespace: NS}
spec:
  autoscaling: {minReplicas: 2, maxReplicas: 4, targetCPUUtilizationPercentage: 70}
  auth: {tokenSecret: {name: tokens}}
  tls: {certificate: lake-cert}
  databases:
  - name: lake
    default: true
    ducklake:
      catalog: {host: pg.example, database: cat, user: rw, passwordSecretRef: {name: catalog, key: password}}
      dataPath: s3://bucket/lake/
      s3: {endpoint: "minio:9000", urlStyle: path, useSsl: false, accessKeyIdSecretRef: {name: s3, key: id}, secretAccessKeySecretRef: {name: s3, key: secret}}
  maintenance: {schedule: "0 4 * * *", retention: 2d}
  limits: {maxConnections: 200, drainTimeoutMs: 10000}
  service: {type: LoadBalancer, loadBalancerSourceRanges: [10.0.0.0/8]}
"#;

async fn get_opt<K>(api: &Api<K>, name: &str) -> Option<K>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name).await.unwrap()
}

fn condition(ep: &PostgresEndpoint, type_: &str) -> Option<(String, String)> {
    ep.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone()))
}

async fn wait_condition(
    env: &Env,
    name: &str,
    type_: &str,
    status: &str,
    reason: &str,
    secs: u64,
) -> PostgresEndpoint {
    let api = env.api::<PostgresEndpoint>();
    eventually(&format!("{name} {type_}={status} ({reason})"), secs, || {
        let api = api.clone();
        async move {
            let ep = api.get(name).await.ok()?;
            (condition(&ep, type_) == Some((status.into(), reason.into()))).then_some(ep)
        }
    })
    .await
}

async fn merge(api: &Api<PostgresEndpoint>, name: &str, patch: serde_json::Value) {
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap_or_else(|e| panic!("merge patch {patch}: {e}"));
}

fn owned_by(meta: &kube::api::ObjectMeta, uid: &str) -> bool {
    meta.owner_references
        .as_ref()
        .is_some_and(|o| o.iter().any(|o| o.uid == uid && o.controller == Some(true)))
}

fn template_annotation(d: &Deployment, key: &str) -> Option<String> {
    d.spec
        .as_ref()?
        .template
        .metadata
        .as_ref()?
        .annotations
        .as_ref()?
        .get(key)
        .cloned()
}

// ---------------------------------------------------------------------------------------------
// tests

#[tokio::test]
async fn crds_are_accepted_and_cel_rejects_bad_specs() {
    let Some(env) = setup("crds_are_accepted").await else {
        return;
    };
    env.apply_yaml(TOKENS).await;
    let api = env.api::<PostgresEndpoint>();
    let bad = |spec: serde_json::Value| json!({"apiVersion": "duckgate.io/v1alpha1", "kind": "PostgresEndpoint", "metadata": {"name": "bad"}, "spec": spec});
    let base = json!({"auth": {"tokenSecret": {"name": "tokens"}}, "tls": {"certificate": "c"}});
    let with = |extra: serde_json::Value| {
        let mut s = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            s[k] = v.clone();
        }
        bad(s)
    };
    let cases = [
        (
            with(
                json!({"autoscaling": {"minReplicas": 5, "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}}),
            ),
            "maxReplicas must be at least minReplicas",
        ),
        (
            with(json!({"tls": {"certificate": "c", "secretName": "s"}})),
            "exactly one of certificate or secretName",
        ),
        (
            with(
                json!({"databases": [{"name": "a", "local": {"claimName": "p"}, "duckdb": {"path": "s3://b/x.duckdb", "s3": {"accessKeyIdSecretRef": {"name": "s", "key": "k"}, "secretAccessKeySecretRef": {"name": "s", "key": "k"}}}}]}),
            ),
            "exactly one of ducklake, duckdb or local",
        ),
        (
            with(
                json!({"databases": [{"name": "a", "local": {"claimName": "p"}}, {"name": "a", "local": {"claimName": "q"}}]}),
            ),
            "unique",
        ),
        (
            with(json!({"replicas": 3, "databases": [{"name": "a", "local": {"claimName": "p"}}]})),
            "single writer",
        ),
        (
            with(json!({"service": {"loadBalancerSourceRanges": ["10.0.0.0/8"]}})),
            "needs type LoadBalancer",
        ),
        (
            with(json!({"limits": {"memoryLimit": "lots"}})),
            "memoryLimit",
        ),
    ];
    for (obj, needle) in cases {
        let err = api
            .create(
                &PostParams::default(),
                &serde_json::from_value(obj.clone()).unwrap(),
            )
            .await
            .expect_err(&format!("accepted: {obj}"));
        assert!(err.to_string().contains(needle), "{needle:?} not in {err}");
    }
    let mut long = with(json!({}));
    long["metadata"]["name"] = json!("x".repeat(41));
    let err = api
        .create(
            &PostParams::default(),
            &serde_json::from_value(long).unwrap(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most 40 characters"), "{err}");

    // defaults are filled in by the API server
    let ok: PostgresEndpoint = api
        .create(
            &PostParams::default(),
            &serde_json::from_value(with(json!({}))).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(ok.spec.service.port, 5432);
    assert_eq!(ok.spec.auth.token_secret.key, "tokens.yaml");
    let certs = env.api::<EndpointCertificate>();
    let c: EndpointCertificate = certs
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"apiVersion": "duckgate.io/v1alpha1", "kind": "EndpointCertificate", "metadata": {"name": "c"}, "spec": {}})).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(c.spec.duration, "2160h");
    assert!(c.spec.issuer.self_signed.is_some());
    let err = certs
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"apiVersion": "duckgate.io/v1alpha1", "kind": "EndpointCertificate", "metadata": {"name": "d"}, "spec": {"duration": "1h", "renewBefore": "2h"}})).unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("renewBefore must be shorter"),
        "{err}"
    );
    // scale subresource
    let scale = api.get_scale("bad").await.unwrap();
    assert!(scale.status.is_some());
    env.teardown().await;
}

#[tokio::test]
async fn endpoint_lifecycle_children_rollout_restore_pause_and_garbage_collection() {
    let Some(env) = setup("endpoint_lifecycle").await else {
        return;
    };
    let op = Operator::start(&env, &[]);
    env.apply_yaml(TOKENS).await;
    env.apply_yaml(CREDENTIALS).await;
    env.apply_yaml(ENDPOINT).await;
    let eps = env.api::<PostgresEndpoint>();
    let ns = env.ns.clone();

    // every child, with the expected content
    // applied: no pods ever become ready here (no kubelets), so the rollout stays under way
    let ep = wait_condition(&env, "lake", "Progressing", "True", "RollingOut", 90).await;
    assert_eq!(
        condition(&ep, "Degraded"),
        Some(("False".into(), "AsExpected".into()))
    );
    assert_eq!(
        condition(&ep, "Ready"),
        Some(("False".into(), "NoPodsReady".into()))
    );
    let uid = ep.uid().unwrap();
    let deploys = env.api::<Deployment>();
    let d = eventually("Deployment", 30, || async {
        get_opt(&deploys, "lake").await
    })
    .await;
    assert!(owned_by(&d.metadata, &uid));
    let cm = get_opt(&env.api::<ConfigMap>(), "lake-config")
        .await
        .expect("ConfigMap");
    assert!(owned_by(&cm.metadata, &uid));
    let cfg = duckgate_config::GatewayConfig::from_yaml(&cm.data.unwrap()["gateway.yaml"]).unwrap();
    cfg.validate().unwrap();
    assert_eq!(cfg.limits.max_connections, 200);
    assert_eq!(cfg.databases[0].name, "lake");
    let svc = get_opt(&env.api::<Service>(), "lake")
        .await
        .expect("Service");
    assert!(owned_by(&svc.metadata, &uid));
    let svc_spec = svc.spec.unwrap();
    assert_eq!(svc_spec.type_.as_deref(), Some("LoadBalancer"));
    assert_eq!(
        svc_spec.load_balancer_source_ranges.unwrap(),
        vec!["10.0.0.0/8"]
    );
    let sa = get_opt(&env.api::<ServiceAccount>(), "lake")
        .await
        .expect("ServiceAccount");
    assert!(owned_by(&sa.metadata, &uid));
    let pdb = get_opt(&env.api::<PodDisruptionBudget>(), "lake")
        .await
        .expect("PDB");
    assert!(owned_by(&pdb.metadata, &uid));
    let hpa = get_opt(&env.api::<HorizontalPodAutoscaler>(), "lake")
        .await
        .expect("HPA");
    assert!(owned_by(&hpa.metadata, &uid));
    assert_eq!(hpa.spec.as_ref().unwrap().max_replicas, 4);
    let cron = get_opt(&env.api::<CronJob>(), "lake-maintenance")
        .await
        .expect("CronJob");
    assert!(owned_by(&cron.metadata, &uid));
    let tls = get_opt(&env.api::<Secret>(), "lake-cert-tls")
        .await
        .expect("TLS Secret");
    assert_eq!(tls.type_.as_deref(), Some("kubernetes.io/tls"));

    // the operator never owns spec.replicas while the HPA does
    let ours = d
        .metadata
        .managed_fields
        .as_ref()
        .unwrap()
        .iter()
        .find(|m| m.manager.as_deref() == Some("duckgate-operator"))
        .expect("operator's managed fields");
    let fields = serde_json::to_string(&ours.fields_v1).unwrap();
    assert!(!fields.contains("f:replicas"), "{fields}");
    assert!(fields.contains("f:template"));
    assert_eq!(
        d.spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .termination_grace_period_seconds,
        Some(15)
    );

    // status
    let st = ep.status.clone().unwrap();
    assert_eq!(st.host.as_deref(), Some(format!("lake.{ns}.svc").as_str()));
    assert_eq!(st.port, Some(5432));
    assert_eq!(
        st.connection_uri.as_deref(),
        Some(format!("postgresql://lake.{ns}.svc:5432/lake?sslmode=verify-full").as_str())
    );
    assert_eq!(st.tls_secret_name.as_deref(), Some("lake-cert-tls"));
    assert!(st.certificate_not_after.is_some());
    assert_eq!(st.observed_generation, ep.metadata.generation);
    assert!(st
        .selector
        .unwrap()
        .contains("app.kubernetes.io/instance=lake"));

    // the certificate's default names are the Service's
    let cert = eventually("certificate status", 30, || async {
        let c = env
            .api::<EndpointCertificate>()
            .get("lake-cert")
            .await
            .ok()?;
        c.status.filter(|s| !s.dns_names.is_empty())
    })
    .await;
    assert!(
        cert.dns_names.contains(&format!("lake.{ns}.svc")),
        "{:?}",
        cert.dns_names
    );
    assert!(cert
        .dns_names
        .contains(&format!("lake.{ns}.svc.cluster.local")));

    // editing the spec rolls the pods (config hash), turning autoscaling off removes the HPA
    // and hands replicas back
    let hash_before = template_annotation(&d, "duckgate.io/config-hash").unwrap();
    let creds_before = template_annotation(&d, "duckgate.io/credentials-hash").unwrap();
    merge(
        &eps,
        "lake",
        json!({"spec": {"limits": {"maxConnections": 300}, "autoscaling": null, "replicas": 3}}),
    )
    .await;
    let d2 = eventually("config hash changes", 60, || async {
        let d = deploys.get("lake").await.ok()?;
        (template_annotation(&d, "duckgate.io/config-hash")? != hash_before).then_some(d)
    })
    .await;
    assert_eq!(
        template_annotation(&d2, "duckgate.io/credentials-hash").unwrap(),
        creds_before
    );
    eventually("replicas 3", 60, || async {
        let d = deploys.get("lake").await.ok()?;
        (d.spec?.replicas == Some(3)).then_some(())
    })
    .await;
    let hpas = env.api::<HorizontalPodAutoscaler>();
    eventually("HPA removed", 60, || async {
        get_opt(&hpas, "lake").await.is_none().then_some(())
    })
    .await;

    // a token change is hot-reloaded by the gateway: recorded on the Deployment, pods untouched
    let before = deploys.get("lake").await.unwrap();
    let tmpl_before = before.spec.clone().unwrap().template;
    let tokens_before = before
        .annotations()
        .get("duckgate.io/tokens-hash")
        .cloned()
        .unwrap();
    env.apply_yaml(&TOKENS.replace("tokens: []", "tokens: []\n    # rotated"))
        .await;
    let after_tokens = eventually("tokens hash changes", 60, || async {
        let d = deploys.get("lake").await.ok()?;
        (d.annotations().get("duckgate.io/tokens-hash")? != &tokens_before).then_some(d)
    })
    .await;
    assert_eq!(
        after_tokens.spec.unwrap().template,
        tmpl_before,
        "a token change does not roll pods"
    );
    // a credential change rolls the pods (credentials are read at start-up)
    env.apply_yaml(&CREDENTIALS.replace("catalog-secret", "rotated-secret"))
        .await;
    eventually("credentials hash changes", 60, || async {
        let d = deploys.get("lake").await.ok()?;
        (template_annotation(&d, "duckgate.io/credentials-hash")? != creds_before).then_some(())
    })
    .await;
    let tmpl_after = deploys.get("lake").await.unwrap().spec.unwrap().template;
    assert_eq!(
        template_annotation_of(&tmpl_before, "duckgate.io/config-hash"),
        template_annotation_of(&tmpl_after, "duckgate.io/config-hash"),
        "tokens and credentials do not change the config"
    );

    // a deleted child comes back
    let svcs = env.api::<Service>();
    let cms = env.api::<ConfigMap>();
    let old_svc_uid = svcs.get("lake").await.unwrap().uid();
    svcs.delete("lake", &DeleteParams::default()).await.unwrap();
    cms.delete("lake-config", &DeleteParams::default())
        .await
        .unwrap();
    eventually("Service restored", 60, || async {
        let s = get_opt(&svcs, "lake").await?;
        (s.uid() != old_svc_uid).then_some(())
    })
    .await;
    eventually("ConfigMap restored", 60, || async {
        get_opt(&cms, "lake-config").await
    })
    .await;

    // paused: nothing is restored until unpaused
    merge(&eps, "lake", json!({"spec": {"paused": true}})).await;
    wait_condition(&env, "lake", "Progressing", "False", "Paused", 60).await;
    cms.delete("lake-config", &DeleteParams::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        get_opt(&cms, "lake-config").await.is_none(),
        "a paused endpoint is left alone"
    );
    merge(&eps, "lake", json!({"spec": {"paused": false}})).await;
    eventually("ConfigMap restored after unpause", 60, || async {
        get_opt(&cms, "lake-config").await
    })
    .await;

    // deleting the endpoint garbage-collects every child (kube-controller-manager)
    eps.delete("lake", &DeleteParams::foreground())
        .await
        .unwrap();
    eventually("children garbage-collected", 120, || async {
        let gone = get_opt(&deploys, "lake").await.is_none()
            && get_opt(&svcs, "lake").await.is_none()
            && get_opt(&cms, "lake-config").await.is_none()
            && get_opt(&env.api::<ServiceAccount>(), "lake")
                .await
                .is_none()
            && get_opt(&env.api::<PodDisruptionBudget>(), "lake")
                .await
                .is_none()
            && get_opt(&env.api::<CronJob>(), "lake-maintenance")
                .await
                .is_none();
        gone.then_some(())
    })
    .await;

    let m = op.metrics().await.expect("metrics");
    assert!(
        m.contains("duckgate_operator_reconciles_total{controller=\"endpoint\"}"),
        "{m}"
    );
    op.assert_nothing_forbidden();
    env.teardown().await;
}

fn template_annotation_of(
    t: &k8s_openapi::api::core::v1::PodTemplateSpec,
    key: &str,
) -> Option<String> {
    t.metadata.as_ref()?.annotations.as_ref()?.get(key).cloned()
}

#[tokio::test]
async fn invalid_specs_and_missing_references_are_conditions() {
    let Some(env) = setup("invalid_specs").await else {
        return;
    };
    let op = Operator::start(&env, &[]);
    // a spec CEL accepts but the operator cannot serve: maintenance of a non-DuckLake database
    env.apply_yaml(
        r#"
apiVersion: duckgate.io/v1alpha1
kind: PostgresEndpoint
metadata: {name: bad, namespace: NS}
spec:
  auth: {tokenSecret: {name: tokens}}
  tls: {secretName: own-tls}
  databases:
  - name: archive
    duckdb:
      path: s3://b/a.duckdb
      s3: {accessKeyIdSecretRef: {name: s3, key: id}, secretAccessKeySecretRef: {name: s3, key: secret}}
  maintenance: {database: archive}
"#,
    )
    .await;
    let ep = wait_condition(&env, "bad", "Degraded", "True", "InvalidSpec", 60).await;
    let msg = ep
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Degraded")
        .unwrap()
        .message;
    assert!(msg.contains("maintenance"), "{msg}");
    assert!(
        get_opt(&env.api::<Deployment>(), "bad").await.is_none(),
        "nothing built from an invalid spec"
    );

    // fix the spec: now the references are missing, one after the other
    let eps = env.api::<PostgresEndpoint>();
    merge(&eps, "bad", json!({"spec": {"maintenance": null}})).await;
    wait_condition(&env, "bad", "Degraded", "True", "SecretNotFound", 60).await;
    env.apply_yaml(&TOKENS.replace("scramIterations: 4096", "scramIterations: lots"))
        .await;
    wait_condition(&env, "bad", "Degraded", "True", "InvalidTokenFile", 60).await;
    env.apply_yaml(TOKENS).await;
    env.apply_yaml(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s3, namespace: NS}\nstringData: {id: x}\n",
    )
    .await;
    wait_condition(&env, "bad", "Degraded", "True", "SecretKeyMissing", 60).await;
    env.apply_yaml(CREDENTIALS).await;
    wait_condition(&env, "bad", "Degraded", "True", "SecretNotFound", 60).await; // own-tls
                                                                                 // a TLS Secret of the user's, made here with the operator's own certificate code
    let ca = duckgate_operator::certs::new_ca(
        "test",
        k8s_openapi::jiff::Timestamp::now(),
        Duration::from_secs(86400),
    )
    .unwrap();
    let leaf = duckgate_operator::certs::issue_server_cert(
        &ca,
        &duckgate_operator::certs::Sans {
            dns_names: vec!["bad".into()],
            ip_addresses: vec![],
        },
        Default::default(),
        k8s_openapi::jiff::Timestamp::now(),
        Duration::from_secs(86400),
    )
    .unwrap();
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "own-tls"}, "type": "kubernetes.io/tls",
        "stringData": {"tls.crt": leaf.cert_pem, "tls.key": leaf.key_pem}});
    env.api::<Secret>()
        .patch(
            "own-tls",
            &PatchParams::apply(TEST_MANAGER).force(),
            &Patch::Apply(secret),
        )
        .await
        .unwrap();
    let ep = wait_condition(&env, "bad", "Progressing", "True", "RollingOut", 60).await;
    assert!(get_opt(&env.api::<Deployment>(), "bad").await.is_some());
    let cm = get_opt(&env.api::<ConfigMap>(), "bad-config")
        .await
        .unwrap();
    let cfg = duckgate_config::GatewayConfig::from_yaml(&cm.data.unwrap()["gateway.yaml"]).unwrap();
    assert_eq!(cfg.tls.ca_file, None, "the user's Secret has no ca.crt");
    assert!(ep.status.unwrap().certificate_not_after.is_some());

    // a reference to a certificate that does not exist
    merge(
        &eps,
        "bad",
        json!({"spec": {"tls": {"certificate": "nope", "secretName": null}}}),
    )
    .await;
    let ep = wait_condition(&env, "bad", "Degraded", "True", "CertificateNotFound", 60).await;
    // Ready keeps what it was (the pods keep serving with the old spec); no pods run here
    assert!(condition(&ep, "Ready").is_some());
    // settled: the operator does not rewrite an unchanged status (no self-triggering)
    let rv = ep.resource_version();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        eps.get("bad").await.unwrap().resource_version(),
        rv,
        "status rewritten without a change"
    );

    let m = op.metrics().await.expect("metrics");
    assert!(m.contains("reason=\"InvalidSpec\""), "{m}");
    op.assert_nothing_forbidden();
    env.teardown().await;
}

#[tokio::test]
async fn certificates_renew_on_a_timer_and_rotate_the_ca() {
    let Some(env) = setup("certificates").await else {
        return;
    };
    // A namespace CA close to its end: the operator must publish a successor, sign with it, keep
    // the old one trusted, and reissue the server certificate.
    let now = k8s_openapi::jiff::Timestamp::now();
    let old_ca =
        duckgate_operator::certs::new_ca("old", now, Duration::from_secs(10 * 86400)).unwrap();
    env.api::<Secret>()
        .patch(
            "duckgate-ca",
            &PatchParams::apply(TEST_MANAGER).force(),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "duckgate-ca"}, "type": "kubernetes.io/tls",
                "stringData": {"tls.crt": old_ca.cert_pem, "tls.key": old_ca.key_pem, "ca.crt": old_ca.cert_pem}})),
        )
        .await
        .unwrap();
    let op = Operator::start(&env, &["--ca-validity", "8760h"]);
    env.apply_yaml(
        r#"
apiVersion: duckgate.io/v1alpha1
kind: EndpointCertificate
metadata: {name: short, namespace: NS}
spec:
  dnsNames: [db.example.com]
  ipAddresses: [192.0.2.10]
  duration: 1h
  renewBefore: 59m50s
  privateKey: {algorithm: ECDSA-P384}
"#,
    )
    .await;
    let certs = env.api::<EndpointCertificate>();
    let secrets = env.api::<Secret>();
    let text =
        |s: &Secret, k: &str| String::from_utf8(s.data.as_ref().unwrap()[k].0.clone()).unwrap();

    let first = eventually("revision 1", 60, || async {
        let c = certs.get("short").await.ok()?;
        c.status.filter(|s| s.revision >= Some(1))
    })
    .await;
    assert_eq!(first.dns_names, vec!["db.example.com"]);
    assert_eq!(first.ip_addresses, vec!["192.0.2.10"]);
    let s1 = secrets.get("short-tls").await.unwrap();
    let crt1 = text(&s1, "tls.crt");
    let bundle = text(&s1, "ca.crt");
    let cas = duckgate_operator::certs::split_bundle(&bundle);
    assert_eq!(cas.len(), 2, "new and old CA are both trusted");
    assert!(cas.iter().any(|c| c == &old_ca.cert_pem));
    assert!(
        !duckgate_operator::certs::signed_by(&crt1, &old_ca.cert_pem),
        "signed by the successor"
    );
    assert!(duckgate_operator::certs::signed_by(&crt1, &cas[0]));
    assert!(duckgate_operator::certs::key_matches(
        &crt1,
        &text(&s1, "tls.key")
    ));
    let ca_secret = secrets.get("duckgate-ca").await.unwrap();
    assert_ne!(text(&ca_secret, "tls.crt"), old_ca.cert_pem);

    // renewal comes from the timer: nothing changes in the spec
    let renewed = eventually("a renewal", 90, || async {
        let c = certs.get("short").await.ok()?;
        let st = c.status?;
        (st.revision >= Some(first.revision.unwrap() + 1)).then_some(st)
    })
    .await;
    assert!(renewed.not_after.as_ref().unwrap().0 > first.not_after.as_ref().unwrap().0);
    let s2 = secrets.get("short-tls").await.unwrap();
    assert_ne!(text(&s2, "tls.crt"), crt1);
    assert_eq!(text(&s2, "ca.crt"), bundle);
    let st = certs.get("short").await.unwrap().status.unwrap();
    assert!(st
        .conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True"));
    assert!(st.renewal_time.is_some());

    let m = op.metrics().await.expect("metrics");
    assert!(
        m.contains("duckgate_operator_certificate_not_after_seconds{"),
        "{m}"
    );
    op.assert_nothing_forbidden();
    env.teardown().await;
}

#[tokio::test]
async fn two_operators_elect_one_leader() {
    let Some(env) = setup("leader_election").await else {
        return;
    };
    let args = [
        "--leader-election",
        "--leader-election-namespace",
        &env.ns,
        "--lease-duration-seconds",
        "6",
    ];
    let mut ops = [Operator::start(&env, &args), Operator::start(&env, &args)];
    let leases = env.api::<Lease>();
    let holder = eventually("a lease holder", 60, || async {
        let l = leases.get("duckgate-operator").await.ok()?;
        l.spec?.holder_identity
    })
    .await;
    assert!(ops.iter().any(|o| o.identity == holder), "{holder}");
    let (first, second) = ops.split_at_mut(1);
    let (leader, standby) = if first[0].identity == holder {
        (&mut first[0], &second[0])
    } else {
        (&mut second[0], &first[0])
    };
    // exactly one reports itself leader
    let leader_metrics = eventually("leader metrics", 30, || async {
        leader
            .metrics()
            .await
            .filter(|m| m.contains("duckgate_operator_leader 1"))
    })
    .await;
    assert!(leader_metrics.contains("duckgate_operator_leader 1"));
    let standby_metrics =
        eventually("standby metrics", 30, || async { standby.metrics().await }).await;
    assert!(
        standby_metrics.contains("duckgate_operator_leader 0"),
        "{standby_metrics}"
    );

    // the standby reconciles nothing; after the leader stops, it takes over and does
    env.apply_yaml(TOKENS).await;
    leader.terminate();
    let new_holder = eventually("the standby takes the lease", 60, || async {
        let l = leases.get("duckgate-operator").await.ok()?;
        l.spec?.holder_identity.filter(|h| h == &standby.identity)
    })
    .await;
    assert_eq!(new_holder, standby.identity);
    env.apply_yaml(
        "apiVersion: duckgate.io/v1alpha1\nkind: EndpointCertificate\nmetadata: {name: after, namespace: NS}\nspec: {dnsNames: [x.example]}\n",
    )
    .await;
    eventually("the new leader issues", 60, || async {
        get_opt(&env.api::<Secret>(), "after-tls").await
    })
    .await;
    standby.assert_nothing_forbidden();
    leader.assert_nothing_forbidden();
    env.teardown().await;
}

/// A stand-in for cert-manager's Certificate CRD: the API only, no controller. The test plays
/// cert-manager by writing the status.
const FAKE_CERT_MANAGER_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: certificates.cert-manager.io}
spec:
  group: cert-manager.io
  names: {kind: Certificate, listKind: CertificateList, plural: certificates, singular: certificate}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"#;

#[tokio::test]
async fn cert_manager_issuer_creates_a_certificate_and_reports_its_state() {
    let Some(env) = setup("cert_manager").await else {
        return;
    };
    let crds: Api<CustomResourceDefinition> = Api::all(env.admin.clone());
    let installed = crds
        .get_opt("certificates.cert-manager.io")
        .await
        .unwrap()
        .is_some();
    let op = Operator::start(&env, &[]);
    env.apply_yaml(
        r#"
apiVersion: duckgate.io/v1alpha1
kind: EndpointCertificate
metadata: {name: cm, namespace: NS}
spec:
  dnsNames: [db.example.com]
  issuer: {certManager: {issuerRef: {name: letsencrypt, kind: ClusterIssuer}}}
"#,
    )
    .await;
    let certs = env.api::<EndpointCertificate>();
    let reason = |c: &EndpointCertificate| {
        c.status
            .as_ref()?
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .map(|c| c.reason.clone())
    };
    if !installed {
        eventually("CertManagerNotInstalled", 60, || async {
            let c = certs.get("cm").await.ok()?;
            (reason(&c)? == "CertManagerNotInstalled").then_some(())
        })
        .await;
        let crd: CustomResourceDefinition = serde_yaml::from_str(FAKE_CERT_MANAGER_CRD).unwrap();
        ssa(&crds, &crd).await;
        // a spec change wakes the certificate at once (otherwise it looks again within 30 s)
        certs
            .patch(
                "cm",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": {"touch": "1"}}})),
            )
            .await
            .unwrap();
    }
    let cm_ar = kube::api::ApiResource {
        group: "cert-manager.io".into(),
        version: "v1".into(),
        api_version: "cert-manager.io/v1".into(),
        kind: "Certificate".into(),
        plural: "certificates".into(),
    };
    let cm_api: Api<kube::api::DynamicObject> =
        Api::namespaced_with(env.admin.clone(), &env.ns, &cm_ar);
    let created = eventually("the cert-manager Certificate", 90, || async {
        cm_api.get_opt("cm").await.ok().flatten()
    })
    .await;
    assert_eq!(created.data["spec"]["secretName"], "cm-tls");
    assert_eq!(created.data["spec"]["dnsNames"], json!(["db.example.com"]));
    assert_eq!(created.data["spec"]["issuerRef"]["kind"], "ClusterIssuer");
    let owner = &created.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(owner.kind, "EndpointCertificate");
    let c = eventually("Issuing while cert-manager works", 60, || async {
        let c = certs.get("cm").await.ok()?;
        (reason(&c)? == "Issuing").then_some(c)
    })
    .await;
    assert!(c
        .status
        .unwrap()
        .conditions
        .iter()
        .any(|c| c.type_ == "Issuing" && c.status == "True"));

    // cert-manager reports success
    cm_api
        .patch_status(
            "cm",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": "Certificate is up to date and has not expired"}],
                "notBefore": "2026-01-01T00:00:00Z", "notAfter": "2099-01-01T00:00:00Z",
                "renewalTime": "2098-12-01T00:00:00Z", "revision": 3
            }})),
        )
        .await
        .unwrap();
    // the operator looks at cert-manager's state every 15 s while it is not ready
    let st = eventually("Ready from cert-manager", 60, || async {
        let c = certs.get("cm").await.ok()?;
        (reason(&c)? == "Issued").then(|| c.status.unwrap())
    })
    .await;
    assert_eq!(st.revision, Some(3));
    assert_eq!(st.not_after.unwrap().0.to_string(), "2099-01-01T00:00:00Z");
    assert_eq!(st.secret_name.as_deref(), Some("cm-tls"));
    op.assert_nothing_forbidden();
    env.teardown().await;
    if !installed {
        // leave the control plane as it was: no cert-manager API
        let _ = crds
            .delete("certificates.cert-manager.io", &DeleteParams::default())
            .await;
    }
}
