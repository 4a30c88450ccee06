package bench

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on Linux).
const clockTicks = 100

// cpuTime is the CPU time (user and system) pid has used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime from the text of /proc/<pid>/stat. The command
// name in parentheses may hold spaces, so fields are counted after the last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// After the name: state(3) ... utime(14) stime(15), counted from 1 with pid.
	if len(f) < 13 {
		return 0, fmt.Errorf("short stat line %q", stat)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat field %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// rss is the resident set size of pid in bytes.
func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS of %d: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	if err := s.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

// component is a named set of processes whose CPU time is accounted together.
type component struct {
	name string
	pids func() []int
}

// machineCPU is the CPU time the whole machine has been busy (every state of the
// first line of /proc/stat but idle and iowait).
func machineCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStat(string(b))
}

func parseProcStat(stat string) (time.Duration, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	var ticks int64
	// user nice system idle iowait irq softirq steal [guest guest_nice, within user]
	for i, s := range f[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat field %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// cpuSample is the CPU time each component has used up to a moment, and the whole
// machine's.
type cpuSample struct {
	at      time.Time
	cpu     map[string]time.Duration
	machine time.Duration
}

// sampleCPU reads the CPU time of every component. Processes that exited are skipped.
func sampleCPU(components []component) cpuSample {
	s := cpuSample{at: time.Now(), cpu: map[string]time.Duration{}}
	for _, c := range components {
		for _, pid := range c.pids() {
			if d, err := cpuTime(pid); err == nil {
				s.cpu[c.name] += d
			}
		}
	}
	s.machine, _ = machineCPU()
	return s
}

// cpuUse is what every component, and the machine, used between two samples.
type cpuUse struct {
	wall    time.Duration
	cpu     map[string]time.Duration
	machine time.Duration
}

func (s cpuSample) since(earlier cpuSample) cpuUse {
	u := cpuUse{wall: s.at.Sub(earlier.at), cpu: map[string]time.Duration{}, machine: s.machine - earlier.machine}
	for k, v := range s.cpu {
		u.cpu[k] = v - earlier.cpu[k]
	}
	return u
}

// foreignCores is the mean number of cores the machine spent on processes that are
// not among the components: other users of a shared machine.
func (u cpuUse) foreignCores() float64 {
	if u.wall <= 0 {
		return 0
	}
	return max(0, (u.machine-u.total()).Seconds()/u.wall.Seconds())
}

func (u cpuUse) total() time.Duration {
	var t time.Duration
	for _, v := range u.cpu {
		t += v
	}
	return t
}

// cores is the mean number of cores in use.
func (u cpuUse) cores() float64 {
	if u.wall <= 0 {
		return 0
	}
	return u.total().Seconds() / u.wall.Seconds()
}

// String lists the components by CPU time, largest first.
func (u cpuUse) String() string {
	names := slices.Collect(maps.Keys(u.cpu))
	slices.SortFunc(names, func(a, b string) int { return int(u.cpu[b] - u.cpu[a]) })
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.1fs", n, u.cpu[n].Seconds()))
	}
	return fmt.Sprintf("%.1f CPU-s in %.1fs (%.2f cores; %.2f cores used by other processes of the machine): %s",
		u.total().Seconds(), u.wall.Seconds(), u.cores(), u.foreignCores(), strings.Join(parts, ", "))
}

// recordCPU samples the components every interval until stop is called, and writes
// what each used, in cores, as CSV to path: seconds since the start, one column per
// component, and the cores other processes of the machine used. stop may be called
// more than once; the file is written the first time.
func recordCPU(components []component, path string, interval time.Duration) (stop func() error) {
	done := make(chan struct{})
	result := make(chan error, 1)
	go func() {
		names := make([]string, len(components))
		for i, c := range components {
			names[i] = c.name
		}
		var b strings.Builder
		b.WriteString("seconds," + strings.Join(names, ",") + ",other processes of the machine\n")
		start := sampleCPU(components)
		prev := start
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				result <- os.WriteFile(path, []byte(b.String()), 0o644)
				return
			case <-t.C:
			}
			now := sampleCPU(components)
			u := now.since(prev)
			fmt.Fprintf(&b, "%.1f", now.at.Sub(start.at).Seconds())
			for _, n := range names {
				fmt.Fprintf(&b, ",%.2f", u.cpu[n].Seconds()/u.wall.Seconds())
			}
			fmt.Fprintf(&b, ",%.2f\n", u.foreignCores())
			prev = now
		}
	}()
	return sync.OnceValue(func() error {
		close(done)
		return <-result
	})
}

// settle waits until the components together use at most limit cores over a window
// of two seconds, or until timeout; it returns the last use it measured.
func settle(ctx context.Context, components []component, limit float64, timeout time.Duration) (cpuUse, error) {
	deadline := time.Now().Add(timeout)
	prev := sampleCPU(components)
	for {
		select {
		case <-ctx.Done():
			return cpuUse{}, ctx.Err()
		case <-time.After(2 * time.Second):
		}
		now := sampleCPU(components)
		use := now.since(prev)
		if use.cores() <= limit || time.Now().After(deadline) {
			return use, nil
		}
		prev = now
	}
}
