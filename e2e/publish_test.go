package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/dns/corefile"
	"github.com/vcdns/vcdns/syncer/naming"
)

// TestPublish runs the syncer with the central DNS on a landscape of two workload
// clusters and a tenant on workload-1, and resolves the hostnames of Gateways,
// HTTPRoutes and Ingresses through workload-2's own CoreDNS, run from the Corefile the
// syncer patched into its ConfigMap.
func TestPublish(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	mcp := vcdnsenv.MCP{Namespace: "team-a", Name: "shop", Workload: "workload-1"}
	env, err := vcdnsenv.Setup(ctx, l, vcdnsenv.Spec{
		Workloads: []vcdnsenv.Workload{{Name: "workload-1", DualStack: true}, {Name: "workload-2", DualStack: true}},
		MCPs:      []vcdnsenv.MCP{mcp},
	})
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 5 * time.Second
	if _, err := env.StartSyncer(ctx, "--record-ttl", ttl.String()); err != nil {
		t.Fatal(err)
	}
	w1, w2 := env.Workloads["workload-1"], env.Workloads["workload-2"]
	waitFor(ctx, t, "workload-2's Corefile patched", func(ctx context.Context) error {
		cf, err := env.ClusterCorefileNow(ctx, w2)
		if err != nil {
			return err
		}
		if !strings.Contains(cf, corefile.BeginMarker) {
			return fmt.Errorf("no vcdns block yet:\n%s", cf)
		}
		return nil
	})
	dns2, err := env.StartClusterDNS(ctx, w2)
	if err != nil {
		t.Fatal(err)
	}
	tenant := mustClient(t, env.Tenants["team-a/shop"])
	workload1 := mustClient(t, w1)

	t.Run("a tenant Gateway and HTTPRoute resolve from the other workload cluster", func(t *testing.T) {
		createService(ctx, t, tenant, "default", "app", corev1.IPFamilyPolicyPreferDualStack)
		gw := &gatewayv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
			Spec: gatewayv1.GatewaySpec{
				GatewayClassName: "vcdns-test",
				Listeners: []gatewayv1.Listener{{
					Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType,
					Hostname: ptr.To(gatewayv1.Hostname("web.workload-1.openmcp.cluster")),
				}, {
					Name: "apps", Port: 8080, Protocol: gatewayv1.HTTPProtocolType,
				}},
			},
		}
		if err := tenant.Create(ctx, gw); err != nil {
			t.Fatal(err)
		}
		route := httpRoute("default", "app", "web", "app", "app.workload-1.openmcp.cluster")
		if err := tenant.Create(ctx, route); err != nil {
			t.Fatal(err)
		}
		// The copy got addresses from workload-1's data plane; they come back up.
		var addrs []string
		waitFor(ctx, t, "tenant Gateway addresses", func(ctx context.Context) error {
			var got gatewayv1.Gateway
			if err := tenant.Get(ctx, client.ObjectKeyFromObject(gw), &got); err != nil {
				return err
			}
			addrs = nil
			for _, a := range got.Status.Addresses {
				addrs = append(addrs, a.Value)
			}
			if len(addrs) != 2 {
				return fmt.Errorf("addresses %v", addrs)
			}
			if !meta.IsStatusConditionTrue(got.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed)) {
				return fmt.Errorf("not programmed: %+v", got.Status.Conditions)
			}
			if !meta.IsStatusConditionTrue(got.Status.Conditions, vcdnsv1alpha1.GatewayConditionPublished) {
				return fmt.Errorf("not published: %+v", got.Status.Conditions)
			}
			return nil
		})
		waitFor(ctx, t, "tenant HTTPRoute parent status", func(ctx context.Context) error {
			var got gatewayv1.HTTPRoute
			if err := tenant.Get(ctx, client.ObjectKeyFromObject(route), &got); err != nil {
				return err
			}
			for _, p := range got.Status.Parents {
				if string(p.ParentRef.Name) == "web" && meta.IsStatusConditionTrue(p.Conditions, string(gatewayv1.RouteConditionAccepted)) {
					return nil
				}
			}
			return fmt.Errorf("parents %+v", got.Status.Parents)
		})
		for _, name := range []string{"web.workload-1.openmcp.cluster.", "app.workload-1.openmcp.cluster."} {
			expectAnswer(ctx, t, dns2.Addr, name, dns.TypeA, addrs[0])
			expectAnswer(ctx, t, dns2.Addr, name, dns.TypeAAAA, addrs[1])
		}
	})

	t.Run("the syncer's metrics count published names", func(t *testing.T) {
		waitFor(ctx, t, "metrics", func(ctx context.Context) error {
			body, err := scrape(ctx, env.SyncerMetrics)
			if err != nil {
				return err
			}
			if !strings.Contains(body, `vcdns_published_hostnames{cluster="workload-1"} 2`) {
				return fmt.Errorf("vcdns_published_hostnames of workload-1 is not 2")
			}
			return nil
		})
	})

	t.Run("an Ingress native to workload-1 resolves from workload-2", func(t *testing.T) {
		createService(ctx, t, workload1, "default", "shop", corev1.IPFamilyPolicySingleStack)
		ing := ingress("default", "shop", "shop.workload-1.openmcp.cluster", "shop")
		if err := workload1.Create(ctx, ing); err != nil {
			t.Fatal(err)
		}
		ip := waitIngressIP(ctx, t, workload1, client.ObjectKeyFromObject(ing))
		expectAnswer(ctx, t, dns2.Addr, "shop.workload-1.openmcp.cluster.", dns.TypeA, ip)
	})

	t.Run("refused hostnames are shown on the objects", func(t *testing.T) {
		outside := ingress("default", "outside", "x.workload-2.openmcp.cluster", "shop")
		conflict := ingress("default", "conflict", "shop.workload-1.openmcp.cluster", "shop")
		nested := ingress("default", "nested", "deep.shop.workload-1.openmcp.cluster", "shop")
		invalid := httpRoute("default", "invalid", "web", "app", strings.Repeat("a", 64)+".workload-1.openmcp.cluster")
		for _, obj := range []client.Object{outside, conflict, nested} {
			if err := workload1.Create(ctx, obj); err != nil {
				t.Fatal(err)
			}
		}
		taken := ingress("default", "taken", "shop.workload-1.openmcp.cluster", "shop")
		for _, obj := range []client.Object{invalid, taken} {
			if err := tenant.Create(ctx, obj); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			obj  client.Object
			c    client.Client
			key  types.NamespacedName
			want string
		}{
			{obj: &networkingv1.Ingress{}, c: workload1, key: client.ObjectKeyFromObject(outside), want: "x.workload-2.openmcp.cluster"},
			{obj: &networkingv1.Ingress{}, c: workload1, key: client.ObjectKeyFromObject(conflict), want: "shop.workload-1.openmcp.cluster"},
			{obj: &networkingv1.Ingress{}, c: workload1, key: client.ObjectKeyFromObject(nested), want: "deep.shop.workload-1.openmcp.cluster"},
			// The tenant route's copy carries the refusal on workload-1, and the tenant
			// route, where its owner sees it, too; so does a tenant Ingress.
			{obj: &gatewayv1.HTTPRoute{}, c: workload1, key: types.NamespacedName{Namespace: vcdnsenv.MCPNamespace(mcp), Name: naming.CopyName("default", "invalid")}, want: strings.Repeat("a", 64)},
			{obj: &gatewayv1.HTTPRoute{}, c: tenant, key: client.ObjectKeyFromObject(invalid), want: strings.Repeat("a", 64)},
			{obj: &networkingv1.Ingress{}, c: tenant, key: client.ObjectKeyFromObject(taken), want: "shop.workload-1.openmcp.cluster"},
		} {
			waitFor(ctx, t, "refusal on "+tc.key.String(), func(ctx context.Context) error {
				if err := tc.c.Get(ctx, tc.key, tc.obj); err != nil {
					return err
				}
				msg := tc.obj.GetAnnotations()[vcdnsv1alpha1.AnnotationPublishRefused]
				if !strings.Contains(msg, tc.want) {
					return fmt.Errorf("annotation %s is %q", vcdnsv1alpha1.AnnotationPublishRefused, msg)
				}
				return nil
			})
		}
		waitEvent(ctx, t, tenant, client.ObjectKeyFromObject(invalid), corev1.EventTypeWarning, "HostnameRefused", strings.Repeat("a", 64))
		waitEvent(ctx, t, tenant, client.ObjectKeyFromObject(taken), corev1.EventTypeWarning, "HostnameRefused", "shop.workload-1.openmcp.cluster")
		// None of them is published; the first claim keeps answering.
		for _, name := range []string{"x.workload-2.openmcp.cluster.", "deep.shop.workload-1.openmcp.cluster."} {
			resp, err := landscape.Query(ctx, dns2.Addr, name, dns.TypeA, "udp")
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Answer) != 0 {
				t.Errorf("%s answered %v", name, resp.Answer)
			}
		}
		ip := waitIngressIP(ctx, t, workload1, types.NamespacedName{Namespace: "default", Name: "shop"})
		expectAnswer(ctx, t, dns2.Addr, "shop.workload-1.openmcp.cluster.", dns.TypeA, ip)
	})

	t.Run("a refused part of a tenant Ingress is announced once, not again when its status flows up", func(t *testing.T) {
		ing := ingress("default", "mixed", "mixed.workload-1.openmcp.cluster", "shop")
		ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{APIGroup: ptr.To("example.com"), Kind: "Bucket", Name: "b"}}
		if err := tenant.Create(ctx, ing); err != nil {
			t.Fatal(err)
		}
		key := client.ObjectKeyFromObject(ing)
		waitFor(ctx, t, "annotation "+vcdnsv1alpha1.AnnotationRefused, func(ctx context.Context) error {
			var got networkingv1.Ingress
			if err := tenant.Get(ctx, key, &got); err != nil {
				return err
			}
			if msg := got.Annotations[vcdnsv1alpha1.AnnotationRefused]; !strings.Contains(msg, "spec.defaultBackend") {
				return fmt.Errorf("annotation %q", msg)
			}
			return nil
		})
		waitEvent(ctx, t, tenant, key, corev1.EventTypeWarning, "Refused", "spec.defaultBackend")
		// The copy gets its address from the workload cluster's data plane, the tenant
		// Ingress its status: a write for another reason, with the refusal standing.
		waitIngressIP(ctx, t, tenant, key)
		// The List gets the test's context: with the poll's, the client's rate limiter
		// refuses a request near the 3 s deadline with an error of its own.
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 3*time.Second, true, func(context.Context) (bool, error) {
			var list corev1.EventList
			if err := tenant.List(ctx, &list, client.InNamespace(key.Namespace)); err != nil {
				return false, err
			}
			for _, e := range list.Items {
				if e.InvolvedObject.Name == key.Name && e.Reason == "Refused" && (e.Count > 1 || e.Series != nil) {
					return false, fmt.Errorf("the refusal was announced again: %s, count %d, series %+v", e.Message, e.Count, e.Series)
				}
			}
			return false, nil // watched until the deadline
		})
		if !wait.Interrupted(err) {
			t.Fatal(err)
		}
	})

	t.Run("GatewayDNS names resolve for any label under the gateway name", func(t *testing.T) {
		lbIPs := map[string]string{}
		for _, w := range []*landscape.Cluster{w1, w2} {
			c := mustClient(t, w)
			if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gateway-system"}}); err != nil {
				t.Fatal(err)
			}
			svc := &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Namespace: "gateway-system", Name: "gateway"},
				Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 443}}},
			}
			if err := c.Create(ctx, svc); err != nil {
				t.Fatal(err)
			}
			waitFor(ctx, t, "load-balancer IP on "+w.Name, func(ctx context.Context) error {
				if err := c.Get(ctx, client.ObjectKeyFromObject(svc), svc); err != nil {
					return err
				}
				if len(svc.Status.LoadBalancer.Ingress) == 0 {
					return fmt.Errorf("no load-balancer IP yet")
				}
				lbIPs[w.Name] = svc.Status.LoadBalancer.Ingress[0].IP
				return nil
			})
		}
		gd := createGatewayDNS(ctx, t, env)
		for cluster, ip := range lbIPs {
			for _, label := range []string{"", "api.", "a.b.c."} {
				expectAnswer(ctx, t, dns2.Addr, label+"gateway."+cluster+".connectivity.clusters.openmcp.cluster.", dns.TypeA, ip)
			}
		}
		waitFor(ctx, t, "GatewayDNS status", func(ctx context.Context) error {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(gd), gd); err != nil {
				return err
			}
			if len(gd.Status.Clusters) != 2 || !gd.Status.Clusters[0].Published || !gd.Status.Clusters[1].Published {
				return fmt.Errorf("status %+v", gd.Status.Clusters)
			}
			return nil
		})
	})

	t.Run("the central etcd paused and resumed loses nothing", func(t *testing.T) {
		if err := env.Central.Etcd.Process.Pause(); err != nil {
			t.Fatal(err)
		}
		createService(ctx, t, workload1, "default", "late", corev1.IPFamilyPolicySingleStack)
		late := ingress("default", "late", "late.workload-1.openmcp.cluster", "late")
		if err := workload1.Create(ctx, late); err != nil {
			t.Fatal(err)
		}
		ip := waitIngressIP(ctx, t, workload1, client.ObjectKeyFromObject(late))
		if err := env.Central.Etcd.Process.Resume(); err != nil {
			t.Fatal(err)
		}
		expectAnswer(ctx, t, dns2.Addr, "late.workload-1.openmcp.cluster.", dns.TypeA, ip)
		shop := waitIngressIP(ctx, t, workload1, types.NamespacedName{Namespace: "default", Name: "shop"})
		expectAnswer(ctx, t, dns2.Addr, "shop.workload-1.openmcp.cluster.", dns.TypeA, shop)
	})

	t.Run("deleting the Gateway makes its names NXDOMAIN within the TTL", func(t *testing.T) {
		if err := tenant.Delete(ctx, &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}}); err != nil {
			t.Fatal(err)
		}
		deleted := time.Now()
		waitNXDOMAIN(ctx, t, dns2.Addr, "web.workload-1.openmcp.cluster.")
		// Propagation (copy deleted, store updated) plus one TTL of caching, with room
		// for a loaded machine.
		if took := time.Since(deleted); took > ttl+5*time.Second {
			t.Errorf("NXDOMAIN after %s, want within the TTL %s (+5 s)", took, ttl)
		}
	})

	t.Run("the Corefile patch is idempotent, survives manual edits and goes with the cluster", func(t *testing.T) {
		w2c := mustClient(t, w2)
		key := types.NamespacedName{Namespace: "kube-system", Name: "coredns"}
		var cm corev1.ConfigMap
		if err := w2c.Get(ctx, key, &cm); err != nil {
			t.Fatal(err)
		}
		rv := cm.ResourceVersion
		waitSyncerIdle(ctx, t, env, time.Now()) // three probe intervals of the syncer
		if err := w2c.Get(ctx, key, &cm); err != nil {
			t.Fatal(err)
		}
		if cm.ResourceVersion != rv {
			t.Errorf("the syncer rewrote an unchanged Corefile (resourceVersion %s -> %s)", rv, cm.ResourceVersion)
		}
		// A manual edit outside the block is kept, a removed block comes back.
		edited := strings.Replace(vcdnsenv.ClusterCorefile, "cache 30", "cache 60", 1)
		cm.Data["Corefile"] = edited
		if err := w2c.Update(ctx, &cm); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, "block back, edit kept", func(ctx context.Context) error {
			cf, err := env.ClusterCorefileNow(ctx, w2)
			if err != nil {
				return err
			}
			if !strings.Contains(cf, corefile.BeginMarker) || !strings.Contains(cf, "cache 60") {
				return fmt.Errorf("Corefile:\n%s", cf)
			}
			return nil
		})
		// Deregistering the cluster removes the block.
		if err := env.Client.Delete(ctx, &vcdnsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: vcdnsenv.ClusterNamespace, Name: "workload-2"}}); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, "block removed", func(ctx context.Context) error {
			cf, err := env.ClusterCorefileNow(ctx, w2)
			if err != nil {
				return err
			}
			if strings.Contains(cf, corefile.BeginMarker) || !strings.Contains(cf, "cache 60") {
				return fmt.Errorf("Corefile:\n%s", cf)
			}
			return nil
		})
	})

	t.Run("a Cluster gone without deregistering takes its names along, also while no syncer runs", func(t *testing.T) {
		w2c := mustClient(t, w2)
		createService(ctx, t, w2c, "default", "orphan", corev1.IPFamilyPolicySingleStack)
		ing := ingress("default", "orphan", "orphan.workload-2.openmcp.cluster", "orphan")
		if err := w2c.Create(ctx, ing); err != nil {
			t.Fatal(err)
		}
		ip := waitIngressIP(ctx, t, w2c, client.ObjectKeyFromObject(ing))
		key := types.NamespacedName{Namespace: vcdnsenv.ClusterNamespace, Name: "workload-2"}
		waitGone(ctx, t, env.Client, &vcdnsv1alpha1.Cluster{}, key) // deregistered above
		for _, syncerDown := range []bool{false, true} {
			if err := env.RegisterCluster(ctx, w2); err != nil {
				t.Fatal(err)
			}
			expectAnswer(ctx, t, env.Central.DNS.Addr, "orphan.workload-2.openmcp.cluster.", dns.TypeA, ip)
			if syncerDown {
				env.Syncer.Stop(10 * time.Second)
			}
			deleteWithoutFinalizer(ctx, t, env.Client, key)
			if syncerDown {
				if err := env.Syncer.Restart(0); err != nil {
					t.Fatal(err)
				}
			}
			waitNXDOMAIN(ctx, t, env.Central.DNS.Addr, "orphan.workload-2.openmcp.cluster.")
		}
	})

	t.Run("deleting a Cluster that is down unpublishes it, waits for its Corefile, or skips it when told", func(t *testing.T) {
		w1.StopAPIServer()
		key := types.NamespacedName{Namespace: vcdnsenv.ClusterNamespace, Name: "workload-1"}
		if err := env.Client.Delete(ctx, &vcdnsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}); err != nil {
			t.Fatal(err)
		}
		// Its names leave the central DNS at once: they are not on the cluster.
		waitNXDOMAIN(ctx, t, dns2.Addr, "shop.workload-1.openmcp.cluster.")
		waitDeletingThenSkip(ctx, t, env.Client, &vcdnsv1alpha1.Cluster{}, key, "Corefile")
		waitGone(ctx, t, env.Client, &vcdnsv1alpha1.Cluster{}, key)
		waitEvent(ctx, t, env.Client, key, corev1.EventTypeWarning, vcdnsv1alpha1.ReasonCleanupSkipped, "the vcdns block of the CoreDNS Corefile")

		// The skipped block is still in workload-1's Corefile when it comes back.
		if err := w1.StartAPIServer(ctx); err != nil {
			t.Fatal(err)
		}
		cf, err := env.ClusterCorefileNow(ctx, w1)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cf, corefile.BeginMarker) {
			t.Errorf("the block was removed after all:\n%s", cf)
		}
	})
}

// waitNXDOMAIN waits (3 minutes at most, as waitFor) until server answers name with
// NXDOMAIN and an SOA.
func waitNXDOMAIN(ctx context.Context, t *testing.T, server, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	err := landscape.WaitForAnswer(ctx, server, name, dns.TypeA, func(resp *dns.Msg) error {
		if resp.Rcode != dns.RcodeNameError {
			return fmt.Errorf("rcode %s, answer %v", dns.RcodeToString[resp.Rcode], resp.Answer)
		}
		for _, rr := range resp.Ns {
			if _, ok := rr.(*dns.SOA); ok {
				return nil
			}
		}
		return fmt.Errorf("NXDOMAIN without SOA: %v", resp)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// deleteWithoutFinalizer deletes a Cluster the way an operator who removes its
// finalizer by hand does: the syncer gets no chance to deregister it.
func deleteWithoutFinalizer(ctx context.Context, t *testing.T, c client.Client, key types.NamespacedName) {
	t.Helper()
	waitFor(ctx, t, "Cluster "+key.String()+" deleted without its finalizer", func(ctx context.Context) error {
		var cluster vcdnsv1alpha1.Cluster
		if err := c.Get(ctx, key, &cluster); err != nil {
			return err
		}
		patched := cluster.DeepCopy()
		patched.Finalizers = nil
		if err := c.Patch(ctx, patched, client.MergeFromWithOptions(&cluster, client.MergeFromWithOptimisticLock{})); err != nil {
			return err
		}
		// Only if nobody put a finalizer back since.
		uid, rv := patched.UID, patched.ResourceVersion
		return c.Delete(ctx, patched, client.Preconditions{UID: &uid, ResourceVersion: &rv})
	})
	waitGone(ctx, t, c, &vcdnsv1alpha1.Cluster{}, key)
}

func httpRoute(ns, name, gateway, service, host string) *gatewayv1.HTTPRoute {
	return &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: gatewayv1.ObjectName(gateway)}}},
			Hostnames:       []gatewayv1.Hostname{gatewayv1.Hostname(host)},
			Rules: []gatewayv1.HTTPRouteRule{{
				BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{
					Name: gatewayv1.ObjectName(service), Port: ptr.To(gatewayv1.PortNumber(80)),
				}}}},
			}},
		},
	}
}

func ingress(ns, name, host, service string) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("vcdns-test"),
			Rules: []networkingv1.IngressRule{{
				Host: host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix),
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: service, Port: networkingv1.ServiceBackendPort{Number: 80}}},
				}}}},
			}},
		},
	}
}

func waitIngressIP(ctx context.Context, t *testing.T, c client.Client, key types.NamespacedName) string {
	t.Helper()
	var ip string
	waitFor(ctx, t, "Ingress "+key.String()+" address", func(ctx context.Context) error {
		var ing networkingv1.Ingress
		if err := c.Get(ctx, key, &ing); err != nil {
			return err
		}
		if len(ing.Status.LoadBalancer.Ingress) == 0 {
			return fmt.Errorf("no address yet")
		}
		ip = ing.Status.LoadBalancer.Ingress[0].IP
		return nil
	})
	return ip
}

// createGatewayDNS creates the GatewayDNS connectivity/gateways: every workload
// cluster's gateway-system/gateway LoadBalancer Service, published by its address.
func createGatewayDNS(ctx context.Context, t *testing.T, env *vcdnsenv.Env) *vcdnsv1alpha1.GatewayDNS {
	t.Helper()
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "connectivity"}}); err != nil {
		t.Fatal(err)
	}
	gd := &vcdnsv1alpha1.GatewayDNS{
		ObjectMeta: metav1.ObjectMeta{Namespace: "connectivity", Name: "gateways"},
		Spec: vcdnsv1alpha1.GatewayDNSSpec{
			ClusterSelector: metav1.LabelSelector{MatchLabels: map[string]string{"vcdns.io/role": "workload"}},
			Service:         "gateway-system/gateway",
			ResolutionType:  vcdnsv1alpha1.ResolutionLoadBalancer,
		},
	}
	if err := env.Client.Create(ctx, gd); err != nil {
		t.Fatal(err)
	}
	return gd
}
