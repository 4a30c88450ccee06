/*
Copyright The vcdns Authors.
*/

package translate

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/vcdns/vcdns/syncer/naming"
)

// IngressAnnotations is the allow-list of tenant Ingress annotations copied to the
// copy: the deprecated class annotation only, the equivalent of spec.ingressClassName.
// Controller annotations (nginx.ingress.kubernetes.io/* and the like) are not copied:
// several inject configuration into the shared controller (configuration snippets).
var IngressAnnotations = []string{
	"kubernetes.io/ingress.class",
}

// IngressCopy returns the copy of the tenant Ingress in the MCP namespace and what was
// refused. Copied: ingressClassName, defaultBackend and rules (host unchanged, paths
// with path and pathType), with Service backends rewritten to the copies
// (naming.CopyName(tenant namespace, service name)), and TLS entries without a
// secretName (hosts only, served with the controller's default certificate). The
// tenant's labels are copied, its annotations only as IngressAnnotations allows.
//
// Refused (left out, reported):
//   - a resource backend, default or of a path (UnsupportedKind): its object is not
//     synced; the path is left out;
//   - a TLS entry with a secretName (SecretsNotSynced): Secrets are not synced. The
//     rules of its hosts (every rule and the default backend if it lists no hosts) are
//     left out as well rather than served without TLS.
//
// The copy is nil when nothing is left (no rules and no default backend).
func IngressCopy(tenant *networkingv1.Ingress, o Origin) (*networkingv1.Ingress, []Refusal) {
	var rs refusals
	t := tenant.Spec
	spec := networkingv1.IngressSpec{IngressClassName: clonePtr(t.IngressClassName)}

	var tlsHosts []string
	tlsAll := false
	for i, tls := range t.TLS {
		if tls.SecretName == "" {
			spec.TLS = append(spec.TLS, *tls.DeepCopy())
			continue
		}
		rs.add(ReasonSecretsNotSynced, fmt.Sprintf("spec.tls[%d]", i), "TLS secret %q is not copied: Secrets are not synced", tls.SecretName)
		tlsHosts = append(tlsHosts, tls.Hosts...)
		tlsAll = tlsAll || len(tls.Hosts) == 0
	}

	if b := t.DefaultBackend; b != nil {
		switch {
		case tlsAll:
			rs.add(ReasonSecretsNotSynced, "spec.defaultBackend", "the default backend is not copied: a TLS entry without hosts needs a Secret, which is not synced")
		default:
			if c, ok := ingressBackend(&rs, "spec.defaultBackend", tenant.Namespace, *b); ok {
				spec.DefaultBackend = &c
			}
		}
	}

	for i, rule := range t.Rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		if tlsAll || coveredByTLS(rule.Host, tlsHosts) {
			rs.add(ReasonSecretsNotSynced, field, "rule for host %q is not copied: its TLS secret is not synced, and it is not served without TLS", rule.Host)
			continue
		}
		c := networkingv1.IngressRule{Host: rule.Host}
		if rule.HTTP != nil {
			var paths []networkingv1.HTTPIngressPath
			for k, p := range rule.HTTP.Paths {
				b, ok := ingressBackend(&rs, fmt.Sprintf("%s.http.paths[%d].backend", field, k), tenant.Namespace, p.Backend)
				if !ok {
					continue
				}
				paths = append(paths, networkingv1.HTTPIngressPath{Path: p.Path, PathType: clonePtr(p.PathType), Backend: b})
			}
			if len(paths) > 0 {
				c.HTTP = &networkingv1.HTTPIngressRuleValue{Paths: paths}
			}
		}
		spec.Rules = append(spec.Rules, c)
	}

	if spec.DefaultBackend == nil && len(spec.Rules) == 0 {
		return nil, rs
	}
	return &networkingv1.Ingress{
		TypeMeta:   tenant.TypeMeta,
		ObjectMeta: copyMeta(tenant, o, IngressAnnotations),
		Spec:       spec,
	}, rs
}

// ingressBackend translates a backend, reporting false if refused.
func ingressBackend(rs *refusals, field, namespace string, b networkingv1.IngressBackend) (networkingv1.IngressBackend, bool) {
	if b.Service == nil {
		what := "a backend without a Service"
		if r := b.Resource; r != nil {
			group := ""
			if r.APIGroup != nil && *r.APIGroup != "" {
				group = "." + *r.APIGroup
			}
			what = fmt.Sprintf("resource backend %s%s %q", r.Kind, group, r.Name)
		}
		rs.add(ReasonUnsupportedKind, field, "%s is not copied: only Services are synced", what)
		return networkingv1.IngressBackend{}, false
	}
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: naming.CopyName(namespace, b.Service.Name),
		Port: b.Service.Port,
	}}, true
}

// coveredByTLS reports whether host is among the TLS hosts, directly or through a
// wildcard ("*.example.com" covers "a.example.com").
func coveredByTLS(host string, tlsHosts []string) bool {
	for _, h := range tlsHosts {
		if h == host {
			return true
		}
		if suffix, ok := strings.CutPrefix(h, "*"); ok {
			if first, rest, found := strings.Cut(host, "."); found && first != "" && "."+rest == suffix {
				return true
			}
		}
	}
	return false
}

// MergeIngress returns existing with desired's spec, labels, allow-listed annotations
// and origin, and whether that changed anything. An ingressClassName the workload
// cluster set (the DefaultIngressClass admission plugin) where desired has none is
// kept; otherwise specs that differ only by empty versus absent collections count as
// equal, and existing is returned unchanged.
func MergeIngress(existing, desired *networkingv1.Ingress) (*networkingv1.Ingress, bool) {
	merged := existing.DeepCopy()
	labels, annotations, changed := mergeMeta(existing, desired, IngressAnnotations)
	merged.Labels, merged.Annotations = labels, annotations
	want := desired.Spec.DeepCopy()
	if want.IngressClassName == nil {
		want.IngressClassName = clonePtr(existing.Spec.IngressClassName)
	}
	a := existing.Spec.DeepCopy()
	normalizeIngressSpec(a)
	b := want.DeepCopy()
	normalizeIngressSpec(b)
	if !apiequality.Semantic.DeepEqual(a, b) {
		merged.Spec = *want
		changed = true
	}
	if !changed {
		return existing.DeepCopy(), false
	}
	return merged, true
}

// TenantIngressStatus returns the status of the tenant Ingress from its copy's: the
// load-balancer ingress points. copy may be nil.
func TenantIngressStatus(copy *networkingv1.Ingress) networkingv1.IngressStatus {
	if copy == nil {
		return networkingv1.IngressStatus{}
	}
	return *copy.Status.DeepCopy()
}

func normalizeIngressSpec(s *networkingv1.IngressSpec) {
	if len(s.TLS) == 0 {
		s.TLS = nil
	}
	for i := range s.TLS {
		if len(s.TLS[i].Hosts) == 0 {
			s.TLS[i].Hosts = nil
		}
	}
	if len(s.Rules) == 0 {
		s.Rules = nil
	}
}
