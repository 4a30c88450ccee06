package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Options configure a run.
type Options struct {
	Scale Scale
	// Dir holds the landscapes' data and logs.
	Dir string
	// OutDir receives the syncer's profiles.
	OutDir string
	// SyncerArgs are extra flags for the syncer (e.g. --workload-qps=500).
	SyncerArgs []string
	// Scenarios limits the run to "services" (every scenario on the vcdns landscape)
	// or "dns" (the CoreDNS comparison); empty runs both.
	Scenarios []string
	// Logf reports progress. Default: silent.
	Logf func(format string, args ...any)
}

func (o Options) runs(scenario string) bool {
	if len(o.Scenarios) == 0 {
		return true
	}
	for _, s := range o.Scenarios {
		if s == scenario {
			return true
		}
	}
	return false
}

// Run runs the scenarios and returns what they measured. A failing scenario does not
// stop the others; its figures are missing from the results and its error is
// returned, joined with the others'.
func Run(ctx context.Context, opts Options) (*Results, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	for _, d := range []string{opts.Dir, opts.OutDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	res := NewResults()
	res.condition("scale", opts.Scale.Name)
	res.condition("syncer_args", opts.SyncerArgs)
	var errs []error
	if opts.runs("services") {
		start := time.Now()
		if err := runServices(ctx, opts, res); err != nil {
			errs = append(errs, fmt.Errorf("Service scenarios: %w", err))
		}
		opts.Logf("Service scenarios took %s", time.Since(start).Round(time.Second))
	}
	if opts.runs("dns") {
		start := time.Now()
		if err := runDNS(ctx, opts, filepath.Join(opts.Dir, "dns"), res); err != nil {
			errs = append(errs, fmt.Errorf("DNS scenario: %w", err))
		}
		opts.Logf("DNS scenario took %s", time.Since(start).Round(time.Second))
	}
	return res, errors.Join(errs...)
}
