package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vcdns/vcdns/e2e/landscape"
)

// TestDemo runs `make demo` (without building) so that it does not rot: every flow of
// the table must pass.
func TestDemo(t *testing.T) {
	landscape.RequireNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"--dir", "_output/demo-test"}, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), " PASS\n"); n != 8 {
		t.Errorf("%d flows passed, want 8", n)
	}
}
