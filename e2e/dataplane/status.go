package dataplane

import (
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// legacyIngressClassAnnotation names an Ingress's class before spec.ingressClassName.
const legacyIngressClassAnnotation = "kubernetes.io/ingress.class"

// serviceWanted reports whether the data plane serves svc: a LoadBalancer Service
// without loadBalancerClass or with the data plane's.
func serviceWanted(svc *corev1.Service) bool {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return false
	}
	return svc.Spec.LoadBalancerClass == nil || *svc.Spec.LoadBalancerClass == ControllerName
}

// serviceFamilies returns the IP families of svc in the order of spec.ipFamilies
// (IPv4 if the API server has not set them).
func serviceFamilies(svc *corev1.Service) []corev1.IPFamily {
	if len(svc.Spec.IPFamilies) == 0 {
		return []corev1.IPFamily{corev1.IPv4Protocol}
	}
	return svc.Spec.IPFamilies
}

// serviceAddrs returns the IP addresses in svc's load-balancer status.
func serviceAddrs(svc *corev1.Service) []netip.Addr {
	var ss []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		ss = append(ss, in.IP)
	}
	return parseAddrs(ss)
}

// serviceIngress returns the load-balancer status entries of a Service for addrs.
func serviceIngress(addrs []netip.Addr) []corev1.LoadBalancerIngress {
	var out []corev1.LoadBalancerIngress
	for _, a := range addrs {
		out = append(out, corev1.LoadBalancerIngress{IP: a.String(), IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)})
	}
	return out
}

// ingressClassOf returns the class an Ingress names, by spec.ingressClassName or the
// legacy annotation; "" when it names none.
func ingressClassOf(ing *networkingv1.Ingress) string {
	if ing.Spec.IngressClassName != nil && *ing.Spec.IngressClassName != "" {
		return *ing.Spec.IngressClassName
	}
	return ing.Annotations[legacyIngressClassAnnotation]
}

// ingressWanted reports whether the data plane serves ing: an Ingress without class,
// or whose IngressClass (controllerOf returns its spec.controller) is the data plane's.
func ingressWanted(ing *networkingv1.Ingress, controllerOf func(class string) (string, bool)) bool {
	class := ingressClassOf(ing)
	if class == "" {
		return true
	}
	c, ok := controllerOf(class)
	return ok && c == ControllerName
}

// ingressAddrs returns the IP addresses in ing's load-balancer status.
func ingressAddrs(ing *networkingv1.Ingress) []netip.Addr {
	var ss []string
	for _, in := range ing.Status.LoadBalancer.Ingress {
		ss = append(ss, in.IP)
	}
	return parseAddrs(ss)
}

// ingressIngress returns the load-balancer status entries of an Ingress for addrs.
func ingressIngress(addrs []netip.Addr) []networkingv1.IngressLoadBalancerIngress {
	var out []networkingv1.IngressLoadBalancerIngress
	for _, a := range addrs {
		out = append(out, networkingv1.IngressLoadBalancerIngress{IP: a.String()})
	}
	return out
}

// gatewayAddrs returns the IP addresses in gw's status.
func gatewayAddrs(gw *gatewayv1.Gateway) []netip.Addr {
	var ss []string
	for _, a := range gw.Status.Addresses {
		if a.Type == nil || *a.Type == gatewayv1.IPAddressType {
			ss = append(ss, a.Value)
		}
	}
	return parseAddrs(ss)
}

// without returns the entries whose IP address (ip of the entry) is not in drop.
func without[T any](entries []T, ip func(T) string, drop []netip.Addr) []T {
	var out []T
	for _, e := range entries {
		addr, err := netip.ParseAddr(ip(e))
		if err == nil && slices.Contains(drop, addr.Unmap()) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// gatewayClassStatus returns the status of a GatewayClass of the data plane.
func gatewayClassStatus(gc *gatewayv1.GatewayClass, now metav1.Time) gatewayv1.GatewayClassStatus {
	st := *gc.Status.DeepCopy()
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type:               string(gatewayv1.GatewayClassConditionStatusAccepted),
		Status:             metav1.ConditionTrue,
		Reason:             string(gatewayv1.GatewayClassReasonAccepted),
		Message:            "Handled by the vcdns test data plane",
		ObservedGeneration: gc.Generation,
		LastTransitionTime: now,
	})
	return st
}

// routeInfo is what counting attached routes needs of an HTTPRoute.
type routeInfo struct {
	View       routeView
	ParentRefs []gatewayv1.ParentReference
}

// attachedRoutes counts, per listener of gw, the routes attached to it: a route counts
// once for every listener one of its parentRefs attaches it to.
func attachedRoutes(gw *gatewayv1.Gateway, routes []routeInfo) map[gatewayv1.SectionName]int32 {
	counts := map[gatewayv1.SectionName]int32{}
	self := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
	for _, r := range routes {
		seen := map[gatewayv1.SectionName]bool{}
		for _, ref := range r.ParentRefs {
			if parent, ok := parentGateway(ref, r.View.Namespace); !ok || parent != self {
				continue
			}
			for _, l := range attach(gw, r.View, ref).Listeners {
				if !seen[l] {
					seen[l] = true
					counts[l]++
				}
			}
		}
	}
	return counts
}

// gatewayStatus returns gw's status given the addresses it holds (addrErr explains why
// it holds none) and the number of routes attached to each listener. Conditions keep
// their transition times when their status does not change; ones of other types are
// kept.
func gatewayStatus(gw *gatewayv1.Gateway, addrs []netip.Addr, addrErr string, attached map[gatewayv1.SectionName]int32, now metav1.Time) gatewayv1.GatewayStatus {
	old := gw.Status.DeepCopy()
	st := gatewayv1.GatewayStatus{Conditions: old.Conditions, AttachedListenerSets: old.AttachedListenerSets}
	for _, a := range addrs {
		st.Addresses = append(st.Addresses, gatewayv1.GatewayStatusAddress{Type: ptr.To(gatewayv1.IPAddressType), Value: a.String()})
	}
	gen := gw.Generation
	cond := func(conds *[]metav1.Condition, typ string, ok bool, reason, message string) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: gen, LastTransitionTime: now})
	}

	accepted, programmed := 0, 0
	for _, l := range gw.Spec.Listeners {
		ls := gatewayv1.ListenerStatus{Name: l.Name, AttachedRoutes: attached[l.Name]}
		for _, o := range old.Listeners {
			if o.Name == l.Name {
				ls.Conditions = o.Conditions
			}
		}
		for _, k := range supportedKinds(l) {
			ls.SupportedKinds = append(ls.SupportedKinds, gatewayv1.RouteGroupKind{Group: ptr.To(gatewayv1.Group(gatewayv1.GroupName)), Kind: k})
		}
		lAccepted := supportedProtocol(l.Protocol)
		if lAccepted {
			cond(&ls.Conditions, string(gatewayv1.ListenerConditionAccepted), true, string(gatewayv1.ListenerReasonAccepted), "Listener is accepted")
			accepted++
		} else {
			cond(&ls.Conditions, string(gatewayv1.ListenerConditionAccepted), false, string(gatewayv1.ListenerReasonUnsupportedProtocol), fmt.Sprintf("Protocol %s is not supported, only HTTP and HTTPS", l.Protocol))
		}
		lResolved := !invalidKinds(l)
		if lResolved {
			cond(&ls.Conditions, string(gatewayv1.ListenerConditionResolvedRefs), true, string(gatewayv1.ListenerReasonResolvedRefs), "All references are resolved")
		} else {
			cond(&ls.Conditions, string(gatewayv1.ListenerConditionResolvedRefs), false, string(gatewayv1.ListenerReasonInvalidRouteKinds), "Only HTTPRoute is supported")
		}
		lProgrammed := lAccepted && lResolved && len(addrs) > 0
		switch {
		case lProgrammed:
			cond(&ls.Conditions, string(gatewayv1.ListenerConditionProgrammed), true, string(gatewayv1.ListenerReasonProgrammed), "Listener is programmed")
			programmed++
		case len(addrs) == 0:
			cond(&ls.Conditions, string(gatewayv1.ListenerConditionProgrammed), false, string(gatewayv1.ListenerReasonPending), "The Gateway has no address yet")
		default:
			cond(&ls.Conditions, string(gatewayv1.ListenerConditionProgrammed), false, string(gatewayv1.ListenerReasonInvalid), "Listener is invalid")
		}
		st.Listeners = append(st.Listeners, ls)
	}

	switch {
	case accepted == len(gw.Spec.Listeners):
		cond(&st.Conditions, string(gatewayv1.GatewayConditionAccepted), true, string(gatewayv1.GatewayReasonAccepted), "Gateway is accepted")
	case accepted > 0:
		cond(&st.Conditions, string(gatewayv1.GatewayConditionAccepted), true, string(gatewayv1.GatewayReasonListenersNotValid), "Some listeners are not valid")
	default:
		cond(&st.Conditions, string(gatewayv1.GatewayConditionAccepted), false, string(gatewayv1.GatewayReasonListenersNotValid), "No listener is valid")
	}
	switch {
	case len(addrs) == 0:
		msg := "No address is assigned"
		if addrErr != "" {
			msg += ": " + addrErr
		}
		cond(&st.Conditions, string(gatewayv1.GatewayConditionProgrammed), false, string(gatewayv1.GatewayReasonAddressNotAssigned), msg)
	case programmed == 0:
		cond(&st.Conditions, string(gatewayv1.GatewayConditionProgrammed), false, string(gatewayv1.GatewayReasonInvalid), "No listener is programmed")
	default:
		cond(&st.Conditions, string(gatewayv1.GatewayConditionProgrammed), true, string(gatewayv1.GatewayReasonProgrammed), "Gateway is programmed")
	}
	return st
}

// parentResult is the outcome for one parentRef of a route that refers to a Gateway
// of the data plane.
type parentResult struct {
	Ref        gatewayv1.ParentReference
	Attachment attachment
}

// routeParents returns route's status.parents: the entries of other controllers as
// they are, and one entry of the data plane per result. Entries keep their places;
// entries of the data plane for parentRefs without result are dropped, and new ones
// are appended in the order of results.
func routeParents(route *gatewayv1.HTTPRoute, results []parentResult, resolved metav1.Condition, now metav1.Time) []gatewayv1.RouteParentStatus {
	entry := func(r parentResult, conds []metav1.Condition) gatewayv1.RouteParentStatus {
		e := gatewayv1.RouteParentStatus{ParentRef: *r.Ref.DeepCopy(), ControllerName: ControllerName, Conditions: slices.Clone(conds)}
		accepted := metav1.Condition{
			Type:               string(gatewayv1.RouteConditionAccepted),
			Status:             metav1.ConditionFalse,
			Reason:             string(r.Attachment.Reason),
			Message:            r.Attachment.Message,
			ObservedGeneration: route.Generation,
			LastTransitionTime: now,
		}
		if r.Attachment.Accepted() {
			accepted.Status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&e.Conditions, accepted)
		rc := resolved
		rc.ObservedGeneration, rc.LastTransitionTime = route.Generation, now
		meta.SetStatusCondition(&e.Conditions, rc)
		return e
	}
	var out []gatewayv1.RouteParentStatus
	done := make([]bool, len(results))
	for _, p := range route.Status.Parents {
		if p.ControllerName != ControllerName {
			out = append(out, *p.DeepCopy())
			continue
		}
		for i, r := range results {
			if !done[i] && apiequality.Semantic.DeepEqual(p.ParentRef, r.Ref) {
				out = append(out, entry(r, p.Conditions))
				done[i] = true
				break
			}
		}
	}
	for i, r := range results {
		if !done[i] {
			out = append(out, entry(r, nil))
		}
	}
	return out
}

// backendLookup answers what resolving a route's backendRefs needs to know.
type backendLookup interface {
	ServiceExists(namespace, name string) bool
	// Granted reports whether a ReferenceGrant in toNamespace allows HTTPRoutes of
	// fromNamespace to refer to the Service toName.
	Granted(fromNamespace, toNamespace, toName string) bool
}

// resolvedRefs returns the ResolvedRefs condition of route (without generation and
// time): False with InvalidKind for a backendRef to anything but a Service,
// RefNotPermitted for one to another namespace that no ReferenceGrant allows,
// BackendNotFound for one to a missing Service; the first such backendRef decides.
func resolvedRefs(route *gatewayv1.HTTPRoute, lookup backendLookup) metav1.Condition {
	c := metav1.Condition{Type: string(gatewayv1.RouteConditionResolvedRefs)}
	for _, rule := range route.Spec.Rules {
		for _, b := range rule.BackendRefs {
			ref := b.BackendObjectReference
			ns := route.Namespace
			if ref.Namespace != nil && *ref.Namespace != "" {
				ns = string(*ref.Namespace)
			}
			switch {
			case ref.Group != nil && *ref.Group != "" || ref.Kind != nil && *ref.Kind != "Service":
				c.Status, c.Reason = metav1.ConditionFalse, string(gatewayv1.RouteReasonInvalidKind)
				c.Message = fmt.Sprintf("BackendRef %s is not a Service", ref.Name)
				return c
			case ns != route.Namespace && !lookup.Granted(route.Namespace, ns, string(ref.Name)):
				c.Status, c.Reason = metav1.ConditionFalse, string(gatewayv1.RouteReasonRefNotPermitted)
				c.Message = fmt.Sprintf("No ReferenceGrant allows the reference to Service %s/%s", ns, ref.Name)
				return c
			case !lookup.ServiceExists(ns, string(ref.Name)):
				c.Status, c.Reason = metav1.ConditionFalse, string(gatewayv1.RouteReasonBackendNotFound)
				c.Message = fmt.Sprintf("Service %s/%s not found", ns, ref.Name)
				return c
			}
		}
	}
	c.Status, c.Reason, c.Message = metav1.ConditionTrue, string(gatewayv1.RouteReasonResolvedRefs), "All references are resolved"
	return c
}

// grantAllows reports whether one of grants (ReferenceGrants of the Service's
// namespace) allows HTTPRoutes of fromNamespace to refer to the Service toName.
func grantAllows(grants []gatewayv1.ReferenceGrant, fromNamespace, toName string) bool {
	for _, g := range grants {
		from := slices.ContainsFunc(g.Spec.From, func(f gatewayv1.ReferenceGrantFrom) bool {
			return f.Group == gatewayv1.GroupName && f.Kind == httpRouteKind && string(f.Namespace) == fromNamespace
		})
		to := slices.ContainsFunc(g.Spec.To, func(t gatewayv1.ReferenceGrantTo) bool {
			return t.Group == "" && t.Kind == "Service" && (t.Name == nil || *t.Name == "" || string(*t.Name) == toName)
		})
		if from && to {
			return true
		}
	}
	return false
}
