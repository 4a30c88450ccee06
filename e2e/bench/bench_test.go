package bench

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// TestBenchSmoke runs every scenario at the Smoke scale, so that the benchmark does
// not rot: it asserts only that each key gets a number and that the report is written.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a landscape of five clusters")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	base := os.Getenv("VCDNS_E2E_DIR")
	if base != "" {
		if err := os.MkdirAll(base, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := os.MkdirTemp(base, "vcdns-TestBenchSmoke-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("landscape data and logs kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	out := t.TempDir()
	start := time.Now()
	res, err := Run(ctx, Options{Scale: Smoke, Dir: dir, OutDir: out, Logf: t.Logf})
	if err != nil {
		t.Error(err)
	}
	if res == nil {
		t.FailNow()
	}
	t.Logf("every scenario ran in %s", time.Since(start).Round(time.Second))
	for _, k := range Keys {
		if _, ok := res.Figures[k.Name]; !ok {
			t.Errorf("no figure for %s", k.Name)
		}
	}

	if _, ok := res.Details["service_makespan_ratio_ideal"]; !ok {
		t.Error("no detail service_makespan_ratio_ideal")
	}

	cond := StartConditions()
	cond.Finish(res)
	path := filepath.Join(out, "results.json")
	if err := WriteResults(path, res, cond); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys {
		if _, ok := got[k.Name].(float64); !ok {
			t.Errorf("results.json: %s is %v, want a number", k.Name, got[k.Name])
		}
	}
	var table strings.Builder
	if err := WriteTable(&table, res); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", table.String())
	if _, err := WritePlot(out, res); err != nil {
		t.Error(err)
	}
}

func TestScenarioSelection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		selected []string
		want     []string
	}{
		{name: "all by default", selected: nil, want: Scenarios},
		{name: "services", selected: []string{"services"}, want: []string{"makespan", "restart", "rate", "fair"}},
		{name: "the restart brings the makespan", selected: []string{"restart"}, want: []string{"makespan", "restart"}},
		{name: "two on their own", selected: []string{"rate", "dns"}, want: []string{"rate", "dns"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := Options{Scenarios: tc.selected}
			var got []string
			for _, s := range Scenarios {
				if opts.runs(s) {
					got = append(got, s)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("runs %v, want %v", got, tc.want)
			}
		})
	}
	if err := validScenarios([]string{"makespan", "nope"}); err == nil {
		t.Error("an unknown scenario: no error")
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 .. 1, unsorted
	}
	for _, tc := range []struct {
		name   string
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{name: "no values", values: nil, p: 99, want: 0},
		{name: "one value", values: ms(7), p: 99, want: 7 * time.Millisecond},
		{name: "p99 of 1..100 is 99", values: ms(hundred...), p: 99, want: 99 * time.Millisecond},
		{name: "p50 of 1..100 is 50", values: ms(hundred...), p: 50, want: 50 * time.Millisecond},
		{name: "p100 is the maximum", values: ms(3, 9, 1), p: 100, want: 9 * time.Millisecond},
		{name: "p99 of ten is the maximum", values: ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), p: 99, want: 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Percentile(tc.values, tc.p); got != tc.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tc.values, tc.p, got, tc.want)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		values []float64
		want   float64
	}{
		{name: "none", values: nil, want: 0},
		{name: "odd", values: []float64{3, 1, 2}, want: 2},
		{name: "even", values: []float64{4, 1, 3, 2}, want: 2.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Median(tc.values); got != tc.want {
				t.Errorf("Median(%v) = %v, want %v", tc.values, got, tc.want)
			}
		})
	}
}

func TestKeyTargets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		key    string
		value  float64
		met    bool
		target string
	}{
		{name: "ratio under its maximum", key: "service_makespan_ratio", value: 1.1, met: true, target: "<= 1.15"},
		{name: "ratio over its maximum", key: "service_makespan_ratio", value: 1.2, met: false, target: "<= 1.15"},
		{name: "qps ratio at its minimum", key: "dns_qps_ratio", value: 0.97, met: true, target: ">= 0.97"},
		{name: "qps ratio under its minimum", key: "dns_qps_ratio", value: 0.9, met: false, target: ">= 0.97"},
		{name: "one write is too many", key: "restart_writes", value: 1, met: false, target: "<= 0"},
		{name: "reported only", key: "restart_resync_s", value: 1e6, met: true, target: "reported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var k Key
			for _, c := range Keys {
				if c.Name == tc.key {
					k = c
				}
			}
			if k.Name == "" {
				t.Fatalf("no key %s", tc.key)
			}
			if got := k.Met(tc.value); got != tc.met {
				t.Errorf("Met(%v) = %v, want %v", tc.value, got, tc.met)
			}
			if got := k.Target(); got != tc.target {
				t.Errorf("Target() = %q, want %q", got, tc.target)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{
			name: "valid: 150 user and 50 system ticks",
			stat: "1234 (kube-apiserver) S 1 1234 1234 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 12 0 100 0 0",
			want: 2 * time.Second,
		},
		{
			name: "valid: a command name with spaces and parentheses",
			stat: "99 (a (b) c) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 0 0",
			want: 100 * time.Millisecond,
		},
		{name: "invalid: no command name", stat: "99 R 1", wantErr: true},
		{name: "invalid: short", stat: "99 (x) R 1 2 3", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseStatCPU(tc.stat)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error: %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	// user nice system idle iowait irq softirq steal guest guest_nice
	got, err := parseProcStat("cpu  100 20 30 9999 50 5 5 40 7 0\ncpu0 1 2 3 4 5 6 7 8 9 0\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * time.Second; got != want {
		t.Errorf("busy %v, want %v (idle and iowait left out)", got, want)
	}
	if _, err := parseProcStat("intr 1 2 3"); err == nil {
		t.Error("invalid: no error")
	}
}

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	text := `# HELP controller_runtime_reconcile_total Total number of reconciliations per controller
# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="services-mcp-1",result="error"} 2
controller_runtime_reconcile_total{controller="services-mcp-1",result="success"} 1250
controller_runtime_reconcile_total{controller="services-mcp-2",result="success"} 7
workqueue_depth{controller="services-mcp-1",name="services-mcp-1"} 0
go_memstats_heap_inuse_bytes 1.2345e+07
broken line
`
	samples, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		metric string
		match  map[string]string
		want   float64
	}{
		{name: "every result of one controller", metric: "controller_runtime_reconcile_total", match: map[string]string{"controller": "services-mcp-1"}, want: 1252},
		{name: "one result", metric: "controller_runtime_reconcile_total", match: map[string]string{"controller": "services-mcp-1", "result": "success"}, want: 1250},
		{name: "without labels", metric: "go_memstats_heap_inuse_bytes", want: 12345000},
		{name: "by another label", metric: "workqueue_depth", match: map[string]string{"name": "services-mcp-1"}, want: 0},
		{name: "unknown metric", metric: "nothing", want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := sum(samples, tc.metric, tc.match); got != tc.want {
				t.Errorf("sum = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseDNSPerf(t *testing.T) {
	t.Parallel()
	const valid = `Statistics:

  Queries sent:         402938
  Queries completed:    402938 (100.00%)
  Queries lost:         0 (0.00%)

  Response codes:       NOERROR 402938 (100.00%)
  Average packet size:  request 47, response 109
  Run time (s):         10.000433
  Queries per second:   40292.055211
`
	got, err := parseDNSPerf(valid)
	if err != nil {
		t.Fatal(err)
	}
	if want := (dnsperfResult{qps: 40292.055211, lostPercent: 0, noErrorPercent: 100}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseDNSPerf("[Status] Command line: dnsperf\nError: could not open file"); err == nil {
		t.Error("invalid output: no error")
	}
}

func TestUncacheServices(t *testing.T) {
	t.Parallel()
	const rendered = `. {
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        ttl 30
    }
    cache 30 {
        disable denial cluster.local
    }
}
`
	const want = `. {
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        ttl 30
    }
    cache 30 {
        disable denial cluster.local
        disable success cluster.local
    }
}
`
	got, err := uncacheServices(rendered)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := uncacheServices(". {\n    cache 30\n}\n"); err == nil {
		t.Error("a Corefile without 'disable denial': no error")
	}
	if !cachesServices(rendered) {
		t.Error("cachesServices(rendered) = false, want true")
	}
	if cachesServices(want) {
		t.Error("cachesServices(with disable success) = true, want false")
	}
	if cachesServices(". {\n    kubernetes cluster.local\n}\n") {
		t.Error("cachesServices(no cache plugin) = true, want false")
	}
}

func TestAnnotatedService(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{"svc-00000": "10.200.0.1", "svc-00255": "10.200.1.0", "svc-09999": "10.200.39.16"} {
		if got := annotatedService(name).Annotations["transparency.tenancy.x-k8s.io/clusterIP"]; got != want {
			t.Errorf("%s: annotation %q, want %q", name, got, want)
		}
	}
}

func TestMain(m *testing.M) {
	// The landscape's simulated data plane runs controllers in the test process.
	ctrllog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	res := NewResults()
	res.figure("service_makespan_ratio", 3.06)
	res.figure("dns_qps_ratio", 0.992)
	res.detail("service_baseline_foreign_cores", 1.06)
	res.detail("fair_foreign_cores", 0.01)
	var b strings.Builder
	if err := WriteTable(&b, res); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"service_makespan_ratio   3.06",
		"MISSED",
		"dns_qps_ratio            0.992",
		"met",
		"service_p99_ms           -",
		"not measured",
		"used 1.06 cores during service_baseline",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "during fair") {
		t.Errorf("a quiet scenario is flagged as noisy:\n%s", got)
	}
}
