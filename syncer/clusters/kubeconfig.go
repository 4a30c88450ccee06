// Package remote turns kubeconfig Secrets into client configurations for the clusters
// the syncer talks to, with deliberate rate limits, and probes their reachability.
package clusters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
)

// Limits are the client-side rate limits of one remote client. client-go's default of
// 5 QPS would make a tenant with thousands of Services take minutes to sync.
type Limits struct {
	QPS   float32
	Burst int
}

// Kubeconfig is a remote cluster's client configuration and a hash of the kubeconfig
// it came from, so that a changed Secret restarts what uses it.
type Kubeconfig struct {
	Config *rest.Config
	Hash   string
}

// fromSecret reads the kubeconfig ref points at, in namespace, through c.
func fromSecret(ctx context.Context, c client.Reader, namespace string, ref vcdnsv1alpha1.SecretKeyReference, limits Limits) (*Kubeconfig, error) {
	var secret corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, &secret); err != nil {
		return nil, fmt.Errorf("reading kubeconfig Secret %s/%s: %w", namespace, ref.Name, err)
	}
	key := ref.Key
	if key == "" {
		key = "kubeconfig"
	}
	data, ok := secret.Data[key]
	if !ok || len(data) == 0 {
		return nil, fmt.Errorf("kubeconfig Secret %s/%s has no key %q", namespace, ref.Name, key)
	}
	return Parse(data, limits)
}

// Parse builds a client configuration from kubeconfig bytes.
func Parse(data []byte, limits Limits) (*Kubeconfig, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("parsing kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = limits.QPS, limits.Burst
	cfg.Timeout = 30 * time.Second
	sum := sha256.Sum256(data)
	return &Kubeconfig{Config: cfg, Hash: hex.EncodeToString(sum[:8])}, nil
}

// NewCluster is cluster.New for a remote cluster, with what every cache of one needs.
//
// Its client keeps cfg.Timeout, its cache watches without it. client-go applies the
// HTTP client's timeout to watches too, so with it every informer would end its watch
// after 30s and watch again from the resource version it last saw; once that version
// has left the API server's watch cache (the workload cluster's, within a minute or two
// of steady Service creates), the informer lists everything again: a few hundred MB of
// garbage and a second of both the syncer's and the API server's CPU for 10 000 copies.
// Without the timeout the reflectors choose their own (5-10 minutes) and the API
// server's bookmarks keep their resource versions current.
//
// Its cache drops managedFields, which the syncer never reads and which are a good part
// of every cached object: without them the heap, and the garbage collector's work,
// shrink. opts may set another transform.
func NewCluster(cfg *rest.Config, opts ...cluster.Option) (cluster.Cluster, error) {
	watchCfg := rest.CopyConfig(cfg)
	watchCfg.Timeout = 0
	watchClient, err := rest.HTTPClientFor(watchCfg)
	if err != nil {
		return nil, err
	}
	all := append([]cluster.Option{func(o *cluster.Options) {
		o.Cache.DefaultTransform = cache.TransformStripManagedFields()
	}}, opts...)
	return cluster.New(cfg, append(all, func(o *cluster.Options) {
		o.Cache.HTTPClient = watchClient
	})...)
}

// Probe asks the API server's /readyz, within timeout.
func Probe(ctx context.Context, cfg *rest.Config, timeout time.Duration) error {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = timeout
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("probing %s: %w", cfg.Host, err)
	}
	if string(body) != "ok" {
		return fmt.Errorf("probing %s: readyz says %q", cfg.Host, body)
	}
	return nil
}
