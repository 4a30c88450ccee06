package records

import (
	"net/netip"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Builders for test objects. Keep them dumb: every option is visible at the call.

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func meta(ns, name string, age int) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(age) * time.Minute))}
}

type listenerOpt func(*gatewayv1.Listener)

func listener(name string, port int32, host string, opts ...listenerOpt) gatewayv1.Listener {
	l := gatewayv1.Listener{Name: gatewayv1.SectionName(name), Port: gatewayv1.PortNumber(port), Protocol: gatewayv1.HTTPProtocolType}
	if host != "" {
		h := gatewayv1.Hostname(host)
		l.Hostname = &h
	}
	for _, o := range opts {
		o(&l)
	}
	return l
}

func from(f gatewayv1.FromNamespaces, sel *metav1.LabelSelector) listenerOpt {
	return func(l *gatewayv1.Listener) {
		if l.AllowedRoutes == nil {
			l.AllowedRoutes = &gatewayv1.AllowedRoutes{}
		}
		l.AllowedRoutes.Namespaces = &gatewayv1.RouteNamespaces{From: &f, Selector: sel}
	}
}

func kinds(ks ...string) listenerOpt {
	return func(l *gatewayv1.Listener) {
		if l.AllowedRoutes == nil {
			l.AllowedRoutes = &gatewayv1.AllowedRoutes{}
		}
		for _, k := range ks {
			l.AllowedRoutes.Kinds = append(l.AllowedRoutes.Kinds, gatewayv1.RouteGroupKind{Kind: gatewayv1.Kind(k)})
		}
	}
}

func protocol(p gatewayv1.ProtocolType) listenerOpt {
	return func(l *gatewayv1.Listener) { l.Protocol = p }
}

func gateway(m metav1.ObjectMeta, addrs []string, ls ...gatewayv1.Listener) gatewayv1.Gateway {
	gw := gatewayv1.Gateway{ObjectMeta: m, Spec: gatewayv1.GatewaySpec{GatewayClassName: "test", Listeners: ls}}
	for _, a := range addrs {
		gw.Status.Addresses = append(gw.Status.Addresses, gatewayv1.GatewayStatusAddress{Value: a})
	}
	return gw
}

type parentOpt func(*gatewayv1.ParentReference)

func parent(name string, opts ...parentOpt) gatewayv1.ParentReference {
	p := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(name)}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func inNamespace(ns string) parentOpt {
	return func(p *gatewayv1.ParentReference) { n := gatewayv1.Namespace(ns); p.Namespace = &n }
}

func section(s string) parentOpt {
	return func(p *gatewayv1.ParentReference) { n := gatewayv1.SectionName(s); p.SectionName = &n }
}

func port(n int32) parentOpt {
	return func(p *gatewayv1.ParentReference) { x := gatewayv1.PortNumber(n); p.Port = &x }
}

func ofKind(group, kind string) parentOpt {
	return func(p *gatewayv1.ParentReference) {
		g, k := gatewayv1.Group(group), gatewayv1.Kind(kind)
		p.Group, p.Kind = &g, &k
	}
}

func route(m metav1.ObjectMeta, parents []gatewayv1.ParentReference, hosts ...string) gatewayv1.HTTPRoute {
	rt := gatewayv1.HTTPRoute{ObjectMeta: m}
	rt.Spec.ParentRefs = parents
	for _, h := range hosts {
		rt.Spec.Hostnames = append(rt.Spec.Hostnames, gatewayv1.Hostname(h))
	}
	return rt
}

func ingress(m metav1.ObjectMeta, ips []string, hosts ...string) networkingv1.Ingress {
	ing := networkingv1.Ingress{ObjectMeta: m}
	for _, h := range hosts {
		ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{Host: h})
	}
	for _, ip := range ips {
		ing.Status.LoadBalancer.Ingress = append(ing.Status.LoadBalancer.Ingress, networkingv1.IngressLoadBalancerIngress{IP: ip})
	}
	return ing
}

func ips(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func gwOwner(cluster, ns, name string) Owner {
	return Owner{Cluster: cluster, Kind: KindGateway, Namespace: ns, Name: name}
}

func ingOwner(cluster, ns, name string) Owner {
	return Owner{Cluster: cluster, Kind: KindIngress, Namespace: ns, Name: name}
}

func claims(kv ...any) *Claims {
	c := NewClaims()
	for i := 0; i < len(kv); i += 2 {
		c.Add(kv[i].(string), kv[i+1].(Owner))
	}
	return c
}
