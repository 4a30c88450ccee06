package landscape

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Process is one server the landscape started: its own process group, its output in a
// log file, killed with its group when it is stopped or when the test binary dies.
type Process struct {
	Name    string
	Path    string
	Args    []string
	LogPath string
	// Env holds variables (KEY=value) added to the environment the process inherits.
	Env []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	logf   *os.File
	paused bool
}

// StartProcess starts path with args, writing its output to dir/<name>.log.
func StartProcess(dir, name, path string, args ...string) (*Process, error) {
	return StartProcessEnv(dir, name, path, nil, args...)
}

// StartProcessEnv is StartProcess with env (KEY=value) added to the environment the
// process inherits.
func StartProcessEnv(dir, name, path string, env []string, args ...string) (*Process, error) {
	p := &Process{Name: name, Path: path, Args: args, Env: env, LogPath: filepath.Join(dir, name+".log")}
	if err := p.start(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Process) start() error {
	logf, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening log of %s: %w", p.Name, err)
	}
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if len(p.Env) > 0 {
		cmd.Env = append(os.Environ(), p.Env...)
	}
	// A process group of its own, so that Stop reaches everything it forks; Pdeathsig,
	// so that nothing outlives a test binary that is killed or times out.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done, p.logf, p.err, p.paused = cmd, done, logf, nil, false
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		logf.Close()
		close(done)
	}()
	return nil
}

// Pid is the process id (and process group id) of the running process.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	select {
	case <-done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.err
	default:
		return false, nil
	}
}

// Stop terminates the process group: SIGTERM, and SIGKILL after grace.
func (p *Process) Stop(grace time.Duration) {
	p.mu.Lock()
	cmd, done, paused := p.cmd, p.done, p.paused
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	pgid := cmd.Process.Pid
	if paused {
		_ = syscall.Kill(-pgid, syscall.SIGCONT)
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
	}
	// The group may hold children that outlived the leader.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-done
}

// Restart stops the process and starts it again with the same arguments.
func (p *Process) Restart(grace time.Duration) error {
	p.Stop(grace)
	return p.start()
}

// Pause stops the process group with SIGSTOP; Resume continues it. Used to simulate an
// unresponsive server that keeps its sockets open.
func (p *Process) Pause() error  { return p.signal(syscall.SIGSTOP, true) }
func (p *Process) Resume() error { return p.signal(syscall.SIGCONT, false) }

func (p *Process) signal(sig syscall.Signal, paused bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("signalling %s: %w", p.Name, err)
	}
	p.paused = paused
	return nil
}

// WaitFor polls check every interval until it returns nil, the context ends, or the
// process exits, whichever is first. The error says which, with check's last error.
func (p *Process) WaitFor(ctx context.Context, interval time.Duration, check func(context.Context) error) error {
	var last error
	for {
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("%s exited (%v) before it was ready, see %s", p.Name, err, p.LogPath)
		}
		if last = check(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("%s not ready, see %s: %w", p.Name, p.LogPath, ctx.Err()), last)
		case <-time.After(interval):
		}
	}
}
