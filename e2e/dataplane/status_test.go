package dataplane

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

var (
	earlier = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now     = metav1.NewTime(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
)

func TestServiceWanted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec corev1.ServiceSpec
		want bool
	}{
		{name: "LoadBalancer without class", spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}, want: true},
		{name: "LoadBalancer of the data plane's class", spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, LoadBalancerClass: ptr.To(ControllerName)}, want: true},
		{name: "LoadBalancer of another class", spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, LoadBalancerClass: ptr.To("example.com/lb")}, want: false},
		{name: "ClusterIP", spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP}, want: false},
		{name: "NodePort", spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := serviceWanted(&corev1.Service{Spec: tc.spec}); got != tc.want {
				t.Errorf("serviceWanted = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIngressWanted(t *testing.T) {
	t.Parallel()
	classes := map[string]string{DefaultClass: ControllerName, "nginx": "k8s.io/ingress-nginx"}
	controllerOf := func(name string) (string, bool) {
		c, ok := classes[name]
		return c, ok
	}
	tests := []struct {
		name        string
		className   *string
		annotations map[string]string
		want        bool
	}{
		{name: "no class", want: true},
		{name: "the data plane's class", className: ptr.To(DefaultClass), want: true},
		{name: "another controller's class", className: ptr.To("nginx"), want: false},
		{name: "a class that does not exist", className: ptr.To("missing"), want: false},
		{name: "the data plane's class by the legacy annotation", annotations: map[string]string{legacyIngressClassAnnotation: DefaultClass}, want: true},
		{name: "another class by the legacy annotation", annotations: map[string]string{legacyIngressClassAnnotation: "nginx"}, want: false},
		{name: "spec wins over the annotation", className: ptr.To(DefaultClass), annotations: map[string]string{legacyIngressClassAnnotation: "nginx"}, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Annotations: tc.annotations}, Spec: networkingv1.IngressSpec{IngressClassName: tc.className}}
			if got := ingressWanted(ing, controllerOf); got != tc.want {
				t.Errorf("ingressWanted = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestServiceAndIngressStatus(t *testing.T) {
	t.Parallel()
	a := addrs("198.51.100.1", "2001:db8::1")
	wantSvc := []corev1.LoadBalancerIngress{
		{IP: "198.51.100.1", IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)},
		{IP: "2001:db8::1", IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)},
	}
	if diff := cmp.Diff(wantSvc, serviceIngress(a)); diff != "" {
		t.Errorf("serviceIngress (-want +got):\n%s", diff)
	}
	wantIng := []networkingv1.IngressLoadBalancerIngress{{IP: "198.51.100.1"}, {IP: "2001:db8::1"}}
	if diff := cmp.Diff(wantIng, ingressIngress(a)); diff != "" {
		t.Errorf("ingressIngress (-want +got):\n%s", diff)
	}
	// Reading back: hostnames and garbage are skipped.
	svc := &corev1.Service{Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: append(wantSvc, corev1.LoadBalancerIngress{Hostname: "lb.example.com"})}}}
	if diff := cmp.Diff(a, serviceAddrs(svc), cmpopts.EquateComparable(a[0])); diff != "" {
		t.Errorf("serviceAddrs (-want +got):\n%s", diff)
	}
	kept := without(svc.Status.LoadBalancer.Ingress, func(i corev1.LoadBalancerIngress) string { return i.IP }, a[:1])
	if len(kept) != 2 || kept[0].IP != "2001:db8::1" || kept[1].Hostname != "lb.example.com" {
		t.Errorf("without = %+v", kept)
	}
}

func TestGatewayClassStatus(t *testing.T) {
	t.Parallel()
	gc := &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
	// The CRD's default: Accepted Unknown, Pending.
	gc.Status.Conditions = []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionUnknown, Reason: "Pending", LastTransitionTime: earlier}}
	st := gatewayClassStatus(gc, now)
	c := meta.FindStatusCondition(st.Conditions, "Accepted")
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != "Accepted" || c.ObservedGeneration != 2 || !c.LastTransitionTime.Equal(&now) {
		t.Fatalf("Accepted = %+v", c)
	}
	// Computing again changes nothing, not even the time.
	gc.Status = st
	again := gatewayClassStatus(gc, metav1.NewTime(now.Add(time.Hour)))
	if diff := cmp.Diff(st, again); diff != "" {
		t.Errorf("second computation (-first +second):\n%s", diff)
	}
}

// condition is a condition without time, for comparisons.
type condition struct {
	Type, Status, Reason string
	Generation           int64
}

func conditions(cs []metav1.Condition) []condition {
	var out []condition
	for _, c := range cs {
		out = append(out, condition{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Generation: c.ObservedGeneration})
	}
	return out
}

func TestGatewayStatus(t *testing.T) {
	t.Parallel()
	httpRoute := []gatewayv1.RouteGroupKind{{Group: ptr.To(gatewayv1.Group(gatewayv1.GroupName)), Kind: "HTTPRoute"}}
	type listener struct {
		Name       gatewayv1.SectionName
		Kinds      []gatewayv1.RouteGroupKind
		Attached   int32
		Conditions []condition
	}
	okListener := func(name gatewayv1.SectionName, attached int32) listener {
		return listener{Name: name, Kinds: httpRoute, Attached: attached, Conditions: []condition{
			{Type: "Accepted", Status: "True", Reason: "Accepted", Generation: 3},
			{Type: "ResolvedRefs", Status: "True", Reason: "ResolvedRefs", Generation: 3},
			{Type: "Programmed", Status: "True", Reason: "Programmed", Generation: 3},
		}}
	}
	tests := []struct {
		name           string
		gateway        *gatewayv1.Gateway
		addrs          []string
		addrErr        string
		attached       map[gatewayv1.SectionName]int32
		wantAddrs      []string
		wantConditions []condition
		wantListeners  []listener
	}{
		{
			name: "all listeners valid, dual-stack",
			gateway: func() *gatewayv1.Gateway {
				gw := testGateway()
				gw.Spec.Listeners = gw.Spec.Listeners[:3]
				return gw
			}(),
			addrs:     []string{"198.51.100.1", "2001:db8::1"},
			attached:  map[gatewayv1.SectionName]int32{"http": 2, "teams": 1},
			wantAddrs: []string{"198.51.100.1", "2001:db8::1"},
			wantConditions: []condition{
				{Type: "Accepted", Status: "True", Reason: "Accepted", Generation: 3},
				{Type: "Programmed", Status: "True", Reason: "Programmed", Generation: 3},
			},
			wantListeners: []listener{okListener("http", 2), okListener("shared", 0), okListener("teams", 1)},
		},
		{
			name:      "unsupported protocol and route kinds",
			gateway:   testGateway(),
			addrs:     []string{"198.51.100.1"},
			wantAddrs: []string{"198.51.100.1"},
			wantConditions: []condition{
				{Type: "Accepted", Status: "True", Reason: "ListenersNotValid", Generation: 3},
				{Type: "Programmed", Status: "True", Reason: "Programmed", Generation: 3},
			},
			wantListeners: []listener{
				okListener("http", 0), okListener("shared", 0), okListener("teams", 0),
				{Name: "tls", Conditions: []condition{
					{Type: "Accepted", Status: "False", Reason: "UnsupportedProtocol", Generation: 3},
					{Type: "ResolvedRefs", Status: "True", Reason: "ResolvedRefs", Generation: 3},
					{Type: "Programmed", Status: "False", Reason: "Invalid", Generation: 3},
				}},
				{Name: "grpc-only", Conditions: []condition{
					{Type: "Accepted", Status: "True", Reason: "Accepted", Generation: 3},
					{Type: "ResolvedRefs", Status: "False", Reason: "InvalidRouteKinds", Generation: 3},
					{Type: "Programmed", Status: "False", Reason: "Invalid", Generation: 3},
				}},
			},
		},
		{
			name: "no address",
			gateway: func() *gatewayv1.Gateway {
				gw := testGateway()
				gw.Spec.Listeners = gw.Spec.Listeners[:1]
				return gw
			}(),
			addrErr: "the IPv4 pool is exhausted",
			wantConditions: []condition{
				{Type: "Accepted", Status: "True", Reason: "Accepted", Generation: 3},
				{Type: "Programmed", Status: "False", Reason: "AddressNotAssigned", Generation: 3},
			},
			wantListeners: []listener{{Name: "http", Kinds: httpRoute, Conditions: []condition{
				{Type: "Accepted", Status: "True", Reason: "Accepted", Generation: 3},
				{Type: "ResolvedRefs", Status: "True", Reason: "ResolvedRefs", Generation: 3},
				{Type: "Programmed", Status: "False", Reason: "Pending", Generation: 3},
			}}},
		},
		{
			name: "no valid listener",
			gateway: func() *gatewayv1.Gateway {
				gw := testGateway()
				gw.Spec.Listeners = gw.Spec.Listeners[3:4]
				return gw
			}(),
			addrs:     []string{"198.51.100.1"},
			wantAddrs: []string{"198.51.100.1"},
			wantConditions: []condition{
				{Type: "Accepted", Status: "False", Reason: "ListenersNotValid", Generation: 3},
				{Type: "Programmed", Status: "False", Reason: "Invalid", Generation: 3},
			},
			wantListeners: []listener{{Name: "tls", Conditions: []condition{
				{Type: "Accepted", Status: "False", Reason: "UnsupportedProtocol", Generation: 3},
				{Type: "ResolvedRefs", Status: "True", Reason: "ResolvedRefs", Generation: 3},
				{Type: "Programmed", Status: "False", Reason: "Invalid", Generation: 3},
			}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := gatewayStatus(tc.gateway, addrs(tc.addrs...), tc.addrErr, tc.attached, now)
			var gotAddrs []string
			for _, a := range st.Addresses {
				if a.Type == nil || *a.Type != gatewayv1.IPAddressType {
					t.Errorf("address %s has type %v, want IPAddress", a.Value, a.Type)
				}
				gotAddrs = append(gotAddrs, a.Value)
			}
			if diff := cmp.Diff(tc.wantAddrs, gotAddrs); diff != "" {
				t.Errorf("addresses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantConditions, conditions(st.Conditions)); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			var gotListeners []listener
			for _, l := range st.Listeners {
				gotListeners = append(gotListeners, listener{Name: l.Name, Kinds: l.SupportedKinds, Attached: l.AttachedRoutes, Conditions: conditions(l.Conditions)})
			}
			if diff := cmp.Diff(tc.wantListeners, gotListeners, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("listeners (-want +got):\n%s", diff)
			}
			// Computing again from the result changes nothing: the data plane is
			// quiet when idle.
			gw := tc.gateway.DeepCopy()
			gw.Status = st
			again := gatewayStatus(gw, addrs(tc.addrs...), tc.addrErr, tc.attached, metav1.NewTime(now.Add(time.Hour)))
			if diff := cmp.Diff(st, again); diff != "" {
				t.Errorf("second computation (-first +second):\n%s", diff)
			}
		})
	}
}

func TestGatewayStatusKeepsTransitionTimes(t *testing.T) {
	t.Parallel()
	gw := testGateway()
	gw.Spec.Listeners = gw.Spec.Listeners[:1]
	gw.Status = gatewayStatus(gw, addrs("198.51.100.1"), "", nil, earlier)
	gw.Status.Conditions = append(gw.Status.Conditions, metav1.Condition{Type: "example.com/Custom", Status: metav1.ConditionTrue, Reason: "Mine", LastTransitionTime: earlier})
	gw.Generation++

	st := gatewayStatus(gw, nil, "", nil, now)
	accepted := meta.FindStatusCondition(st.Conditions, "Accepted")
	programmed := meta.FindStatusCondition(st.Conditions, "Programmed")
	if !accepted.LastTransitionTime.Equal(&earlier) || accepted.ObservedGeneration != 4 {
		t.Errorf("Accepted did not change status, yet: %+v", accepted)
	}
	if !programmed.LastTransitionTime.Equal(&now) || programmed.Status != metav1.ConditionFalse {
		t.Errorf("Programmed turned False, yet: %+v", programmed)
	}
	if meta.FindStatusCondition(st.Conditions, "example.com/Custom") == nil {
		t.Errorf("a condition of another type was dropped: %+v", st.Conditions)
	}
}

type fakeBackends struct {
	services map[string]bool // "namespace/name"
	grants   map[string]bool // "from>namespace/name"
}

func (f fakeBackends) ServiceExists(namespace, name string) bool {
	return f.services[namespace+"/"+name]
}

func (f fakeBackends) Granted(from, namespace, name string) bool {
	return f.grants[from+">"+namespace+"/"+name]
}

func backendRef(mods ...func(*gatewayv1.BackendObjectReference)) gatewayv1.HTTPBackendRef {
	r := gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "web", Port: ptr.To[gatewayv1.PortNumber](80)}}}
	for _, m := range mods {
		m(&r.BackendObjectReference)
	}
	return r
}

func TestResolvedRefs(t *testing.T) {
	t.Parallel()
	backends := fakeBackends{
		services: map[string]bool{"apps/web": true, "shared/web": true, "granted/web": true},
		grants:   map[string]bool{"apps>granted/web": true},
	}
	inNamespace := func(ns string) func(*gatewayv1.BackendObjectReference) {
		return func(r *gatewayv1.BackendObjectReference) { r.Namespace = ptr.To(gatewayv1.Namespace(ns)) }
	}
	tests := []struct {
		name       string
		refs       []gatewayv1.HTTPBackendRef
		wantStatus metav1.ConditionStatus
		wantReason gatewayv1.RouteConditionReason
	}{
		{name: "no backends", wantStatus: metav1.ConditionTrue, wantReason: gatewayv1.RouteReasonResolvedRefs},
		{name: "a Service in the route's namespace", refs: []gatewayv1.HTTPBackendRef{backendRef()}, wantStatus: metav1.ConditionTrue, wantReason: gatewayv1.RouteReasonResolvedRefs},
		{name: "explicit core group and kind", refs: []gatewayv1.HTTPBackendRef{backendRef(func(r *gatewayv1.BackendObjectReference) {
			r.Group, r.Kind = ptr.To(gatewayv1.Group("")), ptr.To(gatewayv1.Kind("Service"))
		})}, wantStatus: metav1.ConditionTrue, wantReason: gatewayv1.RouteReasonResolvedRefs},
		{name: "a missing Service", refs: []gatewayv1.HTTPBackendRef{backendRef(func(r *gatewayv1.BackendObjectReference) { r.Name = "gone" })}, wantStatus: metav1.ConditionFalse, wantReason: gatewayv1.RouteReasonBackendNotFound},
		{name: "another kind", refs: []gatewayv1.HTTPBackendRef{backendRef(func(r *gatewayv1.BackendObjectReference) {
			r.Group, r.Kind = ptr.To(gatewayv1.Group("example.com")), ptr.To(gatewayv1.Kind("Bucket"))
		})}, wantStatus: metav1.ConditionFalse, wantReason: gatewayv1.RouteReasonInvalidKind},
		{name: "another namespace without grant", refs: []gatewayv1.HTTPBackendRef{backendRef(inNamespace("shared"))}, wantStatus: metav1.ConditionFalse, wantReason: gatewayv1.RouteReasonRefNotPermitted},
		{name: "another namespace with grant", refs: []gatewayv1.HTTPBackendRef{backendRef(inNamespace("granted"))}, wantStatus: metav1.ConditionTrue, wantReason: gatewayv1.RouteReasonResolvedRefs},
		{name: "the first failing backend decides", refs: []gatewayv1.HTTPBackendRef{backendRef(), backendRef(inNamespace("shared")), backendRef(func(r *gatewayv1.BackendObjectReference) { r.Name = "gone" })}, wantStatus: metav1.ConditionFalse, wantReason: gatewayv1.RouteReasonRefNotPermitted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			route := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "r"}}
			route.Spec.Rules = []gatewayv1.HTTPRouteRule{{BackendRefs: tc.refs}}
			c := resolvedRefs(route, backends)
			if c.Type != "ResolvedRefs" || c.Status != tc.wantStatus || c.Reason != string(tc.wantReason) {
				t.Errorf("resolvedRefs = %s %s %s, want ResolvedRefs %s %s", c.Type, c.Status, c.Reason, tc.wantStatus, tc.wantReason)
			}
		})
	}
}

func TestGrantAllows(t *testing.T) {
	t.Parallel()
	grant := func(fromGroup gatewayv1.Group, fromKind gatewayv1.Kind, fromNS string, toKind gatewayv1.Kind, toName *gatewayv1.ObjectName) gatewayv1.ReferenceGrant {
		return gatewayv1.ReferenceGrant{Spec: gatewayv1.ReferenceGrantSpec{
			From: []gatewayv1.ReferenceGrantFrom{{Group: fromGroup, Kind: fromKind, Namespace: gatewayv1.Namespace(fromNS)}},
			To:   []gatewayv1.ReferenceGrantTo{{Group: "", Kind: toKind, Name: toName}},
		}}
	}
	tests := []struct {
		name   string
		grants []gatewayv1.ReferenceGrant
		want   bool
	}{
		{name: "none", want: false},
		{name: "all Services", grants: []gatewayv1.ReferenceGrant{grant(gatewayv1.GroupName, "HTTPRoute", "apps", "Service", nil)}, want: true},
		{name: "this Service", grants: []gatewayv1.ReferenceGrant{grant(gatewayv1.GroupName, "HTTPRoute", "apps", "Service", ptr.To(gatewayv1.ObjectName("web")))}, want: true},
		{name: "another Service", grants: []gatewayv1.ReferenceGrant{grant(gatewayv1.GroupName, "HTTPRoute", "apps", "Service", ptr.To(gatewayv1.ObjectName("db")))}, want: false},
		{name: "another namespace", grants: []gatewayv1.ReferenceGrant{grant(gatewayv1.GroupName, "HTTPRoute", "other", "Service", nil)}, want: false},
		{name: "another route kind", grants: []gatewayv1.ReferenceGrant{grant(gatewayv1.GroupName, "GRPCRoute", "apps", "Service", nil)}, want: false},
		{name: "another target kind", grants: []gatewayv1.ReferenceGrant{grant(gatewayv1.GroupName, "HTTPRoute", "apps", "Secret", nil)}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := grantAllows(tc.grants, "apps", "web"); got != tc.want {
				t.Errorf("grantAllows = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRouteParents(t *testing.T) {
	t.Parallel()
	resolved := metav1.Condition{Type: "ResolvedRefs", Status: metav1.ConditionTrue, Reason: "ResolvedRefs"}
	other := gatewayv1.RouteParentStatus{
		ParentRef:      gatewayv1.ParentReference{Name: "their-gw"},
		ControllerName: "example.com/gateway",
		Conditions:     []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", LastTransitionTime: earlier}},
	}
	route := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "r", Generation: 5}}
	route.Status.Parents = []gatewayv1.RouteParentStatus{
		{ // Ours, still referenced, unchanged Accepted: its place and time stay.
			ParentRef:      ref("gw", section("http")),
			ControllerName: ControllerName,
			Conditions: []metav1.Condition{
				{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", ObservedGeneration: 4, LastTransitionTime: earlier},
			},
		},
		other,
		{ // Ours, no longer referenced: dropped; the new result is appended.
			ParentRef:      ref("old-gw"),
			ControllerName: ControllerName,
		},
	}
	results := []parentResult{
		{Ref: ref("gw", section("http")), Attachment: attachment{Listeners: []gatewayv1.SectionName{"http"}, Reason: gatewayv1.RouteReasonAccepted}},
		{Ref: ref("gw", section("teams")), Attachment: attachment{Reason: gatewayv1.RouteReasonNotAllowedByListeners}},
	}
	got := routeParents(route, results, resolved, now)

	type entry struct {
		Ref        gatewayv1.ParentReference
		Controller gatewayv1.GatewayController
		Conditions []condition
	}
	var gotEntries []entry
	for _, p := range got {
		gotEntries = append(gotEntries, entry{Ref: p.ParentRef, Controller: p.ControllerName, Conditions: conditions(p.Conditions)})
	}
	want := []entry{
		{Ref: ref("gw", section("http")), Controller: ControllerName, Conditions: []condition{
			{Type: "Accepted", Status: "True", Reason: "Accepted", Generation: 5},
			{Type: "ResolvedRefs", Status: "True", Reason: "ResolvedRefs", Generation: 5},
		}},
		{Ref: other.ParentRef, Controller: other.ControllerName, Conditions: []condition{{Type: "Accepted", Status: "True", Reason: "Accepted"}}},
		{Ref: ref("gw", section("teams")), Controller: ControllerName, Conditions: []condition{
			{Type: "Accepted", Status: "False", Reason: "NotAllowedByListeners", Generation: 5},
			{Type: "ResolvedRefs", Status: "True", Reason: "ResolvedRefs", Generation: 5},
		}},
	}
	if diff := cmp.Diff(want, gotEntries); diff != "" {
		t.Errorf("parents (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(other, got[1]); diff != "" {
		t.Errorf("the other controller's entry changed (-want +got):\n%s", diff)
	}
	if lt := got[0].Conditions[0].LastTransitionTime; !lt.Equal(&earlier) {
		t.Errorf("unchanged Accepted got a new transition time %s", lt)
	}

	// Computing again changes nothing.
	route.Status.Parents = got
	if diff := cmp.Diff(got, routeParents(route, results, resolved, metav1.NewTime(now.Add(time.Hour)))); diff != "" {
		t.Errorf("second computation (-first +second):\n%s", diff)
	}
	// Without results, only the other controller's entry is left.
	if diff := cmp.Diff([]gatewayv1.RouteParentStatus{other}, routeParents(route, nil, resolved, now)); diff != "" {
		t.Errorf("without results (-want +got):\n%s", diff)
	}
}

func TestOptionsComplete(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		want    Options
		wantErr bool
	}{
		{
			name: "defaults, pools masked",
			opts: Options{IPv4Pool: netip.MustParsePrefix("198.51.100.7/24")},
			want: Options{GatewayClass: DefaultClass, IngressClass: DefaultClass, IPv4Pool: netip.MustParsePrefix("198.51.100.0/24")},
		},
		{
			name: "explicit classes and an IPv6 pool",
			opts: Options{GatewayClass: "gc", IngressClass: "ic", IPv4Pool: netip.MustParsePrefix("10.0.0.0/24"), IPv6Pool: netip.MustParsePrefix("fd00::/64")},
			want: Options{GatewayClass: "gc", IngressClass: "ic", IPv4Pool: netip.MustParsePrefix("10.0.0.0/24"), IPv6Pool: netip.MustParsePrefix("fd00::/64")},
		},
		{name: "no IPv4 pool", opts: Options{}, wantErr: true},
		{name: "two forward addresses of one family", opts: Options{IPv4Pool: netip.MustParsePrefix("10.0.0.0/24"), ForwardIPs: []netip.Addr{netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.1.0.2")}}, wantErr: true},
		{name: "IPv6 as the IPv4 pool", opts: Options{IPv4Pool: netip.MustParsePrefix("fd00::/64")}, wantErr: true},
		{name: "IPv4 as the IPv6 pool", opts: Options{IPv4Pool: netip.MustParsePrefix("10.0.0.0/24"), IPv6Pool: netip.MustParsePrefix("10.1.0.0/24")}, wantErr: true},
		{name: "IPv4-mapped IPv6 pool", opts: Options{IPv4Pool: netip.MustParsePrefix("10.0.0.0/24"), IPv6Pool: netip.MustParsePrefix("::ffff:10.1.0.0/120")}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.opts.complete()
			if (err != nil) != tc.wantErr {
				t.Fatalf("complete() error = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("complete() = %+v, want %+v", got, tc.want)
			}
		})
	}
}
