// Package hostname validates the hostnames vcdns publishes and decides which of them a
// cluster may publish.
//
// Hostnames follow the rules of Gateway API and Ingress: lower-case RFC 1123 names
// without a trailing dot, labels of at most 63 characters, at most 253 characters in
// all, and optionally a single wildcard label "*" as the leftmost label. A wildcard
// name "*.example.com" matches every name below example.com (any number of labels),
// but not example.com itself. Intersect implements Gateway API's intersection of a
// listener hostname with an HTTPRoute hostname. A Policy lists the domains a cluster's
// objects may publish names under; by default a cluster publishes only below
// "<cluster>.<base domain>".
//
// Everything here is pure: no I/O, no clocks.
package hostname
