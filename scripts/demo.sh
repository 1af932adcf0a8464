#!/usr/bin/env bash
# The main job, end to end, on one machine: a local DHT, a sharer and a
# receiver as separate processes with separate stores, on loopback only.
#
#   1. builds the sample image from Debian's busybox-static (scripts/build-sample-image.sh)
#   2. starts `hypership bootstrap` (a private DHT on 127.0.0.1)
#   3. alice: `hypership share` the image, printing a share key
#   4. bob:   `hypership receive KEY -o received.tar` (plus --load when a Docker Engine answers)
#   5. shows bob's store, then stops everything
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
hs() { node bin/hypership.js "$@"; }
# background processes are started with node directly, so $! is their pid

[ -f dist/src/cli/main.js ] || npm run --silent build

# apt-get download needs package lists; a fresh machine may have none
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say "Building the sample image from Debian's busybox-static"
bash scripts/build-sample-image.sh .cache/sample >"$work/sample.txt"
cat "$work/sample.txt"
config=$(awk '$1 == "config-digest" {print $2}' "$work/sample.txt")

say "Starting a local DHT (hypership bootstrap)"
mkfifo "$work/boot.out"
node bin/hypership.js bootstrap --host 127.0.0.1 >"$work/boot.out" 2>"$work/boot.err" & pids+=($!)
read -r bootstrap <"$work/boot.out"
export HYPERSHIP_BOOTSTRAP=$bootstrap
echo "DHT bootstrap node: $bootstrap (nothing leaves loopback)"

say "alice shares the image (her own store)"
mkfifo "$work/share.out"
node bin/hypership.js share --store "$work/alice" .cache/sample/sample.docker.tar >"$work/share.out" 2>"$work/share.err" & pids+=($!)
read -r key <"$work/share.out"
echo "share key: $key"

load=()
docker_sock=${DOCKER_HOST:-unix:///var/run/docker.sock}
if [ -S "${docker_sock#unix://}" ] && node -e '
  require("http").get({ socketPath: process.argv[1], path: "/_ping", timeout: 2000 }, (r) => process.exit(r.statusCode === 200 ? 0 : 1))
    .on("error", () => process.exit(1))' "${docker_sock#unix://}"; then
  load=(--load)
fi

say "bob receives it (another process, another store)"
time hs receive "$key" --store "$work/bob" -o "$work/received.tar" "${load[@]}"

sed 's/^/  alice: /' "$work/share.err"

say "bob's store"
hs ls --store "$work/bob"
got=$(hs ls --store "$work/bob" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s.split("\n")[0]).id))')
if [ "$got" = "$config" ]; then
  echo "image ID matches the original: $config"
else
  echo "image ID MISMATCH: got $got, expected $config" >&2
  exit 1
fi
echo "docker-archive for 'docker load -i': $(du -h "$work/received.tar" | cut -f1)"
if [ ${#load[@]} -gt 0 ]; then
  echo "loaded into the Docker Engine as hypership/sample:1.0"
else
  echo "(no Docker Engine reachable; with one, --load puts the image straight into docker images)"
fi
say "Done: stopping the sharer and the DHT"
