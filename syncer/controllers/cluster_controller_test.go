package controllers

import (
	"slices"
	"testing"
)

// Service ranges go into the tenant CoreDNS's Corefile: what is not a CIDR stays out.
func TestSplitCIDRs(t *testing.T) {
	t.Parallel()
	valid, invalid := splitCIDRs([]string{"10.96.0.0/16", "fd00:10:96::/112", "10.96.0.0/16 }\nhosts {", "10.96.0.0", "", "300.1.0.0/16"})
	if want := []string{"10.96.0.0/16", "fd00:10:96::/112"}; !slices.Equal(valid, want) {
		t.Errorf("valid %q, want %q", valid, want)
	}
	if want := []string{"10.96.0.0/16 }\nhosts {", "10.96.0.0", "", "300.1.0.0/16"}; !slices.Equal(invalid, want) {
		t.Errorf("invalid %q, want %q", invalid, want)
	}
}
