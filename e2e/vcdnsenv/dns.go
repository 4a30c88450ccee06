package vcdnsenv

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vcdns/vcdns/e2e/dataplane"
	"github.com/vcdns/vcdns/e2e/landscape"
)

// ClusterCorefile is the Corefile a workload cluster's own CoreDNS starts with, like
// a kubeadm cluster's; it reads the cluster's API with the kubeconfig in
// $VCDNS_KUBECONFIG. The syncer adds its block for the base domain.
const ClusterCorefile = `. {
    bind {$VCDNS_BIND}
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig {$VCDNS_KUBECONFIG}
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
}
`

// CentralDNS is the central etcd and the CoreDNS that serves it.
type CentralDNS struct {
	Etcd *landscape.Etcd
	DNS  *landscape.CoreDNS
}

// CentralCorefileEnv is the environment variable the central Corefile reads the etcd
// endpoint from.
const CentralCorefileEnv = "VCDNS_ETCD_ENDPOINTS"

// The environment variables the central Corefile reads its etcd client certificate,
// key and the etcd CA from.
const (
	CentralCorefileEnvTLSCert = "VCDNS_ETCD_TLS_CERT"
	CentralCorefileEnvTLSKey  = "VCDNS_ETCD_TLS_KEY"
	CentralCorefileEnvTLSCA   = "VCDNS_ETCD_TLS_CA"
)

// The client certificates of the central etcd besides the landscape's own.
const (
	EtcdClientSyncer  = "syncer"
	EtcdClientCoreDNS = "coredns"
)

// CentralEtcdOptions is the central etcd: clients and peers over TLS, a client
// certificate for the syncer and one for the central CoreDNS.
var CentralEtcdOptions = landscape.EtcdOptions{TLS: true, Clients: []string{EtcdClientSyncer, EtcdClientCoreDNS}}

// CentralCorefileEnvOf is the environment of a CoreDNS running the central Corefile
// against etcd: its endpoint, and the CoreDNS client certificate.
func CentralCorefileEnvOf(etcd *landscape.Etcd) (map[string]string, error) {
	env := map[string]string{CentralCorefileEnv: etcd.Endpoint}
	if etcd.TLS == nil {
		return nil, fmt.Errorf("etcd %s serves no TLS; the central Corefile asks for it", etcd.Name)
	}
	f, ok := etcd.TLS.Clients[EtcdClientCoreDNS]
	if !ok {
		return nil, fmt.Errorf("etcd %s has no client certificate %q", etcd.Name, EtcdClientCoreDNS)
	}
	env[CentralCorefileEnvTLSCert], env[CentralCorefileEnvTLSKey], env[CentralCorefileEnvTLSCA] = f.Cert, f.Key, f.CA
	return env, nil
}

// SyncerEtcdArgs are the syncer's flags for etcd: its endpoint and the syncer's client
// certificate, or --central-etcd-insecure-plaintext for a plain HTTP etcd.
func SyncerEtcdArgs(etcd *landscape.Etcd) []string {
	args := []string{"--central-etcd-endpoints", etcd.Endpoint}
	if etcd.TLS == nil {
		return append(args, "--central-etcd-insecure-plaintext")
	}
	f := etcd.TLS.Clients[EtcdClientSyncer]
	return append(args, "--central-etcd-ca-file", f.CA, "--central-etcd-cert-file", f.Cert, "--central-etcd-key-file", f.Key)
}

// CentralCorefile is the Corefile config/central-dns ships.
func CentralCorefile() (string, error) {
	root, err := landscape.RepoRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, "config", "central-dns", "Corefile"))
	return string(b), err
}

// StartCentralDNS starts the central etcd, serving mutual TLS, and a CoreDNS running
// the Corefile config/central-dns ships, with its client certificate, serving on bind
// (loopback, or on a landscape with nodes an address their Pods reach, as every
// cluster's CoreDNS forwards to it).
func (e *Env) StartCentralDNS(ctx context.Context, bind netip.Addr) (*CentralDNS, error) {
	etcd, err := e.L.StartEtcdWith(ctx, "central-etcd", CentralEtcdOptions)
	if err != nil {
		return nil, err
	}
	corefile, err := CentralCorefile()
	if err != nil {
		return nil, err
	}
	env, err := CentralCorefileEnvOf(etcd)
	if err != nil {
		return nil, err
	}
	dns, err := e.L.StartCoreDNSOn(ctx, bind, "central-dns", "coredns", corefile, env)
	if err != nil {
		return nil, err
	}
	e.Central = &CentralDNS{Etcd: etcd, DNS: dns}
	return e.Central, nil
}

// WriteClusterCorefile creates the kube-system/coredns ConfigMap of a workload cluster.
func (e *Env) WriteClusterCorefile(ctx context.Context, c *landscape.Cluster) error {
	cl, err := client.New(c.Config, client.Options{Scheme: Scheme})
	if err != nil {
		return err
	}
	return cl.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "coredns"},
		Data:       map[string]string{"Corefile": ClusterCorefile},
	})
}

// ClusterCorefileNow reads a workload cluster's Corefile as it is now.
func (e *Env) ClusterCorefileNow(ctx context.Context, c *landscape.Cluster) (string, error) {
	cl, err := client.New(c.Config, client.Options{Scheme: Scheme})
	if err != nil {
		return "", err
	}
	var cm corev1.ConfigMap
	if err := cl.Get(ctx, types.NamespacedName{Namespace: "kube-system", Name: "coredns"}, &cm); err != nil {
		return "", err
	}
	return cm.Data["Corefile"], nil
}

// StartClusterDNS runs a workload cluster's own CoreDNS from the Corefile in its
// ConfigMap exactly as it is now (as the syncer patched it).
func (e *Env) StartClusterDNS(ctx context.Context, c *landscape.Cluster) (*landscape.CoreDNS, error) {
	corefile, err := e.ClusterCorefileNow(ctx, c)
	if err != nil {
		return nil, err
	}
	return e.L.StartCoreDNSEnv(ctx, "cluster-dns-"+c.Name, "coredns", corefile, map[string]string{"VCDNS_KUBECONFIG": c.KubeconfigPath})
}

// startDataPlane runs the simulated data plane (gateway controller, load balancer) of
// the n-th workload cluster, handing out 172.18.n.0/24 and fd00:172:18:n::/112, or on
// a cluster with a node the node's pools, whose addresses carry traffic.
func (e *Env) startDataPlane(ctx context.Context, c *landscape.Cluster, n int, dualStack bool, class string) error {
	opts := dataplane.Options{IPv4Pool: netip.MustParsePrefix(fmt.Sprintf("172.18.%d.0/24", n)), GatewayClass: class}
	if dualStack {
		opts.IPv6Pool = netip.MustParsePrefix(fmt.Sprintf("fd00:172:18:%d::/112", n))
	}
	if c.Node != nil {
		opts.IPv4Pool, opts.IPv6Pool, opts.ForwardIPs = c.Node.Net.LBPools[0], netip.Prefix{}, c.Node.Net.HostIPs
		if len(c.Node.Net.LBPools) > 1 {
			opts.IPv6Pool = c.Node.Net.LBPools[1]
		}
	}
	return dataplane.Start(ctx, c.Config, opts)
}
