package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/clusters"
	"github.com/vcdns/vcdns/syncer/dns/corefile"
	"github.com/vcdns/vcdns/syncer/dns/hostname"
	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/tenantdns"
)

// coreDNSLocation is where a cluster's Corefile lives, defaults applied.
func coreDNSLocation(c *vcdnsv1alpha1.Cluster) (types.NamespacedName, string) {
	loc := c.Spec.CoreDNS
	key := types.NamespacedName{Namespace: loc.Namespace, Name: loc.Name}
	if key.Namespace == "" {
		key.Namespace = "kube-system"
	}
	if key.Name == "" {
		key.Name = "coredns"
	}
	if loc.Key == "" {
		return key, "Corefile"
	}
	return key, loc.Key
}

func (r *ClusterReconciler) baseDomain(cluster string) string {
	return hostname.ClusterDomain(cluster, r.Options.DNS.BaseDomain)
}

// patchCorefile keeps (or, with remove, removes) the vcdns block in the cluster's
// Corefile. A Corefile that does not parse is left untouched. It returns the reason and
// message of the CorefilePatched condition, and whether the Corefile is as it should be.
func (r *ClusterReconciler) patchCorefile(ctx context.Context, cluster *vcdnsv1alpha1.Cluster, remote *clusters.Remote, remove bool) (string, string, bool) {
	c := remote.Client
	var err error
	key, dataKey := coreDNSLocation(cluster)
	var cm corev1.ConfigMap
	if err := c.Get(ctx, key, &cm); err != nil {
		if apierrors.IsNotFound(err) && remove {
			return "Removed", "No Corefile", true
		}
		return "ConfigMapUnavailable", fmt.Sprintf("Reading ConfigMap %s: %v", key, err), false
	}
	current, ok := cm.Data[dataKey]
	if !ok && remove {
		return "Removed", fmt.Sprintf("ConfigMap %s has no key %q", key, dataKey), true
	}
	if !ok {
		return "CorefileMissing", fmt.Sprintf("ConfigMap %s has no key %q", key, dataKey), false
	}
	var next []byte
	if remove {
		next, err = corefile.Remove([]byte(current))
	} else {
		next, err = corefile.Patch([]byte(current), corefile.Block{Zone: r.Options.DNS.BaseDomain, Upstreams: r.Options.DNS.CentralDNS})
	}
	if err != nil {
		reason := "PatchFailed"
		if errors.Is(err, corefile.ErrInvalid) {
			reason = "CorefileInvalid"
		}
		return reason, fmt.Sprintf("The Corefile in ConfigMap %s is left untouched: %v", key, err), false
	}
	if string(next) != current {
		patched := cm.DeepCopy()
		patched.Data[dataKey] = string(next)
		if err := c.Patch(ctx, patched, client.MergeFromWithOptions(&cm, client.MergeFromWithOptimisticLock{})); err != nil {
			return "WriteFailed", fmt.Sprintf("Writing ConfigMap %s: %v", key, err), false
		}
		log.FromContext(ctx).Info("Wrote the vcdns block of the Corefile", "configMap", key.String(), "removed", remove)
	}
	if remove {
		return "Removed", "The vcdns block is removed", true
	}
	return "Patched", fmt.Sprintf("ConfigMap %s forwards %s to %v", key, r.Options.DNS.BaseDomain, r.Options.DNS.CentralDNS), true
}

// deregister removes what the syncer did for a Cluster that is being deleted: its
// published names and its Corefile block. A cluster that cannot be reached keeps the
// finalizer, so that the block is not forgotten, unless the Cluster is annotated to
// skip that cleanup; the Deleting condition says what it waits for. The published
// names go in any case: they are in the central DNS, not on the cluster.
func (r *ClusterReconciler) deregister(ctx context.Context, cluster *vcdnsv1alpha1.Cluster) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(cluster, vcdnsv1alpha1.Finalizer) {
		return ctrl.Result{}, nil
	}
	if r.Publisher.Enabled() {
		r.Publisher.Stop(cluster.Name)
		if err := r.Publisher.Unpublish(ctx, cluster.Name); err != nil {
			if rerr := reportDeleting(ctx, r.Client, r.Recorder, cluster, "UnpublishFailed", fmt.Sprintf("Removing the cluster's names from the central DNS: %v", err)); rerr != nil {
				return ctrl.Result{}, rerr
			}
			return ctrl.Result{}, err
		}
	}
	var left []string
	if len(r.Options.DNS.CentralDNS) > 0 {
		remote, err := r.Tracker.GetCluster(ctx, cluster)
		if err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		if remote != nil {
			if reason, msg, ok := r.patchCorefile(ctx, cluster, remote, true); !ok {
				what := fmt.Sprintf("the vcdns block of the CoreDNS Corefile (%s)", reason)
				if !skipRemoteCleanup(cluster) {
					if rerr := reportDeleting(ctx, r.Client, r.Recorder, cluster, vcdnsv1alpha1.ReasonCleanupFailed, blockedMessage("Removing "+what, errors.New(msg))); rerr != nil {
						return ctrl.Result{}, rerr
					}
					log.FromContext(ctx).Info("Waiting to remove the Corefile block", "reason", reason, "error", msg)
					return ctrl.Result{RequeueAfter: r.Options.ProbeInterval}, nil
				}
				left = append(left, fmt.Sprintf("%s: %s", what, msg))
			}
		}
	}
	r.removePodDNSPolicy(ctx, cluster)
	if err := removeFinalizer(ctx, r.Client, cluster); err != nil {
		return ctrl.Result{}, err
	}
	announceSkipped(r.Recorder, cluster, left)
	log.FromContext(ctx).Info("Deregistered cluster")
	return ctrl.Result{}, nil
}

// removePodDNSPolicy removes the Pod DNS policy and its binding from a cluster being
// deregistered, as far as the cluster answers: without the syncer, the parameters of
// its MCP namespaces are no longer kept, and the policy would refuse their Pods.
func (r *ClusterReconciler) removePodDNSPolicy(ctx context.Context, cluster *vcdnsv1alpha1.Cluster) {
	remote, err := r.Tracker.GetCluster(ctx, cluster)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	policy, binding := tenantdns.PodDNSPolicy(nil, naming.LabelMCP)
	for _, obj := range []client.Object{binding, policy} {
		if err := remote.Client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err) {
			log.FromContext(ctx).Info("Could not remove the Pod DNS policy", "object", obj.GetName(), "error", err.Error())
		}
	}
}
