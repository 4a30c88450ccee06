package skydns

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrConflict is wrapped by Apply's error when another writer changed what the changes
// were planned on. Read again, plan again and retry.
var ErrConflict = errors.New("the store changed since it was read")

// Options configure a Store.
type Options struct {
	// Prefix of the SkyDNS tree, the etcd plugin's path. Default DefaultPrefix.
	Prefix string
	// OwnerPrefix holds the ownership records; it must not overlap Prefix. Default
	// DefaultOwnerPrefix.
	OwnerPrefix string
	// MaxTxnOps bounds the operations and comparisons of one transaction; etcd's
	// --max-txn-ops (default 128).
	MaxTxnOps int
}

// Store reads and writes the entries vcdns owns in etcd.
type Store struct {
	kv          clientv3.KV
	prefix      string
	ownerPrefix string
	maxOps      int
}

// NewStore returns a Store on an etcd client (or any clientv3.KV).
func NewStore(kv clientv3.KV, opts Options) (*Store, error) {
	s := &Store{kv: kv, prefix: opts.Prefix, ownerPrefix: opts.OwnerPrefix, maxOps: opts.MaxTxnOps}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.ownerPrefix == "" {
		s.ownerPrefix = DefaultOwnerPrefix
	}
	if s.maxOps == 0 {
		s.maxOps = 128
	}
	s.prefix, s.ownerPrefix = strings.TrimSuffix(s.prefix, "/"), strings.TrimSuffix(s.ownerPrefix, "/")
	for _, p := range []string{s.prefix, s.ownerPrefix} {
		if !strings.HasPrefix(p, "/") || p == "/" {
			return nil, fmt.Errorf("etcd prefix %q: want an absolute path like /skydns", p)
		}
	}
	if strings.HasPrefix(s.prefix+"/", s.ownerPrefix+"/") || strings.HasPrefix(s.ownerPrefix+"/", s.prefix+"/") {
		return nil, fmt.Errorf("etcd prefixes %q and %q overlap", s.prefix, s.ownerPrefix)
	}
	if s.maxOps < 8 {
		return nil, fmt.Errorf("MaxTxnOps %d: want at least 8", s.maxOps)
	}
	return s, nil
}

func (s *Store) ownerKey(hostname string) string { return Key(s.ownerPrefix, hostname) }

func (s *Store) recordKey(hostname, id string) string { return Key(s.prefix, hostname) + "/" + id }

// Read returns every entry the ownership records list, with the records as stored,
// and the keys below the SkyDNS prefix that no entry lists, all at one revision. An
// ownership record that does not parse is an error: nothing can be planned safely
// until a human fixes or removes it.
func (s *Store) Read(ctx context.Context) (State, error) {
	resp, err := s.kv.Txn(ctx).Then(
		clientv3.OpGet(s.ownerPrefix+"/", clientv3.WithPrefix()),
		clientv3.OpGet(s.prefix+"/", clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return State{}, fmt.Errorf("reading the DNS store: %w", err)
	}
	st := State{Revision: resp.Header.Revision, Entries: map[string]Entry{}, External: map[string]string{}}
	values := map[string]string{}
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		values[string(kv.Key)] = string(kv.Value)
	}
	listed := map[string]bool{}
	for _, kv := range resp.Responses[0].GetResponseRange().Kvs {
		h, ok := ParseKey(s.ownerPrefix, string(kv.Key))
		if !ok {
			return State{}, fmt.Errorf("reading the DNS store: ownership record with malformed key %q", kv.Key)
		}
		o, err := decodeOwnership(kv.Value)
		if err != nil {
			return State{}, fmt.Errorf("reading the DNS store: malformed ownership record %q: %w", kv.Key, err)
		}
		e := Entry{Hostname: h, Owner: o.Owner, Revision: kv.ModRevision}
		for _, id := range o.Records {
			k := s.recordKey(h, id)
			listed[k] = true
			e.Records = append(e.Records, Record{ID: id, Value: values[k]})
		}
		slices.SortFunc(e.Records, func(a, b Record) int { return strings.Compare(a.ID, b.ID) })
		st.Entries[h] = e
	}
	for k := range values {
		if listed[k] {
			continue
		}
		if h, ok := ParseKey(s.prefix, k); ok {
			st.External[k] = h
		}
	}
	return st, nil
}

// Apply writes changes planned on a State of this store. Each hostname is written
// atomically with its records, and hostnames nested in one another together; the
// transactions compare mod revisions with what was read, so that an entry changed by
// someone else since is not overwritten, a hostname is not created twice, and none is
// created above or below one created concurrently. It writes and deletes only the keys
// of the entries in changes. When a comparison fails Apply stops and returns an error
// wrapping ErrConflict; transactions before it stay applied.
func (s *Store) Apply(ctx context.Context, ch Changes) error {
	type change struct {
		old, new *Entry
	}
	byHost := map[string]change{}
	for i := range ch.Create {
		byHost[ch.Create[i].Hostname] = change{new: &ch.Create[i]}
	}
	for i := range ch.Update {
		byHost[ch.Update[i].New.Hostname] = change{old: &ch.Update[i].Old, new: &ch.Update[i].New}
	}
	for i := range ch.Delete {
		byHost[ch.Delete[i].Hostname] = change{old: &ch.Delete[i]}
	}
	var batch txnBuilder
	flush := func() error {
		if batch.empty() {
			return nil
		}
		resp, err := s.kv.Txn(ctx).If(batch.cmps...).Then(batch.ops...).Commit()
		if err != nil {
			return fmt.Errorf("writing %s to the DNS store: %w", strings.Join(batch.hosts, ", "), err)
		}
		if !resp.Succeeded {
			return fmt.Errorf("writing %s to the DNS store: %w", strings.Join(batch.hosts, ", "), ErrConflict)
		}
		batch = txnBuilder{}
		return nil
	}
	for _, family := range families(slices.Collect(maps.Keys(byHost))) {
		var t txnBuilder
		for _, h := range family {
			c := byHost[h]
			s.addChange(&t, h, c.old, c.new, ch.Revision)
		}
		if t.size() > s.maxOps {
			return fmt.Errorf("writing %s to the DNS store: %d operations, more than the %d of one transaction", strings.Join(t.hosts, ", "), t.size(), s.maxOps)
		}
		if batch.size()+t.size() > s.maxOps {
			if err := flush(); err != nil {
				return err
			}
		}
		batch.merge(t)
	}
	return flush()
}

// addChange adds the comparisons and operations of one hostname's change.
func (s *Store) addChange(t *txnBuilder, h string, old, new *Entry, rev int64) {
	t.hosts = append(t.hosts, h)
	ok := s.ownerKey(h)
	oldIDs := map[string]string{}
	if old != nil {
		t.cmp(clientv3.Compare(clientv3.ModRevision(ok), "=", old.Revision))
		for _, r := range old.Records {
			oldIDs[r.ID] = r.Value
		}
	} else {
		// A new name: nobody holds it, nor a name above it or below it, that was not
		// there when the changes were planned.
		t.cmp(clientv3.Compare(clientv3.Version(ok), "=", 0))
		for a := h; ; {
			i := strings.IndexByte(a, '.')
			if i < 0 {
				break
			}
			a = a[i+1:]
			t.cmp(clientv3.Compare(clientv3.ModRevision(s.ownerKey(a)), "<", rev+1))
		}
		t.cmp(clientv3.Compare(clientv3.ModRevision(ok+"/"), "<", rev+1).WithPrefix())
	}
	if new == nil {
		t.op(clientv3.OpDelete(ok))
		for _, r := range old.Records {
			t.op(clientv3.OpDelete(s.recordKey(h, r.ID)))
		}
		return
	}
	t.op(clientv3.OpPut(ok, encodeOwnership(*new)))
	newIDs := map[string]bool{}
	for _, r := range new.Records {
		newIDs[r.ID] = true
		v, had := oldIDs[r.ID]
		if !had {
			// Never overwrite a key somebody else wrote.
			t.cmp(clientv3.Compare(clientv3.Version(s.recordKey(h, r.ID)), "=", 0))
		}
		if !had || v != r.Value {
			t.op(clientv3.OpPut(s.recordKey(h, r.ID), r.Value))
		}
	}
	if old != nil {
		for _, r := range old.Records {
			if !newIDs[r.ID] {
				t.op(clientv3.OpDelete(s.recordKey(h, r.ID)))
			}
		}
	}
}

// txnBuilder collects one transaction, deduplicating comparisons.
type txnBuilder struct {
	hosts   []string
	cmps    []clientv3.Cmp
	cmpSeen map[string]bool
	ops     []clientv3.Op
}

func (t *txnBuilder) cmp(c clientv3.Cmp) {
	k := fmt.Sprintf("%s\x00%s\x00%v\x00%v\x00%v", c.Key, c.RangeEnd, c.Target, c.Result, c.TargetUnion)
	if t.cmpSeen == nil {
		t.cmpSeen = map[string]bool{}
	}
	if !t.cmpSeen[k] {
		t.cmpSeen[k] = true
		t.cmps = append(t.cmps, c)
	}
}

func (t *txnBuilder) op(o clientv3.Op) { t.ops = append(t.ops, o) }

func (t *txnBuilder) merge(u txnBuilder) {
	t.hosts = append(t.hosts, u.hosts...)
	for _, c := range u.cmps {
		t.cmp(c)
	}
	t.ops = append(t.ops, u.ops...)
}

// size is what etcd limits: the larger of the comparisons and the operations.
func (t *txnBuilder) size() int { return max(len(t.cmps), len(t.ops)) }

func (t *txnBuilder) empty() bool { return len(t.ops) == 0 }

// families groups hostnames so that names nested in one another share a group; the
// groups and their members are sorted.
func families(hosts []string) [][]string {
	slices.Sort(hosts)
	set := map[string]bool{}
	for _, h := range hosts {
		set[h] = true
	}
	parent := map[string]string{}
	var find func(string) string
	find = func(h string) string {
		p, ok := parent[h]
		if !ok || p == h {
			return h
		}
		r := find(p)
		parent[h] = r
		return r
	}
	for _, h := range hosts {
		for a := h; ; {
			i := strings.IndexByte(a, '.')
			if i < 0 {
				break
			}
			a = a[i+1:]
			if set[a] {
				ra, rh := find(a), find(h)
				if ra != rh {
					parent[rh] = ra
				}
			}
		}
	}
	groups := map[string][]string{}
	for _, h := range hosts {
		r := find(h)
		groups[r] = append(groups[r], h)
	}
	out := make([][]string, 0, len(groups))
	for _, g := range groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return out
}
