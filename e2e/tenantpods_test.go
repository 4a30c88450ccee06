package e2e

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/naming"
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
		Workloads: []vcdnsenv.Workload{{Name: "workload-1", Node: true}, {Name: "workload-2", Node: true}},
		MCPs:      []vcdnsenv.MCP{mcp},
	})
	if err != nil {
		t.Fatal(err)
	}
	workload := env.Workloads["workload-1"]
	ns := vcdnsenv.MCPNamespace(mcp)
	// A platform that runs its tenants under the restricted Pod Security level creates
	// their namespaces so (the syncer keeps labels it finds): the tenant DNS, which
	// binds port 53 as 65532 by the image's file capability, runs there too.
	if err := mustClient(t, workload).Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
	}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.StartSyncer(ctx); err != nil {
		t.Fatal(err)
	}
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

	t.Run("the tenant DNS binds port 53 as 65532 under the restricted level", func(t *testing.T) {
		n, err := wl.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := n.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
			t.Fatalf("namespace %s enforces %q, want restricted", ns, got)
		}
		pods, err := wl.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + tenantdns.Name})
		if err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) == 0 {
			t.Fatalf("no tenant DNS Pods in %s", ns)
		}
		for _, p := range pods.Items {
			c := p.Spec.Containers[0]
			if !podReady(&p) || ptr.Deref(p.Spec.SecurityContext.RunAsUser, 0) != 65532 || c.Ports[0].ContainerPort != 53 ||
				!ptr.Deref(c.SecurityContext.ReadOnlyRootFilesystem, false) {
				t.Fatalf("tenant DNS Pod %s: ready %t, user %v, port %d, read-only root %v; want ready, 65532, 53, read-only",
					p.Name, podReady(&p), p.Spec.SecurityContext.RunAsUser, c.Ports[0].ContainerPort, c.SecurityContext.ReadOnlyRootFilesystem)
			}
		}
	})

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

	t.Run("an annotation change reaches a running Pod's answers within the TTL", func(t *testing.T) {
		old := strings.Split(waitAnnotation(ctx, t, tenant, "default", "my-nginx"), ",")[0]
		watcher := landscape.ProbePod(ns, "watch-my-nginx", "lookup", "-watch", "3m", "my-nginx.default.svc.cluster.local")
		if _, err := wl.CoreV1().Pods(ns).Create(ctx, watcher, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_ = wl.CoreV1().Pods(ns).Delete(context.Background(), watcher.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
		}()
		waitLogLine(ctx, t, wl, ns, watcher.Name, "A "+old)
		// A new copy gets a new ClusterIP, and the syncer writes it into the annotation.
		copyName := naming.CopyName("default", "my-nginx")
		if err := wl.CoreV1().Services(ns).Delete(ctx, copyName, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		// Polled every 20 ms: the change is seen at most that much late.
		var changed time.Time
		var now string
		err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			var svc corev1.Service
			if err := tenant.Get(ctx, types.NamespacedName{Namespace: "default", Name: "my-nginx"}, &svc); err != nil {
				return false, nil //nolint:nilerr // polled until the deadline
			}
			now = strings.Split(svc.Annotations[naming.ClusterIPAnnotation], ",")[0]
			changed = time.Now()
			return now != old && now != "", nil
		})
		if err != nil {
			t.Fatalf("the annotation of default/my-nginx is still %q: %v", now, err)
		}
		seen := waitLogLine(ctx, t, wl, ns, watcher.Name, "A "+now)
		delay := seen.Sub(changed)
		t.Logf("the annotation changed from %s to %s; the running Pod answered the new address %s after the test saw the change (TTL %ds)", old, now, delay.Round(time.Millisecond), tenantdns.RecordTTL)
		if delay > time.Duration(tenantdns.RecordTTL)*time.Second {
			t.Fatalf("the running Pod saw the new address %s after the annotation changed, more than the TTL of %ds", delay, tenantdns.RecordTTL)
		}
	})

	t.Run("StatefulSet Pods answer by their names, and SRV records name them", func(t *testing.T) {
		none := corev1.IPFamilyPolicySingleStack
		db := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "db"},
			Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, IPFamilyPolicy: &none, Selector: map[string]string{"app": "db"},
				Ports: []corev1.ServicePort{{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}}},
		}
		if err := tenant.Create(ctx, db); err != nil {
			t.Fatal(err)
		}
		// The workload's StatefulSet names the copy as its Service, as a workload
		// syncer would, so that the workload cluster gives its endpoints host names.
		sts := landscape.ServerStatefulSet(ns, "db", naming.CopyName("default", "db"), 2)
		if _, err := wl.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := landscape.WaitStatefulSetReady(ctx, wl, ns, "db", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		ips := podIPs(ctx, t, wl, ns, "app=db")
		out, err := workload.RunPod(ctx, landscape.ProbePod(ns, "get-db-1", "get", "-timeout", "60s", "http://db-1.db.default.svc.cluster.local:8080/"), 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		checkServedBy(t, out, []string{net.JoinHostPort(ips["db-1"], "8080")}, "db-1.db.default.svc.cluster.local:8080", "/", map[string]string{"db-1": ips["db-1"]})
		srv, err := workload.RunPod(ctx, landscape.ProbePod(ns, "srv-db", "lookup", "-type", "SRV", "-timeout", "60s", "_http._tcp.db.default.svc.cluster.local"), 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range []string{"db-0.db.default.svc.cluster.local.", "db-1.db.default.svc.cluster.local."} {
			if !regexp.MustCompile(`(^SRV | )\d+/\d+/8080/` + regexp.QuoteMeta(target) + `( |$)`).MatchString(srv) {
				t.Errorf("SRV _http._tcp.db: %q has no record for %s port 8080", srv, target)
			}
		}
		if n := strings.Count(srv, "/8080/"); n != 2 {
			t.Errorf("SRV _http._tcp.db: %q, want exactly the two Pods", srv)
		}
	})

	t.Run("a Pod of the MCP namespace with its own dnsConfig keeps it", func(t *testing.T) {
		// It asks the workload cluster's own DNS, which knows the workload
		// cluster's kubernetes Service and not the tenant's names.
		p := landscape.ProbePod(ns, "own-dns", "lookup", "-timeout", "30s", "kubernetes.default.svc.cluster.local")
		p.Spec.DNSPolicy = corev1.DNSNone
		p.Spec.DNSConfig = &corev1.PodDNSConfig{
			Nameservers: []string{workload.Node.Net.ClusterDNSIPs()[0].String()},
			Searches:    []string{"svc.cluster.local"},
		}
		kube, err := wl.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := workload.RunPod(ctx, p, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if want := "A " + kube.Spec.ClusterIP; out != want {
			t.Fatalf("lookup kubernetes.default through its own dnsConfig: got %q, want the workload cluster's %q", out, want)
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

	t.Run("the tenant DNS follows the MCP to another workload cluster, and its Pods there resolve", func(t *testing.T) {
		w2 := env.Workloads["workload-2"]
		wl2 := mustClientset(t, w2)
		var m vcdnsv1alpha1.ManagedControlPlane
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: mcp.Namespace, Name: mcp.Name}, &m); err != nil {
			t.Fatal(err)
		}
		m.Spec.WorkloadCluster = "workload-2"
		if err := env.Client.Update(ctx, &m); err != nil {
			t.Fatal(err)
		}
		if err := landscape.WaitDeploymentReady(ctx, wl2, ns, tenantdns.Name, 3*time.Minute); err != nil {
			t.Fatalf("the tenant DNS on workload-2: %v", err)
		}
		waitFor(ctx, t, "the tenant DNS gone from workload-1", func(ctx context.Context) error {
			_, err := wl.AppsV1().Deployments(ns).Get(ctx, tenantdns.Name, metav1.GetOptions{})
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("the tenant DNS Deployment on workload-1: %v", err)
			}
			return nil
		})
		// The annotation now names the copy on workload-2.
		var moved string
		waitFor(ctx, t, "the annotation of default/my-nginx naming workload-2's copy", func(ctx context.Context) error {
			cp, err := wl2.CoreV1().Services(ns).Get(ctx, naming.CopyName("default", "my-nginx"), metav1.GetOptions{})
			if err != nil {
				return err
			}
			var svc corev1.Service
			if err := tenant.Get(ctx, types.NamespacedName{Namespace: "default", Name: "my-nginx"}, &svc); err != nil {
				return err
			}
			if got := svc.Annotations[naming.ClusterIPAnnotation]; got != strings.Join(cp.Spec.ClusterIPs, ",") {
				return fmt.Errorf("annotation %q, copy on workload-2 has %v", got, cp.Spec.ClusterIPs)
			}
			moved = cp.Spec.ClusterIP
			return nil
		})
		backend := landscape.ServerDeployment(ns, "my-nginx", 1)
		if _, err := wl2.AppsV1().Deployments(ns).Create(ctx, backend, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := landscape.WaitDeploymentReady(ctx, wl2, ns, "my-nginx", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		out, err := w2.RunPod(ctx, landscape.ProbePod(ns, "get-my-nginx", "get", "-timeout", "60s", "http://my-nginx.default.svc.cluster.local/"), 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		checkServedBy(t, out, []string{net.JoinHostPort(moved, "80")}, "my-nginx.default.svc.cluster.local", "/", podIPs(ctx, t, wl2, ns, "app=my-nginx"))
	})
}

// podReady tells whether the Pod's Ready condition is true.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitLogLine polls the log of a running `vcdns-probe lookup -watch` Pod until it
// printed line (after its at=<time>), and returns that time.
func waitLogLine(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, pod, line string) time.Time {
	t.Helper()
	var at time.Time
	var log []byte
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		log, err = cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{}).DoRaw(ctx)
		if err != nil {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		for _, l := range strings.Split(string(log), "\n") {
			ts, rest, ok := strings.Cut(strings.TrimPrefix(l, "at="), " ")
			if ok && rest == line {
				at, err = time.Parse(time.RFC3339Nano, ts)
				return err == nil, err
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("Pod %s/%s did not print %q: %v; log:\n%s", ns, pod, line, err, log)
	}
	return at
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
