package skydns

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vcdns/vcdns/syncer/dns/records"
)

func TestKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, prefix, hostname, want string
	}{
		{name: "default prefix", prefix: "/skydns", hostname: "app.c1.openmcp.cluster", want: "/skydns/cluster/openmcp/c1/app"},
		{name: "prefix with trailing slash", prefix: "/skydns/", hostname: "a.b", want: "/skydns/b/a"},
		{name: "nested prefix", prefix: "/vcdns/owners", hostname: "a.b", want: "/vcdns/owners/b/a"},
		{name: "single label", prefix: "/skydns", hostname: "local", want: "/skydns/local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Key(tt.prefix, tt.hostname); got != tt.want {
				t.Errorf("Key(%q, %q) = %q, want %q", tt.prefix, tt.hostname, got, tt.want)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key string
		want      string
		wantOK    bool
	}{
		{name: "hostname", key: "/skydns/cluster/openmcp/c1/app", want: "app.c1.openmcp.cluster", wantOK: true},
		{name: "record key", key: "/skydns/cluster/openmcp/c1/app/a-10-0-0-1", want: "a-10-0-0-1.app.c1.openmcp.cluster", wantOK: true},
		{name: "other prefix", key: "/other/cluster", wantOK: false},
		{name: "prefix lookalike", key: "/skydnsx/cluster", wantOK: false},
		{name: "prefix itself", key: "/skydns/", wantOK: false},
		{name: "empty label", key: "/skydns/cluster//app", wantOK: false},
		{name: "trailing slash", key: "/skydns/cluster/", wantOK: false},
		{name: "dot in a label", key: "/skydns/cluster/a.b", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseKey("/skydns", tt.key)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseKey(%q) = %q, %v, want %q, %v", tt.key, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRecordID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, addr, want string
	}{
		{name: "IPv4", addr: "10.0.0.1", want: "a-10-0-0-1"},
		{name: "IPv6", addr: "fd00::1", want: "aaaa-fd00-0-0-0-0-0-0-1"},
		{name: "IPv6 full", addr: "2001:db8:85a3:8d3:1319:8a2e:370:7348", want: "aaaa-2001-db8-85a3-8d3-1319-8a2e-370-7348"},
		{name: "IPv4-mapped IPv6", addr: "::ffff:10.0.0.1", want: "a-10-0-0-1"},
		{name: "IPv6 with zone", addr: "fe80::1%eth0", want: "aaaa-fe80-0-0-0-0-0-0-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := netip.MustParseAddr(tt.addr)
			got := RecordID(a)
			if got != tt.want {
				t.Fatalf("RecordID(%s) = %q, want %q", tt.addr, got, tt.want)
			}
			back, ok := ParseRecordID(got)
			if !ok || back != a.Unmap().WithZone("") {
				t.Errorf("ParseRecordID(%q) = %s, %v, want %s", got, back, ok, a.Unmap().WithZone(""))
			}
		})
	}
	for _, bad := range []string{"", "a-", "a-10-0-0", "a-010-0-0-1", "aaaa-fd00--1", "aaaa-10-0-0-1", "aaaa-0-0-0-0-0-ffff-a00-1", "b-10-0-0-1", "a-fd00-0-0-0-0-0-0-1"} {
		if a, ok := ParseRecordID(bad); ok {
			t.Errorf("ParseRecordID(%q) = %s, want failure", bad, a)
		}
	}
}

func TestRecordValue(t *testing.T) {
	t.Parallel()
	if got, want := RecordValue(netip.MustParseAddr("10.0.0.1"), 30), `{"host":"10.0.0.1","ttl":30}`; got != want {
		t.Errorf("RecordValue = %s, want %s", got, want)
	}
	if got, want := RecordValue(netip.MustParseAddr("fd00::1"), 5), `{"host":"fd00::1","ttl":5}`; got != want {
		t.Errorf("RecordValue = %s, want %s", got, want)
	}
}

func TestOwnershipRecord(t *testing.T) {
	t.Parallel()
	e := Entry{
		Hostname: "app.c1.openmcp.cluster",
		Owner:    records.Owner{Cluster: "c1", Kind: records.KindGateway, Namespace: "ns", Name: "g1", Origin: "mcp a/b: default/g1"},
		Records:  []Record{{ID: "a-10-0-0-1"}, {ID: "aaaa-fd00-0-0-0-0-0-0-1"}},
	}
	got := encodeOwnership(e)
	want := `{"owner":{"cluster":"c1","kind":"Gateway","namespace":"ns","name":"g1","origin":"mcp a/b: default/g1"},"records":["a-10-0-0-1","aaaa-fd00-0-0-0-0-0-0-1"]}`
	if got != want {
		t.Fatalf("encodeOwnership =\n%s\nwant\n%s", got, want)
	}
	o, err := decodeOwnership([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ownership{Owner: e.Owner, Records: []string{"a-10-0-0-1", "aaaa-fd00-0-0-0-0-0-0-1"}}, o); diff != "" {
		t.Errorf("decodeOwnership (-want +got):\n%s", diff)
	}
	if got := encodeOwnership(Entry{Owner: e.Owner}); got != `{"owner":{"cluster":"c1","kind":"Gateway","namespace":"ns","name":"g1","origin":"mcp a/b: default/g1"},"records":[]}` {
		t.Errorf("encodeOwnership without records = %s", got)
	}
	for _, bad := range []string{``, `{}`, `{"owner":{"kind":"Gateway"}}`, `{"owner":{"kind":"Gateway","name":"g"},"records":["a/b"]}`, `{"owner":{"kind":"Gateway","name":"g"},"records":[""]}`, `[]`} {
		if _, err := decodeOwnership([]byte(bad)); err == nil {
			t.Errorf("decodeOwnership(%q) succeeded, want an error", bad)
		}
	}
}
