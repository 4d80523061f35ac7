//go:build !windows

package transport

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/sys"
)

// reserve is the process's spare descriptor for libuv's EMFILE trick:
// when accept runs out of descriptors, the spare is closed, the pending
// connections are accepted and closed at once (their clients see the
// connection closed instead of hanging), and the spare is reopened.
//
// It is one descriptor for the whole process, shared by every loop, and
// shedding is serialized by its mutex. With one spare per loop, a loop's
// accept could take the slot another loop had just freed: that loop could
// not reopen its spare, stopped shedding, and spun on EMFILE for good.
// Listening streams count as users; the spare is closed with the last.
var reserve struct {
	mu    sync.Mutex
	fd    int // -1 while not held
	users int
	lost  atomic.Bool // the spare could not be reopened: try again at the next accept
}

func init() { reserve.fd = -1 }

// reserveAcquire counts a listening stream and makes sure the spare is
// held (if a descriptor can be had right now).
func reserveAcquire() {
	reserve.mu.Lock()
	reserve.users++
	if reserve.fd < 0 {
		reserve.fd = openReserve()
		reserve.lost.Store(reserve.fd < 0)
	}
	reserve.mu.Unlock()
}

// reserveRelease uncounts a listening stream; the last one closes the
// spare.
func reserveRelease() {
	reserve.mu.Lock()
	reserve.users--
	if reserve.users <= 0 {
		reserve.users = 0
		if reserve.fd >= 0 {
			sys.Close(reserve.fd)
			reserve.fd = -1
		}
		reserve.lost.Store(false)
	}
	reserve.mu.Unlock()
}

// reserveRestore reopens the spare if an earlier shed could not (another
// thread took the slot): the spare comes back once descriptors free up.
// It costs an atomic load while the spare is held.
func reserveRestore() {
	if !reserve.lost.Load() {
		return
	}
	reserve.mu.Lock()
	if reserve.fd < 0 && reserve.users > 0 {
		reserve.fd = openReserve()
	}
	reserve.lost.Store(reserve.fd < 0 && reserve.users > 0)
	reserve.mu.Unlock()
}

func openReserve() int {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		fd, err = unix.Open("/", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1
		}
	}
	return fd
}

// shedConnections is libuv's uv__emfile_trick on listener lfd. It returns
// EAGAIN when the pending connections were all shed (nothing to report,
// as libuv and Node stay silent then), EMFILE when there is no spare to
// give back, or the accept error that stopped it.
func shedConnections(lfd int) error {
	reserve.mu.Lock()
	defer reserve.mu.Unlock()
	if reserve.fd < 0 {
		if reserve.fd = openReserve(); reserve.fd < 0 {
			reserve.lost.Store(true)
			return unix.EMFILE
		}
	}
	sys.Close(reserve.fd)
	reserve.fd = -1
	var err error
	for i := 0; ; i++ {
		var fd int
		fd, err = sys.Accept(lfd)
		if err != nil {
			break
		}
		sys.Close(fd)
		if i == 1024 {
			err = unix.EAGAIN // enough for one event; the rest next time
			break
		}
	}
	reserve.fd = openReserve()
	reserve.lost.Store(reserve.fd < 0)
	if err == unix.EWOULDBLOCK {
		err = unix.EAGAIN
	}
	return err
}

// emfileBackoff is how long a listener that hit EMFILE with no spare to
// shed stops watching for connections, instead of spinning on a listen
// queue it cannot drain.
const emfileBackoff = 100 * time.Millisecond
