package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
)

// overlay is `vcdns-demo overlay -dir DIR [-central-dns-address ADDR]`: it writes into
// DIR the kustomization the demo deploys vcdns with (vcdnsenv.Overlay over
// config/default), so that the kind demo applies exactly the same.
func overlay(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("vcdns-demo overlay", flag.ContinueOnError)
	dir := fs.String("dir", "", "Folder to write kustomization.yaml into (created if missing)")
	address := fs.String("central-dns-address", "", "The central DNS's load-balancer address, once it has one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() > 0 {
		return fmt.Errorf("usage: vcdns-demo overlay -dir DIR [-central-dns-address ADDR]")
	}
	root, err := landscape.RepoRoot()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	// kustomize takes a base only by a relative path.
	base, err := filepath.Rel(abs, filepath.Join(root, "config", "default"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}
	path := filepath.Join(abs, "kustomization.yaml")
	if err := os.WriteFile(path, []byte(vcdnsenv.Overlay(base, *address)), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(out, path)
	return nil
}
