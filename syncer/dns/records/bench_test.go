package records

import (
	"fmt"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/syncer/dns/hostname"
)

// BenchmarkCompute: 100 Gateways with two listeners each, 2000 HTTPRoutes with two
// hostnames each, 1000 names stored for other clusters.
func BenchmarkCompute(b *testing.B) {
	in := Input{Cluster: "c1", Policy: hostname.DefaultPolicy("c1", hostname.DefaultBaseDomain), Claims: NewClaims()}
	for i := range 100 {
		in.Gateways = append(in.Gateways, gateway(meta("ns", fmt.Sprintf("g%d", i), i), []string{fmt.Sprintf("10.0.0.%d", i), "fd00::1"},
			listener("http", 80, ""), listener("named", 81, fmt.Sprintf("gw%d.c1.openmcp.cluster", i))))
	}
	for i := range 2000 {
		in.HTTPRoutes = append(in.HTTPRoutes, route(meta("ns", fmt.Sprintf("r%d", i), i), []gatewayv1.ParentReference{parent(fmt.Sprintf("g%d", i%100), section("http"))},
			fmt.Sprintf("a%d.c1.openmcp.cluster", i), fmt.Sprintf("b%d.team.c1.openmcp.cluster", i)))
	}
	for i := range 1000 {
		in.Claims.Add(fmt.Sprintf("x%d.c2.openmcp.cluster", i), gwOwner("c2", "ns", "g"))
	}
	for b.Loop() {
		if res := Compute(in); len(res.Endpoints) != 4100 || len(res.Refusals) != 0 {
			b.Fatalf("%d endpoints, %d refusals", len(res.Endpoints), len(res.Refusals))
		}
	}
}
