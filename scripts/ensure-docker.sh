#!/usr/bin/env bash
# Makes sure a Docker engine answers. On Debian as root it installs docker.io when missing and
# starts dockerd detached; elsewhere it uses the running engine or says what is missing.
set -euo pipefail
log() { echo "[docker] $*" >&2; }

if docker info >/dev/null 2>&1; then exit 0; fi

if [ "$(id -u)" != "0" ] || [ ! -f /etc/debian_version ]; then
  log "no Docker engine answers 'docker info'. Start Docker (or Docker Desktop) and run this again."
  log "On Debian as root this script installs and starts one itself."
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

log "starting dockerd"
mkdir -p /var/log
# Detached: its own session (setsid -f), so no terminal, no Ctrl-C on `npm start` and no hangup
# reaches it, and no inherited stdin/stdout, so no caller waits on it. The engine outlives the
# command that started it, like the stack on it. TMPDIR is the system's: runc writes each
# `docker exec`'s process spec there, and a caller's TMPDIR (a test run's scratch folder, removed
# when the run ends) would break every exec after it with "runc-process...: no such file".
setsid -f env TMPDIR=/tmp dockerd </dev/null >>/var/log/glint-dockerd.log 2>&1
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then log "engine ready"; exit 0; fi
  sleep 0.5
done
log "dockerd did not answer within 60s; see /var/log/glint-dockerd.log"
exit 1
