package hostname

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotAllowed is wrapped by every error Policy.Check returns.
var ErrNotAllowed = errors.New("hostname not allowed")

// Policy decides which hostnames a cluster's objects may publish. The zero Policy
// allows nothing.
type Policy struct {
	// Domains lists the domains names must lie strictly below. A name equal to one
	// of them is refused: it would shadow every name below it.
	Domains []string
	// Excluded lists domains no name may lie in (equal to or below), even when it is
	// below one of Domains.
	Excluded []string
}

// DefaultPolicy returns the default policy of a cluster: names strictly below
// "<cluster>.<base>", and never below the GatewayDNS domain "clusters.<base>".
func DefaultPolicy(cluster, base string) Policy {
	return Policy{
		Domains:  []string{ClusterDomain(cluster, base)},
		Excluded: []string{ClustersDomain(base)},
	}
}

// Check reports whether the policy allows name, a valid hostname (see Validate); a
// wildcard is allowed when its domain is allowed or below an allowed domain. The error
// wraps ErrNotAllowed.
func (p Policy) Check(name string) error {
	plain := strings.TrimPrefix(name, "*.")
	for _, x := range p.Excluded {
		if plain == x || Below(plain, x) {
			return fmt.Errorf("%w: %q lies in the reserved domain %q", ErrNotAllowed, truncate(name), x)
		}
	}
	for _, d := range p.Domains {
		if Below(plain, d) || (plain == d && plain != name) {
			return nil
		}
	}
	switch len(p.Domains) {
	case 0:
		return fmt.Errorf("%w: %q: no domain is allowed", ErrNotAllowed, truncate(name))
	case 1:
		return fmt.Errorf("%w: %q is not below %q", ErrNotAllowed, truncate(name), p.Domains[0])
	}
	return fmt.Errorf("%w: %q is not below any of %q", ErrNotAllowed, truncate(name), p.Domains)
}
