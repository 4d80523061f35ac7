//go:build !windows

package stream_test

import (
	"hash/crc32"
	"math/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/pipe"
	"github.com/netloop/netloop/stream"
	"github.com/netloop/netloop/tcp"
)

const waitLimit = 20 * time.Second

// pattern is pseudo-random data sent cyclically by the transfer tests; its
// odd length makes chunks straddle the wrap-around.
var pattern = func() []byte {
	b := make([]byte, 1<<20+13)
	rand.New(rand.NewSource(1)).Read(b)
	return b
}()

// source produces the pattern stream chunk by chunk and checksums it.
type source struct {
	off  int
	sent int
	crc  uint32
}

// next returns the next n bytes as one or two slices (wrap-around).
func (s *source) next(n int) [][]byte {
	var bufs [][]byte
	for n > 0 {
		k := min(n, len(pattern)-s.off)
		bufs = append(bufs, pattern[s.off:s.off+k])
		s.crc = crc32.Update(s.crc, crc32.IEEETable, pattern[s.off:s.off+k])
		s.off = (s.off + k) % len(pattern)
		s.sent += k
		n -= k
	}
	return bufs
}

// pairStream is a pipe handle over one end of a socketpair.
type pairStream = pipe.Pipe

func newSocketPair(t testing.TB, l *loop.Loop) (*pairStream, *pairStream) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	require.NoError(t, err)
	mk := func(fd int) *pairStream {
		s, err := pipe.Open(l, fd)
		require.NoError(t, err)
		return s
	}
	return mk(fds[0]), mk(fds[1])
}

// conn is a connected client/server pair plus the listener that made it.
type conn struct {
	client, server *stream.Stream
	listener       *stream.Stream
}

// closeAll closes whatever is still open and runs the close callbacks.
func (c *conn) closeAll(t testing.TB, l *loop.Loop) {
	testutil.CloseAll(t, l, c.client, c.server, c.listener)
}

func connectTCP(t testing.TB, l *loop.Loop, ip netip.Addr) *conn {
	t.Helper()
	lis := tcp.New(l)
	require.NoError(t, lis.Bind(ip, 0, 0))
	var srv *tcp.TCP
	require.NoError(t, lis.Listen(128, func(err error) {
		require.NoError(t, err)
		c := tcp.New(l)
		require.NoError(t, lis.Accept(c))
		srv = c
	}))
	ap, err := lis.SockName()
	require.NoError(t, err)
	cli := tcp.New(l)
	connected := false
	require.NoError(t, cli.Connect(ip, int(ap.Port()), func(err error) {
		require.NoError(t, err)
		connected = true
	}))
	testutil.RunUntil(t, l, waitLimit, func() bool { return connected && srv != nil })
	return &conn{client: &cli.Stream, server: &srv.Stream, listener: &lis.Stream}
}

func connectPipe(t testing.TB, l *loop.Loop) *conn {
	t.Helper()
	path := testutil.SockPath(t)
	lis := pipe.New(l)
	require.NoError(t, lis.Bind(path))
	var srv *pipe.Pipe
	require.NoError(t, lis.Listen(128, func(err error) {
		require.NoError(t, err)
		c := pipe.New(l)
		require.NoError(t, lis.Accept(c))
		srv = c
	}))
	cli := pipe.New(l)
	connected := false
	require.NoError(t, cli.Connect(path, func(err error) {
		require.NoError(t, err)
		connected = true
	}))
	testutil.RunUntil(t, l, waitLimit, func() bool { return connected && srv != nil })
	return &conn{client: &cli.Stream, server: &srv.Stream, listener: &lis.Stream}
}

// transports lists the ways the echo tests connect.
var transports = []struct {
	name    string
	connect func(t testing.TB, l *loop.Loop) *conn
}{
	{"tcp4", func(t testing.TB, l *loop.Loop) *conn { return connectTCP(t, l, netip.MustParseAddr("127.0.0.1")) }},
	{"tcp6", func(t testing.TB, l *loop.Loop) *conn { return connectTCP(t, l, netip.IPv6Loopback()) }},
	{"pipe", connectPipe},
}
