package mcpsync

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/vcdns/vcdns/syncer/clusters"
	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/translate"
)

// Config is what one MCP's sync session needs.
type Config struct {
	// MCP is the ManagedControlPlane.
	MCP types.NamespacedName
	// Namespace is the MCP namespace on the workload cluster.
	Namespace string
	// Tenant and Workload are the client configurations of the tenant API server and
	// of the workload cluster.
	Tenant, Workload *rest.Config
	// Scheme knows the kinds synced.
	Scheme *runtime.Scheme
	// TenantDNS is the tenant's DNS Service, never copied.
	TenantDNS types.NamespacedName
	// Workers is the number of reconciles the session runs at once. Every MCP has a
	// queue and workers of its own, so one tenant creating thousands of objects does
	// not delay the others.
	Workers int
	// Notify is called when the session's Synced state changes.
	Notify func()
}

// Status is what the session reports to the MCP's status.
type Status struct {
	// Started is true once both caches synced and the initial tenant objects are known.
	Started bool
	// Synced is true when every tenant object seen since start has been reconciled
	// and none is failing.
	Synced bool
	// Counts holds, by kind, the number of tenant objects whose copy is up to date.
	Counts map[string]int
	// Unserved lists the kinds the session does not sync because the tenant or the
	// workload cluster does not serve them (e.g. no Gateway API CRDs).
	Unserved []string
	// Failing counts tenant objects whose last reconcile failed.
	Failing int
	// LastError is the newest reconcile or start error.
	LastError string
	// CatchingUp is true while a started session still reconciles the tenant objects
	// it found at start, none failing so far.
	CatchingUp bool
}

// Session syncs one MCP: the objects of its tenant control plane down into the MCP
// namespace of its workload cluster, and what the copies say back up. It owns its
// caches and its controller, and Stop ends all of them.
type Session struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	started    bool
	pending    map[objKey]bool // seen at start, not reconciled yet
	reconciled map[objKey]bool // reconciled at least once by this session
	failing    map[objKey]string
	synced     map[objKey]bool
	unserved   []string
	lastErr    string
	lastSync   bool
}

// Start starts a session that runs until Stop or until ctx ends. Failures to
// start (an unreachable API server) are retried with backoff.
func Start(ctx context.Context, cfg Config) *Session {
	ctx, cancel := context.WithCancel(ctx)
	s := &Session{
		cfg:        cfg,
		cancel:     cancel,
		done:       make(chan struct{}),
		pending:    map[objKey]bool{},
		reconciled: map[objKey]bool{},
		failing:    map[objKey]string{},
		synced:     map[objKey]bool{},
	}
	go s.run(ctx)
	return s
}

// Stop ends the session and waits until its controller and caches stopped.
func (s *Session) Stop() {
	s.cancel()
	<-s.done
}

// Status reports the session's progress.
func (s *Session) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusLocked()
}

func (s *Session) statusLocked() Status {
	st := Status{Started: s.started, Failing: len(s.failing), LastError: s.lastErr, Counts: map[string]int{}, Unserved: s.unserved}
	for k, ok := range s.synced {
		if ok {
			st.Counts[k.kind]++
		}
	}
	st.Synced = s.started && len(s.pending) == 0 && len(s.failing) == 0
	st.CatchingUp = s.started && len(s.pending) > 0 && len(s.failing) == 0
	return st
}

func (s *Session) run(ctx context.Context) {
	defer close(s.done)
	logger := log.FromContext(ctx).WithValues("mcp", s.cfg.MCP.String())
	ctx = log.IntoContext(ctx, logger)
	clusters.Retry(ctx, s.runOnce, func(err error, backoff time.Duration) {
		s.setStartError(err)
		logger.Error(err, "Sync session ended, restarting", "backoff", backoff)
	})
}

// runOnce starts the caches and the controllers and blocks until they end.
func (s *Session) runOnce(ctx context.Context) error {
	tenant, err := clusters.NewCluster(s.cfg.Tenant, func(o *cluster.Options) {
		o.Scheme = s.cfg.Scheme
		o.Cache.ByObject = map[client.Object]cache.ByObject{&discoveryv1.EndpointSlice{}: {Label: tenantEndpointSlices()}}
	})
	if err != nil {
		return fmt.Errorf("tenant cluster: %w", err)
	}
	copies := labels.SelectorFromSet(labels.Set{naming.LabelMCP: s.cfg.Namespace})
	workload, err := clusters.NewCluster(s.cfg.Workload, func(o *cluster.Options) {
		o.Scheme = s.cfg.Scheme
		o.Cache.DefaultNamespaces = map[string]cache.Config{s.cfg.Namespace: {}}
		o.Cache.DefaultLabelSelector = copies
		// The EndpointSlices of the copies are the workload cluster's, not copies.
		o.Cache.ByObject = map[client.Object]cache.ByObject{&discoveryv1.EndpointSlice{}: {Label: workloadEndpointSlices()}}
	})
	if err != nil {
		return fmt.Errorf("workload cluster: %w", err)
	}
	caches := map[string]cluster.Cluster{"tenant": tenant, "workload": workload}
	return clusters.Run(ctx, caches, func(ctx context.Context, fail func(error)) ([]controller.TypedController[reconcile.Request], error) {
		served, unserved := servedKinds(tenant, workload)
		s.mu.Lock()
		s.unserved = unserved
		s.mu.Unlock()
		sc := &syncContext{session: s, tenant: tenant.GetClient(), workload: workload.GetClient(), recorder: tenant.GetEventRecorder("vcdns-syncer"), namespace: s.cfg.Namespace, mcp: s.cfg.MCP}
		var ctrls []controller.TypedController[reconcile.Request]
		for _, k := range served {
			c, err := s.newController(ctx, k, sc, tenant, workload)
			if err != nil {
				return nil, err
			}
			ctrls = append(ctrls, c)
		}
		go s.markStarted(ctx, tenant, workload, served, fail)
		return ctrls, nil
	})
}

// markStarted waits for both caches, records every tenant object as pending, and from
// then on Synced means all of them were reconciled.
func (s *Session) markStarted(ctx context.Context, tenant, workload cluster.Cluster, served []syncedKind, fail func(error)) {
	if !tenant.GetCache().WaitForCacheSync(ctx) || !workload.GetCache().WaitForCacheSync(ctx) {
		return
	}
	var keys []objKey
	names := make([]string, 0, len(served))
	for _, k := range served {
		names = append(names, k.name)
		list := k.newList()
		if err := tenant.GetClient().List(ctx, list); err != nil {
			fail(fmt.Errorf("listing tenant %s objects: %w", k.name, err))
			return
		}
		if err := meta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			keys = append(keys, objKey{kind: k.name, NamespacedName: client.ObjectKeyFromObject(obj)})
			return nil
		}); err != nil {
			fail(err)
			return
		}
	}
	s.begin(keys)
	log.FromContext(ctx).Info("Sync session started", "tenantObjects", len(keys), "kinds", names)
	s.notifyIfChanged()
}

// begin records the tenant objects found at start as pending, except those the
// controllers, which start before the list is taken, reconciled already (they may well
// not be in synced, e.g. a Service that is never copied), and marks the session started.
func (s *Session) begin(keys []objKey) {
	s.mu.Lock()
	for _, key := range keys {
		if !s.reconciled[key] {
			s.pending[key] = true
		}
	}
	s.started = true
	s.mu.Unlock()
}

func (s *Session) setStartError(err error) {
	s.mu.Lock()
	s.lastErr = err.Error()
	s.started = false
	s.mu.Unlock()
	s.notifyIfChanged()
}

// conflictRetry is when an object whose write met a conflict is reconciled again, if
// the watch event of the newer object has not done it before.
const conflictRetry = time.Second

// track wraps a reconciler of one kind to keep the session's bookkeeping.
func (s *Session) track(kind string, r reconcile.TypedReconciler[reconcile.Request]) reconcile.TypedReconciler[reconcile.Request] {
	return reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		res, err := r.Reconcile(ctx, req)
		if apierrors.IsConflict(err) {
			// A write met a newer object than the cache had: the cache was behind our
			// own last write, or someone changed the object. The watch event of that
			// change brings the object back; the requeue is the safety net. Nothing
			// failed, so nothing is logged as an error nor reported as failing.
			log.FromContext(ctx).V(1).Info("Write conflict, reconciling again", "error", err.Error())
			syncConflicts.WithLabelValues(kind).Inc()
			res, err = reconcile.Result{RequeueAfter: conflictRetry}, nil
		}
		key := objKey{kind: kind, NamespacedName: req.NamespacedName}
		s.mu.Lock()
		delete(s.pending, key)
		s.reconciled[key] = true
		if err != nil {
			s.failing[key] = err.Error()
			s.lastErr = err.Error()
		} else {
			delete(s.failing, key)
		}
		s.mu.Unlock()
		s.notifyIfChanged()
		return res, err
	})
}

// setSynced records whether a tenant object's copy is up to date; gone means the
// tenant object no longer exists.
func (s *Session) setSynced(kind string, key types.NamespacedName, ok, gone bool) {
	k := objKey{kind: kind, NamespacedName: key}
	s.mu.Lock()
	defer s.mu.Unlock()
	if gone {
		delete(s.synced, k)
		return
	}
	s.synced[k] = ok
}

func (s *Session) notifyIfChanged() {
	s.mu.Lock()
	now := s.statusLocked().Synced
	changed := now != s.lastSync
	s.lastSync = now
	s.mu.Unlock()
	if changed && s.cfg.Notify != nil {
		s.cfg.Notify()
	}
}

// objKey identifies a tenant object of a kind.
type objKey struct {
	kind string
	types.NamespacedName
}

// copyToTenant maps a copy of kind on the workload cluster to the tenant object it was
// made from; objects without a recorded origin of this MCP map to nothing.
func (s *Session) copyToTenant(kind string) func(context.Context, client.Object) []reconcile.Request {
	return func(_ context.Context, obj client.Object) []reconcile.Request {
		o, ok := translate.OriginOf(obj)
		if !ok || o.MCP != s.cfg.MCP || o.Kind != kind {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.Namespace, Name: o.Name}}}
	}
}

// servedKinds splits the synced kinds into those both clusters serve and those one
// of them does not (Gateway API CRDs missing).
func servedKinds(tenant, workload cluster.Cluster) (served []syncedKind, unserved []string) {
	for _, k := range kinds {
		gvk, err := apiutil.GVKForObject(k.newObj(), tenant.GetScheme())
		ok := err == nil
		for _, c := range []cluster.Cluster{tenant, workload} {
			if !ok {
				break
			}
			if _, err := c.GetRESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
				ok = false
			}
		}
		if ok {
			served = append(served, k)
		} else {
			unserved = append(unserved, k.name)
		}
	}
	return served, unserved
}

// newController builds the controller of one kind: it watches the tenant objects, their
// copies, and for routes what decides their attachment and references.
func (s *Session) newController(ctx context.Context, k syncedKind, sc *syncContext, tenant, workload cluster.Cluster) (controller.TypedController[reconcile.Request], error) {
	c, err := controller.NewTypedUnmanaged[reconcile.Request](strings.ToLower(k.name)+"s-"+s.cfg.Namespace, controller.TypedOptions[reconcile.Request]{
		Reconciler:              s.track(k.name, k.newSync(sc, s.cfg.TenantDNS)),
		MaxConcurrentReconciles: max(1, s.cfg.Workers),
		SkipNameValidation:      ptr.To(true),
		CacheSyncTimeout:        time.Minute,
		LogConstructor: func(req *reconcile.Request) logr.Logger {
			l := log.FromContext(ctx).WithValues("kind", k.name)
			if req != nil {
				l = l.WithValues("object", req.NamespacedName.String())
			}
			return l
		},
	})
	if err != nil {
		return nil, err
	}
	if err := c.Watch(source.Kind(tenant.GetCache(), k.newObj(), &handler.EnqueueRequestForObject{})); err != nil {
		return nil, err
	}
	if err := c.Watch(source.Kind(workload.GetCache(), k.newObj(), handler.EnqueueRequestsFromMapFunc(s.copyToTenant(k.name)))); err != nil {
		return nil, err
	}
	if k.watches != nil {
		for _, src := range k.watches(s, tenant, workload) {
			if err := c.Watch(src); err != nil {
				return nil, err
			}
		}
	}
	if k.routes {
		all := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
			list := k.newList()
			if err := tenant.GetClient().List(ctx, list); err != nil {
				return nil
			}
			var reqs []reconcile.Request
			_ = meta.EachListItem(list, func(o runtime.Object) error {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o.(client.Object))})
				return nil
			})
			return reqs
		})
		for _, obj := range []client.Object{&gatewayv1.Gateway{}, &gatewayv1beta1.ReferenceGrant{}, &corev1.Namespace{}} {
			if err := c.Watch(source.Kind(tenant.GetCache(), obj, all)); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}
