// Package dataplane simulates the data plane of one cluster of the local landscape:
// it plays the part a gateway controller and MetalLB play on a real cluster, so that
// Services, Gateways, HTTPRoutes and Ingresses get the addresses and statuses vcdns
// reads back. The Kubernetes API side is simulated, as in-process controllers
// (controller-runtime, no leader election, metrics or health endpoints), started with
// Start. On a cluster with a node, traffic follows: kube-proxy serves the
// load-balancer addresses of Services on the node (the landscape routes each pool to
// its cluster), and with Options.ForwardIPs the addresses of each Gateway and Ingress
// reach a listener of the data plane that routes HTTP by Host header and path, after
// the attached HTTPRoutes or the Ingress's rules (see forwarder; no real Gateway or
// Ingress implementation builds here from the module proxy alone):
//
//	err := dataplane.Start(ctx, cluster.Config, dataplane.Options{
//		IPv4Pool: netip.MustParsePrefix("198.51.100.0/24"),
//		IPv6Pool: netip.MustParsePrefix("2001:db8:1::/120"),
//	})
//
// What it does:
//
//   - It creates the GatewayClass and the IngressClass of Options (controller
//     ControllerName) and sets every GatewayClass of that controller Accepted.
//   - LoadBalancer Services without loadBalancerClass, or with ControllerName as
//     class, get one address per IP family of the Service (spec.ipFamilies, in that
//     order) in status.loadBalancer.ingress, like MetalLB. A family without a pool
//     gets none.
//   - Gateways of a GatewayClass of the data plane get one IPAddress per pool in
//     status.addresses, conditions Accepted and Programmed, and per listener the
//     conditions Accepted, ResolvedRefs and Programmed, supportedKinds (HTTPRoute) and
//     attachedRoutes. HTTP and HTTPS listeners are served; other protocols are
//     refused (UnsupportedProtocol), as are route kinds other than HTTPRoute
//     (InvalidRouteKinds).
//   - HTTPRoutes get one entry in status.parents per parentRef to such a Gateway, with
//     Accepted (reasons Accepted, NoMatchingParent, NotAllowedByListeners,
//     NoMatchingListenerHostname) and ResolvedRefs (reasons ResolvedRefs, InvalidKind,
//     RefNotPermitted, BackendNotFound). A route attaches to the listeners its
//     parentRef selects by sectionName and port, whose allowedRoutes admit HTTPRoutes
//     of its namespace (Same, All, Selector), and whose hostname intersects one of its
//     hostnames. Entries of other controllers are left alone.
//   - Ingresses of an IngressClass of the data plane, or without class, get one
//     address per pool in status.loadBalancer.ingress.
//
// Addresses: the lowest free address of the family's pool, never one that another
// Service, Gateway or Ingress holds. The allocation lives in the objects' statuses: a
// restarted data plane reads it back (the oldest object wins a contested address)
// and keeps it. An address is freed when its object is deleted, stops being a
// LoadBalancer Service, or moves to another class; the status entry goes with it.
// Statuses are computed from the cached objects and written only when they differ,
// so an idle data plane writes nothing.
//
// Not simulated: TLS termination, health checks; spec.addresses of Gateways
// and spec.loadBalancerIP of Services (ignored); TLS certificate references of HTTPS
// listeners (not checked); listener conflicts; ListenerSets; route kinds other than
// HTTPRoute; finalizers (an address is freed once its object is gone).
package dataplane
