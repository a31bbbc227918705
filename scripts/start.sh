#!/usr/bin/env bash
# The main job: dependencies, the compiled daemon (dist/), a Docker engine, the stack (etcd,
# registry, HAProxy), the demo image 1.0.0 in the registry, then the glint daemon in the
# foreground. Safe to run twice, and from several checkouts: there is one stack per machine, and
# a running one is adopted. Ctrl-C stops the daemon only; the engine and the stack keep running.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
node scripts/build.mjs
bash scripts/ensure-docker.sh
bash scripts/ensure-tools.sh
bash images/standins/build.sh
bash scripts/stack-up.sh
bash scripts/demo-image.sh 1.0.0

if curl -fsS -o /dev/null http://127.0.0.1:7070/healthz 2>/dev/null; then
  echo "[start] a glint daemon already answers on 127.0.0.1:7070 (started here or from another checkout) and runs on the stack, which is up to date; to run this checkout's daemon instead, stop that one (Ctrl-C in its terminal) and run npm start again" >&2
  exit 0
fi
# Memory settings every launch point shares (bench/daemon-memory.ts measures the RSS): a 2 MB
# young generation (16 MB by default), since the daemon's objects are small and short-lived; an
# old generation that grows by 20 % over what survived its last collection, not V8's usual
# doubling (`--optimize-for-size` keeps it smaller still, but its compacting collections
# stop the event loop 10-30 ms every few seconds under API load); two malloc arenas, and large
# buffers (Docker's container lists) in their own mappings that go back to the system when freed.
export MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536 MALLOC_TRIM_THRESHOLD_=131072
exec node --max-semi-space-size=2 --heap-growing-percent=20 bin/glint.js daemon --config "${GLINT_CONFIG:-scheduler.config.ts}"
