package landscape

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/vcdns/vcdns/images"
)

// Node is the one node of a cluster: containerd, kubelet and kube-proxy in a network
// namespace of their own, in cgroups of their own, with bridge CNI. Its processes run
// in the node's namespace; the cluster's control plane runs on the host.
type Node struct {
	Name string
	Net  Net
	// Dir holds the node's configuration, containerd's images, the kubelet's root and
	// the Pods' logs.
	Dir string

	Containerd, Kubelet, KubeProxy *Process

	// stateDir holds containerd's socket and state and the kubelet's root: short
	// paths (unix sockets), under runDir.
	stateDir string
	socket   string
	// cgroup is the node's cgroup in every hierarchy: the kubelet's cgroupRoot, and,
	// under system/, the node's own processes.
	cgroup string
	slot   *slotLock
}

// cgroupRoot is the folder of the cgroup hierarchies.
const cgroupRoot = "/sys/fs/cgroup"

// podLogsLink is where the kubelet links every container's log, whatever its root.
const podLogsLink = "/var/log/containers"

// CanRunNodes says why nodes cannot run here, or nil: they need Linux, root, the
// binaries of `make tools` and the Debian packages of hack/install-node-deps.sh.
func CanRunNodes() error {
	if os.Geteuid() != 0 {
		return errors.New("nodes need root (network namespaces, cgroups, mounts)")
	}
	var missing []string
	for _, c := range []string{"containerd", "runc", "ctr", "iptables", "ip", "nsenter"} {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		missing = append(missing, "/usr/lib/cni/bridge")
	}
	if len(missing) > 0 {
		return fmt.Errorf("nodes need %s: run hack/install-node-deps.sh (make does)", strings.Join(missing, ", "))
	}
	if _, err := os.Stat(filepath.Join(cgroupRoot, "memory")); err != nil {
		return fmt.Errorf("nodes need the cgroup v1 hierarchies under %s: %w", cgroupRoot, err)
	}
	return nil
}

// newNode takes a slot, clears whatever an earlier process left in it and builds the
// node's network. The node's processes start with start, once the control plane runs.
func (l *Landscape) newNode(clusterName string, dualStack bool) (*Node, error) {
	if err := CanRunNodes(); err != nil {
		return nil, err
	}
	if err := shareHost(); err != nil {
		return nil, err
	}
	slot, err := takeSlot()
	if err != nil {
		unshareHost()
		return nil, err
	}
	n := &Node{
		Name:     clusterName + "-node",
		Net:      slotNet(slot.k, dualStack),
		Dir:      filepath.Join(l.dir, clusterName, "node"),
		stateDir: filepath.Join(runDir, fmt.Sprintf("n%d", slot.k)),
		cgroup:   fmt.Sprintf("vcdns-%d", slot.k),
		slot:     slot,
	}
	n.socket = filepath.Join(n.stateDir, "containerd.sock")
	if err := n.sweep(); err != nil {
		slot.release()
		unshareHost()
		return nil, fmt.Errorf("clearing node slot %d: %w", slot.k, err)
	}
	if err := n.Net.setup(); err != nil {
		n.teardown()
		return nil, fmt.Errorf("network of node %s: %w", n.Name, err)
	}
	return n, nil
}

// start runs containerd, imports the images, and runs the kubelet and kube-proxy of
// the cluster c, then waits until the Node is Ready.
func (n *Node) start(ctx context.Context, l *Landscape, c *Cluster, caPath string) error {
	for _, d := range []string{n.Dir, n.stateDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := n.makeCgroups(); err != nil {
		return err
	}
	files := map[string]string{}
	var err error
	cniDir := filepath.Join(n.Dir, "cni")
	files[filepath.Join(cniDir, "10-vcdns.conflist")], err = cniConfig(n.Net.Namespace, filepath.Join(n.Dir, "ipam"), n.Net.PodCIDRs)
	if err != nil {
		return err
	}
	files[filepath.Join(n.Dir, "containerd.toml")] = containerdConfig(filepath.Join(n.Dir, "containerd"), filepath.Join(n.stateDir, "state"), n.socket, cniDir, images.Pause.Ref())
	resolvConf := filepath.Join(n.Dir, "resolv.conf")
	hostResolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return err
	}
	files[resolvConf] = string(hostResolv)
	files[filepath.Join(n.Dir, "kubelet.yaml")] = kubeletConfig(n.Net, filepath.Join(n.Dir, "pods"), caPath, n.socket, resolvConf, "/"+n.cgroup)
	files[filepath.Join(n.Dir, "kube-proxy.yaml")] = kubeProxyConfig(n.Net, filepath.Join(n.Dir, "kube-proxy.kubeconfig"), n.Name)
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := c.WriteKubeconfig(filepath.Join(n.Dir, "kubelet.kubeconfig"), "system:node:"+n.Name); err != nil {
		return err
	}
	if err := c.WriteKubeconfig(filepath.Join(n.Dir, "kube-proxy.kubeconfig"), "system:kube-proxy"); err != nil {
		return err
	}

	start := time.Now()
	if n.Containerd, err = n.startProcess("containerd", "containerd", "--config", filepath.Join(n.Dir, "containerd.toml")); err != nil {
		return err
	}
	if err := n.waitCRI(ctx); err != nil {
		return err
	}
	if err := n.importImages(l.opts.ImagesDir); err != nil {
		return err
	}
	kubelet, err := l.Binary("kubelet")
	if err != nil {
		return err
	}
	var nodeIPs []string
	for _, ip := range n.Net.NodeIPs {
		nodeIPs = append(nodeIPs, ip.String())
	}
	if n.Kubelet, err = n.startProcess("kubelet", kubelet,
		"--config", filepath.Join(n.Dir, "kubelet.yaml"),
		"--kubeconfig", filepath.Join(n.Dir, "kubelet.kubeconfig"),
		"--root-dir", filepath.Join(n.stateDir, "kubelet"), // short: it holds unix sockets
		"--hostname-override", n.Name,
		"--node-ip", strings.Join(nodeIPs, ","),
		"--v", "1",
	); err != nil {
		return err
	}
	proxy, err := l.Binary("kube-proxy")
	if err != nil {
		return err
	}
	if n.KubeProxy, err = n.startProcess("kube-proxy", proxy, "--config", filepath.Join(n.Dir, "kube-proxy.yaml"), "--v", "1"); err != nil {
		return err
	}
	if err := n.waitReady(ctx, c); err != nil {
		return err
	}
	l.opts.Logf("node %s of cluster %s Ready in %s (slot %d, Pods %s)", n.Name, c.Name, time.Since(start).Round(100*time.Millisecond), n.Net.Slot, prefixes(n.Net.PodCIDRs))
	return nil
}

// startProcess starts a node process in the node's network namespace and moves it
// into the node's system cgroup, where what it forks (containerd's shims) stays.
func (n *Node) startProcess(name, path string, args ...string) (*Process, error) {
	p, err := StartProcess(n.Dir, name, "nsenter", append([]string{"--net=" + n.Net.NetnsPath(), "--", path}, args...)...)
	if err != nil {
		return nil, err
	}
	if err := n.joinCgroup(p.Pid()); err != nil {
		p.Stop(time.Second)
		return nil, err
	}
	return p, nil
}

// hierarchies lists the cgroup hierarchies a node's cgroup is made in: every v1
// controller and named hierarchy (the kubelet wants its root in each), and the
// unified one where it is mounted.
func hierarchies() ([]string, error) {
	entries, err := os.ReadDir(cgroupRoot)
	if err != nil {
		return nil, err
	}
	var hs []string
	for _, e := range entries {
		if e.IsDir() {
			hs = append(hs, filepath.Join(cgroupRoot, e.Name()))
		}
	}
	return hs, nil
}

func (n *Node) makeCgroups() error {
	hs, err := hierarchies()
	if err != nil {
		return err
	}
	for _, h := range hs {
		for _, dir := range []string{filepath.Join(h, n.cgroup), filepath.Join(h, n.cgroup, "system")} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("cgroup %s: %w", dir, err)
			}
			// A cpuset cgroup takes no process before it has CPUs and memory nodes.
			if filepath.Base(h) == "cpuset" {
				for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
					v, err := os.ReadFile(filepath.Join(filepath.Dir(dir), f))
					if err != nil {
						return err
					}
					if err := os.WriteFile(filepath.Join(dir, f), v, 0o644); err != nil {
						return fmt.Errorf("cgroup %s: %w", dir, err)
					}
				}
			}
		}
	}
	return nil
}

func (n *Node) joinCgroup(pid int) error {
	hs, err := hierarchies()
	if err != nil {
		return err
	}
	for _, h := range hs {
		if filepath.Base(h) == "unified" {
			continue // a v2 leaf next to v1 controllers; the kubelet does not ask for it
		}
		if err := os.WriteFile(filepath.Join(h, n.cgroup, "system", "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("moving %d into cgroup %s of %s: %w", pid, n.cgroup, h, err)
		}
	}
	return nil
}

// MemoryBytes is what the node uses now: its processes and Pods, from its memory cgroup.
func (n *Node) MemoryBytes() (int64, error) {
	b, err := os.ReadFile(filepath.Join(cgroupRoot, "memory", n.cgroup, "memory.usage_in_bytes"))
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

func (n *Node) cri() (*grpc.ClientConn, runtimeapi.RuntimeServiceClient, error) {
	conn, err := grpc.NewClient("unix://"+n.socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	return conn, runtimeapi.NewRuntimeServiceClient(conn), nil
}

func (n *Node) waitCRI(ctx context.Context) error {
	conn, rt, err := n.cri()
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return n.Containerd.WaitFor(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		_, err := rt.Version(ctx, &runtimeapi.VersionRequest{})
		return err
	})
}

// importImages imports every image tarball of the project into the node's containerd.
func (n *Node) importImages(dir string) error {
	for _, img := range images.All {
		path := filepath.Join(dir, img.TarballName())
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("image %s: %w (run `make images`)", img.Ref(), err)
		}
		if err := run("ctr", "--address", n.socket, "--namespace", "k8s.io", "images", "import", "--no-unpack", path); err != nil {
			return fmt.Errorf("importing %s into node %s: %w", img.Ref(), n.Name, err)
		}
	}
	// A tarball of an older build may name its image otherwise: containerd would try
	// to pull the missing one, from a registry that cannot be reached.
	out, err := exec.Command("ctr", "--address", n.socket, "--namespace", "k8s.io", "images", "list", "--quiet").Output()
	if err != nil {
		return fmt.Errorf("listing the images of node %s: %w", n.Name, err)
	}
	have := strings.Fields(string(out))
	for _, img := range images.All {
		if !slices.Contains(have, img.Ref()) {
			return fmt.Errorf("node %s: no image %s among %v after importing %s (run `make images`)", n.Name, img.Ref(), have, dir)
		}
	}
	return nil
}

func (n *Node) waitReady(ctx context.Context, c *Cluster) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return n.Kubelet.WaitFor(ctx, 200*time.Millisecond, func(ctx context.Context) error {
		node, err := cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				if cond.Status == corev1.ConditionTrue {
					return nil
				}
				return fmt.Errorf("node %s not Ready: %s", n.Name, cond.Message)
			}
		}
		return fmt.Errorf("node %s has no Ready condition yet", n.Name)
	})
}

// teardown stops the node and removes all it made on the host: the kubelet first (so
// that it starts nothing new), then every Pod sandbox through the CRI (containers,
// Pod network namespaces, CNI state), kube-proxy and containerd, and then whatever
// sweep finds. The errors say what could not be removed.
func (n *Node) teardown() error {
	if n.Kubelet != nil {
		n.Kubelet.Stop(10 * time.Second)
	}
	if n.Containerd != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		n.removeSandboxes(ctx)
		cancel()
	}
	if n.KubeProxy != nil {
		n.KubeProxy.Stop(5 * time.Second)
	}
	if n.Containerd != nil {
		n.Containerd.Stop(10 * time.Second)
	}
	err := n.sweep()
	n.slot.release()
	unshareHost()
	return err
}

func (n *Node) removeSandboxes(ctx context.Context) {
	conn, rt, err := n.cri()
	if err != nil {
		return
	}
	defer conn.Close()
	list, err := rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return
	}
	for _, s := range list.Items {
		_, _ = rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: s.Id})
		_, _ = rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: s.Id})
	}
}

// sweep removes what a node of this slot may have left: processes in its cgroups,
// mounts under its folders, its network namespace and link, its cgroups, CNI results
// and log links, and its state. It is also run when a slot is taken, for what a
// process that died left there.
func (n *Node) sweep() error {
	var errs []error
	if err := killCgroup(n.cgroup); err != nil {
		errs = append(errs, err)
	}
	if err := unmountUnder(n.stateDir, n.Dir); err != nil {
		errs = append(errs, err)
	}
	if err := n.Net.teardown(); err != nil {
		errs = append(errs, err)
	}
	if err := removeCgroups(n.cgroup); err != nil {
		errs = append(errs, err)
	}
	// CNI keeps a result per attachment in its cache; the node's network name prefixes them.
	results, _ := filepath.Glob(filepath.Join("/var/lib/cni/results", n.Net.Namespace+"-*"))
	for _, r := range results {
		_ = os.Remove(r)
	}
	removeEmpty("/var/lib/cni/results", "/var/lib/cni")
	links, _ := os.ReadDir(podLogsLink)
	for _, e := range links {
		target, err := os.Readlink(filepath.Join(podLogsLink, e.Name()))
		if err == nil && strings.HasPrefix(target, n.Dir+string(filepath.Separator)) {
			_ = os.Remove(filepath.Join(podLogsLink, e.Name()))
		}
	}
	removeEmpty(podLogsLink)
	if err := os.RemoveAll(n.stateDir); err != nil {
		errs = append(errs, err)
	}
	// Shims that were killed rather than stopped leave their sockets.
	removeEmpty("/run/containerd/s", "/run/containerd")
	// The images and snapshots are large; the rest of the node's folder (logs,
	// configuration) stays with the landscape's data until the landscape removes it.
	if err := os.RemoveAll(filepath.Join(n.Dir, "containerd")); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeEmpty removes each folder if it is empty, in order.
func removeEmpty(dirs ...string) {
	for _, d := range dirs {
		_ = syscall.Rmdir(d)
	}
}

// killCgroup kills every process in the cgroup (and below) of every hierarchy until
// none is left.
func killCgroup(cgroup string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		pids := cgroupPids(filepath.Join(cgroupRoot, "pids", cgroup))
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v of cgroup %s do not exit", pids, cgroup)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func cgroupPids(dir string) []int {
	var pids []int
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil //nolint:nilerr // a cgroup that went away has no processes
		}
		b, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
		if err != nil {
			return nil //nolint:nilerr // as above
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

// removeCgroups removes the cgroup and everything below it in every hierarchy,
// deepest first.
func removeCgroups(cgroup string) error {
	hs, err := hierarchies()
	if err != nil {
		return err
	}
	var errs []error
	for _, h := range hs {
		var dirs []string
		_ = filepath.WalkDir(filepath.Join(h, cgroup), func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := syscall.Rmdir(dirs[i]); err != nil && !errors.Is(err, syscall.ENOENT) {
				errs = append(errs, fmt.Errorf("removing cgroup %s: %w", dirs[i], err))
			}
		}
	}
	return errors.Join(errs...)
}

// Mounts lists the mount points of this mount namespace.
func Mounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var points []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 4 {
			points = append(points, unescapeMount(fields[4]))
		}
	}
	return points, s.Err()
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountUnder unmounts every mount point below the folders, deepest first.
func unmountUnder(dirs ...string) error {
	points, err := Mounts()
	if err != nil {
		return err
	}
	var mine []string
	for _, p := range points {
		for _, d := range dirs {
			if p == d || strings.HasPrefix(p, d+string(filepath.Separator)) {
				mine = append(mine, p)
			}
		}
	}
	sort.Slice(mine, func(i, j int) bool {
		if len(mine[i]) != len(mine[j]) {
			return len(mine[i]) > len(mine[j])
		}
		return mine[i] < mine[j]
	})
	var errs []error
	for _, p := range slices.Compact(mine) {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// prefixes prints prefixes comma-separated.
func prefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}
