#!/usr/bin/env bash
# Record what PostgreSQL 15 answers to every corpus entry (tests/compat-corpus/expected/): start a
# throwaway cluster from a fresh initdb on 127.0.0.1:${CORPUS_PG_PORT:-54333} (as capture.sh does,
# so OIDs are the capture's), create schema.pg.sql in database `corpus`, let record.py replay the
# corpus the way run.py replays it on the gateway, stop the cluster. Needs only PostgreSQL 15 and
# psycopg (the clients venv), not the drivers. Deterministic output; ~5 s.
#
# The superuser is `corpus_user`, not `corpus` like the capture's: the database keeps the
# capture's name (published queries pass it as a parameter), and one name for both would make the
# user- and database-name normalizations of run.py ambiguous.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
HERE="$PWD/tests/compat-corpus"
PORT="${CORPUS_PG_PORT:-54333}"
PY="$DUCKGATE_CACHE/clients/venv/bin/python"
[ -x "$PY" ] || { echo "needs the clients venv with psycopg ($PY): bash tests/clients/run.sh creates it" >&2; exit 1; }
started=$(date +%s)
source "$HERE/pg.sh"
corpus_pg_start "$DUCKGATE_CACHE/corpus-pg-record" "$PORT" corpus_user corpus
"$PY" "$HERE/record.py" --dsn "host=127.0.0.1 port=$PORT user=corpus_user dbname=corpus" --out "$HERE/expected"
corpus_pg_stop
echo "== recorded in $(( $(date +%s) - started ))s"
