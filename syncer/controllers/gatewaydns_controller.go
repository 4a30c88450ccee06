package controllers

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/clusters"
	"github.com/vcdns/vcdns/syncer/dns/hostname"
	"github.com/vcdns/vcdns/syncer/dns/records"
	"github.com/vcdns/vcdns/syncer/publish"
)

// GatewayDNSReconciler publishes the names of GatewayDNS objects: for every selected
// cluster whose Service has load-balancer addresses, every name below
// gateway.<cluster>.<namespace>.clusters.<base domain>.
type GatewayDNSReconciler struct {
	Client    client.Client
	Scheme    *runtime.Scheme
	Options   Options
	Tracker   *clusters.Tracker
	Publisher *publish.Publisher
}

// +kubebuilder:rbac:groups=vcdns.io,resources=gatewaydnses,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=vcdns.io,resources=gatewaydnses/status;gatewaydnses/finalizers,verbs=get;update;patch

// SetupWithManager registers the reconciler.
func (r *GatewayDNSReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&vcdnsv1alpha1.GatewayDNS{}).
		Watches(&vcdnsv1alpha1.Cluster{}, handler.EnqueueRequestsFromMapFunc(r.all)).
		Named("gatewaydns").
		Complete(r)
}

func (r *GatewayDNSReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	gd := &vcdnsv1alpha1.GatewayDNS{}
	if err := r.Client.Get(ctx, req.NamespacedName, gd); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !gd.DeletionTimestamp.IsZero() {
		if !controllerutil.ContainsFinalizer(gd, vcdnsv1alpha1.Finalizer) {
			return ctrl.Result{}, nil
		}
		in := records.GatewayDNSInput{Namespace: gd.Namespace, Name: gd.Name, BaseDomain: r.Options.DNS.BaseDomain}
		if err := r.Publisher.Apply(ctx, records.ComputeGatewayDNS(in)); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, removeFinalizer(ctx, r.Client, gd)
	}
	gd, err := ensureFinalizer(ctx, r.Client, gd, nil)
	if err != nil {
		return ctrl.Result{}, err
	}

	helper := newPatchHelper(r.Client, gd)
	status := &gd.Status
	status.ObservedGeneration = gd.Generation
	status.Clusters = nil
	in := records.GatewayDNSInput{Namespace: gd.Namespace, Name: gd.Name, BaseDomain: r.Options.DNS.BaseDomain, TTL: r.Options.DNS.TTL}
	selector, err := metav1.LabelSelectorAsSelector(&gd.Spec.ClusterSelector)
	if err != nil {
		return ctrl.Result{}, r.setReady(ctx, helper, gd, false, "InvalidSelector", err.Error())
	}
	svcNS, svcName, _ := strings.Cut(gd.Spec.Service, "/")
	var clusters vcdnsv1alpha1.ClusterList
	if err := r.Client.List(ctx, &clusters, client.InNamespace(r.Options.ClusterNamespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return ctrl.Result{}, err
	}
	for _, c := range clusters.Items {
		entry := vcdnsv1alpha1.GatewayDNSCluster{Cluster: c.Name, Hostname: hostname.GatewayDNSDomain(c.Name, gd.Namespace, r.Options.DNS.BaseDomain)}
		addrs, err := r.loadBalancerAddresses(ctx, &c, types.NamespacedName{Namespace: svcNS, Name: svcName})
		switch {
		case err != nil:
			in.Keep = append(in.Keep, c.Name)
			entry.Message = fmt.Sprintf("Cluster unreachable, names kept as published: %v", err)
		case len(addrs) == 0:
			entry.Message = fmt.Sprintf("Service %s has no load-balancer address yet", gd.Spec.Service)
		default:
			in.Targets = append(in.Targets, records.GatewayDNSTarget{Cluster: c.Name, Namespace: gd.Namespace, Addresses: addrs})
			for _, a := range addrs {
				entry.Addresses = append(entry.Addresses, a.String())
			}
		}
		status.Clusters = append(status.Clusters, entry)
	}
	res, err := r.Publisher.Plan(ctx, func(claims *records.Claims) records.Result {
		in.Claims = claims
		return records.ComputeGatewayDNS(in)
	})
	if err != nil {
		if reason := publish.FailureReason(err); reason != "" {
			// The central etcd refuses the syncer: the condition says why.
			if err := r.setReady(ctx, helper, gd, false, reason, fmt.Sprintf("Nothing is published: %v; what was published is kept", err)); err != nil {
				return ctrl.Result{}, err
			}
		}
		return ctrl.Result{}, err
	}
	published := map[string]bool{}
	for _, e := range res.Endpoints {
		published[e.Hostname] = true
	}
	refused := map[string]string{}
	for _, ref := range res.Refusals {
		refused[ref.Hostname] = ref.Message
	}
	for i := range status.Clusters {
		e := &status.Clusters[i]
		e.Published = published[e.Hostname]
		if msg, ok := refused[e.Hostname]; ok {
			e.Message = msg
		}
	}
	ready, reason, msg := true, "Published", fmt.Sprintf("%d of %d selected clusters published", len(res.Endpoints), len(status.Clusters))
	if len(res.Refusals) > 0 {
		ready, reason = false, "Refused"
	}
	if err := r.setReady(ctx, helper, gd, ready, reason, msg); err != nil {
		return ctrl.Result{}, err
	}
	// Load-balancer addresses change without the platform hearing of it: look again.
	return ctrl.Result{RequeueAfter: r.Options.ProbeInterval}, nil
}

func (r *GatewayDNSReconciler) loadBalancerAddresses(ctx context.Context, c *vcdnsv1alpha1.Cluster, key types.NamespacedName) ([]netip.Addr, error) {
	remote, err := r.Tracker.GetCluster(ctx, c)
	if err != nil {
		return nil, err
	}
	cl := remote.Client
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var svc corev1.Service
	if err := cl.Get(ctx, key, &svc); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, nil
		}
		return nil, err
	}
	var addrs []netip.Addr
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if a, err := netip.ParseAddr(ing.IP); err == nil {
			addrs = append(addrs, a)
		}
	}
	return addrs, nil
}

// setReady sets the Ready condition and writes the status, once per reconcile.
func (r *GatewayDNSReconciler) setReady(ctx context.Context, helper *patchHelper[*vcdnsv1alpha1.GatewayDNS], gd *vcdnsv1alpha1.GatewayDNS, ok bool, reason, msg string) error {
	setCondition(&gd.Status.Conditions, gd.Generation, vcdnsv1alpha1.ConditionReady, ok, reason, msg)
	return helper.patchStatus(ctx, gd)
}

func (r *GatewayDNSReconciler) all(ctx context.Context, _ client.Object) []ctrl.Request {
	var list vcdnsv1alpha1.GatewayDNSList
	if err := r.Client.List(ctx, &list); err != nil {
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}
