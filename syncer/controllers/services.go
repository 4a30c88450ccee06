package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/translate"
)

// serviceSync reconciles one tenant Service of one MCP: its copy in the MCP namespace
// of the workload cluster, and the copy's IPs back into the tenant Service.
type serviceSync struct {
	session   *Session
	tenant    client.Client // cached reads of the tenant API
	workload  client.Client // cached reads of the MCP namespace on the workload cluster
	namespace string
	mcp       types.NamespacedName
	tenantDNS types.NamespacedName
}

func (r *serviceSync) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	logger := log.FromContext(ctx)
	tenant := &corev1.Service{}
	if err := r.tenant.Get(ctx, req.NamespacedName, tenant); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, fmt.Errorf("reading tenant Service: %w", err)
		}
		tenant = nil
	}

	copyKey := types.NamespacedName{Namespace: r.namespace, Name: naming.CopyName(req.Namespace, req.Name)}
	cp := &corev1.Service{}
	if err := r.workload.Get(ctx, copyKey, cp); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, fmt.Errorf("reading copy %s: %w", copyKey, err)
		}
		cp = nil
	}
	if cp != nil && !r.ours(cp, req.NamespacedName) {
		// Someone else's object sits where the copy belongs; it is never touched.
		logger.Info("Object in the way of the copy has no matching origin, leaving it alone", "copy", copyKey.String())
		cp = nil
		if tenant != nil {
			return reconcile.Result{}, r.backUp(ctx, tenant, nil)
		}
		return reconcile.Result{}, nil
	}

	if tenant == nil || translate.SkipService(tenant, r.tenantDNS) {
		if cp != nil {
			if err := r.deleteCopy(ctx, cp); err != nil {
				return reconcile.Result{}, err
			}
			logger.Info("Deleted copy", "copy", copyKey.String())
		}
		r.session.setSynced(translate.KindService, req.NamespacedName, false, true)
		if tenant != nil {
			// Never synced, but a value someone put into the annotation is removed.
			return reconcile.Result{}, r.backUp(ctx, tenant, nil)
		}
		return reconcile.Result{}, nil
	}

	origin := translate.Origin{
		MCP: r.mcp, MCPNamespace: r.namespace,
		Kind: "Service", Namespace: tenant.Namespace, Name: tenant.Name, UID: tenant.UID,
	}
	if cp != nil {
		if o, _ := translate.OriginOf(cp); o.UID != tenant.UID {
			// A copy of an earlier tenant Service of the same name: replace it.
			if err := r.deleteCopy(ctx, cp); err != nil {
				return reconcile.Result{}, err
			}
			cp = nil
		}
	}
	desired := translate.ServiceCopy(tenant, origin)
	if cp != nil && translate.ServiceNeedsRecreate(cp, desired) {
		// Headless-ness, the primary IP family and a load balancer's class cannot change
		// in place: the copy is replaced.
		if err := r.deleteCopy(ctx, cp); err != nil {
			return reconcile.Result{}, err
		}
		logger.Info("Replacing copy whose immutable fields changed", "copy", copyKey.String())
		cp = nil
	}
	if cp == nil {
		if err := r.workload.Create(ctx, desired); err != nil {
			return reconcile.Result{}, fmt.Errorf("creating copy %s: %w", copyKey, err)
		}
		copyWrites.WithLabelValues(translate.KindService, "create").Inc()
		logger.V(1).Info("Created copy", "copy", copyKey.String())
		cp = desired
	} else if merged, changed := translate.MergeService(cp, desired); changed {
		if err := r.workload.Update(ctx, merged); err != nil {
			return reconcile.Result{}, fmt.Errorf("updating copy %s: %w", copyKey, err)
		}
		copyWrites.WithLabelValues(translate.KindService, "update").Inc()
		logger.V(1).Info("Updated copy", "copy", copyKey.String())
		cp = merged
	}
	if err := r.backUp(ctx, tenant, cp); err != nil {
		return reconcile.Result{}, err
	}
	_, hasIPs := translate.ClusterIPValue(cp)
	r.session.setSynced(translate.KindService, req.NamespacedName, hasIPs || isHeadlessOrExternal(cp), false)
	return reconcile.Result{}, nil
}

// backUp writes what the copy says into the tenant Service: the clusterIP annotation
// (or its removal) and the load-balancer status. It writes only what differs.
func (r *serviceSync) backUp(ctx context.Context, tenant, cp *corev1.Service) error {
	value, remove := translate.DesiredTenantAnnotation(tenant, cp)
	current, has := tenant.Annotations[naming.ClusterIPAnnotation]
	if (remove && has) || (!remove && (!has || current != value)) {
		patched := tenant.DeepCopy()
		if remove {
			delete(patched.Annotations, naming.ClusterIPAnnotation)
		} else {
			if patched.Annotations == nil {
				patched.Annotations = map[string]string{}
			}
			patched.Annotations[naming.ClusterIPAnnotation] = value
		}
		// Optimistic locking: a concurrent change of the tenant Service makes this fail
		// and the reconcile runs again on the newer object.
		if err := r.tenant.Patch(ctx, patched, client.MergeFromWithOptions(tenant, client.MergeFromWithOptimisticLock{})); err != nil {
			return fmt.Errorf("writing the clusterIP annotation of tenant Service %s/%s: %w", tenant.Namespace, tenant.Name, err)
		}
		tenantWrites.WithLabelValues(translate.KindService).Inc()
		tenant = patched
	}
	if cp == nil {
		return nil
	}
	status := translate.TenantServiceStatus(cp)
	if !apiequality.Semantic.DeepEqual(tenant.Status.LoadBalancer, status.LoadBalancer) {
		patched := tenant.DeepCopy()
		patched.Status.LoadBalancer = status.LoadBalancer
		if err := r.tenant.Status().Patch(ctx, patched, client.MergeFrom(tenant)); err != nil {
			return fmt.Errorf("writing the load-balancer status of tenant Service %s/%s: %w", tenant.Namespace, tenant.Name, err)
		}
		tenantWrites.WithLabelValues(translate.KindService).Inc()
	}
	return nil
}

func (r *serviceSync) deleteCopy(ctx context.Context, cp *corev1.Service) error {
	uid := cp.UID
	err := r.workload.Delete(ctx, cp, client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting copy %s/%s: %w", cp.Namespace, cp.Name, err)
	}
	copyWrites.WithLabelValues(translate.KindService, "delete").Inc()
	return nil
}

// ours reports whether obj is a copy this MCP made of the tenant Service key.
func (r *serviceSync) ours(obj *corev1.Service, key types.NamespacedName) bool {
	o, ok := translate.OriginOf(obj)
	return ok && o.MCP == r.mcp && o.Kind == "Service" && o.Namespace == key.Namespace && o.Name == key.Name
}

func isHeadlessOrExternal(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.ClusterIP == corev1.ClusterIPNone
}
