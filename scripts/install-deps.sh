#!/usr/bin/env bash
# Installs npm dependencies when node_modules is missing or older than the lockfile, then
# checks the Node that npm scripts and npx will run: on Linux x64/arm64 that is the Node 24
# LTS the optional dependency node-linux-<arch> puts in node_modules/.bin (first on their PATH),
# elsewhere the machine's own node, which must then be 22 or later.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[deps] npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
runtime=$(PATH="$PWD/node_modules/.bin:$PATH" node --version)
major=${runtime#v}
major=${major%%.*}
if [ "$major" -lt 22 ]; then
  echo "[deps] glint needs Node.js 22 or later; this machine's node is $runtime and npm installed none for $(uname -s)/$(uname -m): install Node.js 22+ first" >&2
  exit 1
fi
