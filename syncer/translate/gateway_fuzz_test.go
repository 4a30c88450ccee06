/*
Copyright The vcdns Authors.
*/

package translate

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/vcdns/vcdns/syncer/gatewayapi"
	"github.com/vcdns/vcdns/syncer/naming"
)

func (r *byteReader) namespace() *gatewayv1.Namespace {
	return []*gatewayv1.Namespace{nil, ptr.To[gatewayv1.Namespace]("app"), ptr.To[gatewayv1.Namespace]("shared"), ptr.To[gatewayv1.Namespace]("other")}[r.pick(4)]
}

func (r *byteReader) backendRef() gatewayv1.BackendObjectReference {
	ref := gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName([]string{"web", "db", "api"}[r.pick(3)]), Namespace: r.namespace()}
	switch r.pick(4) {
	case 1:
		ref.Group, ref.Kind = ptr.To[gatewayv1.Group](""), ptr.To[gatewayv1.Kind]("Service")
	case 2:
		ref.Group, ref.Kind = ptr.To[gatewayv1.Group]("multicluster.x-k8s.io"), ptr.To[gatewayv1.Kind]("ServiceImport")
	case 3:
		ref.Kind = ptr.To[gatewayv1.Kind]("Bucket")
	}
	if r.flag() {
		ref.Port = ptr.To[gatewayv1.PortNumber](80)
	}
	return ref
}

func (r *byteReader) filters() []gatewayv1.HTTPRouteFilter {
	var out []gatewayv1.HTTPRouteFilter
	for range r.pick(3) {
		var f gatewayv1.HTTPRouteFilter
		switch r.pick(8) {
		case 0:
			f = gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gatewayv1.HTTPHeaderFilter{Set: []gatewayv1.HTTPHeader{{Name: "x", Value: "1"}}, Remove: []string{}}}
		case 1:
			f = gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterResponseHeaderModifier, ResponseHeaderModifier: &gatewayv1.HTTPHeaderFilter{Add: []gatewayv1.HTTPHeader{{Name: "y", Value: "2"}}}}
		case 2:
			f = gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gatewayv1.HTTPRequestRedirectFilter{Scheme: ptr.To("https")}}
			if r.flag() {
				f.RequestRedirect.StatusCode = ptr.To(301)
			}
		case 3:
			f = gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterURLRewrite, URLRewrite: &gatewayv1.HTTPURLRewriteFilter{Path: &gatewayv1.HTTPPathModifier{Type: gatewayv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptr.To("/v2")}}}
		case 4:
			f = gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterCORS, CORS: &gatewayv1.HTTPCORSFilter{AllowOrigins: []gatewayv1.CORSOrigin{"*"}, MaxAge: int32(r.pick(2) * 10)}}
		case 5:
			f = gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestMirror, RequestMirror: &gatewayv1.HTTPRequestMirrorFilter{BackendRef: r.backendRef()}}
			if r.flag() {
				f.RequestMirror.Fraction = &gatewayv1.Fraction{Numerator: 1}
			}
		case 6:
			f = gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterExtensionRef, ExtensionRef: &gatewayv1.LocalObjectReference{Group: "x.example.com", Kind: "Auth", Name: "a"}}
		case 7:
			f = gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterExternalAuth, ExternalAuth: &gatewayv1.HTTPExternalAuthFilter{ExternalAuthProtocol: gatewayv1.HTTPRouteExternalAuthHTTPProtocol, BackendRef: r.backendRef()}}
		}
		out = append(out, f)
	}
	return out
}

// fuzzRoute builds a tenant HTTPRoute in namespace "app" from fuzz bytes, with
// standard and experimental fields, references of every kind and namespace.
func fuzzRoute(data []byte) *gatewayv1.HTTPRoute {
	r := byteReader(data)
	route := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web", UID: "tenant-uid", Generation: 3}}
	s := &route.Spec
	for range r.pick(4) {
		p := gatewayv1.ParentReference{Name: gatewayv1.ObjectName([]string{"gw", "edge"}[r.pick(2)]), Namespace: r.namespace()}
		switch r.pick(4) {
		case 1:
			p.Group, p.Kind = ptr.To[gatewayv1.Group](gatewayv1.GroupName), ptr.To[gatewayv1.Kind]("Gateway")
		case 2:
			p.Group, p.Kind = ptr.To[gatewayv1.Group](""), ptr.To[gatewayv1.Kind]("Service")
		case 3:
			p.Kind = ptr.To[gatewayv1.Kind]("ListenerSet")
		}
		if r.flag() {
			p.SectionName = ptr.To(gatewayv1.SectionName([]string{"http", "https"}[r.pick(2)]))
		}
		if r.flag() {
			p.Port = ptr.To[gatewayv1.PortNumber](80)
		}
		s.ParentRefs = append(s.ParentRefs, p)
	}
	if r.flag() {
		s.Hostnames = []gatewayv1.Hostname{"www.example.com"}
	}
	if r.flag() {
		s.UseDefaultGateways = gatewayv1.GatewayDefaultScopeAll
	}
	for i := range r.pick(4) {
		var rule gatewayv1.HTTPRouteRule
		if r.flag() {
			rule.Name = ptr.To(gatewayv1.SectionName(fmt.Sprintf("r%d", i)))
		}
		for range r.pick(3) {
			var m gatewayv1.HTTPRouteMatch
			switch r.pick(4) {
			case 1:
				m.Path = &gatewayv1.HTTPPathMatch{}
			case 2:
				m.Path = &gatewayv1.HTTPPathMatch{Type: ptr.To(gatewayv1.PathMatchExact), Value: ptr.To("/x")}
			case 3:
				m.Path = &gatewayv1.HTTPPathMatch{Value: ptr.To("/y")}
			}
			if r.flag() {
				m.Headers = []gatewayv1.HTTPHeaderMatch{{Name: "h", Value: "v"}}
			}
			if r.flag() {
				m.QueryParams = []gatewayv1.HTTPQueryParamMatch{{Type: ptr.To(gatewayv1.QueryParamMatchExact), Name: "q", Value: "v"}}
			}
			if r.flag() {
				m.Method = ptr.To(gatewayv1.HTTPMethodPost)
			}
			rule.Matches = append(rule.Matches, m)
		}
		rule.Filters = r.filters()
		for range r.pick(4) {
			b := gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{BackendObjectReference: r.backendRef()}}
			b.Weight = []*int32{nil, ptr.To[int32](0), ptr.To[int32](5)}[r.pick(3)]
			b.Filters = r.filters()
			rule.BackendRefs = append(rule.BackendRefs, b)
		}
		if r.flag() {
			rule.Timeouts = &gatewayv1.HTTPRouteTimeouts{Request: ptr.To[gatewayv1.Duration]("5s")}
		}
		if r.flag() {
			rule.Retry = &gatewayv1.HTTPRouteRetry{Attempts: ptr.To(2)}
		}
		if r.flag() {
			rule.SessionPersistence = &gatewayv1.SessionPersistence{SessionName: ptr.To("s")}
		}
		s.Rules = append(s.Rules, rule)
	}
	return route
}

// FuzzHTTPRouteCopy checks for routes of every shape that no reference of the copy
// leaves the MCP namespace (every parentRef is a Gateway copy, every backend a Service
// copy the tenant may reach), that no refused filter or experimental field remains,
// that the standard CRD prunes nothing of the copy, and that the copy as the server
// stores it (pruned, defaulted) merges without change. It also checks the CRD
// defaults this package assumes against the CRD, for the tenant routes themselves.
func FuzzHTTPRouteCopy(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{2, 1, 1, 1, 0, 1, 1, 1, 2, 2, 5, 1, 1, 1, 2, 3, 1, 1, 2, 6, 1})
	f.Add([]byte{3, 0, 2, 1, 1, 3, 0, 0, 1, 3, 3, 1, 2, 3, 4, 7, 1, 2, 2, 1, 0, 3, 1, 1})
	grants := []gatewayv1beta1.ReferenceGrant{grant("shared", "app", toServices)}
	o := testOrigin(KindHTTPRoute, "app", "web")
	f.Fuzz(func(t *testing.T, data []byte) {
		tenant := fuzzRoute(data)
		before := tenant.DeepCopy()
		c, _ := HTTPRouteCopy(tenant, o, grants)
		if !cmp.Equal(before, tenant) {
			t.Fatalf("HTTPRouteCopy changed its argument")
		}
		if !OwnedBy(c, o) || c.Namespace != o.MCPNamespace || c.Name != naming.CopyName("app", "web") {
			t.Fatalf("copy %s/%s does not record its origin", c.Namespace, c.Name)
		}

		allowedParents := map[gatewayv1.ObjectName]bool{}
		for _, p := range tenant.Spec.ParentRefs {
			ns := string(ptr.Deref(p.Namespace, "app"))
			allowedParents[gatewayv1.ObjectName(naming.CopyName(ns, string(p.Name)))] = true
		}
		for _, p := range c.Spec.ParentRefs {
			if !gatewayapi.IsGatewayRef(p) || p.Namespace != nil || !allowedParents[p.Name] {
				t.Fatalf("parentRef %+v leaves the MCP namespace", p)
			}
		}
		reachable := map[gatewayv1.ObjectName]bool{}
		for _, ns := range []string{"app", "shared"} {
			for _, n := range []string{"web", "db", "api"} {
				reachable[gatewayv1.ObjectName(naming.CopyName(ns, n))] = true
			}
		}
		checkRef := func(ref gatewayv1.BackendObjectReference) {
			if ptr.Deref(ref.Group, "") != "" || ptr.Deref(ref.Kind, "Service") != "Service" || ref.Namespace != nil || !reachable[ref.Name] {
				t.Fatalf("backendRef %+v leaves the MCP namespace", ref)
			}
		}
		checkFilters := func(fs []gatewayv1.HTTPRouteFilter) {
			for _, f := range fs {
				switch f.Type {
				case gatewayv1.HTTPRouteFilterExtensionRef, gatewayv1.HTTPRouteFilterExternalAuth:
					t.Fatalf("filter %s copied", f.Type)
				case gatewayv1.HTTPRouteFilterRequestMirror:
					checkRef(f.RequestMirror.BackendRef)
				}
			}
		}
		if c.Spec.UseDefaultGateways != "" {
			t.Fatalf("useDefaultGateways copied")
		}
		if len(c.Spec.Rules) != len(tenant.Spec.Rules) {
			t.Fatalf("%d rules copied of %d: a dropped rule would let its requests fall through to others", len(c.Spec.Rules), len(tenant.Spec.Rules))
		}
		for i, rule := range c.Spec.Rules {
			if rule.Retry != nil || rule.SessionPersistence != nil {
				t.Fatalf("experimental fields of rule %d copied", i)
			}
			if !cmp.Equal(rule.Matches, tenant.Spec.Rules[i].Matches) {
				t.Fatalf("matches of rule %d changed", i)
			}
			checkFilters(rule.Filters)
			for _, b := range rule.BackendRefs {
				checkRef(b.BackendObjectReference)
				checkFilters(b.Filters)
			}
			tenantFilters := tenant.Spec.Rules[i].Filters
			if slices.ContainsFunc(tenantFilters, func(f gatewayv1.HTTPRouteFilter) bool {
				return f.Type == gatewayv1.HTTPRouteFilterExtensionRef || f.Type == gatewayv1.HTTPRouteFilterExternalAuth
			}) && (len(rule.Filters) > 0 || len(rule.BackendRefs) > 0) {
				t.Fatalf("rule %d with a refused access filter still routes somewhere", i)
			}
		}

		assertStandardOnly(t, "httproutes", c)
		stored := crdDefault(t, "httproutes", c)
		if _, changed := MergeHTTPRoute(stored, c); changed {
			t.Fatalf("the stored copy merges with a change:\nstored %s\ncopy   %s", mustJSON(stored.Spec), mustJSON(c.Spec))
		}
		if m, _ := MergeHTTPRoute(stored, c); !cmp.Equal(m, stored) {
			t.Fatalf("a merge without change returned something else")
		}

		// The defaults assumed here are the CRD's, for any standard-channel route.
		standard := crdPrune(t, "httproutes", tenant)
		a, b := standard.Spec.DeepCopy(), crdDefault(t, "httproutes", standard).Spec.DeepCopy()
		defaultHTTPRouteSpec(a)
		defaultHTTPRouteSpec(b)
		if diff := cmp.Diff(b, a); diff != "" {
			t.Fatalf("defaultHTTPRouteSpec differs from the CRD's defaults (-crd +ours):\n%s", diff)
		}
	})
}

// fuzzGateway builds a tenant Gateway in namespace "infra" from fuzz bytes.
func fuzzGateway(data []byte) *gatewayv1.Gateway {
	r := byteReader(data)
	g := &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "gw", UID: "tenant-uid", Generation: 2}}
	g.Spec.GatewayClassName = "shared"
	for i := range 1 + r.pick(4) {
		l := gatewayv1.Listener{Name: gatewayv1.SectionName(fmt.Sprintf("l%d", i)), Port: gatewayv1.PortNumber(80 + i)}
		l.Protocol = []gatewayv1.ProtocolType{gatewayv1.HTTPProtocolType, gatewayv1.HTTPSProtocolType, gatewayv1.TLSProtocolType, gatewayv1.TCPProtocolType}[r.pick(4)]
		if r.flag() {
			l.Hostname = ptr.To[gatewayv1.Hostname]("*.example.com")
		}
		switch r.pick(4) {
		case 1:
			l.TLS = &gatewayv1.ListenerTLSConfig{CertificateRefs: []gatewayv1.SecretObjectReference{{Name: "cert"}}}
		case 2:
			l.TLS = &gatewayv1.ListenerTLSConfig{Mode: ptr.To(gatewayv1.TLSModePassthrough)}
		case 3:
			l.TLS = &gatewayv1.ListenerTLSConfig{Options: map[gatewayv1.AnnotationKey]gatewayv1.AnnotationValue{"a.example.com/b": "c"}}
		}
		switch r.pick(5) {
		case 1:
			l.AllowedRoutes = &gatewayv1.AllowedRoutes{}
		case 2:
			l.AllowedRoutes = &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: ptr.To(gatewayv1.NamespacesFromAll)}}
		case 3:
			l.AllowedRoutes = &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: ptr.To(gatewayv1.NamespacesFromSelector), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}}}
		case 4:
			l.AllowedRoutes = &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: ptr.To(gatewayv1.NamespacesFromNone)}, Kinds: []gatewayv1.RouteGroupKind{{Kind: "HTTPRoute"}}}
		}
		g.Spec.Listeners = append(g.Spec.Listeners, l)
	}
	if r.flag() {
		g.Spec.Addresses = []gatewayv1.GatewaySpecAddress{{Value: "198.51.100.7"}}
	}
	if r.flag() {
		g.Spec.Infrastructure = &gatewayv1.GatewayInfrastructure{Labels: map[gatewayv1.LabelKey]gatewayv1.LabelValue{"a": "b"}}
	}
	if r.flag() {
		g.Spec.AllowedListeners = &gatewayv1.AllowedListeners{Namespaces: &gatewayv1.ListenerNamespaces{From: ptr.To(gatewayv1.NamespacesFromSame)}}
	}
	switch r.pick(3) {
	case 1:
		g.Spec.TLS = &gatewayv1.GatewayTLSConfig{Backend: &gatewayv1.GatewayBackendTLS{ClientCertificateRef: &gatewayv1.SecretObjectReference{Name: "c"}}}
	case 2:
		g.Spec.TLS = &gatewayv1.GatewayTLSConfig{Frontend: &gatewayv1.FrontendTLSConfig{Default: gatewayv1.TLSConfig{Validation: &gatewayv1.FrontendTLSValidation{CACertificateRefs: []gatewayv1.ObjectReference{{Kind: "ConfigMap", Name: "ca"}}}}}}
	}
	if r.flag() {
		g.Spec.DefaultScope = gatewayv1.GatewayDefaultScopeAll
	}
	return g
}

// FuzzGatewayCopy checks for Gateways of every shape that the copy holds no Secret
// reference, address, infrastructure or TLS configuration, admits routes of its own
// namespace only, keeps no listener terminating TLS while client validation is refused,
// that the standard CRD prunes nothing of it, and that the stored copy merges without
// change; and the CRD defaults this package assumes, for the tenant Gateways.
func FuzzGatewayCopy(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 1, 1, 1, 2, 2, 0, 2, 3, 3, 1, 4, 1, 1, 1, 2})
	o := testOrigin(KindGateway, "infra", "gw")
	f.Fuzz(func(t *testing.T, data []byte) {
		tenant := fuzzGateway(data)
		before := tenant.DeepCopy()
		c, refusals := GatewayCopy(tenant, o)
		if !cmp.Equal(before, tenant) {
			t.Fatalf("GatewayCopy changed its argument")
		}
		if c == nil {
			if len(refusals) == 0 {
				t.Fatalf("no copy and no refusal")
			}
			return
		}
		if !OwnedBy(c, o) {
			t.Fatalf("copy does not record its origin")
		}
		s := c.Spec
		if s.Addresses != nil || s.Infrastructure != nil || s.TLS != nil || s.AllowedListeners != nil || s.DefaultScope != "" {
			t.Fatalf("refused gateway fields copied: %s", mustJSON(s))
		}
		for _, l := range s.Listeners {
			if l.TLS != nil && len(l.TLS.CertificateRefs) > 0 {
				t.Fatalf("listener %s keeps certificateRefs", l.Name)
			}
			if from := ptr.Deref(l.AllowedRoutes.Namespaces.From, ""); (from != gatewayv1.NamespacesFromSame && from != gatewayv1.NamespacesFromNone) || l.AllowedRoutes.Namespaces.Selector != nil {
				t.Fatalf("listener %s admits routes from %q", l.Name, from)
			}
			if tenant.Spec.TLS != nil && tenant.Spec.TLS.Frontend != nil && terminatesTLS(l) {
				t.Fatalf("listener %s terminates TLS without the client validation", l.Name)
			}
		}
		assertStandardOnly(t, "gateways", c)
		stored := crdDefault(t, "gateways", c)
		if _, changed := MergeGateway(stored, c); changed {
			t.Fatalf("the stored copy merges with a change:\nstored %s\ncopy   %s", mustJSON(stored.Spec), mustJSON(c.Spec))
		}
		_ = TenantGatewayStatus(tenant, stored)

		standard := crdPrune(t, "gateways", tenant)
		a, b := standard.Spec.DeepCopy(), crdDefault(t, "gateways", standard).Spec.DeepCopy()
		defaultGatewaySpec(a)
		defaultGatewaySpec(b)
		if diff := cmp.Diff(b, a); diff != "" {
			t.Fatalf("defaultGatewaySpec differs from the CRD's defaults (-crd +ours):\n%s", diff)
		}
	})
}
