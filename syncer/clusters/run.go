package clusters

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Backoff bounds of Retry.
const (
	minBackoff = time.Second
	maxBackoff = time.Minute
	// A run that lasted this long starts the backoff over.
	longRun = 5 * time.Minute
)

// Retry calls run until it succeeds or ctx ends, waiting between failures, from one
// second doubling up to a minute; a run that lasted over five minutes before failing
// starts the backoff over. failed is told of every failure and the wait that follows.
func Retry(ctx context.Context, run func(context.Context) error, failed func(err error, backoff time.Duration)) {
	backoff := minBackoff
	for {
		start := time.Now()
		err := run(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		if time.Since(start) > longRun {
			backoff = minBackoff
		}
		failed(err, backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// Controllers builds the controllers of a session once its caches run. What it starts
// besides them reports a failure that ends the session with fail.
type Controllers func(ctx context.Context, fail func(error)) ([]controller.TypedController[reconcile.Request], error)

// Run starts the caches, then the controllers build returns, and blocks until ctx ends
// or one of them fails; it returns after all of them stopped. Ended without ctx
// ending, it returns an error: a session is meant to run until it is stopped.
func Run(parent context.Context, caches map[string]cluster.Cluster, build Controllers) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	errs := make(chan error, len(caches)+8)
	fail := func(err error) {
		select {
		case errs <- err:
		default: // The session ends with an earlier error.
		}
	}
	for name, c := range caches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Start(ctx); err != nil {
				fail(fmt.Errorf("%s cache: %w", name, err))
			}
		}()
	}
	ctrls, err := build(ctx, fail)
	if err != nil {
		return err
	}
	for _, c := range ctrls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Start(ctx); err != nil {
				fail(fmt.Errorf("controller: %w", err))
			}
			cancel()
		}()
	}
	select {
	case <-ctx.Done():
	case err := <-errs:
		return err
	}
	if parent.Err() == nil {
		return errors.New("session stopped")
	}
	return parent.Err()
}
