/*
Copyright The vcdns Authors.
*/

package translate

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// ServiceAnnotations is the allow-list of tenant Service annotations copied to the
// copy: topology-aware routing only, which affects nothing but the copy's own
// endpoints. Load-balancer annotations (service.beta.kubernetes.io/*, metallb.io/*, ...)
// are not copied: they would let a tenant pick address pools, internal networks or
// cloud settings of the shared workload cluster; external-dns annotations are not
// copied either: vcdns publishes names itself, under its own rules.
var ServiceAnnotations = []string{
	"service.kubernetes.io/topology-mode",
	"service.kubernetes.io/topology-aware-hints",
}

// ServiceCopy returns the copy of the tenant Service in the MCP namespace: Namespace
// o.MCPNamespace, Name naming.CopyName(tenant namespace, tenant name), the tenant's
// labels plus the origin, the annotations in ServiceAnnotations, and these spec fields
// only:
//
//   - ports: name, protocol, appProtocol, port, targetPort (never nodePort)
//   - selector, type, externalName, publishNotReadyAddresses
//   - clusterIP and clusterIPs only when headless ("None"); any other address is the
//     workload cluster's to allocate
//   - ipFamilies (with PreferDualStack the primary only), ipFamilyPolicy
//   - sessionAffinity, sessionAffinityConfig
//   - internalTrafficPolicy, externalTrafficPolicy (the latter only for NodePort and
//     LoadBalancer: without externalIPs, nothing else is externally accessible)
//   - trafficDistribution
//   - loadBalancerClass, allocateLoadBalancerNodePorts, loadBalancerSourceRanges
//
// loadBalancerSourceRanges is copied because it only narrows who may reach the load
// balancer: dropping it would silently open what the tenant restricted.
//
// Never copied: nodePorts and healthCheckNodePort (ports of the shared nodes),
// externalIPs (traffic interception on the shared cluster, CVE-2020-8554),
// loadBalancerIP (claiming addresses from the shared pool), any clusterIP(s) but
// "None", and status.
func ServiceCopy(tenant *corev1.Service, o Origin) *corev1.Service {
	t := tenant.Spec
	spec := corev1.ServiceSpec{
		Selector:                      cloneMap(t.Selector),
		Type:                          t.Type,
		ExternalName:                  t.ExternalName,
		PublishNotReadyAddresses:      t.PublishNotReadyAddresses,
		IPFamilies:                    append([]corev1.IPFamily(nil), t.IPFamilies...),
		IPFamilyPolicy:                clonePtr(t.IPFamilyPolicy),
		SessionAffinity:               t.SessionAffinity,
		SessionAffinityConfig:         t.SessionAffinityConfig.DeepCopy(),
		InternalTrafficPolicy:         clonePtr(t.InternalTrafficPolicy),
		ExternalTrafficPolicy:         t.ExternalTrafficPolicy,
		TrafficDistribution:           clonePtr(t.TrafficDistribution),
		LoadBalancerClass:             clonePtr(t.LoadBalancerClass),
		AllocateLoadBalancerNodePorts: clonePtr(t.AllocateLoadBalancerNodePorts),
		LoadBalancerSourceRanges:      append([]string(nil), t.LoadBalancerSourceRanges...),
	}
	for _, p := range t.Ports {
		spec.Ports = append(spec.Ports, corev1.ServicePort{
			Name:        p.Name,
			Protocol:    p.Protocol,
			AppProtocol: clonePtr(p.AppProtocol),
			Port:        p.Port,
			TargetPort:  p.TargetPort,
		})
	}
	if isHeadless(tenant) {
		spec.ClusterIP = corev1.ClusterIPNone
		spec.ClusterIPs = []string{corev1.ClusterIPNone}
	}
	if !externallyAccessible(spec.Type) {
		// The tenant may have had externalIPs, which made a ClusterIP Service externally
		// accessible; the copy has none, so the policy must go.
		spec.ExternalTrafficPolicy = ""
	}
	if len(spec.Selector) == 0 {
		spec.Selector = nil
	}
	// PreferDualStack: the tenant's API server filled in the families it has, which
	// say nothing of the workload cluster's. Only the primary family is asked for; the
	// workload cluster adds its secondary where it has one (a single-stack cluster
	// refuses a copy that names two).
	if ptr.Deref(spec.IPFamilyPolicy, "") == corev1.IPFamilyPolicyPreferDualStack && len(spec.IPFamilies) > 1 {
		spec.IPFamilies = spec.IPFamilies[:1]
	}
	if len(spec.IPFamilies) == 0 {
		spec.IPFamilies = nil
	}
	if len(spec.LoadBalancerSourceRanges) == 0 {
		spec.LoadBalancerSourceRanges = nil
	}
	return &corev1.Service{
		TypeMeta:   tenant.TypeMeta,
		ObjectMeta: copyMeta(tenant, o, ServiceAnnotations),
		Spec:       spec,
	}
}

// MergeService returns existing updated to desired (a ServiceCopy) and whether
// anything changed. It keeps what the workload cluster allocated: clusterIP(s),
// nodePorts (matched by port name, as the API server does), healthCheckNodePort, and
// ipFamilies and ipFamilyPolicy where desired leaves them open or asks for a prefix of
// what the server chose. Fields no copy sets (externalIPs, loadBalancerIP) are left as
// they are. Server defaults (protocol TCP, targetPort = port, sessionAffinity None,
// internalTrafficPolicy Cluster, type ClusterIP, ...) count as equal to unset, so a
// copy that already matches reports no change and a restarted syncer writes nothing.
//
// Some differences cannot be applied by an update (a change between headless and not,
// of the primary IP family, of loadBalancerClass); ServiceNeedsRecreate reports them.
// existing and desired are not modified.
func MergeService(existing, desired *corev1.Service) (*corev1.Service, bool) {
	merged := existing.DeepCopy()
	labels, annotations, metaChanged := mergeMeta(existing, desired, ServiceAnnotations)
	merged.Labels, merged.Annotations = labels, annotations

	want := desired.Spec.DeepCopy()
	defaultServiceSpec(want)
	got := &merged.Spec

	// Ports: the desired ports, with nodePorts the server allocated kept by name.
	nodePorts := map[string]int32{}
	for _, p := range existing.Spec.Ports {
		nodePorts[p.Name] = p.NodePort
	}
	got.Ports = want.Ports
	if needsNodePorts(want.Type) {
		for i := range got.Ports {
			got.Ports[i].NodePort = nodePorts[got.Ports[i].Name]
		}
	}

	got.Selector = want.Selector
	got.Type = want.Type
	got.ExternalName = want.ExternalName
	got.PublishNotReadyAddresses = want.PublishNotReadyAddresses
	got.SessionAffinity = want.SessionAffinity
	got.SessionAffinityConfig = want.SessionAffinityConfig
	got.ExternalTrafficPolicy = want.ExternalTrafficPolicy
	got.TrafficDistribution = want.TrafficDistribution
	got.LoadBalancerClass = want.LoadBalancerClass
	got.LoadBalancerSourceRanges = want.LoadBalancerSourceRanges
	if want.InternalTrafficPolicy != nil {
		got.InternalTrafficPolicy = want.InternalTrafficPolicy
	}
	if want.AllocateLoadBalancerNodePorts != nil {
		got.AllocateLoadBalancerNodePorts = want.AllocateLoadBalancerNodePorts
	}

	if want.Type != corev1.ServiceTypeExternalName {
		// Headless or not; the server allocates every other address. Switching to
		// ExternalName keeps the allocated values: the server drops them itself.
		switch {
		case want.ClusterIP == corev1.ClusterIPNone && got.ClusterIP != corev1.ClusterIPNone:
			got.ClusterIP, got.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
		case want.ClusterIP != corev1.ClusterIPNone && got.ClusterIP == corev1.ClusterIPNone:
			got.ClusterIP, got.ClusterIPs = "", nil
		}
		if want.IPFamilyPolicy != nil {
			got.IPFamilyPolicy = want.IPFamilyPolicy
		}
		// A desired prefix of the server's families is met: the server added the
		// secondary family (PreferDualStack) or will drop it (SingleStack).
		if len(want.IPFamilies) > 0 && !isPrefix(want.IPFamilies, got.IPFamilies) {
			got.IPFamilies = want.IPFamilies
		}
	}

	if !metaChanged && equalServiceSpecs(&existing.Spec, got) {
		return existing.DeepCopy(), false
	}
	return merged, true
}

// ServiceNeedsRecreate reports whether existing cannot be updated to desired and must
// be deleted and created again: the API server refuses to change a Service between
// headless and not, its primary IP family, or the loadBalancerClass of a LoadBalancer.
func ServiceNeedsRecreate(existing, desired *corev1.Service) bool {
	e, d := existing.Spec, desired.Spec
	if e.Type == corev1.ServiceTypeExternalName || d.Type == corev1.ServiceTypeExternalName {
		return false
	}
	if isHeadless(existing) != isHeadless(desired) {
		return true
	}
	if len(e.IPFamilies) > 0 && len(d.IPFamilies) > 0 && e.IPFamilies[0] != d.IPFamilies[0] {
		return true
	}
	return e.Type == corev1.ServiceTypeLoadBalancer && d.Type == corev1.ServiceTypeLoadBalancer &&
		ptr.Deref(e.LoadBalancerClass, "") != ptr.Deref(d.LoadBalancerClass, "")
}

// ClusterIPValue returns what the tenant annotation naming.ClusterIPAnnotation must
// hold for a copy: its spec.clusterIPs, comma-separated in order (spec.clusterIP if
// clusterIPs is empty). It reports false for no copy, a headless or ExternalName copy,
// and a copy the server has not given an address yet.
func ClusterIPValue(copy *corev1.Service) (string, bool) {
	if copy == nil || copy.Spec.Type == corev1.ServiceTypeExternalName || isHeadless(copy) {
		return "", false
	}
	ips := copy.Spec.ClusterIPs
	if len(ips) == 0 && copy.Spec.ClusterIP != "" {
		ips = []string{copy.Spec.ClusterIP}
	}
	var out []string
	for _, ip := range ips {
		if ip != "" && ip != corev1.ClusterIPNone {
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return "", false
	}
	return strings.Join(out, ","), true
}

// DesiredTenantAnnotation decides the tenant Service's naming.ClusterIPAnnotation: the
// value to set, or remove=true if the annotation must be absent. It is absent for a
// headless or ExternalName tenant Service, without a copy, and while the copy has no
// address; otherwise it is ClusterIPValue(copy). Whatever anyone else wrote there is
// thereby corrected or removed.
func DesiredTenantAnnotation(tenant, copy *corev1.Service) (value string, remove bool) {
	if tenant.Spec.Type == corev1.ServiceTypeExternalName || isHeadless(tenant) {
		return "", true
	}
	v, ok := ClusterIPValue(copy)
	if !ok {
		return "", true
	}
	return v, false
}

// TenantServiceStatus returns the status of the tenant Service as far as it flows back
// up from the copy: the load-balancer ingress points of a LoadBalancer copy. Conditions
// are not mapped: their observedGeneration refers to the copy.
func TenantServiceStatus(copy *corev1.Service) corev1.ServiceStatus {
	if copy == nil || copy.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return corev1.ServiceStatus{}
	}
	return corev1.ServiceStatus{LoadBalancer: *copy.Status.LoadBalancer.DeepCopy()}
}

// SkipService reports whether a tenant Service is never synced: default/kubernetes
// (the MCP's own API server) and the tenant DNS Service tenantDNS (whose address is
// the tenant CoreDNS's own).
func SkipService(svc *corev1.Service, tenantDNS types.NamespacedName) bool {
	key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	return key == types.NamespacedName{Namespace: "default", Name: "kubernetes"} || key == tenantDNS
}

// defaultServiceSpec sets the defaults the API server sets on a Service spec
// (k8s.io/kubernetes/pkg/apis/core/v1.SetDefaults_Service) and normalises empty
// collections to nil, as they are after a round trip through JSON.
func defaultServiceSpec(s *corev1.ServiceSpec) {
	if s.Type == "" {
		s.Type = corev1.ServiceTypeClusterIP
	}
	if s.SessionAffinity == "" {
		s.SessionAffinity = corev1.ServiceAffinityNone
	}
	if s.SessionAffinity == corev1.ServiceAffinityNone {
		s.SessionAffinityConfig = nil
	}
	if s.SessionAffinity == corev1.ServiceAffinityClientIP {
		c := s.SessionAffinityConfig
		if c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			s.SessionAffinityConfig = &corev1.SessionAffinityConfig{
				ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To(corev1.DefaultClientIPServiceAffinitySeconds)},
			}
		}
	}
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if externallyAccessible(s.Type) && s.ExternalTrafficPolicy == "" {
		s.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if s.InternalTrafficPolicy == nil && s.Type != corev1.ServiceTypeExternalName {
		s.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyCluster)
	}
	if s.Type == corev1.ServiceTypeLoadBalancer && s.AllocateLoadBalancerNodePorts == nil {
		s.AllocateLoadBalancerNodePorts = ptr.To(true)
	}
	if len(s.Ports) == 0 {
		s.Ports = nil
	}
	if len(s.Selector) == 0 {
		s.Selector = nil
	}
	if len(s.ClusterIPs) == 0 {
		s.ClusterIPs = nil
	}
	if len(s.IPFamilies) == 0 {
		s.IPFamilies = nil
	}
	if len(s.ExternalIPs) == 0 {
		s.ExternalIPs = nil
	}
	if len(s.LoadBalancerSourceRanges) == 0 {
		s.LoadBalancerSourceRanges = nil
	}
}

// equalServiceSpecs compares two specs modulo server defaults.
func equalServiceSpecs(a, b *corev1.ServiceSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	defaultServiceSpec(a)
	defaultServiceSpec(b)
	return apiequality.Semantic.DeepEqual(a, b)
}

func isHeadless(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ClusterIP == corev1.ClusterIPNone
}

// externallyAccessible reports whether a Service of this type, without externalIPs,
// is reachable from outside the cluster (and so has an externalTrafficPolicy).
func externallyAccessible(t corev1.ServiceType) bool {
	return t == corev1.ServiceTypeNodePort || t == corev1.ServiceTypeLoadBalancer
}

func needsNodePorts(t corev1.ServiceType) bool {
	return t == corev1.ServiceTypeNodePort || t == corev1.ServiceTypeLoadBalancer
}

func isPrefix[T comparable](prefix, s []T) bool {
	if len(prefix) > len(s) {
		return false
	}
	for i := range prefix {
		if prefix[i] != s[i] {
			return false
		}
	}
	return true
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
