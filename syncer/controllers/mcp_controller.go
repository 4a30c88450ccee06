package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/apply"
	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/remote"
	"github.com/vcdns/vcdns/syncer/tenantdns"
	"github.com/vcdns/vcdns/syncer/translate"
)

// errRequeue asks for the reconcile to run again soon without logging an error.
var errRequeue = errors.New("requeue")

// Options configure the syncer's controllers.
type Options struct {
	// ClusterNamespace is the platform namespace that holds the Cluster objects.
	ClusterNamespace string
	// NamespacePrefix prefixes MCP namespaces.
	NamespacePrefix string
	// TenantDNS is the tenant's DNS Service (never copied).
	TenantDNS types.NamespacedName
	// TenantDNSImage is the image of the patched CoreDNS run per tenant.
	TenantDNSImage string
	// ClusterDomain of the tenants.
	ClusterDomain string
	// WorkersPerMCP is the number of concurrent reconciles per MCP.
	WorkersPerMCP int
	// TenantLimits and WorkloadLimits are the client rate limits per MCP and cluster.
	TenantLimits, WorkloadLimits remote.Limits
	// WorkloadMaxInFlight bounds the requests all MCPs of one workload cluster have in
	// flight to it together; free slots go to the MCP with the fewest outstanding.
	WorkloadMaxInFlight int
	// WorkloadTargetLatency makes that bound adapt: it grows while writes take less,
	// shrinks when they take more. Zero keeps it at WorkloadMaxInFlight.
	WorkloadTargetLatency time.Duration
	// ProbeInterval is how often reachability is checked.
	ProbeInterval time.Duration
	// DNS configures publishing and Corefile patching.
	DNS DNSOptions
}

// MCPReconciler reconciles ManagedControlPlanes.
type MCPReconciler struct {
	Client   client.Client
	Scheme   *runtime.Scheme
	Recorder events.EventRecorder
	Options  Options

	mu       sync.Mutex
	sessions map[types.NamespacedName]*sessionHandle
	// users caches who the syncer is on a tenant, by kubeconfig hash.
	users map[string]string
	// limiters share each workload cluster fairly among its MCPs, by Cluster name.
	limiters map[string]*remote.FairLimiter
	clients  *remoteClients
	notify   chan event.TypedGenericEvent[*vcdnsv1alpha1.ManagedControlPlane]
}

type sessionHandle struct {
	*Session
	key     string // what the session was started with; a change restarts it
	cluster string // the workload Cluster, whose limiter the session uses
}

// +kubebuilder:rbac:groups=vcdns.io,resources=managedcontrolplanes,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=vcdns.io,resources=managedcontrolplanes/status;managedcontrolplanes/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=vcdns.io,resources=clusters,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=configmaps;services,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the reconciler.
func (r *MCPReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.sessions = map[types.NamespacedName]*sessionHandle{}
	r.users = map[string]string{}
	r.limiters = map[string]*remote.FairLimiter{}
	r.clients = newRemoteClients(r.Scheme)
	r.notify = make(chan event.TypedGenericEvent[*vcdnsv1alpha1.ManagedControlPlane], 1024)
	return ctrl.NewControllerManagedBy(mgr).
		For(&vcdnsv1alpha1.ManagedControlPlane{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&vcdnsv1alpha1.Cluster{}, handler.EnqueueRequestsFromMapFunc(r.mcpsOfCluster)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.mcpsOfSecret)).
		WatchesRawSource(source.Channel(r.notify, &handler.TypedEnqueueRequestForObject[*vcdnsv1alpha1.ManagedControlPlane]{})).
		Named("managedcontrolplane").
		Complete(r)
}

func (r *MCPReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	mcp := &vcdnsv1alpha1.ManagedControlPlane{}
	if err := r.Client.Get(ctx, req.NamespacedName, mcp); err != nil {
		if apierrors.IsNotFound(err) {
			r.stopSession(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	ns := naming.MCPNamespace(r.Options.NamespacePrefix, mcp.Namespace, mcp.Name)
	if !mcp.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, mcp, ns)
	}
	if !controllerutil.ContainsFinalizer(mcp, vcdnsv1alpha1.Finalizer) {
		patched := mcp.DeepCopy()
		controllerutil.AddFinalizer(patched, vcdnsv1alpha1.Finalizer)
		if err := r.Client.Patch(ctx, patched, client.MergeFrom(mcp)); err != nil {
			return ctrl.Result{}, err
		}
		mcp = patched
	}

	status := mcp.Status.DeepCopy()
	status.Namespace = ns
	status.ObservedGeneration = mcp.Generation
	err := r.reconcile(ctx, mcp, ns, status)
	if uerr := r.updateStatus(ctx, mcp, status); uerr != nil {
		err = errors.Join(err, uerr)
	}
	if errors.Is(err, errRequeue) {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: r.Options.ProbeInterval}, nil
}

// reconcile converges everything of one MCP and records what it found in status.
func (r *MCPReconciler) reconcile(ctx context.Context, mcp *vcdnsv1alpha1.ManagedControlPlane, ns string, status *vcdnsv1alpha1.ManagedControlPlaneStatus) error {
	gen := mcp.Generation
	tenantKC, err := remote.FromSecret(ctx, r.Client, mcp.Namespace, mcp.Spec.KubeconfigSecretRef, r.Options.TenantLimits)
	if err != nil {
		setCondition(status, gen, vcdnsv1alpha1.ConditionTenantReachable, false, "KubeconfigInvalid", err.Error())
		setCondition(status, gen, vcdnsv1alpha1.ConditionReady, false, "TenantUnreachable", "The tenant API server cannot be reached")
		return err
	}
	workloadKC, cluster, err := r.workloadCluster(ctx, mcp.Spec.WorkloadCluster)
	if err != nil {
		setCondition(status, gen, vcdnsv1alpha1.ConditionWorkloadReachable, false, "ClusterUnavailable", err.Error())
		setCondition(status, gen, vcdnsv1alpha1.ConditionReady, false, "WorkloadUnreachable", "The workload cluster cannot be used")
		return err
	}
	labels := map[string]string{naming.LabelMCP: ns}

	// A changed workload cluster: the copies move. The old namespace goes first, so a
	// tenant Service never has copies in two clusters.
	if old := status.WorkloadCluster; old != "" && old != cluster.Name {
		r.stopSession(client.ObjectKeyFromObject(mcp))
		gone, err := r.deleteWorkloadNamespace(ctx, old, ns)
		if err != nil {
			setCondition(status, gen, vcdnsv1alpha1.ConditionSynced, false, "Moving", err.Error())
			return fmt.Errorf("moving copies away from cluster %s: %w", old, err)
		}
		if !gone {
			setCondition(status, gen, vcdnsv1alpha1.ConditionSynced, false, "Moving", fmt.Sprintf("Waiting for namespace %s of cluster %s to be deleted", ns, old))
			return errRequeue
		}
		r.Recorder.Eventf(mcp, nil, corev1.EventTypeNormal, "Moved", "Move", "Removed copies from cluster %s, moving to %s", old, cluster.Name)
	}
	status.WorkloadCluster = cluster.Name

	if err := ensureNamespace(ctx, r.Client, ns, labels); err != nil {
		return fmt.Errorf("platform namespace: %w", err)
	}
	workload, err := r.clients.get("workload", workloadKC)
	if err != nil {
		return err
	}
	if err := remote.Probe(ctx, workloadKC.Config, 5*time.Second); err != nil {
		setCondition(status, gen, vcdnsv1alpha1.ConditionWorkloadReachable, false, "Unreachable", err.Error())
	} else if err := ensureNamespace(ctx, workload, ns, labels); err != nil {
		setCondition(status, gen, vcdnsv1alpha1.ConditionWorkloadReachable, false, "NamespaceFailed", err.Error())
	} else {
		setCondition(status, gen, vcdnsv1alpha1.ConditionWorkloadReachable, true, "Reachable", fmt.Sprintf("Copies go to namespace %s of cluster %s", ns, cluster.Name))
	}

	tenantErr := remote.Probe(ctx, tenantKC.Config, 5*time.Second)
	if tenantErr == nil {
		tenantErr = r.ensureTenantSide(ctx, mcp, ns, labels, tenantKC, cluster.Status.ServiceCIDRs)
	}
	if tenantErr != nil {
		setCondition(status, gen, vcdnsv1alpha1.ConditionTenantReachable, false, "Unreachable", tenantErr.Error())
	} else {
		setCondition(status, gen, vcdnsv1alpha1.ConditionTenantReachable, true, "Reachable", "The tenant API server answers")
	}

	sess := r.ensureSession(ctx, mcp, ns, tenantKC, workloadKC, cluster.Name)
	st := sess.Status()
	switch {
	case (st.CatchingUp || !st.Started && st.LastError == "") && meta.FindStatusCondition(status.Conditions, vcdnsv1alpha1.ConditionSynced) != nil:
		// A new session (a restarted syncer) is catching up: what the status says was
		// observed before and stays until the session knows better.
	case st.Synced:
		status.Synced = syncedCounts(st.Counts)
		setCondition(status, gen, vcdnsv1alpha1.ConditionSynced, true, "Synced", syncedMessage(st))
	case !st.Started:
		setCondition(status, gen, vcdnsv1alpha1.ConditionSynced, false, "Starting", orDefault(st.LastError, "Waiting for the tenant and workload caches"))
	default:
		status.Synced = syncedCounts(st.Counts)
		setCondition(status, gen, vcdnsv1alpha1.ConditionSynced, false, "Syncing", fmt.Sprintf("%s, %d failing; last error: %s", syncedMessage(st), st.Failing, orDefault(st.LastError, "none")))
	}

	mcpKey := client.ObjectKeyFromObject(mcp).String()
	for kind, n := range map[string]int32{translate.KindService: status.Synced.Services, translate.KindGateway: status.Synced.Gateways, translate.KindHTTPRoute: status.Synced.HTTPRoutes, translate.KindIngress: status.Synced.Ingresses} {
		syncedObjects.WithLabelValues(mcpKey, kind).Set(float64(n))
	}
	if meta.IsStatusConditionTrue(status.Conditions, vcdnsv1alpha1.ConditionSynced) {
		mcpSynced.WithLabelValues(mcpKey).Set(1)
	} else {
		mcpSynced.WithLabelValues(mcpKey).Set(0)
	}

	ready := meta.IsStatusConditionTrue(status.Conditions, vcdnsv1alpha1.ConditionTenantReachable) &&
		meta.IsStatusConditionTrue(status.Conditions, vcdnsv1alpha1.ConditionWorkloadReachable) &&
		meta.IsStatusConditionTrue(status.Conditions, vcdnsv1alpha1.ConditionSynced)
	if ready {
		setCondition(status, gen, vcdnsv1alpha1.ConditionReady, true, "Ready", "Tenant Services resolve to the workload cluster's IPs")
	} else {
		setCondition(status, gen, vcdnsv1alpha1.ConditionReady, false, "NotReady", "See the other conditions")
	}
	return nil
}

// ensureTenantSide installs, in the tenant control plane, the admission policy that
// keeps the clusterIP annotation the syncer's and the tenant DNS identity, and renders
// the tenant CoreDNS into the MCP namespace of the platform cluster.
func (r *MCPReconciler) ensureTenantSide(ctx context.Context, mcp *vcdnsv1alpha1.ManagedControlPlane, ns string, labels map[string]string, kc *remote.Kubeconfig, cidrs []string) error {
	tenantCfg := kc.Config
	tenant, err := r.clients.get("tenant", kc)
	if err != nil {
		return err
	}
	user, err := r.whoAmI(ctx, kc)
	if err != nil {
		return err
	}
	policy, binding := tenantdns.AnnotationPolicy(labels, naming.ClusterIPAnnotation, user)
	objs := append([]client.Object{policy, binding}, tenantdns.TenantObjects(labels)...)
	for _, obj := range objs {
		if _, err := apply.Ensure(ctx, tenant, obj); err != nil {
			return fmt.Errorf("tenant side: %w", err)
		}
	}

	var token corev1.Secret
	if err := tenant.Get(ctx, types.NamespacedName{Namespace: tenantdns.TenantNamespace, Name: tenantdns.TokenSecret}, &token); err != nil {
		return fmt.Errorf("reading the tenant DNS token: %w", err)
	}
	if len(token.Data[corev1.ServiceAccountTokenKey]) == 0 {
		return fmt.Errorf("the tenant DNS token Secret %s/%s has no token yet", tenantdns.TenantNamespace, tenantdns.TokenSecret)
	}
	if len(cidrs) == 0 {
		return fmt.Errorf("the workload cluster's service ranges are not known yet")
	}
	opts := tenantdns.Options{
		Namespace:     ns,
		Labels:        labels,
		ServiceCIDRs:  cidrs,
		AnnotationKey: naming.ClusterIPAnnotation,
		ClusterDomain: r.Options.ClusterDomain,
		Image:         r.Options.TenantDNSImage,
		BaseDomain:    r.Options.DNS.BaseDomain,
		CentralDNS:    r.Options.DNS.CentralDNS,
	}
	secret, err := tenantdns.KubeconfigSecretFor(opts, tenantCfg.Host, tenantCfg.CAData, token.Data[corev1.ServiceAccountTokenKey])
	if err != nil {
		return err
	}
	cm, dep, svc := tenantdns.PlatformObjects(opts)
	for _, obj := range []client.Object{secret, cm, dep, svc} {
		if _, err := apply.Ensure(ctx, r.Client, obj); err != nil {
			return fmt.Errorf("tenant DNS: %w", err)
		}
	}
	return nil
}

// finalize removes an MCP's copies and namespaces everywhere, then its finalizer. An
// unreachable workload cluster keeps the finalizer, so nothing is forgotten, unless the
// MCP is annotated to skip that cleanup; the Deleting condition says what it waits for.
func (r *MCPReconciler) finalize(ctx context.Context, mcp *vcdnsv1alpha1.ManagedControlPlane, ns string) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(mcp, vcdnsv1alpha1.Finalizer) {
		return ctrl.Result{}, nil
	}
	r.stopSession(client.ObjectKeyFromObject(mcp))
	skip := skipRemoteCleanup(mcp)
	var left []string
	for _, name := range uniqueNonEmpty(mcp.Status.WorkloadCluster, mcp.Spec.WorkloadCluster) {
		gone, err := r.deleteWorkloadNamespace(ctx, name, ns)
		switch {
		case err != nil && skip:
			left = append(left, fmt.Sprintf("namespace %s on cluster %s (%v)", ns, name, err))
		case err != nil:
			msg := blockedMessage(fmt.Sprintf("Removing the copies from workload cluster %s", name), err)
			if rerr := reportDeleting(ctx, r.Client, r.Recorder, mcp, vcdnsv1alpha1.ReasonCleanupFailed, msg); rerr != nil {
				return ctrl.Result{}, rerr
			}
			log.FromContext(ctx).Info("Waiting to remove the copies", "cluster", name, "error", err.Error())
			return ctrl.Result{RequeueAfter: r.Options.ProbeInterval}, nil
		case !gone && skip:
			left = append(left, fmt.Sprintf("namespace %s on cluster %s (still terminating)", ns, name))
		case !gone:
			msg := fmt.Sprintf("Waiting for namespace %s and the copies in it to go from workload cluster %s", ns, name)
			if rerr := reportDeleting(ctx, r.Client, r.Recorder, mcp, vcdnsv1alpha1.ReasonRemovingCopies, msg); rerr != nil {
				return ctrl.Result{}, rerr
			}
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
	}
	if gone, err := deleteNamespace(ctx, r.Client, ns); err != nil || !gone {
		return ctrl.Result{RequeueAfter: time.Second}, err
	}
	r.cleanTenantSide(ctx, mcp)
	patched := mcp.DeepCopy()
	controllerutil.RemoveFinalizer(patched, vcdnsv1alpha1.Finalizer)
	if err := r.Client.Patch(ctx, patched, client.MergeFrom(mcp)); err != nil {
		return ctrl.Result{}, err
	}
	announceSkipped(r.Recorder, mcp, left)
	mcpSynced.DeleteLabelValues(client.ObjectKeyFromObject(mcp).String())
	syncedObjects.DeletePartialMatch(map[string]string{"mcp": client.ObjectKeyFromObject(mcp).String()})
	log.FromContext(ctx).Info("Removed MCP copies and namespaces", "namespace", ns)
	return ctrl.Result{}, nil
}

// cleanTenantSide removes what the syncer installed in the tenant, as far as the
// tenant is still there: a tenant control plane that is gone does not block deletion.
func (r *MCPReconciler) cleanTenantSide(ctx context.Context, mcp *vcdnsv1alpha1.ManagedControlPlane) {
	kc, err := remote.FromSecret(ctx, r.Client, mcp.Namespace, mcp.Spec.KubeconfigSecretRef, r.Options.TenantLimits)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tenant, err := r.clients.get("tenant", kc)
	if err != nil {
		return
	}
	policy, binding := tenantdns.AnnotationPolicy(nil, naming.ClusterIPAnnotation, "")
	for _, obj := range append([]client.Object{binding, policy}, tenantdns.TenantObjects(nil)...) {
		if err := tenant.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
			log.FromContext(ctx).Info("Could not remove tenant object", "object", obj.GetName(), "error", err.Error())
		}
	}
}

// deleteWorkloadNamespace deletes the MCP namespace (and with it the copies) on a
// workload cluster and reports whether it is gone. A Cluster that was deregistered
// counts as gone: its namespace is no longer ours to reach.
func (r *MCPReconciler) deleteWorkloadNamespace(ctx context.Context, clusterName, ns string) (bool, error) {
	var cluster vcdnsv1alpha1.Cluster
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: r.Options.ClusterNamespace, Name: clusterName}, &cluster)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	kc, err := remote.FromSecret(ctx, r.Client, cluster.Namespace, cluster.Spec.KubeconfigSecretRef, r.Options.WorkloadLimits)
	if err != nil {
		return false, err
	}
	c, err := r.clients.get("workload", kc)
	if err != nil {
		return false, err
	}
	return deleteNamespace(ctx, c, ns)
}

func (r *MCPReconciler) workloadCluster(ctx context.Context, name string) (*remote.Kubeconfig, *vcdnsv1alpha1.Cluster, error) {
	var cluster vcdnsv1alpha1.Cluster
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: r.Options.ClusterNamespace, Name: name}, &cluster); err != nil {
		return nil, nil, fmt.Errorf("reading Cluster %s/%s: %w", r.Options.ClusterNamespace, name, err)
	}
	kc, err := remote.FromSecret(ctx, r.Client, cluster.Namespace, cluster.Spec.KubeconfigSecretRef, r.Options.WorkloadLimits)
	if err != nil {
		return nil, nil, err
	}
	return kc, &cluster, nil
}

func (r *MCPReconciler) ensureSession(ctx context.Context, mcp *vcdnsv1alpha1.ManagedControlPlane, ns string, tenant, workload *remote.Kubeconfig, clusterName string) *Session {
	key := client.ObjectKeyFromObject(mcp)
	want := tenant.Hash + "/" + workload.Hash + "/" + clusterName
	r.mu.Lock()
	h := r.sessions[key]
	r.mu.Unlock()
	if h != nil && h.key == want {
		return h.Session
	}
	if h != nil {
		log.FromContext(ctx).Info("Restarting sync session, a kubeconfig or the workload cluster changed")
		h.Stop()
	}
	notify := func() {
		select {
		case r.notify <- event.TypedGenericEvent[*vcdnsv1alpha1.ManagedControlPlane]{Object: mcp.DeepCopy()}:
		default: // A reconcile is queued already.
		}
	}
	// The session outlives this reconcile: it gets a logger of its own, not the
	// reconcile's.
	sessionCtx := log.IntoContext(context.Background(), ctrl.Log.WithName("session"))
	s := StartSession(sessionCtx, SessionConfig{
		MCP:       key,
		Namespace: ns,
		Tenant:    tenant.Config,
		Workload:  r.limiter(clusterName).Wrap(workload.Config, key.String()),
		Scheme:    r.Scheme,
		TenantDNS: r.Options.TenantDNS,
		Workers:   r.Options.WorkersPerMCP,
		Notify:    notify,
	})
	r.mu.Lock()
	r.sessions[key] = &sessionHandle{Session: s, key: want, cluster: clusterName}
	if h != nil {
		r.dropUnusedLimiterLocked(h.cluster)
	}
	r.mu.Unlock()
	return s
}

// limiter is the fair limiter of the workload cluster name, shared by its MCPs.
func (r *MCPReconciler) limiter(name string) *remote.FairLimiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.limiters[name]
	if l == nil {
		l = remote.NewFairLimiter(name, r.Options.WorkloadMaxInFlight, r.Options.WorkloadTargetLatency)
		r.limiters[name] = l
	}
	return l
}

func (r *MCPReconciler) stopSession(key types.NamespacedName) {
	r.mu.Lock()
	h := r.sessions[key]
	delete(r.sessions, key)
	if h != nil {
		r.dropUnusedLimiterLocked(h.cluster)
	}
	r.mu.Unlock()
	if h != nil {
		h.Stop()
	}
}

// dropUnusedLimiterLocked forgets the limiter of Cluster name, and its metrics, once no
// session uses it: a deleted Cluster leaves nothing behind. A request of a stopping
// session may still hold one of its slots; that ends with the session.
func (r *MCPReconciler) dropUnusedLimiterLocked(name string) {
	for _, h := range r.sessions {
		if h.cluster == name {
			return
		}
	}
	if l := r.limiters[name]; l != nil {
		delete(r.limiters, name)
		l.Forget()
	}
}

// StopAll stops every session; the manager calls it on shutdown.
func (r *MCPReconciler) StopAll() {
	r.mu.Lock()
	keys := make([]types.NamespacedName, 0, len(r.sessions))
	for k := range r.sessions {
		keys = append(keys, k)
	}
	r.mu.Unlock()
	for _, k := range keys {
		r.stopSession(k)
	}
}

func (r *MCPReconciler) updateStatus(ctx context.Context, mcp *vcdnsv1alpha1.ManagedControlPlane, status *vcdnsv1alpha1.ManagedControlPlaneStatus) error {
	if apiequality.Semantic.DeepEqual(&mcp.Status, status) {
		return nil
	}
	patched := mcp.DeepCopy()
	patched.Status = *status
	if err := r.Client.Status().Patch(ctx, patched, client.MergeFrom(mcp)); err != nil {
		return fmt.Errorf("updating status: %w", err)
	}
	return nil
}

func (r *MCPReconciler) mcpsOfCluster(ctx context.Context, obj client.Object) []ctrl.Request {
	var list vcdnsv1alpha1.ManagedControlPlaneList
	if err := r.Client.List(ctx, &list); err != nil {
		return nil
	}
	var reqs []ctrl.Request
	for _, m := range list.Items {
		if obj.GetNamespace() == r.Options.ClusterNamespace && (m.Spec.WorkloadCluster == obj.GetName() || m.Status.WorkloadCluster == obj.GetName()) {
			reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&m)})
		}
	}
	return reqs
}

func (r *MCPReconciler) mcpsOfSecret(ctx context.Context, obj client.Object) []ctrl.Request {
	var list vcdnsv1alpha1.ManagedControlPlaneList
	if err := r.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	var reqs []ctrl.Request
	for _, m := range list.Items {
		if m.Spec.KubeconfigSecretRef.Name == obj.GetName() {
			reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&m)})
		}
	}
	return reqs
}

// whoAmI is the user name the syncer authenticates as, the one identity the admission
// policy lets change the clusterIP annotation. It is asked once per kubeconfig.
func (r *MCPReconciler) whoAmI(ctx context.Context, kc *remote.Kubeconfig) (string, error) {
	r.mu.Lock()
	user, ok := r.users[kc.Hash]
	r.mu.Unlock()
	if ok {
		return user, nil
	}
	cs, err := kubernetes.NewForConfig(kc.Config)
	if err != nil {
		return "", err
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("asking the tenant who the syncer is: %w", err)
	}
	user = review.Status.UserInfo.Username
	r.mu.Lock()
	r.users[kc.Hash] = user
	r.mu.Unlock()
	return user, nil
}

func ensureNamespace(ctx context.Context, c client.Client, name string, labels map[string]string) error {
	var ns corev1.Namespace
	err := c.Get(ctx, types.NamespacedName{Name: name}, &ns)
	if apierrors.IsNotFound(err) {
		ns = corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
		if err := c.Create(ctx, &ns); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating namespace %s: %w", name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading namespace %s: %w", name, err)
	}
	if !ns.DeletionTimestamp.IsZero() {
		return fmt.Errorf("namespace %s is still terminating", name)
	}
	patched := ns.DeepCopy()
	if patched.Labels == nil {
		patched.Labels = map[string]string{}
	}
	changed := false
	for k, v := range labels {
		if patched.Labels[k] != v {
			patched.Labels[k] = v
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return c.Patch(ctx, patched, client.MergeFrom(&ns))
}

// deleteNamespace deletes a namespace and reports whether it is gone.
func deleteNamespace(ctx context.Context, c client.Client, name string) (bool, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	err := c.Delete(ctx, ns)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("deleting namespace %s: %w", name, err)
	}
	return false, nil
}

func setCondition(status *vcdnsv1alpha1.ManagedControlPlaneStatus, gen int64, typ string, ok bool, reason, msg string) {
	setConditionIn(&status.Conditions, gen, typ, ok, reason, msg)
}

// setConditionIn sets a True (ok) or False condition in conditions, keeping its last
// transition time when the status does not change.
func setConditionIn(conditions *[]metav1.Condition, gen int64, typ string, ok bool, reason, msg string) {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conditions, metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func uniqueNonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" && (len(out) == 0 || out[len(out)-1] != s) {
			out = append(out, s)
		}
	}
	return out
}

func syncedCounts(c map[string]int) vcdnsv1alpha1.SyncedCounts {
	return vcdnsv1alpha1.SyncedCounts{
		Services:   int32(c[translate.KindService]),
		Gateways:   int32(c[translate.KindGateway]),
		HTTPRoutes: int32(c[translate.KindHTTPRoute]),
		Ingresses:  int32(c[translate.KindIngress]),
	}
}

func syncedMessage(st SessionStatus) string {
	msg := fmt.Sprintf("Synced %d Services, %d Gateways, %d HTTPRoutes, %d Ingresses",
		st.Counts[translate.KindService], st.Counts[translate.KindGateway], st.Counts[translate.KindHTTPRoute], st.Counts[translate.KindIngress])
	if len(st.Unserved) > 0 {
		msg += fmt.Sprintf("; not synced, as the tenant or the workload cluster does not serve them: %s", strings.Join(st.Unserved, ", "))
	}
	return msg
}
