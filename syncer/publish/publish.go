// Package publish keeps the central DNS equal to what the Gateways, HTTPRoutes and
// Ingresses of every registered cluster say, as external-dns's RunOnce does: the
// cluster's objects (the source), records.Compute (desired records), skydns.Plan (the
// difference to the store) and Store.Apply. What is refused is written back onto the
// objects that asked: a condition on Gateways, an annotation on HTTPRoutes and
// Ingresses, a Warning Event.
package publish

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/centraletcd"
	"github.com/vcdns/vcdns/syncer/clusters"
	"github.com/vcdns/vcdns/syncer/dns/hostname"
	"github.com/vcdns/vcdns/syncer/dns/records"
	"github.com/vcdns/vcdns/syncer/dns/skydns"
	"github.com/vcdns/vcdns/syncer/gatewayapi"
	"github.com/vcdns/vcdns/syncer/translate"
)

// Options configure publishing.
type Options struct {
	// BaseDomain is the domain every published name is in.
	BaseDomain string
	// TTL of the published records.
	TTL time.Duration
	// Store is the central etcd; nil turns publishing off.
	Store *skydns.Store
	// Resync is how often a cluster's names are checked against the store again: a
	// record someone removed comes back.
	Resync time.Duration
	// Guard, when set, tells why the central etcd refuses the syncer (centraletcd.Conn):
	// while it does, Plan fails at once with its RefusedError.
	Guard Guard
}

// Guard tells why the central etcd refuses the syncer, if it does.
type Guard interface {
	// Check returns an error while the central etcd refuses the syncer.
	Check(ctx context.Context) error
	// Explain is told the outcome of a request to the store: it returns an error
	// that says why the central etcd refuses the syncer if it does, err otherwise.
	Explain(ctx context.Context, err error) error
}

// readTimeout bounds reading the store: a connection etcd refuses does not fail
// requests, it makes them wait.
const readTimeout = 10 * time.Second

// PublishStatus is what publishing reports for one cluster.
type PublishStatus struct {
	// Started is true once the cluster's objects have been read and published once.
	Started bool
	// Names counts the hostnames published for the cluster.
	Names int
	// Refused counts the hostnames refused.
	Refused int
	// LastError is the newest error.
	LastError string
	// Reason is the condition reason of LastError when it has one of its own:
	// vcdnsv1alpha1.ReasonCentralEtcdNotTrusted or ReasonCentralEtcdRefused.
	Reason string
}

// FailureReason is the condition reason of a publishing error that has one of its
// own (the central etcd refuses the syncer), "" for others.
func FailureReason(err error) string {
	if r := centraletcd.AsRefused(err); r != nil {
		return r.Reason
	}
	return ""
}

// Publisher keeps the central DNS store equal to what the Gateways, HTTPRoutes and
// Ingresses of every registered cluster say. Each cluster has a session of its own
// (its cache and a controller with one key, the cluster); a cluster that cannot be read
// is not planned for, so its names stay as published.
type Publisher struct {
	Scheme  *runtime.Scheme
	Options Options
	// Notify is called with a cluster's name when its PublishStatus changes.
	Notify func(cluster string)

	storeMu sync.Mutex // one Read-Plan-Apply at a time: no self-inflicted conflicts

	mu       sync.Mutex
	sessions map[string]*pubSession
}

type pubSession struct {
	key    string
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	status PublishStatus
}

// Enabled reports whether publishing is configured.
func (p *Publisher) Enabled() bool { return p != nil && p.Options.Store != nil }

// Ensure runs publishing for a cluster, restarting it when its kubeconfig changed.
func (p *Publisher) Ensure(name string, cfg *clusters.Kubeconfig) {
	p.mu.Lock()
	if p.sessions == nil {
		p.sessions = map[string]*pubSession{}
	}
	s := p.sessions[name]
	p.mu.Unlock()
	if s != nil && s.key == cfg.Hash {
		return
	}
	if s != nil {
		p.Stop(name)
	}
	ctx, cancel := context.WithCancel(log.IntoContext(context.Background(), log.Log.WithName("publish").WithValues("cluster", name)))
	s = &pubSession{key: cfg.Hash, cancel: cancel, done: make(chan struct{})}
	p.mu.Lock()
	p.sessions[name] = s
	p.mu.Unlock()
	go func() {
		defer close(s.done)
		p.run(ctx, name, cfg, s)
	}()
}

// Stop ends publishing for a cluster; what it published stays. It reports whether
// the cluster had a session.
func (p *Publisher) Stop(name string) bool {
	p.mu.Lock()
	s := p.sessions[name]
	delete(p.sessions, name)
	p.mu.Unlock()
	if s != nil {
		s.cancel()
		<-s.done
	}
	return s != nil
}

// publishing reports whether a cluster has a session.
func (p *Publisher) publishing(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.sessions[name]
	return ok
}

// StopAll ends every publishing session.
func (p *Publisher) StopAll() {
	p.mu.Lock()
	names := make([]string, 0, len(p.sessions))
	for n := range p.sessions {
		names = append(names, n)
	}
	p.mu.Unlock()
	for _, n := range names {
		p.Stop(n)
	}
}

// Status reports publishing of a cluster.
func (p *Publisher) Status(name string) PublishStatus {
	p.mu.Lock()
	s := p.sessions[name]
	p.mu.Unlock()
	if s == nil {
		return PublishStatus{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Unpublish removes everything published for a cluster (it was deregistered).
func (p *Publisher) Unpublish(ctx context.Context, name string) error {
	return p.Apply(ctx, records.Result{Scope: records.ClusterScope(name)})
}

// UnpublishUnregistered removes the names published for clusters that registered
// reports false for and that have no session: their Cluster went without
// deregistering (its finalizer removed by hand, or while no syncer ran). It returns
// those clusters.
func (p *Publisher) UnpublishUnregistered(ctx context.Context, registered func(cluster string) bool) ([]string, error) {
	gone := func(o records.Owner) bool {
		return records.ClusterScope(o.Cluster).Contains(o) && !registered(o.Cluster) && !p.publishing(o.Cluster)
	}
	var clusters []string
	_, err := p.Plan(ctx, func(claims *records.Claims) records.Result {
		seen := map[string]bool{}
		for _, o := range claims.All() {
			if gone(o) && !seen[o.Cluster] {
				seen[o.Cluster] = true
				clusters = append(clusters, o.Cluster)
			}
		}
		sort.Strings(clusters)
		return records.Result{Scope: gone}
	})
	return clusters, err
}

// Apply plans res against the store and applies the changes.
func (p *Publisher) Apply(ctx context.Context, res records.Result) error {
	_, err := p.Plan(ctx, func(*records.Claims) records.Result { return res })
	return err
}

// Plan is one run of the loop, as external-dns's RunOnce: it reads the store, computes
// the desired records with the stored claims (compute), plans the difference
// (skydns.Plan) and applies it. It returns the computed result with what Plan skipped
// among its refusals. One Plan runs at a time: no self-inflicted conflicts.
func (p *Publisher) Plan(ctx context.Context, compute func(*records.Claims) records.Result) (records.Result, error) {
	store := p.Options.Store
	p.storeMu.Lock()
	defer p.storeMu.Unlock()
	guard := p.Options.Guard
	if guard != nil {
		if err := guard.Check(ctx); err != nil {
			return records.Result{}, fmt.Errorf("reading the central DNS store: %w", err)
		}
	}
	readCtx, cancel := context.WithTimeout(ctx, readTimeout)
	state, err := store.Read(readCtx)
	cancel()
	if guard != nil {
		err = guard.Explain(ctx, err)
	}
	if err != nil {
		return records.Result{}, fmt.Errorf("reading the central DNS store: %w", err)
	}
	res := compute(state.Claims())
	changes := skydns.Plan(state, skydns.Desired{Scope: res.Scope, Endpoints: res.Endpoints})
	res.Refusals = append(res.Refusals, changes.Skipped...)
	if changes.Empty() {
		return res, nil
	}
	if err := store.Apply(ctx, changes); err != nil {
		if errors.Is(err, skydns.ErrConflict) {
			storeApplies.WithLabelValues("conflict").Inc()
		} else {
			storeApplies.WithLabelValues("error").Inc()
		}
		return res, fmt.Errorf("writing the central DNS store: %w", err)
	}
	storeApplies.WithLabelValues("ok").Inc()
	log.FromContext(ctx).Info("Published", "changes", changes.String())
	return res, nil
}

func (p *Publisher) setStatus(name string, s *pubSession, st PublishStatus) {
	s.mu.Lock()
	changed := s.status != st
	s.status = st
	s.mu.Unlock()
	if changed && p.Notify != nil {
		p.Notify(name)
	}
}

func (p *Publisher) run(ctx context.Context, name string, cfg *clusters.Kubeconfig, s *pubSession) {
	clusters.Retry(ctx, func(ctx context.Context) error { return p.runOnce(ctx, name, cfg, s) }, func(err error, backoff time.Duration) {
		st := p.statusOf(s)
		st.LastError, st.Reason = err.Error(), FailureReason(err)
		p.setStatus(name, s, st)
		log.FromContext(ctx).Error(err, "Publishing session ended, restarting", "backoff", backoff)
	})
}

func (p *Publisher) statusOf(s *pubSession) PublishStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// runOnce starts the cluster's cache and a controller with one key, the cluster: every
// change of a Gateway, HTTPRoute, Ingress or namespace recomputes the cluster, so that
// bursts of changes collapse into one publish.
func (p *Publisher) runOnce(ctx context.Context, name string, cfg *clusters.Kubeconfig, s *pubSession) error {
	c, err := clusters.NewCluster(cfg.Config, func(o *cluster.Options) { o.Scheme = p.Scheme })
	if err != nil {
		return err
	}
	return clusters.Run(ctx, map[string]cluster.Cluster{name: c}, func(ctx context.Context, _ func(error)) ([]controller.TypedController[reconcile.Request], error) {
		r := &publishCluster{p: p, name: name, session: s, client: c.GetClient(), recorder: c.GetEventRecorder("vcdns-syncer")}
		ctrl, err := controller.NewTypedUnmanaged[reconcile.Request]("publish-"+name, controller.TypedOptions[reconcile.Request]{
			Reconciler:         r,
			SkipNameValidation: ptr.To(true),
			CacheSyncTimeout:   time.Minute,
			LogConstructor:     func(*reconcile.Request) logr.Logger { return log.FromContext(ctx) },
		})
		if err != nil {
			return nil, err
		}
		all := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
		})
		for _, obj := range []client.Object{&gatewayv1.Gateway{}, &gatewayv1.HTTPRoute{}, &networkingv1.Ingress{}, &corev1.Namespace{}} {
			if err := ctrl.Watch(source.Kind(c.GetCache(), obj, all)); err != nil {
				return nil, err
			}
		}
		return []controller.TypedController[reconcile.Request]{ctrl}, nil
	})
}

// publishCluster is the reconcile of one cluster's published names.
type publishCluster struct {
	p        *Publisher
	name     string
	session  *pubSession
	client   client.Client
	recorder events.EventRecorder
}

func (r *publishCluster) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	var gateways gatewayv1.GatewayList
	var routes gatewayv1.HTTPRouteList
	var ingresses networkingv1.IngressList
	for _, l := range []client.ObjectList{&gateways, &routes, &ingresses} {
		if err := r.client.List(ctx, l); err != nil {
			return reconcile.Result{}, r.fail(fmt.Errorf("listing the cluster's objects: %w", err))
		}
	}
	var namespaces corev1.NamespaceList
	if err := r.client.List(ctx, &namespaces); err != nil {
		return reconcile.Result{}, r.fail(fmt.Errorf("listing the cluster's namespaces: %w", err))
	}
	opts := r.p.Options
	res, err := r.p.Plan(ctx, func(claims *records.Claims) records.Result {
		return records.Compute(records.Input{
			Cluster:         r.name,
			Policy:          hostname.DefaultPolicy(r.name, opts.BaseDomain),
			TTL:             opts.TTL,
			Gateways:        gateways.Items,
			HTTPRoutes:      routes.Items,
			Ingresses:       ingresses.Items,
			NamespaceLabels: gatewayapi.NamespaceLabelsOf(namespaces.Items),
			Origin:          originString,
			Claims:          claims,
		})
	})
	if err != nil {
		return reconcile.Result{}, r.fail(err)
	}
	if err := r.showRefusals(ctx, gateways.Items, routes.Items, ingresses.Items, res); err != nil {
		return reconcile.Result{}, r.fail(err)
	}
	r.p.setStatus(r.name, r.session, PublishStatus{Started: true, Names: len(res.Endpoints), Refused: len(res.Refusals)})
	publishedHostnames.WithLabelValues(r.name).Set(float64(len(res.Endpoints)))
	refusedHostnames.WithLabelValues(r.name).Set(float64(len(res.Refusals)))
	// The store is checked again after a while: a record someone removed comes back.
	return reconcile.Result{RequeueAfter: r.p.Options.Resync}, nil
}

func (r *publishCluster) fail(err error) error {
	st := r.p.statusOf(r.session)
	st.LastError, st.Reason = err.Error(), FailureReason(err)
	r.p.setStatus(r.name, r.session, st)
	return err
}

// showRefusals puts what was refused onto the objects that asked: a condition on
// Gateways, an annotation on HTTPRoutes and Ingresses, and a Warning Event when that
// changes. Objects with nothing refused get a True condition (Gateways) and no
// annotation.
func (r *publishCluster) showRefusals(ctx context.Context, gateways []gatewayv1.Gateway, routes []gatewayv1.HTTPRoute, ingresses []networkingv1.Ingress, res records.Result) error {
	byObject := map[records.ObjectRef][]string{}
	for _, ref := range res.Refusals {
		byObject[ref.Object] = append(byObject[ref.Object], ref.Message)
	}
	message := func(kind, ns, name string) string {
		msgs := byObject[records.ObjectRef{Kind: kind, Namespace: ns, Name: name}]
		sort.Strings(msgs)
		return strings.Join(msgs, "; ")
	}
	for i := range gateways {
		gw := &gateways[i]
		msg := message(records.KindGateway, gw.Namespace, gw.Name)
		cond := metav1.Condition{Type: vcdnsv1alpha1.GatewayConditionPublished, Status: metav1.ConditionTrue, Reason: "Published", Message: "The Gateway's hostnames are published", ObservedGeneration: gw.Generation}
		if msg != "" {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "Refused", msg
		}
		old := meta.FindStatusCondition(gw.Status.Conditions, vcdnsv1alpha1.GatewayConditionPublished)
		if old != nil && old.Status == cond.Status && old.Reason == cond.Reason && old.Message == cond.Message && old.ObservedGeneration == cond.ObservedGeneration {
			continue
		}
		patched := gw.DeepCopy()
		meta.SetStatusCondition(&patched.Status.Conditions, cond)
		if err := r.client.Status().Patch(ctx, patched, client.MergeFromWithOptions(gw, client.MergeFromWithOptimisticLock{})); err != nil {
			return fmt.Errorf("writing condition %s of Gateway %s/%s: %w", vcdnsv1alpha1.GatewayConditionPublished, gw.Namespace, gw.Name, err)
		}
		if msg != "" {
			r.recorder.Eventf(patched, nil, corev1.EventTypeWarning, "HostnameRefused", "Publish", "%s", translate.EventNote(msg))
		}
	}
	for i := range routes {
		if err := r.annotate(ctx, &routes[i], message(records.KindHTTPRoute, routes[i].Namespace, routes[i].Name)); err != nil {
			return err
		}
	}
	for i := range ingresses {
		if err := r.annotate(ctx, &ingresses[i], message(records.KindIngress, ingresses[i].Namespace, ingresses[i].Name)); err != nil {
			return err
		}
	}
	return nil
}

func (r *publishCluster) annotate(ctx context.Context, obj client.Object, msg string) error {
	patched, changed := translate.WithAnnotation(obj, vcdnsv1alpha1.AnnotationPublishRefused, msg)
	if !changed {
		return nil
	}
	if err := r.client.Patch(ctx, patched, client.MergeFrom(obj)); err != nil {
		return fmt.Errorf("annotating %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	if msg != "" {
		r.recorder.Eventf(patched, nil, corev1.EventTypeWarning, "HostnameRefused", "Publish", "%s", translate.EventNote(msg))
	}
	return nil
}

// originString describes the tenant object a copy was made from, for the owner
// records in the store.
func originString(obj metav1.Object) string {
	o, ok := translate.OriginOf(obj)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s %s %s/%s", o.MCP, o.Kind, o.Namespace, o.Name)
}
