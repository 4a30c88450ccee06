package gatewayapi

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestAttachment holds the Gateway API specification's rules of which listeners a route
// attaches to, the rules translate (the parentRefs of a copied HTTPRoute) and
// dns/records (the hostnames a route publishes) both follow through this package:
// the route kinds a listener's protocol carries, allowedRoutes.kinds, allowedRoutes
// namespaces (Same, All, Selector), sectionName and port, and hostname intersection,
// wildcards included.
func TestAttachment(t *testing.T) {
	t.Parallel()
	gw := &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "gw"}}
	nsLabels := NamespaceLabelsOf(nil)
	nsLabels["infra"] = map[string]string{"kubernetes.io/metadata.name": "infra"}
	nsLabels["app"] = map[string]string{"kubernetes.io/metadata.name": "app", "gateway-access": "yes"}
	nsLabels["other"] = map[string]string{"kubernetes.io/metadata.name": "other"}

	type listenerOpt func(*gatewayv1.Listener)
	listener := func(protocol gatewayv1.ProtocolType, opts ...listenerOpt) gatewayv1.Listener {
		l := gatewayv1.Listener{Name: "l", Port: 80, Protocol: protocol}
		for _, o := range opts {
			o(&l)
		}
		return l
	}
	from := func(f gatewayv1.FromNamespaces, selector map[string]string) listenerOpt {
		return func(l *gatewayv1.Listener) {
			if l.AllowedRoutes == nil {
				l.AllowedRoutes = &gatewayv1.AllowedRoutes{}
			}
			l.AllowedRoutes.Namespaces = &gatewayv1.RouteNamespaces{From: ptr.To(f)}
			if selector != nil {
				l.AllowedRoutes.Namespaces.Selector = &metav1.LabelSelector{MatchLabels: selector}
			}
		}
	}
	kinds := func(group *string, ks ...string) listenerOpt {
		return func(l *gatewayv1.Listener) {
			if l.AllowedRoutes == nil {
				l.AllowedRoutes = &gatewayv1.AllowedRoutes{}
			}
			for _, k := range ks {
				l.AllowedRoutes.Kinds = append(l.AllowedRoutes.Kinds, gatewayv1.RouteGroupKind{Group: (*gatewayv1.Group)(group), Kind: gatewayv1.Kind(k)})
			}
		}
	}
	host := func(h string) listenerOpt {
		return func(l *gatewayv1.Listener) { l.Hostname = ptr.To(gatewayv1.Hostname(h)) }
	}
	hostnames := func(hs ...string) []gatewayv1.Hostname {
		out := make([]gatewayv1.Hostname, 0, len(hs))
		for _, h := range hs {
			out = append(out, gatewayv1.Hostname(h))
		}
		return out
	}
	http := listener(gatewayv1.HTTPProtocolType)

	tests := []struct {
		name      string
		listener  gatewayv1.Listener
		ref       gatewayv1.ParentReference // selects the listener unless set otherwise
		kind      string                    // default HTTPRoute
		namespace string                    // of the route; default the Gateway's
		hostnames []gatewayv1.Hostname      // of the route

		notSelected   bool // ref does not select the listener
		wantAdmits    bool
		wantHostnames []string
	}{
		// Protocols carry their route kinds.
		{name: "HTTP admits HTTPRoute", listener: http, wantAdmits: true},
		{name: "HTTPS admits HTTPRoute", listener: listener(gatewayv1.HTTPSProtocolType), wantAdmits: true},
		{name: "HTTP admits GRPCRoute", listener: http, kind: KindGRPCRoute, wantAdmits: true},
		{name: "HTTP does not admit TLSRoute", listener: http, kind: KindTLSRoute},
		{name: "TLS admits TLSRoute", listener: listener(gatewayv1.TLSProtocolType), kind: KindTLSRoute, wantAdmits: true},
		{name: "TLS does not admit HTTPRoute", listener: listener(gatewayv1.TLSProtocolType)},
		{name: "TCP admits TCPRoute", listener: listener(gatewayv1.TCPProtocolType), kind: KindTCPRoute, wantAdmits: true},
		{name: "TCP does not admit HTTPRoute", listener: listener(gatewayv1.TCPProtocolType)},
		{name: "UDP admits UDPRoute", listener: listener(gatewayv1.UDPProtocolType), kind: KindUDPRoute, wantAdmits: true},
		{name: "UDP does not admit HTTPRoute", listener: listener(gatewayv1.UDPProtocolType)},
		{name: "an implementation-specific protocol admits no standard route", listener: listener("example.com/quic")},

		// allowedRoutes.kinds narrows what the protocol carries.
		{name: "kinds listing HTTPRoute, group defaulted", listener: listener(gatewayv1.HTTPProtocolType, kinds(nil, KindHTTPRoute)), wantAdmits: true},
		{name: "kinds listing HTTPRoute in the Gateway API group", listener: listener(gatewayv1.HTTPProtocolType, kinds(ptr.To(gatewayv1.GroupName), KindHTTPRoute)), wantAdmits: true},
		{name: "kinds listing only GRPCRoute", listener: listener(gatewayv1.HTTPProtocolType, kinds(nil, KindGRPCRoute))},
		{name: "kinds listing HTTPRoute of another group", listener: listener(gatewayv1.HTTPProtocolType, kinds(ptr.To("example.com"), KindHTTPRoute))},
		{name: "kinds listing HTTPRoute of the core group", listener: listener(gatewayv1.HTTPProtocolType, kinds(ptr.To(""), KindHTTPRoute))},
		{name: "kinds listing HTTPRoute on a TCP listener (InvalidRouteKinds)", listener: listener(gatewayv1.TCPProtocolType, kinds(nil, KindHTTPRoute))},
		{name: "kinds listing HTTPRoute on a TLS listener (InvalidRouteKinds)", listener: listener(gatewayv1.TLSProtocolType, kinds(nil, KindHTTPRoute, KindTLSRoute))},

		// allowedRoutes.namespaces.
		{name: "Same by default, the Gateway's namespace", listener: http, namespace: "infra", wantAdmits: true},
		{name: "Same by default, another namespace", listener: http, namespace: "app"},
		{name: "Same, another namespace", listener: listener(gatewayv1.HTTPProtocolType, from(gatewayv1.NamespacesFromSame, nil)), namespace: "app"},
		{name: "All, another namespace", listener: listener(gatewayv1.HTTPProtocolType, from(gatewayv1.NamespacesFromAll, nil)), namespace: "app", wantAdmits: true},
		{name: "All does not lift the kind check", listener: listener(gatewayv1.TLSProtocolType, from(gatewayv1.NamespacesFromAll, nil)), namespace: "app"},
		{name: "Selector matching the route's namespace", listener: listener(gatewayv1.HTTPProtocolType, from(gatewayv1.NamespacesFromSelector, map[string]string{"gateway-access": "yes"})), namespace: "app", wantAdmits: true},
		{name: "Selector not matching", listener: listener(gatewayv1.HTTPProtocolType, from(gatewayv1.NamespacesFromSelector, map[string]string{"gateway-access": "yes"})), namespace: "other"},
		{name: "Selector, namespace of unknown labels", listener: listener(gatewayv1.HTTPProtocolType, from(gatewayv1.NamespacesFromSelector, map[string]string{"gateway-access": "yes"})), namespace: "unknown"},
		{name: "Selector without a selector", listener: listener(gatewayv1.HTTPProtocolType, from(gatewayv1.NamespacesFromSelector, nil)), namespace: "app"},
		{name: "Selector does not admit the Gateway's own namespace by itself", listener: listener(gatewayv1.HTTPProtocolType, from(gatewayv1.NamespacesFromSelector, map[string]string{"gateway-access": "yes"}))},

		// sectionName and port select listeners.
		{name: "sectionName of the listener", listener: http, ref: gatewayv1.ParentReference{SectionName: ptr.To[gatewayv1.SectionName]("l")}, wantAdmits: true},
		{name: "sectionName of another listener", listener: http, ref: gatewayv1.ParentReference{SectionName: ptr.To[gatewayv1.SectionName]("other")}, notSelected: true, wantAdmits: true},
		{name: "port of the listener", listener: http, ref: gatewayv1.ParentReference{Port: ptr.To[gatewayv1.PortNumber](80)}, wantAdmits: true},
		{name: "port of another listener", listener: http, ref: gatewayv1.ParentReference{Port: ptr.To[gatewayv1.PortNumber](443)}, notSelected: true, wantAdmits: true},

		// Hostnames: the intersection of the listener's and the route's, the more
		// specific of the two; a route whose hostnames all miss the listener's does
		// not attach to it.
		{name: "neither has hostnames", listener: http, wantAdmits: true},
		{name: "route without hostnames takes the listener's", listener: listener(gatewayv1.HTTPProtocolType, host("a.example.com")), wantAdmits: true, wantHostnames: []string{"a.example.com"}},
		{name: "route without hostnames takes a wildcard listener's", listener: listener(gatewayv1.HTTPProtocolType, host("*.example.com")), wantAdmits: true, wantHostnames: []string{"*.example.com"}},
		{name: "listener without hostname takes the route's", listener: http, hostnames: hostnames("a.example.com", "*.b.example.com"), wantAdmits: true, wantHostnames: []string{"a.example.com", "*.b.example.com"}},
		{name: "equal", listener: listener(gatewayv1.HTTPProtocolType, host("a.example.com")), hostnames: hostnames("a.example.com"), wantAdmits: true, wantHostnames: []string{"a.example.com"}},
		{name: "exact listener, wildcard route", listener: listener(gatewayv1.HTTPProtocolType, host("a.example.com")), hostnames: hostnames("*.example.com"), wantAdmits: true, wantHostnames: []string{"a.example.com"}},
		{name: "exact listener, other route hostname", listener: listener(gatewayv1.HTTPProtocolType, host("a.example.com")), hostnames: hostnames("b.example.com"), wantAdmits: true},
		{name: "wildcard listener, exact route", listener: listener(gatewayv1.HTTPProtocolType, host("*.example.com")), hostnames: hostnames("a.example.com"), wantAdmits: true, wantHostnames: []string{"a.example.com"}},
		{name: "wildcard listener, deeper route", listener: listener(gatewayv1.HTTPProtocolType, host("*.example.com")), hostnames: hostnames("a.b.example.com"), wantAdmits: true, wantHostnames: []string{"a.b.example.com"}},
		{name: "wildcard listener, its own domain", listener: listener(gatewayv1.HTTPProtocolType, host("*.example.com")), hostnames: hostnames("example.com"), wantAdmits: true},
		{name: "wildcard listener, other domain", listener: listener(gatewayv1.HTTPProtocolType, host("*.example.com")), hostnames: hostnames("a.example.net"), wantAdmits: true},
		{name: "wildcard listener, same wildcard", listener: listener(gatewayv1.HTTPProtocolType, host("*.example.com")), hostnames: hostnames("*.example.com"), wantAdmits: true, wantHostnames: []string{"*.example.com"}},
		{name: "wildcard listener, narrower wildcard", listener: listener(gatewayv1.HTTPProtocolType, host("*.example.com")), hostnames: hostnames("*.a.example.com"), wantAdmits: true, wantHostnames: []string{"*.a.example.com"}},
		{name: "narrow wildcard listener, wider wildcard route", listener: listener(gatewayv1.HTTPProtocolType, host("*.a.example.com")), hostnames: hostnames("*.example.com"), wantAdmits: true, wantHostnames: []string{"*.a.example.com"}},
		{name: "disjoint wildcards", listener: listener(gatewayv1.HTTPProtocolType, host("*.a.example.com")), hostnames: hostnames("*.b.example.com"), wantAdmits: true},
		{name: "some route hostnames intersect, in the route's order", listener: listener(gatewayv1.HTTPProtocolType, host("*.example.com")), hostnames: hostnames("b.example.com", "example.com", "a.example.com"), wantAdmits: true, wantHostnames: []string{"b.example.com", "a.example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kind, ns := tc.kind, tc.namespace
			if kind == "" {
				kind = KindHTTPRoute
			}
			if ns == "" {
				ns = gw.Namespace
			}
			if got := Selects(tc.ref, tc.listener); got != !tc.notSelected {
				t.Errorf("Selects = %v, want %v", got, !tc.notSelected)
			}
			if got := Admits(gw, tc.listener, kind, ns, nsLabels); got != tc.wantAdmits {
				t.Errorf("Admits(%s from namespace %s) = %v, want %v", kind, ns, got, tc.wantAdmits)
			}
			if got := Hostnames(tc.listener, tc.hostnames); !slices.Equal(got, tc.wantHostnames) {
				t.Errorf("Hostnames(%v) = %q, want %q", tc.hostnames, got, tc.wantHostnames)
			}
		})
	}
}

func TestIsGatewayRef(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		group *gatewayv1.Group
		kind  *gatewayv1.Kind
		want  bool
	}{
		{name: "defaults", want: true},
		{name: "explicit", group: ptr.To[gatewayv1.Group](gatewayv1.GroupName), kind: ptr.To[gatewayv1.Kind]("Gateway"), want: true},
		{name: "a Service (GAMMA)", group: ptr.To[gatewayv1.Group](""), kind: ptr.To[gatewayv1.Kind]("Service")},
		{name: "another group's Gateway", group: ptr.To[gatewayv1.Group]("example.com")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := IsGatewayRef(gatewayv1.ParentReference{Group: tc.group, Kind: tc.kind}); got != tc.want {
				t.Errorf("IsGatewayRef = %v, want %v", got, tc.want)
			}
		})
	}
}
