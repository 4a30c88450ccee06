package hostname

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		name    string
		in      string
		wantErr string // substring of the error; "" means valid
	}{
		{name: "simple", in: "app.c1.openmcp.cluster"},
		{name: "single label", in: "localhost"},
		{name: "digits and hyphens", in: "a-1.b2-c.example"},
		{name: "wildcard", in: "*.c1.openmcp.cluster"},
		{name: "wildcard of a single label", in: "*.com"},
		{name: "label of 63", in: long63 + ".example.com"},
		{name: "name of 253", in: strings.Repeat(long63+".", 3) + strings.Repeat("a", 61)},
		{name: "empty", in: "", wantErr: "it is empty"},
		{name: "name of 254", in: strings.Repeat(long63+".", 3) + strings.Repeat("a", 62), wantErr: "more than 253"},
		{name: "label of 64", in: long63 + "a.example.com", wantErr: "label 1 is 64 characters long"},
		{name: "trailing dot", in: "app.example.com.", wantErr: "label 4 is empty"},
		{name: "leading dot", in: ".example.com", wantErr: "label 1 is empty"},
		{name: "double dot", in: "a..example.com", wantErr: "label 2 is empty"},
		{name: "upper case", in: "App.example.com", wantErr: "upper-case"},
		{name: "underscore", in: "_srv.example.com", wantErr: "character '_'"},
		{name: "leading hyphen", in: "-a.example.com", wantErr: "starts or ends with a hyphen"},
		{name: "trailing hyphen", in: "a-.example.com", wantErr: "starts or ends with a hyphen"},
		{name: "wildcard not leftmost", in: "a.*.example.com", wantErr: "only as the leftmost label"},
		{name: "two wildcards", in: "*.*.example.com", wantErr: "only as the leftmost label"},
		{name: "partial wildcard", in: "a*.example.com", wantErr: "contains a wildcard"},
		{name: "bare wildcard", in: "*", wantErr: "needs a domain"},
		{name: "IPv4 address", in: "10.0.0.1", wantErr: "IP addresses"},
		{name: "IPv6 address", in: "fd00::1", wantErr: "character ':'"},
		{name: "space", in: "a b.example.com", wantErr: "character ' '"},
		{name: "unicode", in: "bücher.example", wantErr: "character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate(%q) = %v, want an error containing %q", tt.in, err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Validate(%q) = %v, does not wrap ErrInvalid", tt.in, err)
			}
		})
	}
}

func TestValidateTruncatesLongNames(t *testing.T) {
	t.Parallel()
	err := Validate(strings.Repeat("a", 10000))
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("Validate(10000 characters) = %v, want a short error", err)
	}
}

func TestBelow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, domain string
		want             bool
	}{
		{name: "child", in: "a.example.com", domain: "example.com", want: true},
		{name: "grandchild", in: "a.b.example.com", domain: "example.com", want: true},
		{name: "itself", in: "example.com", domain: "example.com", want: false},
		{name: "suffix without dot", in: "aexample.com", domain: "example.com", want: false},
		{name: "parent", in: "example.com", domain: "a.example.com", want: false},
		{name: "unrelated", in: "a.example.org", domain: "example.com", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Below(tt.in, tt.domain); got != tt.want {
				t.Errorf("Below(%q, %q) = %v, want %v", tt.in, tt.domain, got, tt.want)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pattern, in string
		want              bool
	}{
		{name: "exact equal", pattern: "a.example.com", in: "a.example.com", want: true},
		{name: "exact different", pattern: "a.example.com", in: "b.example.com", want: false},
		{name: "exact does not match wildcard", pattern: "a.example.com", in: "*.example.com", want: false},
		{name: "wildcard child", pattern: "*.example.com", in: "a.example.com", want: true},
		{name: "wildcard grandchild", pattern: "*.example.com", in: "a.b.example.com", want: true},
		{name: "wildcard not its domain", pattern: "*.example.com", in: "example.com", want: false},
		{name: "wildcard other domain", pattern: "*.example.com", in: "a.example.net", want: false},
		{name: "wildcard itself", pattern: "*.example.com", in: "*.example.com", want: true},
		{name: "wildcard narrower wildcard", pattern: "*.example.com", in: "*.a.example.com", want: true},
		{name: "wildcard wider wildcard", pattern: "*.a.example.com", in: "*.example.com", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Matches(tt.pattern, tt.in); got != tt.want {
				t.Errorf("Matches(%q, %q) = %v, want %v", tt.pattern, tt.in, got, tt.want)
			}
		})
	}
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	def := DefaultPolicy("c1", DefaultBaseDomain)
	tests := []struct {
		name    string
		policy  Policy
		in      string
		wantErr string
	}{
		{name: "below cluster domain", policy: def, in: "app.c1.openmcp.cluster"},
		{name: "deep below cluster domain", policy: def, in: "a.b.c1.openmcp.cluster"},
		{name: "wildcard of cluster domain", policy: def, in: "*.c1.openmcp.cluster"},
		{name: "wildcard below cluster domain", policy: def, in: "*.app.c1.openmcp.cluster"},
		{name: "cluster domain itself", policy: def, in: "c1.openmcp.cluster", wantErr: `is not below "c1.openmcp.cluster"`},
		{name: "other cluster", policy: def, in: "app.c2.openmcp.cluster", wantErr: "is not below"},
		{name: "suffix lookalike", policy: def, in: "app.xc1.openmcp.cluster", wantErr: "is not below"},
		{name: "outside base domain", policy: def, in: "app.example.com", wantErr: "is not below"},
		{name: "wildcard of base domain", policy: def, in: "*.openmcp.cluster", wantErr: "is not below"},
		{
			name:    "gateway dns domain of a cluster named clusters",
			policy:  DefaultPolicy("clusters", DefaultBaseDomain),
			in:      "gateway.c1.ns.clusters.openmcp.cluster",
			wantErr: "reserved domain",
		},
		{
			name:   "several domains",
			policy: Policy{Domains: []string{"a.example", "b.example"}},
			in:     "x.b.example",
		},
		{
			name:    "several domains, none matching",
			policy:  Policy{Domains: []string{"a.example", "b.example"}},
			in:      "x.c.example",
			wantErr: "is not below any of",
		},
		{name: "zero policy", policy: Policy{}, in: "x.example", wantErr: "no domain is allowed"},
		{
			name:    "excluded wins",
			policy:  Policy{Domains: []string{"example"}, Excluded: []string{"private.example"}},
			in:      "*.private.example",
			wantErr: "reserved domain",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.policy.Check(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrNotAllowed) {
				t.Fatalf("Check(%q) = %v, want an ErrNotAllowed containing %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestDomains(t *testing.T) {
	t.Parallel()
	if got, want := ClusterDomain("c1", DefaultBaseDomain), "c1.openmcp.cluster"; got != want {
		t.Errorf("ClusterDomain = %q, want %q", got, want)
	}
	if got, want := GatewayDNSDomain("c1", "ns", DefaultBaseDomain), "gateway.c1.ns.clusters.openmcp.cluster"; got != want {
		t.Errorf("GatewayDNSDomain = %q, want %q", got, want)
	}
	if got, want := Join("", "a", "", "b.c"), "a.b.c"; got != want {
		t.Errorf("Join = %q, want %q", got, want)
	}
}
