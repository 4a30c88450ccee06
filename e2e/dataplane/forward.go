package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// ForwardServiceClass is the loadBalancerClass of the Services that carry the traffic
// of Gateways and Ingresses (see forwarder). The data plane's allocator leaves them
// alone: their load-balancer status is the addresses of the Gateway or Ingress.
const ForwardServiceClass = "vcdns.io/test-dataplane-forward"

// errNoRoute is the error of a request that no route of its object matches: the
// listener answers 404.
var errNoRoute = errors.New("no route")

// forwarder makes the load-balancer addresses of one kind of served object (a Gateway
// or an Ingress, its routeSource) carry HTTP traffic, on a landscape whose clusters
// have nodes. For each object with addresses it runs an HTTP listener on
// Options.ForwardIPs (the host's ends of the cluster's node link, one port on each) and
// keeps a
// LoadBalancer Service <kind>-<name> beside the object, controlled by it: the
// Service's load-balancer status is the object's addresses, so kube-proxy serves them
// on the node, and its only endpoint is that listener. The listener asks the source
// where each request goes (by its Host header and path) and proxies it there, to a
// backend Service's ClusterIP; 404 when no route matches, 502 when the backend does
// not resolve.
//
// What this is not: a Gateway or Ingress implementation. All ports of an object share
// one listener, so a request is routed by host and path alone; TLS is not terminated
// (an HTTPS port carries plain HTTP, an Ingress's spec.tls is ignored); only the
// first backend of a route is used (no weights, no load balancing beyond kube-proxy's);
// filters, header and query matches, rewrites, timeouts and annotations are ignored;
// the listener is on the host, not on the node. See gatewaySource and ingressSource for what each reads of its routes.
type forwarder struct {
	client client.Client
	ips    []netip.Addr // one of each family at most
	src    routeSource

	mu        sync.Mutex
	listeners map[types.NamespacedName]*listener
}

// routeSource is one kind of object the forwarder makes carry traffic: which objects
// serve, at which addresses and ports, and where a request to one goes.
type routeSource interface {
	// kind is the kind of the objects, as the prefix of their Services names it
	// ("gateway", "ingress").
	kind() string
	// newObject returns an empty object of the kind, to read one into.
	newObject() client.Object
	// frontend returns the addresses and ports of obj; ok false when obj does not
	// carry traffic (not served, no address yet).
	frontend(ctx context.Context, obj client.Object) (fe frontend, ok bool)
	// backend returns where a request to the object key goes: the URL of a backend,
	// or an error wrapping errNoRoute when no route matches.
	backend(ctx context.Context, key types.NamespacedName, r *http.Request) (*url.URL, error)
}

// frontend is what an object serves: its load-balancer addresses (IPs) and the ports
// traffic to them comes on.
type frontend struct {
	Addrs []string
	Ports []corev1.ServicePort // TargetPort is filled in by the forwarder
	// Labels are put on the Service.
	Labels map[string]string
}

type listener struct {
	port int
	srv  *http.Server
}

// newForwarder returns a forwarder of src's objects with listeners on ips.
func newForwarder(c client.Client, ips []netip.Addr, src routeSource) *forwarder {
	return &forwarder{client: c, ips: ips, src: src, listeners: map[types.NamespacedName]*listener{}}
}

// setup adds the forwarder's controller to mgr.
func (f *forwarder) setup(mgr ctrl.Manager) error {
	if err := ctrl.NewControllerManagedBy(mgr).Named("dataplane-" + f.src.kind() + "-forward").
		For(f.src.newObject()).
		Owns(&corev1.Service{}).
		Complete(reconcile.Func(f.reconcile)); err != nil {
		return fmt.Errorf("setting up the data plane's %s forwarding: %w", f.src.kind(), err)
	}
	return nil
}

// reconcile keeps the Service, EndpointSlice and listener of one object: all three
// while it has a frontend, none otherwise.
func (f *forwarder) reconcile(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	obj := f.src.newObject()
	if err := f.client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			f.close(req.NamespacedName) // the Service and slice go with their owner
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	name := forwardServiceName(f.src.kind(), obj.GetName())
	fe, ok := f.src.frontend(ctx, obj)
	if !ok || len(fe.Addrs) == 0 || len(fe.Ports) == 0 {
		f.close(req.NamespacedName)
		return ctrl.Result{}, f.remove(ctx, obj, name)
	}
	port, err := f.listen(req.NamespacedName)
	if err != nil {
		return ctrl.Result{}, err
	}
	ports := make([]corev1.ServicePort, len(fe.Ports))
	for i, p := range fe.Ports {
		p.TargetPort = intstr.FromInt32(int32(port))
		p.Protocol = corev1.ProtocolTCP
		ports[i] = p
	}

	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: obj.GetNamespace(), Name: name}}
	if _, err := controllerutil.CreateOrUpdate(ctx, f.client, svc, func() error {
		if err := f.mayOwn(obj, svc); err != nil {
			return err
		}
		svc.Labels = fe.Labels
		svc.Spec.Type = corev1.ServiceTypeLoadBalancer
		svc.Spec.LoadBalancerClass = ptr.To(ForwardServiceClass)
		// Both families where the listener has both, so that kube-proxy serves the
		// object's IPv6 addresses too.
		svc.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyPreferDualStack)
		if len(svc.Spec.IPFamilies) == 0 {
			for _, ip := range f.ips {
				svc.Spec.IPFamilies = append(svc.Spec.IPFamilies, ipFamily(ip))
			}
		}
		for i := range ports { // keep the node ports the API server allocated
			for _, old := range svc.Spec.Ports {
				if old.Name == ports[i].Name {
					ports[i].NodePort = old.NodePort
				}
			}
		}
		svc.Spec.Ports = ports
		svc.Spec.Selector = nil
		return controllerutil.SetControllerReference(obj, svc, f.client.Scheme())
	}); err != nil {
		return ctrl.Result{}, fmt.Errorf("Service %s/%s of %s %s: %w", svc.Namespace, name, f.src.kind(), obj.GetName(), err)
	}
	want := corev1.LoadBalancerStatus{}
	for _, ip := range fe.Addrs {
		want.Ingress = append(want.Ingress, corev1.LoadBalancerIngress{IP: ip, IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)})
	}
	if !apiequality.Semantic.DeepEqual(svc.Status.LoadBalancer, want) {
		svc.Status.LoadBalancer = want
		if err := f.client.Status().Update(ctx, svc); err != nil {
			return ctrl.Result{}, fmt.Errorf("status of Service %s/%s of %s %s: %w", svc.Namespace, name, f.src.kind(), obj.GetName(), err)
		}
	}

	for _, ip := range f.ips {
		slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: obj.GetNamespace(), Name: sliceName(name, ip)}}
		if _, err := controllerutil.CreateOrUpdate(ctx, f.client, slice, func() error {
			if err := f.mayOwn(obj, slice); err != nil {
				return err
			}
			slice.Labels = map[string]string{discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: "vcdns-test-dataplane"}
			slice.AddressType = discoveryv1.AddressType(ipFamily(ip))
			slice.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{ip.String()}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}}
			slice.Ports = nil
			for _, p := range ports {
				slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{Name: ptr.To(p.Name), Port: ptr.To(int32(port)), Protocol: ptr.To(corev1.ProtocolTCP)})
			}
			return controllerutil.SetControllerReference(obj, slice, f.client.Scheme())
		}); err != nil {
			return ctrl.Result{}, fmt.Errorf("EndpointSlice %s/%s of %s %s: %w", slice.Namespace, slice.Name, f.src.kind(), obj.GetName(), err)
		}
	}
	return ctrl.Result{}, nil
}

// mayOwn refuses to take over an existing object (o) that owner does not control:
// a Service of that name is someone else's.
func (f *forwarder) mayOwn(owner, o client.Object) error {
	if o.GetUID() != "" && !metav1.IsControlledBy(o, owner) {
		return fmt.Errorf("exists and does not belong to %s %s", f.src.kind(), owner.GetName())
	}
	return nil
}

// remove deletes the Service and EndpointSlice name of owner, if they are its.
func (f *forwarder) remove(ctx context.Context, owner client.Object, name string) error {
	objs := map[string]client.Object{name: &corev1.Service{}}
	for _, ip := range f.ips {
		objs[sliceName(name, ip)] = &discoveryv1.EndpointSlice{}
	}
	for n, o := range objs {
		key := types.NamespacedName{Namespace: owner.GetNamespace(), Name: n}
		if err := f.client.Get(ctx, key, o); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return err
		}
		if !metav1.IsControlledBy(o, owner) {
			continue
		}
		if err := f.client.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting %T %s of %s %s: %w", o, key, f.src.kind(), owner.GetName(), err)
		}
	}
	return nil
}

// forwardServiceName is the Service of an object of kind: <kind>-<name>, cut to a
// label.
func forwardServiceName(kind, name string) string {
	n := kind + "-" + name
	if len(n) > 63 {
		n = strings.TrimRight(n[:63], "-")
	}
	return n
}

// listen starts the object's listener if it has none, and returns its port.
func (f *forwarder) listen(key types.NamespacedName) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.listeners[key]; ok {
		return l.port, nil
	}
	lns, err := listenAll(f.ips)
	if err != nil {
		return 0, fmt.Errorf("listener of %s %s: %w", f.src.kind(), key, err)
	}
	srv := &http.Server{Handler: f.handler(key), ReadHeaderTimeout: 5 * time.Second}
	for _, ln := range lns {
		go func() { _ = srv.Serve(ln) }()
	}
	l := &listener{port: lns[0].Addr().(*net.TCPAddr).Port, srv: srv}
	f.listeners[key] = l
	return l.port, nil
}

// listenAll listens on one port on every address of ips: the first address picks a
// free port, the others take the same (tried again with another when one is taken).
func listenAll(ips []netip.Addr) ([]net.Listener, error) {
	var errs []error
	for range 10 {
		first, err := net.Listen("tcp", net.JoinHostPort(ips[0].String(), "0"))
		if err != nil {
			return nil, err
		}
		lns := []net.Listener{first}
		port := strconv.Itoa(first.Addr().(*net.TCPAddr).Port)
		for _, ip := range ips[1:] {
			ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), port))
			if err != nil {
				errs = append(errs, err)
				break
			}
			lns = append(lns, ln)
		}
		if len(lns) == len(ips) {
			return lns, nil
		}
		for _, ln := range lns {
			ln.Close()
		}
	}
	return nil, fmt.Errorf("no port free on all of %v: %w", ips, errors.Join(errs...))
}

// ipFamily is the family of ip.
func ipFamily(ip netip.Addr) corev1.IPFamily {
	if ip.Is6() {
		return corev1.IPv6Protocol
	}
	return corev1.IPv4Protocol
}

// sliceName is the name of the EndpointSlice of the Service name for ip's family: the
// Service's name for IPv4, with -ipv6 for IPv6.
func sliceName(name string, ip netip.Addr) string {
	if ip.Is4() {
		return name
	}
	return strings.TrimRight(name[:min(len(name), 58)], "-") + "-ipv6"
}

func (f *forwarder) close(key types.NamespacedName) {
	f.mu.Lock()
	l, ok := f.listeners[key]
	delete(f.listeners, key)
	f.mu.Unlock()
	if ok {
		_ = l.srv.Close()
	}
}

// closeAll stops every listener, when the data plane stops.
func (f *forwarder) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, l := range f.listeners {
		_ = l.srv.Close()
		delete(f.listeners, k)
	}
}

// handler routes the requests to one object.
func (f *forwarder) handler(key types.NamespacedName) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target, err := f.src.backend(r.Context(), key, r)
		switch {
		case errors.Is(err, errNoRoute):
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		}}
		proxy.ServeHTTP(w, r)
	})
}

// requestHost is the host a request asks for: its Host header without port and
// trailing dot, in lower case.
func requestHost(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// serviceURL is the URL of port of Service namespace/name at its ClusterIP; a named
// port is looked up in the Service.
func serviceURL(ctx context.Context, c client.Reader, namespace, name string, port networkingv1.ServiceBackendPort) (*url.URL, error) {
	svc := &corev1.Service{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, svc); err != nil {
		return nil, fmt.Errorf("backend Service %s/%s: %w", namespace, name, err)
	}
	if ip := svc.Spec.ClusterIP; ip == "" || ip == corev1.ClusterIPNone {
		return nil, fmt.Errorf("backend Service %s/%s has no ClusterIP", namespace, name)
	}
	number := port.Number
	if port.Name != "" {
		for _, p := range svc.Spec.Ports {
			if p.Name == port.Name {
				number = p.Port
			}
		}
		if number == 0 {
			return nil, fmt.Errorf("backend Service %s/%s has no port %s", namespace, name, port.Name)
		}
	}
	if number == 0 {
		return nil, fmt.Errorf("backend Service %s/%s: no port given", namespace, name)
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(number)))}, nil
}
