package dataplane

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func hostname(h string) *gatewayv1.Hostname { return ptr.To(gatewayv1.Hostname(h)) }

func hostnames(hs ...string) []gatewayv1.Hostname {
	var out []gatewayv1.Hostname
	for _, h := range hs {
		out = append(out, gatewayv1.Hostname(h))
	}
	return out
}

func fromNamespaces(from gatewayv1.FromNamespaces, selector map[string]string) *gatewayv1.AllowedRoutes {
	ar := &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: ptr.To(from)}}
	if selector != nil {
		ar.Namespaces.Selector = &metav1.LabelSelector{MatchLabels: selector}
	}
	return ar
}

// testGateway is Gateway "gw" in namespace "infra" with listeners:
//
//	http      80   HTTP   *.example.com   Same
//	shared    80   HTTP   (none)          All
//	teams     8080 HTTP   teams.example.org  Selector team=a
//	tls       443  TLS    (none)          All
//	grpc-only 9090 HTTP   (none)          All, kinds GRPCRoute only
func testGateway() *gatewayv1.Gateway {
	return &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "gw", Generation: 3},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: DefaultClass,
			Listeners: []gatewayv1.Listener{
				{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType, Hostname: hostname("*.example.com")},
				{Name: "shared", Port: 80, Protocol: gatewayv1.HTTPProtocolType, AllowedRoutes: fromNamespaces(gatewayv1.NamespacesFromAll, nil)},
				{Name: "teams", Port: 8080, Protocol: gatewayv1.HTTPProtocolType, Hostname: hostname("teams.example.org"), AllowedRoutes: fromNamespaces(gatewayv1.NamespacesFromSelector, map[string]string{"team": "a"})},
				{Name: "tls", Port: 443, Protocol: gatewayv1.TLSProtocolType, AllowedRoutes: fromNamespaces(gatewayv1.NamespacesFromAll, nil)},
				{Name: "grpc-only", Port: 9090, Protocol: gatewayv1.HTTPProtocolType, AllowedRoutes: &gatewayv1.AllowedRoutes{
					Namespaces: &gatewayv1.RouteNamespaces{From: ptr.To(gatewayv1.NamespacesFromAll)},
					Kinds:      []gatewayv1.RouteGroupKind{{Kind: "GRPCRoute"}},
				}},
			},
		},
	}
}

func ref(name string, mods ...func(*gatewayv1.ParentReference)) gatewayv1.ParentReference {
	r := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(name), Namespace: ptr.To(gatewayv1.Namespace("infra"))}
	for _, m := range mods {
		m(&r)
	}
	return r
}

func section(s string) func(*gatewayv1.ParentReference) {
	return func(r *gatewayv1.ParentReference) { r.SectionName = ptr.To(gatewayv1.SectionName(s)) }
}

func port(p int32) func(*gatewayv1.ParentReference) {
	return func(r *gatewayv1.ParentReference) { r.Port = ptr.To(p) }
}

func TestAttach(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		route         routeView
		ref           gatewayv1.ParentReference
		wantListeners []gatewayv1.SectionName
		wantReason    gatewayv1.RouteConditionReason
	}{
		{
			name:          "same namespace, whole Gateway: every admitting listener whose hostname matches",
			route:         routeView{Namespace: "infra", Hostnames: hostnames("a.example.com")},
			ref:           ref("gw"),
			wantListeners: []gatewayv1.SectionName{"http", "shared"},
			wantReason:    gatewayv1.RouteReasonAccepted,
		},
		{
			name:          "route without hostnames matches every hostname",
			route:         routeView{Namespace: "infra"},
			ref:           ref("gw"),
			wantListeners: []gatewayv1.SectionName{"http", "shared"},
			wantReason:    gatewayv1.RouteReasonAccepted,
		},
		{
			name:          "other namespace: only listeners allowing All",
			route:         routeView{Namespace: "apps", Hostnames: hostnames("a.example.com")},
			ref:           ref("gw"),
			wantListeners: []gatewayv1.SectionName{"shared"},
			wantReason:    gatewayv1.RouteReasonAccepted,
		},
		{
			name:       "sectionName of a Same listener from another namespace is not allowed",
			route:      routeView{Namespace: "apps", Hostnames: hostnames("a.example.com")},
			ref:        ref("gw", section("http")),
			wantReason: gatewayv1.RouteReasonNotAllowedByListeners,
		},
		{
			name:          "selector admits a labelled namespace",
			route:         routeView{Namespace: "team-a", NamespaceLabels: map[string]string{"team": "a"}, Hostnames: hostnames("teams.example.org")},
			ref:           ref("gw", section("teams")),
			wantListeners: []gatewayv1.SectionName{"teams"},
			wantReason:    gatewayv1.RouteReasonAccepted,
		},
		{
			name:       "selector refuses a namespace without the label",
			route:      routeView{Namespace: "team-b", NamespaceLabels: map[string]string{"team": "b"}, Hostnames: hostnames("teams.example.org")},
			ref:        ref("gw", section("teams")),
			wantReason: gatewayv1.RouteReasonNotAllowedByListeners,
		},
		{
			name:       "selector admits, but the hostname does not match",
			route:      routeView{Namespace: "team-a", NamespaceLabels: map[string]string{"team": "a"}, Hostnames: hostnames("other.example.org")},
			ref:        ref("gw", section("teams")),
			wantReason: gatewayv1.RouteReasonNoMatchingListenerHostname,
		},
		{
			name:       "wildcard listener does not match its own domain",
			route:      routeView{Namespace: "infra", Hostnames: hostnames("example.com")},
			ref:        ref("gw", section("http")),
			wantReason: gatewayv1.RouteReasonNoMatchingListenerHostname,
		},
		{
			name:          "wildcard route hostname intersects a wildcard listener",
			route:         routeView{Namespace: "infra", Hostnames: hostnames("*.b.example.com")},
			ref:           ref("gw", section("http")),
			wantListeners: []gatewayv1.SectionName{"http"},
			wantReason:    gatewayv1.RouteReasonAccepted,
		},
		{
			name:       "unknown sectionName",
			route:      routeView{Namespace: "infra"},
			ref:        ref("gw", section("nope")),
			wantReason: gatewayv1.RouteReasonNoMatchingParent,
		},
		{
			name:          "port selects the listeners on that port",
			route:         routeView{Namespace: "team-a", NamespaceLabels: map[string]string{"team": "a"}},
			ref:           ref("gw", port(8080)),
			wantListeners: []gatewayv1.SectionName{"teams"},
			wantReason:    gatewayv1.RouteReasonAccepted,
		},
		{
			name:       "port and sectionName must both match",
			route:      routeView{Namespace: "infra"},
			ref:        ref("gw", section("http"), port(8080)),
			wantReason: gatewayv1.RouteReasonNoMatchingParent,
		},
		{
			name:       "a TLS listener takes no HTTPRoute",
			route:      routeView{Namespace: "infra"},
			ref:        ref("gw", section("tls")),
			wantReason: gatewayv1.RouteReasonNotAllowedByListeners,
		},
		{
			name:       "a listener for other route kinds takes no HTTPRoute",
			route:      routeView{Namespace: "infra"},
			ref:        ref("gw", section("grpc-only")),
			wantReason: gatewayv1.RouteReasonNotAllowedByListeners,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := attach(testGateway(), tc.route, tc.ref)
			if diff := cmp.Diff(tc.wantListeners, got.Listeners, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("listeners (-want +got):\n%s", diff)
			}
			if got.Reason != tc.wantReason {
				t.Errorf("reason = %s, want %s", got.Reason, tc.wantReason)
			}
			if got.Accepted() != (tc.wantReason == gatewayv1.RouteReasonAccepted) {
				t.Errorf("Accepted() = %v with reason %s", got.Accepted(), got.Reason)
			}
		})
	}
}

func TestHostnamesIntersect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		listener *gatewayv1.Hostname
		route    []gatewayv1.Hostname
		want     bool
	}{
		{name: "no listener hostname", listener: nil, route: hostnames("a.example.com"), want: true},
		{name: "empty listener hostname", listener: hostname(""), route: hostnames("a.example.com"), want: true},
		{name: "no route hostnames", listener: hostname("a.example.com"), route: nil, want: true},
		{name: "equal", listener: hostname("a.example.com"), route: hostnames("a.example.com"), want: true},
		{name: "different", listener: hostname("a.example.com"), route: hostnames("b.example.com"), want: false},
		{name: "one of several", listener: hostname("a.example.com"), route: hostnames("b.example.com", "a.example.com"), want: true},
		{name: "listener wildcard, route below", listener: hostname("*.example.com"), route: hostnames("a.b.example.com"), want: true},
		{name: "listener wildcard, route its domain", listener: hostname("*.example.com"), route: hostnames("example.com"), want: false},
		{name: "listener wildcard, route similar suffix", listener: hostname("*.example.com"), route: hostnames("a.badexample.com"), want: false},
		{name: "route wildcard, listener below", listener: hostname("a.example.com"), route: hostnames("*.example.com"), want: true},
		{name: "both wildcards, nested", listener: hostname("*.b.example.com"), route: hostnames("*.example.com"), want: true},
		{name: "both wildcards, equal", listener: hostname("*.example.com"), route: hostnames("*.example.com"), want: true},
		{name: "both wildcards, disjoint", listener: hostname("*.example.com"), route: hostnames("*.example.org"), want: false},
		{name: "case does not matter", listener: hostname("A.Example.com"), route: hostnames("a.example.COM"), want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := hostnamesIntersect(tc.listener, tc.route); got != tc.want {
				t.Errorf("hostnamesIntersect = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParentGateway(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		ref    gatewayv1.ParentReference
		wantNS string
		wantOK bool
	}{
		{name: "defaults: Gateway in the route's namespace", ref: gatewayv1.ParentReference{Name: "gw"}, wantNS: "apps", wantOK: true},
		{name: "explicit group, kind and namespace", ref: gatewayv1.ParentReference{
			Group: ptr.To(gatewayv1.Group(gatewayv1.GroupName)), Kind: ptr.To(gatewayv1.Kind("Gateway")), Namespace: ptr.To(gatewayv1.Namespace("infra")), Name: "gw",
		}, wantNS: "infra", wantOK: true},
		{name: "a Service parent is not a Gateway", ref: gatewayv1.ParentReference{Group: ptr.To(gatewayv1.Group("")), Kind: ptr.To(gatewayv1.Kind("Service")), Name: "gw"}},
		{name: "a ListenerSet parent is not a Gateway", ref: gatewayv1.ParentReference{Kind: ptr.To(gatewayv1.Kind("ListenerSet")), Name: "gw"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parentGateway(tc.ref, "apps")
			if ok != tc.wantOK || ok && (got.Namespace != tc.wantNS || got.Name != "gw") {
				t.Errorf("parentGateway = %v, %v; want %s/gw, %v", got, ok, tc.wantNS, tc.wantOK)
			}
		})
	}
}

func TestAttachedRoutes(t *testing.T) {
	t.Parallel()
	routes := []routeInfo{
		// Attaches to http and shared.
		{View: routeView{Namespace: "infra", Hostnames: hostnames("a.example.com")}, ParentRefs: []gatewayv1.ParentReference{ref("gw")}},
		// Two parentRefs selecting http and shared: counted once per listener.
		{View: routeView{Namespace: "infra"}, ParentRefs: []gatewayv1.ParentReference{ref("gw", section("http")), ref("gw", section("shared"))}},
		// From another namespace: shared only.
		{View: routeView{Namespace: "apps"}, ParentRefs: []gatewayv1.ParentReference{ref("gw")}},
		// Not allowed anywhere: not counted.
		{View: routeView{Namespace: "team-b"}, ParentRefs: []gatewayv1.ParentReference{ref("gw", section("teams"))}},
		// Hostname matches no listener: not counted.
		{View: routeView{Namespace: "infra", Hostnames: hostnames("x.example.net")}, ParentRefs: []gatewayv1.ParentReference{ref("gw", section("http"))}},
		// Selector-admitted.
		{View: routeView{Namespace: "team-a", NamespaceLabels: map[string]string{"team": "a"}}, ParentRefs: []gatewayv1.ParentReference{ref("gw", section("teams"))}},
		// Another Gateway of the same name in another namespace: not counted.
		{View: routeView{Namespace: "infra"}, ParentRefs: []gatewayv1.ParentReference{{Name: "gw", Namespace: ptr.To(gatewayv1.Namespace("elsewhere"))}}},
	}
	got := attachedRoutes(testGateway(), routes)
	want := map[gatewayv1.SectionName]int32{"http": 2, "shared": 3, "teams": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attachedRoutes (-want +got):\n%s", diff)
	}
}
