package records

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/syncer/dns/hostname"
)

var (
	addrComparer   = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	ignoreMessages = cmpopts.IgnoreFields(Refusal{}, "Message")
)

const base = hostname.DefaultBaseDomain

func TestCompute(t *testing.T) {
	t.Parallel()
	g1 := gwOwner("c1", "ns", "g1")
	g2 := gwOwner("c1", "ns", "g2")
	gwRef := func(name string) ObjectRef { return ObjectRef{Kind: KindGateway, Namespace: "ns", Name: name} }
	rtRef := func(ns, name string) ObjectRef { return ObjectRef{Kind: KindHTTPRoute, Namespace: ns, Name: name} }
	gw1 := func(ls ...gatewayv1.Listener) gatewayv1.Gateway {
		return gateway(meta("ns", "g1", 0), []string{"10.0.0.1"}, ls...)
	}
	ep := func(name string, o Owner, addrs ...string) Endpoint {
		e := Endpoint{Hostname: name, Owner: o, TTL: DefaultTTL}
		for _, a := range ips(addrs...) {
			if a.Is4() {
				e.IPv4 = append(e.IPv4, a)
			} else {
				e.IPv6 = append(e.IPv6, a)
			}
		}
		return e
	}
	selected := &metav1.LabelSelector{MatchLabels: map[string]string{"dns": "yes"}}

	tests := []struct {
		name         string
		in           Input
		want         []Endpoint
		wantRefusals []Refusal
	}{
		{
			name: "listener hostname, addresses sorted and deduplicated, IPv4-mapped unmapped",
			in: Input{Gateways: []gatewayv1.Gateway{
				gateway(meta("ns", "g1", 0), []string{"fd00::2", "10.0.0.2", "10.0.0.1", "fd00::1", "10.0.0.1", "::ffff:10.0.0.3"},
					listener("http", 80, "app.c1.openmcp.cluster")),
			}},
			want: []Endpoint{{
				Hostname: "app.c1.openmcp.cluster", Owner: g1, TTL: DefaultTTL,
				IPv4: ips("10.0.0.1", "10.0.0.2", "10.0.0.3"), IPv6: ips("fd00::1", "fd00::2"),
			}},
		},
		{
			name: "hostname addresses of a gateway are ignored",
			in: Input{Gateways: []gatewayv1.Gateway{func() gatewayv1.Gateway {
				g := gw1(listener("http", 80, "app.c1.openmcp.cluster"))
				hostType := gatewayv1.HostnameAddressType
				g.Status.Addresses = append(g.Status.Addresses, gatewayv1.GatewayStatusAddress{Type: &hostType, Value: "lb.example.com"})
				return g
			}()}},
			want: []Endpoint{ep("app.c1.openmcp.cluster", g1, "10.0.0.1")},
		},
		{
			name: "gateway without addresses still claims its names",
			in: Input{Gateways: []gatewayv1.Gateway{
				gateway(meta("ns", "g1", 0), nil, listener("http", 80, "app.c1.openmcp.cluster")),
			}},
			want: []Endpoint{ep("app.c1.openmcp.cluster", g1)},
		},
		{
			name: "listener without hostname publishes only route hostnames",
			in: Input{
				Gateways:   []gatewayv1.Gateway{gw1(listener("http", 80, ""))},
				HTTPRoutes: []gatewayv1.HTTPRoute{route(meta("ns", "r1", 0), []gatewayv1.ParentReference{parent("g1")}, "a.c1.openmcp.cluster", "b.c1.openmcp.cluster")},
			},
			want: []Endpoint{ep("a.c1.openmcp.cluster", g1, "10.0.0.1"), ep("b.c1.openmcp.cluster", g1, "10.0.0.1")},
		},
		{
			name: "neither listener nor route has a hostname",
			in: Input{
				Gateways:   []gatewayv1.Gateway{gw1(listener("http", 80, ""))},
				HTTPRoutes: []gatewayv1.HTTPRoute{route(meta("ns", "r1", 0), []gatewayv1.ParentReference{parent("g1")})},
			},
		},
		{
			name: "route without hostnames inherits the listener hostname, one claim",
			in: Input{
				Gateways:   []gatewayv1.Gateway{gw1(listener("http", 80, "app.c1.openmcp.cluster"))},
				HTTPRoutes: []gatewayv1.HTTPRoute{route(meta("ns", "r1", 0), []gatewayv1.ParentReference{parent("g1")})},
			},
			want: []Endpoint{ep("app.c1.openmcp.cluster", g1, "10.0.0.1")},
		},
		{
			name: "exact listener ignores route hostnames that do not intersect",
			in: Input{
				Gateways: []gatewayv1.Gateway{gw1(listener("http", 80, "app.c1.openmcp.cluster"))},
				HTTPRoutes: []gatewayv1.HTTPRoute{route(meta("ns", "r1", 0), []gatewayv1.ParentReference{parent("g1")},
					"other.c1.openmcp.cluster", "*.c1.openmcp.cluster")},
			},
			want: []Endpoint{ep("app.c1.openmcp.cluster", g1, "10.0.0.1")},
		},
		{
			name: "wildcard listener: route hostnames inside published, outside ignored, wildcards refused",
			in: Input{
				Gateways: []gatewayv1.Gateway{gw1(listener("http", 80, "*.c1.openmcp.cluster"))},
				HTTPRoutes: []gatewayv1.HTTPRoute{
					route(meta("ns", "r1", 0), []gatewayv1.ParentReference{parent("g1")},
						"a.c1.openmcp.cluster", "x.y.c1.openmcp.cluster", "a.c2.openmcp.cluster", "*.sub.c1.openmcp.cluster"),
					route(meta("ns", "r2", 0), []gatewayv1.ParentReference{parent("g1")}),
				},
			},
			want: []Endpoint{ep("a.c1.openmcp.cluster", g1, "10.0.0.1"), ep("x.y.c1.openmcp.cluster", g1, "10.0.0.1")},
			wantRefusals: []Refusal{
				{Object: gwRef("g1"), Hostname: "*.c1.openmcp.cluster", Reason: ReasonWildcard},
				{Object: rtRef("ns", "r1"), Hostname: "*.sub.c1.openmcp.cluster", Reason: ReasonWildcard},
				{Object: rtRef("ns", "r2"), Hostname: "*.c1.openmcp.cluster", Reason: ReasonWildcard},
			},
		},
		{
			name: "sectionName and port select listeners",
			in: Input{
				Gateways: []gatewayv1.Gateway{gw1(
					listener("a", 80, "a.c1.openmcp.cluster"),
					listener("b", 8080, ""),
					listener("c", 9090, ""),
				)},
				HTTPRoutes: []gatewayv1.HTTPRoute{
					route(meta("ns", "by-section", 0), []gatewayv1.ParentReference{parent("g1", section("b"))}, "s.c1.openmcp.cluster"),
					route(meta("ns", "by-port", 0), []gatewayv1.ParentReference{parent("g1", port(9090))}, "p.c1.openmcp.cluster"),
					route(meta("ns", "no-such-section", 0), []gatewayv1.ParentReference{parent("g1", section("z"))}, "z.c1.openmcp.cluster"),
					route(meta("ns", "section-port-mismatch", 0), []gatewayv1.ParentReference{parent("g1", section("b"), port(80))}, "m.c1.openmcp.cluster"),
				},
			},
			want: []Endpoint{
				ep("a.c1.openmcp.cluster", g1, "10.0.0.1"),
				ep("p.c1.openmcp.cluster", g1, "10.0.0.1"),
				ep("s.c1.openmcp.cluster", g1, "10.0.0.1"),
			},
		},
		{
			name: "allowedRoutes namespaces: Same (default), All, Selector",
			in: Input{
				Gateways: []gatewayv1.Gateway{gw1(
					listener("same", 80, ""),
					listener("all", 81, "", from(gatewayv1.NamespacesFromAll, nil)),
					listener("sel", 82, "", from(gatewayv1.NamespacesFromSelector, selected)),
				)},
				HTTPRoutes: []gatewayv1.HTTPRoute{
					route(meta("other", "r1", 0), []gatewayv1.ParentReference{parent("g1", inNamespace("ns"), section("same"))}, "x.same.c1.openmcp.cluster"),
					route(meta("other", "r2", 0), []gatewayv1.ParentReference{parent("g1", inNamespace("ns"), section("all"))}, "x.all.c1.openmcp.cluster"),
					route(meta("other", "r3", 0), []gatewayv1.ParentReference{parent("g1", inNamespace("ns"), section("sel"))}, "x.sel.c1.openmcp.cluster"),
					route(meta("picked", "r", 0), []gatewayv1.ParentReference{parent("g1", inNamespace("ns"), section("sel"))}, "y.sel.c1.openmcp.cluster"),
					route(meta("unknown", "r", 0), []gatewayv1.ParentReference{parent("g1", inNamespace("ns"), section("sel"))}, "z.sel.c1.openmcp.cluster"),
					route(meta("ns", "r", 0), []gatewayv1.ParentReference{parent("g1", section("same"))}, "w.same.c1.openmcp.cluster"),
				},
				NamespaceLabels: map[string]map[string]string{"other": {"dns": "no"}, "picked": {"dns": "yes"}},
			},
			want: []Endpoint{
				ep("w.same.c1.openmcp.cluster", g1, "10.0.0.1"),
				ep("x.all.c1.openmcp.cluster", g1, "10.0.0.1"),
				ep("y.sel.c1.openmcp.cluster", g1, "10.0.0.1"),
			},
		},
		{
			name: "allowedRoutes kinds and protocols",
			in: Input{
				Gateways: []gatewayv1.Gateway{gw1(
					listener("tcp", 80, "", protocol(gatewayv1.TCPProtocolType)),
					listener("grpc-only", 81, "", kinds("GRPCRoute")),
					listener("https", 443, "", protocol(gatewayv1.HTTPSProtocolType)),
				)},
				HTTPRoutes: []gatewayv1.HTTPRoute{route(meta("ns", "r", 0), []gatewayv1.ParentReference{parent("g1")}, "x.c1.openmcp.cluster")},
			},
			want: []Endpoint{ep("x.c1.openmcp.cluster", g1, "10.0.0.1")},
		},
		{
			// allowedRoutes.kinds cannot add a kind the protocol does not carry
			// (InvalidRouteKinds): such a listener publishes no route's hostnames.
			name: "allowedRoutes kinds listing HTTPRoute on TCP and TLS listeners",
			in: Input{
				Gateways: []gatewayv1.Gateway{gw1(
					listener("tcp", 80, "", protocol(gatewayv1.TCPProtocolType), kinds("HTTPRoute")),
					listener("tls", 443, "", protocol(gatewayv1.TLSProtocolType), kinds("HTTPRoute")),
				)},
				HTTPRoutes: []gatewayv1.HTTPRoute{route(meta("ns", "r", 0), []gatewayv1.ParentReference{parent("g1")}, "x.c1.openmcp.cluster")},
			},
		},
		{
			name: "parentRefs to other kinds and to missing or deleted gateways are ignored",
			in: Input{
				Gateways: []gatewayv1.Gateway{func() gatewayv1.Gateway {
					g := gateway(meta("ns", "gone", 0), []string{"10.0.0.9"}, listener("http", 80, "gone.c1.openmcp.cluster"))
					g.DeletionTimestamp = &metav1.Time{Time: t0}
					return g
				}()},
				HTTPRoutes: []gatewayv1.HTTPRoute{route(meta("ns", "r", 0), []gatewayv1.ParentReference{
					parent("g1", ofKind("", "Service")), parent("missing"), parent("gone"),
				}, "x.c1.openmcp.cluster")},
			},
		},
		{
			name: "ingress rules",
			in: Input{Ingresses: []networkingv1.Ingress{
				ingress(meta("ns", "i1", 0), []string{"10.0.0.5", "fd00::5"}, "a.c1.openmcp.cluster", "", "b.c1.openmcp.cluster"),
				func() networkingv1.Ingress {
					i := ingress(meta("ns", "hostname-lb", 0), nil, "h.c1.openmcp.cluster")
					i.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{Hostname: "lb.example.com"}}
					return i
				}(),
			}},
			want: []Endpoint{
				ep("a.c1.openmcp.cluster", ingOwner("c1", "ns", "i1"), "10.0.0.5", "fd00::5"),
				ep("b.c1.openmcp.cluster", ingOwner("c1", "ns", "i1"), "10.0.0.5", "fd00::5"),
				ep("h.c1.openmcp.cluster", ingOwner("c1", "ns", "hostname-lb")),
			},
		},
		{
			name: "invalid, outside the policy, and wildcard hostnames",
			in: Input{
				Ingresses: []networkingv1.Ingress{ingress(meta("ns", "i1", 0), []string{"10.0.0.5"},
					"Upper.c1.openmcp.cluster", strings.Repeat("x", 64)+".c1.openmcp.cluster", "a.c2.openmcp.cluster",
					"c1.openmcp.cluster", "*.c1.openmcp.cluster", "ok.c1.openmcp.cluster")},
				HTTPRoutes: []gatewayv1.HTTPRoute{route(meta("ns", "r1", 0), []gatewayv1.ParentReference{parent("g1")}, "bad_name.c1.openmcp.cluster")},
				Gateways:   []gatewayv1.Gateway{gw1(listener("http", 80, ""))},
			},
			want: []Endpoint{ep("ok.c1.openmcp.cluster", ingOwner("c1", "ns", "i1"), "10.0.0.5")},
			wantRefusals: []Refusal{
				{Object: rtRef("ns", "r1"), Hostname: "bad_name.c1.openmcp.cluster", Reason: ReasonInvalid},
				{Object: ObjectRef{Kind: KindIngress, Namespace: "ns", Name: "i1"}, Hostname: "*.c1.openmcp.cluster", Reason: ReasonWildcard},
				{Object: ObjectRef{Kind: KindIngress, Namespace: "ns", Name: "i1"}, Hostname: "Upper.c1.openmcp.cluster", Reason: ReasonInvalid},
				{Object: ObjectRef{Kind: KindIngress, Namespace: "ns", Name: "i1"}, Hostname: "a.c2.openmcp.cluster", Reason: ReasonNotAllowed},
				{Object: ObjectRef{Kind: KindIngress, Namespace: "ns", Name: "i1"}, Hostname: "c1.openmcp.cluster", Reason: ReasonNotAllowed},
				{Object: ObjectRef{Kind: KindIngress, Namespace: "ns", Name: "i1"}, Hostname: strings.Repeat("x", 64) + ".c1.openmcp.cluster", Reason: ReasonInvalid},
			},
		},
		{
			name: "two gateways claim a name: the older wins",
			in: Input{Gateways: []gatewayv1.Gateway{
				gateway(meta("ns", "g2", 5), []string{"10.0.0.2"}, listener("http", 80, "app.c1.openmcp.cluster")),
				gateway(meta("ns", "g1", 1), []string{"10.0.0.1"}, listener("http", 80, "app.c1.openmcp.cluster")),
			}},
			want:         []Endpoint{ep("app.c1.openmcp.cluster", g1, "10.0.0.1")},
			wantRefusals: []Refusal{{Object: gwRef("g2"), Hostname: "app.c1.openmcp.cluster", Reason: ReasonConflict}},
		},
		{
			name: "a stored claim wins over an older object",
			in: Input{
				Gateways: []gatewayv1.Gateway{
					gateway(meta("ns", "g2", 5), []string{"10.0.0.2"}, listener("http", 80, "app.c1.openmcp.cluster")),
					gateway(meta("ns", "g1", 1), []string{"10.0.0.1"}, listener("http", 80, "app.c1.openmcp.cluster")),
				},
				Claims: claims("app.c1.openmcp.cluster", g2),
			},
			want:         []Endpoint{ep("app.c1.openmcp.cluster", g2, "10.0.0.2")},
			wantRefusals: []Refusal{{Object: gwRef("g1"), Hostname: "app.c1.openmcp.cluster", Reason: ReasonConflict}},
		},
		{
			name: "a stored claim of this cluster whose owner no longer asks for it is free",
			in: Input{
				Gateways:  []gatewayv1.Gateway{gateway(meta("ns", "g2", 5), []string{"10.0.0.2"}, listener("http", 80, "app.c1.openmcp.cluster"))},
				Claims:    claims("app.c1.openmcp.cluster", g1, "x.app.c1.openmcp.cluster", g1),
				TTL:       90 * time.Second,
				Ingresses: nil,
			},
			want: []Endpoint{{Hostname: "app.c1.openmcp.cluster", Owner: g2, TTL: 90, IPv4: ips("10.0.0.2")}},
		},
		{
			name: "names held by other clusters and external records win",
			in: Input{
				Policy: hostname.Policy{Domains: []string{base}},
				Ingresses: []networkingv1.Ingress{ingress(meta("ns", "i1", 0), []string{"10.0.0.5"},
					"taken.c2.openmcp.cluster", "x.parent.c2.openmcp.cluster", "child.c2.openmcp.cluster", "ext.c2.openmcp.cluster")},
				Claims: claims(
					"taken.c2.openmcp.cluster", gwOwner("c2", "ns", "g"),
					"parent.c2.openmcp.cluster", gwOwner("c2", "ns", "g"),
					"y.child.c2.openmcp.cluster", gwOwner("c2", "ns", "g"),
					"r1.ext.c2.openmcp.cluster", Owner{Kind: KindExternal, Name: "/skydns/cluster/openmcp/c2/ext/r1"},
				),
			},
			wantRefusals: []Refusal{
				{Object: ObjectRef{Kind: KindIngress, Namespace: "ns", Name: "i1"}, Hostname: "child.c2.openmcp.cluster", Reason: ReasonNested},
				{Object: ObjectRef{Kind: KindIngress, Namespace: "ns", Name: "i1"}, Hostname: "ext.c2.openmcp.cluster", Reason: ReasonNested},
				{Object: ObjectRef{Kind: KindIngress, Namespace: "ns", Name: "i1"}, Hostname: "taken.c2.openmcp.cluster", Reason: ReasonConflict},
				{Object: ObjectRef{Kind: KindIngress, Namespace: "ns", Name: "i1"}, Hostname: "x.parent.c2.openmcp.cluster", Reason: ReasonNested},
			},
		},
		{
			name: "one owner may nest its own names; another may not nest below them",
			in: Input{
				Gateways: []gatewayv1.Gateway{gw1(listener("http", 80, "app.c1.openmcp.cluster"), listener("x", 81, "x.app.c1.openmcp.cluster"))},
				Ingresses: []networkingv1.Ingress{ingress(meta("ns", "young", 9), []string{"10.0.0.5"},
					"y.app.c1.openmcp.cluster")},
			},
			want: []Endpoint{ep("app.c1.openmcp.cluster", g1, "10.0.0.1"), ep("x.app.c1.openmcp.cluster", g1, "10.0.0.1")},
			wantRefusals: []Refusal{
				{Object: ObjectRef{Kind: KindIngress, Namespace: "ns", Name: "young"}, Hostname: "y.app.c1.openmcp.cluster", Reason: ReasonNested},
			},
		},
		{
			name: "routes on one gateway share a name; a route on two gateways conflicts",
			in: Input{
				Gateways: []gatewayv1.Gateway{
					gw1(listener("http", 80, "")),
					gateway(meta("ns", "g2", 5), []string{"10.0.0.2"}, listener("http", 80, "")),
				},
				HTTPRoutes: []gatewayv1.HTTPRoute{
					route(meta("ns", "r1", 0), []gatewayv1.ParentReference{parent("g1")}, "app.c1.openmcp.cluster"),
					route(meta("ns", "r2", 0), []gatewayv1.ParentReference{parent("g1")}, "app.c1.openmcp.cluster"),
					route(meta("ns", "both", 0), []gatewayv1.ParentReference{parent("g1"), parent("g2")}, "both.c1.openmcp.cluster"),
				},
			},
			want: []Endpoint{ep("app.c1.openmcp.cluster", g1, "10.0.0.1"), ep("both.c1.openmcp.cluster", g1, "10.0.0.1")},
			wantRefusals: []Refusal{
				{Object: rtRef("ns", "both"), Hostname: "both.c1.openmcp.cluster", Reason: ReasonConflict},
			},
		},
		{
			name: "objects being deleted ask for nothing",
			in: Input{Ingresses: []networkingv1.Ingress{func() networkingv1.Ingress {
				i := ingress(meta("ns", "i1", 0), []string{"10.0.0.5"}, "a.c1.openmcp.cluster")
				i.DeletionTimestamp = &metav1.Time{Time: t0}
				return i
			}()}},
		},
		{
			name: "origin",
			in: Input{
				Ingresses: []networkingv1.Ingress{ingress(meta("ns", "i1", 0), []string{"10.0.0.5"}, "a.c1.openmcp.cluster")},
				Origin:    func(o metav1.Object) string { return "mcp team-a/mcp1: default/" + o.GetName() },
			},
			want: []Endpoint{ep("a.c1.openmcp.cluster", Owner{Cluster: "c1", Kind: KindIngress, Namespace: "ns", Name: "i1", Origin: "mcp team-a/mcp1: default/i1"}, "10.0.0.5")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.in
			in.Cluster = "c1"
			if in.Policy.Domains == nil {
				in.Policy = hostname.DefaultPolicy("c1", base)
			}
			got := Compute(in)
			if diff := cmp.Diff(tt.want, got.Endpoints, addrComparer, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRefusals, got.Refusals, ignoreMessages, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("refusals (-want +got):\n%s", diff)
			}
			for _, r := range got.Refusals {
				if r.Message == "" || r.Message[0] < 'A' || r.Message[0] > 'Z' || strings.HasSuffix(r.Message, ".") {
					t.Errorf("refusal message %q: want a capital first letter and no trailing period", r.Message)
				}
			}
			for _, e := range got.Endpoints {
				if !got.Scope.Contains(e.Owner) {
					t.Errorf("endpoint %s: owner %s outside the result's scope", e.Hostname, e.Owner.ID())
				}
			}
		})
	}
}

func TestComputeMessages(t *testing.T) {
	t.Parallel()
	in := Input{
		Cluster: "c1",
		Policy:  hostname.DefaultPolicy("c1", base),
		Gateways: []gatewayv1.Gateway{
			gateway(meta("ns", "g1", 0), []string{"10.0.0.1"}, listener("http", 80, "app.c1.openmcp.cluster")),
			gateway(meta("ns", "g2", 1), []string{"10.0.0.2"}, listener("http", 80, "app.c1.openmcp.cluster"), listener("w", 81, "*.c1.openmcp.cluster")),
		},
		Ingresses: []networkingv1.Ingress{ingress(meta("ns", "i", 2), nil, "x.app.c1.openmcp.cluster", "c1.openmcp.cluster", "A.c1.openmcp.cluster")},
	}
	got := map[string]string{}
	for _, r := range Compute(in).Refusals {
		got[r.Object.String()+" "+r.Hostname] = r.Message
	}
	want := map[string]string{
		"Gateway ns/g2 app.c1.openmcp.cluster":  `Hostname "app.c1.openmcp.cluster" is already published by Gateway ns/g1 in cluster c1`,
		"Gateway ns/g2 *.c1.openmcp.cluster":    `Wildcard hostname "*.c1.openmcp.cluster" is not published: the central DNS serves exact names only`,
		"Ingress ns/i x.app.c1.openmcp.cluster": `Hostname "x.app.c1.openmcp.cluster" lies below "app.c1.openmcp.cluster", published by Gateway ns/g1 in cluster c1`,
		"Ingress ns/i c1.openmcp.cluster":       `Hostname not allowed: "c1.openmcp.cluster" is not below "c1.openmcp.cluster"`,
		"Ingress ns/i A.c1.openmcp.cluster":     `Invalid hostname "A.c1.openmcp.cluster": label 1 "A" contains an upper-case letter`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

func TestComputeGatewayDNS(t *testing.T) {
	t.Parallel()
	owner := func(cluster string) Owner {
		return Owner{Cluster: cluster, Kind: KindGatewayDNS, Namespace: "platform", Name: "gw-dns"}
	}
	tests := []struct {
		name         string
		in           GatewayDNSInput
		want         []Endpoint
		wantRefusals []Refusal
		inScope      []Owner
		outOfScope   []Owner
	}{
		{
			name: "targets",
			in: GatewayDNSInput{Targets: []GatewayDNSTarget{
				{Cluster: "c1", Namespace: "istio", Addresses: ips("10.1.0.1")},
				{Cluster: "c2", Namespace: "istio", Addresses: ips("fd00::2", "10.2.0.1")},
			}},
			want: []Endpoint{
				{Hostname: "gateway.c1.istio.clusters.openmcp.cluster", Owner: owner("c1"), TTL: DefaultTTL, IPv4: ips("10.1.0.1")},
				{Hostname: "gateway.c2.istio.clusters.openmcp.cluster", Owner: owner("c2"), TTL: DefaultTTL, IPv4: ips("10.2.0.1"), IPv6: ips("fd00::2")},
			},
			inScope:    []Owner{owner("c1"), owner("c9")},
			outOfScope: []Owner{{Cluster: "c1", Kind: KindGatewayDNS, Namespace: "platform", Name: "other"}, gwOwner("c1", "platform", "gw-dns")},
		},
		{
			name: "kept clusters are out of scope",
			in: GatewayDNSInput{
				Targets: []GatewayDNSTarget{{Cluster: "c1", Namespace: "istio", Addresses: ips("10.1.0.1")}},
				Keep:    []string{"c1", "c2"},
			},
			outOfScope: []Owner{owner("c1"), owner("c2")},
			inScope:    []Owner{owner("c3")},
		},
		{
			name: "another GatewayDNS holds the name",
			in: GatewayDNSInput{
				Targets: []GatewayDNSTarget{{Cluster: "c1", Namespace: "istio", Addresses: ips("10.1.0.1")}},
				Claims:  claims("gateway.c1.istio.clusters.openmcp.cluster", Owner{Cluster: "c1", Kind: KindGatewayDNS, Namespace: "platform", Name: "first"}),
			},
			wantRefusals: []Refusal{{
				Object:   ObjectRef{Kind: KindGatewayDNS, Namespace: "platform", Name: "gw-dns"},
				Hostname: "gateway.c1.istio.clusters.openmcp.cluster", Reason: ReasonConflict,
			}},
		},
		{
			name: "invalid cluster name",
			in: GatewayDNSInput{
				Targets: []GatewayDNSTarget{{Cluster: "C_1", Namespace: "istio", Addresses: ips("10.1.0.1")}},
			},
			wantRefusals: []Refusal{{
				Object:   ObjectRef{Kind: KindGatewayDNS, Namespace: "platform", Name: "gw-dns"},
				Hostname: "gateway.C_1.istio.clusters.openmcp.cluster", Reason: ReasonInvalid,
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.in
			in.Namespace, in.Name, in.BaseDomain = "platform", "gw-dns", base
			got := ComputeGatewayDNS(in)
			if diff := cmp.Diff(tt.want, got.Endpoints, addrComparer, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRefusals, got.Refusals, ignoreMessages, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("refusals (-want +got):\n%s", diff)
			}
			for _, o := range tt.inScope {
				if !got.Scope.Contains(o) {
					t.Errorf("scope does not contain %s", o.ID())
				}
			}
			for _, o := range tt.outOfScope {
				if got.Scope.Contains(o) {
					t.Errorf("scope contains %s", o.ID())
				}
			}
		})
	}
}

func TestResultRefusalsOf(t *testing.T) {
	t.Parallel()
	a := ObjectRef{Kind: KindIngress, Namespace: "ns", Name: "a"}
	b := ObjectRef{Kind: KindIngress, Namespace: "ns", Name: "b"}
	r := Result{Refusals: []Refusal{{Object: a, Hostname: "x"}, {Object: b, Hostname: "y"}, {Object: a, Hostname: "z"}}}
	if diff := cmp.Diff([]Refusal{{Object: a, Hostname: "x"}, {Object: a, Hostname: "z"}}, r.RefusalsOf(a)); diff != "" {
		t.Errorf("RefusalsOf (-want +got):\n%s", diff)
	}
}
