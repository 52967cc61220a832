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
# A second attempt reuses what the first one started: on a loaded machine a component can take
# longer than start-k8s.sh waits for it.
e2e_k8s_start() {
  local out="" reset="${DUCKGATE_E2E_FRESH:-}" attempt
  for attempt in 1 2; do
    # (8>&-: the components run on; they must not hold e2e_lock's file.)
    if out=$(DUCKGATE_K8S_RESET="$reset" bash scripts/start-k8s.sh 8>&- | tail -n 1) && [ "$out" = "$E2E_KUBECONFIG" ]; then
      return 0
    fi
    echo "the e2e control plane did not start (attempt $attempt)" >&2
    reset=""
  done
  return 1
}

e2e_k8s_stop() { bash scripts/stop-k8s.sh; }

# e2e_lock: one user of the e2e control plane at a time (chart checks, scenarios), across test
# runs of several people on this machine. Held on fd 8 until the calling script exits.
e2e_lock() {
  exec 8>"$DUCKGATE_CACHE/e2e.lock"
  if ! flock -n 8; then
    echo "waiting for another run that uses the e2e control plane ($DUCKGATE_CACHE/e2e.lock)" >&2
    flock 8
  fi
}

k() { "$E2E_BIN/kubectl" --kubeconfig "$E2E_KUBECONFIG" "$@"; }
h() { "$E2E_BIN/helm" --kubeconfig "$E2E_KUBECONFIG" "$@"; }
