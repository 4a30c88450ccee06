package hostname

import (
	"strings"
	"testing"
)

func FuzzValidate(f *testing.F) {
	for _, s := range []string{"app.c1.openmcp.cluster", "*.example.com", "a..b", "A.b", "*", "10.0.0.1", "a-.b", strings.Repeat("a.", 130)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := Validate(name)
		if err == nil {
			checkValid(t, name)
			if Validate(name+".") == nil {
				t.Errorf("Validate(%q) accepts a trailing dot", name+".")
			}
			if up := strings.ToUpper(name); up != name && Validate(up) == nil {
				t.Errorf("Validate(%q) accepts upper case", up)
			}
			if !IsWildcard(name) && Validate("*."+name) == nil && !Matches("*."+name, "x."+name) {
				t.Errorf("*.%s does not match x.%s", name, name)
			}
		}
		if err != nil && len(err.Error()) > 1000 {
			t.Errorf("error of %d characters", len(err.Error()))
		}
	})
}

// checkValid restates the rules of Validate independently.
func checkValid(t *testing.T, name string) {
	t.Helper()
	if len(name) == 0 || len(name) > MaxLength {
		t.Fatalf("valid %q has length %d", name, len(name))
	}
	for i, l := range strings.Split(name, ".") {
		if l == "*" && i == 0 {
			continue
		}
		if l == "" || len(l) > MaxLabelLength || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			t.Fatalf("valid %q has bad label %q", name, l)
		}
		if strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Fatalf("valid %q has bad characters in %q", name, l)
		}
	}
}

func FuzzIntersect(f *testing.F) {
	f.Add("*.example.com", "a.example.com")
	f.Add("a.example.com", "*.example.com")
	f.Add("*.example.com", "*.a.example.com")
	f.Add("", "a.b")
	f.Add("a.b", "a.b")
	f.Add("*.a.b", "b")
	f.Fuzz(func(t *testing.T, listener, route string) {
		if (listener != "" && Validate(listener) != nil) || (route != "" && Validate(route) != nil) {
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

func matchesOrAny(pattern, name string) bool { return pattern == "" || Matches(pattern, name) }

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
