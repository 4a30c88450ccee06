package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
)

// TestCentralEtcdTLS runs the syncer binary against the central etcd, which serves
// clients over TLS and asks them for certificates signed by its CA, as
// config/central-dns runs it. Given the wrong CA, no client certificate or one of
// another CA, the syncer keeps running, says why in its log and in the conditions of
// the Cluster and the GatewayDNS, and writes nothing into etcd. Plain HTTP only with
// --central-etcd-insecure-plaintext, logged as a warning. With its certificate it
// publishes, and the central CoreDNS, reading etcd over TLS, answers.
func TestCentralEtcdTLS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})
	env, err := vcdnsenv.Setup(ctx, l, vcdnsenv.Spec{Workloads: []vcdnsenv.Workload{{Name: "workload-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	workload := mustClient(t, env.Workloads["workload-1"])
	createService(ctx, t, workload, "default", "web", corev1.IPFamilyPolicySingleStack)
	ing := ingress("default", "web", "web.workload-1.openmcp.cluster", "web")
	if err := workload.Create(ctx, ing); err != nil {
		t.Fatal(err)
	}
	ip := waitIngressIP(ctx, t, workload, client.ObjectKeyFromObject(ing))
	gd := createGatewayDNS(ctx, t, env)
	central, err := env.Central.Etcd.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	defer central.Close()
	// Another etcd's CA and client certificate: ones the central etcd never saw.
	other, err := l.StartEtcdWith(ctx, "other-etcd", landscape.EtcdOptions{TLS: true, Clients: []string{vcdnsenv.EtcdClientSyncer}})
	if err != nil {
		t.Fatal(err)
	}
	foreign := other.TLS.Clients[vcdnsenv.EtcdClientSyncer]
	clusterKey := types.NamespacedName{Namespace: vcdnsenv.ClusterNamespace, Name: "workload-1"}
	// wantConditions waits for the Cluster's Published condition and the GatewayDNS's
	// Ready condition to have status and reason, with text in their messages.
	wantConditions := func(t *testing.T, status metav1.ConditionStatus, reason, text string) {
		t.Helper()
		waitFor(ctx, t, fmt.Sprintf("Published %s %s on the Cluster, Ready %s %s on the GatewayDNS", status, reason, status, reason), func(ctx context.Context) error {
			var c vcdnsv1alpha1.Cluster
			if err := env.Client.Get(ctx, clusterKey, &c); err != nil {
				return err
			}
			var g vcdnsv1alpha1.GatewayDNS
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(gd), &g); err != nil {
				return err
			}
			for what, cond := range map[string]*metav1.Condition{
				"Cluster Published": meta.FindStatusCondition(c.Status.Conditions, vcdnsv1alpha1.ConditionPublished),
				"GatewayDNS Ready":  meta.FindStatusCondition(g.Status.Conditions, vcdnsv1alpha1.ConditionReady),
			} {
				if cond == nil || cond.Status != status || cond.Reason != reason || !strings.Contains(cond.Message, text) {
					return fmt.Errorf("%s: %+v", what, cond)
				}
			}
			return nil
		})
	}

	refusals := []struct {
		name   string
		args   []string
		reason string
		text   string
	}{
		{
			name:   "given the wrong CA, the syncer does not trust etcd",
			args:   []string{"--central-etcd-ca-file", foreign.CA},
			reason: vcdnsv1alpha1.ReasonCentralEtcdNotTrusted,
			text:   "its serving certificate is not signed by the CA of --central-etcd-ca-file (" + foreign.CA + ")",
		},
		{
			name:   "without a client certificate, etcd refuses the syncer",
			args:   []string{"--central-etcd-cert-file=", "--central-etcd-key-file="},
			reason: vcdnsv1alpha1.ReasonCentralEtcdRefused,
			text:   "it asks for a client certificate, and the syncer has none: set --central-etcd-cert-file and --central-etcd-key-file",
		},
		{
			name:   "with the client certificate of another CA, etcd refuses the syncer",
			args:   []string{"--central-etcd-cert-file", foreign.Cert, "--central-etcd-key-file", foreign.Key},
			reason: vcdnsv1alpha1.ReasonCentralEtcdRefused,
			text:   "it does not accept the syncer's client certificate --central-etcd-cert-file (" + foreign.Cert + ")",
		},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			log := newLogTail(t, syncerLogPath(env))
			p, err := env.StartSyncer(ctx, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop(10 * time.Second)
			wantConditions(t, metav1.ConditionFalse, tt.reason, tt.text)
			waitFor(ctx, t, "the refusal in the syncer's log", func(context.Context) error {
				return log.contains(`"level":"error"`, "The central etcd refuses the syncer's TLS connection", tt.text)
			})
			if exited, err := p.Exited(); exited {
				t.Fatalf("the syncer exited (%v); it must keep running and say why", err)
			}
			if n := countKeys(ctx, t, central); n != 0 {
				t.Errorf("the central etcd holds %d keys, want none", n)
			}
		})
	}

	plain, err := l.StartEtcd(ctx, "plain-etcd")
	if err != nil {
		t.Fatal(err)
	}
	plainArgs := []string{"--central-etcd-endpoints", plain.Endpoint, "--central-etcd-ca-file=", "--central-etcd-cert-file=", "--central-etcd-key-file="}
	plainClient, err := plain.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	defer plainClient.Close()

	t.Run("plain HTTP without --central-etcd-insecure-plaintext: the syncer does not start", func(t *testing.T) {
		log := newLogTail(t, syncerLogPath(env))
		p, err := env.StartSyncer(ctx, plainArgs...)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop(10 * time.Second)
		waitFor(ctx, t, "the syncer to exit", func(context.Context) error {
			if exited, _ := p.Exited(); !exited {
				return fmt.Errorf("still running")
			}
			return nil
		})
		if err := log.contains("are plain http:// URLs", "set --central-etcd-insecure-plaintext to allow plain HTTP"); err != nil {
			t.Error(err)
		}
		if n := countKeys(ctx, t, plainClient); n != 0 {
			t.Errorf("the plain etcd holds %d keys, want none", n)
		}
	})

	t.Run("plain HTTP with --central-etcd-insecure-plaintext: published, and a warning in the log", func(t *testing.T) {
		log := newLogTail(t, syncerLogPath(env))
		p, err := env.StartSyncer(ctx, append(plainArgs, "--central-etcd-insecure-plaintext")...)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop(10 * time.Second)
		waitFor(ctx, t, "web.workload-1.openmcp.cluster in the plain etcd", func(ctx context.Context) error {
			resp, err := plainClient.Get(ctx, "/skydns/cluster/openmcp/workload-1/web/", clientv3.WithPrefix())
			if err != nil {
				return err
			}
			if len(resp.Kvs) == 0 || !strings.Contains(string(resp.Kvs[0].Value), ip) {
				return fmt.Errorf("records %v", resp.Kvs)
			}
			return nil
		})
		if err := log.contains(`"level":"warn"`, "The central etcd is reached over plain HTTP, as --central-etcd-insecure-plaintext allows"); err != nil {
			t.Error(err)
		}
		if n := countKeys(ctx, t, central); n != 0 {
			t.Errorf("the central etcd holds %d keys, want none", n)
		}
	})

	t.Run("with its client certificate the syncer publishes, and the central CoreDNS answers over TLS", func(t *testing.T) {
		p, err := env.StartSyncer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop(10 * time.Second)
		expectAnswer(ctx, t, env.Central.DNS.Addr, "web.workload-1.openmcp.cluster.", dns.TypeA, ip)
		wantConditions(t, metav1.ConditionTrue, "Published", "")
	})
}

// syncerLogPath is where StartSyncer's syncers log, one after the other.
func syncerLogPath(env *vcdnsenv.Env) string {
	return env.L.Dir() + "/syncer/syncer.log"
}

// logTail reads what a log file got since it was made.
type logTail struct {
	path   string
	offset int64
}

func newLogTail(t *testing.T, path string) *logTail {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return &logTail{path: path}
	}
	if err != nil {
		t.Fatal(err)
	}
	return &logTail{path: path, offset: fi.Size()}
}

// contains returns an error unless a line written since holds every text.
func (l *logTail) contains(texts ...string) error {
	b, err := os.ReadFile(l.path)
	if err != nil {
		return err
	}
	if int64(len(b)) < l.offset {
		return fmt.Errorf("%s shrank", l.path)
	}
lines:
	for _, line := range strings.Split(string(b[l.offset:]), "\n") {
		for _, text := range texts {
			if !strings.Contains(line, text) {
				continue lines
			}
		}
		return nil
	}
	return fmt.Errorf("no line of %s since offset %d holds all of %q", l.path, l.offset, texts)
}

// countKeys counts every key in an etcd.
func countKeys(ctx context.Context, t *testing.T, c *clientv3.Client) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}
