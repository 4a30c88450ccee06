package landscape

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkFiveClusters starts five clusters one after the other and reports the mean
// time until a cluster is ready and the resident memory of the whole landscape.
// Targets: a cluster ready in under 15 s, five clusters in under 3 GiB.
func BenchmarkFiveClusters(b *testing.B) {
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		l := ForTest(b, Options{})
		var total time.Duration
		for i := range 5 {
			start := time.Now()
			if _, err := l.StartCluster(ctx, fmt.Sprintf("c%d", i), ClusterOptions{}); err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
		}
		rss, err := processRSS(l.Processes())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(total.Seconds()/5, "s/cluster-ready")
		b.ReportMetric(float64(rss)/(1<<30), "GiB-rss-5-clusters")
		l.Stop()
		cancel()
	}
}

// BenchmarkClustersWithNodes starts two clusters with a node each, one after the
// other (as the landscape of TestNodes), and reports the mean time until a cluster's
// node is Ready and its DNS Deployment available, and the resident memory per such
// cluster: its control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler) and everything in its node's cgroups (containerd and its shims,
// kubelet, kube-proxy, the CoreDNS Pod and sandboxes).
func BenchmarkClustersWithNodes(b *testing.B) {
	RequireNodes(b)
	const n = 2
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		l := ForTest(b, Options{})
		var total time.Duration
		var pids []int
		for i := range n {
			start := time.Now()
			c, err := l.StartCluster(ctx, fmt.Sprintf("c%d", i), ClusterOptions{Node: true})
			if err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
			pids = append(pids, cgroupPids(filepath.Join(cgroupRoot, "pids", c.Node.cgroup))...)
		}
		for _, p := range l.Processes() {
			pids = append(pids, p.Pid())
		}
		rss, err := pidsRSS(pids)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(total.Seconds()/n, "s/cluster-node-ready")
		b.ReportMetric(float64(rss)/n/(1<<20), "MiB-rss/cluster-with-node")
		if err := l.Stop(); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}

// processRSS sums the resident set size of the processes, in bytes.
func processRSS(procs []*Process) (int64, error) {
	pids := make([]int, len(procs))
	for i, p := range procs {
		pids[i] = p.Pid()
	}
	return pidsRSS(pids)
}

// pidsRSS sums the resident set size of the processes, in bytes.
func pidsRSS(pids []int) (int64, error) {
	var sum int64
	for _, pid := range pids {
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return 0, err
		}
		s := bufio.NewScanner(f)
		for s.Scan() {
			if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				if err != nil {
					f.Close()
					return 0, err
				}
				sum += kb << 10
			}
		}
		f.Close()
	}
	return sum, nil
}
