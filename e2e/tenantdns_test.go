package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/tenantdns"
)

// checkTenantDNSOnWorkload checks, with the syncer running, that the tenant DNS of m
// is in its MCP namespace on its workload cluster w and nothing of it on the
// platform, that the Pod DNS policy is installed on w with the parameters of m's
// namespace (the tenant DNS Service's ClusterIPs), and that a Pod created in that
// namespace gets them while a Pod of another namespace is left alone. The clusters
// have no nodes: the Pods are dry runs.
func checkTenantDNSOnWorkload(ctx context.Context, t *testing.T, env *vcdnsenv.Env, m vcdnsenv.MCP, w *landscape.Cluster) {
	t.Helper()
	ns := vcdnsenv.MCPNamespace(m)
	workload := mustClient(t, w)
	cs := mustClientset(t, w)

	waitFor(ctx, t, "the Cluster's PodDNSPolicy condition", func(ctx context.Context) error {
		var c vcdnsv1alpha1.Cluster
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: vcdnsenv.ClusterNamespace, Name: w.Name}, &c); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(c.Status.Conditions, vcdnsv1alpha1.ConditionPodDNSPolicy) {
			return fmt.Errorf("conditions %+v", c.Status.Conditions)
		}
		return nil
	})
	if _, err := cs.AdmissionregistrationV1beta1().MutatingAdmissionPolicies().Get(ctx, tenantdns.PodDNSPolicyName, metav1.GetOptions{}); err != nil {
		t.Fatalf("the Pod DNS policy on %s: %v", w.Name, err)
	}
	if _, err := cs.AdmissionregistrationV1beta1().MutatingAdmissionPolicyBindings().Get(ctx, tenantdns.PodDNSPolicyName, metav1.GetOptions{}); err != nil {
		t.Fatalf("the Pod DNS policy binding on %s: %v", w.Name, err)
	}

	// The tenant DNS lives on the workload cluster now, no longer on the platform.
	for _, obj := range []client.Object{&corev1.ConfigMap{}, &appsv1.Deployment{}, &corev1.Service{}} {
		key := types.NamespacedName{Namespace: ns, Name: tenantdns.Name}
		if err := workload.Get(ctx, key, obj); err != nil {
			t.Fatalf("the tenant DNS %T on %s: %v", obj, w.Name, err)
		}
		if err := env.Client.Get(ctx, key, obj); !apierrors.IsNotFound(err) {
			t.Fatalf("the tenant DNS %T on the platform: want NotFound, got %v", obj, err)
		}
	}
	if err := workload.Get(ctx, types.NamespacedName{Namespace: ns, Name: tenantdns.KubeconfigSecret}, &corev1.Secret{}); err != nil {
		t.Fatalf("the tenant DNS kubeconfig Secret on %s: %v", w.Name, err)
	}

	var svc corev1.Service
	if err := workload.Get(ctx, types.NamespacedName{Namespace: ns, Name: tenantdns.Name}, &svc); err != nil {
		t.Fatal(err)
	}
	nameservers := svc.Spec.ClusterIPs
	if len(nameservers) == 0 {
		t.Fatalf("the tenant DNS Service has no ClusterIPs")
	}
	var params corev1.ConfigMap
	if err := workload.Get(ctx, types.NamespacedName{Namespace: ns, Name: tenantdns.PodDNSParams}, &params); err != nil {
		t.Fatalf("the Pod DNS parameters of %s: %v", ns, err)
	}
	if got, want := params.Data[tenantdns.ParamNameservers], strings.Join(nameservers, ","); got != want {
		t.Fatalf("Pod DNS parameters: nameservers %q, want the tenant DNS Service's ClusterIPs %q", got, want)
	}

	pod := func(ns string) *corev1.Pod {
		p := landscape.ProbePod(ns, "probe", "lookup", "x")
		p.Labels = map[string]string{tenantdns.LabelPodTenantNamespace: "shop"}
		return p
	}
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	// The API server loads the policy a moment after it is created, and the MCP
	// namespace's default ServiceAccount comes from the controller manager: poll.
	var got *corev1.Pod
	waitFor(ctx, t, "a Pod of the MCP namespace with a dnsConfig", func(ctx context.Context) error {
		p, err := cs.CoreV1().Pods(ns).Create(ctx, pod(ns), dryRun)
		if err != nil {
			return err
		}
		if p.Spec.DNSConfig == nil {
			return errors.New("no dnsConfig")
		}
		got = p
		return nil
	})
	checkDNSConfig(t, got, nameservers, []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"})

	other, err := cs.CoreV1().Pods("default").Create(ctx, pod("default"), dryRun)
	if err != nil {
		t.Fatal(err)
	}
	if other.Spec.DNSPolicy != corev1.DNSClusterFirst || other.Spec.DNSConfig != nil {
		t.Fatalf("Pod outside MCP namespaces: dnsPolicy %s, dnsConfig %+v", other.Spec.DNSPolicy, other.Spec.DNSConfig)
	}
}
