package controllers

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/vcdns/vcdns/syncer/remote"
)

// A workload cluster's limiter lives as long as a session uses it.
func TestLimiterDroppedWithItsLastSession(t *testing.T) {
	t.Parallel()
	r := &MCPReconciler{
		limiters: map[string]*remote.FairLimiter{},
		sessions: map[types.NamespacedName]*sessionHandle{},
	}
	a := types.NamespacedName{Namespace: "team", Name: "a"}
	b := types.NamespacedName{Namespace: "team", Name: "b"}
	c := types.NamespacedName{Namespace: "team", Name: "c"}
	w1 := r.limiter("test-drop-w1")
	r.limiter("test-drop-w2")
	r.sessions[a] = &sessionHandle{cluster: "test-drop-w1"}
	r.sessions[b] = &sessionHandle{cluster: "test-drop-w1"}
	r.sessions[c] = &sessionHandle{cluster: "test-drop-w2"}

	delete(r.sessions, a)
	r.dropUnusedLimiterLocked("test-drop-w1")
	if r.limiters["test-drop-w1"] != w1 {
		t.Fatal("limiter of test-drop-w1 dropped while MCP b still uses it")
	}
	delete(r.sessions, b)
	r.dropUnusedLimiterLocked("test-drop-w1")
	if _, ok := r.limiters["test-drop-w1"]; ok {
		t.Fatal("limiter of test-drop-w1 kept after its last session stopped")
	}
	if _, ok := r.limiters["test-drop-w2"]; !ok {
		t.Fatal("limiter of test-drop-w2 dropped, MCP c uses it")
	}
	if r.limiter("test-drop-w1") == w1 {
		t.Fatal("a new session on test-drop-w1 got the forgotten limiter")
	}
}
