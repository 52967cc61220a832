# shellcheck shell=bash
# The e2e control plane: scripts/start-k8s.sh with its own run directory and ports, so the chart
# (CRDs, ClusterRoles) and the e2e scenarios never touch the control plane the operator's
# integration tests use. Sourced after scripts/lib.sh.
#
# One difference from the default: the ServiceAccount admission plugin is on, so pods get their
# projected API token volume (kube-api-access-*) as in a real cluster, and the operator that the
# chart installs runs with its ServiceAccount's rights, nothing else.
export DUCKGATE_K8S_RUN="${DUCKGATE_E2E_K8S_RUN:-$DUCKGATE_CACHE/k8s-e2e}"
export DUCKGATE_K8S_API_PORT="${DUCKGATE_E2E_API_PORT:-57443}"
export DUCKGATE_K8S_ETCD_PORT="${DUCKGATE_E2E_ETCD_PORT:-53379}"
export DUCKGATE_K8S_ETCD_PEER_PORT="${DUCKGATE_E2E_ETCD_PEER_PORT:-53380}"
export DUCKGATE_K8S_KCM_PORT="${DUCKGATE_E2E_KCM_PORT:-57257}"
export DUCKGATE_K8S_SCHED_PORT="${DUCKGATE_E2E_SCHED_PORT:-57259}"
export DUCKGATE_K8S_DISABLE_ADMISSION="${DUCKGATE_E2E_DISABLE_ADMISSION:-TaintNodesByCondition}"
E2E_KUBECONFIG="$DUCKGATE_K8S_RUN/admin.kubeconfig"
E2E_BIN="$DUCKGATE_K8S_RUN/bin"

# e2e_k8s_start: start (or reuse) the e2e control plane; DUCKGATE_E2E_FRESH=1 wipes etcd first.
e2e_k8s_start() {
  local out
  if [ -n "${DUCKGATE_E2E_FRESH:-}" ]; then
    out=$(DUCKGATE_K8S_RESET=1 bash scripts/start-k8s.sh | tail -n 1)
  else
    out=$(bash scripts/start-k8s.sh | tail -n 1)
  fi
  [ "$out" = "$E2E_KUBECONFIG" ] || { echo "start-k8s.sh printed $out, expected $E2E_KUBECONFIG" >&2; return 1; }
}

e2e_k8s_stop() { bash scripts/stop-k8s.sh; }

k() { "$E2E_BIN/kubectl" --kubeconfig "$E2E_KUBECONFIG" "$@"; }
h() { "$E2E_BIN/helm" --kubeconfig "$E2E_KUBECONFIG" "$@"; }
