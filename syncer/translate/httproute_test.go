/*
Copyright The vcdns Authors.
*/

package translate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/vcdns/vcdns/syncer/naming"
)

func backend(ns, name string, port int32) gatewayv1.HTTPBackendRef {
	ref := gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{
		Name: gatewayv1.ObjectName(name), Port: ptr.To(port),
	}}}
	if ns != "" {
		ref.Namespace = ptr.To(gatewayv1.Namespace(ns))
	}
	return ref
}

// copiedBackend is the copy of backend(ns, name, port) of a route in namespace "app".
func copiedBackend(ns, name string, port int32) gatewayv1.HTTPBackendRef {
	if ns == "" {
		ns = "app"
	}
	return backend("", naming.CopyName(ns, name), port)
}

func tenantRoute(mutate func(r *gatewayv1.HTTPRoute)) *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{
		TypeMeta: metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "app", Name: "web", UID: "tenant-uid", Generation: 5,
			Labels: map[string]string{"app": "web"},
		},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{
				{Name: "gw", Namespace: ptr.To[gatewayv1.Namespace]("infra"), SectionName: ptr.To[gatewayv1.SectionName]("http")},
			}},
			Hostnames: []gatewayv1.Hostname{"www.example.com"},
			Rules: []gatewayv1.HTTPRouteRule{{
				Matches:     []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: ptr.To(gatewayv1.PathMatchPathPrefix), Value: ptr.To("/")}}},
				BackendRefs: []gatewayv1.HTTPBackendRef{backend("", "web", 80)},
			}},
		},
	}
	if mutate != nil {
		mutate(r)
	}
	return r
}

func copiedParent(ns, name string) gatewayv1.ParentReference {
	return gatewayv1.ParentReference{Name: gatewayv1.ObjectName(naming.CopyName(ns, name))}
}

// wantRoute is the copy of tenantRoute(nil), changed by mutate.
func wantRoute(mutate func(r *gatewayv1.HTTPRoute)) *gatewayv1.HTTPRoute {
	parent := copiedParent("infra", "gw")
	parent.SectionName = ptr.To[gatewayv1.SectionName]("http")
	r := &gatewayv1.HTTPRoute{
		TypeMeta: metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: testMCPNamespace, Name: naming.CopyName("app", "web"),
			Labels:      map[string]string{"app": "web"},
			Annotations: map[string]string{naming.AnnotationTenantLabels: "app"},
		},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{parent}},
			Hostnames:       []gatewayv1.Hostname{"www.example.com"},
			Rules: []gatewayv1.HTTPRouteRule{{
				Matches:     []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: ptr.To(gatewayv1.PathMatchPathPrefix), Value: ptr.To("/")}}},
				BackendRefs: []gatewayv1.HTTPBackendRef{copiedBackend("", "web", 80)},
			}},
		},
	}
	SetOrigin(r, testOrigin(KindHTTPRoute, "app", "web"))
	if mutate != nil {
		mutate(r)
	}
	return r
}

func grant(ns, fromNS string, to ...gatewayv1beta1.ReferenceGrantTo) gatewayv1beta1.ReferenceGrant {
	return gatewayv1beta1.ReferenceGrant{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "allow"},
		Spec: gatewayv1beta1.ReferenceGrantSpec{
			From: []gatewayv1beta1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: gatewayv1.Namespace(fromNS)}},
			To:   to,
		},
	}
}

var toServices = gatewayv1beta1.ReferenceGrantTo{Group: "", Kind: "Service"}

func TestHTTPRouteCopy(t *testing.T) {
	t.Parallel()
	neutralized := func(r *gatewayv1.HTTPRoute) { r.Spec.Rules[0].BackendRefs = nil; r.Spec.Rules[0].Filters = nil }
	tests := []struct {
		name         string
		tenant       func(r *gatewayv1.HTTPRoute)
		grants       []gatewayv1beta1.ReferenceGrant
		want         func(r *gatewayv1.HTTPRoute)
		wantRefusals []string
	}{
		{name: "parentRef and backendRef rewritten to the copies"},
		{
			name: "parentRef in the route's namespace, with port",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.ParentRefs = []gatewayv1.ParentReference{{Name: "local", Port: ptr.To[gatewayv1.PortNumber](8080)}}
			},
			want: func(r *gatewayv1.HTTPRoute) {
				p := copiedParent("app", "local")
				p.Port = ptr.To[gatewayv1.PortNumber](8080)
				r.Spec.ParentRefs = []gatewayv1.ParentReference{p}
			},
		},
		{
			name: "parentRef with explicit group and kind",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.ParentRefs[0].Group = ptr.To[gatewayv1.Group](gatewayv1.GroupName)
				r.Spec.ParentRefs[0].Kind = ptr.To[gatewayv1.Kind]("Gateway")
			},
			want: func(r *gatewayv1.HTTPRoute) {
				r.Spec.ParentRefs[0].Group = ptr.To[gatewayv1.Group](gatewayv1.GroupName)
				r.Spec.ParentRefs[0].Kind = ptr.To[gatewayv1.Kind]("Gateway")
			},
		},
		{
			name: "parentRef to a Service (mesh) refused",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.ParentRefs = append(r.Spec.ParentRefs, gatewayv1.ParentReference{Group: ptr.To[gatewayv1.Group](""), Kind: ptr.To[gatewayv1.Kind]("Service"), Name: "web"})
			},
			wantRefusals: []string{"UnsupportedKind spec.parentRefs[1]"},
		},
		{
			name: "parentRef to a ListenerSet refused",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.ParentRefs = []gatewayv1.ParentReference{{Kind: ptr.To[gatewayv1.Kind]("ListenerSet"), Name: "ls"}}
			},
			want:         func(r *gatewayv1.HTTPRoute) { r.Spec.ParentRefs = nil },
			wantRefusals: []string{"UnsupportedKind spec.parentRefs[0]"},
		},
		{
			name: "hostnames, rule name, matches and timeouts kept",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Hostnames = []gatewayv1.Hostname{"a.example.com", "*.b.example.com"}
				r.Spec.Rules[0].Name = ptr.To[gatewayv1.SectionName]("main")
				r.Spec.Rules[0].Matches = []gatewayv1.HTTPRouteMatch{{
					Path:        &gatewayv1.HTTPPathMatch{Type: ptr.To(gatewayv1.PathMatchExact), Value: ptr.To("/x")},
					Headers:     []gatewayv1.HTTPHeaderMatch{{Name: "x-env", Value: "prod"}},
					QueryParams: []gatewayv1.HTTPQueryParamMatch{{Name: "q", Value: "1"}},
					Method:      ptr.To(gatewayv1.HTTPMethodGet),
				}}
				r.Spec.Rules[0].Timeouts = &gatewayv1.HTTPRouteTimeouts{Request: ptr.To[gatewayv1.Duration]("10s")}
			},
			want: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Hostnames = []gatewayv1.Hostname{"a.example.com", "*.b.example.com"}
				r.Spec.Rules[0].Name = ptr.To[gatewayv1.SectionName]("main")
				r.Spec.Rules[0].Matches = []gatewayv1.HTTPRouteMatch{{
					Path:        &gatewayv1.HTTPPathMatch{Type: ptr.To(gatewayv1.PathMatchExact), Value: ptr.To("/x")},
					Headers:     []gatewayv1.HTTPHeaderMatch{{Name: "x-env", Value: "prod"}},
					QueryParams: []gatewayv1.HTTPQueryParamMatch{{Name: "q", Value: "1"}},
					Method:      ptr.To(gatewayv1.HTTPMethodGet),
				}}
				r.Spec.Rules[0].Timeouts = &gatewayv1.HTTPRouteTimeouts{Request: ptr.To[gatewayv1.Duration]("10s")}
			},
		},
		{
			name: "weights and explicit core Service kind kept",
			tenant: func(r *gatewayv1.HTTPRoute) {
				b := backend("", "canary", 80)
				b.Weight = ptr.To[int32](10)
				b.Group, b.Kind = ptr.To[gatewayv1.Group](""), ptr.To[gatewayv1.Kind]("Service")
				r.Spec.Rules[0].BackendRefs = append(r.Spec.Rules[0].BackendRefs, b)
			},
			want: func(r *gatewayv1.HTTPRoute) {
				b := copiedBackend("", "canary", 80)
				b.Weight = ptr.To[int32](10)
				b.Group, b.Kind = ptr.To[gatewayv1.Group](""), ptr.To[gatewayv1.Kind]("Service")
				r.Spec.Rules[0].BackendRefs = append(r.Spec.Rules[0].BackendRefs, b)
			},
		},
		{
			name: "backendRef to another namespace with a ReferenceGrant",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].BackendRefs = []gatewayv1.HTTPBackendRef{backend("shared", "db", 5432)}
			},
			grants: []gatewayv1beta1.ReferenceGrant{grant("shared", "app", toServices)},
			want: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].BackendRefs = []gatewayv1.HTTPBackendRef{copiedBackend("shared", "db", 5432)}
			},
		},
		{
			name: "backendRef with a ReferenceGrant for this Service by name",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].BackendRefs = []gatewayv1.HTTPBackendRef{backend("shared", "db", 5432)}
			},
			grants: []gatewayv1beta1.ReferenceGrant{grant("shared", "app", gatewayv1beta1.ReferenceGrantTo{Kind: "Service", Name: ptr.To[gatewayv1.ObjectName]("db")})},
			want: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].BackendRefs = []gatewayv1.HTTPBackendRef{copiedBackend("shared", "db", 5432)}
			},
		},
		{
			name: "backendRef to another namespace without a ReferenceGrant refused",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].BackendRefs = append(r.Spec.Rules[0].BackendRefs, backend("shared", "db", 5432))
			},
			wantRefusals: []string{"RefNotPermitted spec.rules[0].backendRefs[1]"},
		},
		{
			name: "ReferenceGrant in the wrong namespace",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].BackendRefs = append(r.Spec.Rules[0].BackendRefs, backend("shared", "db", 5432))
			},
			grants:       []gatewayv1beta1.ReferenceGrant{grant("app", "app", toServices)},
			wantRefusals: []string{"RefNotPermitted spec.rules[0].backendRefs[1]"},
		},
		{
			name: "ReferenceGrant for routes of another namespace",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].BackendRefs = append(r.Spec.Rules[0].BackendRefs, backend("shared", "db", 5432))
			},
			grants:       []gatewayv1beta1.ReferenceGrant{grant("shared", "other", toServices)},
			wantRefusals: []string{"RefNotPermitted spec.rules[0].backendRefs[1]"},
		},
		{
			name: "ReferenceGrant for another Service",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].BackendRefs = append(r.Spec.Rules[0].BackendRefs, backend("shared", "db", 5432))
			},
			grants:       []gatewayv1beta1.ReferenceGrant{grant("shared", "app", gatewayv1beta1.ReferenceGrantTo{Kind: "Service", Name: ptr.To[gatewayv1.ObjectName]("cache")})},
			wantRefusals: []string{"RefNotPermitted spec.rules[0].backendRefs[1]"},
		},
		{
			name: "ReferenceGrant for GRPCRoutes only",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].BackendRefs = append(r.Spec.Rules[0].BackendRefs, backend("shared", "db", 5432))
			},
			grants: []gatewayv1beta1.ReferenceGrant{{
				ObjectMeta: metav1.ObjectMeta{Namespace: "shared"},
				Spec: gatewayv1beta1.ReferenceGrantSpec{
					From: []gatewayv1beta1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "GRPCRoute", Namespace: "app"}},
					To:   []gatewayv1beta1.ReferenceGrantTo{toServices},
				},
			}},
			wantRefusals: []string{"RefNotPermitted spec.rules[0].backendRefs[1]"},
		},
		{
			name: "backendRef to another kind refused; a rule left without backends answers 500",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].BackendRefs[0].Group = ptr.To[gatewayv1.Group]("multicluster.x-k8s.io")
				r.Spec.Rules[0].BackendRefs[0].Kind = ptr.To[gatewayv1.Kind]("ServiceImport")
			},
			want:         func(r *gatewayv1.HTTPRoute) { r.Spec.Rules[0].BackendRefs = nil },
			wantRefusals: []string{"UnsupportedKind spec.rules[0].backendRefs[0]"},
		},
		{
			name: "header, redirect, rewrite and CORS filters kept",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].Filters = standardFilters()
				r.Spec.Rules[0].BackendRefs[0].Filters = standardFilters()[:1]
			},
			want: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].Filters = standardFilters()
				r.Spec.Rules[0].BackendRefs[0].Filters = standardFilters()[:1]
			},
		},
		{
			name: "mirror rewritten to the copy",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].Filters = []gatewayv1.HTTPRouteFilter{mirror(backend("", "shadow", 80).BackendObjectReference)}
			},
			want: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].Filters = []gatewayv1.HTTPRouteFilter{mirror(copiedBackend("", "shadow", 80).BackendObjectReference)}
			},
		},
		{
			name: "mirror to a refused backend left out",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].Filters = []gatewayv1.HTTPRouteFilter{mirror(backend("shared", "shadow", 80).BackendObjectReference)}
			},
			wantRefusals: []string{"RefNotPermitted spec.rules[0].filters[0].requestMirror.backendRef"},
		},
		{
			name: "extensionRef filter: the rule answers 500 rather than bypassing it",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].Filters = []gatewayv1.HTTPRouteFilter{
					standardFilters()[0],
					{Type: gatewayv1.HTTPRouteFilterExtensionRef, ExtensionRef: &gatewayv1.LocalObjectReference{Group: "auth.example.com", Kind: "Policy", Name: "login"}},
				}
			},
			want:         neutralized,
			wantRefusals: []string{"UnsupportedKind spec.rules[0].filters[1]"},
		},
		{
			name: "externalAuth filter: the rule answers 500 rather than bypassing it",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].Filters = []gatewayv1.HTTPRouteFilter{{
					Type:         gatewayv1.HTTPRouteFilterExternalAuth,
					ExternalAuth: &gatewayv1.HTTPExternalAuthFilter{ExternalAuthProtocol: gatewayv1.HTTPRouteExternalAuthHTTPProtocol, BackendRef: backend("", "auth", 80).BackendObjectReference},
				}}
			},
			want:         neutralized,
			wantRefusals: []string{"NotSupported spec.rules[0].filters[0]"},
		},
		{
			name: "extensionRef filter on a backendRef: that backendRef left out",
			tenant: func(r *gatewayv1.HTTPRoute) {
				b := backend("", "admin", 80)
				b.Filters = []gatewayv1.HTTPRouteFilter{{Type: gatewayv1.HTTPRouteFilterExtensionRef, ExtensionRef: &gatewayv1.LocalObjectReference{Kind: "Policy", Name: "x"}}}
				r.Spec.Rules[0].BackendRefs = append(r.Spec.Rules[0].BackendRefs, b)
			},
			wantRefusals: []string{"UnsupportedKind spec.rules[0].backendRefs[1].filters[0]"},
		},
		{
			name: "experimental fields refused",
			tenant: func(r *gatewayv1.HTTPRoute) {
				r.Spec.UseDefaultGateways = gatewayv1.GatewayDefaultScopeAll
				r.Spec.Rules[0].Retry = &gatewayv1.HTTPRouteRetry{Attempts: ptr.To(3)}
				r.Spec.Rules[0].SessionPersistence = &gatewayv1.SessionPersistence{SessionName: ptr.To("s")}
			},
			wantRefusals: []string{"NotAllowed spec.useDefaultGateways", "NotSupported spec.rules[0].retry", "NotSupported spec.rules[0].sessionPersistence"},
		},
		{
			name:   "no rules stays no rules",
			tenant: func(r *gatewayv1.HTTPRoute) { r.Spec.Rules = nil },
			want:   func(r *gatewayv1.HTTPRoute) { r.Spec.Rules = nil },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tenant := tenantRoute(tt.tenant)
			before := tenant.DeepCopy()
			got, refusals := HTTPRouteCopy(tenant, testOrigin(KindHTTPRoute, "app", "web"), tt.grants)
			if diff := cmp.Diff(tt.wantRefusals, refusalFields(refusals)); diff != "" {
				t.Errorf("refusals (-want +got):\n%s", diff)
			}
			for _, r := range refusals {
				if r.Message == "" {
					t.Errorf("refusal %s without message", r.Field)
				}
			}
			if diff := cmp.Diff(wantRoute(tt.want), got); diff != "" {
				t.Errorf("HTTPRouteCopy (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tenant); diff != "" {
				t.Errorf("HTTPRouteCopy changed its argument:\n%s", diff)
			}
			assertStandardOnly(t, "httproutes", got)
			stored := crdDefault(t, "httproutes", got)
			if _, changed := MergeHTTPRoute(stored, got); changed {
				t.Errorf("MergeHTTPRoute reports a change for the stored copy")
			}
		})
	}
}

func standardFilters() []gatewayv1.HTTPRouteFilter {
	return []gatewayv1.HTTPRouteFilter{
		{Type: gatewayv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gatewayv1.HTTPHeaderFilter{Set: []gatewayv1.HTTPHeader{{Name: "x-a", Value: "1"}}}},
		{Type: gatewayv1.HTTPRouteFilterResponseHeaderModifier, ResponseHeaderModifier: &gatewayv1.HTTPHeaderFilter{Remove: []string{"server"}}},
		{Type: gatewayv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gatewayv1.HTTPRequestRedirectFilter{Scheme: ptr.To("https"), StatusCode: ptr.To(301)}},
		{Type: gatewayv1.HTTPRouteFilterURLRewrite, URLRewrite: &gatewayv1.HTTPURLRewriteFilter{Hostname: ptr.To[gatewayv1.PreciseHostname]("internal.example.com")}},
		{Type: gatewayv1.HTTPRouteFilterCORS, CORS: &gatewayv1.HTTPCORSFilter{AllowOrigins: []gatewayv1.CORSOrigin{"https://example.com"}}},
	}
}

func mirror(ref gatewayv1.BackendObjectReference) gatewayv1.HTTPRouteFilter {
	return gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestMirror, RequestMirror: &gatewayv1.HTTPRequestMirrorFilter{
		BackendRef: ref, Fraction: &gatewayv1.Fraction{Numerator: 5},
	}}
}

func TestHTTPRouteCopyWithTenantGateways(t *testing.T) {
	t.Parallel()
	listener := func(name string, port gatewayv1.PortNumber, from gatewayv1.FromNamespaces, selector map[string]string) gatewayv1.Listener {
		l := gatewayv1.Listener{Name: gatewayv1.SectionName(name), Port: port, Protocol: gatewayv1.HTTPProtocolType}
		if from != "" {
			l.AllowedRoutes = &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: ptr.To(from)}}
			if selector != nil {
				l.AllowedRoutes.Namespaces.Selector = &metav1.LabelSelector{MatchLabels: selector}
			}
		}
		return l
	}
	gateway := func(ns string, listeners ...gatewayv1.Listener) gatewayv1.Gateway {
		return gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"}, Spec: gatewayv1.GatewaySpec{Listeners: listeners}}
	}
	parent := func(section string) gatewayv1.ParentReference {
		p := copiedParent("infra", "gw")
		if section != "" {
			p.SectionName = ptr.To(gatewayv1.SectionName(section))
		}
		return p
	}
	labels := map[string]map[string]string{"app": {"shared-gateway": "true"}}
	tests := []struct {
		name         string
		parentRef    gatewayv1.ParentReference
		gateways     []gatewayv1.Gateway
		want         []gatewayv1.ParentReference
		wantRefusals []string
	}{
		{
			name:      "all namespaces admitted",
			parentRef: gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw"},
			gateways:  []gatewayv1.Gateway{gateway("infra", listener("a", 80, gatewayv1.NamespacesFromAll, nil))},
			want:      []gatewayv1.ParentReference{parent("")},
		},
		{
			name:         "same namespace only (the default)",
			parentRef:    gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw"},
			gateways:     []gatewayv1.Gateway{gateway("infra", listener("a", 80, "", nil))},
			wantRefusals: []string{"RefNotPermitted spec.parentRefs[0]"},
		},
		{
			name:      "same namespace, route in it",
			parentRef: gatewayv1.ParentReference{Name: "gw"},
			gateways:  []gatewayv1.Gateway{gateway("app", listener("a", 80, gatewayv1.NamespacesFromSame, nil))},
			want:      []gatewayv1.ParentReference{copiedParent("app", "gw")},
		},
		{
			name:      "selector matching the route's namespace",
			parentRef: gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw"},
			gateways:  []gatewayv1.Gateway{gateway("infra", listener("a", 80, gatewayv1.NamespacesFromSelector, map[string]string{"shared-gateway": "true"}))},
			want:      []gatewayv1.ParentReference{parent("")},
		},
		{
			name:         "selector not matching",
			parentRef:    gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw"},
			gateways:     []gatewayv1.Gateway{gateway("infra", listener("a", 80, gatewayv1.NamespacesFromSelector, map[string]string{"team": "x"}))},
			wantRefusals: []string{"RefNotPermitted spec.parentRefs[0]"},
		},
		{
			name:         "no namespace",
			parentRef:    gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw"},
			gateways:     []gatewayv1.Gateway{gateway("infra", listener("a", 80, gatewayv1.NamespacesFromNone, nil))},
			wantRefusals: []string{"RefNotPermitted spec.parentRefs[0]"},
		},
		{
			name:      "narrowed to the admitting listeners",
			parentRef: gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw"},
			gateways: []gatewayv1.Gateway{gateway("infra",
				listener("public", 80, gatewayv1.NamespacesFromAll, nil),
				listener("internal", 8080, gatewayv1.NamespacesFromSame, nil),
				listener("public-alt", 8081, gatewayv1.NamespacesFromAll, nil),
			)},
			want: []gatewayv1.ParentReference{parent("public"), parent("public-alt")},
		},
		{
			// A listener whose protocol does not carry HTTPRoutes never admits one,
			// whatever its namespaces: the copy is not narrowed to it.
			name:      "a TLS listener admitting all namespaces does not admit HTTPRoutes",
			parentRef: gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw"},
			gateways: []gatewayv1.Gateway{gateway("infra",
				listener("internal", 80, gatewayv1.NamespacesFromSame, nil),
				func() gatewayv1.Listener {
					l := listener("tls", 443, gatewayv1.NamespacesFromAll, nil)
					l.Protocol = gatewayv1.TLSProtocolType
					return l
				}(),
			)},
			wantRefusals: []string{"RefNotPermitted spec.parentRefs[0]"},
		},
		{
			name:      "sectionName selects an admitting listener",
			parentRef: gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw", SectionName: ptr.To[gatewayv1.SectionName]("public")},
			gateways: []gatewayv1.Gateway{gateway("infra",
				listener("public", 80, gatewayv1.NamespacesFromAll, nil),
				listener("internal", 8080, gatewayv1.NamespacesFromSame, nil),
			)},
			want: []gatewayv1.ParentReference{parent("public")},
		},
		{
			name:      "sectionName selects a listener that does not admit",
			parentRef: gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw", SectionName: ptr.To[gatewayv1.SectionName]("internal")},
			gateways: []gatewayv1.Gateway{gateway("infra",
				listener("public", 80, gatewayv1.NamespacesFromAll, nil),
				listener("internal", 8080, gatewayv1.NamespacesFromSame, nil),
			)},
			wantRefusals: []string{"RefNotPermitted spec.parentRefs[0]"},
		},
		{
			name:      "port selects a listener that does not admit",
			parentRef: gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw", Port: ptr.To[gatewayv1.PortNumber](8080)},
			gateways: []gatewayv1.Gateway{gateway("infra",
				listener("public", 80, gatewayv1.NamespacesFromAll, nil),
				listener("internal", 8080, gatewayv1.NamespacesFromSame, nil),
			)},
			wantRefusals: []string{"RefNotPermitted spec.parentRefs[0]"},
		},
		{
			name:      "no listener matches: left to the gateway controller",
			parentRef: gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw", SectionName: ptr.To[gatewayv1.SectionName]("missing")},
			gateways:  []gatewayv1.Gateway{gateway("infra", listener("public", 80, gatewayv1.NamespacesFromAll, nil))},
			want:      []gatewayv1.ParentReference{parent("missing")},
		},
		{
			name:      "unknown Gateway copied as it is",
			parentRef: gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw"},
			want:      []gatewayv1.ParentReference{parent("")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tenant := tenantRoute(func(r *gatewayv1.HTTPRoute) { r.Spec.ParentRefs = []gatewayv1.ParentReference{tt.parentRef} })
			got, refusals := HTTPRouteCopy(tenant, testOrigin(KindHTTPRoute, "app", "web"), nil, WithTenantGateways(tt.gateways, labels))
			if diff := cmp.Diff(tt.wantRefusals, refusalFields(refusals)); diff != "" {
				t.Errorf("refusals (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got.Spec.ParentRefs); diff != "" {
				t.Errorf("parentRefs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeHTTPRoute(t *testing.T) {
	t.Parallel()
	o := testOrigin(KindHTTPRoute, "app", "web")
	tests := []struct {
		name        string
		desired     func(r *gatewayv1.HTTPRoute)
		wantChanged bool
	}{
		{name: "same"},
		{name: "hostname", desired: func(r *gatewayv1.HTTPRoute) { r.Spec.Hostnames = []gatewayv1.Hostname{"api.example.com"} }, wantChanged: true},
		{name: "backend port", desired: func(r *gatewayv1.HTTPRoute) { r.Spec.Rules[0].BackendRefs[0].Port = ptr.To[int32](81) }, wantChanged: true},
		{name: "explicit defaults", desired: func(r *gatewayv1.HTTPRoute) {
			r.Spec.Rules[0].BackendRefs[0].Weight = ptr.To[int32](1)
			r.Spec.ParentRefs[0].Kind = ptr.To[gatewayv1.Kind]("Gateway")
		}},
		{name: "matches left to the defaults", desired: func(r *gatewayv1.HTTPRoute) { r.Spec.Rules[0].Matches = nil }},
		{name: "label", desired: func(r *gatewayv1.HTTPRoute) { r.Labels = nil }, wantChanged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first, _ := HTTPRouteCopy(tenantRoute(nil), o, nil)
			existing := crdDefault(t, "httproutes", first)
			existing.ResourceVersion = "9"
			desired, _ := HTTPRouteCopy(tenantRoute(tt.desired), o, nil)
			before := existing.DeepCopy()
			merged, changed := MergeHTTPRoute(existing, desired)
			if changed != tt.wantChanged {
				t.Fatalf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if diff := cmp.Diff(before, existing); diff != "" {
				t.Errorf("MergeHTTPRoute changed its argument:\n%s", diff)
			}
			if merged.ResourceVersion != "9" {
				t.Errorf("merged lost the resourceVersion")
			}
			if _, again := MergeHTTPRoute(crdDefault(t, "httproutes", merged), desired); again {
				t.Errorf("MergeHTTPRoute reports a change after the update")
			}
		})
	}
}

func TestTenantHTTPRouteStatus(t *testing.T) {
	t.Parallel()
	o := testOrigin(KindHTTPRoute, "app", "web")
	accepted := func(gen int64) []metav1.Condition {
		return []metav1.Condition{
			cond("Accepted", metav1.ConditionTrue, "Accepted", gen),
			cond("ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", gen),
		}
	}
	notAccepted := func(gen int64) []metav1.Condition {
		return []metav1.Condition{
			cond("Accepted", metav1.ConditionFalse, "NoMatchingListenerHostname", gen),
			cond("ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", gen),
		}
	}
	tenantParent := gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw", SectionName: ptr.To[gatewayv1.SectionName]("http")}
	unsectioned := gatewayv1.ParentReference{Namespace: ptr.To[gatewayv1.Namespace]("infra"), Name: "gw"}
	meshParent := gatewayv1.ParentReference{Kind: ptr.To[gatewayv1.Kind]("Service"), Group: ptr.To[gatewayv1.Group](""), Name: "web"}
	copyParent := func(section string) gatewayv1.ParentReference {
		p := copiedParent("infra", "gw")
		if section != "" {
			p.SectionName = ptr.To(gatewayv1.SectionName(section))
		}
		return p
	}
	routeCopy := func(gen int64, parents ...gatewayv1.RouteParentStatus) *gatewayv1.HTTPRoute {
		c, _ := HTTPRouteCopy(tenantRoute(nil), o, nil)
		c.Generation = gen
		c.Status.Parents = parents
		return c
	}
	const controller = "example.com/gateway"
	tests := []struct {
		name     string
		tenant   *gatewayv1.HTTPRoute
		copy     *gatewayv1.HTTPRoute
		refusals []Refusal
		want     []gatewayv1.RouteParentStatus
	}{
		{name: "no copy", tenant: tenantRoute(nil), want: []gatewayv1.RouteParentStatus{}},
		{
			name:   "parentRef mapped back to the tenant's",
			tenant: tenantRoute(nil),
			copy:   routeCopy(2, gatewayv1.RouteParentStatus{ParentRef: copyParent("http"), ControllerName: controller, Conditions: accepted(2)}),
			want:   []gatewayv1.RouteParentStatus{{ParentRef: tenantParent, ControllerName: controller, Conditions: accepted(5)}},
		},
		{
			name:   "parentRef with explicit namespace, group and kind from the controller",
			tenant: tenantRoute(nil),
			copy: routeCopy(2, gatewayv1.RouteParentStatus{ParentRef: func() gatewayv1.ParentReference {
				p := copyParent("http")
				p.Namespace = ptr.To(gatewayv1.Namespace(testMCPNamespace))
				p.Group, p.Kind = ptr.To[gatewayv1.Group](gatewayv1.GroupName), ptr.To[gatewayv1.Kind]("Gateway")
				return p
			}(), ControllerName: controller, Conditions: accepted(2)}),
			want: []gatewayv1.RouteParentStatus{{ParentRef: tenantParent, ControllerName: controller, Conditions: accepted(5)}},
		},
		{
			name:   "statuses of unknown parents dropped",
			tenant: tenantRoute(nil),
			copy: routeCopy(1,
				gatewayv1.RouteParentStatus{ParentRef: copiedParent("infra", "other"), ControllerName: controller, Conditions: accepted(1)},
				gatewayv1.RouteParentStatus{ParentRef: func() gatewayv1.ParentReference {
					p := copyParent("http")
					p.Namespace = ptr.To[gatewayv1.Namespace]("elsewhere")
					return p
				}(), ControllerName: controller, Conditions: accepted(1)},
			),
			want: []gatewayv1.RouteParentStatus{},
		},
		{
			name:   "narrowed parentRefs merge into the tenant's one",
			tenant: tenantRoute(func(r *gatewayv1.HTTPRoute) { r.Spec.ParentRefs = []gatewayv1.ParentReference{unsectioned} }),
			copy: routeCopy(1,
				gatewayv1.RouteParentStatus{ParentRef: copyParent("a"), ControllerName: controller, Conditions: notAccepted(1)},
				gatewayv1.RouteParentStatus{ParentRef: copyParent("b"), ControllerName: controller, Conditions: accepted(1)},
			),
			want: []gatewayv1.RouteParentStatus{{ParentRef: unsectioned, ControllerName: controller, Conditions: accepted(5)}},
		},
		{
			name:     "refused parentRef reported under vcdns' controller name",
			tenant:   tenantRoute(func(r *gatewayv1.HTTPRoute) { r.Spec.ParentRefs = append(r.Spec.ParentRefs, meshParent) }),
			copy:     routeCopy(1, gatewayv1.RouteParentStatus{ParentRef: copyParent("http"), ControllerName: controller, Conditions: accepted(1)}),
			refusals: []Refusal{{Field: "spec.parentRefs[1]", Reason: ReasonUnsupportedKind, Message: "no"}},
			want: []gatewayv1.RouteParentStatus{
				{ParentRef: tenantParent, ControllerName: controller, Conditions: accepted(5)},
				{ParentRef: meshParent, ControllerName: ControllerName, Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionFalse, "UnsupportedValue", 5)}},
			},
		},
		{
			name:     "parentRef not admitted by listeners",
			tenant:   tenantRoute(nil),
			refusals: []Refusal{{Field: "spec.parentRefs[0]", Reason: ReasonRefNotPermitted, Message: "no"}},
			want: []gatewayv1.RouteParentStatus{
				{ParentRef: tenantParent, ControllerName: ControllerName, Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionFalse, "NotAllowedByListeners", 5)}},
			},
		},
		{
			name:     "refused backendRef: ResolvedRefs False and PartiallyInvalid",
			tenant:   tenantRoute(nil),
			copy:     routeCopy(1, gatewayv1.RouteParentStatus{ParentRef: copyParent("http"), ControllerName: controller, Conditions: accepted(1)}),
			refusals: []Refusal{{Field: "spec.rules[0].backendRefs[1]", Reason: ReasonRefNotPermitted, Message: "no grant"}},
			want: []gatewayv1.RouteParentStatus{{ParentRef: tenantParent, ControllerName: controller, Conditions: []metav1.Condition{
				cond("Accepted", metav1.ConditionTrue, "Accepted", 5),
				cond("ResolvedRefs", metav1.ConditionFalse, "RefNotPermitted", 5),
				cond("PartiallyInvalid", metav1.ConditionTrue, "UnsupportedValue", 5),
			}}},
		},
		{
			name:     "refused backend kind: InvalidKind",
			tenant:   tenantRoute(nil),
			copy:     routeCopy(1, gatewayv1.RouteParentStatus{ParentRef: copyParent("http"), ControllerName: controller, Conditions: accepted(1)}),
			refusals: []Refusal{{Field: "spec.rules[0].backendRefs[0]", Reason: ReasonUnsupportedKind, Message: "kind"}},
			want: []gatewayv1.RouteParentStatus{{ParentRef: tenantParent, ControllerName: controller, Conditions: []metav1.Condition{
				cond("Accepted", metav1.ConditionTrue, "Accepted", 5),
				cond("ResolvedRefs", metav1.ConditionFalse, "InvalidKind", 5),
				cond("PartiallyInvalid", metav1.ConditionTrue, "UnsupportedValue", 5),
			}}},
		},
		{
			name:     "other refusals: PartiallyInvalid only",
			tenant:   tenantRoute(nil),
			copy:     routeCopy(1, gatewayv1.RouteParentStatus{ParentRef: copyParent("http"), ControllerName: controller, Conditions: accepted(1)}),
			refusals: []Refusal{{Field: "spec.rules[0].retry", Reason: ReasonNotSupported, Message: "exp"}},
			want: []gatewayv1.RouteParentStatus{{ParentRef: tenantParent, ControllerName: controller, Conditions: append(accepted(5),
				cond("PartiallyInvalid", metav1.ConditionTrue, "UnsupportedValue", 5))}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := TenantHTTPRouteStatus(tt.tenant, tt.copy, o, tt.refusals...)
			if diff := cmp.Diff(tt.want, got.Parents, ignoreTransitionTimes); diff != "" {
				t.Errorf("TenantHTTPRouteStatus (-want +got):\n%s", diff)
			}
		})
	}
}
