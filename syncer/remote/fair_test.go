package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
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
	f := NewFairLimiter("test-bounds", 3)
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
			release()
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
			f := NewFairLimiter("test-order", 1)
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
					release()
				})
				eventually(t, tenant+" waits", func() bool { return f.waitingCount() == n+1 })
			}
			hold()
			wg.Wait()
			if fmt.Sprint(order) != fmt.Sprint(tc.want) {
				t.Fatalf("granted %v, want %v", order, tc.want)
			}
		})
	}
}

func TestFairLimiterCancel(t *testing.T) {
	f := NewFairLimiter("test-cancel", 1)
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
	hold()
	release, err := f.Acquire(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	release()
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
	f := NewFairLimiter("test-wrap", 1)
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
	hold()
	if err := get(context.Background(), ""); err != nil {
		t.Fatalf("request after the slot was released: %v", err)
	}
}

// A free slot goes to the waiting tenant with the fewest requests outstanding, even when
// a busier tenant's turn came first.
func TestFairLimiterFewestOutstandingFirst(t *testing.T) {
	f := NewFairLimiter("test-fewest", 2)
	var holds []func()
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
				release()
				return
			}
			defer release()
			<-time.After(time.Millisecond)
		})
		eventually(t, fmt.Sprintf("waiter %d queued", i), func() bool { return f.waitingCount() == i+1 })
	}
	holds[0]() // busy still has one in flight, quiet none: quiet goes first
	if got := <-granted; got != "quiet" {
		t.Fatalf("first grant went to %s, want quiet", got)
	}
	holds[1]()
	wg.Wait()
}
