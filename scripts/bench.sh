#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints its figures and the command that produced them).
set -euo pipefail
cd "$(dirname "$0")/.."
export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
bash scripts/install-deps.sh
bash scripts/ensure-docker.sh
bash scripts/ensure-tools.sh
bash images/standins/build.sh
# Benchmarks make their scratch folders under tmpdir(): one folder for this run, removed at the
# end whatever happens, unless GLINT_KEEP_TMP=1.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/glint-bench-run-XXXXXX")
export TMPDIR=$scratch
cleanup() {
  if [ "${GLINT_KEEP_TMP:-}" = 1 ]; then echo "[bench] kept $scratch (GLINT_KEEP_TMP=1)" >&2; else rm -rf "$scratch"; fi
}
trap cleanup EXIT
for bench in bench/*.ts; do
  echo "== $bench"
  npx tsx "$bench" "$@"
done
