#!/usr/bin/env bash
# Edits the CoreDNS patch as code rather than as a diff.
#
#   hack/coredns-patch-diff.sh init    make a work tree: the pinned CoreDNS release with the
#                                      current patch applied, in bin/.build/coredns-<v>-work
#                                      (an existing work tree is left alone)
#   hack/coredns-patch-diff.sh         write coredns-patch/clusterip-annotation.patch from
#                                      the work tree: a unified diff against the release
#
# Edit and test inside the work tree (`go test ./plugin/kubernetes/...`), write the patch,
# then `make coredns coredns-test`: they apply it to a fresh copy of the release.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=versions.env
source "$root/hack/versions.env"
build="$root/bin/.build"
work=${VCDNS_COREDNS_WORK:-$build/coredns-$COREDNS_VERSION-work}
patch_file="$root/coredns-patch/clusterip-annotation.patch"
export GOFLAGS=-buildvcs=false GOWORK=off

mkdir -p "$build"
src=$(cd "$build" && go mod download -json "github.com/coredns/coredns@$COREDNS_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { echo "coredns-patch-diff.sh: no source for coredns $COREDNS_VERSION" >&2; exit 1; }

case "${1:-diff}" in
  init)
    if [ -e "$work" ]; then
      echo "$work exists, left alone (remove it to start over)" >&2
      exit 0
    fi
    cp -R "$src" "$work"
    chmod -R u+w "$work"
    if [ -s "$patch_file" ]; then
      GIT_CEILING_DIRECTORIES="$(dirname "$work")" git -C "$work" apply -p1 "$patch_file"
    fi
    echo "$work"
    ;;
  diff)
    [ -d "$work" ] || { echo "no work tree at $work: run $0 init" >&2; exit 1; }
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    ln -s "$src" "$tmp/a"
    ln -s "$work" "$tmp/b"
    # diff exits 1 when the trees differ. Timestamps are dropped so that the patch only
    # changes when its content does.
    (cd "$tmp" || exit; diff -ruN -x .vcdns-stamp -x '*.orig' -x '*.rej' a/ b/ || [ $? -eq 1 ]) |
      sed -E -e 's#^diff -ruN .* a/(.*) b/(.*)$#diff -ruN a/\1 b/\2#' \
        -e 's#^(---|\+\+\+) ([^\t]*)\t.*$#\1 \2#' > "$patch_file.tmp"
    mv "$patch_file.tmp" "$patch_file"
    echo "wrote $patch_file ($(grep -c '^diff ' "$patch_file") files)"
    ;;
  *) echo "usage: coredns-patch-diff.sh [init|diff]" >&2; exit 2 ;;
esac
