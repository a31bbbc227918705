#!/usr/bin/env bash
# Builds a stamped demo-app version and pushes it to the local registry.
# usage: npm run demo:image -- <version> [registry]      e.g. npm run demo:image -- 1.1.0
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: npm run demo:image -- <version> [registry, default 127.0.0.1:5000]}
registry=${2:-${GLINT_REGISTRY:-127.0.0.1:5000}}
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
created=$(git log -1 --format=%cI 2>/dev/null || echo 1970-01-01T00:00:00Z)  # commit time, so a rebuild of one commit gives the same digest
image="$registry/demo-app:$version"
images/standins/build.sh node
if ! out=$(docker build -q \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
  -t "$image" images/demo-app 2>&1); then
  echo "$out" >&2
  exit 1
fi
if ! out=$(docker push "$image" 2>&1); then
  echo "$out" >&2
  echo "push to $registry failed; is the registry running? (npm run stack:up)" >&2
  exit 1
fi
digest=$(docker image inspect -f '{{index .RepoDigests 0}}' "$image")
echo "$image pushed as $digest"
