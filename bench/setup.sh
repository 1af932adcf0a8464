#!/usr/bin/env bash
# Install what `npm run bench` drives, on Debian, only when something is missing.
#
# Usage: bench/setup.sh        (as root, or with sudo)
#
# debootstrap builds the bench images' rootfs from the machine's apt mirror;
# docker-registry and skopeo are the registry baseline; docker.io (dockerd,
# containerd, the 20.10 client) is the docker save/load baseline; iproute2
# is for the network-namespace scenarios (curl probes a registry inside one). `apt-get update` runs only when apt
# has no package lists or an install fails.
set -euo pipefail

packages=(debootstrap docker-registry skopeo docker.io iproute2 curl)
binaries=(debootstrap docker-registry skopeo /usr/sbin/dockerd containerd runc /usr/bin/docker ip tc curl)

say() { echo "bench/setup.sh: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else say "need root or sudo to run: $*"; exit 1
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
if [ ${#missing[@]} -eq 0 ]; then
  say "everything is installed"
  exit 0
fi

install() {
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${packages[@]}"
}

say "missing: ${missing[*]}; installing ${packages[*]}"
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
  as_root apt-get update
fi
if ! install; then
  say "apt-get install failed; refreshing package lists and retrying"
  as_root apt-get update
  install
fi
