# Source this file (". scripts/toolchain.sh") to get what the project needs on this shell's PATH:
# Node 24 (installed from the npm registry package node@24 into .tools/ when the machine's node is
# older), redis-server, redis-cli and redis-sentinel (from Debian when missing; tests start their own,
# Cluster and Sentinel groups included), promtool (deploy/monitoring's checks: when missing, taken out
# of Debian's prometheus package into .tools/prometheus without installing it, so no service starts),
# and node_modules (npm ci).
# Safe to source again: it only installs what is missing.

_toolchain_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"

_toolchain_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(_toolchain_node_major)" -lt 24 ]; then
  if [ ! -x "$_toolchain_root/.tools/node_modules/.bin/node" ]; then
    echo "toolchain: installing node@24 from the npm registry into .tools/" >&2
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$_toolchain_root/.tools" node@24 >&2
  fi
  export PATH="$_toolchain_root/.tools/node_modules/.bin:$PATH"
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-sentinel >/dev/null 2>&1 ||
  ! command -v redis-cli >/dev/null 2>&1; then
  echo "toolchain: installing redis-server and redis-sentinel from Debian" >&2
  if [ "$(id -u)" = 0 ]; then _toolchain_sudo=""; else _toolchain_sudo="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $_toolchain_sudo apt-get update -qq >&2
  # Debian starts the services it installs where it can; the tests start their own on free ports.
  DEBIAN_FRONTEND=noninteractive $_toolchain_sudo apt-get install -y -qq redis-server redis-sentinel >/dev/null
fi

if ! command -v promtool >/dev/null 2>&1; then
  if [ ! -x "$_toolchain_root/.tools/prometheus/usr/bin/promtool" ]; then
    echo "toolchain: unpacking promtool from Debian's prometheus package into .tools/prometheus (not installed)" >&2
    if [ "$(id -u)" = 0 ]; then _toolchain_sudo=""; else _toolchain_sudo="sudo"; fi
    DEBIAN_FRONTEND=noninteractive $_toolchain_sudo apt-get update -qq >&2
    _toolchain_tmp="$(mktemp -d)"
    # apt-get download only fetches the .deb; dpkg -x unpacks it without running its scripts.
    (cd "$_toolchain_tmp" && apt-get download -qq prometheus >&2)
    mkdir -p "$_toolchain_root/.tools/prometheus"
    dpkg -x "$_toolchain_tmp"/prometheus_*.deb "$_toolchain_root/.tools/prometheus"
    rm -rf "$_toolchain_tmp"
  fi
  export PATH="$_toolchain_root/.tools/prometheus/usr/bin:$PATH"
fi

if [ ! -d "$_toolchain_root/node_modules" ] || [ "$_toolchain_root/package-lock.json" -nt "$_toolchain_root/node_modules/.package-lock.json" ]; then
  (cd "$_toolchain_root" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

unset _toolchain_root _toolchain_sudo _toolchain_tmp
unset -f _toolchain_node_major
