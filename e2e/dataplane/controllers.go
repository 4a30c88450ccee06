package dataplane

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// conflictRetry is how soon an object whose status write met a conflict is looked at
// again (the newer version's event usually comes first).
const conflictRetry = 200 * time.Millisecond

// exhaustedRetry is how soon an object that found its pool exhausted tries again.
const exhaustedRetry = 2 * time.Second

// reconcilers hold what the data plane's controllers share: the cached client and
// the address allocator, seeded once from the statuses of the existing objects.
type reconcilers struct {
	client client.Client
	alloc  *allocator
	// grants reports whether the API server serves ReferenceGrants.
	grants bool

	seedMu sync.Mutex
	seeded bool
}

// setup adds the controllers to mgr.
func (r *reconcilers) setup(mgr ctrl.Manager) error {
	labelsChanged := builder.WithPredicates(predicate.LabelChangedPredicate{})
	for _, err := range []error{
		ctrl.NewControllerManagedBy(mgr).Named("dataplane-service").
			For(&corev1.Service{}).
			Complete(reconcile.Func(r.reconcileService)),
		ctrl.NewControllerManagedBy(mgr).Named("dataplane-ingress").
			For(&networkingv1.Ingress{}).
			Watches(&networkingv1.IngressClass{}, handler.EnqueueRequestsFromMapFunc(r.allIngresses)).
			Complete(reconcile.Func(r.reconcileIngress)),
		ctrl.NewControllerManagedBy(mgr).Named("dataplane-gatewayclass").
			For(&gatewayv1.GatewayClass{}).
			Complete(reconcile.Func(r.reconcileGatewayClass)),
		ctrl.NewControllerManagedBy(mgr).Named("dataplane-gateway").
			For(&gatewayv1.Gateway{}).
			Watches(&gatewayv1.GatewayClass{}, handler.EnqueueRequestsFromMapFunc(r.gatewaysOfClass)).
			Watches(&gatewayv1.HTTPRoute{}, handler.EnqueueRequestsFromMapFunc(r.parentsOfRoute)).
			Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.allGateways), labelsChanged).
			Complete(reconcile.Func(r.reconcileGateway)),
		r.routeController(mgr, labelsChanged),
	} {
		if err != nil {
			return fmt.Errorf("setting up the data plane's controllers: %w", err)
		}
	}
	return nil
}

func (r *reconcilers) routeController(mgr ctrl.Manager, labelsChanged builder.WatchesOption) error {
	b := ctrl.NewControllerManagedBy(mgr).Named("dataplane-httproute").
		For(&gatewayv1.HTTPRoute{}).
		Watches(&gatewayv1.Gateway{}, handler.EnqueueRequestsFromMapFunc(r.routesOfGateway), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&gatewayv1.GatewayClass{}, handler.EnqueueRequestsFromMapFunc(r.allRoutes), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.allRoutes), labelsChanged).
		// Only a Service appearing or going changes whether a backendRef resolves.
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(r.routesOfService), builder.WithPredicates(predicate.Funcs{
			UpdateFunc: func(event.UpdateEvent) bool { return false },
		}))
	if r.grants {
		b = b.Watches(&gatewayv1.ReferenceGrant{}, handler.EnqueueRequestsFromMapFunc(r.allRoutes))
	}
	return b.Complete(reconcile.Func(r.reconcileRoute))
}

// ensureSeeded records, once, the addresses the statuses of the served objects hold,
// so that a restarted data plane keeps them and hands none out twice.
func (r *reconcilers) ensureSeeded(ctx context.Context) error {
	r.seedMu.Lock()
	defer r.seedMu.Unlock()
	if r.seeded {
		return nil
	}
	var claims []claim
	add := func(kind string, o metav1.Object, addrs []netip.Addr) {
		claims = append(claims, claim{Owner: owner{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}, Created: o.GetCreationTimestamp().UnixNano(), Addrs: addrs})
	}
	var svcs corev1.ServiceList
	if err := r.client.List(ctx, &svcs); err != nil {
		return err
	}
	for i := range svcs.Items {
		if s := &svcs.Items[i]; serviceWanted(s) {
			add("Service", s, serviceAddrs(s))
		}
	}
	var ings networkingv1.IngressList
	if err := r.client.List(ctx, &ings); err != nil {
		return err
	}
	for i := range ings.Items {
		if ing := &ings.Items[i]; ingressWanted(ing, ingressClassController(ctx, r.client)) {
			add("Ingress", ing, ingressAddrs(ing))
		}
	}
	var gws gatewayv1.GatewayList
	if err := r.client.List(ctx, &gws); err != nil {
		return err
	}
	for i := range gws.Items {
		if gw := &gws.Items[i]; r.gatewayWanted(ctx, gw) {
			add("Gateway", gw, gatewayAddrs(gw))
		}
	}
	r.alloc.seed(claims)
	r.seeded = true
	return nil
}

// writeStatus writes the status of obj, logging what changed.
func (r *reconcilers) writeStatus(ctx context.Context, obj client.Object, what ...any) (ctrl.Result, error) {
	if err := r.client.Status().Update(ctx, obj); err != nil {
		switch {
		case apierrors.IsConflict(err):
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		case apierrors.IsNotFound(err):
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("updating status: %w", err)
	}
	ctrl.LoggerFrom(ctx).Info("Updated status", what...)
	return ctrl.Result{}, nil
}

// reconcileService gives a served LoadBalancer Service one address per IP family, and
// takes them back when it is no longer served.
func (r *reconcilers) reconcileService(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	if err := r.ensureSeeded(ctx); err != nil {
		return ctrl.Result{}, err
	}
	o := owner{Kind: "Service", Namespace: req.Namespace, Name: req.Name}
	svc := &corev1.Service{}
	if err := r.client.Get(ctx, req.NamespacedName, svc); err != nil {
		if apierrors.IsNotFound(err) {
			r.alloc.release(o)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	want := svc.DeepCopy()
	if !serviceWanted(svc) {
		held := r.alloc.held(o)
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			// Another load balancer's Service: take back only what the data plane gave.
			want.Status.LoadBalancer.Ingress = without(svc.Status.LoadBalancer.Ingress, func(i corev1.LoadBalancerIngress) string { return i.IP }, held)
		} else {
			want.Status.LoadBalancer = corev1.LoadBalancerStatus{}
		}
		if !apiequality.Semantic.DeepEqual(svc.Status, want.Status) {
			if res, err := r.writeStatus(ctx, want, "loadBalancer", "none"); err != nil || res.RequeueAfter > 0 {
				return res, err
			}
		}
		r.alloc.release(o)
		return ctrl.Result{}, nil
	}
	addrs, err := r.alloc.assign(o, serviceFamilies(svc), serviceAddrs(svc))
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "No address for the Service")
		return ctrl.Result{RequeueAfter: exhaustedRetry}, nil
	}
	want.Status.LoadBalancer.Ingress = serviceIngress(addrs)
	if apiequality.Semantic.DeepEqual(svc.Status, want.Status) {
		return ctrl.Result{}, nil
	}
	return r.writeStatus(ctx, want, "addresses", addrs)
}

// ingressClassController returns a lookup of the controller of an IngressClass in c.
func ingressClassController(ctx context.Context, c client.Reader) func(string) (string, bool) {
	return func(name string) (string, bool) {
		ic := &networkingv1.IngressClass{}
		if err := c.Get(ctx, types.NamespacedName{Name: name}, ic); err != nil {
			return "", false
		}
		return ic.Spec.Controller, true
	}
}

// reconcileIngress gives a served Ingress one address per pool.
func (r *reconcilers) reconcileIngress(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	if err := r.ensureSeeded(ctx); err != nil {
		return ctrl.Result{}, err
	}
	o := owner{Kind: "Ingress", Namespace: req.Namespace, Name: req.Name}
	ing := &networkingv1.Ingress{}
	if err := r.client.Get(ctx, req.NamespacedName, ing); err != nil {
		if apierrors.IsNotFound(err) {
			r.alloc.release(o)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	want := ing.DeepCopy()
	if !ingressWanted(ing, ingressClassController(ctx, r.client)) {
		held := r.alloc.held(o)
		if len(held) == 0 {
			return ctrl.Result{}, nil
		}
		want.Status.LoadBalancer.Ingress = without(ing.Status.LoadBalancer.Ingress, func(i networkingv1.IngressLoadBalancerIngress) string { return i.IP }, held)
		if !apiequality.Semantic.DeepEqual(ing.Status, want.Status) {
			if res, err := r.writeStatus(ctx, want, "loadBalancer", "none"); err != nil || res.RequeueAfter > 0 {
				return res, err
			}
		}
		r.alloc.release(o)
		return ctrl.Result{}, nil
	}
	addrs, err := r.alloc.assign(o, r.alloc.families(), ingressAddrs(ing))
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "No address for the Ingress")
		return ctrl.Result{RequeueAfter: exhaustedRetry}, nil
	}
	want.Status.LoadBalancer.Ingress = ingressIngress(addrs)
	if apiequality.Semantic.DeepEqual(ing.Status, want.Status) {
		return ctrl.Result{}, nil
	}
	return r.writeStatus(ctx, want, "addresses", addrs)
}

// reconcileGatewayClass accepts the GatewayClasses of the data plane.
func (r *reconcilers) reconcileGatewayClass(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	gc := &gatewayv1.GatewayClass{}
	if err := r.client.Get(ctx, req.NamespacedName, gc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if gc.Spec.ControllerName != ControllerName {
		return ctrl.Result{}, nil
	}
	want := gc.DeepCopy()
	want.Status = gatewayClassStatus(gc, metav1.Now())
	if apiequality.Semantic.DeepEqual(gc.Status, want.Status) {
		return ctrl.Result{}, nil
	}
	return r.writeStatus(ctx, want, "accepted", true)
}

// gatewayWanted reports whether gw's GatewayClass is one of the data plane's.
func (r *reconcilers) gatewayWanted(ctx context.Context, gw *gatewayv1.Gateway) bool {
	gc := &gatewayv1.GatewayClass{}
	if err := r.client.Get(ctx, types.NamespacedName{Name: string(gw.Spec.GatewayClassName)}, gc); err != nil {
		return false
	}
	return gc.Spec.ControllerName == ControllerName
}

// reconcileGateway gives a served Gateway its addresses and the status of its
// listeners, counting the HTTPRoutes attached to each.
func (r *reconcilers) reconcileGateway(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	if err := r.ensureSeeded(ctx); err != nil {
		return ctrl.Result{}, err
	}
	o := owner{Kind: "Gateway", Namespace: req.Namespace, Name: req.Name}
	gw := &gatewayv1.Gateway{}
	if err := r.client.Get(ctx, req.NamespacedName, gw); err != nil {
		if apierrors.IsNotFound(err) {
			r.alloc.release(o)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	want := gw.DeepCopy()
	if !r.gatewayWanted(ctx, gw) {
		held := r.alloc.held(o)
		if len(held) == 0 {
			return ctrl.Result{}, nil
		}
		want.Status.Addresses = without(gw.Status.Addresses, func(a gatewayv1.GatewayStatusAddress) string { return a.Value }, held)
		if !apiequality.Semantic.DeepEqual(gw.Status, want.Status) {
			if res, err := r.writeStatus(ctx, want, "addresses", "none"); err != nil || res.RequeueAfter > 0 {
				return res, err
			}
		}
		r.alloc.release(o)
		return ctrl.Result{}, nil
	}

	var res ctrl.Result
	var addrErr string
	addrs, err := r.alloc.assign(o, r.alloc.families(), gatewayAddrs(gw))
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "No address for the Gateway")
		addrErr, addrs = err.Error(), nil
		res.RequeueAfter = exhaustedRetry
	}
	routes, err := r.routesReferring(ctx, gw)
	if err != nil {
		return ctrl.Result{}, err
	}
	want.Status = gatewayStatus(gw, addrs, addrErr, attachedRoutes(gw, routes), metav1.Now())
	if apiequality.Semantic.DeepEqual(gw.Status, want.Status) {
		return res, nil
	}
	if wres, err := r.writeStatus(ctx, want, "addresses", addrs); err != nil || wres.RequeueAfter > 0 {
		return wres, err
	}
	return res, nil
}

// routesReferring returns the HTTPRoutes with a parentRef to gw.
func (r *reconcilers) routesReferring(ctx context.Context, gw *gatewayv1.Gateway) ([]routeInfo, error) {
	var list gatewayv1.HTTPRouteList
	if err := r.client.List(ctx, &list); err != nil {
		return nil, err
	}
	self := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
	var out []routeInfo
	for i := range list.Items {
		route := &list.Items[i]
		for _, ref := range route.Spec.ParentRefs {
			if parent, ok := parentGateway(ref, route.Namespace); ok && parent == self {
				out = append(out, routeInfo{View: r.routeView(ctx, route), ParentRefs: route.Spec.ParentRefs})
				break
			}
		}
	}
	return out, nil
}

// routeView returns what attachment looks at of route.
func (r *reconcilers) routeView(ctx context.Context, route *gatewayv1.HTTPRoute) routeView {
	v := routeView{Namespace: route.Namespace, Hostnames: route.Spec.Hostnames}
	ns := &corev1.Namespace{}
	if err := r.client.Get(ctx, types.NamespacedName{Name: route.Namespace}, ns); err == nil {
		v.NamespaceLabels = ns.Labels
	}
	return v
}

// reconcileRoute writes the data plane's entries of an HTTPRoute's status.parents:
// one per parentRef to a Gateway of the data plane.
func (r *reconcilers) reconcileRoute(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	route := &gatewayv1.HTTPRoute{}
	if err := r.client.Get(ctx, req.NamespacedName, route); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	view := r.routeView(ctx, route)
	var results []parentResult
	for _, ref := range route.Spec.ParentRefs {
		key, ok := parentGateway(ref, route.Namespace)
		if !ok {
			continue
		}
		gw := &gatewayv1.Gateway{}
		if err := r.client.Get(ctx, key, gw); err != nil {
			if apierrors.IsNotFound(err) {
				continue // nobody knows whose it would be
			}
			return ctrl.Result{}, err
		}
		if !r.gatewayWanted(ctx, gw) {
			continue
		}
		results = append(results, parentResult{Ref: ref, Attachment: attach(gw, view, ref)})
	}
	resolved := resolvedRefs(route, lookup{ctx: ctx, r: r})
	want := route.DeepCopy()
	want.Status.Parents = routeParents(route, results, resolved, metav1.Now())
	if apiequality.Semantic.DeepEqual(route.Status, want.Status) {
		return ctrl.Result{}, nil
	}
	return r.writeStatus(ctx, want, "parents", len(results))
}

// lookup answers backendLookup from the cache.
type lookup struct {
	ctx context.Context
	r   *reconcilers
}

func (l lookup) ServiceExists(namespace, name string) bool {
	err := l.r.client.Get(l.ctx, types.NamespacedName{Namespace: namespace, Name: name}, &corev1.Service{})
	return err == nil
}

func (l lookup) Granted(fromNamespace, toNamespace, toName string) bool {
	if !l.r.grants {
		return false
	}
	var list gatewayv1.ReferenceGrantList
	if err := l.r.client.List(l.ctx, &list, client.InNamespace(toNamespace)); err != nil {
		return false
	}
	return grantAllows(list.Items, fromNamespace, toName)
}

// Event mappings.

func requests[T any, PT interface {
	*T
	client.Object
}](items []T, keep func(PT) bool) []reconcile.Request {
	var out []reconcile.Request
	for i := range items {
		o := PT(&items[i])
		if keep == nil || keep(o) {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
		}
	}
	return out
}

func (r *reconcilers) allIngresses(ctx context.Context, _ client.Object) []reconcile.Request {
	var list networkingv1.IngressList
	if err := r.client.List(ctx, &list); err != nil {
		return nil
	}
	return requests(list.Items, nil)
}

func (r *reconcilers) allGateways(ctx context.Context, _ client.Object) []reconcile.Request {
	return r.gateways(ctx, nil)
}

func (r *reconcilers) gatewaysOfClass(ctx context.Context, obj client.Object) []reconcile.Request {
	return r.gateways(ctx, func(gw *gatewayv1.Gateway) bool { return string(gw.Spec.GatewayClassName) == obj.GetName() })
}

func (r *reconcilers) gateways(ctx context.Context, keep func(*gatewayv1.Gateway) bool) []reconcile.Request {
	var list gatewayv1.GatewayList
	if err := r.client.List(ctx, &list); err != nil {
		return nil
	}
	return requests(list.Items, keep)
}

func (r *reconcilers) parentsOfRoute(_ context.Context, obj client.Object) []reconcile.Request {
	route, ok := obj.(*gatewayv1.HTTPRoute)
	if !ok {
		return nil
	}
	var out []reconcile.Request
	for _, ref := range route.Spec.ParentRefs {
		if key, ok := parentGateway(ref, route.Namespace); ok {
			out = append(out, reconcile.Request{NamespacedName: key})
		}
	}
	return out
}

func (r *reconcilers) allRoutes(ctx context.Context, _ client.Object) []reconcile.Request {
	return r.routes(ctx, nil)
}

func (r *reconcilers) routesOfGateway(ctx context.Context, obj client.Object) []reconcile.Request {
	self := client.ObjectKeyFromObject(obj)
	return r.routes(ctx, func(route *gatewayv1.HTTPRoute) bool {
		for _, ref := range route.Spec.ParentRefs {
			if key, ok := parentGateway(ref, route.Namespace); ok && key == self {
				return true
			}
		}
		return false
	})
}

func (r *reconcilers) routesOfService(ctx context.Context, obj client.Object) []reconcile.Request {
	return r.routes(ctx, func(route *gatewayv1.HTTPRoute) bool {
		for _, rule := range route.Spec.Rules {
			for _, b := range rule.BackendRefs {
				ns := route.Namespace
				if b.Namespace != nil && *b.Namespace != "" {
					ns = string(*b.Namespace)
				}
				if ns == obj.GetNamespace() && string(b.Name) == obj.GetName() {
					return true
				}
			}
		}
		return false
	})
}

func (r *reconcilers) routes(ctx context.Context, keep func(*gatewayv1.HTTPRoute) bool) []reconcile.Request {
	var list gatewayv1.HTTPRouteList
	if err := r.client.List(ctx, &list); err != nil {
		return nil
	}
	return requests(list.Items, keep)
}
