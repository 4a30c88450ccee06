/*
Copyright The vcdns Authors.
*/

package translate

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vcdns/vcdns/syncer/naming"
)

const testMCPNamespace = "mcp-d99bb272-f1e2-8297-8a42-8b0ff70fcfec"

func testOrigin(kind, namespace, name string) Origin {
	return Origin{
		MCP:          types.NamespacedName{Namespace: "team-a", Name: "mcp1"},
		MCPNamespace: testMCPNamespace,
		Kind:         kind,
		Namespace:    namespace,
		Name:         name,
		UID:          "tenant-uid",
	}
}

func TestOriginRoundTrip(t *testing.T) {
	t.Parallel()
	o := testOrigin(KindService, "default", "web")
	obj := &metav1.ObjectMeta{Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"note": "kept"}}
	SetOrigin(obj, o)
	got, ok := OriginOf(obj)
	if !ok || got != o {
		t.Fatalf("OriginOf(SetOrigin(o)) = %+v, %v, want %+v", got, ok, o)
	}
	want := metav1.ObjectMeta{
		Labels: map[string]string{"app": "web", naming.LabelMCP: testMCPNamespace},
		Annotations: map[string]string{
			"note":                           "kept",
			naming.AnnotationMCP:             "team-a/mcp1",
			naming.AnnotationTenantKind:      "Service",
			naming.AnnotationTenantNamespace: "default",
			naming.AnnotationTenantName:      "web",
			naming.AnnotationTenantUID:       "tenant-uid",
		},
	}
	if !apiequality.Semantic.DeepEqual(*obj, want) {
		t.Errorf("SetOrigin wrote %+v, want %+v", *obj, want)
	}
}

func TestOriginOfIncomplete(t *testing.T) {
	t.Parallel()
	complete := func() *metav1.ObjectMeta {
		m := &metav1.ObjectMeta{}
		SetOrigin(m, testOrigin(KindService, "default", "web"))
		return m
	}
	tests := []struct {
		name   string
		mutate func(m *metav1.ObjectMeta)
	}{
		{name: "no MCP label", mutate: func(m *metav1.ObjectMeta) { delete(m.Labels, naming.LabelMCP) }},
		{name: "no MCP annotation", mutate: func(m *metav1.ObjectMeta) { delete(m.Annotations, naming.AnnotationMCP) }},
		{name: "MCP annotation without slash", mutate: func(m *metav1.ObjectMeta) { m.Annotations[naming.AnnotationMCP] = "mcp1" }},
		{name: "MCP annotation with two slashes", mutate: func(m *metav1.ObjectMeta) { m.Annotations[naming.AnnotationMCP] = "a/b/c" }},
		{name: "MCP annotation without name", mutate: func(m *metav1.ObjectMeta) { m.Annotations[naming.AnnotationMCP] = "team-a/" }},
		{name: "no kind", mutate: func(m *metav1.ObjectMeta) { delete(m.Annotations, naming.AnnotationTenantKind) }},
		{name: "no namespace", mutate: func(m *metav1.ObjectMeta) { delete(m.Annotations, naming.AnnotationTenantNamespace) }},
		{name: "no name", mutate: func(m *metav1.ObjectMeta) { delete(m.Annotations, naming.AnnotationTenantName) }},
		{name: "no UID", mutate: func(m *metav1.ObjectMeta) { delete(m.Annotations, naming.AnnotationTenantUID) }},
		{name: "nothing", mutate: func(m *metav1.ObjectMeta) { *m = metav1.ObjectMeta{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := complete()
			tt.mutate(m)
			if o, ok := OriginOf(m); ok {
				t.Errorf("OriginOf = %+v, true; want false", o)
			}
			if OwnedBy(m, testOrigin(KindService, "default", "web")) {
				t.Errorf("OwnedBy = true for an incomplete origin")
			}
		})
	}
}

func TestOwnedBy(t *testing.T) {
	t.Parallel()
	recorded := testOrigin(KindService, "default", "web")
	tests := []struct {
		name   string
		origin func() Origin
		want   bool
	}{
		{name: "same", origin: func() Origin { return recorded }, want: true},
		{name: "other MCP", origin: func() Origin { o := recorded; o.MCP.Name = "mcp2"; return o }},
		{name: "other MCP namespace", origin: func() Origin { o := recorded; o.MCPNamespace = "mcp-other"; return o }},
		{name: "other kind", origin: func() Origin { o := recorded; o.Kind = KindGateway; return o }},
		{name: "other namespace", origin: func() Origin { o := recorded; o.Namespace = "prod"; return o }},
		{name: "other name", origin: func() Origin { o := recorded; o.Name = "api"; return o }},
		{name: "other UID", origin: func() Origin { o := recorded; o.UID = "recreated"; return o }},
	}
	obj := &corev1.Service{}
	SetOrigin(obj, recorded)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := OwnedBy(obj, tt.origin()); got != tt.want {
				t.Errorf("OwnedBy = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOriginFor(t *testing.T) {
	t.Parallel()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "tenant-uid"}}
	got := OriginFor(types.NamespacedName{Namespace: "team-a", Name: "mcp1"}, testMCPNamespace, KindService, svc)
	if want := testOrigin(KindService, "default", "web"); got != want {
		t.Errorf("OriginFor = %+v, want %+v", got, want)
	}
}

func TestOwnKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want bool
	}{
		{key: "vcdns.io/mcp", want: true},
		{key: "sub.vcdns.io/x", want: true},
		{key: "notvcdns.io/x"},
		{key: "vcdns.io"},
		{key: "app"},
		{key: "example.com/vcdns.io"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			if got := ownKey(tt.key); got != tt.want {
				t.Errorf("ownKey(%q) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}

func TestMergeMeta(t *testing.T) {
	t.Parallel()
	o := testOrigin(KindService, "default", "web")
	tenantWith := func(labels, annotations map[string]string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", Labels: labels, Annotations: annotations}}
	}
	allowed := []string{"allowed"}
	tests := []struct {
		name            string
		before          *corev1.Service // tenant the existing copy was made from
		others          map[string]string
		othersAnnotated map[string]string
		after           *corev1.Service // tenant now
		wantLabels      map[string]string
		wantAnnotations map[string]string
		wantChanged     bool
	}{
		{
			name:       "unchanged",
			before:     tenantWith(map[string]string{"app": "web"}, map[string]string{"allowed": "1", "other": "x"}),
			after:      tenantWith(map[string]string{"app": "web"}, map[string]string{"allowed": "1", "other": "x"}),
			wantLabels: map[string]string{"app": "web"},
		},
		{
			name:        "tenant label removed",
			before:      tenantWith(map[string]string{"app": "web", "tier": "front"}, nil),
			after:       tenantWith(map[string]string{"app": "web"}, nil),
			wantLabels:  map[string]string{"app": "web"},
			wantChanged: true,
		},
		{
			name:        "tenant label changed",
			before:      tenantWith(map[string]string{"app": "web"}, nil),
			after:       tenantWith(map[string]string{"app": "api"}, nil),
			wantLabels:  map[string]string{"app": "api"},
			wantChanged: true,
		},
		{
			name:       "labels of others kept",
			before:     tenantWith(map[string]string{"app": "web"}, nil),
			others:     map[string]string{"policy.example.com/owner": "ops"},
			after:      tenantWith(map[string]string{"app": "web"}, nil),
			wantLabels: map[string]string{"app": "web", "policy.example.com/owner": "ops"},
		},
		{
			name:            "annotations of others kept",
			before:          tenantWith(nil, nil),
			othersAnnotated: map[string]string{"metallb.io/ip-allocated-from-pool": "default"},
			after:           tenantWith(nil, nil),
			wantAnnotations: map[string]string{"metallb.io/ip-allocated-from-pool": "default"},
		},
		{
			name:            "allowed annotation removed",
			before:          tenantWith(nil, map[string]string{"allowed": "1"}),
			after:           tenantWith(nil, nil),
			wantAnnotations: map[string]string{},
			wantChanged:     true,
		},
		{
			name:            "allowed annotation set",
			before:          tenantWith(nil, nil),
			after:           tenantWith(nil, map[string]string{"allowed": "2"}),
			wantAnnotations: map[string]string{"allowed": "2"},
			wantChanged:     true,
		},
		{
			name:       "vcdns labels of the tenant are not copied",
			before:     tenantWith(map[string]string{"app": "web"}, nil),
			after:      tenantWith(map[string]string{"app": "web", naming.LabelMCP: "spoofed", "x.vcdns.io/y": "z"}, nil),
			wantLabels: map[string]string{"app": "web"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			existing := &corev1.Service{ObjectMeta: copyMeta(tt.before, o, allowed)}
			for k, v := range tt.others {
				existing.Labels[k] = v
			}
			for k, v := range tt.othersAnnotated {
				existing.Annotations[k] = v
			}
			desired := &corev1.Service{ObjectMeta: copyMeta(tt.after, o, allowed)}
			labels, annotations, changed := mergeMeta(existing, desired, allowed)
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			check := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations}}
			if !OwnedBy(check, o) {
				t.Errorf("merged metadata lost the origin: %v %v", labels, annotations)
			}
			for k := range labels {
				if k == naming.LabelMCP {
					continue
				}
				if _, ok := tt.wantLabels[k]; !ok {
					t.Errorf("unexpected label %s", k)
				}
			}
			for k, v := range tt.wantLabels {
				if labels[k] != v {
					t.Errorf("label %s = %q, want %q", k, labels[k], v)
				}
			}
			for k, v := range tt.wantAnnotations {
				if annotations[k] != v {
					t.Errorf("annotation %s = %q, want %q", k, annotations[k], v)
				}
			}
			if _, ok := annotations["allowed"]; ok && tt.after.Annotations["allowed"] == "" {
				t.Errorf("annotation allowed kept after the tenant removed it")
			}
			if _, ok := annotations["other"]; ok {
				t.Errorf("annotation other is not allow-listed but was copied")
			}
			// Merging the result again changes nothing.
			again := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations}}
			if _, _, changed := mergeMeta(again, desired, allowed); changed {
				t.Errorf("second merge changed something")
			}
		})
	}
}
