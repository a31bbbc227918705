#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints its figures and the command that produced them).
set -euo pipefail
cd "$(dirname "$0")/.."
export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
bash scripts/install-deps.sh
bash scripts/ensure-docker.sh
bash scripts/ensure-tools.sh
bash images/standins/build.sh
for bench in bench/*.ts; do
  echo "== $bench"
  npx tsx "$bench" "$@"
done
