// Package gatewayapi decides, as the Gateway API specification says, which listeners of
// a Gateway a route attaches to: whether a listener admits a route (its protocol's route
// kinds, allowedRoutes.kinds, allowedRoutes.namespaces), which listeners a parentRef
// selects (sectionName, port), and which hostnames a route has on a listener (hostname
// intersection, wildcards included). It is pure: plain values in, plain values out.
// translate uses it for the parentRefs of a copied HTTPRoute, dns/records for the
// hostnames a route publishes, so that both decide alike.
package gatewayapi

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/syncer/dns/hostname"
)

// Route kinds of the Gateway API.
const (
	KindHTTPRoute = "HTTPRoute"
	KindGRPCRoute = "GRPCRoute"
	KindTLSRoute  = "TLSRoute"
	KindTCPRoute  = "TCPRoute"
	KindUDPRoute  = "UDPRoute"
)

// NamespaceLabels holds the labels of a cluster's namespaces, by namespace name, for
// listeners that admit routes of the namespaces a label selector chooses. A namespace
// missing from it matches no selector.
type NamespaceLabels map[string]map[string]string

// NamespaceLabelsOf collects the labels of namespaces.
func NamespaceLabelsOf(namespaces []corev1.Namespace) NamespaceLabels {
	out := make(NamespaceLabels, len(namespaces))
	for _, ns := range namespaces {
		out[ns.Name] = ns.Labels
	}
	return out
}

// protocolKinds are the route kinds each protocol of the standard channel carries.
var protocolKinds = map[gatewayv1.ProtocolType][]string{
	gatewayv1.HTTPProtocolType:  {KindHTTPRoute, KindGRPCRoute},
	gatewayv1.HTTPSProtocolType: {KindHTTPRoute, KindGRPCRoute},
	gatewayv1.TLSProtocolType:   {KindTLSRoute},
	gatewayv1.TCPProtocolType:   {KindTCPRoute},
	gatewayv1.UDPProtocolType:   {KindUDPRoute},
}

// AdmitsKind reports whether listener l admits routes of kind (in the Gateway API
// group): the listener's protocol must carry the kind, and allowedRoutes.kinds, when
// set, must list it. A kind allowedRoutes lists that the protocol does not carry is
// not admitted (the gateway controller reports it as InvalidRouteKinds).
func AdmitsKind(l gatewayv1.Listener, kind string) bool {
	if !slices.Contains(protocolKinds[l.Protocol], kind) {
		return false
	}
	if l.AllowedRoutes == nil || len(l.AllowedRoutes.Kinds) == 0 {
		return true
	}
	return slices.ContainsFunc(l.AllowedRoutes.Kinds, func(k gatewayv1.RouteGroupKind) bool {
		// The group defaults to the Gateway API's; "" is the core group.
		return string(k.Kind) == kind && (k.Group == nil || *k.Group == gatewayv1.GroupName)
	})
}

// AdmitsNamespace reports whether listener l of gw admits routes from namespace ns:
// allowedRoutes.namespaces.from Same (the default: the Gateway's namespace), All, or
// Selector (namespaces whose labels in nsLabels the selector matches).
func AdmitsNamespace(gw *gatewayv1.Gateway, l gatewayv1.Listener, ns string, nsLabels NamespaceLabels) bool {
	from, selector := gatewayv1.NamespacesFromSame, (*metav1.LabelSelector)(nil)
	if l.AllowedRoutes != nil && l.AllowedRoutes.Namespaces != nil {
		if l.AllowedRoutes.Namespaces.From != nil {
			from = *l.AllowedRoutes.Namespaces.From
		}
		selector = l.AllowedRoutes.Namespaces.Selector
	}
	switch from {
	case gatewayv1.NamespacesFromAll:
		return true
	case gatewayv1.NamespacesFromSame:
		return ns == gw.Namespace
	case gatewayv1.NamespacesFromSelector:
		lbls, ok := nsLabels[ns]
		if !ok || selector == nil {
			return false
		}
		s, err := metav1.LabelSelectorAsSelector(selector)
		return err == nil && s.Matches(labels.Set(lbls))
	}
	return false
}

// Admits reports whether listener l of gw admits a route of kind from namespace ns: by
// kind (AdmitsKind) and by namespace (AdmitsNamespace).
func Admits(gw *gatewayv1.Gateway, l gatewayv1.Listener, kind, ns string, nsLabels NamespaceLabels) bool {
	return AdmitsKind(l, kind) && AdmitsNamespace(gw, l, ns, nsLabels)
}

// IsGatewayRef reports whether a parentRef refers to a Gateway.
func IsGatewayRef(ref gatewayv1.ParentReference) bool {
	return (ref.Group == nil || *ref.Group == gatewayv1.GroupName) && (ref.Kind == nil || *ref.Kind == "Gateway")
}

// Selects reports whether parentRef ref selects listener l: by sectionName and port,
// where set.
func Selects(ref gatewayv1.ParentReference, l gatewayv1.Listener) bool {
	return (ref.SectionName == nil || *ref.SectionName == l.Name) && (ref.Port == nil || *ref.Port == l.Port)
}

// Hostnames returns the hostnames a route with routeHostnames has on listener l, the
// intersections of each with the listener's hostname (see Intersect), in the route's
// order; a route without hostnames has the listener's, if it has one. An empty result
// for a route with hostnames means that none intersects: the route does not attach to
// the listener. Hostnames are not validated; validate them first.
func Hostnames(l gatewayv1.Listener, routeHostnames []gatewayv1.Hostname) []string {
	var lh string
	if l.Hostname != nil {
		lh = string(*l.Hostname)
	}
	if len(routeHostnames) == 0 {
		if lh == "" {
			return nil
		}
		return []string{lh}
	}
	var out []string
	for _, h := range routeHostnames {
		if n, ok := Intersect(lh, string(h)); ok {
			out = append(out, n)
		}
	}
	return out
}

// Intersect returns the hostname a listener hostname and a route hostname have in
// common, following Gateway API (see HTTPRouteSpec.Hostnames): an empty string means
// "not specified" and matches anything. The result is the more specific of the two:
//
//	listener            route               result
//	""                  "a.example.com"     "a.example.com"
//	"a.example.com"     ""                  "a.example.com"
//	"a.example.com"     "*.example.com"     "a.example.com"
//	"*.example.com"     "a.b.example.com"   "a.b.example.com"
//	"*.example.com"     "*.b.example.com"   "*.b.example.com"
//	"*.example.com"     "example.com"       no intersection
//
// Inputs are not validated; validate them first.
func Intersect(listener, route string) (string, bool) {
	switch {
	case listener == "":
		return route, true
	case route == "":
		return listener, true
	case hostname.Matches(listener, route):
		return route, true
	case hostname.Matches(route, listener):
		return listener, true
	}
	return "", false
}
