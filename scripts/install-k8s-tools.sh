#!/usr/bin/env bash
# Build a real Kubernetes control plane for the tests from Go modules: kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl (all of the k8s.io/kubernetes version pinned in
# tools/k8s/go.mod), etcd (go.etcd.io/etcd/server/v3, same module) and helm, into
# $DUCKGATE_CACHE/k8s-bin/<k8s-version>/. Only missing binaries are built; the Go module and build
# caches live in $DUCKGATE_CACHE/go (~6 GB), so a second run is instant. A cold build takes 12-21
# minutes on 2 cores (module downloads included). Also makes sure openssl (start-k8s.sh makes certificates with it) and a kubectl
# on PATH (Debian's kubernetes-client; it is old, prefer the bin dir's kubectl, which matches the
# apiserver) are there.
# Env: DUCKGATE_GO_BUILD_P (go build -p, default: number of cores).
# Prints the bin dir on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

HELM_VERSION=v3.22.0
TOOLS=tools/k8s

ensure_apt_packages openssl:openssl kubernetes-client:kubectl

command -v go >/dev/null 2>&1 || { echo "go is not installed (need go >= 1.26)" >&2; exit 1; }
export GOMODCACHE="$DUCKGATE_CACHE/go/mod" GOCACHE="$DUCKGATE_CACHE/go/build"
# The machine's Go only, static binaries, no VCS stamping (the module cache has no .git).
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" CGO_ENABLED=0 GOFLAGS=-buildvcs=false
mkdir -p "$GOMODCACHE" "$GOCACHE"

# Versions come from the tools module, so go.mod is the one place to change them.
modver() { (cd "$TOOLS" && go list -m -f '{{.Version}}' "$1"); }
K8S_VERSION=$(modver k8s.io/kubernetes)
ETCD_VERSION=$(modver go.etcd.io/etcd/server/v3)
BIN="$DUCKGATE_CACHE/k8s-bin/$K8S_VERSION"
mkdir -p "$BIN"
# One build at a time (tests may call this, through start-k8s.sh, in parallel).
exec 9>"$BIN/.lock"
flock 9

# A stamp of what the binaries were built from: when go.mod/go.sum or the helm version change,
# the old binaries in this dir are dropped and rebuilt.
stamp=$(cat "$TOOLS/go.mod" "$TOOLS/go.sum" <(echo "helm $HELM_VERSION; ldflags 1") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$BIN/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -f "$BIN"/kube-apiserver "$BIN"/kube-controller-manager "$BIN"/kube-scheduler \
    "$BIN"/kubectl "$BIN"/etcd "$BIN"/helm
  echo "$stamp" >"$BIN/.stamp"
fi

jobs="${DUCKGATE_GO_BUILD_P:-$(nproc)}"
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
k8s_minor=$(echo "$K8S_VERSION" | cut -d. -f2)
# Kubernetes' own release build (hack/lib/version.sh) sets these in both version packages.
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

# Build into a temporary dir and move into place, so an interrupted build leaves nothing half made.
tmp=$(mktemp -d "$BIN/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

declare -A pkgs=(
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
)
missing=()
for name in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [ -x "$BIN/$name" ] || missing+=("${pkgs[$name]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "building ${missing[*]##*/} $K8S_VERSION (go build -p $jobs; long on a cold cache)" >&2
  # One go build for all of them: they share most packages.
  (cd "$TOOLS" && go build -p "$jobs" -ldflags "$k8s_ldflags" -o "$tmp/" "${missing[@]}")
  for p in "${missing[@]}"; do mv "$tmp/${p##*/}" "$BIN/"; done
fi

if [ ! -x "$BIN/etcd" ]; then
  echo "building etcd $ETCD_VERSION" >&2
  (cd "$TOOLS" && go build -p "$jobs" -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
  mv "$tmp/etcd" "$BIN/"
fi

if [ ! -x "$BIN/helm" ]; then
  echo "building helm $HELM_VERSION" >&2
  # helm is a module of its own without replace lines: go install works. Its Makefile sets the
  # version and the Kubernetes version it assumes for `helm template`/lint from its client-go.
  hv=helm.sh/helm/v3
  helm_ldflags="-s -w -X $hv/internal/version.version=$HELM_VERSION -X $hv/internal/version.gitTreeState=clean"
  helm_ldflags+=" -X $hv/pkg/chartutil.k8sVersionMajor=1 -X $hv/pkg/chartutil.k8sVersionMinor=$k8s_minor"
  helm_ldflags+=" -X $hv/pkg/lint/rules.k8sVersionMajor=1 -X $hv/pkg/lint/rules.k8sVersionMinor=$k8s_minor"
  (cd "$tmp" && GOBIN="$tmp" go install -p "$jobs" -ldflags "$helm_ldflags" "$hv/cmd/helm@$HELM_VERSION")
  mv "$tmp/helm" "$BIN/"
fi

echo "$BIN"
