/*
Copyright The vcdns Authors.
*/

package translate

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/syncer/naming"
)

func tenantGateway(mutate func(g *gatewayv1.Gateway)) *gatewayv1.Gateway {
	g := &gatewayv1.Gateway{
		TypeMeta: metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "Gateway"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "infra", Name: "gw", UID: "tenant-uid", Generation: 4,
			Labels:      map[string]string{"team": "infra"},
			Annotations: map[string]string{"networking.istio.io/service-type": "NodePort"},
		},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: "shared",
			Listeners: []gatewayv1.Listener{{
				Name: "http", Hostname: ptr.To[gatewayv1.Hostname]("*.example.com"), Port: 80, Protocol: gatewayv1.HTTPProtocolType,
			}},
		},
	}
	if mutate != nil {
		mutate(g)
	}
	return g
}

func same() *gatewayv1.AllowedRoutes {
	return &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: ptr.To(gatewayv1.NamespacesFromSame)}}
}

// wantGateway is the copy of tenantGateway(nil), changed by mutate.
func wantGateway(mutate func(g *gatewayv1.Gateway)) *gatewayv1.Gateway {
	g := &gatewayv1.Gateway{
		TypeMeta: metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "Gateway"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: testMCPNamespace, Name: naming.CopyName("infra", "gw"),
			Labels:      map[string]string{"team": "infra"},
			Annotations: map[string]string{naming.AnnotationTenantLabels: "team"},
		},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: "shared",
			Listeners: []gatewayv1.Listener{{
				Name: "http", Hostname: ptr.To[gatewayv1.Hostname]("*.example.com"), Port: 80, Protocol: gatewayv1.HTTPProtocolType,
				AllowedRoutes: same(),
			}},
		},
	}
	SetOrigin(g, testOrigin(KindGateway, "infra", "gw"))
	if mutate != nil {
		mutate(g)
	}
	return g
}

func httpsListener(name string) gatewayv1.Listener {
	return gatewayv1.Listener{
		Name: gatewayv1.SectionName(name), Port: 443, Protocol: gatewayv1.HTTPSProtocolType,
		TLS: &gatewayv1.ListenerTLSConfig{CertificateRefs: []gatewayv1.SecretObjectReference{{Name: "cert"}}},
	}
}

func passthroughListener() gatewayv1.Listener {
	return gatewayv1.Listener{
		Name: "tls", Port: 8443, Protocol: gatewayv1.TLSProtocolType,
		TLS: &gatewayv1.ListenerTLSConfig{Mode: ptr.To(gatewayv1.TLSModePassthrough)},
	}
}

func refusalFields(rs []Refusal) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Reason+" "+r.Field)
	}
	return out
}

func TestGatewayCopy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		tenant       func(g *gatewayv1.Gateway)
		want         func(g *gatewayv1.Gateway) // nil copy if wantNil
		wantNil      bool
		wantRefusals []string
	}{
		{name: "class and listener copied, hostname unchanged, annotations not"},
		{
			name: "listener fields: port, protocol, TLS mode and options, route kinds",
			tenant: func(g *gatewayv1.Gateway) {
				l := passthroughListener()
				l.TLS.Options = map[gatewayv1.AnnotationKey]gatewayv1.AnnotationValue{"example.com/min-version": "1.3"}
				l.AllowedRoutes = &gatewayv1.AllowedRoutes{Kinds: []gatewayv1.RouteGroupKind{{Kind: "TLSRoute"}}}
				g.Spec.Listeners = append(g.Spec.Listeners, l)
			},
			want: func(g *gatewayv1.Gateway) {
				l := passthroughListener()
				l.TLS.Options = map[gatewayv1.AnnotationKey]gatewayv1.AnnotationValue{"example.com/min-version": "1.3"}
				l.AllowedRoutes = same()
				l.AllowedRoutes.Kinds = []gatewayv1.RouteGroupKind{{Kind: "TLSRoute"}}
				g.Spec.Listeners = append(g.Spec.Listeners, l)
			},
		},
		{
			name: "routes from all namespaces: Same, the MCP namespace",
			tenant: func(g *gatewayv1.Gateway) {
				g.Spec.Listeners[0].AllowedRoutes = &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: ptr.To(gatewayv1.NamespacesFromAll)}}
			},
		},
		{
			name: "routes from selected namespaces: Same, selector dropped",
			tenant: func(g *gatewayv1.Gateway) {
				g.Spec.Listeners[0].AllowedRoutes = &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{
					From:     ptr.To(gatewayv1.NamespacesFromSelector),
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"shared-gateway": "true"}},
				}}
			},
		},
		{
			name: "routes from no namespace stay None",
			tenant: func(g *gatewayv1.Gateway) {
				g.Spec.Listeners[0].AllowedRoutes = &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: ptr.To(gatewayv1.NamespacesFromNone)}}
			},
			want: func(g *gatewayv1.Gateway) {
				g.Spec.Listeners[0].AllowedRoutes.Namespaces.From = ptr.To(gatewayv1.NamespacesFromNone)
			},
		},
		{
			name: "addresses refused",
			tenant: func(g *gatewayv1.Gateway) {
				g.Spec.Addresses = []gatewayv1.GatewaySpecAddress{{Value: "198.51.100.7"}}
			},
			wantRefusals: []string{"NotAllowed spec.addresses"},
		},
		{
			name: "infrastructure refused",
			tenant: func(g *gatewayv1.Gateway) {
				g.Spec.Infrastructure = &gatewayv1.GatewayInfrastructure{
					Annotations:   map[gatewayv1.AnnotationKey]gatewayv1.AnnotationValue{"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
					ParametersRef: &gatewayv1.LocalParametersReference{Kind: "ConfigMap", Name: "params"},
				}
			},
			wantRefusals: []string{"NotAllowed spec.infrastructure"},
		},
		{
			name: "listener sets refused",
			tenant: func(g *gatewayv1.Gateway) {
				g.Spec.AllowedListeners = &gatewayv1.AllowedListeners{Namespaces: &gatewayv1.ListenerNamespaces{From: ptr.To(gatewayv1.NamespacesFromAll)}}
			},
			wantRefusals: []string{"UnsupportedKind spec.allowedListeners"},
		},
		{
			name: "no listener sets is no refusal",
			tenant: func(g *gatewayv1.Gateway) {
				g.Spec.AllowedListeners = &gatewayv1.AllowedListeners{Namespaces: &gatewayv1.ListenerNamespaces{From: ptr.To(gatewayv1.NamespacesFromNone)}}
			},
		},
		{
			name:         "default gateway refused",
			tenant:       func(g *gatewayv1.Gateway) { g.Spec.DefaultScope = gatewayv1.GatewayDefaultScopeAll },
			wantRefusals: []string{"NotAllowed spec.defaultScope"},
		},
		{
			name: "HTTPS listener with certificates refused, the others kept",
			tenant: func(g *gatewayv1.Gateway) {
				g.Spec.Listeners = append(g.Spec.Listeners, httpsListener("https"))
			},
			wantRefusals: []string{"SecretsNotSynced spec.listeners[1].tls.certificateRefs"},
		},
		{
			name: "backend client certificate refused",
			tenant: func(g *gatewayv1.Gateway) {
				g.Spec.TLS = &gatewayv1.GatewayTLSConfig{Backend: &gatewayv1.GatewayBackendTLS{ClientCertificateRef: &gatewayv1.SecretObjectReference{Name: "client"}}}
			},
			wantRefusals: []string{"SecretsNotSynced spec.tls.backend.clientCertificateRef"},
		},
		{
			name: "client validation refused with every listener terminating TLS",
			tenant: func(g *gatewayv1.Gateway) {
				g.Spec.TLS = &gatewayv1.GatewayTLSConfig{Frontend: &gatewayv1.FrontendTLSConfig{Default: gatewayv1.TLSConfig{
					Validation: &gatewayv1.FrontendTLSValidation{CACertificateRefs: []gatewayv1.ObjectReference{{Kind: "ConfigMap", Name: "ca"}}},
				}}}
				terminate := gatewayv1.Listener{
					Name: "tls-terminate", Port: 9443, Protocol: gatewayv1.TLSProtocolType,
					TLS: &gatewayv1.ListenerTLSConfig{Options: map[gatewayv1.AnnotationKey]gatewayv1.AnnotationValue{"example.com/cert": "vault"}},
				}
				g.Spec.Listeners = append(g.Spec.Listeners, passthroughListener(), terminate)
			},
			want: func(g *gatewayv1.Gateway) {
				l := passthroughListener()
				l.AllowedRoutes = same()
				g.Spec.Listeners = append(g.Spec.Listeners, l)
			},
			wantRefusals: []string{"SecretsNotSynced spec.tls.frontend", "SecretsNotSynced spec.listeners[2]"},
		},
		{
			name: "every listener refused: no copy",
			tenant: func(g *gatewayv1.Gateway) {
				g.Spec.Listeners = []gatewayv1.Listener{httpsListener("a"), httpsListener("b")}
			},
			wantNil:      true,
			wantRefusals: []string{"SecretsNotSynced spec.listeners[0].tls.certificateRefs", "SecretsNotSynced spec.listeners[1].tls.certificateRefs"},
		},
		{
			name: "labels without vcdns keys",
			tenant: func(g *gatewayv1.Gateway) {
				g.Labels = map[string]string{"team": "infra", "vcdns.io/mcp": "spoofed"}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tenant := tenantGateway(tt.tenant)
			before := tenant.DeepCopy()
			got, refusals := GatewayCopy(tenant, testOrigin(KindGateway, "infra", "gw"))
			if diff := cmp.Diff(tt.wantRefusals, refusalFields(refusals)); diff != "" {
				t.Errorf("refusals (-want +got):\n%s", diff)
			}
			for _, r := range refusals {
				if r.Message == "" {
					t.Errorf("refusal %s without message", r.Field)
				}
			}
			if tt.wantNil {
				if got != nil {
					t.Errorf("GatewayCopy = %#v, want nil", got)
				}
				return
			}
			if diff := cmp.Diff(wantGateway(tt.want), got); diff != "" {
				t.Errorf("GatewayCopy (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tenant); diff != "" {
				t.Errorf("GatewayCopy changed its argument:\n%s", diff)
			}
			assertStandardOnly(t, "gateways", got)
			stored := crdDefault(t, "gateways", got)
			if _, changed := MergeGateway(stored, got); changed {
				t.Errorf("MergeGateway reports a change for the stored copy")
			}
		})
	}
}

func TestMergeGateway(t *testing.T) {
	t.Parallel()
	o := testOrigin(KindGateway, "infra", "gw")
	tests := []struct {
		name        string
		existing    func(g *gatewayv1.Gateway)
		desired     func(g *gatewayv1.Gateway)
		wantChanged bool
	}{
		{name: "same"},
		{
			name:        "listener port",
			desired:     func(g *gatewayv1.Gateway) { g.Spec.Listeners[0].Port = 8080 },
			wantChanged: true,
		},
		{
			name:        "listener added",
			desired:     func(g *gatewayv1.Gateway) { g.Spec.Listeners = append(g.Spec.Listeners, passthroughListener()) },
			wantChanged: true,
		},
		{
			name:        "class",
			desired:     func(g *gatewayv1.Gateway) { g.Spec.GatewayClassName = "other" },
			wantChanged: true,
		},
		{
			name:        "label",
			desired:     func(g *gatewayv1.Gateway) { g.Labels = map[string]string{"team": "web"} },
			wantChanged: true,
		},
		{
			name:     "annotation of someone else",
			existing: func(g *gatewayv1.Gateway) { g.Annotations["gateway.example.com/seen"] = "yes" },
		},
		{
			name: "status is not merged",
			existing: func(g *gatewayv1.Gateway) {
				g.Status.Addresses = []gatewayv1.GatewayStatusAddress{{Value: "198.51.100.7"}}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			existingCopy, _ := GatewayCopy(tenantGateway(tt.existing), o)
			if tt.existing != nil {
				tt.existing(existingCopy)
			}
			existing := crdDefault(t, "gateways", existingCopy)
			existing.ResourceVersion = "7"
			desired, _ := GatewayCopy(tenantGateway(tt.desired), o)
			before := existing.DeepCopy()
			merged, changed := MergeGateway(existing, desired)
			if changed != tt.wantChanged {
				t.Fatalf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if diff := cmp.Diff(before, existing); diff != "" {
				t.Errorf("MergeGateway changed its argument:\n%s", diff)
			}
			if merged.ResourceVersion != "7" || !cmp.Equal(merged.Status, existing.Status) {
				t.Errorf("merged lost resourceVersion or status")
			}
			stored := crdDefault(t, "gateways", merged)
			if _, again := MergeGateway(stored, desired); again {
				t.Errorf("MergeGateway reports a change after the update")
			}
		})
	}
}

func cond(typ string, status metav1.ConditionStatus, reason string, gen int64) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, ObservedGeneration: gen, LastTransitionTime: metav1.NewTime(time.Unix(1000, 0))}
}

// ignoreTransitionTimes compares conditions without their lastTransitionTime.
var ignoreTransitionTimes = cmpopts.IgnoreFields(metav1.Condition{}, "LastTransitionTime", "Message")

func TestTenantGatewayStatus(t *testing.T) {
	t.Parallel()
	o := testOrigin(KindGateway, "infra", "gw")
	withHTTPS := func(g *gatewayv1.Gateway) {
		g.Spec.Listeners = append(g.Spec.Listeners, httpsListener("https"))
	}
	copyOf := func(mutate func(g *gatewayv1.Gateway), status gatewayv1.GatewayStatus, gen int64) *gatewayv1.Gateway {
		c, _ := GatewayCopy(tenantGateway(mutate), o)
		c.Generation = gen
		c.Status = status
		return c
	}
	accepted := func(gen int64) []metav1.Condition {
		return []metav1.Condition{
			cond("Accepted", metav1.ConditionTrue, "Accepted", gen),
			cond("Programmed", metav1.ConditionTrue, "Programmed", gen),
		}
	}
	tests := []struct {
		name   string
		tenant *gatewayv1.Gateway
		copy   *gatewayv1.Gateway
		want   gatewayv1.GatewayStatus
	}{
		{
			name:   "no copy",
			tenant: tenantGateway(nil),
		},
		{
			name:   "addresses, conditions and listeners of the current generation",
			tenant: tenantGateway(nil),
			copy: copyOf(nil, gatewayv1.GatewayStatus{
				Addresses:  []gatewayv1.GatewayStatusAddress{{Type: ptr.To(gatewayv1.IPAddressType), Value: "198.51.100.7"}},
				Conditions: accepted(2),
				Listeners: []gatewayv1.ListenerStatus{
					{Name: "http", AttachedRoutes: 3, SupportedKinds: []gatewayv1.RouteGroupKind{{Kind: "HTTPRoute"}}, Conditions: accepted(2)},
					{Name: "not-the-tenants", Conditions: accepted(2)},
				},
			}, 2),
			want: gatewayv1.GatewayStatus{
				Addresses:  []gatewayv1.GatewayStatusAddress{{Type: ptr.To(gatewayv1.IPAddressType), Value: "198.51.100.7"}},
				Conditions: accepted(4),
				Listeners: []gatewayv1.ListenerStatus{
					{Name: "http", AttachedRoutes: 3, SupportedKinds: []gatewayv1.RouteGroupKind{{Kind: "HTTPRoute"}}, Conditions: accepted(4)},
				},
			},
		},
		{
			name: "stale conditions keep the generation the tenant shows",
			tenant: tenantGateway(func(g *gatewayv1.Gateway) {
				g.Status.Conditions = []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 3)}
			}),
			copy: copyOf(nil, gatewayv1.GatewayStatus{Conditions: accepted(1)}, 2),
			want: gatewayv1.GatewayStatus{Conditions: []metav1.Condition{
				cond("Accepted", metav1.ConditionTrue, "Accepted", 3),
				cond("Programmed", metav1.ConditionTrue, "Programmed", 0),
			}},
		},
		{
			name:   "refused listener explains itself",
			tenant: tenantGateway(withHTTPS),
			copy: copyOf(withHTTPS, gatewayv1.GatewayStatus{
				Conditions: accepted(1),
				Listeners:  []gatewayv1.ListenerStatus{{Name: "http", Conditions: accepted(1)}},
			}, 1),
			want: gatewayv1.GatewayStatus{
				Conditions: accepted(4),
				Listeners: []gatewayv1.ListenerStatus{
					{Name: "http", Conditions: accepted(4)},
					{Name: "https", Conditions: []metav1.Condition{
						cond("Accepted", metav1.ConditionFalse, "UnsupportedValue", 4),
						cond("Programmed", metav1.ConditionFalse, "Invalid", 4),
						cond("ResolvedRefs", metav1.ConditionFalse, "RefNotPermitted", 4),
					}},
				},
			},
		},
		{
			name:   "listener without status yet is left out",
			tenant: tenantGateway(nil),
			copy:   copyOf(nil, gatewayv1.GatewayStatus{Conditions: accepted(1)}, 1),
			want:   gatewayv1.GatewayStatus{Conditions: accepted(4)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := TenantGatewayStatus(tt.tenant, tt.copy)
			if diff := cmp.Diff(tt.want, got, ignoreTransitionTimes); diff != "" {
				t.Errorf("TenantGatewayStatus (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTenantGatewayStatusKeepsTransitionTimes(t *testing.T) {
	t.Parallel()
	tenant := tenantGateway(func(g *gatewayv1.Gateway) { g.Spec.Listeners = append(g.Spec.Listeners, httpsListener("https")) })
	first := TenantGatewayStatus(tenant, nil)
	tenant.Status = first
	second := TenantGatewayStatus(tenant, nil)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("recomputing the status changes it (-first +second):\n%s", diff)
	}
	for _, c := range first.Listeners[0].Conditions {
		if c.Message == "" || c.LastTransitionTime.IsZero() {
			t.Errorf("condition %s lacks message or transition time", c.Type)
		}
	}
}
