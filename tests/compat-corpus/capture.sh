#!/usr/bin/env bash
# Capture what each PostgreSQL client really sends (issue #5, item 1): start a throwaway
# PostgreSQL 15 cluster (127.0.0.1:${CORPUS_PG_PORT:-54333}, trust, log_statement=all), create
# schema.pg.sql, run one capture program per client with application_name = the client, stop the
# cluster, and let extract.py write tests/compat-corpus/<client>.sql from the server log; then
# record.sh records PostgreSQL's answers to them (expected/).
# Driver installs are those of tests/clients/run.sh (same paths, same pins). ~1-2 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
HERE="$PWD/tests/compat-corpus"
CL="$DUCKGATE_CACHE/clients"
PORT="${CORPUS_PG_PORT:-54333}"
STATE="$DUCKGATE_CACHE/corpus-pg"     # the server logs are copied here at the end
started=$(date +%s)

# ---------------------------------------------------------------- drivers (as tests/clients/run.sh)
PY_REQS="psycopg2-binary==2.9.13 psycopg[binary]==3.3.9 asyncpg==0.32.0 SQLAlchemy==2.1.9 pandas==3.1.1"
if [ "$(cat "$CL/venv/.reqs" 2>/dev/null)" != "$PY_REQS" ]; then
  python3 -m venv "$CL/venv"
  # shellcheck disable=SC2086
  "$CL/venv/bin/pip" install -q $PY_REQS && echo "$PY_REQS" >"$CL/venv/.reqs"
fi
NODE_PG=8.23.1
if [ "$(node -p "require('$CL/node/node_modules/pg/package.json').version" 2>/dev/null)" != "$NODE_PG" ]; then
  mkdir -p "$CL/node"
  (cd "$CL/node" && npm install --silent --no-audit --no-fund --no-save "pg@$NODE_PG" >/dev/null)
fi
PGJDBC="$CL/jars/postgresql-42.7.14.jar"
[ -f "$PGJDBC" ] || mvn -B -q -f tests/clients/java/pom.xml -Dmaven.repo.local="$CL/m2" \
  dependency:copy-dependencies -DoutputDirectory="$CL/jars"
mkdir -p "$CL/bin"
(cd "$HERE/capture/go" && GOMODCACHE="$CL/gomodcache" GOFLAGS=-mod=mod go build -o "$CL/bin/corpus-pgx" .)

# ---------------------------------------------------------------- throwaway cluster
source "$HERE/pg.sh"
corpus_pg_start "$STATE" "$PORT" corpus corpus -c logging_collector=on -c log_destination=stderr,csvlog \
  -c log_directory=@PGDIR@/log -c log_filename=pg.log -c log_statement=all \
  -c "log_line_prefix='%a|'" -c log_min_messages=warning
export CORPUS_HOST=127.0.0.1 CORPUS_PORT="$PORT" CORPUS_USER=corpus CORPUS_DB=corpus
echo "== PostgreSQL 15 on 127.0.0.1:$PORT ($PGDIR/data), schema created"

# ---------------------------------------------------------------- one program per client
PY="$CL/venv/bin/python"
programs=(
  "psql|bash $HERE/capture/psql_capture.sh"
  "psycopg2|$PY $HERE/capture/psycopg2_capture.py"
  "psycopg3|$PY $HERE/capture/psycopg3_capture.py"
  "asyncpg|$PY $HERE/capture/asyncpg_capture.py"
  "sqlalchemy|$PY $HERE/capture/sqlalchemy_capture.py"
  "pgjdbc|java -cp $PGJDBC $HERE/capture/Capture.java"
  "node-pg|node $HERE/capture/node_pg_capture.js"
  "pgx|$CL/bin/corpus-pgx"
)
for p in "${programs[@]}"; do
  name="${p%%|*}" cmd="${p#*|}"
  echo "== $name"
  # shellcheck disable=SC2086
  PYTHONPATH="$HERE/capture" NODE_PATH="$CL/node/node_modules" timeout 300 $cmd || echo "   ($name exited $?)"
done

# ---------------------------------------------------------------- extract (PostgreSQL still up)
sleep 0.5  # the logging collector writes asynchronously
cp "$PGDIR/log/pg.csv" "$STATE/pg.csv"; cp "$PGDIR/log/pg.log" "$STATE/pg.log"
"$PY" "$HERE/extract.py" --log "$STATE/pg.csv" --out "$HERE" \
  --dsn "host=127.0.0.1 port=$PORT user=corpus dbname=corpus application_name=setup" \
  --published "$HERE/published"
corpus_pg_stop
echo "== capture done in $(( $(date +%s) - started ))s (server log: $STATE/pg.log, pg.csv)"
# PostgreSQL's answers to the new corpus, from a fresh cluster (expected/, what run.py compares with)
bash "$HERE/record.sh"
