package dataplane

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ingressSource is the routeSource of Ingresses. A served Ingress (see ingressWanted)
// serves at the addresses of its status, on port 80 only: spec.tls is not terminated
// and no port 443 is opened. A request goes to the backend ingressBackend picks, a
// Service at its port given by number or by name; resource backends are refused.
type ingressSource struct {
	client client.Client
}

func (ingressSource) kind() string { return "ingress" }

func (ingressSource) newObject() client.Object { return &networkingv1.Ingress{} }

func (s ingressSource) frontend(ctx context.Context, obj client.Object) (frontend, bool) {
	ing, ok := obj.(*networkingv1.Ingress)
	if !ok || !ingressWanted(ing, ingressClassController(ctx, s.client)) {
		return frontend{}, false
	}
	fe := frontend{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}
	for _, a := range ingressAddrs(ing) {
		fe.Addrs = append(fe.Addrs, a.String())
	}
	return fe, true
}

func (s ingressSource) backend(ctx context.Context, key types.NamespacedName, r *http.Request) (*url.URL, error) {
	ing := &networkingv1.Ingress{}
	if err := s.client.Get(ctx, key, ing); err != nil {
		return nil, fmt.Errorf("reading Ingress %s: %w", key, err)
	}
	host := requestHost(r)
	b, ok := ingressBackend(ing.Spec, host, r.URL.Path)
	if !ok {
		return nil, fmt.Errorf("%w of Ingress %s matches %s%s", errNoRoute, key, host, r.URL.Path)
	}
	if b.Service == nil {
		return nil, fmt.Errorf("Ingress %s: the backend for %s%s is not a Service", key, host, r.URL.Path)
	}
	u, err := serviceURL(ctx, s.client, key.Namespace, b.Service.Name, b.Service.Port)
	if err != nil {
		return nil, fmt.Errorf("Ingress %s: %w", key, err)
	}
	return u, nil
}

// ingressBackend returns the backend of an Ingress for a request to host (lower case,
// without port) and path: of the paths that match it in the rules whose host matches,
// the one of the most precise host (exact, then wildcard, then a rule without host),
// then the longest path, then Exact before Prefix, then the first. A wildcard host
// "*.example.com" matches one label in place of the "*" (a.example.com, not
// example.com or a.b.example.com). Exact paths match the path as it is; Prefix and
// ImplementationSpecific paths match by path elements. With no match it returns the
// defaultBackend; ok false if there is none.
func ingressBackend(spec networkingv1.IngressSpec, host, path string) (b *networkingv1.IngressBackend, ok bool) {
	type rank struct{ host, path int }
	var best rank
	for _, rule := range spec.Rules {
		hostRank, ok := ingressHostRank(rule.Host, host)
		if !ok || rule.HTTP == nil {
			continue
		}
		for i := range rule.HTTP.Paths {
			p := &rule.HTTP.Paths[i]
			pathRank, ok := ingressPathRank(p, path)
			if !ok {
				continue
			}
			r := rank{host: hostRank, path: pathRank}
			if b == nil || r.host > best.host || (r.host == best.host && r.path > best.path) {
				b, best = &p.Backend, r
			}
		}
	}
	if b != nil {
		return b, true
	}
	return spec.DefaultBackend, spec.DefaultBackend != nil
}

// ingressHostRank reports whether the host of a rule matches host, and how precisely:
// 2 for the same host, 1 for a wildcard, 0 for a rule without host.
func ingressHostRank(rule, host string) (int, bool) {
	rule = strings.ToLower(rule)
	switch {
	case rule == "":
		return 0, true
	case rule == host:
		return 2, true
	case strings.HasPrefix(rule, "*."):
		label, found := strings.CutSuffix(host, rule[1:])
		return 1, found && label != "" && !strings.Contains(label, ".")
	}
	return 0, false
}

// ingressPathRank reports whether an Ingress path matches path, and how precisely:
// twice the length of the path that matched, plus one for an Exact one.
func ingressPathRank(p *networkingv1.HTTPIngressPath, path string) (int, bool) {
	if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
		return 2*len(p.Path) + 1, p.Path == path
	}
	prefix := strings.TrimSuffix(p.Path, "/")
	return 2 * len(prefix), prefixMatches(prefix, path)
}
