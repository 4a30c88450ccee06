package skydns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/syncer/dns/records"
)

func startEtcd(t testing.TB) *clientv3.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	e, err := l.StartEtcd(ctx, "etcd")
	if err != nil {
		t.Fatal(err)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newStore(t *testing.T, c *clientv3.Client, opts Options) *Store {
	t.Helper()
	s, err := NewStore(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dump returns every key and value below prefix.
func dump(t *testing.T, c *clientv3.Client, prefix string) map[string]string {
	t.Helper()
	resp, err := c.Get(context.Background(), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = string(kv.Value)
	}
	return out
}

// sync reads, plans and applies, as a controller does.
func syncStore(t *testing.T, s *Store, d Desired) Changes {
	t.Helper()
	ctx := context.Background()
	st, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ch := Plan(st, d)
	if err := s.Apply(ctx, ch); err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestStore(t *testing.T) {
	t.Parallel()
	c := startEtcd(t)
	ctx := context.Background()
	g1, g2, other := gw("c1", "g1"), gw("c1", "g2"), gw("c2", "g")
	c1 := records.ClusterScope("c1")

	t.Run("layout, round trip and idempotence", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, c, Options{Prefix: "/t1/skydns", OwnerPrefix: "/t1/owners"})
		d := Desired{Scope: c1, Endpoints: []records.Endpoint{
			endpoint("app.c1.openmcp.cluster", g1, "10.0.0.1", "fd00::1"),
			endpoint("pending.c1.openmcp.cluster", g2),
		}}
		syncStore(t, s, d)
		want := map[string]string{
			"/t1/skydns/cluster/openmcp/c1/app/a-10-0-0-1":              `{"host":"10.0.0.1","ttl":30}`,
			"/t1/skydns/cluster/openmcp/c1/app/aaaa-fd00-0-0-0-0-0-0-1": `{"host":"fd00::1","ttl":30}`,
			"/t1/owners/cluster/openmcp/c1/app":                         `{"owner":{"cluster":"c1","kind":"Gateway","namespace":"ns","name":"g1"},"records":["a-10-0-0-1","aaaa-fd00-0-0-0-0-0-0-1"]}`,
			"/t1/owners/cluster/openmcp/c1/pending":                     `{"owner":{"cluster":"c1","kind":"Gateway","namespace":"ns","name":"g2"},"records":[]}`,
		}
		if diff := cmp.Diff(want, dump(t, c, "/t1/")); diff != "" {
			t.Fatalf("stored (-want +got):\n%s", diff)
		}
		st, err := s.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ch := Plan(st, d); !ch.Empty() {
			t.Errorf("second plan: %s, want no changes", ch)
		}
		if got := st.Claims().Len(); got != 2 {
			t.Errorf("claims: %d, want 2", got)
		}
	})

	t.Run("updates and deletes touch only owned keys", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, c, Options{Prefix: "/t2/skydns", OwnerPrefix: "/t2/owners"})
		foreign := map[string]string{
			"/t2/skydns/cluster/openmcp/c1/app/foreign": `{"host":"192.0.2.1"}`,
			"/t2/skydns/cluster/openmcp/other/x":        `{"host":"192.0.2.2"}`,
			"/t2/skydnsx":                               "lookalike",
		}
		for k, v := range foreign {
			if _, err := c.Put(ctx, k, v); err != nil {
				t.Fatal(err)
			}
		}
		syncStore(t, s, Desired{Scope: c1, Endpoints: []records.Endpoint{
			endpoint("app.c1.openmcp.cluster", g1, "10.0.0.1"), // refused by Plan: a foreign key lies below
			endpoint("a.c1.openmcp.cluster", g1, "10.0.0.1", "10.0.0.2"),
			endpoint("b.c1.openmcp.cluster", g1, "10.0.0.3"),
		}})
		ch := syncStore(t, s, Desired{Scope: c1, Endpoints: []records.Endpoint{
			endpoint("a.c1.openmcp.cluster", g1, "10.0.0.2", "fd00::2"),
		}})
		if len(ch.Update) != 1 || len(ch.Delete) != 1 {
			t.Errorf("changes: %s, want one update and one delete", ch)
		}
		want := map[string]string{
			"/t2/skydns/cluster/openmcp/c1/a/a-10-0-0-2":              `{"host":"10.0.0.2","ttl":30}`,
			"/t2/skydns/cluster/openmcp/c1/a/aaaa-fd00-0-0-0-0-0-0-2": `{"host":"fd00::2","ttl":30}`,
			"/t2/owners/cluster/openmcp/c1/a":                         `{"owner":{"cluster":"c1","kind":"Gateway","namespace":"ns","name":"g1"},"records":["a-10-0-0-2","aaaa-fd00-0-0-0-0-0-0-2"]}`,
		}
		for k, v := range foreign {
			want[k] = v
		}
		if diff := cmp.Diff(want, dump(t, c, "/t2")); diff != "" {
			t.Fatalf("stored (-want +got):\n%s", diff)
		}
	})

	t.Run("drift is repaired", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, c, Options{Prefix: "/t3/skydns", OwnerPrefix: "/t3/owners"})
		d := Desired{Scope: c1, Endpoints: []records.Endpoint{endpoint("app.c1.openmcp.cluster", g1, "10.0.0.1", "10.0.0.2")}}
		syncStore(t, s, d)
		before := dump(t, c, "/t3/")
		if _, err := c.Delete(ctx, "/t3/skydns/cluster/openmcp/c1/app/a-10-0-0-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Put(ctx, "/t3/skydns/cluster/openmcp/c1/app/a-10-0-0-2", `{"host":"10.6.6.6","ttl":1}`); err != nil {
			t.Fatal(err)
		}
		if ch := syncStore(t, s, d); len(ch.Update) != 1 {
			t.Errorf("changes: %s, want one update", ch)
		}
		if diff := cmp.Diff(before, dump(t, c, "/t3/")); diff != "" {
			t.Errorf("after repair (-want +got):\n%s", diff)
		}
	})

	t.Run("an unreachable cluster's names are kept; a restarted syncer removes gone sources", func(t *testing.T) {
		t.Parallel()
		opts := Options{Prefix: "/t4/skydns", OwnerPrefix: "/t4/owners"}
		s := newStore(t, c, opts)
		syncStore(t, s, Desired{Scope: records.ClusterScope("c2"), Endpoints: []records.Endpoint{endpoint("x.c2.openmcp.cluster", other, "10.2.0.1")}})
		syncStore(t, s, Desired{Scope: c1, Endpoints: []records.Endpoint{endpoint("y.c1.openmcp.cluster", g1, "10.0.0.1")}})
		// A new Store (a restarted syncer) sees c1's sources gone; c2 is unreachable and
		// not planned for.
		s2 := newStore(t, c, opts)
		syncStore(t, s2, Desired{Scope: c1})
		got := dump(t, c, "/t4/")
		if _, ok := got["/t4/skydns/cluster/openmcp/c2/x/a-10-2-0-1"]; !ok || len(got) != 2 {
			t.Errorf("stored %v, want only c2's entry", got)
		}
	})

	t.Run("concurrent writers are detected", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name        string
			setup       []records.Endpoint // stored before both read
			first, late Desired            // planned on the same state; late applies last
		}{
			{
				name:  "same new name",
				first: Desired{Scope: records.ClusterScope("c2"), Endpoints: []records.Endpoint{endpoint("app.openmcp.cluster", other, "10.2.0.1")}},
				late:  Desired{Scope: c1, Endpoints: []records.Endpoint{endpoint("app.openmcp.cluster", g1, "10.0.0.1")}},
			},
			{
				name:  "new name below a name created concurrently",
				first: Desired{Scope: records.ClusterScope("c2"), Endpoints: []records.Endpoint{endpoint("app.openmcp.cluster", other, "10.2.0.1")}},
				late:  Desired{Scope: c1, Endpoints: []records.Endpoint{endpoint("x.y.app.openmcp.cluster", g1, "10.0.0.1")}},
			},
			{
				name:  "new name above a name created concurrently",
				first: Desired{Scope: records.ClusterScope("c2"), Endpoints: []records.Endpoint{endpoint("x.y.app.openmcp.cluster", other, "10.2.0.1")}},
				late:  Desired{Scope: c1, Endpoints: []records.Endpoint{endpoint("app.openmcp.cluster", g1, "10.0.0.1")}},
			},
			{
				name:  "update of an entry updated concurrently",
				setup: []records.Endpoint{endpoint("app.openmcp.cluster", g1, "10.0.0.1")},
				first: Desired{Scope: c1, Endpoints: []records.Endpoint{endpoint("app.openmcp.cluster", g1, "10.0.0.2")}},
				late:  Desired{Scope: c1, Endpoints: []records.Endpoint{endpoint("app.openmcp.cluster", g1, "10.0.0.3")}},
			},
			{
				name:  "delete of an entry taken over concurrently",
				setup: []records.Endpoint{endpoint("app.openmcp.cluster", g1, "10.0.0.1")},
				first: Desired{Scope: c1, Endpoints: []records.Endpoint{endpoint("app.openmcp.cluster", g2, "10.0.0.2")}},
				late:  Desired{Scope: c1},
			},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				p := fmt.Sprintf("/t5-%d", i)
				s := newStore(t, c, Options{Prefix: p + "/skydns", OwnerPrefix: p + "/owners"})
				if tt.setup != nil {
					syncStore(t, s, Desired{Scope: c1, Endpoints: tt.setup})
				}
				st, err := s.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				first, late := Plan(st, tt.first), Plan(st, tt.late)
				if err := s.Apply(ctx, first); err != nil {
					t.Fatal(err)
				}
				before := dump(t, c, p+"/")
				if err := s.Apply(ctx, late); !errors.Is(err, ErrConflict) {
					t.Fatalf("late Apply = %v, want ErrConflict", err)
				}
				if diff := cmp.Diff(before, dump(t, c, p+"/")); diff != "" {
					t.Errorf("the failed Apply changed the store (-before +after):\n%s", diff)
				}
			})
		}
	})

	t.Run("changes are split into transactions, nested names stay together", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, c, Options{Prefix: "/t6/skydns", OwnerPrefix: "/t6/owners", MaxTxnOps: 12})
		var eps []records.Endpoint
		for i := range 40 {
			eps = append(eps, endpoint(fmt.Sprintf("n%d.c1.openmcp.cluster", i), g1, "10.0.0.1", "fd00::1"))
		}
		eps = append(eps, endpoint("p.c1.openmcp.cluster", g1, "10.0.0.1"), endpoint("q.p.c1.openmcp.cluster", g1, "10.0.0.1"))
		syncStore(t, s, Desired{Scope: c1, Endpoints: eps})
		if got, want := len(dump(t, c, "/t6/")), 40*3+2*2; got != want {
			t.Errorf("%d keys stored, want %d", got, want)
		}
		st, err := s.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		big := Plan(st, Desired{Scope: c1, Endpoints: []records.Endpoint{endpoint("big.c1.openmcp.cluster", g1, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8", "10.0.0.9", "10.0.0.10", "10.0.0.11", "10.0.0.12")}})
		if err := s.Apply(ctx, big); err == nil || !strings.Contains(err.Error(), "more than the 12") {
			t.Errorf("Apply of a too large change = %v, want an error", err)
		}
	})

	t.Run("a malformed ownership record stops reading", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, c, Options{Prefix: "/t7/skydns", OwnerPrefix: "/t7/owners"})
		if _, err := c.Put(ctx, "/t7/owners/cluster/openmcp/c1/app", "{"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Read(ctx); err == nil || !strings.Contains(err.Error(), `malformed ownership record "/t7/owners/cluster/openmcp/c1/app"`) {
			t.Errorf("Read = %v, want a malformed ownership record error", err)
		}
	})

	t.Run("external keys are reported", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, c, Options{Prefix: "/t8/skydns", OwnerPrefix: "/t8/owners"})
		if _, err := c.Put(ctx, "/t8/skydns/cluster/openmcp/c1/ext/1a2b", `{"host":"192.0.2.1"}`); err != nil {
			t.Fatal(err)
		}
		st, err := s.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"/t8/skydns/cluster/openmcp/c1/ext/1a2b": "1a2b.ext.c1.openmcp.cluster"}
		if diff := cmp.Diff(want, st.External, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("External (-want +got):\n%s", diff)
		}
	})
}

func TestNewStoreOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "defaults", opts: Options{}},
		{name: "overlapping prefixes", opts: Options{Prefix: "/skydns", OwnerPrefix: "/skydns/vcdns"}, wantErr: "overlap"},
		{name: "overlapping prefixes, other way", opts: Options{Prefix: "/a/b", OwnerPrefix: "/a"}, wantErr: "overlap"},
		{name: "lookalike prefixes are fine", opts: Options{Prefix: "/skydns", OwnerPrefix: "/skydnsowners"}},
		{name: "relative prefix", opts: Options{Prefix: "skydns"}, wantErr: "absolute path"},
		{name: "root prefix", opts: Options{OwnerPrefix: "/"}, wantErr: "absolute path"},
		{name: "tiny transactions", opts: Options{MaxTxnOps: 2}, wantErr: "at least 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewStore(nil, tt.opts)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("NewStore(%+v) = %v, want error containing %q", tt.opts, err, tt.wantErr)
			}
		})
	}
}
