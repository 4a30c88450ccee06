package dataplane

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// gatewaySource is the routeSource of Gateways. A Programmed Gateway serves at its
// IPAddress addresses, on the ports of its HTTP and HTTPS listeners. A request goes to
// the first backendRef of the first rule that matches it, of the first HTTPRoute
// attached to the Gateway (as the data plane's status says) whose hostnames match its
// host. Only PathPrefix and Exact path matches are read; listener hostnames, route
// precedence, weights and ReferenceGrants are not.
type gatewaySource struct {
	client client.Client
}

func (gatewaySource) kind() string { return "gateway" }

func (gatewaySource) newObject() client.Object { return &gatewayv1.Gateway{} }

func (gatewaySource) frontend(_ context.Context, obj client.Object) (frontend, bool) {
	gw, ok := obj.(*gatewayv1.Gateway)
	if !ok || !meta.IsStatusConditionTrue(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed)) {
		return frontend{}, false
	}
	fe := frontend{Labels: map[string]string{"gateway.networking.k8s.io/gateway-name": gw.Name}}
	for _, a := range gatewayAddrs(gw) {
		fe.Addrs = append(fe.Addrs, a.String())
	}
	seen := map[gatewayv1.PortNumber]bool{}
	for _, l := range gw.Spec.Listeners {
		if seen[l.Port] || (l.Protocol != gatewayv1.HTTPProtocolType && l.Protocol != gatewayv1.HTTPSProtocolType) {
			continue
		}
		seen[l.Port] = true
		fe.Ports = append(fe.Ports, corev1.ServicePort{Name: "p" + strconv.Itoa(int(l.Port)), Port: int32(l.Port)})
	}
	return fe, true
}

func (s gatewaySource) backend(ctx context.Context, gw types.NamespacedName, r *http.Request) (*url.URL, error) {
	host := requestHost(r)
	var routes gatewayv1.HTTPRouteList
	if err := s.client.List(ctx, &routes); err != nil {
		return nil, fmt.Errorf("listing HTTPRoutes: %w", err)
	}
	for _, rt := range routes.Items {
		if !attachedTo(&rt, gw) || !hostMatches(rt.Spec.Hostnames, host) {
			continue
		}
		for _, rule := range rt.Spec.Rules {
			if !pathMatches(rule.Matches, r.URL.Path) || len(rule.BackendRefs) == 0 {
				continue
			}
			ref := rule.BackendRefs[0].BackendObjectReference
			if (ref.Kind != nil && *ref.Kind != "Service") || ref.Port == nil {
				continue
			}
			ns := rt.Namespace
			if ref.Namespace != nil {
				ns = string(*ref.Namespace)
			}
			u, err := serviceURL(ctx, s.client, ns, string(ref.Name), networkingv1.ServiceBackendPort{Number: int32(*ref.Port)})
			if err != nil {
				return nil, fmt.Errorf("HTTPRoute %s/%s: %w", rt.Namespace, rt.Name, err)
			}
			return u, nil
		}
	}
	return nil, fmt.Errorf("%w of Gateway %s matches %s%s", errNoRoute, gw, host, r.URL.Path)
}

// attachedTo reports whether the data plane accepted the route for gw.
func attachedTo(rt *gatewayv1.HTTPRoute, gw types.NamespacedName) bool {
	for _, p := range rt.Status.Parents {
		ns := rt.Namespace
		if p.ParentRef.Namespace != nil {
			ns = string(*p.ParentRef.Namespace)
		}
		if p.ControllerName == ControllerName && string(p.ParentRef.Name) == gw.Name && ns == gw.Namespace &&
			meta.IsStatusConditionTrue(p.Conditions, string(gatewayv1.RouteConditionAccepted)) {
			return true
		}
	}
	return false
}

// hostMatches matches a host against a route's hostnames (none matches all; a
// leading "*." matches one or more labels).
func hostMatches(hostnames []gatewayv1.Hostname, host string) bool {
	if len(hostnames) == 0 {
		return true
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range hostnames {
		s := strings.ToLower(string(h))
		if s == host || (strings.HasPrefix(s, "*.") && strings.HasSuffix(host, s[1:]) && len(host) > len(s)-1) {
			return true
		}
	}
	return false
}

// pathMatches matches a path against a rule's matches (none matches all).
func pathMatches(matches []gatewayv1.HTTPRouteMatch, path string) bool {
	if len(matches) == 0 {
		return true
	}
	for _, m := range matches {
		if m.Path == nil || m.Path.Value == nil {
			return true
		}
		v := *m.Path.Value
		switch ptr.Deref(m.Path.Type, gatewayv1.PathMatchPathPrefix) {
		case gatewayv1.PathMatchExact:
			if path == v {
				return true
			}
		case gatewayv1.PathMatchPathPrefix:
			if prefixMatches(v, path) {
				return true
			}
		}
	}
	return false
}

// prefixMatches reports whether path begins with the path elements of prefix ("/a/b"
// and "/a/b/" match "/a/b", "/a/b/" and "/a/b/c", not "/a/bc"; "/" matches all).
func prefixMatches(prefix, path string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/")
}
