package skydns

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vcdns/vcdns/syncer/dns/records"
)

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func gw(cluster, name string) records.Owner {
	return records.Owner{Cluster: cluster, Kind: records.KindGateway, Namespace: "ns", Name: name}
}

func endpoint(name string, o records.Owner, as ...string) records.Endpoint {
	e := records.Endpoint{Hostname: name, Owner: o, TTL: 30}
	for _, a := range addrs(as...) {
		if a.Is4() {
			e.IPv4 = append(e.IPv4, a)
		} else {
			e.IPv6 = append(e.IPv6, a)
		}
	}
	return e
}

// stored returns the entry of an endpoint as Read returns it.
func stored(e records.Endpoint, rev int64) Entry {
	en := EntryOf(e)
	en.Revision = rev
	return en
}

func state(entries ...Entry) State {
	s := State{Revision: 100, Entries: map[string]Entry{}, External: map[string]string{}}
	for _, e := range entries {
		s.Entries[e.Hostname] = e
	}
	return s
}

func TestPlan(t *testing.T) {
	t.Parallel()
	g1, g2, other := gw("c1", "g1"), gw("c1", "g2"), gw("c2", "g")
	app := endpoint("app.c1.openmcp.cluster", g1, "10.0.0.1", "fd00::1")
	c1 := records.ClusterScope("c1")
	drifted := stored(app, 7)
	drifted.Records[0].Value = `{"host":"10.9.9.9"}`
	missing := stored(app, 7)
	missing.Records[1].Value = ""
	withOrigin := app
	withOrigin.Owner.Origin = "tenant"
	ext := state()
	ext.External = map[string]string{"/skydns/cluster/openmcp/c1/ext/x": "x.ext.c1.openmcp.cluster"}

	tests := []struct {
		name        string
		current     State
		desired     Desired
		want        Changes
		wantSkipped []records.Refusal
	}{
		{
			name:    "create",
			current: state(),
			desired: Desired{Scope: c1, Endpoints: []records.Endpoint{app, endpoint("b.c1.openmcp.cluster", g2)}},
			want:    Changes{Revision: 100, Create: []Entry{EntryOf(app), EntryOf(endpoint("b.c1.openmcp.cluster", g2))}},
		},
		{
			name:    "nothing to do",
			current: state(stored(app, 7)),
			desired: Desired{Scope: c1, Endpoints: []records.Endpoint{app}},
			want:    Changes{Revision: 100},
		},
		{
			name:    "addresses change",
			current: state(stored(app, 7)),
			desired: Desired{Scope: c1, Endpoints: []records.Endpoint{endpoint("app.c1.openmcp.cluster", g1, "10.0.0.2")}},
			want: Changes{Revision: 100, Update: []Update{{
				Old: stored(app, 7),
				New: stored(endpoint("app.c1.openmcp.cluster", g1, "10.0.0.2"), 7),
			}}},
		},
		{
			name:    "a drifted record is rewritten",
			current: state(drifted),
			desired: Desired{Scope: c1, Endpoints: []records.Endpoint{app}},
			want:    Changes{Revision: 100, Update: []Update{{Old: drifted, New: stored(app, 7)}}},
		},
		{
			name:    "a missing record is rewritten",
			current: state(missing),
			desired: Desired{Scope: c1, Endpoints: []records.Endpoint{app}},
			want:    Changes{Revision: 100, Update: []Update{{Old: missing, New: stored(app, 7)}}},
		},
		{
			name:    "origin changes",
			current: state(stored(app, 7)),
			desired: Desired{Scope: c1, Endpoints: []records.Endpoint{withOrigin}},
			want:    Changes{Revision: 100, Update: []Update{{Old: stored(app, 7), New: stored(withOrigin, 7)}}},
		},
		{
			name:    "owner changes within the scope",
			current: state(stored(app, 7)),
			desired: Desired{Scope: c1, Endpoints: []records.Endpoint{endpoint("app.c1.openmcp.cluster", g2, "10.0.0.2")}},
			want: Changes{Revision: 100, Update: []Update{{
				Old: stored(app, 7),
				New: stored(endpoint("app.c1.openmcp.cluster", g2, "10.0.0.2"), 7),
			}}},
		},
		{
			name: "names of gone sources in the scope are deleted, others kept",
			current: state(
				stored(app, 7),
				stored(endpoint("x.c2.openmcp.cluster", other, "10.2.0.1"), 8),
				stored(endpoint("gdns.clusters.openmcp.cluster", records.Owner{Cluster: "c1", Kind: records.KindGatewayDNS, Name: "d"}, "10.3.0.1"), 9),
			),
			desired: Desired{Scope: c1},
			want:    Changes{Revision: 100, Delete: []Entry{stored(app, 7)}},
		},
		{
			name:    "a nil scope changes nothing",
			current: state(stored(app, 7)),
			desired: Desired{Endpoints: []records.Endpoint{endpoint("b.c1.openmcp.cluster", g1)}},
			want:    Changes{Revision: 100},
			wantSkipped: []records.Refusal{
				{Object: records.ObjectRef{Kind: records.KindGateway, Namespace: "ns", Name: "g1"}, Hostname: "b.c1.openmcp.cluster", Reason: records.ReasonConflict},
			},
		},
		{
			name: "names held outside the scope are never taken, nor nested",
			current: state(
				stored(endpoint("app.c2.openmcp.cluster", other, "10.2.0.1"), 8),
			),
			desired: Desired{Scope: c1, Endpoints: []records.Endpoint{
				endpoint("app.c2.openmcp.cluster", g1, "10.0.0.1"),
				endpoint("x.app.c2.openmcp.cluster", g1, "10.0.0.1"),
				endpoint("c2.openmcp.cluster", g1, "10.0.0.1"),
			}},
			want: Changes{Revision: 100},
			wantSkipped: []records.Refusal{
				{Object: records.ObjectRef{Kind: records.KindGateway, Namespace: "ns", Name: "g1"}, Hostname: "app.c2.openmcp.cluster", Reason: records.ReasonConflict},
				{Object: records.ObjectRef{Kind: records.KindGateway, Namespace: "ns", Name: "g1"}, Hostname: "c2.openmcp.cluster", Reason: records.ReasonNested},
				{Object: records.ObjectRef{Kind: records.KindGateway, Namespace: "ns", Name: "g1"}, Hostname: "x.app.c2.openmcp.cluster", Reason: records.ReasonNested},
			},
		},
		{
			name:    "external keys are neither taken nor nested",
			current: ext,
			desired: Desired{Scope: c1, Endpoints: []records.Endpoint{
				endpoint("x.ext.c1.openmcp.cluster", g1, "10.0.0.1"),
				endpoint("ext.c1.openmcp.cluster", g1, "10.0.0.1"),
				endpoint("y.ext.c1.openmcp.cluster", g1, "10.0.0.1"),
			}},
			want: Changes{Revision: 100, Create: []Entry{EntryOf(endpoint("y.ext.c1.openmcp.cluster", g1, "10.0.0.1"))}},
			wantSkipped: []records.Refusal{
				{Object: records.ObjectRef{Kind: records.KindGateway, Namespace: "ns", Name: "g1"}, Hostname: "ext.c1.openmcp.cluster", Reason: records.ReasonNested},
				{Object: records.ObjectRef{Kind: records.KindGateway, Namespace: "ns", Name: "g1"}, Hostname: "x.ext.c1.openmcp.cluster", Reason: records.ReasonConflict},
			},
		},
		{
			name:    "endpoints outside the scope, repeated, wildcard or nested in each other are skipped",
			current: state(),
			desired: Desired{Scope: c1, Endpoints: []records.Endpoint{
				endpoint("a.c2.openmcp.cluster", other, "10.0.0.1"),
				endpoint("b.c1.openmcp.cluster", g1, "10.0.0.1"),
				endpoint("b.c1.openmcp.cluster", g2, "10.0.0.2"),
				endpoint("*.c1.openmcp.cluster", g1, "10.0.0.1"),
				endpoint("x.b.c1.openmcp.cluster", g2, "10.0.0.2"),
			}},
			want: Changes{Revision: 100, Create: []Entry{EntryOf(endpoint("b.c1.openmcp.cluster", g1, "10.0.0.1"))}},
			wantSkipped: []records.Refusal{
				{Object: records.ObjectRef{Kind: records.KindGateway, Namespace: "ns", Name: "g1"}, Hostname: "*.c1.openmcp.cluster", Reason: records.ReasonInvalid},
				{Object: records.ObjectRef{Kind: records.KindGateway, Namespace: "ns", Name: "g"}, Hostname: "a.c2.openmcp.cluster", Reason: records.ReasonConflict},
				{Object: records.ObjectRef{Kind: records.KindGateway, Namespace: "ns", Name: "g2"}, Hostname: "b.c1.openmcp.cluster", Reason: records.ReasonConflict},
				{Object: records.ObjectRef{Kind: records.KindGateway, Namespace: "ns", Name: "g2"}, Hostname: "x.b.c1.openmcp.cluster", Reason: records.ReasonNested},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Plan(tt.current, tt.desired)
			tt.want.Skipped = tt.wantSkipped
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(records.Refusal{}, "Message"),
				cmpopts.SortSlices(func(a, b records.Refusal) bool { return a.Hostname < b.Hostname })); diff != "" {
				t.Errorf("Plan (-want +got):\n%s", diff)
			}
			for _, s := range got.Skipped {
				if s.Message == "" {
					t.Errorf("skipped %s without a message", s.Hostname)
				}
			}
		})
	}
}

func TestEntryOf(t *testing.T) {
	t.Parallel()
	e := endpoint("app.c1.openmcp.cluster", gw("c1", "g1"), "10.0.0.2", "fd00::1", "10.0.0.1")
	e.TTL = 5
	want := Entry{Hostname: "app.c1.openmcp.cluster", Owner: gw("c1", "g1"), Records: []Record{
		{ID: "a-10-0-0-1", Value: `{"host":"10.0.0.1","ttl":5}`},
		{ID: "a-10-0-0-2", Value: `{"host":"10.0.0.2","ttl":5}`},
		{ID: "aaaa-fd00-0-0-0-0-0-0-1", Value: `{"host":"fd00::1","ttl":5}`},
	}}
	if diff := cmp.Diff(want, EntryOf(e)); diff != "" {
		t.Errorf("EntryOf (-want +got):\n%s", diff)
	}
}

func TestFamilies(t *testing.T) {
	t.Parallel()
	got := families([]string{"x.b.c", "a.c", "b.c", "y.x.b.c", "d", "q.d", "e"})
	want := [][]string{{"a.c"}, {"b.c", "x.b.c", "y.x.b.c"}, {"d", "q.d"}, {"e"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("families (-want +got):\n%s", diff)
	}
}
