package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	"github.com/vcdns/vcdns/syncer/dns/corefile"
	"github.com/vcdns/vcdns/syncer/dns/hostname"
	"github.com/vcdns/vcdns/syncer/dns/records"
	"github.com/vcdns/vcdns/syncer/dns/skydns"
)

// TestCentralDNS publishes records with the skydns Store into a real etcd serving
// mutual TLS and queries real CoreDNS servers running config/central-dns/Corefile,
// which read etcd over TLS with their client certificate: the patched build
// (bin/coredns) and the stock one (bin/coredns-upstream).
func TestCentralDNS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	// etcd serves mutual TLS, as config/central-dns runs it: CoreDNS presents its
	// client certificate.
	e, err := l.StartEtcdWith(ctx, "central-etcd", vcdnsenv.CentralEtcdOptions)
	if err != nil {
		t.Fatal(err)
	}
	centralCorefile, err := vcdnsenv.CentralCorefile()
	if err != nil {
		t.Fatal(err)
	}
	corednsEnv, err := vcdnsenv.CentralCorefileEnvOf(e)
	if err != nil {
		t.Fatal(err)
	}
	servers := map[string]string{} // binary -> address
	for _, bin := range []string{"coredns", "coredns-upstream"} {
		c, err := l.StartCoreDNSEnv(ctx, "central-dns-"+bin, bin, centralCorefile, corednsEnv)
		if err != nil {
			t.Fatal(err)
		}
		servers[bin] = c.Addr
	}
	etcd, err := e.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	store, err := skydns.NewStore(etcd, skydns.Options{})
	if err != nil {
		t.Fatal(err)
	}
	publish := func(t *testing.T, res records.Result) {
		t.Helper()
		st, err := store.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ch := skydns.Plan(st, skydns.Desired{Scope: res.Scope, Endpoints: res.Endpoints})
		if err := store.Apply(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}

	host := gatewayv1.Hostname("app.c1.openmcp.cluster")
	gw := gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "gw"},
		Spec: gatewayv1.GatewaySpec{Listeners: []gatewayv1.Listener{
			{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType, Hostname: &host},
		}},
		Status: gatewayv1.GatewayStatus{Addresses: []gatewayv1.GatewayStatusAddress{{Value: "10.0.0.1"}, {Value: "10.0.0.2"}, {Value: "fd00::1"}}},
	}
	cluster := func(gws ...gatewayv1.Gateway) records.Result {
		// A short TTL, so that the central cache forgets a deleted name soon.
		return records.Compute(records.Input{Cluster: "c1", Policy: hostname.DefaultPolicy("c1", hostname.DefaultBaseDomain), Gateways: gws, TTL: 5 * time.Second})
	}
	publish(t, cluster(gw))
	publish(t, records.ComputeGatewayDNS(records.GatewayDNSInput{
		Namespace: "platform", Name: "istio", BaseDomain: hostname.DefaultBaseDomain,
		Targets: []records.GatewayDNSTarget{{Cluster: "c1", Namespace: "istio-system", Addresses: []netip.Addr{netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("fd01::1")}}},
	}))

	answer := func(rcode int, values ...string) func(*dns.Msg) error {
		return func(m *dns.Msg) error {
			got := landscape.RRValues(m.Answer)
			slices.Sort(got)
			if m.Rcode != rcode || !slices.Equal(got, values) {
				return fmt.Errorf("got %s %v, want %s %v", dns.RcodeToString[m.Rcode], got, dns.RcodeToString[rcode], values)
			}
			for _, rr := range m.Answer {
				if rr.Header().Name != m.Question[0].Name {
					return fmt.Errorf("answer for %s names %s", m.Question[0].Name, rr.Header().Name)
				}
			}
			if rcode == dns.RcodeNameError && (len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != dns.TypeSOA) {
				return fmt.Errorf("NXDOMAIN without SOA: %v", m.Ns)
			}
			return nil
		}
	}
	// empty accepts NODATA with the SOA the central Corefile's guard template adds.
	empty := func(m *dns.Msg) error {
		if err := answer(dns.RcodeSuccess)(m); err != nil {
			return err
		}
		if len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != dns.TypeSOA || m.Ns[0].(*dns.SOA).Serial != 1 {
			return fmt.Errorf("want the guard's SOA in the authority section, got %v", m.Ns)
		}
		return nil
	}
	queries := []struct {
		name  string
		qname string
		qtype uint16
		want  func(*dns.Msg) error
	}{
		{name: "A", qname: "app.c1.openmcp.cluster", qtype: dns.TypeA, want: answer(dns.RcodeSuccess, "10.0.0.1", "10.0.0.2")},
		{name: "AAAA", qname: "app.c1.openmcp.cluster", qtype: dns.TypeAAAA, want: answer(dns.RcodeSuccess, "fd00::1")},
		{name: "unknown name", qname: "nothing.c1.openmcp.cluster", qtype: dns.TypeA, want: answer(dns.RcodeNameError)},
		{name: "GatewayDNS name itself", qname: "gateway.c1.istio-system.clusters.openmcp.cluster", qtype: dns.TypeA, want: answer(dns.RcodeSuccess, "10.1.0.1")},
		{name: "GatewayDNS any label", qname: "my-service.gateway.c1.istio-system.clusters.openmcp.cluster", qtype: dns.TypeA, want: answer(dns.RcodeSuccess, "10.1.0.1")},
		{name: "GatewayDNS several labels", qname: "a.b.c.gateway.c1.istio-system.clusters.openmcp.cluster", qtype: dns.TypeAAAA, want: answer(dns.RcodeSuccess, "fd01::1")},
		{name: "GatewayDNS other cluster", qname: "x.gateway.c9.istio-system.clusters.openmcp.cluster", qtype: dns.TypeA, want: answer(dns.RcodeNameError)},
		{name: "cluster domain is empty, not every record of the cluster", qname: "c1.openmcp.cluster", qtype: dns.TypeA, want: empty},
		{name: "base domain is empty", qname: "openmcp.cluster", qtype: dns.TypeAAAA, want: empty},
		{name: "GatewayDNS namespace level is empty", qname: "c1.istio-system.clusters.openmcp.cluster", qtype: dns.TypeA, want: empty},
		{name: "base domain SOA", qname: "openmcp.cluster", qtype: dns.TypeSOA, want: func(m *dns.Msg) error {
			if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 || m.Answer[0].Header().Rrtype != dns.TypeSOA {
				return fmt.Errorf("want one SOA record")
			}
			return nil
		}},
	}
	for _, q := range queries {
		for _, network := range []string{"udp", "tcp"} {
			for bin, addr := range servers {
				t.Run(q.name+" over "+network+" from "+bin, func(t *testing.T) {
					r, err := landscape.Query(ctx, addr, q.qname, q.qtype, network)
					if err != nil {
						t.Fatal(err)
					}
					if err := q.want(r); err != nil {
						t.Errorf("%s %s: %v\n%s", q.qname, dns.TypeToString[q.qtype], err, r)
					}
					// The central cache hands out what is left of the TTL.
					if len(r.Answer) > 0 && (r.Answer[0].Header().Ttl == 0 || r.Answer[0].Header().Ttl > records.DefaultTTL) {
						t.Errorf("TTL %d, want 1 to %d", r.Answer[0].Header().Ttl, records.DefaultTTL)
					}
				})
			}
		}
	}

	t.Run("a cluster CoreDNS with the vcdns block forwards to the central DNS", func(t *testing.T) {
		// The root block binds like the landscape wants; the vcdns block copies it.
		clusterCorefile, err := corefile.Patch([]byte(". {\n    bind {$VCDNS_BIND}\n    whoami\n}\n"), corefile.Block{
			Zone: hostname.DefaultBaseDomain, Upstreams: []string{servers["coredns-upstream"]},
		})
		if err != nil {
			t.Fatal(err)
		}
		c, err := l.StartCoreDNS(ctx, "cluster-dns", "coredns", string(clusterCorefile))
		if err != nil {
			t.Fatalf("%v\nCorefile:\n%s", err, clusterCorefile)
		}
		for _, q := range []struct {
			qname string
			want  func(*dns.Msg) error
		}{
			{qname: "app.c1.openmcp.cluster", want: answer(dns.RcodeSuccess, "10.0.0.1", "10.0.0.2")},
			{qname: "x.gateway.c1.istio-system.clusters.openmcp.cluster", want: answer(dns.RcodeSuccess, "10.1.0.1")},
			{qname: "nothing.c1.openmcp.cluster", want: answer(dns.RcodeNameError)},
		} {
			r, err := landscape.Query(ctx, c.Addr, q.qname, dns.TypeA, "udp")
			if err != nil {
				t.Fatal(err)
			}
			if err := q.want(r); err != nil {
				t.Errorf("%s via the cluster CoreDNS: %v\n%s", q.qname, err, r)
			}
		}
	})

	t.Run("a deleted name answers NXDOMAIN with SOA", func(t *testing.T) {
		start := time.Now()
		publish(t, cluster())
		// A name nobody asked for before is gone at once; a cached one when its TTL
		// runs out in the central cache.
		for _, addr := range servers {
			r, err := landscape.Query(ctx, addr, "app.c1.openmcp.cluster", dns.TypeMX, "udp")
			if err != nil {
				t.Fatal(err)
			}
			if err := answer(dns.RcodeNameError)(r); err != nil {
				t.Errorf("uncached question after deletion: %v\n%s", err, r)
			}
		}
		for _, addr := range servers {
			if err := landscape.WaitForAnswer(ctx, addr, "app.c1.openmcp.cluster", dns.TypeA, answer(dns.RcodeNameError)); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("cached name: NXDOMAIN %s after deletion (central cache: at most the TTL, 5 s)", time.Since(start).Round(100*time.Millisecond))
	})
	t.Run("a name published after a negative answer resolves", func(t *testing.T) {
		start := time.Now()
		publish(t, cluster(gw))
		for _, addr := range servers {
			if err := landscape.WaitForAnswer(ctx, addr, "app.c1.openmcp.cluster", dns.TypeA, answer(dns.RcodeSuccess, "10.0.0.1", "10.0.0.2")); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("answer %s after publishing (central denial cache: at most 5 s)", time.Since(start).Round(100*time.Millisecond))
	})
}
