package clusters

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// FairLimiter bounds the requests the syncer has in flight to one cluster and hands
// each free slot to the waiting tenant with the fewest requests outstanding (in flight
// and waiting), the one whose turn it is among equals, first come first served within
// one tenant. Tenants that ask for less than their share get all they ask for, the
// others share the rest equally: max-min fairness, as API Priority and Fairness shares
// an API server's seats among flows.
//
// Every MCP on a workload cluster has its own queue and workers, but they all write to
// the same API server. Left alone, an MCP creating thousands of Services keeps as many
// requests in that API server as it has workers; a request of a quiet MCP then shares
// the server with all of them and takes as long as they do. With the limiter the API
// server holds at most Limit of the syncer's requests, and a quiet MCP's request takes
// the next free slot, whatever the busy MCPs have queued. An API server that is busy
// anyway (CPU-bound) finishes the same work in the same time with a few requests in
// flight as with many, so the limit costs little throughput as long as it is at least
// the number of requests the server can work on at once.
//
// That number is not known in advance and changes with the server's load, so with a
// target latency the limit adapts, additive increase and multiplicative decrease as in
// TCP's congestion control: it starts at MinInFlight (or the maximum, when that is
// smaller); while writes come back within the target and the limit is what holds
// requests back, it grows by one per limit's worth of answers, up to the maximum; a
// write slower than the target, or refused with 429 Too Many Requests, shrinks it by a
// fifth, at most once per round of requests. Growing only when the limit binds keeps
// it from drifting up while the server is lightly used: when a tenant's burst comes, a
// quiet tenant's next request waits in the API server behind a few of the burst's, not
// behind the maximum, while the limit finds what the server takes.
type FairLimiter struct {
	cluster string
	max     int
	min     int
	target  time.Duration

	mu           sync.Mutex
	forgotten    bool    // no more metrics: the cluster is gone
	limit        float64 // slots; the integer part counts
	lastDecrease time.Time
	inFlight     int
	held         map[string]int       // requests in flight by tenant
	waiting      map[string][]*waiter // by tenant, oldest first
	ring         []string             // tenants with waiters, in turn order
}

type waiter struct {
	ready     chan struct{}
	since     time.Time
	granted   bool
	grantedAt time.Time
}

var (
	fairInFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vcdns_workload_requests_in_flight",
		Help: "Requests the syncer has in flight to a workload cluster (at most vcdns_workload_in_flight_limit).",
	}, []string{"cluster"})
	fairWaiting = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vcdns_workload_requests_waiting",
		Help: "Requests waiting for a slot to a workload cluster.",
	}, []string{"cluster"})
	fairLimit = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vcdns_workload_in_flight_limit",
		Help: "Requests the syncer may have in flight to a workload cluster now; adapts between 3 and --workload-max-in-flight.",
	}, []string{"cluster"})
	fairWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vcdns_workload_request_wait_seconds",
		Help:    "Time a request to a workload cluster waited for a slot.",
		Buckets: []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	}, []string{"cluster"})
)

func init() {
	metrics.Registry.MustRegister(fairInFlight, fairWaiting, fairLimit, fairWait)
}

// MinInFlight is the least an adaptive limit goes down to: a quiet tenant's request
// then waits for the first of three requests to finish, not behind a single long one,
// and a single tenant's few requests at a time do not wait while the server is slow.
const MinInFlight = 3

// NewFairLimiter returns a limiter of at most maxInFlight requests in flight to cluster
// (its name in metrics); a maximum below 1 means 1. With a target latency above zero
// the limit adapts from MinInFlight up to the maximum; with zero it stays at the
// maximum.
func NewFairLimiter(cluster string, maxInFlight int, target time.Duration) *FairLimiter {
	maxInFlight = max(1, maxInFlight)
	f := &FairLimiter{
		cluster: cluster, max: maxInFlight, min: min(MinInFlight, maxInFlight), target: target,
		held: map[string]int{}, waiting: map[string][]*waiter{},
	}
	f.limit = float64(f.max)
	if target > 0 {
		f.limit = float64(f.min)
	}
	f.gaugesLocked()
	return f
}

// A Slot is one request's place in flight.
type Slot struct {
	f       *FairLimiter
	tenant  string
	granted time.Time
	// binding: the limit held requests back when this one got its slot, so an answer
	// within the target says the limit may grow.
	binding bool
	once    sync.Once
}

// Release gives the slot back without telling anything about the server's load (a
// read, or a request that failed before the server answered).
func (s *Slot) Release() { s.Done(0, false) }

// Done gives the slot back after a write the server answered in latency; overloaded
// says it refused the write for load (429). Only the first of Release and Done counts.
func (s *Slot) Done(latency time.Duration, overloaded bool) {
	s.once.Do(func() {
		f := s.f
		f.mu.Lock()
		defer f.mu.Unlock()
		f.adaptLocked(s, latency, overloaded)
		f.releaseLocked(s.tenant)
	})
}

// adaptLocked moves the limit by what one answer says.
func (f *FairLimiter) adaptLocked(s *Slot, latency time.Duration, overloaded bool) {
	if f.target <= 0 || (latency <= 0 && !overloaded) {
		return
	}
	if overloaded || latency > f.target {
		// One decrease per round: the answers to requests sent before the last decrease
		// say nothing about the limit since.
		if s.granted.After(f.lastDecrease) {
			f.limit = max(float64(f.min), f.limit*0.8)
			f.lastDecrease = time.Now()
		}
	} else if s.binding && f.limit < float64(f.max) {
		f.limit = min(float64(f.max), f.limit+1/f.limit)
	}
}

// slotsLocked is the number of requests that may be in flight now.
func (f *FairLimiter) slotsLocked() int { return max(f.min, int(f.limit)) }

// Acquire waits for a slot for tenant. Give it back with exactly one of the slot's
// Release or Done; Acquire returns ctx's error when ctx ends first.
func (f *FairLimiter) Acquire(ctx context.Context, tenant string) (*Slot, error) {
	start := time.Now()
	f.mu.Lock()
	if f.inFlight < f.slotsLocked() && len(f.ring) == 0 {
		f.inFlight++
		f.held[tenant]++
		s := &Slot{f: f, tenant: tenant, granted: start, binding: f.inFlight >= f.slotsLocked()}
		f.observeWaitLocked(0)
		f.gaugesLocked()
		f.mu.Unlock()
		return s, nil
	}
	w := &waiter{ready: make(chan struct{}), since: start}
	if len(f.waiting[tenant]) == 0 {
		f.ring = append(f.ring, tenant)
	}
	f.waiting[tenant] = append(f.waiting[tenant], w)
	f.gaugesLocked()
	f.mu.Unlock()

	select {
	case <-w.ready:
		return &Slot{f: f, tenant: tenant, granted: w.grantedAt, binding: true}, nil
	case <-ctx.Done():
		f.mu.Lock()
		defer f.mu.Unlock()
		if w.granted {
			// Granted while giving up: hand the slot on.
			f.releaseLocked(tenant)
			return nil, ctx.Err()
		}
		f.removeLocked(tenant, w)
		f.gaugesLocked()
		return nil, ctx.Err()
	}
}

func (f *FairLimiter) releaseLocked(tenant string) {
	f.inFlight--
	if f.held[tenant]--; f.held[tenant] <= 0 {
		delete(f.held, tenant)
	}
	f.grantLocked()
}

// grantLocked hands free slots to the waiting tenants: each to the one with the fewest
// requests outstanding, the first in turn order among equals.
func (f *FairLimiter) grantLocked() {
	outstanding := func(t string) int { return f.held[t] + len(f.waiting[t]) }
	for f.inFlight < f.slotsLocked() && len(f.ring) > 0 {
		next := 0
		for i, t := range f.ring {
			if outstanding(t) < outstanding(f.ring[next]) {
				next = i
			}
		}
		tenant := f.ring[next]
		q := f.waiting[tenant]
		w := q[0]
		f.ring = append(f.ring[:next:next], f.ring[next+1:]...)
		if len(q) == 1 {
			delete(f.waiting, tenant)
		} else {
			f.waiting[tenant] = q[1:]
			f.ring = append(f.ring, tenant) // to the back of the line
		}
		w.granted = true
		w.grantedAt = time.Now()
		f.observeWaitLocked(w.grantedAt.Sub(w.since))
		close(w.ready)
		f.inFlight++
		f.held[tenant]++
	}
	f.gaugesLocked()
}

func (f *FairLimiter) removeLocked(tenant string, w *waiter) {
	q := f.waiting[tenant]
	for i, x := range q {
		if x == w {
			q = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	if len(q) > 0 {
		f.waiting[tenant] = q
		return
	}
	delete(f.waiting, tenant)
	for i, t := range f.ring {
		if t == tenant {
			f.ring = append(f.ring[:i:i], f.ring[i+1:]...)
			break
		}
	}
}

// The metrics are written under f.mu only, so that Forget, which holds it too, leaves
// no series behind.

func (f *FairLimiter) observeWaitLocked(d time.Duration) {
	if !f.forgotten {
		fairWait.WithLabelValues(f.cluster).Observe(d.Seconds())
	}
}

func (f *FairLimiter) gaugesLocked() {
	if f.forgotten {
		return
	}
	n := 0
	for _, q := range f.waiting {
		n += len(q)
	}
	fairInFlight.WithLabelValues(f.cluster).Set(float64(f.inFlight))
	fairWaiting.WithLabelValues(f.cluster).Set(float64(n))
	fairLimit.WithLabelValues(f.cluster).Set(float64(f.slotsLocked()))
}

// Forget removes the limiter's metric series, for a cluster that is gone.
func (f *FairLimiter) Forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgotten = true
	for _, v := range []*prometheus.MetricVec{fairInFlight.MetricVec, fairWaiting.MetricVec, fairLimit.MetricVec, fairWait.MetricVec} {
		v.DeleteLabelValues(f.cluster)
	}
}

// Wrap returns cfg with every request of tenant, except watches, passing through f. A
// request holds its slot until the response's headers arrive: for a write, until the
// API server has done it.
func (f *FairLimiter) Wrap(cfg *rest.Config, tenant string) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &fairRoundTripper{next: rt, limiter: f, tenant: tenant}
	})
	return cfg
}

type fairRoundTripper struct {
	next    http.RoundTripper
	limiter *FairLimiter
	tenant  string
}

func (t *fairRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Query().Get("watch") == "true" {
		// Long-running: it would hold its slot for minutes.
		return t.next.RoundTrip(req)
	}
	slot, err := t.limiter.Acquire(req.Context(), t.tenant)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil || req.Method == http.MethodGet || req.Method == http.MethodHead {
		// Reads (lists above all) take as long as what they return, not as the
		// server's load says: only writes move the limit.
		slot.Release()
		return resp, err
	}
	slot.Done(time.Since(start), resp.StatusCode == http.StatusTooManyRequests)
	return resp, nil
}

// WrappedRoundTripper lets client-go's transport debugging see through the limiter.
func (t *fairRoundTripper) WrappedRoundTripper() http.RoundTripper { return t.next }
