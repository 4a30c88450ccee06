package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ResolutionType says how GatewayDNS names resolve.
// +kubebuilder:validation:Enum=loadBalancer
type ResolutionType string

// ResolutionLoadBalancer resolves to the load-balancer addresses of a Service.
const ResolutionLoadBalancer ResolutionType = "loadBalancer"

// GatewayDNSSpec publishes, for every selected cluster, every name below
// gateway.<cluster>.<namespace>.clusters.<base domain>.
type GatewayDNSSpec struct {
	// ClusterSelector selects Clusters by label.
	ClusterSelector metav1.LabelSelector `json:"clusterSelector"`
	// Service is the "namespace/name" of a LoadBalancer Service on each selected
	// cluster; the names resolve to its load-balancer addresses.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Service string `json:"service"`
	// ResolutionType says how the names resolve.
	// +kubebuilder:default=loadBalancer
	// +optional
	ResolutionType ResolutionType `json:"resolutionType,omitempty"`
}

// GatewayDNSCluster is what is published for one selected cluster.
type GatewayDNSCluster struct {
	// Cluster is the selected Cluster.
	Cluster string `json:"cluster"`
	// Hostname is the published name; every name below it resolves too.
	Hostname string `json:"hostname"`
	// Addresses the names resolve to.
	// +optional
	Addresses []string `json:"addresses,omitempty"`
	// Published says whether the names resolve now.
	Published bool `json:"published"`
	// Message says why not, when they do not.
	// +optional
	Message string `json:"message,omitempty"`
}

// GatewayDNSStatus is what the syncer published.
type GatewayDNSStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Clusters lists what is published per selected cluster.
	// +optional
	Clusters []GatewayDNSCluster `json:"clusters,omitempty"`
}

// GatewayDNS makes a LoadBalancer Service on a set of clusters resolvable by name from
// every cluster of the landscape (the cross-cluster-connectivity model).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=vcdns
// +kubebuilder:printcolumn:name="Service",type=string,JSONPath=`.spec.service`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type GatewayDNS struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GatewayDNSSpec   `json:"spec,omitempty"`
	Status GatewayDNSStatus `json:"status,omitempty"`
}

// GatewayDNSList is a list of GatewayDNS objects.
//
// +kubebuilder:object:root=true
type GatewayDNSList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GatewayDNS `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GatewayDNS{}, &GatewayDNSList{})
}
