package landscape

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Etcd is a single-member etcd server on loopback.
type Etcd struct {
	Name     string
	Endpoint string // http://127.0.0.1:port
	Process  *Process
}

// StartEtcd starts an etcd member named name with its data under dir and waits until it
// reports healthy.
func (l *Landscape) StartEtcd(ctx context.Context, name string) (*Etcd, error) {
	bin, err := l.Binary("etcd")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(l.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	peer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	p, err := l.Start(dir, name, bin,
		"--name", name,
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", name+"="+peer,
		// Test data: durability across machine crashes is not needed, speed is.
		"--unsafe-no-fsync",
		"--log-level", "warn",
	)
	if err != nil {
		return nil, err
	}
	e := &Etcd{Name: name, Endpoint: client, Process: p}
	return e, e.WaitReady(ctx)
}

// WaitReady polls etcd's /health until it answers healthy.
func (e *Etcd) WaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	return e.Process.WaitFor(ctx, 50*time.Millisecond, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.Endpoint+"/health", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), `"health":"true"`) {
			return fmt.Errorf("etcd health: %s", body)
		}
		return nil
	})
}
