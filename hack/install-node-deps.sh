#!/usr/bin/env bash
# Installs the Debian packages the landscape's nodes need, when they are missing:
# containerd and runc (the container runtime), containernetworking-plugins (bridge,
# host-local, loopback and portmap in /usr/lib/cni), iptables and conntrack (for
# kube-proxy and the kubelet) and iproute2 (network namespaces and veths); the static
# busybox of the test image (make images); and the script checker that `make lint`
# runs over the project's scripts.
#
# Called by `make` (the images, node and test targets) and so by .ci/run; never needed
# by hand. Without root, or off Debian, it says why and exits 0: the node tests then
# skip with that reason, or fail where CI=true.
set -euo pipefail

need=()
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v iptables >/dev/null || need+=(iptables)
command -v conntrack >/dev/null || need+=(conntrack)
command -v ip >/dev/null || need+=(iproute2)
command -v shellcheck >/dev/null || need+=(shellcheck)
# The test image's shell, nslookup and wget (make images).
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-node-deps.sh: missing ${need[*]}, and cannot install them (needs root and apt-get): nodes will not start" >&2
  exit 0
fi
echo "==> installing ${need[*]} (Debian packages for the landscape's nodes)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The packages would start a system containerd where an init system runs; the landscape
# runs its own, one per node, and needs none.
policy=/usr/sbin/policy-rc.d
cleanup_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && cleanup_policy=1
fi
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
[ -n "$cleanup_policy" ] && rm -f "$policy"
echo "==> installed ${need[*]}" >&2
