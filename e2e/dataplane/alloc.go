package dataplane

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// owner identifies an object that holds addresses.
type owner struct {
	Kind      string // "Service", "Gateway" or "Ingress"
	Namespace string
	Name      string
}

func (o owner) String() string { return o.Kind + " " + o.Namespace + "/" + o.Name }

// claim is an owner's record of addresses, as read back from its status.
type claim struct {
	Owner owner
	// Created orders claims when two hold the same address: the older wins.
	Created int64
	Addrs   []netip.Addr
}

// allocator hands out addresses from one pool per IP family: the lowest free address
// of the pool, never one that another owner holds. It is safe for concurrent use.
type allocator struct {
	pools map[corev1.IPFamily]netip.Prefix

	mu      sync.Mutex
	byOwner map[owner]map[corev1.IPFamily]netip.Addr
	byAddr  map[netip.Addr]owner
}

// newAllocator returns an allocator for the given pools; an invalid prefix means the
// family has no pool.
func newAllocator(v4, v6 netip.Prefix) *allocator {
	a := &allocator{
		pools:   map[corev1.IPFamily]netip.Prefix{},
		byOwner: map[owner]map[corev1.IPFamily]netip.Addr{},
		byAddr:  map[netip.Addr]owner{},
	}
	if v4.IsValid() {
		a.pools[corev1.IPv4Protocol] = v4.Masked()
	}
	if v6.IsValid() {
		a.pools[corev1.IPv6Protocol] = v6.Masked()
	}
	return a
}

// families lists the families that have a pool, IPv4 first.
func (a *allocator) families() []corev1.IPFamily {
	var fs []corev1.IPFamily
	for _, f := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
		if _, ok := a.pools[f]; ok {
			fs = append(fs, f)
		}
	}
	return fs
}

// hasPool reports whether the family has a pool.
func (a *allocator) hasPool(f corev1.IPFamily) bool {
	_, ok := a.pools[f]
	return ok
}

// seed records claims read back from the statuses of existing objects, oldest first;
// an address that is outside the pools, or that an older claim holds already, is
// dropped (its owner gets a new one when it is reconciled).
func (a *allocator) seed(claims []claim) {
	claims = slices.Clone(claims)
	slices.SortStableFunc(claims, func(x, y claim) int {
		return cmp.Or(
			cmp.Compare(x.Created, y.Created),
			cmp.Compare(x.Owner.Kind, y.Owner.Kind),
			cmp.Compare(x.Owner.Namespace, y.Owner.Namespace),
			cmp.Compare(x.Owner.Name, y.Owner.Name),
		)
	})
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range claims {
		for _, addr := range c.Addrs {
			a.take(c.Owner, addr)
		}
	}
}

// assign makes o hold exactly one address of each of the families that has a pool
// (families without a pool are skipped) and returns them in the order of families.
// It keeps what o holds already, otherwise takes a hint (an address o's status
// records) when it is free, otherwise the lowest free address of the pool. Addresses
// of families no longer asked for are released. When a pool is exhausted it returns
// an error and hands out nothing new.
func (a *allocator) assign(o owner, families []corev1.IPFamily, hints []netip.Addr) ([]netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, h := range hints {
		if slices.Contains(families, familyOf(h)) {
			a.take(o, h)
		}
	}
	held := a.byOwner[o]
	var fresh []netip.Addr
	var out []netip.Addr
	for _, f := range families {
		if !a.hasPool(f) {
			continue
		}
		if addr, ok := held[f]; ok {
			out = append(out, addr)
			continue
		}
		addr, ok := a.lowestFree(f, fresh)
		if !ok {
			return nil, fmt.Errorf("the %s pool %s is exhausted", f, a.pools[f])
		}
		fresh = append(fresh, addr)
		out = append(out, addr)
	}
	for _, addr := range fresh {
		a.take(o, addr)
	}
	for f, addr := range a.byOwner[o] {
		if !slices.Contains(families, f) {
			delete(a.byAddr, addr)
			delete(a.byOwner[o], f)
		}
	}
	return out, nil
}

// held returns the addresses o holds, IPv4 first.
func (a *allocator) held(o owner) []netip.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []netip.Addr
	for _, f := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
		if addr, ok := a.byOwner[o][f]; ok {
			out = append(out, addr)
		}
	}
	return out
}

// release frees every address o holds.
func (a *allocator) release(o owner) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, addr := range a.byOwner[o] {
		delete(a.byAddr, addr)
	}
	delete(a.byOwner, o)
}

// take records addr for o if addr is allocatable, free (or o's already) and o holds
// no other address of its family. Callers hold mu.
func (a *allocator) take(o owner, addr netip.Addr) {
	addr = addr.Unmap()
	f := familyOf(addr)
	if !a.allocatable(f, addr) {
		return
	}
	if holder, used := a.byAddr[addr]; used && holder != o {
		return
	}
	if _, has := a.byOwner[o][f]; has {
		return
	}
	if a.byOwner[o] == nil {
		a.byOwner[o] = map[corev1.IPFamily]netip.Addr{}
	}
	a.byOwner[o][f] = addr
	a.byAddr[addr] = o
}

// lowestFree returns the lowest allocatable address of f's pool that nobody holds and
// that is not in pending. Callers hold mu.
func (a *allocator) lowestFree(f corev1.IPFamily, pending []netip.Addr) (netip.Addr, bool) {
	p := a.pools[f]
	for addr := p.Addr(); p.Contains(addr); addr = addr.Next() {
		if !a.allocatable(f, addr) {
			continue
		}
		if _, used := a.byAddr[addr]; used || slices.Contains(pending, addr) {
			continue
		}
		return addr, true
	}
	return netip.Addr{}, false
}

// allocatable reports whether addr is an address of f's pool that may be handed out:
// not the pool's first address (network address, IPv6 subnet-router anycast) and, in
// IPv4 pools of four or more addresses, not the last (broadcast).
func (a *allocator) allocatable(f corev1.IPFamily, addr netip.Addr) bool {
	p, ok := a.pools[f]
	if !ok || !addr.IsValid() || !p.Contains(addr) {
		return false
	}
	if p.Bits() == addr.BitLen() {
		return true // a pool of one address
	}
	if addr == p.Addr() {
		return false
	}
	if f == corev1.IPv4Protocol && p.Bits() <= 30 && !p.Contains(addr.Next()) {
		return false
	}
	return true
}

// familyOf returns the IP family of addr.
func familyOf(addr netip.Addr) corev1.IPFamily {
	if addr.Unmap().Is4() {
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

// parseAddrs parses the addresses in ss, skipping what is not an IP address.
func parseAddrs(ss []string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		if addr, err := netip.ParseAddr(s); err == nil {
			out = append(out, addr.Unmap())
		}
	}
	return out
}
