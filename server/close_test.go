//go:build !windows

package server_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// CLS-01: Close stops accepting at once but leaves live connections
// working; 'close' and the Close callback come only after the last
// accepted socket was destroyed. Close returns the server.
func TestCloseStopsAcceptingButKeepsConnections(t *testing.T) {
	e := newEnv(t)
	var s *server.Server
	s = e.server(server.Options{}, func(c *socket.Socket) {
		e.log("connection")
		assert.Same(t, s, s.Close(func(err error) {
			assert.NoError(t, err)
			e.log("close cb")
		}))
		assert.False(t, s.Listening())
		c.OnData(func(b []byte) { c.Write(b) })
		c.OnEnd(func() { e.log("server socket end") })
		c.OnClose(func(bool) { e.log("server socket close") })
	})
	s.OnClose(func() {
		e.log("server close, count %d", s.Connections())
	})
	e.listen(s, func(port int) {
		c1 := e.dial(port)
		c1.OnData(func(b []byte) {
			e.log("c1 echo %s", b)
			// A new client is refused while c1 still works.
			c2 := e.dial(port)
			c2.OnConnect(func() { t.Error("connected to a closed server") })
			c2.OnError(func(err error) {
				e.log("c2 %s", errs.CodeOf(err))
				c1.End(nil)
			})
		})
		c1.OnConnect(func() {
			// 'connection' (and Close) happen on the server first or
			// after; either way c1 keeps working.
			e.after(20*time.Millisecond, func() { c1.Write([]byte("still here")) })
		})
	})
	e.run()
	assert.Equal(t, []string{
		"connection", "c1 echo still here", "c2 ECONNREFUSED",
		"server socket end", "server close, count 0", "close cb", "server socket close",
	}, e.got())
	e.finish()
}

// Close waits for every accepted connection: 'close' (and the callback)
// come only after the last one is destroyed, and the count goes down one
// by one.
func TestCloseWaitsForEveryConnection(t *testing.T) {
	const n = 5
	e := newEnv(t)
	var s *server.Server
	var conns []*socket.Socket
	var destroyNext func()
	destroyNext = func() {
		c := conns[0]
		conns = conns[1:]
		c.Destroy(nil)
		e.log("destroyed, %d left", s.Connections())
		if len(conns) > 0 {
			e.after(5*time.Millisecond, destroyNext)
		}
	}
	s = e.server(server.Options{}, func(c *socket.Socket) {
		conns = append(conns, c)
		if len(conns) == n {
			s.Close(func(err error) {
				assert.NoError(t, err)
				e.log("close cb")
			})
			e.after(5*time.Millisecond, destroyNext)
		}
	})
	s.OnClose(func() { e.log("close") })
	e.listen(s, func(port int) {
		for i := 0; i < n; i++ {
			c := e.dial(port)
			c.OnError(func(error) {})
		}
	})
	e.run()
	var want []string
	for i := n - 1; i >= 0; i-- {
		want = append(want, fmt.Sprintf("destroyed, %d left", i))
	}
	want = append(want, "close", "close cb")
	assert.Equal(t, want, e.got())
	e.finish()
}

// CLS-02: Close(cb) on a listening server passes nil to cb when 'close'
// fires; on a server that is not running cb gets ERR_SERVER_NOT_RUNNING and
// 'close' is still emitted.
func TestCloseCallback(t *testing.T) {
	e := newEnv(t)
	never := e.server(server.Options{}, nil)
	never.OnClose(func() { e.log("never: close") })
	never.Close(func(err error) {
		require.Error(t, err)
		assert.True(t, errors.Is(err, errs.ErrServerNotRunning))
		assert.Equal(t, "Server is not running.", err.Error())
		e.log("never: cb %s", errs.CodeOf(err))
	})
	e.log("returned")
	s := e.server(server.Options{}, nil)
	s.OnClose(func() { e.log("s: close") })
	e.listen(s, func(int) {
		s.Close(func(err error) {
			assert.NoError(t, err)
			e.log("s: cb <nil>")
			// Already closed.
			s.Close(func(err error) { e.log("s: second cb %s", errs.CodeOf(err)) })
		})
	})
	e.run()
	assert.Equal(t, []string{
		"returned", "never: close", "never: cb ERR_SERVER_NOT_RUNNING",
		"s: close", "s: cb <nil>", "s: close", "s: second cb ERR_SERVER_NOT_RUNNING",
	}, e.got())
	e.finish()
}

// CLS-03: Close in the same tick as Listen cancels it: no 'listening', no
// 'error', and 'close' is emitted. The same holds while a host name is
// being resolved.
func TestCloseBeforeListening(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"port", "lookup", "path"} {
		s := e.server(server.Options{}, nil)
		var err error
		switch name {
		case "port":
			err = s.Listen(0, func() { t.Error("port: 'listening' after close") })
		case "lookup":
			err = s.ListenHost(0, "localhost", 0, func() { t.Error("lookup: 'listening' after close") })
		case "path":
			err = s.ListenPath(testutil.SockPath(t), func() { t.Error("path: 'listening' after close") })
		}
		require.NoError(t, err)
		s.OnError(func(err error) { t.Errorf("%s: error %v", name, err) })
		s.OnClose(func() { e.log("%s: close", name) })
		s.Close(nil)
		assert.Nil(t, s.Address())
	}
	e.run()
	assert.Equal(t, []string{"port: close", "lookup: close", "path: close"}, e.got())
	e.finish()
}

// CLS-04: Listening is false before listen, true in 'listening', false in
// the close callback; Address is nil after close.
func TestListeningFlag(t *testing.T) {
	e := newEnv(t)
	s := e.server(server.Options{}, nil)
	assert.False(t, s.Listening())
	assert.Nil(t, s.Address())
	e.listen(s, func(int) {
		assert.True(t, s.Listening())
		s.Close(func(error) {
			assert.False(t, s.Listening())
			assert.Nil(t, s.Address())
			e.log("closed")
		})
		assert.False(t, s.Listening())
		assert.Nil(t, s.Address())
	})
	e.run()
	assert.Equal(t, []string{"closed"}, e.got())
	e.finish()
}

// CLS-05: GetConnections calls back asynchronously with (nil, count),
// returns the server, and works on a server that never listened.
func TestGetConnectionsAsync(t *testing.T) {
	e := newEnv(t)
	s := e.server(server.Options{}, nil)
	assert.Same(t, s, s.GetConnections(func(err error, n int) {
		assert.NoError(t, err)
		e.log("count %d", n)
	}))
	e.log("returned")
	e.run()
	assert.Equal(t, []string{"returned", "count 0"}, e.got())
	e.finish()
}

// CLS-06: Unref lets the loop exit while the server listens, also when
// called before Listen; Ref undoes it; both return the server. The same
// holds for pipe servers.
func TestRefUnref(t *testing.T) {
	for _, kind := range []string{"tcp", "pipe"} {
		t.Run(kind, func(t *testing.T) {
			listen := func(e *env, s *server.Server) {
				if kind == "tcp" {
					require.NoError(t, s.ListenHost(0, "127.0.0.1", 0))
				} else {
					require.NoError(t, s.ListenPath(testutil.SockPath(t)))
				}
			}
			// Unref before Listen persists: the loop exits while listening.
			e := newEnv(t)
			s := e.server(server.Options{}, nil)
			assert.Same(t, s, s.Unref())
			listen(e, s)
			start := time.Now()
			e.run()
			assert.Less(t, time.Since(start), 5*time.Second)
			assert.True(t, s.Listening(), "the unref'd server still listens")
			// Ref keeps the loop running again, until the server closes.
			assert.Same(t, s, s.Ref())
			stopper := handle.NewTimer(e.l)
			stopper.Unref()
			require.NoError(t, stopper.Start(50*time.Millisecond, 0, func() {
				e.log("stopper")
				stopper.Close(nil)
				s.Close(nil)
			}))
			e.run()
			assert.Equal(t, []string{"stopper"}, e.got())

			// Unref after listening.
			s2 := e.server(server.Options{}, nil)
			listen(e, s2)
			s2.OnListening(func() { s2.Unref() })
			e.run()
			assert.True(t, s2.Listening())
			s2.Close(nil)
			e.run()
			e.finish()
		})
	}
}

// CLS-07: ResetAndDestroy on accepted sockets sends RST: each client gets
// ECONNRESET; the server's 'close' follows once they are all gone.
func TestResetAndDestroyAccepted(t *testing.T) {
	e := newEnv(t)
	var s *server.Server
	var conns []*socket.Socket
	received := 0
	s = e.server(server.Options{}, func(c *socket.Socket) {
		conns = append(conns, c)
		c.OnData(func([]byte) {
			if received++; received < 2 {
				return
			}
			s.Close(func(error) { e.log("server close") })
			for _, c := range conns {
				_, err := c.ResetAndDestroy()
				assert.NoError(t, err)
			}
		})
	})
	e.listen(s, func(port int) {
		for i := 0; i < 2; i++ {
			c := e.dial(port)
			c.OnError(func(err error) {
				assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
				e.log("client error %s", errs.CodeOf(err))
			})
			c.OnClose(func(hadError bool) { e.log("client close %v", hadError) })
			if i == 0 {
				c.Write([]byte("a"))
			} else {
				c.OnConnect(func() { e.after(20*time.Millisecond, func() { c.Write([]byte("b")) }) })
			}
		}
	})
	e.run()
	got := e.got()
	assert.Equal(t, "server close", got[0], "%q", got)
	assert.ElementsMatch(t, []string{
		"server close",
		"client error ECONNRESET", "client close true",
		"client error ECONNRESET", "client close true",
	}, got)
	e.finish()
}

// CLS-08: Dispose closes the server (Address is nil after) and succeeds on
// a server that is already closed, where Close reports
// ERR_SERVER_NOT_RUNNING.
func TestDispose(t *testing.T) {
	e := newEnv(t)
	s := e.server(server.Options{}, nil)
	e.listen(s, func(int) {
		s.Dispose(func() {
			e.log("disposed")
			assert.Nil(t, s.Address())
			s.Dispose(func() {
				e.log("disposed again")
				s.Close(func(err error) { e.log("close %s", errs.CodeOf(err)) })
			})
		})
	})
	e.run()
	assert.Equal(t, []string{"disposed", "disposed again", "close ERR_SERVER_NOT_RUNNING"}, e.got())
	e.finish()
}
