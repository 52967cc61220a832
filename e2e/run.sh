#!/usr/bin/env bash
# End-to-end scenarios of the operator chart on a real control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler: e2e/env.sh) with the e2e node agent (e2e/agent) as
# the one node, which runs every pod's containers as local processes from the pod spec:
#
#   agent     a hand-written gateway Deployment (no operator): pods start, become Ready through
#             the gateway's /readyz, the Service gets endpoints, psql connects through the Service
#             and each pod IP, a rolling update keeps serving, deletion stops every process.
#   install   helm install charts/duckgate (2 operator replicas, leader election, its own RBAC).
#   minimal   examples/minimal as shipped, a token added the README's way, psql verify-full.
#   full      examples/full (DuckLake on the test PostgreSQL + S3 behind Services) with real
#             credentials and a token; kubectl wait Ready; table create/insert/read; helm test;
#             scale 1 -> 3 and every gateway sees the same lake; a spec change rolls the pods while
#             the Service keeps answering; the namespace CA is rotated and clients connect with
#             the new CA (the old one is refused); the endpoint is deleted and every process and
#             object of it goes away.
#   uninstall helm uninstall leaves no object of the release (crds.keep=false) and no process.
#
# Usage: e2e/run.sh   (root; builds what it needs; ~3 min warm)
# Env: DUCKGATE_E2E_KEEP=1 keeps the control plane, agent state and logs after the run;
#      DUCKGATE_E2E_NO_BUILD=1 uses the binaries as they are in the cargo target dirs;
#      DUCKGATE_E2E_STATE (default /var/tmp/duckgate-e2e): images, agent state, pod logs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source e2e/env.sh
ensure_apt_packages postgresql-client:psql jq:jq yq:yq openssl:openssl curl:curl iproute2:ip util-linux:unshare gcc:cc

e2e_lock
E2E_START=$SECONDS
STATE="${DUCKGATE_E2E_STATE:-/var/tmp/duckgate-e2e}"
RELEASE=duckgate
RELEASE_NS=duckgate-system
NS=duckgate-e2e
DOMAIN=cluster.local
GATEWAY="$DUCKGATE_CACHE/target/debug/duckgate-gateway"
OPERATOR="$DUCKGATE_CACHE/target-operator/debug/duckgate-operator"
W="$STATE/work"
AGENT_PID=""
PROBER_PID=""

# --- reporting ---------------------------------------------------------------------------------
PHASE=""
PHASE_START=$SECONDS
TIMINGS=()
phase() {
  [ -z "$PHASE" ] || TIMINGS+=("$(printf '%-10s %4d s' "$PHASE" $((SECONDS - PHASE_START)))")
  PHASE="$1"
  PHASE_START=$SECONDS
  [ -z "$1" ] || echo "== e2e: $1 ($2)"
}
ok() { echo "ok: $*"; }
diagnostics() {
  echo "---- diagnostics" >&2
  k get nodes -o wide >&2 || true
  k get pods -A -o wide >&2 || true
  k get pge,epcert -A -o wide >&2 || true
  k get events -A --sort-by=.lastTimestamp 2>/dev/null | tail -n 25 >&2 || true
  echo "---- agent log (last 40 lines)" >&2
  tail -n 40 "$STATE/agent.log" >&2 || true
  for f in "$STATE"/state/logs/*/*.log; do
    [ -e "$f" ] || continue
    echo "---- ${f#"$STATE"/state/logs/} (last 15 lines)" >&2
    tail -n 15 "$f" >&2
  done
}
fail() {
  echo "FAIL (e2e $PHASE): $*" >&2
  diagnostics
  exit 1
}
# wait_for DESCRIPTION SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
  local what="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out after $secs s waiting for: $what"
    sleep 0.5
  done
}

cleanup() {
  local rc=$?
  [ -z "$PROBER_PID" ] || kill "$PROBER_PID" 2>/dev/null || true
  if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
    kill -TERM "$AGENT_PID"
    for _ in $(seq 1 300); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$AGENT_PID" 2>/dev/null && kill -KILL "$AGENT_PID"
  fi
  if [ -z "${DUCKGATE_E2E_KEEP:-}" ]; then
    e2e_k8s_stop >/dev/null 2>&1 || true
  else
    echo "kept: control plane (kubeconfig $E2E_KUBECONFIG), agent state $STATE"
  fi
  exit $rc
}
trap cleanup EXIT

# --- what the scenarios use --------------------------------------------------------------------
# svc_addr NS NAME: the agent's proxy address of a Service.
svc_addr() { jq -r --arg k "$1/$2" '.[$k].ip // empty' "$STATE/state/services.json"; }
# sql CA ADDR HOST TOKEN SQL...: psql with TLS verify-full for HOST, connecting to ADDR.
sql() {
  local ca="$1" addr="$2" host="$3" token="$4"; shift 4
  PGPASSWORD="$token" PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 -tA \
    "host=$host hostaddr=$addr port=5432 dbname=md: user=e2e sslmode=verify-full sslrootcert=$ca" "$@"
}
# ca_of NS SECRET FILE: the certificate Secret's ca.crt.
ca_of() { k -n "$1" get secret "$2" -o jsonpath='{.data.ca\.crt}' | base64 -d >"$3"; }
# gateway_pods NS ENDPOINT: "name ip ready" of the endpoint's gateway pods.
gateway_pods() {
  k -n "$1" get pods -l "app.kubernetes.io/instance=$2,app.kubernetes.io/component=gateway" -o json |
    jq -r '.items[] | select(.metadata.deletionTimestamp == null) |
      "\(.metadata.name) \(.status.podIP // "-") \(any(.status.conditions[]?; .type=="Ready" and .status=="True"))"'
}
ready_ips() { gateway_pods "$1" "$2" | awk '$3=="true" {print $2}'; }
# agent_pids NS [POD-PREFIX]: pids of running container processes of pods in NS.
agent_pids() {
  jq -r --arg ns "$1" --arg p "${2:-}" 'to_entries[] | .value | select(.namespace==$ns and (.name | startswith($p))) |
    .containers[] | select(.running) | .pid' "$STATE/state/pods.json"
}
alive() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && echo "$p"; done; return 0; }
none_alive() { [ -z "$(alive "$@")" ]; }
has_pids() { [ -n "$(agent_pids "$@")" ]; }
session_empty() { [ -z "$(ps -o pid= --sid "$1")" ]; }
# predicates for wait_for
node_ready() { [ -e "$STATE/state/ready" ] && k wait --for=condition=Ready node/duckgate-e2e-node --timeout=1s; }
svc_targets() { jq -e --arg k "$1/$2" --argjson n "$3" '.[$k].targets["5432"] | length == $n' "$STATE/state/services.json"; }
field_is() { [ "$(k -n "$1" get "$2" -o jsonpath="$3")" = "$4" ]; }
field_gt() { local v; v=$(k -n "$1" get "$2" -o jsonpath="$3"); [ -n "$v" ] && [ "$v" -gt "$4" ]; }
has_holder() { [ -n "$(k -n "$1" get lease "$2" -o jsonpath='{.spec.holderIdentity}')" ]; }
lease_moved() { local h; h=$(k -n "$1" get lease "$2" -o jsonpath='{.spec.holderIdentity}'); [ -n "$h" ] && [ "$h" != "$3" ] && k -n "$1" get pod "$h" >/dev/null; }
ca_changed() { ! cmp -s <(k -n "$1" get secret "$2" -o jsonpath='{.data.ca\.crt}' | base64 -d) "$3"; }
none_labeled() { [ -z "$(k -n "$1" get "$2" -l "$3" -o name)" ]; }
no_pods() { [ -z "$(k -n "$1" get pods -o name)" ]; }
no_duckgate_crds() { ! k get crd -o name | grep -q 'duckgate\.io'; }
secret_gone() { ! k -n "$1" get secret "$2" >/dev/null 2>&1; }
pod_gone() { ! k -n "$1" get pod "$2" >/dev/null 2>&1; }
# only_relays_run: no container process runs but the storage relays'.
only_relays_run() {
  [ -z "$(jq -r '.[] | .containers[] | select(.running) | .pid' "$STATE/state/pods.json" | grep -v -x -F -f <(agent_pids storage; echo none) || true)" ]
}
# fingerprints FILE: the SHA-256 fingerprint of every certificate in a PEM bundle.
fingerprints() {
  local d; d=$(mktemp -d)
  awk -v d="$d" '/BEGIN CERT/ {n++} n {print > (d "/" n ".pem")}' "$1"
  for f in "$d"/*.pem; do openssl x509 -in "$f" -noout -fingerprint -sha256; done | sort
  rm -rf "$d"
}
# add_token NS SECRET NAME: add a token to the token Secret the way examples/README.md says;
# prints the token.
add_token() {
  local ns="$1" secret="$2" name="$3" file="$W/$1-$2.yaml"
  k -n "$ns" get secret "$secret" -o jsonpath='{.data.tokens\.yaml}' | base64 -d >"$file"
  "$GATEWAY" token create --name "$name" --token-file "$file" | tail -n 1
  k -n "$ns" create secret generic "$secret" --from-file=tokens.yaml="$file" --dry-run=client -o yaml |
    k apply -f - >/dev/null
}

# =================================================================================================
phase build "binaries, test storage, control plane, node agent"
# The same cargo invocations as scripts/test.sh, so nothing is rebuilt between the two.
if [ -z "${DUCKGATE_E2E_NO_BUILD:-}" ]; then
  CARGO_TARGET_DIR="$DUCKGATE_CACHE/target" cargo test -q --no-run -p duckgate-gateway -p duckgate-config >"$STATE.build.log" 2>&1 ||
    { cat "$STATE.build.log" >&2; fail "building the gateway"; }
  CARGO_TARGET_DIR="$DUCKGATE_CACHE/target-operator" cargo test -q --no-run -p duckgate-operator >"$STATE.build.log" 2>&1 ||
    { cat "$STATE.build.log" >&2; fail "building the operator"; }
fi
[ -x "$GATEWAY" ] || fail "no gateway binary at $GATEWAY"
[ -x "$OPERATOR" ] || fail "no operator binary at $OPERATOR"
EXT_DIR=$(bash scripts/install-extensions.sh | tail -n 1)
bash scripts/start-postgres.sh >/dev/null 8>&-   # (daemons must not hold the e2e lock)
S3_ENDPOINT=$(bash scripts/start-s3.sh 8>&- | tail -n 1)
source scripts/pg-env.sh
S3_PORT="${S3_ENDPOINT##*:}"
PG_PASSWORD=$(cat "$DUCKGATE_CACHE/pg/ducklake_rw.password")

# Container processes an earlier agent could not stop (it was killed itself) would hold pod
# addresses: end them. Only pids that still carry the agent's DUCKGATE_POD_IP are touched.
if [ -f "$STATE/state/pods.json" ]; then
  for p in $(jq -r '.[] | .containers[] | .pid // empty' "$STATE/state/pods.json"); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -q '^DUCKGATE_POD_IP='; then
      echo "ending process $p left by an earlier run" >&2
      kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
    fi
  done
fi
# Images: what the node agent runs for each image name (see e2e/agent/agent.py, IMAGES).
rm -rf "$STATE"
mkdir -p "$STATE"/images/{gateway,operator,relay}/bin "$W"
chmod 755 "$STATE" "$STATE/images"
chmod 700 "$W"
ln -f "$GATEWAY" "$STATE/images/gateway/bin/duckgate-gateway" 2>/dev/null ||
  cp -f "$GATEWAY" "$STATE/images/gateway/bin/duckgate-gateway"
ln -f "$OPERATOR" "$STATE/images/operator/bin/duckgate-operator" 2>/dev/null ||
  cp -f "$OPERATOR" "$STATE/images/operator/bin/duckgate-operator"
install -m 0755 e2e/agent/tcp_relay.py "$STATE/images/relay/bin/tcp-relay"
cat >"$STATE/images.json" <<EOF
[
  {"match": "duckgate/duckgate-gateway:*", "path": ["$STATE/images/gateway/bin"],
   "entrypoint": ["duckgate-gateway"], "cmd": ["serve", "--config", "/etc/duckgate/config/gateway.yaml"],
   "user": 65532, "mounts": {"/opt/duckgate/extensions": "$EXT_DIR"}},
  {"match": "duckgate/duckgate-operator:*", "path": ["$STATE/images/operator/bin"],
   "entrypoint": ["duckgate-operator"], "cmd": ["run"], "user": 65532},
  {"match": "duckgate-e2e/tcp-relay:*", "path": ["$STATE/images/relay/bin"], "entrypoint": ["tcp-relay"], "user": 65532},
  {"match": "postgres:*", "path": [], "entrypoint": ["docker-entrypoint.sh"], "cmd": ["postgres"], "user": 0}
]
EOF

DUCKGATE_E2E_FRESH=1 e2e_k8s_start
python3 e2e/agent/agent.py --server "https://127.0.0.1:$DUCKGATE_K8S_API_PORT" \
  --ca "$DUCKGATE_K8S_RUN/pki/ca.crt" --cert "$DUCKGATE_K8S_RUN/pki/admin.crt" --key "$DUCKGATE_K8S_RUN/pki/admin.key" \
  --state-dir "$STATE/state" --images "$STATE/images.json" --cluster-domain "$DOMAIN" --delete-node \
  >"$STATE/agent.log" 2>&1 </dev/null 8>&- &
AGENT_PID=$!
wait_for "the node agent's Node to be Ready" 30 node_ready
ok "control plane and node agent up"

# =================================================================================================
phase agent "a plain gateway Deployment through the node agent"
k create namespace e2e-plain >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=e2e-plain-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
  -keyout "$W/plain-ca.key" -out "$W/plain-ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=plain -keyout "$W/plain.key" 2>/dev/null |
  openssl x509 -req -CA "$W/plain-ca.crt" -CAkey "$W/plain-ca.key" -CAcreateserial -days 2 -out "$W/plain.crt" \
    -extfile <(echo "subjectAltName=DNS:plain.e2e-plain.svc.$DOMAIN") 2>/dev/null
k -n e2e-plain create secret generic plain-tls --from-file=tls.crt="$W/plain.crt" \
  --from-file=tls.key="$W/plain.key" --from-file=ca.crt="$W/plain-ca.crt" >/dev/null
PLAIN_TOKEN=$("$GATEWAY" token create --name plain --token-file "$W/plain-tokens.yaml" | tail -n 1)
k -n e2e-plain create secret generic plain-tokens --from-file=tokens.yaml="$W/plain-tokens.yaml" >/dev/null
k -n e2e-plain apply -f e2e/testdata/plain-gateway.yaml >/dev/null
k -n e2e-plain rollout status deploy/plain --timeout=90s >/dev/null || fail "the plain Deployment did not become available"
[ "$(k -n e2e-plain get deploy plain -o jsonpath='{.status.readyReplicas}')" = 2 ] || fail "plain: 2 ready replicas expected"
plain_host="plain.e2e-plain.svc.$DOMAIN"
wait_for "the plain Service's endpoints in the agent's proxy" 20 svc_targets e2e-plain plain 2
[ "$(k -n e2e-plain get endpointslices -l kubernetes.io/service-name=plain -o json |
     jq '[.items[].endpoints[]? | select(.conditions.ready)] | length')" = 2 ] || fail "plain: the EndpointSlice lists 2 ready pods"
for ip in $(k -n e2e-plain get pods -l app=plain -o jsonpath='{.items[*].status.podIP}'); do
  [ "$(sql "$W/plain-ca.crt" "$ip" "$plain_host" "$PLAIN_TOKEN" -c 'SELECT 40 + 2')" = 42 ] ||
    fail "plain: psql through pod IP $ip"
done
plain_addr=$(svc_addr e2e-plain plain)
[ "$(sql "$W/plain-ca.crt" "$plain_addr" "$plain_host" "$PLAIN_TOKEN" -c 'SELECT 40 + 2')" = 42 ] ||
  fail "plain: psql through the Service"
# each process runs as the pod's user, in its own mount namespace, with the read-only root
pid=$(agent_pids e2e-plain plain | head -n 1)
[ "$(stat -c %u "/proc/$pid")" = 65532 ] || fail "plain: the gateway process runs as uid 65532"
[ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] || fail "plain: own mount namespace"
awk '$5 == "/" {print $6}' "/proc/$pid/mountinfo" | grep -q '^ro' || fail "plain: read-only root file system"
old_pids=$(agent_pids e2e-plain plain | sort)
k -n e2e-plain rollout restart deploy/plain >/dev/null
k -n e2e-plain rollout status deploy/plain --timeout=90s >/dev/null || fail "plain: rolling restart"
wait_for "the processes of the replaced pods to end" 30 none_alive $old_pids
[ "$(sql "$W/plain-ca.crt" "$plain_addr" "$plain_host" "$PLAIN_TOKEN" -c 'SELECT 1')" = 1 ] || fail "plain: after the restart"
# a process that ignores SIGTERM is killed (with its children) after the grace period
k -n e2e-plain apply -f - >/dev/null <<'EOF2'
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 3
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 65532}
  containers:
    - name: sh
      image: postgres:17-alpine
      command: [sh, -c, 'trap "" TERM; echo started; while :; do sleep 1; done']
EOF2
k -n e2e-plain wait --for=condition=Ready pod/stubborn --timeout=30s >/dev/null || fail "plain: the stubborn pod runs"
wait_for "the stubborn pod's process in the agent's state" 10 has_pids e2e-plain stubborn
spid=$(agent_pids e2e-plain stubborn)
t0=$(date +%s.%N)
k -n e2e-plain delete pod stubborn --wait=false >/dev/null
wait_for "the stubborn process to be killed" 20 none_alive $spid
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
awk -v t="$took" 'BEGIN {exit !(t >= 2.5)}' || fail "plain: SIGTERM-ignoring process ended after $took s, before its 3 s grace period"
wait_for "the killed container's children to be gone too" 10 session_empty "$spid"
wait_for "the stubborn pod to be deleted" 20 pod_gone e2e-plain stubborn
pids=$(agent_pids e2e-plain plain)
k delete namespace e2e-plain --wait=true --timeout=90s >/dev/null || fail "plain: namespace deletion"
none_alive $pids || fail "plain: gateway processes outlived their pods: $(alive $pids)"
ok "plain Deployment: 2 pods Ready via /readyz, EndpointSlice, Service and pod IPs answer psql, non-root in own mount namespace with read-only root, rolling restart, deletion stops the processes (one ignoring SIGTERM was killed after $took s, its grace being 3 s)"

# =================================================================================================
phase install "helm install of the chart"
h install "$RELEASE" charts/duckgate -n "$RELEASE_NS" --create-namespace \
  --set crds.keep=false \
  --set test.endpoint.name=analytics --set test.endpoint.namespace="$NS" \
  --set test.endpoint.passwordSecret.name=e2e-test-token --set test.endpoint.caSecret.name=analytics-tls \
  --set test.endpoint.query='SELECT count(*) FROM e2e_items' --set-string test.endpoint.expect=4 \
  --wait --timeout 3m >"$W/helm-install.txt" || { cat "$W/helm-install.txt" >&2; fail "helm install"; }
grep -q "Next step" "$W/helm-install.txt" || fail "NOTES.txt tells the next step"
[ "$(k -n "$RELEASE_NS" get deploy "$RELEASE" -o jsonpath='{.status.readyReplicas}')" = 2 ] ||
  fail "two operator replicas ready"
wait_for "a leader in Lease $RELEASE" 60 has_holder "$RELEASE_NS" "$RELEASE"
holder=$(k -n "$RELEASE_NS" get lease "$RELEASE" -o jsonpath='{.spec.holderIdentity}')
k -n "$RELEASE_NS" get pod "$holder" >/dev/null 2>&1 || fail "the lease holder $holder is an operator pod"
k -n "$RELEASE_NS" delete pod "$holder" --wait=false >/dev/null
wait_for "the other operator replica to take the lease" 45 lease_moved "$RELEASE_NS" "$RELEASE" "$holder"
new_holder=$(k -n "$RELEASE_NS" get lease "$RELEASE" -o jsonpath='{.spec.holderIdentity}')
k -n "$RELEASE_NS" rollout status deploy/"$RELEASE" --timeout=60s >/dev/null || fail "the operator Deployment replaces the deleted pod"
ok "operator: 2 replicas Ready, $holder led; deleted, $new_holder took over"

# RBAC denials in the operator's logs ("... is forbidden: User \"system:serviceaccount:...\" cannot
# list resource ..."); a namespace being deleted also answers Forbidden, which is no RBAC matter.
operator_forbidden() {
  grep -hE 'forbidden: User [^ ]+ cannot' "$STATE"/state/logs/"$RELEASE_NS"_*/operator-*.log 2>/dev/null | head -n 5
}

# =================================================================================================
phase minimal "examples/minimal"
k create namespace e2e-minimal >/dev/null
k -n e2e-minimal apply -f examples/minimal/ >/dev/null
MIN_TOKEN=$(add_token e2e-minimal minimal-tokens e2e)
k -n e2e-minimal wait --for=condition=Ready pge/minimal --timeout=120s >/dev/null || fail "minimal: Ready"
ca_of e2e-minimal minimal-tls "$W/minimal-ca.crt"
min_host="minimal.e2e-minimal.svc.$DOMAIN"
wait_for "the minimal Service in the agent's proxy" 20 svc_targets e2e-minimal minimal 1
min_addr=$(svc_addr e2e-minimal minimal)
# the token reaches the running gateway without a restart
wait_for "the added token to work" 30 sql "$W/minimal-ca.crt" "$min_addr" "$min_host" "$MIN_TOKEN" -c 'SELECT 1'
[ "$(sql "$W/minimal-ca.crt" "$min_addr" "$min_host" "$MIN_TOKEN" -c 'CREATE TABLE t AS SELECT 7 AS x' -c 'SELECT x FROM t')" = 7 ] ||
  fail "minimal: create and read a table"
[ "$(k -n e2e-minimal get pods -l app.kubernetes.io/instance=minimal -o jsonpath='{.items[0].status.containerStatuses[0].restartCount}')" = 0 ] ||
  fail "minimal: the gateway restarted"
k delete namespace e2e-minimal --wait=true --timeout=90s >/dev/null || fail "minimal: namespace deletion"
ok "examples/minimal: Ready, token added to the Secret reaches the running gateway, psql verify-full"

# =================================================================================================
phase full "examples/full: DuckLake on PostgreSQL + S3, scale, roll, rotate, delete"
# storage: relay pods behind Services postgres.storage and minio.storage; a fresh lake
sed -e "s/PG_PORT/$PG_PORT/" -e "s/S3_PORT/$S3_PORT/" e2e/testdata/storage.yaml | k apply -f - >/dev/null
PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -q -h "$PG_SOCK" -p "$PG_PORT" -U duckgate -d ducklake_catalog -c 'DROP SCHEMA IF EXISTS duckgate_lake CASCADE' >/dev/null
curl -fsS -X PUT "$S3_ENDPOINT/duckgate-lake" >/dev/null || fail "creating bucket duckgate-lake"
k -n storage rollout status deploy/postgres --timeout=60s >/dev/null && k -n storage rollout status deploy/minio --timeout=60s >/dev/null ||
  fail "storage relays"

k create namespace "$NS" >/dev/null
k -n "$NS" apply -f examples/full/ >/dev/null
k -n "$NS" create secret generic analytics-catalog --from-literal=password="$PG_PASSWORD" --dry-run=client -o yaml | k apply -f - >/dev/null
k -n "$NS" create secret generic analytics-s3 --from-literal=access-key-id=e2e --from-literal=secret-access-key=e2e-secret \
  --dry-run=client -o yaml | k apply -f - >/dev/null
TOKEN=$(add_token "$NS" analytics-tokens e2e)
k -n "$NS" create secret generic e2e-test-token --from-literal=token="$TOKEN" >/dev/null
k -n "$NS" wait --for=condition=Ready pge/analytics --timeout=180s >/dev/null || fail "analytics: kubectl wait Ready"
k -n "$NS" wait --for=condition=Ready epcert/analytics --timeout=10s >/dev/null || fail "analytics certificate Ready"
ca_of "$NS" analytics-tls "$W/ca-1.crt"
host="analytics.$NS.svc.$DOMAIN"
wait_for "the analytics Service in the agent's proxy" 30 svc_targets "$NS" analytics 1
addr=$(svc_addr "$NS" analytics)
wait_for "the token to work" 30 sql "$W/ca-1.crt" "$addr" "$host" "$TOKEN" -c 'SELECT 1'
out=$(sql "$W/ca-1.crt" "$addr" "$host" "$TOKEN" \
  -c 'CREATE TABLE e2e_items (id INTEGER, pod VARCHAR)' \
  -c "INSERT INTO e2e_items VALUES (1, 'first')" \
  -c 'SELECT id, pod FROM e2e_items') || fail "analytics: create, insert, read"
[ "$out" = "1|first" ] || fail "analytics: read back $out"
uri=$(k -n "$NS" get pge analytics -o jsonpath='{.status.connectionUri}')
ok "analytics Ready ($uri): table created, row inserted and read back over verify-full"

# scale 1 -> 3: three processes on the same lake
k -n "$NS" scale pge/analytics --replicas=3 >/dev/null
wait_for "3 ready gateway replicas" 120 field_is "$NS" pge/analytics '{.status.readyReplicas}' 3
mapfile -t ips < <(ready_ips "$NS" analytics)
[ ${#ips[@]} = 3 ] || fail "3 ready gateway pods expected, got ${#ips[@]}"
[ "$(agent_pids "$NS" analytics- | wc -l)" = 3 ] || fail "three gateway processes run"
i=2
for ip in "${ips[@]}"; do
  sql "$W/ca-1.crt" "$ip" "$host" "$TOKEN" -c "INSERT INTO e2e_items VALUES ($i, '$ip')" >/dev/null || fail "insert through pod $ip"
  i=$((i + 1))
done
want="1,2,3,4"
for ip in "${ips[@]}"; do
  got=$(sql "$W/ca-1.crt" "$ip" "$host" "$TOKEN" -c "SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM e2e_items")
  [ "$got" = "$want" ] || fail "pod $ip sees ids $got, not $want"
done
ok "3 gateway processes (${ips[*]}): rows inserted through each are seen by all"

# helm test: the chart's test pod connects with psql through the Service (verify-full)
h test "$RELEASE" -n "$RELEASE_NS" --timeout 2m >"$W/helm-test.txt" 2>&1 || { cat "$W/helm-test.txt" >&2; fail "helm test"; }
grep -q "Phase:.*Succeeded" "$W/helm-test.txt" || { cat "$W/helm-test.txt" >&2; fail "helm test did not succeed"; }
ok "helm test: the test pod counted 4 rows through the Service"

# a spec change rolls the pods; the Service answers throughout
mapfile -t before < <(gateway_pods "$NS" analytics | awk '{print $1}' | sort)
pids_before=$(agent_pids "$NS" analytics- | sort)
: >"$W/prober.log"
(
  # A session a draining gateway closes while it is idle gets 57P01 (the gateway's documented
  # drain); clients reconnect on it, and so does the prober, once. Anything else is a failure.
  count() { sql "$W/ca-1.crt" "$addr" "$host" "$TOKEN" -c 'SELECT count(*) FROM e2e_items' 2>&1; }
  while [ ! -e "$W/prober.stop" ]; do
    if r=$(count); then
      echo "ok $r" >>"$W/prober.log"
    elif [[ "$r" == *"terminating connection due to administrator command"* ]] && echo "reconnect 57P01" >>"$W/prober.log" &&
         r=$(count); then
      echo "ok $r" >>"$W/prober.log"
    else
      echo "fail $(echo "$r" | tr '\n' ' ')" >>"$W/prober.log"
    fi
    n=$("$E2E_BIN/kubectl" --kubeconfig "$E2E_KUBECONFIG" -n "$NS" get endpointslices -l kubernetes.io/service-name=analytics -o json 2>/dev/null |
        jq '[.items[].endpoints[]? | select(.conditions.ready)] | length')
    echo "endpoints ${n:-?}" >>"$W/prober.log"
    sleep 0.2
  done
) &
PROBER_PID=$!
sleep 2
gen=$(k -n "$NS" get pge analytics -o jsonpath='{.metadata.generation}')
k -n "$NS" patch pge analytics --type=merge -p '{"spec":{"limits":{"statementTimeoutMs":240000}}}' >/dev/null
wait_for "the operator to see generation $((gen + 1))" 30 field_is "$NS" pge/analytics '{.status.observedGeneration}' $((gen + 1))
k -n "$NS" rollout status deploy/analytics --timeout=180s >/dev/null || fail "the rolling update did not finish"
k -n "$NS" wait --for=condition=Progressing=False pge/analytics --timeout=60s >/dev/null || fail "analytics: rollout complete (Progressing=False)"
wait_for "3 ready gateway replicas after the roll" 60 field_is "$NS" pge/analytics '{.status.readyReplicas}' 3
sleep 1
touch "$W/prober.stop"
wait "$PROBER_PID" || true
PROBER_PID=""
mapfile -t after < <(gateway_pods "$NS" analytics | awk '{print $1}' | sort)
for p in "${before[@]}"; do
  [[ " ${after[*]} " != *" $p "* ]] || fail "pod $p was not replaced by the rolling update"
done
wait_for "the processes of the replaced pods to end" 60 none_alive $pids_before
k -n "$NS" get configmap analytics-config -o jsonpath='{.data.gateway\.yaml}' | grep -q 'statementTimeoutMs: 240000' ||
  fail "the new config is in the ConfigMap"
n_ok=$(grep -c '^ok 4$' "$W/prober.log" || true)
n_fail=$(grep -c '^fail' "$W/prober.log" || true)
n_57p01=$(grep -c '^reconnect' "$W/prober.log" || true)
min_ep=$(awk '$1=="endpoints" && $2 ~ /^[0-9]+$/ {print $2}' "$W/prober.log" | sort -n | head -n 1)
[ "$n_fail" = 0 ] || { grep '^fail' "$W/prober.log" | head -n 5 >&2; fail "$n_fail of $((n_ok + n_fail)) queries through the Service failed during the rolling update"; }
[ "$n_ok" -ge 10 ] || fail "only $n_ok queries ran during the rolling update"
[ "${min_ep:-0}" -ge 1 ] || fail "the Service had no ready endpoint at some point of the rolling update"
ok "rolling update: 3 new pods; ${n_ok} queries through the Service during the roll, none failed ($n_57p01 needed a reconnect after 57P01 from a draining gateway); ready endpoints never below $min_ep"

# rotate: a new namespace CA (the operator re-creates duckgate-ca and reissues the certificate);
# the running gateways reload it, clients with the new CA connect, the old CA no longer verifies
rev=$(k -n "$NS" get epcert analytics -o jsonpath='{.status.revision}')
k -n "$NS" delete secret duckgate-ca >/dev/null
wait_for "a reissued certificate (revision > $rev)" 60 field_gt "$NS" epcert/analytics '{.status.revision}' "$rev"
wait_for "a new CA in analytics-tls" 30 ca_changed "$NS" analytics-tls "$W/ca-1.crt"
ca_of "$NS" analytics-tls "$W/ca-2.crt"
if comm -12 <(fingerprints "$W/ca-1.crt") <(fingerprints "$W/ca-2.crt") | grep -q .; then
  fail "the new ca.crt still holds the old CA"
fi
mapfile -t ips < <(ready_ips "$NS" analytics)
for ip in "${ips[@]}"; do
  wait_for "pod $ip to serve the new certificate" 30 sql "$W/ca-2.crt" "$ip" "$host" "$TOKEN" -c 'SELECT 1'
  if sql "$W/ca-1.crt" "$ip" "$host" "$TOKEN" -c 'SELECT 1' >/dev/null 2>"$W/old-ca.err"; then
    fail "pod $ip still verifies with the old CA"
  fi
  grep -qi "certificate verify failed" "$W/old-ca.err" || { cat "$W/old-ca.err" >&2; fail "old CA: not a verification failure"; }
done
[ "$(sql "$W/ca-2.crt" "$addr" "$host" "$TOKEN" -c 'SELECT count(*) FROM e2e_items')" = 4 ] || fail "new CA through the Service"
restarts=$(k -n "$NS" get pods -l app.kubernetes.io/instance=analytics -o json | jq '[.items[].status.containerStatuses[].restartCount] | add')
[ "$restarts" = 0 ] || fail "gateways restarted during the rotation ($restarts)"
ok "certificate rotated to a new CA: all 3 gateways serve it without a restart, the old CA is refused"

# delete the endpoint: every object it owns and every process go away
pids=$(agent_pids "$NS" analytics-)
k -n "$NS" delete pge analytics --wait=true --timeout=60s >/dev/null || fail "deleting the endpoint"
sel="app.kubernetes.io/instance=analytics"
wait_for "the endpoint's objects to be gone" 90 none_labeled "$NS" deploy,rs,pods,svc,cm,sa,pdb,hpa,cronjob,endpointslices "$sel"
wait_for "the endpoint's processes to end" 60 none_alive $pids
[ -z "$(agent_pids "$NS" analytics-)" ] || fail "the agent still runs analytics containers"
left=$(k -n "$NS" get all,cm,secret,sa,pdb,endpointslices -o name | grep -v -e '^secret/analytics-' -e '^secret/e2e-test-token' \
  -e '^secret/duckgate-ca$' -e '^configmap/kube-root-ca.crt$' -e '^serviceaccount/default$' || true)
[ -z "$left" ] || fail "left behind after deleting the endpoint: $left"
ok "endpoint deleted: no Deployment, ReplicaSet, pod, Service, ConfigMap, ServiceAccount, PDB, EndpointSlice or process remains (the user's Secrets, certificate and the namespace CA stay)"
[ -z "$(operator_forbidden)" ] || fail "the operator was refused something: $(operator_forbidden)"

# =================================================================================================
phase uninstall "helm uninstall leaves nothing behind"
op_pids=$(agent_pids "$RELEASE_NS" "$RELEASE-")
[ -n "$op_pids" ] || fail "no operator processes found"
h uninstall "$RELEASE" -n "$RELEASE_NS" --wait --timeout 2m >/dev/null || fail "helm uninstall"
wait_for "the operator processes to end" 60 none_alive $op_pids
wait_for "the release's pods to be gone" 60 no_pods "$RELEASE_NS"
rel="app.kubernetes.io/instance=$RELEASE"
wait_for "the CRDs to be gone" 60 no_duckgate_crds
left=$(k get clusterroles,clusterrolebindings,crd -l "$rel" -o name; k get all,cm,secret,sa,role,rolebinding,lease,pdb,networkpolicy,endpointslices -A -l "$rel" -o name)
[ -z "$left" ] || fail "left behind by helm uninstall: $left"
left=$(k -n "$RELEASE_NS" get all,cm,secret,sa,role,rolebinding,lease,pdb,endpointslices -o name |
  grep -v -e '^configmap/kube-root-ca.crt$' -e '^serviceaccount/default$' || true)
[ -z "$left" ] || fail "left in namespace $RELEASE_NS: $left"
# with the CRDs gone, so are the certificate and its Secret (the namespace CA has no owner)
wait_for "the certificate's Secret to be collected" 60 secret_gone "$NS" analytics-tls
wait_for "no container processes but the storage relays" 30 only_relays_run
ok "helm uninstall: no object of the release (CRDs, RBAC, Lease, Deployment, Services) and no operator process left"

# =================================================================================================
phase namespaced "scope.mode=namespace: the operator with a Role in one namespace only"
k create namespace e2e-team >/dev/null
k create namespace e2e-other >/dev/null
h install team charts/duckgate -n e2e-team --set scope.mode=namespace --set replicaCount=1 \
  --set leaderElection.enabled=false --set crds.keep=false --wait --timeout 2m >/dev/null || fail "helm install (namespace mode)"
[ -z "$(k get clusterroles,clusterrolebindings -l app.kubernetes.io/instance=team -o name)" ] ||
  fail "namespace mode installed cluster-wide RBAC"
for ns in e2e-team e2e-other; do
  k -n "$ns" apply -f examples/minimal/ >/dev/null
done
TEAM_TOKEN=$(add_token e2e-team minimal-tokens e2e)
k -n e2e-team wait --for=condition=Ready pge/minimal --timeout=120s >/dev/null || fail "namespace mode: endpoint Ready"
ca_of e2e-team minimal-tls "$W/team-ca.crt"
wait_for "the e2e-team Service in the agent's proxy" 20 svc_targets e2e-team minimal 1
wait_for "psql to the e2e-team endpoint" 30 sql "$W/team-ca.crt" "$(svc_addr e2e-team minimal)" "minimal.e2e-team.svc.$DOMAIN" "$TEAM_TOKEN" -c 'SELECT 1'
[ -z "$(k -n e2e-other get deploy,svc,secret -l app.kubernetes.io/managed-by=duckgate-operator -o name)" ] ||
  fail "namespace mode: the operator acted in another namespace"
[ -z "$(k -n e2e-other get pge minimal -o jsonpath='{.status}')" ] || fail "namespace mode: an endpoint elsewhere got a status"
[ -z "$(grep -hE 'forbidden: User [^ ]+ cannot' "$STATE"/state/logs/e2e-team_team-*/operator-*.log 2>/dev/null | head -n 3)" ] ||
  fail "namespace mode: the operator was refused something: $(grep -hE 'forbidden: User [^ ]+ cannot' "$STATE"/state/logs/e2e-team_team-*/operator-*.log | head -n 3)"
team_pids=$(agent_pids e2e-team)
h uninstall team -n e2e-team --wait --timeout 2m >/dev/null || fail "helm uninstall (namespace mode)"
wait_for "the CRDs to be gone" 60 no_duckgate_crds
wait_for "the namespace-mode processes to end" 60 none_alive $team_pids
left=$(k get clusterroles,clusterrolebindings,crd -l app.kubernetes.io/instance=team -o name
       k -n e2e-team get all,cm,secret,sa,role,rolebinding,lease,pdb -l app.kubernetes.io/instance=team -o name)
[ -z "$left" ] || fail "left behind by helm uninstall (namespace mode): $left"
wait_for "no container processes but the storage relays" 30 only_relays_run
ok "namespace mode: a Role in e2e-team suffices (endpoint Ready, psql), e2e-other is left alone, uninstall leaves nothing"

phase "" ""
echo "== e2e timings"
printf '  %s\n' "${TIMINGS[@]}"
echo "  total      $((SECONDS - E2E_START)) s"
echo "e2e passed"
