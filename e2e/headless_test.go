package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/naming"
)

// headlessPod is a StatefulSet-style Pod of the test on the workload cluster, and the
// addresses it is given.
type headlessPod struct {
	name   string
	v4, v6 string
}

// TestHeadless checks that a headless tenant Service is answered by the tenant DNS with
// the workload Pod IPs: the headless name (A and AAAA of a dual-stack workload), a
// StatefulSet Pod by its name, SRV records, and that the answers follow the endpoints
// as Pods come and go. No kubelet runs on the workload cluster: the test creates the
// Pods of the copy's selector, bound to a Node object, and writes their IPs and Ready
// condition through the status subresource; the workload cluster's EndpointSlice
// controller does the rest, as it does for real Pods.
func TestHeadless(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	mcp := vcdnsenv.MCP{Namespace: "team-a", Name: "mcp1", Workload: "workload-1"}
	env, err := vcdnsenv.Setup(ctx, l, vcdnsenv.Spec{
		Workloads: []vcdnsenv.Workload{{Name: "workload-1", DualStack: true}},
		MCPs:      []vcdnsenv.MCP{mcp},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.StartSyncer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitMCPCondition(ctx, mcp, vcdnsv1alpha1.ConditionReady, metav1.ConditionTrue, 4*time.Minute); err != nil {
		t.Fatal(err)
	}
	tenantDNS, err := env.StartTenantDNS(ctx, mcp)
	if err != nil {
		t.Fatal(err)
	}
	workload := mustClient(t, env.Workloads["workload-1"])
	tenant := mustClient(t, env.Tenants["team-a/mcp1"])
	mcpNS := vcdnsenv.MCPNamespace(mcp)
	const ns, zone = "shop", "zone-a"
	domain := "web." + ns + ".svc.cluster.local."

	// The EndpointSlice controller leaves out Pods whose Node it does not know.
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "shared-node-1", Labels: map[string]string{corev1.LabelTopologyZone: zone}}}
	if err := workload.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	if err := tenant.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: corev1.ServiceSpec{
			ClusterIP:      corev1.ClusterIPNone,
			IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicyRequireDualStack),
			Selector:       map[string]string{"app": "web"},
			Ports:          []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	if err := tenant.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	cp := copyOf(ctx, t, workload, mcpNS, ns, "web")
	if cp.Spec.ClusterIP != corev1.ClusterIPNone || len(cp.Spec.IPFamilies) != 2 {
		t.Fatalf("copy is not a dual-stack headless Service: clusterIP %q, families %v", cp.Spec.ClusterIP, cp.Spec.IPFamilies)
	}

	// The tenant's own EndpointSlice controller keeps slices for the Service (empty, one
	// per family: no Pods run in the tenant); they must stay as they are.
	ownSlices := client.MatchingLabels{discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io"}
	var own discoveryv1.EndpointSliceList
	waitFor(ctx, t, "the tenant controller's slices", func(ctx context.Context) error {
		if err := tenant.List(ctx, &own, client.InNamespace(ns), ownSlices); err != nil {
			return err
		}
		if len(own.Items) != len(cp.Spec.IPFamilies) {
			return fmt.Errorf("%d slices of the tenant's controller, want one per family", len(own.Items))
		}
		return nil
	})

	pods := []headlessPod{
		{name: "web-0", v4: "10.244.7.10", v6: "fd00:10:244:7::10"},
		{name: "web-1", v4: "10.244.7.11", v6: "fd00:10:244:7::11"},
		{name: "web-2", v4: "10.244.7.12", v6: "fd00:10:244:7::12"},
	}
	for _, p := range pods[:2] {
		startPod(ctx, t, workload, mcpNS, cp.Name, node.Name, p)
	}

	t.Run("the headless name answers exactly the workload Pod IPs, A and AAAA", func(t *testing.T) {
		expectAnswers(ctx, t, tenantDNS.Addr, domain, dns.TypeA, pods[0].v4, pods[1].v4)
		expectAnswers(ctx, t, tenantDNS.Addr, domain, dns.TypeAAAA, pods[0].v6, pods[1].v6)
	})

	t.Run("a StatefulSet Pod answers by its name", func(t *testing.T) {
		expectAnswers(ctx, t, tenantDNS.Addr, "web-0."+domain, dns.TypeA, pods[0].v4)
		expectAnswers(ctx, t, tenantDNS.Addr, "web-0."+domain, dns.TypeAAAA, pods[0].v6)
		expectAnswers(ctx, t, tenantDNS.Addr, "web-1."+domain, dns.TypeA, pods[1].v4)
	})

	t.Run("SRV records name the Pods and their port", func(t *testing.T) {
		expectSRV(ctx, t, tenantDNS.Addr, "_http._tcp."+domain, 8080, pods[:2], domain)
	})

	t.Run("the tenant slices carry Pod IPs and hostnames, nothing else of the shared cluster", func(t *testing.T) {
		var tenantSvc corev1.Service
		if err := tenant.Get(ctx, client.ObjectKeyFromObject(svc), &tenantSvc); err != nil {
			t.Fatal(err)
		}
		var list discoveryv1.EndpointSliceList
		if err := tenant.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelManagedBy: vcdnsv1alpha1.EndpointSliceManagedBy}); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range list.Items {
			names = append(names, s.Name)
			if s.Labels[discoveryv1.LabelServiceName] != "web" {
				t.Errorf("slice %s: service-name label %q", s.Name, s.Labels[discoveryv1.LabelServiceName])
			}
			if refs := s.OwnerReferences; len(refs) != 1 || refs[0].Kind != "Service" || refs[0].UID != tenantSvc.UID || !ptr.Deref(refs[0].Controller, false) {
				t.Errorf("slice %s: owners %+v, want the tenant Service %s", s.Name, refs, tenantSvc.UID)
			}
			for _, ep := range s.Endpoints {
				if ep.TargetRef != nil || ep.NodeName != nil || ep.Zone != nil || ep.Hints != nil {
					t.Errorf("slice %s: endpoint %v carries the shared cluster's targetRef, node, zone or hints", s.Name, ep.Addresses)
				}
			}
		}
		slices.Sort(names)
		if want := []string{"web-vcdns-ipv4-0", "web-vcdns-ipv6-0"}; !slices.Equal(names, want) {
			t.Errorf("slices %v, want %v", names, want)
		}
	})

	t.Run("scaling 2 to 3 to 1 changes the answer to exactly those Pods", func(t *testing.T) {
		startPod(ctx, t, workload, mcpNS, cp.Name, node.Name, pods[2])
		expectAnswers(ctx, t, tenantDNS.Addr, domain, dns.TypeA, pods[0].v4, pods[1].v4, pods[2].v4)
		expectAnswers(ctx, t, tenantDNS.Addr, domain, dns.TypeAAAA, pods[0].v6, pods[1].v6, pods[2].v6)
		expectSRV(ctx, t, tenantDNS.Addr, "_http._tcp."+domain, 8080, pods, domain)

		for _, p := range []headlessPod{pods[0], pods[2]} {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: mcpNS, Name: p.name}}
			// No kubelet confirms the termination: delete at once.
			if err := workload.Delete(ctx, pod, client.GracePeriodSeconds(0)); err != nil {
				t.Fatal(err)
			}
		}
		expectAnswers(ctx, t, tenantDNS.Addr, domain, dns.TypeA, pods[1].v4)
		expectAnswers(ctx, t, tenantDNS.Addr, domain, dns.TypeAAAA, pods[1].v6)
		expectSRV(ctx, t, tenantDNS.Addr, "_http._tcp."+domain, 8080, pods[1:2], domain)
		waitNXDOMAIN(ctx, t, tenantDNS.Addr, "web-0."+domain)
	})

	t.Run("the tenant controller's slices are left alone", func(t *testing.T) {
		var now discoveryv1.EndpointSliceList
		if err := tenant.List(ctx, &now, client.InNamespace(ns), ownSlices); err != nil {
			t.Fatal(err)
		}
		key := func(s discoveryv1.EndpointSlice) string { return string(s.UID) }
		slices.SortFunc(own.Items, func(a, b discoveryv1.EndpointSlice) int { return strings.Compare(key(a), key(b)) })
		slices.SortFunc(now.Items, func(a, b discoveryv1.EndpointSlice) int { return strings.Compare(key(a), key(b)) })
		if len(now.Items) != len(own.Items) {
			t.Fatalf("the tenant controller has %d slices, had %d", len(now.Items), len(own.Items))
		}
		for i := range own.Items {
			a, b := own.Items[i], now.Items[i]
			if a.UID != b.UID || !apiequality.Semantic.DeepEqual(a.Labels, b.Labels) || !apiequality.Semantic.DeepEqual(a.Endpoints, b.Endpoints) ||
				!apiequality.Semantic.DeepEqual(a.Ports, b.Ports) || !apiequality.Semantic.DeepEqual(a.OwnerReferences, b.OwnerReferences) {
				t.Errorf("the tenant controller's slice changed:\nbefore %+v\nnow    %+v", a, b)
			}
		}
	})

	t.Run("the syncer counts its EndpointSlice writes", func(t *testing.T) {
		waitFor(ctx, t, "metrics", func(ctx context.Context) error {
			body, err := scrape(ctx, env.SyncerMetrics)
			if err != nil {
				return err
			}
			if want := `vcdns_tenant_writes_total{kind="EndpointSlice"}`; !strings.Contains(body, want) {
				return fmt.Errorf("metrics lack %s", want)
			}
			return nil
		})
	})

	t.Run("a Service that stops being headless loses its slices", func(t *testing.T) {
		waitFor(ctx, t, "web becomes an ExternalName Service", func(ctx context.Context) error {
			var cur corev1.Service
			if err := tenant.Get(ctx, client.ObjectKeyFromObject(svc), &cur); err != nil {
				return err
			}
			cur.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com", Ports: cur.Spec.Ports}
			return tenant.Update(ctx, &cur)
		})
		waitNoVcdnsSlices(ctx, t, tenant, ns, "web")
	})

	t.Run("a deleted Service loses its slices", func(t *testing.T) {
		other := svc.DeepCopy()
		other.ObjectMeta = metav1.ObjectMeta{Namespace: ns, Name: "db"}
		other.Spec.Selector = map[string]string{"app": "web"} // the same Pods
		if err := tenant.Create(ctx, other); err != nil {
			t.Fatal(err)
		}
		expectAnswers(ctx, t, tenantDNS.Addr, "db."+ns+".svc.cluster.local.", dns.TypeA, pods[1].v4)
		if err := tenant.Delete(ctx, other); err != nil {
			t.Fatal(err)
		}
		waitNoVcdnsSlices(ctx, t, tenant, ns, "db")
		waitGone(ctx, t, workload, &corev1.Service{}, types.NamespacedName{Namespace: mcpNS, Name: naming.CopyName(ns, "db")})
	})
}

// startPod creates a Pod of the copy's selector on the workload cluster, with the
// hostname and subdomain of a StatefulSet's Pod (the subdomain names the copy, where
// the Pod runs), and writes the status a kubelet would: its IPs and Ready.
func startPod(ctx context.Context, t *testing.T, c client.Client, mcpNS, copyName, node string, p headlessPod) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: mcpNS, Name: p.name, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			NodeName:  node,
			Hostname:  p.name,
			Subdomain: copyName,
			Containers: []corev1.Container{{
				Name:  "web",
				Image: "registry.invalid/web:1",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			}},
		},
	}
	// Pods wait for the namespace's default ServiceAccount.
	waitFor(ctx, t, "Pod "+p.name+" created", func(ctx context.Context) error {
		err := c.Create(ctx, pod)
		if apierrors.IsAlreadyExists(err) {
			return c.Get(ctx, client.ObjectKeyFromObject(pod), pod)
		}
		return err
	})
	waitFor(ctx, t, "Pod "+p.name+" running", func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return err
		}
		base := pod.DeepCopy()
		now := metav1.Now()
		pod.Status.Phase = corev1.PodRunning
		pod.Status.PodIP = p.v4
		pod.Status.PodIPs = []corev1.PodIP{{IP: p.v4}, {IP: p.v6}}
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}}
		pod.Status.StartTime = &now
		return c.Status().Patch(ctx, pod, client.MergeFrom(base))
	})
}

// expectAnswers waits until name answers exactly want (A or AAAA values, in any order),
// over UDP and TCP.
func expectAnswers(ctx context.Context, t *testing.T, server, name string, qtype uint16, want ...string) {
	t.Helper()
	for _, network := range []string{"udp", "tcp"} {
		waitFor(ctx, t, fmt.Sprintf("%s %s over %s answers %v", dns.TypeToString[qtype], name, network, want), func(ctx context.Context) error {
			resp, err := landscape.Query(ctx, server, name, qtype, network)
			if err != nil {
				return err
			}
			if got := landscape.RRValues(resp.Answer); resp.Rcode != dns.RcodeSuccess || !sameDNSValues(got, want) {
				return fmt.Errorf("answer %v (rcode %s), want %v", got, dns.RcodeToString[resp.Rcode], want)
			}
			return nil
		})
	}
}

// expectSRV waits until the SRV query name answers exactly one record per Pod, with
// port and the Pod's name as target, and gives the Pods' addresses as extra records.
func expectSRV(ctx context.Context, t *testing.T, server, name string, port uint16, pods []headlessPod, domain string) {
	t.Helper()
	var want, wantExtra []string
	for _, p := range pods {
		want = append(want, fmt.Sprintf("%d %s", port, p.name+"."+domain))
		wantExtra = append(wantExtra, p.v4, p.v6)
	}
	waitFor(ctx, t, fmt.Sprintf("SRV %s answers %v", name, want), func(ctx context.Context) error {
		resp, err := landscape.Query(ctx, server, name, dns.TypeSRV, "tcp")
		if err != nil {
			return err
		}
		var got []string
		for _, rr := range resp.Answer {
			if srv, ok := rr.(*dns.SRV); ok {
				got = append(got, fmt.Sprintf("%d %s", srv.Port, srv.Target))
			}
		}
		var extra []dns.RR
		for _, rr := range resp.Extra {
			if rr.Header().Rrtype != dns.TypeOPT {
				extra = append(extra, rr)
			}
		}
		if gotExtra := landscape.RRValues(extra); !sameDNSValues(got, want) || !sameDNSValues(gotExtra, wantExtra) {
			return fmt.Errorf("answer %v extra %v, want %v extra %v", got, gotExtra, want, wantExtra)
		}
		return nil
	})
}

// waitNoVcdnsSlices waits until the syncer's EndpointSlices of the tenant Service ns/name
// are gone.
func waitNoVcdnsSlices(ctx context.Context, t *testing.T, c client.Client, ns, name string) {
	t.Helper()
	waitFor(ctx, t, "the syncer's slices of "+ns+"/"+name+" gone", func(ctx context.Context) error {
		var list discoveryv1.EndpointSliceList
		if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{
			discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: vcdnsv1alpha1.EndpointSliceManagedBy,
		}); err != nil {
			return err
		}
		if len(list.Items) > 0 {
			return fmt.Errorf("%d slices left", len(list.Items))
		}
		return nil
	})
}
