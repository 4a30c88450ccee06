package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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

// TestKindDemoOverlay checks, without kind, that the kind demo deploys vcdns with the
// overlay make demo deploys it with: hack/kind-demo.sh writes it with `vcdns-demo
// overlay` and writes no kustomization of config/default of its own, and what that writes renders over
// config/default with the central DNS address for the syncer.
func TestKindDemoOverlay(t *testing.T) {
	root, err := landscape.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, "hack", "kind-demo.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(script), `"$root/bin/vcdns-demo" overlay -dir`); n != 2 {
		t.Errorf("hack/kind-demo.sh writes the overlay with vcdns-demo overlay %d times, want 2 (without and with the central DNS address)", n)
	}
	if regexp.MustCompile(`(?m)^- .*config/default\s*$`).Match(script) {
		t.Error("hack/kind-demo.sh writes a kustomization of config/default of its own")
	}
	dir := filepath.Join(t.TempDir(), "default")
	var out bytes.Buffer
	if err := overlay([]string{"-dir", dir, "-central-dns-address", "172.18.0.9"}, &out); err != nil {
		t.Fatal(err)
	}
	objs, err := vcdnsenv.Render(dir)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetName() == vcdnsenv.SyncerDeployment {
			containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
			found = slices.Contains(args, "--central-dns-address=172.18.0.9")
		}
	}
	if !found {
		t.Errorf("the overlay in %s does not give the syncer --central-dns-address=172.18.0.9", dir)
	}
}
