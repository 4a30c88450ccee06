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
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/vcdns/vcdns/syncer/naming"
)

func tenantService(mutate func(s *corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "default", Name: "web", UID: "tenant-uid", Generation: 3, ResourceVersion: "42",
			Labels: map[string]string{"app": "web"},
		},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{
				Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080),
			}},
			ClusterIP:             "10.0.0.10",
			ClusterIPs:            []string{"10.0.0.10"},
			IPFamilies:            []corev1.IPFamily{corev1.IPv4Protocol},
			IPFamilyPolicy:        ptr.To(corev1.IPFamilyPolicySingleStack),
			SessionAffinity:       corev1.ServiceAffinityNone,
			InternalTrafficPolicy: ptr.To(corev1.ServiceInternalTrafficPolicyCluster),
		},
	}
	if mutate != nil {
		mutate(s)
	}
	return s
}

// wantCopy is the copy of tenantService(nil), changed by mutate.
func wantCopy(mutate func(s *corev1.Service)) *corev1.Service {
	o := testOrigin(KindService, "default", "web")
	s := &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: testMCPNamespace, Name: naming.CopyName("default", "web"),
			Labels:      map[string]string{"app": "web"},
			Annotations: map[string]string{naming.AnnotationTenantLabels: "app"},
		},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{
				Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080),
			}},
			IPFamilies:            []corev1.IPFamily{corev1.IPv4Protocol},
			IPFamilyPolicy:        ptr.To(corev1.IPFamilyPolicySingleStack),
			SessionAffinity:       corev1.ServiceAffinityNone,
			InternalTrafficPolicy: ptr.To(corev1.ServiceInternalTrafficPolicyCluster),
		},
	}
	SetOrigin(s, o)
	if mutate != nil {
		mutate(s)
	}
	return s
}

func TestServiceCopy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tenant func(s *corev1.Service)
		want   func(s *corev1.Service)
	}{
		{name: "ClusterIP: addresses left to the workload cluster"},
		{
			name: "ports: name, protocol, appProtocol, port, targetPort; never nodePort",
			tenant: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeNodePort
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
				s.Spec.Ports = []corev1.ServicePort{
					{Name: "http", Protocol: corev1.ProtocolTCP, AppProtocol: ptr.To("http"), Port: 80, TargetPort: intstr.FromString("web"), NodePort: 30080},
					{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(5353), NodePort: 30053},
				}
			},
			want: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeNodePort
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
				s.Spec.Ports = []corev1.ServicePort{
					{Name: "http", Protocol: corev1.ProtocolTCP, AppProtocol: ptr.To("http"), Port: 80, TargetPort: intstr.FromString("web")},
					{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(5353)},
				}
			},
		},
		{
			name:   "selector",
			tenant: func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "web", "tier": "front"} },
			want:   func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "web", "tier": "front"} },
		},
		{
			name:   "no selector",
			tenant: func(s *corev1.Service) { s.Spec.Selector = map[string]string{} },
			want:   func(s *corev1.Service) { s.Spec.Selector = nil },
		},
		{
			name: "headless keeps None",
			tenant: func(s *corev1.Service) {
				s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
			},
			want: func(s *corev1.Service) {
				s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
			},
		},
		{
			name: "PreferDualStack of a dual-stack MCP: the primary family only, the workload cluster adds its secondary if it has one",
			tenant: func(s *corev1.Service) {
				s.Spec.ClusterIPs = []string{"10.0.0.10", "fd00::10"}
				s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
				s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyPreferDualStack)
			},
			want: func(s *corev1.Service) {
				s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
				s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyPreferDualStack)
			},
		},
		{
			name: "dual-stack: families and policy",
			tenant: func(s *corev1.Service) {
				s.Spec.ClusterIPs = []string{"10.0.0.10", "fd00::10"}
				s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
				s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
			},
			want: func(s *corev1.Service) {
				s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
				s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
			},
		},
		{
			name: "session affinity and its config",
			tenant: func(s *corev1.Service) {
				s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
				s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](60)}}
			},
			want: func(s *corev1.Service) {
				s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
				s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](60)}}
			},
		},
		{
			name: "ExternalName",
			tenant: func(s *corev1.Service) {
				s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com", SessionAffinity: corev1.ServiceAffinityNone}
			},
			want: func(s *corev1.Service) {
				s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com", SessionAffinity: corev1.ServiceAffinityNone}
			},
		},
		{
			name: "internal traffic policy",
			tenant: func(s *corev1.Service) {
				s.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyLocal)
			},
			want: func(s *corev1.Service) {
				s.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyLocal)
			},
		},
		{
			name: "traffic distribution",
			tenant: func(s *corev1.Service) {
				s.Spec.TrafficDistribution = ptr.To(corev1.ServiceTrafficDistributionPreferClose)
			},
			want: func(s *corev1.Service) {
				s.Spec.TrafficDistribution = ptr.To(corev1.ServiceTrafficDistributionPreferClose)
			},
		},
		{
			name:   "publishNotReadyAddresses",
			tenant: func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true },
			want:   func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true },
		},
		{
			name: "LoadBalancer: class, node port allocation, source ranges, traffic policy; never loadBalancerIP, healthCheckNodePort, status",
			tenant: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeLoadBalancer
				s.Spec.Ports[0].NodePort = 31000
				s.Spec.LoadBalancerClass = ptr.To("example.com/lb")
				s.Spec.AllocateLoadBalancerNodePorts = ptr.To(false)
				s.Spec.LoadBalancerSourceRanges = []string{"192.0.2.0/24"}
				s.Spec.LoadBalancerIP = "198.51.100.7"
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
				s.Spec.HealthCheckNodePort = 32100
				s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.51.100.7"}}
			},
			want: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeLoadBalancer
				s.Spec.LoadBalancerClass = ptr.To("example.com/lb")
				s.Spec.AllocateLoadBalancerNodePorts = ptr.To(false)
				s.Spec.LoadBalancerSourceRanges = []string{"192.0.2.0/24"}
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			},
		},
		{
			name: "externalIPs never; the traffic policy they needed goes too",
			tenant: func(s *corev1.Service) {
				s.Spec.ExternalIPs = []string{"203.0.113.9"}
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
			},
		},
		{
			name: "annotations: allow-listed only",
			tenant: func(s *corev1.Service) {
				s.Annotations = map[string]string{
					"service.kubernetes.io/topology-mode":                         "Auto",
					"service.kubernetes.io/topology-aware-hints":                  "auto",
					"service.beta.kubernetes.io/aws-load-balancer-internal":       "true",
					"metallb.io/address-pool":                                     "production",
					"external-dns.alpha.kubernetes.io/hostname":                   "www.example.com",
					naming.ClusterIPAnnotation:                                    "10.96.0.10",
					"kubectl.kubernetes.io/last-applied-configuration":            "{}",
					"service.beta.kubernetes.io/load-balancer-source-ranges-note": "x",
				}
			},
			want: func(s *corev1.Service) {
				s.Annotations["service.kubernetes.io/topology-mode"] = "Auto"
				s.Annotations["service.kubernetes.io/topology-aware-hints"] = "auto"
			},
		},
		{
			name: "labels: the tenant's, without vcdns keys",
			tenant: func(s *corev1.Service) {
				s.Labels = map[string]string{"app": "web", "tier": "front", naming.LabelMCP: "mcp-spoofed"}
			},
			want: func(s *corev1.Service) {
				s.Labels["tier"] = "front"
				s.Annotations[naming.AnnotationTenantLabels] = "app,tier"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tenant := tenantService(tt.tenant)
			before := tenant.DeepCopy()
			got := ServiceCopy(tenant, testOrigin(KindService, "default", "web"))
			if want := wantCopy(tt.want); !apiequality.Semantic.DeepEqual(got, want) {
				t.Errorf("ServiceCopy =\n%#v\nwant\n%#v", got, want)
			}
			if !apiequality.Semantic.DeepEqual(tenant, before) {
				t.Errorf("ServiceCopy changed its argument")
			}
		})
	}
}

// lbStatus is a load-balancer status as a controller writes it.
func lbStatus(ips ...string) corev1.LoadBalancerStatus {
	var st corev1.LoadBalancerStatus
	for _, ip := range ips {
		st.Ingress = append(st.Ingress, corev1.LoadBalancerIngress{IP: ip, IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)})
	}
	return st
}

func TestMergeServiceNoWritesForAMatchingCopy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		tenant    func(s *corev1.Service)
		dualStack bool
	}{
		{name: "ClusterIP"},
		{name: "ClusterIP on a dual-stack cluster", dualStack: true},
		{
			name:   "defaults left to the server",
			tenant: func(s *corev1.Service) { s.Spec = corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}} },
		},
		{
			name: "named target port defaulted from the port",
			tenant: func(s *corev1.Service) {
				s.Spec.Ports = []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("")}}
			},
		},
		{
			name: "PreferDualStack from a single-stack MCP onto a dual-stack cluster",
			tenant: func(s *corev1.Service) {
				s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyPreferDualStack)
			},
			dualStack: true,
		},
		{
			name: "headless",
			tenant: func(s *corev1.Service) {
				s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
			},
		},
		{
			name: "headless without selector, families left to the server",
			tenant: func(s *corev1.Service) {
				s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
				s.Spec.Selector, s.Spec.IPFamilies, s.Spec.IPFamilyPolicy = nil, nil, nil
			},
			dualStack: true,
		},
		{
			name: "NodePort with allocated node ports",
			tenant: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeNodePort
				s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "https", Port: 443})
			},
		},
		{
			name: "LoadBalancer with Local policy and health check port",
			tenant: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeLoadBalancer
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
				s.Spec.LoadBalancerSourceRanges = []string{"192.0.2.0/24"}
			},
		},
		{
			name: "client IP affinity with default timeout",
			tenant: func(s *corev1.Service) {
				s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			},
		},
		{
			name: "ExternalName",
			tenant: func(s *corev1.Service) {
				s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			server := fakeServer{dualStack: tt.dualStack}
			desired := ServiceCopy(tenantService(tt.tenant), testOrigin(KindService, "default", "web"))
			stored, err := server.create(desired)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			stored.Status.LoadBalancer = lbStatus("198.51.100.7")
			before := stored.DeepCopy()
			merged, changed := MergeService(stored, desired)
			if changed {
				t.Errorf("MergeService reports a change for a matching copy:\nstored %#v\nmerged %#v", stored.Spec, merged.Spec)
			}
			if !apiequality.Semantic.DeepEqual(merged, stored) {
				t.Errorf("MergeService without change returned something else than existing")
			}
			if !apiequality.Semantic.DeepEqual(stored, before) {
				t.Errorf("MergeService changed its argument")
			}
		})
	}
}

func TestMergeServiceUpdates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		before    func(s *corev1.Service)
		after     func(s *corev1.Service)
		dualStack bool
		check     func(t *testing.T, stored, updated *corev1.Service)
	}{
		{
			name:   "port added, node ports kept by name",
			before: func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort },
			after: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeNodePort
				s.Spec.Ports = []corev1.ServicePort{{Name: "https", Port: 443}, s.Spec.Ports[0]}
			},
			check: func(t *testing.T, stored, updated *corev1.Service) {
				if updated.Spec.Ports[1].NodePort != stored.Spec.Ports[0].NodePort {
					t.Errorf("node port of http moved from %d to %d", stored.Spec.Ports[0].NodePort, updated.Spec.Ports[1].NodePort)
				}
			},
		},
		{
			name:  "ClusterIP to LoadBalancer keeps the cluster IP",
			after: func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer },
			check: func(t *testing.T, stored, updated *corev1.Service) {
				if updated.Spec.ClusterIP != stored.Spec.ClusterIP || updated.Spec.Ports[0].NodePort == 0 {
					t.Errorf("cluster IP %q -> %q, node port %d", stored.Spec.ClusterIP, updated.Spec.ClusterIP, updated.Spec.Ports[0].NodePort)
				}
			},
		},
		{
			name: "LoadBalancer to ClusterIP drops type-dependent fields",
			before: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeLoadBalancer
				s.Spec.LoadBalancerClass = ptr.To("example.com/lb")
			},
			check: func(t *testing.T, _, updated *corev1.Service) {
				if updated.Spec.Ports[0].NodePort != 0 || updated.Spec.AllocateLoadBalancerNodePorts != nil || updated.Spec.ExternalTrafficPolicy != "" {
					t.Errorf("type-dependent fields left: %#v", updated.Spec)
				}
			},
		},
		{
			name: "Local to Cluster policy releases the health check port",
			before: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeLoadBalancer
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			},
			after: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeLoadBalancer
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
			},
			check: func(t *testing.T, _, updated *corev1.Service) {
				if updated.Spec.HealthCheckNodePort != 0 {
					t.Errorf("health check node port %d kept", updated.Spec.HealthCheckNodePort)
				}
			},
		},
		{
			name:      "single-stack to dual-stack",
			after:     func(s *corev1.Service) { s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyPreferDualStack) },
			dualStack: true,
			check: func(t *testing.T, _, updated *corev1.Service) {
				if len(updated.Spec.ClusterIPs) != 2 {
					t.Errorf("clusterIPs = %v, want two", updated.Spec.ClusterIPs)
				}
			},
		},
		{
			name: "dual-stack to single-stack",
			before: func(s *corev1.Service) {
				s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
				s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
			},
			dualStack: true,
			check: func(t *testing.T, _, updated *corev1.Service) {
				if len(updated.Spec.ClusterIPs) != 1 || len(updated.Spec.IPFamilies) != 1 {
					t.Errorf("clusterIPs = %v, ipFamilies = %v, want one", updated.Spec.ClusterIPs, updated.Spec.IPFamilies)
				}
			},
		},
		{
			name: "ClusterIP to ExternalName releases the addresses",
			after: func(s *corev1.Service) {
				s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"}
			},
			check: func(t *testing.T, _, updated *corev1.Service) {
				if updated.Spec.ClusterIP != "" || updated.Spec.IPFamilies != nil || updated.Spec.IPFamilyPolicy != nil {
					t.Errorf("addresses left: %#v", updated.Spec)
				}
			},
		},
		{
			name: "ExternalName to headless",
			before: func(s *corev1.Service) {
				s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"}
			},
			after: func(s *corev1.Service) {
				s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
			},
			check: func(t *testing.T, _, updated *corev1.Service) {
				if updated.Spec.ClusterIP != corev1.ClusterIPNone {
					t.Errorf("clusterIP = %q, want None", updated.Spec.ClusterIP)
				}
			},
		},
		{
			name: "selector, affinity and every other allow-listed field",
			after: func(s *corev1.Service) {
				s.Spec.Selector = map[string]string{"app": "api"}
				s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
				s.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyLocal)
				s.Spec.TrafficDistribution = ptr.To(corev1.ServiceTrafficDistributionPreferClose)
				s.Spec.PublishNotReadyAddresses = true
				s.Spec.Ports[0].AppProtocol = ptr.To("h2c")
			},
		},
		{
			name: "load balancer source ranges and node port allocation",
			before: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeLoadBalancer
				s.Spec.LoadBalancerClass = ptr.To("example.com/lb")
			},
			after: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeLoadBalancer
				s.Spec.LoadBalancerClass = ptr.To("example.com/lb")
				s.Spec.LoadBalancerSourceRanges = []string{"192.0.2.0/24"}
				s.Spec.AllocateLoadBalancerNodePorts = ptr.To(false)
			},
			check: func(t *testing.T, _, updated *corev1.Service) {
				if len(updated.Spec.LoadBalancerSourceRanges) != 1 || ptr.Deref(updated.Spec.AllocateLoadBalancerNodePorts, true) {
					t.Errorf("spec = %#v", updated.Spec)
				}
			},
		},
		{
			name:  "labels",
			after: func(s *corev1.Service) { s.Labels = map[string]string{"app": "web", "version": "2"} },
			check: func(t *testing.T, _, updated *corev1.Service) {
				if updated.Labels["version"] != "2" {
					t.Errorf("labels = %v", updated.Labels)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			server := fakeServer{dualStack: tt.dualStack}
			o := testOrigin(KindService, "default", "web")
			first := ServiceCopy(tenantService(tt.before), o)
			stored, err := server.create(first)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			desired := ServiceCopy(tenantService(tt.after), o)
			if ServiceNeedsRecreate(stored, desired) {
				t.Fatalf("ServiceNeedsRecreate = true")
			}
			merged, changed := MergeService(stored, desired)
			if !changed {
				t.Fatalf("MergeService reports no change")
			}
			updated, err := server.update(stored, merged)
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if tt.check != nil {
				tt.check(t, stored, updated)
			}
			if _, changed := MergeService(updated, desired); changed {
				t.Errorf("MergeService still reports a change after the update:\n%#v", updated.Spec)
			}
		})
	}
}

func TestServiceNeedsRecreate(t *testing.T) {
	t.Parallel()
	headless := func(s *corev1.Service) {
		s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
	}
	tests := []struct {
		name     string
		existing func(s *corev1.Service)
		desired  func(s *corev1.Service)
		want     bool
	}{
		{name: "same"},
		{name: "to headless", desired: headless, want: true},
		{name: "from headless", existing: headless, want: true},
		{
			name:     "primary family",
			existing: func(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol} },
			want:     true,
		},
		{
			name: "load balancer class",
			existing: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeLoadBalancer
				s.Spec.LoadBalancerClass = ptr.To("a")
			},
			desired: func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeLoadBalancer
				s.Spec.LoadBalancerClass = ptr.To("b")
			},
			want: true,
		},
		{
			name:     "from ExternalName",
			existing: func(s *corev1.Service) { s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName} },
			desired:  headless,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ServiceNeedsRecreate(tenantService(tt.existing), tenantService(tt.desired)); got != tt.want {
				t.Errorf("ServiceNeedsRecreate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClusterIPValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		copy   *corev1.Service
		want   string
		wantOK bool
	}{
		{name: "no copy"},
		{name: "single", copy: tenantService(nil), want: "10.0.0.10", wantOK: true},
		{
			name: "dual-stack in order",
			copy: tenantService(func(s *corev1.Service) { s.Spec.ClusterIPs = []string{"fd00::10", "10.0.0.10"} }),
			want: "fd00::10,10.0.0.10", wantOK: true,
		},
		{
			name: "clusterIP only",
			copy: tenantService(func(s *corev1.Service) { s.Spec.ClusterIPs = nil }),
			want: "10.0.0.10", wantOK: true,
		},
		{
			name: "not allocated yet",
			copy: tenantService(func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "", nil }),
		},
		{
			name: "headless",
			copy: tenantService(func(s *corev1.Service) {
				s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
			}),
		},
		{
			name: "ExternalName",
			copy: tenantService(func(s *corev1.Service) {
				s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "x"}
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ClusterIPValue(tt.copy)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ClusterIPValue = %q, %v, want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestDesiredTenantAnnotation(t *testing.T) {
	t.Parallel()
	withAnnotation := func(v string) func(s *corev1.Service) {
		return func(s *corev1.Service) { s.Annotations = map[string]string{naming.ClusterIPAnnotation: v} }
	}
	copyWith := func(ips ...string) *corev1.Service {
		return tenantService(func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = ips[0], ips })
	}
	tests := []struct {
		name       string
		tenant     *corev1.Service
		copy       *corev1.Service
		wantValue  string
		wantRemove bool
	}{
		{name: "set", tenant: tenantService(nil), copy: copyWith("10.96.0.10"), wantValue: "10.96.0.10"},
		{name: "corrected", tenant: tenantService(withAnnotation("6.6.6.6")), copy: copyWith("10.96.0.10"), wantValue: "10.96.0.10"},
		{name: "dual-stack", tenant: tenantService(nil), copy: copyWith("10.96.0.10", "fd00::a"), wantValue: "10.96.0.10,fd00::a"},
		{name: "no copy", tenant: tenantService(withAnnotation("6.6.6.6")), wantRemove: true},
		{name: "copy without IPs", tenant: tenantService(nil), copy: copyWith(""), wantRemove: true},
		{
			name:       "headless tenant",
			tenant:     tenantService(func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone; withAnnotation("6.6.6.6")(s) }),
			copy:       copyWith("10.96.0.10"),
			wantRemove: true,
		},
		{
			name: "ExternalName tenant",
			tenant: tenantService(func(s *corev1.Service) {
				s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "x"}
				withAnnotation("6.6.6.6")(s)
			}),
			copy:       copyWith("10.96.0.10"),
			wantRemove: true,
		},
		{
			name:       "headless copy",
			tenant:     tenantService(nil),
			copy:       copyWith(corev1.ClusterIPNone),
			wantRemove: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			value, remove := DesiredTenantAnnotation(tt.tenant, tt.copy)
			if value != tt.wantValue || remove != tt.wantRemove {
				t.Errorf("DesiredTenantAnnotation = %q, %v, want %q, %v", value, remove, tt.wantValue, tt.wantRemove)
			}
		})
	}
}

func TestTenantServiceStatus(t *testing.T) {
	t.Parallel()
	lb := func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeLoadBalancer
		s.Status.LoadBalancer = lbStatus("198.51.100.7", "2001:db8::7")
		s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{
			Hostname: "lb.example.com", Ports: []corev1.PortStatus{{Port: 80, Protocol: corev1.ProtocolTCP}},
		})
		s.Status.Conditions = []metav1.Condition{{Type: "x", Status: metav1.ConditionTrue, ObservedGeneration: 9}}
	}
	tests := []struct {
		name string
		copy *corev1.Service
		want corev1.ServiceStatus
	}{
		{name: "no copy"},
		{
			name: "load balancer ingress flows up, conditions do not",
			copy: tenantService(lb),
			want: corev1.ServiceStatus{LoadBalancer: tenantService(lb).Status.LoadBalancer},
		},
		{
			name: "not a load balancer",
			copy: tenantService(func(s *corev1.Service) { s.Status.LoadBalancer = lbStatus("198.51.100.7") }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := TenantServiceStatus(tt.copy); !apiequality.Semantic.DeepEqual(got, tt.want) {
				t.Errorf("TenantServiceStatus = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestSkipService(t *testing.T) {
	t.Parallel()
	dns := types.NamespacedName{Namespace: "kube-system", Name: "kube-dns"}
	tests := []struct {
		namespace, name string
		want            bool
	}{
		{namespace: "default", name: "kubernetes", want: true},
		{namespace: "kube-system", name: "kube-dns", want: true},
		{namespace: "default", name: "web"},
		{namespace: "other", name: "kubernetes"},
		{namespace: "default", name: "kube-dns"},
	}
	for _, tt := range tests {
		t.Run(tt.namespace+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: tt.namespace, Name: tt.name}}
			if got := SkipService(svc, dns); got != tt.want {
				t.Errorf("SkipService = %v, want %v", got, tt.want)
			}
		})
	}
}
