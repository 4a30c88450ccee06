package config

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vcdns/vcdns/e2e/landscape"
)

// fieldOwner is the field manager of the test's server-side applies.
const fieldOwner = "vcdns-test"

// warnings collects the API server's warnings (deprecations, Pod Security).
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// TestApply applies every kustomization server-side, with strict field validation,
// to a real kube-apiserver: the CRDs first, then the namespaces, then everything else.
// Platform and tenant objects go to one API server (with the Gateway API CRDs
// installed), which is enough to validate them. An error or a warning of the server
// (an unknown field, a deprecated API, a Pod template that breaks the "restricted"
// Pod Security Standard of its namespace) fails the test. Then the syncer binary runs
// with the ServiceAccount and RBAC of config/rbac and the args of config/syncer: it
// must win the leader election and start its controllers without being forbidden
// anything.
func TestApply(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a kube-apiserver")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	l := landscape.ForTest(t, landscape.Options{})
	// MutatingAdmissionPolicy: config/tenant-dns holds the Pod DNS policy, served
	// only with the flags a platform sets for it.
	c, err := l.StartCluster(ctx, "config", landscape.ClusterOptions{NoControllerManager: true, MutatingAdmissionPolicy: true})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := landscape.GatewayAPICRDFiles()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.InstallCRDs(ctx, gw...); err != nil {
		t.Fatal(err)
	}

	warn := &warnings{}
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandlerWithContext = warn
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	cl = client.WithFieldValidation(cl, metav1.FieldValidationStrict)
	apply := func(o object) {
		t.Helper()
		u := o.DeepCopy()
		err := cl.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership)
		if err != nil {
			t.Errorf("applying %s: %v", o, err)
		}
		for _, w := range warn.take() {
			t.Errorf("applying %s: warning: %s", o, w)
		}
	}

	all := renderAll(t)
	var crds, namespaces, rest []object
	for _, k := range kustomizations {
		for _, o := range all[k.dir] {
			switch o.GetKind() {
			case "CustomResourceDefinition":
				crds = append(crds, o)
			case "Namespace":
				namespaces = append(namespaces, o)
			default:
				rest = append(rest, o)
			}
		}
	}
	for _, o := range crds {
		apply(o)
	}
	for _, o := range crds {
		waitEstablished(ctx, t, cl, o.GetName())
	}
	// Namespaces that no kustomization declares (the MCP namespace of the tenant DNS
	// template, the tenant's default) are created like the syncer creates MCP
	// namespaces, but warning about Pods that are not "restricted".
	declared := map[string]bool{"default": true}
	for _, o := range namespaces {
		apply(o)
		declared[o.GetName()] = true
	}
	for _, o := range rest {
		ns := o.GetNamespace()
		if ns == "" || declared[ns] {
			continue
		}
		declared[ns] = true
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("Namespace")
		u.SetName(ns)
		u.SetLabels(map[string]string{"pod-security.kubernetes.io/warn": "restricted"})
		apply(object{dir: "(test)", Unstructured: u})
	}
	for _, o := range rest {
		apply(o)
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("applied %d objects of %d kustomizations in %s", len(crds)+len(namespaces)+len(rest), len(kustomizations), time.Since(start).Round(100*time.Millisecond))

	var roots []object // what the syncer's controllers reconcile
	for _, o := range all["samples"] {
		switch o.GetKind() {
		case "Cluster", "ManagedControlPlane", "GatewayDNS":
			roots = append(roots, o)
		}
	}
	t.Run("the Cluster CRD refuses bad names and service ranges", func(t *testing.T) {
		// object returns a Cluster or MCP in vcdns-system with spec fields set.
		object := func(kind, name string, spec map[string]any) *unstructured.Unstructured {
			u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
			u.SetAPIVersion("vcdns.io/v1alpha1")
			u.SetKind(kind)
			u.SetNamespace("vcdns-system")
			u.SetName(name)
			_ = unstructured.SetNestedField(u.Object, "x", "spec", "kubeconfigSecretRef", "name")
			return u
		}
		cluster := func(name string, cidrs ...any) *unstructured.Unstructured {
			return object("Cluster", name, map[string]any{"serviceCIDRs": cidrs})
		}
		for _, tc := range []struct {
			obj  *unstructured.Unstructured
			want string
		}{
			{obj: cluster("has.dots", "10.96.0.0/16"), want: "a DNS label"},
			{obj: cluster(strings.Repeat("a", 64), "10.96.0.0/16"), want: "a DNS label"},
			{obj: cluster("ok", "10.96.0.0/16 }\nhosts {"), want: "must be a CIDR"},
			{obj: cluster("ok", "10.96.0.1"), want: "must be a CIDR"},
			// An MCP names its workload Cluster the same way.
			{obj: object("ManagedControlPlane", "mcp", map[string]any{"workloadCluster": "has.dots"}), want: "spec.workloadCluster"},
		} {
			err := cl.Create(ctx, tc.obj, client.DryRunAll)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s %q, spec %v: error %v, want one saying %q", tc.obj.GetKind(), tc.obj.GetName(), tc.obj.Object["spec"], err, tc.want)
			}
		}
		if err := cl.Create(ctx, cluster("workload-7", "10.96.0.0/16", "fd00:10:96::/112"), client.DryRunAll); err != nil {
			t.Errorf("a good Cluster was refused: %v", err)
		}
	})

	t.Run("syncer runs with the shipped RBAC", func(t *testing.T) {
		runSyncerWithShippedRBAC(ctx, t, l, c, cl, roots)
	})
}

func waitEstablished(ctx context.Context, t *testing.T, cl client.Client, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := cl.Get(ctx, types.NamespacedName{Name: name}, crd); err != nil {
			return false, nil //nolint:nilerr // retried until the deadline
		}
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("CRD %s not established: %v", name, err)
	}
}

// forbidden matches what client-go and controller-runtime log when RBAC denies a
// request.
var forbidden = regexp.MustCompile(`(?i)forbidden|cannot (get|list|watch|create|update|patch|delete)`)

// runSyncerWithShippedRBAC runs bin/syncer as the ServiceAccount of config/rbac (a
// token from the TokenRequest API), with the args of config/syncer. Addresses that
// only exist in a cluster are replaced: the metrics and health endpoints by free
// loopback ports, the central etcd (and the syncer's certificate for it) by one of the
// landscape, serving mutual TLS. It waits until every
// object in roots was reconciled once (it has conditions, or the log names it in an
// error; their kubeconfigs are placeholders, so the syncer gets as far as reaching
// for the remote clusters), then reads the log for denials.
func runSyncerWithShippedRBAC(ctx context.Context, t *testing.T, l *landscape.Landscape, c *landscape.Cluster, cl client.Client, roots []object) {
	bin, err := l.Binary("syncer")
	if err != nil {
		t.Fatal(err)
	}
	const ns, sa = "vcdns-system", "vcdns-syncer"
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(l.Dir(), "syncer-sa.kubeconfig")
	kc := clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"platform": {Server: c.Config.Host, CertificateAuthorityData: c.Config.CAData}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{sa: {Token: tr.Status.Token}},
		Contexts:       map[string]*clientcmdapi.Context{"platform": {Cluster: "platform", AuthInfo: sa}},
		CurrentContext: "platform",
	}
	if err := clientcmd.WriteToFile(kc, kubeconfig); err != nil {
		t.Fatal(err)
	}
	etcd, err := l.StartEtcdWith(ctx, "central-etcd", landscape.EtcdOptions{TLS: true, Clients: []string{"syncer"}})
	if err != nil {
		t.Fatal(err)
	}
	etcdTLS := etcd.TLS.Clients["syncer"]
	ports := make([]int, 2)
	for i := range ports {
		if ports[i], err = landscape.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	health := fmt.Sprintf("127.0.0.1:%d", ports[1])
	replace := map[string]string{
		"metrics-bind-address":      fmt.Sprintf("127.0.0.1:%d", ports[0]),
		"health-probe-bind-address": health,
		"central-etcd-endpoints":    etcd.Endpoint,
		"central-etcd-ca-file":      etcdTLS.CA,
		"central-etcd-cert-file":    etcdTLS.Cert,
		"central-etcd-key-file":     etcdTLS.Key,
	}
	args := []string{"--kubeconfig=" + kubeconfig}
	for name, value := range syncerArgs(t) {
		if r, ok := replace[name]; ok {
			value = r
		}
		args = append(args, "--"+name+"="+strings.ReplaceAll(value, "$(POD_NAMESPACE)", ns))
	}
	slices.Sort(args)
	p, err := l.Start(filepath.Join(l.Dir(), "syncer"), "syncer", bin, args...)
	if err != nil {
		t.Fatal(err)
	}

	// The leader holds the Lease the RBAC allows; then the controllers start and
	// their caches list and watch.
	var lease coordinationv1.Lease
	err = p.WaitFor(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		got, err := cs.CoordinationV1().Leases(ns).Get(ctx, syncerArgs(t)["leader-election-id"], metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got.Spec.HolderIdentity == nil || *got.Spec.HolderIdentity == "" {
			return fmt.Errorf("lease %s has no holder", got.Name)
		}
		lease = *got
		return nil
	})
	if err != nil {
		t.Fatalf("the syncer did not win the leader election (log %s): %v", p.LogPath, err)
	}
	hc := &http.Client{Timeout: time.Second}
	err = p.WaitFor(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		resp, err := hc.Get("http://" + health + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the syncer is not ready (log %s): %v", p.LogPath, err)
	}
	err = p.WaitFor(ctx, 200*time.Millisecond, func(ctx context.Context) error {
		for _, o := range roots {
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(o.GroupVersionKind())
			if err := cl.Get(ctx, client.ObjectKeyFromObject(o), got); err != nil {
				return err
			}
			if conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions"); len(conds) > 0 {
				continue
			}
			errs := regexp.MustCompile(`"msg":"Reconciler error".*"name":"` + regexp.QuoteMeta(o.GetName()) + `"`)
			if len(grepLines(t, p.LogPath, errs)) == 0 {
				return fmt.Errorf("%s not reconciled yet", o)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the syncer did not reconcile the samples (log %s): %v", p.LogPath, err)
	}
	if exited, err := p.Exited(); exited {
		t.Fatalf("the syncer exited: %v (log %s)", err, p.LogPath)
	}
	if denied := denials(grepLines(t, p.LogPath, forbidden)); len(denied) > 0 {
		t.Errorf("the syncer was denied with the RBAC of config/rbac (log %s); fix the +kubebuilder:rbac markers and run make generate:\n%s", p.LogPath, strings.Join(denied, "\n"))
	}
	// The leader election Event, recorded with the Role's events permission.
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(list.Items, func(e corev1.Event) bool {
			return e.InvolvedObject.Kind == "Lease" && e.Reason == "LeaderElection"
		}), nil
	})
	if err != nil {
		t.Errorf("no leader election Event in %s: %v", ns, err)
	}
	t.Logf("the syncer, as system:serviceaccount:%s:%s, holds Lease %s/%s and reconciled %d samples", ns, sa, ns, lease.Name, len(roots))
}

// denials reduces log lines to their distinct errors, with counts.
func denials(lines []string) []string {
	count := map[string]int{}
	var order []string
	for _, line := range lines {
		var entry struct {
			Msg   string `json:"msg"`
			Error string `json:"error"`
		}
		key := line
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Error != "" {
			key = entry.Msg + ": " + entry.Error
		}
		if count[key] == 0 {
			order = append(order, key)
		}
		count[key]++
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, fmt.Sprintf("%dx %s", count[k], k))
	}
	return out
}

func grepLines(t *testing.T, path string, re *regexp.Regexp) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for s.Scan() {
		if re.MatchString(s.Text()) {
			out = append(out, s.Text())
		}
	}
	return out
}
