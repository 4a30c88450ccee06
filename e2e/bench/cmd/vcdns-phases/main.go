// Command vcdns-phases splits the create-to-annotation latency of a benchmark's tenant
// Services into its phases, from the audit logs of a landscape kept by
// `vcdns-bench -keep`:
//
//	tenant create      the tenant API server handles the create
//	to workload        until the workload API server receives the copy's create: the
//	                   syncer's watch, queue, worker and its wait for a workload slot
//	workload create    the workload API server handles the copy's create
//	to patch           until the tenant API server receives the annotation patch
//	tenant patch       the tenant API server handles the patch
//
// Usage:
//
//	go run ./e2e/bench/cmd/vcdns-phases -dir /tmp/vcdns-bench-123/services -namespace bench-fair -mcps mcp-2,mcp-3
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vcdns/vcdns/e2e/bench"
	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	"github.com/vcdns/vcdns/syncer/naming"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vcdns-phases:", err)
		os.Exit(1)
	}
}

var phaseNames = []string{"tenant create", "to workload", "workload create", "to patch", "tenant patch", "in all"}

func run(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("vcdns-phases", flag.ContinueOnError)
	dir := fs.String("dir", "", "The services landscape of a kept vcdns-bench run (<landscapes>/services)")
	ns := fs.String("namespace", "bench-fair", "Tenant namespace of the scenario: bench-makespan, bench-rate or bench-fair")
	mcps := fs.String("mcps", "mcp-2,mcp-3,mcp-4,mcp-5,mcp-6,mcp-7", "Comma-separated MCPs (of namespace bench) whose Services count")
	workload := fs.String("workload", "workload-1", "The workload cluster")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-dir is required")
	}
	wl, err := landscape.ReadAuditLog(filepath.Join(*dir, *workload, "audit.log"))
	if err != nil {
		return err
	}
	copies := map[string]landscape.AuditEvent{} // by namespace/name
	for _, e := range wl {
		if e.Verb == "create" && e.ObjectRef.Resource == "services" && e.User.Username == vcdnsenv.SyncerUser && e.ResponseStatus.Code < 300 {
			copies[e.ObjectRef.Namespace+"/"+e.ObjectRef.Name] = e
		}
	}
	phases := make([][]time.Duration, len(phaseNames))
	for _, mcp := range strings.Split(*mcps, ",") {
		m := vcdnsenv.MCP{Namespace: "bench", Name: strings.TrimSpace(mcp)}
		events, err := landscape.ReadAuditLog(filepath.Join(*dir, "tenant-"+m.Namespace+"-"+m.Name, "audit.log"))
		if err != nil {
			return err
		}
		creates := map[string]landscape.AuditEvent{}
		patches := map[string]landscape.AuditEvent{}
		for _, e := range events {
			if e.ObjectRef.Namespace != *ns || e.ObjectRef.Resource != "services" || e.ResponseStatus.Code >= 300 {
				continue
			}
			switch {
			case e.Verb == "create":
				creates[e.ObjectRef.Name] = e
			case e.Verb == "patch" && e.User.Username == vcdnsenv.SyncerUser:
				if _, seen := patches[e.ObjectRef.Name]; !seen {
					patches[e.ObjectRef.Name] = e // the first: the annotation
				}
			}
		}
		mcpNS := vcdnsenv.MCPNamespace(m)
		for name, c := range creates {
			p, ok := patches[name]
			cp, ok2 := copies[mcpNS+"/"+naming.CopyName(*ns, name)]
			if !ok || !ok2 {
				continue
			}
			for i, d := range []time.Duration{
				c.StageTimestamp.Sub(c.RequestReceived),
				cp.RequestReceived.Sub(c.StageTimestamp),
				cp.StageTimestamp.Sub(cp.RequestReceived),
				p.RequestReceived.Sub(cp.StageTimestamp),
				p.StageTimestamp.Sub(p.RequestReceived),
				p.StageTimestamp.Sub(c.RequestReceived),
			} {
				phases[i] = append(phases[i], d)
			}
		}
	}
	if len(phases[0]) == 0 {
		return fmt.Errorf("no Service of namespace %s in MCPs %s has both a copy and an annotation patch in %s", *ns, *mcps, *dir)
	}
	fmt.Fprintf(w, "%-16s %6s %9s %9s %9s %9s\n", "phase (ms)", "n", "p50", "p90", "p99", "max")
	for i, name := range phaseNames {
		d := phases[i]
		fmt.Fprintf(w, "%-16s %6d %9.1f %9.1f %9.1f %9.1f\n", name, len(d),
			ms(bench.Percentile(d, 50)), ms(bench.Percentile(d, 90)), ms(bench.Percentile(d, 99)), ms(bench.Percentile(d, 100)))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
