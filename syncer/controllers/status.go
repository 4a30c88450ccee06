package controllers

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
)

// patchHelper remembers an object as a reconcile read it and writes, once at the end,
// what the phases changed in its status, as cluster-api's patch helper does.
type patchHelper[T client.Object] struct {
	client client.Client
	before T
}

func newPatchHelper[T client.Object](c client.Client, obj T) *patchHelper[T] {
	return &patchHelper[T]{client: c, before: obj.DeepCopyObject().(T)}
}

// patchStatus writes obj's status, if it changed since newPatchHelper.
func (h *patchHelper[T]) patchStatus(ctx context.Context, obj T) error {
	if apiequality.Semantic.DeepEqual(h.before, obj) {
		return nil
	}
	if err := h.client.Status().Patch(ctx, obj, client.MergeFrom(h.before)); err != nil {
		return fmt.Errorf("updating status: %w", err)
	}
	return nil
}

// ensureFinalizer adds the vcdns finalizer and annotations to obj, with one patch if
// anything is missing, and returns the object as patched.
func ensureFinalizer[T client.Object](ctx context.Context, c client.Client, obj T, annotations map[string]string) (T, error) {
	missing := !controllerutil.ContainsFinalizer(obj, vcdnsv1alpha1.Finalizer)
	for k, v := range annotations {
		missing = missing || obj.GetAnnotations()[k] != v
	}
	if !missing {
		return obj, nil
	}
	patched := obj.DeepCopyObject().(T)
	controllerutil.AddFinalizer(patched, vcdnsv1alpha1.Finalizer)
	for k, v := range annotations {
		a := patched.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[k] = v
		patched.SetAnnotations(a)
	}
	if err := c.Patch(ctx, patched, client.MergeFrom(obj)); err != nil {
		return obj, err
	}
	return patched, nil
}

// removeFinalizer removes the vcdns finalizer from obj.
func removeFinalizer[T client.Object](ctx context.Context, c client.Client, obj T) error {
	patched := obj.DeepCopyObject().(T)
	controllerutil.RemoveFinalizer(patched, vcdnsv1alpha1.Finalizer)
	return c.Patch(ctx, patched, client.MergeFrom(obj))
}

// setCondition sets a True (ok) or False condition in conditions, keeping its last
// transition time when the status does not change.
func setCondition(conditions *[]metav1.Condition, gen int64, typ string, ok bool, reason, msg string) {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conditions, metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen})
}

// kubeconfigUsers maps a kubeconfig Secret to the objects in its namespace that read
// it: the items of the list newList returns whose secretOf is the Secret's name.
func kubeconfigUsers(c client.Reader, newList func() client.ObjectList, secretOf func(runtime.Object) string) handler.MapFunc {
	return func(ctx context.Context, secret client.Object) []ctrl.Request {
		list := newList()
		if err := c.List(ctx, list, client.InNamespace(secret.GetNamespace())); err != nil {
			return nil
		}
		var reqs []ctrl.Request
		_ = meta.EachListItem(list, func(o runtime.Object) error {
			if secretOf(o) == secret.GetName() {
				reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(o.(client.Object))})
			}
			return nil
		})
		return reqs
	}
}
