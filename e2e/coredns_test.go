package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/vcdns/vcdns/e2e/landscape"
)

const (
	corednsAnnotationKey  = "transparency.tenancy.x-k8s.io/clusterIP"
	corednsRejectedMetric = "coredns_kubernetes_clusterip_annotation_rejected_total"
	// The service ranges of the (simulated) workload cluster that allocated the IPs the
	// syncer writes into the annotation.
	corednsWorkloadCIDRv4 = "10.200.0.0/16"
	corednsWorkloadCIDRv6 = "fd00:10:200::/112"
)

// corednsCorefile is the Corefile of the CoreDNS under test; the upstream build does
// not know clusterip_annotation, so it gets the same Corefile without it.
func corednsCorefile(kubeconfig string, metricsPort, readyPort int, patched bool) string {
	option := ""
	if patched {
		option = fmt.Sprintf("        clusterip_annotation from %s %s\n", corednsWorkloadCIDRv4, corednsWorkloadCIDRv6)
	}
	return fmt.Sprintf(`. {
    bind {$VCDNS_BIND}
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %s
%s        ttl 0
    }
    prometheus 127.0.0.1:%d
    ready 127.0.0.1:%d
}
`, kubeconfig, option, metricsPort, readyPort)
}

// answer is what a query should get: the rcode, and the values (landscape.RRValues)
// of the answer and additional sections, in any order. A nil extra is not checked.
type dnsWant struct {
	rcode  int
	answer []string
	extra  []string
}

func (a dnsWant) check(m *dns.Msg) error {
	var errs []error
	if m.Rcode != a.rcode {
		errs = append(errs, fmt.Errorf("rcode %s, want %s", dns.RcodeToString[m.Rcode], dns.RcodeToString[a.rcode]))
	}
	if got := landscape.RRValues(m.Answer); !sameDNSValues(got, a.answer) {
		errs = append(errs, fmt.Errorf("answer %q, want %q", got, a.answer))
	}
	if a.extra != nil {
		var extra []dns.RR
		for _, rr := range m.Extra {
			if rr.Header().Rrtype != dns.TypeOPT {
				extra = append(extra, rr)
			}
		}
		if got := landscape.RRValues(extra); !sameDNSValues(got, a.extra) {
			errs = append(errs, fmt.Errorf("extra %q, want %q", got, a.extra))
		}
	}
	return errors.Join(errs...)
}

func sameDNSValues(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func wantNoData() dnsWant   { return dnsWant{rcode: dns.RcodeSuccess} }
func wantNXDomain() dnsWant { return dnsWant{rcode: dns.RcodeNameError} }
func wantAddrs(ips ...string) dnsWant {
	return dnsWant{rcode: dns.RcodeSuccess, answer: ips}
}
func wantTarget(name string) dnsWant { return dnsWant{rcode: dns.RcodeSuccess, answer: []string{name}} }
func wantSRV(target string, weight int, ips ...string) dnsWant {
	return dnsWant{rcode: dns.RcodeSuccess, answer: []string{fmt.Sprintf("0 %d 80 %s", weight, target)}, extra: ips}
}

type dnsQuery struct {
	name  string
	qtype uint16
	// patched and upstream are the answers of bin/coredns (clusterip_annotation on) and
	// of bin/coredns-upstream.
	patched, upstream dnsWant
}

// TestCoreDNSClusterIPAnnotation runs the patched CoreDNS and the upstream one against a
// dual-stack tenant control plane and checks that the patched one, and only it, answers
// A, AAAA, SRV and PTR queries with the addresses of the clusterIP annotation, over UDP
// and TCP, follows changes of the annotation, and counts the values it rejects.
func TestCoreDNSClusterIPAnnotation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})

	tenant, err := l.StartCluster(ctx, "tenant", landscape.ClusterOptions{DualStack: true, NoControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(tenant.Config)
	const ns = "team-a"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	single := corev1.IPFamilyPolicySingleStack
	dual := corev1.IPFamilyPolicyRequireDualStack
	spec := map[string][]string{} // cluster IPs the tenant allocated, by service
	for _, s := range []struct {
		name       string
		annotation *string
		families   []corev1.IPFamily
		policy     *corev1.IPFamilyPolicy
	}{
		{name: "v4", annotation: ptr.To("10.200.0.10"), families: []corev1.IPFamily{corev1.IPv4Protocol}, policy: &single},
		{name: "v6", annotation: ptr.To("fd00:10:200::10"), families: []corev1.IPFamily{corev1.IPv6Protocol}, policy: &single},
		{name: "dual", annotation: ptr.To("10.200.0.11,fd00:10:200::11"), policy: &dual},
		{name: "plain"},
		{name: "forged", annotation: ptr.To("192.0.2.66")},
		{name: "garbage", annotation: ptr.To("10.200.0.12;fd00::12")},
		{name: "empty", annotation: ptr.To("")},
	} {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: ns},
			Spec: corev1.ServiceSpec{
				IPFamilies:     s.families,
				IPFamilyPolicy: s.policy,
				Ports:          []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
			},
		}
		if s.annotation != nil {
			svc.Annotations = map[string]string{corednsAnnotationKey: *s.annotation}
		}
		created, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating service %s: %v", s.name, err)
		}
		spec[s.name] = created.Spec.ClusterIPs
	}
	// A headless Service with an endpoint of its own, and an ExternalName Service: both
	// carry the annotation, and ignore it.
	_, err = cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "headless", Namespace: ns, Annotations: map[string]string{corednsAnnotationKey: "10.200.0.13"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Ports:     []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "headless-1", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: "headless"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.1.2.3"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](80), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "external", Namespace: ns, Annotations: map[string]string{corednsAnnotationKey: "10.200.0.14"}},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "www.example.org"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	type server struct {
		dns         *landscape.CoreDNS
		metricsPort int
	}
	start := func(binary string, patched bool) server {
		t.Helper()
		metricsPort, err := landscape.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		readyPort, err := landscape.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		c, err := l.StartCoreDNS(ctx, binary, binary, corednsCorefile(tenant.KubeconfigPath, metricsPort, readyPort, patched))
		if err != nil {
			t.Fatal(err)
		}
		return server{dns: c, metricsPort: metricsPort}
	}
	patched := start("coredns", true)
	upstream := start("coredns-upstream", false)

	fqdn := func(svc string) string { return svc + "." + ns + ".svc.cluster.local." }
	rev := func(ip string) string {
		name, err := dns.ReverseAddr(ip)
		if err != nil {
			t.Fatal(err)
		}
		return name
	}
	v4, v6, dualIPs := spec["v4"][0], spec["v6"][0], spec["dual"]
	queries := []dnsQuery{
		{name: fqdn("v4"), qtype: dns.TypeA, patched: wantAddrs("10.200.0.10"), upstream: wantAddrs(v4)},
		{name: fqdn("v4"), qtype: dns.TypeAAAA, patched: wantNoData(), upstream: wantNoData()},
		{name: "_http._tcp." + fqdn("v4"), qtype: dns.TypeSRV, patched: wantSRV(fqdn("v4"), 100, "10.200.0.10"), upstream: wantSRV(fqdn("v4"), 100, v4)},
		{name: rev("10.200.0.10"), qtype: dns.TypePTR, patched: wantTarget(fqdn("v4")), upstream: wantNXDomain()},
		{name: rev(v4), qtype: dns.TypePTR, patched: wantNXDomain(), upstream: wantTarget(fqdn("v4"))},

		{name: fqdn("v6"), qtype: dns.TypeAAAA, patched: wantAddrs("fd00:10:200::10"), upstream: wantAddrs(v6)},
		{name: fqdn("v6"), qtype: dns.TypeA, patched: wantNoData(), upstream: wantNoData()},
		{name: "_http._tcp." + fqdn("v6"), qtype: dns.TypeSRV, patched: wantSRV(fqdn("v6"), 100, "fd00:10:200::10"), upstream: wantSRV(fqdn("v6"), 100, v6)},
		{name: rev("fd00:10:200::10"), qtype: dns.TypePTR, patched: wantTarget(fqdn("v6")), upstream: wantNXDomain()},
		{name: rev(v6), qtype: dns.TypePTR, patched: wantNXDomain(), upstream: wantTarget(fqdn("v6"))},

		{name: fqdn("dual"), qtype: dns.TypeA, patched: wantAddrs("10.200.0.11"), upstream: wantAddrs(dualIPs[0])},
		{name: fqdn("dual"), qtype: dns.TypeAAAA, patched: wantAddrs("fd00:10:200::11"), upstream: wantAddrs(dualIPs[1])},
		// One SRV record per cluster IP with the same target, deduplicated: weight 50.
		{name: "_http._tcp." + fqdn("dual"), qtype: dns.TypeSRV, patched: wantSRV(fqdn("dual"), 50, "10.200.0.11", "fd00:10:200::11"), upstream: wantSRV(fqdn("dual"), 50, dualIPs...)},
		{name: rev("10.200.0.11"), qtype: dns.TypePTR, patched: wantTarget(fqdn("dual")), upstream: wantNXDomain()},
		{name: rev("fd00:10:200::11"), qtype: dns.TypePTR, patched: wantTarget(fqdn("dual")), upstream: wantNXDomain()},

		{name: fqdn("plain"), qtype: dns.TypeA, patched: wantAddrs(spec["plain"][0]), upstream: wantAddrs(spec["plain"][0])},
		{name: rev(spec["plain"][0]), qtype: dns.TypePTR, patched: wantTarget(fqdn("plain")), upstream: wantTarget(fqdn("plain"))},

		// Rejected values: the spec's addresses are served.
		{name: fqdn("forged"), qtype: dns.TypeA, patched: wantAddrs(spec["forged"][0]), upstream: wantAddrs(spec["forged"][0])},
		{name: rev("192.0.2.66"), qtype: dns.TypePTR, patched: wantNXDomain(), upstream: wantNXDomain()},
		{name: rev(spec["forged"][0]), qtype: dns.TypePTR, patched: wantTarget(fqdn("forged")), upstream: wantTarget(fqdn("forged"))},
		{name: fqdn("garbage"), qtype: dns.TypeA, patched: wantAddrs(spec["garbage"][0]), upstream: wantAddrs(spec["garbage"][0])},
		{name: fqdn("empty"), qtype: dns.TypeA, patched: wantAddrs(spec["empty"][0]), upstream: wantAddrs(spec["empty"][0])},

		// Headless and ExternalName Services ignore the annotation.
		{name: fqdn("headless"), qtype: dns.TypeA, patched: wantAddrs("10.1.2.3"), upstream: wantAddrs("10.1.2.3")},
		{name: rev("10.200.0.13"), qtype: dns.TypePTR, patched: wantNXDomain(), upstream: wantNXDomain()},
		{name: fqdn("external"), qtype: dns.TypeCNAME, patched: wantTarget("www.example.org."), upstream: wantTarget("www.example.org.")},
		{name: rev("10.200.0.14"), qtype: dns.TypePTR, patched: wantNXDomain(), upstream: wantNXDomain()},
	}

	for _, network := range []string{"udp", "tcp"} {
		for _, q := range queries {
			t.Run(fmt.Sprintf("%s %s over %s", q.name, dns.TypeToString[q.qtype], network), func(t *testing.T) {
				for _, s := range []struct {
					server *landscape.CoreDNS
					want   dnsWant
				}{{server: patched.dns, want: q.patched}, {server: upstream.dns, want: q.upstream}} {
					m, err := landscape.Query(ctx, s.server.Addr, q.name, q.qtype, network)
					if err != nil {
						t.Fatal(err)
					}
					if err := s.want.check(m); err != nil {
						t.Errorf("%s: %v", s.server.Name, err)
					}
				}
			})
		}
	}

	t.Run("rejected values are counted", func(t *testing.T) {
		counts, err := scrapeCoreDNSCounter(ctx, patched.metricsPort, corednsRejectedMetric)
		if err != nil {
			t.Fatal(err)
		}
		for _, reason := range []string{"empty", "invalid", "out_of_range"} {
			if counts[reason] < 1 {
				t.Errorf("%s{reason=%q} = %v, want at least 1 (all: %v)", corednsRejectedMetric, reason, counts[reason], counts)
			}
		}
		counts, err = scrapeCoreDNSCounter(ctx, upstream.metricsPort, corednsRejectedMetric)
		if err != nil {
			t.Fatal(err)
		}
		if len(counts) > 0 {
			t.Errorf("upstream CoreDNS exports %s: %v", corednsRejectedMetric, counts)
		}
	})

	t.Run("changes of the annotation are served", func(t *testing.T) {
		setAnnotation := func(value *string) {
			t.Helper()
			patch := `{"metadata":{"annotations":{"` + corednsAnnotationKey + `":null}}}`
			if value != nil {
				patch = `{"metadata":{"annotations":{"` + corednsAnnotationKey + `":` + strconv.Quote(*value) + `}}}`
			}
			if _, err := cs.CoreV1().Services(ns).Patch(ctx, "v4", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		waitForAnswer := func(name string, qtype uint16, want dnsWant) {
			t.Helper()
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := landscape.WaitForAnswer(ctx, patched.dns.Addr, name, qtype, want.check); err != nil {
				t.Fatal(err)
			}
		}

		updated := time.Now()
		setAnnotation(ptr.To("10.200.0.20"))
		waitForAnswer(fqdn("v4"), dns.TypeA, wantAddrs("10.200.0.20"))
		t.Logf("update served after %s", time.Since(updated).Round(time.Millisecond))
		waitForAnswer(rev("10.200.0.20"), dns.TypePTR, wantTarget(fqdn("v4")))
		waitForAnswer(rev("10.200.0.10"), dns.TypePTR, wantNXDomain())

		removed := time.Now()
		setAnnotation(nil)
		waitForAnswer(fqdn("v4"), dns.TypeA, wantAddrs(v4))
		t.Logf("removal served after %s", time.Since(removed).Round(time.Millisecond))
		waitForAnswer(rev(v4), dns.TypePTR, wantTarget(fqdn("v4")))
		waitForAnswer(rev("10.200.0.20"), dns.TypePTR, wantNXDomain())

		m, err := landscape.Query(ctx, patched.dns.Addr, "_http._tcp."+fqdn("v4"), dns.TypeSRV, "tcp")
		if err != nil {
			t.Fatal(err)
		}
		if err := wantSRV(fqdn("v4"), 100, v4).check(m); err != nil {
			t.Error(err)
		}
	})
}

// scrapeCoreDNSCounter reads the values of a counter with one label, by label value, from a
// prometheus plugin on 127.0.0.1:port.
func scrapeCoreDNSCounter(ctx context.Context, port int, name string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping metrics: %s", resp.Status)
	}
	counts := map[string]float64{}
	s := bufio.NewScanner(resp.Body)
	for s.Scan() {
		// name{label="value"} 1
		line := s.Text()
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			return nil, fmt.Errorf("unexpected metric line %q", line)
		}
		_, label, _ := strings.Cut(labels, "=")
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("unexpected metric line %q: %w", line, err)
		}
		counts[strings.Trim(label, `"`)] = v
	}
	return counts, s.Err()
}
