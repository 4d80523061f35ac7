//go:build linux

package transport

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/pollx"
	"github.com/netloop/netloop/poller"
)

// acceptLoop returns a loop on the io_uring backend with accept mode (see
// uringLoopWith).
func acceptLoop(t *testing.T) *core.Loop {
	t.Helper()
	return uringLoopWith(t, "accept mode", "Linux 5.19", pollx.KernelHasAccept(),
		func(l *core.Loop) bool { return l.Acceptor() != nil })
}

// listenCounting listens on 127.0.0.1 with s, accepting every connection
// into a stream of its own, and returns the port and the accepted count.
func listenCounting(t *testing.T, l *core.Loop, s *Stream) (uint16, *int) {
	t.Helper()
	require.NoError(t, s.Bind(netip.MustParseAddr("127.0.0.1"), 0, 0))
	n := new(int)
	require.NoError(t, s.Listen(16, func(err error) {
		require.NoError(t, err)
		c := New(l, TCP)
		require.NoError(t, s.Accept(c))
		*n++
		c.Close(nil)
	}))
	ap, err := s.SockName()
	require.NoError(t, err)
	return ap.Port(), n
}

func connectTo(t *testing.T, port uint16) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	require.NoError(t, unix.Connect(fd, &unix.SockaddrInet4{Port: int(port), Addr: [4]byte{127, 0, 0, 1}}))
}

// TestListenUsesAcceptMode: on io_uring a listener's connections come from
// the kernel's multishot accept, not from accept4 on readiness.
func TestListenUsesAcceptMode(t *testing.T) {
	l := acceptLoop(t)
	lis := New(l, TCP)
	port, n := listenCounting(t, l, lis)
	t.Cleanup(func() { lis.Close(nil) })
	assert.True(t, lis.w.InAcceptMode())
	for i := 0; i < 3; i++ {
		connectTo(t, port)
	}
	require.True(t, runFor(l, 5*time.Second, func() bool { return *n == 3 }), "accepted %d of 3", *n)
	accepted, arms := l.Acceptor().Stats()
	assert.Equal(t, uint64(3), accepted)
	assert.Equal(t, uint64(1), arms)
}

// TestPlainAcceptKeepsAccept4: a listener marked PlainAccept (a group
// server's, drained with AcceptNow) accepts with accept4 on io_uring too,
// and AcceptNow takes what is pending.
func TestPlainAcceptKeepsAccept4(t *testing.T) {
	l := acceptLoop(t)
	lis := New(l, TCP)
	lis.PlainAccept()
	port, n := listenCounting(t, l, lis)
	assert.False(t, lis.w.InAcceptMode())
	connectTo(t, port)
	require.True(t, runFor(l, 5*time.Second, func() bool { return *n == 1 }))
	accepted, _ := l.Acceptor().Stats()
	assert.Zero(t, accepted)

	connectTo(t, port)
	var fd int
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for fd, err = lis.AcceptNow(); err != nil && time.Now().Before(deadline); fd, err = lis.AcceptNow() {
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, err)
	unix.Close(fd)
	lis.Close(nil)
	_, err = lis.AcceptNow()
	assert.Error(t, err, "not listening any more")
}

// TestPlainAcceptEndsAcceptMode marks a listener already in accept mode
// PlainAccept (a group server taking it over): what the kernel accepted
// before still comes through, and once the next poll has cancelled the
// kernel's accept, connections wait for accept4, so that AcceptNow can
// drain them all.
func TestPlainAcceptEndsAcceptMode(t *testing.T) {
	l := acceptLoop(t)
	lis := New(l, TCP)
	port, n := listenCounting(t, l, lis)
	t.Cleanup(func() { lis.Close(nil) })
	connectTo(t, port)
	require.True(t, runFor(l, 5*time.Second, func() bool { return *n == 1 }))
	lis.w.Stop(poller.Read) // the next connection stays queued
	connectTo(t, port)
	deadline := time.Now().Add(5 * time.Second)
	for accepted, _ := l.Acceptor().Stats(); accepted < 2; accepted, _ = l.Acceptor().Stats() {
		require.True(t, time.Now().Before(deadline), "the kernel accepted %d of 2", accepted)
		require.NoError(t, l.Run(core.RunNoWait))
	}
	require.Equal(t, 1, *n)
	lis.PlainAccept()
	require.NoError(t, lis.w.Start(poller.Read))
	assert.False(t, l.Acceptor().Accepting(lis.Fd()))
	require.True(t, runFor(l, 5*time.Second, func() bool { return *n == 2 }), "the queued connection comes through")
	require.NoError(t, l.Run(core.RunNoWait)) // the cancellation is in

	connectTo(t, port)
	require.True(t, runFor(l, 5*time.Second, func() bool { return *n == 3 }))
	accepted, arms := l.Acceptor().Stats()
	assert.Equal(t, uint64(2), accepted, "the third came from accept4")
	assert.Equal(t, uint64(1), arms)
}
