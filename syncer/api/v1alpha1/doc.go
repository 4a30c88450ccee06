// Package v1alpha1 is the vcdns API: its kinds, registered workload clusters (Cluster),
// tenant control planes (ManagedControlPlane) and DNS for gateways selected by cluster
// labels (GatewayDNS), and every string the syncer puts on objects (condition types,
// reasons, annotations, labels, the finalizer), defined here once (wellknown.go).
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
