package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The MCP reconciler's metrics, served with controller-runtime's on the metrics endpoint.
var (
	syncedObjects = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vcdns_mcp_synced_objects",
		Help: "Tenant objects of an MCP whose copy is up to date, by kind.",
	}, []string{"mcp", "kind"})
	mcpSynced = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vcdns_mcp_synced",
		Help: "1 when every tenant object of the MCP is synced, else 0.",
	}, []string{"mcp"})
)

func init() {
	metrics.Registry.MustRegister(syncedObjects, mcpSynced)
}
