//go:build windows

package pipe_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/pipe"
	"github.com/netloop/netloop/tcp"
)

// Handle passing over Windows named pipes (IPC pipes, libuv's framing).

// ipcPair gives two connected IPC pipes on l: a, the server's accepted
// end, and b, the client.
func ipcPair(t *testing.T, l *loop.Loop) (a, b *pipe.Pipe, srv *pipe.Pipe) {
	t.Helper()
	name := pipeName()
	srv = pipe.New(l)
	require.NoError(t, srv.Bind(name))
	require.NoError(t, srv.Listen(4, func(err error) {
		require.NoError(t, err)
		a = pipe.NewIPC(l)
		require.NoError(t, srv.Accept(a))
	}))
	b = pipe.NewIPC(l)
	connected := false
	require.NoError(t, b.Connect(name, func(err error) { require.NoError(t, err); connected = true }))
	testutil.RunUntil(t, l, winLimit, func() bool { return connected && a != nil })
	return a, b, srv
}

// tcpConns gives n accepted TCP connections on l and the net.Conns at
// their other ends.
func tcpConns(t *testing.T, l *loop.Loop, n int) ([]*tcp.TCP, []net.Conn) {
	t.Helper()
	lst := tcp.New(l)
	require.NoError(t, lst.Bind(netip.MustParseAddr("127.0.0.1"), 0, 0))
	var got []*tcp.TCP
	require.NoError(t, lst.Listen(16, func(err error) {
		require.NoError(t, err)
		c := tcp.New(l)
		require.NoError(t, lst.Accept(c))
		got = append(got, c)
	}))
	addr, err := lst.SockName()
	require.NoError(t, err)
	var ncs []net.Conn
	for range n {
		nc, err := net.Dial("tcp", addr.String())
		require.NoError(t, err)
		ncs = append(ncs, nc)
		t.Cleanup(func() { nc.Close() })
	}
	testutil.RunUntil(t, l, winLimit, func() bool { return len(got) == n })
	lst.Close(nil)
	return got, ncs
}

// skipIfNoDuplicate skips, under Wine only, when the first Write2 failed
// in WSADuplicateSocketW or WSASocketW (a Wine difference, not netloop's).
func skipIfNoDuplicate(t *testing.T, err error) {
	t.Helper()
	if err != nil && testutil.UnderWine() && isWinsockErr(err) {
		t.Skipf("Wine: duplicating a socket for a process failed: %v", err)
	}
}

// isWinsockErr reports whether err carries a Winsock error code.
func isWinsockErr(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && errno >= 10000 && errno < 12000
}

// echoTCP makes c write back what it reads.
func echoTCP(t *testing.T, c *tcp.TCP) {
	require.NoError(t, c.ReadStart(nil, func(n int, buf []byte, err error) {
		if err != nil {
			c.Close(nil)
			return
		}
		if n > 0 {
			c.Write([][]byte{append([]byte(nil), buf[:n]...)}, nil)
		}
	}))
}

// roundTrip writes msg on nc and waits (running l) for it to come back.
func roundTrip(t *testing.T, l *loop.Loop, nc net.Conn, msg string) {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		if _, err := nc.Write([]byte(msg)); err != nil {
			done <- "write: " + err.Error()
			return
		}
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(nc, buf); err != nil {
			done <- "read: " + err.Error()
			return
		}
		done <- string(buf)
	}()
	assert.Equal(t, msg, testutil.Receive(t, l, winLimit, done))
}

// An accepted TCP connection sent with Write2 over an IPC named pipe
// arrives with the bytes written with it, in order with plain writes
// before and after; accepted from the receiving end, it echoes for the
// peer; the sender's copy is closed once the write completed.
func TestWindowsPipeIPCWrite2PassesTCPConnection(t *testing.T) {
	l := testutil.NewLoop(t)
	a, b, srv := ipcPair(t, l)
	conns, ncs := tcpConns(t, l, 1)

	var got strings.Builder
	var recv *tcp.TCP
	pendingAt := -1
	require.NoError(t, b.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		got.Write(buf[:n])
		for b.PendingCount() > 0 {
			assert.Equal(t, "tcp", b.PendingType())
			pendingAt = got.Len()
			recv = tcp.New(l)
			require.NoError(t, b.AcceptPending(&recv.Stream))
			echoTCP(t, recv)
		}
	}))
	var errs []error
	require.NoError(t, a.Write([][]byte{[]byte("before,")}, nil))
	err := a.Write2([][]byte{[]byte("handle"), []byte(",")}, &conns[0].Stream, func(err error) { errs = append(errs, err) })
	skipIfNoDuplicate(t, err)
	require.NoError(t, err)
	conns[0].Close(nil) // only the receiver keeps the connection
	require.NoError(t, a.Write([][]byte{[]byte("after")}, nil))
	testutil.RunUntil(t, l, winLimit, func() bool { return got.Len() == len("before,handle,after") && len(errs) == 1 })
	if testutil.UnderWine() && errs[0] != nil {
		skipIfNoDuplicate(t, errs[0])
	}
	require.NoError(t, errs[0])
	assert.Equal(t, "before,handle,after", got.String())
	require.NotNil(t, recv)
	assert.GreaterOrEqual(t, pendingAt, len("before,h"), "the handle came with its own bytes, not before")
	assert.LessOrEqual(t, pendingAt, len("before,handle,after"))

	roundTrip(t, l, ncs[0], "ping through the received socket")
	testutil.CloseAll(t, l, a, b, srv)
	recv.Close(nil)
	testutil.CloseLoop(t, l)
}

// Several handles in a row, each with its bytes, arrive in order, each
// the right connection.
func TestWindowsPipeIPCWrite2SeveralHandles(t *testing.T) {
	const n = 3
	l := testutil.NewLoop(t)
	a, b, srv := ipcPair(t, l)
	conns, ncs := tcpConns(t, l, n)

	var got strings.Builder
	var recv []*tcp.TCP
	require.NoError(t, b.ReadStart(nil, func(k int, buf []byte, err error) {
		require.NoError(t, err)
		got.Write(buf[:k])
		for b.PendingCount() > 0 {
			c := tcp.New(l)
			require.NoError(t, b.AcceptPending(&c.Stream))
			echoTCP(t, c)
			recv = append(recv, c)
		}
	}))
	done := 0
	for i, c := range conns {
		err := a.Write2([][]byte{{byte('0' + i)}}, &c.Stream, func(err error) {
			skipIfNoDuplicate(t, err)
			assert.NoError(t, err)
			done++
		})
		skipIfNoDuplicate(t, err)
		require.NoError(t, err)
		c.Close(nil)
	}
	testutil.RunUntil(t, l, winLimit, func() bool { return done == n && len(recv) == n && got.Len() == n })
	assert.Equal(t, "012", got.String())
	// The i-th handle received is the i-th connection sent: its peer's
	// bytes come back through it.
	for i, nc := range ncs {
		ra, err := recv[i].PeerName()
		require.NoError(t, err)
		assert.Equal(t, nc.LocalAddr().String(), ra.String())
		roundTrip(t, l, nc, "echo "+string(rune('0'+i)))
	}
	testutil.CloseAll(t, l, a, b, srv)
	testutil.CloseAll(t, l, recv...)
	testutil.CloseLoop(t, l)
}

// ipcFrame builds a frame in libuv's layout (src/win/pipe.c): a 16-byte
// header {flags, reserved, data length, reserved}, the socket's
// WSAPROTOCOL_INFOW and a uint32 when info is not nil, then data.
func ipcFrame(info *windows.WSAProtocolInfo, conn bool, data string) []byte {
	var flags uint32
	if data != "" {
		flags |= 1
	}
	if info != nil {
		flags |= 2
		if conn {
			flags |= 4
		}
	}
	f := binary.LittleEndian.AppendUint32(nil, flags)
	f = binary.LittleEndian.AppendUint32(f, 0)
	f = binary.LittleEndian.AppendUint32(f, uint32(len(data)))
	f = binary.LittleEndian.AppendUint32(f, 0)
	if info != nil {
		f = append(f, unsafe.Slice((*byte)(unsafe.Pointer(info)), unsafe.Sizeof(*info))...)
		f = binary.LittleEndian.AppendUint32(f, 0)
	}
	return append(f, data...)
}

// Frames written a few bytes at a time (each piece its own WriteFile, so
// reads see frames split anywhere) parse back into the data and the
// socket; the frames are built here from libuv's layout, so this is also
// the check that netloop reads what libuv writes. A frame with an invalid
// header then ends the reads with ECONNABORTED, as in libuv.
func TestWindowsPipeIPCFramesSplitAcrossReads(t *testing.T) {
	l := testutil.NewLoop(t)
	name := pipeName()
	srv := pipe.New(l)
	require.NoError(t, srv.Bind(name))
	var a *pipe.Pipe
	require.NoError(t, srv.Listen(4, func(err error) {
		require.NoError(t, err)
		a = pipe.New(l) // a plain pipe: it writes the raw frames
		require.NoError(t, srv.Accept(a))
	}))
	b := pipe.NewIPC(l)
	connected := false
	require.NoError(t, b.Connect(name, func(err error) { require.NoError(t, err); connected = true }))
	testutil.RunUntil(t, l, winLimit, func() bool { return connected && a != nil })

	conns, ncs := tcpConns(t, l, 2)
	var info, info2 windows.WSAProtocolInfo
	err := windows.WSADuplicateSocket(windows.Handle(conns[0].Fd()), windows.GetCurrentProcessId(), &info)
	skipIfNoDuplicate(t, err)
	require.NoError(t, err)
	require.NoError(t, windows.WSADuplicateSocket(windows.Handle(conns[1].Fd()), windows.GetCurrentProcessId(), &info2))
	testutil.CloseAll(t, l, conns...)

	var got strings.Builder
	var recv, recv2 *tcp.TCP
	var readErr error
	require.NoError(t, b.ReadStart(nil, func(n int, buf []byte, err error) {
		if err != nil {
			readErr = err
			return
		}
		got.Write(buf[:n])
		for b.PendingCount() > 0 {
			c := tcp.New(l)
			require.NoError(t, b.AcceptPending(&c.Stream))
			echoTCP(t, c)
			if recv == nil {
				recv = c
			} else {
				recv2 = c
			}
		}
	}))
	stream := append(ipcFrame(nil, false, "first;"), ipcFrame(&info, true, "with socket;")...)
	stream = append(stream, ipcFrame(nil, false, "")...) // an empty frame is legal
	stream = append(stream, ipcFrame(nil, false, "last")...)
	// A socket without data (libuv allows it) is offered at once, by a
	// read callback of no bytes.
	stream = append(stream, ipcFrame(&info2, true, "")...)
	for off := 0; off < len(stream); {
		k := min(7, len(stream)-off)
		written := false
		require.NoError(t, a.Write([][]byte{stream[off : off+k]}, func(err error) { require.NoError(t, err); written = true }))
		testutil.RunUntil(t, l, winLimit, func() bool { return written })
		off += k
	}
	testutil.RunUntil(t, l, winLimit, func() bool { return got.Len() == len("first;with socket;last") && recv2 != nil })
	assert.Equal(t, "first;with socket;last", got.String())
	require.NotNil(t, recv, "the socket in the frame")
	roundTrip(t, l, ncs[0], "split frames")
	roundTrip(t, l, ncs[1], "socket without data")

	bad := ipcFrame(nil, false, "x")
	bad[12] = 1 // reserved2 must be zero
	require.NoError(t, a.Write([][]byte{bad}, nil))
	testutil.RunUntil(t, l, winLimit, func() bool { return readErr != nil })
	assert.ErrorIs(t, readErr, syscall.ECONNABORTED)
	testutil.CloseAll(t, l, a, b, srv)
	testutil.CloseAll(t, l, recv, recv2)
	testutil.CloseLoop(t, l)
}

// Misuse is refused with clear errors: Write2 on a pipe that is not an
// IPC one (EINVAL), without a byte to carry the handle (EINVAL), of a
// named pipe handle (ENOTSUP: only TCP sockets travel, as in libuv).
func TestWindowsPipeIPCWrite2Errors(t *testing.T) {
	l := testutil.NewLoop(t)
	a, b, srv := ipcPair(t, l)
	conns, _ := tcpConns(t, l, 1)
	name := pipeName()
	var acc []*pipe.Pipe
	plainSrv := winListen(t, l, name, &acc, nil)
	plain, err := winConnect(t, l, name)
	require.NoError(t, err)
	assert.ErrorIs(t, plain.Write2([][]byte{[]byte("x")}, &conns[0].Stream, nil), syscall.EINVAL, "not an IPC pipe")
	assert.ErrorIs(t, a.Write2(nil, &conns[0].Stream, nil), syscall.EINVAL, "no byte to carry it")
	assert.ErrorIs(t, a.Write2([][]byte{[]byte("x")}, &b.Stream, nil), syscall.ENOTSUP, "a pipe handle")
	// conns[0] is still usable after the refusals (each refusal closed
	// only its duplicate).
	_, err = conns[0].PeerName()
	assert.NoError(t, err)
	testutil.RunUntil(t, l, winLimit, func() bool { return len(acc) == 1 })
	testutil.CloseAll(t, l, a, b, srv, plain, plainSrv, acc[0])
	conns[0].Close(nil)
	testutil.CloseLoop(t, l)
}
