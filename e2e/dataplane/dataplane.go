package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ControllerName is the controller name of the data plane: the controllerName of its
// GatewayClasses, the controller of its IngressClasses, the loadBalancerClass it
// recognises besides none, and the controllerName of its HTTPRoute status entries.
const ControllerName = "vcdns.io/test-dataplane"

// DefaultClass is the default name of the GatewayClass and the IngressClass.
const DefaultClass = "vcdns-test"

// Options configure the simulated data plane of one cluster.
type Options struct {
	// GatewayClass is created (controllerName ControllerName) and set Accepted.
	// Gateways of it, and of any other GatewayClass with that controllerName, are
	// served. Default DefaultClass.
	GatewayClass string
	// IPv4Pool holds the IPv4 addresses handed out; required. IPv6Pool holds the
	// IPv6 addresses; optional. The first address of a pool, and the last of an IPv4
	// pool of four addresses or more, are never handed out.
	IPv4Pool, IPv6Pool netip.Prefix
	// IngressClass is created (controller ControllerName). Ingresses of it, of any
	// other IngressClass with that controller, or without class, are served. Default
	// DefaultClass.
	IngressClass string
	// ForwardIPs, when set, make the addresses of Gateways and Ingresses carry HTTP
	// traffic on a cluster with a node: a listener per Gateway or Ingress on these host
	// addresses (one of each family at most: the host's ends of the node's link),
	// behind a LoadBalancer Service that kube-proxy serves at its addresses (see
	// forwarder).
	ForwardIPs []netip.Addr
}

// complete checks opts and fills in the defaults.
func (o Options) complete() (Options, error) {
	if o.GatewayClass == "" {
		o.GatewayClass = DefaultClass
	}
	if o.IngressClass == "" {
		o.IngressClass = DefaultClass
	}
	if !o.IPv4Pool.IsValid() || !o.IPv4Pool.Addr().Is4() {
		return o, fmt.Errorf("IPv4Pool %q is not an IPv4 prefix", o.IPv4Pool)
	}
	if o.IPv6Pool.IsValid() && (!o.IPv6Pool.Addr().Is6() || o.IPv6Pool.Addr().Is4In6()) {
		return o, fmt.Errorf("IPv6Pool %q is not an IPv6 prefix", o.IPv6Pool)
	}
	o.IPv4Pool, o.IPv6Pool = o.IPv4Pool.Masked(), o.IPv6Pool.Masked()
	if len(o.ForwardIPs) > 2 || len(o.ForwardIPs) == 2 && o.ForwardIPs[0].Is4() == o.ForwardIPs[1].Is4() {
		return o, fmt.Errorf("ForwardIPs %v: one address of each family at most", o.ForwardIPs)
	}
	return o, nil
}

// Start runs the data plane on the cluster cfg points at until ctx ends. It returns
// when its caches synced (or with an error if they cannot), leaving the data plane
// running in the background. The Gateway API CRDs must be installed. It logs to the
// logger of ctx (logr.FromContext), if any.
func Start(ctx context.Context, cfg *rest.Config, opts Options) error {
	_, err := start(ctx, cfg, opts)
	return err
}

// start is Start; the channel it returns is closed when the data plane has stopped.
func start(ctx context.Context, cfg *rest.Config, opts Options) (<-chan struct{}, error) {
	opts, err := opts.complete()
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, gatewayv1.Install} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	log := logr.FromContextOrDiscard(ctx).WithName("dataplane")

	direct, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	if err := ensureClasses(ctx, direct, opts); err != nil {
		return nil, err
	}

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:         scheme,
		Logger:         log,
		Metrics:        metricsserver.Options{BindAddress: "0"},
		LeaderElection: false,
		Controller:     config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the data plane's manager: %w", err)
	}
	grants, err := served(mgr.GetRESTMapper(), schema.GroupKind{Group: gatewayv1.GroupName, Kind: "ReferenceGrant"}, gatewayv1.GroupVersion.Version)
	if err != nil {
		return nil, err
	}
	r := &reconcilers{
		client: mgr.GetClient(),
		alloc:  newAllocator(opts.IPv4Pool, opts.IPv6Pool),
		grants: grants,
	}
	if err := r.setup(mgr); err != nil {
		return nil, err
	}
	var fwds []*forwarder
	if len(opts.ForwardIPs) > 0 {
		c := mgr.GetClient()
		for _, src := range []routeSource{gatewaySource{client: c}, ingressSource{client: c}} {
			f := newForwarder(c, opts.ForwardIPs, src)
			if err := f.setup(mgr); err != nil {
				return nil, err
			}
			fwds = append(fwds, f)
		}
	}
	// Ask for every informer now, so that waiting for the cache waits for them all
	// (and a missing CRD shows here).
	kinds := []client.Object{
		&corev1.Service{}, &corev1.Namespace{}, &networkingv1.Ingress{}, &networkingv1.IngressClass{},
		&gatewayv1.GatewayClass{}, &gatewayv1.Gateway{}, &gatewayv1.HTTPRoute{},
	}
	if grants {
		kinds = append(kinds, &gatewayv1.ReferenceGrant{})
	}
	for _, k := range kinds {
		if _, err := mgr.GetCache().GetInformer(ctx, k); err != nil {
			return nil, fmt.Errorf("watching %T (are the Gateway API CRDs installed?): %w", k, err)
		}
	}

	done := make(chan struct{})
	stopped := make(chan error, 1)
	go func() {
		defer close(done)
		err := mgr.Start(ctx)
		for _, f := range fwds {
			f.closeAll()
		}
		if err != nil {
			log.Error(err, "Data plane stopped")
		}
		stopped <- err
	}()
	syncCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	synced := make(chan bool, 1)
	go func() { synced <- mgr.GetCache().WaitForCacheSync(syncCtx) }()
	select {
	case err := <-stopped:
		if err == nil {
			err = errors.New("stopped before its caches synced")
		}
		return nil, fmt.Errorf("starting the data plane: %w", err)
	case ok := <-synced:
		if !ok {
			return nil, fmt.Errorf("starting the data plane: caches did not sync: %w", ctx.Err())
		}
	}
	log.Info("Data plane started", "gatewayClass", opts.GatewayClass, "ingressClass", opts.IngressClass, "ipv4Pool", opts.IPv4Pool, "ipv6Pool", opts.IPv6Pool)
	return done, nil
}

// served reports whether the API server serves kind gk in version.
func served(m meta.RESTMapper, gk schema.GroupKind, version string) (bool, error) {
	_, err := m.RESTMapping(gk, version)
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		return false, nil
	}
	return false, fmt.Errorf("looking up %s: %w", gk, err)
}

// ensureClasses creates the GatewayClass and the IngressClass of opts, or checks that
// existing ones name the data plane as their controller.
func ensureClasses(ctx context.Context, c client.Client, opts Options) error {
	gc := &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: opts.GatewayClass},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: ControllerName},
	}
	if err := ensure(ctx, c, gc); meta.IsNoMatchError(err) {
		return fmt.Errorf("creating GatewayClass %s: the Gateway API CRDs are not installed: %w", gc.Name, err)
	} else if err != nil {
		return fmt.Errorf("creating GatewayClass %s: %w", gc.Name, err)
	}
	if gc.Spec.ControllerName != ControllerName {
		return fmt.Errorf("GatewayClass %s belongs to controller %s, not %s", gc.Name, gc.Spec.ControllerName, ControllerName)
	}

	ic := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: opts.IngressClass},
		Spec:       networkingv1.IngressClassSpec{Controller: ControllerName},
	}
	if err := ensure(ctx, c, ic); err != nil {
		return fmt.Errorf("creating IngressClass %s: %w", ic.Name, err)
	}
	if ic.Spec.Controller != ControllerName {
		return fmt.Errorf("IngressClass %s belongs to controller %s, not %s", ic.Name, ic.Spec.Controller, ControllerName)
	}
	return nil
}

// ensure reads obj into obj, creating it first if it does not exist (reading first
// keeps a restart free of writes).
func ensure(ctx context.Context, c client.Client, obj client.Object) error {
	want := obj.DeepCopyObject().(client.Object)
	err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	if !apierrors.IsNotFound(err) {
		return err
	}
	if err := c.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
}
