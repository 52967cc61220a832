#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 cluster for the storage tests (the DuckLake catalog), on
# 127.0.0.1:${DUCKGATE_PG_PORT:-54329} only, its unix socket in a private directory.
# Roles: `duckgate` (superuser) and `ducklake_rw` (not superuser; owns database
# ducklake_catalog), both with generated passwords in $DUCKGATE_CACHE/pg/<role>.password
# and in $DUCKGATE_CACHE/pg/pgpass (for PGPASSFILE). Idempotent; a running cluster is left as is.
# Prints `host=127.0.0.1 port=... user=duckgate dbname=ducklake_catalog` on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
# Debian's postgresql-15 keeps initdb off PATH, so check the versioned binary itself. Its
# install would also create and start a cluster on 5432 (the gateway's default port): opt out.
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  conf=/etc/postgresql-common/createcluster.conf
  mkdir -p "$(dirname "$conf")"
  grep -qs '^create_main_cluster' "$conf" || echo 'create_main_cluster = false' >>"$conf"
  ensure_apt_packages postgresql-15:/usr/lib/postgresql/15/bin/initdb
fi
source scripts/pg-env.sh

conninfo="host=127.0.0.1 port=$PG_PORT user=duckgate dbname=ducklake_catalog"
# Running means answering too: a postmaster that is starting, or was killed a moment ago,
# still looks alive to pg_ctl. Wait (10 s at most) for it to answer or to be gone.
for _ in $(seq 1 50); do
  pg_running || break
  "$PG_BIN/pg_isready" -q -h "$PG_SOCK" -p "$PG_PORT" -U duckgate -d postgres &&
    { echo "$conninfo"; exit 0; }
  sleep 0.2
done

# Passwords are generated once and kept, so tests and earlier catalogs stay valid.
umask 077
for role in duckgate ducklake_rw; do
  [ -s "$PG_STATE/$role.password" ] ||
    python3 -c 'import secrets; print(secrets.token_hex(16))' >"$PG_STATE/$role.password"
done
pw_su=$(cat "$PG_STATE/duckgate.password"); pw_rw=$(cat "$PG_STATE/ducklake_rw.password")
printf '127.0.0.1:*:*:duckgate:%s\n127.0.0.1:*:*:ducklake_rw:%s\n' "$pw_su" "$pw_rw" \
  >"$PG_STATE/pgpass"
umask 022

mkdir -p "$PG_DATA" "$PG_SOCK"
touch "$PG_HOME/postgres.log"
[ "$(id -u)" = 0 ] && chown "$PG_USER" "$PG_DATA" "$PG_SOCK" "$PG_HOME/postgres.log"
chmod 700 "$PG_DATA" "$PG_SOCK"

if [ ! -f "$PG_DATA/PG_VERSION" ]; then
  # Unix socket: trust (only this user and root can enter the socket directory);
  # TCP: passwords (SCRAM) for every role.
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U duckgate -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >/dev/null
fi

# Settings go on the command line so a changed port needs no re-initdb. fsync and friends are
# off: the cluster is disposable and the tests want speed, not durability.
as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_HOME/postgres.log" -w -t 60 start -o \
  "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_SOCK -c fsync=off \
   -c synchronous_commit=off -c full_page_writes=off" >/dev/null ||
  { tail -n 20 "$PG_HOME/postgres.log" >&2; exit 1; }

# Roles and database, made idempotent so a half-finished earlier setup is completed.
"$PG_BIN/psql" -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U duckgate -d postgres \
  -v pw_su="$pw_su" -v pw_rw="$pw_rw" >/dev/null <<'SQL'
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ducklake_rw') AS need_role \gset
\if :need_role
CREATE ROLE ducklake_rw LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
\endif
ALTER ROLE duckgate PASSWORD :'pw_su';
ALTER ROLE ducklake_rw PASSWORD :'pw_rw';
SELECT NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ducklake_catalog') AS need_db \gset
\if :need_db
CREATE DATABASE ducklake_catalog OWNER ducklake_rw;
\endif
SQL
echo "$conninfo"
