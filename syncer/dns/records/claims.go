package records

import (
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
)

// Claims records which owner holds which hostname, as the store has them, and answers
// whether a new claim conflicts. The zero value is not usable; call NewClaims. A nil
// *Claims holds nothing.
type Claims struct {
	owners map[string]Owner
	// below maps every proper ancestor of a claimed name to, per owner ID, one name of
	// that owner below it.
	below map[string]map[string]string
}

// NewClaims returns an empty set of claims.
func NewClaims() *Claims {
	return &Claims{owners: map[string]Owner{}, below: map[string]map[string]string{}}
}

// Add records that owner holds hostname; adding a hostname again replaces its owner.
// Add does not check for conflicts: call Check first.
func (c *Claims) Add(hostname string, owner Owner) {
	if old, ok := c.owners[hostname]; ok {
		c.remove(hostname, old)
	}
	c.owners[hostname] = owner
	id := owner.ID()
	for a := range ancestors(hostname) {
		m := c.below[a]
		if m == nil {
			m = map[string]string{}
			c.below[a] = m
		}
		if _, ok := m[id]; !ok {
			m[id] = hostname
		}
	}
}

func (c *Claims) remove(hostname string, owner Owner) {
	delete(c.owners, hostname)
	id := owner.ID()
	for a := range ancestors(hostname) {
		if c.below[a][id] == hostname {
			delete(c.below[a], id)
			// Another name of the same owner may still lie below a.
			for n, o := range c.owners {
				if o.ID() == id && strings.HasSuffix(n, "."+a) {
					c.below[a][id] = n
					break
				}
			}
		}
	}
}

// Owner returns the owner of hostname.
func (c *Claims) Owner(hostname string) (Owner, bool) {
	if c == nil {
		return Owner{}, false
	}
	o, ok := c.owners[hostname]
	return o, ok
}

// Len is the number of claimed hostnames.
func (c *Claims) Len() int {
	if c == nil {
		return 0
	}
	return len(c.owners)
}

// All yields every claim in hostname order.
func (c *Claims) All() iter.Seq2[string, Owner] {
	return func(yield func(string, Owner) bool) {
		if c == nil {
			return
		}
		for _, h := range slices.Sorted(maps.Keys(c.owners)) {
			if !yield(h, c.owners[h]) {
				return
			}
		}
	}
}

// Conflict says why a claim cannot be granted.
type Conflict struct {
	// Reason is ReasonConflict or ReasonNested.
	Reason Reason
	// Hostname is the hostname claimed, Other the conflicting hostname of Owner.
	Hostname, Other string
	Owner           Owner
}

// Error is the conflict as a message: capital first letter, no trailing period.
func (c *Conflict) Error() string {
	switch {
	case c.Reason == ReasonConflict:
		return fmt.Sprintf("Hostname %q is already published by %s", c.Hostname, c.Owner)
	case len(c.Other) < len(c.Hostname):
		return fmt.Sprintf("Hostname %q lies below %q, published by %s", c.Hostname, c.Other, c.Owner)
	}
	return fmt.Sprintf("Hostname %q lies above %q, published by %s", c.Hostname, c.Other, c.Owner)
}

// Check returns nil when owner may claim hostname: nobody else holds it, nor a name
// above it, nor a name below it. Otherwise it says who is in the way.
func (c *Claims) Check(hostname string, owner Owner) *Conflict {
	if c == nil {
		return nil
	}
	id := owner.ID()
	if o, ok := c.owners[hostname]; ok && o.ID() != id {
		return &Conflict{Reason: ReasonConflict, Hostname: hostname, Other: hostname, Owner: o}
	}
	for a := range ancestors(hostname) {
		if o, ok := c.owners[a]; ok && o.ID() != id {
			return &Conflict{Reason: ReasonNested, Hostname: hostname, Other: a, Owner: o}
		}
	}
	if m := c.below[hostname]; len(m) > 0 {
		for _, oid := range slices.Sorted(maps.Keys(m)) {
			if oid != id {
				n := m[oid]
				return &Conflict{Reason: ReasonNested, Hostname: hostname, Other: n, Owner: c.owners[n]}
			}
		}
	}
	return nil
}

// ancestors yields the proper ancestors of a name, nearest first: "a.b.c" yields "b.c"
// and "c".
func ancestors(name string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for {
			i := strings.IndexByte(name, '.')
			if i < 0 {
				return
			}
			name = name[i+1:]
			if !yield(name) {
				return
			}
		}
	}
}
