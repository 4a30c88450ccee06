package mcpsync

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The sync sessions' metrics, served with controller-runtime's on the metrics endpoint.
var (
	copyWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcdns_copy_writes_total",
		Help: "Writes of copies on workload clusters, by kind and operation (create, update, delete).",
	}, []string{"kind", "operation"})
	tenantWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcdns_tenant_writes_total",
		Help: "Writes back into tenant objects (annotation, status, refusal) and of the EndpointSlices the syncer keeps in tenants, by kind.",
	}, []string{"kind"})
	syncConflicts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcdns_sync_conflicts_total",
		Help: "Reconciles of tenant objects that met a write conflict (a cache behind the object, or a concurrent change) and run again, by kind.",
	}, []string{"kind"})
)

func init() {
	metrics.Registry.MustRegister(copyWrites, tenantWrites, syncConflicts)
}
