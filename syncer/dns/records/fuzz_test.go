package records

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/vcdns/vcdns/syncer/dns/hostname"
)

// FuzzCompute feeds hostnames to three Ingresses of cluster c1, next to names stored
// for other clusters, and checks what must always hold: endpoints are unique, valid,
// allowed and exact; no two owners hold nested names; every name asked for is either
// published for its owner or refused for the object that asked.
func FuzzCompute(f *testing.F) {
	f.Add("a.c1.openmcp.cluster,b.a.c1.openmcp.cluster,a.c1.openmcp.cluster", "x.c1.openmcp.cluster")
	f.Add("*.c1.openmcp.cluster,c1.openmcp.cluster,A.c1.openmcp.cluster,x.y.c1.openmcp.cluster", "y.c1.openmcp.cluster")
	f.Add("p.c1.openmcp.cluster,q.p.c1.openmcp.cluster,r.q.p.c1.openmcp.cluster", "")
	f.Fuzz(func(t *testing.T, asked, stored string) {
		claims := NewClaims()
		for i, h := range strings.Split(stored, ",") {
			if hostname.Validate(h) == nil {
				claims.Add(h, gwOwner(fmt.Sprintf("c%d", 2+i%2), "ns", "g"))
			}
		}
		var ings []networkingv1.Ingress
		for i := range 3 {
			ings = append(ings, ingress(meta("ns", fmt.Sprintf("i%d", i), i), []string{"10.0.0.1"}))
		}
		hosts := strings.Split(asked, ",")
		for i, h := range hosts {
			ings[i%3].Spec.Rules = append(ings[i%3].Spec.Rules, networkingv1.IngressRule{Host: h})
		}
		policy := hostname.DefaultPolicy("c1", hostname.DefaultBaseDomain)
		res := Compute(Input{Cluster: "c1", Policy: policy, Ingresses: ings, Claims: claims})

		granted := NewClaims()
		for h, o := range claims.All() {
			granted.Add(h, o)
		}
		for i, e := range res.Endpoints {
			if i > 0 && res.Endpoints[i-1].Hostname >= e.Hostname {
				t.Fatalf("endpoints not sorted and unique: %q before %q", res.Endpoints[i-1].Hostname, e.Hostname)
			}
			if hostname.Validate(e.Hostname) != nil || hostname.IsWildcard(e.Hostname) || policy.Check(e.Hostname) != nil {
				t.Fatalf("endpoint %q is invalid, a wildcard or not allowed", e.Hostname)
			}
			if !res.Scope.Contains(e.Owner) {
				t.Fatalf("endpoint %q of %s outside the scope", e.Hostname, e.Owner.ID())
			}
			if c := granted.Check(e.Hostname, e.Owner); c != nil {
				t.Fatalf("endpoint %q of %s conflicts: %v", e.Hostname, e.Owner.ID(), c)
			}
			granted.Add(e.Hostname, e.Owner)
		}
		for i, h := range hosts {
			if h == "" {
				continue
			}
			ing := ings[i%3]
			published := slices.ContainsFunc(res.Endpoints, func(e Endpoint) bool {
				return e.Hostname == h && e.Owner.Name == ing.Name
			})
			refused := slices.ContainsFunc(res.Refusals, func(r Refusal) bool {
				return r.Hostname == h && r.Object.Name == ing.Name
			})
			if published == refused {
				t.Fatalf("%q of %s: published %v, refused %v", h, ing.Name, published, refused)
			}
		}
	})
}
