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
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// GatewayServiceClass is the loadBalancerClass of the Services that carry Gateway
// traffic (see forwarder). The data plane's allocator leaves them alone: their
// load-balancer status is the Gateway's addresses.
const GatewayServiceClass = "vcdns.io/test-dataplane-gateway"

// forwarder makes a served Gateway's addresses carry traffic, on a landscape whose
// clusters have nodes. For each Gateway with addresses it runs an HTTP listener on
// Options.ForwardIP (the host's end of the cluster's node link) and keeps a
// LoadBalancer Service gateway-<name> beside the Gateway: its load-balancer status is
// the Gateway's addresses, so kube-proxy serves them on the node, and its only
// endpoint is that listener. The listener routes each request by its Host header and
// path to the first backendRef of the matching rule of an HTTPRoute attached to the
// Gateway (as the data plane's status says), at the backend Service's ClusterIP.
//
// What this is not: a Gateway implementation. Listener ports share one listener, so
// a request is routed by host and path alone; only PathPrefix and Exact path matches
// are read; TLS is not terminated; weights, filters and header matches are ignored.
type forwarder struct {
	client client.Client
	ip     netip.Addr

	mu        sync.Mutex
	listeners map[types.NamespacedName]*gatewayListener
}

type gatewayListener struct {
	port int
	srv  *http.Server
}

// reconcile keeps the Service, EndpointSlice and listener of one Gateway.
func (f *forwarder) reconcile(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	gw := &gatewayv1.Gateway{}
	if err := f.client.Get(ctx, req.NamespacedName, gw); err != nil {
		if apierrors.IsNotFound(err) {
			f.close(req.NamespacedName) // the Service and slice go with their owner
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	var ips []string
	for _, a := range gw.Status.Addresses {
		if a.Type == nil || *a.Type == gatewayv1.IPAddressType {
			ips = append(ips, a.Value)
		}
	}
	if len(ips) == 0 || !meta.IsStatusConditionTrue(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed)) {
		return ctrl.Result{}, nil
	}
	port, err := f.listen(req.NamespacedName)
	if err != nil {
		return ctrl.Result{}, err
	}

	name := serviceName(gw.Name)
	var ports []corev1.ServicePort
	seen := map[gatewayv1.PortNumber]bool{}
	for _, l := range gw.Spec.Listeners {
		if seen[l.Port] || (l.Protocol != gatewayv1.HTTPProtocolType && l.Protocol != gatewayv1.HTTPSProtocolType) {
			continue
		}
		seen[l.Port] = true
		ports = append(ports, corev1.ServicePort{Name: "p" + strconv.Itoa(int(l.Port)), Port: int32(l.Port), TargetPort: intstr.FromInt32(int32(port))})
	}
	if len(ports) == 0 {
		return ctrl.Result{}, nil
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: gw.Namespace, Name: name}}
	if _, err := controllerutil.CreateOrUpdate(ctx, f.client, svc, func() error {
		svc.Labels = map[string]string{"gateway.networking.k8s.io/gateway-name": gw.Name}
		svc.Spec.Type = corev1.ServiceTypeLoadBalancer
		svc.Spec.LoadBalancerClass = ptr.To(GatewayServiceClass)
		svc.Spec.Ports = ports
		svc.Spec.Selector = nil
		return controllerutil.SetControllerReference(gw, svc, f.client.Scheme())
	}); err != nil {
		return ctrl.Result{}, fmt.Errorf("Service %s/%s of Gateway %s: %w", gw.Namespace, name, gw.Name, err)
	}
	want := corev1.LoadBalancerStatus{}
	for _, ip := range ips {
		want.Ingress = append(want.Ingress, corev1.LoadBalancerIngress{IP: ip, IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)})
	}
	if !apiequality.Semantic.DeepEqual(svc.Status.LoadBalancer, want) {
		svc.Status.LoadBalancer = want
		if err := f.client.Status().Update(ctx, svc); err != nil {
			return ctrl.Result{}, err
		}
	}

	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: gw.Namespace, Name: name}}
	family := discoveryv1.AddressTypeIPv4
	if f.ip.Is6() {
		family = discoveryv1.AddressTypeIPv6
	}
	_, err = controllerutil.CreateOrUpdate(ctx, f.client, slice, func() error {
		slice.Labels = map[string]string{discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: "vcdns-test-dataplane"}
		slice.AddressType = family
		slice.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{f.ip.String()}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}}
		slice.Ports = nil
		for _, p := range ports {
			slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{Name: ptr.To(p.Name), Port: ptr.To(int32(port)), Protocol: ptr.To(corev1.ProtocolTCP)})
		}
		return controllerutil.SetControllerReference(gw, slice, f.client.Scheme())
	})
	return ctrl.Result{}, err
}

// serviceName is the Service of a Gateway: gateway-<name>, cut to a label.
func serviceName(gw string) string {
	n := "gateway-" + gw
	if len(n) > 63 {
		n = strings.TrimRight(n[:63], "-")
	}
	return n
}

// listen starts the Gateway's listener if it has none, and returns its port.
func (f *forwarder) listen(key types.NamespacedName) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.listeners[key]; ok {
		return l.port, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(f.ip.String(), "0"))
	if err != nil {
		return 0, fmt.Errorf("listener of Gateway %s: %w", key, err)
	}
	srv := &http.Server{Handler: f.handler(key), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	l := &gatewayListener{port: ln.Addr().(*net.TCPAddr).Port, srv: srv}
	f.listeners[key] = l
	return l.port, nil
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

// handler routes the requests of one Gateway.
func (f *forwarder) handler(gw types.NamespacedName) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target, err := f.route(r.Context(), gw, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
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

// route finds the backend of a request to Gateway gw.
func (f *forwarder) route(ctx context.Context, gw types.NamespacedName, r *http.Request) (*url.URL, error) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	var routes gatewayv1.HTTPRouteList
	if err := f.client.List(ctx, &routes); err != nil {
		return nil, err
	}
	for _, rt := range routes.Items {
		if !attachedTo(&rt, gw) || !hostMatches(rt.Spec.Hostnames, host) {
			continue
		}
		for _, rule := range rt.Spec.Rules {
			if !pathMatches(rule.Matches, r.URL.Path) || len(rule.BackendRefs) == 0 {
				continue
			}
			ref := rule.BackendRefs[0].BackendObjectReference
			if (ref.Kind != nil && *ref.Kind != "Service") || ref.Port == nil {
				continue
			}
			ns := rt.Namespace
			if ref.Namespace != nil {
				ns = string(*ref.Namespace)
			}
			svc := &corev1.Service{}
			if err := f.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: string(ref.Name)}, svc); err != nil {
				return nil, fmt.Errorf("backend %s/%s of HTTPRoute %s/%s: %w", ns, ref.Name, rt.Namespace, rt.Name, err)
			}
			return &url.URL{Scheme: "http", Host: net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(*ref.Port)))}, nil
		}
	}
	return nil, errors.New("no HTTPRoute of this Gateway matches " + host + r.URL.Path)
}

// attachedTo reports whether the data plane accepted the route for gw.
func attachedTo(rt *gatewayv1.HTTPRoute, gw types.NamespacedName) bool {
	for _, p := range rt.Status.Parents {
		ns := rt.Namespace
		if p.ParentRef.Namespace != nil {
			ns = string(*p.ParentRef.Namespace)
		}
		if p.ControllerName == ControllerName && string(p.ParentRef.Name) == gw.Name && ns == gw.Namespace &&
			meta.IsStatusConditionTrue(p.Conditions, string(gatewayv1.RouteConditionAccepted)) {
			return true
		}
	}
	return false
}

// hostMatches matches a host against a route's hostnames (none matches all; a
// leading "*." matches one or more labels).
func hostMatches(hostnames []gatewayv1.Hostname, host string) bool {
	if len(hostnames) == 0 {
		return true
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range hostnames {
		s := strings.ToLower(string(h))
		if s == host || (strings.HasPrefix(s, "*.") && strings.HasSuffix(host, s[1:]) && len(host) > len(s)-1) {
			return true
		}
	}
	return false
}

// pathMatches matches a path against a rule's matches (none matches all).
func pathMatches(matches []gatewayv1.HTTPRouteMatch, path string) bool {
	if len(matches) == 0 {
		return true
	}
	for _, m := range matches {
		if m.Path == nil || m.Path.Value == nil {
			return true
		}
		v := *m.Path.Value
		switch ptr.Deref(m.Path.Type, gatewayv1.PathMatchPathPrefix) {
		case gatewayv1.PathMatchExact:
			if path == v {
				return true
			}
		case gatewayv1.PathMatchPathPrefix:
			v = strings.TrimSuffix(v, "/")
			if path == v || strings.HasPrefix(path, v+"/") || v == "" {
				return true
			}
		}
	}
	return false
}
