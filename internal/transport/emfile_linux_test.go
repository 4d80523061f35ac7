//go:build linux

package transport

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/poller"
)

// runFor runs l in short RunOnce steps until cond holds or d passes.
func runFor(l *core.Loop, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() && time.Now().Before(deadline) {
		var guard core.TimerEntry
		l.StartTimer(&guard, 5*time.Millisecond, func() {})
		l.Run(core.RunOnce)
		l.StopTimer(&guard)
	}
	return cond()
}

// TestEMFILEWithoutSpareBacksOff: when accept hits EMFILE and no spare
// descriptor can be had to shed with (libuv's uv__emfile_trick returns
// EMFILE then), the error reaches onConnection, as in libuv and Node, and
// the listener stops watching for emfileBackoff instead of spinning on a
// listen queue it cannot drain; once descriptors free up the spare comes
// back and the pending connection is accepted.
func TestEMFILEWithoutSpareBacksOff(t *testing.T) {
	l, err := core.New()
	require.NoError(t, err)
	defer l.Close()

	lis := New(l, TCP)
	require.NoError(t, lis.Bind(netip.MustParseAddr("127.0.0.1"), 0, 0))
	var errs []error
	accepted := 0
	require.NoError(t, lis.Listen(16, func(err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		c := New(l, TCP)
		if lis.Accept(c) == nil {
			accepted++
		}
		c.Close(nil)
	}))
	defer func() {
		lis.Close(nil)
		l.Run(core.RunNoWait)
	}()
	ap, err := lis.SockName()
	require.NoError(t, err)

	// A pending connection, then no spare and no free descriptor.
	cfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(cfd)
	require.NoError(t, unix.Connect(cfd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: [4]byte{127, 0, 0, 1}}))
	reserve.mu.Lock()
	unix.Close(reserve.fd)
	reserve.fd = -1
	reserve.mu.Unlock()
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	fd, err := syscall.Dup(0)
	require.NoError(t, err)
	syscall.Close(fd)
	low := lim
	low.Cur = uint64(fd)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	restored := false
	restore := func() {
		if !restored {
			restored = true
			syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
	}
	defer restore()

	require.True(t, runFor(l, 5*time.Second, func() bool { return len(errs) > 0 }))
	assert.True(t, errors.Is(errs[0], syscall.EMFILE), "%v", errs[0])
	assert.Equal(t, poller.Interest(0), lis.w.Interest()&poller.Read, "the listener backs off")
	// During the back-off nothing spins: no more errors.
	runFor(l, emfileBackoff/2, func() bool { return false })
	assert.Len(t, errs, 1)

	restore()
	require.True(t, runFor(l, 5*time.Second, func() bool { return accepted == 1 }), "the pending connection was not accepted after the back-off")
	reserve.mu.Lock()
	held := reserve.fd >= 0
	reserve.mu.Unlock()
	assert.True(t, held, "the spare came back")
	assert.Len(t, errs, 1)
}
