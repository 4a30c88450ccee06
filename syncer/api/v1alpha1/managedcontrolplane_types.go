package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ManagedControlPlaneSpec describes a tenant control plane.
type ManagedControlPlaneSpec struct {
	// KubeconfigSecretRef points at the kubeconfig of the tenant's API server.
	KubeconfigSecretRef SecretKeyReference `json:"kubeconfigSecretRef"`

	// WorkloadCluster is the name of the Cluster (in the syncer's cluster namespace)
	// where the tenant's workloads run. Changing it moves the copies.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	WorkloadCluster string `json:"workloadCluster"`
}

// SyncedCounts counts the tenant objects that have an up-to-date copy.
type SyncedCounts struct {
	// +optional
	Services int32 `json:"services,omitempty"`
	// +optional
	Gateways int32 `json:"gateways,omitempty"`
	// +optional
	HTTPRoutes int32 `json:"httpRoutes,omitempty"`
	// +optional
	Ingresses int32 `json:"ingresses,omitempty"`
}

// ManagedControlPlaneStatus is what the syncer observed of a tenant control plane.
type ManagedControlPlaneStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Namespace is the MCP namespace, on the platform and the workload cluster.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// WorkloadCluster is the cluster that holds the copies now.
	// +optional
	WorkloadCluster string `json:"workloadCluster,omitempty"`
	// Conditions: Ready, TenantReachable, WorkloadReachable, Synced; Deleting while it is deleted.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Synced counts the tenant objects with an up-to-date copy.
	// +optional
	Synced SyncedCounts `json:"synced,omitempty"`
}

// ManagedControlPlane is a tenant control plane whose objects the syncer copies to a
// workload cluster.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mcp,categories=vcdns
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.status.namespace`
// +kubebuilder:printcolumn:name="Workload",type=string,JSONPath=`.spec.workloadCluster`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Services",type=integer,JSONPath=`.status.synced.services`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ManagedControlPlane struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ManagedControlPlaneSpec   `json:"spec,omitempty"`
	Status ManagedControlPlaneStatus `json:"status,omitempty"`
}

// ManagedControlPlaneList is a list of ManagedControlPlanes.
//
// +kubebuilder:object:root=true
type ManagedControlPlaneList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ManagedControlPlane `json:"items"`
}

// GetConditions returns the ManagedControlPlane's conditions.
func (o *ManagedControlPlane) GetConditions() []metav1.Condition { return o.Status.Conditions }

// SetConditions replaces the ManagedControlPlane's conditions.
func (o *ManagedControlPlane) SetConditions(conditions []metav1.Condition) {
	o.Status.Conditions = conditions
}

func init() {
	SchemeBuilder.Register(&ManagedControlPlane{}, &ManagedControlPlaneList{})
}
