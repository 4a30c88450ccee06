package mcpsync

import (
	"maps"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/translate"
)

func TestHostnameRefusalsFlowUpToTenantObjects(t *testing.T) {
	t.Parallel()
	const refused = "Hostname a.example: HostnameConflict"
	route := newHTTPRouteSync(&syncContext{})
	ingress := newIngressSync(&syncContext{})
	withAnn := func(kv ...string) metav1.ObjectMeta {
		m := metav1.ObjectMeta{Namespace: "default", Name: "web"}
		for i := 0; i < len(kv); i += 2 {
			metav1.SetMetaDataAnnotation(&m, kv[i], kv[i+1])
		}
		return m
	}

	for _, tc := range []struct {
		name        string
		tenant, cp  metav1.ObjectMeta
		noCopy      bool
		refusals    []translate.Refusal
		want        map[string]string
		wantChanged bool
	}{
		{name: "the copy's refusal goes up, other annotations stay",
			tenant: withAnn("team", "a"), cp: withAnn(vcdnsv1alpha1.AnnotationPublishRefused, refused),
			want: map[string]string{"team": "a", vcdnsv1alpha1.AnnotationPublishRefused: refused}, wantChanged: true},
		{name: "the same refusal writes nothing",
			tenant: withAnn(vcdnsv1alpha1.AnnotationPublishRefused, refused), cp: withAnn(vcdnsv1alpha1.AnnotationPublishRefused, refused),
			want: map[string]string{vcdnsv1alpha1.AnnotationPublishRefused: refused}},
		{name: "a refusal the copy no longer has goes",
			tenant: withAnn(vcdnsv1alpha1.AnnotationPublishRefused, refused, "team", "a"), cp: withAnn(),
			want: map[string]string{"team": "a"}, wantChanged: true},
		{name: "without a copy the refusal goes",
			tenant: withAnn(vcdnsv1alpha1.AnnotationPublishRefused, refused), noCopy: true,
			want: nil, wantChanged: true},
		{name: "nothing to say, nothing written",
			tenant: withAnn(), cp: withAnn(),
			want: nil},
		{name: "a tenant's forged refusal is corrected",
			tenant: withAnn(vcdnsv1alpha1.AnnotationPublishRefused, "forged"), cp: withAnn(vcdnsv1alpha1.AnnotationPublishRefused, refused),
			want: map[string]string{vcdnsv1alpha1.AnnotationPublishRefused: refused}, wantChanged: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tenantRoute, copyRoute := &gatewayv1.HTTPRoute{ObjectMeta: tc.tenant}, &gatewayv1.HTTPRoute{ObjectMeta: tc.cp}
			if tc.noCopy {
				copyRoute = nil
			}
			before := maps.Clone(tenantRoute.Annotations)
			got, changed := route.upMeta(tenantRoute, copyRoute, nil)
			if changed != tc.wantChanged || !maps.Equal(got.Annotations, tc.want) {
				t.Errorf("HTTPRoute: annotations %v, changed %v; want %v, %v", got.Annotations, changed, tc.want, tc.wantChanged)
			}
			if !maps.Equal(tenantRoute.Annotations, before) {
				t.Errorf("HTTPRoute: the tenant object read was modified: %v", tenantRoute.Annotations)
			}

			tenantIng, copyIng := &networkingv1.Ingress{ObjectMeta: tc.tenant}, &networkingv1.Ingress{ObjectMeta: tc.cp}
			if tc.noCopy {
				copyIng = nil
			}
			gotIng, changed := ingress.upMeta(tenantIng, copyIng, nil)
			if changed != tc.wantChanged || !maps.Equal(gotIng.Annotations, tc.want) {
				t.Errorf("Ingress: annotations %v, changed %v; want %v, %v", gotIng.Annotations, changed, tc.want, tc.wantChanged)
			}
		})
	}

	// An Ingress carries the copy's refusals and the publisher's side by side.
	copyRefusal := translate.Refusal{Field: "spec.defaultBackend.resource", Reason: translate.ReasonUnsupportedKind, Message: "only Services"}
	got, changed := ingress.upMeta(&networkingv1.Ingress{ObjectMeta: withAnn()}, &networkingv1.Ingress{ObjectMeta: withAnn(vcdnsv1alpha1.AnnotationPublishRefused, refused)}, []translate.Refusal{copyRefusal})
	want := map[string]string{vcdnsv1alpha1.AnnotationPublishRefused: refused, vcdnsv1alpha1.AnnotationRefused: translate.RefusalsMessage([]translate.Refusal{copyRefusal})}
	if !changed || !maps.Equal(got.Annotations, want) {
		t.Errorf("Ingress with both refusals: annotations %v, changed %v; want %v", got.Annotations, changed, want)
	}
}

// A refusal is announced once, again only when it changes or after it was gone.
func TestLastRefusalsAnnouncesChangesOnly(t *testing.T) {
	t.Parallel()
	var l lastRefusals
	web := types.NamespacedName{Namespace: "default", Name: "web"}
	other := types.NamespacedName{Namespace: "default", Name: "other"}
	for i, step := range []struct {
		key  types.NamespacedName
		msg  string
		want bool
	}{
		{web, "", false},  // nothing refused, nothing before
		{web, "a", true},  // first refusal
		{web, "a", false}, // the same again: a status write, say
		{other, "a", true},
		{web, "b", true}, // changed
		{web, "", true},  // gone: the caller announces nothing for ""
		{web, "b", true}, // back
		{other, "a", false},
	} {
		if got := l.changed(step.key, step.msg); got != step.want {
			t.Errorf("step %d: changed(%s, %q) = %v, want %v", i, step.key.Name, step.msg, got, step.want)
		}
	}
}
