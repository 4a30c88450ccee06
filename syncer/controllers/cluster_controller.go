package controllers

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/apply"
	"github.com/vcdns/vcdns/syncer/clusters"
	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/publish"
	"github.com/vcdns/vcdns/syncer/tenantdns"
	"github.com/vcdns/vcdns/syncer/translate"
)

// ClusterReconciler keeps registered workload clusters: their status (reachable, service
// ranges, what is published), publishing of their hostnames, the block in their
// CoreDNS Corefile that forwards the base domain to the central DNS, and the Pod DNS
// policy that points the Pods of MCP namespaces at their tenant DNS.
type ClusterReconciler struct {
	Client    client.Client
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Options   Options
	Tracker   *clusters.Tracker
	Publisher *publish.Publisher

	notify chan event.TypedGenericEvent[*vcdnsv1alpha1.Cluster]
}

// clusterScope is what one reconcile of a Cluster reads once and its phases share. The
// Cluster's status is what the phases set; it is written once, at the end.
type clusterScope struct {
	cluster *vcdnsv1alpha1.Cluster
	// remote is the cluster, nil when its kubeconfig cannot be read.
	remote *clusters.Remote
	// reachable is whether it answered the probe and told its service ranges.
	reachable bool
}

func (s *clusterScope) set(typ string, ok bool, reason, msg string) {
	setCondition(&s.cluster.Status.Conditions, s.cluster.Generation, typ, ok, reason, msg)
}

// +kubebuilder:rbac:groups=vcdns.io,resources=clusters,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=vcdns.io,resources=clusters/status;clusters/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingadmissionpolicies;mutatingadmissionpolicybindings,verbs=get;create;update;delete

// SetupWithManager registers the reconciler.
func (r *ClusterReconciler) SetupWithManager(mgr ctrl.Manager) error {
	inNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetNamespace() == r.Options.ClusterNamespace })
	r.notify = make(chan event.TypedGenericEvent[*vcdnsv1alpha1.Cluster], 1024)
	if r.Publisher != nil {
		r.Publisher.Notify = func(name string) {
			select {
			case r.notify <- event.TypedGenericEvent[*vcdnsv1alpha1.Cluster]{Object: &vcdnsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: r.Options.ClusterNamespace, Name: name}}}:
			default:
			}
		}
	}
	// A Runnable without NeedLeaderElection runs only on the leader.
	if err := mgr.Add(manager.RunnableFunc(r.unpublishUnregistered)); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&vcdnsv1alpha1.Cluster{}, builder.WithPredicates(inNamespace, predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(kubeconfigUsers(r.Client,
			func() client.ObjectList { return &vcdnsv1alpha1.ClusterList{} },
			func(o runtime.Object) string { return o.(*vcdnsv1alpha1.Cluster).Spec.KubeconfigSecretRef.Name })),
			builder.WithPredicates(inNamespace)).
		WatchesRawSource(source.Channel(r.notify, &handler.TypedEnqueueRequestForObject[*vcdnsv1alpha1.Cluster]{})).
		Named("cluster").
		Complete(r)
}

func (r *ClusterReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cluster := &vcdnsv1alpha1.Cluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, cluster); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, r.forget(ctx, req.Name)
		}
		return ctrl.Result{}, err
	}
	if !cluster.DeletionTimestamp.IsZero() {
		return r.deregister(ctx, cluster)
	}
	cluster, err := ensureFinalizer(ctx, r.Client, cluster, map[string]string{vcdnsv1alpha1.AnnotationBaseDomain: r.baseDomain(cluster.Name)})
	if err != nil {
		return ctrl.Result{}, err
	}

	helper := newPatchHelper(r.Client, cluster)
	cluster.Status.ObservedGeneration = cluster.Generation
	scope := &clusterScope{cluster: cluster}
	for _, phase := range []func(context.Context, *clusterScope){
		r.reconcileReachable,
		r.reconcilePublishing,
		r.reconcileCorefile,
		r.reconcilePodDNSPolicy,
	} {
		phase(ctx, scope)
	}
	if err := helper.patchStatus(ctx, cluster); err != nil {
		return ctrl.Result{}, err
	}
	r.announceReachable(helper.before, cluster)
	r.announcePodDNSPolicy(helper.before, cluster)
	// Reachability is probed again after the interval, success or not.
	return ctrl.Result{RequeueAfter: r.Options.ProbeInterval}, nil
}

// reconcileReachable probes the cluster and reads its service ranges: the Reachable
// and Ready conditions.
func (r *ClusterReconciler) reconcileReachable(ctx context.Context, s *clusterScope) {
	err := r.observe(ctx, s)
	if err != nil {
		s.set(vcdnsv1alpha1.ConditionReachable, false, "Unreachable", err.Error())
		s.set(vcdnsv1alpha1.ConditionReady, false, "Unreachable", "The cluster's API server cannot be reached; what was published for it is kept")
		return
	}
	s.set(vcdnsv1alpha1.ConditionReachable, true, "Reachable", "The cluster's API server answers")
	if _, invalid := splitCIDRs(s.cluster.Spec.ServiceCIDRs); len(invalid) > 0 {
		s.set(vcdnsv1alpha1.ConditionReady, false, "InvalidServiceCIDRs", fmt.Sprintf("spec.serviceCIDRs holds what is not a CIDR, left out: %q", invalid))
	} else if len(s.cluster.Status.ServiceCIDRs) == 0 {
		s.set(vcdnsv1alpha1.ConditionReady, false, "NoServiceCIDRs", "No service ranges in spec.serviceCIDRs and none discovered")
	} else {
		s.set(vcdnsv1alpha1.ConditionReady, true, "Ready", "The cluster takes copies")
	}
}

// reconcilePublishing keeps publishing the cluster's hostnames, reachable or not (an
// unreachable cluster's names are kept): the Published condition.
func (r *ClusterReconciler) reconcilePublishing(_ context.Context, s *clusterScope) {
	if s.remote == nil || !r.Publisher.Enabled() {
		return
	}
	r.Publisher.Ensure(s.cluster.Name, s.remote.Kubeconfig)
	had := meta.FindStatusCondition(s.cluster.Status.Conditions, vcdnsv1alpha1.ConditionPublished) != nil
	if ok, reason, msg, set := publishedCondition(r.Publisher.Status(s.cluster.Name), had); set {
		s.set(vcdnsv1alpha1.ConditionPublished, ok, reason, msg)
	}
}

// publishedCondition is the Published condition of a cluster whose publishing
// reports st; set is false when the condition the Cluster had (had) stays.
func publishedCondition(st publish.PublishStatus, had bool) (ok bool, reason, msg string, set bool) {
	switch {
	case st.Started && st.LastError == "":
		return true, "Published", fmt.Sprintf("%d hostnames published, %d refused", st.Names, st.Refused), true
	case st.Reason != "":
		// The central etcd refuses the syncer: nothing is published, for any cluster.
		return false, st.Reason, fmt.Sprintf("Nothing is published: %s; what was published is kept", st.LastError), true
	case st.Started || st.LastError != "":
		return false, "PublishFailed", fmt.Sprintf("%d hostnames published, %d refused; what was published is kept; last error: %s", st.Names, st.Refused, st.LastError), true
	case had:
		// A new session (a restarted syncer) is reading the cluster: the condition
		// observed before stays until it knows better.
		return false, "", "", false
	default:
		return false, "Starting", "Reading the cluster's Gateways, HTTPRoutes and Ingresses; what was published is kept", true
	}
}

// reconcileCorefile keeps the forwarding block in the Corefile of a reachable cluster:
// the CorefilePatched condition.
func (r *ClusterReconciler) reconcileCorefile(ctx context.Context, s *clusterScope) {
	if !s.reachable || len(r.Options.DNS.CentralDNS) == 0 {
		return
	}
	reason, msg, ok := r.patchCorefile(ctx, s.cluster, s.remote, false)
	s.set(vcdnsv1alpha1.ConditionCorefilePatched, ok, reason, msg)
}

// reconcilePodDNSPolicy keeps the Pod DNS policy and its binding on a reachable
// cluster: the PodDNSPolicy condition. An API server that does not serve
// MutatingAdmissionPolicy gets a condition naming the flags the platform must set;
// everything else carries on.
func (r *ClusterReconciler) reconcilePodDNSPolicy(ctx context.Context, s *clusterScope) {
	if !s.reachable {
		return
	}
	policy, binding := tenantdns.PodDNSPolicy(nil, naming.LabelMCP)
	for _, obj := range []client.Object{policy, binding} {
		if _, err := apply.Ensure(ctx, s.remote.Client, obj); err != nil {
			reason, msg := podDNSPolicyFailure(err)
			s.set(vcdnsv1alpha1.ConditionPodDNSPolicy, false, reason, msg)
			return
		}
	}
	s.set(vcdnsv1alpha1.ConditionPodDNSPolicy, true, vcdnsv1alpha1.ReasonInstalled, fmt.Sprintf("Pods of MCP namespaces resolve through their tenant DNS (MutatingAdmissionPolicy %s)", tenantdns.PodDNSPolicyName))
}

// podDNSPolicyFailure is the reason and message of a Pod DNS policy that could not be
// written.
func podDNSPolicyFailure(err error) (reason, msg string) {
	if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
		return vcdnsv1alpha1.ReasonMutatingAdmissionPolicyNotServed, fmt.Sprintf(
			"The API server does not serve admissionregistration.k8s.io/v1beta1 MutatingAdmissionPolicy: Pods of MCP namespaces keep the cluster's DNS; the platform must start it with %s",
			vcdnsv1alpha1.FlagsMutatingAdmissionPolicy)
	}
	return vcdnsv1alpha1.ReasonInstallFailed, fmt.Sprintf("Installing the Pod DNS policy: %v", err)
}

// announcePodDNSPolicy records a change of the PodDNSPolicy condition with an Event.
func (r *ClusterReconciler) announcePodDNSPolicy(before, after *vcdnsv1alpha1.Cluster) {
	c := meta.FindStatusCondition(after.Status.Conditions, vcdnsv1alpha1.ConditionPodDNSPolicy)
	if c == nil {
		return
	}
	if old := meta.FindStatusCondition(before.Status.Conditions, vcdnsv1alpha1.ConditionPodDNSPolicy); old != nil && old.Status == c.Status && old.Reason == c.Reason {
		return
	}
	typ := corev1.EventTypeNormal
	if c.Status != metav1.ConditionTrue {
		typ = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(after, nil, typ, c.Reason, "PodDNSPolicy", "%s", translate.EventNote(c.Message))
}

// announceReachable records a change of the Reachable condition with an Event.
func (r *ClusterReconciler) announceReachable(before, after *vcdnsv1alpha1.Cluster) {
	reachable := meta.FindStatusCondition(after.Status.Conditions, vcdnsv1alpha1.ConditionReachable)
	if reachable == nil || meta.IsStatusConditionPresentAndEqual(before.Status.Conditions, vcdnsv1alpha1.ConditionReachable, reachable.Status) {
		return
	}
	typ := corev1.EventTypeNormal
	if reachable.Status != metav1.ConditionTrue {
		typ = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(after, nil, typ, reachable.Reason, "Probe", "%s", translate.EventNote(reachable.Message))
}

// forget ends publishing for a Cluster that is gone. One that went without
// deregistering (its finalizer removed by hand) still had a session: its names go too.
func (r *ClusterReconciler) forget(ctx context.Context, name string) error {
	if !r.Publisher.Enabled() || !r.Publisher.Stop(name) {
		return nil
	}
	if err := r.Publisher.Unpublish(ctx, name); err != nil {
		return err
	}
	log.FromContext(ctx).Info("Cluster gone without deregistering: unpublished its names")
	return nil
}

// unpublishUnregistered removes, once when the syncer starts leading, the names of
// clusters that went while no syncer ran and without deregistering. It retries until
// it has read the Clusters and the central DNS store.
func (r *ClusterReconciler) unpublishUnregistered(ctx context.Context) error {
	if !r.Publisher.Enabled() {
		return nil
	}
	logger := log.FromContext(ctx).WithName("unpublish-unregistered")
	clusters.Retry(ctx, func(ctx context.Context) error {
		gone, err := r.unpublishUnregisteredOnce(ctx)
		if err == nil && len(gone) > 0 {
			logger.Info("Unpublished the names of clusters that are no longer registered", "clusters", gone)
		}
		return err
	}, func(err error, backoff time.Duration) {
		logger.Error(err, "Removing the names of clusters no longer registered, retrying", "backoff", backoff)
	})
	return nil
}

func (r *ClusterReconciler) unpublishUnregisteredOnce(ctx context.Context) ([]string, error) {
	var list vcdnsv1alpha1.ClusterList
	if err := r.Client.List(ctx, &list, client.InNamespace(r.Options.ClusterNamespace)); err != nil {
		return nil, fmt.Errorf("listing Clusters: %w", err)
	}
	registered := make(map[string]bool, len(list.Items))
	for _, c := range list.Items {
		registered[c.Name] = true
	}
	return r.Publisher.UnpublishUnregistered(ctx, func(name string) bool { return registered[name] })
}

// observe reads the cluster's kubeconfig into the scope, probes the cluster and reads
// its service ranges into status.
func (r *ClusterReconciler) observe(ctx context.Context, s *clusterScope) error {
	remote, err := r.Tracker.GetCluster(ctx, s.cluster)
	if err != nil {
		return err
	}
	s.remote = remote
	if err := r.Tracker.Probe(ctx, remote); err != nil {
		return err
	}
	if len(s.cluster.Spec.ServiceCIDRs) > 0 {
		// What does not parse stays out of the tenant DNS configuration; the Ready
		// condition says so.
		s.cluster.Status.ServiceCIDRs, _ = splitCIDRs(s.cluster.Spec.ServiceCIDRs)
	} else {
		cidrs, err := serviceCIDRs(ctx, remote.Client)
		if err != nil {
			return err
		}
		s.cluster.Status.ServiceCIDRs = cidrs
	}
	s.reachable = true
	return nil
}

// splitCIDRs returns the CIDRs that parse, and those that do not.
func splitCIDRs(cidrs []string) (valid, invalid []string) {
	for _, c := range cidrs {
		if _, err := netip.ParsePrefix(c); err != nil {
			invalid = append(invalid, c)
			continue
		}
		valid = append(valid, c)
	}
	return valid, invalid
}

// serviceCIDRs reads a cluster's service ranges from its ServiceCIDR objects.
func serviceCIDRs(ctx context.Context, c client.Client) ([]string, error) {
	var list networkingv1.ServiceCIDRList
	if err := c.List(ctx, &list); err != nil {
		if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
			return nil, fmt.Errorf("the cluster serves no ServiceCIDRs; set spec.serviceCIDRs")
		}
		return nil, fmt.Errorf("listing ServiceCIDRs: %w", err)
	}
	var cidrs []string
	for _, sc := range list.Items {
		if !sc.DeletionTimestamp.IsZero() {
			continue
		}
		for _, c := range sc.Spec.CIDRs {
			if !slices.Contains(cidrs, c) {
				cidrs = append(cidrs, c)
			}
		}
	}
	slices.Sort(cidrs)
	return cidrs, nil
}
