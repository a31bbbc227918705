#!/usr/bin/env bash
# Builds a stamped demo-app version and pushes it to the local registry.
# usage: npm run demo:image -- <version> [registry]      e.g. npm run demo:image -- 1.1.0
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: npm run demo:image -- <version> [registry, default 127.0.0.1:5000]}
registry=${2:-${GLINT_REGISTRY:-127.0.0.1:5000}}
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
image="$registry/demo-app:$version"
images/standins/build.sh node
docker build -q \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
  -t "$image" images/demo-app >/dev/null
docker push "$image" >/dev/null
digest=$(docker image inspect -f '{{index .RepoDigests 0}}' "$image")
echo "$image pushed as $digest"
