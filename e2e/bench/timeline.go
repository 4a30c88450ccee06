package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/vcdns/vcdns/syncer/naming"
)

// timeline records, for the Services of one namespace of one cluster, when each create
// was sent and when a watch first showed the Service with its clusterIP annotation.
type timeline struct {
	mu        sync.Mutex
	created   map[string]time.Time
	annotated map[string]time.Time
	changed   chan struct{} // closed and replaced whenever annotated grows
}

func newTimeline() *timeline {
	return &timeline{created: map[string]time.Time{}, annotated: map[string]time.Time{}, changed: make(chan struct{})}
}

// create records that the create of name is sent now, and returns now.
func (t *timeline) create(name string) time.Time {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.created[name] = now
	return now
}

func (t *timeline) observe(svc *corev1.Service) {
	if svc.Annotations[naming.ClusterIPAnnotation] == "" {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, seen := t.annotated[svc.Name]; seen {
		return
	}
	t.annotated[svc.Name] = now
	close(t.changed)
	t.changed = make(chan struct{})
}

// wait blocks until done, called with the timeline locked, is true.
func (t *timeline) wait(ctx context.Context, what string, done func() bool) error {
	for {
		t.mu.Lock()
		ok, ch := done(), t.changed
		t.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			t.mu.Lock()
			n := len(t.annotated)
			t.mu.Unlock()
			return fmt.Errorf("waiting for %s (%d annotated): %w", what, n, ctx.Err())
		case <-ch:
		}
	}
}

// waitCount waits until n Services are annotated.
func (t *timeline) waitCount(ctx context.Context, n int) error {
	return t.wait(ctx, fmt.Sprintf("%d annotated Services", n), func() bool { return len(t.annotated) >= n })
}

// waitName waits until the Service name is annotated.
func (t *timeline) waitName(ctx context.Context, name string) error {
	return t.wait(ctx, "the annotation of "+name, func() bool { _, ok := t.annotated[name]; return ok })
}

// latencies are the create-to-annotation times of the Services created and annotated.
func (t *timeline) latencies() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]time.Duration, 0, len(t.created))
	for name, c := range t.created {
		if a, ok := t.annotated[name]; ok {
			out = append(out, a.Sub(c))
		}
	}
	return out
}

// span is the time from the first create to the last annotation.
func (t *timeline) span() (first, last time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.created {
		if first.IsZero() || c.Before(first) {
			first = c
		}
	}
	for _, a := range t.annotated {
		if a.After(last) {
			last = a
		}
	}
	return first, last
}

// watchAnnotations records into a new timeline every Service of namespace ns that
// shows the annotation, until ctx ends. It returns once the watch is established.
func watchAnnotations(ctx context.Context, cs kubernetes.Interface, ns string) (*timeline, error) {
	t := newTimeline()
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	inf := f.Core().V1().Services().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { observeObject(t, obj) },
		UpdateFunc: func(_, obj any) { observeObject(t, obj) },
	}); err != nil {
		return nil, err
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil, fmt.Errorf("watching Services of namespace %s: %w", ns, ctx.Err())
	}
	return t, nil
}

func observeObject(t *timeline, obj any) {
	if svc, ok := obj.(*corev1.Service); ok {
		t.observe(svc)
	}
}

// fastClient is a clientset without client-side rate limit, for load generation.
func fastClient(cfg *rest.Config) (*kubernetes.Clientset, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0 // no rate limiter
	cfg.Timeout = time.Minute
	return kubernetes.NewForConfig(cfg)
}

// benchService is the Service the scenarios create: a ClusterIP Service with a
// selector and one port, single stack.
func benchService(name string) *corev1.Service {
	policy := corev1.IPFamilyPolicySingleStack
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			IPFamilyPolicy: &policy,
			Selector:       map[string]string{"app": name},
			Ports:          []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
}

func serviceNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("svc-%05d", i)
	}
	return names
}

// createServices creates one benchService per name in namespace ns, clients at a
// time, calling sent (if not nil) right before each create. It stops at the first
// error.
func createServices(ctx context.Context, cs kubernetes.Interface, ns string, names []string, clients int, sent func(name string)) error {
	return createObjects(ctx, cs, ns, names, clients, benchService, sent)
}

// createObjects is createServices with the Services built by build.
func createObjects(ctx context.Context, cs kubernetes.Interface, ns string, names []string, clients int, build func(name string) *corev1.Service, sent func(name string)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan string)
	var wg sync.WaitGroup
	for range max(1, clients) {
		wg.Go(func() {
			for name := range work {
				if sent != nil {
					sent(name)
				}
				if _, err := cs.CoreV1().Services(ns).Create(ctx, build(name), metav1.CreateOptions{}); err != nil {
					cancel(fmt.Errorf("creating Service %s/%s: %w", ns, name, err))
				}
			}
		})
	}
feed:
	for _, name := range names {
		select {
		case work <- name:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}

// ensureNamespace creates namespace ns unless it exists.
func ensureNamespace(ctx context.Context, cs kubernetes.Interface, ns string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	return nil
}
