#!/usr/bin/env bash
# Builds CoreDNS from the release pinned in hack/versions.env (COREDNS_VERSION), fetched
# through the Go module proxy:
#
#   bin/coredns           the release plus coredns-patch/*.patch (the clusterip_annotation
#                         option of the kubernetes plugin)
#   bin/coredns-upstream  the same release, unpatched, for comparisons
#
# The source is copied from the module cache into bin/.build/, made writable, patched
# (git apply -p1) and built there with its own go.mod and go.sum. A binary is reused
# until its stamp in bin/.stamp/ changes: the version, plus the sha256 of the patch for
# bin/coredns.
#
#   hack/build-coredns.sh            build both binaries (if needed)
#   hack/build-coredns.sh test       run `go test ./plugin/kubernetes/...` in the patched tree
#   hack/build-coredns.sh tree       print the patched tree's folder (prepared if needed)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=versions.env
source "$root/hack/versions.env"
bin="$root/bin"
build="$bin/.build"
patches=("$root"/coredns-patch/*.patch)
mkdir -p "$bin/.stamp" "$build"

log() { printf '==> %s\n' "$*" >&2; }
export GOFLAGS=-buildvcs=false GOWORK=off CGO_ENABLED=0

# The sha256 of all patches, in the order they are applied.
patch_sum=$(cat "${patches[@]}" | sha256sum | cut -d' ' -f1)
upstream_tree="$build/coredns-$COREDNS_VERSION"
patched_tree="$build/coredns-$COREDNS_VERSION-patched"

# source prints the folder of the pinned release in the module cache.
source_dir() {
  local dir
  dir=$(cd "$build" && go mod download -json "github.com/coredns/coredns@$COREDNS_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { echo "build-coredns.sh: no source for coredns $COREDNS_VERSION" >&2; exit 1; }
  echo "$dir"
}

# apply_patch TREE PATCH applies a unified diff (-p1) without fuzz. git apply outside
# of any repository (the ceiling keeps it from finding ours) works where patch(1) is
# not installed.
apply_patch() {
  GIT_CEILING_DIRECTORIES="$(dirname "$1")" git -C "$1" apply -p1 "$2"
}

# prepare TREE [PATCHED]: a fresh writable copy of the release, patched if asked. The
# tree records what it holds in .vcdns-stamp, so an unchanged tree is reused.
prepare() {
  local tree=$1 stamp=$2 patched=${3:-}
  if [ -f "$tree/.vcdns-stamp" ] && [ "$(cat "$tree/.vcdns-stamp")" = "$stamp" ]; then
    return
  fi
  log "preparing $(basename "$tree")"
  rm -rf "$tree"
  cp -R "$(source_dir)" "$tree"
  chmod -R u+w "$tree"
  if [ -n "$patched" ]; then
    local p
    for p in "${patches[@]}"; do
      log "applying $(basename "$p")"
      apply_patch "$tree" "$p"
    done
  fi
  echo "$stamp" > "$tree/.vcdns-stamp"
}

# build NAME TREE STAMP [PATCHED]
build() {
  local name=$1 tree=$2 stamp=$3 patched=${4:-}
  if [ -x "$bin/$name" ] && [ "$(cat "$bin/.stamp/$name" 2>/dev/null)" = "$stamp" ]; then
    return
  fi
  prepare "$tree" "$stamp" "$patched"
  local commit="$COREDNS_VERSION"
  [ -n "$patched" ] && commit="$COREDNS_VERSION+clusterip-annotation.${patch_sum:0:12}"
  log "building $name from coredns $COREDNS_VERSION (about 3 minutes cold)"
  (cd "$tree" && go build -trimpath \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$commit" \
    -o "$bin/$name" .)
  echo "$stamp" > "$bin/.stamp/$name"
  log "built bin/$name ($stamp)"
}

case "${1:-build}" in
  build)
    build coredns-upstream "$upstream_tree" "$COREDNS_VERSION"
    build coredns "$patched_tree" "$COREDNS_VERSION $patch_sum" patched
    ;;
  test)
    prepare "$patched_tree" "$COREDNS_VERSION $patch_sum" patched
    log "testing ./plugin/kubernetes/... of the patched coredns $COREDNS_VERSION"
    (cd "$patched_tree" && go test -count=1 ./plugin/kubernetes/...)
    ;;
  tree)
    prepare "$patched_tree" "$COREDNS_VERSION $patch_sum" patched
    echo "$patched_tree"
    ;;
  *) echo "usage: build-coredns.sh [build|test|tree]" >&2; exit 2 ;;
esac
