package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
)

// restart stops the syncer once everything is synced and settled, starts it again,
// and measures how long the new sessions take to reconcile every tenant object and
// what the restarted syncer writes.
func (s *services) restart(ctx context.Context) error {
	for _, m := range s.mcps {
		if err := s.env.WaitMCPCondition(ctx, m, vcdnsv1alpha1.ConditionSynced, metav1.ConditionTrue, 10*time.Minute); err != nil {
			return err
		}
	}
	// The status settles (counts refresh with the probe) before the restart, so that
	// the restarted syncer really has nothing to change.
	for _, m := range s.mcps {
		if err := s.waitStatusStable(ctx, m, 3*time.Second); err != nil {
			return err
		}
	}
	want, err := s.tenantServices(ctx)
	if err != nil {
		return err
	}
	if err := s.settle(ctx); err != nil {
		return err
	}

	s.env.Syncer.Stop(10 * time.Second)
	restarted := time.Now()
	resync, err := s.startSyncerAgain(ctx, want)
	if err != nil {
		return err
	}
	s.res.figure("restart_resync_s", resync.Seconds())
	s.logf("Restarted syncer reconciled every object again after %s", resync.Round(100*time.Millisecond))
	for _, m := range s.mcps {
		if err := s.env.WaitMCPCondition(ctx, m, vcdnsv1alpha1.ConditionReady, metav1.ConditionTrue, 5*time.Minute); err != nil {
			return err
		}
	}

	// Three probe intervals after the catch-up every periodic reconcile has run at
	// least twice; then the audit logs tell what the syncer wrote.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(restarted.Add(resync + 3*s.opts.Scale.ProbeInterval))):
	}
	writes, err := syncerWrites(s.clusters(), restarted)
	if err != nil {
		return err
	}
	s.res.figure("restart_writes", float64(len(writes)))
	if len(writes) > 0 {
		sample := writes[:min(len(writes), 20)]
		s.res.condition("restart_writes_sample", sample)
		s.logf("The restarted syncer wrote %d times with nothing to change, e.g.:\n  %s", len(writes), strings.Join(sample, "\n  "))
	}
	return nil
}

func (s *services) clusters() []*landscape.Cluster {
	cs := []*landscape.Cluster{s.env.Platform}
	for _, c := range s.env.Workloads {
		cs = append(cs, c)
	}
	for _, c := range s.env.Tenants {
		cs = append(cs, c)
	}
	return cs
}

// syncerWrites lists the syncer's mutating requests since since, leaving out what
// e2e/syncer_test.go leaves out: leader election (its Lease and the leader Event) and
// SelfSubjectReviews (a create in form; nothing is stored).
func syncerWrites(clusters []*landscape.Cluster, since time.Time) ([]string, error) {
	var writes []string
	for _, c := range clusters {
		events, err := c.AuditEvents(vcdnsenv.SyncerUser, since)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			switch {
			case e.ObjectRef.Resource == "leases",
				e.ObjectRef.Resource == "events" && strings.HasPrefix(e.ObjectRef.Name, "vcdns-syncer."),
				e.ObjectRef.Resource == "selfsubjectreviews":
				continue
			}
			writes = append(writes, c.Name+": "+e.String())
		}
	}
	return writes, nil
}

// tenantServices is how many Services each MCP's tenant has, by the name of the MCP's
// Services controller (services-<MCP namespace>): a new session reconciles every
// tenant object once (it lists Services of every namespace) before it counts as
// synced.
func (s *services) tenantServices(ctx context.Context) (map[string]int, error) {
	want := map[string]int{}
	for i, m := range s.mcps {
		list, err := s.tenants[i].CoreV1().Services("").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return nil, err
		}
		want["services-"+vcdnsenv.MCPNamespace(m)] = len(list.Items)
	}
	return want, nil
}

// startSyncerAgain starts the stopped syncer with the same arguments and waits until
// it has reconciled every tenant Service again (want, from tenantServices); it returns
// how long that took.
func (s *services) startSyncerAgain(ctx context.Context, want map[string]int) (time.Duration, error) {
	started := time.Now()
	if err := s.env.Syncer.Restart(0); err != nil {
		return 0, err
	}
	return s.waitResynced(ctx, want, started)
}

// waitResynced polls the syncer's metrics until the Services controller of every MCP
// has run at least as many reconciles as its tenant has Services, with an empty queue
// and no reconcile running, and returns the time since start. The MCP's Synced
// condition cannot tell: a restarted syncer keeps it as it was while it catches up.
func (s *services) waitResynced(ctx context.Context, want map[string]int, start time.Time) (time.Duration, error) {
	var last string
	var done time.Duration
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 15*time.Minute, true, func(ctx context.Context) (bool, error) {
		m, err := scrape(ctx, s.metricsURL)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		for c, n := range want {
			reconciled := sum(m, "controller_runtime_reconcile_total", map[string]string{"controller": c})
			depth := sum(m, "workqueue_depth", map[string]string{"name": c})
			active := sum(m, "controller_runtime_active_workers", map[string]string{"controller": c})
			if reconciled < float64(n) || depth > 0 || active > 0 {
				last = fmt.Sprintf("%s: %.0f of %d reconciled, queue %.0f, active %.0f", c, reconciled, n, depth, active)
				return false, nil
			}
		}
		done = time.Since(start)
		return true, nil
	})
	if err != nil {
		return 0, fmt.Errorf("waiting for the restarted syncer to catch up (last: %s): %w", last, err)
	}
	return done, nil
}

// waitStatusStable waits until the MCP's resourceVersion stays the same for quiet.
func (s *services) waitStatusStable(ctx context.Context, m vcdnsenv.MCP, quiet time.Duration) error {
	var rv string
	var since time.Time
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var mcp vcdnsv1alpha1.ManagedControlPlane
		if err := s.env.Client.Get(ctx, types.NamespacedName{Namespace: m.Namespace, Name: m.Name}, &mcp); err != nil {
			return false, nil //nolint:nilerr // polled until the deadline
		}
		if mcp.ResourceVersion != rv {
			rv, since = mcp.ResourceVersion, time.Now()
		}
		return time.Since(since) >= quiet, nil
	})
}
