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
# The gateway and the operator build in separate invocations so that the operator's
# dependencies never change the features (and so the hash) of the cached DuckDB build.
cargo clippy -p duckgate-gateway -p duckgate-config --all-targets -- -D warnings
cargo clippy -p duckgate-operator --all-targets -- -D warnings

echo "== gateway + config"
cargo test -p duckgate-gateway -p duckgate-config
echo "== operator"
cargo test -p duckgate-operator
