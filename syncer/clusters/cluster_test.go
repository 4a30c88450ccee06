package clusters

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"

	"github.com/vcdns/vcdns/e2e/landscape"
)

// watchCounts are the watches of configmaps sent through a watchCounter and those
// still open.
type watchCounts struct{ started, open atomic.Int32 }

type watchCounter struct {
	next   http.RoundTripper
	counts *watchCounts
}

func (w *watchCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Query().Get("watch") != "true" || !strings.HasSuffix(req.URL.Path, "/configmaps") {
		return w.next.RoundTrip(req)
	}
	w.counts.started.Add(1)
	resp, err := w.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	w.counts.open.Add(1)
	resp.Body = &countedBody{ReadCloser: resp.Body, open: &w.counts.open}
	return resp, nil
}

type countedBody struct {
	io.ReadCloser
	open   *atomic.Int32
	closed atomic.Bool
}

func (b *countedBody) Close() error {
	if b.closed.CompareAndSwap(false, true) {
		b.open.Add(-1)
	}
	return b.ReadCloser.Close()
}

// A remote cluster's cache keeps its watch open past the configuration's timeout, which
// its client keeps: with the timeout on the watch too, the informer would watch again
// every Timeout (and list everything again once its resource version is too old). It
// caches objects without managedFields.
func TestNewClusterWatchesOutliveTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a kube-apiserver")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	c, err := l.StartCluster(ctx, "remote", landscape.ClusterOptions{NoControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}

	const timeout = time.Second
	counter := &watchCounts{}
	cfg := rest.CopyConfig(c.Config)
	cfg.Timeout = timeout
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &watchCounter{next: rt, counts: counter} })
	cl, err := NewCluster(cfg, func(o *cluster.Options) { o.Scheme = scheme.Scheme })
	if err != nil {
		t.Fatal(err)
	}
	if got := cl.GetHTTPClient().Timeout; got != timeout {
		t.Errorf("client timeout %s, want %s", got, timeout)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cl.Start(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if _, err := cl.GetCache().GetInformer(ctx, &corev1.ConfigMap{}); err != nil {
		t.Fatal(err)
	}
	if !cl.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}

	// The informer reads through its one watch for five timeouts.
	observe := time.NewTimer(5 * timeout)
	defer observe.Stop()
	select {
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-observe.C:
	}
	if started, open := counter.started.Load(), counter.open.Load(); started != 1 || open != 1 {
		t.Errorf("after %s with a %s timeout: %d watches of configmaps started, %d open; want the first still open", 5*timeout, timeout, started, open)
	}

	// The cache holds objects without managedFields; the API server has them.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "cached"}, Data: map[string]string{"k": "v"}}
	if err := cl.GetClient().Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	var stored corev1.ConfigMap
	if err := cl.GetAPIReader().Get(ctx, client.ObjectKeyFromObject(cm), &stored); err != nil {
		t.Fatal(err)
	}
	if len(stored.ManagedFields) == 0 {
		t.Fatal("the API server has the ConfigMap without managedFields")
	}
	var cached corev1.ConfigMap
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return cl.GetClient().Get(ctx, client.ObjectKeyFromObject(cm), &cached) == nil, nil
	}); err != nil {
		t.Fatalf("the cache never had the ConfigMap: %v", err)
	}
	if len(cached.ManagedFields) != 0 {
		t.Errorf("the cached ConfigMap has managedFields %v", cached.ManagedFields)
	}
}
