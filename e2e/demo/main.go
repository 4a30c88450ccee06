// Command vcdns-demo is `make demo`: it starts the local landscape (a platform cluster,
// two workload clusters with a real node each, two tenant control planes, the central
// etcd and DNS, and the syncer), applies config/samples and the tenant samples, runs
// team-a's backends in its MCP namespace, waits for convergence, and prints a table of
// the flows vcdns makes work, each a request from a Pod on a node: what it resolved,
// where its packets went and which backend answered. It exits non-zero if a flow
// fails. With --keep it leaves everything running until interrupted, writes
// landscape.env (kubeconfigs and the test image) and prints how to look around.
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
