package controllers

import (
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Options configure the syncer's controllers.
type Options struct {
	// ClusterNamespace is the platform namespace that holds the Cluster objects.
	ClusterNamespace string
	// NamespacePrefix prefixes MCP namespaces.
	NamespacePrefix string
	// TenantDNS is the tenant's DNS Service (never copied).
	TenantDNS types.NamespacedName
	// TenantDNSImage is the image of the patched CoreDNS run per tenant.
	TenantDNSImage string
	// ClusterDomain of the tenants.
	ClusterDomain string
	// WorkersPerMCP is the number of concurrent reconciles per MCP.
	WorkersPerMCP int
	// ProbeInterval is how often reachability is checked.
	ProbeInterval time.Duration
	// DNS configures the names and Corefile patching.
	DNS DNSOptions
}

// DNSOptions configure the names the syncer publishes and Corefile patching.
type DNSOptions struct {
	// BaseDomain is the domain every published name is in.
	BaseDomain string
	// TTL of the published records.
	TTL time.Duration
	// CentralDNS are the addresses every cluster's CoreDNS forwards the base domain to;
	// empty turns Corefile patching off.
	CentralDNS []string
}
