package centraletcd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap"

	"github.com/vcdns/vcdns/e2e/landscape"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
)

// TestConn connects to a real etcd serving mutual TLS, with the right certificates and
// with wrong ones, and asks it for a key: what is refused says why.
func TestConn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	etcd, err := l.StartEtcdWith(ctx, "etcd", landscape.EtcdOptions{TLS: true, Clients: []string{"syncer"}})
	if err != nil {
		t.Fatal(err)
	}
	// Another etcd: its CA is the wrong one, its client certificate one the first
	// does not trust.
	other, err := l.StartEtcdWith(ctx, "other", landscape.EtcdOptions{TLS: true, Clients: []string{"syncer"}})
	if err != nil {
		t.Fatal(err)
	}
	right, wrong := etcd.TLS.Clients["syncer"], other.TLS.Clients["syncer"]

	tests := []struct {
		name       string
		opts       Options
		wantReason string // "": the request succeeds
		wantMsg    string
	}{
		{name: "right CA and client certificate", opts: Options{CAFile: right.CA, CertFile: right.Cert, KeyFile: right.Key}},
		{
			name: "wrong CA", opts: Options{CAFile: wrong.CA, CertFile: right.Cert, KeyFile: right.Key},
			wantReason: vcdnsv1alpha1.ReasonCentralEtcdNotTrusted, wantMsg: "its serving certificate is not signed by the CA of --central-etcd-ca-file",
		},
		{
			name: "no client certificate", opts: Options{CAFile: right.CA},
			wantReason: vcdnsv1alpha1.ReasonCentralEtcdRefused, wantMsg: "it asks for a client certificate, and the syncer has none",
		},
		{
			name: "client certificate of another CA", opts: Options{CAFile: right.CA, CertFile: wrong.Cert, KeyFile: wrong.Key},
			wantReason: vcdnsv1alpha1.ReasonCentralEtcdRefused, wantMsg: "it does not accept the syncer's client certificate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Endpoints = []string{etcd.Endpoint}
			c, err := Connect(tt.opts, zap.NewNop(), logr.Discard())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			reqCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
			_, err = c.Client.Get(reqCtx, "/skydns")
			cancel()
			err = c.Explain(ctx, err)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if err := c.Check(ctx); err != nil {
					t.Fatalf("Check after a success: %v", err)
				}
				return
			}
			r := AsRefused(err)
			if r == nil || r.Reason != tt.wantReason || !strings.Contains(r.Message, tt.wantMsg) {
				t.Fatalf("Explain: %v, want %s with %q", err, tt.wantReason, tt.wantMsg)
			}
			t.Logf("%s: %v", r.Reason, err)
			// Check fails at once, without a request that waits for its deadline.
			start := time.Now()
			if err := c.Check(ctx); AsRefused(err) == nil || AsRefused(err).Reason != tt.wantReason {
				t.Errorf("Check: %v, want %s", err, tt.wantReason)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("Check took %s", took)
			}
		})
	}

	t.Run("a renewed client certificate is used without a new Conn", func(t *testing.T) {
		dir := t.TempDir()
		certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
		copyFile(t, wrong.Cert, certFile)
		copyFile(t, wrong.Key, keyFile)
		c, err := Connect(Options{Endpoints: []string{etcd.Endpoint}, CAFile: right.CA, CertFile: certFile, KeyFile: keyFile}, zap.NewNop(), logr.Discard())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Explain(ctx, context.DeadlineExceeded); AsRefused(err) == nil {
			t.Fatalf("Explain with the certificate of another CA: %v, want a refusal", err)
		}
		copyFile(t, right.Cert, certFile)
		copyFile(t, right.Key, keyFile)
		if err := c.Check(ctx); err != nil {
			t.Fatalf("Check with the renewed certificate: %v", err)
		}
		reqCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := c.Client.Get(reqCtx, "/skydns"); err != nil {
			t.Fatalf("Get with the renewed certificate: %v", err)
		}
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
