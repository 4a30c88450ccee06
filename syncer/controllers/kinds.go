package controllers

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/translate"
)

// kindSync reconciles tenant objects of one kind (Gateway, HTTPRoute, Ingress) of one
// MCP: the copy in the MCP namespace of the workload cluster, and its status back up.
// What differs per kind is in the functions; the flow is the same for all.
type kindSync[T client.Object] struct {
	session   *Session
	kind      string
	tenant    client.Client
	workload  client.Client
	recorder  events.EventRecorder // on the tenant cluster
	namespace string
	mcp       types.NamespacedName

	newObj func() T
	// desired computes the copy (nil for none) and what was refused.
	desired func(ctx context.Context, tenant T, o translate.Origin) (T, []translate.Refusal, error)
	merge   func(existing, desired T) (T, bool)
	// upStatus and upMeta return the tenant object updated with what the copy and the
	// refusals say (in status, in metadata), and whether anything changed. Either may
	// be nil; copy may be nil.
	upStatus func(tenant, copy T, o translate.Origin, refused []translate.Refusal) (T, bool)
	upMeta   func(tenant, copy T, refused []translate.Refusal) (T, bool)

	announcedRefusals *lastRefusals
}

// lastRefusals remembers, per tenant object, the refusals last announced with an Event,
// so that a write of the tenant object for another reason (the copy's status) does not
// announce them again.
type lastRefusals struct {
	mu sync.Mutex
	m  map[types.NamespacedName]string
}

// changed records msg ("" for none) as the refusals of key and reports whether they
// differ from those recorded before.
func (l *lastRefusals) changed(key types.NamespacedName, msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if msg == "" {
		_, had := l.m[key]
		delete(l.m, key)
		return had
	}
	if l.m[key] == msg {
		return false
	}
	if l.m == nil {
		l.m = map[types.NamespacedName]string{}
	}
	l.m[key] = msg
	return true
}

func isNil[T any](v T) bool {
	rv := reflect.ValueOf(&v).Elem()
	return !rv.IsValid() || (rv.Kind() == reflect.Pointer && rv.IsNil())
}

func (r *kindSync[T]) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	logger := log.FromContext(ctx)
	var zero T
	tenant := r.newObj()
	if err := r.tenant.Get(ctx, req.NamespacedName, tenant); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, fmt.Errorf("reading tenant %s: %w", r.kind, err)
		}
		tenant = zero
	}
	copyKey := types.NamespacedName{Namespace: r.namespace, Name: naming.CopyName(req.Namespace, req.Name)}
	cp := r.newObj()
	if err := r.workload.Get(ctx, copyKey, cp); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, fmt.Errorf("reading copy %s: %w", copyKey, err)
		}
		cp = zero
	}
	if !isNil(cp) {
		o, ok := translate.OriginOf(cp)
		if !ok || o.MCP != r.mcp || o.Kind != r.kind || o.Namespace != req.Namespace || o.Name != req.Name {
			logger.Info("Object in the way of the copy has no matching origin, leaving it alone", "copy", copyKey.String())
			return reconcile.Result{}, nil
		}
		if !isNil(tenant) && o.UID != tenant.GetUID() {
			if err := r.delete(ctx, cp); err != nil {
				return reconcile.Result{}, err
			}
			cp = zero
		}
	}
	if isNil(tenant) {
		r.announcedRefusals.changed(req.NamespacedName, "")
		if !isNil(cp) {
			if err := r.delete(ctx, cp); err != nil {
				return reconcile.Result{}, err
			}
			logger.Info("Deleted copy", "copy", copyKey.String())
		}
		r.session.setSynced(r.kind, req.NamespacedName, false, true)
		return reconcile.Result{}, nil
	}

	origin := translate.OriginFor(r.mcp, r.namespace, r.kind, tenant)
	desired, refused, err := r.desired(ctx, tenant, origin)
	if err != nil {
		return reconcile.Result{}, err
	}
	switch {
	case isNil(desired):
		if !isNil(cp) {
			if err := r.delete(ctx, cp); err != nil {
				return reconcile.Result{}, err
			}
			cp = zero
		}
	case isNil(cp):
		if err := r.workload.Create(ctx, desired); err != nil {
			return reconcile.Result{}, fmt.Errorf("creating copy %s: %w", copyKey, err)
		}
		copyWrites.WithLabelValues(r.kind, "create").Inc()
		cp = desired
	default:
		if merged, changed := r.merge(cp, desired); changed {
			if err := r.workload.Update(ctx, merged); err != nil {
				return reconcile.Result{}, fmt.Errorf("updating copy %s: %w", copyKey, err)
			}
			copyWrites.WithLabelValues(r.kind, "update").Inc()
			cp = merged
		}
	}

	announced := false
	if r.upMeta != nil {
		if updated, changed := r.upMeta(tenant, cp, refused); changed {
			if err := r.tenant.Patch(ctx, updated, client.MergeFrom(tenant)); err != nil {
				return reconcile.Result{}, fmt.Errorf("writing back to tenant %s: %w", r.kind, err)
			}
			if msg := updated.GetAnnotations()[vcdnsv1alpha1.AnnotationPublishRefused]; msg != "" && msg != tenant.GetAnnotations()[vcdnsv1alpha1.AnnotationPublishRefused] {
				r.recorder.Eventf(updated, nil, corev1.EventTypeWarning, "HostnameRefused", "Publish", "%s", eventNote(msg))
			}
			tenant, announced = updated, true
		}
	}
	if r.upStatus != nil {
		if updated, changed := r.upStatus(tenant, cp, origin, refused); changed {
			if err := r.tenant.Status().Patch(ctx, updated, client.MergeFrom(tenant)); err != nil {
				return reconcile.Result{}, fmt.Errorf("writing the status of tenant %s: %w", r.kind, err)
			}
			announced = true
		}
	}
	// Refusals are announced when what the tenant object says about them changes, not
	// on every reconcile nor on every write of the tenant object.
	if announced {
		tenantWrites.WithLabelValues(r.kind).Inc()
		msg := translate.RefusalsMessage(refused)
		if r.announcedRefusals.changed(req.NamespacedName, msg) && msg != "" {
			r.recorder.Eventf(tenant, nil, corev1.EventTypeWarning, "Refused", "Copy", "%s", eventNote(msg))
		}
	}
	r.session.setSynced(r.kind, req.NamespacedName, !isNil(cp), false)
	return reconcile.Result{}, nil
}

func (r *kindSync[T]) delete(ctx context.Context, obj T) error {
	uid := obj.GetUID()
	if err := r.workload.Delete(ctx, obj, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting copy %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	copyWrites.WithLabelValues(r.kind, "delete").Inc()
	return nil
}

func newGatewaySync(base kindSync[*gatewayv1.Gateway]) *kindSync[*gatewayv1.Gateway] {
	base.kind = translate.KindGateway
	base.announcedRefusals = &lastRefusals{}
	base.newObj = func() *gatewayv1.Gateway { return &gatewayv1.Gateway{} }
	base.desired = func(_ context.Context, t *gatewayv1.Gateway, o translate.Origin) (*gatewayv1.Gateway, []translate.Refusal, error) {
		cp, refused := translate.GatewayCopy(t, o)
		return cp, refused, nil
	}
	base.merge = translate.MergeGateway
	base.upStatus = func(t, cp *gatewayv1.Gateway, _ translate.Origin, refused []translate.Refusal) (*gatewayv1.Gateway, bool) {
		status := translate.TenantGatewayStatus(t, cp)
		cond := metav1.Condition{Type: vcdnsv1alpha1.GatewayConditionCopied, Status: metav1.ConditionTrue, Reason: "Copied", Message: "The copy holds the whole Gateway", ObservedGeneration: t.Generation}
		if len(refused) > 0 {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, refused[0].Reason, translate.RefusalsMessage(refused)
		}
		if old := meta.FindStatusCondition(t.Status.Conditions, vcdnsv1alpha1.GatewayConditionCopied); old != nil {
			cond.LastTransitionTime = old.LastTransitionTime
		}
		meta.SetStatusCondition(&status.Conditions, cond)
		if apiequality.Semantic.DeepEqual(t.Status, status) {
			return t, false
		}
		u := t.DeepCopy()
		u.Status = status
		return u, true
	}
	return &base
}

func newHTTPRouteSync(base kindSync[*gatewayv1.HTTPRoute]) *kindSync[*gatewayv1.HTTPRoute] {
	base.kind = translate.KindHTTPRoute
	base.announcedRefusals = &lastRefusals{}
	base.newObj = func() *gatewayv1.HTTPRoute { return &gatewayv1.HTTPRoute{} }
	tenant := base.tenant
	base.desired = func(ctx context.Context, t *gatewayv1.HTTPRoute, o translate.Origin) (*gatewayv1.HTTPRoute, []translate.Refusal, error) {
		var grants gatewayv1beta1.ReferenceGrantList
		if err := tenant.List(ctx, &grants); err != nil {
			return nil, nil, fmt.Errorf("listing tenant ReferenceGrants: %w", err)
		}
		var gateways gatewayv1.GatewayList
		if err := tenant.List(ctx, &gateways); err != nil {
			return nil, nil, fmt.Errorf("listing tenant Gateways: %w", err)
		}
		labels, err := namespaceLabels(ctx, tenant)
		if err != nil {
			return nil, nil, fmt.Errorf("listing tenant namespaces: %w", err)
		}
		cp, refused := translate.HTTPRouteCopy(t, o, grants.Items, translate.WithTenantGateways(gateways.Items, labels))
		return cp, refused, nil
	}
	base.merge = translate.MergeHTTPRoute
	base.upMeta = func(t, cp *gatewayv1.HTTPRoute, _ []translate.Refusal) (*gatewayv1.HTTPRoute, bool) {
		return withAnnotation(t, vcdnsv1alpha1.AnnotationPublishRefused, publishRefusedOf(cp))
	}
	base.upStatus = func(t, cp *gatewayv1.HTTPRoute, o translate.Origin, refused []translate.Refusal) (*gatewayv1.HTTPRoute, bool) {
		status := translate.TenantHTTPRouteStatus(t, cp, o, refused...)
		if apiequality.Semantic.DeepEqual(t.Status, status) {
			return t, false
		}
		u := t.DeepCopy()
		u.Status = status
		return u, true
	}
	return &base
}

func newIngressSync(base kindSync[*networkingv1.Ingress]) *kindSync[*networkingv1.Ingress] {
	base.kind = translate.KindIngress
	base.announcedRefusals = &lastRefusals{}
	base.newObj = func() *networkingv1.Ingress { return &networkingv1.Ingress{} }
	base.desired = func(_ context.Context, t *networkingv1.Ingress, o translate.Origin) (*networkingv1.Ingress, []translate.Refusal, error) {
		cp, refused := translate.IngressCopy(t, o)
		return cp, refused, nil
	}
	base.merge = translate.MergeIngress
	base.upStatus = func(t, cp *networkingv1.Ingress, _ translate.Origin, _ []translate.Refusal) (*networkingv1.Ingress, bool) {
		var status networkingv1.IngressStatus
		if cp != nil {
			status = translate.TenantIngressStatus(cp)
		}
		if apiequality.Semantic.DeepEqual(t.Status, status) {
			return t, false
		}
		u := t.DeepCopy()
		u.Status = status
		return u, true
	}
	// An Ingress has no conditions: refusals go into an annotation.
	base.upMeta = func(t, cp *networkingv1.Ingress, refused []translate.Refusal) (*networkingv1.Ingress, bool) {
		u, published := withAnnotation(t, vcdnsv1alpha1.AnnotationPublishRefused, publishRefusedOf(cp))
		u, copied := withAnnotation(u, vcdnsv1alpha1.AnnotationRefused, translate.RefusalsMessage(refused))
		return u, published || copied
	}
	return &base
}

// publishRefusedOf returns what the publisher wrote into vcdnsv1alpha1.AnnotationPublishRefused of a
// copy, "" for none or no copy. The tenant object gets it too: a tenant sees why a
// hostname of its object is not published without access to the workload cluster.
func publishRefusedOf[T client.Object](copy T) string {
	if isNil(copy) {
		return ""
	}
	return copy.GetAnnotations()[vcdnsv1alpha1.AnnotationPublishRefused]
}

// withAnnotation returns obj with the annotation key set to value, or removed for "",
// and whether that changed it: a changed copy, or obj itself when nothing changes.
func withAnnotation[T client.Object](obj T, key, value string) (T, bool) {
	if cur, has := obj.GetAnnotations()[key]; (value == "" && !has) || (value != "" && cur == value) {
		return obj, false
	}
	u := obj.DeepCopyObject().(T)
	annotations := u.GetAnnotations()
	if value == "" {
		delete(annotations, key)
	} else {
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[key] = value
	}
	if len(annotations) == 0 {
		annotations = nil
	}
	u.SetAnnotations(annotations)
	return u, true
}

// namespaceLabels reads the labels of every namespace, for listeners that admit routes
// of namespaces chosen by a selector.
func namespaceLabels(ctx context.Context, c client.Reader) (map[string]map[string]string, error) {
	var namespaces corev1.NamespaceList
	if err := c.List(ctx, &namespaces); err != nil {
		return nil, err
	}
	labels := make(map[string]map[string]string, len(namespaces.Items))
	for _, ns := range namespaces.Items {
		labels[ns.Name] = ns.Labels
	}
	return labels, nil
}
