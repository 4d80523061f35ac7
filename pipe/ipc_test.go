//go:build !windows

package pipe_test

import (
	"net"
	"net/netip"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/pipe"
	"github.com/netloop/netloop/tcp"
)

// libuv's uv_write2 / uv_pipe_pending_* / uv_accept on an IPC pipe: a
// listening TCP handle and a connected pipe handle sent over a
// socketpair arrive in order, typed, and work once accepted; a pipe from
// New refuses Write2.
func TestPipeIPCWrite2AndAcceptPending(t *testing.T) {
	l := testutil.NewLoop(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	require.NoError(t, err)
	a, err := pipe.OpenIPC(l, fds[0])
	require.NoError(t, err)
	b, err := pipe.OpenIPC(l, fds[1])
	require.NoError(t, err)

	lst := tcp.New(l)
	require.NoError(t, lst.Bind(netip.MustParseAddr("127.0.0.1"), 0, 0))
	require.NoError(t, lst.Listen(16, func(error) {}))
	addr, err := lst.SockName()
	require.NoError(t, err)
	pfds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	require.NoError(t, err)
	conn, err := pipe.Open(l, pfds[0])
	require.NoError(t, err)

	assert.ErrorIs(t, conn.Write2([][]byte{[]byte("x")}, &lst.Stream, nil), syscall.EINVAL, "not an IPC pipe")
	assert.ErrorIs(t, a.Write2(nil, &lst.Stream, nil), syscall.EINVAL, "no byte to carry it")

	sent := 0
	require.NoError(t, a.Write2([][]byte{[]byte("L")}, &lst.Stream, func(err error) { assert.NoError(t, err); sent++ }))
	require.NoError(t, a.Write2([][]byte{[]byte("P")}, &conn.Stream, func(err error) { assert.NoError(t, err); sent++ }))

	var types []string
	var gotTCP *tcp.TCP
	var gotPipe *pipe.Pipe
	require.NoError(t, b.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		for b.PendingCount() > 0 {
			typ := b.PendingType()
			types = append(types, typ)
			switch typ {
			case "tcp":
				wrong := pipe.New(l)
				assert.ErrorIs(t, b.AcceptPending(&wrong.Stream), syscall.EINVAL, "wrong client type")
				wrong.Close(nil)
				gotTCP = tcp.New(l)
				require.NoError(t, b.AcceptPending(&gotTCP.Stream))
			case "pipe":
				gotPipe = pipe.New(l)
				require.NoError(t, b.AcceptPending(&gotPipe.Stream))
			}
		}
	}))
	testutil.RunUntil(t, l, waitLimit, func() bool { return gotTCP != nil && gotPipe != nil && sent == 2 })
	assert.Equal(t, []string{"tcp", "pipe"}, types)
	none := tcp.New(l)
	assert.ErrorIs(t, b.AcceptPending(&none.Stream), syscall.EAGAIN)
	none.Close(nil)
	assert.Equal(t, "", b.PendingType())

	// The received listener is the same socket: it has the same address
	// and accepts a connection.
	got, err := gotTCP.SockName()
	require.NoError(t, err)
	assert.Equal(t, addr, got)
	accepted := false
	require.NoError(t, gotTCP.Listen(16, func(err error) {
		c := tcp.New(l)
		require.NoError(t, gotTCP.Accept(c))
		accepted = true
		c.Close(nil)
	}))
	lst.Close(nil) // the sender's copy
	nc, err := net.Dial("tcp", addr.String())
	require.NoError(t, err)
	testutil.RunUntil(t, l, waitLimit, func() bool { return accepted })
	nc.Close()

	// The received pipe is the other end's peer: bytes written to it
	// reach pfds[1].
	require.NoError(t, gotPipe.Write([][]byte{[]byte("hi")}, nil))
	conn.Close(nil)
	require.NoError(t, unix.SetNonblock(pfds[1], true))
	buf := make([]byte, 2)
	testutil.RunUntil(t, l, waitLimit, func() bool {
		n, _ := unix.Read(pfds[1], buf)
		return n == 2
	})
	assert.Equal(t, "hi", string(buf))
	unix.Close(pfds[1])
	testutil.CloseAll(t, l, a, b, gotPipe)
	gotTCP.Close(nil)
	testutil.CloseLoop(t, l)
}
