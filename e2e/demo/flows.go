package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/tenantdns"
)

// flow is one row of the table: a request a Pod makes, and what it must get.
type flow struct {
	Name    string
	From    string // who asks, e.g. "team-a Pod, workload-1"
	Request string // "GET <url>" or "<type> <name>"
	cluster *landscape.Cluster
	ns      string
	// expect computes what the request must get from the clusters' state; it is
	// polled until it can.
	expect func(context.Context) (expectation, error)
	Answer string
	Want   string
	Pass   bool
}

// expectation is what a flow's Pod must report.
type expectation struct {
	// Lookup is the report of a lookup ("A 10.0.0.1"), or "NXDOMAIN".
	Lookup string
	// Addrs are the addresses a fetch may go to (ip:port), Backends the Pods that may
	// answer it (name -> IP).
	Addrs    []string
	Backends map[string]string
}

func (e expectation) String() string {
	if e.Lookup != "" {
		return e.Lookup
	}
	return strings.Join(e.Addrs, "|") + " -> " + strings.Join(slices.Sorted(maps.Keys(e.Backends)), "|")
}

// startBackends runs team-a's backends in its MCP namespace on workload-1: the
// Deployment my-nginx behind the tenant Service my-nginx, and the StatefulSet web
// whose Pods the headless Service web names. Its serviceName is the copy's name, as a
// workload syncer would set it, so that the workload cluster gives the endpoints their
// host names.
func startBackends(ctx context.Context, env *vcdnsenv.Env) error {
	cs := mustClientset(env.Workloads["workload-1"])
	ns := vcdnsenv.MCPNamespace(mcp1)
	d := landscape.ServerDeployment(ns, "my-nginx", 2)
	d.Spec.Template.Labels[tenantdns.LabelPodTenantNamespace] = "default"
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return err
	}
	sts := landscape.ServerStatefulSet(ns, "web", naming.CopyName("default", "web"), 2)
	sts.Spec.Template.Labels[tenantdns.LabelPodTenantNamespace] = "default"
	if _, err := cs.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		return err
	}
	if err := landscape.WaitDeploymentReady(ctx, cs, ns, "my-nginx", 3*time.Minute); err != nil {
		return err
	}
	return landscape.WaitStatefulSetReady(ctx, cs, ns, "web", 3*time.Minute)
}

// demoFlows are the rows of the table.
func demoFlows(env *vcdnsenv.Env) []flow {
	w1, w2 := env.Workloads["workload-1"], env.Workloads["workload-2"]
	cs1 := mustClientset(w1)
	tenant1 := mustClient(env.Tenants["team-a/mcp1"])
	ns1, ns2 := vcdnsenv.MCPNamespace(mcp1), vcdnsenv.MCPNamespace(mcp2)
	backends := func(ctx context.Context, selector string) (map[string]string, error) {
		ips, err := landscape.RunningPodIPs(ctx, cs1, ns1, selector)
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("no running Pods %s in %s", selector, ns1)
		}
		return ips, nil
	}
	copyIPs := func(ctx context.Context) ([]string, error) {
		svc, err := cs1.CoreV1().Services(ns1).Get(ctx, naming.CopyName("default", "my-nginx"), metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		if len(svc.Spec.ClusterIPs) < 2 {
			return nil, fmt.Errorf("the copy of my-nginx has cluster IPs %v, want both families", svc.Spec.ClusterIPs)
		}
		return svc.Spec.ClusterIPs, nil
	}
	fetch := func(addrs func(context.Context) ([]string, error), port, selector string) func(context.Context) (expectation, error) {
		return func(ctx context.Context) (expectation, error) {
			ips, err := addrs(ctx)
			if err != nil {
				return expectation{}, err
			}
			b, err := backends(ctx, selector)
			if err != nil {
				return expectation{}, err
			}
			e := expectation{Backends: b}
			for _, ip := range ips {
				e.Addrs = append(e.Addrs, net.JoinHostPort(ip, port))
			}
			return e, nil
		}
	}
	lookup := func(typ string, answer func(context.Context) (string, error)) func(context.Context) (expectation, error) {
		return func(ctx context.Context) (expectation, error) {
			a, err := answer(ctx)
			return expectation{Lookup: typ + " " + a}, err
		}
	}
	gatewayIPs := func(ctx context.Context) ([]string, error) {
		var gw gatewayv1.Gateway
		if err := tenant1.Get(ctx, types.NamespacedName{Namespace: "default", Name: "web"}, &gw); err != nil {
			return nil, err
		}
		var ips []string
		for _, a := range gw.Status.Addresses {
			ips = append(ips, a.Value)
		}
		if len(ips) == 0 {
			return nil, errors.New("the tenant Gateway has no address yet")
		}
		return ips, nil
	}
	ingressIPs := func(ctx context.Context) ([]string, error) {
		var ing networkingv1.Ingress
		if err := tenant1.Get(ctx, types.NamespacedName{Namespace: "default", Name: "shop"}, &ing); err != nil {
			return nil, err
		}
		var ips []string
		for _, i := range ing.Status.LoadBalancer.Ingress {
			ips = append(ips, i.IP)
		}
		if len(ips) == 0 {
			return nil, errors.New("the tenant Ingress has no address yet")
		}
		return ips, nil
	}
	web0 := func(ctx context.Context) ([]string, error) {
		p, err := cs1.CoreV1().Pods(ns1).Get(ctx, "web-0", metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		if p.Status.PodIP == "" {
			return nil, errors.New("web-0 has no IP yet")
		}
		return []string{p.Status.PodIP}, nil
	}
	copyIPv6 := func(ctx context.Context) (string, error) {
		ips, err := copyIPs(ctx)
		if err != nil {
			return "", err
		}
		return ips[1], nil
	}
	lbIP := func(ctx context.Context) (string, error) {
		svc, err := mustClientset(w2).CoreV1().Services("ingress").Get(ctx, "gateway", metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		if len(svc.Status.LoadBalancer.Ingress) == 0 {
			return "", errors.New("no load-balancer address yet")
		}
		return svc.Status.LoadBalancer.Ingress[0].IP, nil
	}
	nxdomain := func(context.Context) (expectation, error) { return expectation{Lookup: "NXDOMAIN"}, nil }
	teamA, teamB := "team-a Pod, workload-1", "team-b Pod, workload-2"
	return []flow{
		{Name: "tenant Service -> workload IP", From: teamA, cluster: w1, ns: ns1,
			Request: "GET http://my-nginx.default.svc.cluster.local/", expect: fetch(copyIPs, "80", "app=my-nginx")},
		{Name: "dual-stack", From: teamA, cluster: w1, ns: ns1,
			Request: "AAAA my-nginx.default.svc.cluster.local", expect: lookup("AAAA", copyIPv6)},
		{Name: "StatefulSet Pod by name", From: teamA, cluster: w1, ns: ns1,
			Request: "GET http://web-0.web.default.svc.cluster.local:8080/", expect: fetch(web0, "8080", "statefulset.kubernetes.io/pod-name=web-0")},
		{Name: "tenant isolation", From: teamB, cluster: w2, ns: ns2,
			Request: "A my-nginx.default.svc.cluster.local", expect: nxdomain},
		{Name: "Gateway, cross-cluster", From: "Pod, workload-2", cluster: w2, ns: "demo",
			Request: "GET http://app.workload-1.openmcp.cluster/", expect: fetch(gatewayIPs, "80", "app=my-nginx")},
		{Name: "Ingress, cross-cluster", From: "Pod, workload-2", cluster: w2, ns: "demo",
			Request: "GET http://shop.workload-1.openmcp.cluster/", expect: fetch(ingressIPs, "80", "app=my-nginx")},
		{Name: "cross-cluster, from a tenant", From: teamB, cluster: w2, ns: ns2,
			Request: "GET http://shop.workload-1.openmcp.cluster/", expect: fetch(ingressIPs, "80", "app=my-nginx")},
		{Name: "GatewayDNS, any label", From: "Pod, workload-1", cluster: w1, ns: "demo",
			Request: "A app.gateway.workload-2.team-a.clusters.openmcp.cluster", expect: lookup("A", lbIP)},
	}
}

// check waits for the flow's expectation, runs its request from a Pod (the i-th), and
// compares what the Pod reported.
func check(ctx context.Context, f *flow, i int) {
	var want expectation
	if err := poll(ctx, 90*time.Second, func(ctx context.Context) error {
		var err error
		want, err = f.expect(ctx)
		return err
	}); err != nil {
		f.Want, f.Answer = "("+err.Error()+")", "-"
		return
	}
	f.Want = want.String()
	method, target, _ := strings.Cut(f.Request, " ")
	var args []string
	switch {
	case method == "GET":
		args = []string{"get", "-timeout", "90s", target}
	case want.Lookup == "NXDOMAIN":
		// The tenant DNS runs (the demo waited for it): NXDOMAIN for a few seconds
		// is the answer.
		args = []string{"lookup", "-type", method, "-timeout", "5s", target}
	default:
		args = []string{"lookup", "-type", method, "-timeout", "90s", "-want", want.Lookup, target}
	}
	report, err := f.cluster.RunPod(ctx, landscape.ProbePod(f.ns, fmt.Sprintf("flow-%d", i), args...), 3*time.Minute)
	switch {
	case want.Lookup == "NXDOMAIN":
		if err != nil && strings.Contains(err.Error(), "no such host") {
			f.Answer, f.Pass = "NXDOMAIN", true
		} else {
			f.Answer = firstLine(report, err)
		}
	case want.Lookup != "":
		f.Answer = firstLine(report, err)
		f.Pass = err == nil && report == want.Lookup
	default:
		s, ok := landscape.ParseServed(report)
		if err != nil || !ok {
			f.Answer = firstLine(report, err)
			return
		}
		f.Answer = fmt.Sprintf("%s -> %s (%s)", s.Remote, s.Pod, s.PodIP)
		f.Pass = slices.Contains(want.Addrs, s.Remote) && want.Backends[s.Pod] == s.PodIP
	}
}

func firstLine(report string, err error) string {
	if err != nil {
		report = err.Error()
	}
	line, _, _ := strings.Cut(report, "\n")
	return line
}

func printTable(out io.Writer, flows []flow) {
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FLOW\tFROM\tREQUEST\tANSWER\tEXPECTED\tRESULT")
	for _, f := range flows {
		result := "PASS"
		if !f.Pass {
			result = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, f.From, f.Request, f.Answer, f.Want, result)
	}
	tw.Flush()
	fmt.Fprintln(out)
}
