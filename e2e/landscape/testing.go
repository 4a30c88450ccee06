package landscape

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// ForTest starts an empty landscape for t and stops it when t ends. Data and logs are
// removed when t passes and kept, with their location logged, when it fails. Set
// VCDNS_E2E_DIR to keep them somewhere else than the system temporary folder.
func ForTest(t testing.TB, opts Options) *Landscape {
	t.Helper()
	if opts.Dir == "" {
		base := os.Getenv("VCDNS_E2E_DIR")
		if base != "" {
			if err := os.MkdirAll(base, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		dir, err := os.MkdirTemp(base, "vcdns-"+regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")+"-")
		if err != nil {
			t.Fatal(err)
		}
		opts.Dir = dir
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	l, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Stop(); err != nil {
			t.Errorf("landscape teardown: %v", err)
		}
		if t.Failed() {
			t.Logf("landscape data and logs kept in %s", l.Dir())
			return
		}
		_ = os.RemoveAll(filepath.Clean(l.Dir()))
	})
	return l
}

// RequireNodes skips t where nodes cannot run (CanRunNodes says why), or fails it when
// CI=true: CI machines must run every test.
func RequireNodes(t testing.TB) {
	t.Helper()
	if err := CanRunNodes(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("nodes cannot run here, and CI=true: %v", err)
		}
		t.Skipf("nodes cannot run here: %v", err)
	}
}
