package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vcdns/vcdns/e2e/landscape"
)

// BenchmarkServiceCreateCPU measures what one Service create costs the kube-apiserver
// in CPU time as the cluster fills up: 10000 Services in steps of 2000, 32 clients, as
// the makespan's baseline. The kube-apiserver counts the allocated ClusterIPs for its
// metrics on every allocation by listing every IPAddress, so the cost of a create grows
// with the Services already there; a workload cluster holds the Services of all its
// MCPs, and this is the cost every copy pays.
//
//	go test ./e2e/bench -run '^$' -bench ServiceCreateCPU -benchtime 1x
func BenchmarkServiceCreateCPU(b *testing.B) {
	const step, steps, clients = 2000, 5, 32
	for b.Loop() {
		serviceCreateCPU(b, step, steps, clients)
	}
}

// serviceCreateCPU is one run of BenchmarkServiceCreateCPU on a cluster of its own.
func serviceCreateCPU(b *testing.B, step, steps, clients int) {
	l, err := landscape.New(landscape.Options{Dir: filepath.Join(b.TempDir(), "landscape")})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Stop()
	ctx := context.Background()
	c, err := l.StartCluster(ctx, "workload", landscape.ClusterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	cs, err := fastClient(c.Config)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	names := serviceNames(step * steps)
	for i := range steps {
		before, err := cpuTime(c.APIServer.Pid())
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := createServices(ctx, cs, "bench", names[i*step:(i+1)*step], clients, nil); err != nil {
			b.Fatal(err)
		}
		wall := time.Since(start)
		after, err := cpuTime(c.APIServer.Pid())
		if err != nil {
			b.Fatal(err)
		}
		perCreate := float64((after - before).Microseconds()) / 1000 / float64(step)
		b.ReportMetric(perCreate, fmt.Sprintf("cpu-ms/create@%d", i*step))
		b.Logf("Services %5d to %5d: %.1f ms of kube-apiserver CPU per create, %.0f creates/s", i*step, (i+1)*step, perCreate, float64(step)/wall.Seconds())
	}
}
