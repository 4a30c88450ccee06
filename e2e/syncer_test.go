package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/tenantdns"
)

// TestSyncer runs the syncer binary on a landscape of a platform, a dual-stack
// workload cluster and two MCPs, and checks the flows of a tenant Service end to end:
// down to the workload cluster, its IPs back up, and resolved by the tenant's CoreDNS.
func TestSyncer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	mcp1 := vcdnsenv.MCP{Namespace: "team-a", Name: "mcp1", Workload: "workload-1"}
	mcp2 := vcdnsenv.MCP{Namespace: "team-b", Name: "mcp2", Workload: "workload-1"}
	env, err := vcdnsenv.Setup(ctx, l, vcdnsenv.Spec{
		Workloads: []vcdnsenv.Workload{{Name: "workload-1", DualStack: true}, {Name: "workload-2"}},
		MCPs:      []vcdnsenv.MCP{mcp1, mcp2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.StartSyncer(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range []vcdnsenv.MCP{mcp1, mcp2} {
		if err := env.WaitMCPCondition(ctx, m, vcdnsv1alpha1.ConditionReady, metav1.ConditionTrue, 4*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	dns1, err := env.StartTenantDNS(ctx, mcp1)
	if err != nil {
		t.Fatal(err)
	}
	dns2, err := env.StartTenantDNS(ctx, mcp2)
	if err != nil {
		t.Fatal(err)
	}
	workload := mustClient(t, env.Workloads["workload-1"])
	tenant1 := mustClient(t, env.Tenants["team-a/mcp1"])
	tenant2 := mustClient(t, env.Tenants["team-b/mcp2"])
	ns1 := vcdnsenv.MCPNamespace(mcp1)

	if got := ns1; got != "mcp-d99bb272-f1e2-8297-8a42-8b0ff70fcfec" {
		t.Errorf("MCP namespace of team-a/mcp1 is %s", got)
	}

	t.Run("a tenant Service resolves to the workload cluster's IP, dual-stack", func(t *testing.T) {
		svc := createService(ctx, t, tenant1, "default", "web", corev1.IPFamilyPolicyRequireDualStack)
		value := waitAnnotation(ctx, t, tenant1, "default", "web")
		cp := copyOf(ctx, t, workload, ns1, "default", "web")
		if want := strings.Join(cp.Spec.ClusterIPs, ","); value != want {
			t.Fatalf("annotation %q, want the copy's cluster IPs %q", value, want)
		}
		if len(cp.Spec.ClusterIPs) != 2 {
			t.Fatalf("copy has cluster IPs %v, want two (dual-stack)", cp.Spec.ClusterIPs)
		}
		v4, v6 := cp.Spec.ClusterIPs[0], cp.Spec.ClusterIPs[1]
		if slices.Contains(svc.Spec.ClusterIPs, v4) {
			t.Fatalf("the workload IP %s equals the tenant's own ClusterIP; the test proves nothing", v4)
		}
		expectAnswer(ctx, t, dns1.Addr, "web.default.svc.cluster.local.", dns.TypeA, v4)
		expectAnswer(ctx, t, dns1.Addr, "web.default.svc.cluster.local.", dns.TypeAAAA, v6)
	})

	t.Run("the tenant DNS runs on the workload cluster and its Pods resolve through it", func(t *testing.T) {
		checkTenantDNSOnWorkload(ctx, t, env, mcp1, env.Workloads["workload-1"])
	})

	t.Run("the syncer's metrics say what it did", func(t *testing.T) {
		waitFor(ctx, t, "metrics", func(ctx context.Context) error {
			body, err := scrape(ctx, env.SyncerMetrics)
			if err != nil {
				return err
			}
			for _, want := range []string{
				`vcdns_mcp_synced{mcp="team-a/mcp1"} 1`,
				`vcdns_copy_writes_total{kind="Service",operation="create"}`,
				`vcdns_tenant_writes_total{kind="Service"}`,
			} {
				if !strings.Contains(body, want) {
					return fmt.Errorf("metrics lack %s", want)
				}
			}
			return nil
		})
	})

	t.Run("a new Service resolves to its workload IP within seconds", func(t *testing.T) {
		// Asked at once, the tenant DNS first answers the tenant's own ClusterIP (no
		// annotation yet); no cache may hold on to that answer.
		created := time.Now()
		svc := createService(ctx, t, tenant1, "default", "fresh", corev1.IPFamilyPolicySingleStack)
		var first string
		waitFor(ctx, t, "fresh resolves to its workload IP", func(ctx context.Context) error {
			resp, err := landscape.Query(ctx, dns1.Addr, "fresh.default.svc.cluster.local.", dns.TypeA, "udp")
			if err != nil {
				return err
			}
			got := landscape.RRValues(resp.Answer)
			if first == "" && len(got) > 0 {
				first = got[0]
			}
			var cp corev1.Service
			if err := workload.Get(ctx, types.NamespacedName{Namespace: ns1, Name: naming.CopyName("default", "fresh")}, &cp); err != nil {
				return err
			}
			if len(got) != 1 || got[0] != cp.Spec.ClusterIP {
				return fmt.Errorf("answer %v, want the copy's %s", got, cp.Spec.ClusterIP)
			}
			return nil
		})
		if took := time.Since(created); took > 10*time.Second {
			t.Errorf("the workload IP was answered %s after the Service was created (first answer %s, the tenant's own IP is %s)", took, first, svc.Spec.ClusterIP)
		}
	})

	t.Run("MCP2's DNS does not answer MCP1's Services", func(t *testing.T) {
		resp, err := landscape.Query(ctx, dns2.Addr, "web.default.svc.cluster.local.", dns.TypeA, "udp")
		if err != nil {
			t.Fatal(err)
		}
		if resp.Rcode != dns.RcodeNameError || len(resp.Answer) != 0 {
			t.Fatalf("MCP2's DNS answered MCP1's Service: %v", resp)
		}
	})

	t.Run("the same namespace/name in both MCPs never collide", func(t *testing.T) {
		createService(ctx, t, tenant2, "default", "web", corev1.IPFamilyPolicySingleStack)
		v2 := waitAnnotation(ctx, t, tenant2, "default", "web")
		v1 := waitAnnotation(ctx, t, tenant1, "default", "web")
		if strings.Split(v1, ",")[0] == v2 {
			t.Fatalf("both MCPs' web Services got %s", v2)
		}
		cp2 := copyOf(ctx, t, workload, vcdnsenv.MCPNamespace(mcp2), "default", "web")
		expectAnswer(ctx, t, dns2.Addr, "web.default.svc.cluster.local.", dns.TypeA, cp2.Spec.ClusterIPs[0])
	})

	t.Run("a forged annotation is corrected", func(t *testing.T) {
		want := waitAnnotation(ctx, t, tenant1, "default", "web")
		// Values forged while the admission policy was not in force (here: its binding
		// deleted by the tenant admin) are corrected, and the binding comes back.
		binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: tenantdns.PolicyName}}
		forged := map[string]string{"web": "10.96.99.99", "kubernetes": "10.96.0.1"}
		waitFor(ctx, t, "forged values admitted", func(ctx context.Context) error {
			if err := tenant1.Delete(ctx, binding); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			for name, value := range forged {
				if err := patchAnnotation(ctx, tenant1, "default", name, value); err != nil {
					return err
				}
			}
			return nil
		})
		waitFor(ctx, t, "forged values corrected", func(ctx context.Context) error {
			var web, kubernetes corev1.Service
			if err := tenant1.Get(ctx, types.NamespacedName{Namespace: "default", Name: "web"}, &web); err != nil {
				return err
			}
			if got := web.Annotations[naming.ClusterIPAnnotation]; got != want {
				return fmt.Errorf("web: annotation is %q, want %q", got, want)
			}
			if err := tenant1.Get(ctx, types.NamespacedName{Namespace: "default", Name: "kubernetes"}, &kubernetes); err != nil {
				return err
			}
			if got, ok := kubernetes.Annotations[naming.ClusterIPAnnotation]; ok {
				return fmt.Errorf("default/kubernetes: annotation %q not removed", got)
			}
			return tenant1.Get(ctx, client.ObjectKeyFromObject(binding), binding)
		})
		expectAnswer(ctx, t, dns1.Addr, "web.default.svc.cluster.local.", dns.TypeA, strings.Split(want, ",")[0])
	})

	t.Run("a non-syncer user is denied changing the annotation", func(t *testing.T) {
		intruder := mustUserClient(t, env.Tenants["team-a/mcp1"], vcdnsenv.IntruderUser)
		// The binding was just restored by the syncer; admission picks policies up from
		// an informer, so allow it a moment. A change admitted meanwhile is corrected
		// by the syncer as shown above.
		waitFor(ctx, t, "intruder denied", func(ctx context.Context) error {
			err := patchAnnotation(ctx, intruder, "default", "web", "10.96.1.1")
			if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) {
				if !strings.Contains(err.Error(), "managed by the vcdns syncer") {
					return fmt.Errorf("denied for another reason: %w", err)
				}
				return nil
			}
			return fmt.Errorf("intruder changing the annotation: got %v, want denied", err)
		})
		// Creating a Service with the annotation set is denied as well.
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "forged", Annotations: map[string]string{naming.ClusterIPAnnotation: "10.96.1.1"}},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
		}
		if err := intruder.Create(ctx, svc); !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
			t.Fatalf("intruder creating a Service with the annotation: got %v, want denied", err)
		}
	})

	t.Run("a headless and an ExternalName Service are copied without annotation", func(t *testing.T) {
		headless := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "headless"},
			Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "x"}, Ports: []corev1.ServicePort{{Port: 80}}},
		}
		external := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "external"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"},
		}
		for _, s := range []*corev1.Service{headless, external} {
			if err := tenant1.Create(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		cpHeadless := copyOf(ctx, t, workload, ns1, "default", "headless")
		if cpHeadless.Spec.ClusterIP != corev1.ClusterIPNone {
			t.Errorf("headless copy has cluster IP %q", cpHeadless.Spec.ClusterIP)
		}
		cpExternal := copyOf(ctx, t, workload, ns1, "default", "external")
		if cpExternal.Spec.ExternalName != "example.com" {
			t.Errorf("ExternalName copy has externalName %q", cpExternal.Spec.ExternalName)
		}
	})

	t.Run("deleting a Service removes its copy", func(t *testing.T) {
		createService(ctx, t, tenant1, "default", "short-lived", corev1.IPFamilyPolicySingleStack)
		cp := copyOf(ctx, t, workload, ns1, "default", "short-lived")
		if err := tenant1.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "short-lived"}}); err != nil {
			t.Fatal(err)
		}
		waitGone(ctx, t, workload, &corev1.Service{}, client.ObjectKeyFromObject(cp))
	})

	t.Run("a stopped and restarted tenant API server loses nothing", func(t *testing.T) {
		before := waitAnnotation(ctx, t, tenant1, "default", "web")
		tenantCluster := env.Tenants["team-a/mcp1"]
		tenantCluster.StopAPIServer()
		if err := env.WaitMCPCondition(ctx, mcp1, vcdnsv1alpha1.ConditionTenantReachable, metav1.ConditionFalse, time.Minute); err != nil {
			t.Fatal(err)
		}
		// While the tenant is away its copies stay.
		copyOf(ctx, t, workload, ns1, "default", "web")
		if err := tenantCluster.StartAPIServer(ctx); err != nil {
			t.Fatal(err)
		}
		if err := env.WaitMCPCondition(ctx, mcp1, vcdnsv1alpha1.ConditionReady, metav1.ConditionTrue, 4*time.Minute); err != nil {
			t.Fatal(err)
		}
		if after := waitAnnotation(ctx, t, tenant1, "default", "web"); after != before {
			t.Errorf("annotation changed across the tenant restart: %q -> %q", before, after)
		}
		createService(ctx, t, tenant1, "default", "after-restart", corev1.IPFamilyPolicySingleStack)
		waitAnnotation(ctx, t, tenant1, "default", "after-restart")
	})

	t.Run("a restarted syncer converges with no writes", func(t *testing.T) {
		for _, m := range []vcdnsenv.MCP{mcp1, mcp2} {
			if err := env.WaitMCPCondition(ctx, m, vcdnsv1alpha1.ConditionSynced, metav1.ConditionTrue, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		// The status settles (counts refresh with the 2 s probe) before the restart, so
		// that the restarted syncer really has nothing to change.
		for _, m := range []vcdnsenv.MCP{mcp1, mcp2} {
			waitStatusStable(ctx, t, env, m, 3*time.Second)
		}
		env.Syncer.Stop(10 * time.Second)
		restarted := time.Now()
		if err := env.Syncer.Restart(0); err != nil {
			t.Fatal(err)
		}
		// Converged: every MCP Synced again, as observed by a fresh session.
		waitFor(ctx, t, "syncer restarted and synced", func(ctx context.Context) error {
			for _, m := range []vcdnsenv.MCP{mcp1, mcp2} {
				var mcp vcdnsv1alpha1.ManagedControlPlane
				if err := env.Client.Get(ctx, types.NamespacedName{Namespace: m.Namespace, Name: m.Name}, &mcp); err != nil {
					return err
				}
				for _, c := range mcp.Status.Conditions {
					if c.Type == vcdnsv1alpha1.ConditionSynced && (c.Status != metav1.ConditionTrue) {
						return fmt.Errorf("MCP %s not synced: %s", m.Name, c.Message)
					}
				}
			}
			return nil
		})
		// Let the restarted syncer run its start-up reconciles (probe interval 2 s),
		// then read what it wrote from the API servers' audit logs.
		waitSyncerIdle(ctx, t, env, restarted)
		var writes []string
		for _, c := range allClusters(env) {
			events, err := c.AuditEvents(vcdnsenv.SyncerUser, restarted)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range events {
				switch {
				case e.ObjectRef.Resource == "leases",
					e.ObjectRef.Resource == "events" && strings.HasPrefix(e.ObjectRef.Name, "vcdns-syncer."):
					continue // leader election renews its Lease and announces the leader by design
				case e.ObjectRef.Resource == "selfsubjectreviews":
					continue // asks who the syncer is; a create in form, nothing is stored
				}
				writes = append(writes, c.Name+": "+e.String())
			}
		}
		if len(writes) > 0 {
			t.Errorf("the restarted syncer wrote %d times with nothing to change:\n%s", len(writes), strings.Join(writes, "\n"))
		}
	})

	t.Run("load-balancer status flows up to the tenant Service", func(t *testing.T) {
		lb := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "public"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "public"}, Ports: []corev1.ServicePort{{Port: 443}}},
		}
		if err := tenant1.Create(ctx, lb); err != nil {
			t.Fatal(err)
		}
		cp := copyOf(ctx, t, workload, ns1, "default", "public")
		if len(cp.Spec.Ports) != 1 || cp.Spec.Ports[0].NodePort == lb.Spec.Ports[0].NodePort {
			t.Errorf("copy ports %+v: node ports must be the workload cluster's own", cp.Spec.Ports)
		}
		waitFor(ctx, t, "tenant load-balancer status", func(ctx context.Context) error {
			if err := workload.Get(ctx, client.ObjectKeyFromObject(cp), cp); err != nil {
				return err
			}
			var got corev1.Service
			if err := tenant1.Get(ctx, client.ObjectKeyFromObject(lb), &got); err != nil {
				return err
			}
			if len(cp.Status.LoadBalancer.Ingress) == 0 || !reflect.DeepEqual(got.Status.LoadBalancer, cp.Status.LoadBalancer) {
				return fmt.Errorf("tenant %+v, copy %+v", got.Status.LoadBalancer, cp.Status.LoadBalancer)
			}
			return nil
		})
	})

	t.Run("changing the workload cluster moves the copies", func(t *testing.T) {
		ns2 := vcdnsenv.MCPNamespace(mcp2)
		workload2 := mustClient(t, env.Workloads["workload-2"])
		var mcp vcdnsv1alpha1.ManagedControlPlane
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: mcp2.Namespace, Name: mcp2.Name}, &mcp); err != nil {
			t.Fatal(err)
		}
		patched := mcp.DeepCopy()
		patched.Spec.WorkloadCluster = "workload-2"
		if err := env.Client.Patch(ctx, patched, client.MergeFrom(&mcp)); err != nil {
			t.Fatal(err)
		}
		cp := copyOf(ctx, t, workload2, ns2, "default", "web")
		waitGone(ctx, t, workload, &corev1.Namespace{}, types.NamespacedName{Name: ns2})
		want := cp.Spec.ClusterIPs[0]
		if !netip.MustParsePrefix(env.Workloads["workload-2"].ServiceCIDRs[0]).Contains(netip.MustParseAddr(want)) {
			t.Fatalf("copy on workload-2 has IP %s outside its range", want)
		}
		waitFor(ctx, t, "annotation with workload-2's IP", func(ctx context.Context) error {
			if got := waitAnnotation(ctx, t, tenant2, "default", "web"); got != want {
				return fmt.Errorf("annotation %q, want %q", got, want)
			}
			return nil
		})
		// The tenant DNS is rendered for workload-2's ranges now; run it as rendered.
		if err := env.WaitMCPCondition(ctx, mcp2, vcdnsv1alpha1.ConditionReady, metav1.ConditionTrue, time.Minute); err != nil {
			t.Fatal(err)
		}
		dns2.Process.Stop(5 * time.Second)
		moved, err := env.StartTenantDNS(ctx, mcp2)
		if err != nil {
			t.Fatal(err)
		}
		expectAnswer(ctx, t, moved.Addr, "web.default.svc.cluster.local.", dns.TypeA, want)
	})

	t.Run("deleting an MCP cleans up everything", func(t *testing.T) {
		mcp := &vcdnsv1alpha1.ManagedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: mcp2.Namespace, Name: mcp2.Name}}
		if err := env.Client.Delete(ctx, mcp); err != nil {
			t.Fatal(err)
		}
		ns2 := vcdnsenv.MCPNamespace(mcp2)
		waitGone(ctx, t, env.Client, mcp, client.ObjectKeyFromObject(mcp))
		waitGone(ctx, t, mustClient(t, env.Workloads["workload-2"]), &corev1.Namespace{}, types.NamespacedName{Name: ns2})
		waitGone(ctx, t, env.Client, &corev1.Namespace{}, types.NamespacedName{Name: ns2})
		// MCP1 is untouched.
		copyOf(ctx, t, workload, ns1, "default", "web")
	})

	t.Run("deleting an MCP whose workload cluster is down waits, or skips its cleanup when told", func(t *testing.T) {
		w1 := env.Workloads["workload-1"]
		w1.StopAPIServer()
		key := types.NamespacedName{Namespace: mcp1.Namespace, Name: mcp1.Name}
		if err := env.Client.Delete(ctx, &vcdnsv1alpha1.ManagedControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}); err != nil {
			t.Fatal(err)
		}
		waitDeletingThenSkip(ctx, t, env.Client, &vcdnsv1alpha1.ManagedControlPlane{}, key, "workload-1")
		waitGone(ctx, t, env.Client, &vcdnsv1alpha1.ManagedControlPlane{}, key)
		waitGone(ctx, t, env.Client, &corev1.Namespace{}, types.NamespacedName{Name: ns1})
		waitEvent(ctx, t, env.Client, key, corev1.EventTypeWarning, vcdnsv1alpha1.ReasonCleanupSkipped, "namespace "+ns1+" on cluster workload-1")

		// What was skipped is still on the workload cluster when it comes back.
		if err := w1.StartAPIServer(ctx); err != nil {
			t.Fatal(err)
		}
		copyOf(ctx, t, workload, ns1, "default", "web")
	})
}

// waitDeletingThenSkip waits until obj (key), being deleted, has the Deleting condition
// CleanupFailed with a message naming text and the skip annotation, and a Warning Event
// saying so, then annotates it to skip the cleanup. obj holds it as read before.
func waitDeletingThenSkip[T interface {
	client.Object
	GetConditions() []metav1.Condition
}](ctx context.Context, t *testing.T, c client.Client, obj T, key types.NamespacedName, text string) {
	t.Helper()
	waitFor(ctx, t, "Deleting condition "+vcdnsv1alpha1.ReasonCleanupFailed, func(ctx context.Context) error {
		if err := c.Get(ctx, key, obj); err != nil {
			return err
		}
		d := meta.FindStatusCondition(obj.GetConditions(), vcdnsv1alpha1.ConditionDeleting)
		if d == nil || d.Status != metav1.ConditionTrue || d.Reason != vcdnsv1alpha1.ReasonCleanupFailed ||
			!strings.Contains(d.Message, text) || !strings.Contains(d.Message, vcdnsv1alpha1.AnnotationSkipRemoteCleanup) {
			return fmt.Errorf("Deleting condition %+v", d)
		}
		return nil
	})
	if !controllerutil.ContainsFinalizer(obj, vcdnsv1alpha1.Finalizer) {
		t.Fatalf("finalizers %v: the cleanup was given up while the cluster is down", obj.GetFinalizers())
	}
	waitEvent(ctx, t, c, key, corev1.EventTypeWarning, vcdnsv1alpha1.ReasonCleanupFailed, text)
	patch := client.MergeFrom(obj.DeepCopyObject().(T))
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[vcdnsv1alpha1.AnnotationSkipRemoteCleanup] = "true"
	obj.SetAnnotations(annotations)
	if err := c.Patch(ctx, obj, patch); err != nil {
		t.Fatal(err)
	}
}

// waitEvent waits for an Event about the object key with the type and reason, whose
// message contains text.
func waitEvent(ctx context.Context, t *testing.T, c client.Client, key types.NamespacedName, typ, reason, text string) {
	t.Helper()
	waitFor(ctx, t, fmt.Sprintf("%s Event %s about %s", typ, reason, key), func(ctx context.Context) error {
		var list corev1.EventList
		if err := c.List(ctx, &list, client.InNamespace(key.Namespace)); err != nil {
			return err
		}
		var seen []string
		for _, e := range list.Items {
			if e.InvolvedObject.Name != key.Name {
				continue
			}
			if e.Type == typ && e.Reason == reason && strings.Contains(e.Message, text) {
				return nil
			}
			seen = append(seen, e.Type+" "+e.Reason+": "+e.Message)
		}
		return fmt.Errorf("events about it: %q", seen)
	})
}

// waitStatusStable waits until an MCP's resourceVersion stays the same for quiet.
func waitStatusStable(ctx context.Context, t *testing.T, env *vcdnsenv.Env, m vcdnsenv.MCP, quiet time.Duration) {
	t.Helper()
	var rv string
	var since time.Time
	waitFor(ctx, t, "MCP "+m.Name+" status stable", func(ctx context.Context) error {
		var mcp vcdnsv1alpha1.ManagedControlPlane
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: m.Namespace, Name: m.Name}, &mcp); err != nil {
			return err
		}
		if mcp.ResourceVersion != rv {
			rv, since = mcp.ResourceVersion, time.Now()
		}
		if time.Since(since) < quiet {
			return fmt.Errorf("changed %s ago", time.Since(since))
		}
		return nil
	})
}

func scrape(ctx context.Context, addr string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func allClusters(env *vcdnsenv.Env) []*landscape.Cluster {
	cs := []*landscape.Cluster{env.Platform}
	for _, c := range env.Workloads {
		cs = append(cs, c)
	}
	for _, c := range env.Tenants {
		cs = append(cs, c)
	}
	return cs
}

// waitSyncerIdle waits until the restarted syncer has been running for three probe
// intervals, so that every periodic reconcile has run at least twice.
func waitSyncerIdle(ctx context.Context, t *testing.T, env *vcdnsenv.Env, since time.Time) {
	t.Helper()
	waitFor(ctx, t, "three probe intervals", func(context.Context) error {
		if time.Since(since) < 6*time.Second {
			return fmt.Errorf("running for %s", time.Since(since))
		}
		return nil
	})
}

func mustClient(t *testing.T, c *landscape.Cluster) client.Client {
	t.Helper()
	return mustUserClient(t, c, landscape.AdminUser)
}

func mustUserClient(t *testing.T, c *landscape.Cluster, user string) client.Client {
	t.Helper()
	cfg, err := c.UserConfig(user)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(cfg, client.Options{Scheme: vcdnsenv.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func createService(ctx context.Context, t *testing.T, c client.Client, ns, name string, policy corev1.IPFamilyPolicy) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			IPFamilyPolicy: &policy,
			Selector:       map[string]string{"app": name},
			Ports:          []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
	if err := c.Create(ctx, svc); err != nil {
		t.Fatalf("creating Service %s/%s: %v", ns, name, err)
	}
	return svc
}

func patchAnnotation(ctx context.Context, c client.Client, ns, name, value string) error {
	var svc corev1.Service
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &svc); err != nil {
		return err
	}
	patched := svc.DeepCopy()
	if patched.Annotations == nil {
		patched.Annotations = map[string]string{}
	}
	patched.Annotations[naming.ClusterIPAnnotation] = value
	return c.Patch(ctx, patched, client.MergeFrom(&svc))
}

// waitAnnotation waits until the tenant Service carries the clusterIP annotation and
// returns it.
func waitAnnotation(ctx context.Context, t *testing.T, c client.Client, ns, name string) string {
	t.Helper()
	var value string
	waitFor(ctx, t, "annotation on "+ns+"/"+name, func(ctx context.Context) error {
		var svc corev1.Service
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &svc); err != nil {
			return err
		}
		v, ok := svc.Annotations[naming.ClusterIPAnnotation]
		if !ok {
			return fmt.Errorf("no annotation yet")
		}
		for _, ip := range strings.Split(v, ",") {
			if _, err := netip.ParseAddr(ip); err != nil {
				return fmt.Errorf("annotation %q: %w", v, err)
			}
		}
		value = v
		return nil
	})
	return value
}

// copyOf waits for the copy of a tenant Service in an MCP namespace.
func copyOf(ctx context.Context, t *testing.T, c client.Client, mcpNS, ns, name string) *corev1.Service {
	t.Helper()
	cp := &corev1.Service{}
	key := types.NamespacedName{Namespace: mcpNS, Name: naming.CopyName(ns, name)}
	waitFor(ctx, t, "copy "+key.String(), func(ctx context.Context) error { return c.Get(ctx, key, cp) })
	return cp
}

func waitGone(ctx context.Context, t *testing.T, c client.Client, obj client.Object, key types.NamespacedName) {
	t.Helper()
	waitFor(ctx, t, fmt.Sprintf("%T %s gone", obj, key), func(ctx context.Context) error {
		err := c.Get(ctx, key, obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("still there")
	})
}

func expectAnswer(ctx context.Context, t *testing.T, server, name string, qtype uint16, want string) {
	t.Helper()
	for _, network := range []string{"udp", "tcp"} {
		waitFor(ctx, t, fmt.Sprintf("%s %s over %s answers %s", dns.TypeToString[qtype], name, network, want), func(ctx context.Context) error {
			resp, err := landscape.Query(ctx, server, name, qtype, network)
			if err != nil {
				return err
			}
			var got []string
			for _, rr := range resp.Answer {
				switch rr := rr.(type) {
				case *dns.A:
					got = append(got, rr.A.String())
				case *dns.AAAA:
					got = append(got, rr.AAAA.String())
				}
			}
			if len(got) != 1 || got[0] != want {
				return fmt.Errorf("answer %v (rcode %s), want %s", got, dns.RcodeToString[resp.Rcode], want)
			}
			return nil
		})
	}
}

// waitFor polls check until it succeeds or 90 s pass.
func waitFor(ctx context.Context, t *testing.T, what string, check func(context.Context) error) {
	t.Helper()
	var last error
	// Generous: a pass is quick, but a loaded 2-core machine runs many clusters.
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		last = check(ctx)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last: %v)", what, err, last)
	}
}
