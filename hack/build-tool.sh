#!/usr/bin/env bash
# Builds one pinned upstream tool into bin/ from sources fetched through the Go module
# proxy. A built tool is reused until its pin (hack/versions.env) changes: the version
# it was built from is stamped next to it in bin/.stamp/<tool>.
#
#   hack/build-tool.sh kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy|kubectl|etcd|controller-gen
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=versions.env
source "$root/hack/versions.env"
bin="$root/bin"
build="$bin/.build"
mkdir -p "$bin/.stamp" "$build"

tool=${1:?usage: build-tool.sh TOOL}
case "$tool" in
  kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy|kubectl) pin="$KUBERNETES_VERSION" ;;
  etcd) pin="$ETCD_VERSION" ;;
  controller-gen) pin="$CONTROLLER_TOOLS_VERSION" ;;
  *) echo "build-tool.sh: unknown tool $tool" >&2; exit 2 ;;
esac
# The stamp also covers our own main.go, so that changing it rebuilds the tool.
main="$root/hack/tools/$tool/main.go"
stamp="$pin"
[ -f "$main" ] && stamp="$pin $(sha256sum "$main" | cut -c1-16)"
if [ -x "$bin/$tool" ] && [ "$(cat "$bin/.stamp/$tool" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi

log() { printf '==> %s\n' "$*" >&2; }
export GOFLAGS=-buildvcs=false GOWORK=off CGO_ENABLED=0

case "$tool" in
  kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy|kubectl)
    # k8s.io/kubernetes replaces its staging modules with local paths, so it cannot be
    # built with `go install`. A module of our own requires it and replaces every staging
    # module with its published release of the same line.
    dir="$build/kube-$KUBERNETES_VERSION"
    # The module is prepared once for all Kubernetes tools; .tools records which.
    kube_tools="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl"
    if [ ! -f "$dir/go.sum" ] || [ "$(cat "$dir/.tools" 2>/dev/null)" != "$kube_tools" ]; then
      log "preparing k8s.io/kubernetes $KUBERNETES_VERSION build module"
      rm -rf "$dir" && mkdir -p "$dir"
      gomod=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
      {
        echo "module vcdns.local/tools/kube"
        echo
        echo "go 1.25.0"
        echo
        echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
        echo
        sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/k8s.io/.*#replace \1 => \1 '"$KUBERNETES_STAGING_VERSION"'#p' "$gomod"
      } > "$dir/go.mod"
      for t in $kube_tools; do
        mkdir -p "$dir/cmd/$t" && cp "$root/hack/tools/$t/main.go" "$dir/cmd/$t/"
      done
      (cd "$dir" && go mod tidy)
      echo "$kube_tools" > "$dir/.tools"
    fi
    mkdir -p "$dir/cmd/$tool" && cp "$main" "$dir/cmd/$tool/"
    log "building $tool $KUBERNETES_VERSION (about 7 minutes cold, 1-2 minutes each after)"
    # The version stamped in, so that --version and skew checks tell the truth.
    minor=${KUBERNETES_VERSION#v*.}; minor=${minor%%.*}
    major=${KUBERNETES_VERSION#v}; major=${major%%.*}
    pkg=k8s.io/component-base/version
    ldflags="-X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/client-go/pkg/version.gitMajor=$major -X k8s.io/client-go/pkg/version.gitMinor=$minor"
    (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$bin/$tool" "./cmd/$tool")
    ;;
  etcd)
    dir="$build/etcd-$ETCD_VERSION"
    if [ ! -f "$dir/go.sum" ]; then
      log "preparing etcd $ETCD_VERSION build module"
      rm -rf "$dir" && mkdir -p "$dir"
      printf 'module vcdns.local/tools/etcd\n\ngo 1.25.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > "$dir/go.mod"
      cp "$main" "$dir/"
      (cd "$dir" && go mod tidy)
    fi
    cp "$main" "$dir/"
    log "building etcd $ETCD_VERSION (about 1 minute cold)"
    (cd "$dir" && go build -trimpath -o "$bin/etcd" .)
    ;;
  controller-gen)
    log "building controller-gen $CONTROLLER_TOOLS_VERSION"
    GOBIN="$bin" go install "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_TOOLS_VERSION"
    ;;
esac
echo "$stamp" > "$bin/.stamp/$tool"
log "built bin/$tool ($pin)"
