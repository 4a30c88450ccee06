// Package vcdnsenv builds a vcdns landscape on top of the local landscape: a platform
// cluster with the vcdns CRDs, workload clusters registered as Clusters, tenant
// control planes registered as ManagedControlPlanes, the syncer binary, and the
// tenant CoreDNS processes run from the Corefiles the syncer rendered. The end-to-end
// tests, the demo and the benchmarks share it.
package vcdnsenv

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/e2e/landscape"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/tenantdns"
)

// ClusterNamespace is where the Cluster objects live on the platform.
const ClusterNamespace = "vcdns-system"

// SyncerUser is the identity the syncer uses on every cluster, so that its requests
// can be told apart in the audit logs.
const SyncerUser = "vcdns-syncer"

// IntruderUser is a tenant user in system:masters that is not the syncer: the
// admission policy must stop it changing the clusterIP annotation.
const IntruderUser = "intruder"

// Scheme knows every kind the tests use.
var Scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, vcdnsv1alpha1.AddToScheme, gatewayv1.Install} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// Workload describes a workload cluster.
type Workload struct {
	Name      string
	DualStack bool
	// Node gives the workload cluster a node (landscape.ClusterOptions.Node): its
	// Pods run, its DNS is the CoreDNS Deployment of the landscape, the data plane
	// hands out the node's load-balancer pool and forwards Gateway traffic, and the
	// tenant control planes listen where its Pods reach them (the tenant DNS runs
	// there and reads them).
	Node bool
}

// MCP describes a tenant control plane.
type MCP struct {
	Namespace, Name string
	Workload        string
}

// Spec is the landscape to build.
type Spec struct {
	Workloads []Workload
	MCPs      []MCP
	// Unregistered leaves creating the Cluster and ManagedControlPlane objects (and
	// their kubeconfig Secrets) to the caller, e.g. from config/samples.
	Unregistered bool
	// GatewayClass of the simulated data planes; default dataplane.DefaultClass.
	GatewayClass string
	// PlatformNode gives the platform cluster a node, so that vcdns is deployed onto
	// it from config/ as users deploy it (Deploy) and runs there as Pods; a data plane
	// hands out the node's load-balancer addresses (the central DNS's Service). Setup
	// then starts no central DNS of its own: the deployed one serves.
	PlatformNode bool
}

// Env is a running vcdns landscape.
type Env struct {
	L         *landscape.Landscape
	Platform  *landscape.Cluster
	Workloads map[string]*landscape.Cluster
	// Tenants by "namespace/name" of their MCP.
	Tenants map[string]*landscape.Cluster
	Client  client.Client // platform admin
	Syncer  *landscape.Process
	// SyncerEnv (KEY=value) is added to the environment StartSyncer starts it with.
	SyncerEnv []string
	// SyncerMetrics is the address of the syncer's metrics endpoint.
	SyncerMetrics string
	Central       *CentralDNS
	Spec          Spec
}

// Setup starts the clusters, installs the CRDs and registers Clusters and MCPs. It
// does not start the syncer.
func Setup(ctx context.Context, l *landscape.Landscape, spec Spec) (*Env, error) {
	e := &Env{L: l, Spec: spec, Workloads: map[string]*landscape.Cluster{}, Tenants: map[string]*landscape.Cluster{}}
	var err error
	syncer := landscape.User{Name: SyncerUser, Groups: []string{"system:masters"}}
	if e.Platform, err = l.StartCluster(ctx, "platform", landscape.ClusterOptions{Users: []landscape.User{syncer}, Node: spec.PlatformNode}); err != nil {
		return nil, err
	}
	root, err := landscape.RepoRoot()
	if err != nil {
		return nil, err
	}
	crds, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil {
		return nil, err
	}
	if err := e.Platform.InstallCRDs(ctx, crds...); err != nil {
		return nil, err
	}
	if e.Client, err = client.New(e.Platform.Config, client.Options{Scheme: Scheme}); err != nil {
		return nil, err
	}
	if err := e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ClusterNamespace}}); err != nil {
		return nil, err
	}
	gw, err := landscape.GatewayAPICRDFiles()
	if err != nil {
		return nil, err
	}
	if spec.PlatformNode {
		// The data plane serves Gateways too, and needs their CRDs.
		if err := e.Platform.InstallCRDs(ctx, gw...); err != nil {
			return nil, err
		}
		if err := e.startDataPlane(ctx, e.Platform, 0, false, ""); err != nil {
			return nil, err
		}
	}
	// Where the tenant control planes and the central DNS listen: loopback, or the
	// host's end of the first node's link, which Pods of every node reach.
	var tenantBind netip.Addr
	for i, w := range spec.Workloads {
		// MutatingAdmissionPolicy: the syncer installs the Pod DNS policy, as on a
		// platform that sets the flags the README names.
		c, err := l.StartCluster(ctx, w.Name, landscape.ClusterOptions{DualStack: w.DualStack, Users: []landscape.User{syncer}, MutatingAdmissionPolicy: true, Node: w.Node})
		if err != nil {
			return nil, err
		}
		if err := c.InstallCRDs(ctx, gw...); err != nil {
			return nil, err
		}
		if c.Node == nil {
			if err := e.WriteClusterCorefile(ctx, c); err != nil {
				return nil, err
			}
		} else if !tenantBind.IsValid() {
			tenantBind = c.Node.Net.HostIPs[0]
		}
		if err := e.startDataPlane(ctx, c, i+1, w.DualStack, spec.GatewayClass); err != nil {
			return nil, err
		}
		e.Workloads[w.Name] = c
		if spec.Unregistered {
			continue
		}
		if err := e.RegisterCluster(ctx, c); err != nil {
			return nil, err
		}
	}
	if !tenantBind.IsValid() && spec.PlatformNode {
		tenantBind = e.Platform.Node.Net.HostIPs[0]
	}
	if !spec.PlatformNode {
		centralBind := tenantBind
		if !centralBind.IsValid() {
			centralBind = netip.MustParseAddr("127.0.0.1")
		}
		if _, err := e.StartCentralDNS(ctx, centralBind); err != nil {
			return nil, err
		}
	}
	for _, m := range spec.MCPs {
		c, err := l.StartCluster(ctx, "tenant-"+m.Namespace+"-"+m.Name, landscape.ClusterOptions{
			DualStack: true,
			BindIP:    tenantBind,
			Users:     []landscape.User{syncer, {Name: IntruderUser, Groups: []string{"system:masters"}}},
		})
		if err != nil {
			return nil, err
		}
		if err := c.InstallCRDs(ctx, gw...); err != nil {
			return nil, err
		}
		e.Tenants[m.Namespace+"/"+m.Name] = c
		if spec.Unregistered {
			continue
		}
		if err := e.RegisterMCP(ctx, m, c); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// RegisterCluster creates the kubeconfig Secret and the Cluster of a workload cluster.
func (e *Env) RegisterCluster(ctx context.Context, c *landscape.Cluster) error {
	kc, err := c.Kubeconfig(SyncerUser)
	if err != nil {
		return err
	}
	if err := e.upsertSecret(ctx, ClusterNamespace, c.Name+"-kubeconfig", kc); err != nil {
		return err
	}
	return e.Client.Create(ctx, &vcdnsv1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ClusterNamespace, Name: c.Name, Labels: map[string]string{"vcdns.io/role": "workload"}},
		Spec:       vcdnsv1alpha1.ClusterSpec{KubeconfigSecretRef: vcdnsv1alpha1.SecretKeyReference{Name: c.Name + "-kubeconfig"}},
	})
}

// RegisterMCP creates the namespace, kubeconfig Secret and ManagedControlPlane of a
// tenant.
func (e *Env) RegisterMCP(ctx context.Context, m MCP, tenant *landscape.Cluster) error {
	if err := e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: m.Namespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	kc, err := tenant.Kubeconfig(SyncerUser)
	if err != nil {
		return err
	}
	if err := e.upsertSecret(ctx, m.Namespace, m.Name+"-kubeconfig", kc); err != nil {
		return err
	}
	return e.Client.Create(ctx, &vcdnsv1alpha1.ManagedControlPlane{
		ObjectMeta: metav1.ObjectMeta{Namespace: m.Namespace, Name: m.Name},
		Spec: vcdnsv1alpha1.ManagedControlPlaneSpec{
			KubeconfigSecretRef: vcdnsv1alpha1.SecretKeyReference{Name: m.Name + "-kubeconfig"},
			WorkloadCluster:     m.Workload,
		},
	})
}

func (e *Env) upsertSecret(ctx context.Context, ns, name string, kubeconfig []byte) error {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"kubeconfig": kubeconfig}}
	err := e.Client.Create(ctx, s)
	if apierrors.IsAlreadyExists(err) {
		return e.Client.Update(ctx, s)
	}
	return err
}

// StartSyncer starts the syncer binary against the platform cluster and the central
// etcd, with its client certificate. A flag in extraArgs overrides one set here (the
// last one given wins).
func (e *Env) StartSyncer(ctx context.Context, extraArgs ...string) (*landscape.Process, error) {
	if e.Central == nil {
		return nil, errors.New("no central DNS process to point the syncer at: with PlatformNode, deploy vcdns (Deploy) instead")
	}
	bin, err := e.L.Binary("syncer")
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(e.L.Dir(), "syncer-platform.kubeconfig")
	if err := e.Platform.WriteKubeconfig(kubeconfig, SyncerUser); err != nil {
		return nil, err
	}
	args := slices.Concat([]string{
		"--kubeconfig", kubeconfig,
		"--cluster-namespace", ClusterNamespace,
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[0]),
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		"--probe-interval", "2s",
		"--central-dns-address", e.Central.DNS.Addr,
	}, SyncerEtcdArgs(e.Central.Etcd), extraArgs)
	p, err := e.L.StartEnv(filepath.Join(e.L.Dir(), "syncer"), "syncer", bin, e.SyncerEnv, args...)
	if err != nil {
		return nil, err
	}
	e.Syncer = p
	e.SyncerMetrics = fmt.Sprintf("127.0.0.1:%d", ports[0])
	return p, nil
}

// MCPNamespace is the MCP namespace of m.
func MCPNamespace(m MCP) string {
	return naming.MCPNamespace(naming.DefaultNamespacePrefix, m.Namespace, m.Name)
}

// WaitMCPCondition polls until the MCP's condition has status want.
func (e *Env) WaitMCPCondition(ctx context.Context, m MCP, typ string, want metav1.ConditionStatus, timeout time.Duration) error {
	var conditions []metav1.Condition
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var mcp vcdnsv1alpha1.ManagedControlPlane
		if err := e.Client.Get(ctx, types.NamespacedName{Namespace: m.Namespace, Name: m.Name}, &mcp); err != nil {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		conditions = mcp.Status.Conditions
		c := meta.FindStatusCondition(conditions, typ)
		return c != nil && c.Status == want, nil
	})
	if err != nil {
		var b strings.Builder
		for _, c := range conditions {
			fmt.Fprintf(&b, "\n  %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
		}
		return fmt.Errorf("MCP %s/%s condition %s is not %s after %s; conditions:%s: %w", m.Namespace, m.Name, typ, want, timeout, b.String(), err)
	}
	return nil
}

// TenantDNSConfig waits for the tenant CoreDNS the syncer rendered for m and returns
// its ConfigMap and kubeconfig Secret, read from the MCP namespace on the workload
// cluster the MCP is on now (its spec.workloadCluster, once the status agrees).
func (e *Env) TenantDNSConfig(ctx context.Context, m MCP) (*corev1.ConfigMap, *corev1.Secret, error) {
	ns := MCPNamespace(m)
	var cm corev1.ConfigMap
	var secret corev1.Secret
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var mcp vcdnsv1alpha1.ManagedControlPlane
		if err := e.Client.Get(ctx, types.NamespacedName{Namespace: m.Namespace, Name: m.Name}, &mcp); err != nil {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		w := e.Workloads[mcp.Spec.WorkloadCluster]
		if w == nil || mcp.Status.WorkloadCluster != mcp.Spec.WorkloadCluster {
			return false, nil
		}
		c, err := client.New(w.Config, client.Options{Scheme: Scheme})
		if err != nil {
			return false, err
		}
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: tenantdns.Name}, &cm); err != nil {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: tenantdns.KubeconfigSecret}, &secret); err != nil {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		return true, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("waiting for the tenant DNS of %s/%s on its workload cluster: %w", m.Namespace, m.Name, err)
	}
	return &cm, &secret, nil
}

// StartTenantDNS runs the tenant CoreDNS of m exactly as the syncer rendered it: the
// Corefile of its ConfigMap and the kubeconfig of its Secret, in the MCP namespace of
// the MCP's workload cluster. It runs as a process of the landscape, not as the
// Deployment there: these clusters have no nodes.
func (e *Env) StartTenantDNS(ctx context.Context, m MCP) (*landscape.CoreDNS, error) {
	cm, secret, err := e.TenantDNSConfig(ctx, m)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(e.L.Dir(), "tenant-dns-"+m.Namespace+"-"+m.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, secret.Data[tenantdns.KubeconfigKey], 0o600); err != nil {
		return nil, err
	}
	return e.L.StartCoreDNSEnv(ctx, "tenant-dns-"+m.Namespace+"-"+m.Name, "coredns", cm.Data[tenantdns.CorefileKey],
		map[string]string{tenantdns.EnvKubeconfig: kubeconfig})
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for len(ports) < n {
		p, err := landscape.FreePort()
		if err != nil {
			return nil, err
		}
		if len(ports) == 0 || ports[len(ports)-1] != p {
			ports = append(ports, p)
		}
	}
	return ports, nil
}
