#!/usr/bin/env bash
# Start a local gateway on the embedded DuckDB default: ./duckgate-data on 127.0.0.1:5432.
# Extra arguments go to `duckgate-gateway serve` (e.g. --listen 127.0.0.1:6543).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export CARGO_TARGET_DIR="$DUCKGATE_CACHE/target"
exec cargo run -q -p duckgate-gateway -- serve "$@"
