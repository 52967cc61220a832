#!/usr/bin/env bash
# Chart checks: the chart's copies of the CRDs and RBAC rules are current, `helm lint --strict`
# and `helm template` are clean for the default values and every charts/duckgate/ci/*-values.yaml,
# the rendered objects have the properties the chart promises, the schema refuses bad values,
# and the real kube-apiserver of the e2e control plane (e2e/env.sh) accepts every rendered
# object in a server-side dry-run with strict field validation.
# Usage: e2e/chart-check.sh   (starts or reuses the e2e control plane; leaves it running)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source e2e/env.sh
ensure_apt_packages jq:jq yq:yq

CHART=charts/duckgate
RELEASE=dg
RELEASE_NS=duckgate-system
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# --- the chart's copies (helm cannot read files outside the chart) ---
for f in crds/*.yaml; do
  cmp -s "$f" "$CHART/files/crds/${f##*/}" ||
    fail "$CHART/files/crds/${f##*/} differs from $f: run e2e/sync-chart.sh"
done
[ "$(ls "$CHART"/files/crds | wc -l)" = "$(ls crds/*.yaml | wc -l)" ] ||
  fail "$CHART/files/crds has other files than crds/: run e2e/sync-chart.sh"
cmp -s operator/rbac/clusterrole.yaml "$CHART/files/rbac/clusterrole.yaml" ||
  fail "$CHART/files/rbac/clusterrole.yaml differs from operator/rbac/clusterrole.yaml: run e2e/sync-chart.sh"
pass "chart copies of crds/ and operator/rbac/clusterrole.yaml are current"

e2e_lock
e2e_k8s_start
HELM="$E2E_BIN/helm"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- lint and template, per values set ---
sets=(default)
for f in "$CHART"/ci/*-values.yaml; do sets+=("$f"); done
render() { # render NAME VALUES... -> $work/NAME.yaml and $work/NAME.json (an array of objects)
  local name="$1"; shift
  local out
  out=$("$HELM" template "$RELEASE" "$CHART" -n "$RELEASE_NS" "$@" 2>"$work/$name.err") ||
    { cat "$work/$name.err" >&2; fail "helm template $name"; }
  [ ! -s "$work/$name.err" ] || { cat "$work/$name.err" >&2; fail "helm template $name wrote to stderr"; }
  printf '%s\n' "$out" >"$work/$name.yaml"
  yq -s 'map(select(. != null))' "$work/$name.yaml" >"$work/$name.json"
}
for s in "${sets[@]}"; do
  name=$(basename "$s" -values.yaml)
  args=()
  [ "$s" = default ] || args=(-f "$s")
  out=$("$HELM" lint --strict "$CHART" -n "$RELEASE_NS" "${args[@]}" 2>&1) ||
    { echo "$out" >&2; fail "helm lint --strict ($name)"; }
  # [INFO] lines (an icon is recommended) are advice; anything else is not clean.
  if grep -E '^\[(WARNING|ERROR)\]' <<<"$out"; then fail "helm lint ($name) is not clean"; fi
  render "$name" "${args[@]}"
  pass "helm lint --strict and helm template: $name ($(jq length "$work/$name.json") objects)"
done

# --- what the rendered objects promise ---
q() { jq -e "$2" "$work/$1.json" >/dev/null || fail "$1: $3"; }
for name in default namespaced full; do
  q $name 'all(.[]; .metadata.labels as $l | ["app.kubernetes.io/name","app.kubernetes.io/instance","app.kubernetes.io/version","app.kubernetes.io/managed-by","helm.sh/chart"] | all(. as $k | $l | has($k)))' \
    "every object has the standard labels"
  q $name '[.[] | select(.kind=="Deployment")] | length == 1 and (.[0].spec.template.spec | .securityContext.runAsNonRoot and (.containers[0].securityContext | .readOnlyRootFilesystem and .allowPrivilegeEscalation == false and .capabilities.drop == ["ALL"]))' \
    "the operator runs non-root with a read-only root file system and no capabilities"
  q $name '[.[] | select(.kind=="Deployment")][0] | .spec.selector.matchLabels["app.kubernetes.io/component"] == "operator"' \
    "the Deployment selects operator pods only (gateway pods carry app.kubernetes.io/name=duckgate too)"
done
rules_file=$(yq '.rules' operator/rbac/clusterrole.yaml)
q default '[.[] | .kind] | sort == (["ClusterRole","ClusterRoleBinding","CustomResourceDefinition","CustomResourceDefinition","Deployment","Lease","PodDisruptionBudget","Role","RoleBinding","Service","ServiceAccount"] | sort)' \
  "default renders exactly the operator's objects"
jq -e --argjson r "$rules_file" '([.[] | select(.kind=="ClusterRole" or .kind=="Role") | .rules[]] | sort) == ($r | sort)' \
  "$work/default.json" >/dev/null ||
  fail "default: ClusterRole + leader-election Role together grant exactly operator/rbac/clusterrole.yaml"
q default '[.[] | select(.kind=="ClusterRole") | .rules[] | .apiGroups[]] | index("coordination.k8s.io") == null' \
  "Leases are not granted cluster-wide"
q default '[.[] | select(.kind=="Role")] | length == 1 and .[0].metadata.namespace == "duckgate-system" and all(.[0].rules[]; .apiGroups == ["coordination.k8s.io"])' \
  "the leader-election Role is in the release namespace and grants Leases only"
q default '([.[] | select(.kind=="Deployment")][0] | .spec.replicas == 2 and (.spec.template.spec.containers[0].args | index("--leader-election") != null and index("--lease-name=dg-duckgate") != null)) and ([.[] | select(.kind=="Lease")][0].metadata.name == "dg-duckgate")' \
  "two replicas with leader election on the chart's own Lease"
q default 'all(.[] | select(.kind=="CustomResourceDefinition"); .metadata.annotations["helm.sh/resource-policy"] == "keep")' \
  "CRDs are kept on uninstall by default"
q default '[.[] | select(.kind=="Pod")] | length == 0' "no test pod without test.endpoint.name"
for f in crds/*.yaml; do
  crd=$(yq -c '.spec' "$f")
  crd_name=$(yq -r '.metadata.name' "$f")
  jq -e --argjson s "$crd" --arg n "$crd_name" '[.[] | select(.kind=="CustomResourceDefinition" and .metadata.name==$n)] | length == 1 and .[0].spec == $s' \
    "$work/default.json" >/dev/null || fail "default: CRD $crd_name is rendered with the spec of $f"
done
q namespaced '[.[] | select(.kind | IN("ClusterRole","ClusterRoleBinding","CustomResourceDefinition","PodMonitor"))] | length == 0' \
  "namespace mode without CRDs renders nothing cluster-scoped"
q namespaced '[.[] | select(.kind=="Role" or .kind=="RoleBinding")] | length == 2 and all(.[]; .metadata.namespace == "team-a")' \
  "namespace mode: the Role and RoleBinding are in the watched namespace"
q namespaced '[.[] | select(.kind=="Deployment")][0].spec.template.spec.containers[0].args | index("--watch-namespace=team-a") != null and index("--leader-election") == null' \
  "namespace mode: --watch-namespace, no leader election with one replica"
q namespaced '[.[] | select(.kind | IN("Lease","PodDisruptionBudget"))] | length == 0' \
  "one replica: no Lease and no PodDisruptionBudget"
q full '[.[] | .kind] | (index("ServiceMonitor") != null and index("PodMonitor") != null and index("NetworkPolicy") != null and index("Pod") != null)' \
  "full: monitors, NetworkPolicy and the test pod are rendered"
q full '[.[] | select(.kind=="Deployment")][0].spec.template | .spec.containers[0].image == "registry.example.com/duckgate/operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" and .metadata.labels.team == "data" and .metadata.labels["app.kubernetes.io/component"] == "operator" and (.spec.containers[0].env | map(select(.name=="DUCKGATE_GATEWAY_IMAGE"))[0].value == "registry.example.com/duckgate/gateway:0.1.0-rc1")' \
  "full: image digest, pod labels merged under the chart's, gateway image"
q full 'all(.[] | select(.kind=="CustomResourceDefinition"); (.metadata.annotations // {}) | has("helm.sh/resource-policy") | not)' \
  "crds.keep=false drops the keep policy"
q full '[.[] | select(.kind=="Pod")][0] | .metadata.annotations["helm.sh/hook"] == "test" and .metadata.namespace == "analytics" and (.spec.containers[0].env | map(select(.name=="PGHOST"))[0].value == "analytics.analytics.svc.k8s.example.internal") and .spec.volumes[0].secret.secretName == "analytics-tls"' \
  "full: the helm test pod connects to the endpoint's Service with its CA"
pass "rendered objects have the promised properties"

# --- the schema refuses what would not work ---
refuse() { # refuse WHAT ARGS...
  local what="$1"; shift
  if "$HELM" template "$RELEASE" "$CHART" "$@" >/dev/null 2>"$work/refuse.err"; then
    fail "values accepted: $what"
  fi
  grep -q "schema" "$work/refuse.err" || { cat "$work/refuse.err" >&2; fail "$what: refused, but not by the schema"; }
}
refuse "two replicas without leader election" --set replicaCount=2 --set leaderElection.enabled=false
refuse "an unknown key" --set replicas=2
refuse "an unknown scope mode" --set scope.mode=global
refuse "a test endpoint without a token Secret" --set test.endpoint.name=analytics
refuse "a bad CA validity" --set operator.caValidity=5y
refuse "a bad image digest" --set image.digest=latest
pass "the schema refuses bad values"

# --- the real kube-apiserver accepts every rendered object (server-side dry-run, strict) ---
# Namespaces the objects live in must exist; the stand-in monitoring CRDs make the
# ServiceMonitor and PodMonitor kinds known (see e2e/testdata/monitoring-crds.yaml).
k apply --server-side --field-manager=duckgate-chart-check -f e2e/testdata/monitoring-crds.yaml >/dev/null
k wait --for=condition=Established --timeout=60s crd/servicemonitors.monitoring.coreos.com crd/podmonitors.monitoring.coreos.com >/dev/null
for ns in "$RELEASE_NS" team-a analytics monitoring; do
  k get namespace "$ns" >/dev/null 2>&1 || k create namespace "$ns" >/dev/null
done
for name in default namespaced full; do
  k apply --server-side --dry-run=server --validate=strict --field-manager=helm \
    -f "$work/$name.yaml" >"$work/$name.dry" 2>&1 ||
    { cat "$work/$name.dry" >&2; fail "server-side dry-run of $name"; }
  n=$(grep -c 'serverside-applied (server dry run)' "$work/$name.dry" || true)
  [ "$n" = "$(jq length "$work/$name.json")" ] ||
    { cat "$work/$name.dry" >&2; fail "$name: $n of $(jq length "$work/$name.json") objects applied in the dry-run"; }
  pass "kube-apiserver accepts all $n objects of $name (server-side dry-run, strict field validation)"
done
k delete namespace team-a analytics monitoring --wait=false >/dev/null
k delete -f e2e/testdata/monitoring-crds.yaml --wait=false >/dev/null
echo "chart checks passed"
