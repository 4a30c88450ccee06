package tenantdns

import (
	"strings"

	admissionregistrationv1beta1 "k8s.io/api/admissionregistration/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Pods in an MCP namespace of a workload cluster resolve through their tenant's DNS,
// whoever creates them. A MutatingAdmissionPolicy (admissionregistration.k8s.io
// v1beta1: the API server needs --feature-gates=MutatingAdmissionPolicy=true and
// --runtime-config=admissionregistration.k8s.io/v1beta1=true on Kubernetes 1.35)
// gives each new Pod of such a namespace dnsPolicy None and a dnsConfig: the tenant
// DNS's addresses, and the search path of the Pod's tenant namespace (the label
// LabelPodTenantNamespace, default "default"). One policy and one binding per workload
// cluster; the addresses come from the ConfigMap PodDNSParams in each MCP namespace.
//
// Runs in the API server, without a webhook: Pod creation does not depend on the
// syncer or the tenant DNS running. Pods of namespaces without the MCP label, and Pods
// that bring their own dnsConfig, are left alone. A Pod of an MCP namespace whose
// parameters are missing is refused (it would otherwise resolve the shared cluster's
// names): "policy 'vcdns-tenant-pod-dns' with binding 'vcdns-tenant-pod-dns' denied
// request: failed to configure binding: no params found ...".
const (
	// PodDNSPolicyName names the policy and its binding on every workload cluster.
	PodDNSPolicyName = "vcdns-tenant-pod-dns"
	// PodDNSParams is the ConfigMap in each MCP namespace the policy reads.
	PodDNSParams = "vcdns-tenant-dns-params"
	// ParamNameservers is the key of the tenant DNS's addresses, comma-separated.
	ParamNameservers = "nameservers"
	// ParamClusterDomain is the key of the tenant's cluster domain.
	ParamClusterDomain = "clusterDomain"
	// LabelPodTenantNamespace on a Pod names the tenant namespace whose search path it
	// gets; without it, "default".
	LabelPodTenantNamespace = "vcdns.io/tenant-namespace"
)

// PodDNSPolicy renders the policy and its binding. mcpLabel is the label every MCP
// namespace carries.
func PodDNSPolicy(labels map[string]string, mcpLabel string) (*admissionregistrationv1beta1.MutatingAdmissionPolicy, *admissionregistrationv1beta1.MutatingAdmissionPolicyBinding) {
	policy := &admissionregistrationv1beta1.MutatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1beta1.SchemeGroupVersion.String(), Kind: "MutatingAdmissionPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: PodDNSPolicyName, Labels: copyLabels(labels)},
		Spec: admissionregistrationv1beta1.MutatingAdmissionPolicySpec{
			ParamKind: &admissionregistrationv1beta1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"},
			MatchConstraints: &admissionregistrationv1beta1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: mcpLabel, Operator: metav1.LabelSelectorOpExists}}},
				ResourceRules: []admissionregistrationv1beta1.NamedRuleWithOperations{{
					RuleWithOperations: admissionregistrationv1beta1.RuleWithOperations{
						Operations: []admissionregistrationv1beta1.OperationType{admissionregistrationv1beta1.Create},
						Rule:       admissionregistrationv1beta1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
					},
				}},
			},
			MatchConditions: []admissionregistrationv1beta1.MatchCondition{{
				Name:       "no-own-dns-config",
				Expression: "!has(object.spec.dnsConfig)",
			}},
			Variables: []admissionregistrationv1beta1.Variable{
				{Name: "tenantNamespace", Expression: "has(object.metadata.labels) && '" + LabelPodTenantNamespace + "' in object.metadata.labels ? object.metadata.labels['" + LabelPodTenantNamespace + "'] : 'default'"},
				{Name: "domain", Expression: "'" + ParamClusterDomain + "' in params.data ? params.data['" + ParamClusterDomain + "'] : 'cluster.local'"},
			},
			// A JSON patch, not an apply configuration: dnsConfig's lists are atomic, and
			// an apply configuration may not set them.
			Mutations: []admissionregistrationv1beta1.Mutation{{
				PatchType: admissionregistrationv1beta1.PatchTypeJSONPatch,
				JSONPatch: &admissionregistrationv1beta1.JSONPatch{Expression: strings.Join([]string{
					`[`,
					`  JSONPatch{op: "add", path: "/spec/dnsPolicy", value: "None"},`,
					`  JSONPatch{op: "add", path: "/spec/dnsConfig", value: Object.spec.dnsConfig{`,
					`    nameservers: string(params.data['` + ParamNameservers + `']).split(',').map(n, n.trim()),`,
					`    searches: [string(variables.tenantNamespace) + '.svc.' + string(variables.domain), 'svc.' + string(variables.domain), string(variables.domain)],`,
					`    options: [Object.spec.dnsConfig.options{name: "ndots", value: "5"}]`,
					`  }}`,
					`]`,
				}, "\n")},
			}},
			FailurePolicy:      ptr.To(admissionregistrationv1beta1.Fail),
			ReinvocationPolicy: admissionregistrationv1beta1.NeverReinvocationPolicy,
		},
	}
	binding := &admissionregistrationv1beta1.MutatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1beta1.SchemeGroupVersion.String(), Kind: "MutatingAdmissionPolicyBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: PodDNSPolicyName, Labels: copyLabels(labels)},
		Spec: admissionregistrationv1beta1.MutatingAdmissionPolicyBindingSpec{
			PolicyName: PodDNSPolicyName,
			// Without a namespace, the parameter is looked up in the Pod's namespace.
			ParamRef: &admissionregistrationv1beta1.ParamRef{
				Name:                    PodDNSParams,
				ParameterNotFoundAction: ptr.To(admissionregistrationv1beta1.DenyAction),
			},
		},
	}
	return policy, binding
}

// PodDNSParamsFor renders the parameters of one MCP namespace: the tenant DNS's
// addresses (its ClusterIPs on the workload cluster) and the tenant's cluster domain.
func PodDNSParamsFor(namespace string, labels map[string]string, nameservers []string, clusterDomain string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: PodDNSParams, Labels: copyLabels(labels)},
		Data: map[string]string{
			ParamNameservers:   strings.Join(nameservers, ","),
			ParamClusterDomain: clusterDomain,
		},
	}
}
