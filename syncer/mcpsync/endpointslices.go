package mcpsync

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/translate"
)

// kindEndpointSlice labels the writes of tenant EndpointSlices in the metrics.
const kindEndpointSlice = "EndpointSlice"

// workloadEndpointSlices selects, in the MCP namespace of the workload cluster, the
// EndpointSlices of Services: those of the copies are among them. The workload
// cluster's EndpointSlice controller copies a Service's labels onto its slices, but
// the cache does not rely on that.
func workloadEndpointSlices() labels.Selector {
	req, err := labels.NewRequirement(discoveryv1.LabelServiceName, selection.Exists, nil)
	if err != nil {
		panic(err)
	}
	return labels.NewSelector().Add(*req)
}

// tenantEndpointSlices selects the syncer's own EndpointSlices in the tenant; the
// tenant's own are never read, and so never touched.
func tenantEndpointSlices() labels.Selector {
	return labels.SelectorFromSet(labels.Set{discoveryv1.LabelManagedBy: vcdnsv1alpha1.EndpointSliceManagedBy})
}

// syncEndpointSlices keeps the syncer's EndpointSlices of the tenant Service key: for a
// headless Service, the endpoints of its copy's workload EndpointSlices; for any other
// Service, for none (tenant or copy nil), none.
func (sc *syncContext) syncEndpointSlices(ctx context.Context, key types.NamespacedName, tenant, cp *corev1.Service) error {
	var workload discoveryv1.EndpointSliceList
	if tenant != nil && cp != nil {
		if err := sc.workload.List(ctx, &workload, client.InNamespace(sc.namespace), client.MatchingLabels{discoveryv1.LabelServiceName: cp.Name}); err != nil {
			return fmt.Errorf("listing the EndpointSlices of copy %s/%s: %w", sc.namespace, cp.Name, err)
		}
	}
	var current discoveryv1.EndpointSliceList
	if err := sc.tenant.List(ctx, &current, client.InNamespace(key.Namespace), client.MatchingLabels(translate.TenantEndpointSliceLabels(key.Name))); err != nil {
		return fmt.Errorf("listing the tenant EndpointSlices of Service %s: %w", key, err)
	}
	changes := translate.PlanEndpointSlices(current.Items, translate.TenantEndpointSlices(tenant, cp, workload.Items))
	logger := log.FromContext(ctx)
	for _, s := range changes.Delete {
		uid := s.UID
		if err := sc.tenant.Delete(ctx, &s, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting tenant EndpointSlice %s/%s: %w", s.Namespace, s.Name, err)
		}
		tenantWrites.WithLabelValues(kindEndpointSlice).Inc()
		logger.V(1).Info("Deleted tenant EndpointSlice", "endpointSlice", s.Namespace+"/"+s.Name)
	}
	for _, s := range changes.Update {
		if err := sc.tenant.Update(ctx, &s); err != nil {
			return fmt.Errorf("updating tenant EndpointSlice %s/%s: %w", s.Namespace, s.Name, err)
		}
		tenantWrites.WithLabelValues(kindEndpointSlice).Inc()
		logger.V(1).Info("Updated tenant EndpointSlice", "endpointSlice", s.Namespace+"/"+s.Name)
	}
	for _, s := range changes.Create {
		if err := sc.tenant.Create(ctx, &s); err != nil {
			return fmt.Errorf("creating tenant EndpointSlice %s/%s: %w", s.Namespace, s.Name, err)
		}
		tenantWrites.WithLabelValues(kindEndpointSlice).Inc()
		logger.V(1).Info("Created tenant EndpointSlice", "endpointSlice", s.Namespace+"/"+s.Name)
	}
	return nil
}

// endpointSliceWatches enqueues a tenant Service when an EndpointSlice of its copy on
// the workload cluster changes, or one of the syncer's slices of it in the tenant.
func endpointSliceWatches(s *Session, tenant, workload cluster.Cluster) []source.TypedSource[reconcile.Request] {
	toTenant := s.copyToTenant(translate.KindService)
	fromWorkload := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		name := obj.GetLabels()[discoveryv1.LabelServiceName]
		if name == "" {
			return nil
		}
		var cp corev1.Service
		if err := workload.GetClient().Get(ctx, types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}, &cp); err != nil {
			return nil
		}
		return toTenant(ctx, &cp)
	})
	fromTenant := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		name := obj.GetLabels()[discoveryv1.LabelServiceName]
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}}}
	})
	return []source.TypedSource[reconcile.Request]{
		source.Kind(workload.GetCache(), client.Object(&discoveryv1.EndpointSlice{}), fromWorkload),
		source.Kind(tenant.GetCache(), client.Object(&discoveryv1.EndpointSlice{}), fromTenant),
	}
}
