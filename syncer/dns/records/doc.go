// Package records computes the DNS records a cluster's Gateways, HTTPRoutes and
// Ingresses ask for. It is pure: Compute takes the objects as values and returns the
// desired Endpoints and, for every hostname it cannot publish, a Refusal naming the
// object that asked for it and why, for a controller to show in a condition and an
// Event.
//
// What is published:
//
//   - A Gateway publishes the exact hostname of each listener, and the hostnames of the
//     HTTPRoutes attached to a listener, intersected with the listener's hostname the
//     way Gateway API does. A listener without a hostname contributes only through its
//     routes. Routes attach by parentRefs (name, namespace, sectionName, port) when the
//     listener's allowedRoutes admit them (namespaces Same, All, or Selector given the
//     namespaces' labels; kinds). The records point to the Gateway's IP addresses in
//     status.addresses.
//   - An Ingress publishes the host of each rule, pointing to the IPs in
//     status.loadBalancer.ingress.
//   - ComputeGatewayDNS publishes "gateway.<cluster>.<namespace>.clusters.<base>" for
//     the clusters a GatewayDNS selects; the central DNS answers every name below it
//     from those records.
//
// Every hostname has one owner: the Gateway, Ingress or GatewayDNS whose addresses it
// resolves to, identified by Owner. The first claim wins and stays (Claims records
// what the store already holds); a second claim is refused, and so is a claim of a name
// below or above a name of another owner, because the CoreDNS etcd plugin answers a
// name with everything stored below it. Invalid names, names outside the cluster's
// hostname.Policy and wildcard names (the etcd plugin cannot serve stored wildcards)
// are refused too.
package records
