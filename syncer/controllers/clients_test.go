package controllers

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"

	"github.com/vcdns/vcdns/syncer/remote"
)

func TestRemoteClientsReuseByRoleAndHash(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	rc := newRemoteClients(runtime.NewScheme())
	rc.now = func() time.Time { return now }
	kc := func(hash string) *remote.Kubeconfig {
		return &remote.Kubeconfig{Config: &rest.Config{Host: "https://127.0.0.1:6443"}, Hash: hash}
	}
	get := func(role, hash string) any {
		t.Helper()
		c, err := rc.get(role, kc(hash))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	a := get("tenant", "aaaa")
	if get("tenant", "aaaa") != a {
		t.Error("the same role and kubeconfig hash built a second client")
	}
	if get("workload", "aaaa") == a {
		t.Error("another role shares the tenant's client")
	}
	if get("tenant", "bbbb") == a {
		t.Error("a changed kubeconfig kept the old client")
	}
	if n := rc.len(); n != 3 {
		t.Errorf("%d clients cached, want 3", n)
	}

	// Used within the idle time, a client stays; unused longer, it goes.
	now = now.Add(remoteClientIdle - time.Minute)
	if get("tenant", "aaaa") != a {
		t.Error("a client in use was dropped")
	}
	now = now.Add(remoteClientIdle - time.Minute)
	if n := rc.len(); n != 3 {
		t.Errorf("%d clients cached before the next get, want 3", n)
	}
	get("tenant", "aaaa")
	if n := rc.len(); n != 1 {
		t.Errorf("%d clients cached after the others were idle for over %s, want 1", n, remoteClientIdle)
	}
}
