package e2e

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	"github.com/vcdns/vcdns/images"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/tenantdns"
)

// TestDeploy deploys vcdns as a user does, onto a platform cluster with a node:
// config/default with a kustomize overlay, `kubectl apply --server-side -k`, the etcd
// members on local PersistentVolumes, then config/samples with the landscape's
// kubeconfigs. Every Pod of vcdns-system runs under the restricted Pod Security level;
// the syncer runs as two Pods that reach the workload and tenant API servers from
// there; a Pod on workload-2 fetches the tenant Gateway of workload-1 by its name,
// resolved through the deployed central DNS; and when the leader's Pod is deleted,
// the other replica takes the Lease and reconciles, with no object written by both
// replicas in one leadership term.
func TestDeploy(t *testing.T) {
	landscape.RequireNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	mcp := vcdnsenv.MCP{Namespace: "team-a", Name: "mcp1", Workload: "workload-1"}
	env, err := vcdnsenv.Setup(ctx, l, vcdnsenv.Spec{
		PlatformNode: true,
		Workloads:    []vcdnsenv.Workload{{Name: "workload-1", Node: true}, {Name: "workload-2", Node: true}},
		MCPs:         []vcdnsenv.MCP{mcp},
		Unregistered: true,
		// The samples' Gateway names Envoy Gateway's class, as in the kind demo.
		GatewayClass: "eg",
	})
	if err != nil {
		t.Fatal(err)
	}
	deployed, err := env.Deploy(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	platform := mustClientset(t, env.Platform)
	ns := vcdnsenv.ClusterNamespace

	t.Run("every Pod of vcdns-system is Ready and was admitted under the restricted level", func(t *testing.T) {
		checkRestricted(ctx, t, platform, ns, map[string]int{
			"vcdns-etcd":        vcdnsenv.EtcdMembers,
			"vcdns-central-dns": 2,
			"vcdns-syncer":      vcdnsenv.SyncerReplicas,
		})
	})

	t.Run("the etcd members keep their data on the node's local volumes", func(t *testing.T) {
		for i := range vcdnsenv.EtcdMembers {
			pvc, err := platform.CoreV1().PersistentVolumeClaims(ns).Get(ctx, fmt.Sprintf("data-%s-%d", vcdnsenv.EtcdStatefulSet, i), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if pvc.Status.Phase != corev1.ClaimBound || !slices.Contains(deployed.Volumes, pvc.Spec.VolumeName) {
				t.Fatalf("claim %s is %s on %q, want Bound to one of %v", pvc.Name, pvc.Status.Phase, pvc.Spec.VolumeName, deployed.Volumes)
			}
			pv, err := platform.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// etcd writes its member folder below the mount point, as 65532.
			member := filepath.Join(pv.Spec.Local.Path, "data", "member")
			if uid, err := statOwner(member); err != nil || uid != images.NonRoot {
				t.Fatalf("volume %s of member %d: %s owned by %d, %v; want etcd's data there, owned by %d", pv.Name, i, member, uid, err, images.NonRoot)
			}
		}
	})

	// Registration from config/samples: the syncer Pods reach the workload and tenant
	// API servers with these kubeconfigs.
	if err := env.ApplySamples(ctx); err != nil {
		t.Fatal(err)
	}
	root, err := landscape.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tenantObjs, err := vcdnsenv.Render(filepath.Join(root, "config", "samples", "tenant"))
	if err != nil {
		t.Fatal(err)
	}
	tenantCluster := env.Tenants["team-a/mcp1"]
	if err := vcdnsenv.Apply(ctx, tenantCluster.Config, tenantObjs); err != nil {
		t.Fatal(err)
	}
	tenant := mustClient(t, tenantCluster)
	if err := env.WaitMCPCondition(ctx, mcp, vcdnsv1alpha1.ConditionReady, metav1.ConditionTrue, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	w1, w2 := env.Workloads["workload-1"], env.Workloads["workload-2"]
	wl1 := mustClientset(t, w1)
	mcpNS := vcdnsenv.MCPNamespace(mcp)
	backend := landscape.ServerDeployment(mcpNS, "my-nginx", 2)
	backend.Spec.Template.Labels[tenantdns.LabelPodTenantNamespace] = "default"
	if _, err := wl1.AppsV1().Deployments(mcpNS).Create(ctx, backend, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := landscape.WaitDeploymentReady(ctx, wl1, mcpNS, "my-nginx", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	backends := podIPs(ctx, t, wl1, mcpNS, "app=my-nginx")
	if _, err := mustClientset(t, w2).CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "deploy"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const host = "app.workload-1.openmcp.cluster"
	// fetch gets the tenant Gateway's host from a Pod on workload-2 and checks that the
	// Gateway's address answered, with a backend.
	fetch := func(t *testing.T, pod string) {
		t.Helper()
		gwIP := tenantGatewayIP(ctx, t, tenant, "default", "web")
		out, err := w2.RunPod(ctx, landscape.ProbePod("deploy", pod, "get", "-timeout", "90s", "http://"+host+"/"), 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		checkServedBy(t, out, []string{net.JoinHostPort(gwIP, "80")}, host, "/", backends)
	}

	t.Run("a Pod on workload-2 fetches the tenant Gateway through the deployed central DNS", func(t *testing.T) {
		waitFor(ctx, t, "workload-2's Corefile forwarding to the central DNS "+deployed.CentralDNSAddress, func(ctx context.Context) error {
			corefile, err := env.ClusterCorefileNow(ctx, w2)
			if err != nil {
				return err
			}
			if !strings.Contains(corefile, deployed.CentralDNSAddress) {
				return fmt.Errorf("Corefile:\n%s", corefile)
			}
			return nil
		})
		// The deployed central DNS answers the name itself, at its load-balancer address,
		// over UDP and TCP (the host reaches it as every node does).
		expectAnswer(ctx, t, net.JoinHostPort(deployed.CentralDNSAddress, "53"), host, dns.TypeA, tenantGatewayIP(ctx, t, tenant, "default", "web"))
		fetch(t, "get-app")
	})

	t.Run("when the leader's Pod is deleted, the other replica takes over and reconciles", func(t *testing.T) {
		pc := mustClient(t, env.Platform)
		lease := getLease(ctx, t, pc)
		leader := holderPod(lease)
		pods := syncerPods(ctx, t, platform, ns)
		if len(pods) != vcdnsenv.SyncerReplicas || pods[leader] == nil {
			t.Fatalf("the Lease is held by %q; the syncer Pods are %v", ptr.Deref(lease.Spec.HolderIdentity, ""), slices.Collect(maps.Keys(pods)))
		}
		var standby string
		for name := range pods {
			if name != leader {
				standby = name
			}
		}
		leaderIP, standbyIP := pods[leader].Status.PodIP, pods[standby].Status.PodIP
		termStart := lease.Spec.AcquireTime.Time
		if n := reconciles(ctx, t, standbyIP); n != 0 {
			t.Fatalf("the standby %s has reconciled %v times before it leads", standby, n)
		}

		// The node is cordoned while the leader goes, as if it had gone with its node:
		// the Deployment's replacement cannot start and race the standby for the Lease.
		// (Uncordoned, it won in a run here: running 0.65 s after the old leader released
		// the Lease, while the standby asks every 2 s, jittered up to 4.4 s.)
		cordon(ctx, t, platform, env.Platform.Node.Name, true)
		deleted := time.Now()
		if err := platform.CoreV1().Pods(ns).Delete(ctx, leader, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		// A change made at the moment of the deletion, during the handover: it must not
		// be lost, whichever leader makes it.
		createService(ctx, t, tenant, "default", "at-failover", corev1.IPFamilyPolicySingleStack)

		var acquired, firstReconcile time.Time
		var holder string
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			if acquired.IsZero() {
				var l coordinationv1.Lease
				if err := pc.Get(ctx, types.NamespacedName{Namespace: ns, Name: vcdnsenv.SyncerLease}, &l); err == nil {
					if holder = holderPod(&l); holder != leader && holder != "" && l.Spec.AcquireTime != nil {
						acquired = l.Spec.AcquireTime.Time
					}
				}
			}
			if firstReconcile.IsZero() && reconcilesNow(ctx, standbyIP) > 0 {
				firstReconcile = time.Now()
			}
			return !acquired.IsZero() && !firstReconcile.IsZero(), nil
		})
		if err != nil {
			t.Fatalf("after deleting the leader %s: Lease holder %q (acquired %v), first reconcile of %s seen %v: %v", leader, holder, acquired, standby, firstReconcile, err)
		}
		if holder != standby {
			t.Fatalf("the Lease went to %s, not to the standby replica %s", holder, standby)
		}
		// A change made after the takeover: only the new leader can make it.
		created := time.Now()
		createService(ctx, t, tenant, "default", "after-failover", corev1.IPFamilyPolicySingleStack)
		annotations := map[string]string{"after-failover": waitAnnotation(ctx, t, tenant, "default", "after-failover")}
		annotated := time.Now()
		annotations["at-failover"] = waitAnnotation(ctx, t, tenant, "default", "at-failover")
		t.Logf("failover: leader %s deleted; the standby %s acquired the Lease %s later (its acquireTime), its reconcile counter (metrics, polled every 50 ms) was first above 0 %s after the deletion; a tenant Service created after the takeover had its annotation %s after its creation (polled every 100 ms)",
			leader, standby, acquired.Sub(deleted).Round(time.Millisecond), firstReconcile.Sub(deleted).Round(time.Millisecond), annotated.Sub(created).Round(time.Millisecond))
		cordon(ctx, t, platform, env.Platform.Node.Name, false)
		if err := landscape.WaitDeploymentReady(ctx, platform, ns, vcdnsenv.SyncerDeployment, 2*time.Minute); err != nil {
			t.Fatal(err)
		}

		// Each annotation is the address of the copy made on workload-1.
		for name, annotation := range annotations {
			copySvc := copyOf(ctx, t, mustClient(t, w1), mcpNS, "default", name)
			if want := strings.Join(copySvc.Spec.ClusterIPs, ","); annotation != want {
				t.Fatalf("annotation of default/%s is %q, the copy's cluster IPs are %q", name, annotation, want)
			}
		}
		// The new leader wrote the annotation of the Service created after the takeover.
		events, err := tenantCluster.AuditEvents(vcdnsenv.SyncerUser, created)
		if err != nil {
			t.Fatal(err)
		}
		var writers []string
		for _, e := range events {
			if e.ObjectRef.Resource == "services" && e.ObjectRef.Name == "after-failover" && e.ObjectRef.Subresource == "" && (e.Verb == "update" || e.Verb == "patch") {
				writers = append(writers, strings.Join(e.SourceIPs, ","))
			}
		}
		if len(writers) == 0 || slices.ContainsFunc(writers, func(ip string) bool { return ip != standbyIP }) {
			t.Fatalf("the writes of default/after-failover in the tenant came from %v, want the new leader %s (%s) only", writers, standby, standbyIP)
		}
		fetch(t, "get-app-after-failover")

		// Every write of the syncer to the workload clusters and the tenant control plane
		// since the old leader's term began came from the replica leading at the time.
		checkTerms(t, []term{
			{pod: leader, ip: leaderIP, from: termStart, to: acquired},
			{pod: standby, ip: standbyIP, from: acquired},
		}, []*landscape.Cluster{w1, w2, tenantCluster})
	})
}

// checkRestricted checks that the namespace enforces the restricted Pod Security
// level, admitted the Pods there under it (they are younger than the label, and a Pod
// that breaks the level is refused), and runs want Pods per app.kubernetes.io/name,
// all Ready, each container as non-root on a read-only root file system.
func checkRestricted(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string, want map[string]int) {
	t.Helper()
	const label = "pod-security.kubernetes.io/enforce"
	n, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Labels[label] != "restricted" {
		t.Fatalf("namespace %s: %s=%q, want restricted", ns, label, n.Labels[label])
	}
	// When the label was set: the managed fields entry that owns it.
	var labelled time.Time
	for _, mf := range n.ManagedFields {
		if mf.FieldsV1 != nil && strings.Contains(string(mf.FieldsV1.Raw), `"f:`+label+`"`) && mf.Time != nil {
			labelled = mf.Time.Time
		}
	}
	if labelled.IsZero() {
		t.Fatalf("namespace %s: no managed fields entry owns the label %s", ns, label)
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		got[p.Labels["app.kubernetes.io/name"]]++
		if !podReady(&p) {
			t.Errorf("Pod %s is not Ready", p.Name)
		}
		// Timestamps have seconds: a Pod of the same second as the label is not older.
		if p.CreationTimestamp.Time.Before(labelled) {
			t.Errorf("Pod %s was created at %s, before the namespace enforced restricted (%s)", p.Name, p.CreationTimestamp, labelled)
		}
		for _, c := range append(slices.Clone(p.Spec.InitContainers), p.Spec.Containers...) {
			sc := ptr.Deref(c.SecurityContext, corev1.SecurityContext{})
			nonRoot := ptr.Deref(sc.RunAsNonRoot, ptr.Deref(p.Spec.SecurityContext.RunAsNonRoot, false))
			user := ptr.Deref(sc.RunAsUser, ptr.Deref(p.Spec.SecurityContext.RunAsUser, 0))
			if !nonRoot || user == 0 || !ptr.Deref(sc.ReadOnlyRootFilesystem, false) || ptr.Deref(sc.AllowPrivilegeEscalation, true) {
				t.Errorf("Pod %s container %s: runAsNonRoot %v, user %d, readOnlyRootFilesystem %v, allowPrivilegeEscalation %v; want non-root on a read-only root, no escalation",
					p.Name, c.Name, nonRoot, user, ptr.Deref(sc.ReadOnlyRootFilesystem, false), ptr.Deref(sc.AllowPrivilegeEscalation, true))
			}
		}
	}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("%d Pods of %s run in %s, want %d (all: %v)", got[name], name, ns, n, got)
		}
	}
	// The level is enforced: a Pod that runs as root with privilege escalation is refused.
	bad := landscape.ProbePod(ns, "not-restricted", "pause")
	bad.Spec.SecurityContext, bad.Spec.Containers[0].SecurityContext = nil, nil
	_, err = cs.CoreV1().Pods(ns).Create(ctx, bad, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `violates PodSecurity "restricted`) {
		t.Errorf("a Pod breaking the restricted level, created in %s: %v; want it refused by PodSecurity", ns, err)
	}
}

// statOwner returns the owner of a file of the host (the node's folders are the host's).
func statOwner(path string) (int, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return -1, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, fmt.Errorf("%s: no owner", path)
	}
	return int(st.Uid), nil
}

// cordon marks the node unschedulable, or schedulable again.
func cordon(ctx context.Context, t *testing.T, cs kubernetes.Interface, node string, unschedulable bool) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"unschedulable":%t}}`, unschedulable)
	if _, err := cs.CoreV1().Nodes().Patch(ctx, node, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("cordoning node %s (%t): %v", node, unschedulable, err)
	}
}

// tenantGatewayIP waits for the first address of the tenant Gateway.
func tenantGatewayIP(ctx context.Context, t *testing.T, c client.Client, ns, name string) string {
	t.Helper()
	var ip string
	waitFor(ctx, t, "an address of Gateway "+ns+"/"+name, func(ctx context.Context) error {
		var gw gatewayv1.Gateway
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &gw); err != nil {
			return err
		}
		if len(gw.Status.Addresses) == 0 {
			return fmt.Errorf("no address yet")
		}
		ip = gw.Status.Addresses[0].Value
		return nil
	})
	return ip
}

func getLease(ctx context.Context, t *testing.T, c client.Client) *coordinationv1.Lease {
	t.Helper()
	var l coordinationv1.Lease
	waitFor(ctx, t, "the syncer's Lease held", func(ctx context.Context) error {
		if err := c.Get(ctx, types.NamespacedName{Namespace: vcdnsenv.ClusterNamespace, Name: vcdnsenv.SyncerLease}, &l); err != nil {
			return err
		}
		if holderPod(&l) == "" || l.Spec.AcquireTime == nil {
			return fmt.Errorf("Lease not held: %+v", l.Spec)
		}
		return nil
	})
	return &l
}

// holderPod is the Pod holding the Lease: controller-runtime's identity is the host
// name (the Pod's name), "_" and a UUID.
func holderPod(l *coordinationv1.Lease) string {
	pod, _, _ := strings.Cut(ptr.Deref(l.Spec.HolderIdentity, ""), "_")
	return pod
}

// syncerPods are the running syncer Pods that are not being deleted, by name.
func syncerPods(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) map[string]*corev1.Pod {
	t.Helper()
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=vcdns-syncer"})
	if err != nil {
		t.Fatal(err)
	}
	pods := map[string]*corev1.Pod{}
	for i, p := range list.Items {
		if p.DeletionTimestamp == nil && podReady(&p) {
			pods[p.Name] = &list.Items[i]
		}
	}
	return pods
}

// reconciles is the number of reconciles a syncer Pod has run, from its metrics.
func reconciles(ctx context.Context, t *testing.T, podIP string) float64 {
	t.Helper()
	n := -1.0
	waitFor(ctx, t, "the metrics of the syncer at "+podIP, func(ctx context.Context) error {
		if n = reconcilesNow(ctx, podIP); n < 0 {
			return fmt.Errorf("no metrics")
		}
		return nil
	})
	return n
}

// reconcilesNow sums controller_runtime_reconcile_total of a syncer Pod's metrics
// (the host reaches Pod IPs), or returns -1 if they cannot be read.
func reconcilesNow(ctx context.Context, podIP string) float64 {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := scrape(ctx, net.JoinHostPort(podIP, "8080"))
	if err != nil {
		return -1
	}
	sum := 0.0
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "controller_runtime_reconcile_total{") {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// term is a leadership term: the Pod holding the Lease and its address, from its
// acquireTime until the next holder's (zero: still leading).
type term struct {
	pod, ip  string
	from, to time.Time
}

// checkTerms reads the audit logs of the clusters and checks that every write of the
// syncer's identity received since the first term began came from the Pod leading
// when it was received, so that no object was written by two replicas in one term.
func checkTerms(t *testing.T, terms []term, clusters []*landscape.Cluster) {
	t.Helper()
	writes := map[string]int{}
	objects := map[string][]string{} // object -> writers, in order
	for _, c := range clusters {
		events, err := c.AuditEvents(vcdnsenv.SyncerUser, terms[0].from)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.RequestReceived.Before(terms[0].from) {
				continue
			}
			ip := ""
			if len(e.SourceIPs) > 0 {
				ip = e.SourceIPs[0]
			}
			var leading *term
			for i := range terms {
				if !e.RequestReceived.Before(terms[i].from) && (terms[i].to.IsZero() || e.RequestReceived.Before(terms[i].to)) {
					leading = &terms[i]
				}
			}
			if leading == nil || leading.ip != ip {
				t.Errorf("cluster %s: %s, received %s from %s while %v led", c.Name, e, e.RequestReceived.Format(time.RFC3339Nano), ip, leading)
				continue
			}
			writes[leading.pod]++
			key := c.Name + " " + e.ObjectRef.Resource + " " + e.ObjectRef.Namespace + "/" + e.ObjectRef.Name
			if w := objects[key]; len(w) == 0 || w[len(w)-1] != leading.pod {
				objects[key] = append(w, leading.pod)
			}
		}
	}
	both := 0
	for _, w := range objects {
		if len(w) > 1 {
			both++
		}
	}
	t.Logf("audit logs of %d clusters: writes of the syncer by leader %v; %d objects written, %d of them by both leaders, each in its own term", len(clusters), writes, len(objects), both)
	if writes[terms[len(terms)-1].pod] == 0 {
		t.Errorf("the new leader %s wrote nothing to the workload clusters or the tenant", terms[len(terms)-1].pod)
	}
}
