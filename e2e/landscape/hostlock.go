package landscape

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// hostLockPath is a lock every landscape with nodes holds shared while its nodes
// exist, and a leak check holds exclusive (ExclusiveHost) between its two looks at the
// host, so that the nodes of another test binary running at the same time (go test
// runs packages in parallel) never count as leftovers.
const hostLockPath = "/run/vcdns.lock"

// hostLock is this process's hold on hostLockPath.
var hostLock struct {
	mu        sync.Mutex
	f         *os.File
	shared    int  // landscapes of this process holding it shared
	exclusive bool // held exclusive by ExclusiveHost: this process's nodes need no more
}

// lockHostFile opens and flocks hostLockPath, retrying when the file it locked was
// removed meanwhile by the last holder (see unlockHostFile).
func lockHostFile(how int) (*os.File, error) {
	for {
		f, err := os.OpenFile(hostLockPath, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), how); err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", hostLockPath, err)
		}
		var held, now syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &held) == nil && syscall.Stat(hostLockPath, &now) == nil && held.Ino == now.Ino {
			return f, nil
		}
		f.Close()
	}
}

// unlockHostFile lets go of the lock, and removes the file when nobody else holds it,
// so that nothing of the landscape stays on the host.
func unlockHostFile(f *os.File) {
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		_ = os.Remove(hostLockPath)
	}
	f.Close()
}

// shareHost takes the host lock shared for a landscape that starts its first node; it
// waits while a leak check of another process runs.
func shareHost() error {
	hostLock.mu.Lock()
	defer hostLock.mu.Unlock()
	if hostLock.exclusive || hostLock.shared > 0 {
		hostLock.shared++
		return nil
	}
	f, err := lockHostFile(syscall.LOCK_SH)
	if err != nil {
		return err
	}
	hostLock.f, hostLock.shared = f, 1
	return nil
}

// unshareHost gives back what shareHost took.
func unshareHost() {
	hostLock.mu.Lock()
	defer hostLock.mu.Unlock()
	hostLock.shared--
	if hostLock.shared == 0 && !hostLock.exclusive {
		unlockHostFile(hostLock.f)
		hostLock.f = nil
	}
}

// ExclusiveHost waits until no landscape of another process has nodes, and keeps it
// so until release is called: a test that compares the host before and after its own
// landscape (HostState, Leftovers) holds it over both looks. Landscapes of this
// process may start nodes meanwhile. It must not be called while this process has
// nodes.
func ExclusiveHost() (release func(), err error) {
	hostLock.mu.Lock()
	defer hostLock.mu.Unlock()
	if hostLock.shared > 0 || hostLock.exclusive {
		return nil, fmt.Errorf("ExclusiveHost: this process already has nodes or holds the host")
	}
	f, err := lockHostFile(syscall.LOCK_EX)
	if err != nil {
		return nil, err
	}
	hostLock.f, hostLock.exclusive = f, true
	return func() {
		hostLock.mu.Lock()
		defer hostLock.mu.Unlock()
		hostLock.exclusive = false
		if hostLock.shared == 0 {
			unlockHostFile(hostLock.f)
			hostLock.f = nil
		}
	}, nil
}
