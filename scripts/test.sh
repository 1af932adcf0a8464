#!/usr/bin/env bash
# Run hypership's whole test suite on a Debian machine with Node 20.
#
# Usage: scripts/test.sh
#
# 1. Installs the Debian packages the tests drive (dockerd and its containerd,
#    the 20.10 docker client, skopeo, umoci, busybox-static, curl, jq), but
#    only when something is missing; `apt-get update` runs only when apt has
#    no package lists or an install fails.
# 2. Runs `npm ci` when node_modules is missing or older than the lockfile.
# 3. Runs `npm test`; this script exits with its status.
#
# Tests that need a Docker daemon start their own private one, so nothing is
# started here. They need root: run this as root (CI does).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(docker.io skopeo busybox-static umoci curl jq iproute2 iptables)
# What the tests run, as paths or names on PATH. /usr/bin/docker is Debian's
# client; another docker elsewhere on PATH does not count.
binaries=(/usr/sbin/dockerd containerd runc /usr/bin/docker skopeo umoci curl jq ip iptables)

say() { echo "test.sh: $*" >&2; }
die() { say "$*"; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root or sudo to run: $*"
  fi
}

have() {
  case $1 in
    /*) [ -x "$1" ] ;;
    *) command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] ;;
  esac
}

missing=()
for b in "${binaries[@]}"; do have "$b" || missing+=("$b"); done
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
  missing+=(busybox-static)

apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${packages[@]}"
}

# build-sample-image.sh fetches busybox-static with `apt-get download`, which
# needs package lists even when every package is already installed.
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
  say "apt has no package lists; running apt-get update"
  as_root apt-get update
fi

if [ ${#missing[@]} -gt 0 ]; then
  say "missing: ${missing[*]}; installing ${packages[*]}"
  if ! apt_install; then
    say "apt-get install failed; refreshing package lists and retrying"
    as_root apt-get update
    apt_install
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] ||
  die "Node 20 or newer is required (found: $(node --version 2>&1))"

if [ ! -f node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ] ||
  [ package.json -nt node_modules/.package-lock.json ]; then
  say "node_modules missing or stale; running npm ci"
  npm ci --no-audit --no-fund
fi

[ "$(id -u)" = 0 ] || say "warning: not root; tests that start dockerd will fail"

exec npm test
