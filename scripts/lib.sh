# Shared helpers for the scripts; sourced, not run.
DUCKGATE_CACHE="${DUCKGATE_CACHE:-$HOME/.cache/duckgate}"
mkdir -p "$DUCKGATE_CACHE"

_apt_updated=""
# ensure_apt_packages pkg:command ... — install a Debian package when its command is missing.
ensure_apt_packages() {
  local missing=()
  for spec in "$@"; do
    local pkg="${spec%%:*}" cmd="${spec##*:}"
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ -z "$_apt_updated" ]; then apt-get update -qq; _apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}
