#!/usr/bin/env bash
# The main job: dependencies, a Docker engine, the stack (etcd, registry, HAProxy), the demo
# image 1.0.0 in the registry, then the glint daemon in the foreground. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/ensure-docker.sh
bash scripts/ensure-tools.sh
bash images/standins/build.sh
bash scripts/stack-up.sh
bash scripts/demo-image.sh 1.0.0

if curl -fsS -o /dev/null http://127.0.0.1:7070/healthz 2>/dev/null; then
  echo "[start] a glint daemon already answers on 127.0.0.1:7070; the stack and demo image are up to date" >&2
  exit 0
fi
exec node bin/glint.js daemon --config "${GLINT_CONFIG:-scheduler.config.ts}"
