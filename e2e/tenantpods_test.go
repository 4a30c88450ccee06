package e2e

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	"github.com/vcdns/vcdns/syncer/tenantdns"
)

// TestTenantPods proves vcdns's promise on a workload cluster with a node: a Pod in
// the MCP namespace, created by nobody in particular, resolves the tenant's Service
// through the tenant DNS the syncer runs there (given to it by the Pod DNS policy),
// gets the address that routes, and reaches the backend with it.
func TestTenantPods(t *testing.T) {
	landscape.RequireNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	mcp := vcdnsenv.MCP{Namespace: "team-a", Name: "mcp1", Workload: "workload-1"}
	env, err := vcdnsenv.Setup(ctx, l, vcdnsenv.Spec{
		Workloads: []vcdnsenv.Workload{{Name: "workload-1", Node: true}},
		MCPs:      []vcdnsenv.MCP{mcp},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.StartSyncer(ctx); err != nil {
		t.Fatal(err)
	}
	workload := env.Workloads["workload-1"]
	ns := vcdnsenv.MCPNamespace(mcp)
	tenant := mustClient(t, env.Tenants["team-a/mcp1"])
	wl := mustClientset(t, workload)

	// The tenant's Service; its backend runs in the MCP namespace of the workload
	// cluster, where whoever runs the tenant's workloads puts it.
	svc := createService(ctx, t, tenant, "default", "my-nginx", corev1.IPFamilyPolicySingleStack)
	svc.Spec.Ports[0].TargetPort = intstr.FromInt32(8080)
	if err := tenant.Update(ctx, svc); err != nil {
		t.Fatal(err)
	}
	annotation := waitAnnotation(ctx, t, tenant, "default", "my-nginx")
	if err := env.WaitMCPCondition(ctx, mcp, "Ready", metav1.ConditionTrue, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := landscape.WaitDeploymentReady(ctx, wl, ns, tenantdns.Name, 2*time.Minute); err != nil {
		t.Fatalf("the tenant DNS on workload-1: %v", err)
	}
	backend := landscape.ServerDeployment(ns, "my-nginx", 1)
	backend.Labels[tenantdns.LabelPodTenantNamespace] = "default"
	backend.Spec.Template.Labels[tenantdns.LabelPodTenantNamespace] = "default"
	if _, err := wl.AppsV1().Deployments(ns).Create(ctx, backend, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := landscape.WaitDeploymentReady(ctx, wl, ns, "my-nginx", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	backends := podIPs(ctx, t, wl, ns, "app=my-nginx")

	t.Run("a Pod of the MCP namespace fetches the tenant Service by its tenant name", func(t *testing.T) {
		out, err := workload.RunPod(ctx, landscape.ProbePod(ns, "get-my-nginx", "get", "http://my-nginx.default.svc.cluster.local/"), 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		checkServedBy(t, out, []string{net.JoinHostPort(strings.Split(annotation, ",")[0], "80")}, "my-nginx.default.svc.cluster.local", "/", backends)
	})

	t.Run("the short name resolves in the Pod's tenant namespace", func(t *testing.T) {
		p := landscape.ProbePod(ns, "lookup-short", "lookup", "my-nginx")
		p.Labels[tenantdns.LabelPodTenantNamespace] = "default"
		out, err := workload.RunPod(ctx, p, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if want := "A " + strings.Split(annotation, ",")[0]; out != want {
			t.Fatalf("lookup my-nginx: got %q, want %q", out, want)
		}
	})

	t.Run("a Pod started before the tenant Service exists resolves it once it does", func(t *testing.T) {
		type result struct {
			out string
			err error
		}
		done := make(chan result, 1)
		go func() {
			out, err := workload.RunPod(ctx, landscape.ProbePod(ns, "lookup-later", "lookup", "-timeout", "90s", "later.default.svc.cluster.local"), 2*time.Minute)
			done <- result{out, err}
		}()
		// The Pod asks (and gets NXDOMAIN) until the Service is there and copied.
		waitPodRunning(ctx, t, wl, ns, "lookup-later")
		createService(ctx, t, tenant, "default", "later", corev1.IPFamilyPolicySingleStack)
		ip := strings.Split(waitAnnotation(ctx, t, tenant, "default", "later"), ",")[0]
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		if want := "A " + ip; r.out != want {
			t.Fatalf("lookup later: got %q, want %q", r.out, want)
		}
	})

	t.Run("a headless Service answers exactly its Pods' IPs as they scale 2, 3, 1", func(t *testing.T) {
		none := corev1.IPFamilyPolicySingleStack
		web := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
			Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, IPFamilyPolicy: &none, Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}},
		}
		if err := tenant.Create(ctx, web); err != nil {
			t.Fatal(err)
		}
		d := landscape.ServerDeployment(ns, "web", 2)
		if _, err := wl.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for i, replicas := range []int32{2, 3, 1} {
			if i > 0 {
				scale, err := wl.AppsV1().Deployments(ns).GetScale(ctx, "web", metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				scale.Spec.Replicas = replicas
				if _, err := wl.AppsV1().Deployments(ns).UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := landscape.WaitDeploymentReady(ctx, wl, ns, "web", 2*time.Minute); err != nil {
				t.Fatal(err)
			}
			ips := waitPodIPs(ctx, t, wl, ns, "app=web", int(replicas))
			want := "A " + strings.Join(ips, " ")
			out, err := workload.RunPod(ctx, landscape.ProbePod(ns, fmt.Sprintf("lookup-web-%d", replicas), "lookup", "-timeout", "60s", "-want", want, "web.default.svc.cluster.local"), 2*time.Minute)
			if err != nil {
				t.Fatalf("%d replicas: %v", replicas, err)
			}
			if out != want {
				t.Fatalf("%d replicas: got %q, want %q", replicas, out, want)
			}
		}
	})

	t.Run("a Pod of another namespace uses the cluster's DNS and does not see the tenant's name", func(t *testing.T) {
		cl, err := client.New(workload.Config, client.Options{Scheme: scheme})
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}); err != nil {
			t.Fatal(err)
		}
		_, err = workload.RunPod(ctx, landscape.ProbePod("apps", "lookup", "lookup", "-timeout", "3s", "my-nginx.default.svc.cluster.local"), time.Minute)
		if err == nil || !strings.Contains(err.Error(), "no such host") {
			t.Fatalf("want no such host from the cluster's DNS, got %v", err)
		}
	})
}

// waitPodRunning polls until the Pod runs.
func waitPodRunning(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning, nil //nolint:nilerr // polled until the deadline
	})
	if err != nil {
		t.Fatalf("Pod %s/%s does not run: %v", ns, name, err)
	}
}

// waitPodIPs polls until exactly n running Pods match selector, not being deleted, and
// returns their IPs sorted.
func waitPodIPs(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, selector string, n int) []string {
	t.Helper()
	var ips []string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		ips = ips[:0]
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				return false, nil
			}
			if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" {
				ips = append(ips, p.Status.PodIP)
			}
		}
		return len(ips) == n && len(pods.Items) == n, nil
	})
	if err != nil {
		t.Fatalf("want %d running Pods of %s in %s, have %v: %v", n, selector, ns, ips, err)
	}
	slices.Sort(ips)
	return ips
}
