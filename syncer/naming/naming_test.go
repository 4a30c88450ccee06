/*
Copyright The vcdns Authors.
*/

package naming

import (
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

var uuidV8 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestMCPNamespace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		prefix    string
		namespace string
		mcp       string
		want      string
	}{
		{
			name:      "design example",
			prefix:    DefaultNamespacePrefix,
			namespace: "team-a",
			mcp:       "mcp1",
			want:      "mcp-d99bb272-f1e2-8297-8a42-8b0ff70fcfec",
		},
		{
			name:      "prefix is only prepended",
			prefix:    "tenant-",
			namespace: "team-a",
			mcp:       "mcp1",
			want:      "tenant-d99bb272-f1e2-8297-8a42-8b0ff70fcfec",
		},
		{
			name:      "empty prefix",
			prefix:    "",
			namespace: "team-a",
			mcp:       "mcp1",
			want:      "d99bb272-f1e2-8297-8a42-8b0ff70fcfec",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := MCPNamespace(tt.prefix, tt.namespace, tt.mcp); got != tt.want {
				t.Errorf("MCPNamespace(%q, %q, %q) = %q, want %q", tt.prefix, tt.namespace, tt.mcp, got, tt.want)
			}
		})
	}
}

func TestMCPNamespaceIsVersion8UUID(t *testing.T) {
	t.Parallel()
	pairs := []struct {
		name      string
		namespace string
		mcp       string
	}{
		{name: "ordinary", namespace: "team-a", mcp: "mcp1"},
		{name: "other name", namespace: "team-a", mcp: "mcp2"},
		{name: "other namespace", namespace: "team-b", mcp: "mcp1"},
		{name: "empty", namespace: "", mcp: ""},
	}
	seen := map[string]string{}
	for _, p := range pairs {
		got := MCPNamespace(DefaultNamespacePrefix, p.namespace, p.mcp)
		u := strings.TrimPrefix(got, DefaultNamespacePrefix)
		if !uuidV8.MatchString(u) {
			t.Errorf("%s: %q is not a version 8 UUID", p.name, u)
		}
		if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
			t.Errorf("%s: %q is not a namespace name: %v", p.name, got, errs)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%s and %s share %q", p.name, other, got)
		}
		seen[got] = p.name
	}
}

func TestValidatePrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prefix  string
		wantErr bool
	}{
		{name: "default", prefix: DefaultNamespacePrefix},
		{name: "empty", prefix: ""},
		{name: "longest", prefix: strings.Repeat("a", MaxPrefixLength)},
		{name: "too long", prefix: strings.Repeat("a", MaxPrefixLength+1), wantErr: true},
		{name: "upper case", prefix: "MCP-", wantErr: true},
		{name: "dot", prefix: "mcp.", wantErr: true},
		{name: "leading dash", prefix: "-mcp", wantErr: true},
		{name: "digits", prefix: "0-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidatePrefix(tt.prefix)
			if (err != nil) != tt.wantErr {
				t.Errorf("ValidatePrefix(%q) = %v, want error %v", tt.prefix, err, tt.wantErr)
			}
		})
	}
}

func TestCopyName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 63)
	tests := []struct {
		name         string
		namespace    string
		object       string
		wantReadable string
	}{
		{name: "ordinary", namespace: "default", object: "my-nginx", wantReadable: "default-my-nginx"},
		{name: "namespace starting with a digit", namespace: "1team", object: "web", wantReadable: "team-web"},
		{name: "dots in a name", namespace: "default", object: "www.example.com", wantReadable: "default-www-example-com"},
		{name: "upper case is lowered", namespace: "Default", object: "Web", wantReadable: "default-web"},
		{name: "long names are cut", namespace: long, object: long, wantReadable: strings.Repeat("a", 30)},
		{name: "cut ending in a dash", namespace: strings.Repeat("b", 29), object: "c", wantReadable: strings.Repeat("b", 29)},
		{name: "nothing readable", namespace: "", object: "", wantReadable: "x"},
		{name: "only digits", namespace: "123", object: "456", wantReadable: "x"},
		{name: "non-ASCII", namespace: "équipe", object: "web", wantReadable: "quipe-web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := CopyName(tt.namespace, tt.object)
			if errs := validation.IsDNS1035Label(got); len(errs) > 0 {
				t.Errorf("CopyName(%q, %q) = %q is not a DNS-1035 label: %v", tt.namespace, tt.object, got, errs)
			}
			if len(got) > MaxCopyNameLength {
				t.Errorf("CopyName(%q, %q) = %q is longer than %d", tt.namespace, tt.object, got, MaxCopyNameLength)
			}
			readablePart, hash, ok := cutLast(got, "-")
			if !ok || readablePart != tt.wantReadable || len(hash) != CopyNameHashLength {
				t.Errorf("CopyName(%q, %q) = %q, want %q-<%d characters>", tt.namespace, tt.object, got, tt.wantReadable, CopyNameHashLength)
			}
			if again := CopyName(tt.namespace, tt.object); again != got {
				t.Errorf("CopyName(%q, %q) is not deterministic: %q then %q", tt.namespace, tt.object, got, again)
			}
		})
	}
}

func TestCopyNameGolden(t *testing.T) {
	t.Parallel()
	// A change of the copy name would orphan every copy made before: keep it stable.
	// Computed independently: base32(shake_128(b"\x07" + b"default" + b"my-nginx"), 10 bytes).
	const want = "default-my-nginx-kgtyo2kwrhyw4swd"
	if got := CopyName("default", "my-nginx"); got != want {
		t.Errorf("CopyName(default, my-nginx) = %q, want %q", got, want)
	}
}

func TestCopyNameSeparatesPairs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		first  [2]string
		second [2]string
	}{
		{name: "dash moved across the separator", first: [2]string{"a-b", "c"}, second: [2]string{"a", "b-c"}},
		{name: "slash moved across the separator", first: [2]string{"a/b", "c"}, second: [2]string{"a", "b/c"}},
		{name: "empty namespace", first: [2]string{"", "ab"}, second: [2]string{"a", "b"}},
		{name: "swapped", first: [2]string{"a", "b"}, second: [2]string{"b", "a"}},
		{name: "same readable part after cutting", first: [2]string{strings.Repeat("a", 40), "x"}, second: [2]string{strings.Repeat("a", 40), "y"}},
		{name: "case", first: [2]string{"A", "b"}, second: [2]string{"a", "b"}},
		{name: "dot and dash", first: [2]string{"a", "b.c"}, second: [2]string{"a", "b-c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := CopyName(tt.first[0], tt.first[1])
			b := CopyName(tt.second[0], tt.second[1])
			if a == b {
				t.Errorf("CopyName%q and CopyName%q are both %q", tt.first, tt.second, a)
			}
		})
	}
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
