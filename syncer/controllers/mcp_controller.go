package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
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
	"github.com/vcdns/vcdns/syncer/clusters"
	"github.com/vcdns/vcdns/syncer/mcpsync"
	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/tenantdns"
	"github.com/vcdns/vcdns/syncer/translate"
)

// errRequeue asks for the reconcile to run again soon without logging an error.
var errRequeue = errors.New("requeue")

// MCPReconciler reconciles ManagedControlPlanes: the MCP namespace on the platform and
// the workload cluster, the tenant side (admission policy, tenant DNS identity), the
// tenant DNS in the MCP namespace of the workload cluster, and the MCP's sync session.
type MCPReconciler struct {
	Client   client.Client
	Scheme   *runtime.Scheme
	Recorder events.EventRecorder
	Options  Options
	Tracker  *clusters.Tracker

	mu       sync.Mutex
	sessions map[types.NamespacedName]*sessionHandle
	notify   chan event.TypedGenericEvent[*vcdnsv1alpha1.ManagedControlPlane]
}

type sessionHandle struct {
	*mcpsync.Session
	key     string // what the session was started with; a change restarts it
	release func() // of the workload cluster's limiter
}

// mcpScope is what one reconcile of an MCP reads once and its phases share. The MCP's
// status is what the phases set; it is written once, at the end.
type mcpScope struct {
	mcp       *vcdnsv1alpha1.ManagedControlPlane
	namespace string // the MCP namespace
	labels    map[string]string
	tenant    *clusters.Remote
	workload  *clusters.Remote
	cluster   *vcdnsv1alpha1.Cluster // the workload Cluster
	// workloadReachable is whether the MCP namespace on the workload cluster is there.
	workloadReachable bool
	// tenantDNSToken is the token of the tenant DNS identity, once the tenant has it.
	tenantDNSToken []byte
}

func (s *mcpScope) set(typ string, ok bool, reason, msg string) {
	setCondition(&s.mcp.Status.Conditions, s.mcp.Generation, typ, ok, reason, msg)
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
	r.notify = make(chan event.TypedGenericEvent[*vcdnsv1alpha1.ManagedControlPlane], 1024)
	return ctrl.NewControllerManagedBy(mgr).
		For(&vcdnsv1alpha1.ManagedControlPlane{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&vcdnsv1alpha1.Cluster{}, handler.EnqueueRequestsFromMapFunc(r.mcpsOfCluster)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(kubeconfigUsers(r.Client,
			func() client.ObjectList { return &vcdnsv1alpha1.ManagedControlPlaneList{} },
			func(o runtime.Object) string {
				return o.(*vcdnsv1alpha1.ManagedControlPlane).Spec.KubeconfigSecretRef.Name
			}))).
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
	mcp, err := ensureFinalizer(ctx, r.Client, mcp, nil)
	if err != nil {
		return ctrl.Result{}, err
	}

	helper := newPatchHelper(r.Client, mcp)
	mcp.Status.Namespace = ns
	mcp.Status.ObservedGeneration = mcp.Generation
	scope := &mcpScope{mcp: mcp, namespace: ns, labels: map[string]string{naming.LabelMCP: ns}}
	for _, phase := range []func(context.Context, *mcpScope) error{
		r.reconcileTenant,
		r.reconcileWorkloadCluster,
		r.reconcileMove,
		r.reconcileNamespaces,
		r.reconcileTenantSide,
		r.reconcileTenantDNS,
		r.reconcileSession,
		r.reconcileReady,
	} {
		if err = phase(ctx, scope); err != nil {
			break
		}
	}
	if perr := helper.patchStatus(ctx, mcp); perr != nil {
		err = errors.Join(err, perr)
	}
	if errors.Is(err, errRequeue) {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: r.Options.ProbeInterval}, nil
}

// reconcileTenant reads the tenant's kubeconfig.
func (r *MCPReconciler) reconcileTenant(ctx context.Context, s *mcpScope) error {
	tenant, err := r.Tracker.GetTenant(ctx, s.mcp)
	if err != nil {
		s.set(vcdnsv1alpha1.ConditionTenantReachable, false, "KubeconfigInvalid", err.Error())
		s.set(vcdnsv1alpha1.ConditionReady, false, "TenantUnreachable", "The tenant API server cannot be reached")
		return err
	}
	s.tenant = tenant
	return nil
}

// reconcileWorkloadCluster reads the workload Cluster and its kubeconfig.
func (r *MCPReconciler) reconcileWorkloadCluster(ctx context.Context, s *mcpScope) error {
	cluster, workload, err := r.workloadCluster(ctx, s.mcp.Spec.WorkloadCluster)
	if err != nil {
		s.set(vcdnsv1alpha1.ConditionWorkloadReachable, false, "ClusterUnavailable", err.Error())
		s.set(vcdnsv1alpha1.ConditionReady, false, "WorkloadUnreachable", "The workload cluster cannot be used")
		return err
	}
	s.cluster, s.workload = cluster, workload
	return nil
}

// reconcileMove moves the copies when the workload cluster changed. The old namespace
// goes first, so a tenant Service never has copies in two clusters.
func (r *MCPReconciler) reconcileMove(ctx context.Context, s *mcpScope) error {
	status := &s.mcp.Status
	if old := status.WorkloadCluster; old != "" && old != s.cluster.Name {
		r.stopSession(client.ObjectKeyFromObject(s.mcp))
		gone, err := r.deleteWorkloadNamespace(ctx, old, s.namespace)
		if err != nil {
			s.set(vcdnsv1alpha1.ConditionSynced, false, "Moving", err.Error())
			return fmt.Errorf("moving copies away from cluster %s: %w", old, err)
		}
		if !gone {
			s.set(vcdnsv1alpha1.ConditionSynced, false, "Moving", fmt.Sprintf("Waiting for namespace %s of cluster %s to be deleted", s.namespace, old))
			return errRequeue
		}
		r.Recorder.Eventf(s.mcp, nil, corev1.EventTypeNormal, "Moved", "Move", "Removed copies from cluster %s, moving to %s", old, s.cluster.Name)
	}
	status.WorkloadCluster = s.cluster.Name
	return nil
}

// reconcileNamespaces keeps the MCP namespace on the platform and, if it answers, on
// the workload cluster. The one on the platform holds nothing of the tenant DNS any
// more (that runs on the workload cluster, beside the tenant's Pods): it stays as the
// MCP's name on the platform, as DESIGN.md's Names section has it, the same on every
// cluster.
func (r *MCPReconciler) reconcileNamespaces(ctx context.Context, s *mcpScope) error {
	if err := ensureNamespace(ctx, r.Client, s.namespace, s.labels); err != nil {
		return fmt.Errorf("platform namespace: %w", err)
	}
	if err := r.Tracker.Probe(ctx, s.workload); err != nil {
		s.set(vcdnsv1alpha1.ConditionWorkloadReachable, false, "Unreachable", err.Error())
	} else if err := ensureNamespace(ctx, s.workload.Client, s.namespace, s.labels); err != nil {
		s.set(vcdnsv1alpha1.ConditionWorkloadReachable, false, "NamespaceFailed", err.Error())
	} else {
		s.workloadReachable = true
		s.set(vcdnsv1alpha1.ConditionWorkloadReachable, true, "Reachable", fmt.Sprintf("Copies go to namespace %s of cluster %s", s.namespace, s.cluster.Name))
	}
	return nil
}

// reconcileTenantSide keeps, if the tenant answers, what the syncer installs there.
func (r *MCPReconciler) reconcileTenantSide(ctx context.Context, s *mcpScope) error {
	err := r.Tracker.Probe(ctx, s.tenant)
	if err == nil {
		err = r.ensureTenantSide(ctx, s)
	}
	if err != nil {
		s.set(vcdnsv1alpha1.ConditionTenantReachable, false, "Unreachable", err.Error())
	} else {
		s.set(vcdnsv1alpha1.ConditionTenantReachable, true, "Reachable", "The tenant API server answers")
	}
	return nil
}

// reconcileSession keeps the MCP's sync session running and reports how far it got.
func (r *MCPReconciler) reconcileSession(ctx context.Context, s *mcpScope) error {
	status := &s.mcp.Status
	st := r.ensureSession(ctx, s).Status()
	switch {
	case (st.CatchingUp || !st.Started && st.LastError == "") && meta.FindStatusCondition(status.Conditions, vcdnsv1alpha1.ConditionSynced) != nil:
		// A new session (a restarted syncer) is catching up: what the status says was
		// observed before and stays until the session knows better.
	case st.Synced:
		status.Synced = syncedCounts(st.Counts)
		s.set(vcdnsv1alpha1.ConditionSynced, true, "Synced", syncedMessage(st))
	case !st.Started:
		s.set(vcdnsv1alpha1.ConditionSynced, false, "Starting", orDefault(st.LastError, "Waiting for the tenant and workload caches"))
	default:
		status.Synced = syncedCounts(st.Counts)
		s.set(vcdnsv1alpha1.ConditionSynced, false, "Syncing", fmt.Sprintf("%s, %d failing; last error: %s", syncedMessage(st), st.Failing, orDefault(st.LastError, "none")))
	}
	return nil
}

// reconcileReady sums the conditions up in Ready and the metrics.
func (r *MCPReconciler) reconcileReady(_ context.Context, s *mcpScope) error {
	status := &s.mcp.Status
	mcpKey := client.ObjectKeyFromObject(s.mcp).String()
	for kind, n := range map[string]int32{translate.KindService: status.Synced.Services, translate.KindGateway: status.Synced.Gateways, translate.KindHTTPRoute: status.Synced.HTTPRoutes, translate.KindIngress: status.Synced.Ingresses} {
		syncedObjects.WithLabelValues(mcpKey, kind).Set(float64(n))
	}
	if meta.IsStatusConditionTrue(status.Conditions, vcdnsv1alpha1.ConditionSynced) {
		mcpSynced.WithLabelValues(mcpKey).Set(1)
	} else {
		mcpSynced.WithLabelValues(mcpKey).Set(0)
	}
	if readyMCP(status.Conditions) {
		s.set(vcdnsv1alpha1.ConditionReady, true, "Ready", "Tenant Services resolve to the workload cluster's IPs")
	} else {
		s.set(vcdnsv1alpha1.ConditionReady, false, "NotReady", "See the other conditions")
	}
	return nil
}

// readyMCP reports whether an MCP with conditions is Ready: its tenant and workload
// cluster answer, its tenant DNS is installed, and it is synced.
func readyMCP(conditions []metav1.Condition) bool {
	return meta.IsStatusConditionTrue(conditions, vcdnsv1alpha1.ConditionTenantReachable) &&
		meta.IsStatusConditionTrue(conditions, vcdnsv1alpha1.ConditionWorkloadReachable) &&
		meta.IsStatusConditionTrue(conditions, vcdnsv1alpha1.ConditionTenantDNS) &&
		meta.IsStatusConditionTrue(conditions, vcdnsv1alpha1.ConditionSynced)
}

// ensureTenantSide installs, in the tenant control plane, the admission policy that
// keeps the clusterIP annotation the syncer's and the tenant DNS identity, and reads
// that identity's token into the scope.
func (r *MCPReconciler) ensureTenantSide(ctx context.Context, s *mcpScope) error {
	tenant := s.tenant.Client
	user, err := r.Tracker.WhoAmI(ctx, s.tenant)
	if err != nil {
		return err
	}
	policy, binding := tenantdns.AnnotationPolicy(s.labels, naming.ClusterIPAnnotation, user)
	objs := append([]client.Object{policy, binding}, tenantdns.TenantObjects(s.labels)...)
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
	s.tenantDNSToken = token.Data[corev1.ServiceAccountTokenKey]
	return nil
}

// reconcileTenantDNS keeps the tenant CoreDNS (kubeconfig Secret, ConfigMap, Service,
// Deployment) in the MCP namespace on the workload cluster, where the tenant's Pods
// run, and the parameters of the Pod DNS policy there: the Service's ClusterIPs. It
// moves with the namespace (reconcileMove) and goes with it (finalize). Nothing of the
// tenant DNS is on the platform cluster: no Pod there asks it.
func (r *MCPReconciler) reconcileTenantDNS(ctx context.Context, s *mcpScope) error {
	reason, msg, err := r.ensureTenantDNS(ctx, s)
	if err != nil {
		s.set(vcdnsv1alpha1.ConditionTenantDNS, false, vcdnsv1alpha1.ReasonInstallFailed, err.Error())
		return nil
	}
	s.set(vcdnsv1alpha1.ConditionTenantDNS, reason == vcdnsv1alpha1.ReasonInstalled, reason, msg)
	return nil
}

func (r *MCPReconciler) ensureTenantDNS(ctx context.Context, s *mcpScope) (reason, msg string, err error) {
	cidrs := s.cluster.Status.ServiceCIDRs
	switch {
	case !s.workloadReachable:
		return vcdnsv1alpha1.ReasonWaiting, "Waiting for the workload cluster's MCP namespace", nil
	case len(s.tenantDNSToken) == 0:
		return vcdnsv1alpha1.ReasonWaiting, "Waiting for the tenant DNS identity's token in the tenant", nil
	case len(cidrs) == 0:
		return vcdnsv1alpha1.ReasonWaiting, "The workload cluster's service ranges are not known yet", nil
	}
	opts := tenantdns.Options{
		Namespace:     s.namespace,
		Labels:        s.labels,
		ServiceCIDRs:  cidrs,
		AnnotationKey: naming.ClusterIPAnnotation,
		ClusterDomain: r.Options.ClusterDomain,
		Image:         r.Options.TenantDNSImage,
		BaseDomain:    r.Options.DNS.BaseDomain,
		CentralDNS:    r.Options.DNS.CentralDNS,
	}
	tenantCfg := s.tenant.Config
	secret, err := tenantdns.KubeconfigSecretFor(opts, tenantCfg.Host, tenantCfg.CAData, s.tenantDNSToken)
	if err != nil {
		return "", "", err
	}
	workload := s.workload.Client
	cm, dep, svc := tenantdns.Objects(opts)
	for _, obj := range []client.Object{secret, cm, svc} {
		if _, err := apply.Ensure(ctx, workload, obj); err != nil {
			return "", "", fmt.Errorf("tenant DNS: %w", err)
		}
	}
	var live corev1.Service
	if err := workload.Get(ctx, client.ObjectKeyFromObject(svc), &live); err != nil {
		return "", "", fmt.Errorf("reading the tenant DNS Service: %w", err)
	}
	ips := tenantDNSAddresses(&live)
	if len(ips) == 0 {
		return vcdnsv1alpha1.ReasonWaiting, "Waiting for the tenant DNS Service's ClusterIPs", nil
	}
	// The parameters go before the Deployment: the Pod DNS policy refuses Pods of an
	// MCP namespace without them, whatever they bring.
	params := tenantdns.PodDNSParamsFor(s.namespace, s.labels, ips, r.Options.ClusterDomain)
	for _, obj := range []client.Object{params, dep} {
		if _, err := apply.Ensure(ctx, workload, obj); err != nil {
			return "", "", fmt.Errorf("tenant DNS: %w", err)
		}
	}
	return vcdnsv1alpha1.ReasonInstalled, fmt.Sprintf("The tenant DNS answers at %s in namespace %s of cluster %s", strings.Join(ips, ", "), s.namespace, s.cluster.Name), nil
}

// tenantDNSAddresses are the addresses Pods ask: the Service's ClusterIPs, in order.
func tenantDNSAddresses(svc *corev1.Service) []string {
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	var out []string
	for _, ip := range ips {
		if ip != "" && ip != corev1.ClusterIPNone {
			out = append(out, ip)
		}
	}
	return out
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
	if err := removeFinalizer(ctx, r.Client, mcp); err != nil {
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
	remote, err := r.Tracker.GetTenant(ctx, mcp)
	if err != nil {
		return
	}
	tenant := remote.Client
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
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
	workload, err := r.Tracker.GetCluster(ctx, &cluster)
	if err != nil {
		return false, err
	}
	return deleteNamespace(ctx, workload.Client, ns)
}

func (r *MCPReconciler) workloadCluster(ctx context.Context, name string) (*vcdnsv1alpha1.Cluster, *clusters.Remote, error) {
	var cluster vcdnsv1alpha1.Cluster
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: r.Options.ClusterNamespace, Name: name}, &cluster); err != nil {
		return nil, nil, fmt.Errorf("reading Cluster %s/%s: %w", r.Options.ClusterNamespace, name, err)
	}
	workload, err := r.Tracker.GetCluster(ctx, &cluster)
	if err != nil {
		return nil, nil, err
	}
	return &cluster, workload, nil
}

func (r *MCPReconciler) ensureSession(ctx context.Context, s *mcpScope) *mcpsync.Session {
	key := client.ObjectKeyFromObject(s.mcp)
	want := s.tenant.Hash + "/" + s.workload.Hash + "/" + s.cluster.Name
	r.mu.Lock()
	h := r.sessions[key]
	r.mu.Unlock()
	if h != nil && h.key == want {
		return h.Session
	}
	if h != nil {
		log.FromContext(ctx).Info("Restarting sync session, a kubeconfig or the workload cluster changed")
		h.Stop()
		defer h.release()
	}
	mcp := s.mcp.DeepCopy()
	notify := func() {
		select {
		case r.notify <- event.TypedGenericEvent[*vcdnsv1alpha1.ManagedControlPlane]{Object: mcp}:
		default: // A reconcile is queued already.
		}
	}
	limiter, release := r.Tracker.AcquireLimiter(s.cluster.Name)
	// The session outlives this reconcile: it gets a logger of its own, not the
	// reconcile's.
	sessionCtx := log.IntoContext(context.Background(), ctrl.Log.WithName("session"))
	sess := mcpsync.Start(sessionCtx, mcpsync.Config{
		MCP:       key,
		Namespace: s.namespace,
		Tenant:    s.tenant.Config,
		Workload:  limiter.Wrap(s.workload.Config, key.String()),
		Scheme:    r.Scheme,
		TenantDNS: r.Options.TenantDNS,
		Workers:   r.Options.WorkersPerMCP,
		Notify:    notify,
	})
	r.mu.Lock()
	r.sessions[key] = &sessionHandle{Session: sess, key: want, release: release}
	r.mu.Unlock()
	return sess
}

func (r *MCPReconciler) stopSession(key types.NamespacedName) {
	r.mu.Lock()
	h := r.sessions[key]
	delete(r.sessions, key)
	r.mu.Unlock()
	if h != nil {
		h.Stop()
		h.release()
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

func syncedMessage(st mcpsync.Status) string {
	msg := fmt.Sprintf("Synced %d Services, %d Gateways, %d HTTPRoutes, %d Ingresses",
		st.Counts[translate.KindService], st.Counts[translate.KindGateway], st.Counts[translate.KindHTTPRoute], st.Counts[translate.KindIngress])
	if len(st.Unserved) > 0 {
		msg += fmt.Sprintf("; not synced, as the tenant or the workload cluster does not serve them: %s", strings.Join(st.Unserved, ", "))
	}
	return msg
}
