package gatewayapi

import (
	"strings"
	"testing"

	"github.com/vcdns/vcdns/syncer/dns/hostname"
)

func FuzzIntersect(f *testing.F) {
	f.Add("*.example.com", "a.example.com")
	f.Add("a.example.com", "*.example.com")
	f.Add("*.example.com", "*.a.example.com")
	f.Add("", "a.b")
	f.Add("a.b", "a.b")
	f.Add("*.a.b", "b")
	f.Fuzz(func(t *testing.T, listener, route string) {
		if (listener != "" && hostname.Validate(listener) != nil) || (route != "" && hostname.Validate(route) != nil) {
			return
		}
		got, ok := Intersect(listener, route)
		if listener != "" && route != "" {
			got2, ok2 := Intersect(route, listener)
			if got != got2 || ok != ok2 {
				t.Fatalf("not symmetric: Intersect(%q, %q) = %q, %v but reversed %q, %v", listener, route, got, ok, got2, ok2)
			}
		}
		if ok && got != listener && got != route {
			t.Fatalf("Intersect(%q, %q) = %q, neither input", listener, route, got)
		}
		// As sets of names: a probe name is in the intersection exactly when both
		// inputs match it.
		for _, p := range probes(listener, route) {
			in := matchesOrAny(listener, p) && matchesOrAny(route, p)
			if in != (ok && matchesOrAny(got, p)) {
				t.Fatalf("Intersect(%q, %q) = %q, %v; probe %q: in both = %v", listener, route, got, ok, p, in)
			}
		}
	})
}

func matchesOrAny(pattern, name string) bool { return pattern == "" || hostname.Matches(pattern, name) }

func probes(names ...string) []string {
	var ps []string
	for _, n := range names {
		if n == "" {
			continue
		}
		plain := strings.TrimPrefix(n, "*.")
		ps = append(ps, plain, "x."+plain, "x.y."+plain)
		labels := strings.Split(plain, ".")
		for i := range labels {
			ps = append(ps, strings.Join(labels[i:], "."))
		}
	}
	return ps
}
