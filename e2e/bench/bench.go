package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	// SyncerEnv (KEY=value) is added to the syncer's environment (e.g. GOMAXPROCS=1).
	SyncerEnv []string
	// Scenarios limits the run to some of Scenarios; empty runs all. "services" stands
	// for the four on the vcdns landscape. The restart needs the makespan's Services,
	// so it brings the makespan along. Alone, rate and fair start from a workload
	// cluster without the makespan's 10000 copies, where creates are cheaper.
	Scenarios []string
	// Logf reports progress. Default: silent.
	Logf func(format string, args ...any)
}

// Scenarios are the names Options.Scenarios takes, in the order they run.
var Scenarios = []string{"makespan", "restart", "rate", "fair", "dns", "publish"}

// serviceScenarios run on the vcdns landscape.
var serviceScenarios = []string{"makespan", "restart", "rate", "fair"}

func (o Options) runs(scenario string) bool {
	if len(o.Scenarios) == 0 {
		return true
	}
	for _, s := range o.Scenarios {
		switch {
		case s == scenario,
			s == "services" && slices.Contains(serviceScenarios, scenario),
			s == "restart" && scenario == "makespan":
			return true
		}
	}
	return false
}

// validScenarios reports a name in names that is not a scenario.
func validScenarios(names []string) error {
	for _, n := range names {
		if n != "services" && !slices.Contains(Scenarios, n) {
			return fmt.Errorf("unknown scenario %q, want one of %s or services", n, strings.Join(Scenarios, ", "))
		}
	}
	return nil
}

// Run runs the scenarios and returns what they measured. A failing scenario does not
// stop the others; its figures are missing from the results and its error is
// returned, joined with the others'.
func Run(ctx context.Context, opts Options) (*Results, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if err := validScenarios(opts.Scenarios); err != nil {
		return nil, err
	}
	for _, d := range []string{opts.Dir, opts.OutDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	res := NewResults()
	res.condition("scale", opts.Scale.Name)
	res.condition("syncer_args", opts.SyncerArgs)
	res.condition("syncer_env", opts.SyncerEnv)
	var errs []error
	if slices.ContainsFunc(serviceScenarios, opts.runs) {
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
	if opts.runs("publish") {
		start := time.Now()
		if err := runPublish(ctx, opts, filepath.Join(opts.Dir, "publish"), res); err != nil {
			errs = append(errs, fmt.Errorf("publication scenario: %w", err))
		}
		opts.Logf("Publication scenario took %s", time.Since(start).Round(time.Second))
	}
	return res, errors.Join(errs...)
}
