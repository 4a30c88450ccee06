package skydns

import (
	"context"
	"fmt"
	"testing"

	"github.com/vcdns/vcdns/syncer/dns/records"
)

// BenchmarkStore measures publishing 2000 names (an IPv4 and an IPv6 record each)
// into a fresh store, and a no-op sync (Read and Plan) over them, on a real etcd.
// Run with: go test ./syncer/dns/skydns -run '^$' -bench Store -benchtime 5x
func BenchmarkStore(b *testing.B) {
	const names = 2000
	c := startEtcd(b)
	ctx := context.Background()
	var eps []records.Endpoint
	for i := range names {
		eps = append(eps, endpoint(fmt.Sprintf("n%d.ns%d.c1.openmcp.cluster", i, i%20), gw("c1", fmt.Sprintf("g%d", i%50)), fmt.Sprintf("10.0.%d.%d", i/250, i%250), "fd00::1"))
	}
	d := Desired{Scope: records.ClusterScope("c1"), Endpoints: eps}
	run := 0
	newPrefix := func() Options {
		run++
		return Options{Prefix: fmt.Sprintf("/b%d/skydns", run), OwnerPrefix: fmt.Sprintf("/b%d/owners", run)}
	}
	b.Run("publish 2000 names", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s, _ := NewStore(c, newPrefix())
			st, err := s.Read(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := s.Apply(ctx, Plan(st, d)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read and plan 2000 unchanged names", func(b *testing.B) {
		s, _ := NewStore(c, newPrefix())
		st, _ := s.Read(ctx)
		if err := s.Apply(ctx, Plan(st, d)); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			st, err := s.Read(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if ch := Plan(st, d); !ch.Empty() {
				b.Fatalf("changes: %s", ch)
			}
		}
	})
}
