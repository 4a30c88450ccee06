package bench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	"github.com/vcdns/vcdns/syncer/tenantdns"
)

// rate creates Services in the first MCP at Scale.Rate per second and measures, for
// each, the time from sending the create until the tenant CoreDNS, running the
// Corefile the syncer rendered, answers the workload cluster's IP. Should that
// Corefile cache the answers of the cluster zone (a new Service is answered with the
// tenant's own ClusterIP until the syncer writes the annotation, and the cache would
// keep that), a second tenant CoreDNS with them left out of the cache is asked too.
func (s *services) rate(ctx context.Context) error {
	sc := s.opts.Scale
	m := s.mcps[0]
	rendered, err := s.env.StartTenantDNS(ctx, m)
	if err != nil {
		return err
	}
	corefile, err := os.ReadFile(rendered.CorefilePath)
	if err != nil {
		return err
	}
	probes := []*dnsProbe{{name: "Corefile as rendered", addr: rendered.Addr, cached: cachesServices(string(corefile))}}
	if probes[0].cached {
		uncached, err := s.startTenantDNSVariant(ctx, m, "tenant-dns-uncached", uncacheServices)
		if err != nil {
			return err
		}
		probes = append(probes, &dnsProbe{name: "Services not cached", addr: uncached.Addr})
	}
	var ranges []netip.Prefix
	for _, c := range s.env.Workloads[workloadName].ServiceCIDRs {
		ranges = append(ranges, netip.MustParsePrefix(c))
	}

	const ns = "bench-rate"
	tls, stop, err := s.watchTenants(ctx, ns, []int{0})
	if err != nil {
		return err
	}
	defer stop()
	tl := tls[0]
	if err := s.settle(ctx); err != nil {
		return err
	}

	cpu0 := sampleCPU(s.components())
	stopCPU := recordCPU(s.components(), filepath.Join(s.opts.OutDir, "cpu-rate.csv"), 500*time.Millisecond)
	defer stopCPU() //nolint:errcheck // stopped and checked below; this one is for early returns
	// What the workload API server does meanwhile, its stalls included.
	defer s.profileAPIServer(ctx, s.workload, "workload-rate", 0)()
	names := serviceNames(sc.RateCreates)
	for _, p := range probes {
		p.latencies = make([]time.Duration, len(names))
	}
	errs := make([]error, len(names))
	tick := time.NewTicker(time.Duration(float64(time.Second) / sc.Rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for i, name := range names {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
		}
		wg.Go(func() {
			sent := tl.create(name)
			if _, err := s.tenants[0].CoreV1().Services(ns).Create(ctx, benchService(name), metav1.CreateOptions{}); err != nil {
				errs[i] = err
				return
			}
			fqdn := name + "." + ns + ".svc.cluster.local."
			var inner sync.WaitGroup
			for _, p := range probes {
				inner.Go(func() { p.latencies[i] = waitResolves(ctx, p.addr, fqdn, ranges, sent, sc.DNSAnswerTimeout, p.cached) })
			}
			inner.Wait()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := tl.waitCount(wctx, len(names)); err != nil {
		return err
	}
	annotated := tl.latencies()
	if err := stopCPU(); err != nil {
		return err
	}
	if err := writeRateCSV(filepath.Join(s.opts.OutDir, "latency-rate.csv"), names, tl, probes); err != nil {
		return err
	}
	use := sampleCPU(s.components()).since(cpu0)
	s.res.cpuDetails("service_rate", use)
	s.logf("CPU at %g creates/s: %s", sc.Rate, use)

	p99 := Percentile(probes[0].latencies, 99)
	s.res.figure("service_p99_ms", ms(p99))
	s.res.latencyDetails("service_annotation_latency", annotated)
	s.res.latencyDetails("service_dns_latency", probes[0].latencies)
	s.res.detail("service_dns_timeouts", float64(countAtLeast(probes[0].latencies, sc.DNSAnswerTimeout)))
	label := fmt.Sprintf("%g/s", sc.Rate)
	s.res.series(label+": create to annotation", annotated)
	summary := fmt.Sprintf("to annotation p50 %s p99 %s", Percentile(annotated, 50), Percentile(annotated, 99))
	for i, p := range probes {
		if i > 0 {
			s.res.latencyDetails("service_dns_uncached_latency", p.latencies)
		}
		s.res.series(label+": create to tenant DNS answer, "+p.name, p.latencies)
		summary += fmt.Sprintf("; to DNS answer (%s) p50 %s p99 %s", p.name, Percentile(p.latencies, 50), Percentile(p.latencies, 99))
	}
	s.logf("%d Services at %s: %s", len(names), label, summary)
	return nil
}

// dnsProbe is a tenant CoreDNS the rate scenario asks, and what it measured.
type dnsProbe struct {
	name string
	addr string
	// cached is true when the server caches the answers of the cluster zone.
	cached    bool
	latencies []time.Duration
}

// writeRateCSV writes, per Service of the rate scenario, when its create was sent and
// its latencies, to find out what the slow ones have in common.
func writeRateCSV(path string, names []string, tl *timeline, probes []*dnsProbe) error {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var b strings.Builder
	b.WriteString("service,sent,annotation_ms")
	for _, p := range probes {
		b.WriteString(",dns_ms " + p.name)
	}
	b.WriteString("\n")
	for i, n := range names {
		sent := tl.created[n]
		var annotated float64
		if a, ok := tl.annotated[n]; ok {
			annotated = ms(a.Sub(sent))
		}
		fmt.Fprintf(&b, "%s,%s,%.1f", n, sent.UTC().Format(time.RFC3339Nano), annotated)
		for _, p := range probes {
			fmt.Fprintf(&b, ",%.1f", ms(p.latencies[i]))
		}
		b.WriteString("\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func countAtLeast(ds []time.Duration, limit time.Duration) int {
	n := 0
	for _, d := range ds {
		if d >= limit {
			n++
		}
	}
	return n
}

// waitResolves queries server for name until it answers an A record within ranges,
// and returns the time since sent: every 5 ms for the first second, then every 50 ms.
// A name that does not resolve within timeout counts as timeout. With cached, the
// server caches answers: one with other addresses is asked again only a second
// before its TTL runs out, so that polling does not load the servers for nothing.
func waitResolves(ctx context.Context, server, name string, ranges []netip.Prefix, sent time.Time, timeout time.Duration, cached bool) time.Duration {
	for {
		resp, err := landscape.Query(ctx, server, name, dns.TypeA, "udp")
		if err == nil && answersWithin(resp, ranges) {
			return time.Since(sent)
		}
		elapsed := time.Since(sent)
		if elapsed >= timeout || ctx.Err() != nil {
			return timeout
		}
		interval := 5 * time.Millisecond
		if elapsed > time.Second {
			interval = 50 * time.Millisecond
		}
		if ttl := answerTTL(resp); cached && err == nil && ttl > time.Second {
			interval = min(ttl-time.Second, timeout-elapsed)
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
}

// answerTTL is the smallest TTL of the A records of resp; 0 without any.
func answerTTL(resp *dns.Msg) time.Duration {
	var ttl time.Duration
	for _, rr := range resp.Answer {
		if a, ok := rr.(*dns.A); ok {
			t := time.Duration(a.Hdr.Ttl) * time.Second
			if ttl == 0 || t < ttl {
				ttl = t
			}
		}
	}
	return ttl
}

func answersWithin(resp *dns.Msg, ranges []netip.Prefix) bool {
	for _, rr := range resp.Answer {
		a, ok := rr.(*dns.A)
		if !ok {
			continue
		}
		addr, ok := netip.AddrFromSlice(a.A)
		if !ok {
			continue
		}
		for _, p := range ranges {
			if p.Contains(addr.Unmap()) {
				return true
			}
		}
	}
	return false
}

// disableDenialRE finds the line of the rendered cache block that keeps denials of
// the cluster domain out of the cache.
var disableDenialRE = regexp.MustCompile(`(?m)^([ \t]*)disable denial (\S+)[ \t]*$`)

var (
	cacheRE          = regexp.MustCompile(`(?m)^[ \t]*cache([ \t]|$)`)
	disableSuccessRE = regexp.MustCompile(`(?m)^[ \t]*disable success[ \t]`)
)

// cachesServices reports whether a Corefile rendered by the syncer (one server block
// for the cluster zone) caches the answers of the cluster zone: it has the cache
// plugin and does not disable it for successful answers.
func cachesServices(corefile string) bool {
	return cacheRE.MatchString(corefile) && !disableSuccessRE.MatchString(corefile)
}

// uncacheServices keeps the answers of the cluster domain out of the cache as well,
// not only its denials: a Service answered before the syncer wrote its annotation
// (with the tenant's own ClusterIP) would otherwise be served from the cache for up
// to its TTL.
func uncacheServices(corefile string) (string, error) {
	if !disableDenialRE.MatchString(corefile) {
		return "", errors.New("the Corefile has no 'disable denial' line in its cache block")
	}
	return disableDenialRE.ReplaceAllString(corefile, "${0}\n${1}disable success ${2}"), nil
}

// startTenantDNSVariant runs the tenant CoreDNS of m as StartTenantDNS does, but with
// its Corefile changed by edit.
func (s *services) startTenantDNSVariant(ctx context.Context, m vcdnsenv.MCP, name string, edit func(string) (string, error)) (*landscape.CoreDNS, error) {
	cm, secret, err := s.env.TenantDNSConfig(ctx, m)
	if err != nil {
		return nil, err
	}
	corefile, err := edit(cm.Data[tenantdns.CorefileKey])
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(s.l.Dir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, secret.Data[tenantdns.KubeconfigKey], 0o600); err != nil {
		return nil, err
	}
	return s.l.StartCoreDNSEnv(ctx, name, "coredns", corefile, map[string]string{tenantdns.EnvKubeconfig: kubeconfig})
}

// fair has the first Scale.FairBulkMCPs MCPs create Scale.FairBulkServices each at
// once while every other MCP creates Scale.FairRegularServices one at a time, and
// measures the latter's create-to-annotation latency.
func (s *services) fair(ctx context.Context) error {
	sc := s.opts.Scale
	const ns = "bench-fair"
	tls, stop, err := s.watchTenants(ctx, ns, s.allMCPs())
	if err != nil {
		return err
	}
	defer stop()
	if err := s.settle(ctx); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	bulk := min(sc.FairBulkMCPs, sc.MCPs)
	errs := make([]error, sc.MCPs)
	cpu0 := sampleCPU(s.components())
	stopCPU := recordCPU(s.components(), filepath.Join(s.opts.OutDir, "cpu-fair.csv"), 500*time.Millisecond)
	defer stopCPU() //nolint:errcheck // stopped and checked below; this one is for early returns
	start := time.Now()
	var wg sync.WaitGroup
	for i := range sc.MCPs {
		if i < bulk {
			wg.Go(func() {
				names := serviceNames(sc.FairBulkServices)
				if errs[i] = createServices(wctx, s.tenants[i], ns, names, sc.ClientsPerMCP, func(n string) { tls[i].create(n) }); errs[i] == nil {
					errs[i] = tls[i].waitCount(wctx, len(names))
				}
			})
			continue
		}
		wg.Go(func() { errs[i] = s.createOneAtATime(wctx, i, ns, tls[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := stopCPU(); err != nil {
		return err
	}
	use := sampleCPU(s.components()).since(cpu0)
	s.res.cpuDetails("fair", use)
	s.logf("CPU of the fairness scenario: %s", use)
	var regular, bulkLat []time.Duration
	var bulkEnd time.Time
	for i, tl := range tls {
		if i < bulk {
			bulkLat = append(bulkLat, tl.latencies()...)
			if _, l := tl.span(); l.After(bulkEnd) {
				bulkEnd = l
			}
			continue
		}
		regular = append(regular, tl.latencies()...)
	}
	p99 := Percentile(regular, 99)
	s.res.figure("fair_regular_p99_ms", ms(p99))
	s.res.latencyDetails("fair_regular_latency", regular)
	s.res.latencyDetails("fair_bulk_latency", bulkLat)
	s.res.detail("fair_bulk_makespan_s", bulkEnd.Sub(start).Seconds())
	s.res.series(fmt.Sprintf("fairness: %d regular MCPs, one at a time: create to annotation", sc.MCPs-bulk), regular)
	s.res.series(fmt.Sprintf("fairness: %d bulk MCPs x %d at once: create to annotation", bulk, sc.FairBulkServices), bulkLat)
	s.logf("Fairness: %d regular Services p50 %s p99 %s while %d MCPs created %d each (all annotated after %s, p99 %s)",
		len(regular), Percentile(regular, 50), p99, bulk, sc.FairBulkServices, bulkEnd.Sub(start).Round(time.Millisecond), Percentile(bulkLat, 99))
	return nil
}

// createOneAtATime creates Scale.FairRegularServices in MCP i, each once the previous
// one has its annotation, at most one per Scale.FairRegularInterval.
func (s *services) createOneAtATime(ctx context.Context, i int, ns string, tl *timeline) error {
	sc := s.opts.Scale
	for _, name := range serviceNames(sc.FairRegularServices) {
		next := tl.create(name).Add(sc.FairRegularInterval)
		if _, err := s.tenants[i].CoreV1().Services(ns).Create(ctx, benchService(name), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Service %s/%s in MCP %d: %w", ns, name, i, err)
		}
		if err := tl.waitName(ctx, name); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(next)):
		}
	}
	return nil
}
