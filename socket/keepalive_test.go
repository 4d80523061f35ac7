//go:build linux

package socket_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

func sockopt(t testing.TB, s *socket.Socket, level, opt int) int {
	t.Helper()
	fd := socket.FdOf(s)
	require.GreaterOrEqual(t, fd, 0)
	v, err := unix.GetsockoptInt(fd, level, opt)
	require.NoError(t, err)
	return v
}

func noDelayOf(t testing.TB, s *socket.Socket) bool {
	return sockopt(t, s, unix.IPPROTO_TCP, unix.TCP_NODELAY) != 0
}

func keepAliveOf(t testing.TB, s *socket.Socket) bool {
	return sockopt(t, s, unix.SOL_SOCKET, unix.SO_KEEPALIVE) != 0
}

// KA-01: Nagle is on by default; SetNoDelay before connect is remembered
// and applied once connected; it returns the socket; SetNoDelay(false)
// turns Nagle back on.
func TestKA01_SetNoDelay(t *testing.T) {
	e := newEnv(t)
	var got []bool
	var srv *server.Server
	n := 0
	srv = e.server(server.Options{}, func(s *socket.Socket) {
		if n++; n == 2 {
			srv.Close(nil)
		}
		got = append(got, noDelayOf(t, s)) // accepted: Nagle on
		s.OnData(func([]byte) {})
	})
	e.listenTCP(srv, func(port int) {
		plain := e.newSocket(socket.Options{})
		require.NoError(t, plain.ConnectTCP(port, "127.0.0.1"))
		plain.OnData(func([]byte) {})
		plain.OnConnect(func() {
			assert.False(t, noDelayOf(t, plain), "Node's default is Nagle on")
			assert.Same(t, plain, plain.SetNoDelay(false))
			assert.False(t, noDelayOf(t, plain))
			plain.SetNoDelay(true)
			assert.True(t, noDelayOf(t, plain))
			plain.SetNoDelay(true)
			assert.True(t, noDelayOf(t, plain))
			plain.SetNoDelay(false)
			assert.False(t, noDelayOf(t, plain))
			plain.End(nil)
		})
		early := e.newSocket(socket.Options{})
		assert.Same(t, early, early.SetNoDelay(true))
		require.NoError(t, early.ConnectTCP(port, "127.0.0.1"))
		early.OnData(func([]byte) {})
		early.OnConnect(func() {
			assert.True(t, noDelayOf(t, early), "remembered before connect")
			early.End(nil)
		})
	})
	e.run()
	assert.Equal(t, []bool{false, false}, got)
}

// KA-02: SetKeepAlive converts the delay to whole seconds, is remembered
// before connect, and returns the socket.
func TestKA02_SetKeepAlive(t *testing.T) {
	e := newEnv(t)
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		assert.Same(t, c, c.SetKeepAlive(true, 5500*time.Millisecond))
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			assert.True(t, keepAliveOf(t, c))
			if runtime.GOOS == "linux" {
				assert.Equal(t, 5, sockopt(t, c, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE))
			}
			c.SetKeepAlive(true, 7*time.Second)
			if runtime.GOOS == "linux" {
				assert.Equal(t, 7, sockopt(t, c, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE))
			}
			c.SetKeepAlive(false, 0)
			assert.False(t, keepAliveOf(t, c))
			c.End(nil)
		})
	})
	e.run()
}

// KA-03: the connect options NoDelay, KeepAlive and KeepAliveInitialDelay
// apply right after connect (456 123 ms → 456 s); false sets nothing.
func TestKA03_ConnectOptions(t *testing.T) {
	e := newEnv(t)
	var srv *server.Server
	n := 0
	srv = e.server(server.Options{}, func(s *socket.Socket) {
		if n++; n == 2 {
			srv.Close(nil)
		}
		s.OnData(func([]byte) {})
	})
	e.listenTCP(srv, func(port int) {
		on := e.newSocket(socket.Options{})
		require.NoError(t, on.Connect(socket.ConnectOptions{Port: port, Host: "127.0.0.1", NoDelay: true, KeepAlive: true, KeepAliveInitialDelay: 456123 * time.Millisecond}))
		on.OnData(func([]byte) {})
		on.OnConnect(func() {
			assert.True(t, noDelayOf(t, on))
			assert.True(t, keepAliveOf(t, on))
			if runtime.GOOS == "linux" {
				assert.Equal(t, 456, sockopt(t, on, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE))
			}
			on.End(nil)
		})
		off := e.newSocket(socket.Options{})
		require.NoError(t, off.Connect(socket.ConnectOptions{Port: port, Host: "127.0.0.1"}))
		off.OnData(func([]byte) {})
		off.OnConnect(func() {
			assert.False(t, noDelayOf(t, off))
			assert.False(t, keepAliveOf(t, off))
			off.End(nil)
		})
	})
	e.run()
}

// KA-04: the server options NoDelay and KeepAlive are applied to accepted
// sockets before 'connection'.
func TestKA04_ServerOptions(t *testing.T) {
	e := newEnv(t)
	var nd, ka bool
	e.pair(server.Options{NoDelay: true, KeepAlive: true, KeepAliveInitialDelay: 3 * time.Second}, socket.Options{}, func(s *socket.Socket) {
		nd, ka = noDelayOf(t, s), keepAliveOf(t, s)
		if runtime.GOOS == "linux" {
			assert.Equal(t, 3, sockopt(t, s, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE))
		}
		s.SetNoDelay(true) // a no-op now
		assert.True(t, noDelayOf(t, s))
		s.OnData(func([]byte) {})
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.End(nil)
	})
	e.run()
	assert.True(t, nd)
	assert.True(t, ka)
}

// AB-01: a Context (Node's AbortSignal) destroys the socket with an
// AbortError ('error' ABORT_ERR then 'close'): already done before
// construction, cancelled right after connect, or cancelled later.
func TestAB01_ContextAbort(t *testing.T) {
	e := newEnv(t)
	var logs []*events
	var causes []error
	cause := errors.New("why")
	mk := func(ctx context.Context) *socket.Socket {
		c := e.newSocket(socket.Options{Context: ctx})
		logs = append(logs, track(c, false))
		c.OnError(func(err error) { causes = append(causes, err) })
		return c
	}
	srv := e.server(server.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) })
	e.listenTCP(srv, func(port int) {
		// Aborted before construction.
		done, cancel0 := context.WithCancelCause(context.Background())
		cancel0(cause)
		a := mk(done)
		require.NoError(t, a.ConnectTCP(port, "127.0.0.1"))

		// Aborted right after connect.
		ctx1, cancel1 := context.WithCancel(context.Background())
		b := mk(ctx1)
		require.NoError(t, b.ConnectTCP(port, "127.0.0.1"))
		cancel1()

		// Aborted on a later tick, once connected.
		ctx2, cancel2 := context.WithCancel(context.Background())
		c := mk(ctx2)
		require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
		c.OnData(func([]byte) {})
		c.OnConnect(func() { e.after(20*time.Millisecond, cancel2) })

		// Ends normally; a later cancel does nothing.
		ctx3, cancel3 := context.WithCancel(context.Background())
		d := mk(ctx3)
		require.NoError(t, d.ConnectTCP(port, "127.0.0.1"))
		d.OnData(func([]byte) {})
		d.OnConnect(func() { d.End(nil) })
		d.OnClose(func(bool) {
			cancel3()
			e.after(50*time.Millisecond, func() { srv.Close(nil) })
		})
	})
	e.run()
	require.Len(t, logs, 4)
	assert.Equal(t, []string{"error:ABORT_ERR", "close:true"}, logs[0].get())
	assert.Equal(t, "error:ABORT_ERR,close:true", logs[1].String())
	assert.Equal(t, []string{"connect", "ready", "error:ABORT_ERR", "close:true"}, logs[2].get())
	assert.Equal(t, []string{"connect", "ready", "finish", "end", "close:false"}, logs[3].get())
	require.Len(t, causes, 3)
	for _, err := range causes {
		ee := asErr(t, err)
		assert.Equal(t, errs.CodeAbort, ee.Code)
		assert.Equal(t, "The operation was aborted", ee.Error())
	}
	assert.True(t, errors.Is(causes[0], cause) || asErr(t, causes[0]).Cause == cause)
}
