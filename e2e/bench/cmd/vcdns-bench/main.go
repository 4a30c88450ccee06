// Command vcdns-bench runs the vcdns benchmarks on the local landscape (`make bench`):
// it prints a table of the figures and their targets and writes results.json, the
// latency CDF plot and the syncer's profiles into -out.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/vcdns/vcdns/e2e/bench"
)

func main() {
	// The landscape's simulated data plane runs controllers in this process; their
	// logs are not the benchmark's.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vcdns-bench:", err)
		os.Exit(1)
	}
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("vcdns-bench", flag.ContinueOnError)
	out := fs.String("out", "_output/bench", "Folder for results.json, the plot and the syncer's profiles")
	smoke := fs.Bool("smoke", false, "Run every scenario at a tiny scale")
	keep := fs.Bool("keep", false, "Keep the landscapes' data and logs even when the run succeeds")
	scenarios := fs.String("scenarios", "", "Comma-separated scenarios to run: "+strings.Join(bench.Scenarios, ", ")+", or services for all but dns (default: all)")
	mcps := fs.Int("mcps", 0, "Override the number of MCPs")
	perMCP := fs.Int("services-per-mcp", 0, "Override the number of Services each MCP creates for the makespan")
	clients := fs.Int("clients-per-mcp", 0, "Override the number of concurrent creates per MCP")
	var syncerArgs stringList
	fs.Var(&syncerArgs, "syncer-arg", "Extra flag for the syncer, e.g. -syncer-arg=--workload-qps=500 (repeatable)")
	var syncerEnv stringList
	fs.Var(&syncerEnv, "syncer-env", "KEY=value added to the syncer's environment, e.g. -syncer-env=GODEBUG=gctrace=1 (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, kv := range syncerEnv {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("-syncer-env %q: want KEY=value", kv)
		}
	}
	scale := bench.Full
	if *smoke {
		scale = bench.Smoke
	}
	for _, o := range []struct {
		v   int
		dst *int
	}{{*mcps, &scale.MCPs}, {*perMCP, &scale.ServicesPerMCP}, {*clients, &scale.ClientsPerMCP}} {
		if o.v > 0 {
			*o.dst = o.v
			scale.Name += "-custom"
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(os.Getenv("VCDNS_E2E_DIR"), "vcdns-bench-")
	if err != nil {
		return err
	}
	logger := log.New(os.Stderr, "", log.Ltime|log.Lmicroseconds)
	opts := bench.Options{
		Scale:      scale,
		Dir:        dir,
		OutDir:     *out,
		SyncerArgs: syncerArgs,
		SyncerEnv:  syncerEnv,
		Logf:       logger.Printf,
	}
	if *scenarios != "" {
		opts.Scenarios = strings.Split(*scenarios, ",")
	}
	cond := bench.StartConditions()
	logger.Printf("Running the %s scale on %d cores, load %v; landscapes in %s", scale.Name, cond.CPUs, cond.LoadAverageStart, dir)
	res, runErr := bench.Run(ctx, opts)
	if res == nil {
		return runErr
	}
	cond.Finish(res)
	results := filepath.Join(*out, "results.json")
	errs := []error{runErr}
	if err := bench.WriteResults(results, res, cond); err != nil {
		errs = append(errs, err)
	}
	plot, err := bench.WritePlot(*out, res)
	if err != nil {
		errs = append(errs, err)
	}
	fmt.Fprintln(stdout)
	if err := bench.WriteTable(stdout, res); err != nil {
		errs = append(errs, err)
	}
	fmt.Fprintf(stdout, "\n%d cores, load %v at the start and %v at the end, %s, %.0f s\n", cond.CPUs, cond.LoadAverageStart, cond.LoadAverageEnd, cond.GoVersion, cond.DurationS)
	fmt.Fprintf(stdout, "Results: %s\n", results)
	if plot != "" {
		fmt.Fprintf(stdout, "Latency CDF: %s\n", plot)
	} else {
		fmt.Fprintf(stdout, "Latency CDF: gnuplot not found, data and script in %s\n", *out)
	}
	err = errors.Join(errs...)
	if err == nil && !*keep {
		_ = os.RemoveAll(dir)
	} else {
		fmt.Fprintf(stdout, "Landscape data and logs kept in %s\n", dir)
	}
	return err
}
