package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/translate"
)

// conditioned is an API object with conditions in its status.
type conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
}

// skipRemoteCleanup reports whether obj asks to be deleted without the cleanup on
// clusters that do not answer.
func skipRemoteCleanup(obj client.Object) bool {
	return obj.GetAnnotations()[vcdnsv1alpha1.AnnotationSkipRemoteCleanup] == "true"
}

// blockedMessage says what failed and how to delete anyway.
func blockedMessage(what string, err error) string {
	return fmt.Sprintf("%s: %v. The deletion waits until this succeeds; to delete without it, annotate %s=true", what, err, vcdnsv1alpha1.AnnotationSkipRemoteCleanup)
}

// reportDeleting sets the Deleting condition of obj, which is being deleted, to what
// its deletion waits for, and announces a new reason with an Event, a Warning for
// vcdnsv1alpha1.ReasonCleanupFailed. It writes nothing when the condition says so already.
func reportDeleting[T conditioned](ctx context.Context, c client.Client, rec events.EventRecorder, obj T, reason, msg string) error {
	old := meta.FindStatusCondition(obj.GetConditions(), vcdnsv1alpha1.ConditionDeleting)
	if old != nil && old.Status == metav1.ConditionTrue && old.Reason == reason && old.Message == msg {
		return nil
	}
	conditions := slices.Clone(obj.GetConditions())
	setCondition(&conditions, obj.GetGeneration(), vcdnsv1alpha1.ConditionDeleting, true, reason, msg)
	patched := obj.DeepCopyObject().(T)
	patched.SetConditions(conditions)
	if err := c.Status().Patch(ctx, patched, client.MergeFrom(obj)); err != nil {
		return fmt.Errorf("writing the Deleting condition: %w", err)
	}
	if old == nil || old.Reason != reason {
		typ := corev1.EventTypeNormal
		if reason == vcdnsv1alpha1.ReasonCleanupFailed {
			typ = corev1.EventTypeWarning
		}
		rec.Eventf(obj, nil, typ, reason, "Delete", "%s", translate.EventNote(msg))
	}
	return nil
}

// announceSkipped records, with a Warning Event, what a deletion left behind because
// obj asked to skip the cleanup that failed.
func announceSkipped(rec events.EventRecorder, obj client.Object, left []string) {
	if len(left) == 0 {
		return
	}
	rec.Eventf(obj, nil, corev1.EventTypeWarning, vcdnsv1alpha1.ReasonCleanupSkipped, "Delete", "%s", translate.EventNote(fmt.Sprintf(
		"Deleted without removing %s, as the annotation %s asks", strings.Join(left, "; "), vcdnsv1alpha1.AnnotationSkipRemoteCleanup)))
}
