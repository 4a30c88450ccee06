/*
Copyright The vcdns Authors.
*/

package translate

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
)

const (
	sliceMCPNamespace = "mcp-d99bb272-f1e2-8297-8a42-8b0ff70fcfec"
	sliceCopyName     = "default-web-abcdefghijklmnop"
)

func headlessService(ns, name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, ClusterIPs: []string{corev1.ClusterIPNone}},
	}
}

// workloadEndpoint is an endpoint as the workload cluster's EndpointSlice controller
// writes it: with the Pod as targetRef, its node and zone.
func workloadEndpoint(ip, hostname string, ready bool) discoveryv1.Endpoint {
	ep := discoveryv1.Endpoint{
		Addresses:  []string{ip},
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(ready), Terminating: ptr.To(false)},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: sliceMCPNamespace, Name: "pod-" + ip, UID: "pod-uid"},
		NodeName:   ptr.To("shared-node-1"),
		Zone:       ptr.To("zone-a"),
		Hints:      &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "zone-a"}}},
	}
	if hostname != "" {
		ep.Hostname = ptr.To(hostname)
	}
	return ep
}

func tenantEndpoint(ip, hostname string, ready bool) discoveryv1.Endpoint {
	ep := discoveryv1.Endpoint{
		Addresses:  []string{ip},
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(ready), Terminating: ptr.To(false)},
	}
	if hostname != "" {
		ep.Hostname = ptr.To(hostname)
	}
	return ep
}

func httpPort(port int32) []discoveryv1.EndpointPort {
	return []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(port)}}
}

func workloadSlice(name, service string, family discoveryv1.AddressType, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) discoveryv1.EndpointSlice {
	return discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: sliceMCPNamespace, Name: name, Labels: map[string]string{
			discoveryv1.LabelServiceName: service,
			discoveryv1.LabelManagedBy:   "endpointslice-controller.k8s.io",
		}},
		AddressType: family,
		Endpoints:   eps,
		Ports:       ports,
	}
}

func tenantSlice(name string, family discoveryv1.AddressType, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) discoveryv1.EndpointSlice {
	return discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "default",
			Name:      name,
			Labels: map[string]string{
				discoveryv1.LabelServiceName: "web",
				discoveryv1.LabelManagedBy:   vcdnsv1alpha1.EndpointSliceManagedBy,
				corev1.IsHeadlessService:     "",
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: "web", UID: "uid-web", Controller: ptr.To(true)}},
		},
		AddressType: family,
		Endpoints:   eps,
		Ports:       ports,
	}
}

func TestTenantEndpointSlices(t *testing.T) {
	t.Parallel()
	tenant := headlessService("default", "web")
	cp := headlessService(sliceMCPNamespace, sliceCopyName)
	clusterIP := func(s *corev1.Service) *corev1.Service {
		s = s.DeepCopy()
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
		return s
	}

	many := make([]discoveryv1.Endpoint, 0, MaxEndpointsPerSlice+1)
	wantMany := make([]discoveryv1.Endpoint, 0, MaxEndpointsPerSlice+1)
	for i := range MaxEndpointsPerSlice + 1 {
		ip := fmt.Sprintf("10.244.%d.%d", i/200, 10+i%200)
		many = append(many, workloadEndpoint(ip, "", true))
		wantMany = append(wantMany, tenantEndpoint(ip, "", true))
	}
	slices.SortFunc(wantMany, func(a, b discoveryv1.Endpoint) int { return strings.Compare(a.Addresses[0], b.Addresses[0]) })

	tests := []struct {
		name     string
		tenant   *corev1.Service
		copy     *corev1.Service
		workload []discoveryv1.EndpointSlice
		want     []discoveryv1.EndpointSlice
	}{
		{
			name:   "a StatefulSet's Pods: Pod IPs and hostnames, nothing of the shared cluster",
			tenant: tenant, copy: cp,
			workload: []discoveryv1.EndpointSlice{
				workloadSlice("copy-abcde", sliceCopyName, discoveryv1.AddressTypeIPv4, httpPort(8080),
					workloadEndpoint("10.244.0.11", "web-1", true), workloadEndpoint("10.244.0.10", "web-0", true)),
			},
			want: []discoveryv1.EndpointSlice{
				tenantSlice("web-vcdns-ipv4-0", discoveryv1.AddressTypeIPv4, httpPort(8080),
					tenantEndpoint("10.244.0.10", "web-0", true), tenantEndpoint("10.244.0.11", "web-1", true)),
			},
		},
		{
			name:   "dual stack: one slice per address family",
			tenant: tenant, copy: cp,
			workload: []discoveryv1.EndpointSlice{
				workloadSlice("copy-v6", sliceCopyName, discoveryv1.AddressTypeIPv6, httpPort(80), workloadEndpoint("fd00:10:244::10", "web-0", true)),
				workloadSlice("copy-v4", sliceCopyName, discoveryv1.AddressTypeIPv4, httpPort(80), workloadEndpoint("10.244.0.10", "web-0", true)),
			},
			want: []discoveryv1.EndpointSlice{
				tenantSlice("web-vcdns-ipv4-0", discoveryv1.AddressTypeIPv4, httpPort(80), tenantEndpoint("10.244.0.10", "web-0", true)),
				tenantSlice("web-vcdns-ipv6-0", discoveryv1.AddressTypeIPv6, httpPort(80), tenantEndpoint("fd00:10:244::10", "web-0", true)),
			},
		},
		{
			name:   "slices of one family and port set are merged, a Pod in two of them answered once",
			tenant: tenant, copy: cp,
			workload: []discoveryv1.EndpointSlice{
				workloadSlice("copy-b", sliceCopyName, discoveryv1.AddressTypeIPv4, httpPort(80), workloadEndpoint("10.244.0.12", "", true), workloadEndpoint("10.244.0.10", "", true)),
				workloadSlice("copy-a", sliceCopyName, discoveryv1.AddressTypeIPv4, httpPort(80), workloadEndpoint("10.244.0.10", "", true)),
			},
			want: []discoveryv1.EndpointSlice{
				tenantSlice("web-vcdns-ipv4-0", discoveryv1.AddressTypeIPv4, httpPort(80),
					tenantEndpoint("10.244.0.10", "", true), tenantEndpoint("10.244.0.12", "", true)),
			},
		},
		{
			name:   "Pods whose named port resolves differently get a slice each",
			tenant: tenant, copy: cp,
			workload: []discoveryv1.EndpointSlice{
				workloadSlice("copy-a", sliceCopyName, discoveryv1.AddressTypeIPv4, httpPort(8080), workloadEndpoint("10.244.0.10", "", true)),
				workloadSlice("copy-b", sliceCopyName, discoveryv1.AddressTypeIPv4, httpPort(80), workloadEndpoint("10.244.0.11", "", true)),
			},
			want: []discoveryv1.EndpointSlice{
				tenantSlice("web-vcdns-ipv4-0", discoveryv1.AddressTypeIPv4, httpPort(80), tenantEndpoint("10.244.0.11", "", true)),
				tenantSlice("web-vcdns-ipv4-1", discoveryv1.AddressTypeIPv4, httpPort(8080), tenantEndpoint("10.244.0.10", "", true)),
			},
		},
		{
			name:   "not-ready endpoints keep their conditions; the tenant DNS decides",
			tenant: tenant, copy: cp,
			workload: []discoveryv1.EndpointSlice{
				workloadSlice("copy-a", sliceCopyName, discoveryv1.AddressTypeIPv4, httpPort(80), workloadEndpoint("10.244.0.10", "", false)),
			},
			want: []discoveryv1.EndpointSlice{
				tenantSlice("web-vcdns-ipv4-0", discoveryv1.AddressTypeIPv4, httpPort(80), tenantEndpoint("10.244.0.10", "", false)),
			},
		},
		{
			name:   "more endpoints than a slice holds are cut into slices",
			tenant: tenant, copy: cp,
			workload: []discoveryv1.EndpointSlice{
				workloadSlice("copy-a", sliceCopyName, discoveryv1.AddressTypeIPv4, httpPort(80), many...),
			},
			want: []discoveryv1.EndpointSlice{
				tenantSlice("web-vcdns-ipv4-0", discoveryv1.AddressTypeIPv4, httpPort(80), wantMany[:MaxEndpointsPerSlice]...),
				tenantSlice("web-vcdns-ipv4-1", discoveryv1.AddressTypeIPv4, httpPort(80), wantMany[MaxEndpointsPerSlice:]...),
			},
		},
		{
			name:   "ports take the server's defaults",
			tenant: tenant, copy: cp,
			workload: []discoveryv1.EndpointSlice{
				workloadSlice("copy-a", sliceCopyName, discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{{Port: ptr.To[int32](80)}}, workloadEndpoint("10.244.0.10", "", true)),
			},
			want: []discoveryv1.EndpointSlice{
				tenantSlice("web-vcdns-ipv4-0", discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{{Name: ptr.To(""), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](80)}}, tenantEndpoint("10.244.0.10", "", true)),
			},
		},
		{
			name:   "slices of other Services, other namespaces, FQDN slices and empty ones are ignored",
			tenant: tenant, copy: cp,
			workload: []discoveryv1.EndpointSlice{
				workloadSlice("other", "default-other-abcdefghijklmnop", discoveryv1.AddressTypeIPv4, httpPort(80), workloadEndpoint("10.244.0.99", "", true)),
				func() discoveryv1.EndpointSlice {
					s := workloadSlice("elsewhere", sliceCopyName, discoveryv1.AddressTypeIPv4, httpPort(80), workloadEndpoint("10.244.0.98", "", true))
					s.Namespace = "kube-system"
					return s
				}(),
				workloadSlice("fqdn", sliceCopyName, discoveryv1.AddressTypeFQDN, httpPort(80), workloadEndpoint("example.com", "", true)),
				workloadSlice("placeholder", sliceCopyName, discoveryv1.AddressTypeIPv4, nil),
			},
			want: nil,
		},
		{
			name:   "no endpoints, no slices",
			tenant: tenant, copy: cp,
			want: nil,
		},
		{
			name:   "a Service with a cluster IP has none",
			tenant: clusterIP(tenant), copy: clusterIP(cp),
			workload: []discoveryv1.EndpointSlice{
				workloadSlice("copy-a", sliceCopyName, discoveryv1.AddressTypeIPv4, httpPort(80), workloadEndpoint("10.244.0.10", "", true)),
			},
			want: nil,
		},
		{
			name:   "a tenant Service no longer headless has none while the copy still is",
			tenant: clusterIP(tenant), copy: cp,
			workload: []discoveryv1.EndpointSlice{
				workloadSlice("copy-a", sliceCopyName, discoveryv1.AddressTypeIPv4, httpPort(80), workloadEndpoint("10.244.0.10", "", true)),
			},
			want: nil,
		},
		{
			name:   "no tenant Service, none",
			tenant: nil, copy: cp,
			workload: []discoveryv1.EndpointSlice{
				workloadSlice("copy-a", sliceCopyName, discoveryv1.AddressTypeIPv4, httpPort(80), workloadEndpoint("10.244.0.10", "", true)),
			},
			want: nil,
		},
		{
			name:   "no copy, none",
			tenant: tenant, copy: nil,
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var before []discoveryv1.EndpointSlice
			for _, s := range tc.workload {
				before = append(before, *s.DeepCopy())
			}
			got := TenantEndpointSlices(tc.tenant, tc.copy, tc.workload)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("TenantEndpointSlices (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.workload); diff != "" {
				t.Errorf("the workload slices were modified (-before +after):\n%s", diff)
			}
		})
	}
}

func TestPlanEndpointSlices(t *testing.T) {
	t.Parallel()
	v4 := tenantSlice("web-vcdns-ipv4-0", discoveryv1.AddressTypeIPv4, httpPort(80), tenantEndpoint("10.244.0.10", "web-0", true))
	v6 := tenantSlice("web-vcdns-ipv6-0", discoveryv1.AddressTypeIPv6, httpPort(80), tenantEndpoint("fd00:10:244::10", "web-0", true))
	// stored is a slice as the API server returns it: with metadata of its own.
	stored := func(s discoveryv1.EndpointSlice) discoveryv1.EndpointSlice {
		s = *s.DeepCopy()
		s.UID, s.ResourceVersion = "slice-uid", "42"
		s.Labels["someone.example/else"] = "kept"
		s.Annotations = map[string]string{"endpoints.kubernetes.io/last-change-trigger-time": "x"}
		return s
	}
	scaled := tenantSlice("web-vcdns-ipv4-0", discoveryv1.AddressTypeIPv4, httpPort(80),
		tenantEndpoint("10.244.0.10", "web-0", true), tenantEndpoint("10.244.0.11", "web-1", true))
	wantScaled := stored(v4)
	wantScaled.Endpoints = scaled.Endpoints
	newOwner := *v4.DeepCopy()
	newOwner.OwnerReferences[0].UID = "uid-web-2"
	wantNewOwner := stored(v4)
	wantNewOwner.OwnerReferences = newOwner.OwnerReferences
	wrongFamily := stored(v4)
	wrongFamily.AddressType = discoveryv1.AddressTypeIPv6
	unordered := stored(v4)
	unordered.Ports = []discoveryv1.EndpointPort{
		{Name: ptr.To("metrics"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](9090)},
		{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](80)},
	}
	twoPorts := *v4.DeepCopy()
	twoPorts.Ports = []discoveryv1.EndpointPort{unordered.Ports[1], unordered.Ports[0]}

	tests := []struct {
		name             string
		current, desired []discoveryv1.EndpointSlice
		want             EndpointSliceChanges
	}{
		{name: "nothing yet: create", desired: []discoveryv1.EndpointSlice{v4, v6},
			want: EndpointSliceChanges{Create: []discoveryv1.EndpointSlice{v4, v6}}},
		{name: "as desired: nothing to do",
			current: []discoveryv1.EndpointSlice{stored(v4), stored(v6)}, desired: []discoveryv1.EndpointSlice{v4, v6}},
		{name: "the same ports in another order: nothing to do",
			current: []discoveryv1.EndpointSlice{unordered}, desired: []discoveryv1.EndpointSlice{twoPorts}},
		{name: "an endpoint more: update, keeping others' metadata",
			current: []discoveryv1.EndpointSlice{stored(v4)}, desired: []discoveryv1.EndpointSlice{scaled},
			want: EndpointSliceChanges{Update: []discoveryv1.EndpointSlice{wantScaled}}},
		{name: "a recreated tenant Service: the owner follows",
			current: []discoveryv1.EndpointSlice{stored(v4)}, desired: []discoveryv1.EndpointSlice{newOwner},
			want: EndpointSliceChanges{Update: []discoveryv1.EndpointSlice{wantNewOwner}}},
		{name: "a family gone: delete its slice",
			current: []discoveryv1.EndpointSlice{stored(v4), stored(v6)}, desired: []discoveryv1.EndpointSlice{v4},
			want: EndpointSliceChanges{Delete: []discoveryv1.EndpointSlice{stored(v6)}}},
		{name: "nothing desired: delete all",
			current: []discoveryv1.EndpointSlice{stored(v4), stored(v6)},
			want:    EndpointSliceChanges{Delete: []discoveryv1.EndpointSlice{stored(v4), stored(v6)}}},
		{name: "an address type that cannot change in place: delete and create",
			current: []discoveryv1.EndpointSlice{wrongFamily}, desired: []discoveryv1.EndpointSlice{v4},
			want: EndpointSliceChanges{Delete: []discoveryv1.EndpointSlice{wrongFamily}, Create: []discoveryv1.EndpointSlice{v4}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := PlanEndpointSlices(tc.current, tc.desired)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("PlanEndpointSlices (-want +got):\n%s", diff)
			}
			if got.Empty() != (len(tc.want.Create)+len(tc.want.Update)+len(tc.want.Delete) == 0) {
				t.Errorf("Empty() = %v for %+v", got.Empty(), got)
			}
		})
	}
}
