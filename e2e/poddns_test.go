package e2e

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/tenantdns"
)

// TestPodDNSPolicy applies the Pod DNS policy to an API server of the pinned release,
// started as a platform must start it (MutatingAdmissionPolicy served), and creates
// Pods: those of an MCP namespace get their tenant DNS and the search path of their
// tenant namespace; Pods with their own dnsConfig and Pods of other namespaces keep
// theirs; a Pod of an MCP namespace without parameters is refused, saying why.
func TestPodDNSPolicy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	c, err := l.StartCluster(ctx, "workload", landscape.ClusterOptions{MutatingAdmissionPolicy: true, NoControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	cs := mustClientset(t, c)
	policy, binding := tenantdns.PodDNSPolicy(map[string]string{"app.kubernetes.io/managed-by": "vcdns"}, naming.LabelMCP)
	if _, err := cs.AdmissionregistrationV1beta1().MutatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AdmissionregistrationV1beta1().MutatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const mcpNS, bareNS, otherNS = "mcp-1", "mcp-2", "apps"
	for ns, labels := range map[string]map[string]string{mcpNS: {naming.LabelMCP: "team-a.mcp1"}, bareNS: {naming.LabelMCP: "team-a.mcp2"}, otherNS: nil} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// No controller manager runs here to make it.
		if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.CoreV1().ConfigMaps(mcpNS).Create(ctx, tenantdns.PodDNSParamsFor(mcpNS, nil, []string{"10.97.0.53", "fd00:10:97::35"}, "cluster.local"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	pod := func(ns, name string, labels map[string]string, own *corev1.PodDNSConfig) *corev1.Pod {
		p := landscape.ProbePod(ns, name, "lookup", "x")
		p.Labels = labels
		if own != nil {
			p.Spec.DNSPolicy, p.Spec.DNSConfig = corev1.DNSNone, own
		}
		return p
	}
	// The policy is effective once the API server has loaded it; a Pod created before
	// that would keep the cluster's DNS, so the first check polls on a dry run.
	var last error
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := cs.CoreV1().Pods(mcpNS).Create(ctx, pod(mcpNS, "probe", map[string]string{tenantdns.LabelPodTenantNamespace: "shop"}, nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		switch {
		case ctx.Err() != nil:
			return false, nil
		case err == nil && got.Spec.DNSConfig == nil:
			last = errors.New("no dnsConfig")
		default:
			last = err
		}
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("a Pod of the MCP namespace never got a dnsConfig: %v (last: %v)", err, last)
	}

	t.Run("a Pod of an MCP namespace gets its tenant DNS and its tenant namespace's search path", func(t *testing.T) {
		p, err := cs.CoreV1().Pods(mcpNS).Create(ctx, pod(mcpNS, "shop", map[string]string{tenantdns.LabelPodTenantNamespace: "shop"}, nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		checkDNSConfig(t, p, []string{"10.97.0.53", "fd00:10:97::35"}, []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"})
		p, err = cs.CoreV1().Pods(mcpNS).Create(ctx, pod(mcpNS, "unlabelled", nil, nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		checkDNSConfig(t, p, []string{"10.97.0.53", "fd00:10:97::35"}, []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"})
	})

	t.Run("a Pod with its own dnsConfig keeps it", func(t *testing.T) {
		own := &corev1.PodDNSConfig{Nameservers: []string{"192.0.2.53"}, Searches: []string{"example.test"}}
		p, err := cs.CoreV1().Pods(mcpNS).Create(ctx, pod(mcpNS, "own", nil, own), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		checkDNSConfig(t, p, own.Nameservers, own.Searches)
	})

	t.Run("a Pod of another namespace is left alone", func(t *testing.T) {
		p, err := cs.CoreV1().Pods(otherNS).Create(ctx, pod(otherNS, "app", map[string]string{tenantdns.LabelPodTenantNamespace: "shop"}, nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Spec.DNSPolicy != corev1.DNSClusterFirst || p.Spec.DNSConfig != nil {
			t.Fatalf("Pod outside MCP namespaces: dnsPolicy %s, dnsConfig %+v", p.Spec.DNSPolicy, p.Spec.DNSConfig)
		}
	})

	t.Run("a Pod of an MCP namespace without parameters is refused", func(t *testing.T) {
		_, err := cs.CoreV1().Pods(bareNS).Create(ctx, pod(bareNS, "app", nil, nil), metav1.CreateOptions{})
		if err == nil || !strings.Contains(err.Error(), tenantdns.PodDNSPolicyName) || !strings.Contains(err.Error(), "no params found") {
			t.Fatalf("want a refusal by %s for want of parameters, got %v", tenantdns.PodDNSPolicyName, err)
		}
	})
}

func checkDNSConfig(t *testing.T, p *corev1.Pod, nameservers, searches []string) {
	t.Helper()
	if p.Spec.DNSPolicy != corev1.DNSNone || p.Spec.DNSConfig == nil {
		t.Fatalf("Pod %s/%s: dnsPolicy %s, dnsConfig %+v", p.Namespace, p.Name, p.Spec.DNSPolicy, p.Spec.DNSConfig)
	}
	c := p.Spec.DNSConfig
	if !slices.Equal(c.Nameservers, nameservers) || !slices.Equal(c.Searches, searches) {
		t.Fatalf("Pod %s/%s: nameservers %v searches %v, want %v %v", p.Namespace, p.Name, c.Nameservers, c.Searches, nameservers, searches)
	}
	if len(nameservers) > 0 && nameservers[0] == "192.0.2.53" {
		return // the Pod's own
	}
	if len(c.Options) != 1 || c.Options[0].Name != "ndots" || c.Options[0].Value == nil || *c.Options[0].Value != "5" {
		t.Fatalf("Pod %s/%s: options %+v, want ndots:5", p.Namespace, p.Name, c.Options)
	}
}
