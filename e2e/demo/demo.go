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
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/tenantdns"
)

var (
	mcp1 = vcdnsenv.MCP{Namespace: "team-a", Name: "mcp1", Workload: "workload-1"}
	mcp2 = vcdnsenv.MCP{Namespace: "team-b", Name: "mcp2", Workload: "workload-2"}
)

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("vcdns-demo", flag.ContinueOnError)
	keep := fs.Bool("keep", false, "Leave the landscape running until interrupted, write landscape.env there and print how to use it")
	dir := fs.String("dir", "_output/demo", "Folder for the landscape's data and logs (emptied first)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := landscape.RepoRoot()
	if err != nil {
		return err
	}
	say := func(format string, args ...any) { fmt.Fprintf(out, "==> "+format+"\n", args...) }
	if err := landscape.CanRunNodes(); err != nil {
		return fmt.Errorf("the demo runs its workload clusters on real nodes, which cannot run here: %w", err)
	}
	abs := filepath.Join(root, *dir)
	if err := os.RemoveAll(abs); err != nil {
		return err
	}
	l, err := landscape.New(landscape.Options{Dir: abs, Logf: say})
	if err != nil {
		return err
	}
	defer func() {
		say("Stopping the landscape")
		if err := l.Stop(); err != nil {
			say("Teardown left something behind: %v", err)
		}
	}()
	// The simulated data planes run in this process; their logs go to a file.
	logFile, err := os.Create(filepath.Join(abs, "dataplane.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	ctrllog.SetLogger(zap.New(zap.WriteTo(logFile)))
	start := time.Now()

	say("Starting the platform cluster and two workload clusters, with a node each, and two tenant control planes")
	env, err := vcdnsenv.Setup(ctx, l, vcdnsenv.Spec{
		PlatformNode: true,
		Workloads:    []vcdnsenv.Workload{{Name: "workload-1", DualStack: true, Node: true}, {Name: "workload-2", DualStack: true, Node: true}},
		MCPs:         []vcdnsenv.MCP{mcp1, mcp2},
		Unregistered: true,
		// The samples use Envoy Gateway's class, as the kind demo does.
		GatewayClass: "eg",
	})
	if err != nil {
		return err
	}
	overlay := filepath.Join(abs, "overlay")
	say("Deploying vcdns onto the platform's node as a user does: kubectl apply --server-side -k %s (config/default and an overlay: the images of make images, local volumes for etcd, the central DNS's address)", overlay)
	deployed, err := env.Deploy(ctx, overlay)
	if err != nil {
		return err
	}
	// Whatever happens next, the logs of vcdns's Pods are kept beside the landscape's.
	defer func() {
		if err := saveLogs(context.Background(), env, filepath.Join(abs, "logs")); err != nil {
			say("Saving the logs of vcdns-system: %v", err)
		}
	}()
	if err := registerFromSamples(ctx, env, say); err != nil {
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

	for _, m := range []vcdnsenv.MCP{mcp1, mcp2} {
		say("Waiting for ManagedControlPlane %s/%s to be Ready", m.Namespace, m.Name)
		if err := env.WaitMCPCondition(ctx, m, vcdnsv1alpha1.ConditionReady, metav1.ConditionTrue, 3*time.Minute); err != nil {
			return err
		}
		say("Waiting for the tenant DNS of %s/%s to run on %s", m.Namespace, m.Name, m.Workload)
		if err := landscape.WaitDeploymentReady(ctx, mustClientset(env.Workloads[m.Workload]), vcdnsenv.MCPNamespace(m), tenantdns.Name, 3*time.Minute); err != nil {
			return err
		}
	}
	say("Running team-a's backends in its MCP namespace on workload-1, as its workload syncer would: Deployment my-nginx, StatefulSet web")
	if err := startBackends(ctx, env); err != nil {
		return err
	}
	for _, w := range env.Workloads {
		if err := mustClient(w).Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "demo"}}); err != nil {
			return err
		}
	}

	flows := demoFlows(env)
	say("Checking %d flows, each a request from a Pod (retried for up to 90 s while the landscape converges)", len(flows))
	var wg sync.WaitGroup
	for i := range flows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			check(ctx, &flows[i], i)
		}()
	}
	wg.Wait()
	failed := 0
	for _, f := range flows {
		if !f.Pass {
			failed++
		}
	}
	printTable(out, flows)
	if ip, err := tenantClusterIP(ctx, env); err == nil {
		fmt.Fprintf(out, "The tenant's own ClusterIP of my-nginx is %s: it routes nowhere, which is why the tenant DNS answers the workload IP.\n", ip)
	}
	say("Done in %s", time.Since(start).Round(time.Second))
	if *keep {
		envFile := filepath.Join(abs, "landscape.env")
		if err := writeLandscapeEnv(envFile, env); err != nil {
			return err
		}
		printKeep(out, env, deployed, envFile, root)
		<-ctx.Done()
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d flows failed; logs are in %s", failed, len(flows), abs)
	}
	return nil
}

// registerFromSamples applies config/samples to the platform with the real kubeconfigs
// of the landscape in place of the placeholders, and registers a second MCP like the
// sample one.
func registerFromSamples(ctx context.Context, env *vcdnsenv.Env, say func(string, ...any)) error {
	say("Applying config/samples to the platform cluster, with the landscape's kubeconfigs in the Secrets")
	if err := env.ApplySamples(ctx); err != nil {
		return err
	}
	say("Registering a second tenant, team-b/mcp2 on workload-2, like the sample MCP")
	return env.RegisterMCP(ctx, mcp2, env.Tenants["team-b/mcp2"])
}

// saveLogs writes the logs of every container of vcdns-system's Pods into dir, one
// file a container (<pod>_<container>.log), before the landscape goes.
func saveLogs(ctx context.Context, env *vcdnsenv.Env, dir string) error {
	cs := mustClientset(env.Platform)
	pods, err := cs.CoreV1().Pods(vcdnsenv.ClusterNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	for _, p := range pods.Items {
		for _, c := range p.Spec.Containers {
			b, err := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: c.Name}).DoRaw(ctx)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s/%s: %w", p.Name, c.Name, err))
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, p.Name+"_"+c.Name+".log"), b, 0o644); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
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

func tenantClusterIP(ctx context.Context, env *vcdnsenv.Env) (string, error) {
	var svc corev1.Service
	if err := mustClient(env.Tenants["team-a/mcp1"]).Get(ctx, types.NamespacedName{Namespace: "default", Name: "my-nginx"}, &svc); err != nil {
		return "", err
	}
	return strings.Join(svc.Spec.ClusterIPs, ","), nil
}

func mustClientset(c *landscape.Cluster) kubernetes.Interface {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		panic(err)
	}
	return cs
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
