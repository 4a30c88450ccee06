// Package tenantdns renders what a tenant's DNS needs: the CoreDNS that answers the
// tenant's Services with the IPs the workload cluster allocated (in the MCP namespace
// on the MCP's workload cluster, where the tenant's Pods run), the Pod DNS policy that
// makes those Pods resolve through it (on every workload cluster, with its parameters
// in each MCP namespace), the least-privilege identity it reads the tenant API with,
// and the admission policy that keeps the clusterIP annotation the syncer's alone (both
// in the tenant control plane). Everything here is a pure function of its inputs.
package tenantdns

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Names of the objects rendered here.
const (
	// Name is the name of the tenant DNS objects in the MCP namespace on the workload
	// cluster (ConfigMap, Deployment, Service) and of its identity in the tenant.
	Name = "vcdns-tenant-dns"
	// KubeconfigSecret holds the tenant DNS's kubeconfig in the MCP namespace.
	KubeconfigSecret = "vcdns-tenant-dns-kubeconfig"
	// TenantNamespace is where the tenant DNS identity lives in the tenant.
	TenantNamespace = "kube-system"
	// TokenSecret is the tenant Secret that holds the identity's token.
	TokenSecret = "vcdns-tenant-dns-token"
	// PolicyName names the ValidatingAdmissionPolicy and its binding in the tenant.
	PolicyName = "vcdns-clusterip-annotation"

	// CorefileKey is the ConfigMap key of the Corefile.
	CorefileKey = "Corefile"
	// KubeconfigKey is the Secret key of the kubeconfig.
	KubeconfigKey = "kubeconfig"
)

// Environment variables the rendered Corefile reads, so that the same Corefile runs in
// a Pod (set by the Deployment) and as a process of the local landscape.
const (
	EnvBind       = "VCDNS_BIND"
	EnvKubeconfig = "VCDNS_TENANT_KUBECONFIG"
)

// Options are the inputs of the tenant DNS rendering.
type Options struct {
	// Namespace is the MCP namespace on the workload cluster.
	Namespace string
	// Labels go on every rendered object (they identify the MCP).
	Labels map[string]string
	// ServiceCIDRs of the workload cluster: only annotation values inside them are
	// served.
	ServiceCIDRs []string
	// AnnotationKey is the clusterIP annotation.
	AnnotationKey string
	// ClusterDomain of the tenant, normally cluster.local.
	ClusterDomain string
	// Image of the patched CoreDNS.
	Image string
	// BaseDomain and CentralDNS, when both are set, add a server block that forwards
	// the base domain to the central DNS, so that tenant pods resolve the published
	// cross-cluster names as every cluster does.
	BaseDomain string
	CentralDNS []string
}

// RecordTTL is the TTL (seconds) of the tenant DNS's answers for the cluster domain,
// CoreDNS's default: an annotation the syncer changes reaches every client within it.
const RecordTTL = 5

// Corefile renders the tenant CoreDNS configuration: the patched kubernetes plugin
// with clusterip_annotation limited to the workload cluster's service ranges.
func Corefile(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, ". {\n")
	fmt.Fprintf(&b, "    bind {$%s}\n", EnvBind)
	fmt.Fprintf(&b, "    errors\n")
	fmt.Fprintf(&b, "    kubernetes %s in-addr.arpa ip6.arpa {\n", o.ClusterDomain)
	fmt.Fprintf(&b, "        kubeconfig {$%s}\n", EnvKubeconfig)
	fmt.Fprintf(&b, "        clusterip_annotation %s from %s\n", o.AnnotationKey, strings.Join(o.ServiceCIDRs, " "))
	fmt.Fprintf(&b, "        fallthrough in-addr.arpa ip6.arpa\n")
	fmt.Fprintf(&b, "        ttl %d\n", RecordTTL)
	fmt.Fprintf(&b, "    }\n")
	fmt.Fprintf(&b, "    forward . /etc/resolv.conf\n")
	// The cluster zone is answered from the kubernetes plugin's in-memory informer, so
	// a cache buys nothing there and would hold on to stale answers: a new Service
	// resolves to the tenant's own ClusterIP until the syncer back-populates the
	// workload IP, and a cached answer would keep that for the cache's TTL. Other
	// names are cached.
	fmt.Fprintf(&b, "    cache 30 {\n")
	fmt.Fprintf(&b, "        disable success %s\n", o.ClusterDomain)
	fmt.Fprintf(&b, "        disable denial %s\n", o.ClusterDomain)
	fmt.Fprintf(&b, "    }\n")
	fmt.Fprintf(&b, "    loadbalance\n")
	fmt.Fprintf(&b, "}\n")
	if o.BaseDomain != "" && len(o.CentralDNS) > 0 {
		fmt.Fprintf(&b, "%s {\n", o.BaseDomain)
		fmt.Fprintf(&b, "    bind {$%s}\n", EnvBind)
		fmt.Fprintf(&b, "    errors\n")
		fmt.Fprintf(&b, "    forward . %s\n", strings.Join(o.CentralDNS, " "))
		fmt.Fprintf(&b, "}\n")
	}
	return b.String()
}

// Objects renders the tenant CoreDNS in the MCP namespace of the workload cluster: its
// ConfigMap, Deployment and Service. The kubeconfig Secret is rendered by
// KubeconfigSecretFor.
func Objects(o Options) (*corev1.ConfigMap, *appsv1.Deployment, *corev1.Service) {
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: o.Namespace, Name: Name, Labels: copyLabels(o.Labels)}
	}
	selector := map[string]string{"app.kubernetes.io/name": Name}
	corefile := Corefile(o)
	cm := &corev1.ConfigMap{ObjectMeta: meta(), Data: map[string]string{CorefileKey: corefile}}
	// CoreDNS reads its Corefile at start: a changed Corefile (the workload cluster's
	// ranges changed, or the MCP moved) rolls the pods.
	sum := sha256.Sum256([]byte(corefile))

	podLabels := copyLabels(o.Labels)
	for k, v := range selector {
		podLabels[k] = v
	}
	dep := &appsv1.Deployment{
		ObjectMeta: meta(),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: map[string]string{"vcdns.io/corefile-hash": hex.EncodeToString(sum[:8])}},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					// Its own dnsConfig keeps the Pod DNS policy (PodDNSPolicy) away from
					// the tenant DNS's Pods: they must not resolve through themselves, and
					// they start before their parameters exist. They forward to the
					// workload cluster's DNS, which knows the base domain.
					DNSPolicy: corev1.DNSClusterFirst,
					DNSConfig: &corev1.PodDNSConfig{Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("5")}}},
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						RunAsUser:      ptr.To[int64](65532),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name:  "coredns",
						Image: o.Image,
						Args:  []string{"-conf", "/etc/coredns/" + CorefileKey},
						Env: []corev1.EnvVar{
							{Name: EnvBind, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
							{Name: EnvKubeconfig, Value: "/etc/vcdns/" + KubeconfigKey},
						},
						Ports: []corev1.ContainerPort{
							{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
							{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
						},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(53)}}},
						LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(53)}}, InitialDelaySeconds: 10},
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU:    mustQuantity("50m"),
							corev1.ResourceMemory: mustQuantity("64Mi"),
						}},
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false),
							ReadOnlyRootFilesystem:   ptr.To(true),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}},
						},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "config", MountPath: "/etc/coredns", ReadOnly: true},
							{Name: "kubeconfig", MountPath: "/etc/vcdns", ReadOnly: true},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: Name}}}},
						{Name: "kubeconfig", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: KubeconfigSecret}}},
					},
				},
			},
		},
	}
	svc := &corev1.Service{
		ObjectMeta: meta(),
		Spec: corev1.ServiceSpec{
			// An address of each family the workload cluster has: the Pods of the MCP
			// namespace get them all as nameservers.
			IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicyPreferDualStack),
			Selector:       selector,
			Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("dns-tcp")},
			},
		},
	}
	return cm, dep, svc
}

// KubeconfigSecretFor renders the Secret holding the kubeconfig the tenant CoreDNS
// reads the tenant API with: the tenant's server and CA and the token of its own
// least-privilege identity.
func KubeconfigSecretFor(o Options, server string, caData, token []byte) (*corev1.Secret, error) {
	cfg := clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"tenant": {Server: server, CertificateAuthorityData: caData}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{Name: {Token: string(token)}},
		Contexts:       map[string]*clientcmdapi.Context{"tenant": {Cluster: "tenant", AuthInfo: Name}},
		CurrentContext: "tenant",
	}
	data, err := clientcmd.Write(cfg)
	if err != nil {
		return nil, fmt.Errorf("rendering tenant DNS kubeconfig: %w", err)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: o.Namespace, Name: KubeconfigSecret, Labels: copyLabels(o.Labels)},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{KubeconfigKey: data},
	}, nil
}

// TenantObjects renders the tenant DNS identity in the tenant control plane: a
// ServiceAccount with a long-lived token Secret, and read access to exactly what the
// kubernetes plugin watches (Services, EndpointSlices, Namespaces).
func TenantObjects(labels map[string]string) []client.Object {
	meta := metav1.ObjectMeta{Namespace: TenantNamespace, Name: Name, Labels: copyLabels(labels)}
	sa := &corev1.ServiceAccount{ObjectMeta: meta}
	token := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   TenantNamespace,
			Name:        TokenSecret,
			Labels:      copyLabels(labels),
			Annotations: map[string]string{corev1.ServiceAccountNameKey: Name},
		},
		Type: corev1.SecretTypeServiceAccountToken,
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "vcdns:tenant-dns", Labels: copyLabels(labels)},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"services", "namespaces"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "vcdns:tenant-dns", Labels: copyLabels(labels)},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: TenantNamespace, Name: Name}},
	}
	return []client.Object{sa, token, role, binding}
}

// AnnotationPolicy renders the ValidatingAdmissionPolicy and binding that deny every
// identity but the syncer's setting, changing or removing the clusterIP annotation on
// a Service.
func AnnotationPolicy(labels map[string]string, annotationKey, syncerUser string) (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	value := func(obj string) string {
		return fmt.Sprintf("%[1]s == null || !has(%[1]s.metadata.annotations) || !(variables.key in %[1]s.metadata.annotations) ? '' : %[1]s.metadata.annotations[variables.key]", obj)
	}
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: PolicyName, Labels: copyLabels(labels)},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
					RuleWithOperations: admissionregistrationv1.RuleWithOperations{
						Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
						Rule: admissionregistrationv1.Rule{
							APIGroups:   []string{""},
							APIVersions: []string{"v1"},
							Resources:   []string{"services"},
						},
					},
				}},
			},
			Variables: []admissionregistrationv1.Variable{
				{Name: "key", Expression: fmt.Sprintf("%q", annotationKey)},
				{Name: "new", Expression: value("object")},
				{Name: "old", Expression: value("oldObject")},
			},
			Validations: []admissionregistrationv1.Validation{{
				Expression:        fmt.Sprintf("request.userInfo.username == %q || variables.new == variables.old", syncerUser),
				MessageExpression: fmt.Sprintf(`"annotation %s is managed by the vcdns syncer; " + request.userInfo.username + " may not set or change it"`, annotationKey),
				Reason:            ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: PolicyName, Labels: copyLabels(labels)},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        PolicyName,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	return policy, binding
}

func copyLabels(in map[string]string) map[string]string {
	out := make(map[string]string, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	out["app.kubernetes.io/managed-by"] = "vcdns"
	return out
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
