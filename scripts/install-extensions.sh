#!/usr/bin/env bash
# Install the signed DuckDB extensions the gateway loads at start-up into an extension
# directory laid out as DuckDB expects: <DIR>/v<version>/<platform>/<name>.duckdb_extension.
# The files come from PyPI wheels (duckdb-extension-<name>), the only registry that ships them
# here; the gateway itself never downloads anything (autoinstall/autoload are off).
# Usage: scripts/install-extensions.sh [DIR]   (default $DUCKGATE_CACHE/extensions)
# Prints DIR on the last line. Idempotent: present files are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

DUCKDB_VERSION="${DUCKDB_VERSION:-1.5.5}"
EXT_DIR="${1:-$DUCKGATE_CACHE/extensions}"
EXTENSIONS=(httpfs ducklake postgres icu json tpch)

case "$(uname -m)" in
  x86_64) platform=linux_amd64 wheel_platform=manylinux2014_x86_64 ;;
  aarch64) platform=linux_arm64 wheel_platform=manylinux2014_aarch64 ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
target="$EXT_DIR/v$DUCKDB_VERSION/$platform"
wheels="$DUCKGATE_CACHE/wheels/duckdb-$DUCKDB_VERSION"
mkdir -p "$target" "$wheels"

for name in "${EXTENSIONS[@]}"; do
  # The postgres extension's canonical name is postgres_scanner: DuckDB resolves the alias
  # `postgres` to that file name and calls postgres_scanner_duckdb_cpp_init in it.
  file="$name"; [ "$name" = postgres ] && file=postgres_scanner
  dest="$target/$file.duckdb_extension"
  [ -s "$dest" ] && continue

  whl=$(ls "$wheels"/duckdb_extension_"$name"-"$DUCKDB_VERSION"-*.whl 2>/dev/null | head -n1 || true)
  if [ -z "$whl" ]; then
    python3 -m pip download -q --no-deps --only-binary=:all: --platform "$wheel_platform" \
      -d "$wheels" "duckdb-extension-$name==$DUCKDB_VERSION" >&2
    whl=$(ls "$wheels"/duckdb_extension_"$name"-"$DUCKDB_VERSION"-*.whl | head -n1)
  fi

  # Extract the one *.duckdb_extension member (python's zipfile: no unzip dependency), via a
  # temporary name so an interrupted run never leaves a truncated extension behind.
  python3 - "$whl" "$dest.tmp" <<'EOF'
import sys, zipfile, shutil
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    members = [m for m in z.namelist() if m.endswith(".duckdb_extension")]
    if len(members) != 1:
        sys.exit(f"{whl}: expected one .duckdb_extension, found {members}")
    with z.open(members[0]) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
EOF
  # The signed footer names the DuckDB version and platform the binary was built for.
  if ! tail -c 1024 "$dest.tmp" | grep -aq "v$DUCKDB_VERSION"; then
    rm -f "$dest.tmp"; echo "$whl: extension is not built for v$DUCKDB_VERSION" >&2; exit 1
  fi
  mv "$dest.tmp" "$dest"
done

echo "$EXT_DIR"
