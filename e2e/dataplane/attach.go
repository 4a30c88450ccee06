package dataplane

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// httpRouteKind is the only route kind the data plane serves.
const httpRouteKind gatewayv1.Kind = "HTTPRoute"

// attachment is the outcome of one parentRef of a route that refers to a Gateway.
type attachment struct {
	// Listeners are the names of the listeners the route attaches to; empty when
	// it is not accepted.
	Listeners []gatewayv1.SectionName
	Reason    gatewayv1.RouteConditionReason
	Message   string
}

// Accepted reports whether the route attaches to at least one listener.
func (a attachment) Accepted() bool { return len(a.Listeners) > 0 }

// routeView is what attachment looks at of an HTTPRoute: its namespace, the labels
// of that namespace, and its hostnames.
type routeView struct {
	Namespace       string
	NamespaceLabels map[string]string
	Hostnames       []gatewayv1.Hostname
}

// parentGateway returns the Gateway ref refers to, for a route in routeNS; ok is false
// when ref refers to something other than a Gateway.
func parentGateway(ref gatewayv1.ParentReference, routeNS string) (types.NamespacedName, bool) {
	if ref.Group != nil && *ref.Group != gatewayv1.GroupName {
		return types.NamespacedName{}, false
	}
	if ref.Kind != nil && *ref.Kind != "Gateway" {
		return types.NamespacedName{}, false
	}
	ns := routeNS
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	return types.NamespacedName{Namespace: ns, Name: string(ref.Name)}, true
}

// attach applies the Gateway API attachment rules to one parentRef of a route that
// refers to gw: the listeners selected by sectionName and port (none:
// NoMatchingParent), of those the ones whose protocol and allowedRoutes admit an
// HTTPRoute from the route's namespace (none: NotAllowedByListeners), and of those
// the ones whose hostname intersects one of the route's hostnames (none:
// NoMatchingListenerHostname).
func attach(gw *gatewayv1.Gateway, route routeView, ref gatewayv1.ParentReference) attachment {
	var selected []gatewayv1.Listener
	for _, l := range gw.Spec.Listeners {
		if ref.SectionName != nil && *ref.SectionName != "" && *ref.SectionName != l.Name {
			continue
		}
		if ref.Port != nil && *ref.Port != 0 && *ref.Port != l.Port {
			continue
		}
		selected = append(selected, l)
	}
	if len(selected) == 0 {
		return attachment{Reason: gatewayv1.RouteReasonNoMatchingParent, Message: "No listener of the Gateway matches the parentRef's sectionName and port"}
	}
	var allowed []gatewayv1.Listener
	for _, l := range selected {
		if listenerAdmits(l, gw.Namespace, route) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		return attachment{Reason: gatewayv1.RouteReasonNotAllowedByListeners, Message: fmt.Sprintf("No listener of the Gateway allows HTTPRoutes from namespace %s", route.Namespace)}
	}
	var names []gatewayv1.SectionName
	for _, l := range allowed {
		if hostnamesIntersect(l.Hostname, route.Hostnames) {
			names = append(names, l.Name)
		}
	}
	if len(names) == 0 {
		return attachment{Reason: gatewayv1.RouteReasonNoMatchingListenerHostname, Message: "No listener hostname of the Gateway matches a hostname of the route"}
	}
	return attachment{Listeners: names, Reason: gatewayv1.RouteReasonAccepted, Message: "Accepted by listeners " + joinNames(names)}
}

func joinNames(names []gatewayv1.SectionName) string {
	ss := make([]string, len(names))
	for i, n := range names {
		ss[i] = string(n)
	}
	return strings.Join(ss, ", ")
}

// listenerAdmits reports whether listener l of a Gateway in gwNS admits an HTTPRoute
// of route's namespace: by protocol and allowed kinds, and by allowedRoutes.namespaces.
func listenerAdmits(l gatewayv1.Listener, gwNS string, route routeView) bool {
	if !slices.Contains(supportedKinds(l), httpRouteKind) {
		return false
	}
	from := gatewayv1.NamespacesFromSame
	var selector *metav1.LabelSelector
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
		return route.Namespace == gwNS
	case gatewayv1.NamespacesFromSelector:
		if selector == nil {
			return false
		}
		s, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			return false
		}
		return s.Matches(labels.Set(route.NamespaceLabels))
	}
	return false
}

// supportedProtocol reports whether the data plane serves listeners of protocol p.
func supportedProtocol(p gatewayv1.ProtocolType) bool {
	return p == gatewayv1.HTTPProtocolType || p == gatewayv1.HTTPSProtocolType
}

// supportedKinds returns the route kinds listener l accepts: HTTPRoute when its
// protocol is HTTP or HTTPS and its allowedRoutes.kinds, if any, name HTTPRoute.
func supportedKinds(l gatewayv1.Listener) []gatewayv1.Kind {
	if !supportedProtocol(l.Protocol) {
		return nil
	}
	if l.AllowedRoutes == nil || len(l.AllowedRoutes.Kinds) == 0 {
		return []gatewayv1.Kind{httpRouteKind}
	}
	for _, k := range l.AllowedRoutes.Kinds {
		if isHTTPRouteKind(k) {
			return []gatewayv1.Kind{httpRouteKind}
		}
	}
	return nil
}

// invalidKinds reports whether l's allowedRoutes.kinds names a kind the data plane
// does not serve.
func invalidKinds(l gatewayv1.Listener) bool {
	if l.AllowedRoutes == nil {
		return false
	}
	for _, k := range l.AllowedRoutes.Kinds {
		if !isHTTPRouteKind(k) {
			return true
		}
	}
	return false
}

func isHTTPRouteKind(k gatewayv1.RouteGroupKind) bool {
	return k.Kind == httpRouteKind && (k.Group == nil || *k.Group == gatewayv1.GroupName)
}

// hostnamesIntersect reports whether a listener hostname and a route's hostnames have
// a name in common. A listener without hostname, or a route without hostnames,
// matches anything.
func hostnamesIntersect(listener *gatewayv1.Hostname, route []gatewayv1.Hostname) bool {
	if listener == nil || *listener == "" || len(route) == 0 {
		return true
	}
	for _, h := range route {
		if intersect(strings.ToLower(string(*listener)), strings.ToLower(string(h))) {
			return true
		}
	}
	return false
}

// intersect reports whether two hostnames, either of which may be a wildcard
// ("*.example.com", which matches every name below example.com), have a name in
// common.
func intersect(a, b string) bool {
	return a == b || coversName(a, b) || coversName(b, a)
}

// coversName reports whether wildcard w matches name, or, when name is a wildcard
// too, every name name matches.
func coversName(w, name string) bool {
	domain, ok := strings.CutPrefix(w, "*.")
	if !ok {
		return false
	}
	if rest, wild := strings.CutPrefix(name, "*."); wild {
		return rest == domain || strings.HasSuffix(rest, "."+domain)
	}
	return strings.HasSuffix(name, "."+domain)
}
