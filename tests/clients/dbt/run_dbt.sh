#!/usr/bin/env bash
# dbt-postgres against the gateway: debug, seed, two runs (the second swaps the view and merges
# the incremental model), then the models' content through psql. Prints RESULT lines like the
# other client programs. Usage: run_dbt.sh <dbt binary> (PG* variables point at the gateway).
set -uo pipefail
DBT="$1"
PROJECT="$(mktemp -d)"
trap 'rm -rf "$PROJECT"' EXIT
cp -r "$(dirname "$0")"/. "$PROJECT"/
cd "$PROJECT"
export DBT_PROFILES_DIR="$PROJECT" DBT_SEND_ANONYMOUS_USAGE_STATS=false
check() { # name, command...
  local name="$1"; shift
  if out=$("$@" 2>&1); then
    printf 'RESULT\tdbt\t%s\tPASS\t\n' "$name"
  else
    printf 'RESULT\tdbt\t%s\tFAIL\t%s\n' "$name" "$(echo "$out" | grep -iE 'error|fail' | head -n 3 | tr '\n\t' '  ' | cut -c1-300)"
  fi
}
sql() { psql -XAtq -c "$1"; }
expect() { # name, sql, expected output
  local got; got=$(sql "$2" 2>&1 | tr '\n' ' ')
  if [ "$got" = "$3" ]; then printf 'RESULT\tdbt\t%s\tPASS\t\n' "$1"
  else printf 'RESULT\tdbt\t%s\tFAIL\tgot %s, want %s\n' "$1" "$got" "$3"; fi
}
check "debug" "$DBT" debug
check "seed" "$DBT" seed
check "run (first)" "$DBT" run
check "run (second: view swap, incremental merge)" "$DBT" run
expect "view model" "SELECT string_agg(name, ',' ORDER BY id) FROM v_people" "ada,bob "
expect "table model" "SELECT string_agg(name, ',' ORDER BY id) FROM t_people" "ADA,BOB "
expect "incremental model (merged, no duplicates)" "SELECT count(*), count(DISTINCT id) FROM inc_people" "2|2 "
