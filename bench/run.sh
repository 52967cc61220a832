#!/usr/bin/env bash
# The benchmark driver: installs what it needs (PostgreSQL 15 + pgbench, the DuckDB extensions),
# builds the release gateway and bench binaries, then runs the workloads (all, or those named)
# and writes bench/results.json and docs/benchmarks.md.
# Usage: bench/run.sh [--quick] [--runs N] [--keep-postgres] [W1 W2 W3 W4 W5 W6 W7 LOAD]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

# W5 holds 5,000 client and 5,000 server sockets in this process tree.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# PostgreSQL 15 (server, psql, pgbench) from Debian, without the cluster its package would
# create and start on 5432; openssl makes the certificate both servers present.
if [ ! -x /usr/lib/postgresql/15/bin/pgbench ]; then
  conf=/etc/postgresql-common/createcluster.conf
  mkdir -p "$(dirname "$conf")"
  grep -qs '^create_main_cluster' "$conf" || echo 'create_main_cluster = false' >>"$conf"
  ensure_apt_packages postgresql-15:/usr/lib/postgresql/15/bin/pgbench
fi
ensure_apt_packages openssl:openssl python3:python3

# One release target dir for the gateway and the bench binaries: DuckDB compiles once there.
export DUCKGATE_BENCH_TARGET="${DUCKGATE_BENCH_TARGET:-$DUCKGATE_CACHE/target-release}"
case " $* " in *" --report-only "*) ;; *)
  CARGO_TARGET_DIR="$DUCKGATE_BENCH_TARGET" cargo build --release -q \
    -p duckgate-gateway -p duckgate-bench
  DUCKGATE_EXTENSION_DIR="$(scripts/install-extensions.sh | tail -n 1)"
  export DUCKGATE_EXTENSION_DIR
  ;;
esac
exec python3 bench/driver.py "$@"
