package bench

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Key is one figure the benchmark produces, with its target.
type Key struct {
	Name string
	What string
	// Max or Min is the target (Max: at most, Min: at least); neither means the figure
	// is only reported.
	Max, Min *float64
}

// Met reports whether v meets the key's target (always true without one).
func (k Key) Met(v float64) bool {
	return (k.Max == nil || v <= *k.Max) && (k.Min == nil || v >= *k.Min)
}

// Target is the target as text, "<= 1.15", ">= 0.97" or "reported".
func (k Key) Target() string {
	switch {
	case k.Max != nil:
		return "<= " + formatFigure(*k.Max)
	case k.Min != nil:
		return ">= " + formatFigure(*k.Min)
	}
	return "reported"
}

func at(v float64) *float64 { return &v }

// Keys are the figures of issue 7, in the order they are reported.
var Keys = []Key{
	{Name: "service_makespan_ratio", What: "all MCPs create their Services at once: time to every annotation / time to create them on the workload cluster", Max: at(1.15)},
	{Name: "service_p99_ms", What: "p99 from tenant Service create to the tenant CoreDNS answering the workload IP, at a steady rate", Max: at(250)},
	{Name: "fair_regular_p99_ms", What: "p99 create-to-annotation of the regular MCPs while two MCPs create in bulk", Max: at(1000)},
	{Name: "publish_p99_ms", What: "p99 from a Gateway's address to its hostname answered by another workload cluster's CoreDNS", Max: at(1000)},
	{Name: "dns_qps_ratio", What: "queries/s of bin/coredns with clusterip_annotation / bin/coredns-upstream, one core each", Min: at(0.97)},
	{Name: "central_dns_qps", What: "queries/s of the central CoreDNS (etcd plugin, with its cache; without it in the details), one core"},
	{Name: "syncer_bytes_per_object", What: "syncer resident memory growth per synced Service", Max: at(25000)},
	{Name: "restart_writes", What: "mutating requests of a restarted syncer with nothing to change", Max: at(0)},
	{Name: "restart_resync_s", What: "restarted syncer: from start until every MCP's objects were reconciled again"},
}

// Series is a set of latencies of one kind, for the CDF plot.
type Series struct {
	Name   string
	Values []time.Duration
}

// Results are the figures of a run. It is safe for concurrent use.
type Results struct {
	mu sync.Mutex
	// Figures holds the values of Keys.
	Figures map[string]float64
	// Details holds supporting figures: absolute times, CPU seconds, percentiles.
	Details map[string]float64
	// Latencies are the measured latencies, for the CDF plot.
	Latencies []Series
	// Conditions are facts about the run that are not numbers (load generator, flags).
	Conditions map[string]any
}

// NewResults returns empty results.
func NewResults() *Results {
	return &Results{Figures: map[string]float64{}, Details: map[string]float64{}, Conditions: map[string]any{}}
}

func (r *Results) figure(key string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Figures[key] = v
}

func (r *Results) detail(key string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Details[key] = v
}

func (r *Results) condition(key string, v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Conditions[key] = v
}

func (r *Results) series(name string, values []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Latencies = append(r.Latencies, Series{Name: name, Values: values})
}

// Percentile is the p-th percentile (0 < p <= 100) of ds by the nearest-rank method:
// the smallest value that at least p percent of the values do not exceed. It is 0 for
// no values.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// Median is the median of xs (the mean of the middle two for an even count); 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencyDetails records p50, p99 and max of ds in milliseconds as prefix_p50_ms, ...
func (r *Results) latencyDetails(prefix string, ds []time.Duration) {
	r.detail(prefix+"_p50_ms", ms(Percentile(ds, 50)))
	r.detail(prefix+"_p99_ms", ms(Percentile(ds, 99)))
	r.detail(prefix+"_max_ms", ms(Percentile(ds, 100)))
}

// cpuDetails records what a scenario used: prefix_cpu_s (every process of the
// landscape and the benchmark), prefix_syncer_cpu_s, and prefix_foreign_cores, the
// mean number of cores other processes of the machine took meanwhile (noise).
func (r *Results) cpuDetails(prefix string, u cpuUse) {
	r.detail(prefix+"_cpu_s", u.total().Seconds())
	r.detail(prefix+"_syncer_cpu_s", u.cpu["syncer"].Seconds())
	r.detail(prefix+"_foreign_cores", u.foreignCores())
}
