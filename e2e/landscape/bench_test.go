package landscape

import (
	"bufio"
	"context"
	"fmt"
	"os"
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

// processRSS sums the resident set size of the processes, in bytes.
func processRSS(procs []*Process) (int64, error) {
	var sum int64
	for _, p := range procs {
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
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
