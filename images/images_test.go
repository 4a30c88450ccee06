package images

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestTagsFollowThePins: the CoreDNS and etcd images are tagged with the pinned
// releases their binaries are built from.
func TestTagsFollowThePins(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "hack", "versions.env"))
	if err != nil {
		t.Fatal(err)
	}
	pins := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(k, "#") {
			pins[k] = v
		}
	}
	for _, tc := range []struct {
		name, tag, want string
	}{
		{name: "CoreDNSTag", tag: CoreDNSTag, want: pins["COREDNS_VERSION"] + "-vcdns"},
		{name: "EtcdTag", tag: EtcdTag, want: pins["ETCD_VERSION"]},
	} {
		if tc.want == "" || tc.want == "-vcdns" || tc.tag != tc.want {
			t.Errorf("%s is %q, hack/versions.env pins %q", tc.name, tc.tag, tc.want)
		}
	}
}

// TestBuild builds an image from a file and reads the tarball back: its reference,
// entrypoint, user, and the binary with its file capability.
func TestBuild(t *testing.T) {
	t.Parallel()
	bin, out := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "prog"), []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	img := Image{Name: "prog", Binary: "prog", Args: []string{"serve"}, BindLowPorts: true, Tag: "t1"}
	path, err := img.Build(bin, out)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag("ghcr.io/vcdns/prog:t1")
	if err != nil {
		t.Fatal(err)
	}
	read, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatalf("reading %s as %s: %v", path, tag, err)
	}
	cfg, err := read.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Config.Entrypoint, " "); got != "/prog serve" || cfg.Config.User != "65532:65532" {
		t.Fatalf("entrypoint %q user %q, want \"/prog serve\" 65532:65532", got, cfg.Config.User)
	}
	layers, err := read.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "prog" {
			continue
		}
		found = true
		body, _ := io.ReadAll(tr)
		if !bytes.Equal(body, []byte("#!/bin/true\n")) || h.Mode&0o111 == 0 {
			t.Fatalf("prog in the layer: mode %o, content %q", h.Mode, body)
		}
		if got := h.PAXRecords["SCHILY.xattr.security.capability"]; got != vfsCapNetBindService {
			t.Fatalf("prog's file capability: %x, want %x", got, vfsCapNetBindService)
		}
	}
	if !found {
		t.Fatal("the layer has no prog")
	}
}
