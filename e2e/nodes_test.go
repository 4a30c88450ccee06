package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/e2e/dataplane"
	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/images"
)

// TestNodes proves the landscape's real nodes the way a user sees them: from Pods,
// through their resolv.conf, with real packets through kube-proxy, within a cluster
// and across the flat network; and that teardown leaves nothing on the host.
func TestNodes(t *testing.T) {
	landscape.RequireNodes(t)
	// Nodes of other test binaries (the demo's) would count as leftovers: wait for
	// them to end, and keep others from starting until the leak check is done.
	release, err := landscape.ExclusiveHost()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	before, err := landscape.HostState()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	// Stopped here, not only by ForTest's cleanup, so that the leak check runs after it.
	stopped := false
	defer func() {
		if !stopped {
			_ = l.Stop()
		}
	}()

	one, err := l.StartCluster(ctx, "cluster-1", landscape.ClusterOptions{Node: true, DualStack: true})
	if err != nil {
		t.Fatal(err)
	}
	two, err := l.StartCluster(ctx, "cluster-2", landscape.ClusterOptions{Node: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []*landscape.Cluster{one, two} {
		opts := dataplane.Options{IPv4Pool: c.Node.Net.LBPools[0], ForwardIPs: c.Node.Net.HostIPs}
		if len(c.Node.Net.LBPools) > 1 {
			opts.IPv6Pool = c.Node.Net.LBPools[1]
		}
		gw, err := landscape.GatewayAPICRDFiles()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.InstallCRDs(ctx, gw...); err != nil {
			t.Fatal(err)
		}
		if err := dataplane.Start(ctx, c.Config, opts); err != nil {
			t.Fatalf("data plane of cluster %d: %v", i+1, err)
		}
	}
	cs1, cs2 := mustClientset(t, one), mustClientset(t, two)

	// A backend of two replicas behind a dual-stack Service, and a LoadBalancer for it.
	// The namespace enforces the restricted Pod Security level: the project's images
	// run under it, CoreDNS binding port 53 as 65532 included.
	const ns = "web"
	restricted := map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}
	for _, cs := range []kubernetes.Interface{cs1, cs2} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: restricted}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs1.AppsV1().Deployments(ns).Create(ctx, landscape.ServerDeployment(ns, "echo", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dual := corev1.IPFamilyPolicyPreferDualStack
	httpPort := []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}
	if _, err := cs1.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "echo"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "echo"}, Ports: httpPort, IPFamilyPolicy: &dual},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs1.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "echo-lb"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "echo"}, Ports: httpPort},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := landscape.WaitDeploymentReady(ctx, cs1, ns, "echo", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	backends := podIPs(ctx, t, cs1, ns, "app=echo")
	lbIP := waitLoadBalancerIP(ctx, t, cs1, ns, "echo-lb")
	if !one.Node.Net.LBPools[0].Contains(netip.MustParseAddr(lbIP)) {
		t.Fatalf("LoadBalancer address %s is not from cluster 1's pool %s", lbIP, one.Node.Net.LBPools[0])
	}

	t.Run("a Pod fetches a Service by its cluster DNS name and a backend Pod answers", func(t *testing.T) {
		out, err := one.RunPod(ctx, landscape.ProbePod(ns, "get-by-name", "get", "http://echo.web.svc.cluster.local/hello"), 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := cs1.CoreV1().Services(ns).Get(ctx, "echo", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// The name has an address per family; the client may take either.
		var remotes []string
		for _, ip := range svc.Spec.ClusterIPs {
			remotes = append(remotes, net.JoinHostPort(ip, "80"))
		}
		checkServedBy(t, out, remotes, "echo.web.svc.cluster.local", "/hello", backends)
	})

	t.Run("a Pod resolves the Service's IPv6 address and fetches through it", func(t *testing.T) {
		svc, err := cs1.CoreV1().Services(ns).Get(ctx, "echo", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(svc.Spec.ClusterIPs) != 2 {
			t.Fatalf("Service echo of the dual-stack cluster has ClusterIPs %v", svc.Spec.ClusterIPs)
		}
		out, err := one.RunPod(ctx, landscape.ProbePod(ns, "lookup-aaaa", "lookup", "-type", "AAAA", "echo.web.svc.cluster.local"), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if want := "AAAA " + svc.Spec.ClusterIPs[1]; out != want {
			t.Fatalf("lookup: got %q, want %q", out, want)
		}
		out, err = one.RunPod(ctx, landscape.ProbePod(ns, "get-v6", "get", fmt.Sprintf("http://[%s]/", svc.Spec.ClusterIPs[1])), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		checkServedBy(t, out, []string{fmt.Sprintf("[%s]:80", svc.Spec.ClusterIPs[1])}, fmt.Sprintf("[%s]", svc.Spec.ClusterIPs[1]), "/", backends)
	})

	t.Run("a Pod reaches its cluster's API server by kubernetes.default", func(t *testing.T) {
		// /version is open to anyone; its body names the API server's release.
		out, err := two.RunPod(ctx, landscape.ProbePod(ns, "get-apiserver", "get", "-insecure", "https://kubernetes.default.svc.cluster.local/version"), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out, "status=200 remote="+two.Node.Net.ServiceCIDRs[0].Addr().Next().String()+":443 ") || !strings.Contains(out, `"gitVersion": "v1.35.4"`) {
			t.Fatalf("API server through kubernetes.default: %q", out)
		}
	})

	t.Run("a Pod on cluster 2 reaches a cluster-1 LoadBalancer address", func(t *testing.T) {
		out, err := two.RunPod(ctx, landscape.ProbePod(ns, "get-lb", "get", "http://"+lbIP+"/from-2"), 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		checkServedBy(t, out, []string{lbIP + ":80"}, lbIP, "/from-2", backends)
	})

	t.Run("a Pod on cluster 2 reaches a cluster-1 Gateway by the Host header of its HTTPRoute", func(t *testing.T) {
		gwIP := startGateway(ctx, t, one, ns, "app.gateway.test", "echo")
		if !one.Node.Net.LBPools[0].Contains(netip.MustParseAddr(gwIP)) {
			t.Fatalf("Gateway address %s is not from cluster 1's pool %s", gwIP, one.Node.Net.LBPools[0])
		}
		out, err := two.RunPod(ctx, landscape.ProbePod(ns, "get-gateway", "get", "-host", "app.gateway.test", "http://"+gwIP+"/via-gateway"), 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		checkServedBy(t, out, []string{gwIP + ":80"}, "app.gateway.test", "/via-gateway", backends)
		// Cluster 1 is dual-stack: its Gateway's IPv6 address carries traffic too (from
		// a Pod of cluster 1; cluster 2's Pods have IPv4 only).
		var gw gatewayv1.Gateway
		if err := mustClient(t, one).Get(ctx, client.ObjectKey{Namespace: ns, Name: "gw"}, &gw); err != nil {
			t.Fatal(err)
		}
		var v6 string
		for _, a := range gw.Status.Addresses {
			if netip.MustParseAddr(a.Value).Is6() {
				v6 = a.Value
			}
		}
		if v6 == "" {
			t.Fatalf("the Gateway of dual-stack cluster 1 has no IPv6 address: %+v", gw.Status.Addresses)
		}
		out, err = one.RunPod(ctx, landscape.ProbePod(ns, "get-gateway-v6", "get", "-host", "app.gateway.test", "http://["+v6+"]/via-gateway-v6"), 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		checkServedBy(t, out, []string{"[" + v6 + "]:80"}, "app.gateway.test", "/via-gateway-v6", backends)
		// A host no HTTPRoute names is not routed.
		_, err = two.RunPod(ctx, landscape.ProbePod(ns, "get-gateway-other", "get", "-timeout", "2s", "-host", "other.gateway.test", "http://"+gwIP+"/"), time.Minute)
		if err == nil || !strings.Contains(err.Error(), "status=404") {
			t.Fatalf("a host without HTTPRoute: want status 404, got %v", err)
		}
	})

	t.Run("a Pod on cluster 2 reaches a cluster-1 Ingress by the host and path of its rule", func(t *testing.T) {
		ingIP := startIngress(ctx, t, one, ns, "shop", "shop.ingress.test", "/shop", "echo")
		if !one.Node.Net.LBPools[0].Contains(netip.MustParseAddr(ingIP)) {
			t.Fatalf("Ingress address %s is not from cluster 1's pool %s", ingIP, one.Node.Net.LBPools[0])
		}
		out, err := two.RunPod(ctx, landscape.ProbePod(ns, "get-ingress", "get", "-host", "shop.ingress.test", "http://"+ingIP+"/shop/cart"), 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		checkServedBy(t, out, []string{ingIP + ":80"}, "shop.ingress.test", "/shop/cart", backends)
		// A host no rule names is not routed (the Ingress has no defaultBackend).
		_, err = two.RunPod(ctx, landscape.ProbePod(ns, "get-ingress-other", "get", "-timeout", "2s", "-host", "other.ingress.test", "http://"+ingIP+"/shop/cart"), time.Minute)
		if err == nil || !strings.Contains(err.Error(), "status=404") {
			t.Fatalf("a host without rule: want status 404, got %v", err)
		}
	})

	t.Run("a Pod on cluster 2 resolves a zone its Corefile forwards to a DNS server on cluster 1", func(t *testing.T) {
		// A DNS server on cluster 1 behind a LoadBalancer address, answering one name
		// of the zone example.test with the LoadBalancer address of the backend.
		dnsIP := startZoneServer(ctx, t, cs1, ns, "example.test", map[string]string{"app.example.test": lbIP})
		cm, err := cs2.CoreV1().ConfigMaps(landscape.ClusterDNSNamespace).Get(ctx, landscape.ClusterDNSName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cm.Data["Corefile"] += fmt.Sprintf("example.test:53 {\n    forward . %s\n    cache 5\n}\n", dnsIP)
		if _, err := cs2.CoreV1().ConfigMaps(landscape.ClusterDNSNamespace).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		// The kubelet brings the ConfigMap to the CoreDNS Pod, which reloads it; the
		// Pod asks until then.
		out, err := two.RunPod(ctx, landscape.ProbePod(ns, "lookup-forwarded", "lookup", "-timeout", "90s", "app.example.test"), 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if want := "A " + lbIP; out != want {
			t.Fatalf("lookup through cluster 2's CoreDNS: got %q, want %q", out, want)
		}
		out, err = two.RunPod(ctx, landscape.ProbePod(ns, "get-forwarded", "get", "http://app.example.test/by-name"), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		checkServedBy(t, out, []string{lbIP + ":80"}, "app.example.test", "/by-name", backends)
	})

	t.Run("teardown leaves nothing on the host", func(t *testing.T) {
		stopped = true
		stopLeavingNothing(t, l, before)
	})

	t.Run("a second landscape starts right after", func(t *testing.T) {
		l2 := landscape.ForTest(t, landscape.Options{})
		c, err := l2.StartCluster(ctx, "again", landscape.ClusterOptions{Node: true})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.RunPod(ctx, landscape.ProbePod("default", "lookup", "lookup", "kubernetes.default.svc.cluster.local"), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if want := "A " + c.Node.Net.ServiceCIDRs[0].Addr().Next().String(); out != want {
			t.Fatalf("lookup: got %q, want %q", out, want)
		}
		stopLeavingNothing(t, l2, before)
	})
}

// stopLeavingNothing stops the landscape and fails t if the host holds anything it
// did not hold before.
func stopLeavingNothing(t *testing.T, l *landscape.Landscape, before map[string][]string) {
	t.Helper()
	if err := l.Stop(); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	after, err := landscape.HostState()
	if err != nil {
		t.Fatal(err)
	}
	if left := landscape.Leftovers(before, after); len(left) > 0 {
		t.Fatalf("the landscape left on the host:\n  %s", strings.Join(left, "\n  "))
	}
}

// checkServedBy checks that a fetch went to one of remotes, asked for host and path,
// and was answered by one of the backends (Pod name -> IP).
func checkServedBy(t *testing.T, out string, remotes []string, host, path string, backends map[string]string) {
	t.Helper()
	s, ok := landscape.ParseServed(out)
	if !ok {
		t.Fatalf("unexpected answer %q", out)
	}
	if !slices.Contains(remotes, s.Remote) || s.Host != host || s.Path != path {
		t.Fatalf("answer %q: want remote one of %v, host %s, path %s", out, remotes, host, path)
	}
	if ip, ok := backends[s.Pod]; !ok || ip != s.PodIP {
		t.Fatalf("answer %q: served by %s (%s), not one of the backends %v", out, s.Pod, s.PodIP, backends)
	}
}

func mustClientset(t *testing.T, c *landscape.Cluster) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// podIPs maps the names of the running Pods that match selector to their IPs.
func podIPs(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, selector string) map[string]string {
	t.Helper()
	ips, err := landscape.RunningPodIPs(ctx, cs, ns, selector)
	if err != nil {
		t.Fatal(err)
	}
	if len(ips) == 0 {
		t.Fatalf("no running Pod matches %s in %s", selector, ns)
	}
	return ips
}

func waitLoadBalancerIP(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string) string {
	t.Helper()
	var ip string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		svc, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil || len(svc.Status.LoadBalancer.Ingress) == 0 {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		ip = svc.Status.LoadBalancer.Ingress[0].IP
		return true, nil
	})
	if err != nil {
		t.Fatalf("Service %s/%s has no load-balancer address: %v", ns, name, err)
	}
	return ip
}

// startGateway creates a Gateway of the data plane with an HTTP listener and an
// HTTPRoute for host to the Service backend:80, and returns the Gateway's address once
// the route is attached.
func startGateway(ctx context.Context, t *testing.T, c *landscape.Cluster, ns, host, backend string) string {
	t.Helper()
	cl, err := client.New(c.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	gw := &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: dataplane.DefaultClass,
			Listeners:        []gatewayv1.Listener{{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType}},
		},
	}
	route := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "gw"}}},
			Hostnames:       []gatewayv1.Hostname{gatewayv1.Hostname(host)},
			Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{
				BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(backend), Port: ptr.To[gatewayv1.PortNumber](80)},
			}}}}},
		},
	}
	for _, o := range []client.Object{gw, route} {
		if err := cl.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	var ip string
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := cl.Get(ctx, client.ObjectKeyFromObject(gw), gw); err != nil || len(gw.Status.Addresses) == 0 ||
			len(gw.Status.Listeners) == 0 || gw.Status.Listeners[0].AttachedRoutes != 1 {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		var svc corev1.Service
		if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: "gateway-gw"}, &svc); err != nil || len(svc.Status.LoadBalancer.Ingress) == 0 {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		ip = gw.Status.Addresses[0].Value
		return svc.Status.LoadBalancer.Ingress[0].IP == ip, nil
	})
	if err != nil {
		t.Fatalf("Gateway %s/gw: no address with an attached route and its Service: %v (status %+v)", ns, err, gw.Status)
	}
	return ip
}

// startIngress creates an Ingress name of the data plane with one rule, host and
// Prefix path to port "http" (by name) of the Service backend, and returns its address
// once the Service that carries its traffic has it.
func startIngress(ctx context.Context, t *testing.T, c *landscape.Cluster, ns, name, host, path, backend string) string {
	t.Helper()
	cl, err := client.New(c.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To(dataplane.DefaultClass),
			Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{
					Path:     path,
					PathType: ptr.To(networkingv1.PathTypePrefix),
					Backend:  networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: backend, Port: networkingv1.ServiceBackendPort{Name: "http"}}},
				}},
			}}}},
		},
	}
	if err := cl.Create(ctx, ing); err != nil {
		t.Fatal(err)
	}
	var ip string
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := cl.Get(ctx, client.ObjectKeyFromObject(ing), ing); err != nil || len(ing.Status.LoadBalancer.Ingress) == 0 {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		var svc corev1.Service
		if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: "ingress-" + name}, &svc); err != nil || len(svc.Status.LoadBalancer.Ingress) == 0 {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		ip = ing.Status.LoadBalancer.Ingress[0].IP
		return svc.Status.LoadBalancer.Ingress[0].IP == ip, nil
	})
	if err != nil {
		t.Fatalf("Ingress %s/%s: no address and Service ingress-%s with it: %v (status %+v)", ns, name, name, err, ing.Status)
	}
	return ip
}

// startZoneServer runs CoreDNS on the cluster answering zone from hosts (name -> IPv4),
// behind a LoadBalancer Service, and returns its load-balancer address.
func startZoneServer(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, zone string, hosts map[string]string) string {
	t.Helper()
	var entries strings.Builder
	for name, ip := range hosts {
		fmt.Fprintf(&entries, "        %s %s\n", ip, name)
	}
	corefile := fmt.Sprintf("%s:53 {\n    hosts {\n%s    }\n    ready :8181\n}\n", zone, entries.String())
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "zone"},
		Data:       map[string]string{"Corefile": corefile},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "zone"}
	d := landscape.ServerDeployment(ns, "zone", 1)
	d.Spec.Selector.MatchLabels, d.Spec.Template.Labels = labels, labels
	c := &d.Spec.Template.Spec.Containers[0]
	c.Image, c.Args, c.Env = images.CoreDNS.Ref(), []string{"-conf", "/etc/coredns/Corefile"}, nil
	c.Ports = []corev1.ContainerPort{{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}}
	c.ReadinessProbe.ProbeHandler = corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(8181)}}
	c.SecurityContext.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "config", MountPath: "/etc/coredns"}}
	d.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "zone"}}}}}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "zone"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: labels, Ports: []corev1.ServicePort{
			{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
			{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
		}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := landscape.WaitDeploymentReady(ctx, cs, ns, "zone", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	return waitLoadBalancerIP(ctx, t, cs, ns, "zone")
}
