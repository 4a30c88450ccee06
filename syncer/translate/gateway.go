/*
Copyright The vcdns Authors.
*/

package translate

import (
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// GatewayCopy returns the copy of the tenant Gateway in the MCP namespace and what was
// refused. Copied: gatewayClassName and the listeners (name, hostname unchanged, port,
// protocol, tls mode and options, allowedRoutes). The tenant's labels are copied, its
// annotations are not (implementation-specific annotations configure the shared
// workload cluster's data plane).
//
// allowedRoutes.namespaces becomes "Same" (or stays "None"): every copy of this MCP
// lives in the one MCP namespace, which holds nothing else, so "Same" admits the
// tenant's routes and nobody else's; "All" or a selector would admit routes of other
// namespaces of the shared workload cluster. Which tenant namespaces a listener admits
// is enforced when routes are copied (see WithTenantGateways).
//
// Refused (left out, reported):
//   - a listener with tls.certificateRefs: Secrets are not synced (reason
//     SecretsNotSynced), so the listener is left out rather than served without them;
//   - spec.tls.backend.clientCertificateRef (SecretsNotSynced);
//   - spec.tls.frontend (client certificate validation, ConfigMaps not synced), and with
//     it every listener that terminates TLS: without the validation it would accept
//     clients the tenant rejects;
//   - spec.addresses (NotAllowed): the workload cluster assigns addresses; a tenant
//     must not claim addresses of the shared cluster;
//   - spec.infrastructure (NotAllowed): its labels, annotations and parametersRef reach
//     the Services and Deployments the gateway controller creates on the shared cluster;
//   - spec.allowedListeners other than from None (UnsupportedKind): ListenerSets are
//     not copied;
//   - spec.defaultScope (NotAllowed, experimental): a default gateway would collect
//     routes of other namespaces of the shared cluster.
//
// The copy is nil when every listener is refused: a Gateway needs at least one.
func GatewayCopy(tenant *gatewayv1.Gateway, o Origin) (*gatewayv1.Gateway, []Refusal) {
	spec, rs, _ := gatewaySpecCopy(tenant)
	if len(spec.Listeners) == 0 {
		return nil, rs
	}
	return &gatewayv1.Gateway{
		TypeMeta:   tenant.TypeMeta,
		ObjectMeta: copyMeta(tenant, o, nil),
		Spec:       spec,
	}, rs
}

// gatewaySpecCopy translates the spec; refused maps the names of refused listeners to
// why.
func gatewaySpecCopy(tenant *gatewayv1.Gateway) (spec gatewayv1.GatewaySpec, rs refusals, refused map[gatewayv1.SectionName]string) {
	t := tenant.Spec
	spec.GatewayClassName = t.GatewayClassName
	refused = map[gatewayv1.SectionName]string{}

	if len(t.Addresses) > 0 {
		rs.add(ReasonNotAllowed, "spec.addresses", "addresses are not copied: the workload cluster's gateway controller assigns them")
	}
	if t.Infrastructure != nil && !apiequality.Semantic.DeepEqual(*t.Infrastructure, gatewayv1.GatewayInfrastructure{}) {
		rs.add(ReasonNotAllowed, "spec.infrastructure", "infrastructure is not copied: its labels, annotations and parameters would apply to resources of the shared workload cluster")
	}
	if l := t.AllowedListeners; l != nil && l.Namespaces != nil && ptr.Deref(l.Namespaces.From, gatewayv1.NamespacesFromNone) != gatewayv1.NamespacesFromNone {
		rs.add(ReasonUnsupportedKind, "spec.allowedListeners", "allowedListeners is not copied: ListenerSets are not synced")
	}
	if t.DefaultScope != "" && t.DefaultScope != gatewayv1.GatewayDefaultScopeNone {
		rs.add(ReasonNotAllowed, "spec.defaultScope", "defaultScope is not copied: a default gateway would serve routes of other namespaces of the shared workload cluster")
	}
	frontendRefused := false
	if tls := t.TLS; tls != nil {
		if tls.Backend != nil && tls.Backend.ClientCertificateRef != nil {
			rs.add(ReasonSecretsNotSynced, "spec.tls.backend.clientCertificateRef", "the client certificate for backends is not copied: Secrets are not synced")
		}
		if tls.Frontend != nil {
			frontendRefused = true
			rs.add(ReasonSecretsNotSynced, "spec.tls.frontend", "client certificate validation is not copied: its CA certificates are not synced")
		}
	}

	for i, l := range t.Listeners {
		field := fmt.Sprintf("spec.listeners[%d]", i)
		switch {
		case l.TLS != nil && len(l.TLS.CertificateRefs) > 0:
			msg := fmt.Sprintf("listener %q is not copied: its TLS certificates are Secrets, which are not synced", l.Name)
			rs.add(ReasonSecretsNotSynced, field+".tls.certificateRefs", "%s", msg)
			refused[l.Name] = msg
			continue
		case frontendRefused && terminatesTLS(l):
			msg := fmt.Sprintf("listener %q is not copied: it terminates TLS, and without spec.tls.frontend it would accept clients the tenant rejects", l.Name)
			rs.add(ReasonSecretsNotSynced, field, "%s", msg)
			refused[l.Name] = msg
			continue
		}
		c := gatewayv1.Listener{
			Name:     l.Name,
			Hostname: clonePtr(l.Hostname),
			Port:     l.Port,
			Protocol: l.Protocol,
			AllowedRoutes: &gatewayv1.AllowedRoutes{
				Namespaces: &gatewayv1.RouteNamespaces{From: ptr.To(gatewayv1.NamespacesFromSame)},
			},
		}
		if l.TLS != nil {
			c.TLS = &gatewayv1.ListenerTLSConfig{Mode: clonePtr(l.TLS.Mode)}
			if len(l.TLS.Options) > 0 {
				c.TLS.Options = make(map[gatewayv1.AnnotationKey]gatewayv1.AnnotationValue, len(l.TLS.Options))
				for k, v := range l.TLS.Options {
					c.TLS.Options[k] = v
				}
			}
		}
		if ar := l.AllowedRoutes; ar != nil {
			if ar.Namespaces != nil && ptr.Deref(ar.Namespaces.From, gatewayv1.NamespacesFromSame) == gatewayv1.NamespacesFromNone {
				c.AllowedRoutes.Namespaces.From = ptr.To(gatewayv1.NamespacesFromNone)
			}
			for _, k := range ar.Kinds {
				c.AllowedRoutes.Kinds = append(c.AllowedRoutes.Kinds, *k.DeepCopy())
			}
		}
		spec.Listeners = append(spec.Listeners, c)
	}
	return spec, rs, refused
}

// terminatesTLS reports whether a listener terminates TLS (HTTPS, or TLS in mode
// Terminate, the default).
func terminatesTLS(l gatewayv1.Listener) bool {
	switch l.Protocol {
	case gatewayv1.HTTPSProtocolType:
		return true
	case gatewayv1.TLSProtocolType:
		return l.TLS == nil || ptr.Deref(l.TLS.Mode, gatewayv1.TLSModeTerminate) == gatewayv1.TLSModeTerminate
	}
	return false
}

// MergeGateway returns existing with desired's spec, labels and origin, and whether
// that changed anything. Specs that differ only by what the Gateway API CRD defaults
// count as equal; then existing is returned unchanged.
func MergeGateway(existing, desired *gatewayv1.Gateway) (*gatewayv1.Gateway, bool) {
	merged := existing.DeepCopy()
	labels, annotations, changed := mergeMeta(existing, desired, nil)
	merged.Labels, merged.Annotations = labels, annotations
	a, b := existing.Spec.DeepCopy(), desired.Spec.DeepCopy()
	defaultGatewaySpec(a)
	defaultGatewaySpec(b)
	if !apiequality.Semantic.DeepEqual(a, b) {
		merged.Spec = *desired.Spec.DeepCopy()
		changed = true
	}
	if !changed {
		return existing.DeepCopy(), false
	}
	return merged, true
}

// TenantGatewayStatus returns the status of the tenant Gateway from its copy's: the
// addresses the workload cluster assigned, the conditions, and per tenant listener its
// conditions and attachedRoutes. Listeners refused by GatewayCopy get a status saying
// why (Accepted, Programmed and ResolvedRefs False). copy may be nil (no copy, e.g.
// every listener refused).
//
// Conditions the gateway controller set for the copy's current generation get the
// tenant's generation as observedGeneration; older ones keep the observedGeneration
// the tenant's status already shows for them (0 if none). Call it with a copy that is
// up to date with the tenant (MergeGateway reported no change).
func TenantGatewayStatus(tenant *gatewayv1.Gateway, copy *gatewayv1.Gateway) gatewayv1.GatewayStatus {
	var st gatewayv1.GatewayStatus
	_, _, refused := gatewaySpecCopy(tenant)
	copyListeners := map[gatewayv1.SectionName]gatewayv1.ListenerStatus{}
	if copy != nil {
		for _, a := range copy.Status.Addresses {
			st.Addresses = append(st.Addresses, *a.DeepCopy())
		}
		st.Conditions = mapConditions(copy.Status.Conditions, copy.Generation, tenant.Generation, tenant.Status.Conditions)
		st.AttachedListenerSets = clonePtr(copy.Status.AttachedListenerSets)
		for _, l := range copy.Status.Listeners {
			copyListeners[l.Name] = l
		}
	}
	previous := map[gatewayv1.SectionName][]metav1.Condition{}
	for _, l := range tenant.Status.Listeners {
		previous[l.Name] = l.Conditions
	}
	for _, l := range tenant.Spec.Listeners {
		if msg, ok := refused[l.Name]; ok {
			st.Listeners = append(st.Listeners, gatewayv1.ListenerStatus{
				Name: l.Name,
				Conditions: refusedConditions(tenant.Generation, previous[l.Name], msg,
					condition{Type: string(gatewayv1.ListenerConditionAccepted), Reason: string(gatewayv1.ListenerReasonUnsupportedValue)},
					condition{Type: string(gatewayv1.ListenerConditionProgrammed), Reason: string(gatewayv1.ListenerReasonInvalid)},
					condition{Type: string(gatewayv1.ListenerConditionResolvedRefs), Reason: string(gatewayv1.ListenerReasonRefNotPermitted)},
				),
			})
			continue
		}
		cl, ok := copyListeners[l.Name]
		if !ok {
			continue
		}
		st.Listeners = append(st.Listeners, gatewayv1.ListenerStatus{
			Name:           l.Name,
			SupportedKinds: cloneSlice(cl.SupportedKinds),
			AttachedRoutes: cl.AttachedRoutes,
			Conditions:     mapConditions(cl.Conditions, copy.Generation, tenant.Generation, previous[l.Name]),
		})
	}
	return st
}

// defaultGatewaySpec sets what the Gateway API CRD (standard channel) defaults and
// normalises empty collections to nil, as after a round trip through JSON.
func defaultGatewaySpec(s *gatewayv1.GatewaySpec) {
	for i := range s.Addresses {
		if s.Addresses[i].Type == nil {
			s.Addresses[i].Type = ptr.To(gatewayv1.IPAddressType)
		}
	}
	if len(s.Addresses) == 0 {
		s.Addresses = nil
	}
	if l := s.AllowedListeners; l != nil {
		if l.Namespaces == nil {
			l.Namespaces = &gatewayv1.ListenerNamespaces{}
		}
		if l.Namespaces.From == nil {
			l.Namespaces.From = ptr.To(gatewayv1.NamespacesFromNone)
		}
	}
	for i := range s.Listeners {
		l := &s.Listeners[i]
		if l.AllowedRoutes == nil {
			l.AllowedRoutes = &gatewayv1.AllowedRoutes{}
		}
		if l.AllowedRoutes.Namespaces == nil {
			l.AllowedRoutes.Namespaces = &gatewayv1.RouteNamespaces{}
		}
		if l.AllowedRoutes.Namespaces.From == nil {
			l.AllowedRoutes.Namespaces.From = ptr.To(gatewayv1.NamespacesFromSame)
		}
		for k := range l.AllowedRoutes.Kinds {
			if l.AllowedRoutes.Kinds[k].Group == nil {
				l.AllowedRoutes.Kinds[k].Group = ptr.To(gatewayv1.Group(gatewayv1.GroupName))
			}
		}
		if len(l.AllowedRoutes.Kinds) == 0 {
			l.AllowedRoutes.Kinds = nil
		}
		if l.TLS != nil {
			if l.TLS.Mode == nil {
				l.TLS.Mode = ptr.To(gatewayv1.TLSModeTerminate)
			}
			for k := range l.TLS.CertificateRefs {
				defaultSecretRef(&l.TLS.CertificateRefs[k])
			}
			if len(l.TLS.CertificateRefs) == 0 {
				l.TLS.CertificateRefs = nil
			}
			if len(l.TLS.Options) == 0 {
				l.TLS.Options = nil
			}
		}
	}
	if s.Infrastructure != nil {
		if len(s.Infrastructure.Labels) == 0 {
			s.Infrastructure.Labels = nil
		}
		if len(s.Infrastructure.Annotations) == 0 {
			s.Infrastructure.Annotations = nil
		}
	}
	if tls := s.TLS; tls != nil {
		if tls.Backend != nil && tls.Backend.ClientCertificateRef != nil {
			defaultSecretRef(tls.Backend.ClientCertificateRef)
		}
		if f := tls.Frontend; f != nil {
			defaultValidation(f.Default.Validation)
			for k := range f.PerPort {
				defaultValidation(f.PerPort[k].TLS.Validation)
			}
			if len(f.PerPort) == 0 {
				f.PerPort = nil
			}
		}
	}
}

func defaultSecretRef(r *gatewayv1.SecretObjectReference) {
	if r.Group == nil {
		r.Group = ptr.To(gatewayv1.Group(""))
	}
	if r.Kind == nil {
		r.Kind = ptr.To(gatewayv1.Kind("Secret"))
	}
}

func defaultValidation(v *gatewayv1.FrontendTLSValidation) {
	if v != nil && v.Mode == "" {
		v.Mode = gatewayv1.AllowValidOnly
	}
}

// cloneSlice deep-copies a slice of API structs.
func cloneSlice[T any, PT interface {
	*T
	DeepCopy() *T
}](s []T) []T {
	if s == nil {
		return nil
	}
	out := make([]T, len(s))
	for i := range s {
		out[i] = *PT(&s[i]).DeepCopy()
	}
	return out
}
