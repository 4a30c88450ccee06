package landscape

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

// CoreDNS is a CoreDNS process of the landscape.
type CoreDNS struct {
	Name string
	// Addr is the "ip:port" it serves DNS on, over UDP and TCP: 127.0.0.1 unless
	// started with StartCoreDNSOn.
	Addr string
	// Dir holds its Corefile and log.
	Dir          string
	CorefilePath string
	Process      *Process
}

// BindEnv is the environment variable StartCoreDNS sets to the address CoreDNS must
// bind: a Corefile's server blocks say `bind {$VCDNS_BIND}`.
const BindEnv = "VCDNS_BIND"

// readyRE finds the address of the ready plugin in a Corefile.
var readyRE = regexp.MustCompile(`(?m)^\s*ready(?:[ \t]+([^\s{]+))?[ \t]*(?:\{|$)`)

// StartCoreDNS writes corefile to the landscape folder and runs binary ("coredns" or
// "coredns-upstream", looked up with Binary) with -conf and -dns.port set to a port free
// for both UDP and TCP on 127.0.0.1. It waits until the server answers DNS queries (any
// response over UDP), and until its ready plugin says ready if the Corefile has one.
//
// Server blocks in corefile carry no port, so that -dns.port applies, and bind loopback
// only: StartCoreDNS sets VCDNS_BIND=127.0.0.1 for the process, for `bind {$VCDNS_BIND}`.
// A ready plugin must be given a loopback address (`ready 127.0.0.1:PORT`, see FreePort).
func (l *Landscape) StartCoreDNS(ctx context.Context, name, binary, corefile string) (*CoreDNS, error) {
	return l.StartCoreDNSEnv(ctx, name, binary, corefile, nil)
}

// StartCoreDNSEnv is StartCoreDNS with env added to the environment of the process, for
// Corefiles that read more variables ({$NAME}) than VCDNS_BIND.
func (l *Landscape) StartCoreDNSEnv(ctx context.Context, name, binary, corefile string, env map[string]string) (*CoreDNS, error) {
	return l.StartCoreDNSOn(ctx, netip.MustParseAddr("127.0.0.1"), name, binary, corefile, env)
}

// StartCoreDNSOn is StartCoreDNSEnv serving on bind instead of loopback: an address
// of the host that Pods of the landscape's nodes reach (a node link's host end,
// landscape.Net.HostIPs), for a server that stands in for one a Pod would run.
func (l *Landscape) StartCoreDNSOn(ctx context.Context, bind netip.Addr, name, binary, corefile string, env map[string]string) (*CoreDNS, error) {
	path, err := l.Binary(binary)
	if err != nil {
		return nil, err
	}
	var readyURL string
	if m := readyRE.FindStringSubmatch(corefile); m != nil {
		host, _, err := net.SplitHostPort(m[1])
		if err != nil || net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
			return nil, fmt.Errorf("CoreDNS %s: the ready plugin needs a loopback address and port (ready 127.0.0.1:PORT), got %q", name, m[1])
		}
		readyURL = "http://" + m[1] + "/ready"
	}

	c := &CoreDNS{Name: name, Dir: filepath.Join(l.dir, name)}
	c.CorefilePath = filepath.Join(c.Dir, "Corefile")
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.CorefilePath, []byte(corefile), 0o644); err != nil {
		return nil, fmt.Errorf("writing Corefile of CoreDNS %s: %w", name, err)
	}
	port, err := freeUDPAndTCPPort(bind)
	if err != nil {
		return nil, err
	}
	c.Addr = net.JoinHostPort(bind.String(), strconv.Itoa(port))
	vars := []string{BindEnv + "=" + bind.String()}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		vars = append(vars, k+"="+env[k])
	}
	c.Process, err = l.StartEnv(c.Dir, name, path, vars,
		"-conf", c.CorefilePath,
		"-dns.port", strconv.Itoa(port),
	)
	if err != nil {
		return nil, err
	}

	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = c.Process.WaitFor(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		_, err := Query(ctx, c.Addr, ".", dns.TypeNS, "udp")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("CoreDNS %s: %w", name, err)
	}
	if readyURL != "" {
		hc := &http.Client{Timeout: time.Second}
		err = c.Process.WaitFor(ctx, 100*time.Millisecond, func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, readyURL, nil)
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s", readyURL, resp.Status)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("CoreDNS %s: %w", name, err)
		}
	}
	l.opts.Logf("CoreDNS %s (%s) ready in %s at %s", name, binary, time.Since(start).Round(100*time.Millisecond), c.Addr)
	return c, nil
}

// freeUDPAndTCPPort returns a port free on ip for both TCP and UDP.
func freeUDPAndTCPPort(ip netip.Addr) (int, error) {
	var errs []error
	for range 20 {
		tl, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
		if err != nil {
			return 0, fmt.Errorf("finding a free port: %w", err)
		}
		port := tl.Addr().(*net.TCPAddr).Port
		ul, err := net.ListenPacket("udp", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
		tl.Close()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ul.Close()
		return port, nil
	}
	return 0, fmt.Errorf("finding a port free for UDP and TCP: %w", errors.Join(errs...))
}
