//go:build !windows

package server_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// SRV-01: every "no port" form binds an OS-chosen ephemeral port and
// Address().Port reports it.
func TestListenEphemeralPort(t *testing.T) {
	e := newEnv(t)
	forms := []struct {
		name   string
		listen func(s *server.Server, cb func()) error
	}{
		{"Listen(0, cb)", func(s *server.Server, cb func()) error { return s.Listen(0, cb) }},
		{"Listen(0)+OnListening", func(s *server.Server, cb func()) error {
			err := s.Listen(0)
			s.OnListening(cb)
			return err
		}},
		{"ListenHost(0, 127.0.0.1)", func(s *server.Server, cb func()) error { return s.ListenHost(0, "127.0.0.1", 0, cb) }},
		{"ListenHost(0, ::1)", func(s *server.Server, cb func()) error { return s.ListenHost(0, "::1", 0, cb) }},
		{"ListenOptions{PortGiven, Host:127.0.0.1}", func(s *server.Server, cb func()) error {
			return s.ListenOptions(server.ListenOptions{PortGiven: true, Host: "127.0.0.1"}, cb)
		}},
		{"ListenOptions{Port:0, PortGiven, Host:::}", func(s *server.Server, cb func()) error {
			return s.ListenOptions(server.ListenOptions{Port: 0, PortGiven: true, Host: "::"}, cb)
		}},
		{"ListenOptions{PortGiven, Context}", func(s *server.Server, cb func()) error {
			return s.ListenOptions(server.ListenOptions{PortGiven: true, Context: context.Background()}, cb)
		}},
	}
	var want []string
	for _, f := range forms {
		s := e.server(server.Options{}, nil)
		s.OnError(func(err error) { t.Errorf("%s: error %v", f.name, err) })
		require.NoError(t, f.listen(s, func() {
			port := s.Address().Port
			assert.Greater(t, port, 0, f.name)
			assert.LessOrEqual(t, port, 65535, f.name)
			e.log("%s: listening", f.name)
			s.Close(nil)
		}), f.name)
		want = append(want, f.name+": listening")
	}
	e.run()
	assert.Equal(t, want, e.got())
	e.finish()
}

// SRV-02: 'listening' is asynchronous, and the listen callback is a
// one-shot listener that a later listen does not fire again.
func TestListeningAsyncAndOnce(t *testing.T) {
	e := newEnv(t)
	s := e.server(server.Options{}, nil)
	n := 0
	require.NoError(t, s.Listen(0, func() { e.log("cb") }))
	e.log("returned")
	// Attached after the call returned: still sees the event.
	s.OnListening(func() {
		n++
		e.log("listening %d", n)
		assert.True(t, s.Listening())
		if n == 1 {
			s.Close(func(err error) {
				assert.NoError(t, err)
				e.log("closed")
				require.NoError(t, s.Listen(0))
				e.log("relisten returned")
			})
			return
		}
		s.Close(nil)
	})
	e.run()
	assert.Equal(t, []string{"returned", "cb", "listening 1", "closed", "relisten returned", "listening 2"}, e.got())
	e.finish()
}

// SRV-03: a listen failure is emitted asynchronously as 'error' with
// Node's fields, never thrown, and no 'listening' follows.
func TestListenErrorAsync(t *testing.T) {
	for _, tc := range []struct {
		name    string
		host    string // "" uses Listen(port)
		address string
	}{
		{"explicit host", "127.0.0.1", "127.0.0.1"},
		{"no host", "", "::"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			a := e.server(server.Options{}, nil)
			listenA := func(cb func()) error {
				if tc.host == "" {
					return a.Listen(0, cb)
				}
				return a.ListenHost(0, tc.host, 0, cb)
			}
			require.NoError(t, listenA(func() {
				port := a.Address().Port
				b := e.server(server.Options{}, nil)
				var err error
				if tc.host == "" {
					err = b.Listen(port, func() { e.log("b listening") })
				} else {
					err = b.ListenHost(port, tc.host, 0, func() { e.log("b listening") })
				}
				require.NoError(t, err, "listen must not fail synchronously")
				e.log("listen returned")
				b.OnError(func(err error) {
					e.log("b error")
					ne := testutil.AsError(t, err)
					assert.Equal(t, "EADDRINUSE", ne.Code)
					assert.Equal(t, "listen", ne.Syscall)
					assert.Equal(t, tc.address, ne.Address)
					assert.Equal(t, port, ne.Port)
					assert.True(t, errors.Is(err, syscall.EADDRINUSE))
					assert.Equal(t, -int(syscall.EADDRINUSE), ne.UVErrno())
					wantMsg := "listen EADDRINUSE: address already in use " + tc.address + ":" + strconv.Itoa(port)
					if tc.address == "::" {
						wantMsg = "listen EADDRINUSE: address already in use :::" + strconv.Itoa(port)
					}
					assert.Equal(t, wantMsg, ne.Error())
					assert.False(t, b.Listening())
					assert.Nil(t, b.Address())
					a.Close(nil)
				})
			}))
			e.run()
			assert.Equal(t, []string{"listen returned", "b error"}, e.got())
			e.finish()
		})
	}
}

// TestListenBindsSynchronously: as in Node, Listen(0), Listen with an IP
// literal and ListenPath bind before returning, so Address() and
// Listening() are valid right after the call (the common
// `listen(0); port := address().port`); only 'listening' is deferred.
// Before the fix Address() was nil until the next tick.
func TestListenBindsSynchronously(t *testing.T) {
	l := testutil.NewLoop(t)
	path := testutil.SockPath(t)
	cases := []struct {
		name   string
		listen func(s *server.Server, cb func()) error
		check  func(s *server.Server)
	}{
		{"port 0", func(s *server.Server, cb func()) error { return s.Listen(0, cb) }, func(s *server.Server) {
			assert.Greater(t, s.Address().Port, 0)
		}},
		{"IP literal", func(s *server.Server, cb func()) error { return s.ListenHost(0, "127.0.0.1", 0, cb) }, func(s *server.Server) {
			assert.Equal(t, "127.0.0.1", s.Address().Address)
			assert.Greater(t, s.Address().Port, 0)
		}},
		{"path", func(s *server.Server, cb func()) error { return s.ListenPath(path, cb) }, func(s *server.Server) {
			assert.Equal(t, path, s.Address().Address)
			_, err := os.Stat(path)
			assert.NoError(t, err, "the socket file exists when ListenPath returns")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := server.New(server.Options{Loop: l}, nil)
			listening := 0
			require.NoError(t, c.listen(srv, func() { listening++ }))
			require.NotNil(t, srv.Address())
			assert.True(t, srv.Listening())
			c.check(srv)
			assert.Equal(t, 0, listening, "'listening' is emitted on the next tick, not inside Listen")
			testutil.RunUntil(t, l, 10*time.Second, func() bool { return listening == 1 })
			closed := false
			srv.Close(func(error) { closed = true })
			testutil.RunUntil(t, l, 10*time.Second, func() bool { return closed })
		})
	}
}

// TestListenErrorIsDeferred: a bind that fails inside Listen (the port is
// taken) leaves the server not listening at once and emits 'error' on the
// next tick, never inside the call, as Node's emitErrorNT.
func TestListenErrorIsDeferred(t *testing.T) {
	l := testutil.NewLoop(t)
	first := server.New(server.Options{Loop: l}, nil)
	require.NoError(t, first.ListenHost(0, "127.0.0.1", 0))
	port := first.Address().Port

	second := server.New(server.Options{Loop: l}, nil)
	var got error
	second.OnError(func(err error) { got = err })
	require.NoError(t, second.ListenHost(port, "127.0.0.1", 0))
	assert.Nil(t, got, "no error inside Listen")
	assert.False(t, second.Listening())
	assert.Nil(t, second.Address())
	testutil.RunUntil(t, l, 10*time.Second, func() bool { return got != nil })
	assert.ErrorIs(t, got, syscall.EADDRINUSE)
	closed := false
	first.Close(func(error) { closed = true })
	testutil.RunUntil(t, l, 10*time.Second, func() bool { return closed })
}

// TestListenFDNotASocket: ListenFD on a descriptor that is not a socket
// emits 'error' "listen EINVAL: invalid argument" on the next tick, as
// Node's createServerHandle; nothing of the server stays open and the
// descriptor stays the caller's (Node leaves it open too). Before the fix
// the error was ERR_INVALID_FD_TYPE.
func TestListenFDNotASocket(t *testing.T) {
	l := testutil.NewLoop(t)
	f, err := os.Open(os.Args[0])
	require.NoError(t, err)
	defer f.Close()
	srv := server.New(server.Options{Loop: l}, nil)
	var got error
	srv.OnError(func(err error) { got = err })
	require.NoError(t, srv.ListenFD(int(f.Fd())))
	assert.Nil(t, got)
	assert.False(t, srv.Listening())
	testutil.RunUntil(t, l, 10*time.Second, func() bool { return got != nil })
	assert.ErrorIs(t, got, syscall.EINVAL)
	assert.Equal(t, "listen EINVAL: invalid argument", got.Error())
	_, err = f.Stat()
	assert.NoError(t, err, "the caller's descriptor is still open")
	assert.False(t, l.Alive(), "nothing of the server is left open")
}

// SRV-04: listen on a server that holds a handle (or a listen in
// progress) fails synchronously with ERR_SERVER_ALREADY_LISTEN.
func TestListenTwiceFails(t *testing.T) {
	e := newEnv(t)
	s := e.server(server.Options{}, nil)
	path := testutil.SockPath(t)
	require.NoError(t, s.Listen(0, func() {
		e.log("listening")
		for _, err := range []error{s.Listen(0), s.ListenPath(path), s.ListenHost(0, "127.0.0.1", 0)} {
			assert.True(t, errors.Is(err, errs.ErrServerAlreadyListen), "%v", err)
		}
		s.Close(nil)
	}))
	// Same tick: the first listen has not bound yet.
	err := s.Listen(0)
	require.Error(t, err)
	assert.Equal(t, errs.CodeServerAlreadyListen, testutil.AsError(t, err).Code)
	assert.Equal(t, "Listen method has been called more than once without closing.", err.Error())
	// A host lookup in progress counts too.
	h := e.server(server.Options{}, nil)
	require.NoError(t, h.ListenHost(0, "localhost", 0, func() { e.log("h listening"); h.Close(nil) }))
	assert.Equal(t, errs.CodeServerAlreadyListen, errs.CodeOf(h.Listen(0)))
	e.run()
	assert.ElementsMatch(t, []string{"listening", "h listening"}, e.got())
	e.finish()
}

// SRV-05: a server may listen again after a failed listen, after close,
// after close inside 'listening', and from its 'close' handler.
func TestRelisten(t *testing.T) {
	e := newEnv(t)
	hold := e.server(server.Options{}, nil)
	s := e.server(server.Options{}, nil)
	stage := 0
	s.OnClose(func() { e.log("close") })
	s.OnError(func(err error) {
		e.log("error %s", errs.CodeOf(err))
		// After a failed listen.
		require.NoError(t, s.ListenHost(0, "127.0.0.1", 0, func() { e.log("listening after error") }))
	})
	s.OnListening(func() {
		stage++
		switch stage {
		case 1:
			hold.Close(nil)
			// close() then listen() inside the 'listening' callback.
			s.Close(func(err error) { e.log("close cb %v", err) })
			require.NoError(t, s.Listen(0, func() { e.log("listening after close") }))
		case 2:
			// Re-listen from the 'close' handler.
			s.Close(func(err error) {
				e.log("close cb %v", err)
				require.NoError(t, s.ListenHost(0, "127.0.0.1", 0, func() { e.log("listening from close") }))
			})
		case 3:
			s.Close(nil)
		}
	})
	e.listen(hold, func(port int) {
		require.NoError(t, s.ListenHost(port, "127.0.0.1", 0))
	})
	e.run()
	assert.Equal(t, []string{
		"error EADDRINUSE",
		"listening after error",
		"close", "close cb <nil>", // close() emits 'close' even though listen() followed in the same tick, as Node does
		"listening after close",
		"close", "close cb <nil>",
		"listening from close",
		"close",
	}, e.got())
	e.finish()
}

// SRV-06: an out-of-range port fails synchronously with
// ERR_SOCKET_BAD_PORT, positionally or in options, even with a path.
func TestListenBadPort(t *testing.T) {
	e := newEnv(t)
	s := e.server(server.Options{}, nil)
	s.OnListening(func() { t.Error("unexpected 'listening'") })
	path := testutil.SockPath(t)
	for _, port := range []int{-1, 65536, 1<<32 - 1, -65536} {
		for _, err := range []error{
			s.Listen(port),
			s.ListenHost(port, "127.0.0.1", 0),
			s.ListenOptions(server.ListenOptions{Port: port}),
			s.ListenOptions(server.ListenOptions{Port: port, Path: path}),
		} {
			require.Error(t, err, "port %d", port)
			ne := testutil.AsError(t, err)
			assert.Equal(t, errs.CodeSocketBadPort, ne.Code)
			assert.Contains(t, ne.Error(), "should be >= 0 and < 65536. Received "+strconv.Itoa(port))
		}
	}
	assert.False(t, s.Listening())
	e.run()
	e.finish()
}

// SRV-07: listen options without a port or a path are rejected.
func TestListenOptionsNeedPortOrPath(t *testing.T) {
	e := newEnv(t)
	s := e.server(server.Options{}, nil)
	// As Node: a host alone, or a context alone, is no port (PortGiven
	// says "port 0").
	for _, o := range []server.ListenOptions{{}, {Exclusive: true}, {Backlog: 10}, {IPv6Only: true}, {Host: "localhost"}, {Context: context.Background()}} {
		err := s.ListenOptions(o)
		require.Error(t, err, "%+v", o)
		assert.Equal(t, errs.CodeInvalidArgValue, errs.CodeOf(err))
		assert.Contains(t, err.Error(), `must have the property "port" or "path"`)
	}
	err := s.ListenOptions(server.ListenOptions{FD: -1})
	require.Error(t, err)
	assert.Equal(t, errs.CodeInvalidArgValue, errs.CodeOf(err))
	assert.Contains(t, err.Error(), "is invalid")
	assert.False(t, s.Listening())
	e.run()
	e.finish()
}

// SRV-08: with no host the server listens dual-stack on "::" and IPv4
// clients connect; an explicit host is reported with its family.
func TestListenDefaultHostDualStack(t *testing.T) {
	e := newEnv(t)
	s := e.server(server.Options{}, func(c *socket.Socket) {
		e.log("connection from %s %s", c.RemoteAddress(), c.RemoteFamily())
		c.Destroy(nil)
	})
	require.NoError(t, s.Listen(0, func() {
		a := s.Address()
		require.NotNil(t, a)
		assert.Equal(t, "::", a.Address)
		assert.Equal(t, "IPv6", a.Family)
		c := e.dial(a.Port)
		c.OnClose(func(bool) { e.log("client close"); s.Close(nil) })
	}))
	v4 := e.server(server.Options{}, nil)
	require.NoError(t, v4.ListenHost(0, "127.0.0.1", 0, func() {
		a := v4.Address()
		assert.Equal(t, "127.0.0.1", a.Address)
		assert.Equal(t, "IPv4", a.Family)
		e.log("v4")
		v4.Close(nil)
	}))
	v6 := e.server(server.Options{}, nil)
	require.NoError(t, v6.ListenHost(0, "::1", 0, func() {
		a := v6.Address()
		assert.Equal(t, "::1", a.Address)
		assert.Equal(t, "IPv6", a.Family)
		e.log("v6")
		v6.Close(nil)
	}))
	e.run()
	got := e.got()
	assert.Equal(t, []string{"connection from ::ffff:127.0.0.1 IPv6", "client close"}, filter(got, "c"))
	assert.True(t, slices.Contains(got, "v4") && slices.Contains(got, "v6"), "%q", got)
	e.finish()
}

// SRV-09: a host name is resolved before binding; a resolver failure is
// the server's 'error'; a failed bind names the chosen address.
func TestListenHostName(t *testing.T) {
	e := newEnv(t)
	s := e.server(server.Options{}, nil)
	s.OnError(func(err error) { t.Errorf("unexpected error %v", err) })
	require.NoError(t, s.ListenHost(0, "localhost", 0, func() {
		a := s.Address()
		assert.Contains(t, []string{"127.0.0.1", "::1"}, a.Address)
		e.log("listening")
		port := a.Port
		// The port is taken: the error names the resolved address.
		b := e.server(server.Options{}, nil)
		require.NoError(t, b.ListenHost(port, "localhost", 0))
		b.OnError(func(err error) {
			ne := testutil.AsError(t, err)
			assert.Equal(t, "EADDRINUSE", ne.Code)
			assert.Equal(t, "listen", ne.Syscall)
			assert.Equal(t, a.Address, ne.Address)
			e.log("in use")
			s.Close(nil)
		})
	}))
	bad := e.server(server.Options{}, nil)
	bad.OnListening(func() { t.Error("listening on a bad host") })
	require.NoError(t, bad.ListenHost(0, "no such host.invalid", 0))
	bad.OnError(func(err error) {
		ne := testutil.AsError(t, err)
		assert.Equal(t, "getaddrinfo", ne.Syscall)
		assert.Contains(t, []string{"ENOTFOUND", "EAI_AGAIN", "EAI_FAIL"}, ne.Code)
		assert.Equal(t, "no such host.invalid", ne.Hostname)
		e.log("lookup failed")
	})
	e.run()
	assert.ElementsMatch(t, []string{"listening", "in use", "lookup failed"}, e.got())
	e.finish()
}

// SRV-10: a positional backlog is accepted; the default is 511.
func TestListenBacklog(t *testing.T) {
	assert.Equal(t, 511, server.DefaultBacklog)
	e := newEnv(t)
	s := e.server(server.Options{}, echo)
	require.NoError(t, s.ListenHost(0, "127.0.0.1", 1, func() {
		e.log("listening")
		c := e.dial(s.Address().Port)
		c.OnData(func(b []byte) { e.log("echo %s", b); c.End(nil) })
		c.OnClose(func(bool) { s.Close(nil) })
		c.Write([]byte("x"))
	}))
	o := e.server(server.Options{}, nil)
	require.NoError(t, o.ListenOptions(server.ListenOptions{PortGiven: true, Host: "127.0.0.1", Backlog: 1000}, func() {
		e.log("options backlog")
		o.Close(nil)
	}))
	e.run()
	assert.ElementsMatch(t, []string{"listening", "echo x", "options backlog"}, e.got())
	e.finish()
}

// SRV-11: IPv6Only refuses IPv4 clients; ReusePort lets two servers share
// a port.
func TestListenIPv6OnlyAndReusePort(t *testing.T) {
	e := newEnv(t)
	v6 := e.server(server.Options{}, func(c *socket.Socket) { e.log("v6 connection"); c.Destroy(nil) })
	require.NoError(t, v6.ListenOptions(server.ListenOptions{PortGiven: true, Host: "::", IPv6Only: true}, func() {
		port := v6.Address().Port
		c4 := e.dial(port)
		c4.OnConnect(func() { t.Error("IPv4 client connected to an IPv6-only server") })
		c4.OnError(func(err error) {
			e.log("v4 client %s", errs.CodeOf(err))
			c6 := e.socket()
			require.NoError(t, c6.ConnectTCP(port, "::1"))
			c6.OnClose(func(bool) { e.log("v6 client close"); v6.Close(nil) })
		})
	}))
	a := e.server(server.Options{}, nil)
	require.NoError(t, a.ListenOptions(server.ListenOptions{PortGiven: true, Host: "127.0.0.1", ReusePort: true}, func() {
		port := a.Address().Port
		b := e.server(server.Options{}, nil)
		b.OnError(func(err error) { t.Errorf("reusePort: %v", err); a.Close(nil) })
		require.NoError(t, b.ListenOptions(server.ListenOptions{Host: "127.0.0.1", Port: port, ReusePort: true}, func() {
			e.log("shared %v", b.Address().Port == port)
			a.Close(nil)
			b.Close(nil)
		}))
	}))
	e.run()
	got := e.got()
	assert.Equal(t, []string{"v4 client ECONNREFUSED", "v6 connection", "v6 client close"}, filter(got, "v"))
	assert.Equal(t, []string{"shared true"}, filter(got, "shared"))
	e.finish()
}

// AB-02: cancelling the listen Context closes the server; an already
// cancelled one closes it on the next tick, before 'listening'.
func TestListenContext(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := e.server(server.Options{}, nil)
	s.OnClose(func() { e.log("live: close") })
	require.NoError(t, s.ListenOptions(server.ListenOptions{PortGiven: true, Host: "127.0.0.1", Context: ctx}, func() {
		e.log("live: listening")
		cancel()
	}))
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	d := e.server(server.Options{}, nil)
	d.OnListening(func() { t.Error("listening with a cancelled context") })
	d.OnClose(func() { e.log("cancelled: close") })
	require.NoError(t, d.ListenOptions(server.ListenOptions{PortGiven: true, Host: "127.0.0.1", Context: done}))
	e.run()
	assert.Equal(t, []string{"live: listening", "cancelled: close", "live: close"}, e.got())
	assert.False(t, s.Listening())
	assert.False(t, d.Listening())
	e.finish()
}
