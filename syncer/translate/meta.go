/*
Copyright The vcdns Authors.
*/

package translate

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vcdns/vcdns/syncer/naming"
)

// originAnnotations are the annotation keys SetOrigin writes.
var originAnnotations = []string{
	naming.AnnotationMCP,
	naming.AnnotationTenantKind,
	naming.AnnotationTenantNamespace,
	naming.AnnotationTenantName,
	naming.AnnotationTenantUID,
}

// ownKey reports whether a label or annotation key is in vcdns' own domain (or a
// subdomain of it); such keys on tenant objects are never copied.
func ownKey(key string) bool {
	prefix, _, found := strings.Cut(key, "/")
	return found && (prefix == naming.Domain || strings.HasSuffix(prefix, "."+naming.Domain))
}

// copyMeta returns the metadata of the copy of tenant: its deterministic name in the
// MCP namespace, the tenant's labels (keys in vcdns' domain left out), the tenant's
// annotations whose keys are in allowed, the record of the copied label keys, and the
// origin o.
func copyMeta(tenant metav1.Object, o Origin, allowed []string) metav1.ObjectMeta {
	meta := metav1.ObjectMeta{
		Name:      naming.CopyName(tenant.GetNamespace(), tenant.GetName()),
		Namespace: o.MCPNamespace,
	}
	var keys []string
	for k, v := range tenant.GetLabels() {
		if ownKey(k) {
			continue
		}
		if meta.Labels == nil {
			meta.Labels = map[string]string{}
		}
		meta.Labels[k] = v
		keys = append(keys, k)
	}
	for _, k := range allowed {
		if v, ok := tenant.GetAnnotations()[k]; ok {
			if meta.Annotations == nil {
				meta.Annotations = map[string]string{}
			}
			meta.Annotations[k] = v
		}
	}
	if len(keys) > 0 {
		slices.Sort(keys)
		if meta.Annotations == nil {
			meta.Annotations = map[string]string{}
		}
		meta.Annotations[naming.AnnotationTenantLabels] = strings.Join(keys, ",")
	}
	SetOrigin(&meta, o)
	return meta
}

// recordedTenantLabels returns the label keys a copy records as copied from its tenant.
func recordedTenantLabels(obj metav1.Object) []string {
	v := obj.GetAnnotations()[naming.AnnotationTenantLabels]
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// mergeMeta returns the labels and annotations existing must have to match desired,
// and whether they differ from existing's:
//   - labels: desired's are set; labels existing records as copied from the tenant but
//     desired does not have are removed; labels others added are kept;
//   - annotations: the keys in allowed and the keys vcdns writes take desired's value
//     or are removed; other annotations (added by others) are kept.
func mergeMeta(existing, desired metav1.Object, allowed []string) (labels, annotations map[string]string, changed bool) {
	labels = cloneMap(existing.GetLabels())
	for _, k := range recordedTenantLabels(existing) {
		if _, ok := desired.GetLabels()[k]; !ok {
			delete(labels, k)
		}
	}
	for k, v := range desired.GetLabels() {
		labels[k] = v
	}

	annotations = cloneMap(existing.GetAnnotations())
	managed := slices.Concat(allowed, originAnnotations, []string{naming.AnnotationTenantLabels})
	for _, k := range managed {
		if v, ok := desired.GetAnnotations()[k]; ok {
			annotations[k] = v
		} else {
			delete(annotations, k)
		}
	}

	if len(labels) == 0 {
		labels = nil
	}
	if len(annotations) == 0 {
		annotations = nil
	}
	changed = !equalMaps(existing.GetLabels(), labels) || !equalMaps(existing.GetAnnotations(), annotations)
	return labels, annotations, changed
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// equalMaps compares two maps, nil and empty being equal.
func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

// WithAnnotation returns obj with the annotation key set to value, or removed for "",
// and whether that changed it: a changed copy, or obj itself when nothing changes.
func WithAnnotation[T interface {
	metav1.Object
	runtime.Object
}](obj T, key, value string) (T, bool) {
	if cur, has := obj.GetAnnotations()[key]; (value == "" && !has) || (value != "" && cur == value) {
		return obj, false
	}
	u := obj.DeepCopyObject().(T)
	annotations := u.GetAnnotations()
	if value == "" {
		delete(annotations, key)
	} else {
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[key] = value
	}
	if len(annotations) == 0 {
		annotations = nil
	}
	u.SetAnnotations(annotations)
	return u, true
}
