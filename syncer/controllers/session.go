package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/translate"
)

// SessionConfig is what one MCP's sync session needs.
type SessionConfig struct {
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

// SessionStatus is what the session reports to the MCP's status.
type SessionStatus struct {
	// Started is true once both caches synced and the initial tenant objects are known.
	Started bool
	// Synced is true when every tenant object seen since start has been reconciled
	// and none is failing.
	Synced bool
	// Services counts tenant Services whose copy and annotation are up to date.
	Services int
	// Failing counts tenant objects whose last reconcile failed.
	Failing int
	// LastError is the newest reconcile or start error.
	LastError string
	// CatchingUp is true while a started session still reconciles the tenant objects
	// it found at start, none failing so far.
	CatchingUp bool
}

// Session syncs one MCP: Services of its tenant control plane down into the MCP
// namespace of its workload cluster, and the allocated IPs back up. It owns its
// caches and its controller, and Stop ends all of them.
type Session struct {
	cfg    SessionConfig
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	started  bool
	pending  map[types.NamespacedName]bool // seen at start, not reconciled yet
	failing  map[types.NamespacedName]string
	synced   map[types.NamespacedName]bool
	lastErr  string
	lastSync bool
}

// StartSession starts a session that runs until Stop or until ctx ends. Failures to
// start (an unreachable API server) are retried with backoff.
func StartSession(ctx context.Context, cfg SessionConfig) *Session {
	ctx, cancel := context.WithCancel(ctx)
	s := &Session{
		cfg:     cfg,
		cancel:  cancel,
		done:    make(chan struct{}),
		pending: map[types.NamespacedName]bool{},
		failing: map[types.NamespacedName]string{},
		synced:  map[types.NamespacedName]bool{},
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
func (s *Session) Status() SessionStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusLocked()
}

func (s *Session) statusLocked() SessionStatus {
	st := SessionStatus{Started: s.started, Failing: len(s.failing), LastError: s.lastErr}
	for _, ok := range s.synced {
		if ok {
			st.Services++
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
	backoff := time.Second
	for {
		start := time.Now()
		err := s.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.setStartError(err)
		logger.Error(err, "Sync session ended, restarting", "backoff", backoff)
		if time.Since(start) > 5*time.Minute {
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// runOnce starts the caches and the controller and blocks until they end.
func (s *Session) runOnce(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()

	tenant, err := cluster.New(s.cfg.Tenant, func(o *cluster.Options) {
		o.Scheme = s.cfg.Scheme
	})
	if err != nil {
		return fmt.Errorf("tenant cluster: %w", err)
	}
	copies := labels.SelectorFromSet(labels.Set{naming.LabelMCP: s.cfg.Namespace})
	workload, err := cluster.New(s.cfg.Workload, func(o *cluster.Options) {
		o.Scheme = s.cfg.Scheme
		o.Cache.DefaultNamespaces = map[string]cache.Config{s.cfg.Namespace: {}}
		o.Cache.DefaultLabelSelector = copies
	})
	if err != nil {
		return fmt.Errorf("workload cluster: %w", err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for name, c := range map[string]cluster.Cluster{"tenant": tenant, "workload": workload} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Start(ctx); err != nil {
				errs <- fmt.Errorf("%s cache: %w", name, err)
			}
		}()
	}
	defer wg.Wait()

	r := &serviceSync{
		session:   s,
		tenant:    tenant.GetClient(),
		workload:  workload.GetClient(),
		namespace: s.cfg.Namespace,
		mcp:       s.cfg.MCP,
		tenantDNS: s.cfg.TenantDNS,
	}
	ctrl, err := controller.NewTypedUnmanaged[reconcile.Request]("services-"+s.cfg.Namespace, controller.TypedOptions[reconcile.Request]{
		Reconciler:              s.track(r),
		MaxConcurrentReconciles: max(1, s.cfg.Workers),
		SkipNameValidation:      ptr.To(true),
		CacheSyncTimeout:        time.Minute,
		LogConstructor: func(req *reconcile.Request) logr.Logger {
			l := log.FromContext(ctx)
			if req != nil {
				l = l.WithValues("service", req.NamespacedName.String())
			}
			return l
		},
	})
	if err != nil {
		return err
	}
	if err := ctrl.Watch(source.Kind(tenant.GetCache(), &corev1.Service{}, &handler.TypedEnqueueRequestForObject[*corev1.Service]{})); err != nil {
		return err
	}
	if err := ctrl.Watch(source.Kind(workload.GetCache(), &corev1.Service{}, handler.TypedEnqueueRequestsFromMapFunc(s.copyToTenant))); err != nil {
		return err
	}
	go func() {
		if err := ctrl.Start(ctx); err != nil {
			errs <- fmt.Errorf("service controller: %w", err)
		}
		cancel()
	}()
	go s.markStarted(ctx, tenant, workload, errs)

	select {
	case <-ctx.Done():
	case err := <-errs:
		cancel()
		return err
	}
	if parent.Err() == nil {
		return fmt.Errorf("session stopped")
	}
	return nil
}

// markStarted waits for both caches, records every tenant Service as pending, and from
// then on Synced means all of them were reconciled.
func (s *Session) markStarted(ctx context.Context, tenant, workload cluster.Cluster, errs chan<- error) {
	if !tenant.GetCache().WaitForCacheSync(ctx) || !workload.GetCache().WaitForCacheSync(ctx) {
		return
	}
	var list corev1.ServiceList
	if err := tenant.GetClient().List(ctx, &list); err != nil {
		errs <- fmt.Errorf("listing tenant Services: %w", err)
		return
	}
	s.mu.Lock()
	for i := range list.Items {
		key := client.ObjectKeyFromObject(&list.Items[i])
		if _, done := s.synced[key]; !done {
			s.pending[key] = true
		}
	}
	s.started = true
	s.mu.Unlock()
	s.notifyIfChanged()
}

func (s *Session) setStartError(err error) {
	s.mu.Lock()
	s.lastErr = err.Error()
	s.started = false
	s.mu.Unlock()
	s.notifyIfChanged()
}

// track wraps a reconciler to keep the session's bookkeeping.
func (s *Session) track(r reconcile.TypedReconciler[reconcile.Request]) reconcile.TypedReconciler[reconcile.Request] {
	return reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		res, err := r.Reconcile(ctx, req)
		s.mu.Lock()
		delete(s.pending, req.NamespacedName)
		if err != nil {
			s.failing[req.NamespacedName] = err.Error()
			s.lastErr = err.Error()
		} else {
			delete(s.failing, req.NamespacedName)
		}
		s.mu.Unlock()
		s.notifyIfChanged()
		return res, err
	})
}

// setSynced records whether a tenant Service's copy and annotation are up to date;
// gone means the tenant Service no longer exists.
func (s *Session) setSynced(key types.NamespacedName, ok, gone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gone {
		delete(s.synced, key)
		return
	}
	s.synced[key] = ok
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

// copyToTenant maps a copy on the workload cluster to the tenant Service it was made
// from; objects without a recorded origin of this MCP map to nothing.
func (s *Session) copyToTenant(_ context.Context, obj *corev1.Service) []reconcile.Request {
	o, ok := translate.OriginOf(obj)
	if !ok || o.MCP != s.cfg.MCP || o.Kind != "Service" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.Namespace, Name: o.Name}}}
}
