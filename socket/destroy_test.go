//go:build !windows

package socket_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// DES-01: Destroy sets Destroyed at once and returns the socket; 'close'
// follows asynchronously with hadError=false; destroying twice (or again
// from 'error') is harmless and 'close' fires once.
func TestDestroy(t *testing.T) {
	e := newEnv(t)
	var ev *testutil.Events
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
	assert.Equal(t, []string{"connect", "ready", "close:false"}, ev.Get())
	assert.Equal(t, []string{"error:", "close:true"}, otherEv.Get())
}

// DES-02: Destroy(err) emits 'error'(err) before 'close'(true), and
// 'error' at most once.
func TestDestroyErrorBeforeClose(t *testing.T) {
	e := newEnv(t)
	var ev *testutil.Events
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
	assert.Equal(t, []string{"connect", "ready", "error:EBOOM", "close:true"}, ev.Get())
	require.Len(t, got, 1)
	assert.Same(t, boom, got[0])
}

// DES-03: the per-socket order is connect, ready, data*, end, finish (on
// either side of end), close; nothing follows 'close'. Checked on both
// ends, over TCP and Unix sockets.
func TestEventOrder(t *testing.T) {
	for _, kind := range []string{"tcp", "unix"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t)
			var srvEv, cliEv *testutil.Events
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
			assert.Equal(t, []string{"data", "end", "finish", "close:false"}, srvEv.Get())
			assert.Equal(t, []string{"connect", "ready", "finish", "data", "end", "close:false"}, cliEv.Get())
		})
	}
}

// DES-04: Destroy on a socket that never connected still emits 'close',
// asynchronously.
func TestDestroyUnconnected(t *testing.T) {
	e := newEnv(t)
	c := e.newSocket(socket.Options{})
	ev := track(c, false)
	c.Destroy(nil)
	assert.Empty(t, ev.Get())
	e.run()
	assert.Equal(t, []string{"close:false"}, ev.Get())
}

// DES-05: ResetAndDestroy sends RST: the peer gets 'error' ECONNRESET
// ("read ECONNRESET"); the local socket emits no 'error', gets 'close',
// and later writes fail through their callback with ERR_STREAM_DESTROYED.
func TestResetAndDestroy(t *testing.T) {
	e := newEnv(t)
	var srvEv, cliEv *testutil.Events
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
	assert.Equal(t, []string{"connect", "ready", "close:false"}, cliEv.Get())
	assert.Equal(t, []string{"error:ECONNRESET", "close:true"}, srvEv.Get())
	require.Error(t, peerErr)
	assert.Equal(t, "read ECONNRESET", peerErr.Error())
	assert.Equal(t, errs.CodeStreamDestroyed, code(writeErr))
}

// DES-06: ResetAndDestroy while connecting waits for the connection, then
// resets: the server's socket gets ECONNRESET and the client 'close'.
func TestResetWhileConnecting(t *testing.T) {
	e := newEnv(t)
	var srvEv, cliEv *testutil.Events
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		srvEv = track(s, true)
	}, func(c *socket.Socket) {
		cliEv = track(c, true)
		require.True(t, c.Connecting())
		_, err := c.ResetAndDestroy()
		require.NoError(t, err)
	})
	e.run()
	assert.Equal(t, []string{"close:false"}, cliEv.Get())
	assert.Equal(t, []string{"error:ECONNRESET", "close:true"}, srvEv.Get())
}

// DES-07: ResetAndDestroy without a handle emits ERR_SOCKET_CLOSED;
// calling it from a failed connect's 'error' is harmless ('close' once);
// on a pipe socket it fails with ERR_INVALID_HANDLE_TYPE.
func TestResetWithoutHandleOrOnPipe(t *testing.T) {
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
	assert.Equal(t, []string{"error:ERR_SOCKET_CLOSED", "close:true"}, loneEv.Get())
	assert.Equal(t, []string{"error:ECONNREFUSED", "close:true"}, badEv.Get())
	assert.Equal(t, errs.CodeInvalidHandleType, code(pipeErr))
}

// ResetAndDestroy fails the writes still queued in the socket, corked or
// made while connecting: each callback runs exactly once.
func TestResetAndDestroyRunsQueuedWriteCallbacks(t *testing.T) {
	for _, mode := range []string{"corked", "connecting"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			cbRuns := 0
			var client *socket.Socket
			e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
				s.OnData(func([]byte) {})
				s.OnError(func(error) {}) // the reset reaches it as ECONNRESET
			}, func(c *socket.Socket) {
				client = c
				write := func() { c.Write([]byte("x"), func(error) { cbRuns++ }) }
				if mode == "corked" {
					c.OnConnect(func() {
						c.Cork()
						write()
						c.ResetAndDestroy()
					})
					return
				}
				write()
				c.ResetAndDestroy() // waits for the connection, then resets
			})
			e.run()
			assert.Equal(t, 1, cbRuns, "write callback runs (writableLength %d)", client.WritableLength())
		})
	}
}

// DES-08: after 'close' the setters, Pause/Resume and the address getters
// do not panic; BufferSize is 0 and Address() is empty.
func TestCallsAfterClose(t *testing.T) {
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
func TestDestroySoon(t *testing.T) {
	e := newEnv(t)
	var got []byte
	var ev *testutil.Events
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
	log := ev.Get()
	assert.Equal(t, []string{"connect", "ready", "finish", "close:false"}, log)
}

// DES-10: inside 'close': hadError is right, Readable and Writable are
// false, ReadyState is "closed" and Pending is true.
func TestStateInsideClose(t *testing.T) {
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

// AB-01: a Context (Node's AbortSignal) destroys the socket with an
// AbortError ('error' ABORT_ERR then 'close'): already done before
// construction, cancelled right after connect, or cancelled later.
func TestContextAbort(t *testing.T) {
	e := newEnv(t)
	var logs []*testutil.Events
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
	assert.Equal(t, []string{"error:ABORT_ERR", "close:true"}, logs[0].Get())
	assert.Equal(t, "error:ABORT_ERR,close:true", logs[1].String())
	assert.Equal(t, []string{"connect", "ready", "error:ABORT_ERR", "close:true"}, logs[2].Get())
	assert.Equal(t, []string{"connect", "ready", "finish", "end", "close:false"}, logs[3].Get())
	require.Len(t, causes, 3)
	for _, err := range causes {
		ee := testutil.AsError(t, err)
		assert.Equal(t, errs.CodeAbort, ee.Code)
		assert.Equal(t, "The operation was aborted", ee.Error())
	}
	assert.True(t, errors.Is(causes[0], cause) || testutil.AsError(t, causes[0]).Cause == cause)
}
