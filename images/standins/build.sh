#!/usr/bin/env bash
# Builds offline stand-ins for the upstream images glint runs (haproxy:2.6, registry:2,
# the etcd image, node:20-slim) when they are missing and cannot be pulled.
# Each stand-in is a root filesystem holding a Debian binary plus the libraries `ldd` lists
# and busybox for a shell, imported with `docker import` and tagged with the upstream name,
# so code written for the upstream images runs unchanged. With internet, images are pulled.
#
# usage: images/standins/build.sh [image ...]    (default: all four)
set -euo pipefail

HAPROXY_IMAGE=${HAPROXY_IMAGE:-haproxy:2.6}
REGISTRY_IMAGE=${REGISTRY_IMAGE:-registry:2}
ETCD_IMAGE=${ETCD_IMAGE:-quay.io/coreos/etcd:v3.4.23}
NODE_IMAGE=${NODE_IMAGE:-node:20-slim}

log() { echo "[standins] $*" >&2; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# Every image glint uses, upstream or stand-in, has a shell: exec health checks and the
# registry's entrypoint need one. A stand-in built while busybox was missing has none.
has_shell() { timeout 60 docker run --rm --entrypoint sh "$1" -c true >/dev/null 2>&1; }

try_pull() {
  # A short bound: on an offline machine the pull fails fast or hangs on DNS.
  timeout 20 docker pull -q "$1" >/dev/null 2>&1
}

ensure_debian_package() {
  local bin=$1 pkg=$2
  if ! command -v "$bin" >/dev/null 2>&1; then
    log "installing Debian package $pkg for $bin"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
  fi
}

# Copies a binary and every shared library it links into the root filesystem.
copy_with_libs() {
  local root=$1 src=$2 dest=$3
  mkdir -p "$root/$(dirname "$dest")"
  cp -L "$src" "$root/$dest"
  ldd "$src" | grep -oE '/[^ ]+' | while read -r lib; do
    mkdir -p "$root/$(dirname "$lib")"
    cp -Ln "$lib" "$root/$lib"
  done
}

new_root() {
  local root
  root=$(mktemp -d)
  mkdir -p "$root"/{bin,etc,tmp,var/run,usr/local/bin}
  chmod 1777 "$root/tmp"
  cp -L "$(command -v busybox)" "$root/bin/busybox"
  for applet in sh ls cat echo env sleep kill ps wget mkdir rm; do ln -s busybox "$root/bin/$applet"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\nhaproxy:x:99:99:haproxy:/var/lib/haproxy:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\nhaproxy:x:99:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  echo "$root"
}

import_root() {
  local root=$1 tag=$2
  shift 2
  tar -C "$root" -c . | docker import "$@" - "$tag" >/dev/null
  rm -rf "$root"
  log "built stand-in $tag ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

build_haproxy() {
  ensure_debian_package haproxy haproxy
  local root
  root=$(new_root)
  copy_with_libs "$root" "$(command -v haproxy)" /usr/local/sbin/haproxy
  ln -s /usr/local/sbin/haproxy "$root/usr/local/bin/haproxy"
  mkdir -p "$root/usr/local/etc/haproxy" "$root/var/lib/haproxy"
  import_root "$root" "$HAPROXY_IMAGE" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["haproxy","-f","/usr/local/etc/haproxy/haproxy.cfg"]'
}

build_registry() {
  ensure_debian_package docker-registry docker-registry
  local root
  root=$(new_root)
  copy_with_libs "$root" "$(command -v docker-registry)" /bin/registry
  mkdir -p "$root/etc/docker/registry" "$root/var/lib/registry"
  cat >"$root/etc/docker/registry/config.yml" <<'YML'
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
YML
  # Same argument handling as the upstream image's entrypoint.
  cat >"$root/entrypoint.sh" <<'SH'
#!/bin/sh
set -e
case "$1" in
  *.yaml|*.yml) set -- registry serve "$@" ;;
  serve|garbage-collect|help|-*) set -- registry "$@" ;;
esac
exec "$@"
SH
  chmod +x "$root/entrypoint.sh"
  ln -s /bin/registry "$root/usr/local/bin/registry"
  import_root "$root" "$REGISTRY_IMAGE" \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'EXPOSE 5000' \
    --change 'ENTRYPOINT ["/entrypoint.sh"]' \
    --change 'CMD ["/etc/docker/registry/config.yml"]'
}

build_etcd() {
  ensure_debian_package etcd etcd-server
  ensure_debian_package etcdctl etcd-client
  local root
  root=$(new_root)
  copy_with_libs "$root" "$(command -v etcd)" /usr/local/bin/etcd
  copy_with_libs "$root" "$(command -v etcdctl)" /usr/local/bin/etcdctl
  mkdir -p "$root/var/lib/etcd"
  import_root "$root" "$ETCD_IMAGE" \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV ETCDCTL_API=3' \
    --change 'EXPOSE 2379 2380' \
    --change 'CMD ["/usr/local/bin/etcd"]'
}

build_node() {
  local root node
  root=$(new_root)
  node=$(command -v node)
  copy_with_libs "$root" "$node" /usr/local/bin/node
  import_root "$root" "$NODE_IMAGE" \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'CMD ["node"]'
}

ensure() {
  local tag=$1 builder=$2
  if have_image "$tag"; then
    if has_shell "$tag"; then return 0; fi
    log "$tag has no shell (a stand-in built without busybox): building it again"
  elif [ "${GLINT_OFFLINE:-}" != "1" ] && try_pull "$tag"; then
    log "pulled $tag"
    return 0
  fi
  # Checked here: a failure inside new_root's command substitution would not stop the build.
  ensure_debian_package busybox busybox-static
  "$builder"
  has_shell "$tag" || { log "$tag was built but has no working shell"; exit 1; }
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(haproxy registry etcd node)
for t in "${targets[@]}"; do
  case "$t" in
    haproxy) ensure "$HAPROXY_IMAGE" build_haproxy ;;
    registry) ensure "$REGISTRY_IMAGE" build_registry ;;
    etcd) ensure "$ETCD_IMAGE" build_etcd ;;
    node) ensure "$NODE_IMAGE" build_node ;;
    *) echo "unknown image '$t' (expected haproxy, registry, etcd or node)" >&2; exit 2 ;;
  esac
done
