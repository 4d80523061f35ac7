//go:build linux

package poller

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/pollx"
)

// acceptPoller returns a poller on the io_uring backend with accept mode,
// or skips where there is none (this suite's epoll run, or a kernel
// before 5.19).
func acceptPoller(t *testing.T) (*Poller, pollx.Acceptor) {
	t.Helper()
	p := newPoller(t)
	ac := pollx.AcceptorOf(p)
	if ac == nil {
		t.Skip("no accept mode: not the io_uring backend (" + envIOUring + " unset, or refused), or a kernel before 5.19")
	}
	return p, ac
}

// tcpListener returns a non-blocking listening socket on 127.0.0.1 and its
// address. The test closes it (after Delete) where it says so; otherwise
// it is closed at the end.
func tcpListener(t *testing.T) (int, string) {
	t.Helper()
	fd, addr := listenTCP(t)
	t.Cleanup(func() { unix.Close(fd) })
	return fd, addr
}

// listenTCP is tcpListener for a test that closes the listener itself.
func listenTCP(t *testing.T) (int, string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	require.NoError(t, unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, unix.Listen(fd, 64))
	sa, err := unix.Getsockname(fd)
	require.NoError(t, err)
	return fd, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(sa.(*unix.SockaddrInet4).Port)).String()
}

// armedListener returns an accept-mode poller with a TCP listener
// registered under tokA for Read in accept mode, its accept armed.
func armedListener(t *testing.T) (*Poller, pollx.Acceptor, int, string) {
	t.Helper()
	p, ac := acceptPoller(t)
	lfd, addr := tcpListener(t)
	require.NoError(t, p.Add(lfd, tokA, Read|acceptBit))
	wait(t, p, 0)
	return p, ac, lfd, addr
}

// dial connects to addr and returns the client's connection (closed at the
// end of the test) and its local address.
func dial(t *testing.T, addr string) (net.Conn, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, c.LocalAddr().String()
}

// dialQueuedAndUnreaped connects two clients to the armed listener
// (tokA) at addr: the first connection is reaped and queued by a Wait,
// the second accepted by the kernel with its completion not reaped yet.
// It returns the clients and their local addresses.
func dialQueuedAndUnreaped(t *testing.T, p *Poller, addr string) (queued, late net.Conn, first, second string) {
	t.Helper()
	queued, first = dial(t, addr)
	require.True(t, waitFor(t, p, MaxEvents, func(ev Event) bool { return ev.Token == tokA }))
	late, second = dial(t, addr)
	time.Sleep(20 * time.Millisecond)
	return queued, late, first, second
}

// peerOf returns the remote address of accepted descriptor fd.
func peerOf(t *testing.T, fd int) string {
	t.Helper()
	sa, err := unix.Getpeername(fd)
	require.NoError(t, err)
	in := sa.(*unix.SockaddrInet4)
	return netip.AddrPortFrom(netip.AddrFrom4(in.Addr), uint16(in.Port)).String()
}

// popAll waits until n descriptors were popped from listener fd (5 s at
// most), and returns them, closed at the end of the test.
func popAll(t *testing.T, p *Poller, ac pollx.Acceptor, fd int, tok Token, n int) []int {
	t.Helper()
	var got []int
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < n {
		require.True(t, time.Now().Before(deadline), "popped %d of %d", len(got), n)
		for _, ev := range wait(t, p, 100) {
			if ev.Token != tok {
				continue
			}
			assert.Equal(t, Read, ev.Events)
			for {
				nfd, errno, ok := ac.Pop(fd)
				if !ok {
					break
				}
				require.Zero(t, errno)
				t.Cleanup(func() { unix.Close(nfd) })
				got = append(got, nfd)
			}
		}
	}
	return got
}

// requireResetByServer checks that c's server side was closed without
// being taken, with a reset.
func requireResetByServer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	require.Error(t, err)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the connection stayed open: %v", err)
	require.ErrorIs(t, err, syscall.ECONNRESET, "closed without a reset, as a listen queue's connection is on epoll")
}

// TestAcceptModeQueuesInOrder accepts three connections in the kernel: a
// Read event reports the listener, and Pop hands out the descriptors in
// the order the clients connected; Add registers them without fstat
// before the next Wait (as the transport does), and checks anything else.
func TestAcceptModeQueuesInOrder(t *testing.T) {
	p, ac := acceptPoller(t)
	lfd, addr := tcpListener(t)
	require.NoError(t, p.Add(lfd, tokA, Read|acceptBit))
	assert.True(t, ac.Accepting(lfd))
	wait(t, p, 0) // arms the accept
	var want []string
	for i := 0; i < 3; i++ {
		_, local := dial(t, addr)
		want = append(want, local)
	}
	reported := false
	deadline := time.Now().Add(5 * time.Second)
	for n, _ := ac.Stats(); n < 3; n, _ = ac.Stats() {
		require.True(t, time.Now().Before(deadline), "the kernel accepted %d of 3", n)
		for _, ev := range wait(t, p, 10) {
			reported = reported || ev == Event{Token: tokA, Events: Read}
		}
	}
	assert.True(t, reported, "the listener reported with Read")
	before := p.u.fstats
	var got []string
	for i := 0; i < 3; i++ {
		fd, errno, ok := ac.Pop(lfd)
		require.True(t, ok)
		require.Zero(t, errno)
		defer unix.Close(fd)
		got = append(got, peerOf(t, fd))
		require.NoError(t, p.Add(fd, tokB, Read))
		require.NoError(t, p.Delete(fd))
	}
	assert.Equal(t, want, got)
	_, arms := ac.Stats()
	assert.Equal(t, uint64(1), arms)
	assert.Equal(t, before, p.u.fstats, "popped sockets are registered without fstat")
	r, _ := pipe(t)
	require.NoError(t, p.Add(r, tokB, Read))
	assert.Equal(t, before+1, p.u.fstats, "anything else is checked")
	require.NoError(t, p.Delete(r))
	require.NoError(t, p.Delete(lfd))
}

// TestAcceptModeLeftoverReportedAgain leaves a connection queued: the next
// Wait reports the listener again at once, however long its timeout.
func TestAcceptModeLeftoverReportedAgain(t *testing.T) {
	p, ac, lfd, addr := armedListener(t)
	dial(t, addr)
	dial(t, addr)
	deadline := time.Now().Add(5 * time.Second)
	for n, _ := ac.Stats(); n < 2; n, _ = ac.Stats() {
		require.True(t, time.Now().Before(deadline), "the kernel accepted %d of 2", n)
		wait(t, p, 10)
	}
	nfd, _, ok := ac.Pop(lfd)
	require.True(t, ok)
	unix.Close(nfd)
	start := time.Now()
	assert.Equal(t, []Event{{Token: tokA, Events: Read}}, wait(t, p, 5000))
	assert.Less(t, time.Since(start), 4*time.Second)
	nfd, _, ok = ac.Pop(lfd)
	require.True(t, ok)
	unix.Close(nfd)
	require.NoError(t, p.Delete(lfd))
}

// TestAcceptModeStopKeepsQueue takes Read away while a connection is
// queued: nothing is reported, the queued descriptor stays, and new
// connections wait in the backlog; with Read back both are taken, the
// queued one first.
func TestAcceptModeStopKeepsQueue(t *testing.T) {
	p, ac, lfd, addr := armedListener(t)
	_, first := dial(t, addr)
	require.True(t, waitFor(t, p, MaxEvents, func(ev Event) bool { return ev.Token == tokA }))
	require.NoError(t, p.Modify(lfd, tokA, acceptBit))
	wait(t, p, 0) // cancels the accept
	_, second := dial(t, addr)
	assert.Empty(t, wait(t, p, 100), "no interest, no event")
	require.NoError(t, p.Modify(lfd, tokA, Read|acceptBit))
	fds := popAll(t, p, ac, lfd, tokA, 2)
	assert.Equal(t, []string{first, second}, []string{peerOf(t, fds[0]), peerOf(t, fds[1])})
	require.NoError(t, p.Delete(lfd))
}

// TestAcceptModePlainKeepsQueue ends accept mode for a listener (Plain)
// with one connection queued and another accepted by the kernel but not
// reaped: both still pop, in order, and the listener is polled from then
// on: a third connection stays in the backlog for accept4, and no accept
// is armed again, not even after a poll reported the listener.
func TestAcceptModePlainKeepsQueue(t *testing.T) {
	p, ac, lfd, addr := armedListener(t)
	_, _, first, second := dialQueuedAndUnreaped(t, p, addr)
	ac.Plain(lfd)
	assert.False(t, ac.Accepting(lfd))
	_, arms := ac.Stats()
	fds := popAll(t, p, ac, lfd, tokA, 2)
	assert.Equal(t, []string{first, second}, []string{peerOf(t, fds[0]), peerOf(t, fds[1])})

	_, third := dial(t, addr)
	require.True(t, waitFor(t, p, MaxEvents, func(ev Event) bool { return ev.Token == tokA }), "the poll reports the backlog")
	_, _, ok := ac.Pop(lfd)
	require.False(t, ok, "the kernel accepted nothing more")
	nfd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	require.NoError(t, err)
	defer unix.Close(nfd)
	assert.Equal(t, third, peerOf(t, nfd))
	wait(t, p, 20) // would revert an out-of-descriptors poll to the accept
	_, arms2 := ac.Stats()
	assert.Equal(t, arms, arms2, "no accept armed after Plain")
	assert.False(t, ac.Accepting(lfd))
	require.NoError(t, p.Delete(lfd))
}

// TestAcceptModeDeleteClosesQueued deletes a listener with a connection
// queued and another accepted by the kernel but not reaped yet: both are
// closed (the clients see it), and none leaks (TestMain's leak check).
func TestAcceptModeDeleteClosesQueued(t *testing.T) {
	p, ac, lfd, addr := armedListener(t)
	queued, late, _, _ := dialQueuedAndUnreaped(t, p, addr)
	require.NoError(t, p.Delete(lfd))
	assert.False(t, ac.Accepting(lfd))
	wait(t, p, 50) // reaps the late completion, which closes its descriptor
	requireResetByServer(t, queued)
	requireResetByServer(t, late)
}

// TestAcceptModeCloseClosesUnreaped closes the poller while a connection's
// accept completion waits in the ring: the descriptor is closed with it.
func TestAcceptModeCloseClosesUnreaped(t *testing.T) {
	p, _, _, addr := armedListener(t)
	c, _ := dial(t, addr)
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, p.Close())
	requireResetByServer(t, c)
}

// TestAcceptModeOutOfDescriptorsPolls plays a process with room for one
// more descriptor: the kernel accepts a first connection, then fails the
// multishot accept with EMFILE for the second, and would again at every
// arm while it is pending. The listener is polled instead: Accepting
// turns false, the connection accepted before still pops first, and the
// pending one reports the listener readable for the owner's accept4; the
// Wait after that arms the accept again.
func TestAcceptModeOutOfDescriptorsPolls(t *testing.T) {
	p, ac := acceptPoller(t)
	lfd, addr := tcpListener(t)
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)

	// The clients' sockets exist before the limit drops (net.Dial would
	// take descriptors of the runtime's own, too).
	ap := netip.MustParseAddrPort(addr)
	var clients [3]int
	for i := range clients {
		c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		require.NoError(t, err)
		t.Cleanup(func() { unix.Close(c) })
		clients[i] = c
	}
	connect := func(i int) string {
		require.NoError(t, unix.Connect(clients[i], &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}))
		sa, err := unix.Getsockname(clients[i])
		require.NoError(t, err)
		return netip.AddrPortFrom(ap.Addr(), uint16(sa.(*unix.SockaddrInet4).Port)).String()
	}
	fd, err := syscall.Dup(0)
	require.NoError(t, err)
	syscall.Close(fd)
	low := lim
	low.Cur = uint64(fd) + 1 // room for one descriptor
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	// The kernel reads the limit when the accept is armed.
	require.NoError(t, p.Add(lfd, tokA, Read|acceptBit))
	wait(t, p, 0)
	first := connect(0)
	deadline := time.Now().Add(5 * time.Second)
	for n, _ := ac.Stats(); n < 1; n, _ = ac.Stats() {
		require.True(t, time.Now().Before(deadline), "the first connection was not accepted")
		wait(t, p, 10)
	}
	// The second finds no descriptor: EMFILE, and the listener is polled.
	second := connect(1)
	for ac.Accepting(lfd) {
		require.True(t, time.Now().Before(deadline), "no EMFILE")
		wait(t, p, 10)
	}
	nfd, errno, ok := ac.Pop(lfd)
	require.True(t, ok, "the connection accepted before EMFILE")
	require.Zero(t, errno)
	assert.Equal(t, first, peerOf(t, nfd))
	unix.Close(nfd)
	_, _, ok = ac.Pop(lfd)
	assert.False(t, ok)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))

	require.True(t, waitFor(t, p, MaxEvents, func(ev Event) bool { return ev.Token == tokA && ev.Events == Read }))
	assert.False(t, ac.Accepting(lfd), "still polled in this dispatch")
	nfd, _, err = unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	require.NoError(t, err, "the owner's accept4")
	defer unix.Close(nfd)
	assert.Equal(t, second, peerOf(t, nfd))

	wait(t, p, 0) // back to the multishot accept
	assert.True(t, ac.Accepting(lfd))
	third := connect(2)
	fds := popAll(t, p, ac, lfd, tokA, 1)
	assert.Equal(t, third, peerOf(t, fds[0]))
	require.NoError(t, p.Delete(lfd))
}

// TestAcceptModeRefusedFallsBack plays a kernel that refuses the multishot
// accept (EINVAL): accept mode turns off for good, the listener is polled
// for readability, and its owner accepts with accept4.
func TestAcceptModeRefusedFallsBack(t *testing.T) {
	saved := acceptIoprio
	acceptIoprio = 1 << 15 // a flag no kernel takes
	defer func() { acceptIoprio = saved }()
	p, ac := acceptPoller(t)
	lfd, addr := tcpListener(t)
	require.NoError(t, p.Add(lfd, tokA, Read|acceptBit))
	wait(t, p, 20)
	wait(t, p, 20)
	assert.False(t, ac.Accepting(lfd))
	assert.Nil(t, pollx.AcceptorOf(p), "off for good")
	_, local := dial(t, addr)
	require.True(t, waitFor(t, p, MaxEvents, func(ev Event) bool { return ev.Token == tokA && ev.Events == Read }))
	nfd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	require.NoError(t, err)
	defer unix.Close(nfd)
	assert.Equal(t, local, peerOf(t, nfd))
	require.NoError(t, p.Delete(lfd))
}

// TestClosedListenerResetsItsQueue is the behaviour accept mode copies
// for descriptors nobody took (requireResetByServer): with no io_uring
// involved, a connection left in a listener's queue is reset when the
// listener closes.
func TestClosedListenerResetsItsQueue(t *testing.T) {
	lfd, addr := listenTCP(t)
	c, _ := dial(t, addr)
	require.NoError(t, unix.Close(lfd))
	requireResetByServer(t, c)
}
