package landscape

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// The landscape's network is flat, as kind's docker network is: every node lives in a
// network namespace of its own, linked to the host by a veth pair, and the host routes
// each node's Pod, Service and load-balancer ranges to it. A Pod of any cluster reaches
// Pods, ClusterIPs and load-balancer addresses of every other cluster, and its own
// cluster's API server at the host's end of its veth.
//
// The addresses of a node come from its slot k (1..maxSlot), taken for the lifetime of
// the node under a lock file in runDir, so that landscapes of concurrent test binaries
// never share one:
//
//	link       host 172.30.k.1/24, node 172.30.k.2/24     fd00:30:k::1/64, ::2
//	Pods       10.(128+k).0.0/16                          fd00:10:(128+k)::/64
//	Services   10.(192+k).0.0/16                          fd00:10:(192+k)::/112
//	LB pool    172.31.k.0/24                              fd00:31:k::/112
const maxSlot = 60

// runDir holds the landscape's host-wide state: slot locks and the nodes' containerd
// sockets and state (short paths: unix sockets are limited to 108 bytes).
const runDir = "/run/vcdns"

// Net is the address plan of one node's slot.
type Net struct {
	Slot int
	// Namespace is the network namespace of the node (/var/run/netns/<Namespace>), and
	// HostLink the host's end of its veth pair.
	Namespace, HostLink string
	// HostIP and NodeIP are the two ends of the veth pair (IPv4, and IPv6 with dual
	// stack at index 1).
	HostIPs, NodeIPs []netip.Addr
	PodCIDRs         []netip.Prefix
	ServiceCIDRs     []netip.Prefix
	// LBPools are handed out to LoadBalancer Services, Gateways and Ingresses; the host
	// routes them to the node, where kube-proxy serves them.
	LBPools []netip.Prefix
}

func slotNet(k int, dualStack bool) Net {
	n := Net{
		Slot:         k,
		Namespace:    fmt.Sprintf("vcdns-%d", k),
		HostLink:     fmt.Sprintf("vcdns-%d", k),
		HostIPs:      []netip.Addr{netip.MustParseAddr(fmt.Sprintf("172.30.%d.1", k))},
		NodeIPs:      []netip.Addr{netip.MustParseAddr(fmt.Sprintf("172.30.%d.2", k))},
		PodCIDRs:     []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/16", 128+k))},
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/16", 192+k))},
		LBPools:      []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("172.31.%d.0/24", k))},
	}
	if dualStack {
		n.HostIPs = append(n.HostIPs, netip.MustParseAddr(fmt.Sprintf("fd00:30:%d::1", k)))
		n.NodeIPs = append(n.NodeIPs, netip.MustParseAddr(fmt.Sprintf("fd00:30:%d::2", k)))
		n.PodCIDRs = append(n.PodCIDRs, netip.MustParsePrefix(fmt.Sprintf("fd00:10:%d::/64", 128+k)))
		n.ServiceCIDRs = append(n.ServiceCIDRs, netip.MustParsePrefix(fmt.Sprintf("fd00:10:%d::/112", 192+k)))
		n.LBPools = append(n.LBPools, netip.MustParsePrefix(fmt.Sprintf("fd00:31:%d::/112", k)))
	}
	return n
}

// NetnsPath is the path of the node's network namespace, for nsenter --net.
func (n Net) NetnsPath() string { return "/var/run/netns/" + n.Namespace }

// ClusterDNSIPs are the addresses of the cluster's own DNS Service (the tenth of each
// Service range, as kubeadm's 10.96.0.10).
func (n Net) ClusterDNSIPs() []netip.Addr {
	var ips []netip.Addr
	for _, p := range n.ServiceCIDRs {
		ip := p.Addr()
		for range 10 {
			ip = ip.Next()
		}
		ips = append(ips, ip)
	}
	return ips
}

// slotLock is a slot taken by this process: an exclusive flock on runDir/slots/<k>.
type slotLock struct {
	k    int
	path string
	f    *os.File
}

// takeSlot takes the lowest free slot. A slot's lock is held by the open file, so the
// slot of a process that died is free again; whatever that process left behind is
// removed before the slot is used (see sweepSlot).
func takeSlot() (*slotLock, error) {
	dir := filepath.Join(runDir, "slots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for k := 1; k <= maxSlot; k++ {
		path := filepath.Join(dir, fmt.Sprint(k))
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		// The holder before us may have removed the file between our open and our lock.
		var held, now syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &held) != nil || syscall.Stat(path, &now) != nil || held.Ino != now.Ino {
			f.Close()
			k--
			continue
		}
		return &slotLock{k: k, path: path, f: f}, nil
	}
	return nil, fmt.Errorf("all %d node slots of %s are taken", maxSlot, dir)
}

// release gives the slot back; the last slot to go restores the host's forwarding
// settings and removes the landscape's folders of runDir.
func (s *slotLock) release() {
	_ = os.Remove(s.path)
	s.f.Close()
	restoreHostForwarding()
	_ = os.Remove(filepath.Dir(s.path))
	_ = os.Remove(runDir)
}

// run runs a command and returns its error with its output.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// inNetns runs a command in the node's network namespace.
func (n Net) inNetns(name string, args ...string) error {
	return run("nsenter", append([]string{"--net=" + n.NetnsPath(), "--", name}, args...)...)
}

// setup creates the namespace, the veth pair, addresses, forwarding and routes.
func (n Net) setup() error {
	steps := [][]string{
		{"ip", "netns", "add", n.Namespace},
		{"ip", "link", "add", n.HostLink, "type", "veth", "peer", "name", "eth0", "netns", n.Namespace},
	}
	for i := range n.HostIPs {
		host := []string{"ip", "addr", "add", n.HostIPs[i].String() + "/24", "dev", n.HostLink}
		node := []string{"ip", "-n", n.Namespace, "addr", "add", n.NodeIPs[i].String() + "/24", "dev", "eth0"}
		if n.HostIPs[i].Is6() {
			host[3], node[5] = n.HostIPs[i].String()+"/64", n.NodeIPs[i].String()+"/64"
			host, node = append(host, "nodad"), append(node, "nodad")
		}
		steps = append(steps, host, node)
	}
	steps = append(steps,
		[]string{"ip", "link", "set", n.HostLink, "up"},
		[]string{"ip", "-n", n.Namespace, "link", "set", "lo", "up"},
		[]string{"ip", "-n", n.Namespace, "link", "set", "eth0", "up"},
	)
	for i := range n.HostIPs {
		fam := "-4"
		if n.HostIPs[i].Is6() {
			fam = "-6"
		}
		steps = append(steps, []string{"ip", fam, "-n", n.Namespace, "route", "add", "default", "via", n.HostIPs[i].String(), "dev", "eth0"})
	}
	for _, s := range steps {
		if err := run(s[0], s[1:]...); err != nil {
			return err
		}
	}
	// Forwarding in the node (Pods and Service addresses behind it) and on the host
	// (between nodes). Bridged traffic passes iptables, for kube-proxy's hairpin DNAT.
	// IPv6 addresses are used at once, without duplicate address detection.
	sysctls := []string{"net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1"}
	if len(n.HostIPs) > 1 {
		sysctls = append(sysctls, "net.ipv6.conf.all.forwarding=1", "net.bridge.bridge-nf-call-ip6tables=1")
	}
	for _, s := range sysctls {
		if err := n.inNetns("sysctl", "-qw", s); err != nil {
			return err
		}
	}
	if err := enableHostForwarding(len(n.HostIPs) > 1); err != nil {
		return err
	}
	for i := range n.NodeIPs {
		via := n.NodeIPs[i].String()
		for _, p := range []netip.Prefix{n.PodCIDRs[i], n.ServiceCIDRs[i], n.LBPools[i]} {
			if err := run("ip", "route", "replace", p.String(), "via", via, "dev", n.HostLink); err != nil {
				return err
			}
		}
	}
	return nil
}

// enableHostForwarding turns on IP forwarding on the host, recording the values it
// found in runDir so that the last node to go restores them.
func enableHostForwarding(v6 bool) error {
	keys := []string{"net/ipv4/ip_forward"}
	if v6 {
		keys = append(keys, "net/ipv6/conf/all/forwarding")
	}
	for _, k := range keys {
		saved := filepath.Join(runDir, "sysctl", strings.ReplaceAll(k, "/", "."))
		if _, err := os.Stat(saved); os.IsNotExist(err) {
			old, err := os.ReadFile(filepath.Join("/proc/sys", k))
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(saved), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(saved, old, 0o644); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join("/proc/sys", k), []byte("1\n"), 0o644); err != nil {
			return fmt.Errorf("enabling forwarding (%s): %w", k, err)
		}
	}
	return nil
}

// restoreHostForwarding puts back the forwarding settings the first node found, once
// no slot is taken any more.
func restoreHostForwarding() {
	if entries, _ := os.ReadDir(filepath.Join(runDir, "slots")); len(entries) > 0 {
		return
	}
	dir := filepath.Join(runDir, "sysctl")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		old, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil {
			_ = os.WriteFile(filepath.Join("/proc/sys", strings.ReplaceAll(e.Name(), ".", "/")), old, 0o644)
		}
		_ = os.Remove(filepath.Join(dir, e.Name()))
	}
	_ = os.Remove(dir)
}

// teardown removes the namespace; the veth pair, and the host routes through it, go
// with it.
func (n Net) teardown() error {
	var errs []error
	if _, err := os.Stat(n.NetnsPath()); err == nil {
		if err := run("ip", "netns", "delete", n.Namespace); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := os.Stat("/sys/class/net/" + n.HostLink); err == nil {
		if err := run("ip", "link", "delete", n.HostLink); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
