#!/usr/bin/env bash
# Start or stop a private Docker daemon that touches nothing outside DIR.
#
# Usage: scripts/dockerd.sh start DIR   prints the host, unix://DIR/docker.sock
#        scripts/dockerd.sh stop DIR
#
# Uses Debian's dockerd (20.10) with the vfs driver and no networking setup:
# no iptables rules, no bridge. Its containerd child runs from a short
# directory under /tmp, because unix socket paths are limited to 108 bytes.
# Log: DIR/dockerd.log. Needs root.
set -euo pipefail

die() { echo "dockerd.sh: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 start|stop DIR"
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
sock=$dir/docker.sock
pidfile=$dir/dockerd.pid

ping() {
  curl -sf --max-time 2 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

start() {
  [ "$(id -u)" = 0 ] || die "dockerd needs root"
  command -v dockerd >/dev/null ||
    die "dockerd not found: apt-get install docker.io (or run scripts/test.sh)"
  command -v curl >/dev/null || die "curl not found: apt-get install curl"
  # 108 bytes including the NUL terminator.
  [ ${#sock} -le 100 ] ||
    die "socket path too long (${#sock} bytes): $sock; use a shorter DIR"
  if [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; then
    die "a dockerd is already running for $dir (pid $(cat "$pidfile"))"
  fi

  local exec_root
  exec_root=$(mktemp -d /tmp/hsd.XXXXXX)
  echo "$exec_root" >"$dir/exec-root"
  mkdir -p "$dir/data"
  # An empty config keeps a host-wide /etc/docker/daemon.json out of it.
  echo '{}' >"$dir/daemon.json"

  nohup dockerd \
    --config-file "$dir/daemon.json" \
    --data-root "$dir/data" \
    --exec-root "$exec_root" \
    --pidfile "$pidfile" \
    --storage-driver=vfs \
    --iptables=false --ip6tables=false --bridge=none \
    --host "unix://$sock" \
    >"$dir/dockerd.log" 2>&1 </dev/null &
  local pid=$!

  for _ in $(seq 1 300); do
    if ping; then echo "unix://$sock"; return; fi
    if ! alive "$pid"; then
      tail -n 20 "$dir/dockerd.log" >&2
      die "dockerd exited during startup, see $dir/dockerd.log"
    fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  die "dockerd did not answer _ping within 30 s, see $dir/dockerd.log"
}

stop() {
  local pid="" exec_root=""
  [ -f "$pidfile" ] && pid=$(cat "$pidfile")
  [ -f "$dir/exec-root" ] && exec_root=$(cat "$dir/exec-root")

  if alive "$pid"; then
    # dockerd takes its containerd child down with it on SIGTERM.
    kill "$pid"
    for _ in $(seq 1 150); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      echo "dockerd.sh: dockerd $pid ignored SIGTERM for 15 s, killing it" >&2
      kill -9 "$pid" 2>/dev/null || true
      local cpid=""
      [ -n "$exec_root" ] && [ -f "$exec_root/containerd/containerd.pid" ] &&
        cpid=$(cat "$exec_root/containerd/containerd.pid")
      alive "$cpid" && kill -9 "$cpid" 2>/dev/null || true
      # A killed dockerd leaves its bind mount of the data root behind.
      mountpoint -q "$dir/data" && umount -l "$dir/data" || true
    fi
  fi

  rm -f "$pidfile" "$dir/exec-root"
  case $exec_root in /tmp/hsd.*) rm -rf "$exec_root" ;; esac
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop DIR" ;;
esac
