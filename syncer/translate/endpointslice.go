/*
Copyright The vcdns Authors.
*/

package translate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
)

// MaxEndpointsPerSlice is the number of endpoints a tenant EndpointSlice holds at most,
// the default of the Kubernetes EndpointSlice controller.
const MaxEndpointsPerSlice = 100

// TenantEndpointSliceLabels returns the labels that mark the syncer's EndpointSlices of
// the tenant Service name: kubernetes.io/service-name (which the tenant DNS reads) and
// endpointslice.kubernetes.io/managed-by set to vcdnsv1alpha1.EndpointSliceManagedBy.
func TenantEndpointSliceLabels(name string) map[string]string {
	return map[string]string{
		discoveryv1.LabelServiceName: name,
		discoveryv1.LabelManagedBy:   vcdnsv1alpha1.EndpointSliceManagedBy,
	}
}

// TenantEndpointSlices returns the EndpointSlices the syncer keeps in the tenant for a
// tenant Service, made from the EndpointSlices the workload cluster keeps for its copy:
// none unless both the tenant Service and the copy are headless. Workload slices of
// other Services and FQDN slices are ignored.
//
// The endpoints carry what the tenant's DNS needs and nothing else of the shared
// cluster: addresses (the workload Pod IPs), hostname (a StatefulSet Pod's name) and
// conditions. targetRef (a workload Pod), nodeName, zone and hints are left out.
//
// Endpoints are grouped by address family and port set (one slice per family in the
// usual case), sorted by address, and cut into slices of at most MaxEndpointsPerSlice.
// The names are deterministic: "<service>-vcdns-<ipv4|ipv6>-<n>", n counting from 0
// within a family; they never meet the names the EndpointSlice controller generates
// ("<service>-" and five random characters). Each slice has the labels
// TenantEndpointSliceLabels, the label service.kubernetes.io/headless and the tenant
// Service as its controlling owner.
func TenantEndpointSlices(tenant, copy *corev1.Service, workload []discoveryv1.EndpointSlice) []discoveryv1.EndpointSlice {
	if tenant == nil || copy == nil || !isHeadless(tenant) || !isHeadless(copy) {
		return nil
	}
	type group struct {
		family discoveryv1.AddressType
		ports  []discoveryv1.EndpointPort
		key    string
		eps    []discoveryv1.Endpoint
	}
	groups := map[string]*group{}
	sorted := slices.Clone(workload)
	slices.SortFunc(sorted, func(a, b discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range sorted {
		if s.Namespace != copy.Namespace || s.Labels[discoveryv1.LabelServiceName] != copy.Name {
			continue
		}
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		ports := tenantEndpointPorts(s.Ports)
		key := string(s.AddressType) + "/" + portsKey(ports)
		g := groups[key]
		if g == nil {
			g = &group{family: s.AddressType, ports: ports, key: key}
			groups[key] = g
		}
		for _, ep := range s.Endpoints {
			if len(ep.Addresses) == 0 {
				continue
			}
			g.eps = append(g.eps, discoveryv1.Endpoint{
				Addresses: slices.Clone(ep.Addresses),
				Conditions: discoveryv1.EndpointConditions{
					Ready:       clonePtr(ep.Conditions.Ready),
					Serving:     clonePtr(ep.Conditions.Serving),
					Terminating: clonePtr(ep.Conditions.Terminating),
				},
				Hostname: clonePtr(ep.Hostname),
			})
		}
	}
	ordered := make([]*group, 0, len(groups))
	for _, g := range groups {
		if len(g.eps) > 0 {
			ordered = append(ordered, g)
		}
	}
	slices.SortFunc(ordered, func(a, b *group) int { return strings.Compare(a.key, b.key) })

	var out []discoveryv1.EndpointSlice
	index := map[discoveryv1.AddressType]int{}
	for _, g := range ordered {
		// The same address twice (a Pod in two workload slices while the controller
		// moves it) is answered once.
		slices.SortStableFunc(g.eps, func(a, b discoveryv1.Endpoint) int { return strings.Compare(a.Addresses[0], b.Addresses[0]) })
		eps := slices.CompactFunc(g.eps, func(a, b discoveryv1.Endpoint) bool { return a.Addresses[0] == b.Addresses[0] })
		for chunk := range slices.Chunk(eps, MaxEndpointsPerSlice) {
			name := fmt.Sprintf("%s-vcdns-%s-%d", tenant.Name, strings.ToLower(string(g.family)), index[g.family])
			index[g.family]++
			labels := TenantEndpointSliceLabels(tenant.Name)
			labels[corev1.IsHeadlessService] = ""
			out = append(out, discoveryv1.EndpointSlice{
				TypeMeta: metav1.TypeMeta{APIVersion: discoveryv1.SchemeGroupVersion.String(), Kind: "EndpointSlice"},
				ObjectMeta: metav1.ObjectMeta{
					Namespace: tenant.Namespace,
					Name:      name,
					Labels:    labels,
					OwnerReferences: []metav1.OwnerReference{{
						APIVersion: corev1.SchemeGroupVersion.String(),
						Kind:       KindService,
						Name:       tenant.Name,
						UID:        tenant.UID,
						Controller: ptr.To(true),
					}},
				},
				AddressType: g.family,
				Endpoints:   slices.Clone(chunk),
				Ports:       slices.Clone(g.ports),
			})
		}
	}
	return out
}

// tenantEndpointPorts returns ports with the API server's defaults (name "", protocol
// TCP), sorted.
func tenantEndpointPorts(ports []discoveryv1.EndpointPort) []discoveryv1.EndpointPort {
	out := make([]discoveryv1.EndpointPort, 0, len(ports))
	for _, p := range ports {
		out = append(out, discoveryv1.EndpointPort{
			Name:        ptr.To(ptr.Deref(p.Name, "")),
			Protocol:    ptr.To(ptr.Deref(p.Protocol, corev1.ProtocolTCP)),
			Port:        clonePtr(p.Port),
			AppProtocol: clonePtr(p.AppProtocol),
		})
	}
	slices.SortFunc(out, func(a, b discoveryv1.EndpointPort) int {
		return cmp.Or(strings.Compare(*a.Name, *b.Name), strings.Compare(string(*a.Protocol), string(*b.Protocol)),
			cmp.Compare(ptr.Deref(a.Port, 0), ptr.Deref(b.Port, 0)))
	})
	if len(out) == 0 {
		return nil
	}
	return out
}

func portsKey(ports []discoveryv1.EndpointPort) string {
	parts := make([]string, 0, len(ports))
	for _, p := range ports {
		parts = append(parts, fmt.Sprintf("%s:%s:%05d:%s", *p.Name, *p.Protocol, ptr.Deref(p.Port, 0), ptr.Deref(p.AppProtocol, "")))
	}
	return strings.Join(parts, ",")
}

// EndpointSliceChanges is what PlanEndpointSlices finds to do: slices to delete, to
// update (current ones changed to the desired content) and to create.
type EndpointSliceChanges struct {
	Delete, Update, Create []discoveryv1.EndpointSlice
}

// Empty reports whether there is nothing to do.
func (c EndpointSliceChanges) Empty() bool {
	return len(c.Delete) == 0 && len(c.Update) == 0 && len(c.Create) == 0
}

// PlanEndpointSlices compares the syncer's current EndpointSlices of a tenant Service
// with the desired ones (TenantEndpointSlices), by name. A current slice that is not
// desired is deleted; one whose address type differs from the desired one (which
// cannot change in place) is deleted and created again; one whose labels, owner,
// endpoints or ports differ is updated, keeping its other metadata. Slices that match
// are left alone, so a restarted syncer writes nothing.
func PlanEndpointSlices(current, desired []discoveryv1.EndpointSlice) EndpointSliceChanges {
	var c EndpointSliceChanges
	want := map[string]discoveryv1.EndpointSlice{}
	for _, d := range desired {
		want[d.Name] = d
	}
	have := map[string]bool{}
	for _, cur := range current {
		d, ok := want[cur.Name]
		switch {
		case !ok:
			c.Delete = append(c.Delete, *cur.DeepCopy())
		case cur.AddressType != d.AddressType:
			c.Delete = append(c.Delete, *cur.DeepCopy())
		default:
			have[cur.Name] = true
			if merged, changed := mergeEndpointSlice(&cur, &d); changed {
				c.Update = append(c.Update, *merged)
			}
		}
	}
	for _, d := range desired {
		if !have[d.Name] {
			c.Create = append(c.Create, *d.DeepCopy())
		}
	}
	return c
}

// mergeEndpointSlice returns existing with desired's labels set, desired's owner
// references, endpoints and ports, and whether that changed it.
func mergeEndpointSlice(existing, desired *discoveryv1.EndpointSlice) (*discoveryv1.EndpointSlice, bool) {
	merged := existing.DeepCopy()
	if merged.Labels == nil {
		merged.Labels = map[string]string{}
	}
	for k, v := range desired.Labels {
		merged.Labels[k] = v
	}
	merged.OwnerReferences = slices.Clone(desired.OwnerReferences)
	merged.Endpoints = slices.Clone(desired.Endpoints)
	merged.Ports = slices.Clone(desired.Ports)
	if len(merged.Endpoints) == 0 {
		merged.Endpoints = nil
	}
	if len(merged.Ports) == 0 {
		merged.Ports = nil
	}
	got := existing.DeepCopy()
	got.Ports = tenantEndpointPorts(got.Ports)
	if len(got.Endpoints) == 0 {
		got.Endpoints = nil
	}
	if equalMaps(existing.Labels, merged.Labels) &&
		apiequality.Semantic.DeepEqual(got.OwnerReferences, merged.OwnerReferences) &&
		apiequality.Semantic.DeepEqual(got.Endpoints, merged.Endpoints) &&
		apiequality.Semantic.DeepEqual(got.Ports, merged.Ports) {
		return existing.DeepCopy(), false
	}
	return merged, true
}
