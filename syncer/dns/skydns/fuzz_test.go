package skydns

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/vcdns/vcdns/syncer/dns/hostname"
)

func FuzzKey(f *testing.F) {
	f.Add("/skydns", "app.c1.openmcp.cluster")
	f.Add("/skydns/", "a.b")
	f.Add("/x", "*.a.b")
	f.Fuzz(func(t *testing.T, prefix, name string) {
		// Arbitrary keys parse, or not, without panicking; what parses goes back.
		if h, ok := ParseKey(prefix, name); ok {
			if Key(prefix, h) != trimSlash(prefix)+"/"+name[len(trimSlash(prefix))+1:] {
				t.Fatalf("Key(ParseKey(%q, %q)) = %q", prefix, name, Key(prefix, h))
			}
		}
		if hostname.Validate(name) != nil {
			return
		}
		h, ok := ParseKey(prefix, Key(prefix, name))
		if !ok || h != name {
			t.Fatalf("ParseKey(Key(%q, %q)) = %q, %v", prefix, name, h, ok)
		}
	})
}

func trimSlash(s string) string {
	if len(s) > 0 && s[len(s)-1] == '/' {
		return s[:len(s)-1]
	}
	return s
}

func FuzzRecordID(f *testing.F) {
	f.Add([]byte{10, 0, 0, 1}, "a-10-0-0-1")
	f.Add(netip.MustParseAddr("fd00::1").AsSlice(), "aaaa-fd00-0-0-0-0-0-0-1")
	f.Add([]byte{}, "aaaa-0-0-0-0-0-ffff-a00-1")
	f.Fuzz(func(t *testing.T, raw []byte, id string) {
		if a, ok := netip.AddrFromSlice(raw); ok {
			got, ok := ParseRecordID(RecordID(a))
			if !ok || got != a.Unmap() {
				t.Fatalf("ParseRecordID(RecordID(%s)) = %s, %v", a, got, ok)
			}
			if err := hostname.Validate(RecordID(a) + ".example.com"); err != nil {
				t.Fatalf("RecordID(%s) is not a label: %v", a, err)
			}
		}
		if a, ok := ParseRecordID(id); ok && RecordID(a) != id {
			t.Fatalf("RecordID(ParseRecordID(%q)) = %q", id, RecordID(a))
		}
	})
}

func FuzzOwnership(f *testing.F) {
	f.Add([]byte(`{"owner":{"cluster":"c1","kind":"Gateway","namespace":"ns","name":"g1"},"records":["a-10-0-0-1"]}`))
	f.Add([]byte(`{"owner":{"kind":"Ingress","name":"i","origin":"\u00e9"},"records":[]}`))
	f.Add([]byte(`{"owner":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := decodeOwnership(b)
		if err != nil {
			return
		}
		e := Entry{Owner: o.Owner}
		for _, id := range o.Records {
			e.Records = append(e.Records, Record{ID: id})
		}
		enc := encodeOwnership(e)
		o2, err := decodeOwnership([]byte(enc))
		if err != nil {
			t.Fatalf("decoding the encoding of %q: %v", b, err)
		}
		if o2.Owner != o.Owner || len(o2.Records) != len(o.Records) {
			t.Fatalf("round trip of %q: %+v, want %+v", b, o2, o)
		}
		if encodeOwnership(Entry{Owner: o2.Owner, Records: e.Records}) != enc {
			t.Fatalf("encoding of %q is not stable", b)
		}
		if !json.Valid([]byte(enc)) {
			t.Fatalf("invalid JSON %s", enc)
		}
	})
}
