// Package images builds the project's container images without a container engine or
// a registry: each image is one layer of files from bin/ on an empty base, written as
// a docker-archive tarball that `ctr images import`, `docker load` and `kind load
// image-archive` all read. It is the one build path for the images of vcdns: the
// landscape, the demo, the kind demo and users build them with `make images`.
//
// The images run as the unprivileged user 65532 with nothing but their binary, so
// that they also run on a read-only root file system. The CoreDNS binary carries the
// file capability cap_net_bind_service, so that it binds port 53 as 65532 in a Pod
// that drops every capability but adds NET_BIND_SERVICE (the restricted Pod Security
// level allows exactly that).
package images

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Registry is the registry part of every image reference, the one config/ names.
// Nothing is pulled from it here: the images are imported into the nodes, and Pods
// use imagePullPolicy Never or IfNotPresent.
const Registry = "ghcr.io/vcdns"

// Tag is the tag of the images built from this repository's code.
const Tag = "dev"

// CoreDNSTag is the tag of the CoreDNS image: the pinned release (COREDNS_VERSION of
// hack/versions.env, checked by a test) with the project's patch.
const CoreDNSTag = "v1.14.7-vcdns"

// EtcdTag is the tag of the etcd image: the pinned release (ETCD_VERSION of
// hack/versions.env, checked by a test) that `make tools` builds into bin/etcd.
const EtcdTag = "v3.6.16"

// NonRoot is the user the images run as (distroless's nonroot).
const NonRoot = 65532

// Image is one image: its files (taken from a folder of binaries) and how it runs.
type Image struct {
	// Name is the repository under Registry, and the tarball's base name.
	Name string
	// Binary is the file of the bin folder the image runs, installed as /<Binary>.
	Binary string
	// Args follow the binary in the entrypoint.
	Args []string
	// BindLowPorts gives the binary the file capability cap_net_bind_service.
	BindLowPorts bool
	// Root runs the image as root instead of NonRoot.
	Root bool
	// Tag overrides Tag.
	Tag string
	// Busybox adds a static busybox (Debian's busybox-static, BusyboxPath) as
	// /bin/busybox, with BusyboxApplets linked to it in /bin.
	Busybox bool
}

// BusyboxPath is where Debian's busybox-static installs its binary; make node-deps
// installs the package.
const BusyboxPath = "/bin/busybox"

// BusyboxApplets are the commands the test image has besides vcdns-probe, for a user
// poking at the landscape: a shell, a DNS lookup tool and an HTTP client, and a few
// for looking around.
var BusyboxApplets = []string{"sh", "nslookup", "wget", "cat", "ls", "env", "ps", "sleep", "hostname", "ip", "grep"}

// Ref is the image's reference, e.g. ghcr.io/vcdns/syncer:dev.
func (i Image) Ref() string {
	tag := Tag
	if i.Tag != "" {
		tag = i.Tag
	}
	return Registry + "/" + i.Name + ":" + tag
}

// All are the images of the project.
var All = []Image{Syncer, CoreDNS, Etcd, Pause, Probe}

var (
	// Syncer runs cmd/syncer.
	Syncer = Image{Name: "syncer", Binary: "syncer"}
	// CoreDNS runs the patched CoreDNS (make coredns): the tenant DNS, the central
	// DNS and the landscape clusters' own DNS.
	CoreDNS = Image{Name: "coredns", Binary: "coredns", BindLowPorts: true, Tag: CoreDNSTag}
	// Etcd runs the pinned etcd server (bin/etcd of `make tools`): the members of the
	// central DNS's etcd (config/central-dns/etcd.yaml). It writes only below its
	// --data-dir, a volume, so it runs as NonRoot on a read-only root.
	Etcd = Image{Name: "etcd", Binary: "etcd", Tag: EtcdTag}
	// Pause is the sandbox image of the landscape's nodes (containerd's sandbox_image).
	Pause = Image{Name: "pause", Binary: "vcdns-probe", Args: []string{"pause"}}
	// Probe is the test image: HTTP server, HTTP client and DNS client (cmd/vcdns-probe),
	// and busybox's sh, nslookup and wget for people.
	Probe = Image{Name: "probe", Binary: "vcdns-probe", Busybox: true}
)

// TarballName is the file name of an image's tarball in the output folder.
func (i Image) TarballName() string { return i.Name + ".tar" }

// Build writes the image's tarball into outDir, reading its binary from binDir.
func (i Image) Build(binDir, outDir string) (string, error) {
	bin, err := os.ReadFile(filepath.Join(binDir, i.Binary))
	if err != nil {
		return "", fmt.Errorf("image %s: %w (run `make build coredns` first)", i.Name, err)
	}
	var busybox []byte
	if i.Busybox {
		if busybox, err = os.ReadFile(BusyboxPath); err != nil {
			return "", fmt.Errorf("image %s: %w (install Debian's busybox-static: make node-deps)", i.Name, err)
		}
	}
	layerTar, err := i.layer(bin, busybox)
	if err != nil {
		return "", fmt.Errorf("image %s: %w", i.Name, err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return "", fmt.Errorf("image %s: %w", i.Name, err)
	}
	user := fmt.Sprintf("%d:%d", NonRoot, NonRoot)
	if i.Root {
		user = "0:0"
	}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Config: v1.Config{
			Entrypoint: append([]string{"/" + i.Binary}, i.Args...),
			User:       user,
			Env:        []string{"PATH=/:/bin"},
			Labels:     map[string]string{"org.opencontainers.image.source": "https://github.com/vcdns/vcdns"},
		},
	})
	if err != nil {
		return "", err
	}
	if img, err = mutate.AppendLayers(img, layer); err != nil {
		return "", fmt.Errorf("image %s: %w", i.Name, err)
	}
	tag, err := name.NewTag(i.Ref())
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(outDir, i.TarballName())
	tmp := path + ".tmp"
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		return "", fmt.Errorf("image %s: writing %s: %w", i.Name, path, err)
	}
	return path, os.Rename(tmp, path)
}

// vfsCapNetBindService is the security.capability extended attribute (struct
// vfs_cap_data, revision 2, little endian) that grants CAP_NET_BIND_SERVICE (bit 10)
// as permitted and effective.
var vfsCapNetBindService = string([]byte{
	0x01, 0x00, 0x00, 0x02, // VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE
	0x00, 0x04, 0x00, 0x00, // permitted, low word: 1 << 10
	0x00, 0x00, 0x00, 0x00, // inheritable, low word
	0x00, 0x00, 0x00, 0x00, // permitted, high word
	0x00, 0x00, 0x00, 0x00, // inheritable, high word
})

// layer is the image's only layer: /tmp (writable where the root is not read-only),
// the binary and busybox if given, with fixed times so that the same binaries give the
// same image.
func (i Image) layer(bin, busybox []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: i.Binary, Mode: 0o755, Size: int64(len(bin)), ModTime: epoch, Format: tar.FormatPAX}
	if i.BindLowPorts {
		hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": vfsCapNetBindService}
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, err
	}
	if busybox != nil {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "bin/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(busybox)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(busybox); err != nil {
			return nil, err
		}
		for _, a := range BusyboxApplets {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", ModTime: epoch, Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
