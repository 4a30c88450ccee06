package vcdnsenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/images"
)

// The objects of config/default that Deploy waits for, in ClusterNamespace.
const (
	EtcdStatefulSet      = "vcdns-etcd"
	CentralDNSDeployment = "vcdns-central-dns"
	CentralDNSService    = "vcdns-central-dns"
	SyncerDeployment     = "vcdns-syncer"
	// SyncerLease is the syncer's leader election Lease (--leader-election-id).
	SyncerLease = "vcdns-syncer"
)

// EtcdMembers is the number of members of the central etcd in config/central-dns.
const EtcdMembers = 3

// SyncerReplicas is the number of syncer replicas Deploy runs: one leader, one
// standby.
const SyncerReplicas = 2

// Deployment is vcdns as Deploy deployed it onto the platform's node.
type Deployment struct {
	// Overlay is the folder of the kustomization applied to the platform.
	Overlay string
	// CentralDNSAddress is the load-balancer address of the Service
	// vcdns-central-dns, which every registered cluster's CoreDNS forwards the base
	// domain to.
	CentralDNSAddress string
	// Volumes are the local PersistentVolumes provisioned for the etcd members.
	Volumes []string
	// CertSecrets are the Secrets of the central etcd's certificates (mutual TLS), in
	// ClusterNamespace, made as config/samples/cert-manager describes them.
	CertSecrets []string
}

// Deploy deploys vcdns onto the platform's node from config/default, as the README's
// "Deploying with config/" tells users to: local PersistentVolumes for the etcd
// members; the Secrets of the central etcd's certificates (CentralDNSCertSecrets, in
// place of cert-manager); a kustomize overlay written into dir that sets the images of `make images`
// (imported into the node, never pulled), the StorageClass of those volumes and the
// syncer's replicas; `kubectl apply --server-side -k` of it; then, once the Service
// vcdns-central-dns has a load-balancer address, the syncer's --central-dns-address
// added to the overlay and applied again. It returns when the etcd members, the
// central CoreDNS and the syncer are all ready. The Spec needs PlatformNode.
func (e *Env) Deploy(ctx context.Context, dir string) (*Deployment, error) {
	if e.Platform.Node == nil {
		return nil, errors.New("deploying vcdns needs a platform cluster with a node (Spec.PlatformNode)")
	}
	start := time.Now()
	cs, err := kubernetes.NewForConfig(e.Platform.Config)
	if err != nil {
		return nil, err
	}
	d := &Deployment{Overlay: dir}
	if d.Volumes, err = e.Platform.ProvisionLocalVolumes(ctx, EtcdMembers, resource.MustParse("1Gi")); err != nil {
		return nil, err
	}
	secrets, err := CentralDNSCertSecrets()
	if err != nil {
		return nil, err
	}
	for _, s := range secrets {
		if _, err := cs.CoreV1().Secrets(s.Namespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("creating the certificate Secret %s/%s: %w", s.Namespace, s.Name, err)
		}
		d.CertSecrets = append(d.CertSecrets, s.Name)
	}
	root, err := landscape.RepoRoot()
	if err != nil {
		return nil, err
	}
	// kustomize takes a base only by a relative path: given an absolute one, it
	// renders nothing, without an error.
	base, err := filepath.Rel(dir, filepath.Join(root, "config", "default"))
	if err != nil {
		return nil, err
	}
	if err := e.applyOverlay(ctx, dir, Overlay(base, "")); err != nil {
		return nil, err
	}
	if d.CentralDNSAddress, err = waitLoadBalancerAddress(ctx, cs, ClusterNamespace, CentralDNSService, 2*time.Minute); err != nil {
		return nil, err
	}
	if err := e.applyOverlay(ctx, dir, Overlay(base, d.CentralDNSAddress)); err != nil {
		return nil, err
	}
	if err := landscape.WaitStatefulSetReady(ctx, cs, ClusterNamespace, EtcdStatefulSet, 3*time.Minute); err != nil {
		return nil, err
	}
	for _, name := range []string{CentralDNSDeployment, SyncerDeployment} {
		if err := landscape.WaitDeploymentReady(ctx, cs, ClusterNamespace, name, 3*time.Minute); err != nil {
			return nil, err
		}
	}
	e.L.Logf("vcdns deployed onto the platform's node in %s: central DNS at %s, overlay %s", time.Since(start).Round(100*time.Millisecond), d.CentralDNSAddress, dir)
	return d, nil
}

// applyOverlay writes the kustomization into dir and applies it to the platform with
// kubectl, server-side, as a user does.
func (e *Env) applyOverlay(ctx context.Context, dir, kustomization string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		return err
	}
	kubectl, err := e.L.Binary("kubectl")
	if err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", e.Platform.KubeconfigPath, "apply", "--server-side", "-k", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("kubectl apply --server-side -k %s: %w\n%s", dir, err, out)
	}
	return nil
}

// Overlay is the kustomization Deploy applies, and the kind demo too (`vcdns-demo
// overlay`): config/default (base, relative to the overlay's folder) with the images
// of `make images`, which the landscapes load into every node (pull policy Never),
// SyncerReplicas syncers, and, unless empty, the central DNS's address for the syncer.
// The etcd members claim the cluster's default StorageClass: the landscape's local
// volumes here, kind's "standard" there.
func Overlay(base, centralDNSAddress string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by vcdnsenv.Overlay (make demo, and the kind demo through vcdns-demo overlay):
# config/default with the images of make images.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- %s
images:
`, base)
	for _, img := range []images.Image{images.Syncer, images.CoreDNS, images.Etcd} {
		name, tag, _ := strings.Cut(img.Ref(), ":")
		fmt.Fprintf(&b, "- name: %s\n  newName: %s\n  newTag: %s\n", name, name, tag)
	}
	fmt.Fprintf(&b, `patches:
# The images are imported into the node; there is no registry to pull from.
- target:
    kind: Deployment
  patch: |
    - op: replace
      path: /spec/template/spec/containers/0/imagePullPolicy
      value: Never
- target:
    kind: StatefulSet
    name: %[1]s
  patch: |
    - op: replace
      path: /spec/template/spec/containers/0/imagePullPolicy
      value: Never
- target:
    kind: Deployment
    name: %[2]s
  patch: |
    - op: replace
      path: /spec/replicas
      value: %[3]d
`, EtcdStatefulSet, SyncerDeployment, SyncerReplicas)
	if centralDNSAddress != "" {
		fmt.Fprintf(&b, `    - op: add
      path: /spec/template/spec/containers/0/args/-
      value: --central-dns-address=%s
`, centralDNSAddress)
	}
	return b.String()
}

// waitLoadBalancerAddress polls until the Service has a load-balancer address.
func waitLoadBalancerAddress(ctx context.Context, cs kubernetes.Interface, ns, name string, timeout time.Duration) (string, error) {
	var addr string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		svc, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil || len(svc.Status.LoadBalancer.Ingress) == 0 {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		addr = svc.Status.LoadBalancer.Ingress[0].IP
		return addr != "", nil
	})
	if err != nil {
		return "", fmt.Errorf("Service %s/%s has no load-balancer address: %w", ns, name, err)
	}
	return addr, nil
}

// ApplySamples registers the landscape's workload clusters and tenant control planes
// from config/samples, as a user does: the samples applied to the platform with the
// placeholder kubeconfigs replaced by the landscape's (of SyncerUser). A sample Secret
// <name>-kubeconfig in ClusterNamespace is the workload cluster <name>'s, one in
// another namespace the tenant control plane <namespace>/<name>'s; a Secret the
// landscape has no cluster for is an error.
func (e *Env) ApplySamples(ctx context.Context) error {
	root, err := landscape.RepoRoot()
	if err != nil {
		return err
	}
	objs, err := Render(filepath.Join(root, "config", "samples"))
	if err != nil {
		return err
	}
	for _, o := range objs {
		if o.GetKind() != "Secret" {
			continue
		}
		name := strings.TrimSuffix(o.GetName(), "-kubeconfig")
		c := e.Tenants[o.GetNamespace()+"/"+name]
		if o.GetNamespace() == ClusterNamespace {
			c = e.Workloads[name]
		}
		if c == nil {
			return fmt.Errorf("sample Secret %s/%s: the landscape has no cluster for it", o.GetNamespace(), o.GetName())
		}
		kc, err := c.Kubeconfig(SyncerUser)
		if err != nil {
			return err
		}
		if err := unstructured.SetNestedField(o.Object, string(kc), "stringData", "kubeconfig"); err != nil {
			return err
		}
	}
	// Namespaces first, then the rest.
	for _, namespaces := range []bool{true, false} {
		var batch []*unstructured.Unstructured
		for _, o := range objs {
			if (o.GetKind() == "Namespace") == namespaces {
				batch = append(batch, o)
			}
		}
		if err := Apply(ctx, e.Platform.Config, batch); err != nil {
			return err
		}
	}
	return nil
}
