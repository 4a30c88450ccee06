// Command vcdns-demo is `make demo`: it starts the local landscape (a platform cluster,
// two workload clusters, two tenant control planes, the central etcd and DNS, the
// tenant CoreDNS processes, each workload cluster's CoreDNS run from its patched
// ConfigMap, and the syncer), applies the samples of config/samples, waits for
// convergence, and prints a table of the flows vcdns makes work, each a real DNS
// query. It exits non-zero if a flow fails. With --keep it leaves everything running
// until interrupted and prints how to look around.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
