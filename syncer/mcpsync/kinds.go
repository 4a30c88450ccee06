package mcpsync

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/gatewayapi"
	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/translate"
)

// syncedKind is one kind of the registry: its objects and its sync.
type syncedKind struct {
	name    string
	newObj  func() client.Object
	newList func() client.ObjectList
	newSync func(sc *syncContext, tenantDNS types.NamespacedName) reconcile.Reconciler
	// routes: attachment depends on the tenant's Gateways and namespaces, references
	// on its ReferenceGrants; a change of any of them syncs every object again.
	routes bool
	// watches, if set, returns further sources of tenant objects to sync: what the
	// kind's sync reads besides the tenant object and its copy.
	watches func(s *Session, tenant, workload cluster.Cluster) []source.TypedSource[reconcile.Request]
}

// kinds is the registry of the kinds a session syncs, in order.
var kinds = []syncedKind{
	{name: translate.KindService,
		newObj:  func() client.Object { return &corev1.Service{} },
		newList: func() client.ObjectList { return &corev1.ServiceList{} },
		newSync: func(sc *syncContext, tenantDNS types.NamespacedName) reconcile.Reconciler {
			return newServiceSync(sc, tenantDNS)
		},
		watches: endpointSliceWatches},
	{name: translate.KindGateway,
		newObj:  func() client.Object { return &gatewayv1.Gateway{} },
		newList: func() client.ObjectList { return &gatewayv1.GatewayList{} },
		newSync: func(sc *syncContext, _ types.NamespacedName) reconcile.Reconciler { return newGatewaySync(sc) }},
	{name: translate.KindHTTPRoute,
		newObj:  func() client.Object { return &gatewayv1.HTTPRoute{} },
		newList: func() client.ObjectList { return &gatewayv1.HTTPRouteList{} },
		newSync: func(sc *syncContext, _ types.NamespacedName) reconcile.Reconciler { return newHTTPRouteSync(sc) },
		routes:  true},
	{name: translate.KindIngress,
		newObj:  func() client.Object { return &networkingv1.Ingress{} },
		newList: func() client.ObjectList { return &networkingv1.IngressList{} },
		newSync: func(sc *syncContext, _ types.NamespacedName) reconcile.Reconciler { return newIngressSync(sc) }},
}

// statusUp returns the tenant object with status, and whether that changed it.
func statusUp[T client.Object, S any](t T, current *S, status S, set func(T, S)) (T, bool) {
	if apiequality.Semantic.DeepEqual(*current, status) {
		return t, false
	}
	u := t.DeepCopyObject().(T)
	set(u, status)
	return u, true
}

// newServiceSync syncs Services: the copy's IPs go back up into the clusterIP
// annotation (which only the syncer writes: what anyone else put there is corrected,
// even when the copy is blocked), its load-balancer status into the status, and the
// endpoints of a headless copy into EndpointSlices of the syncer's in the tenant.
func newServiceSync(sc *syncContext, tenantDNS types.NamespacedName) *kindSync[*corev1.Service] {
	return &kindSync[*corev1.Service]{
		syncContext:       sc,
		kind:              translate.KindService,
		announcedRefusals: &lastRefusals{},
		newObj:            func() *corev1.Service { return &corev1.Service{} },
		desired: func(_ context.Context, t *corev1.Service, o translate.Origin) (*corev1.Service, []translate.Refusal, error) {
			if translate.SkipService(t, tenantDNS) {
				return nil, nil, nil
			}
			return translate.ServiceCopy(t, o), nil, nil
		},
		merge: translate.MergeService,
		// Headless-ness, the primary IP family and a load balancer's class cannot
		// change in place.
		recreate: translate.ServiceNeedsRecreate,
		upMeta: func(t, cp *corev1.Service, _ []translate.Refusal) (*corev1.Service, bool) {
			value, _ := translate.DesiredTenantAnnotation(t, cp)
			return translate.WithAnnotation(t, naming.ClusterIPAnnotation, value)
		},
		lockMeta:        true,
		metaWithoutCopy: true,
		upStatus: func(t, cp *corev1.Service, _ translate.Origin, _ []translate.Refusal) (*corev1.Service, bool) {
			if cp == nil {
				return t, false
			}
			return statusUp(t, &t.Status.LoadBalancer, translate.TenantServiceStatus(cp).LoadBalancer,
				func(u *corev1.Service, s corev1.LoadBalancerStatus) { u.Status.LoadBalancer = s })
		},
		synced: func(cp *corev1.Service) bool {
			_, hasIPs := translate.ClusterIPValue(cp)
			return hasIPs || cp.Spec.Type == corev1.ServiceTypeExternalName || cp.Spec.ClusterIP == corev1.ClusterIPNone
		},
		// A headless Service's endpoints come back up as EndpointSlices of the
		// syncer's, so that the tenant DNS answers its Pods.
		upOwned: sc.syncEndpointSlices,
	}
}

func newGatewaySync(sc *syncContext) *kindSync[*gatewayv1.Gateway] {
	return &kindSync[*gatewayv1.Gateway]{
		syncContext:       sc,
		kind:              translate.KindGateway,
		announcedRefusals: &lastRefusals{},
		newObj:            func() *gatewayv1.Gateway { return &gatewayv1.Gateway{} },
		desired: func(_ context.Context, t *gatewayv1.Gateway, o translate.Origin) (*gatewayv1.Gateway, []translate.Refusal, error) {
			cp, refused := translate.GatewayCopy(t, o)
			return cp, refused, nil
		},
		merge: translate.MergeGateway,
		upStatus: func(t, cp *gatewayv1.Gateway, _ translate.Origin, refused []translate.Refusal) (*gatewayv1.Gateway, bool) {
			status := translate.TenantGatewayStatus(t, cp)
			cond := metav1.Condition{Type: vcdnsv1alpha1.GatewayConditionCopied, Status: metav1.ConditionTrue, Reason: "Copied", Message: "The copy holds the whole Gateway", ObservedGeneration: t.Generation}
			if len(refused) > 0 {
				cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, refused[0].Reason, translate.RefusalsMessage(refused)
			}
			if old := meta.FindStatusCondition(t.Status.Conditions, vcdnsv1alpha1.GatewayConditionCopied); old != nil {
				cond.LastTransitionTime = old.LastTransitionTime
			}
			meta.SetStatusCondition(&status.Conditions, cond)
			return statusUp(t, &t.Status, status, func(u *gatewayv1.Gateway, s gatewayv1.GatewayStatus) { u.Status = s })
		},
	}
}

func newHTTPRouteSync(sc *syncContext) *kindSync[*gatewayv1.HTTPRoute] {
	return &kindSync[*gatewayv1.HTTPRoute]{
		syncContext:       sc,
		kind:              translate.KindHTTPRoute,
		announcedRefusals: &lastRefusals{},
		newObj:            func() *gatewayv1.HTTPRoute { return &gatewayv1.HTTPRoute{} },
		desired: func(ctx context.Context, t *gatewayv1.HTTPRoute, o translate.Origin) (*gatewayv1.HTTPRoute, []translate.Refusal, error) {
			var grants gatewayv1beta1.ReferenceGrantList
			if err := sc.tenant.List(ctx, &grants); err != nil {
				return nil, nil, fmt.Errorf("listing tenant ReferenceGrants: %w", err)
			}
			var gateways gatewayv1.GatewayList
			if err := sc.tenant.List(ctx, &gateways); err != nil {
				return nil, nil, fmt.Errorf("listing tenant Gateways: %w", err)
			}
			var namespaces corev1.NamespaceList
			if err := sc.tenant.List(ctx, &namespaces); err != nil {
				return nil, nil, fmt.Errorf("listing tenant namespaces: %w", err)
			}
			cp, refused := translate.HTTPRouteCopy(t, o, grants.Items, translate.WithTenantGateways(gateways.Items, gatewayapi.NamespaceLabelsOf(namespaces.Items)))
			return cp, refused, nil
		},
		merge: translate.MergeHTTPRoute,
		upMeta: func(t, cp *gatewayv1.HTTPRoute, _ []translate.Refusal) (*gatewayv1.HTTPRoute, bool) {
			return translate.WithAnnotation(t, vcdnsv1alpha1.AnnotationPublishRefused, publishRefusedOf(cp))
		},
		upStatus: func(t, cp *gatewayv1.HTTPRoute, o translate.Origin, refused []translate.Refusal) (*gatewayv1.HTTPRoute, bool) {
			return statusUp(t, &t.Status, translate.TenantHTTPRouteStatus(t, cp, o, refused...),
				func(u *gatewayv1.HTTPRoute, s gatewayv1.HTTPRouteStatus) { u.Status = s })
		},
	}
}

func newIngressSync(sc *syncContext) *kindSync[*networkingv1.Ingress] {
	return &kindSync[*networkingv1.Ingress]{
		syncContext:       sc,
		kind:              translate.KindIngress,
		announcedRefusals: &lastRefusals{},
		newObj:            func() *networkingv1.Ingress { return &networkingv1.Ingress{} },
		desired: func(_ context.Context, t *networkingv1.Ingress, o translate.Origin) (*networkingv1.Ingress, []translate.Refusal, error) {
			cp, refused := translate.IngressCopy(t, o)
			return cp, refused, nil
		},
		merge: translate.MergeIngress,
		upStatus: func(t, cp *networkingv1.Ingress, _ translate.Origin, _ []translate.Refusal) (*networkingv1.Ingress, bool) {
			var status networkingv1.IngressStatus
			if cp != nil {
				status = translate.TenantIngressStatus(cp)
			}
			return statusUp(t, &t.Status, status, func(u *networkingv1.Ingress, s networkingv1.IngressStatus) { u.Status = s })
		},
		// An Ingress has no conditions: refusals go into annotations.
		upMeta: func(t, cp *networkingv1.Ingress, refused []translate.Refusal) (*networkingv1.Ingress, bool) {
			u, published := translate.WithAnnotation(t, vcdnsv1alpha1.AnnotationPublishRefused, publishRefusedOf(cp))
			u, copied := translate.WithAnnotation(u, vcdnsv1alpha1.AnnotationRefused, translate.RefusalsMessage(refused))
			return u, published || copied
		},
	}
}
