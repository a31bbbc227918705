#!/usr/bin/env bash
# Installs the Debian tools the stack and the tests use when they are missing
# (haproxy for `haproxy -c`, etcd for the stand-in image, the registry, busybox, compose, and
# wrk, hey and h2load, the load generators of the benchmarks, and systemd-analyze, which checks the unit file).
set -euo pipefail
missing=()
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v busybox >/dev/null 2>&1 || missing+=(busybox-static)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v hey >/dev/null 2>&1 || missing+=(hey)
command -v h2load >/dev/null 2>&1 || missing+=(nghttp2-client)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[tools] missing: ${missing[*]}; install them with your package manager" >&2
  exit 1
fi
echo "[tools] installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
