// Command vcdns-images builds the project's images as docker-archive tarballs, from
// the binaries in a bin folder, without a container engine (`make images`):
//
//	vcdns-images -bin bin -out _output/images [name...]
//
// Load one with `ctr -n k8s.io images import`, `docker load -i` or `kind load
// image-archive`.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/vcdns/vcdns/images"
)

func main() {
	binDir := flag.String("bin", "bin", "folder of the binaries")
	outDir := flag.String("out", "_output/images", "folder to write the tarballs to")
	flag.Parse()
	if err := run(*binDir, *outDir, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "vcdns-images:", err)
		os.Exit(1)
	}
}

func run(binDir, outDir string, names []string) error {
	for _, img := range images.All {
		if len(names) > 0 && !slices.Contains(names, img.Name) {
			continue
		}
		start := time.Now()
		path, err := img.Build(binDir, outDir)
		if err != nil {
			return err
		}
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		fmt.Printf("%-28s %s (%.1f MB, %s)\n", img.Ref(), path, float64(fi.Size())/1e6, time.Since(start).Round(10*time.Millisecond))
	}
	return nil
}
