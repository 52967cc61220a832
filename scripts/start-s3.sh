#!/usr/bin/env bash
# Start an S3-compatible server (moto, in memory) on 127.0.0.1:${DUCKGATE_S3_PORT:-59000} for
# the storage tests, with bucket duckgate-test. moto accepts any access key and secret and keeps
# objects in memory only: a restart starts empty. Idempotent; a running server is reused.
# Prints the endpoint URL (http://127.0.0.1:PORT) on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

MOTO_VERSION=5.2.5
MOTO_STAMP="$MOTO_VERSION-s3"
S3_PORT="${DUCKGATE_S3_PORT:-59000}"
S3_BUCKET=duckgate-test
VENV="$DUCKGATE_CACHE/venv-moto"
RUN="$DUCKGATE_CACHE/s3"
PIDFILE="$RUN/moto-$S3_PORT.pid"
endpoint="http://127.0.0.1:$S3_PORT"
mkdir -p "$RUN"

# A private venv keeps moto's dependencies out of the system python; the stamp file records a
# finished install so an interrupted one is redone. moto[s3] + flask is what moto_server needs
# for S3 (moto[server] would add every AWS service's dependencies: 317 MB instead of 140 MB).
if [ "$(cat "$VENV/.duckgate-moto" 2>/dev/null)" != "$MOTO_STAMP" ]; then
  bash scripts/stop-s3.sh  # a server from the old venv would lose its files
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "moto[s3]==$MOTO_VERSION" \
    flask==3.1.3 flask-cors==6.0.5 >&2
  echo "$MOTO_STAMP" >"$VENV/.duckgate-moto"
fi

# answers: exit 0 once the server serves S3 requests; also makes the bucket (PUT is
# idempotent for its owner) so a reused server always has it.
answers() {
  "$VENV/bin/python" - "$endpoint" "$S3_BUCKET" <<'EOF' 2>/dev/null
import sys, urllib.request
url = f"{sys.argv[1]}/{sys.argv[2]}"
urllib.request.urlopen(urllib.request.Request(url, method="PUT"), timeout=2).read()
EOF
}
running() {
  local pid; pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  grep -qs moto_server "/proc/$pid/cmdline"
}

if running && answers; then echo "$endpoint"; exit 0; fi
if running; then echo "moto (pid $(cat "$PIDFILE")) runs but does not answer" >&2; exit 1; fi

# setsid: the server outlives this script and the test command's process group.
setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" >"$RUN/moto-$S3_PORT.log" 2>&1 </dev/null &
echo $! >"$PIDFILE"
for _ in $(seq 1 100); do
  answers && { echo "$endpoint"; exit 0; }
  running || break
  sleep 0.2
done
echo "moto did not start on $endpoint; its log:" >&2
tail -n 20 "$RUN/moto-$S3_PORT.log" >&2
exit 1
