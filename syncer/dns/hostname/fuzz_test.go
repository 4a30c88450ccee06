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
