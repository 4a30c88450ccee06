package dataplane

import (
	"context"
	"net/http/httptest"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// ingressPath is a path of an Ingress rule to the Service backend, port 80.
func ingressPath(kind networkingv1.PathType, path, backend string) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{PathType: ptr.To(kind), Path: path, Backend: serviceBackend(backend)}
}

func serviceBackend(name string) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}}}
}

func ingressRule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}
}

func TestIngressBackend(t *testing.T) {
	t.Parallel()
	const (
		exact    = networkingv1.PathTypeExact
		prefix   = networkingv1.PathTypePrefix
		specific = networkingv1.PathTypeImplementationSpecific
	)
	// The Ingress of the examples of the Ingress documentation, and then some.
	rules := []networkingv1.IngressRule{
		ingressRule("shop.example.test",
			ingressPath(prefix, "/", "shop"),
			ingressPath(prefix, "/cart/", "cart"),
			ingressPath(exact, "/cart", "cart-exact"),
			ingressPath(specific, "/api", "api"),
		),
		ingressRule("*.example.test",
			ingressPath(prefix, "/", "wildcard"),
			ingressPath(prefix, "/only-wildcard", "only-wildcard"),
		),
		ingressRule("Docs.Example.Test", ingressPath(exact, "/", "docs-root")),
		ingressRule("",
			ingressPath(prefix, "/any", "any-host"),
			ingressPath(prefix, "/aaa/bbb", "aaa-bbb"),
		),
		{Host: "empty.test"}, // no http: routes nothing
	}
	withDefault := networkingv1.IngressSpec{Rules: rules, DefaultBackend: ptr.To(serviceBackend("default"))}
	without := networkingv1.IngressSpec{Rules: rules}

	tests := []struct {
		name string
		host string
		path string
		// want is the backend Service; "" for none.
		want string
		// wantWithout is the backend without defaultBackend, if it differs.
		wantWithout *string
	}{
		{name: "an exact host, prefix /", host: "shop.example.test", path: "/products", want: "shop"},
		{name: "the longest prefix wins", host: "shop.example.test", path: "/cart/items", want: "cart"},
		{name: "a prefix matches its path without trailing slash", host: "shop.example.test", path: "/cart/", want: "cart"},
		{name: "exact before prefix of the same path", host: "shop.example.test", path: "/cart", want: "cart-exact"},
		{name: "a prefix matches whole path elements only", host: "shop.example.test", path: "/carts", want: "shop"},
		{name: "ImplementationSpecific is a prefix", host: "shop.example.test", path: "/api/v1", want: "api"},
		{name: "ImplementationSpecific by path elements", host: "shop.example.test", path: "/apis", want: "shop"},
		{name: "a wildcard matches one label", host: "blog.example.test", path: "/post", want: "wildcard"},
		{name: "a wildcard does not match two labels", host: "a.blog.example.test", path: "/post", want: "default", wantWithout: ptr.To("")},
		{name: "a wildcard does not match its base domain", host: "example.test", path: "/post", want: "default", wantWithout: ptr.To("")},
		{name: "an exact host before a wildcard", host: "shop.example.test", path: "/", want: "shop"},
		{name: "a wildcard rule takes what the exact host's rule does not", host: "docs.example.test", path: "/only-wildcard/x", want: "only-wildcard"},
		{name: "a host matches in any case", host: "docs.example.test", path: "/", want: "docs-root"},
		{name: "an exact path does not match a longer one", host: "docs.example.test", path: "/x", want: "wildcard"},
		{name: "a rule without host matches any host", host: "elsewhere.test", path: "/any/thing", want: "any-host"},
		{name: "a more precise host before a longer path", host: "shop.example.test", path: "/any/thing", want: "shop"},
		{name: "a prefix of several elements", host: "elsewhere.test", path: "/aaa/bbb/ccc", want: "aaa-bbb"},
		{name: "a prefix of several elements, not the middle of one", host: "elsewhere.test", path: "/aaa/bbbxyz", want: "default", wantWithout: ptr.To("")},
		{name: "a rule without paths routes nothing", host: "empty.test", path: "/", want: "default", wantWithout: ptr.To("")},
		{name: "another host goes to the default backend", host: "other.test", path: "/", want: "default", wantWithout: ptr.To("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range []struct {
				spec networkingv1.IngressSpec
				want string
			}{
				{spec: withDefault, want: tc.want},
				{spec: without, want: ptr.Deref(tc.wantWithout, tc.want)},
			} {
				b, ok := ingressBackend(c.spec, tc.host, tc.path)
				got := ""
				if ok {
					got = b.Service.Name
				}
				if got != c.want {
					t.Errorf("ingressBackend(%s%s) with defaultBackend %v = %q, want %q", tc.host, tc.path, c.spec.DefaultBackend != nil, got, c.want)
				}
			}
		})
	}
}

func TestIngressHostRank(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, rule, host string
		want             int
		wantOK           bool
	}{
		{name: "no host", rule: "", host: "a.test", want: 0, wantOK: true},
		{name: "the same host", rule: "a.test", host: "a.test", want: 2, wantOK: true},
		{name: "the same host in upper case", rule: "A.Test", host: "a.test", want: 2, wantOK: true},
		{name: "another host", rule: "a.test", host: "b.test", wantOK: false},
		{name: "a subdomain is not the host", rule: "a.test", host: "x.a.test", wantOK: false},
		{name: "a wildcard, one label", rule: "*.a.test", host: "x.a.test", want: 1, wantOK: true},
		{name: "a wildcard, two labels", rule: "*.a.test", host: "y.x.a.test", want: 1, wantOK: false},
		{name: "a wildcard, no label", rule: "*.a.test", host: "a.test", want: 1, wantOK: false},
		{name: "a wildcard, a longer last label", rule: "*.a.test", host: "xa.test", want: 1, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ingressHostRank(tc.rule, tc.host)
			if ok != tc.wantOK || (ok && got != tc.want) {
				t.Errorf("ingressHostRank(%q, %q) = %d, %v; want %d, %v", tc.rule, tc.host, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestRequestHost(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"shop.example.test":      "shop.example.test",
		"Shop.Example.Test:8080": "shop.example.test",
		"shop.example.test.":     "shop.example.test",
		"198.51.100.1:80":        "198.51.100.1",
		"[2001:db8::1]:80":       "2001:db8::1",
	} {
		r := httptest.NewRequest("GET", "http://"+in+"/", nil)
		if got := requestHost(r); got != want {
			t.Errorf("requestHost(Host %q) = %q, want %q", in, got, want)
		}
	}
}

func TestServiceURL(t *testing.T) {
	t.Parallel()
	objs := []*corev1.Service{
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "echo"},
			Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.10", Ports: []corev1.ServicePort{
				{Name: "http", Port: 80}, {Name: "admin", Port: 9090},
			}},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "v6"},
			Spec:       corev1.ServiceSpec{ClusterIP: "fd00::10", Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "headless"},
			Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		},
	}
	b := fake.NewClientBuilder()
	for _, o := range objs {
		b = b.WithObjects(o)
	}
	c := b.Build()
	tests := []struct {
		name    string
		service string
		port    networkingv1.ServiceBackendPort
		want    string // "" for an error
	}{
		{name: "a port by number", service: "echo", port: networkingv1.ServiceBackendPort{Number: 80}, want: "http://10.0.0.10:80"},
		{name: "a port by name", service: "echo", port: networkingv1.ServiceBackendPort{Name: "admin"}, want: "http://10.0.0.10:9090"},
		{name: "an IPv6 ClusterIP", service: "v6", port: networkingv1.ServiceBackendPort{Name: "http"}, want: "http://[fd00::10]:80"},
		{name: "a port name the Service does not have", service: "echo", port: networkingv1.ServiceBackendPort{Name: "grpc"}},
		{name: "no port", service: "echo"},
		{name: "a headless Service", service: "headless", port: networkingv1.ServiceBackendPort{Number: 80}},
		{name: "a missing Service", service: "missing", port: networkingv1.ServiceBackendPort{Number: 80}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := serviceURL(context.Background(), c, "web", tc.service, tc.port)
			got := ""
			if err == nil {
				got = u.String()
			}
			if got != tc.want {
				t.Errorf("serviceURL(%s, %+v) = %q (error %v), want %q", tc.service, tc.port, got, err, tc.want)
			}
		})
	}
}
