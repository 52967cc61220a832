#!/usr/bin/env bash
# Client compatibility suite (issue #5): real PostgreSQL drivers in Python, Node.js, Go and Java
# against one gateway (TLS verify-full, token as the password via SCRAM). Prints a matrix and
# exits non-zero when a required check fails. A GAP is a catalog-introspection check (queries
# the drivers send to pg_catalog on their own) that fails: listed, never counted as a pass.
# Driver libraries are installed idempotently under $DUCKGATE_CACHE/clients.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
HERE="$PWD/tests/clients"
CL="$DUCKGATE_CACHE/clients"
mkdir -p "$CL/bin"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$DUCKGATE_CACHE/target}"
started=$(date +%s)

# ---------------------------------------------------------------- 1. driver libraries
PY_REQS="psycopg2-binary==2.9.13 psycopg[binary]==3.3.9 asyncpg==0.32.0 SQLAlchemy==2.1.9 pandas==3.1.1"
if [ "$(cat "$CL/venv/.reqs" 2>/dev/null)" != "$PY_REQS" ]; then
  echo "== installing Python drivers into $CL/venv"
  python3 -m venv "$CL/venv"
  # shellcheck disable=SC2086
  "$CL/venv/bin/pip" install -q $PY_REQS
  echo "$PY_REQS" > "$CL/venv/.reqs"
fi
# dbt in a venv of its own: its pins (protobuf, networkx, …) stay away from the drivers'
DBT_REQS="dbt-core==1.9.11 dbt-postgres==1.9.1"
if [ "$(cat "$CL/venv-dbt/.reqs" 2>/dev/null)" != "$DBT_REQS" ]; then
  echo "== installing dbt into $CL/venv-dbt"
  python3 -m venv "$CL/venv-dbt"
  "$CL/venv-dbt/bin/pip" install -q $DBT_REQS
  echo "$DBT_REQS" > "$CL/venv-dbt/.reqs"
fi
NODE_PG=8.23.1
if [ "$(node -p "require('$CL/node/node_modules/pg/package.json').version" 2>/dev/null)" != "$NODE_PG" ]; then
  echo "== installing node-postgres into $CL/node"
  mkdir -p "$CL/node"
  (cd "$CL/node" && npm install --silent --no-audit --no-fund --no-save "pg@$NODE_PG" >/dev/null)
fi
PGJDBC="$CL/jars/postgresql-42.7.14.jar"
if [ ! -f "$PGJDBC" ]; then
  echo "== fetching pgJDBC into $CL/jars"
  mvn -B -q -f "$HERE/java/pom.xml" -Dmaven.repo.local="$CL/m2" dependency:copy-dependencies \
    -DoutputDirectory="$CL/jars"
fi
echo "== building the Go client program (pgx v5, lib/pq)"
(cd "$HERE/go" && GOMODCACHE="$CL/gomodcache" GOFLAGS=-mod=mod go build -o "$CL/bin/go-clients" .)

# ---------------------------------------------------------------- 2. one gateway
GATEWAY="${DUCKGATE_GATEWAY_BIN:-}"
if [ -z "$GATEWAY" ]; then
  cargo build -q -p duckgate-gateway
  GATEWAY="$CARGO_TARGET_DIR/debug/duckgate-gateway"
fi
WORK="$(mktemp -d)"
gw_pid=""
cleanup() {
  [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null
  if [ -n "${KEEP_CLIENT_WORK:-}" ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
"$GATEWAY" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" --threads 2 \
  >"$WORK/gateway.out" 2>"$WORK/gateway.log" &
gw_pid=$!
for _ in $(seq 1 200); do
  grep -q "listening on" "$WORK/gateway.out" 2>/dev/null && grep -q '^dg_' "$WORK/gateway.out" && break
  kill -0 "$gw_pid" 2>/dev/null || { cat "$WORK/gateway.log"; echo "gateway exited"; exit 1; }
  sleep 0.1
done
port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$WORK/gateway.out" | head -n 1)
token=$(grep '^dg_' "$WORK/gateway.out" | head -n 1)
[ -n "$port" ] && [ -n "$token" ] || { cat "$WORK/gateway.out" "$WORK/gateway.log"; exit 1; }
unset PGSERVICE PGOPTIONS PGSSLCERT PGSSLKEY PGPASSFILE
export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=client-suite PGDATABASE=md: PGPASSWORD="$token" \
  PGSSLMODE=verify-full PGSSLROOTCERT="$WORK/data/tls/ca.crt"
echo "== gateway on 127.0.0.1:$port (scram, TLS verify-full)"

# ---------------------------------------------------------------- 3. one program per client stack
PY="$CL/venv/bin/python"
programs=(
  "psycopg2|$PY $HERE/python/test_psycopg2.py"
  "psycopg3|$PY $HERE/python/test_psycopg3.py"
  "asyncpg|$PY $HERE/python/test_asyncpg.py"
  "sqlalchemy|$PY $HERE/python/test_sqlalchemy.py"
  "node-pg|node $HERE/node/test_pg.js"
  "go|$CL/bin/go-clients"
  "java-pgjdbc|java -cp $PGJDBC $HERE/java/ClientTest.java"
  "dbt|bash $HERE/dbt/run_dbt.sh $CL/venv-dbt/bin/dbt"
)
: >"$WORK/results.tsv"
crashed=()
for p in "${programs[@]}"; do
  name="${p%%|*}" cmd="${p#*|}"
  t0=$(date +%s)
  rc=0
  # shellcheck disable=SC2086
  PYTHONPATH="$HERE/python" NODE_PATH="$CL/node/node_modules" timeout 180 $cmd \
    >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  grep '^RESULT' "$WORK/$name.out" | cut -f2- >>"$WORK/results.tsv" || true
  echo "   $name: $(grep -c '^RESULT' "$WORK/$name.out" || true) checks, exit $rc, $(( $(date +%s) - t0 ))s"
  # a program that stops without a FAIL line for its failure (crash, timeout) fails as a whole
  if [ "$rc" -ne 0 ] && ! grep -q $'\tFAIL\t' "$WORK/$name.out"; then
    crashed+=("$name")
    printf '%s\t%s\t%s\t%s\n' "$name" "(program)" FAIL \
      "exit $rc: $(tail -n 5 "$WORK/$name.err" | tr '\n\t' '  ' | cut -c1-400)" >>"$WORK/results.tsv"
  fi
done

# ---------------------------------------------------------------- 4. the matrix
echo
echo "== client compatibility matrix"
awk -F'\t' '
  { key = $1; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    line[key] = line[key] sprintf("  %-4s %s\n", ($3 == "PASS" ? "ok" : $3), $2) }
  END { for (i = 1; i <= n; i++) printf "%s\n%s", order[i], line[order[i]] }
' "$WORK/results.tsv"
echo
if grep -q $'\tGAP\t' "$WORK/results.tsv"; then
  echo "== known gaps (catalog introspection the pg_catalog layer does not answer yet)"
  awk -F'\t' '$3 == "GAP" { printf "  %s / %s: %s\n", $1, $2, $4 }' "$WORK/results.tsv"
fi
if grep -q $'\tFAIL\t' "$WORK/results.tsv"; then
  echo "== FAILED"
  awk -F'\t' '$3 == "FAIL" { printf "  %s / %s: %s\n", $1, $2, $4 }' "$WORK/results.tsv"
  echo "   (gateway log: $WORK/gateway.log; rerun with KEEP_CLIENT_WORK=1 to keep it)"
fi
pass=$(awk -F'\t' '$3 == "PASS"' "$WORK/results.tsv" | wc -l)
fail=$(awk -F'\t' '$3 == "FAIL"' "$WORK/results.tsv" | wc -l)
gap=$(awk -F'\t' '$3 == "GAP"' "$WORK/results.tsv" | wc -l)
echo "known gaps: $gap (not counted as passed)"
echo "clients: $pass passed, $fail failed  ($(( $(date +%s) - started ))s)"
[ "$fail" -eq 0 ]
