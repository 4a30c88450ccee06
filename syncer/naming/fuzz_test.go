/*
Copyright The vcdns Authors.
*/

package naming

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// FuzzCopyName checks that every copy name is a valid, length-safe DNS-1035 label, and
// that moving the boundary between namespace and name (the ("a-b", "c") versus
// ("a", "b-c") case) or changing either never yields the same name.
func FuzzCopyName(f *testing.F) {
	for _, seed := range [][2]string{
		{"default", "my-nginx"},
		{"a-b", "c"},
		{"a", "b-c"},
		{"", ""},
		{"1team", "web"},
		{strings.Repeat("n", 63), strings.Repeat("s", 253)},
		{"kube-system", "www.example.com"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, namespace, name string) {
		got := CopyName(namespace, name)
		if errs := validation.IsDNS1035Label(got); len(errs) > 0 {
			t.Fatalf("CopyName(%q, %q) = %q is not a DNS-1035 label: %v", namespace, name, got, errs)
		}
		if len(got) > MaxCopyNameLength {
			t.Fatalf("CopyName(%q, %q) = %q is longer than %d", namespace, name, got, MaxCopyNameLength)
		}
		if again := CopyName(namespace, name); again != got {
			t.Fatalf("CopyName(%q, %q) is not deterministic: %q then %q", namespace, name, got, again)
		}
		joined := namespace + name
		for i := 0; i <= len(joined); i++ {
			if i == len(namespace) {
				continue
			}
			if other := CopyName(joined[:i], joined[i:]); other == got {
				t.Fatalf("CopyName(%q, %q) and CopyName(%q, %q) are both %q", namespace, name, joined[:i], joined[i:], got)
			}
		}
		for _, other := range [][2]string{
			{namespace + "-", name},
			{namespace, "-" + name},
			{strings.ToUpper(namespace), name},
			{namespace, strings.ReplaceAll(name, ".", "-")},
			{name, namespace},
		} {
			if other == [2]string{namespace, name} {
				continue
			}
			if CopyName(other[0], other[1]) == got {
				t.Fatalf("CopyName(%q, %q) and CopyName(%q, %q) are both %q", namespace, name, other[0], other[1], got)
			}
		}
	})
}

// FuzzCopyNamePairs checks two arbitrary pairs: distinct pairs never share a name.
func FuzzCopyNamePairs(f *testing.F) {
	f.Add("a-b", "c", "a", "b-c")
	f.Add("a", "b", "a", "b")
	f.Add("", "x", "x", "")
	f.Fuzz(func(t *testing.T, ns1, n1, ns2, n2 string) {
		same := ns1 == ns2 && n1 == n2
		if (CopyName(ns1, n1) == CopyName(ns2, n2)) != same {
			t.Fatalf("CopyName(%q, %q) = %q, CopyName(%q, %q) = %q", ns1, n1, CopyName(ns1, n1), ns2, n2, CopyName(ns2, n2))
		}
	})
}

// FuzzMCPNamespace checks that MCP namespaces are valid namespace names and label
// values, version 8 UUIDs after the prefix, and distinct for distinct MCPs (namespace
// and name of an MCP never contain "/", the separator of the hashed string).
func FuzzMCPNamespace(f *testing.F) {
	f.Add("team-a", "mcp1")
	f.Add("a-b", "c")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, namespace, name string) {
		got := MCPNamespace(DefaultNamespacePrefix, namespace, name)
		if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
			t.Fatalf("MCPNamespace(%q, %q) = %q is not a namespace name: %v", namespace, name, got, errs)
		}
		if errs := validation.IsValidLabelValue(got); len(errs) > 0 {
			t.Fatalf("MCPNamespace(%q, %q) = %q is not a label value: %v", namespace, name, got, errs)
		}
		if u := strings.TrimPrefix(got, DefaultNamespacePrefix); !uuidV8.MatchString(u) {
			t.Fatalf("MCPNamespace(%q, %q) = %q does not end in a version 8 UUID", namespace, name, got)
		}
		if strings.Contains(namespace+name, "/") {
			return
		}
		joined := namespace + name
		for i := 0; i <= len(joined); i++ {
			if i == len(namespace) {
				continue
			}
			if other := MCPNamespace(DefaultNamespacePrefix, joined[:i], joined[i:]); other == got {
				t.Fatalf("MCPNamespace(%q, %q) and MCPNamespace(%q, %q) are both %q", namespace, name, joined[:i], joined[i:], got)
			}
		}
	})
}
