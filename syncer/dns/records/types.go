package records

import (
	"fmt"
	"net/netip"
	"slices"
)

// Kinds of owners and sources.
const (
	KindGateway    = "Gateway"
	KindHTTPRoute  = "HTTPRoute"
	KindIngress    = "Ingress"
	KindGatewayDNS = "GatewayDNS"
	// KindExternal owns names vcdns did not write: keys in the store that no ownership
	// record lists. Name holds the key.
	KindExternal = "External"
)

// DefaultTTL is the TTL of published records unless an input says otherwise.
const DefaultTTL uint32 = 30

// Owner identifies the object a hostname belongs to: a Gateway, Ingress or GatewayDNS
// (Kind) in a cluster. Origin optionally says where the object comes from (the tenant
// object a copy was made from); it is informational and not part of the identity.
type Owner struct {
	Cluster   string `json:"cluster"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Origin    string `json:"origin,omitempty"`
}

// ID is the owner's stable identity, "<cluster>/<kind>/<namespace>/<name>".
func (o Owner) ID() string { return o.Cluster + "/" + o.Kind + "/" + o.Namespace + "/" + o.Name }

// Same reports whether o and p identify the same object, whatever their Origin.
func (o Owner) Same(p Owner) bool { return o.ID() == p.ID() }

// String describes the owner for messages: "Gateway ns/name in cluster c1".
func (o Owner) String() string {
	if o.Kind == KindExternal {
		return fmt.Sprintf("a record not written by vcdns (key %s)", o.Name)
	}
	s := o.Kind + " " + o.Namespace + "/" + o.Name
	if o.Namespace == "" {
		s = o.Kind + " " + o.Name
	}
	if o.Cluster != "" {
		s += " in cluster " + o.Cluster
	}
	if o.Origin != "" {
		s += " (from " + o.Origin + ")"
	}
	return s
}

// Endpoint is one hostname to publish: its A and AAAA records and their owner. An
// Endpoint without addresses still claims its hostname (its owner has no addresses
// yet) but publishes no records.
type Endpoint struct {
	// Hostname is a valid, non-wildcard name, lower case, without a trailing dot.
	Hostname string
	// IPv4 and IPv6 are sorted and free of duplicates.
	IPv4, IPv6 []netip.Addr
	// TTL of the records, in seconds.
	TTL   uint32
	Owner Owner
}

// Addresses returns the IPv4 addresses followed by the IPv6 addresses.
func (e Endpoint) Addresses() []netip.Addr { return slices.Concat(e.IPv4, e.IPv6) }

// ObjectRef names an object that asked for a hostname.
type ObjectRef struct {
	Kind      string
	Namespace string
	Name      string
}

func (r ObjectRef) String() string { return r.Kind + " " + r.Namespace + "/" + r.Name }

// Reason says why a hostname is refused. The values are CamelCase, fit for a
// condition's reason and an Event's reason.
type Reason string

const (
	// ReasonInvalid: the hostname is not a valid hostname.
	ReasonInvalid Reason = "InvalidHostname"
	// ReasonNotAllowed: the policy does not allow the cluster to publish it.
	ReasonNotAllowed Reason = "HostnameNotAllowed"
	// ReasonWildcard: a wildcard hostname; the central DNS serves exact names only.
	ReasonWildcard Reason = "WildcardHostname"
	// ReasonConflict: another owner published the hostname first.
	ReasonConflict Reason = "HostnameConflict"
	// ReasonNested: the hostname lies below or above a hostname of another owner.
	ReasonNested Reason = "HostnameNested"
)

// Refusal says that a hostname an object asked for is not published, and why.
type Refusal struct {
	Object   ObjectRef
	Hostname string
	Reason   Reason
	// Message is a sentence for humans: capital first letter, no trailing period.
	Message string
}

// Scope selects owners. A store update for a scope deletes the names of owners in the
// scope that are no longer desired and keeps every other name as it is. A nil Scope
// selects nothing.
type Scope func(Owner) bool

// ClusterScope selects the Gateways and Ingresses of a cluster: the owners Compute
// computes endpoints for.
func ClusterScope(cluster string) Scope {
	return func(o Owner) bool {
		return o.Cluster == cluster && (o.Kind == KindGateway || o.Kind == KindIngress)
	}
}

// Contains reports whether s selects o; a nil Scope selects nothing.
func (s Scope) Contains(o Owner) bool { return s != nil && s(o) }

// Result is what Compute returns.
type Result struct {
	// Scope selects the owners Endpoints is complete for.
	Scope Scope
	// Endpoints to publish, sorted by hostname, one per hostname.
	Endpoints []Endpoint
	// Refusals sorted by object, hostname and reason.
	Refusals []Refusal
}

// RefusalsOf returns the refusals of one object, for its condition and Events.
func (r Result) RefusalsOf(obj ObjectRef) []Refusal {
	var out []Refusal
	for _, f := range r.Refusals {
		if f.Object == obj {
			out = append(out, f)
		}
	}
	return out
}
