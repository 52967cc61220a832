#!/usr/bin/env bash
# shellcheck disable=SC2034  # the args_* arrays are read by name, in ensure()
# Start a real, node-less Kubernetes control plane for the tests, on 127.0.0.1 only: etcd,
# kube-apiserver (RBAC, client certificates, service-account tokens; ServiceAccount admission off
# so Pods need no ServiceAccount), kube-controller-manager (garbage collection, namespace deletion,
# Deployments -> ReplicaSets -> Pods, ...) and kube-scheduler (binds Pods to Node objects a test
# creates; there are no kubelets, so Pods never run). Binaries come from install-k8s-tools.sh
# (built on first use: long). Idempotent: components that run with the same binary and flags and
# answer their health check are reused; the others are (re)started. etcd keeps its data across
# restarts; stop-k8s.sh stops everything, `DUCKGATE_K8S_RESET=1` here wipes the data first.
#
# Files in $DUCKGATE_CACHE/k8s-run (DUCKGATE_K8S_RUN): admin.kubeconfig (user admin, group
# system:masters), operator.kubeconfig (user duckgate-operator, no groups and so no rights until a
# test binds RBAC to User duckgate-operator), pki/ (the test CA, made once; scripts/k8s-user.sh
# mints more users), <component>.log, <component>.pid, etcd/ (data), bin (a symlink to the
# binaries, kubectl and helm included).
# Ports (env): DUCKGATE_K8S_API_PORT 56443, DUCKGATE_K8S_ETCD_PORT 52379,
# DUCKGATE_K8S_ETCD_PEER_PORT 52380, DUCKGATE_K8S_KCM_PORT 56257, DUCKGATE_K8S_SCHED_PORT 56259.
# Node objects that tests create stay as the tests make them: the node lifecycle controller (which
# would taint a Node without a kubelet unreachable after 50 s) is off (DUCKGATE_K8S_KCM_CONTROLLERS,
# default "*,-node-lifecycle-controller"), and so is the TaintNodesByCondition admission plugin
# (which gives each new Node a not-ready taint that only that controller removes)
# (DUCKGATE_K8S_DISABLE_ADMISSION, default "ServiceAccount,TaintNodesByCondition"). A Node with
# status.allocatable (cpu, memory, pods) gets Pods bound by the scheduler. No kubelet ever confirms
# a bound Pod's deletion, so such a Pod (and its namespace) stays Terminating: delete it with grace
# period 0, or delete its Node (the pod garbage collector then removes it after ~40 s). Pods that
# are not bound are deleted at once.
# Prints the path of admin.kubeconfig on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/k8s-env.sh
ensure_apt_packages curl:curl openssl:openssl

BIN=$(bash scripts/install-k8s-tools.sh | tail -n 1)
KCM_CONTROLLERS="${DUCKGATE_K8S_KCM_CONTROLLERS:-*,-node-lifecycle-controller}"
DISABLE_ADMISSION="${DUCKGATE_K8S_DISABLE_ADMISSION:-ServiceAccount,TaintNodesByCondition}"

mkdir -p "$K8S_RUN" "$K8S_PKI"
chmod 700 "$K8S_PKI"
# One start at a time: parallel callers wait here and then find the control plane running.
exec 9>"$K8S_RUN/.lock"
flock 9
if [ -n "${DUCKGATE_K8S_RESET:-}" ]; then
  bash scripts/stop-k8s.sh
  rm -rf "$K8S_RUN/etcd"
fi
ln -sfn "$BIN" "$K8S_RUN/bin"

# --- certificates and kubeconfigs (the CA and the service-account key are made once) ---
k8s_ca ca
k8s_ca front-proxy-ca  # the aggregation layer's: kube-apiserver -> extension apiservers
if [ ! -s "$K8S_PKI/sa.key" ] || [ ! -s "$K8S_PKI/sa.pub" ]; then
  openssl genrsa -out "$K8S_PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$K8S_PKI/sa.key" -pubout -out "$K8S_PKI/sa.pub" 2>/dev/null
fi
k8s_leaf kube-apiserver kube-apiserver "" server 127.0.0.1 localhost 10.0.0.1 kubernetes \
  kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local
k8s_leaf admin admin system:masters client
k8s_leaf kube-controller-manager system:kube-controller-manager "" client
k8s_leaf kube-scheduler system:kube-scheduler "" client
k8s_leaf duckgate-operator duckgate-operator "" client
K8S_LEAF_CA=front-proxy-ca k8s_leaf front-proxy-client front-proxy-client "" client
k8s_kubeconfig "$K8S_RUN/admin.kubeconfig" admin
k8s_kubeconfig "$K8S_RUN/operator.kubeconfig" duckgate-operator
k8s_kubeconfig "$K8S_RUN/kube-controller-manager.kubeconfig" kube-controller-manager
k8s_kubeconfig "$K8S_RUN/kube-scheduler.kubeconfig" kube-scheduler

# --- how each component runs and how it is checked ---
args_etcd=(
  --name=duckgate-test --data-dir="$K8S_RUN/etcd"
  --listen-client-urls="http://127.0.0.1:$K8S_ETCD_PORT"
  --advertise-client-urls="http://127.0.0.1:$K8S_ETCD_PORT"
  --listen-peer-urls="http://127.0.0.1:$K8S_ETCD_PEER_PORT"
  --initial-advertise-peer-urls="http://127.0.0.1:$K8S_ETCD_PEER_PORT"
  --initial-cluster="duckgate-test=http://127.0.0.1:$K8S_ETCD_PEER_PORT"
  --unsafe-no-fsync --log-level=warn
)
args_kube_apiserver=(
  --etcd-servers="http://127.0.0.1:$K8S_ETCD_PORT"
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$K8S_API_PORT"
  --endpoint-reconciler-type=none # it refuses a loopback address; nothing in the tests needs it
  --cert-dir="$K8S_RUN/apiserver-certs"
  --tls-cert-file="$K8S_PKI/kube-apiserver.crt" --tls-private-key-file="$K8S_PKI/kube-apiserver.key"
  --client-ca-file="$K8S_PKI/ca.crt"
  --requestheader-client-ca-file="$K8S_PKI/front-proxy-ca.crt"
  --requestheader-allowed-names=front-proxy-client
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group
  --requestheader-extra-headers-prefix=X-Remote-Extra-
  --proxy-client-cert-file="$K8S_PKI/front-proxy-client.crt"
  --proxy-client-key-file="$K8S_PKI/front-proxy-client.key"
  --authorization-mode=RBAC
  --service-account-issuer=https://kubernetes.default.svc.cluster.local
  --service-account-key-file="$K8S_PKI/sa.pub"
  --service-account-signing-key-file="$K8S_PKI/sa.key"
  --service-cluster-ip-range=10.0.0.0/24
  --allow-privileged=true
  --disable-admission-plugins="$DISABLE_ADMISSION"
  --profiling=false --v=1
)
args_kube_controller_manager=(
  --kubeconfig="$K8S_RUN/kube-controller-manager.kubeconfig"
  --authentication-kubeconfig="$K8S_RUN/kube-controller-manager.kubeconfig"
  --authorization-kubeconfig="$K8S_RUN/kube-controller-manager.kubeconfig"
  --bind-address=127.0.0.1 --secure-port="$K8S_KCM_PORT" --cert-dir="$K8S_RUN/kcm-certs"
  --leader-elect=false
  --controllers="$KCM_CONTROLLERS"
  --use-service-account-credentials=true
  --service-account-private-key-file="$K8S_PKI/sa.key"
  --root-ca-file="$K8S_PKI/ca.crt"
  --cluster-signing-cert-file="$K8S_PKI/ca.crt" --cluster-signing-key-file="$K8S_PKI/ca.key"
  --service-cluster-ip-range=10.0.0.0/24
  --flex-volume-plugin-dir="$K8S_RUN/flexvolume" # its default is under /usr/libexec
  --profiling=false --v=1
)
args_kube_scheduler=(
  --kubeconfig="$K8S_RUN/kube-scheduler.kubeconfig"
  --authentication-kubeconfig="$K8S_RUN/kube-scheduler.kubeconfig"
  --authorization-kubeconfig="$K8S_RUN/kube-scheduler.kubeconfig"
  --bind-address=127.0.0.1 --secure-port="$K8S_SCHED_PORT" --cert-dir="$K8S_RUN/scheduler-certs"
  --leader-elect=false
  --profiling=false --v=1
)

admin_curl() {
  curl -fsS --max-time 3 --cacert "$K8S_PKI/ca.crt" \
    --cert "$K8S_PKI/admin.crt" --key "$K8S_PKI/admin.key" "$@"
}
healthy() {
  local out
  case "$1" in
    etcd) out=$(curl -fsS --max-time 3 "http://127.0.0.1:$K8S_ETCD_PORT/health" 2>/dev/null) &&
            [[ "$out" == *'"health":"true"'* ]] ;;
    kube-apiserver) out=$(admin_curl "$K8S_SERVER/readyz" 2>/dev/null) && [ "$out" = ok ] ;;
    kube-controller-manager) out=$(curl -fsSk --max-time 3 "https://127.0.0.1:$K8S_KCM_PORT/healthz" 2>/dev/null) &&
            [ "$out" = ok ] ;;
    kube-scheduler) out=$(curl -fsSk --max-time 3 "https://127.0.0.1:$K8S_SCHED_PORT/healthz" 2>/dev/null) &&
            [ "$out" = ok ] ;;
  esac
}
# wait_healthy NAME SECONDS: until NAME answers, while its process lives.
wait_healthy() {
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    healthy "$1" && return 0
    k8s_pid "$1" >/dev/null || return 1
    sleep 0.3
  done
  return 1
}

# ensure NAME TIMEOUT: reuse NAME when it runs with exactly the wanted command line and answers;
# otherwise stop whatever runs under that pid file and start it anew.
ensure() {
  local name="$1" timeout="$2" var="args_${1//-/_}[@]" pid want have
  local argv=("$BIN/$name" "${!var}")
  want=$(printf '%s\n' "${argv[@]}")
  if pid=$(k8s_pid "$name"); then
    have=$({ tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null || true)
    if [ "$have" = "$want" ] && wait_healthy "$name" "$timeout"; then
      echo "$name: reusing pid $pid" >&2
      return 0
    fi
    echo "$name: pid $pid runs with other flags or does not answer: restarting it" >&2
    k8s_stop "$name"
  fi
  [ ! -f "$K8S_RUN/$name.log" ] || mv -f "$K8S_RUN/$name.log" "$K8S_RUN/$name.log.1"
  # setsid: the component outlives this script and the test command's process group.
  # (9>&-: the lock must not stay held by the component.)
  setsid "${argv[@]}" >"$K8S_RUN/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$K8S_RUN/$name.pid"
  if ! wait_healthy "$name" "$timeout"; then
    echo "$name did not become healthy in $timeout s; the end of $K8S_RUN/$name.log:" >&2
    tail -n 30 "$K8S_RUN/$name.log" >&2
    exit 1
  fi
  echo "$name: started, pid $(cat "$K8S_RUN/$name.pid")" >&2
}

ensure etcd 30
ensure kube-apiserver 120
ensure kube-controller-manager 60
ensure kube-scheduler 60

# Ready for tests: the default namespace exists and the controller manager's service-account
# controller has made its default ServiceAccount (a sign that the controllers work).
kubectl_admin() { "$BIN/kubectl" --kubeconfig "$K8S_RUN/admin.kubeconfig" "$@"; }
for _ in $(seq 1 200); do
  kubectl_admin -n default get serviceaccount default >/dev/null 2>&1 && break
  sleep 0.3
done
kubectl_admin -n default get serviceaccount default >/dev/null ||
  { echo "the default ServiceAccount did not appear; see $K8S_RUN/kube-controller-manager.log" >&2; exit 1; }
echo "$K8S_RUN/admin.kubeconfig"
