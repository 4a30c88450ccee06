/*
Copyright The vcdns Authors.
*/

package translate

import (
	"fmt"
	"slices"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/vcdns/vcdns/syncer/gatewayapi"
	"github.com/vcdns/vcdns/syncer/naming"
)

// ControllerName is the controllerName of the route parent statuses vcdns writes itself:
// for parentRefs it refused, which no gateway controller sees.
const ControllerName gatewayv1.GatewayController = "vcdns.io/syncer"

// RouteOption adds tenant context to HTTPRouteCopy.
type RouteOption func(*routeOptions)

type routeOptions struct {
	checkParents    bool
	gateways        map[types.NamespacedName]*gatewayv1.Gateway
	namespaceLabels gatewayapi.NamespaceLabels
}

// WithTenantGateways makes HTTPRouteCopy enforce the tenant Gateways' allowedRoutes
// namespaces, which the copies cannot (they all live in one namespace): a parentRef
// is refused when no listener it selects (by sectionName and port) admits the route's
// namespace, and narrowed to the admitting listeners by sectionName when only some do.
// namespaceLabels holds the labels of the tenant's namespaces, by name, for listeners
// that select namespaces by label; a namespace missing from it matches no selector.
// A parentRef to a Gateway missing from gateways is copied as it is (the Gateway may
// appear later: copy the route again when tenant Gateways change).
func WithTenantGateways(gateways []gatewayv1.Gateway, namespaceLabels gatewayapi.NamespaceLabels) RouteOption {
	return func(o *routeOptions) {
		o.checkParents = true
		o.gateways = make(map[types.NamespacedName]*gatewayv1.Gateway, len(gateways))
		for i := range gateways {
			g := &gateways[i]
			o.gateways[types.NamespacedName{Namespace: g.Namespace, Name: g.Name}] = g
		}
		o.namespaceLabels = namespaceLabels
	}
}

// HTTPRouteCopy returns the copy of the tenant HTTPRoute in the MCP namespace and what
// was refused. References are rewritten to the copies: a parentRef to Gateway ns/name
// and a backendRef (or requestMirror backendRef) to Service ns/name become references
// to naming.CopyName(ns, name) in the MCP namespace. Copied: hostnames (unchanged),
// parentRefs (sectionName, port kept), and per rule: name, matches, filters,
// backendRefs (weight, port, filters), timeouts. The tenant's labels are copied, its
// annotations are not.
//
// Refused (left out, reported):
//   - a parentRef to anything but a Gateway (UnsupportedKind), or, with
//     WithTenantGateways, to a Gateway none of whose selected listeners admits the
//     route's namespace (RefNotPermitted);
//   - a backendRef to anything but a core Service (UnsupportedKind), or to a Service in
//     another namespace without a ReferenceGrant there that admits it
//     (RefNotPermitted): the backendRef is left out of its rule (a rule left without
//     backends answers 500, as for an unresolvable backend);
//   - a requestMirror filter whose backendRef is refused: the filter is left out;
//   - an extensionRef filter (UnsupportedKind) or an externalAuth or other
//     non-standard filter (NotSupported): they may enforce access, so the rule is
//     copied without filters and backends and answers 500 rather than bypassing them;
//     on a backendRef, that backendRef is left out;
//   - retry and sessionPersistence (NotSupported: experimental channel);
//   - useDefaultGateways (NotAllowed): default gateways of the shared workload cluster
//     are not the tenant's.
//
// grants are the tenant's ReferenceGrants, of all namespaces.
func HTTPRouteCopy(tenant *gatewayv1.HTTPRoute, o Origin, grants []gatewayv1beta1.ReferenceGrant, opts ...RouteOption) (*gatewayv1.HTTPRoute, []Refusal) {
	var opt routeOptions
	for _, f := range opts {
		f(&opt)
	}
	tr := routeTranslator{route: tenant, grants: grants, opt: opt}
	t := tenant.Spec
	spec := gatewayv1.HTTPRouteSpec{Hostnames: slices.Clone(t.Hostnames)}

	if t.UseDefaultGateways != "" && t.UseDefaultGateways != gatewayv1.GatewayDefaultScopeNone {
		tr.rs.add(ReasonNotAllowed, "spec.useDefaultGateways", "useDefaultGateways is not copied: the default gateways of the shared workload cluster are not the tenant's")
	}
	for j, ref := range t.ParentRefs {
		spec.ParentRefs = append(spec.ParentRefs, tr.parentRef(j, ref)...)
	}
	for i, rule := range t.Rules {
		spec.Rules = append(spec.Rules, tr.rule(i, rule))
	}
	return &gatewayv1.HTTPRoute{
		TypeMeta:   tenant.TypeMeta,
		ObjectMeta: copyMeta(tenant, o, nil),
		Spec:       spec,
	}, tr.rs
}

type routeTranslator struct {
	route  *gatewayv1.HTTPRoute
	grants []gatewayv1beta1.ReferenceGrant
	opt    routeOptions
	rs     refusals
}

// parentRef translates one parentRef into zero (refused), one or, narrowed to
// admitting listeners, several parentRefs of the copy.
func (tr *routeTranslator) parentRef(j int, ref gatewayv1.ParentReference) []gatewayv1.ParentReference {
	field := fmt.Sprintf("spec.parentRefs[%d]", j)
	if !gatewayapi.IsGatewayRef(ref) {
		tr.rs.add(ReasonUnsupportedKind, field, "parentRef to %s %q is not copied: only Gateways are synced", groupKind(ref.Group, ref.Kind, gatewayv1.GroupName, "Gateway"), ref.Name)
		return nil
	}
	ns := string(ptr.Deref(ref.Namespace, gatewayv1.Namespace(tr.route.Namespace)))
	out := gatewayv1.ParentReference{
		Group:       clonePtr(ref.Group),
		Kind:        clonePtr(ref.Kind),
		Name:        gatewayv1.ObjectName(naming.CopyName(ns, string(ref.Name))),
		SectionName: clonePtr(ref.SectionName),
		Port:        clonePtr(ref.Port),
	}
	if !tr.opt.checkParents {
		return []gatewayv1.ParentReference{out}
	}
	gw, ok := tr.opt.gateways[types.NamespacedName{Namespace: ns, Name: string(ref.Name)}]
	if !ok {
		return []gatewayv1.ParentReference{out}
	}
	var selected, admitting []gatewayv1.Listener
	for _, l := range gw.Spec.Listeners {
		if !gatewayapi.Selects(ref, l) {
			continue
		}
		selected = append(selected, l)
		if gatewayapi.Admits(gw, l, KindHTTPRoute, tr.route.Namespace, tr.opt.namespaceLabels) {
			admitting = append(admitting, l)
		}
	}
	switch {
	case len(selected) == 0 || len(admitting) == len(selected):
		// No listener matches (the gateway controller reports it), or all admit the route.
		return []gatewayv1.ParentReference{out}
	case len(admitting) == 0:
		tr.rs.add(ReasonRefNotPermitted, field, "parentRef to Gateway %s/%s is not copied: none of its listeners admits routes from namespace %q", ns, ref.Name, tr.route.Namespace)
		return nil
	}
	narrowed := make([]gatewayv1.ParentReference, 0, len(admitting))
	for _, l := range admitting {
		r := *out.DeepCopy()
		r.SectionName = ptr.To(l.Name)
		narrowed = append(narrowed, r)
	}
	return narrowed
}

// rule translates one rule.
func (tr *routeTranslator) rule(i int, rule gatewayv1.HTTPRouteRule) gatewayv1.HTTPRouteRule {
	field := fmt.Sprintf("spec.rules[%d]", i)
	out := gatewayv1.HTTPRouteRule{
		Name:     clonePtr(rule.Name),
		Matches:  cloneSlice(rule.Matches),
		Timeouts: rule.Timeouts.DeepCopy(),
	}
	if rule.Retry != nil {
		tr.rs.add(ReasonNotSupported, field+".retry", "retry is not copied: it is not in the Gateway API standard channel")
	}
	if rule.SessionPersistence != nil {
		tr.rs.add(ReasonNotSupported, field+".sessionPersistence", "sessionPersistence is not copied: it is not in the Gateway API standard channel")
	}
	filters, failClosed := tr.filters(field, rule.Filters)
	if failClosed {
		// A filter that may enforce access was refused: answer 500 rather than route
		// around it.
		return out
	}
	out.Filters = filters
	for k, b := range rule.BackendRefs {
		bfield := fmt.Sprintf("%s.backendRefs[%d]", field, k)
		ref, ok := tr.backendRef(bfield, b.BackendObjectReference)
		if !ok {
			continue
		}
		bfilters, failClosed := tr.filters(bfield, b.Filters)
		if failClosed {
			continue
		}
		out.BackendRefs = append(out.BackendRefs, gatewayv1.HTTPBackendRef{
			BackendRef: gatewayv1.BackendRef{BackendObjectReference: ref, Weight: clonePtr(b.Weight)},
			Filters:    bfilters,
		})
	}
	return out
}

// filters translates the filters under field; failClosed reports a refused filter that
// may enforce access.
func (tr *routeTranslator) filters(field string, filters []gatewayv1.HTTPRouteFilter) (out []gatewayv1.HTTPRouteFilter, failClosed bool) {
	for k, f := range filters {
		ffield := fmt.Sprintf("%s.filters[%d]", field, k)
		switch f.Type {
		case gatewayv1.HTTPRouteFilterRequestHeaderModifier, gatewayv1.HTTPRouteFilterResponseHeaderModifier,
			gatewayv1.HTTPRouteFilterRequestRedirect, gatewayv1.HTTPRouteFilterURLRewrite, gatewayv1.HTTPRouteFilterCORS:
			out = append(out, gatewayv1.HTTPRouteFilter{
				Type:                   f.Type,
				RequestHeaderModifier:  f.RequestHeaderModifier.DeepCopy(),
				ResponseHeaderModifier: f.ResponseHeaderModifier.DeepCopy(),
				RequestRedirect:        f.RequestRedirect.DeepCopy(),
				URLRewrite:             f.URLRewrite.DeepCopy(),
				CORS:                   f.CORS.DeepCopy(),
			})
		case gatewayv1.HTTPRouteFilterRequestMirror:
			if f.RequestMirror == nil {
				continue
			}
			ref, ok := tr.backendRef(ffield+".requestMirror.backendRef", f.RequestMirror.BackendRef)
			if !ok {
				continue
			}
			m := f.RequestMirror.DeepCopy()
			m.BackendRef = ref
			out = append(out, gatewayv1.HTTPRouteFilter{Type: f.Type, RequestMirror: m})
		case gatewayv1.HTTPRouteFilterExtensionRef:
			name := ""
			if f.ExtensionRef != nil {
				name = fmt.Sprintf(" to %s %q", groupKind(&f.ExtensionRef.Group, &f.ExtensionRef.Kind, "", ""), f.ExtensionRef.Name)
			}
			tr.rs.add(ReasonUnsupportedKind, ffield, "extensionRef filter%s is not copied: its object is not synced, so %s is copied without filters and backends and answers 500", name, field)
			failClosed = true
		default:
			tr.rs.add(ReasonNotSupported, ffield, "%s filter is not copied: it is not in the Gateway API standard channel, so %s is copied without filters and backends and answers 500", f.Type, field)
			failClosed = true
		}
	}
	return out, failClosed
}

// backendRef translates a backend reference under field, reporting false if refused.
func (tr *routeTranslator) backendRef(field string, ref gatewayv1.BackendObjectReference) (gatewayv1.BackendObjectReference, bool) {
	if ptr.Deref(ref.Group, "") != "" || ptr.Deref(ref.Kind, "Service") != "Service" {
		tr.rs.add(ReasonUnsupportedKind, field, "backendRef to %s %q is not copied: only core Services are synced", groupKind(ref.Group, ref.Kind, "", "Service"), ref.Name)
		return gatewayv1.BackendObjectReference{}, false
	}
	ns := string(ptr.Deref(ref.Namespace, gatewayv1.Namespace(tr.route.Namespace)))
	if ns != tr.route.Namespace && !referenceGranted(tr.grants, tr.route.Namespace, ns, string(ref.Name)) {
		tr.rs.add(ReasonRefNotPermitted, field, "backendRef to Service %s/%s is not copied: no ReferenceGrant in namespace %q admits HTTPRoutes from namespace %q", ns, ref.Name, ns, tr.route.Namespace)
		return gatewayv1.BackendObjectReference{}, false
	}
	return gatewayv1.BackendObjectReference{
		Group: clonePtr(ref.Group),
		Kind:  clonePtr(ref.Kind),
		Name:  gatewayv1.ObjectName(naming.CopyName(ns, string(ref.Name))),
		Port:  clonePtr(ref.Port),
	}, true
}

// referenceGranted reports whether a ReferenceGrant in namespace to admits references
// from HTTPRoutes in namespace from to the Service name.
func referenceGranted(grants []gatewayv1beta1.ReferenceGrant, from, to, name string) bool {
	for _, g := range grants {
		if g.Namespace != to {
			continue
		}
		fromOK := slices.ContainsFunc(g.Spec.From, func(f gatewayv1beta1.ReferenceGrantFrom) bool {
			return f.Group == gatewayv1.GroupName && f.Kind == "HTTPRoute" && string(f.Namespace) == from
		})
		toOK := slices.ContainsFunc(g.Spec.To, func(t gatewayv1beta1.ReferenceGrantTo) bool {
			return t.Group == "" && t.Kind == "Service" && (t.Name == nil || *t.Name == "" || string(*t.Name) == name)
		})
		if fromOK && toOK {
			return true
		}
	}
	return false
}

// groupKind prints a group and kind with their defaults, "Kind" for the core group.
func groupKind(group *gatewayv1.Group, kind *gatewayv1.Kind, defaultGroup gatewayv1.Group, defaultKind gatewayv1.Kind) string {
	g, k := ptr.Deref(group, defaultGroup), ptr.Deref(kind, defaultKind)
	if g == "" {
		return string(k)
	}
	return string(k) + "." + string(g)
}

// MergeHTTPRoute returns existing with desired's spec, labels and origin, and whether
// that changed anything. Specs that differ only by what the Gateway API CRD defaults
// count as equal; then existing is returned unchanged.
func MergeHTTPRoute(existing, desired *gatewayv1.HTTPRoute) (*gatewayv1.HTTPRoute, bool) {
	merged := existing.DeepCopy()
	labels, annotations, changed := mergeMeta(existing, desired, nil)
	merged.Labels, merged.Annotations = labels, annotations
	a, b := existing.Spec.DeepCopy(), desired.Spec.DeepCopy()
	defaultHTTPRouteSpec(a)
	defaultHTTPRouteSpec(b)
	if !apiequality.Semantic.DeepEqual(a, b) {
		merged.Spec = *desired.Spec.DeepCopy()
		changed = true
	}
	if !changed {
		return existing.DeepCopy(), false
	}
	return merged, true
}

// TenantHTTPRouteStatus returns the status of the tenant HTTPRoute from its copy's:
// every parent status of the copy, with its parentRef mapped back to the tenant's
// parentRef it was made from (several narrowed parentRefs merge into one: Accepted if
// any is, other conditions False if any is). Parent statuses that map to no tenant
// parentRef are dropped. copy may be nil.
//
// Pass the refusals HTTPRouteCopy returned to show them, since an HTTPRoute has no
// conditions of its own: a refused parentRef gets a parent status of ControllerName
// with Accepted False; refused references (backendRefs, mirrors, extensionRefs) set
// ResolvedRefs False, and any refusal besides parentRefs sets PartiallyInvalid True,
// on every other parent status.
//
// observedGeneration is mapped as for TenantGatewayStatus.
func TenantHTTPRouteStatus(tenant *gatewayv1.HTTPRoute, copy *gatewayv1.HTTPRoute, o Origin, refused ...Refusal) gatewayv1.HTTPRouteStatus {
	parentRefusals := map[int]Refusal{}
	var backendRefusals, otherRefusals []Refusal
	for _, r := range refused {
		var j int
		if parseIndex(r.Field, "spec.parentRefs[", &j) {
			parentRefusals[j] = r
			continue
		}
		if r.Reason == ReasonRefNotPermitted || r.Reason == ReasonUnsupportedKind {
			backendRefusals = append(backendRefusals, r)
		}
		otherRefusals = append(otherRefusals, r)
	}

	type key struct {
		parent     int
		controller gatewayv1.GatewayController
	}
	var order []key
	merged := map[key][]metav1.Condition{}
	previous := map[key][]metav1.Condition{}
	for _, p := range tenant.Status.Parents {
		for j, ref := range tenant.Spec.ParentRefs {
			if sameParentRef(p.ParentRef, ref, tenant.Namespace) {
				previous[key{j, p.ControllerName}] = p.Conditions
				break
			}
		}
	}
	if copy != nil {
		for _, p := range copy.Status.Parents {
			j, ok := tenantParent(tenant, p.ParentRef, o)
			if !ok {
				continue
			}
			k := key{j, p.ControllerName}
			conds := mapConditions(p.Conditions, copy.Generation, tenant.Generation, previous[k])
			if _, seen := merged[k]; !seen {
				order = append(order, k)
				merged[k] = conds
				continue
			}
			merged[k] = mergeParentConditions(merged[k], conds)
		}
	}

	var st gatewayv1.HTTPRouteStatus
	st.Parents = []gatewayv1.RouteParentStatus{}
	for j, ref := range tenant.Spec.ParentRefs {
		if r, ok := parentRefusals[j]; ok {
			reason := gatewayv1.RouteReasonNotAllowedByListeners
			if r.Reason != ReasonRefNotPermitted {
				reason = gatewayv1.RouteReasonUnsupportedValue
			}
			st.Parents = append(st.Parents, gatewayv1.RouteParentStatus{
				ParentRef:      *ref.DeepCopy(),
				ControllerName: ControllerName,
				Conditions: refusedConditions(tenant.Generation, previous[key{j, ControllerName}], r.Message,
					condition{Type: string(gatewayv1.RouteConditionAccepted), Reason: string(reason)}),
			})
			continue
		}
		for _, k := range order {
			if k.parent != j {
				continue
			}
			conds := merged[k]
			if len(backendRefusals) > 0 {
				reason := gatewayv1.RouteReasonRefNotPermitted
				if !slices.ContainsFunc(backendRefusals, func(r Refusal) bool { return r.Reason == ReasonRefNotPermitted }) {
					reason = gatewayv1.RouteReasonInvalidKind
				}
				conds = setCondition(conds, metav1.Condition{
					Type: string(gatewayv1.RouteConditionResolvedRefs), Status: metav1.ConditionFalse,
					Reason: string(reason), Message: RefusalsMessage(backendRefusals), ObservedGeneration: tenant.Generation,
				}, previous[k])
			}
			if len(otherRefusals) > 0 {
				conds = setCondition(conds, metav1.Condition{
					Type: string(gatewayv1.RouteConditionPartiallyInvalid), Status: metav1.ConditionTrue,
					Reason: string(gatewayv1.RouteReasonUnsupportedValue), Message: RefusalsMessage(otherRefusals), ObservedGeneration: tenant.Generation,
				}, previous[k])
			}
			st.Parents = append(st.Parents, gatewayv1.RouteParentStatus{
				ParentRef:      *ref.DeepCopy(),
				ControllerName: k.controller,
				Conditions:     conds,
			})
		}
	}
	return st
}

// tenantParent finds the index of the tenant parentRef a copy's parentRef was made
// from: the one that translates to it exactly, else one without sectionName that was
// narrowed to it.
func tenantParent(tenant *gatewayv1.HTTPRoute, copyRef gatewayv1.ParentReference, o Origin) (int, bool) {
	if !gatewayapi.IsGatewayRef(copyRef) || string(ptr.Deref(copyRef.Namespace, gatewayv1.Namespace(o.MCPNamespace))) != o.MCPNamespace {
		return 0, false
	}
	narrowed := -1
	for j, ref := range tenant.Spec.ParentRefs {
		if !gatewayapi.IsGatewayRef(ref) {
			continue
		}
		ns := string(ptr.Deref(ref.Namespace, gatewayv1.Namespace(tenant.Namespace)))
		if naming.CopyName(ns, string(ref.Name)) != string(copyRef.Name) || !equalPtr(ref.Port, copyRef.Port) {
			continue
		}
		if equalPtr(ref.SectionName, copyRef.SectionName) {
			return j, true
		}
		if ref.SectionName == nil && narrowed < 0 {
			narrowed = j
		}
	}
	return narrowed, narrowed >= 0
}

// sameParentRef compares two parentRefs of a route in namespace ns, modulo defaults.
func sameParentRef(a, b gatewayv1.ParentReference, ns string) bool {
	d := func(r gatewayv1.ParentReference) gatewayv1.ParentReference {
		return gatewayv1.ParentReference{
			Group:       ptr.To(ptr.Deref(r.Group, gatewayv1.GroupName)),
			Kind:        ptr.To(ptr.Deref(r.Kind, "Gateway")),
			Namespace:   ptr.To(ptr.Deref(r.Namespace, gatewayv1.Namespace(ns))),
			Name:        r.Name,
			SectionName: r.SectionName,
			Port:        r.Port,
		}
	}
	return apiequality.Semantic.DeepEqual(d(a), d(b))
}

// mergeParentConditions merges the conditions of two narrowed parentRefs into those of
// the one tenant parentRef: Accepted is True if either is (the route attached to some
// listener), any other condition is False if either is, else Unknown if either is.
func mergeParentConditions(a, b []metav1.Condition) []metav1.Condition {
	out := slices.Clone(a)
	for _, c := range b {
		i := slices.IndexFunc(out, func(x metav1.Condition) bool { return x.Type == c.Type })
		if i < 0 {
			out = append(out, c)
			continue
		}
		if conditionRank(c, c.Type == string(gatewayv1.RouteConditionAccepted)) > conditionRank(out[i], c.Type == string(gatewayv1.RouteConditionAccepted)) {
			out[i] = c
		}
	}
	return out
}

// conditionRank orders condition statuses by which one wins a merge.
func conditionRank(c metav1.Condition, trueWins bool) int {
	switch c.Status {
	case metav1.ConditionTrue:
		if trueWins {
			return 2
		}
		return 0
	case metav1.ConditionFalse:
		if trueWins {
			return 0
		}
		return 2
	}
	return 1
}

// setCondition sets c in conds (replacing one of its type), keeping the
// lastTransitionTime of previous when the status is unchanged.
func setCondition(conds []metav1.Condition, c metav1.Condition, previous []metav1.Condition) []metav1.Condition {
	out := slices.Clone(conds)
	c.LastTransitionTime = metav1.Now()
	for _, p := range slices.Concat(conds, previous) {
		if p.Type == c.Type && p.Status == c.Status {
			c.LastTransitionTime = p.LastTransitionTime
			break
		}
	}
	if i := slices.IndexFunc(out, func(x metav1.Condition) bool { return x.Type == c.Type }); i >= 0 {
		out[i] = c
	} else {
		out = append(out, c)
	}
	return out
}

// parseIndex reads the index from a field path starting with prefix ("...[").
func parseIndex(field, prefix string, index *int) bool {
	rest, ok := strings.CutPrefix(field, prefix)
	if !ok {
		return false
	}
	_, err := fmt.Sscanf(rest, "%d]", index)
	return err == nil
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// defaultHTTPRouteSpec sets what the Gateway API CRD (standard channel) defaults and
// normalises empty collections to nil, as after a round trip through JSON.
func defaultHTTPRouteSpec(s *gatewayv1.HTTPRouteSpec) {
	for i := range s.ParentRefs {
		r := &s.ParentRefs[i]
		if r.Group == nil {
			r.Group = ptr.To(gatewayv1.Group(gatewayv1.GroupName))
		}
		if r.Kind == nil {
			r.Kind = ptr.To(gatewayv1.Kind("Gateway"))
		}
	}
	if len(s.ParentRefs) == 0 {
		s.ParentRefs = nil
	}
	if len(s.Hostnames) == 0 {
		s.Hostnames = nil
	}
	if s.Rules == nil {
		s.Rules = []gatewayv1.HTTPRouteRule{{}}
	}
	for i := range s.Rules {
		r := &s.Rules[i]
		if r.Matches == nil {
			r.Matches = []gatewayv1.HTTPRouteMatch{{}}
		}
		for k := range r.Matches {
			m := &r.Matches[k]
			if m.Path == nil {
				m.Path = &gatewayv1.HTTPPathMatch{}
			}
			if m.Path.Type == nil {
				m.Path.Type = ptr.To(gatewayv1.PathMatchPathPrefix)
			}
			if m.Path.Value == nil {
				m.Path.Value = ptr.To("/")
			}
			for h := range m.Headers {
				if m.Headers[h].Type == nil {
					m.Headers[h].Type = ptr.To(gatewayv1.HeaderMatchExact)
				}
			}
			if len(m.Headers) == 0 {
				m.Headers = nil
			}
			for q := range m.QueryParams {
				if m.QueryParams[q].Type == nil {
					m.QueryParams[q].Type = ptr.To(gatewayv1.QueryParamMatchExact)
				}
			}
			if len(m.QueryParams) == 0 {
				m.QueryParams = nil
			}
		}
		r.Filters = defaultFilters(r.Filters)
		for k := range r.BackendRefs {
			b := &r.BackendRefs[k]
			defaultBackendRef(&b.BackendObjectReference)
			if b.Weight == nil {
				b.Weight = ptr.To[int32](1)
			}
			b.Filters = defaultFilters(b.Filters)
		}
		if len(r.BackendRefs) == 0 {
			r.BackendRefs = nil
		}
	}
}

func defaultFilters(filters []gatewayv1.HTTPRouteFilter) []gatewayv1.HTTPRouteFilter {
	if len(filters) == 0 {
		return nil
	}
	for i := range filters {
		f := &filters[i]
		if m := f.RequestMirror; m != nil {
			defaultBackendRef(&m.BackendRef)
			if m.Fraction != nil && m.Fraction.Denominator == nil {
				m.Fraction.Denominator = ptr.To[int32](100)
			}
		}
		if r := f.RequestRedirect; r != nil && r.StatusCode == nil {
			r.StatusCode = ptr.To(302)
		}
		if c := f.CORS; c != nil && c.MaxAge == 0 {
			c.MaxAge = 5
		}
		for _, h := range []*gatewayv1.HTTPHeaderFilter{f.RequestHeaderModifier, f.ResponseHeaderModifier} {
			if h == nil {
				continue
			}
			if len(h.Set) == 0 {
				h.Set = nil
			}
			if len(h.Add) == 0 {
				h.Add = nil
			}
			if len(h.Remove) == 0 {
				h.Remove = nil
			}
		}
	}
	return filters
}

func defaultBackendRef(r *gatewayv1.BackendObjectReference) {
	if r.Group == nil {
		r.Group = ptr.To(gatewayv1.Group(""))
	}
	if r.Kind == nil {
		r.Kind = ptr.To(gatewayv1.Kind("Service"))
	}
}
