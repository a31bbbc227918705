#!/usr/bin/env bash
# Starts etcd (127.0.0.1:2379), the registry (127.0.0.1:5000) and HAProxy with docker-compose
# and waits until each answers. There is one stack per machine (compose project `glint`, HAProxy's
# run folder outside any checkout): a stack already running, started from this checkout or
# another, is adopted as it is. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[stack] $*" >&2; }

# Containers named glint-* that another compose project owns (a stack started before the project
# name was fixed, or by hand) would collide on their fixed names: say what to do, in one line.
services=(etcd registry haproxy)
for service in "${services[@]}"; do
  docker inspect "glint-$service" >/dev/null 2>&1 || continue
  owner=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' "glint-$service")
  [ "$owner" = glint ] && continue
  [ "$owner" = "<no value>" ] && owner=none
  log "container glint-$service belongs to another stack (compose project '$owner'); remove that stack once with: docker rm -f ${services[*]/#/glint-} && npm start"
  exit 1
done

source scripts/haproxy-run-dir.sh
run_dir=$GLINT_HAPROXY_RUN_DIR
mkdir -p "$run_dir"
if [ ! -f "$run_dir/haproxy.cfg" ]; then
  # A first config so HAProxy can start; the daemon renders the real one and reloads.
  cat >"$run_dir/haproxy.cfg" <<CFG
global
  master-worker
  stats socket $run_dir/admin.sock mode 600 level admin expose-fd listeners
  server-state-file $run_dir/server-state
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend glint-status
  bind 127.0.0.1:8404
  http-request return status 200 content-type text/plain string "haproxy up, waiting for glint"
CFG
  log "wrote bootstrap $run_dir/haproxy.cfg"
fi

bash scripts/compose.sh up -d etcd registry haproxy >&2

wait_for() {
  local what=$1
  shift
  for _ in $(seq 1 120); do
    if "$@" >/dev/null 2>&1; then log "$what ready"; return 0; fi
    sleep 0.5
  done
  log "$what did not become ready within 60s; see: bash scripts/compose.sh logs $what"
  return 1
}
wait_for etcd curl -fsS http://127.0.0.1:2379/health
wait_for registry curl -fsS http://127.0.0.1:5000/v2/
wait_for haproxy test -S "$run_dir/master.sock"
