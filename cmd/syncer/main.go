// Command syncer is the vcdns syncer: it copies tenant objects from Managed Control
// Planes to their workload clusters and back-populates the IPs that route.
//
//	syncer [flags]                     run the controllers
//	syncer mcp-namespace NAMESPACE NAME print the MCP namespace of an MCP
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
	if err := Run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "syncer:", err)
		os.Exit(1)
	}
}
