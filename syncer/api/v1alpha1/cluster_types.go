package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterSpec registers a workload cluster.
type ClusterSpec struct {
	// KubeconfigSecretRef points at the kubeconfig the syncer uses for the cluster.
	KubeconfigSecretRef SecretKeyReference `json:"kubeconfigSecretRef"`

	// CoreDNS says where the cluster's own CoreDNS keeps its Corefile. The syncer keeps
	// a block there that forwards the base domain to the central DNS.
	// +optional
	CoreDNS CoreDNSConfig `json:"coreDNS,omitempty"`

	// ServiceCIDRs are the cluster's service ranges, such as 10.96.0.0/16. Default: read
	// from the cluster's ServiceCIDR objects.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self)",message="must be a CIDR, such as 10.96.0.0/16 or fd00:10:96::/112"
	ServiceCIDRs []string `json:"serviceCIDRs,omitempty"`
}

// CoreDNSConfig locates a CoreDNS Corefile in a ConfigMap.
type CoreDNSConfig struct {
	// Namespace of the ConfigMap.
	// +kubebuilder:default=kube-system
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the ConfigMap.
	// +kubebuilder:default=coredns
	// +optional
	Name string `json:"name,omitempty"`
	// Key of the Corefile in the ConfigMap.
	// +kubebuilder:default=Corefile
	// +optional
	Key string `json:"key,omitempty"`
}

// ClusterStatus is what the syncer observed of a cluster.
type ClusterStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Reachable, CorefilePatched, Published; Deleting while it is deleted.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ServiceCIDRs are the service ranges in use, from the spec or discovered.
	// +optional
	ServiceCIDRs []string `json:"serviceCIDRs,omitempty"`
}

// Cluster is a registered workload cluster. Its name is a DNS label: the cluster
// publishes below <name>.<base domain>.
//
// +kubebuilder:object:root=true
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="the name of a Cluster names its DNS domain (<name>.<base domain>): a DNS label of at most 63 lower-case letters, digits and '-'"
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=vcdns
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reachable",type=string,JSONPath=`.status.conditions[?(@.type=="Reachable")].status`
// +kubebuilder:printcolumn:name="Service CIDRs",type=string,JSONPath=`.status.serviceCIDRs`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Cluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterSpec   `json:"spec,omitempty"`
	Status ClusterStatus `json:"status,omitempty"`
}

// ClusterList is a list of Clusters.
//
// +kubebuilder:object:root=true
type ClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Cluster `json:"items"`
}

// GetConditions returns the Cluster's conditions.
func (o *Cluster) GetConditions() []metav1.Condition { return o.Status.Conditions }

// SetConditions replaces the Cluster's conditions.
func (o *Cluster) SetConditions(conditions []metav1.Condition) { o.Status.Conditions = conditions }

func init() {
	SchemeBuilder.Register(&Cluster{}, &ClusterList{})
}
