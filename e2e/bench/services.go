package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
)

// workloadName is the one workload cluster every MCP of the benchmark uses.
const workloadName = "workload-1"

// services is the vcdns landscape the Service scenarios share: a platform, one
// workload cluster, Scale.MCPs tenant control planes and the syncer.
type services struct {
	opts Options
	res  *Results
	l    *landscape.Landscape
	env  *vcdnsenv.Env

	mcps     []vcdnsenv.MCP
	tenants  []*kubernetes.Clientset // by MCP index, no client-side rate limit
	workload *kubernetes.Clientset

	metricsURL, pprofURL string
	// idle is the number of cores the landscape uses with nothing to do.
	idle float64
	// rssIdle and heapIdle are the syncer's resident memory and heap in use with every
	// MCP ready and no Service of the benchmark yet.
	rssIdle, heapIdle float64
}

func runServices(ctx context.Context, opts Options, res *Results) error {
	l, err := landscape.New(landscape.Options{Dir: filepath.Join(opts.Dir, "services"), Logf: opts.Logf})
	if err != nil {
		return err
	}
	defer l.Stop()
	s := &services{opts: opts, res: res, l: l}
	if err := s.setup(ctx); err != nil {
		return fmt.Errorf("setting up the landscape (data and logs in %s): %w", l.Dir(), err)
	}
	var errs []error
	for _, step := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"makespan", s.makespan},
		{"restart", s.restart},
		{"rate", s.rate},
		{"fair", s.fair},
	} {
		if !opts.runs(step.name) {
			continue
		}
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		start := time.Now()
		opts.Logf("Scenario %s", step.name)
		if err := step.run(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s (data and logs in %s): %w", step.name, l.Dir(), err))
			opts.Logf("Scenario %s failed: %v", step.name, err)
			continue
		}
		opts.Logf("Scenario %s took %s", step.name, time.Since(start).Round(time.Second))
	}
	return errors.Join(errs...)
}

func (s *services) logf(format string, args ...any) { s.opts.Logf(format, args...) }

func (s *services) setup(ctx context.Context) error {
	sc := s.opts.Scale
	for i := range sc.MCPs {
		s.mcps = append(s.mcps, vcdnsenv.MCP{Namespace: "bench", Name: fmt.Sprintf("mcp-%d", i), Workload: workloadName})
	}
	start := time.Now()
	env, err := vcdnsenv.Setup(ctx, s.l, vcdnsenv.Spec{Workloads: []vcdnsenv.Workload{{Name: workloadName}}, MCPs: s.mcps})
	if err != nil {
		return err
	}
	s.env = env
	s.logf("Landscape of %d clusters up in %s", 2+len(s.mcps), time.Since(start).Round(time.Second))

	metricsPort, err := landscape.FreePort()
	if err != nil {
		return err
	}
	pprofPort, err := landscape.FreePort()
	if err != nil {
		return err
	}
	if pprofPort == metricsPort {
		return errors.New("no second free port")
	}
	s.metricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	s.pprofURL = fmt.Sprintf("http://127.0.0.1:%d/debug/pprof", pprofPort)
	args := append([]string{
		"--metrics-bind-address", "127.0.0.1:" + strconv.Itoa(metricsPort),
		"--pprof-bind-address", "127.0.0.1:" + strconv.Itoa(pprofPort),
		"--probe-interval", sc.ProbeInterval.String(),
	}, s.opts.SyncerArgs...)
	start = time.Now()
	env.SyncerEnv = s.opts.SyncerEnv
	if _, err := env.StartSyncer(ctx, args...); err != nil {
		return err
	}
	for _, m := range s.mcps {
		if err := env.WaitMCPCondition(ctx, m, vcdnsv1alpha1.ConditionReady, metav1.ConditionTrue, 5*time.Minute); err != nil {
			return err
		}
	}
	s.logf("Every MCP ready %s after the syncer started", time.Since(start).Round(100*time.Millisecond))

	for _, m := range s.mcps {
		cs, err := fastClient(env.Tenants[m.Namespace+"/"+m.Name].Config)
		if err != nil {
			return err
		}
		s.tenants = append(s.tenants, cs)
	}
	if s.workload, err = fastClient(env.Workloads[workloadName].Config); err != nil {
		return err
	}

	// What the landscape uses when it has nothing to do, as the mark to settle to
	// between scenarios; then the syncer's memory before the benchmark's Services.
	window := time.Second
	if s.opts.Scale.Settle {
		if _, err := settle(ctx, s.components(), 1, time.Minute); err != nil {
			return err
		}
		window = 5 * time.Second
	}
	before := sampleCPU(s.components())
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(window):
	}
	idle := sampleCPU(s.components()).since(before)
	s.idle = idle.cores()
	s.logf("Idle landscape: %s", idle)
	s.res.detail("landscape_idle_cores", s.idle)
	return s.idleMemory(ctx)
}

// idleMemory takes the syncer's resident memory and heap in use with every MCP ready
// and no Service of the benchmark, the mark that syncer_bytes_per_object counts from.
func (s *services) idleMemory(ctx context.Context) error {
	var err error
	if s.rssIdle, s.heapIdle, err = s.syncerMemory(ctx); err != nil {
		return err
	}
	s.res.detail("syncer_rss_idle_bytes", s.rssIdle)
	return nil
}

// components are the groups of processes whose CPU time is accounted.
func (s *services) components() []component {
	clusterPIDs := func(cs ...*landscape.Cluster) (api, etcd, kcm []int) {
		for _, c := range cs {
			api = append(api, c.APIServer.Pid())
			etcd = append(etcd, c.Etcd.Process.Pid())
			if c.ControllerManager != nil {
				kcm = append(kcm, c.ControllerManager.Pid())
			}
		}
		return api, etcd, kcm
	}
	var tenants []*landscape.Cluster
	for _, m := range s.mcps {
		tenants = append(tenants, s.env.Tenants[m.Namespace+"/"+m.Name])
	}
	workload := s.env.Workloads[workloadName]
	known := func() map[int]bool {
		k := map[int]bool{s.env.Syncer.Pid(): true}
		for _, c := range append([]*landscape.Cluster{s.env.Platform, workload}, tenants...) {
			a, e, m := clusterPIDs(c)
			for _, p := range slices.Concat(a, e, m) {
				k[p] = true
			}
		}
		return k
	}
	pick := func(f func(api, etcd, kcm []int) []int, cs ...*landscape.Cluster) func() []int {
		return func() []int { return f(clusterPIDs(cs...)) }
	}
	apis := func(a, _, _ []int) []int { return a }
	etcds := func(_, e, _ []int) []int { return e }
	kcms := func(_, _, m []int) []int { return m }
	return []component{
		{name: "syncer", pids: func() []int { return []int{s.env.Syncer.Pid()} }},
		{name: "tenant kube-apiservers", pids: pick(apis, tenants...)},
		{name: "tenant etcds", pids: pick(etcds, tenants...)},
		{name: "tenant controller-managers", pids: pick(kcms, tenants...)},
		{name: "workload kube-apiserver", pids: pick(apis, workload)},
		{name: "workload etcd", pids: pick(etcds, workload)},
		{name: "workload controller-manager", pids: pick(kcms, workload)},
		{name: "platform", pids: func() []int { a, e, m := clusterPIDs(s.env.Platform); return slices.Concat(a, e, m) }},
		{name: "other landscape processes", pids: func() []int {
			k := known()
			var out []int
			for _, p := range s.l.Processes() {
				if exited, _ := p.Exited(); !exited && !k[p.Pid()] {
					out = append(out, p.Pid())
				}
			}
			return out
		}},
		{name: "benchmark clients", pids: func() []int { return []int{os.Getpid()} }},
	}
}

// settle waits until the landscape is about as quiet as it is idle (not at the
// Smoke scale, whose figures mean nothing).
func (s *services) settle(ctx context.Context) error {
	if !s.opts.Scale.Settle {
		return nil
	}
	if err := s.endpointSlicesCaughtUp(ctx, 20*time.Minute); err != nil {
		return err
	}
	use, err := settle(ctx, s.components(), 1.2*s.idle+0.1, 3*time.Minute)
	if err != nil {
		return err
	}
	s.logf("Settled at %.2f cores", use.cores())
	return nil
}

// endpointSlicesCaughtUp waits until the workload cluster's controller-manager has an
// EndpointSlice for every Service with a selector. At its default client rate (20
// requests/s) it works off the 10000 copies of the makespan for minutes after the
// syncer is done, little enough CPU to pass as settled, but every create it sends
// makes the next scenario's creates wait in the same API server.
func (s *services) endpointSlicesCaughtUp(ctx context.Context, timeout time.Duration) error {
	start := time.Now()
	var missing int
	err := wait.PollUntilContextTimeout(ctx, 5*time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		svcs, err := s.workload.CoreV1().Services("").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return false, err
		}
		slices, err := s.workload.DiscoveryV1().EndpointSlices("").List(ctx, metav1.ListOptions{ResourceVersion: "0", LabelSelector: discoveryv1.LabelServiceName})
		if err != nil {
			return false, err
		}
		have := map[string]bool{}
		for _, sl := range slices.Items {
			have[sl.Namespace+"/"+sl.Labels[discoveryv1.LabelServiceName]] = true
		}
		missing = 0
		for _, svc := range svcs.Items {
			if len(svc.Spec.Selector) > 0 && !have[svc.Namespace+"/"+svc.Name] {
				missing++
			}
		}
		return missing == 0, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the workload controller-manager's EndpointSlices (%d Services without one): %w", missing, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		s.logf("The workload controller-manager caught up with its EndpointSlices after %s", d.Round(time.Second))
	}
	return nil
}

// syncerMemory is the syncer's resident memory and Go heap in use, in bytes.
func (s *services) syncerMemory(ctx context.Context) (rssBytes, heapBytes float64, err error) {
	r, err := rss(s.env.Syncer.Pid())
	if err != nil {
		return 0, 0, err
	}
	m, err := scrape(ctx, s.metricsURL)
	if err != nil {
		return 0, 0, err
	}
	return float64(r), sum(m, "go_memstats_heap_inuse_bytes", nil), nil
}

// allMCPs are the indexes of every MCP.
func (s *services) allMCPs() []int {
	all := make([]int, len(s.mcps))
	for i := range all {
		all[i] = i
	}
	return all
}

// watchTenants creates namespace ns in the MCPs of the indexes and watches it for
// annotations, until stop is called.
func (s *services) watchTenants(ctx context.Context, ns string, mcps []int) (tls []*timeline, stop func(), err error) {
	ctx, stop = context.WithCancel(ctx)
	for _, i := range mcps {
		if err := ensureNamespace(ctx, s.tenants[i], ns); err != nil {
			stop()
			return nil, nil, err
		}
		tl, err := watchAnnotations(ctx, s.tenants[i], ns)
		if err != nil {
			stop()
			return nil, nil, err
		}
		tls = append(tls, tl)
	}
	return tls, stop, nil
}

// profile takes a CPU profile of the syncer for d in the background, and a goroutine
// dump halfway through, into OutDir; the channel closes when both are written.
func (s *services) profile(ctx context.Context, name string, d time.Duration) <-chan struct{} {
	done := make(chan struct{})
	secs := max(1, int(d.Seconds()))
	var wg sync.WaitGroup
	wg.Go(func() {
		path := filepath.Join(s.opts.OutDir, "syncer-cpu-"+name+".pprof")
		if err := download(ctx, fmt.Sprintf("%s/profile?seconds=%d", s.pprofURL, secs), path, d+time.Minute); err != nil {
			s.logf("CPU profile of the syncer: %v", err)
		}
	})
	wg.Go(func() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(d / 2):
		}
		path := filepath.Join(s.opts.OutDir, "syncer-goroutines-"+name+".txt")
		if err := download(ctx, s.pprofURL+"/goroutine?debug=1", path, time.Minute); err != nil {
			s.logf("Goroutine dump of the syncer: %v", err)
		}
	})
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}

// apiServerProfile is how long an API server's CPU profile runs: the API server ends
// requests after a minute.
const apiServerProfile = 50 * time.Second

// profileAPIServer takes a CPU profile of an API server (client cs) for
// apiServerProfile, after waiting delay, into OutDir as apiserver-cpu-<name>.pprof.
// stop ends the profile early, without writing it (a scenario shorter than the
// profile, as in the smoke run), and waits for it.
func (s *services) profileAPIServer(ctx context.Context, cs *kubernetes.Clientset, name string, delay time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/debug/pprof/profile").
			Param("seconds", strconv.Itoa(int(apiServerProfile.Seconds()))).Timeout(apiServerProfile + 10*time.Second).DoRaw(ctx)
		if err == nil {
			err = os.WriteFile(filepath.Join(s.opts.OutDir, "apiserver-cpu-"+name+".pprof"), body, 0o644)
		}
		if err != nil && ctx.Err() == nil {
			s.logf("CPU profile of the %s API server: %v", name, err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// makespan creates Scale.Services() Services straight on the workload cluster (the
// baseline), deletes them, then has every MCP create its share at once, and compares
// the two times. It also measures the syncer's memory per synced Service.
func (s *services) makespan(ctx context.Context) error {
	sc := s.opts.Scale
	clients := sc.MCPs * sc.ClientsPerMCP

	const baseNS = "bench-baseline"
	if err := ensureNamespace(ctx, s.workload, baseNS); err != nil {
		return err
	}
	if err := s.settle(ctx); err != nil {
		return err
	}
	cpu0 := sampleCPU(s.components())
	start := time.Now()
	// The workload API server's profile of the baseline, to hold against the one of the
	// same Services created by the syncer.
	stopProfile := s.profileAPIServer(ctx, s.workload, "workload-baseline", 0)
	err := createServices(ctx, s.workload, baseNS, serviceNames(sc.Services()), clients, nil)
	stopProfile()
	if err != nil {
		return err
	}
	baseline := time.Since(start)
	use := sampleCPU(s.components()).since(cpu0)
	s.logf("Baseline: %d Services straight on the workload cluster, %d clients: %s; %s", sc.Services(), clients, baseline.Round(time.Millisecond), use)
	s.res.detail("service_baseline_s", baseline.Seconds())
	s.res.cpuDetails("service_baseline", use)
	// The baseline Services go before the vcdns run, so that both start from the same
	// workload cluster: one by one (faster than the namespace controller), then the
	// namespace, which is gone once the garbage collector removed their EndpointSlices.
	start = time.Now()
	if err := deleteServices(ctx, s.workload, baseNS, serviceNames(sc.Services()), clients); err != nil {
		return err
	}
	if err := deleteNamespace(ctx, s.workload, baseNS, 15*time.Minute); err != nil {
		return err
	}
	s.logf("Baseline Services deleted in %s", time.Since(start).Round(time.Second))
	if err := s.ideal(ctx, baseline); err != nil {
		return err
	}

	const ns = "bench-makespan"
	tls, stop, err := s.watchTenants(ctx, ns, s.allMCPs())
	if err != nil {
		return err
	}
	defer stop()
	if err := s.settle(ctx); err != nil {
		return err
	}
	names := serviceNames(sc.ServicesPerMCP)
	profiled := s.profile(ctx, "makespan", min(30*time.Second, max(time.Second, 2*baseline)))
	stopTenantProfile := s.profileAPIServer(ctx, s.tenants[0], "tenant-makespan", 0)
	defer stopTenantProfile()
	// The workload API server does most of its part after the tenants' creates.
	stopWorkloadProfile := s.profileAPIServer(ctx, s.workload, "workload-makespan", baseline)
	defer stopWorkloadProfile()
	stopCPU := recordCPU(s.components(), filepath.Join(s.opts.OutDir, "cpu-makespan.csv"), time.Second)
	defer stopCPU() //nolint:errcheck // stopped and checked below; this one is for early returns
	cpu0 = sampleCPU(s.components())
	start = time.Now()
	errs := make([]error, sc.MCPs)
	var wg sync.WaitGroup
	for i := range sc.MCPs {
		wg.Go(func() {
			errs[i] = createServices(ctx, s.tenants[i], ns, names, sc.ClientsPerMCP, func(n string) { tls[i].create(n) })
		})
	}
	wg.Wait()
	created := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	for _, tl := range tls {
		if err := tl.waitCount(wctx, len(names)); err != nil {
			return err
		}
	}
	use = sampleCPU(s.components()).since(cpu0)
	if err := stopCPU(); err != nil {
		return err
	}
	var last time.Time
	var lat []time.Duration
	for _, tl := range tls {
		if _, l := tl.span(); l.After(last) {
			last = l
		}
		lat = append(lat, tl.latencies()...)
	}
	makespan := last.Sub(start)
	<-profiled
	requests, err := s.syncerRequests(start, last)
	if err != nil {
		return err
	}
	for k, v := range requests.byRole {
		s.res.detail("service_makespan_syncer_writes_"+k, float64(v))
	}
	s.res.detail("service_makespan_syncer_conflicts", float64(requests.conflicts))
	s.logf("Syncer writes during the makespan: %s", requests)
	s.logf("vcdns: %d MCPs x %d Services at once, %d clients each: created in %s, all annotated after %s; %s",
		sc.MCPs, sc.ServicesPerMCP, sc.ClientsPerMCP, created.Round(time.Millisecond), makespan.Round(time.Millisecond), use)
	s.res.figure("service_makespan_ratio", makespan.Seconds()/baseline.Seconds())
	// What the 8 tenant control planes alone need for their own Services (create,
	// EndpointSlices, the annotation write): on the machine's cores, no syncer however
	// fast finishes before that; the baseline has none of it.
	tenantCPU := use.cpu["tenant kube-apiservers"] + use.cpu["tenant etcds"] + use.cpu["tenant controller-managers"]
	floor := tenantCPU.Seconds() / float64(runtime.NumCPU()) / baseline.Seconds()
	s.res.detail("service_makespan_tenant_cpu_s", tenantCPU.Seconds())
	s.res.detail("service_makespan_ratio_floor", floor)
	s.logf("The tenant control planes used %.1f CPU-s: on %d cores the ratio cannot go below %.2f on this machine", tenantCPU.Seconds(), runtime.NumCPU(), floor)
	// All the work of the run (tenants, copies, syncer, clients) on every core without a
	// moment idle: the makespan of a perfect pipeline of this work on this machine.
	workFloor := use.total().Seconds() / float64(runtime.NumCPU()) / baseline.Seconds()
	s.res.detail("service_makespan_cpu_s", use.total().Seconds())
	s.res.detail("service_makespan_ratio_work_floor", workFloor)
	s.logf("The run's processes used %.1f CPU-s: spread over %d cores without a gap the ratio would be %.2f", use.total().Seconds(), runtime.NumCPU(), workFloor)
	s.res.detail("service_makespan_s", makespan.Seconds())
	s.res.detail("service_makespan_tenant_creates_s", created.Seconds())
	s.res.cpuDetails("service_makespan", use)
	s.res.latencyDetails("service_makespan_latency", lat)
	s.res.series(fmt.Sprintf("%d MCPs x %d Services at once: create to annotation", sc.MCPs, sc.ServicesPerMCP), lat)

	// Memory: the syncer now caches every tenant Service and every copy.
	if err := s.settle(ctx); err != nil {
		return err
	}
	rssNow, heapNow, err := s.syncerMemory(ctx)
	if err != nil {
		return err
	}
	n := float64(sc.Services())
	s.res.figure("syncer_bytes_per_object", (rssNow-s.rssIdle)/n)
	s.res.detail("syncer_rss_bytes", rssNow)
	s.res.detail("syncer_heap_inuse_bytes_per_object", (heapNow-s.heapIdle)/n)
	s.logf("Syncer memory: RSS %.0f MiB -> %.0f MiB, heap in use %.0f MiB -> %.0f MiB, for %d Services",
		s.rssIdle/(1<<20), rssNow/(1<<20), s.heapIdle/(1<<20), heapNow/(1<<20), sc.Services())
	if err := download(ctx, s.pprofURL+"/heap", filepath.Join(s.opts.OutDir, "syncer-heap.pprof"), time.Minute); err != nil {
		s.logf("Heap profile of the syncer: %v", err)
	}
	return nil
}

// ideal measures what a syncer that costs nothing and waits for nothing would get on
// this machine: with the syncer stopped, the tenants create their Services (as in the
// makespan) while the baseline's clients create the same number straight on the
// workload cluster, all at once. Whatever a syncer does, the makespan includes this
// work (the workload's creates cannot even start before the tenants'), so the ratio of
// this time to the baseline is a floor of service_makespan_ratio that is measured, not
// computed from CPU-seconds. Everything goes again before the makespan; the syncer is
// restarted and its idle memory taken anew.
func (s *services) ideal(ctx context.Context, baseline time.Duration) error {
	sc := s.opts.Scale
	const ns = "bench-ideal"
	// Who creates what: the baseline's clients on the workload cluster, each tenant
	// its share with the makespan's clients.
	type part struct {
		cs      *kubernetes.Clientset
		names   []string
		clients int
	}
	parts := []part{{s.workload, serviceNames(sc.Services()), sc.MCPs * sc.ClientsPerMCP}}
	for _, cs := range s.tenants {
		parts = append(parts, part{cs, serviceNames(sc.ServicesPerMCP), sc.ClientsPerMCP})
	}
	// each runs f for every part at once and joins their errors.
	each := func(f func(part) error) error {
		errs := make([]error, len(parts))
		var wg sync.WaitGroup
		for i, p := range parts {
			wg.Go(func() { errs[i] = f(p) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}

	s.env.Syncer.Stop(10 * time.Second)
	for _, p := range parts {
		if err := ensureNamespace(ctx, p.cs, ns); err != nil {
			return err
		}
	}
	if err := s.settle(ctx); err != nil {
		return err
	}
	cpu0 := sampleCPU(s.components())
	start := time.Now()
	if err := each(func(p part) error { return createServices(ctx, p.cs, ns, p.names, p.clients, nil) }); err != nil {
		return err
	}
	took := time.Since(start)
	use := sampleCPU(s.components()).since(cpu0)
	s.logf("Ideal syncer: the tenants' %d Services and %d straight on the workload cluster at once: %s, ratio %.2f; %s",
		sc.Services(), sc.Services(), took.Round(time.Millisecond), took.Seconds()/baseline.Seconds(), use)
	s.res.detail("service_makespan_ideal_s", took.Seconds())
	s.res.detail("service_makespan_ratio_ideal", took.Seconds()/baseline.Seconds())
	s.res.cpuDetails("service_makespan_ideal", use)

	start = time.Now()
	err := each(func(p part) error {
		if err := deleteServices(ctx, p.cs, ns, p.names, p.clients); err != nil {
			return err
		}
		return deleteNamespace(ctx, p.cs, ns, 15*time.Minute)
	})
	if err != nil {
		return err
	}
	s.logf("Ideal run's Services deleted in %s", time.Since(start).Round(time.Second))

	want, err := s.tenantServices(ctx)
	if err != nil {
		return err
	}
	if _, err := s.startSyncerAgain(ctx, want); err != nil {
		return err
	}
	if err := s.settle(ctx); err != nil {
		return err
	}
	return s.idleMemory(ctx)
}

// deleteServices deletes the Services names of namespace ns, clients at a time.
func deleteServices(ctx context.Context, cs kubernetes.Interface, ns string, names []string, clients int) error {
	work := make(chan string)
	errs := make([]error, max(1, clients))
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			for name := range work {
				if err := cs.CoreV1().Services(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) && errs[i] == nil {
					errs[i] = fmt.Errorf("deleting Service %s/%s: %w", ns, name, err)
				}
			}
		})
	}
	for _, name := range names {
		work <- name
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}

// deleteNamespace deletes namespace ns and waits until it is gone.
func deleteNamespace(ctx context.Context, cs kubernetes.Interface, ns string, timeout time.Duration) error {
	if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting namespace %s: %w", ns, err)
	}
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		return fmt.Errorf("waiting for namespace %s to be deleted: %w", ns, err)
	}
	return nil
}

// requestCounts are the syncer's mutating requests in a time window, from the API
// servers' audit logs.
type requestCounts struct {
	// byRole counts them by the role of the cluster: platform, workload or tenant.
	byRole map[string]int
	// byKind counts them by "role verb resource code".
	byKind map[string]int
	// conflicts counts the ones answered 409 Conflict.
	conflicts int
}

func (r requestCounts) String() string {
	kinds := slices.Collect(maps.Keys(r.byKind))
	slices.SortFunc(kinds, func(a, b string) int { return r.byKind[b] - r.byKind[a] })
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s: %d", k, r.byKind[k]))
	}
	return strings.Join(parts, ", ")
}

// syncerRequests counts the syncer's mutating requests completed between from and to.
func (s *services) syncerRequests(from, to time.Time) (requestCounts, error) {
	r := requestCounts{byRole: map[string]int{}, byKind: map[string]int{}}
	roles := map[string][]*landscape.Cluster{"platform": {s.env.Platform}}
	for _, c := range s.env.Workloads {
		roles["workload"] = append(roles["workload"], c)
	}
	for _, c := range s.env.Tenants {
		roles["tenant"] = append(roles["tenant"], c)
	}
	for role, cs := range roles {
		for _, c := range cs {
			events, err := c.AuditEvents(vcdnsenv.SyncerUser, from)
			if err != nil {
				return r, err
			}
			for _, e := range events {
				if e.StageTimestamp.After(to) {
					continue
				}
				r.byRole[role]++
				res := e.ObjectRef.Resource
				if e.ObjectRef.Subresource != "" {
					res += "/" + e.ObjectRef.Subresource
				}
				r.byKind[fmt.Sprintf("%s %s %s %d", role, e.Verb, res, e.ResponseStatus.Code)]++
				if e.ResponseStatus.Code == http.StatusConflict {
					r.conflicts++
				}
			}
		}
	}
	return r, nil
}
