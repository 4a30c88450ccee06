package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestDemo runs `make demo` (without building) so that it does not rot: every flow of
// the table must pass.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"--dir", "_output/demo-test"}, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), " PASS\n"); n != 7 {
		t.Errorf("%d flows passed, want 7", n)
	}
}
