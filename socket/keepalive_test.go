//go:build linux

package socket_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// sockopt reads the int socket option level/opt of s's descriptor.
func sockopt(t testing.TB, s *socket.Socket, level, opt int) int {
	t.Helper()
	fd := socket.FdOf(s)
	require.GreaterOrEqual(t, fd, 0)
	v, err := unix.GetsockoptInt(fd, level, opt)
	require.NoError(t, err)
	return v
}

// noDelayOf reports whether TCP_NODELAY is set on s (Nagle off).
func noDelayOf(t testing.TB, s *socket.Socket) bool {
	return sockopt(t, s, unix.IPPROTO_TCP, unix.TCP_NODELAY) != 0
}

// keepAliveOf reports whether SO_KEEPALIVE is set on s.
func keepAliveOf(t testing.TB, s *socket.Socket) bool {
	return sockopt(t, s, unix.SOL_SOCKET, unix.SO_KEEPALIVE) != 0
}

// KA-01: Nagle is on by default; SetNoDelay before connect is remembered
// and applied once connected; it returns the socket; SetNoDelay(false)
// turns Nagle back on.
func TestSetNoDelay(t *testing.T) {
	e := newEnv(t)
	var got []bool
	e.listenN(2, func(s *socket.Socket) {
		got = append(got, noDelayOf(t, s)) // accepted: Nagle on
	}, func(port int) {
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

// SetNoDelay(true) made before the first connect is applied again when
// the Socket reconnects from 'close'.
func TestSetNoDelaySurvivesReconnect(t *testing.T) {
	e := newEnv(t)
	var got []bool
	e.listenN(2, nil, func(port int) {
		c := e.newSocket(socket.Options{})
		c.SetNoDelay(true)
		c.OnData(func([]byte) {})
		c.OnceConnect(func() {
			got = append(got, noDelayOf(t, c))
			c.OnceClose(func(bool) {
				require.NoError(t, c.ConnectTCP(port, "127.0.0.1", func() {
					got = append(got, noDelayOf(t, c))
					c.End(nil)
				}))
			})
			c.Destroy(nil)
		})
		require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
	})
	e.run()
	assert.Equal(t, []bool{true, true}, got, "TCP_NODELAY on the first connection and after the reconnect")
}

// KA-02: SetKeepAlive converts the delay to whole seconds, is remembered
// before connect, and returns the socket.
func TestSetKeepAlive(t *testing.T) {
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
func TestConnectOptionsNoDelayKeepAlive(t *testing.T) {
	e := newEnv(t)
	e.listenN(2, nil, func(port int) {
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
func TestServerOptionsNoDelayKeepAlive(t *testing.T) {
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
