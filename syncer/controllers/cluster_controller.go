package controllers

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/remote"
)

// ClusterReconciler keeps registered workload clusters: their status (reachable, service
// ranges, what is published), publishing of their hostnames, and the block in their
// CoreDNS Corefile that forwards the base domain to the central DNS.
type ClusterReconciler struct {
	Client    client.Client
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Options   Options
	Publisher *Publisher

	notify  chan event.TypedGenericEvent[*vcdnsv1alpha1.Cluster]
	clients *remoteClients
}

// +kubebuilder:rbac:groups=vcdns.io,resources=clusters,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=vcdns.io,resources=clusters/status;clusters/finalizers,verbs=get;update;patch

// SetupWithManager registers the reconciler.
func (r *ClusterReconciler) SetupWithManager(mgr ctrl.Manager) error {
	inNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetNamespace() == r.Options.ClusterNamespace })
	r.notify = make(chan event.TypedGenericEvent[*vcdnsv1alpha1.Cluster], 1024)
	r.clients = newRemoteClients(r.Scheme)
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
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.clustersOfSecret), builder.WithPredicates(inNamespace)).
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
	if !controllerutil.ContainsFinalizer(cluster, vcdnsv1alpha1.Finalizer) || cluster.Annotations[vcdnsv1alpha1.AnnotationBaseDomain] != r.baseDomain(cluster.Name) {
		patched := cluster.DeepCopy()
		controllerutil.AddFinalizer(patched, vcdnsv1alpha1.Finalizer)
		if patched.Annotations == nil {
			patched.Annotations = map[string]string{}
		}
		patched.Annotations[vcdnsv1alpha1.AnnotationBaseDomain] = r.baseDomain(cluster.Name)
		if err := r.Client.Patch(ctx, patched, client.MergeFrom(cluster)); err != nil {
			return ctrl.Result{}, err
		}
		cluster = patched
	}
	status := cluster.Status.DeepCopy()
	status.ObservedGeneration = cluster.Generation
	gen := cluster.Generation
	cond := func(typ string, ok bool, reason, msg string) {
		setConditionIn(&status.Conditions, gen, typ, ok, reason, msg)
	}

	kc, err := r.observe(ctx, cluster, status)
	if err != nil {
		cond(vcdnsv1alpha1.ConditionReachable, false, "Unreachable", err.Error())
		cond(vcdnsv1alpha1.ConditionReady, false, "Unreachable", "The cluster's API server cannot be reached; what was published for it is kept")
	} else {
		cond(vcdnsv1alpha1.ConditionReachable, true, "Reachable", "The cluster's API server answers")
		if _, invalid := splitCIDRs(cluster.Spec.ServiceCIDRs); len(invalid) > 0 {
			cond(vcdnsv1alpha1.ConditionReady, false, "InvalidServiceCIDRs", fmt.Sprintf("spec.serviceCIDRs holds what is not a CIDR, left out: %q", invalid))
		} else if len(status.ServiceCIDRs) == 0 {
			cond(vcdnsv1alpha1.ConditionReady, false, "NoServiceCIDRs", "No service ranges in spec.serviceCIDRs and none discovered")
		} else {
			cond(vcdnsv1alpha1.ConditionReady, true, "Ready", "The cluster takes copies")
		}
	}
	if kc != nil && r.Publisher.Enabled() {
		r.Publisher.Ensure(cluster.Name, kc)
		st := r.Publisher.Status(cluster.Name)
		switch {
		case st.Started && st.LastError == "":
			cond(vcdnsv1alpha1.ConditionPublished, true, "Published", fmt.Sprintf("%d hostnames published, %d refused", st.Names, st.Refused))
		case st.Started || st.LastError != "":
			cond(vcdnsv1alpha1.ConditionPublished, false, "PublishFailed", fmt.Sprintf("%d hostnames published, %d refused; what was published is kept; last error: %s", st.Names, st.Refused, st.LastError))
		case meta.FindStatusCondition(status.Conditions, vcdnsv1alpha1.ConditionPublished) != nil:
			// A new session (a restarted syncer) is reading the cluster: the condition
			// observed before stays until it knows better.
		default:
			cond(vcdnsv1alpha1.ConditionPublished, false, "Starting", "Reading the cluster's Gateways, HTTPRoutes and Ingresses; what was published is kept")
		}
	}
	if kc != nil && err == nil && len(r.Options.DNS.CentralDNS) > 0 {
		if reason, msg, ok := r.patchCorefile(ctx, cluster, kc, false); ok {
			cond(vcdnsv1alpha1.ConditionCorefilePatched, true, reason, msg)
		} else {
			cond(vcdnsv1alpha1.ConditionCorefilePatched, false, reason, msg)
		}
	}
	if !apiequality.Semantic.DeepEqual(&cluster.Status, status) {
		patched := cluster.DeepCopy()
		patched.Status = *status
		if perr := r.Client.Status().Patch(ctx, patched, client.MergeFrom(cluster)); perr != nil {
			return ctrl.Result{}, perr
		}
		if reachable := meta.FindStatusCondition(status.Conditions, vcdnsv1alpha1.ConditionReachable); reachable != nil &&
			!meta.IsStatusConditionPresentAndEqual(cluster.Status.Conditions, vcdnsv1alpha1.ConditionReachable, reachable.Status) {
			typ := corev1.EventTypeNormal
			if reachable.Status != metav1.ConditionTrue {
				typ = corev1.EventTypeWarning
			}
			r.Recorder.Eventf(cluster, nil, typ, reachable.Reason, "Probe", "%s", eventNote(reachable.Message))
		}
	}
	// Reachability is probed again after the interval, success or not.
	return ctrl.Result{RequeueAfter: r.Options.ProbeInterval}, nil
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
	backoff := time.Second
	for {
		clusters, err := r.unpublishUnregisteredOnce(ctx)
		if err == nil {
			if len(clusters) > 0 {
				logger.Info("Unpublished the names of clusters that are no longer registered", "clusters", clusters)
			}
			return nil
		}
		logger.Error(err, "Removing the names of clusters no longer registered, retrying", "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
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

// observe probes the cluster and reads its service ranges into status. It returns the
// cluster's kubeconfig whenever it could be read, reachable or not.
func (r *ClusterReconciler) observe(ctx context.Context, cluster *vcdnsv1alpha1.Cluster, status *vcdnsv1alpha1.ClusterStatus) (*remote.Kubeconfig, error) {
	kc, err := remote.FromSecret(ctx, r.Client, cluster.Namespace, cluster.Spec.KubeconfigSecretRef, r.Options.WorkloadLimits)
	if err != nil {
		return nil, err
	}
	if err := remote.Probe(ctx, kc.Config, 5*time.Second); err != nil {
		return kc, err
	}
	if len(cluster.Spec.ServiceCIDRs) > 0 {
		// What does not parse stays out of the tenant DNS configuration; the Ready
		// condition says so.
		status.ServiceCIDRs, _ = splitCIDRs(cluster.Spec.ServiceCIDRs)
		return kc, nil
	}
	c, err := r.clients.get("workload", kc)
	if err != nil {
		return kc, err
	}
	cidrs, err := serviceCIDRs(ctx, c)
	if err != nil {
		return kc, err
	}
	status.ServiceCIDRs = cidrs
	return kc, nil
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

func (r *ClusterReconciler) clustersOfSecret(ctx context.Context, obj client.Object) []ctrl.Request {
	var list vcdnsv1alpha1.ClusterList
	if err := r.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	var reqs []ctrl.Request
	for _, c := range list.Items {
		if c.Spec.KubeconfigSecretRef.Name == obj.GetName() {
			reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&c)})
		}
	}
	return reqs
}
