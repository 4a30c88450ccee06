package mcpsync

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/translate"
)

// syncContext is what every kind's sync of one MCP works with, as vcluster's
// SyncContext: the tenant and the workload client, Events on the tenant, and where
// the copies go.
type syncContext struct {
	session   *Session
	tenant    client.Client        // cached reads of the tenant API
	workload  client.Client        // cached reads of the MCP namespace on the workload cluster
	recorder  events.EventRecorder // on the tenant cluster
	namespace string               // the MCP namespace
	mcp       types.NamespacedName
}

// kindSync reconciles tenant objects of one kind of one MCP: the copy in the MCP
// namespace of the workload cluster, and what the copy says back up into the tenant
// object. The flow is the same for every kind; what differs is in the functions.
type kindSync[T client.Object] struct {
	*syncContext
	kind string

	newObj func() T
	// desired computes the copy (nil for none) and what was refused.
	desired func(ctx context.Context, tenant T, o translate.Origin) (T, []translate.Refusal, error)
	merge   func(existing, desired T) (T, bool)
	// recreate, if set, reports whether the copy must be replaced rather than updated
	// (fields that cannot change in place).
	recreate func(existing, desired T) bool
	// upStatus and upMeta return the tenant object updated with what the copy and the
	// refusals say (in status, in metadata), and whether anything changed. Either may
	// be nil; copy may be nil.
	upStatus func(tenant, copy T, o translate.Origin, refused []translate.Refusal) (T, bool)
	upMeta   func(tenant, copy T, refused []translate.Refusal) (T, bool)
	// lockMeta writes upMeta's changes with optimistic locking: a concurrent change of
	// the tenant object fails the write and the reconcile runs again on the newer one.
	lockMeta bool
	// metaWithoutCopy corrects the tenant object's metadata (upMeta without a copy)
	// even when someone else's object blocks the copy.
	metaWithoutCopy bool
	// synced reports whether a copy is up to date for the MCP's status; nil: it exists.
	synced func(copy T) bool
	// upOwned, if set, keeps the objects the syncer makes in the tenant for a tenant
	// object from what the workload cluster says about its copy (the EndpointSlices of a
	// headless Service). tenant and copy may be nil: then what it made goes.
	upOwned func(ctx context.Context, key types.NamespacedName, tenant, copy T) error

	announcedRefusals *lastRefusals
}

// lastRefusals remembers, per tenant object, the refusals last announced with an Event,
// so that a write of the tenant object for another reason (the copy's status) does not
// announce them again.
type lastRefusals struct {
	mu sync.Mutex
	m  map[types.NamespacedName]string
}

// changed records msg ("" for none) as the refusals of key and reports whether they
// differ from those recorded before.
func (l *lastRefusals) changed(key types.NamespacedName, msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if msg == "" {
		_, had := l.m[key]
		delete(l.m, key)
		return had
	}
	if l.m[key] == msg {
		return false
	}
	if l.m == nil {
		l.m = map[types.NamespacedName]string{}
	}
	l.m[key] = msg
	return true
}

func isNil[T any](v T) bool {
	rv := reflect.ValueOf(&v).Elem()
	return !rv.IsValid() || (rv.Kind() == reflect.Pointer && rv.IsNil())
}

func (r *kindSync[T]) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	logger := log.FromContext(ctx)
	var zero T
	tenant := r.newObj()
	if err := r.tenant.Get(ctx, req.NamespacedName, tenant); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, fmt.Errorf("reading tenant %s: %w", r.kind, err)
		}
		tenant = zero
	}
	copyKey := types.NamespacedName{Namespace: r.namespace, Name: naming.CopyName(req.Namespace, req.Name)}
	cp := r.newObj()
	if err := r.workload.Get(ctx, copyKey, cp); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, fmt.Errorf("reading copy %s: %w", copyKey, err)
		}
		cp = zero
	}
	if !isNil(cp) {
		o, ok := translate.OriginOf(cp)
		if !ok || o.MCP != r.mcp || o.Kind != r.kind || o.Namespace != req.Namespace || o.Name != req.Name {
			// Someone else's object sits where the copy belongs; it is never touched.
			logger.Info("Object in the way of the copy has no matching origin, leaving it alone", "copy", copyKey.String())
			if err := r.writeOwned(ctx, req.NamespacedName, tenant, zero); err != nil {
				return reconcile.Result{}, err
			}
			if r.metaWithoutCopy && !isNil(tenant) {
				_, err := r.writeMeta(ctx, tenant, zero, nil)
				return reconcile.Result{}, err
			}
			return reconcile.Result{}, nil
		}
		if !isNil(tenant) && o.UID != tenant.GetUID() {
			// A copy of an earlier tenant object of the same name: replace it.
			if err := r.delete(ctx, cp); err != nil {
				return reconcile.Result{}, err
			}
			cp = zero
		}
	}
	if isNil(tenant) {
		r.announcedRefusals.changed(req.NamespacedName, "")
		if err := r.writeOwned(ctx, req.NamespacedName, zero, zero); err != nil {
			return reconcile.Result{}, err
		}
		if !isNil(cp) {
			if err := r.delete(ctx, cp); err != nil {
				return reconcile.Result{}, err
			}
			logger.Info("Deleted copy", "copy", copyKey.String())
		}
		r.session.setSynced(r.kind, req.NamespacedName, false, true)
		return reconcile.Result{}, nil
	}

	origin := translate.OriginFor(r.mcp, r.namespace, r.kind, tenant)
	desired, refused, err := r.desired(ctx, tenant, origin)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !isNil(desired) && !isNil(cp) && r.recreate != nil && r.recreate(cp, desired) {
		if err := r.delete(ctx, cp); err != nil {
			return reconcile.Result{}, err
		}
		logger.Info("Replacing copy whose immutable fields changed", "copy", copyKey.String())
		cp = zero
	}
	switch {
	case isNil(desired):
		if !isNil(cp) {
			if err := r.delete(ctx, cp); err != nil {
				return reconcile.Result{}, err
			}
			logger.Info("Deleted copy", "copy", copyKey.String())
			cp = zero
		}
	case isNil(cp):
		if err := r.workload.Create(ctx, desired); err != nil {
			return reconcile.Result{}, fmt.Errorf("creating copy %s: %w", copyKey, err)
		}
		copyWrites.WithLabelValues(r.kind, "create").Inc()
		logger.V(1).Info("Created copy", "copy", copyKey.String())
		cp = desired
	default:
		if merged, changed := r.merge(cp, desired); changed {
			if err := r.workload.Update(ctx, merged); err != nil {
				return reconcile.Result{}, fmt.Errorf("updating copy %s: %w", copyKey, err)
			}
			copyWrites.WithLabelValues(r.kind, "update").Inc()
			logger.V(1).Info("Updated copy", "copy", copyKey.String())
			cp = merged
		}
	}

	written, err := r.writeMeta(ctx, tenant, cp, refused)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !isNil(written) {
		tenant = written
	}
	if r.upStatus != nil {
		if updated, changed := r.upStatus(tenant, cp, origin, refused); changed {
			if err := r.tenant.Status().Patch(ctx, updated, client.MergeFrom(tenant)); err != nil {
				return reconcile.Result{}, fmt.Errorf("writing the status of tenant %s %s: %w", r.kind, req.NamespacedName, err)
			}
			tenantWrites.WithLabelValues(r.kind).Inc()
			written = updated
		}
	}
	if err := r.writeOwned(ctx, req.NamespacedName, tenant, cp); err != nil {
		return reconcile.Result{}, err
	}
	// Refusals are announced when what the tenant object says about them changes, not
	// on every reconcile nor on every write of the tenant object.
	if !isNil(written) {
		msg := translate.RefusalsMessage(refused)
		if r.announcedRefusals.changed(req.NamespacedName, msg) && msg != "" {
			r.recorder.Eventf(tenant, nil, corev1.EventTypeWarning, "Refused", "Copy", "%s", translate.EventNote(msg))
		}
	}
	synced := !isNil(cp)
	if synced && r.synced != nil {
		synced = r.synced(cp)
	}
	r.session.setSynced(r.kind, req.NamespacedName, synced, false)
	return reconcile.Result{}, nil
}

// writeMeta writes upMeta's changes of the tenant object and returns the written
// object, nil when nothing changed. A publish refusal that is new is announced.
func (r *kindSync[T]) writeMeta(ctx context.Context, tenant, cp T, refused []translate.Refusal) (T, error) {
	var zero T
	if r.upMeta == nil {
		return zero, nil
	}
	updated, changed := r.upMeta(tenant, cp, refused)
	if !changed {
		return zero, nil
	}
	patch := client.MergeFrom(tenant)
	if r.lockMeta {
		patch = client.MergeFromWithOptions(tenant, client.MergeFromWithOptimisticLock{})
	}
	if err := r.tenant.Patch(ctx, updated, patch); err != nil {
		return zero, fmt.Errorf("writing back to tenant %s %s/%s: %w", r.kind, tenant.GetNamespace(), tenant.GetName(), err)
	}
	tenantWrites.WithLabelValues(r.kind).Inc()
	if msg := updated.GetAnnotations()[vcdnsv1alpha1.AnnotationPublishRefused]; msg != "" && msg != tenant.GetAnnotations()[vcdnsv1alpha1.AnnotationPublishRefused] {
		r.recorder.Eventf(updated, nil, corev1.EventTypeWarning, "HostnameRefused", "Publish", "%s", translate.EventNote(msg))
	}
	return updated, nil
}

// writeOwned runs upOwned, if set.
func (r *kindSync[T]) writeOwned(ctx context.Context, key types.NamespacedName, tenant, cp T) error {
	if r.upOwned == nil {
		return nil
	}
	return r.upOwned(ctx, key, tenant, cp)
}

func (r *kindSync[T]) delete(ctx context.Context, obj T) error {
	uid := obj.GetUID()
	if err := r.workload.Delete(ctx, obj, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting copy %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	copyWrites.WithLabelValues(r.kind, "delete").Inc()
	return nil
}

// publishRefusedOf returns what the publisher wrote into AnnotationPublishRefused of a
// copy, "" for none or no copy. The tenant object gets it too: a tenant sees why a
// hostname of its object is not published without access to the workload cluster.
func publishRefusedOf[T client.Object](copy T) string {
	if isNil(copy) {
		return ""
	}
	return copy.GetAnnotations()[vcdnsv1alpha1.AnnotationPublishRefused]
}
