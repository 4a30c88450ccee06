package landscape

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Etcd is a single-member etcd server on loopback.
type Etcd struct {
	Name     string
	Endpoint string // http://127.0.0.1:port, or https:// with TLS
	Process  *Process
	// TLS is where its certificates are; nil when it serves plain HTTP.
	TLS *EtcdPKI
}

// EtcdOptions configure an etcd of the landscape.
type EtcdOptions struct {
	// TLS serves clients and peers over TLS and asks clients for a certificate signed
	// by the etcd's CA (--client-cert-auth, --peer-client-cert-auth).
	TLS bool
	// Clients are the names of the client certificates made besides EtcdAdmin (with
	// TLS), each with its name as common name.
	Clients []string
	// BindIP is an address etcd listens on besides loopback, and advertises; its
	// serving certificate covers it.
	BindIP netip.Addr
}

// EtcdAdmin is the client certificate of the landscape itself (health checks, tests
// reading what is stored).
const EtcdAdmin = "admin"

// EtcdPKI is where the certificates of a TLS etcd are: its CA, its serving
// certificate (also presented to its peers) and a client certificate per client.
type EtcdPKI struct {
	CAPath         string
	ServerCertPath string
	ServerKeyPath  string
	Clients        map[string]CertFiles
	CAPEM          []byte
}

// CertFiles are the files of a certificate and its key, and of the CA that signed it
// (the cert-manager layout of a Secret: ca.crt, tls.crt, tls.key).
type CertFiles struct {
	CA, Cert, Key string
}

// ClientConfig is the TLS configuration of the client named name: its certificate,
// and the etcd's CA.
func (p *EtcdPKI) ClientConfig(name string) (*tls.Config, error) {
	f, ok := p.Clients[name]
	if !ok {
		return nil, fmt.Errorf("the etcd has no client certificate %q", name)
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(p.CAPEM) {
		return nil, errors.New("the etcd CA does not parse")
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// writeEtcdPKI makes a CA, a serving certificate for loopback, localhost and the
// extra addresses, and a client certificate for every name.
func writeEtcdPKI(dir string, clients []string, extraIPs ...net.IP) (*EtcdPKI, error) {
	dir = filepath.Join(dir, "pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ca, err := newCA("vcdns-landscape-etcd-ca")
	if err != nil {
		return nil, err
	}
	p := &EtcdPKI{
		CAPath:         filepath.Join(dir, "ca.crt"),
		ServerCertPath: filepath.Join(dir, "server.crt"),
		ServerKeyPath:  filepath.Join(dir, "server.key"),
		Clients:        map[string]CertFiles{},
		CAPEM:          ca.PEM,
	}
	if err := os.WriteFile(p.CAPath, ca.PEM, 0o600); err != nil {
		return nil, err
	}
	// One certificate serves clients and peers; towards a peer a member is a client.
	err = ca.writeCert(p.ServerCertPath, p.ServerKeyPath, certRequest{
		CommonName:  "etcd",
		Usages:      []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: append([]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, extraIPs...),
	})
	if err != nil {
		return nil, err
	}
	for _, name := range append([]string{EtcdAdmin}, clients...) {
		f := CertFiles{CA: p.CAPath, Cert: filepath.Join(dir, name+".crt"), Key: filepath.Join(dir, name+".key")}
		if err := ca.writeCert(f.Cert, f.Key, certRequest{CommonName: name, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			return nil, err
		}
		p.Clients[name] = f
	}
	return p, nil
}

// StartEtcd starts an etcd member named name with its data under dir, serving plain
// HTTP on loopback, and waits until it reports healthy.
func (l *Landscape) StartEtcd(ctx context.Context, name string) (*Etcd, error) {
	return l.StartEtcdWith(ctx, name, EtcdOptions{})
}

// StartEtcdWith starts an etcd member as opts say and waits until it reports healthy.
func (l *Landscape) StartEtcdWith(ctx context.Context, name string, opts EtcdOptions) (*Etcd, error) {
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
	scheme := "http"
	var extraArgs []string
	var p *EtcdPKI
	if opts.TLS {
		scheme = "https"
		var extraIPs []net.IP
		if opts.BindIP.IsValid() {
			extraIPs = append(extraIPs, opts.BindIP.AsSlice())
		}
		if p, err = writeEtcdPKI(dir, opts.Clients, extraIPs...); err != nil {
			return nil, fmt.Errorf("making the certificates of etcd %s: %w", name, err)
		}
		extraArgs = []string{
			"--cert-file", p.ServerCertPath, "--key-file", p.ServerKeyPath,
			"--client-cert-auth", "--trusted-ca-file", p.CAPath,
			"--peer-cert-file", p.ServerCertPath, "--peer-key-file", p.ServerKeyPath,
			"--peer-client-cert-auth", "--peer-trusted-ca-file", p.CAPath,
		}
	}
	host := "127.0.0.1"
	listenClient := fmt.Sprintf("%s://127.0.0.1:%d", scheme, ports[0])
	if opts.BindIP.IsValid() {
		host = opts.BindIP.String()
		listenClient += "," + fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, fmt.Sprint(ports[0])))
	}
	client := fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, fmt.Sprint(ports[0])))
	peer := fmt.Sprintf("%s://127.0.0.1:%d", scheme, ports[1])
	proc, err := l.Start(dir, name, bin, append([]string{
		"--name", name,
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", listenClient, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", name + "=" + peer,
		// Test data: durability across machine crashes is not needed, speed is.
		"--unsafe-no-fsync",
		"--log-level", "warn",
	}, extraArgs...)...)
	if err != nil {
		return nil, err
	}
	e := &Etcd{Name: name, Endpoint: client, Process: proc, TLS: p}
	return e, e.WaitReady(ctx)
}

// NewClient is a client of the etcd, with the EtcdAdmin certificate when it serves
// TLS. The caller closes it.
func (e *Etcd) NewClient() (*clientv3.Client, error) {
	cfg := clientv3.Config{Endpoints: []string{e.Endpoint}, DialTimeout: 5 * time.Second}
	if e.TLS != nil {
		tlsCfg, err := e.TLS.ClientConfig(EtcdAdmin)
		if err != nil {
			return nil, err
		}
		cfg.TLS = tlsCfg
	}
	return clientv3.New(cfg)
}

// WaitReady polls etcd's /health until it answers healthy.
func (e *Etcd) WaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	if e.TLS != nil {
		cfg, err := e.TLS.ClientConfig(EtcdAdmin)
		if err != nil {
			return err
		}
		hc.Transport = &http.Transport{TLSClientConfig: cfg}
	}
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
