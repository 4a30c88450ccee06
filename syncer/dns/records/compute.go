package records

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/syncer/dns/hostname"
	"github.com/vcdns/vcdns/syncer/gatewayapi"
)

// Input is everything Compute needs about one cluster.
type Input struct {
	// Cluster is the name of the cluster the objects live on.
	Cluster string
	// Policy decides which hostnames the cluster may publish; see
	// hostname.DefaultPolicy.
	Policy hostname.Policy
	// TTL of the records; zero means DefaultTTL.
	TTL time.Duration

	Gateways   []gatewayv1.Gateway
	HTTPRoutes []gatewayv1.HTTPRoute
	Ingresses  []networkingv1.Ingress
	// NamespaceLabels holds the labels of the cluster's namespaces, for listeners
	// that admit routes from namespaces chosen by a selector. Without it such
	// listeners admit no routes from other namespaces.
	NamespaceLabels gatewayapi.NamespaceLabels

	// Origin, if set, describes where an object comes from (e.g. the tenant object
	// it is a copy of); it ends up in Owner.Origin.
	Origin func(metav1.Object) string

	// Claims are the names the store holds. Names held by owners outside this
	// cluster's scope win over every claim here; a name held by an owner of this
	// cluster stays with it as long as it still asks for it.
	Claims *Claims
}

// Compute returns the endpoints the cluster's objects ask for, and what it refuses.
// Objects being deleted ask for nothing. Result.Scope is ClusterScope(in.Cluster).
func Compute(in Input) Result {
	c := newComputer(in.Cluster, in.Policy, in.TTL, ClusterScope(in.Cluster), in.Claims)
	c.origin = in.Origin
	c.gateways(in.Gateways, in.HTTPRoutes, in.NamespaceLabels)
	c.ingresses(in.Ingresses)
	return c.result()
}

// computer collects claims and refusals, then resolves conflicts.
type computer struct {
	cluster string
	policy  hostname.Policy
	ttl     uint32
	scope   Scope
	claims  *Claims
	origin  func(metav1.Object) string

	cands    map[string]*candidate // by hostname + "\x00" + owner ID
	refusals map[refusalKey]Refusal
}

type candidate struct {
	hostname string
	owner    Owner
	created  time.Time
	addrs    []netip.Addr
	sources  []ObjectRef
}

type refusalKey struct {
	obj      ObjectRef
	hostname string
	reason   Reason
}

func newComputer(cluster string, policy hostname.Policy, ttl time.Duration, scope Scope, claims *Claims) *computer {
	t := DefaultTTL
	if ttl > 0 {
		t = uint32(min(max(ttl/time.Second, 1), 1<<31-1))
	}
	return &computer{
		cluster: cluster, policy: policy, ttl: t, scope: scope, claims: claims,
		cands: map[string]*candidate{}, refusals: map[refusalKey]Refusal{},
	}
}

func (c *computer) owner(kind string, obj metav1.Object) Owner {
	o := Owner{Cluster: c.cluster, Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
	if c.origin != nil {
		o.Origin = c.origin(obj)
	}
	return o
}

func (c *computer) refuse(src ObjectRef, name string, reason Reason, msg string) {
	c.refusals[refusalKey{obj: src, hostname: name, reason: reason}] = Refusal{Object: src, Hostname: name, Reason: reason, Message: msg}
}

// check validates a hostname an object asks for and refuses it if needed.
func (c *computer) check(src ObjectRef, name string) bool {
	if err := hostname.Validate(name); err != nil {
		c.refuse(src, name, ReasonInvalid, sentence(err))
		return false
	}
	if err := c.policy.Check(name); err != nil {
		c.refuse(src, name, ReasonNotAllowed, sentence(err))
		return false
	}
	if hostname.IsWildcard(name) {
		c.refuse(src, name, ReasonWildcard, fmt.Sprintf("Wildcard hostname %q is not published: the central DNS serves exact names only", name))
		return false
	}
	return true
}

// claim records that src asks for name to resolve to the addresses of owner.
func (c *computer) claim(src ObjectRef, name string, owner Owner, created time.Time, addrs []netip.Addr) {
	if !c.check(src, name) {
		return
	}
	k := name + "\x00" + owner.ID()
	cand := c.cands[k]
	if cand == nil {
		cand = &candidate{hostname: name, owner: owner, created: created, addrs: addrs}
		c.cands[k] = cand
	}
	if !slices.Contains(cand.sources, src) {
		cand.sources = append(cand.sources, src)
	}
}

// result resolves conflicts. Claims already granted in the store come first, then
// older owners before younger ones; each claim is checked against those granted
// before it.
func (c *computer) result() Result {
	granted := NewClaims()
	for h, o := range c.claims.All() {
		if !c.scope.Contains(o) {
			granted.Add(h, o)
		}
	}
	stored := func(cand *candidate) bool {
		o, ok := c.claims.Owner(cand.hostname)
		return ok && o.Same(cand.owner)
	}
	cands := make([]*candidate, 0, len(c.cands))
	for _, cand := range c.cands {
		cands = append(cands, cand)
	}
	slices.SortFunc(cands, func(a, b *candidate) int {
		if sa, sb := stored(a), stored(b); sa != sb {
			if sa {
				return -1
			}
			return 1
		}
		return cmp.Or(a.created.Compare(b.created), cmp.Compare(a.owner.ID(), b.owner.ID()), cmp.Compare(a.hostname, b.hostname))
	})
	var eps []Endpoint
	for _, cand := range cands {
		if conflict := granted.Check(cand.hostname, cand.owner); conflict != nil {
			for _, src := range cand.sources {
				c.refuse(src, cand.hostname, conflict.Reason, conflict.Error())
			}
			continue
		}
		granted.Add(cand.hostname, cand.owner)
		eps = append(eps, newEndpoint(cand.hostname, cand.owner, c.ttl, cand.addrs))
	}
	slices.SortFunc(eps, func(a, b Endpoint) int { return cmp.Compare(a.Hostname, b.Hostname) })
	refusals := make([]Refusal, 0, len(c.refusals))
	for _, r := range c.refusals {
		refusals = append(refusals, r)
	}
	slices.SortFunc(refusals, func(a, b Refusal) int {
		return cmp.Or(
			cmp.Compare(a.Object.Kind, b.Object.Kind), cmp.Compare(a.Object.Namespace, b.Object.Namespace),
			cmp.Compare(a.Object.Name, b.Object.Name), cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.Reason, b.Reason))
	})
	return Result{Scope: c.scope, Endpoints: eps, Refusals: refusals}
}

func newEndpoint(name string, owner Owner, ttl uint32, addrs []netip.Addr) Endpoint {
	e := Endpoint{Hostname: name, Owner: owner, TTL: ttl}
	for _, a := range addrs {
		a = a.Unmap()
		switch {
		case a.Is4():
			e.IPv4 = append(e.IPv4, a)
		case a.Is6():
			e.IPv6 = append(e.IPv6, a.WithZone(""))
		}
	}
	for _, s := range []*[]netip.Addr{&e.IPv4, &e.IPv6} {
		slices.SortFunc(*s, netip.Addr.Compare)
		*s = slices.Compact(*s)
	}
	return e
}

func (c *computer) ingresses(ings []networkingv1.Ingress) {
	for i := range ings {
		ing := &ings[i]
		if ing.DeletionTimestamp != nil {
			continue
		}
		var addrs []netip.Addr
		for _, lb := range ing.Status.LoadBalancer.Ingress {
			if a, err := netip.ParseAddr(lb.IP); err == nil {
				addrs = append(addrs, a)
			}
		}
		src := ObjectRef{Kind: KindIngress, Namespace: ing.Namespace, Name: ing.Name}
		owner := c.owner(KindIngress, ing)
		for _, rule := range ing.Spec.Rules {
			if rule.Host != "" {
				c.claim(src, rule.Host, owner, ing.CreationTimestamp.Time, addrs)
			}
		}
	}
}

func (c *computer) gateways(gws []gatewayv1.Gateway, routes []gatewayv1.HTTPRoute, nsLabels gatewayapi.NamespaceLabels) {
	type key struct{ namespace, name string }
	byKey := map[key]*gatewayv1.Gateway{}
	addrs := map[key][]netip.Addr{}
	for i := range gws {
		gw := &gws[i]
		if gw.DeletionTimestamp != nil {
			continue
		}
		k := key{gw.Namespace, gw.Name}
		byKey[k] = gw
		addrs[k] = gatewayAddresses(gw)
		src := ObjectRef{Kind: KindGateway, Namespace: gw.Namespace, Name: gw.Name}
		owner := c.owner(KindGateway, gw)
		for _, l := range gw.Spec.Listeners {
			if l.Hostname != nil && *l.Hostname != "" {
				c.claim(src, string(*l.Hostname), owner, gw.CreationTimestamp.Time, addrs[k])
			}
		}
	}
	for i := range routes {
		rt := &routes[i]
		if rt.DeletionTimestamp != nil {
			continue
		}
		src := ObjectRef{Kind: KindHTTPRoute, Namespace: rt.Namespace, Name: rt.Name}
		for _, p := range rt.Spec.ParentRefs {
			if !gatewayapi.IsGatewayRef(p) {
				continue
			}
			ns := rt.Namespace
			if p.Namespace != nil {
				ns = string(*p.Namespace)
			}
			k := key{ns, string(p.Name)}
			gw := byKey[k]
			if gw == nil {
				continue
			}
			owner := c.owner(KindGateway, gw)
			for _, l := range gw.Spec.Listeners {
				if !gatewayapi.Selects(p, l) || !gatewayapi.Admits(gw, l, gatewayapi.KindHTTPRoute, rt.Namespace, nsLabels) {
					continue
				}
				for _, name := range c.routeHostnames(src, l, rt) {
					c.claim(src, name, owner, gw.CreationTimestamp.Time, addrs[k])
				}
			}
		}
	}
}

// routeHostnames returns the hostnames a route has on a listener; invalid ones of the
// route are refused, a listener with an invalid hostname (refused on the Gateway)
// gives none.
func (c *computer) routeHostnames(src ObjectRef, l gatewayv1.Listener, rt *gatewayv1.HTTPRoute) []string {
	if l.Hostname != nil && hostname.Validate(string(*l.Hostname)) != nil {
		return nil
	}
	valid := make([]gatewayv1.Hostname, 0, len(rt.Spec.Hostnames))
	for _, h := range rt.Spec.Hostnames {
		if err := hostname.Validate(string(h)); err != nil {
			c.refuse(src, string(h), ReasonInvalid, sentence(err))
			continue
		}
		valid = append(valid, h)
	}
	if len(valid) == 0 && len(rt.Spec.Hostnames) > 0 {
		return nil
	}
	return gatewayapi.Hostnames(l, valid)
}

// gatewayAddresses returns the IP addresses in a Gateway's status.
func gatewayAddresses(gw *gatewayv1.Gateway) []netip.Addr {
	var out []netip.Addr
	for _, a := range gw.Status.Addresses {
		if a.Type != nil && *a.Type != gatewayv1.IPAddressType {
			continue
		}
		if ip, err := netip.ParseAddr(a.Value); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

// sentence turns an error into a message: capital first letter, no trailing period.
func sentence(err error) string {
	s := strings.TrimSuffix(err.Error(), ".")
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
