#!/usr/bin/env bash
# Stop the control plane of start-k8s.sh (scheduler, controller manager, apiserver, then etcd).
# etcd's data, the CA and the kubeconfigs stay: start-k8s.sh carries on from them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/k8s-env.sh

for name in kube-scheduler kube-controller-manager kube-apiserver etcd; do
  k8s_stop "$name"
done
