/*
Copyright The vcdns Authors.
*/

package translate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/vcdns/vcdns/syncer/naming"
)

func serviceBackend(name string, port int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: port}}}
}

func ingressRule(host, backendName string) networkingv1.IngressRule {
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
		Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix), Backend: serviceBackend(backendName, 80)}},
	}}}
}

func tenantIngress(mutate func(i *networkingv1.Ingress)) *networkingv1.Ingress {
	i := &networkingv1.Ingress{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "app", Name: "web", UID: "tenant-uid", Generation: 2,
			Labels: map[string]string{"app": "web"},
			Annotations: map[string]string{
				"nginx.ingress.kubernetes.io/configuration-snippet": "more_set_headers x;",
				"external-dns.alpha.kubernetes.io/hostname":         "evil.example.com",
			},
		},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("nginx"),
			Rules:            []networkingv1.IngressRule{ingressRule("www.example.com", "web")},
		},
	}
	if mutate != nil {
		mutate(i)
	}
	return i
}

func wantIngress(mutate func(i *networkingv1.Ingress)) *networkingv1.Ingress {
	i := &networkingv1.Ingress{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: testMCPNamespace, Name: naming.CopyName("app", "web"),
			Labels:      map[string]string{"app": "web"},
			Annotations: map[string]string{naming.AnnotationTenantLabels: "app"},
		},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("nginx"),
			Rules:            []networkingv1.IngressRule{ingressRule("www.example.com", naming.CopyName("app", "web"))},
		},
	}
	SetOrigin(i, testOrigin(KindIngress, "app", "web"))
	if mutate != nil {
		mutate(i)
	}
	return i
}

func TestIngressCopy(t *testing.T) {
	t.Parallel()
	web := naming.CopyName("app", "web")
	tests := []struct {
		name         string
		tenant       func(i *networkingv1.Ingress)
		want         func(i *networkingv1.Ingress)
		wantNil      bool
		wantRefusals []string
	}{
		{name: "class and rules copied, backends rewritten, annotations not"},
		{
			name: "class annotation allowed",
			tenant: func(i *networkingv1.Ingress) {
				i.Spec.IngressClassName = nil
				i.Annotations["kubernetes.io/ingress.class"] = "nginx"
			},
			want: func(i *networkingv1.Ingress) {
				i.Spec.IngressClassName = nil
				i.Annotations["kubernetes.io/ingress.class"] = "nginx"
			},
		},
		{
			name:   "default backend rewritten",
			tenant: func(i *networkingv1.Ingress) { i.Spec.DefaultBackend = ptr.To(serviceBackend("fallback", 8080)) },
			want: func(i *networkingv1.Ingress) {
				i.Spec.DefaultBackend = ptr.To(serviceBackend(naming.CopyName("app", "fallback"), 8080))
			},
		},
		{
			name: "paths: path, pathType, named port",
			tenant: func(i *networkingv1.Ingress) {
				i.Spec.Rules[0].HTTP.Paths = append(i.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{
					Path: "/api", PathType: ptr.To(networkingv1.PathTypeExact),
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "api", Port: networkingv1.ServiceBackendPort{Name: "http"}}},
				})
			},
			want: func(i *networkingv1.Ingress) {
				i.Spec.Rules[0].HTTP.Paths = append(i.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{
					Path: "/api", PathType: ptr.To(networkingv1.PathTypeExact),
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: naming.CopyName("app", "api"), Port: networkingv1.ServiceBackendPort{Name: "http"}}},
				})
			},
		},
		{
			name: "rule without host and rule without paths",
			tenant: func(i *networkingv1.Ingress) {
				i.Spec.Rules = append(i.Spec.Rules, ingressRule("", "web"), networkingv1.IngressRule{Host: "empty.example.com"})
			},
			want: func(i *networkingv1.Ingress) {
				i.Spec.Rules = append(i.Spec.Rules, ingressRule("", web), networkingv1.IngressRule{Host: "empty.example.com"})
			},
		},
		{
			name: "resource backend of a path refused",
			tenant: func(i *networkingv1.Ingress) {
				i.Spec.Rules[0].HTTP.Paths = append(i.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{
					Path: "/static", PathType: ptr.To(networkingv1.PathTypePrefix),
					Backend: networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{APIGroup: ptr.To("storage.example.com"), Kind: "Bucket", Name: "static"}},
				})
			},
			wantRefusals: []string{"UnsupportedKind spec.rules[0].http.paths[1].backend"},
		},
		{
			name: "resource default backend refused",
			tenant: func(i *networkingv1.Ingress) {
				i.Spec.DefaultBackend = &networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "static"}}
			},
			wantRefusals: []string{"UnsupportedKind spec.defaultBackend"},
		},
		{
			name: "TLS without secret kept",
			tenant: func(i *networkingv1.Ingress) {
				i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"www.example.com"}}}
			},
			want: func(i *networkingv1.Ingress) {
				i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"www.example.com"}}}
			},
		},
		{
			name: "TLS secret refused with the rules of its hosts",
			tenant: func(i *networkingv1.Ingress) {
				i.Spec.Rules = append(i.Spec.Rules, ingressRule("shop.example.com", "shop"), ingressRule("a.wild.example.com", "wild"), ingressRule("a.b.wild.example.com", "deep"))
				i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com", "*.wild.example.com"}, SecretName: "shop-tls"}}
			},
			want: func(i *networkingv1.Ingress) {
				i.Spec.Rules = append(i.Spec.Rules, ingressRule("a.b.wild.example.com", naming.CopyName("app", "deep")))
			},
			wantRefusals: []string{"SecretsNotSynced spec.tls[0]", "SecretsNotSynced spec.rules[1]", "SecretsNotSynced spec.rules[2]"},
		},
		{
			name: "TLS secret for every host: nothing left",
			tenant: func(i *networkingv1.Ingress) {
				i.Spec.DefaultBackend = ptr.To(serviceBackend("fallback", 8080))
				i.Spec.TLS = []networkingv1.IngressTLS{{SecretName: "default-tls"}}
			},
			wantNil:      true,
			wantRefusals: []string{"SecretsNotSynced spec.tls[0]", "SecretsNotSynced spec.defaultBackend", "SecretsNotSynced spec.rules[0]"},
		},
		{
			name: "labels without vcdns keys",
			tenant: func(i *networkingv1.Ingress) {
				i.Labels["vcdns.io/mcp"] = "spoofed"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tenant := tenantIngress(tt.tenant)
			before := tenant.DeepCopy()
			got, refusals := IngressCopy(tenant, testOrigin(KindIngress, "app", "web"))
			if diff := cmp.Diff(tt.wantRefusals, refusalFields(refusals)); diff != "" {
				t.Errorf("refusals (-want +got):\n%s", diff)
			}
			for _, r := range refusals {
				if r.Message == "" {
					t.Errorf("refusal %s without message", r.Field)
				}
			}
			if diff := cmp.Diff(before, tenant); diff != "" {
				t.Errorf("IngressCopy changed its argument:\n%s", diff)
			}
			if tt.wantNil {
				if got != nil {
					t.Errorf("IngressCopy = %#v, want nil", got)
				}
				return
			}
			if diff := cmp.Diff(wantIngress(tt.want), got); diff != "" {
				t.Errorf("IngressCopy (-want +got):\n%s", diff)
			}
			if _, changed := MergeIngress(roundTrip(got), got); changed {
				t.Errorf("MergeIngress reports a change for the stored copy")
			}
		})
	}
}

func TestCoveredByTLS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		tls  []string
		want bool
	}{
		{host: "a.example.com", tls: []string{"a.example.com"}, want: true},
		{host: "a.example.com", tls: []string{"*.example.com"}, want: true},
		{host: "a.b.example.com", tls: []string{"*.example.com"}},
		{host: "example.com", tls: []string{"*.example.com"}},
		{host: "*.example.com", tls: []string{"*.example.com"}, want: true},
		{host: "b.example.com", tls: []string{"a.example.com"}},
		{host: "", tls: []string{"a.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			if got := coveredByTLS(tt.host, tt.tls); got != tt.want {
				t.Errorf("coveredByTLS(%q, %q) = %v, want %v", tt.host, tt.tls, got, tt.want)
			}
		})
	}
}

func TestMergeIngress(t *testing.T) {
	t.Parallel()
	o := testOrigin(KindIngress, "app", "web")
	tests := []struct {
		name        string
		existing    func(i *networkingv1.Ingress)
		desired     func(i *networkingv1.Ingress)
		wantChanged bool
	}{
		{name: "same"},
		{
			name:     "class set by the DefaultIngressClass admission kept",
			desired:  func(i *networkingv1.Ingress) { i.Spec.IngressClassName = nil },
			existing: func(i *networkingv1.Ingress) { i.Spec.IngressClassName = ptr.To("default") },
		},
		{
			name:        "class changed",
			desired:     func(i *networkingv1.Ingress) { i.Spec.IngressClassName = ptr.To("other") },
			wantChanged: true,
		},
		{
			name: "rule added",
			desired: func(i *networkingv1.Ingress) {
				i.Spec.Rules = append(i.Spec.Rules, ingressRule("api.example.com", "api"))
			},
			wantChanged: true,
		},
		{
			name:        "class annotation removed",
			existing:    func(i *networkingv1.Ingress) { i.Annotations["kubernetes.io/ingress.class"] = "nginx" },
			wantChanged: true,
		},
		{
			name: "status not merged",
			existing: func(i *networkingv1.Ingress) {
				i.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "198.51.100.7"}}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first, _ := IngressCopy(tenantIngress(nil), o)
			existing := roundTrip(first)
			if tt.existing != nil {
				tt.existing(existing)
			}
			desired, _ := IngressCopy(tenantIngress(tt.desired), o)
			before := existing.DeepCopy()
			merged, changed := MergeIngress(existing, desired)
			if changed != tt.wantChanged {
				t.Fatalf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if diff := cmp.Diff(before, existing); diff != "" {
				t.Errorf("MergeIngress changed its argument:\n%s", diff)
			}
			if !cmp.Equal(merged.Status, existing.Status) {
				t.Errorf("merged lost the status")
			}
			if _, again := MergeIngress(roundTrip(merged), desired); again {
				t.Errorf("MergeIngress reports a change after the update")
			}
		})
	}
}

func TestTenantIngressStatus(t *testing.T) {
	t.Parallel()
	lb := networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{
		{IP: "198.51.100.7", Ports: []networkingv1.IngressPortStatus{{Port: 443, Protocol: corev1.ProtocolTCP}}},
		{Hostname: "lb.example.com"},
	}}
	tests := []struct {
		name string
		copy *networkingv1.Ingress
		want networkingv1.IngressStatus
	}{
		{name: "no copy"},
		{
			name: "load balancer ingress flows up",
			copy: tenantIngress(func(i *networkingv1.Ingress) { i.Status.LoadBalancer = lb }),
			want: networkingv1.IngressStatus{LoadBalancer: lb},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, TenantIngressStatus(tt.copy)); diff != "" {
				t.Errorf("TenantIngressStatus (-want +got):\n%s", diff)
			}
		})
	}
}
