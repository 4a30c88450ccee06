package controllers

import (
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/publish"
)

// Service ranges go into the tenant CoreDNS's Corefile: what is not a CIDR stays out.
func TestSplitCIDRs(t *testing.T) {
	t.Parallel()
	valid, invalid := splitCIDRs([]string{"10.96.0.0/16", "fd00:10:96::/112", "10.96.0.0/16 }\nhosts {", "10.96.0.0", "", "300.1.0.0/16"})
	if want := []string{"10.96.0.0/16", "fd00:10:96::/112"}; !slices.Equal(valid, want) {
		t.Errorf("valid %q, want %q", valid, want)
	}
	if want := []string{"10.96.0.0/16 }\nhosts {", "10.96.0.0", "", "300.1.0.0/16"}; !slices.Equal(invalid, want) {
		t.Errorf("invalid %q, want %q", invalid, want)
	}
}

// A Pod DNS policy that cannot be written: an API server without the kind names the
// flags the platform must set; any other error is said as it is.
func TestPodDNSPolicyFailure(t *testing.T) {
	t.Parallel()
	gk := schema.GroupKind{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicy"}
	for _, tc := range []struct {
		name       string
		err        error
		wantReason string
		wantIn     string
	}{
		{name: "kind not served", err: &meta.NoKindMatchError{GroupKind: gk, SearchedVersions: []string{"v1beta1"}}, wantReason: vcdnsv1alpha1.ReasonMutatingAdmissionPolicyNotServed, wantIn: vcdnsv1alpha1.FlagsMutatingAdmissionPolicy},
		{name: "resource not found", err: apierrors.NewNotFound(schema.GroupResource{Group: gk.Group, Resource: "mutatingadmissionpolicies"}, ""), wantReason: vcdnsv1alpha1.ReasonMutatingAdmissionPolicyNotServed, wantIn: "--feature-gates=MutatingAdmissionPolicy=true"},
		{name: "forbidden", err: apierrors.NewForbidden(schema.GroupResource{Group: gk.Group, Resource: "mutatingadmissionpolicies"}, "x", errors.New("no")), wantReason: vcdnsv1alpha1.ReasonInstallFailed, wantIn: "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reason, msg := podDNSPolicyFailure(tc.err)
			if reason != tc.wantReason || !strings.Contains(msg, tc.wantIn) {
				t.Errorf("got %s %q, want %s and a message containing %q", reason, msg, tc.wantReason, tc.wantIn)
			}
		})
	}
}

// The nameservers of the Pods of an MCP namespace: the tenant DNS Service's ClusterIPs
// in order, nothing while it has none.
func TestTenantDNSAddresses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		spec corev1.ServiceSpec
		want []string
	}{
		{name: "dual-stack", spec: corev1.ServiceSpec{ClusterIP: "10.97.0.10", ClusterIPs: []string{"10.97.0.10", "fd00:10:97::a"}}, want: []string{"10.97.0.10", "fd00:10:97::a"}},
		{name: "only clusterIP", spec: corev1.ServiceSpec{ClusterIP: "10.97.0.10"}, want: []string{"10.97.0.10"}},
		{name: "none yet", spec: corev1.ServiceSpec{}},
		{name: "headless", spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, ClusterIPs: []string{corev1.ClusterIPNone}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tenantDNSAddresses(&corev1.Service{Spec: tc.spec}); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// The Published condition follows what publishing reports; a refusal of the central
// etcd has a reason of its own.
func TestPublishedCondition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		st         publish.PublishStatus
		had        bool
		wantSet    bool
		wantOK     bool
		wantReason string
		wantIn     string
	}{
		{name: "published", st: publish.PublishStatus{Started: true, Names: 3, Refused: 1}, wantSet: true, wantOK: true, wantReason: "Published", wantIn: "3 hostnames published, 1 refused"},
		{name: "failed", st: publish.PublishStatus{Started: true, Names: 3, LastError: "writing the central DNS store: boom"}, wantSet: true, wantReason: "PublishFailed", wantIn: "last error: writing the central DNS store: boom"},
		{name: "failed before the first publish", st: publish.PublishStatus{LastError: "listing: boom"}, had: true, wantSet: true, wantReason: "PublishFailed", wantIn: "boom"},
		{
			name:    "the central etcd not trusted",
			st:      publish.PublishStatus{LastError: "the central etcd https://etcd:2379: its serving certificate is not signed by ...", Reason: vcdnsv1alpha1.ReasonCentralEtcdNotTrusted},
			wantSet: true, wantReason: vcdnsv1alpha1.ReasonCentralEtcdNotTrusted, wantIn: "Nothing is published: the central etcd https://etcd:2379: its serving certificate",
		},
		{
			name:    "the central etcd refuses, after names were published",
			st:      publish.PublishStatus{Started: true, Names: 2, LastError: "the central etcd https://etcd:2379: it asks for a client certificate", Reason: vcdnsv1alpha1.ReasonCentralEtcdRefused},
			wantSet: true, wantReason: vcdnsv1alpha1.ReasonCentralEtcdRefused, wantIn: "what was published is kept",
		},
		{name: "a new session keeps the condition it finds", st: publish.PublishStatus{}, had: true},
		{name: "a new session of a new Cluster", st: publish.PublishStatus{}, wantSet: true, wantReason: "Starting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, reason, msg, set := publishedCondition(tc.st, tc.had)
			if set != tc.wantSet || ok != tc.wantOK || reason != tc.wantReason || !strings.Contains(msg, tc.wantIn) {
				t.Errorf("publishedCondition: set %v ok %v %s %q, want set %v ok %v %s with %q", set, ok, reason, msg, tc.wantSet, tc.wantOK, tc.wantReason, tc.wantIn)
			}
		})
	}
}
