package publish

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Publishing's metrics, served with controller-runtime's on the metrics endpoint.
var (
	publishedHostnames = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vcdns_published_hostnames",
		Help: "Hostnames published in the central DNS for a cluster.",
	}, []string{"cluster"})
	refusedHostnames = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vcdns_refused_hostnames",
		Help: "Hostnames of a cluster's objects that are not published (invalid, outside the policy, conflicting, nested).",
	}, []string{"cluster"})
	storeApplies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcdns_store_applies_total",
		Help: "Transactions sets written to the central DNS store, by result (ok, conflict, error).",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(publishedHostnames, refusedHostnames, storeApplies)
}
