package clusters

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vcdns/vcdns/e2e/landscape"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
)

func TestTrackerReusesClientsByRoleAndHash(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	tr := NewTracker(nil, runtime.NewScheme(), TrackerOptions{})
	tr.now = func() time.Time { return now }
	kc := func(hash string) *Kubeconfig {
		return &Kubeconfig{Config: &rest.Config{Host: "https://127.0.0.1:6443"}, Hash: hash}
	}
	get := func(role Role, hash string) any {
		t.Helper()
		c, err := tr.client(role, kc(hash))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	a := get(Tenant, "aaaa")
	if get(Tenant, "aaaa") != a {
		t.Error("the same role and kubeconfig hash built a second client")
	}
	if get(Workload, "aaaa") == a {
		t.Error("another role shares the tenant's client")
	}
	if get(Tenant, "bbbb") == a {
		t.Error("a changed kubeconfig kept the old client")
	}
	if n := tr.cachedClients(); n != 3 {
		t.Errorf("%d clients cached, want 3", n)
	}

	// Used within the idle time, a client stays; unused longer, it goes.
	now = now.Add(clientIdle - time.Minute)
	if get(Tenant, "aaaa") != a {
		t.Error("a client in use was dropped")
	}
	now = now.Add(clientIdle - time.Minute)
	if n := tr.cachedClients(); n != 3 {
		t.Errorf("%d clients cached before the next get, want 3", n)
	}
	get(Tenant, "aaaa")
	if n := tr.cachedClients(); n != 1 {
		t.Errorf("%d clients cached after the others were idle for over %s, want 1", n, clientIdle)
	}
}

// A workload cluster's limiter lives as long as a session uses it.
func TestTrackerLimiterDroppedWithItsLastUser(t *testing.T) {
	t.Parallel()
	tr := NewTracker(nil, runtime.NewScheme(), TrackerOptions{WorkloadMaxInFlight: 4})
	w1, releaseA := tr.AcquireLimiter("test-drop-w1")
	w1b, releaseB := tr.AcquireLimiter("test-drop-w1")
	_, releaseC := tr.AcquireLimiter("test-drop-w2")
	defer releaseC()
	if w1b != w1 {
		t.Fatal("two MCPs of test-drop-w1 got limiters of their own")
	}
	releaseA()
	releaseA() // a second release is a no-op
	if l, release := tr.AcquireLimiter("test-drop-w1"); l != w1 {
		t.Fatal("limiter of test-drop-w1 dropped while MCP b still uses it")
	} else {
		release()
	}
	releaseB()
	if l, release := tr.AcquireLimiter("test-drop-w1"); l == w1 {
		t.Fatal("a new session on test-drop-w1 got the forgotten limiter")
	} else {
		release()
	}
	tr.mu.Lock()
	_, kept := tr.limiters["test-drop-w2"]
	tr.mu.Unlock()
	if !kept {
		t.Fatal("limiter of test-drop-w2 dropped, MCP c uses it")
	}
}

// Against a real API server: a kubeconfig Secret becomes a client that reads the
// cluster, the probe answers, who the syncer is comes back, and a changed Secret
// gives a new client.
func TestTrackerGetFromSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a kube-apiserver")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	c, err := l.StartCluster(ctx, "remote", landscape.ClusterOptions{NoControllerManager: true, Users: []landscape.User{{Name: "other"}}})
	if err != nil {
		t.Fatal(err)
	}
	platform, err := client.New(c.Config, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := c.Kubeconfig(landscape.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kc"}, Data: map[string][]byte{"kubeconfig": kubeconfig}}
	if err := platform.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	tr := NewTracker(platform, scheme.Scheme, TrackerOptions{WorkloadLimits: Limits{QPS: 50, Burst: 100}})

	r, err := tr.Get(ctx, Workload, "default", vcdnsv1alpha1.SecretKeyReference{Name: "kc"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Config.QPS != 50 || r.Config.Burst != 100 {
		t.Errorf("limits %v/%d, want the workload role's 50/100", r.Config.QPS, r.Config.Burst)
	}
	if err := tr.Probe(ctx, r); err != nil {
		t.Fatalf("probe: %v", err)
	}
	var ns corev1.Namespace
	if err := r.Client.Get(ctx, client.ObjectKey{Name: "default"}, &ns); err != nil {
		t.Fatalf("the tracked client does not read the cluster: %v", err)
	}
	if user, err := tr.WhoAmI(ctx, r); err != nil || user == "" {
		t.Fatalf("WhoAmI = %q, %v", user, err)
	}
	again, err := tr.Get(ctx, Workload, "default", vcdnsv1alpha1.SecretKeyReference{Name: "kc"})
	if err != nil || again.Client != r.Client || again.Hash != r.Hash {
		t.Fatalf("a second Get of the same Secret built another client (%v)", err)
	}

	// Missing Secrets and keys say which.
	if _, err := tr.Get(ctx, Workload, "default", vcdnsv1alpha1.SecretKeyReference{Name: "missing"}); !apierrors.IsNotFound(err) {
		t.Errorf("Get of a missing Secret: %v, want NotFound", err)
	}
	if _, err := tr.Get(ctx, Workload, "default", vcdnsv1alpha1.SecretKeyReference{Name: "kc", Key: "other"}); err == nil {
		t.Error("Get of a missing key succeeded")
	}

	// A changed kubeconfig (another user) is another client.
	kubeconfig2, err := c.Kubeconfig("other")
	if err != nil {
		t.Fatal(err)
	}
	secret.Data["kubeconfig"] = kubeconfig2
	if err := platform.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	changed, err := tr.Get(ctx, Workload, "default", vcdnsv1alpha1.SecretKeyReference{Name: "kc"})
	if err != nil {
		t.Fatal(err)
	}
	if changed.Hash == r.Hash || changed.Client == r.Client {
		t.Error("a changed kubeconfig Secret kept the old client")
	}
}
