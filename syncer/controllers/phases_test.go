package controllers

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/vcdns/vcdns/e2e/landscape"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/clusters"
	"github.com/vcdns/vcdns/syncer/naming"
)

// TestReadyMCP: an MCP is Ready when its tenant and workload cluster answer and it is
// synced, not otherwise.
func TestReadyMCP(t *testing.T) {
	t.Parallel()
	cond := func(typ string, ok bool) metav1.Condition {
		s := metav1.ConditionFalse
		if ok {
			s = metav1.ConditionTrue
		}
		return metav1.Condition{Type: typ, Status: s}
	}
	for _, tc := range []struct {
		name       string
		conditions []metav1.Condition
		want       bool
	}{
		{name: "all true", conditions: []metav1.Condition{cond(vcdnsv1alpha1.ConditionTenantReachable, true), cond(vcdnsv1alpha1.ConditionWorkloadReachable, true), cond(vcdnsv1alpha1.ConditionTenantDNS, true), cond(vcdnsv1alpha1.ConditionSynced, true)}, want: true},
		{name: "tenant DNS not installed", conditions: []metav1.Condition{cond(vcdnsv1alpha1.ConditionTenantReachable, true), cond(vcdnsv1alpha1.ConditionWorkloadReachable, true), cond(vcdnsv1alpha1.ConditionTenantDNS, false), cond(vcdnsv1alpha1.ConditionSynced, true)}},
		{name: "tenant unreachable", conditions: []metav1.Condition{cond(vcdnsv1alpha1.ConditionTenantReachable, false), cond(vcdnsv1alpha1.ConditionWorkloadReachable, true), cond(vcdnsv1alpha1.ConditionSynced, true)}},
		{name: "workload unreachable", conditions: []metav1.Condition{cond(vcdnsv1alpha1.ConditionTenantReachable, true), cond(vcdnsv1alpha1.ConditionWorkloadReachable, false), cond(vcdnsv1alpha1.ConditionSynced, true)}},
		{name: "not synced", conditions: []metav1.Condition{cond(vcdnsv1alpha1.ConditionTenantReachable, true), cond(vcdnsv1alpha1.ConditionWorkloadReachable, true), cond(vcdnsv1alpha1.ConditionSynced, false)}},
		{name: "synced unknown", conditions: []metav1.Condition{cond(vcdnsv1alpha1.ConditionTenantReachable, true), cond(vcdnsv1alpha1.ConditionWorkloadReachable, true)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := readyMCP(tc.conditions); got != tc.want {
				t.Errorf("readyMCP = %v, want %v", got, tc.want)
			}
		})
	}
}

// platform starts a kube-apiserver with the vcdns CRDs. It serves as the platform and,
// through a kubeconfig Secret, as a workload cluster and a tenant.
type platform struct {
	client  client.Client
	scheme  *runtime.Scheme
	tracker *clusters.Tracker
}

func startPlatform(ctx context.Context, t *testing.T) *platform {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a kube-apiserver")
	}
	l := landscape.ForTest(t, landscape.Options{})
	c, err := l.StartCluster(ctx, "platform", landscape.ClusterOptions{NoControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	root, err := landscape.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	crds, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(crds) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	if err := c.InstallCRDs(ctx, crds...); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, vcdnsv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := client.New(c.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := c.Kubeconfig(landscape.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "vcdns-system"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "vcdns-system", Name: "self"}, Data: map[string][]byte{"kubeconfig": kubeconfig}},
	} {
		if err := cl.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	return &platform{client: cl, scheme: scheme, tracker: clusters.NewTracker(cl, scheme, clusters.TrackerOptions{WorkloadMaxInFlight: 4})}
}

func (p *platform) create(ctx context.Context, t *testing.T, obj client.Object) {
	t.Helper()
	if err := p.client.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
}

func condition(t *testing.T, conditions []metav1.Condition, typ string, want metav1.ConditionStatus, reason string) {
	t.Helper()
	c := meta.FindStatusCondition(conditions, typ)
	if c == nil || c.Status != want || (reason != "" && c.Reason != reason) {
		t.Errorf("condition %s = %+v, want %s with reason %q", typ, c, want, reason)
	}
}

// The Cluster reconciler's phases against a real API server: reachability and service
// ranges, the Corefile block, and the one status write of a reconcile.
func TestClusterPhases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := startPlatform(ctx, t)
	r := &ClusterReconciler{Client: p.client, Scheme: p.scheme, Recorder: events.NewFakeRecorder(100), Tracker: p.tracker, Options: Options{
		ClusterNamespace: "vcdns-system",
		ProbeInterval:    time.Minute,
		DNS:              DNSOptions{BaseDomain: "openmcp.cluster", CentralDNS: []string{"10.0.0.53"}},
	}}
	ref := vcdnsv1alpha1.SecretKeyReference{Name: "self"}

	t.Run("reachable, with its service ranges", func(t *testing.T) {
		c := &vcdnsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: "vcdns-system", Name: "w1"},
			Spec: vcdnsv1alpha1.ClusterSpec{KubeconfigSecretRef: ref, ServiceCIDRs: []string{"10.96.0.0/16", "not-a-cidr"}}}
		s := &clusterScope{cluster: c}
		r.reconcileReachable(ctx, s)
		if s.remote == nil || !s.reachable {
			t.Fatalf("scope after the phase: remote %v, reachable %v", s.remote, s.reachable)
		}
		condition(t, c.Status.Conditions, vcdnsv1alpha1.ConditionReachable, metav1.ConditionTrue, "Reachable")
		condition(t, c.Status.Conditions, vcdnsv1alpha1.ConditionReady, metav1.ConditionFalse, "InvalidServiceCIDRs")
		if got := c.Status.ServiceCIDRs; len(got) != 1 || got[0] != "10.96.0.0/16" {
			t.Errorf("service CIDRs %q, want the one that parses", got)
		}
	})

	t.Run("a kubeconfig that cannot be read", func(t *testing.T) {
		c := &vcdnsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: "vcdns-system", Name: "w2"},
			Spec: vcdnsv1alpha1.ClusterSpec{KubeconfigSecretRef: vcdnsv1alpha1.SecretKeyReference{Name: "missing"}}}
		s := &clusterScope{cluster: c}
		r.reconcileReachable(ctx, s)
		r.reconcileCorefile(ctx, s)
		condition(t, c.Status.Conditions, vcdnsv1alpha1.ConditionReachable, metav1.ConditionFalse, "Unreachable")
		condition(t, c.Status.Conditions, vcdnsv1alpha1.ConditionReady, metav1.ConditionFalse, "Unreachable")
		if meta.FindStatusCondition(c.Status.Conditions, vcdnsv1alpha1.ConditionCorefilePatched) != nil {
			t.Error("the Corefile phase ran without a reachable cluster")
		}
	})

	t.Run("the Corefile block", func(t *testing.T) {
		p.create(ctx, t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "coredns"},
			Data: map[string]string{"Corefile": ".:53 {\n    forward . /etc/resolv.conf\n}\n"}})
		c := &vcdnsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: "vcdns-system", Name: "w3"},
			Spec: vcdnsv1alpha1.ClusterSpec{KubeconfigSecretRef: ref, ServiceCIDRs: []string{"10.96.0.0/16"}}}
		s := &clusterScope{cluster: c}
		r.reconcileReachable(ctx, s)
		r.reconcileCorefile(ctx, s)
		condition(t, c.Status.Conditions, vcdnsv1alpha1.ConditionCorefilePatched, metav1.ConditionTrue, "Patched")
		var cm corev1.ConfigMap
		if err := p.client.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "coredns"}, &cm); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cm.Data["Corefile"], "openmcp.cluster") || !strings.Contains(cm.Data["Corefile"], "10.0.0.53") {
			t.Errorf("Corefile without the forwarding block:\n%s", cm.Data["Corefile"])
		}
	})

	t.Run("a reconcile writes finalizer, annotation and status", func(t *testing.T) {
		c := &vcdnsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: "vcdns-system", Name: "w4"},
			Spec: vcdnsv1alpha1.ClusterSpec{KubeconfigSecretRef: ref, ServiceCIDRs: []string{"10.96.0.0/16"}}}
		p.create(ctx, t, c)
		if _, err := r.Reconcile(ctx, reconcileRequest(c)); err != nil {
			t.Fatal(err)
		}
		var got vcdnsv1alpha1.Cluster
		if err := p.client.Get(ctx, client.ObjectKeyFromObject(c), &got); err != nil {
			t.Fatal(err)
		}
		if !controllerutil.ContainsFinalizer(&got, vcdnsv1alpha1.Finalizer) || got.Annotations[vcdnsv1alpha1.AnnotationBaseDomain] != "w4.openmcp.cluster" {
			t.Errorf("finalizers %v, annotations %v", got.Finalizers, got.Annotations)
		}
		condition(t, got.Status.Conditions, vcdnsv1alpha1.ConditionReady, metav1.ConditionTrue, "Ready")
		condition(t, got.Status.Conditions, vcdnsv1alpha1.ConditionCorefilePatched, metav1.ConditionTrue, "")
		if got.Status.ObservedGeneration != got.Generation {
			t.Errorf("observedGeneration %d, generation %d", got.Status.ObservedGeneration, got.Generation)
		}
		// Nothing changed: the next reconcile writes nothing.
		if _, err := r.Reconcile(ctx, reconcileRequest(c)); err != nil {
			t.Fatal(err)
		}
		var again vcdnsv1alpha1.Cluster
		if err := p.client.Get(ctx, client.ObjectKeyFromObject(c), &again); err != nil {
			t.Fatal(err)
		}
		if again.ResourceVersion != got.ResourceVersion {
			t.Errorf("an unchanged reconcile wrote the Cluster (resourceVersion %s -> %s)", got.ResourceVersion, again.ResourceVersion)
		}
	})
}

// The MCP reconciler's phases against a real API server, up to the session.
func TestMCPPhases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := startPlatform(ctx, t)
	r := &MCPReconciler{Client: p.client, Scheme: p.scheme, Recorder: events.NewFakeRecorder(100), Tracker: p.tracker, Options: Options{
		ClusterNamespace: "vcdns-system",
		NamespacePrefix:  naming.DefaultNamespacePrefix,
	}}
	p.create(ctx, t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}})
	kubeconfig := &corev1.Secret{}
	if err := p.client.Get(ctx, client.ObjectKey{Namespace: "vcdns-system", Name: "self"}, kubeconfig); err != nil {
		t.Fatal(err)
	}
	p.create(ctx, t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "tenant"}, Data: kubeconfig.Data})
	p.create(ctx, t, &vcdnsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: "vcdns-system", Name: "w1"},
		Spec: vcdnsv1alpha1.ClusterSpec{KubeconfigSecretRef: vcdnsv1alpha1.SecretKeyReference{Name: "self"}}})
	scope := func(secret, cluster string) *mcpScope {
		mcp := &vcdnsv1alpha1.ManagedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "mcp1"},
			Spec: vcdnsv1alpha1.ManagedControlPlaneSpec{KubeconfigSecretRef: vcdnsv1alpha1.SecretKeyReference{Name: secret}, WorkloadCluster: cluster}}
		ns := naming.MCPNamespace(naming.DefaultNamespacePrefix, mcp.Namespace, mcp.Name)
		return &mcpScope{mcp: mcp, namespace: ns, labels: map[string]string{naming.LabelMCP: ns}}
	}

	for _, tc := range []struct {
		name, secret, cluster string
		condition, reason     string
		readyReason           string
	}{
		{name: "a tenant kubeconfig that cannot be read stops the reconcile", secret: "missing", cluster: "w1",
			condition: vcdnsv1alpha1.ConditionTenantReachable, reason: "KubeconfigInvalid", readyReason: "TenantUnreachable"},
		{name: "a workload Cluster that is not registered stops the reconcile", secret: "tenant", cluster: "w9",
			condition: vcdnsv1alpha1.ConditionWorkloadReachable, reason: "ClusterUnavailable", readyReason: "WorkloadUnreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := scope(tc.secret, tc.cluster)
			var err error
			for _, phase := range []func(context.Context, *mcpScope) error{r.reconcileTenant, r.reconcileWorkloadCluster} {
				if err = phase(ctx, s); err != nil {
					break
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			condition(t, s.mcp.Status.Conditions, tc.condition, metav1.ConditionFalse, tc.reason)
			condition(t, s.mcp.Status.Conditions, vcdnsv1alpha1.ConditionReady, metav1.ConditionFalse, tc.readyReason)
		})
	}

	t.Run("the MCP namespace, on the platform and the workload cluster", func(t *testing.T) {
		s := scope("tenant", "w1")
		for _, phase := range []func(context.Context, *mcpScope) error{r.reconcileTenant, r.reconcileWorkloadCluster, r.reconcileMove, r.reconcileNamespaces} {
			if err := phase(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if s.mcp.Status.WorkloadCluster != "w1" {
			t.Errorf("status.workloadCluster %q, want w1", s.mcp.Status.WorkloadCluster)
		}
		condition(t, s.mcp.Status.Conditions, vcdnsv1alpha1.ConditionWorkloadReachable, metav1.ConditionTrue, "Reachable")
		var ns corev1.Namespace
		if err := p.client.Get(ctx, client.ObjectKey{Name: s.namespace}, &ns); err != nil {
			t.Fatal(err)
		}
		if ns.Labels[naming.LabelMCP] != s.namespace {
			t.Errorf("namespace labels %v", ns.Labels)
		}
	})

	t.Run("a workload cluster deregistered meanwhile: the copies move at once", func(t *testing.T) {
		s := scope("tenant", "w1")
		s.mcp.Status.WorkloadCluster = "gone"
		for _, phase := range []func(context.Context, *mcpScope) error{r.reconcileTenant, r.reconcileWorkloadCluster, r.reconcileMove} {
			if err := phase(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if s.mcp.Status.WorkloadCluster != "w1" {
			t.Errorf("status.workloadCluster %q, want w1", s.mcp.Status.WorkloadCluster)
		}
	})

	t.Run("Ready sums up the others", func(t *testing.T) {
		s := scope("tenant", "w1")
		s.set(vcdnsv1alpha1.ConditionTenantReachable, true, "Reachable", "")
		s.set(vcdnsv1alpha1.ConditionWorkloadReachable, true, "Reachable", "")
		s.set(vcdnsv1alpha1.ConditionTenantDNS, true, vcdnsv1alpha1.ReasonInstalled, "")
		s.set(vcdnsv1alpha1.ConditionSynced, false, "Syncing", "")
		if err := r.reconcileReady(ctx, s); err != nil {
			t.Fatal(err)
		}
		condition(t, s.mcp.Status.Conditions, vcdnsv1alpha1.ConditionReady, metav1.ConditionFalse, "NotReady")
		s.set(vcdnsv1alpha1.ConditionSynced, true, "Synced", "")
		if err := r.reconcileReady(ctx, s); err != nil {
			t.Fatal(err)
		}
		condition(t, s.mcp.Status.Conditions, vcdnsv1alpha1.ConditionReady, metav1.ConditionTrue, "Ready")
	})
}

func reconcileRequest(obj client.Object) ctrl.Request {
	return ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
}
