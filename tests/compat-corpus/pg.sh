# Sourced by capture.sh and record.sh (not run): a throwaway PostgreSQL 15 cluster from a fresh
# initdb, so that the OIDs of the schema's objects are the same every time.
#
#   corpus_pg_start STATE PORT USER DB [postgres -c options...]
#       initdb (superuser USER, trust, UTF8, C.UTF-8), start on 127.0.0.1:PORT, CREATE DATABASE
#       DB, load schema.pg.sql into it. Sets PGDIR (where the cluster lives), PG_BIN, PSQL (psql -X
#       as USER on that port) and stops the cluster on exit. `@PGDIR@` in the options is PGDIR.
#   corpus_pg_stop
#
# As root, postgres runs as the user `postgres`; when that user cannot enter STATE (often under a
# 0700 $HOME) the cluster lives in /var/lib/duckgate-<basename of STATE> and only what the caller
# copies out lands in STATE.
PG_BIN=/usr/lib/postgresql/15/bin
CORPUS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUNAS=()

corpus_pg_stop() {
  [ -n "${PGDIR:-}" ] && [ -f "$PGDIR/data/postmaster.pid" ] &&
    "${RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 || true
}

corpus_pg_start() {
  local state="$1" port="$2" user="$3" db="$4"
  shift 4
  [ -x "$PG_BIN/initdb" ] || { echo "needs PostgreSQL 15 (bash scripts/start-postgres.sh installs it)" >&2; exit 1; }
  mkdir -p "$state"
  PGDIR="$state"
  if [ "$(id -u)" = 0 ]; then
    RUNAS=(runuser -u postgres --)
    runuser -u postgres -- test -x "$state" || PGDIR="/var/lib/duckgate-$(basename "$state")"
  fi
  corpus_pg_stop
  rm -rf "$PGDIR/data" "$PGDIR/run" "$PGDIR/log"  # log: capture.sh's log_directory
  mkdir -p "$PGDIR/data" "$PGDIR/run"
  [ ${#RUNAS[@]} -eq 0 ] || chown postgres "$PGDIR" "$PGDIR/data" "$PGDIR/run"
  trap corpus_pg_stop EXIT
  # TZ: initdb writes the machine's time zone into postgresql.conf (answers show TimeZone)
  "${RUNAS[@]}" env TZ=Etc/UTC "$PG_BIN/initdb" -D "$PGDIR/data" -U "$user" -E UTF8 --locale=C.UTF-8 --auth=trust --no-sync >/dev/null
  "${RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -w -t 60 -l "$PGDIR/startup.log" start -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $PGDIR/run -c fsync=off -c synchronous_commit=off ${*//@PGDIR@/$PGDIR}" >/dev/null
  PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$user")
  PGAPPNAME=setup "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db" >/dev/null
  PGAPPNAME=setup "${PSQL[@]}" -d "$db" -f "$CORPUS_DIR/schema.pg.sql" >/dev/null
}
