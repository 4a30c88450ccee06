package controllers

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vcdns/vcdns/syncer/remote"
)

// remoteClientIdle is how long a cached client of a remote cluster stays unused before
// it is dropped.
const remoteClientIdle = time.Hour

// remoteClients caches clients of remote clusters by their role (tenant, workload) and
// the hash of their kubeconfig. Probes and cleanups reuse a client and what its REST
// mapper discovered, instead of building both again every probe interval; a changed
// kubeconfig gets a new client, and one unused for remoteClientIdle is dropped.
type remoteClients struct {
	scheme *runtime.Scheme
	now    func() time.Time // time.Now; tests set it

	mu      sync.Mutex
	clients map[string]*remoteClient
}

type remoteClient struct {
	client client.Client
	used   time.Time
}

func newRemoteClients(scheme *runtime.Scheme) *remoteClients {
	return &remoteClients{scheme: scheme, now: time.Now, clients: map[string]*remoteClient{}}
}

// get returns the client for kc in role, building it on first use.
func (rc *remoteClients) get(role string, kc *remote.Kubeconfig) (client.Client, error) {
	key := role + "/" + kc.Hash
	now := rc.now()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for k, c := range rc.clients {
		if now.Sub(c.used) > remoteClientIdle {
			delete(rc.clients, k)
		}
	}
	if c, ok := rc.clients[key]; ok {
		c.used = now
		return c.client, nil
	}
	// No network here: the REST mapper discovers lazily, on first use.
	c, err := client.New(kc.Config, client.Options{Scheme: rc.scheme})
	if err != nil {
		return nil, err
	}
	rc.clients[key] = &remoteClient{client: c, used: now}
	return c, nil
}

// len reports how many clients are cached.
func (rc *remoteClients) len() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.clients)
}
