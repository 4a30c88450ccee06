package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/dns/corefile"
	"github.com/vcdns/vcdns/syncer/naming"
)

var (
	mcp1 = vcdnsenv.MCP{Namespace: "team-a", Name: "mcp1", Workload: "workload-1"}
	mcp2 = vcdnsenv.MCP{Namespace: "team-b", Name: "mcp2", Workload: "workload-2"}
)

// flow is one row of the table: a DNS query and the answer it must get.
type flow struct {
	Name     string
	Query    string
	Type     uint16
	Server   string // description
	Addr     string
	Expected func(context.Context) (string, error) // "NXDOMAIN" or an address
	Answer   string
	Want     string
	Pass     bool
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("vcdns-demo", flag.ContinueOnError)
	keep := fs.Bool("keep", false, "Leave the landscape running until interrupted, and print how to use it")
	dir := fs.String("dir", "_output/demo", "Folder for the landscape's data and logs (emptied first)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := landscape.RepoRoot()
	if err != nil {
		return err
	}
	say := func(format string, args ...any) { fmt.Fprintf(out, "==> "+format+"\n", args...) }
	abs := filepath.Join(root, *dir)
	if err := os.RemoveAll(abs); err != nil {
		return err
	}
	l, err := landscape.New(landscape.Options{Dir: abs, Logf: say})
	if err != nil {
		return err
	}
	defer l.Stop()
	// The simulated data planes run in this process; their logs go to a file.
	logFile, err := os.Create(filepath.Join(abs, "dataplane.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	ctrllog.SetLogger(zap.New(zap.WriteTo(logFile)))
	start := time.Now()

	say("Starting the platform cluster, two workload clusters, two tenant control planes and the central DNS")
	env, err := vcdnsenv.Setup(ctx, l, vcdnsenv.Spec{
		Workloads:    []vcdnsenv.Workload{{Name: "workload-1", DualStack: true}, {Name: "workload-2", DualStack: true}},
		MCPs:         []vcdnsenv.MCP{mcp1, mcp2},
		Unregistered: true,
		// The samples use Envoy Gateway's class, as the kind demo does.
		GatewayClass: "eg",
	})
	if err != nil {
		return err
	}
	if err := registerFromSamples(ctx, env, root, say); err != nil {
		return err
	}
	say("Creating the LoadBalancer Service ingress/gateway on each workload cluster (the GatewayDNS sample points at it)")
	for _, w := range env.Workloads {
		if err := createGatewayService(ctx, w); err != nil {
			return err
		}
	}
	say("Applying config/samples/tenant to the tenant control plane of team-a/mcp1")
	tenantObjs, err := vcdnsenv.Render(filepath.Join(root, "config", "samples", "tenant"))
	if err != nil {
		return err
	}
	if err := vcdnsenv.Apply(ctx, env.Tenants["team-a/mcp1"].Config, tenantObjs); err != nil {
		return err
	}

	say("Starting the syncer (log: %s)", filepath.Join(abs, "syncer", "syncer.log"))
	if _, err := env.StartSyncer(ctx); err != nil {
		return err
	}
	for _, m := range []vcdnsenv.MCP{mcp1, mcp2} {
		say("Waiting for ManagedControlPlane %s/%s to be Ready", m.Namespace, m.Name)
		if err := env.WaitMCPCondition(ctx, m, vcdnsv1alpha1.ConditionReady, metav1.ConditionTrue, 3*time.Minute); err != nil {
			return err
		}
	}
	tenantDNS := map[string]*landscape.CoreDNS{}
	for _, m := range []vcdnsenv.MCP{mcp1, mcp2} {
		say("Starting the tenant CoreDNS of %s/%s from the Corefile the syncer rendered", m.Namespace, m.Name)
		d, err := env.StartTenantDNS(ctx, m)
		if err != nil {
			return err
		}
		tenantDNS[m.Name] = d
	}
	clusterDNS := map[string]*landscape.CoreDNS{}
	for _, name := range []string{"workload-1", "workload-2"} {
		w := env.Workloads[name]
		say("Waiting for the syncer to patch the Corefile of %s, then starting its CoreDNS from it", name)
		if err := poll(ctx, 2*time.Minute, func(ctx context.Context) error {
			cf, err := env.ClusterCorefileNow(ctx, w)
			if err != nil {
				return err
			}
			if !strings.Contains(cf, corefile.BeginMarker) {
				return errors.New("no vcdns block yet")
			}
			return nil
		}); err != nil {
			return err
		}
		d, err := env.StartClusterDNS(ctx, w)
		if err != nil {
			return err
		}
		clusterDNS[name] = d
	}

	flows := demoFlows(env, tenantDNS, clusterDNS)
	say("Checking %d flows (each query is retried for up to 90 s while the landscape converges)", len(flows))
	failed := 0
	for i := range flows {
		check(ctx, &flows[i])
		if !flows[i].Pass {
			failed++
		}
	}
	printTable(out, flows)
	if ip, err := tenantClusterIP(ctx, env); err == nil {
		fmt.Fprintf(out, "The tenant's own ClusterIP of my-nginx is %s: it routes nowhere, which is why the tenant DNS answers the workload IP.\n", ip)
	}
	say("Done in %s", time.Since(start).Round(time.Second))
	if *keep {
		printKeep(out, env, tenantDNS, clusterDNS, root)
		<-ctx.Done()
		say("Stopping everything")
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d flows failed; logs are in %s", failed, len(flows), abs)
	}
	return nil
}

// registerFromSamples applies config/samples to the platform with the real kubeconfigs
// of the landscape in place of the placeholders, and registers a second MCP like the
// sample one.
func registerFromSamples(ctx context.Context, env *vcdnsenv.Env, root string, say func(string, ...any)) error {
	say("Applying config/samples to the platform cluster, with the landscape's kubeconfigs in the Secrets")
	objs, err := vcdnsenv.Render(filepath.Join(root, "config", "samples"))
	if err != nil {
		return err
	}
	kubeconfigs := map[string][]byte{}
	for name, c := range env.Workloads {
		if kubeconfigs[name+"-kubeconfig"], err = c.Kubeconfig(vcdnsenv.SyncerUser); err != nil {
			return err
		}
	}
	if kubeconfigs["mcp1-kubeconfig"], err = env.Tenants["team-a/mcp1"].Kubeconfig(vcdnsenv.SyncerUser); err != nil {
		return err
	}
	var platform []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Secret" {
			kc, ok := kubeconfigs[o.GetName()]
			if !ok {
				return fmt.Errorf("sample Secret %s/%s has no landscape kubeconfig", o.GetNamespace(), o.GetName())
			}
			if err := unstructured.SetNestedField(o.Object, string(kc), "stringData", "kubeconfig"); err != nil {
				return err
			}
		}
		platform = append(platform, o)
	}
	// Namespaces first, then CRD-backed objects.
	for _, first := range []bool{true, false} {
		var batch []*unstructured.Unstructured
		for _, o := range platform {
			if (o.GetKind() == "Namespace") == first {
				batch = append(batch, o)
			}
		}
		if err := vcdnsenv.Apply(ctx, env.Platform.Config, batch); err != nil {
			return err
		}
	}
	say("Registering a second tenant, team-b/mcp2 on workload-2, like the sample MCP")
	return env.RegisterMCP(ctx, mcp2, env.Tenants["team-b/mcp2"])
}

func createGatewayService(ctx context.Context, w *landscape.Cluster) error {
	c, err := client.New(w.Config, client.Options{Scheme: vcdnsenv.Scheme})
	if err != nil {
		return err
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ingress"}}); err != nil {
		return err
	}
	return c.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ingress", Name: "gateway"},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": "gateway"},
			Ports:    []corev1.ServicePort{{Name: "https", Port: 443}},
		},
	})
}

func demoFlows(env *vcdnsenv.Env, tenantDNS, clusterDNS map[string]*landscape.CoreDNS) []flow {
	w1 := mustClient(env.Workloads["workload-1"])
	w2 := mustClient(env.Workloads["workload-2"])
	tenant1 := mustClient(env.Tenants["team-a/mcp1"])
	copyIP := func(family int) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			var svc corev1.Service
			key := types.NamespacedName{Namespace: vcdnsenv.MCPNamespace(mcp1), Name: naming.CopyName("default", "my-nginx")}
			if err := w1.Get(ctx, key, &svc); err != nil {
				return "", err
			}
			if len(svc.Spec.ClusterIPs) <= family {
				return "", fmt.Errorf("copy has cluster IPs %v", svc.Spec.ClusterIPs)
			}
			return svc.Spec.ClusterIPs[family], nil
		}
	}
	nx := func(context.Context) (string, error) { return "NXDOMAIN", nil }
	gatewayIP := func(ctx context.Context) (string, error) {
		var gw gatewayv1.Gateway
		if err := tenant1.Get(ctx, types.NamespacedName{Namespace: "default", Name: "web"}, &gw); err != nil {
			return "", err
		}
		if len(gw.Status.Addresses) == 0 {
			return "", errors.New("tenant Gateway has no address yet")
		}
		return gw.Status.Addresses[0].Value, nil
	}
	ingressIP := func(ctx context.Context) (string, error) {
		var ing networkingv1.Ingress
		if err := tenant1.Get(ctx, types.NamespacedName{Namespace: "default", Name: "shop"}, &ing); err != nil {
			return "", err
		}
		if len(ing.Status.LoadBalancer.Ingress) == 0 {
			return "", errors.New("tenant Ingress has no address yet")
		}
		return ing.Status.LoadBalancer.Ingress[0].IP, nil
	}
	lbIP := func(ctx context.Context) (string, error) {
		var svc corev1.Service
		if err := w2.Get(ctx, types.NamespacedName{Namespace: "ingress", Name: "gateway"}, &svc); err != nil {
			return "", err
		}
		if len(svc.Status.LoadBalancer.Ingress) == 0 {
			return "", errors.New("no load-balancer address yet")
		}
		return svc.Status.LoadBalancer.Ingress[0].IP, nil
	}
	t1, t2 := tenantDNS["mcp1"], tenantDNS["mcp2"]
	c1, c2 := clusterDNS["workload-1"], clusterDNS["workload-2"]
	return []flow{
		{Name: "tenant Service -> workload IP", Query: "my-nginx.default.svc.cluster.local", Type: dns.TypeA, Server: "tenant DNS team-a/mcp1", Addr: t1.Addr, Expected: copyIP(0)},
		{Name: "dual-stack", Query: "my-nginx.default.svc.cluster.local", Type: dns.TypeAAAA, Server: "tenant DNS team-a/mcp1", Addr: t1.Addr, Expected: copyIP(1)},
		{Name: "tenant isolation", Query: "my-nginx.default.svc.cluster.local", Type: dns.TypeA, Server: "tenant DNS team-b/mcp2", Addr: t2.Addr, Expected: nx},
		{Name: "Gateway, cross-cluster", Query: "app.workload-1.openmcp.cluster", Type: dns.TypeA, Server: "CoreDNS of workload-2", Addr: c2.Addr, Expected: gatewayIP},
		{Name: "Ingress, cross-cluster", Query: "shop.workload-1.openmcp.cluster", Type: dns.TypeA, Server: "CoreDNS of workload-2", Addr: c2.Addr, Expected: ingressIP},
		{Name: "cross-cluster, from a tenant", Query: "shop.workload-1.openmcp.cluster", Type: dns.TypeA, Server: "tenant DNS team-b/mcp2", Addr: t2.Addr, Expected: ingressIP},
		{Name: "GatewayDNS, any label", Query: "app.gateway.workload-2.team-a.clusters.openmcp.cluster", Type: dns.TypeA, Server: "CoreDNS of workload-1", Addr: c1.Addr, Expected: lbIP},
	}
}

// check polls the flow's query until its answer is the expected one, for 90 s at most.
func check(ctx context.Context, f *flow) {
	_ = poll(ctx, 90*time.Second, func(ctx context.Context) error {
		want, err := f.Expected(ctx)
		if err != nil {
			f.Want = "(" + err.Error() + ")"
			return err
		}
		f.Want = want
		resp, err := landscape.Query(ctx, f.Addr, f.Query+".", f.Type, "udp")
		if err != nil {
			f.Answer = err.Error()
			return err
		}
		f.Answer = answerOf(resp)
		f.Pass = f.Answer == f.Want
		if !f.Pass {
			return errors.New("not yet")
		}
		return nil
	})
}

func answerOf(m *dns.Msg) string {
	if m.Rcode != dns.RcodeSuccess {
		return dns.RcodeToString[m.Rcode]
	}
	vals := landscape.RRValues(m.Answer)
	if len(vals) == 0 {
		return "NODATA"
	}
	return strings.Join(vals, ",")
}

func printTable(out io.Writer, flows []flow) {
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FLOW\tQUERY\tSERVER\tANSWER\tEXPECTED\tRESULT")
	for _, f := range flows {
		result := "PASS"
		if !f.Pass {
			result = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s (%s)\t%s\t%s\t%s\n", f.Name, dns.TypeToString[f.Type], f.Query, f.Server, f.Addr, f.Answer, f.Want, result)
	}
	tw.Flush()
	fmt.Fprintln(out)
}

func printKeep(out io.Writer, env *vcdnsenv.Env, tenantDNS, clusterDNS map[string]*landscape.CoreDNS, root string) {
	kubectl := filepath.Join(root, "bin", "kubectl")
	fmt.Fprintln(out, "The landscape keeps running. Kubeconfigs (admin):")
	all := map[string]*landscape.Cluster{"platform": env.Platform}
	for n, c := range env.Workloads {
		all[n] = c
	}
	for n, c := range env.Tenants {
		all["tenant "+n] = c
	}
	for _, n := range []string{"platform", "workload-1", "workload-2", "tenant team-a/mcp1", "tenant team-b/mcp2"} {
		fmt.Fprintf(out, "  %-20s %s\n", n, all[n].KubeconfigPath)
	}
	fmt.Fprintln(out, "DNS servers (UDP and TCP):")
	fmt.Fprintf(out, "  %-20s %s\n", "central DNS", env.Central.DNS.Addr)
	for _, n := range []string{"mcp1", "mcp2"} {
		fmt.Fprintf(out, "  %-20s %s\n", "tenant DNS "+n, tenantDNS[n].Addr)
	}
	for _, n := range []string{"workload-1", "workload-2"} {
		fmt.Fprintf(out, "  %-20s %s\n", "CoreDNS "+n, clusterDNS[n].Addr)
	}
	host, port, _ := strings.Cut(tenantDNS["mcp1"].Addr, ":")
	host2, port2, _ := strings.Cut(clusterDNS["workload-2"].Addr, ":")
	fmt.Fprintln(out, "Try:")
	fmt.Fprintf(out, "  %s --kubeconfig %s get managedcontrolplanes,clusters,gatewaydnses -A\n", kubectl, env.Platform.KubeconfigPath)
	fmt.Fprintf(out, "  %s --kubeconfig %s get svc my-nginx -o jsonpath='{.metadata.annotations}'\n", kubectl, env.Tenants["team-a/mcp1"].KubeconfigPath)
	fmt.Fprintf(out, "  %s --kubeconfig %s create service clusterip hello --tcp=80\n", kubectl, env.Tenants["team-a/mcp1"].KubeconfigPath)
	fmt.Fprintf(out, "  dig @%s -p %s hello.default.svc.cluster.local +short\n", host, port)
	fmt.Fprintf(out, "  dig @%s -p %s app.workload-1.openmcp.cluster +short\n", host2, port2)
	fmt.Fprintln(out, "  (dig: apt-get install bind9-dnsutils; kubectl: built by make demo into bin/)")
	fmt.Fprintf(out, "Stop: press Ctrl-C here, or kill %d. Logs: %s\n", os.Getpid(), env.L.Dir())
}

func tenantClusterIP(ctx context.Context, env *vcdnsenv.Env) (string, error) {
	var svc corev1.Service
	if err := mustClient(env.Tenants["team-a/mcp1"]).Get(ctx, types.NamespacedName{Namespace: "default", Name: "my-nginx"}, &svc); err != nil {
		return "", err
	}
	return strings.Join(svc.Spec.ClusterIPs, ","), nil
}

func mustClient(c *landscape.Cluster) client.Client {
	cl, err := client.New(c.Config, client.Options{Scheme: vcdnsenv.Scheme})
	if err != nil {
		panic(err)
	}
	return cl
}

func poll(ctx context.Context, timeout time.Duration, check func(context.Context) error) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		last = check(ctx)
		return last == nil, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w: %w", err, last)
	}
	return err
}
