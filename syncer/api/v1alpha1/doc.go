// Package v1alpha1 holds the vcdns API: registered workload clusters (Cluster), tenant
// control planes (ManagedControlPlane) and DNS for gateways selected by cluster labels
// (GatewayDNS).
//
// +kubebuilder:object:generate=true
// +groupName=vcdns.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the vcdns API.
	GroupVersion = schema.GroupVersion{Group: "vcdns.io", Version: "v1alpha1"}

	// SchemeBuilder registers the vcdns types.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the vcdns types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// SecretKeyReference names a key of a Secret in the referring object's namespace.
type SecretKeyReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key in the Secret's data holding the kubeconfig.
	// +kubebuilder:default=kubeconfig
	// +optional
	Key string `json:"key,omitempty"`
}

// Condition types and reasons shared by the vcdns kinds.
const (
	ConditionReady             = "Ready"
	ConditionReachable         = "Reachable"
	ConditionTenantReachable   = "TenantReachable"
	ConditionWorkloadReachable = "WorkloadReachable"
	ConditionSynced            = "Synced"
	ConditionCorefilePatched   = "CorefilePatched"
	ConditionPublished         = "Published"
	// ConditionDeleting is True on a Cluster or ManagedControlPlane that is being
	// deleted; its reason and message say what the deletion waits for.
	ConditionDeleting = "Deleting"
)

// AnnotationSkipRemoteCleanup, set to "true" on a Cluster or ManagedControlPlane,
// lets its deletion finish without the cleanup it cannot do on a cluster that does
// not answer: the copies of an MCP in its namespace on the workload cluster, the
// forwarding block in a Cluster's CoreDNS Corefile. What is left there stays, and a
// Warning Event (reason CleanupSkipped) names it. Without it, a deletion waits for the
// cluster to answer; the Deleting condition says why.
const AnnotationSkipRemoteCleanup = "vcdns.io/skip-remote-cleanup"
