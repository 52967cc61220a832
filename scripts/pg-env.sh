# shellcheck shell=bash disable=SC2034
# Shared settings of the throwaway PostgreSQL 15 cluster; sourced by start-/stop-postgres.sh.
PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT="${DUCKGATE_PG_PORT:-54329}"
PG_STATE="$DUCKGATE_CACHE/pg"            # passwords and pgpass (read by tests), always here
PG_DATA="${DUCKGATE_PG_DIR:-$PG_STATE/data}"
mkdir -p "$PG_STATE"

# postgres refuses to run as root: as root, run it as a system user. An existing cluster keeps
# the owner it was created with; otherwise prefer Debian's `postgres`, else create duckgate-pg.
PG_USER="$(id -un)"
pg_owner() {  # the user to run postgres as for the data directory $1
  if [ -d "$1" ]; then stat -c %U "$1"
  elif id postgres >/dev/null 2>&1; then echo postgres
  else  # (stop-postgres.sh sets PG_NO_USERADD: stopping creates nothing)
    id duckgate-pg >/dev/null 2>&1 || [ -n "${PG_NO_USERADD:-}" ] ||
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin duckgate-pg
    echo duckgate-pg
  fi
}
if [ "$(id -u)" = 0 ]; then
  PG_USER="$(pg_owner "$PG_DATA")"
  # That user must reach the data directory; $HOME is often 0700 (/root), and opening it up
  # would weaken the machine, so the cluster then lives under /var/lib instead.
  mkdir -p "$(dirname "$PG_DATA")"
  if ! runuser -u "$PG_USER" -- test -x "$(dirname "$PG_DATA")"; then
    [ -z "${DUCKGATE_PG_DIR:-}" ] || echo "$PG_USER cannot reach $DUCKGATE_PG_DIR; using /var/lib/duckgate-pg/data" >&2
    PG_DATA=/var/lib/duckgate-pg/data
    PG_USER="$(pg_owner "$PG_DATA")"
  fi
fi
PG_HOME="$(dirname "$PG_DATA")"         # data/, run/ (private socket dir), postgres.log
PG_SOCK="$PG_HOME/run"

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi; }
pg_running() { [ -f "$PG_DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }
