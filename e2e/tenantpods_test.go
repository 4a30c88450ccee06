package e2e

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
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
