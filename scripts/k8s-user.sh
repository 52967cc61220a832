#!/usr/bin/env bash
# Mint a kubeconfig for a test user of the start-k8s.sh control plane: a client certificate from
# its CA for user NAME in the given groups (none: the user can do nothing until RBAC allows it).
#   scripts/k8s-user.sh NAME [GROUP...]
# Prints the path of the kubeconfig ($DUCKGATE_CACHE/k8s-run/users/NAME.kubeconfig) on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/k8s-env.sh

[ $# -ge 1 ] || { echo "usage: $0 NAME [GROUP...]" >&2; exit 2; }
name="$1"; shift
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._:@-]*$ ]] || { echo "unusable user name: $name" >&2; exit 2; }
[ -s "$K8S_PKI/ca.key" ] || { echo "no CA yet: run scripts/start-k8s.sh first" >&2; exit 1; }
groups=$(IFS=,; echo "$*")
mkdir -p "$K8S_PKI/users" "$K8S_RUN/users"
# The certificate files live under pki/users/ (k8s_leaf and k8s_kubeconfig name them by NAME).
k8s_leaf "users/$name" "$name" "$groups" client
k8s_kubeconfig "$K8S_RUN/users/$name.kubeconfig" "users/$name"
echo "$K8S_RUN/users/$name.kubeconfig"
