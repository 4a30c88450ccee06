package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vcdns/vcdns/e2e/landscape"
)

// Conditions describe the machine and the versions a run ran with.
type Conditions struct {
	CPUs             int               `json:"cpus"`
	LoadAverageStart [3]float64        `json:"load_average_start"`
	LoadAverageEnd   [3]float64        `json:"load_average_end"`
	GoVersion        string            `json:"go_version"`
	Versions         map[string]string `json:"versions"`
	Date             string            `json:"date"`
	DurationS        float64           `json:"duration_s"`
	Commit           string            `json:"commit,omitempty"`
	// Run holds what the run itself recorded (Results.Conditions).
	Run map[string]any `json:"run,omitempty"`
}

// StartConditions records the conditions at the start of a run.
func StartConditions() Conditions {
	c := Conditions{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Date: time.Now().UTC().Format(time.RFC3339)}
	c.LoadAverageStart, _ = loadAverage()
	if root, err := landscape.RepoRoot(); err == nil {
		c.Versions, _ = readVersions(filepath.Join(root, "hack", "versions.env"))
		if out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
			c.Commit = strings.TrimSpace(string(out))
		}
	}
	return c
}

// Finish records the load at the end of a run and its duration.
func (c *Conditions) Finish(res *Results) {
	c.LoadAverageEnd, _ = loadAverage()
	if start, err := time.Parse(time.RFC3339, c.Date); err == nil {
		c.DurationS = time.Since(start).Round(time.Second).Seconds()
	}
	res.mu.Lock()
	c.Run = maps.Clone(res.Conditions)
	res.mu.Unlock()
}

func loadAverage() ([3]float64, error) {
	var la [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return la, err
	}
	f := strings.Fields(string(b))
	for i := range min(3, len(f)) {
		la[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return la, nil
}

// readVersions reads the KEY=value lines of hack/versions.env.
func readVersions(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	versions := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			versions[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return versions, s.Err()
}

// WriteResults writes results.json: one number per key of Keys (missing when its
// scenario failed), the supporting figures under "details" and the conditions under
// "conditions".
func WriteResults(path string, res *Results, cond Conditions) error {
	res.mu.Lock()
	out := map[string]any{"details": maps.Clone(res.Details), "conditions": cond}
	for k, v := range res.Figures {
		out[k] = v
	}
	res.mu.Unlock()
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// noisyCores is how many cores other processes of the machine may take during a
// scenario before its figures are flagged as not comparable.
const noisyCores = 0.2

// WriteTable prints the figures with their targets, and the scenarios during which
// other processes of the machine took more than noisyCores.
func WriteTable(w io.Writer, res *Results) error {
	res.mu.Lock()
	defer res.mu.Unlock()
	defer func() {
		if v, ok := res.Details["service_makespan_ratio_ideal"]; ok {
			fmt.Fprintf(w, "service_makespan_ratio of a syncer that costs nothing, measured on this machine: %s (tenants' and workload's creates at once).\n", formatFigure(v))
		}
		for _, k := range slices.Sorted(maps.Keys(res.Details)) {
			if scenario, ok := strings.CutSuffix(k, "_foreign_cores"); ok && res.Details[k] > noisyCores {
				fmt.Fprintf(w, "Noisy: other processes of the machine used %.2f cores during %s; its figures are not comparable.\n", res.Details[k], scenario)
			}
		}
	}()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tTARGET\t")
	for _, k := range Keys {
		v, ok := res.Figures[k.Name]
		switch {
		case !ok:
			fmt.Fprintf(tw, "%s\t-\t%s\tnot measured\n", k.Name, k.Target())
		case k.Met(v):
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Name, formatFigure(v), k.Target(), map[bool]string{true: "met", false: ""}[k.Max != nil || k.Min != nil])
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\tMISSED\n", k.Name, formatFigure(v), k.Target())
		}
	}
	return tw.Flush()
}

// formatFigure prints v with three significant digits, and integers as integers.
func formatFigure(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// WritePlot writes the latencies as cumulative distributions into dir
// (latency-<n>.dat, latency-cdf.gp) and renders latency-cdf.png with gnuplot. It
// returns the path of the image, or "" if gnuplot is not installed.
func WritePlot(dir string, res *Results) (string, error) {
	res.mu.Lock()
	series := slices.Clone(res.Latencies)
	res.mu.Unlock()
	var plots []string
	for i, s := range series {
		if len(s.Values) == 0 {
			continue
		}
		name := fmt.Sprintf("latency-%d.dat", i)
		if err := os.WriteFile(filepath.Join(dir, name), cdf(s.Values), 0o644); err != nil {
			return "", err
		}
		plots = append(plots, fmt.Sprintf("%q using 1:2 with steps lw 2 title %q noenhanced", name, fmt.Sprintf("%s (n=%d)", s.Name, len(s.Values))))
	}
	if len(plots) == 0 {
		return "", nil
	}
	script := fmt.Sprintf(`set terminal pngcairo size 1200,800
set output "latency-cdf.png"
set title "vcdns propagation and publication latency (CDF)"
set xlabel "latency (ms, log scale)"
set ylabel "fraction of objects"
set logscale x
set grid
set key outside below left Left reverse
set yrange [0:1.02]
plot %s
`, strings.Join(plots, ", \\\n     "))
	if err := os.WriteFile(filepath.Join(dir, "latency-cdf.gp"), []byte(script), 0o644); err != nil {
		return "", err
	}
	gnuplot, err := exec.LookPath("gnuplot")
	if err != nil {
		return "", nil
	}
	cmd := exec.Command(gnuplot, "latency-cdf.gp")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("gnuplot: %w: %s", err, out)
	}
	return filepath.Join(dir, "latency-cdf.png"), nil
}

// cdf renders "milliseconds fraction" lines of the sorted values, one per value.
func cdf(values []time.Duration) []byte {
	s := slices.Clone(values)
	slices.Sort(s)
	var b strings.Builder
	for i, v := range s {
		// A latency of zero cannot be drawn on a log scale.
		fmt.Fprintf(&b, "%.3f %.5f\n", max(ms(v), 0.001), float64(i+1)/float64(len(s)))
	}
	return []byte(b.String())
}
