#!/usr/bin/env bash
# Runs docker-compose v1 or `docker compose` v2, whichever this machine has, on the one glint
# stack of this machine: the project name is fixed (not the checkout's folder name), so every
# checkout finds and adopts the same containers instead of colliding with their fixed names.
set -euo pipefail
cd "$(dirname "$0")/.."
export PWD
export COMPOSE_PROJECT_NAME=glint
source scripts/haproxy-run-dir.sh
if command -v docker-compose >/dev/null 2>&1; then exec docker-compose "$@"; fi
if docker compose version >/dev/null 2>&1; then exec docker compose "$@"; fi
echo "[compose] neither docker-compose nor 'docker compose' is installed (Debian: apt-get install docker-compose)" >&2
exit 1
