#!/usr/bin/env bash
# Install the signed DuckDB extensions the gateway loads at start-up into an extension
# directory laid out as DuckDB expects: <DIR>/v<version>/<platform>/<name>.duckdb_extension.
# The files come from PyPI wheels (duckdb-extension-<name>), the only registry that ships them
# here; the gateway itself never downloads anything (autoinstall/autoload are off).
# Usage: scripts/install-extensions.sh [DIR]   (default $DUCKGATE_CACHE/extensions)
# Prints DIR on the last line. Idempotent: present files are not fetched again.
set -euo pipefail
arg_dir="${1:+$(realpath -m "$1")}"   # resolved before the cd below
cd "$(dirname "$0")/.."
source scripts/lib.sh

DUCKDB_VERSION="${DUCKDB_VERSION:-1.5.5}"
EXT_DIR="${arg_dir:-$DUCKGATE_CACHE/extensions}"
EXTENSIONS=(httpfs ducklake postgres icu json tpch)

case "$(uname -m)" in
  x86_64) platform=linux_amd64 wheel_platform=manylinux2014_x86_64 ;;
  aarch64) platform=linux_arm64 wheel_platform=manylinux2014_aarch64 ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
target="$EXT_DIR/v$DUCKDB_VERSION/$platform"
wheels="$DUCKGATE_CACHE/wheels/duckdb-$DUCKDB_VERSION"
mkdir -p "$target" "$wheels"
find_wheel() {
  local f
  for f in "$wheels/duckdb_extension_$name-$DUCKDB_VERSION"-*.whl; do [ -e "$f" ] && echo "$f"; done
  return 0
}

for name in "${EXTENSIONS[@]}"; do
  # The postgres extension's canonical name is postgres_scanner: DuckDB resolves the alias
  # `postgres` to that file name and calls postgres_scanner_duckdb_cpp_init in it.
  file="$name"; [ "$name" = postgres ] && file=postgres_scanner
  dest="$target/$file.duckdb_extension"
  [ -s "$dest" ] && continue

  # The wheel cache survives a lost extension directory, so a re-install needs no network.
  whl=$(find_wheel)
  if [ -z "$whl" ]; then
    python3 -m pip download -q --no-deps --only-binary=:all: --platform "$wheel_platform" \
      -d "$wheels" "duckdb-extension-$name==$DUCKDB_VERSION" >&2
    whl=$(find_wheel)
  fi

  # Extract the one *.duckdb_extension member (python's zipfile: no unzip dependency), via a
  # temporary name so an interrupted run never leaves a truncated extension behind. The
  # signed footer names the DuckDB version and platform the binary was built for: check both.
  python3 - "$whl" "$dest.tmp" "v$DUCKDB_VERSION" "$platform" <<'EOF'
import os, sys, zipfile, shutil
whl, out, version, platform = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    members = [m for m in z.namelist() if m.endswith(".duckdb_extension")]
    if len(members) != 1:
        sys.exit(f"{whl}: expected one .duckdb_extension, found {members}")
    with z.open(members[0]) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
with open(out, "rb") as f:
    f.seek(-1024, os.SEEK_END)
    footer = f.read()
if version.encode() not in footer or platform.encode() not in footer:
    os.remove(out)
    sys.exit(f"{whl}: extension is not built for {version} {platform}")
EOF
  mv "$dest.tmp" "$dest"
done

echo "$EXT_DIR"
