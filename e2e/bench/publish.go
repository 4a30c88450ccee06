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
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/dns/corefile"
	"github.com/vcdns/vcdns/syncer/naming"
)

// runPublish measures publication and the central DNS on a landscape of a platform,
// two workload clusters with their simulated data planes and own CoreDNS, the central
// etcd and CoreDNS, one MCP on workload-1 and the syncer:
//
//   - publish_p99_ms: an MCP creates Gateways at Scale.PublishRate; from the moment a
//     Gateway's copy on workload-1 has its address (seen by a watch there) until
//     workload-2's CoreDNS, run from the Corefile the syncer patched, answers the
//     Gateway's hostname with it (asked every 10 ms from then on);
//   - central_dns_qps: the published names under dnsperf against the central CoreDNS as
//     config/central-dns ships it, and against the same Corefile without its cache.
func runPublish(ctx context.Context, opts Options, dir string, res *Results) error {
	sc := opts.Scale
	l, err := landscape.New(landscape.Options{Dir: dir, Logf: opts.Logf})
	if err != nil {
		return err
	}
	defer l.Stop()
	mcp := vcdnsenv.MCP{Namespace: "bench", Name: "publish", Workload: "workload-1"}
	env, err := vcdnsenv.Setup(ctx, l, vcdnsenv.Spec{
		Workloads: []vcdnsenv.Workload{{Name: "workload-1"}, {Name: "workload-2"}},
		MCPs:      []vcdnsenv.MCP{mcp},
	})
	if err != nil {
		return err
	}
	env.SyncerEnv = opts.SyncerEnv
	if _, err := env.StartSyncer(ctx, opts.SyncerArgs...); err != nil {
		return err
	}
	if err := env.WaitMCPCondition(ctx, mcp, vcdnsv1alpha1.ConditionReady, metav1.ConditionTrue, 5*time.Minute); err != nil {
		return err
	}
	w1, w2 := env.Workloads["workload-1"], env.Workloads["workload-2"]
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		cf, err := env.ClusterCorefileNow(ctx, w2)
		return err == nil && strings.Contains(cf, corefile.BeginMarker), nil
	}); err != nil {
		return fmt.Errorf("waiting for the syncer's block in workload-2's Corefile: %w", err)
	}
	dns2, err := env.StartClusterDNS(ctx, w2)
	if err != nil {
		return err
	}
	tenant, err := client.New(env.Tenants[mcp.Namespace+"/"+mcp.Name].Config, client.Options{Scheme: vcdnsenv.Scheme})
	if err != nil {
		return err
	}

	// The copies' addresses, as workload-1's data plane sets them.
	addressed, stopWatch, err := watchGatewayAddresses(ctx, w1, vcdnsenv.MCPNamespace(mcp))
	if err != nil {
		return err
	}
	defer stopWatch()

	const ns = "default"
	hostname := func(i int) string { return fmt.Sprintf("gw-%03d.workload-1.openmcp.cluster", i) }
	lat := make([]time.Duration, sc.PublishGateways)
	errs := make([]error, sc.PublishGateways)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / sc.PublishRate))
	defer tick.Stop()
	start := time.Now()
	for i := range sc.PublishGateways {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
		}
		name := fmt.Sprintf("gw-%03d", i)
		gw := &gatewayv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: gatewayv1.GatewaySpec{
				GatewayClassName: "vcdns-test",
				Listeners: []gatewayv1.Listener{{
					Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType,
					Hostname: ptr.To(gatewayv1.Hostname(hostname(i))),
				}},
			},
		}
		if err := tenant.Create(ctx, gw); err != nil {
			return fmt.Errorf("creating Gateway %s: %w", name, err)
		}
		wg.Go(func() {
			wctx, cancel := context.WithTimeout(ctx, publishTimeout)
			defer cancel()
			at, addr, err := addressed.wait(wctx, naming.CopyName(ns, name))
			if err != nil {
				errs[i] = fmt.Errorf("Gateway %s never got an address: %w", name, err)
				return
			}
			fqdn := hostname(i) + "."
			for {
				r, err := landscape.Query(wctx, dns2.Addr, fqdn, dns.TypeA, "udp")
				if err == nil && answersWithin(r, []netip.Prefix{netip.PrefixFrom(addr, addr.BitLen())}) {
					lat[i] = time.Since(at)
					return
				}
				select {
				case <-wctx.Done():
					errs[i] = fmt.Errorf("%s did not resolve to %s through workload-2's CoreDNS within %s of the address", fqdn, addr, publishTimeout)
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	opts.Logf("Publication: %d Gateways at %.0f/s in %s: address to answer p50 %s p99 %s",
		sc.PublishGateways, sc.PublishRate, time.Since(start).Round(time.Millisecond), Percentile(lat, 50), Percentile(lat, 99))
	res.figure("publish_p99_ms", ms(Percentile(lat, 99)))
	res.latencyDetails("publish_latency", lat)
	res.series(fmt.Sprintf("publication: a Gateway's address to its name answered by another cluster's CoreDNS (%.0f/s)", sc.PublishRate), lat)

	names := make([]string, sc.PublishGateways)
	for i := range names {
		names[i] = hostname(i) + "."
	}
	return centralQPS(ctx, opts, l, env.Central, names, res)
}

// publishTimeout bounds the wait for a Gateway's address and then for its name.
const publishTimeout = time.Minute

// centralQPS puts dnsperf load on the central CoreDNS with the shipped Corefile and
// with the same Corefile without its cache, each pinned as in the DNS scenario, for
// names that the syncer published.
func centralQPS(ctx context.Context, opts Options, l *landscape.Landscape, central *vcdnsenv.CentralDNS, names []string, res *Results) error {
	shipped, err := vcdnsenv.CentralCorefile()
	if err != nil {
		return err
	}
	env, err := vcdnsenv.CentralCorefileEnvOf(central.Etcd)
	if err != nil {
		return err
	}
	cached := shipped
	for name, value := range env {
		cached = strings.ReplaceAll(cached, "{$"+name+"}", value)
	}
	uncached := cacheBlockRE.ReplaceAllString(cached, "")
	if uncached == cached {
		return errors.New("config/central-dns/Corefile has no cache block to take out")
	}
	queries := filepath.Join(l.Dir(), "central-queries.txt")
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s A\n", n)
	}
	if err := os.WriteFile(queries, []byte(b.String()), 0o644); err != nil {
		return err
	}
	serverCPU, loadCPU, _ := pinning()
	gen, _ := loadGenerator(queries, names, loadCPU)
	qps := map[string][]float64{}
	for _, v := range []struct{ name, corefile string }{{"cached", cached}, {"uncached", uncached}} {
		addr, p, err := startPinnedCoreDNS(ctx, l, "coredns", v.corefile, serverCPU, "central-"+v.name)
		if err != nil {
			return err
		}
		for range max(1, opts.Scale.DNSRounds) {
			q, err := gen(ctx, addr, opts.Scale.DNSDuration)
			if err != nil {
				return fmt.Errorf("load on the central CoreDNS (%s): %w", v.name, err)
			}
			qps[v.name] = append(qps[v.name], q)
		}
		opts.Logf("Central CoreDNS %s: %.0f queries/s (rounds %v)", v.name, Median(qps[v.name]), qps[v.name])
		p.Stop(5 * time.Second)
	}
	res.figure("central_dns_qps", Median(qps["cached"]))
	res.detail("central_dns_qps_uncached", Median(qps["uncached"]))
	return nil
}

// cacheBlockRE matches the cache directive of a Corefile, with its block.
var cacheBlockRE = regexp.MustCompile(`(?m)^\s*cache\b[^{\n]*(\{[^}]*\})?\n`)

// gatewayAddresses records when each Gateway of a namespace first had an address.
type gatewayAddresses struct {
	mu    sync.Mutex
	seen  map[string]addressedAt
	ready map[string]chan struct{}
}

type addressedAt struct {
	at   time.Time
	addr netip.Addr
}

func (g *gatewayAddresses) readyChan(name string) chan struct{} {
	ch, ok := g.ready[name]
	if !ok {
		ch = make(chan struct{})
		g.ready[name] = ch
	}
	return ch
}

func (g *gatewayAddresses) record(name string, addr netip.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.seen[name]; ok {
		return
	}
	g.seen[name] = addressedAt{at: time.Now(), addr: addr}
	close(g.readyChan(name))
}

// wait returns when Gateway name first had an address, and the address.
func (g *gatewayAddresses) wait(ctx context.Context, name string) (time.Time, netip.Addr, error) {
	g.mu.Lock()
	ch := g.readyChan(name)
	g.mu.Unlock()
	select {
	case <-ctx.Done():
		return time.Time{}, netip.Addr{}, ctx.Err()
	case <-ch:
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.seen[name]
	return s.at, s.addr, nil
}

// watchGatewayAddresses watches the Gateways of namespace ns on cluster c until stop.
func watchGatewayAddresses(ctx context.Context, c *landscape.Cluster, ns string) (*gatewayAddresses, func(), error) {
	wc, err := client.NewWithWatch(c.Config, client.Options{Scheme: vcdnsenv.Scheme})
	if err != nil {
		return nil, nil, err
	}
	ctx, stop := context.WithCancel(ctx)
	w, err := wc.Watch(ctx, &gatewayv1.GatewayList{}, client.InNamespace(ns))
	if err != nil {
		stop()
		return nil, nil, err
	}
	g := &gatewayAddresses{seen: map[string]addressedAt{}, ready: map[string]chan struct{}{}}
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					return
				}
				gw, isGateway := ev.Object.(*gatewayv1.Gateway)
				if !isGateway || ev.Type == watch.Deleted {
					continue
				}
				for _, a := range gw.Status.Addresses {
					if addr, err := netip.ParseAddr(a.Value); err == nil && addr.Is4() {
						g.record(gw.Name, addr)
						break
					}
				}
			}
		}
	}()
	return g, stop, nil
}
