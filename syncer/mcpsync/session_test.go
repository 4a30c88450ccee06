package mcpsync

import (
	"context"
	"errors"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func newTestSession() *Session {
	return &Session{pending: map[objKey]bool{}, reconciled: map[objKey]bool{}, failing: map[objKey]string{}, synced: map[objKey]bool{}}
}

// TestSessionSynced covers the bookkeeping behind the Synced condition, in particular
// objects reconciled before the session took its list at start.
func TestSessionSynced(t *testing.T) {
	t.Parallel()
	web := types.NamespacedName{Namespace: "default", Name: "web"}
	kubernetes := types.NamespacedName{Namespace: "default", Name: "kubernetes"}
	skipped := reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) { return reconcile.Result{}, nil })
	failing := reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		return reconcile.Result{}, errors.New("workload cluster unreachable")
	})
	tests := []struct {
		name       string
		before     []types.NamespacedName // reconciled before the list at start
		atStart    []types.NamespacedName
		after      []types.NamespacedName // reconciled after it
		failAfter  bool
		wantSynced bool
	}{
		{name: "nothing reconciled yet", atStart: []types.NamespacedName{web}, wantSynced: false},
		{name: "everything reconciled after the list", atStart: []types.NamespacedName{web, kubernetes}, after: []types.NamespacedName{web, kubernetes}, wantSynced: true},
		{name: "a never-copied Service reconciled before the list", before: []types.NamespacedName{kubernetes}, atStart: []types.NamespacedName{web, kubernetes}, after: []types.NamespacedName{web}, wantSynced: true},
		{name: "a failing reconcile", atStart: []types.NamespacedName{web}, after: []types.NamespacedName{web}, failAfter: true, wantSynced: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestSession()
			run := func(r reconcile.Func, keys []types.NamespacedName) {
				for _, k := range keys {
					_, _ = s.track("Service", r).Reconcile(context.Background(), reconcile.Request{NamespacedName: k})
				}
			}
			run(skipped, tc.before)
			keys := make([]objKey, 0, len(tc.atStart))
			for _, k := range tc.atStart {
				keys = append(keys, objKey{kind: "Service", NamespacedName: k})
			}
			s.begin(keys)
			if tc.failAfter {
				run(failing, tc.after)
			} else {
				run(skipped, tc.after)
			}
			if got := s.Status().Synced; got != tc.wantSynced {
				t.Errorf("Synced = %v, want %v (status %+v)", got, tc.wantSynced, s.Status())
			}
		})
	}
}

// A write conflict is not a failure: the object is reconciled again, the session stays
// synced and records no error.
func TestSessionConflictIsRequeued(t *testing.T) {
	t.Parallel()
	web := types.NamespacedName{Namespace: "default", Name: "web"}
	conflicting := reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		err := apierrors.NewConflict(schema.GroupResource{Resource: "services"}, "web", errors.New("the object has been modified"))
		return reconcile.Result{}, fmt.Errorf("writing the clusterIP annotation: %w", err)
	})
	s := newTestSession()
	s.begin([]objKey{{kind: "Service", NamespacedName: web}})
	res, err := s.track("Service", conflicting).Reconcile(context.Background(), reconcile.Request{NamespacedName: web})
	if err != nil {
		t.Fatalf("conflict returned as an error: %v", err)
	}
	if res.RequeueAfter <= 0 {
		t.Fatalf("conflict not requeued: %+v", res)
	}
	if st := s.Status(); !st.Synced || st.Failing != 0 || st.LastError != "" {
		t.Fatalf("status after a conflict: %+v, want synced without a failure", st)
	}
}
