/*
Copyright The vcdns Authors.
*/

// Package translate turns tenant objects of an MCP into the copies the syncer keeps in
// the MCP's namespace on a workload cluster, merges them into what the workload cluster
// already has, and maps what the workload cluster reports back into tenant terms.
//
// Every function is pure: it reads plain values and returns new ones, never changing
// its arguments. Copies carry allow-listed fields only; a reference that would leave the
// MCP (to a kind the syncer does not copy, to a namespace the tenant did not allow, to a
// Secret) is refused: left out of the copy and reported as a Refusal.
package translate

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vcdns/vcdns/syncer/naming"
)

// Kinds of the tenant objects the syncer copies, as recorded in Origin.Kind.
const (
	KindService   = "Service"
	KindGateway   = "Gateway"
	KindHTTPRoute = "HTTPRoute"
	KindIngress   = "Ingress"
)

// Origin identifies the tenant object a copy was made from.
type Origin struct {
	// MCP is the ManagedControlPlane object (on the platform cluster).
	MCP types.NamespacedName
	// MCPNamespace is the MCP's namespace on the workload cluster, naming.MCPNamespace
	// of MCP; copies live in it.
	MCPNamespace string
	// Kind is the kind of the tenant object, one of the Kind constants.
	Kind string
	// Namespace, Name and UID identify the tenant object inside the MCP.
	Namespace string
	Name      string
	UID       types.UID
}

// OriginFor returns the origin of a copy of the tenant object obj of the given kind.
func OriginFor(mcp types.NamespacedName, mcpNamespace, kind string, obj metav1.Object) Origin {
	return Origin{
		MCP:          mcp,
		MCPNamespace: mcpNamespace,
		Kind:         kind,
		Namespace:    obj.GetNamespace(),
		Name:         obj.GetName(),
		UID:          obj.GetUID(),
	}
}

// OriginOf reads the origin recorded on a copy by SetOrigin. It reports false if any
// part of it is missing or malformed.
func OriginOf(obj metav1.Object) (Origin, bool) {
	labels, annotations := obj.GetLabels(), obj.GetAnnotations()
	mcpNamespace := labels[naming.LabelMCP]
	mcpNS, mcpName, ok := strings.Cut(annotations[naming.AnnotationMCP], "/")
	o := Origin{
		MCP:          types.NamespacedName{Namespace: mcpNS, Name: mcpName},
		MCPNamespace: mcpNamespace,
		Kind:         annotations[naming.AnnotationTenantKind],
		Namespace:    annotations[naming.AnnotationTenantNamespace],
		Name:         annotations[naming.AnnotationTenantName],
		UID:          types.UID(annotations[naming.AnnotationTenantUID]),
	}
	if !ok || mcpNS == "" || mcpName == "" || strings.Contains(mcpName, "/") ||
		o.MCPNamespace == "" || o.Kind == "" || o.Namespace == "" || o.Name == "" || o.UID == "" {
		return Origin{}, false
	}
	return o, true
}

// SetOrigin records o on obj: the label naming.LabelMCP and the origin annotations.
// Other labels and annotations are kept.
func SetOrigin(obj metav1.Object, o Origin) {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[naming.LabelMCP] = o.MCPNamespace
	obj.SetLabels(labels)

	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[naming.AnnotationMCP] = o.MCP.Namespace + "/" + o.MCP.Name
	annotations[naming.AnnotationTenantKind] = o.Kind
	annotations[naming.AnnotationTenantNamespace] = o.Namespace
	annotations[naming.AnnotationTenantName] = o.Name
	annotations[naming.AnnotationTenantUID] = string(o.UID)
	obj.SetAnnotations(annotations)
}

// OwnedBy reports whether obj is the copy of exactly the tenant object o: the origin
// recorded on it matches o in MCP, MCP namespace, kind, namespace, name and UID. The
// syncer never changes or deletes an object for which this is false.
//
// A copy whose origin matches in everything but the UID was made from an earlier
// tenant object of the same name; compare OriginOf(obj) yourself to recognise it.
func OwnedBy(obj metav1.Object, o Origin) bool {
	recorded, ok := OriginOf(obj)
	return ok && recorded == o
}
