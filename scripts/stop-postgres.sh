#!/usr/bin/env bash
# Stop the throwaway PostgreSQL cluster of start-postgres.sh (its data is kept). No-op when down.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
[ -x /usr/lib/postgresql/15/bin/pg_ctl ] || exit 0
PG_NO_USERADD=1 source scripts/pg-env.sh
if pg_running; then
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null
fi
