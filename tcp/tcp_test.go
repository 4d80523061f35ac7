//go:build !windows

package tcp_test

import (
	"errors"
	"io"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/tcp"
)

func TestConnectAndNames(t *testing.T) {
	for _, ip := range []netip.Addr{v4, v6} {
		t.Run(ip.String(), func(t *testing.T) {
			l := testutil.NewLoop(t)
			var acc []*tcp.TCP
			s, port := listen(t, l, ip, 0, &acc)
			c, err := connect(t, l, ip, port)
			require.NoError(t, err)
			testutil.RunUntil(t, l, waitLimit, func() bool { return len(acc) == 1 })
			defer testutil.CloseAll(t, l, s, c, acc[0])

			local, err := c.SockName()
			require.NoError(t, err)
			peer, err := c.PeerName()
			require.NoError(t, err)
			assert.Equal(t, netip.AddrPortFrom(ip, uint16(port)), peer)
			srvPeer, err := acc[0].PeerName()
			require.NoError(t, err)
			assert.Equal(t, local, srvPeer)
			assert.Equal(t, ip, local.Addr())
		})
	}
}

func TestConnectRefused(t *testing.T) {
	l := testutil.NewLoop(t)
	// A bound socket that does not listen: connecting to it is refused.
	b := tcp.New(l)
	require.NoError(t, b.Bind(v4, 0, 0))
	ap, err := b.SockName()
	require.NoError(t, err)
	c, err := connect(t, l, v4, int(ap.Port()))
	defer testutil.CloseAll(t, l, b, c)
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "got %v", err)
	assert.False(t, c.IsConnecting())
}

func TestAddrInUse(t *testing.T) {
	l := testutil.NewLoop(t)
	var acc []*tcp.TCP
	s, port := listen(t, l, v4, 0, &acc)
	s2 := tcp.New(l)
	defer func() { testutil.CloseAll(t, l, append(acc, s, s2)...) }()
	err := s2.Bind(v4, port, 0)
	if err == nil {
		err = s2.Listen(128, func(error) {})
	}
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.EADDRINUSE), "got %v", err)

	// The first server still works.
	c, err := connect(t, l, v4, port)
	acc = append(acc, c)
	require.NoError(t, err)
}

func TestReusePort(t *testing.T) {
	l := testutil.NewLoop(t)
	var acc []*tcp.TCP
	s1, port := listen(t, l, v4, tcp.ReusePort, &acc)
	s2 := tcp.New(l)
	require.NoError(t, s2.Bind(v4, port, tcp.ReusePort))
	require.NoError(t, s2.Listen(128, func(err error) {
		require.NoError(t, err)
		c := tcp.New(l)
		require.NoError(t, s2.Accept(c))
		acc = append(acc, c)
	}))
	defer func() { testutil.CloseAll(t, l, append(acc, s1, s2)...) }()
	ap, err := s2.SockName()
	require.NoError(t, err)
	assert.Equal(t, port, int(ap.Port()))
	v, err := unix.GetsockoptInt(s2.Fd(), unix.SOL_SOCKET, unix.SO_REUSEPORT)
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	c, err := connect(t, l, v4, port)
	acc = append(acc, c)
	require.NoError(t, err)
}

func TestIPv6Only(t *testing.T) {
	l := testutil.NewLoop(t)
	var acc []*tcp.TCP
	s, port := listen(t, l, netip.IPv6Unspecified(), tcp.IPv6Only, &acc)
	v, err := unix.GetsockoptInt(s.Fd(), unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	c4, err4 := connect(t, l, v4, port)
	c6, err6 := connect(t, l, v6, port)
	defer func() { testutil.CloseAll(t, l, append(acc, s, c4, c6)...) }()
	assert.True(t, errors.Is(err4, syscall.ECONNREFUSED), "IPv4 connect to an IPv6-only socket: %v", err4)
	assert.NoError(t, err6)

	// Without the flag the socket is dual-stack.
	d, dport := listen(t, l, netip.IPv6Unspecified(), 0, &acc)
	d4, err := connect(t, l, v4, dport)
	defer testutil.CloseAll(t, l, d, d4)
	assert.NoError(t, err)
}

func sockopt(t *testing.T, fd, level, opt int) int {
	t.Helper()
	v, err := unix.GetsockoptInt(fd, level, opt)
	require.NoError(t, err)
	return v
}

func TestSocketOptions(t *testing.T) {
	l := testutil.NewLoop(t)
	var acc []*tcp.TCP
	s, port := listen(t, l, v4, 0, &acc)
	c, err := connect(t, l, v4, port)
	require.NoError(t, err)
	testutil.RunUntil(t, l, waitLimit, func() bool { return len(acc) == 1 })
	defer func() { testutil.CloseAll(t, l, append(acc, s, c)...) }()

	// Node's defaults: Nagle on, keep-alive off, on both ends.
	for _, h := range []*tcp.TCP{c, acc[0]} {
		assert.Equal(t, 0, sockopt(t, h.Fd(), unix.IPPROTO_TCP, unix.TCP_NODELAY))
		assert.Equal(t, 0, sockopt(t, h.Fd(), unix.SOL_SOCKET, unix.SO_KEEPALIVE))
	}

	fd := c.Fd()
	require.NoError(t, c.SetNoDelay(true))
	assert.NotEqual(t, 0, sockopt(t, fd, unix.IPPROTO_TCP, unix.TCP_NODELAY))
	require.NoError(t, c.SetNoDelay(false))
	assert.Equal(t, 0, sockopt(t, fd, unix.IPPROTO_TCP, unix.TCP_NODELAY))

	require.NoError(t, c.SetKeepAlive(true, 42*time.Second))
	assert.NotEqual(t, 0, sockopt(t, fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE))
	checkKeepAliveTiming(t, fd, 42)
	require.NoError(t, c.SetKeepAlive(true, 0))
	checkKeepAliveTiming(t, fd, 1) // below 1 s rounds up
	require.NoError(t, c.SetKeepAlive(false, 0))
	assert.Equal(t, 0, sockopt(t, fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE))

	// Options set before the socket exists are applied when it is made.
	e := tcp.New(l)
	defer testutil.CloseAll(t, l, e)
	require.NoError(t, e.SetNoDelay(true))
	require.NoError(t, e.SetKeepAlive(true, 7*time.Second))
	require.NoError(t, e.Bind(v4, 0, 0))
	assert.NotEqual(t, 0, sockopt(t, e.Fd(), unix.IPPROTO_TCP, unix.TCP_NODELAY))
	assert.NotEqual(t, 0, sockopt(t, e.Fd(), unix.SOL_SOCKET, unix.SO_KEEPALIVE))
	checkKeepAliveTiming(t, e.Fd(), 7)
}

// TestCloseReset: the peer of a handle closed with CloseReset reads
// ECONNRESET.
func TestCloseReset(t *testing.T) {
	l := testutil.NewLoop(t)
	var acc []*tcp.TCP
	s, port := listen(t, l, v4, 0, &acc)
	c, err := connect(t, l, v4, port)
	require.NoError(t, err)
	testutil.RunUntil(t, l, waitLimit, func() bool { return len(acc) == 1 })
	srv := acc[0]
	defer func() { testutil.CloseAll(t, l, s, c, srv) }()

	var readErr error
	require.NoError(t, srv.ReadStart(nil, func(n int, buf []byte, err error) {
		if err != nil {
			readErr = err
		}
	}))
	closed := false
	require.NoError(t, c.CloseReset(func() { closed = true }))
	assert.ErrorIs(t, c.CloseReset(nil), handle.ErrClosing)
	testutil.RunUntil(t, l, waitLimit, func() bool { return closed && readErr != nil })
	assert.True(t, errors.Is(readErr, syscall.ECONNRESET), "got %v", readErr)
	assert.False(t, errors.Is(readErr, io.EOF))
	assert.False(t, srv.IsReading(), "reading stops after an error")
}

// TestOpen wraps an already connected socket made outside the library.
func TestOpen(t *testing.T) {
	l := testutil.NewLoop(t)
	var acc []*tcp.TCP
	s, port := listen(t, l, v4, 0, &acc)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	require.NoError(t, err)
	require.NoError(t, unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
	c, err := tcp.Open(l, fd)
	require.NoError(t, err)
	testutil.RunUntil(t, l, waitLimit, func() bool { return len(acc) == 1 })
	srv := acc[0]
	defer func() { testutil.CloseAll(t, l, s, c, srv) }()
	assert.Equal(t, fd, c.Fd())
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	require.NoError(t, err)
	assert.NotZero(t, fl&unix.O_NONBLOCK, "Open must make the socket non-blocking")

	var got []byte
	require.NoError(t, srv.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		got = append(got, buf[:n]...)
	}))
	err = c.Write([][]byte{[]byte("opened")}, nil)
	require.NoError(t, err)
	testutil.RunUntil(t, l, waitLimit, func() bool { return len(got) == 6 })
	assert.Equal(t, "opened", string(got))
	// A connected socket can be shut down (it counts as connected).
	require.NoError(t, c.Shutdown(nil))
}

// TestListenDefault: Listen without Bind picks an ephemeral port.
func TestListenDefault(t *testing.T) {
	l := testutil.NewLoop(t)
	s := tcp.New(l)
	defer testutil.CloseAll(t, l, s)
	require.NoError(t, s.Listen(16, func(error) {}))
	ap, err := s.SockName()
	require.NoError(t, err)
	assert.NotZero(t, ap.Port())
	assert.True(t, s.IsListening())
}

func TestBadPort(t *testing.T) {
	l := testutil.NewLoop(t)
	s := tcp.New(l)
	defer testutil.CloseAll(t, l, s)
	assert.ErrorIs(t, s.Bind(v4, 70000, 0), syscall.EINVAL)
	assert.ErrorIs(t, s.Connect(v4, -1, nil), syscall.EINVAL)
}
