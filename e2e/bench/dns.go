package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/syncer/naming"
)

// dnsWorkloadRange holds the addresses written into the annotations of the DNS
// scenario: the service range of a (pretend) workload cluster.
var dnsWorkloadRange = netip.MustParsePrefix("10.200.0.0/16")

// dnsCorefile serves the cluster domain from the kubernetes plugin and nothing else,
// so that the plugin is what is measured; only the patched build gets the option.
func dnsCorefile(kubeconfig string, patched bool) string {
	option := ""
	if patched {
		option = fmt.Sprintf("        clusterip_annotation %s from %s\n", naming.ClusterIPAnnotation, dnsWorkloadRange)
	}
	return fmt.Sprintf(`. {
    bind {$%s}
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %s
%s    }
}
`, landscape.BindEnv, kubeconfig, option)
}

// dnsServer is a CoreDNS build under load.
type dnsServer struct {
	name string
	addr string
	proc *landscape.Process
	qps  []float64
	// perCPU is the queries answered per CPU-second of the server, by round: less
	// sensitive than qps to other processes taking the server's core.
	perCPU []float64
}

// runDNS compares the queries per second of bin/coredns with clusterip_annotation and
// of bin/coredns-upstream, both serving the same Services of one API server, each
// pinned to core 0 while the load generator runs on core 1. Rounds alternate which
// build goes first; the figure is the median of the rounds' ratios.
func runDNS(ctx context.Context, opts Options, dir string, res *Results) error {
	sc := opts.Scale
	l, err := landscape.New(landscape.Options{Dir: dir, Logf: opts.Logf})
	if err != nil {
		return err
	}
	defer l.Stop()
	c, err := l.StartCluster(ctx, "dns", landscape.ClusterOptions{NoControllerManager: true})
	if err != nil {
		return err
	}
	cs, err := fastClient(c.Config)
	if err != nil {
		return err
	}
	const ns = "bench"
	if err := ensureNamespace(ctx, cs, ns); err != nil {
		return err
	}
	names := serviceNames(sc.DNSServices)
	start := time.Now()
	if err := createObjects(ctx, cs, ns, names, 32, annotatedService, nil); err != nil {
		return err
	}
	opts.Logf("%d annotated Services created in %s", len(names), time.Since(start).Round(time.Millisecond))

	serverCPU, loadCPU, pinning := pinning()
	res.condition("dns_pinning", pinning)
	servers := []*dnsServer{{name: "coredns"}, {name: "coredns-upstream"}}
	for _, srv := range servers {
		corefile := dnsCorefile(c.KubeconfigPath, srv.name == "coredns")
		if srv.addr, srv.proc, err = startPinnedCoreDNS(ctx, l, srv.name, corefile, serverCPU, srv.name); err != nil {
			return err
		}
	}
	// Both serve every Service: the patched build the annotation, upstream the spec.
	last := names[len(names)-1]
	fqdn := last + "." + ns + ".svc.cluster.local."
	wants := map[string]netip.Prefix{"coredns": dnsWorkloadRange, "coredns-upstream": netip.MustParsePrefix(c.ServiceCIDRs[0])}
	for _, srv := range servers {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := landscape.WaitForAnswer(wctx, srv.addr, fqdn, dns.TypeA, func(m *dns.Msg) error {
			if !answersWithin(m, []netip.Prefix{wants[srv.name]}) {
				return fmt.Errorf("answer %v, want an address in %s", landscape.RRValues(m.Answer), wants[srv.name])
			}
			return nil
		})
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w", srv.name, err)
		}
	}

	queries := filepath.Join(dir, "queries.txt")
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s.%s.svc.cluster.local A\n", n, ns)
	}
	if err := os.WriteFile(queries, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fqdns := make([]string, len(names))
	for i, n := range names {
		fqdns[i] = n + "." + ns + ".svc.cluster.local."
	}
	gen, genName := loadGenerator(queries, fqdns, loadCPU)
	res.condition("dns_load_generator", genName)

	var ratios, perCPURatios []float64
	for round := range sc.DNSRounds {
		order := []*dnsServer{servers[0], servers[1]}
		if round%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, srv := range order {
			cpu0, err := cpuTime(srv.proc.Pid())
			if err != nil {
				return err
			}
			start := time.Now()
			qps, err := gen(ctx, srv.addr, sc.DNSDuration)
			if err != nil {
				return fmt.Errorf("load on %s: %w", srv.name, err)
			}
			wall := time.Since(start)
			cpu1, err := cpuTime(srv.proc.Pid())
			if err != nil {
				return err
			}
			cpu := cpu1 - cpu0
			srv.qps = append(srv.qps, qps)
			srv.perCPU = append(srv.perCPU, qps*wall.Seconds()/max(cpu.Seconds(), 0.01))
			opts.Logf("Round %d: %s answered %.0f queries/s using %.2f cores (%.0f queries per CPU-second)",
				round+1, srv.name, qps, cpu.Seconds()/wall.Seconds(), srv.perCPU[round])
		}
		ratios = append(ratios, servers[0].qps[round]/servers[1].qps[round])
		perCPURatios = append(perCPURatios, servers[0].perCPU[round]/servers[1].perCPU[round])
	}
	res.figure("dns_qps_ratio", Median(ratios))
	res.detail("dns_qps_patched", Median(servers[0].qps))
	res.detail("dns_qps_upstream", Median(servers[1].qps))
	res.detail("dns_queries_per_cpu_s_ratio", Median(perCPURatios))
	return nil
}

// annotatedService is a benchService carrying a clusterIP annotation within
// dnsWorkloadRange, a different address for each name.
func annotatedService(name string) *corev1.Service {
	svc := benchService(name)
	n, _ := strconv.Atoi(strings.TrimPrefix(name, "svc-"))
	a := dnsWorkloadRange.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += uint32(n) + 1
	ip := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	svc.Annotations = map[string]string{naming.ClusterIPAnnotation: ip.String()}
	return svc
}

// pinning decides where the servers and the load generator run: the servers on core
// 0 and the load on core 1, with taskset, when there are two cores and taskset.
func pinning() (serverCPU, loadCPU, description string) {
	if _, err := exec.LookPath("taskset"); err != nil {
		return "", "", "none: taskset not found"
	}
	if runtime.NumCPU() < 2 {
		return "", "", "none: fewer than two cores"
	}
	return "0", "1", "each CoreDNS on core 0 (taskset -c 0, GOMAXPROCS 1), the load generator on core 1"
}

// startPinnedCoreDNS runs binary with corefile as name (its folder in the landscape),
// under taskset on cpu unless cpu is empty (taskset execs the binary: the process is
// CoreDNS itself), and waits until it answers DNS.
func startPinnedCoreDNS(ctx context.Context, l *landscape.Landscape, binary, corefile, cpu, name string) (string, *landscape.Process, error) {
	bin, err := l.Binary(binary)
	if err != nil {
		return "", nil, err
	}
	dir := filepath.Join(l.Dir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	conf := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(conf, []byte(corefile), 0o644); err != nil {
		return "", nil, err
	}
	port, err := landscape.FreePort()
	if err != nil {
		return "", nil, err
	}
	path, args := bin, []string{"-conf", conf, "-dns.port", strconv.Itoa(port)}
	if cpu != "" {
		if path, err = exec.LookPath("taskset"); err != nil {
			return "", nil, err
		}
		args = append([]string{"-c", cpu, bin}, args...)
	}
	p, err := l.StartEnv(dir, name, path, []string{landscape.BindEnv + "=127.0.0.1"}, args...)
	if err != nil {
		return "", nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.WaitFor(wctx, 100*time.Millisecond, func(ctx context.Context) error {
		_, err := landscape.Query(ctx, addr, ".", dns.TypeNS, "udp")
		return err
	}); err != nil {
		return "", nil, err
	}
	return addr, p, nil
}

// loadFunc puts load on a DNS server for d and returns the answered queries per second.
type loadFunc func(ctx context.Context, server string, d time.Duration) (float64, error)

// loadGenerator is dnsperf reading the query file, pinned to cpu, if dnsperf is
// installed, and a small closed-loop generator in Go asking for fqdns otherwise (whose
// figures are not comparable with dnsperf's).
func loadGenerator(queries string, fqdns []string, cpu string) (loadFunc, string) {
	path, err := exec.LookPath("dnsperf")
	if err != nil {
		return builtinLoad(fqdns), "built-in Go generator (dnsperf not found)"
	}
	version := "dnsperf"
	if out, err := exec.Command(path, "-h").CombinedOutput(); err == nil {
		if m := regexp.MustCompile(`Version (\S+)`).FindSubmatch(out); m != nil {
			version += " " + string(m[1])
		}
	}
	return func(ctx context.Context, server string, d time.Duration) (float64, error) {
		host, port, err := splitHostPort(server)
		if err != nil {
			return 0, err
		}
		args := []string{"-s", host, "-p", port, "-d", queries, "-l", strconv.Itoa(max(1, int(d.Seconds()))), "-c", "8", "-q", "200", "-t", "2"}
		cmd := exec.CommandContext(ctx, path, args...)
		if cpu != "" {
			cmd = exec.CommandContext(ctx, "taskset", append([]string{"-c", cpu, path}, args...)...)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("dnsperf: %w: %s", err, out.String())
		}
		r, err := parseDNSPerf(out.String())
		if err != nil {
			return 0, err
		}
		if r.lostPercent > 1 || r.noErrorPercent < 99 {
			return 0, fmt.Errorf("dnsperf: %.2f%% lost, %.2f%% NOERROR:\n%s", r.lostPercent, r.noErrorPercent, out.String())
		}
		return r.qps, nil
	}, version + ", 8 clients, 200 queries outstanding"
}

func splitHostPort(addr string) (string, string, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return "", "", err
	}
	return ap.Addr().String(), strconv.Itoa(int(ap.Port())), nil
}

// dnsperfResult is what dnsperf's statistics say.
type dnsperfResult struct {
	qps            float64
	lostPercent    float64
	noErrorPercent float64
}

var (
	dnsperfQPSRE     = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)
	dnsperfLostRE    = regexp.MustCompile(`Queries lost:\s+\d+ \(([0-9.]+)%\)`)
	dnsperfNoErrorRE = regexp.MustCompile(`NOERROR \d+ \(([0-9.]+)%\)`)
)

// parseDNSPerf reads the statistics dnsperf prints at the end of a run.
func parseDNSPerf(out string) (dnsperfResult, error) {
	var r dnsperfResult
	for _, f := range []struct {
		re  *regexp.Regexp
		dst *float64
	}{{dnsperfQPSRE, &r.qps}, {dnsperfLostRE, &r.lostPercent}, {dnsperfNoErrorRE, &r.noErrorPercent}} {
		m := f.re.FindStringSubmatch(out)
		if m == nil {
			return r, fmt.Errorf("dnsperf output has no %q:\n%s", f.re.String(), out)
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return r, err
		}
		*f.dst = v
	}
	return r, nil
}

// builtinLoad runs 16 closed loops of UDP queries for A records of fqdns.
func builtinLoad(fqdns []string) loadFunc {
	return func(ctx context.Context, server string, d time.Duration) (float64, error) {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		var answered atomic.Int64
		var failed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for w := range 16 {
			wg.Go(func() {
				conn, err := dns.Dial("udp", server)
				if err != nil {
					failed.Add(1)
					return
				}
				defer conn.Close()
				c := &dns.Client{Timeout: time.Second}
				for i := w; ctx.Err() == nil; i += 16 {
					m := new(dns.Msg)
					m.SetQuestion(fqdns[i%len(fqdns)], dns.TypeA)
					r, _, err := c.ExchangeWithConnContext(ctx, m, conn)
					if err == nil && r.Rcode == dns.RcodeSuccess {
						answered.Add(1)
					} else if ctx.Err() == nil {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if answered.Load() == 0 {
			return 0, errors.New("no query answered")
		}
		return float64(answered.Load()) / time.Since(start).Seconds(), nil
	}
}
