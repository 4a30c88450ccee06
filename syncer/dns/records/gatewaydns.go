package records

import (
	"net/netip"
	"slices"
	"time"

	"github.com/vcdns/vcdns/syncer/dns/hostname"
)

// GatewayDNSInput describes one GatewayDNS object and the clusters it selects.
type GatewayDNSInput struct {
	// Namespace and Name of the GatewayDNS object.
	Namespace, Name string
	// BaseDomain, e.g. hostname.DefaultBaseDomain.
	BaseDomain string
	// TTL of the records; zero means DefaultTTL.
	TTL time.Duration
	// Targets are the selected clusters whose LoadBalancer Service has addresses.
	Targets []GatewayDNSTarget
	// Keep lists selected clusters that cannot be read now (unreachable): their
	// names are kept as stored.
	Keep []string
	// Claims are the names the store holds.
	Claims *Claims
}

// GatewayDNSTarget is one selected cluster.
type GatewayDNSTarget struct {
	// Cluster is the selected cluster's name.
	Cluster string
	// Namespace is the namespace label of the name,
	// "gateway.<cluster>.<namespace>.clusters.<base>".
	Namespace string
	// Addresses of the LoadBalancer Service.
	Addresses []netip.Addr
}

// ComputeGatewayDNS returns one endpoint per target, named
// hostname.GatewayDNSDomain(target.Cluster, target.Namespace, in.BaseDomain); the
// central DNS answers every name below it with the endpoint's addresses. The owner is
// the GatewayDNS object with Cluster set to the target cluster. Result.Scope selects
// this GatewayDNS's names except those of the clusters in Keep.
func ComputeGatewayDNS(in GatewayDNSInput) Result {
	keep := slices.Clone(in.Keep)
	scope := func(o Owner) bool {
		return o.Kind == KindGatewayDNS && o.Namespace == in.Namespace && o.Name == in.Name && !slices.Contains(keep, o.Cluster)
	}
	c := newComputer("", hostname.Policy{Domains: []string{hostname.ClustersDomain(in.BaseDomain)}}, in.TTL, scope, in.Claims)
	src := ObjectRef{Kind: KindGatewayDNS, Namespace: in.Namespace, Name: in.Name}
	for _, t := range in.Targets {
		if slices.Contains(keep, t.Cluster) {
			continue
		}
		owner := Owner{Cluster: t.Cluster, Kind: KindGatewayDNS, Namespace: in.Namespace, Name: in.Name}
		c.claim(src, hostname.GatewayDNSDomain(t.Cluster, t.Namespace, in.BaseDomain), owner, time.Time{}, t.Addresses)
	}
	return c.result()
}
