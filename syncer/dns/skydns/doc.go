// Package skydns publishes endpoints into etcd in the SkyDNS layout that the CoreDNS
// etcd plugin serves and external-dns's coredns provider writes.
//
// Layout. A record of hostname app.c1.openmcp.cluster with address 10.0.0.1 lives at
//
//	/skydns/cluster/openmcp/c1/app/a-10-0-0-1   {"host":"10.0.0.1","ttl":30}
//
// (the prefix is configurable): the labels of the hostname reversed, then a record ID
// derived from the address ("a-" and the IPv4 address with dashes, or "aaaa-" and the
// eight groups of the IPv6 address). Its owner is recorded, in the same transaction,
// in an ownership record outside the SkyDNS tree, so the etcd plugin never serves it:
//
//	/vcdns/owners/cluster/openmcp/c1/app
//	{"owner":{"cluster":"c1","kind":"Gateway","namespace":"ns","name":"g1"},"records":["a-10-0-0-1"]}
//
// The ownership records are the truth of what vcdns published: the Store touches
// exactly the keys they list, so names published while the syncer was down or by an
// owner that no longer exists are still found and removed. Keys under the SkyDNS
// prefix that no ownership record lists belong to someone else; they are never
// changed, and State.Claims reports them as claims of an External owner so that
// nothing is published on top of or around them.
//
// Wildcard hostnames are not stored: the etcd plugin cannot serve them (it answers a
// name with everything stored below it, and a stored "*" label is just a label).
// GatewayDNS names are plain names; the central DNS Corefile rewrites every name below
// one to the name itself (config/central-dns/Corefile).
//
// Plan is a pure diff of a State read from the store and the desired endpoints of a
// scope; Store.Apply writes the Changes in transactions that compare mod revisions,
// so a concurrent writer makes Apply fail with ErrConflict instead of being
// overwritten.
package skydns
