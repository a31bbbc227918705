#!/usr/bin/env bash
# Every test: typecheck, lint, unit tests, then integration tests against real Docker, etcd,
# HAProxy and registry containers. Installs and starts what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."

export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1

bash scripts/install-deps.sh
bash scripts/ensure-docker.sh
bash scripts/ensure-tools.sh
bash images/standins/build.sh

results=.glint/test-results
mkdir -p "$results"
rm -f "$results"/*.json

# Containers the tests start carry glint.test=<this run>; remove them whatever happens.
export GLINT_TEST_RUN="run-$(date +%s)-$$"
# Their scratch folders (HAProxy run folders, declarations) live under one TMPDIR of this run,
# removed whatever happens unless GLINT_KEEP_TMP=1 (vitest's global setup does the same inside it).
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gt-XXXXXX")
export TMPDIR=$scratch
cleanup() {
  docker ps -aq --filter "label=glint.test=$GLINT_TEST_RUN" | xargs -r docker rm -f -v >/dev/null 2>&1 || true
  if [ "${GLINT_KEEP_TMP:-}" = 1 ]; then echo "[tests] kept $scratch (GLINT_KEEP_TMP=1)" >&2; else rm -rf "$scratch"; fi
}
trap cleanup EXIT

echo "== node $(node --version)"
echo "== typecheck" && npx tsc --noEmit
echo "== lint" && npx biome check .
echo "== build (the daemons the tests start run dist/)" && node scripts/build.mjs
echo "== import cycles" && npx madge --circular --extensions ts --ts-config tsconfig.json src
status=0
echo "== unit tests"
npx vitest run --project unit --reporter=default --reporter=json --outputFile="$results/unit.json" || status=1
echo "== integration tests"
npx vitest run --project integration --reporter=default --reporter=json --outputFile="$results/integration.json" || status=1

node scripts/summarize-tests.mjs "$results/unit.json" "$results/integration.json"
exit $status
