/*
Copyright The vcdns Authors.
*/

package translate

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/vcdns/vcdns/syncer/naming"
)

// byteReader hands out fuzz bytes, zero when they run out.
type byteReader []byte

func (r *byteReader) next() byte {
	if len(*r) == 0 {
		return 0
	}
	b := (*r)[0]
	*r = (*r)[1:]
	return b
}

func (r *byteReader) pick(n int) int { return int(r.next()) % n }
func (r *byteReader) flag() bool     { return r.next()&1 == 1 }

// fuzzService builds a tenant Service as a user might write it, every field of the
// spec (allowed or not) possibly set, from fuzz bytes.
func fuzzService(data []byte) *corev1.Service {
	r := byteReader(data)
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{
		Namespace: "default", Name: "web", UID: "tenant-uid",
		Labels:      map[string]string{},
		Annotations: map[string]string{naming.ClusterIPAnnotation: "6.6.6.6"},
	}}
	sp := &s.Spec
	sp.Type = []corev1.ServiceType{"", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName}[r.pick(5)]
	// Only what API validation accepts: headless only for ClusterIP, two families
	// not with SingleStack, a requested IPv4 address only with IPv4 first.
	if sp.Type == corev1.ServiceTypeExternalName {
		sp.ExternalName = "db.example.com"
	} else {
		sp.IPFamilyPolicy = []*corev1.IPFamilyPolicy{nil, ptr.To(corev1.IPFamilyPolicySingleStack), ptr.To(corev1.IPFamilyPolicyPreferDualStack), ptr.To(corev1.IPFamilyPolicyRequireDualStack)}[r.pick(4)]
		sp.IPFamilies = [][]corev1.IPFamily{nil, {corev1.IPv4Protocol}, {corev1.IPv4Protocol, corev1.IPv6Protocol}, {corev1.IPv6Protocol}}[r.pick(4)]
		if len(sp.IPFamilies) == 2 && ptr.Deref(sp.IPFamilyPolicy, corev1.IPFamilyPolicySingleStack) == corev1.IPFamilyPolicySingleStack {
			sp.IPFamilies = sp.IPFamilies[:1]
		}
		switch r.pick(3) {
		case 1:
			if sp.Type == "" || sp.Type == corev1.ServiceTypeClusterIP {
				sp.ClusterIP = corev1.ClusterIPNone
			}
		case 2:
			if len(sp.IPFamilies) == 0 || sp.IPFamilies[0] == corev1.IPv4Protocol {
				sp.ClusterIP = "10.0.0.77"
				sp.ClusterIPs = []string{"10.0.0.77"}
			}
		}
		if r.flag() {
			sp.Selector = map[string]string{"app": "web"}
		}
		if r.flag() {
			sp.ExternalIPs = []string{"203.0.113.9"}
		}
	}
	ports := r.pick(4)
	offset := r.next()
	for i := range ports {
		// Names are unique, and may be empty for a single port, as validation demands.
		p := corev1.ServicePort{Name: fmt.Sprintf("p%d", (i+int(offset))%ports), Port: int32(80 + i)}
		if ports == 1 && r.flag() {
			p.Name = ""
		}
		p.Protocol = []corev1.Protocol{"", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}[r.pick(4)]
		p.TargetPort = []intstr.IntOrString{{}, intstr.FromInt32(8080), intstr.FromString("http"), intstr.FromString("")}[r.pick(4)]
		if r.flag() {
			p.AppProtocol = ptr.To("http")
		}
		if r.flag() {
			p.NodePort = int32(30100 + i)
		}
		sp.Ports = append(sp.Ports, p)
	}
	sp.SessionAffinity = []corev1.ServiceAffinity{"", corev1.ServiceAffinityNone, corev1.ServiceAffinityClientIP}[r.pick(3)]
	if r.flag() {
		sp.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](60)}}
	}
	sp.InternalTrafficPolicy = []*corev1.ServiceInternalTrafficPolicy{nil, ptr.To(corev1.ServiceInternalTrafficPolicyCluster), ptr.To(corev1.ServiceInternalTrafficPolicyLocal)}[r.pick(3)]
	if sp.Type == corev1.ServiceTypeNodePort || sp.Type == corev1.ServiceTypeLoadBalancer || len(sp.ExternalIPs) > 0 {
		sp.ExternalTrafficPolicy = []corev1.ServiceExternalTrafficPolicy{"", corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal}[r.pick(3)]
	}
	if sp.Type == corev1.ServiceTypeLoadBalancer {
		if r.flag() {
			sp.LoadBalancerClass = ptr.To("example.com/lb")
		}
		sp.AllocateLoadBalancerNodePorts = []*bool{nil, ptr.To(true), ptr.To(false)}[r.pick(3)]
		if r.flag() {
			sp.LoadBalancerSourceRanges = []string{"192.0.2.0/24"}
		}
		if r.flag() {
			sp.LoadBalancerIP = "198.51.100.7"
		}
		if r.flag() && sp.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
			sp.HealthCheckNodePort = 32500
		}
		s.Status.LoadBalancer = lbStatus("198.51.100.7")
	}
	if r.flag() {
		sp.TrafficDistribution = ptr.To(corev1.ServiceTrafficDistributionPreferClose)
	}
	sp.PublishNotReadyAddresses = r.flag()
	if r.flag() {
		s.Labels["app"] = "web"
	}
	if r.flag() {
		s.Labels[naming.LabelMCP] = "spoofed"
	}
	if r.flag() {
		s.Annotations["service.kubernetes.io/topology-mode"] = "Auto"
	}
	if r.flag() {
		s.Annotations["metallb.io/address-pool"] = "production"
	}
	return s
}

// FuzzServiceCopy checks, for tenant Services of every shape, that the copy never
// carries a clusterIP other than None, nodePorts, a health check node port, externalIPs,
// a loadBalancerIP, status or an annotation outside the allow-list; that a copy the
// server stored merges without change (no writes after a restart); that merging is
// idempotent; and that an update the merge asks for is accepted by the server and
// converges.
func FuzzServiceCopy(f *testing.F) {
	f.Add([]byte{}, []byte{}, false)
	f.Add([]byte{3, 2, 2, 2, 1, 1, 2, 1, 1, 1, 1}, []byte{1, 0, 1}, true)
	f.Add([]byte{2, 1, 3, 3, 0, 1, 2, 1, 1}, []byte{3, 2, 2, 2, 1}, true)
	f.Add([]byte{4, 1, 2, 2}, []byte{1, 1, 0, 0, 1}, false)
	f.Add([]byte{1, 1, 0, 0, 1, 2, 1, 3}, []byte{4, 2}, true)
	o := testOrigin(KindService, "default", "web")
	f.Fuzz(func(t *testing.T, tenantBytes, otherBytes []byte, dualStack bool) {
		// The tenant Service as the MCP stored it; the MCP may be dual-stack or not.
		mcp := fakeServer{dualStack: dualStack}
		tenant, err := mcp.create(fuzzService(tenantBytes))
		if err != nil {
			return
		}
		tenant.Status.LoadBalancer = lbStatus("198.51.100.7")
		tenant.Annotations = fuzzService(tenantBytes).Annotations
		before := tenant.DeepCopy()

		c := ServiceCopy(tenant, o)
		if !apiequality.Semantic.DeepEqual(tenant, before) {
			t.Fatalf("ServiceCopy changed the tenant Service")
		}
		if c.Namespace != o.MCPNamespace || c.Name != naming.CopyName("default", "web") || !OwnedBy(c, o) {
			t.Fatalf("copy is %s/%s with origin %v", c.Namespace, c.Name, c.Annotations)
		}
		checkNeverCopied(t, c)

		for _, workload := range []fakeServer{{dualStack: true}, {dualStack: false}} {
			stored, err := workload.create(c)
			if err != nil {
				// Dual-stack demanded of a single-stack workload cluster: the copy
				// cannot exist there, whatever it holds.
				continue
			}
			stored.Status.LoadBalancer = lbStatus("203.0.113.1")
			if merged, changed := MergeService(stored, c); changed {
				t.Fatalf("a stored copy merges with a change:\nstored %#v\nmerged %#v", stored.Spec, merged.Spec)
			}

			// An existing copy of another shape (an earlier version of the tenant).
			otherTenant, err := mcp.create(fuzzService(otherBytes))
			if err != nil {
				continue
			}
			existing, err := workload.create(ServiceCopy(otherTenant, o))
			if err != nil {
				continue
			}
			m1, _ := MergeService(existing, c)
			if m2, changed := MergeService(m1, c); changed {
				t.Fatalf("merging twice changes again:\nfirst %#v\nsecond %#v", m1.Spec, m2.Spec)
			}
			if m1.Spec.ClusterIP != existing.Spec.ClusterIP && m1.Spec.ClusterIP != corev1.ClusterIPNone && m1.Spec.ClusterIP != "" {
				t.Fatalf("merge invented clusterIP %q", m1.Spec.ClusterIP)
			}
			if ServiceNeedsRecreate(existing, c) {
				continue
			}
			updated, err := workload.update(existing, m1)
			if err != nil {
				if strings.Contains(err.Error(), "immutable") {
					t.Fatalf("the server refuses the merged update (%v) but ServiceNeedsRecreate is false:\nexisting %#v\nmerged %#v", err, existing.Spec, m1.Spec)
				}
				continue
			}
			if _, changed := MergeService(updated, c); changed {
				t.Fatalf("after the update the copy still merges with a change:\nupdated %#v\ndesired %#v", updated.Spec, c.Spec)
			}
		}
	})
}

// checkNeverCopied fails if a copy carries what is never copied down.
func checkNeverCopied(t *testing.T, c *corev1.Service) {
	t.Helper()
	sp := c.Spec
	if sp.ClusterIP != "" && sp.ClusterIP != corev1.ClusterIPNone {
		t.Fatalf("clusterIP %q copied", sp.ClusterIP)
	}
	for _, ip := range sp.ClusterIPs {
		if ip != corev1.ClusterIPNone {
			t.Fatalf("clusterIPs %v copied", sp.ClusterIPs)
		}
	}
	for _, p := range sp.Ports {
		if p.NodePort != 0 {
			t.Fatalf("nodePort %d copied", p.NodePort)
		}
	}
	if sp.HealthCheckNodePort != 0 || len(sp.ExternalIPs) > 0 || sp.LoadBalancerIP != "" {
		t.Fatalf("healthCheckNodePort %d, externalIPs %v, loadBalancerIP %q copied", sp.HealthCheckNodePort, sp.ExternalIPs, sp.LoadBalancerIP)
	}
	if !apiequality.Semantic.DeepEqual(c.Status, corev1.ServiceStatus{}) {
		t.Fatalf("status copied: %#v", c.Status)
	}
	for k := range c.Annotations {
		if !ownKey(k) && k != "service.kubernetes.io/topology-mode" && k != "service.kubernetes.io/topology-aware-hints" {
			t.Fatalf("annotation %q copied", k)
		}
	}
	if c.Labels[naming.LabelMCP] != testMCPNamespace {
		t.Fatalf("label %s = %q", naming.LabelMCP, c.Labels[naming.LabelMCP])
	}
}
