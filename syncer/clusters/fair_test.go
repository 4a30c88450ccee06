package clusters

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

func (f *FairLimiter) waitingCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, q := range f.waiting {
		n += len(q)
	}
	return n
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFairLimiterBoundsInFlight(t *testing.T) {
	f := NewFairLimiter("test-bounds", 3, 0)
	var inFlight, most atomic.Int32
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			release, err := f.Acquire(context.Background(), []string{"a", "b", "c"}[i%3])
			if err != nil {
				t.Error(err)
				return
			}
			n := inFlight.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inFlight.Add(-1)
			release.Release()
		})
	}
	wg.Wait()
	if got := most.Load(); got > 3 || got < 1 {
		t.Fatalf("at most %d requests in flight, want 1 to 3", got)
	}
	if f.inFlight != 0 || f.waitingCount() != 0 || len(f.ring) != 0 {
		t.Fatalf("after all released: in flight %d, waiting %d, ring %v", f.inFlight, f.waitingCount(), f.ring)
	}
}

// A quiet tenant's request takes the next free slot, not the place behind a busy
// tenant's backlog; tenants with equal backlogs take turns.
func TestFairLimiterOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		enqueue []string
		want    []string
	}{{
		name:    "quiet first",
		enqueue: []string{"busy", "busy", "busy", "busy", "quiet-1", "quiet-2", "busy"},
		want:    []string{"quiet-1", "quiet-2", "busy", "busy", "busy", "busy", "busy"},
	}, {
		name:    "equals in turn",
		enqueue: []string{"c", "a", "b"},
		want:    []string{"c", "a", "b"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFairLimiter("test-order", 1, 0)
			hold, err := f.Acquire(context.Background(), "holder")
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var order []string
			var wg sync.WaitGroup
			for _, tenant := range tc.enqueue {
				n := f.waitingCount()
				wg.Go(func() {
					release, err := f.Acquire(context.Background(), tenant)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					order = append(order, tenant)
					mu.Unlock()
					release.Release()
				})
				eventually(t, tenant+" waits", func() bool { return f.waitingCount() == n+1 })
			}
			hold.Release()
			wg.Wait()
			if fmt.Sprint(order) != fmt.Sprint(tc.want) {
				t.Fatalf("granted %v, want %v", order, tc.want)
			}
		})
	}
}

func TestFairLimiterCancel(t *testing.T) {
	f := NewFairLimiter("test-cancel", 1, 0)
	hold, err := f.Acquire(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := f.Acquire(ctx, "b")
		errc <- err
	}()
	eventually(t, "b waits", func() bool { return f.waitingCount() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire after cancel: %v, want context.Canceled", err)
	}
	if f.waitingCount() != 0 || len(f.ring) != 0 {
		t.Fatalf("a cancelled waiter stays queued: waiting %d, ring %v", f.waitingCount(), f.ring)
	}
	hold.Release()
	release, err := f.Acquire(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	release.Release()
	if f.inFlight != 0 {
		t.Fatalf("in flight %d after every release, want 0", f.inFlight)
	}
}

// Through a rest.Config: requests wait for a slot, watches do not.
func TestFairLimiterWrap(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	f := NewFairLimiter("test-wrap", 1, 0)
	cfg := f.Wrap(&rest.Config{Host: srv.URL}, "mcp-a")
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	get := func(ctx context.Context, query string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/services"+query, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
	if err := get(context.Background(), ""); err != nil {
		t.Fatalf("request with a free slot: %v", err)
	}
	hold, err := f.Acquire(context.Background(), "mcp-b")
	if err != nil {
		t.Fatal(err)
	}
	if err := get(context.Background(), "?watch=true"); err != nil {
		t.Fatalf("watch with no free slot: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := get(ctx, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request with no free slot: %v, want it to wait until its deadline", err)
	}
	if got := served.Load(); got != 2 {
		t.Fatalf("server saw %d requests, want 2 (the first and the watch)", got)
	}
	hold.Release()
	if err := get(context.Background(), ""); err != nil {
		t.Fatalf("request after the slot was released: %v", err)
	}
}

// A free slot goes to the waiting tenant with the fewest requests outstanding, even when
// a busier tenant's turn came first.
func TestFairLimiterFewestOutstandingFirst(t *testing.T) {
	f := NewFairLimiter("test-fewest", 2, 0)
	var holds []*Slot
	for range 2 {
		release, err := f.Acquire(context.Background(), "busy")
		if err != nil {
			t.Fatal(err)
		}
		holds = append(holds, release)
	}
	granted := make(chan string, 4)
	var wg sync.WaitGroup
	for i, tenant := range []string{"busy", "busy", "busy", "quiet"} {
		wg.Go(func() {
			release, err := f.Acquire(context.Background(), tenant)
			if err != nil {
				t.Error(err)
				return
			}
			granted <- tenant
			if tenant == "quiet" {
				release.Release()
				return
			}
			defer release.Release()
			<-time.After(time.Millisecond)
		})
		eventually(t, fmt.Sprintf("waiter %d queued", i), func() bool { return f.waitingCount() == i+1 })
	}
	holds[0].Release() // busy still has one in flight, quiet none: quiet goes first
	if got := <-granted; got != "quiet" {
		t.Fatalf("first grant went to %s, want quiet", got)
	}
	holds[1].Release()
	wg.Wait()
}

func (f *FairLimiter) slots() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slotsLocked()
}

// fill takes every free slot for tenant.
func fill(t *testing.T, f *FairLimiter, tenant string) []*Slot {
	t.Helper()
	var slots []*Slot
	for range f.slots() {
		s, err := f.Acquire(context.Background(), tenant)
		if err != nil {
			t.Fatal(err)
		}
		slots = append(slots, s)
	}
	return slots
}

// The limit grows while the server answers within the target and the limit holds
// requests back, shrinks when it does not, and stays within its bounds.
func TestFairLimiterAdapts(t *testing.T) {
	f := NewFairLimiter("test-adapt", 8, 100*time.Millisecond)
	if got := f.slots(); got != MinInFlight {
		t.Fatalf("starts with %d slots, want %d", got, MinInFlight)
	}

	// Fast answers with spare slots: the limit is not what holds anything back.
	for range 20 {
		s, err := f.Acquire(context.Background(), "a")
		if err != nil {
			t.Fatal(err)
		}
		s.Done(time.Millisecond, false)
	}
	if got := f.slots(); got != MinInFlight {
		t.Fatalf("%d slots after answers that did not need the limit, want %d", got, MinInFlight)
	}

	// Fast answers with every slot taken: one more slot per limit's worth of answers,
	// up to the maximum.
	for round := 0; f.slots() < 8; round++ {
		if round > 100 {
			t.Fatalf("limit stuck at %d below the maximum", f.slots())
		}
		for _, s := range fill(t, f, "a") {
			s.Done(time.Millisecond, false)
		}
	}
	for range 5 {
		for _, s := range fill(t, f, "a") {
			s.Done(time.Millisecond, false)
		}
	}
	if got := f.slots(); got != 8 {
		t.Fatalf("%d slots after many fast answers, want the maximum 8", got)
	}

	// Slow answers to the requests of one round: one decrease, by a fifth.
	for _, s := range fill(t, f, "a") {
		s.Done(time.Second, false)
	}
	if got := f.slots(); got != 6 {
		t.Fatalf("%d slots after a round of slow answers, want 6 (8 less a fifth, once)", got)
	}
	// A refusal for load in the next round shrinks it again; reads say nothing.
	round := fill(t, f, "a")
	round[0].Release()
	round[1].Done(0, true)
	for _, s := range round[2:] {
		s.Release()
	}
	if got := f.slots(); got != 5 {
		t.Fatalf("%d slots after a 429, want 5 (6.4 less a fifth)", got)
	}
	for range 20 {
		for _, s := range fill(t, f, "a") {
			s.Done(time.Second, false)
		}
	}
	if got := f.slots(); got != MinInFlight {
		t.Fatalf("%d slots after many slow rounds, want the floor %d", got, MinInFlight)
	}
	if f.inFlight != 0 {
		t.Fatalf("in flight %d after every release, want 0", f.inFlight)
	}
}

// A fixed limit (no target) does not move, and a slot given back twice counts once.
func TestFairLimiterFixed(t *testing.T) {
	f := NewFairLimiter("test-fixed", 3, 0)
	for _, s := range fill(t, f, "a") {
		s.Done(time.Hour, true)
		s.Release()
	}
	if got := f.slots(); got != 3 {
		t.Fatalf("fixed limit moved to %d, want 3", got)
	}
	if f.inFlight != 0 {
		t.Fatalf("in flight %d after every release, want 0", f.inFlight)
	}
}

// Through a rest.Config: slow writes shrink the limit, slow reads do not.
func TestFairLimiterWrapAdapts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // the server's latency, above the target
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	f := NewFairLimiter("test-wrap-adapt", 8, 5*time.Millisecond)
	f.mu.Lock()
	f.limit = 8
	f.mu.Unlock()
	hc, err := rest.HTTPClientFor(f.Wrap(&rest.Config{Host: srv.URL}, "mcp-a"))
	if err != nil {
		t.Fatal(err)
	}
	do := func(method string) {
		req, err := http.NewRequest(method, srv.URL+"/api/v1/namespaces/a/services", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := resp.Body.Close(); err != nil {
			t.Fatal(err)
		}
	}
	do(http.MethodGet)
	if got := f.slots(); got != 8 {
		t.Fatalf("a slow read moved the limit to %d, want 8", got)
	}
	do(http.MethodPost)
	if got := f.slots(); got != 6 {
		t.Fatalf("%d slots after a slow write, want 6", got)
	}
}

// After a decrease no request gets a slot until fewer than the new limit are in flight.
func TestFairLimiterHonoursLowerLimit(t *testing.T) {
	f := NewFairLimiter("test-lower", 4, 10*time.Millisecond)
	f.mu.Lock()
	f.limit = 4
	f.mu.Unlock()
	held := fill(t, f, "a")
	held[0].Done(time.Second, false) // 3 in flight, 3 slots
	got := make(chan *Slot)
	go func() {
		s, err := f.Acquire(context.Background(), "b")
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	eventually(t, "b waits", func() bool { return f.waitingCount() == 1 })
	held[1].Release()
	(<-got).Release()
	for _, s := range held[2:] {
		s.Release()
	}
	if f.inFlight != 0 || f.slots() != 3 {
		t.Fatalf("in flight %d, %d slots; want 0 and 3", f.inFlight, f.slots())
	}
}

// seriesOf counts the limiter metric series of cluster.
func seriesOf(t *testing.T, cluster string) int {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range families {
		if !strings.HasPrefix(mf.GetName(), "vcdns_workload_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cluster" && l.GetValue() == cluster {
					n++
				}
			}
		}
	}
	return n
}

// Forget removes the cluster's metric series, and a slot given back afterwards does not
// bring them back.
func TestFairLimiterForget(t *testing.T) {
	f := NewFairLimiter("test-forget", 2, time.Millisecond)
	held := fill(t, f, "a")
	held[0].Done(time.Second, false)
	if got := seriesOf(t, "test-forget"); got != 4 {
		t.Fatalf("%d series of test-forget, want 4 (in flight, waiting, limit, wait)", got)
	}
	f.Forget()
	held[1].Done(time.Second, false)
	if got := seriesOf(t, "test-forget"); got != 0 {
		t.Fatalf("%d series of test-forget after Forget, want 0", got)
	}
}
