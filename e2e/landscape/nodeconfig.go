package landscape

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// The configuration files of a node, each rendered from its paths and address plan.
// What each setting is for is in REALNODES.md of the project's shared notes: most were
// a failure on these machines until set.

// containerdConfig: a containerd of its own per node (root, state, socket), the
// project's sandbox image, no negative OOM scores (the machines lack
// CAP_SYS_RESOURCE), cgroupfs, Pod network namespaces under the state folder, and
// the node's CNI folder.
func containerdConfig(root, state, socket, cniConf, sandboxImage string) string {
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q

[grpc]
  address = %[3]q

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = %[6]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[5]q
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = %[7]q
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %[4]q
`, root, state, socket, cniConf, sandboxImage, root+"/opt", state+"/runc")
}

// cniConfig: a bridge in the node's namespace with a range of Pod addresses per
// family, no masquerading (the landscape's network is flat), hairpin for a Pod that
// reaches itself through its Service.
func cniConfig(network, ipamDir string, podCIDRs []netip.Prefix) (string, error) {
	var ranges [][]map[string]string
	routes := []map[string]string{}
	for _, p := range podCIDRs {
		ranges = append(ranges, []map[string]string{{"subnet": p.String()}})
		dst := "0.0.0.0/0"
		if p.Addr().Is6() {
			dst = "::/0"
		}
		routes = append(routes, map[string]string{"dst": dst})
	}
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       network,
		"plugins": []any{
			map[string]any{
				"type":        "bridge",
				"bridge":      "cni0",
				"isGateway":   true,
				"ipMasq":      false,
				"hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": ipamDir,
					"ranges":  ranges,
					"routes":  routes,
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	return string(b), err
}

// kubeletConfig: cgroup v1 with cgroupfs under a root of the node's own, the node's
// containerd, the cluster's DNS, everything it writes under the node's folder, and
// eviction thresholds that a shared development machine does not trip.
func kubeletConfig(n Net, podLogsDir, caPath, socket, resolvConf, cgroupRoot string) string {
	var dns []string
	for _, ip := range n.ClusterDNSIPs() {
		dns = append(dns, fmt.Sprintf("%q", ip.String()))
	}
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %[1]q
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: %[2]q
authorization:
  mode: Webhook
cgroupDriver: cgroupfs
cgroupRoot: %[3]q
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: %[4]q
clusterDNS: [%[5]s]
clusterDomain: cluster.local
resolvConf: %[6]q
podLogsDir: %[7]q
syncFrequency: 10s
fileCheckFrequency: 0s
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 50Mi
  nodefs.available: "1%%"
  nodefs.inodesFree: "1%%"
  imagefs.available: "1%%"
evictionPressureTransitionPeriod: 5s
makeIPTablesUtilChains: true
shutdownGracePeriod: 0s
`, n.NodeIPs[0], caPath, cgroupRoot, "unix://"+socket, strings.Join(dns, ", "), resolvConf, podLogsDir)
}

// kubeProxyConfig: iptables mode in the node's namespace, and conntrack settings that
// make it write no (host-wide) sysctls.
func kubeProxyConfig(n Net, kubeconfig, nodeName string) string {
	var cidrs []string
	for _, p := range n.PodCIDRs {
		cidrs = append(cidrs, p.String())
	}
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %[1]q
hostnameOverride: %[2]q
mode: iptables
clusterCIDR: %[3]q
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
iptables:
  localhostNodePorts: false
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, kubeconfig, nodeName, strings.Join(cidrs, ","))
}
