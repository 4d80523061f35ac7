//go:build !windows

package socket_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// DES-01: Destroy sets Destroyed at once and returns the socket; 'close'
// follows asynchronously with hadError=false; destroying twice (or again
// from 'error') is harmless and 'close' fires once.
func TestDES01_Destroy(t *testing.T) {
	e := newEnv(t)
	var ev *events
	closedInCall := false
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		ev = track(c, true)
		c.OnConnect(func() {
			c.OnClose(func(bool) { closedInCall = true })
			assert.Same(t, c, c.Destroy(nil))
			assert.True(t, c.Destroyed())
			assert.False(t, closedInCall, "'close' is asynchronous")
			c.Destroy(nil)
		})
	})
	other := e.newSocket(socket.Options{})
	otherEv := track(other, false)
	other.OnError(func(error) { other.Destroy(nil) })
	other.Destroy(errors.New("boom"))
	other.Destroy(errors.New("again"))
	e.run()
	assert.Equal(t, []string{"connect", "ready", "close:false"}, ev.get())
	assert.Equal(t, []string{"error:", "close:true"}, otherEv.get())
}

// DES-02: Destroy(err) emits 'error'(err) before 'close'(true), and
// 'error' at most once.
func TestDES02_ErrorBeforeClose(t *testing.T) {
	e := newEnv(t)
	var ev *events
	boom := errx.New("EBOOM", "boom")
	var got []error
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		ev = track(c, true)
		c.OnError(func(err error) { got = append(got, err) })
		c.OnConnect(func() {
			c.Destroy(boom)
			c.Destroy(errx.New("ESECOND", "second"))
			c.Write([]byte("x")) // no second 'error'
		})
	})
	e.run()
	assert.Equal(t, []string{"connect", "ready", "error:EBOOM", "close:true"}, ev.get())
	require.Len(t, got, 1)
	assert.Same(t, boom, got[0])
}

// DES-03: the per-socket order is connect, ready, data*, end, finish (on
// either side of end), close; nothing follows 'close'. Checked on both
// ends, over TCP and Unix sockets.
func TestDES03_EventOrder(t *testing.T) {
	for _, kind := range []string{"tcp", "unix"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t)
			var srvEv, cliEv *events
			onServer := func(s *socket.Socket) {
				srvEv = track(s, true)
				s.OnData(func(b []byte) { s.Write(b) })
			}
			onClient := func(c *socket.Socket) {
				cliEv = track(c, true)
				c.OnConnect(func() {
					c.Write([]byte("one"))
					c.End([]byte("two"))
				})
			}
			if kind == "tcp" {
				e.pair(server.Options{}, socket.Options{}, onServer, onClient)
			} else {
				e.pairPath(server.Options{}, socket.Options{}, onServer, onClient)
			}
			e.run()
			assert.Equal(t, []string{"data", "end", "finish", "close:false"}, srvEv.get())
			assert.Equal(t, []string{"connect", "ready", "finish", "data", "end", "close:false"}, cliEv.get())
		})
	}
}

// DES-04: Destroy on a socket that never connected still emits 'close',
// asynchronously.
func TestDES04_DestroyUnconnected(t *testing.T) {
	e := newEnv(t)
	c := e.newSocket(socket.Options{})
	ev := track(c, false)
	c.Destroy(nil)
	assert.Empty(t, ev.get())
	e.run()
	assert.Equal(t, []string{"close:false"}, ev.get())
}

// DES-05: ResetAndDestroy sends RST: the peer gets 'error' ECONNRESET
// ("read ECONNRESET"); the local socket emits no 'error', gets 'close',
// and later writes fail through their callback with ERR_STREAM_DESTROYED.
func TestDES05_ResetAndDestroy(t *testing.T) {
	e := newEnv(t)
	var srvEv, cliEv *events
	var peerErr, writeErr error
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		srvEv = track(s, true)
		s.OnError(func(err error) { peerErr = err })
	}, func(c *socket.Socket) {
		cliEv = track(c, true)
		c.OnConnect(func() {
			r, err := c.ResetAndDestroy()
			require.NoError(t, err)
			assert.Same(t, c, r)
			c.Write([]byte("x"), func(err error) { writeErr = err })
		})
	})
	e.run()
	assert.Equal(t, []string{"connect", "ready", "close:false"}, cliEv.get())
	assert.Equal(t, []string{"error:ECONNRESET", "close:true"}, srvEv.get())
	require.Error(t, peerErr)
	assert.Equal(t, "read ECONNRESET", peerErr.Error())
	assert.Equal(t, errs.CodeStreamDestroyed, code(writeErr))
}

// DES-06: ResetAndDestroy while connecting waits for the connection, then
// resets: the server's socket gets ECONNRESET and the client 'close'.
func TestDES06_ResetWhileConnecting(t *testing.T) {
	e := newEnv(t)
	var srvEv, cliEv *events
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		srvEv = track(s, true)
	}, func(c *socket.Socket) {
		cliEv = track(c, true)
		require.True(t, c.Connecting())
		_, err := c.ResetAndDestroy()
		require.NoError(t, err)
	})
	e.run()
	assert.Equal(t, []string{"close:false"}, cliEv.get())
	assert.Equal(t, []string{"error:ECONNRESET", "close:true"}, srvEv.get())
}

// DES-07: ResetAndDestroy without a handle emits ERR_SOCKET_CLOSED;
// calling it from a failed connect's 'error' is harmless ('close' once);
// on a pipe socket it fails with ERR_INVALID_HANDLE_TYPE.
func TestDES07_ResetWithoutHandleOrOnPipe(t *testing.T) {
	e := newEnv(t)
	lone := e.newSocket(socket.Options{})
	loneEv := track(lone, false)
	_, err := lone.ResetAndDestroy()
	require.NoError(t, err)

	bad := e.newSocket(socket.Options{})
	badEv := track(bad, false)
	bad.OnError(func(error) { bad.ResetAndDestroy() })
	require.NoError(t, bad.ConnectTCP(freePort(t), "127.0.0.1"))

	var pipeErr error
	e.pairPath(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			_, pipeErr = c.ResetAndDestroy()
			c.End(nil)
		})
	})
	e.run()
	assert.Equal(t, []string{"error:ERR_SOCKET_CLOSED", "close:true"}, loneEv.get())
	assert.Equal(t, []string{"error:ECONNREFUSED", "close:true"}, badEv.get())
	assert.Equal(t, errs.CodeInvalidHandleType, code(pipeErr))
}

// DES-08: after 'close' the setters, Pause/Resume and the address getters
// do not panic; BufferSize is 0 and Address() is empty.
func TestDES08_CallsAfterClose(t *testing.T) {
	e := newEnv(t)
	var afterClose func()
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() { c.Destroy(nil) })
		c.OnClose(func(bool) {
			afterClose = func() {
				c.SetNoDelay(true)
				c.SetKeepAlive(true, time.Second)
				c.Pause()
				c.Resume()
				assert.Equal(t, socket.AddressInfo{}, c.Address())
				assert.Equal(t, 0, c.BufferSize())
				assert.Equal(t, "127.0.0.1", c.RemoteAddress())
				assert.NotZero(t, c.RemotePort())
				c.Ref()
				c.Unref()
				c.SetTimeout(time.Second)
				c.End(nil)
				c.Destroy(nil)
			}
			afterClose()
		})
	})
	e.run()
	require.NotNil(t, afterClose)
	afterClose() // and after the loop stopped
}

// DES-09: DestroySoon ends the writable side and destroys the socket
// after 'finish', so queued data is flushed first.
func TestDES09_DestroySoon(t *testing.T) {
	e := newEnv(t)
	var got []byte
	var ev *events
	payload := []byte(strings.Repeat("z", 1<<20))
	e.pair(server.Options{AllowHalfOpen: true}, socket.Options{AllowHalfOpen: true}, func(s *socket.Socket) {
		s.OnData(func(b []byte) { got = append(got, b...) })
		s.OnEnd(func() { s.End(nil) })
	}, func(c *socket.Socket) {
		ev = track(c, false)
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			c.Write(payload)
			c.DestroySoon()
		})
	})
	e.run()
	assert.Equal(t, len(payload), len(got))
	log := ev.get()
	assert.Equal(t, []string{"connect", "ready", "finish", "close:false"}, log)
}

// DES-10: inside 'close': hadError is right, Readable and Writable are
// false, ReadyState is "closed" and Pending is true.
func TestDES10_StateInsideClose(t *testing.T) {
	e := newEnv(t)
	type st struct {
		hadError, readable, writable, pending bool
		ready                                 string
	}
	var got []st
	rec := func(s *socket.Socket) {
		s.OnClose(func(hadError bool) {
			got = append(got, st{hadError, s.Readable(), s.Writable(), s.Pending(), s.ReadyState()})
		})
	}
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
		rec(s)
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		rec(c)
		c.End([]byte("x"))
	})
	bad := e.newSocket(socket.Options{})
	bad.OnError(func(error) {})
	rec(bad)
	require.NoError(t, bad.ConnectTCP(freePort(t), "127.0.0.1"))
	e.run()
	require.Len(t, got, 3)
	errCount := 0
	for _, g := range got {
		if g.hadError {
			errCount++
		}
		assert.False(t, g.readable)
		assert.False(t, g.writable)
		assert.True(t, g.pending)
		assert.Equal(t, "closed", g.ready)
	}
	assert.Equal(t, 1, errCount)
}
