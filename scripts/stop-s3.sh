#!/usr/bin/env bash
# Stop the moto S3 server of start-s3.sh (its objects are lost: moto keeps them in memory).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

PIDFILE="$DUCKGATE_CACHE/s3/moto-${DUCKGATE_S3_PORT:-59000}.pid"
pid=$(cat "$PIDFILE" 2>/dev/null) || exit 0
# Only signal the process if the pid still belongs to moto (pids are reused).
alive() { grep -qs moto_server "/proc/$pid/cmdline"; }  # (a zombie has no cmdline)
if alive; then
  kill "$pid"
  for _ in $(seq 1 50); do alive || break; sleep 0.1; done
  if alive; then kill -9 "$pid"; fi
fi
rm -f "$PIDFILE"
