// Command vcdns-demo is `make demo`: it starts the local landscape (a platform cluster
// and two workload clusters with a real node each, and two tenant control planes),
// deploys vcdns onto the platform's node as a user does (config/default and an
// overlay, kubectl apply --server-side -k: the syncer's two replicas, the central etcd
// on local volumes over mutual TLS, the central CoreDNS behind a load balancer), applies
// config/samples and the tenant samples, runs team-a's backends in its MCP namespace,
// waits for convergence, and prints a table of the flows vcdns makes work, each a
// request from a Pod: what it resolved, where its packets went and which backend
// answered. It exits non-zero if a flow fails. With --keep it leaves everything running
// until interrupted, writes landscape.env (kubeconfigs and the test image) and prints
// how to look around. `vcdns-demo overlay -dir DIR` only writes the overlay it deploys
// vcdns with, for the kind demo.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	run := run
	if len(os.Args) > 1 && os.Args[1] == "overlay" {
		run = func(_ context.Context, args []string, out io.Writer) error { return overlay(args[1:], out) }
	}
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
