#!/usr/bin/env bash
# The kind demo: vcdns on real clusters in containers. See usage below.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=versions.env
source "$root/hack/versions.env"

prefix=${KIND_DEMO_PREFIX:-vcdns}
out="$root/_output/kind-demo"
# Pinned versions of what the demo installs besides vcdns.
cloud_provider_kind_image=${CLOUD_PROVIDER_KIND_IMAGE:-registry.k8s.io/cloud-provider-kind/cloud-controller-manager:v0.10.0}
envoy_gateway_version=${ENVOY_GATEWAY_VERSION:-v1.7.2}
dnsutils_image=${DNSUTILS_IMAGE:-registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7}
node_image=${KIND_NODE_IMAGE:-}
# The Gateway API version of go.mod, for the tenant control plane's CRDs.
gateway_api_version=$(sed -n 's/^[[:space:]]*sigs\.k8s\.io\/gateway-api \(v[^ ]*\).*/\1/p' "$root/go.mod")

# The images of `make images` (images/), loaded from their tarballs: the same build
# path as the local landscape's, no Dockerfile.
syncer_image=ghcr.io/vcdns/syncer:dev
coredns_image=ghcr.io/vcdns/coredns:$COREDNS_VERSION-vcdns
images_dir="$root/_output/images"
mcp_namespace=mcp-d99bb272-f1e2-8297-8a42-8b0ff70fcfec # bin/syncer mcp-namespace team-a mcp1

# The clusters, by role: kind cluster name suffix and service range (each its own, so
# that an IP of the workload cluster can be told from one of the tenant).
clusters=(platform workload-1 workload-2 tenant-1)
declare -A service_subnet=([platform]=10.96.0.0/16 [workload-1]=10.97.0.0/16 [workload-2]=10.98.0.0/16 [tenant-1]=10.99.0.0/16)
declare -A pod_subnet=([platform]=10.240.0.0/16 [workload-1]=10.241.0.0/16 [workload-2]=10.242.0.0/16 [tenant-1]=10.243.0.0/16)

usage() {
  cat <<EOF
Usage: hack/kind-demo.sh [up|down|help]        (make demo-kind runs "up")

NEEDS A CONTAINER ENGINE. This demo runs kind clusters, which are containers: it needs
a running Docker (or Podman with KIND_EXPERIMENTAL_PROVIDER=podman), kind and kubectl,
and network access to pull images. The development machines of this project have no
container engine, so it cannot run there: it stops at once when "docker info" fails.
There, "make test" applies the same manifests to a real kube-apiserver of the local
landscape (config/apply_test.go) and "make demo" runs the flows on local processes.

up (the default) builds and starts, in order:
  1. the images ${syncer_image} and ${coredns_image} with "make images"
     (tarballs in _output/images, no container engine needed for this step);
  2. four kind clusters: ${prefix}-platform, ${prefix}-workload-1,
     ${prefix}-workload-2 and ${prefix}-tenant-1 (the API server of the tenant control
     plane team-a/mcp1), each with its own service range;
  3. cloud-provider-kind (${cloud_provider_kind_image}) for LoadBalancer
     Services, and Envoy Gateway ${envoy_gateway_version} (GatewayClass "eg") on both workload
     clusters; the Gateway API ${gateway_api_version} CRDs in the tenant control plane;
  4. on the platform: the images loaded with "kind load", config/default applied, the
     central etcd's certificates made with openssl (a CA, etcd's serving and peer
     certificates, client certificates for the syncer and the central CoreDNS) into
     the Secrets it mounts, the syncer given --central-dns-address (the central DNS's
     load-balancer address);
  5. config/samples applied with the placeholder kubeconfigs replaced by real ones
     (cluster-admin of each kind cluster, server at its docker-network address), a
     LoadBalancer Service ingress/gateway on both workload clusters for the GatewayDNS,
     and config/samples/tenant applied to the tenant control plane;
  6. checks, each waited for: the Clusters and the MCP Ready, the tenant Service's
     clusterIP annotation, the tenant Gateway's addresses, my-nginx answered by the
     tenant DNS, app.workload-1.openmcp.cluster resolved from a Pod on workload-2.

Kubeconfigs and rendered overlays go to _output/kind-demo/. "up" can be run again: it
reuses what exists. "down" deletes the clusters and the cloud-provider-kind container.

Environment: KIND_DEMO_PREFIX (${prefix}), KIND_NODE_IMAGE (kind's default),
CLOUD_PROVIDER_KIND_IMAGE, ENVOY_GATEWAY_VERSION, DNSUTILS_IMAGE.
EOF
}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'kind-demo: %s\n' "$*" >&2; exit 1; }

preflight() {
  command -v docker >/dev/null 2>&1 ||
    die "no docker command: the kind demo needs a container engine, and cannot run on a machine without one (see --help)"
  if ! docker info >/dev/null 2>&1; then
    die "\"docker info\" failed: no container engine is running here. The kind demo cannot run on this machine (see --help); \"make test\" and \"make demo\" run vcdns on local processes instead."
  fi
  local tool
  for tool in kind kubectl openssl; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (the kind demo needs docker, kind, kubectl and openssl)"
  done
  [ -n "$gateway_api_version" ] || die "no sigs.k8s.io/gateway-api version in go.mod"
  mkdir -p "$out"
}

# retry SECONDS DESCRIPTION COMMAND...: runs COMMAND every 3 seconds until it succeeds.
retry() {
  local timeout=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "last attempt of: $*"
      "$@" || true
      die "timed out after ${timeout}s waiting for $what"
    fi
    sleep 3
  done
  log "ok: $what"
}

kc() { echo "$out/$1.kubeconfig"; }
k() {
  local cluster=$1
  shift
  kubectl --kubeconfig "$(kc "$cluster")" "$@"
}

build_images() {
  log "building the images with make images (make coredns: a few minutes cold)"
  make -C "$root" images
}

create_clusters() {
  local c name config
  for c in "${clusters[@]}"; do
    name="$prefix-$c"
    if kind get clusters 2>/dev/null | grep -qx "$name"; then
      log "cluster $name exists"
    else
      config="$out/$c.kind.yaml"
      cat >"$config" <<EOF
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  serviceSubnet: ${service_subnet[$c]}
  podSubnet: ${pod_subnet[$c]}
EOF
      log "creating cluster $name (services ${service_subnet[$c]})"
      kind create cluster --name "$name" --config "$config" --wait 3m ${node_image:+--image "$node_image"} --kubeconfig "$(kc "$c")"
    fi
    kind get kubeconfig --name "$name" >"$(kc "$c")"
  done
}

# internal_kubeconfig CLUSTER: a kubeconfig whose server is the control-plane
# container's address on the docker network "kind", reachable from Pods of the other
# clusters (the API server's certificate names that address).
internal_kubeconfig() {
  local c=$1 node ip
  node="$prefix-$c-control-plane"
  ip=$(docker inspect -f '{{with index .NetworkSettings.Networks "kind"}}{{.IPAddress}}{{end}}' "$node")
  [ -n "$ip" ] || die "no address of $node on the docker network kind"
  kind get kubeconfig --internal --name "$prefix-$c" | sed "s#server: https://.*#server: https://$ip:6443#"
}

start_cloud_provider_kind() {
  local name="$prefix-cloud-provider-kind"
  if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = true ]; then
    log "cloud-provider-kind is running"
    return
  fi
  docker rm -f "$name" >/dev/null 2>&1 || true
  log "starting cloud-provider-kind ($cloud_provider_kind_image)"
  docker run -d --name "$name" --network kind \
    -v /var/run/docker.sock:/var/run/docker.sock "$cloud_provider_kind_image" >/dev/null
}

install_gateways() {
  local c
  for c in workload-1 workload-2; do
    log "installing Envoy Gateway $envoy_gateway_version on $c"
    k "$c" apply --server-side --force-conflicts \
      -f "https://github.com/envoyproxy/gateway/releases/download/$envoy_gateway_version/install.yaml" >/dev/null
    k "$c" -n envoy-gateway-system wait --for=condition=Available deployment/envoy-gateway --timeout=5m
    k "$c" apply --server-side -f - <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: eg
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
EOF
    # The Service the sample GatewayDNS names on every selected cluster.
    k "$c" apply --server-side -f - <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: ingress
---
apiVersion: v1
kind: Service
metadata:
  name: gateway
  namespace: ingress
spec:
  type: LoadBalancer
  selector:
    app: gateway
  ports:
  - name: http
    port: 80
EOF
  done
  log "installing the Gateway API $gateway_api_version CRDs in the tenant control plane"
  k tenant-1 apply --server-side \
    -f "https://github.com/kubernetes-sigs/gateway-api/releases/download/$gateway_api_version/standard-install.yaml" >/dev/null
}

central_dns_address() {
  k platform -n vcdns-system get service vcdns-central-dns -o jsonpath='{.status.loadBalancer.ingress[0].ip}'
}

has_central_dns_address() { [ -n "$(central_dns_address)" ]; }

# etcd_certs: the central etcd's CA and certificates, made with openssl into
# $out/etcd-pki (kept across runs), as the Secrets config/central-dns and
# config/syncer mount, in the layout of a cert-manager Certificate's Secret (ca.crt,
# tls.crt, tls.key). A platform with cert-manager makes them with
# config/samples/cert-manager instead.
etcd_certs() {
  local dir="$out/etcd-pki" ns=vcdns-system
  mkdir -p "$dir"
  if [ ! -f "$dir/ca.crt" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj /CN=vcdns-etcd-ca -addext basicConstraints=critical,CA:TRUE \
      -addext keyUsage=critical,keyCertSign,digitalSignature \
      -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  fi
  local peer="DNS:*.vcdns-etcd-peer.$ns.svc,DNS:*.vcdns-etcd-peer.$ns.svc.cluster.local"
  etcd_cert "$dir" server vcdns-etcd serverAuth \
    "DNS:vcdns-etcd.$ns.svc,DNS:vcdns-etcd.$ns.svc.cluster.local,$peer,DNS:localhost,IP:127.0.0.1"
  # Towards each other, members are clients too.
  etcd_cert "$dir" peer vcdns-etcd-peer serverAuth,clientAuth "$peer"
  etcd_cert "$dir" syncer vcdns-syncer clientAuth
  etcd_cert "$dir" central-dns vcdns-central-dns clientAuth
  local pair secret name
  for pair in vcdns-etcd-server-tls:server vcdns-etcd-peer-tls:peer vcdns-etcd-client-tls:syncer vcdns-central-dns-etcd-client-tls:central-dns; do
    secret=${pair%%:*} name=${pair##*:}
    k platform -n "$ns" create secret generic "$secret" --type=kubernetes.io/tls \
      --from-file=ca.crt="$dir/ca.crt" --from-file=tls.crt="$dir/$name.crt" --from-file=tls.key="$dir/$name.key" \
      --dry-run=client -o yaml | k platform apply --server-side -f - >/dev/null
  done
}

# etcd_cert DIR NAME CN USAGES [SANS]: a key and a certificate signed by the CA in DIR.
etcd_cert() {
  local dir=$1 name=$2 cn=$3 usages=$4 sans=${5:-}
  [ -f "$dir/$name.crt" ] && return
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  {
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$usages"
    if [ -n "$sans" ]; then echo "subjectAltName=$sans"; fi
  } >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 365 -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null
}

deploy_platform() {
  log "loading the images into $prefix-platform"
  kind load image-archive --name "$prefix-platform" "$images_dir/syncer.tar"
  kind load image-archive --name "$prefix-platform" "$images_dir/coredns.tar"
  kind load image-archive --name "$prefix-platform" "$images_dir/etcd.tar"
  # The overlay make demo deploys with (vcdnsenv.Overlay): config/default with the
  # images of make images, loaded above and never pulled.
  log "applying config/default with the demo's overlay ($out/default)"
  "$root/bin/vcdns-demo" overlay -dir "$out/default" >/dev/null
  k platform apply --server-side -k "$out/default"
  # The Pods of etcd, the central CoreDNS and the syncer wait for these.
  log "making the central etcd's certificates (openssl, $out/etcd-pki)"
  etcd_certs
  retry 300 "a load-balancer address of the central DNS" has_central_dns_address
  local address
  address=$(central_dns_address)
  # The same overlay, plus the one flag only a running landscape can tell.
  log "the central DNS is at $address; giving it to the syncer"
  "$root/bin/vcdns-demo" overlay -dir "$out/default" -central-dns-address "$address" >/dev/null
  k platform apply --server-side -k "$out/default"
  k platform -n vcdns-system rollout status statefulset/vcdns-etcd --timeout=5m
  k platform -n vcdns-system rollout status deployment/vcdns-central-dns --timeout=5m
  k platform -n vcdns-system rollout status deployment/vcdns-syncer --timeout=5m
}

# secret_patch NAME NAMESPACE CLUSTER: a patch giving the sample kubeconfig Secret the
# real kubeconfig of CLUSTER.
secret_patch() {
  local name=$1 namespace=$2 cluster=$3
  cat <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: $name
  namespace: $namespace
stringData:
  kubeconfig: |
$(internal_kubeconfig "$cluster" | sed 's/^/    /')
EOF
}

register() {
  mkdir -p "$out/samples"
  secret_patch workload-1-kubeconfig vcdns-system workload-1 >"$out/samples/workload-1-kubeconfig.yaml"
  secret_patch workload-2-kubeconfig vcdns-system workload-2 >"$out/samples/workload-2-kubeconfig.yaml"
  secret_patch mcp1-kubeconfig team-a tenant-1 >"$out/samples/mcp1-kubeconfig.yaml"
  cat >"$out/samples/kustomization.yaml" <<'EOF'
# Generated by hack/kind-demo.sh: config/samples with real kubeconfigs.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../../config/samples
patches:
- path: workload-1-kubeconfig.yaml
- path: workload-2-kubeconfig.yaml
- path: mcp1-kubeconfig.yaml
EOF
  log "registering workload-1, workload-2 and the MCP team-a/mcp1 (config/samples)"
  k platform apply --server-side -k "$out/samples"
  log "creating the tenant's objects in its control plane (config/samples/tenant)"
  k tenant-1 apply --server-side -k "$root/config/samples/tenant"
}

# Checks -------------------------------------------------------------------------

tenant_service_ip() {
  k tenant-1 -n default get service my-nginx -o jsonpath='{.metadata.annotations.transparency\.tenancy\.x-k8s\.io/clusterIP}'
}
has_tenant_service_ip() { [ -n "$(tenant_service_ip)" ]; }
has_tenant_gateway_address() {
  [ -n "$(k tenant-1 -n default get gateway web -o jsonpath='{.status.addresses[0].value}')" ]
}

# dig_from CLUSTER NAMESPACE DIG-ARGS...: runs dig in a throwaway Pod.
dig_from() {
  local cluster=$1 namespace=$2
  shift 2
  k "$cluster" -n "$namespace" run "dig-$RANDOM" --image="$dnsutils_image" --restart=Never --rm -i --quiet \
    --command -- dig +short +time=2 +tries=2 "$@"
}
resolves() { dig_from "$@" | grep -qE '^[0-9a-f.:]+$'; }

check() {
  k platform -n vcdns-system wait --for=condition=Ready cluster/workload-1 cluster/workload-2 --timeout=5m
  k platform -n team-a wait --for=condition=Ready managedcontrolplane/mcp1 --timeout=5m
  retry 300 "the clusterIP annotation on the tenant Service default/my-nginx" has_tenant_service_ip
  log "my-nginx: tenant cluster IP $(k tenant-1 -n default get service my-nginx -o jsonpath='{.spec.clusterIP}'), real (workload-1) $(tenant_service_ip)"
  retry 300 "an address on the tenant Gateway default/web" has_tenant_gateway_address
  local tenant_dns="@vcdns-tenant-dns.$mcp_namespace.svc.cluster.local"
  retry 300 "my-nginx.default.svc.cluster.local from the tenant DNS" \
    resolves platform default "$tenant_dns" my-nginx.default.svc.cluster.local
  log "tenant DNS: my-nginx.default.svc.cluster.local -> $(dig_from platform default "$tenant_dns" my-nginx.default.svc.cluster.local | tr '\n' ' ')"
  retry 300 "app.workload-1.openmcp.cluster from a Pod on workload-2" resolves workload-2 default app.workload-1.openmcp.cluster
  log "from workload-2: app.workload-1.openmcp.cluster -> $(dig_from workload-2 default app.workload-1.openmcp.cluster | tr '\n' ' ')"
}

summary() {
  cat <<EOF

The kind demo is up. Kubeconfigs are in $out:
  platform   kubectl --kubeconfig $(kc platform) get clusters,mcp,gatewaydnses -A
  tenant     kubectl --kubeconfig $(kc tenant-1) get service,gateway,ingress -n default
  workloads  kubectl --kubeconfig $(kc workload-1) get all -n $mcp_namespace
Ask the GatewayDNS names from any cluster, e.g.
  kubectl --kubeconfig $(kc workload-1) run -i --rm --restart=Never q --image=$dnsutils_image -- \\
    dig +short app.gateway.workload-2.team-a.clusters.openmcp.cluster
Delete everything with: hack/kind-demo.sh down
EOF
}

up() {
  preflight
  build_images
  create_clusters
  start_cloud_provider_kind
  install_gateways
  deploy_platform
  register
  check
  summary
}

down() {
  preflight
  local c
  for c in "${clusters[@]}"; do
    kind delete cluster --name "$prefix-$c"
  done
  docker rm -f "$prefix-cloud-provider-kind" >/dev/null 2>&1 || true
  rm -rf "$out"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  help | -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
