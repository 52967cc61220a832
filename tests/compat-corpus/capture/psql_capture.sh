#!/usr/bin/env bash
# psql's backslash commands (psql 15): each sends its own catalog queries, logged by the server.
set -uo pipefail
export PGAPPNAME=psql PGHOST="${CORPUS_HOST:-127.0.0.1}" PGPORT="${CORPUS_PORT:-54333}" \
  PGUSER="${CORPUS_USER:-corpus}" PGDATABASE="${CORPUS_DB:-corpus}"
cmds=('\l' '\l+' '\dn' '\dn+' '\dt' '\dt+' '\dt inventory.*' '\d' '\d customers' '\d+ customers'
  '\d orders' '\d+ orders' '\d big_orders' '\d+ big_orders' '\d inventory.items' '\d orders_customer_idx'
  '\dv' '\dv+' '\di' '\di+' '\ds' '\df' '\df+' '\du' '\dg' '\dT' '\dT+' '\dT+ mood' '\dD' '\dx'
  '\dp' '\dd' '\db' '\dC' '\dc' '\dconfig' '\dE' '\dm' '\do' '\dy' '\des' '\dew' '\dRp' '\dRs'
  '\dA' '\dL' '\drds' '\dX' '\z' '\sv big_orders' '\conninfo' '\encoding')
for c in "${cmds[@]}"; do
  if psql -X -q -c "$c" >/dev/null 2>"${TMPDIR:-/tmp}/psql_capture.err"; then echo "  ok    $c"
  else echo "  error $c: $(head -n 1 "${TMPDIR:-/tmp}/psql_capture.err")"; fi
done
