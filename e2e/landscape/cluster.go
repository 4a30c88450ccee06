package landscape

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// AdminUser is the name of each cluster's administrator (group system:masters).
const AdminUser = "admin"

// User is a token-authenticated identity of a cluster.
type User struct {
	Name   string
	Groups []string
}

// ClusterOptions configure one cluster.
type ClusterOptions struct {
	// ServiceCIDRs overrides the service ranges. Default: a range of its own,
	// 10.(96+n).0.0/16 for the n-th cluster, and fd00:10:(96+n)::/112 with DualStack.
	ServiceCIDRs []string
	// DualStack gives the cluster an IPv6 service range as well.
	DualStack bool
	// Users are extra identities, besides the admin.
	Users []User
	// NoControllerManager skips kube-controller-manager (no namespace deletion, no
	// garbage collection) for clusters that do not need it.
	NoControllerManager bool
	// BindIP makes a cluster without a node listen there instead of on 127.0.0.1: the
	// host's end of another cluster's node link (Net.HostIPs), so that Pods of every
	// node reach it, as they reach the API servers of clusters with a node.
	BindIP netip.Addr
	// MutatingAdmissionPolicy serves admissionregistration.k8s.io/v1beta1 with its
	// feature gate, as a platform must for vcdns's Pod DNS policy on Kubernetes 1.35
	// (beta, off by default).
	MutatingAdmissionPolicy bool
	// Node gives the cluster a node that runs its Pods (containerd, kubelet and
	// kube-proxy in a network namespace of its own), a kube-scheduler, and its own
	// DNS as a CoreDNS Deployment (see Node and StartClusterDNS). The cluster then
	// takes the Service range of its node's slot, and its API server serves at the
	// host's end of the node's link, where Pods of every cluster reach it. Needs root
	// (CanRunNodes).
	Node bool
}

// Cluster is one running control plane.
type Cluster struct {
	Name string
	Dir  string
	// AuditLogPath holds the API server's audit log of mutating requests.
	AuditLogPath   string
	Host           string
	ServiceCIDRs   []string
	KubeconfigPath string
	// Config is the admin's client configuration.
	Config *rest.Config

	Etcd              *Etcd
	APIServer         *Process
	ControllerManager *Process
	// Scheduler and Node run only in clusters with a node.
	Scheduler *Process
	Node      *Node
	// DNS is the cluster's own CoreDNS Deployment, in clusters with a node.
	DNS *ClusterDNS

	caPEM  []byte
	tokens map[string]string
}

// controllers are the kube-controller-manager controllers a control plane without
// nodes needs for namespaces, garbage collection and service accounts.
var controllers = strings.Join([]string{
	"namespace-controller",
	"garbage-collector-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"endpointslice-controller",
	"root-ca-certificate-publisher-controller",
	"service-cidr-controller",
	"validatingadmissionpolicy-status-controller",
}, ",")

// nodeControllers are the controllers a cluster with a node needs besides: workloads
// and the Pods they leave behind.
var nodeControllers = strings.Join([]string{
	"deployment-controller",
	"replicaset-controller",
	"statefulset-controller",
	"daemonset-controller",
	"job-controller",
	"pod-garbage-collector-controller",
	"endpointslice-mirroring-controller",
	"node-lifecycle-controller", // takes the not-ready taint off a Ready node
	// The node's local PersistentVolumes (ProvisionLocalVolumes): binding claims to
	// them, and keeping those in use.
	"persistentvolume-binder-controller",
	"persistentvolume-protection-controller",
	"persistentvolumeclaim-protection-controller",
}, ",")

// StartCluster starts a cluster and waits until its API server is ready.
func (l *Landscape) StartCluster(ctx context.Context, name string, opts ClusterOptions) (*Cluster, error) {
	start := time.Now()
	l.mu.Lock()
	if _, dup := l.clusters[name]; dup {
		l.mu.Unlock()
		return nil, fmt.Errorf("cluster %s already exists", name)
	}
	n := l.nextCIDR
	l.nextCIDR++
	l.mu.Unlock()

	dir := filepath.Join(l.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// A node's slot decides the cluster's Service range and where its API server is
	// reached, so it comes first.
	var node *Node
	if opts.Node {
		var err error
		if node, err = l.newNode(name, opts.DualStack); err != nil {
			return nil, fmt.Errorf("node of cluster %s: %w", name, err)
		}
		l.addCloser(func() error { return node.teardown() })
	}
	cidrs := opts.ServiceCIDRs
	if node != nil && len(cidrs) == 0 {
		for _, p := range node.Net.ServiceCIDRs {
			cidrs = append(cidrs, p.String())
		}
	}
	if len(cidrs) == 0 {
		cidrs = []string{fmt.Sprintf("10.%d.0.0/16", 96+n)}
		if opts.DualStack {
			cidrs = append(cidrs, fmt.Sprintf("fd00:10:%d::/112", 96+n))
		}
	}
	c := &Cluster{Name: name, Dir: dir, ServiceCIDRs: cidrs, Node: node, tokens: map[string]string{}}

	var etcd *Etcd
	var err error
	if l.opts.SharedEtcd {
		etcd, err = l.sharedEtcd(ctx)
	} else {
		etcd, err = l.StartEtcd(ctx, name+"-etcd")
	}
	if err != nil {
		return nil, fmt.Errorf("starting etcd of cluster %s: %w", name, err)
	}
	c.Etcd = etcd

	// Where the API server listens: loopback, or the host's end of the node's link.
	bindIP := "127.0.0.1"
	var extraIPs []net.IP
	if opts.BindIP.IsValid() && node == nil {
		bindIP = opts.BindIP.String()
		extraIPs = append(extraIPs, net.IP(opts.BindIP.AsSlice()))
	}
	if node != nil {
		bindIP = node.Net.HostIPs[0].String()
		extraIPs = append(extraIPs, net.ParseIP(bindIP))
		for _, cidr := range cidrs {
			if p, err := netip.ParsePrefix(cidr); err == nil {
				extraIPs = append(extraIPs, net.IP(p.Addr().Next().AsSlice())) // the kubernetes Service
			}
		}
	}
	p, err := writePKI(dir, extraIPs...)
	if err != nil {
		return nil, fmt.Errorf("writing certificates of cluster %s: %w", name, err)
	}
	c.caPEM = p.CAPEM
	var tokenFile strings.Builder
	users := append([]User{{Name: AdminUser, Groups: []string{"system:masters"}}}, opts.Users...)
	if node != nil {
		// The node's identities: the kubelet (Node authorizer) and kube-proxy (bound to
		// system:node-proxier by the bootstrap policy).
		users = append(users, User{Name: "system:node:" + node.Name, Groups: []string{"system:nodes"}}, User{Name: "system:kube-proxy"})
	}
	for _, u := range users {
		tok, err := randomToken()
		if err != nil {
			return nil, err
		}
		c.tokens[u.Name] = tok
		fmt.Fprintf(&tokenFile, "%s,%s,%s,%q\n", tok, u.Name, u.Name, strings.Join(u.Groups, ","))
	}
	auditPolicy, auditLog, err := writeAuditPolicy(dir)
	if err != nil {
		return nil, err
	}
	c.AuditLogPath = auditLog
	tokenPath := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokenPath, []byte(tokenFile.String()), 0o600); err != nil {
		return nil, err
	}

	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	c.Host = fmt.Sprintf("https://%s:%d", bindIP, ports[0])
	apiserver, err := l.Binary("kube-apiserver")
	if err != nil {
		return nil, err
	}
	authorization := "RBAC"
	var extraArgs []string
	if opts.MutatingAdmissionPolicy {
		extraArgs = append(extraArgs, "--feature-gates", "MutatingAdmissionPolicy=true", "--runtime-config", "admissionregistration.k8s.io/v1beta1=true")
	}
	if node != nil {
		authorization = "Node,RBAC"
		extraArgs = append(extraArgs,
			"--kubelet-client-certificate", p.KubeletClientCertPath,
			"--kubelet-client-key", p.KubeletClientKeyPath,
			"--kubelet-preferred-address-types", "InternalIP,Hostname",
		)
	}
	c.APIServer, err = l.Start(dir, "kube-apiserver", apiserver, append([]string{
		"--etcd-servers", etcd.Endpoint,
		"--etcd-prefix", "/registry/" + name,
		"--bind-address", bindIP,
		"--advertise-address", bindIP,
		"--secure-port", fmt.Sprint(ports[0]),
		"--tls-cert-file", p.CertPath,
		"--tls-private-key-file", p.KeyPath,
		"--service-account-key-file", p.SAKeyPath,
		"--service-account-signing-key-file", p.SAKeyPath,
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--token-auth-file", tokenPath,
		"--authorization-mode", authorization,
		"--service-cluster-ip-range", strings.Join(cidrs, ","),
		"--allow-privileged",
		"--profiling", // /debug/pprof for cluster-admin: the benchmark profiles API servers
		"--audit-policy-file", auditPolicy,
		"--audit-log-path", auditLog,
		"--audit-log-format", "json",
		"--v", "1",
	}, extraArgs...)...)
	if err != nil {
		return nil, err
	}
	c.Config = c.configFor(AdminUser)
	c.KubeconfigPath = filepath.Join(dir, "kubeconfig")
	if err := c.WriteKubeconfig(c.KubeconfigPath, AdminUser); err != nil {
		return nil, err
	}
	if err := c.WaitReady(ctx); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}

	if !opts.NoControllerManager {
		kcm, err := l.Binary("kube-controller-manager")
		if err != nil {
			return nil, err
		}
		ctrls := controllers
		if node != nil {
			ctrls += "," + nodeControllers
		}
		c.ControllerManager, err = l.Start(dir, "kube-controller-manager", kcm,
			"--kubeconfig", c.KubeconfigPath,
			"--authentication-kubeconfig", c.KubeconfigPath,
			"--authorization-kubeconfig", c.KubeconfigPath,
			"--leader-elect=false",
			"--controllers", ctrls,
			"--service-account-private-key-file", p.SAKeyPath,
			"--root-ca-file", p.CAPath,
			"--bind-address", "127.0.0.1",
			"--secure-port", fmt.Sprint(ports[1]),
			"--v", "1",
		)
		if err != nil {
			return nil, err
		}
		if err := c.waitHealthz(ctx, c.ControllerManager, fmt.Sprintf("https://127.0.0.1:%d/healthz", ports[1])); err != nil {
			return nil, fmt.Errorf("cluster %s: %w", name, err)
		}
	}

	if node != nil {
		if err := l.startScheduler(ctx, c, ports[2]); err != nil {
			return nil, err
		}
		if err := node.start(ctx, l, c, p.CAPath); err != nil {
			return nil, fmt.Errorf("node of cluster %s: %w", name, err)
		}
		if c.DNS, err = l.StartClusterDNS(ctx, c); err != nil {
			return nil, fmt.Errorf("DNS of cluster %s: %w", name, err)
		}
	}

	l.mu.Lock()
	l.clusters[name] = c
	l.mu.Unlock()
	l.opts.Logf("cluster %s ready in %s at %s (services %s)", name, time.Since(start).Round(100*time.Millisecond), c.Host, strings.Join(cidrs, ","))
	return c, nil
}

// startScheduler runs a kube-scheduler for the cluster's node, on loopback.
func (l *Landscape) startScheduler(ctx context.Context, c *Cluster, port int) error {
	bin, err := l.Binary("kube-scheduler")
	if err != nil {
		return err
	}
	c.Scheduler, err = l.Start(c.Dir, "kube-scheduler", bin,
		"--kubeconfig", c.KubeconfigPath,
		"--authentication-kubeconfig", c.KubeconfigPath,
		"--authorization-kubeconfig", c.KubeconfigPath,
		"--leader-elect=false",
		"--bind-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(port),
		"--v", "1",
	)
	if err != nil {
		return err
	}
	return c.waitHealthz(ctx, c.Scheduler, fmt.Sprintf("https://127.0.0.1:%d/healthz", port))
}

// StopAPIServer stops the cluster's API server (its etcd and data stay).
func (c *Cluster) StopAPIServer() { c.APIServer.Stop(10 * time.Second) }

// StartAPIServer starts a stopped API server again, on the same port, and waits
// until it is ready.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	if err := c.APIServer.Restart(10 * time.Second); err != nil {
		return err
	}
	return c.WaitReady(ctx)
}

// WaitReady polls the API server's /readyz until it answers ok.
func (c *Cluster) WaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	return c.APIServer.WaitFor(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return err
		}
		if string(body) != "ok" {
			return fmt.Errorf("readyz: %s", body)
		}
		return nil
	})
}

func (c *Cluster) waitHealthz(ctx context.Context, p *Process, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	// The controller manager serves a self-signed certificate of its own.
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // loopback health probe
	return p.WaitFor(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("healthz: %s", resp.Status)
		}
		return nil
	})
}

// UserConfig is the client configuration of one of the cluster's users.
func (c *Cluster) UserConfig(user string) (*rest.Config, error) {
	if _, ok := c.tokens[user]; !ok {
		return nil, fmt.Errorf("cluster %s has no user %s", c.Name, user)
	}
	return c.configFor(user), nil
}

func (c *Cluster) configFor(user string) *rest.Config {
	return &rest.Config{
		Host:            c.Host,
		BearerToken:     c.tokens[user],
		TLSClientConfig: rest.TLSClientConfig{CAData: c.caPEM},
		QPS:             100,
		Burst:           200,
	}
}

// Kubeconfig renders a kubeconfig for user.
func (c *Cluster) Kubeconfig(user string) ([]byte, error) {
	tok, ok := c.tokens[user]
	if !ok {
		return nil, fmt.Errorf("cluster %s has no user %s", c.Name, user)
	}
	cfg := clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{c.Name: {Server: c.Host, CertificateAuthorityData: c.caPEM}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{user: {Token: tok}},
		Contexts:       map[string]*clientcmdapi.Context{c.Name: {Cluster: c.Name, AuthInfo: user}},
		CurrentContext: c.Name,
	}
	return clientcmd.Write(cfg)
}

// WriteKubeconfig writes a kubeconfig for user to path.
func (c *Cluster) WriteKubeconfig(path, user string) error {
	b, err := c.Kubeconfig(user)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func randomToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
