package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The syncer's own metrics, served with controller-runtime's on the metrics endpoint.
var (
	syncedObjects = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vcdns_mcp_synced_objects",
		Help: "Tenant objects of an MCP whose copy is up to date, by kind.",
	}, []string{"mcp", "kind"})
	mcpSynced = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vcdns_mcp_synced",
		Help: "1 when every tenant object of the MCP is synced, else 0.",
	}, []string{"mcp"})
	copyWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcdns_copy_writes_total",
		Help: "Writes of copies on workload clusters, by kind and operation (create, update, delete).",
	}, []string{"kind", "operation"})
	tenantWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcdns_tenant_writes_total",
		Help: "Writes back into tenant objects (annotation, status, refusal), by kind.",
	}, []string{"kind"})
	publishedHostnames = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vcdns_published_hostnames",
		Help: "Hostnames published in the central DNS for a cluster.",
	}, []string{"cluster"})
	refusedHostnames = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vcdns_refused_hostnames",
		Help: "Hostnames of a cluster's objects that are not published (invalid, outside the policy, conflicting, nested).",
	}, []string{"cluster"})
	syncConflicts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcdns_sync_conflicts_total",
		Help: "Reconciles of tenant objects that met a write conflict (a cache behind the object, or a concurrent change) and run again, by kind.",
	}, []string{"kind"})
	storeApplies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcdns_store_applies_total",
		Help: "Transactions sets written to the central DNS store, by result (ok, conflict, error).",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(syncedObjects, mcpSynced, copyWrites, tenantWrites, publishedHostnames, refusedHostnames, syncConflicts, storeApplies)
}
