package landscape

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// HostState lists, per kind, what a landscape with nodes can leave on the host: network
// namespaces, links, routes, firewall rules, mounts, cgroups, node processes, the
// state folders of nodes, containerd, CNI and the kubelet, and forwarding settings.
// Compare one taken before a landscape with one taken after its Stop (Leftovers).
// Only processes of node programs are listed (by program name), so that control
// planes of other landscapes running at the same time do not count.
func HostState() (map[string][]string, error) {
	s := map[string][]string{}
	lines := func(kind, name string, args ...string) error {
		out, err := exec.Command(name, args...).Output()
		if err != nil {
			return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				s[kind] = append(s[kind], l)
			}
		}
		return nil
	}
	for kind, cmd := range map[string][]string{
		"netns":     {"ip", "netns", "list"},
		"links":     {"ip", "-o", "link", "show"},
		"routes":    {"ip", "route", "show", "table", "all"},
		"routes6":   {"ip", "-6", "route", "show", "table", "all"},
		"iptables":  {"iptables-save"},
		"ip6tables": {"ip6tables-save"},
		"nftables":  {"nft", "list", "ruleset"},
		"addresses": {"ip", "-o", "addr", "show"},
	} {
		if kind == "nftables" {
			if _, err := exec.LookPath("nft"); err != nil {
				continue
			}
		}
		if err := lines(kind, cmd[0], cmd[1:]...); err != nil {
			return nil, err
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, p := range procs {
		comm, err := os.ReadFile(p)
		if err != nil {
			continue // ended meanwhile
		}
		switch name := strings.TrimSpace(string(comm)); name {
		case "containerd", "containerd-shim", "kubelet", "kube-proxy", "vcdns-probe":
			s["node-process"] = append(s["node-process"], filepath.Base(filepath.Dir(p))+" "+name)
		}
	}
	// Drop the link and address indexes, so that renumbering does not count.
	for i, l := range s["links"] {
		if _, rest, ok := strings.Cut(l, ": "); ok {
			s["links"][i] = rest
		}
	}
	for i, l := range s["addresses"] {
		if _, rest, ok := strings.Cut(l, ": "); ok {
			s["addresses"][i] = strings.Split(rest, " valid_lft")[0]
		}
	}
	mounts, err := Mounts()
	if err != nil {
		return nil, err
	}
	s["mounts"] = mounts
	hs, err := hierarchies()
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		entries, _ := os.ReadDir(h)
		for _, e := range entries {
			if e.IsDir() {
				s["cgroups"] = append(s["cgroups"], filepath.Join(h, e.Name()))
			}
		}
	}
	for _, p := range []string{runDir, "/run/containerd", "/var/lib/cni", "/var/lib/kubelet", "/var/lib/containerd", podLogsLink, "/var/log/pods", "/etc/cni"} {
		if _, err := os.Stat(p); err == nil {
			s["paths"] = append(s["paths"], p)
		}
	}
	for _, k := range []string{"net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding"} {
		b, err := os.ReadFile(filepath.Join("/proc/sys", k))
		if err != nil {
			return nil, err
		}
		s["sysctls"] = append(s["sysctls"], k+"="+strings.TrimSpace(string(b)))
	}
	for k := range s {
		slices.Sort(s[k])
	}
	return s, nil
}

// Leftovers lists what after holds that before did not, one "kind: item" a line.
func Leftovers(before, after map[string][]string) []string {
	var left []string
	for kind, items := range after {
		for _, it := range items {
			if !slices.Contains(before[kind], it) {
				left = append(left, kind+": "+it)
			}
		}
	}
	slices.Sort(left)
	return left
}
