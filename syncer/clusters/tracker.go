package clusters

import (
	"context"
	"fmt"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
)

// Role says what a remote cluster is to the syncer; each role has its rate limits and
// clients of its own.
type Role string

const (
	// Tenant is a tenant control plane (an MCP's API server).
	Tenant Role = "tenant"
	// Workload is a registered workload cluster.
	Workload Role = "workload"
)

// clientIdle is how long a cached client of a remote cluster stays unused before it is
// dropped.
const clientIdle = time.Hour

// probeTimeout bounds a probe of a remote API server.
const probeTimeout = 5 * time.Second

// Remote is a remote cluster as the Tracker hands it out: its client configuration,
// the hash of the kubeconfig it came from (a change restarts what uses it), and a
// client built once per role and kubeconfig.
type Remote struct {
	*Kubeconfig
	Client client.Client
}

// Tracker hands out remote clusters by their kubeconfig Secrets, as cluster-api's
// cluster cache tracker does: clients are built once and reused across probes and
// reconciles, with their REST mapper's discovery; a changed kubeconfig gets a new
// client, one unused for an hour is dropped.
type Tracker struct {
	reader client.Reader // of the platform cluster, for the Secrets
	scheme *runtime.Scheme
	limits map[Role]Limits
	// maxInFlight and targetLatency configure each workload cluster's FairLimiter.
	maxInFlight   int
	targetLatency time.Duration
	now           func() time.Time // time.Now; tests set it

	mu       sync.Mutex
	clients  map[string]*trackedClient // by role and kubeconfig hash
	users    map[string]string         // who the syncer is, by kubeconfig hash
	limiters map[string]*sharedLimiter // by workload Cluster name
}

type trackedClient struct {
	client client.Client
	used   time.Time
}

type sharedLimiter struct {
	*FairLimiter
	users int
}

// TrackerOptions configure a Tracker.
type TrackerOptions struct {
	// TenantLimits and WorkloadLimits are the client rate limits of each tenant and of
	// each MCP towards its workload cluster.
	TenantLimits, WorkloadLimits Limits
	// WorkloadMaxInFlight bounds the requests all MCPs of one workload cluster have in
	// flight to it together; free slots go to the MCP with the fewest outstanding.
	WorkloadMaxInFlight int
	// WorkloadTargetLatency makes that bound adapt: it grows while writes take less,
	// shrinks when they take more. Zero keeps it at WorkloadMaxInFlight.
	WorkloadTargetLatency time.Duration
}

// NewTracker returns a Tracker that reads kubeconfig Secrets through reader and builds
// clients with scheme.
func NewTracker(reader client.Reader, scheme *runtime.Scheme, opts TrackerOptions) *Tracker {
	return &Tracker{
		reader:        reader,
		scheme:        scheme,
		limits:        map[Role]Limits{Tenant: opts.TenantLimits, Workload: opts.WorkloadLimits},
		maxInFlight:   opts.WorkloadMaxInFlight,
		targetLatency: opts.WorkloadTargetLatency,
		now:           time.Now,
		clients:       map[string]*trackedClient{},
		users:         map[string]string{},
		limiters:      map[string]*sharedLimiter{},
	}
}

// Get returns the remote cluster whose kubeconfig the Secret ref, in namespace, holds.
func (t *Tracker) Get(ctx context.Context, role Role, namespace string, ref vcdnsv1alpha1.SecretKeyReference) (*Remote, error) {
	kc, err := fromSecret(ctx, t.reader, namespace, ref, t.limits[role])
	if err != nil {
		return nil, err
	}
	c, err := t.client(role, kc)
	if err != nil {
		return nil, err
	}
	return &Remote{Kubeconfig: kc, Client: c}, nil
}

// GetCluster returns the workload cluster c.
func (t *Tracker) GetCluster(ctx context.Context, c *vcdnsv1alpha1.Cluster) (*Remote, error) {
	return t.Get(ctx, Workload, c.Namespace, c.Spec.KubeconfigSecretRef)
}

// GetTenant returns the tenant control plane of mcp.
func (t *Tracker) GetTenant(ctx context.Context, mcp *vcdnsv1alpha1.ManagedControlPlane) (*Remote, error) {
	return t.Get(ctx, Tenant, mcp.Namespace, mcp.Spec.KubeconfigSecretRef)
}

// client returns the client for kc in role, building it on first use.
func (t *Tracker) client(role Role, kc *Kubeconfig) (client.Client, error) {
	key := string(role) + "/" + kc.Hash
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, c := range t.clients {
		if now.Sub(c.used) > clientIdle {
			delete(t.clients, k)
		}
	}
	if c, ok := t.clients[key]; ok {
		c.used = now
		return c.client, nil
	}
	// No network here: the REST mapper discovers lazily, on first use.
	c, err := client.New(kc.Config, client.Options{Scheme: t.scheme})
	if err != nil {
		return nil, err
	}
	t.clients[key] = &trackedClient{client: c, used: now}
	return c, nil
}

// cachedClients reports how many clients are cached.
func (t *Tracker) cachedClients() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.clients)
}

// Probe asks the remote API server's /readyz.
func (t *Tracker) Probe(ctx context.Context, r *Remote) error {
	return Probe(ctx, r.Config, probeTimeout)
}

// WhoAmI is the user name the syncer authenticates as on r. It is asked once per
// kubeconfig.
func (t *Tracker) WhoAmI(ctx context.Context, r *Remote) (string, error) {
	t.mu.Lock()
	user, ok := t.users[r.Hash]
	t.mu.Unlock()
	if ok {
		return user, nil
	}
	cs, err := kubernetes.NewForConfig(r.Config)
	if err != nil {
		return "", err
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("asking %s who the syncer is: %w", r.Config.Host, err)
	}
	user = review.Status.UserInfo.Username
	t.mu.Lock()
	t.users[r.Hash] = user
	t.mu.Unlock()
	return user, nil
}

// AcquireLimiter returns the FairLimiter of the workload Cluster name, shared by the
// MCPs on it, and a release func. Once the last user released it, the limiter and its
// metrics are forgotten: a deleted Cluster leaves nothing behind. A request of a
// stopping session may still hold one of its slots; that ends with the session.
func (t *Tracker) AcquireLimiter(name string) (*FairLimiter, func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.limiters[name]
	if l == nil {
		l = &sharedLimiter{FairLimiter: NewFairLimiter(name, t.maxInFlight, t.targetLatency)}
		t.limiters[name] = l
	}
	l.users++
	var once sync.Once
	return l.FairLimiter, func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			l.users--
			if l.users == 0 && t.limiters[name] == l {
				delete(t.limiters, name)
				l.Forget()
			}
		})
	}
}
