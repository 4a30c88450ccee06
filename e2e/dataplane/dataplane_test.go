package dataplane

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/e2e/landscape"
)

// dataPlaneUser is the identity the data plane uses in the integration test, so that
// its writes can be told apart in the audit log.
const dataPlaneUser = "dataplane"

var (
	testPool4 = netip.MustParsePrefix("198.51.100.0/24")
	testPool6 = netip.MustParsePrefix("2001:db8:1::/120")
)

// runner starts and stops data planes for a test, and stops the last one before the
// landscape stops.
type runner struct {
	t    *testing.T
	cfg  *rest.Config
	opts Options

	stop func()
	done <-chan struct{}
}

func (r *runner) start(ctx context.Context) {
	r.t.Helper()
	ctx, cancel := context.WithCancel(logr.NewContext(ctx, testr.NewWithOptions(r.t, testr.Options{Verbosity: 0})))
	done, err := start(ctx, r.cfg, r.opts)
	if err != nil {
		cancel()
		r.t.Fatalf("starting the data plane: %v", err)
	}
	r.stop, r.done = cancel, done
}

// halt stops the running data plane and waits until it has.
func (r *runner) halt() {
	if r.stop == nil {
		return
	}
	r.stop()
	<-r.done
	r.stop = nil
}

func TestDataPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	cluster, err := l.StartCluster(ctx, "w1", landscape.ClusterOptions{
		DualStack: true,
		Users:     []landscape.User{{Name: dataPlaneUser, Groups: []string{"system:masters"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dpConfig, err := cluster.UserConfig(dataPlaneUser)
	if err != nil {
		t.Fatal(err)
	}
	if err := Start(ctx, dpConfig, Options{IPv4Pool: testPool4}); err == nil || !strings.Contains(err.Error(), "GatewayClass") {
		t.Fatalf("Start without the Gateway API CRDs: error %v, want one about the GatewayClass", err)
	}
	files, err := landscape.GatewayAPICRDFiles()
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.InstallCRDs(ctx, files...); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := gatewayv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cluster.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	dp := &runner{t: t, cfg: dpConfig, opts: Options{IPv4Pool: testPool4, IPv6Pool: testPool6}}
	dp.start(ctx)
	t.Cleanup(dp.halt) // before the landscape stops

	create := func(objs ...client.Object) {
		t.Helper()
		for _, o := range objs {
			if err := c.Create(ctx, o); err != nil {
				t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
			}
		}
	}
	create(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps", Labels: map[string]string{"team": "a"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "infra"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "other", Labels: map[string]string{"team": "b"}}},
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}},
	)
	create(
		service("dual", corev1.ServiceTypeLoadBalancer, corev1.IPFamilyPolicyRequireDualStack, nil),
		service("single", corev1.ServiceTypeLoadBalancer, corev1.IPFamilyPolicySingleStack, nil),
		service("v6only", corev1.ServiceTypeLoadBalancer, corev1.IPFamilyPolicySingleStack, []corev1.IPFamily{corev1.IPv6Protocol}),
		func() *corev1.Service {
			s := service("foreign", corev1.ServiceTypeLoadBalancer, corev1.IPFamilyPolicySingleStack, nil)
			s.Spec.LoadBalancerClass = ptr.To("example.com/lb")
			return s
		}(),
		service("web", corev1.ServiceTypeClusterIP, corev1.IPFamilyPolicySingleStack, nil),
		&gatewayv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "gw"},
			Spec: gatewayv1.GatewaySpec{
				GatewayClassName: DefaultClass,
				Listeners: []gatewayv1.Listener{
					{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType, Hostname: hostname("*.example.com"), AllowedRoutes: fromNamespaces(gatewayv1.NamespacesFromSelector, map[string]string{"team": "a"})},
					{Name: "local", Port: 8080, Protocol: gatewayv1.HTTPProtocolType},
				},
			},
		},
		httpRoute("apps", "shop", []string{"shop.example.com"}, ref("gw"), "web"),
		httpRoute("other", "intruder", []string{"shop.example.com"}, ref("gw"), ""),
		httpRoute("apps", "elsewhere", []string{"shop.example.org"}, ref("gw", section("http")), "missing"),
		ingress("classless", nil),
		ingress("ours", ptr.To(DefaultClass)),
		ingress("theirs", ptr.To("nginx")),
	)

	// assigned maps "Kind name" to the addresses the data plane gave it.
	assigned := map[string][]string{}

	t.Run("the GatewayClass is accepted", func(t *testing.T) {
		eventually(ctx, t, "GatewayClass accepted", func(ctx context.Context) (string, bool, error) {
			gc := &gatewayv1.GatewayClass{}
			if err := c.Get(ctx, client.ObjectKey{Name: DefaultClass}, gc); err != nil {
				return "", false, err
			}
			cond := meta.FindStatusCondition(gc.Status.Conditions, "Accepted")
			return fmt.Sprint(gc.Status.Conditions), cond != nil && cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == gc.Generation, nil
		})
	})

	t.Run("LoadBalancer Services get one address per IP family", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			families []corev1.IPFamily
		}{
			{name: "dual", families: []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}},
			{name: "single", families: []corev1.IPFamily{corev1.IPv4Protocol}},
			{name: "v6only", families: []corev1.IPFamily{corev1.IPv6Protocol}},
		} {
			got := waitServiceAddrs(ctx, t, c, tc.name, len(tc.families))
			for i, a := range got {
				checkInPool(t, "Service "+tc.name, a, tc.families[i])
			}
			assigned["Service "+tc.name] = got
		}
	})

	t.Run("Gateways get addresses and listener statuses", func(t *testing.T) {
		var gw gatewayv1.Gateway
		eventually(ctx, t, "Gateway programmed with 1 route on listener http", func(ctx context.Context) (string, bool, error) {
			if err := c.Get(ctx, client.ObjectKey{Namespace: "infra", Name: "gw"}, &gw); err != nil {
				return "", false, err
			}
			programmed := meta.FindStatusCondition(gw.Status.Conditions, "Programmed")
			ok := len(gw.Status.Addresses) == 2 && programmed != nil && programmed.Status == metav1.ConditionTrue &&
				len(gw.Status.Listeners) == 2 && gw.Status.Listeners[0].AttachedRoutes == 1
			return fmt.Sprintf("%+v", gw.Status), ok, nil
		})
		var got []string
		for i, a := range gw.Status.Addresses {
			if a.Type == nil || *a.Type != gatewayv1.IPAddressType {
				t.Errorf("address %s has type %v", a.Value, a.Type)
			}
			checkInPool(t, "Gateway gw", a.Value, []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}[i])
			got = append(got, a.Value)
		}
		assigned["Gateway gw"] = got
		for _, typ := range []string{"Accepted", "Programmed"} {
			cond := meta.FindStatusCondition(gw.Status.Conditions, typ)
			if cond == nil || cond.Status != metav1.ConditionTrue || cond.ObservedGeneration != gw.Generation {
				t.Errorf("Gateway condition %s = %+v", typ, cond)
			}
		}
		for i, want := range []struct {
			name     gatewayv1.SectionName
			attached int32
		}{{name: "http", attached: 1}, {name: "local", attached: 0}} {
			ls := gw.Status.Listeners[i]
			if ls.Name != want.name || ls.AttachedRoutes != want.attached {
				t.Errorf("listener %d = %s with %d routes, want %s with %d", i, ls.Name, ls.AttachedRoutes, want.name, want.attached)
			}
			if len(ls.SupportedKinds) != 1 || ls.SupportedKinds[0].Kind != "HTTPRoute" {
				t.Errorf("listener %s supports %+v", ls.Name, ls.SupportedKinds)
			}
			for _, typ := range []string{"Accepted", "ResolvedRefs", "Programmed"} {
				if cond := meta.FindStatusCondition(ls.Conditions, typ); cond == nil || cond.Status != metav1.ConditionTrue || cond.ObservedGeneration != gw.Generation {
					t.Errorf("listener %s condition %s = %+v", ls.Name, typ, cond)
				}
			}
		}
	})

	t.Run("HTTPRoutes get parent statuses", func(t *testing.T) {
		for _, tc := range []struct {
			namespace, name        string
			accepted, resolvedRefs string // reasons
		}{
			{namespace: "apps", name: "shop", accepted: "Accepted", resolvedRefs: "ResolvedRefs"},
			{namespace: "other", name: "intruder", accepted: "NotAllowedByListeners", resolvedRefs: "ResolvedRefs"},
			{namespace: "apps", name: "elsewhere", accepted: "NoMatchingListenerHostname", resolvedRefs: "BackendNotFound"},
		} {
			waitRouteParent(ctx, t, c, tc.namespace, tc.name, tc.accepted, tc.resolvedRefs)
		}
	})

	t.Run("entries of other controllers in HTTPRoute status are left alone", func(t *testing.T) {
		theirs := gatewayv1.RouteParentStatus{
			ParentRef:      gatewayv1.ParentReference{Name: "their-gw"},
			ControllerName: "example.com/gateway",
			Conditions:     []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", LastTransitionTime: metav1.Now()}},
		}
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			route := &gatewayv1.HTTPRoute{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "shop"}, route); err != nil {
				return err
			}
			route.Status.Parents = append(route.Status.Parents, theirs)
			return c.Status().Update(ctx, route)
		})
		if err != nil {
			t.Fatal(err)
		}
		// Make the data plane look at the route again: a new generation.
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			route := &gatewayv1.HTTPRoute{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "shop"}, route); err != nil {
				return err
			}
			route.Spec.Hostnames = append(route.Spec.Hostnames, "www.example.com")
			return c.Update(ctx, route)
		})
		if err != nil {
			t.Fatal(err)
		}
		eventually(ctx, t, "both parent entries, ours at the new generation", func(ctx context.Context) (string, bool, error) {
			route := &gatewayv1.HTTPRoute{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "shop"}, route); err != nil {
				return "", false, err
			}
			var ours, other bool
			for _, p := range route.Status.Parents {
				switch p.ControllerName {
				case ControllerName:
					cond := meta.FindStatusCondition(p.Conditions, "Accepted")
					ours = cond != nil && cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == route.Generation
				case theirs.ControllerName:
					other = p.ParentRef.Name == "their-gw"
				}
			}
			return fmt.Sprintf("%+v", route.Status.Parents), ours && other, nil
		})
	})

	t.Run("Ingresses of the class or without class get addresses", func(t *testing.T) {
		for _, name := range []string{"classless", "ours"} {
			got := waitIngressAddrs(ctx, t, c, name, 2)
			checkInPool(t, "Ingress "+name, got[0], corev1.IPv4Protocol)
			checkInPool(t, "Ingress "+name, got[1], corev1.IPv6Protocol)
			assigned["Ingress "+name] = got
		}
	})

	t.Run("no address is handed out twice", func(t *testing.T) {
		seen := map[string]string{}
		for who, as := range assigned {
			for _, a := range as {
				if other, dup := seen[a]; dup {
					t.Errorf("%s and %s both hold %s", other, who, a)
				}
				seen[a] = who
			}
		}
	})

	t.Run("addresses are stable across a restart, which writes nothing", func(t *testing.T) {
		dp.halt()
		restarted := time.Now()
		dp.start(ctx)
		// Probes, one per controller, created after the restart: once each has its
		// status, the controllers have been through the objects queued before it.
		create(
			service("probe", corev1.ServiceTypeLoadBalancer, corev1.IPFamilyPolicyRequireDualStack, nil),
			ingress("probe", nil),
			httpRoute("other", "probe", nil, ref("gw"), ""),
			&gatewayv1.Gateway{
				ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "probe"},
				Spec: gatewayv1.GatewaySpec{
					GatewayClassName: DefaultClass,
					Listeners:        []gatewayv1.Listener{{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType}},
				},
			},
		)
		probes := map[string][]string{
			"Service probe": waitServiceAddrs(ctx, t, c, "probe", 2),
			"Ingress probe": waitIngressAddrs(ctx, t, c, "probe", 2),
		}
		waitRouteParent(ctx, t, c, "other", "probe", "NotAllowedByListeners", "ResolvedRefs")
		eventually(ctx, t, "probe Gateway programmed", func(ctx context.Context) (string, bool, error) {
			gw := &gatewayv1.Gateway{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: "infra", Name: "probe"}, gw); err != nil {
				return "", false, err
			}
			var got []string
			for _, a := range gw.Status.Addresses {
				got = append(got, a.Value)
			}
			probes["Gateway probe"] = got
			return fmt.Sprint(got), len(got) == 2 && meta.IsStatusConditionTrue(gw.Status.Conditions, "Programmed"), nil
		})

		now := map[string][]string{}
		for who := range assigned {
			kind, name, _ := strings.Cut(who, " ")
			switch kind {
			case "Service":
				now[who] = waitServiceAddrs(ctx, t, c, name, len(assigned[who]))
			case "Ingress":
				now[who] = waitIngressAddrs(ctx, t, c, name, len(assigned[who]))
			case "Gateway":
				gw := &gatewayv1.Gateway{}
				if err := c.Get(ctx, client.ObjectKey{Namespace: "infra", Name: name}, gw); err != nil {
					t.Fatal(err)
				}
				for _, a := range gw.Status.Addresses {
					now[who] = append(now[who], a.Value)
				}
			}
			if !slices.Equal(assigned[who], now[who]) {
				t.Errorf("%s had %v before the restart and %v after", who, assigned[who], now[who])
			}
		}
		for probe, as := range probes {
			for _, a := range as {
				for who, held := range assigned {
					if slices.Contains(held, a) {
						t.Errorf("%s got %s, which %s holds", probe, a, who)
					}
				}
			}
		}

		// Every write of the restarted data plane is about a probe. The audit log
		// is written as requests complete: wait for the probes' writes to show.
		var writes []landscape.AuditEvent
		eventually(ctx, t, "the probes' status writes in the audit log", func(context.Context) (string, bool, error) {
			events, err := cluster.AuditEvents(dataPlaneUser, restarted)
			if err != nil {
				return "", false, err
			}
			writes = events
			probeWrites := 0
			for _, e := range events {
				if e.ObjectRef.Name == "probe" {
					probeWrites++
				}
			}
			return fmt.Sprint(events), probeWrites >= 4, nil
		})
		for _, e := range writes {
			if e.ObjectRef.Name != "probe" {
				t.Errorf("the restarted data plane wrote %s", e)
			}
		}
	})

	t.Run("deleting a Service frees its addresses", func(t *testing.T) {
		if err := c.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "dual"}}); err != nil {
			t.Fatal(err)
		}
		eventually(ctx, t, "Service dual gone", func(ctx context.Context) (string, bool, error) {
			err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "dual"}, &corev1.Service{})
			return fmt.Sprint(err), apierrors.IsNotFound(err), client.IgnoreNotFound(err)
		})
		// The lowest free addresses are the ones dual held.
		create(service("dual2", corev1.ServiceTypeLoadBalancer, corev1.IPFamilyPolicyRequireDualStack, nil))
		if got := waitServiceAddrs(ctx, t, c, "dual2", 2); !slices.Equal(got, assigned["Service dual"]) {
			t.Errorf("dual2 got %v, want the freed %v", got, assigned["Service dual"])
		}
	})

	t.Run("a Service that stops being a LoadBalancer loses and frees its address", func(t *testing.T) {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			s := &corev1.Service{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "single"}, s); err != nil {
				return err
			}
			s.Spec.Type = corev1.ServiceTypeClusterIP
			s.Spec.AllocateLoadBalancerNodePorts = nil
			for i := range s.Spec.Ports {
				s.Spec.Ports[i].NodePort = 0
			}
			return c.Update(ctx, s)
		})
		if err != nil {
			t.Fatal(err)
		}
		waitServiceAddrs(ctx, t, c, "single", 0)
		create(service("single2", corev1.ServiceTypeLoadBalancer, corev1.IPFamilyPolicySingleStack, nil))
		if got := waitServiceAddrs(ctx, t, c, "single2", 1); !slices.Equal(got, assigned["Service single"]) {
			t.Errorf("single2 got %v, want the freed %v", got, assigned["Service single"])
		}
	})

	t.Run("objects of other controllers are left alone", func(t *testing.T) {
		s := &corev1.Service{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "foreign"}, s); err != nil {
			t.Fatal(err)
		}
		if len(s.Status.LoadBalancer.Ingress) != 0 {
			t.Errorf("Service foreign of another loadBalancerClass got %+v", s.Status.LoadBalancer.Ingress)
		}
		ing := &networkingv1.Ingress{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "theirs"}, ing); err != nil {
			t.Fatal(err)
		}
		if len(ing.Status.LoadBalancer.Ingress) != 0 {
			t.Errorf("Ingress theirs of another class got %+v", ing.Status.LoadBalancer.Ingress)
		}
	})
}

func service(name string, typ corev1.ServiceType, policy corev1.IPFamilyPolicy, families []corev1.IPFamily) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name},
		Spec: corev1.ServiceSpec{
			Type:           typ,
			IPFamilyPolicy: ptr.To(policy),
			IPFamilies:     families,
			Selector:       map[string]string{"app": name},
			Ports:          []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
}

func httpRoute(namespace, name string, hosts []string, parent gatewayv1.ParentReference, backend string) *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{parent}},
			Hostnames:       hostnames(hosts...),
		},
	}
	if backend != "" {
		r.Spec.Rules = []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{backendRef(func(b *gatewayv1.BackendObjectReference) {
			b.Name = gatewayv1.ObjectName(backend)
		})}}}
	}
	return r
}

func ingress(name string, class *string) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name},
		Spec: networkingv1.IngressSpec{
			IngressClassName: class,
			Rules: []networkingv1.IngressRule{{
				Host: name + ".example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path:     "/",
					PathType: ptr.To(networkingv1.PathTypePrefix),
					Backend:  networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
				}}}},
			}},
		},
	}
}

// eventually polls check until it reports done, failing t with the last state it
// described when the deadline passes.
func eventually(ctx context.Context, t *testing.T, what string, check func(context.Context) (state string, done bool, err error)) {
	t.Helper()
	var last string
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		state, done, err := check(ctx)
		last, lastErr = state, err
		return done, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v; last state %s, last error %v", what, err, last, lastErr)
	}
}

func waitServiceAddrs(ctx context.Context, t *testing.T, c client.Client, name string, n int) []string {
	t.Helper()
	var got []string
	eventually(ctx, t, fmt.Sprintf("%d addresses of Service %s", n, name), func(ctx context.Context) (string, bool, error) {
		s := &corev1.Service{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: name}, s); err != nil {
			return "", false, err
		}
		got = nil
		for _, in := range s.Status.LoadBalancer.Ingress {
			got = append(got, in.IP)
		}
		return fmt.Sprint(got), len(got) == n, nil
	})
	return got
}

func waitIngressAddrs(ctx context.Context, t *testing.T, c client.Client, name string, n int) []string {
	t.Helper()
	var got []string
	eventually(ctx, t, fmt.Sprintf("%d addresses of Ingress %s", n, name), func(ctx context.Context) (string, bool, error) {
		ing := &networkingv1.Ingress{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: name}, ing); err != nil {
			return "", false, err
		}
		got = nil
		for _, in := range ing.Status.LoadBalancer.Ingress {
			got = append(got, in.IP)
		}
		return fmt.Sprint(got), len(got) == n, nil
	})
	return got
}

// waitRouteParent waits until the data plane's one parent entry of an HTTPRoute has
// the given reasons for Accepted and ResolvedRefs at the route's generation.
func waitRouteParent(ctx context.Context, t *testing.T, c client.Client, namespace, name, accepted, resolvedRefs string) {
	t.Helper()
	eventually(ctx, t, fmt.Sprintf("HTTPRoute %s/%s %s, %s", namespace, name, accepted, resolvedRefs), func(ctx context.Context) (string, bool, error) {
		route := &gatewayv1.HTTPRoute{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, route); err != nil {
			return "", false, err
		}
		var ours []gatewayv1.RouteParentStatus
		for _, p := range route.Status.Parents {
			if p.ControllerName == ControllerName {
				ours = append(ours, p)
			}
		}
		if len(ours) != 1 {
			return fmt.Sprintf("%+v", route.Status.Parents), false, nil
		}
		a := meta.FindStatusCondition(ours[0].Conditions, "Accepted")
		r := meta.FindStatusCondition(ours[0].Conditions, "ResolvedRefs")
		ok := a != nil && a.Reason == accepted && (a.Status == metav1.ConditionTrue) == (accepted == "Accepted") && a.ObservedGeneration == route.Generation &&
			r != nil && r.Reason == resolvedRefs && (r.Status == metav1.ConditionTrue) == (resolvedRefs == "ResolvedRefs")
		return fmt.Sprintf("%+v", ours[0].Conditions), ok, nil
	})
}

func checkInPool(t *testing.T, who, addr string, family corev1.IPFamily) {
	t.Helper()
	a, err := netip.ParseAddr(addr)
	if err != nil {
		t.Errorf("%s has address %q: %v", who, addr, err)
		return
	}
	pool := map[corev1.IPFamily]netip.Prefix{corev1.IPv4Protocol: testPool4, corev1.IPv6Protocol: testPool6}[family]
	if !pool.Contains(a) {
		t.Errorf("%s has %s address %s outside the pool %s", who, family, a, pool)
	}
}
