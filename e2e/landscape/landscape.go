// Package landscape starts a local Kubernetes landscape for tests and demos: any number
// of named clusters, each a real etcd, kube-apiserver and kube-controller-manager on
// 127.0.0.1 with free ports and a service CIDR of its own, plus whatever other servers
// (CoreDNS, the syncer) a test starts through it. Everything it starts runs in its own
// process group and is stopped by Stop, and killed by the kernel if the process that
// started it dies first.
package landscape

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options configure a Landscape.
type Options struct {
	// Dir holds data and logs. Default: a new temporary folder.
	Dir string
	// BinDir holds the built tools (etcd, kube-apiserver, kube-controller-manager,
	// coredns, syncer). Default: the repository's bin/. KUBEBUILDER_ASSETS, when set
	// and holding a binary, wins for etcd and the Kubernetes binaries.
	BinDir string
	// SharedEtcd makes all clusters store their data in one etcd, each under its own
	// prefix, instead of one etcd per cluster.
	SharedEtcd bool
	// ImagesDir holds the image tarballs of `make images`, imported into every node.
	// Default: the repository's _output/images.
	ImagesDir string
	// Logf reports progress. Default: silent.
	Logf func(format string, args ...any)
}

// Landscape is a set of local clusters and servers.
type Landscape struct {
	opts Options
	dir  string

	mu       sync.Mutex
	procs    []*Process
	closers  []func() error
	clusters map[string]*Cluster
	shared   *Etcd
	nextCIDR int
	stopped  bool
}

// New prepares a landscape. It starts nothing yet.
func New(opts Options) (*Landscape, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "vcdns-landscape-")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if opts.BinDir == "" || opts.ImagesDir == "" {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		if opts.BinDir == "" {
			opts.BinDir = filepath.Join(root, "bin")
		}
		if opts.ImagesDir == "" {
			opts.ImagesDir = filepath.Join(root, "_output", "images")
		}
	}
	return &Landscape{opts: opts, dir: dir, clusters: map[string]*Cluster{}}, nil
}

// Dir is the folder holding the landscape's data and logs.
func (l *Landscape) Dir() string { return l.dir }

// Logf reports progress as Options.Logf does, for what is built on the landscape.
func (l *Landscape) Logf(format string, args ...any) { l.opts.Logf(format, args...) }

// Binary finds a built tool.
func (l *Landscape) Binary(name string) (string, error) {
	var dirs []string
	switch name {
	case "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler":
		if a := os.Getenv("KUBEBUILDER_ASSETS"); a != "" {
			dirs = append(dirs, a)
		}
	}
	dirs = append(dirs, l.opts.BinDir)
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("binary %s not found in %s: run `make tools` (or `make build`) first", name, strings.Join(dirs, ", "))
}

// Start starts a server whose log goes to dir/<name>.log and which the landscape stops
// with everything else.
func (l *Landscape) Start(dir, name, path string, args ...string) (*Process, error) {
	return l.StartEnv(dir, name, path, nil, args...)
}

// StartEnv is Start with env (KEY=value) added to the environment the server inherits.
func (l *Landscape) StartEnv(dir, name, path string, env []string, args ...string) (*Process, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return nil, errors.New("landscape is stopped")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p, err := StartProcessEnv(dir, name, path, env, args...)
	if err != nil {
		return nil, err
	}
	l.procs = append(l.procs, p)
	return p, nil
}

// Stop tears down the nodes (which remove what they made on the host) and stops
// every process the landscape started, newest first. It is safe to call more than
// once. The error lists what could not be removed.
func (l *Landscape) Stop() error {
	l.mu.Lock()
	procs, closers := l.procs, l.closers
	l.procs, l.closers, l.stopped = nil, nil, true
	l.mu.Unlock()
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		errs = append(errs, closers[i]())
	}
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop(5 * time.Second)
	}
	return errors.Join(errs...)
}

// addCloser registers a teardown that Stop runs before it stops the processes.
func (l *Landscape) addCloser(f func() error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closers = append(l.closers, f)
}

// Processes lists the processes the landscape started, for leak checks.
func (l *Landscape) Processes() []*Process {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Process(nil), l.procs...)
}

// Cluster returns a started cluster by name.
func (l *Landscape) Cluster(name string) *Cluster {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clusters[name]
}

func (l *Landscape) sharedEtcd(ctx context.Context) (*Etcd, error) {
	l.mu.Lock()
	e := l.shared
	l.mu.Unlock()
	if e != nil {
		return e, nil
	}
	e, err := l.StartEtcd(ctx, "etcd-shared")
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.shared = e
	l.mu.Unlock()
	return e, nil
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. They are held open
// together so that one call never returns the same port twice.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// FreePort returns a free TCP port on 127.0.0.1 (UDP on the same number is almost
// always free too; servers that need both check for themselves).
func FreePort() (int, error) {
	p, err := freePorts(1)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}

// RepoRoot finds the vcdns repository from the working directory upwards.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			s := bufio.NewScanner(f)
			s.Scan()
			f.Close()
			if strings.TrimSpace(s.Text()) == "module github.com/vcdns/vcdns" {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the vcdns repository")
		}
		dir = parent
	}
}
