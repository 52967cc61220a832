#!/usr/bin/env bash
# The project's test command: installs what the tests need (idempotently), then runs them.
# Slow things are cached under $HOME/.cache/duckgate (the cargo target dir with DuckDB).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_apt_packages postgresql-client:psql
export CARGO_TARGET_DIR="$DUCKGATE_CACHE/target"

echo "== rustfmt / clippy"
cargo fmt --all -- --check
# The gateway and the operator build in separate invocations and target dirs so that the
# operator's dependencies never change the features (and so the hash) of the cached DuckDB build.
cargo clippy -p duckgate-gateway -p duckgate-config --all-targets -- -D warnings
CARGO_TARGET_DIR="$DUCKGATE_CACHE/target-operator" cargo clippy -p duckgate-operator --all-targets -- -D warnings

echo "== real components for the storage tests"
# DuckDB extensions from PyPI, PostgreSQL 15 (DuckLake catalog) and an S3 server, on loopback.
DUCKGATE_EXTENSION_DIR="$(bash scripts/install-extensions.sh | tail -n 1)"
bash scripts/start-postgres.sh | tail -n 1
DUCKGATE_TEST_S3_ENDPOINT="$(bash scripts/start-s3.sh | tail -n 1)"
export DUCKGATE_EXTENSION_DIR DUCKGATE_TEST_S3_ENDPOINT
export DUCKGATE_TEST_PG_PORT="${DUCKGATE_PG_PORT:-54329}"
export DUCKGATE_TEST_PG_PASSWORD_FILE="$DUCKGATE_CACHE/pg/ducklake_rw.password"

echo "== gateway + config"
cargo test -p duckgate-gateway -p duckgate-config
echo "== client compatibility (psycopg2/3, asyncpg, SQLAlchemy+pandas, node-postgres, pgx, lib/pq, pgJDBC)"
bash tests/clients/run.sh
echo "== client introspection corpus (tests/compat-corpus: 368 captured and published queries)"
# A ratchet: fails when fewer corpus queries answer with PostgreSQL's row count, or with its
# whole content (column names and rows, tests/compat-corpus/README.md), or fewer entries that list
# PostgreSQL's own objects pass their differs-by-construction check, than recorded.
(cd tests/compat-corpus && python3 -m doctest content.py)
"$DUCKGATE_CACHE/clients/venv/bin/python" tests/compat-corpus/run.py --out - --min-same-rows 312 --min-same-content 306 --min-by-construction 61 > /dev/null
echo "== operator"
# A real control plane (etcd, kube-apiserver, kube-controller-manager; binaries built once and
# cached) for the operator's integration tests; without DUCKGATE_TEST_KUBECONFIG they skip.
bash scripts/install-k8s-tools.sh | tail -n 1
DUCKGATE_TEST_KUBECONFIG="$(bash scripts/start-k8s.sh | tail -n 1)"
export DUCKGATE_TEST_KUBECONFIG
CARGO_TARGET_DIR="$DUCKGATE_CACHE/target-operator" cargo test -p duckgate-operator

echo "== chart: helm lint, helm template, server-side dry-run (e2e control plane)"
# A control plane of its own (e2e/env.sh: other ports and run dir), so the chart's CRDs and
# ClusterRoles never meet the operator tests' control plane.
bash e2e/chart-check.sh
echo "== e2e: chart + operator + gateways on the e2e control plane with the node agent (e2e/README.md)"
bash e2e/run.sh
