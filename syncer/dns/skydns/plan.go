package skydns

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vcdns/vcdns/syncer/dns/hostname"
	"github.com/vcdns/vcdns/syncer/dns/records"
)

// Record is one stored record: its ID (the last label of its key) and its value.
type Record struct {
	ID string
	// Value is the JSON the etcd plugin reads; empty when the ownership record lists
	// the record but its key is missing.
	Value string
}

// Entry is one published hostname: its owner and its records.
type Entry struct {
	Hostname string
	Owner    records.Owner
	// Records sorted by ID.
	Records []Record
	// Revision is the mod revision of the ownership record when read; zero for an
	// entry not stored yet.
	Revision int64
}

// EntryOf returns the entry that publishes an endpoint.
func EntryOf(e records.Endpoint) Entry {
	en := Entry{Hostname: e.Hostname, Owner: e.Owner}
	for _, a := range e.Addresses() {
		en.Records = append(en.Records, Record{ID: RecordID(a), Value: RecordValue(a, e.TTL)})
	}
	slices.SortFunc(en.Records, func(a, b Record) int { return cmp.Compare(a.ID, b.ID) })
	en.Records = slices.CompactFunc(en.Records, func(a, b Record) bool { return a.ID == b.ID })
	return en
}

// State is what the store holds, read at one revision.
type State struct {
	// Revision of the store when read.
	Revision int64
	// Entries by hostname.
	Entries map[string]Entry
	// External maps the keys below the SkyDNS prefix that no ownership record lists
	// to the hostname they answer for.
	External map[string]string
}

// Claims returns the hostnames the state holds and their owners, including the
// hostnames of external keys (owned by a records.KindExternal owner named by the key).
func (s State) Claims() *records.Claims {
	c := records.NewClaims()
	for _, h := range slices.Sorted(maps.Keys(s.Entries)) {
		c.Add(h, s.Entries[h].Owner)
	}
	for _, k := range slices.Sorted(maps.Keys(s.External)) {
		h := s.External[k]
		if _, ok := c.Owner(h); !ok {
			c.Add(h, records.Owner{Kind: records.KindExternal, Name: k})
		}
	}
	return c
}

// Desired is the complete set of endpoints of the owners a scope selects.
type Desired struct {
	Scope     records.Scope
	Endpoints []records.Endpoint
}

// Changes turn a State into the desired one. Each Entry is written with its records
// in one transaction.
type Changes struct {
	// Revision of the State the changes were planned on.
	Revision int64
	Create   []Entry
	Update   []Update
	Delete   []Entry
	// Skipped lists desired endpoints Plan left out, and why.
	Skipped []records.Refusal
}

// Update replaces an entry.
type Update struct {
	Old, New Entry
}

// Empty reports whether there is nothing to write.
func (c Changes) Empty() bool { return len(c.Create)+len(c.Update)+len(c.Delete) == 0 }

// String summarises the changes for a log line.
func (c Changes) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "create %d, update %d, delete %d", len(c.Create), len(c.Update), len(c.Delete))
	if len(c.Skipped) > 0 {
		fmt.Fprintf(&b, ", skipped %d", len(c.Skipped))
	}
	return b.String()
}

// Plan returns the changes that make the entries of desired.Scope's owners equal to
// desired.Endpoints and leave every other entry as it is. It never takes a hostname
// from an owner outside the scope, nor publishes one above or below it, nor next to an
// external key; such endpoints, endpoints of owners outside the scope, wildcard or
// invalid hostnames and repeated hostnames are skipped and reported. Entries whose
// stored records differ from the desired ones, or are missing, are rewritten.
func Plan(current State, desired Desired) Changes {
	ch := Changes{Revision: current.Revision}
	held := records.NewClaims()
	for h, o := range current.Claims().All() {
		if !desired.Scope.Contains(o) {
			held.Add(h, o)
		}
	}
	eps := slices.Clone(desired.Endpoints)
	slices.SortStableFunc(eps, func(a, b records.Endpoint) int { return cmp.Compare(a.Hostname, b.Hostname) })
	keep := map[string]bool{}
	for _, e := range eps {
		skip := func(reason records.Reason, msg string) {
			ch.Skipped = append(ch.Skipped, records.Refusal{
				Object:   records.ObjectRef{Kind: e.Owner.Kind, Namespace: e.Owner.Namespace, Name: e.Owner.Name},
				Hostname: e.Hostname, Reason: reason, Message: msg,
			})
		}
		switch {
		case !desired.Scope.Contains(e.Owner):
			skip(records.ReasonConflict, fmt.Sprintf("Owner %s is outside the scope of the update", e.Owner))
			continue
		case keep[e.Hostname]:
			skip(records.ReasonConflict, fmt.Sprintf("Hostname %q is desired more than once", e.Hostname))
			continue
		case hostname.Validate(e.Hostname) != nil || hostname.IsWildcard(e.Hostname):
			skip(records.ReasonInvalid, fmt.Sprintf("Hostname %q cannot be stored", e.Hostname))
			continue
		}
		if c := held.Check(e.Hostname, e.Owner); c != nil {
			skip(c.Reason, c.Error())
			continue
		}
		held.Add(e.Hostname, e.Owner)
		keep[e.Hostname] = true
		want := EntryOf(e)
		old, ok := current.Entries[e.Hostname]
		switch {
		case !ok:
			ch.Create = append(ch.Create, want)
		case !sameEntry(old, want):
			want.Revision = old.Revision
			ch.Update = append(ch.Update, Update{Old: old, New: want})
		}
	}
	for _, h := range slices.Sorted(maps.Keys(current.Entries)) {
		if old := current.Entries[h]; desired.Scope.Contains(old.Owner) && !keep[h] {
			ch.Delete = append(ch.Delete, old)
		}
	}
	return ch
}

func sameEntry(a, b Entry) bool {
	return a.Owner == b.Owner && slices.Equal(a.Records, b.Records)
}
