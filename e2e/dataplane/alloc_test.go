package dataplane

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
)

var (
	v4 = corev1.IPv4Protocol
	v6 = corev1.IPv6Protocol
)

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func svc(name string) owner { return owner{Kind: "Service", Namespace: "default", Name: name} }

// allocStep is one call on the allocator: assign when families is set, else release.
type allocStep struct {
	owner    owner
	release  bool
	families []corev1.IPFamily
	hints    []netip.Addr
	want     []netip.Addr
	wantErr  bool
}

func TestAllocator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		v4, v6 string
		seed   []claim
		steps  []allocStep
	}{
		{
			name: "first address of the pool is skipped, then addresses are handed out in order",
			v4:   "10.0.0.0/29",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.1")},
				{owner: svc("b"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.2")},
			},
		},
		{
			name: "an owner keeps its address",
			v4:   "10.0.0.0/29",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.1")},
				{owner: svc("a"), families: []corev1.IPFamily{v4}, hints: addrs("10.0.0.5"), want: addrs("10.0.0.1")},
			},
		},
		{
			name: "addresses follow the order of the families",
			v4:   "10.0.0.0/29", v6: "fd00::/120",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v6, v4}, want: addrs("fd00::1", "10.0.0.1")},
			},
		},
		{
			name: "a free address from the status is kept",
			v4:   "10.0.0.0/29",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v4}, hints: addrs("10.0.0.5"), want: addrs("10.0.0.5")},
				{owner: svc("b"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.1")},
			},
		},
		{
			name: "an address from the status that another owner holds is replaced",
			v4:   "10.0.0.0/29",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.1")},
				{owner: svc("b"), families: []corev1.IPFamily{v4}, hints: addrs("10.0.0.1"), want: addrs("10.0.0.2")},
			},
		},
		{
			name: "an address from the status outside the pool is replaced",
			v4:   "10.0.0.0/29",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v4}, hints: addrs("192.0.2.1"), want: addrs("10.0.0.1")},
			},
		},
		{
			name: "the network address in the status is replaced",
			v4:   "10.0.0.0/29",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v4}, hints: addrs("10.0.0.0"), want: addrs("10.0.0.1")},
			},
		},
		{
			name: "a released address is handed out again",
			v4:   "10.0.0.0/29",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.1")},
				{owner: svc("b"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.2")},
				{owner: svc("a"), release: true},
				{owner: svc("c"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.1")},
			},
		},
		{
			name: "an exhausted pool is an error, and the broadcast address is never handed out",
			v4:   "10.0.0.0/30",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.1")},
				{owner: svc("b"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.2")},
				{owner: svc("c"), families: []corev1.IPFamily{v4}, wantErr: true},
				{owner: svc("a"), release: true},
				{owner: svc("c"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.1")},
			},
		},
		{
			name: "a pool of one address hands out that address",
			v4:   "10.0.0.7/32",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.7")},
				{owner: svc("b"), families: []corev1.IPFamily{v4}, wantErr: true},
			},
		},
		{
			name: "a family without pool gets nothing",
			v4:   "10.0.0.0/29",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v4, v6}, want: addrs("10.0.0.1")},
				{owner: svc("b"), families: []corev1.IPFamily{v6}, want: nil},
			},
		},
		{
			name: "a family no longer asked for is released",
			v4:   "10.0.0.0/29", v6: "fd00::/120",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v4, v6}, want: addrs("10.0.0.1", "fd00::1")},
				{owner: svc("a"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.1")},
				{owner: svc("b"), families: []corev1.IPFamily{v6}, want: addrs("fd00::1")},
			},
		},
		{
			name: "a failed assignment hands out nothing new",
			v4:   "10.0.0.0/30", v6: "fd00::1/128",
			steps: []allocStep{
				{owner: svc("a"), families: []corev1.IPFamily{v6}, want: addrs("fd00::1")},
				{owner: svc("b"), families: []corev1.IPFamily{v4, v6}, wantErr: true},
				{owner: svc("c"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.1")},
			},
		},
		{
			name: "seeded addresses are kept and the oldest claim wins a contested address",
			v4:   "10.0.0.0/29", v6: "fd00::/120",
			seed: []claim{
				{Owner: svc("young"), Created: 2, Addrs: addrs("10.0.0.3", "fd00::9")},
				{Owner: svc("old"), Created: 1, Addrs: addrs("10.0.0.3")},
				{Owner: owner{Kind: "Gateway", Namespace: "default", Name: "gw"}, Created: 3, Addrs: addrs("10.0.0.1", "192.0.2.1")},
			},
			steps: []allocStep{
				{owner: svc("old"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.3")},
				{owner: svc("young"), families: []corev1.IPFamily{v4, v6}, hints: addrs("10.0.0.3", "fd00::9"), want: addrs("10.0.0.2", "fd00::9")},
				{owner: owner{Kind: "Gateway", Namespace: "default", Name: "gw"}, families: []corev1.IPFamily{v4, v6}, want: addrs("10.0.0.1", "fd00::1")},
				{owner: svc("new"), families: []corev1.IPFamily{v4}, want: addrs("10.0.0.4")},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var p4, p6 netip.Prefix
			if tc.v4 != "" {
				p4 = netip.MustParsePrefix(tc.v4)
			}
			if tc.v6 != "" {
				p6 = netip.MustParsePrefix(tc.v6)
			}
			a := newAllocator(p4, p6)
			a.seed(tc.seed)
			for i, s := range tc.steps {
				if s.release {
					a.release(s.owner)
					if got := a.held(s.owner); len(got) != 0 {
						t.Fatalf("step %d: %s still holds %v after release", i, s.owner, got)
					}
					continue
				}
				got, err := a.assign(s.owner, s.families, s.hints)
				if (err != nil) != s.wantErr {
					t.Fatalf("step %d: assign(%s) error = %v, want error %v", i, s.owner, err, s.wantErr)
				}
				if diff := cmp.Diff(s.want, got, cmpopts.EquateComparable(netip.Addr{}), cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("step %d: assign(%s) (-want +got):\n%s", i, s.owner, diff)
				}
			}
		})
	}
}

// TestAllocatorNeverSharesAnAddress assigns and releases in a pattern and checks that
// no two owners ever hold the same address.
func TestAllocatorNeverSharesAnAddress(t *testing.T) {
	t.Parallel()
	a := newAllocator(netip.MustParsePrefix("10.0.0.0/27"), netip.MustParsePrefix("fd00::/123"))
	live := map[owner]bool{}
	for i := range 200 {
		o := svc(string(rune('a' + i%20)))
		if i%3 == 2 {
			a.release(o)
			delete(live, o)
		} else if _, err := a.assign(o, []corev1.IPFamily{v4, v6}, nil); err != nil {
			t.Fatalf("assign %d: %v", i, err)
		} else {
			live[o] = true
		}
		seen := map[netip.Addr]owner{}
		for o := range live {
			for _, addr := range a.held(o) {
				if other, dup := seen[addr]; dup {
					t.Fatalf("after step %d: %s and %s both hold %s", i, other, o, addr)
				}
				seen[addr] = o
			}
		}
	}
}
