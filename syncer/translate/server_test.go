/*
Copyright The vcdns Authors.
*/

package translate

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// This file simulates what a kube-apiserver does to a Service on create and update
// (defaulting as in k8s.io/kubernetes/pkg/apis/core/v1.SetDefaults_Service, IP family
// and address allocation, patching allocated values, dropping type-dependent fields,
// immutability), so that merges can be checked against what a server really holds.

// fakeServer is a cluster's Service configuration.
type fakeServer struct {
	dualStack bool
}

func roundTrip[T any](in *T) *T {
	data, err := json.Marshal(in)
	if err != nil {
		panic(err)
	}
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		panic(err)
	}
	return out
}

func serverDefaults(s *corev1.Service) {
	sp := &s.Spec
	if sp.SessionAffinity == "" {
		sp.SessionAffinity = corev1.ServiceAffinityNone
	}
	if sp.SessionAffinity == corev1.ServiceAffinityNone {
		sp.SessionAffinityConfig = nil
	}
	if sp.SessionAffinity == corev1.ServiceAffinityClientIP {
		if sp.SessionAffinityConfig == nil || sp.SessionAffinityConfig.ClientIP == nil || sp.SessionAffinityConfig.ClientIP.TimeoutSeconds == nil {
			sp.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](10800)}}
		}
	}
	if sp.Type == "" {
		sp.Type = corev1.ServiceTypeClusterIP
	}
	for i := range sp.Ports {
		p := &sp.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	external := sp.Type == corev1.ServiceTypeLoadBalancer || sp.Type == corev1.ServiceTypeNodePort ||
		(sp.Type == corev1.ServiceTypeClusterIP && len(sp.ExternalIPs) > 0)
	if external && sp.ExternalTrafficPolicy == "" {
		sp.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if sp.InternalTrafficPolicy == nil && (sp.Type == corev1.ServiceTypeNodePort || sp.Type == corev1.ServiceTypeLoadBalancer || sp.Type == corev1.ServiceTypeClusterIP) {
		sp.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyCluster)
	}
	if sp.Type == corev1.ServiceTypeLoadBalancer && sp.AllocateLoadBalancerNodePorts == nil {
		sp.AllocateLoadBalancerNodePorts = ptr.To(true)
	}
}

func (f fakeServer) families() []corev1.IPFamily {
	if f.dualStack {
		return []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	}
	return []corev1.IPFamily{corev1.IPv4Protocol}
}

// allocate fills IP families, cluster IPs, node ports and the health check node port
// where the Service needs them and has none.
func (f fakeServer) allocate(s *corev1.Service) error {
	sp := &s.Spec
	if sp.Type == corev1.ServiceTypeExternalName {
		sp.ClusterIP, sp.ClusterIPs, sp.IPFamilies, sp.IPFamilyPolicy = "", nil, nil, nil
	} else {
		headless := sp.ClusterIP == corev1.ClusterIPNone
		if sp.IPFamilyPolicy == nil {
			if headless && len(sp.Selector) == 0 && f.dualStack {
				sp.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
			} else {
				sp.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicySingleStack)
			}
		}
		if *sp.IPFamilyPolicy == corev1.IPFamilyPolicyRequireDualStack && !f.dualStack {
			return fmt.Errorf("cluster is not dual-stack")
		}
		if len(sp.IPFamilies) > len(f.families()) {
			return fmt.Errorf("cluster is not dual-stack")
		}
		for _, fam := range sp.IPFamilies {
			if !slices.Contains(f.families(), fam) {
				return fmt.Errorf("cluster has no %s service range", fam)
			}
		}
		if len(sp.IPFamilies) == 0 {
			sp.IPFamilies = []corev1.IPFamily{f.families()[0]}
		}
		if *sp.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack && f.dualStack && len(sp.IPFamilies) == 1 {
			other := corev1.IPv6Protocol
			if sp.IPFamilies[0] == corev1.IPv6Protocol {
				other = corev1.IPv4Protocol
			}
			sp.IPFamilies = append(sp.IPFamilies, other)
		}
		if headless {
			sp.ClusterIPs = []string{corev1.ClusterIPNone}
		} else {
			for i := len(sp.ClusterIPs); i < len(sp.IPFamilies); i++ {
				if sp.IPFamilies[i] == corev1.IPv4Protocol {
					sp.ClusterIPs = append(sp.ClusterIPs, "10.96.0.10")
				} else {
					sp.ClusterIPs = append(sp.ClusterIPs, "fd00:10:96::10")
				}
			}
			sp.ClusterIP = sp.ClusterIPs[0]
		}
	}
	if sp.Type == corev1.ServiceTypeNodePort || sp.Type == corev1.ServiceTypeLoadBalancer {
		for i := range sp.Ports {
			if sp.Ports[i].NodePort == 0 {
				sp.Ports[i].NodePort = 30000 + int32(i)
			}
		}
	}
	if sp.Type == corev1.ServiceTypeLoadBalancer && sp.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal && sp.HealthCheckNodePort == 0 {
		sp.HealthCheckNodePort = 32000
	}
	return nil
}

// create returns what the server stores for a new Service.
func (f fakeServer) create(in *corev1.Service) (*corev1.Service, error) {
	s := roundTrip(in)
	serverDefaults(s)
	s.Status = corev1.ServiceStatus{}
	s.Generation, s.ResourceVersion, s.UID = 1, "1", "copy-uid"
	if err := f.allocate(s); err != nil {
		return nil, err
	}
	return s, nil
}

// update returns what the server stores when old is updated to in, or the error it
// gives.
func (f fakeServer) update(old, in *corev1.Service) (*corev1.Service, error) {
	s := roundTrip(in)
	serverDefaults(s)
	s.Status = old.Status
	o, n := &old.Spec, &s.Spec
	needsIP := func(t corev1.ServiceType) bool { return t != corev1.ServiceTypeExternalName }
	needsNP := func(t corev1.ServiceType) bool {
		return t == corev1.ServiceTypeNodePort || t == corev1.ServiceTypeLoadBalancer
	}
	// patchAllocatedValues
	if needsIP(o.Type) && needsIP(n.Type) {
		if n.ClusterIP == "" {
			n.ClusterIP = o.ClusterIP
		}
		if len(n.ClusterIPs) == 0 && len(o.ClusterIPs) > 0 {
			n.ClusterIPs = o.ClusterIPs
		}
	}
	if needsNP(o.Type) && needsNP(n.Type) {
		byName := map[string]int32{}
		for _, p := range o.Ports {
			byName[p.Name] = p.NodePort
		}
		for i := range n.Ports {
			if n.Ports[i].NodePort == 0 {
				n.Ports[i].NodePort = byName[n.Ports[i].Name]
			}
		}
	}
	hc := func(sp *corev1.ServiceSpec) bool {
		return sp.Type == corev1.ServiceTypeLoadBalancer && sp.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	}
	if hc(o) && hc(n) && n.HealthCheckNodePort == 0 {
		n.HealthCheckNodePort = o.HealthCheckNodePort
	}
	// dropTypeDependentFields
	if needsIP(o.Type) && !needsIP(n.Type) {
		if n.ClusterIP == o.ClusterIP && reflect.DeepEqual(n.ClusterIPs, o.ClusterIPs) {
			n.ClusterIP, n.ClusterIPs = "", nil
		}
		if reflect.DeepEqual(n.IPFamilies, o.IPFamilies) {
			n.IPFamilies = nil
		}
		if reflect.DeepEqual(n.IPFamilyPolicy, o.IPFamilyPolicy) {
			n.IPFamilyPolicy = nil
		}
	}
	if needsNP(o.Type) && !needsNP(n.Type) {
		for i := range n.Ports {
			n.Ports[i].NodePort = 0
		}
	}
	if hc(o) && !hc(n) && n.HealthCheckNodePort == o.HealthCheckNodePort {
		n.HealthCheckNodePort = 0
	}
	if o.Type == corev1.ServiceTypeLoadBalancer && n.Type != corev1.ServiceTypeLoadBalancer {
		if reflect.DeepEqual(o.AllocateLoadBalancerNodePorts, n.AllocateLoadBalancerNodePorts) {
			n.AllocateLoadBalancerNodePorts = nil
		}
		if reflect.DeepEqual(o.LoadBalancerClass, n.LoadBalancerClass) {
			n.LoadBalancerClass = nil
		}
	}
	if needsNP(o.Type) && !needsNP(n.Type) && o.ExternalTrafficPolicy == n.ExternalTrafficPolicy {
		n.ExternalTrafficPolicy = ""
	}
	if n.Type != corev1.ServiceTypeLoadBalancer {
		s.Status.LoadBalancer = corev1.LoadBalancerStatus{}
	}
	// Downgrade to single-stack trims the secondary family.
	if needsIP(n.Type) && ptr.Deref(n.IPFamilyPolicy, "") == corev1.IPFamilyPolicySingleStack {
		if len(n.ClusterIPs) > 1 && reflect.DeepEqual(n.ClusterIPs, o.ClusterIPs) {
			n.ClusterIPs = n.ClusterIPs[:1]
		}
		if len(n.IPFamilies) > 1 && reflect.DeepEqual(n.IPFamilies, o.IPFamilies) {
			n.IPFamilies = n.IPFamilies[:1]
		}
	}
	// Immutability.
	if needsIP(o.Type) && needsIP(n.Type) {
		if n.ClusterIP != o.ClusterIP {
			return nil, fmt.Errorf("spec.clusterIP: field is immutable")
		}
		if len(n.IPFamilies) > 0 && len(o.IPFamilies) > 0 && n.IPFamilies[0] != o.IPFamilies[0] {
			return nil, fmt.Errorf("spec.ipFamilies[0]: field is immutable")
		}
	}
	if o.Type == corev1.ServiceTypeLoadBalancer && n.Type == corev1.ServiceTypeLoadBalancer && !reflect.DeepEqual(o.LoadBalancerClass, n.LoadBalancerClass) {
		return nil, fmt.Errorf("spec.loadBalancerClass: field is immutable")
	}
	if err := f.allocate(s); err != nil {
		return nil, err
	}
	s.UID, s.ResourceVersion = old.UID, old.ResourceVersion+"1"
	s.Generation = old.Generation
	if !reflect.DeepEqual(old.Spec, s.Spec) {
		s.Generation++
	}
	return s, nil
}
