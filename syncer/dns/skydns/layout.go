package skydns

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vcdns/vcdns/syncer/dns/records"
)

const (
	// DefaultPrefix is the etcd plugin's default path.
	DefaultPrefix = "/skydns"
	// DefaultOwnerPrefix holds the ownership records.
	DefaultOwnerPrefix = "/vcdns/owners"
)

// Key returns the etcd key of a hostname below prefix: the labels reversed.
// Key("/skydns", "app.c1.openmcp.cluster") is "/skydns/cluster/openmcp/c1/app".
func Key(prefix, hostname string) string {
	labels := strings.Split(hostname, ".")
	slices.Reverse(labels)
	return strings.TrimSuffix(prefix, "/") + "/" + strings.Join(labels, "/")
}

// ParseKey returns the hostname of a key below prefix, the inverse of Key. It fails
// for keys not below prefix and keys with an empty label.
func ParseKey(prefix, key string) (string, bool) {
	prefix = strings.TrimSuffix(prefix, "/") + "/"
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || rest == "" {
		return "", false
	}
	labels := strings.Split(rest, "/")
	for _, l := range labels {
		if l == "" || strings.Contains(l, ".") {
			return "", false
		}
	}
	slices.Reverse(labels)
	return strings.Join(labels, "."), true
}

// RecordID returns the ID of the record of an address, the last label of its key:
// "a-10-0-0-1" for 10.0.0.1, "aaaa-fd00-0-0-0-0-0-0-1" for fd00::1. IPv4-mapped IPv6
// addresses are IPv4 addresses; zones are dropped.
func RecordID(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return "a-" + strings.ReplaceAll(a.String(), ".", "-")
	}
	b := a.As16()
	groups := make([]string, 8)
	for i := range groups {
		groups[i] = strconv.FormatUint(uint64(b[2*i])<<8|uint64(b[2*i+1]), 16)
	}
	return "aaaa-" + strings.Join(groups, "-")
}

// ParseRecordID returns the address of a record ID made by RecordID.
func ParseRecordID(id string) (netip.Addr, bool) {
	if rest, ok := strings.CutPrefix(id, "a-"); ok {
		a, err := netip.ParseAddr(strings.ReplaceAll(rest, "-", "."))
		if err != nil || !a.Is4() || RecordID(a) != id {
			return netip.Addr{}, false
		}
		return a, true
	}
	if rest, ok := strings.CutPrefix(id, "aaaa-"); ok {
		a, err := netip.ParseAddr(strings.ReplaceAll(rest, "-", ":"))
		if err != nil || !a.Is6() || a.Is4In6() || RecordID(a) != id {
			return netip.Addr{}, false
		}
		return a, true
	}
	return netip.Addr{}, false
}

// service is the part of the etcd plugin's msg.Service vcdns writes.
type service struct {
	Host string `json:"host"`
	TTL  uint32 `json:"ttl"`
}

// RecordValue returns the value of the record of an address:
// {"host":"10.0.0.1","ttl":30}.
func RecordValue(a netip.Addr, ttl uint32) string {
	b, _ := json.Marshal(service{Host: a.Unmap().WithZone("").String(), TTL: ttl})
	return string(b)
}

// ownership is the value of an ownership record.
type ownership struct {
	Owner   records.Owner `json:"owner"`
	Records []string      `json:"records"`
}

func encodeOwnership(e Entry) string {
	o := ownership{Owner: e.Owner, Records: make([]string, 0, len(e.Records))}
	for _, r := range e.Records {
		o.Records = append(o.Records, r.ID)
	}
	b, _ := json.Marshal(o)
	return string(b)
}

// decodeOwnership parses an ownership record.
func decodeOwnership(b []byte) (ownership, error) {
	var o ownership
	if err := json.Unmarshal(b, &o); err != nil {
		return o, err
	}
	if o.Owner.Kind == "" || o.Owner.Name == "" {
		return o, errors.New("no owner kind or name")
	}
	for _, id := range o.Records {
		if id == "" || strings.ContainsAny(id, "/.") {
			return o, fmt.Errorf("bad record ID %q", id)
		}
	}
	return o, nil
}
