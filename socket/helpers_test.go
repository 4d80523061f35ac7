//go:build !windows

package socket_test

import (
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// TestMain runs the tests under the leak check, then checks what only
// means something once every test ran: that none wrote the shared zero
// sockExtra through a socket that had not allocated its own.
func TestMain(m *testing.M) {
	code := testutil.LeakCheckMain(m)
	if got := socket.SharedExtraWritten(); got != "" {
		fmt.Fprintf(os.Stderr, "FAIL: the shared sockExtra was modified: %s\n", got)
		code = 1
	}
	os.Exit(code)
}

// safetyTimeout bounds every test run on an env.
const safetyTimeout = 10 * time.Second

// env is one test's loop with a safety timer: it fails the test and
// destroys every socket and server it knows about after safetyTimeout. The
// timer is unref'd, so it does not keep the loop alive on success.
type env struct {
	t       testing.TB
	l       *loop.Loop
	guard   *handle.Timer
	socks   []*socket.Socket
	servers []*server.Server
	timers  []*handle.Timer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	l, err := loop.New()
	require.NoError(t, err)
	e := &env{t: t, l: l}
	e.guard = handle.NewTimer(l)
	e.guard.Start(safetyTimeout, 0, func() {
		t.Errorf("safety timeout: the loop was still alive after %v", safetyTimeout)
		e.destroyAll()
	})
	e.guard.Unref()
	return e
}

func (e *env) destroyAll() {
	for _, s := range e.socks {
		s.Destroy(nil)
	}
	for _, s := range e.servers {
		s.Close(nil)
	}
	for _, tm := range e.timers {
		if !tm.IsClosing() {
			tm.Close(nil)
		}
	}
}

// run runs the loop until nothing is left, then closes it; every handle
// must have been closed by the test.
func (e *env) run() {
	e.t.Helper()
	require.NoError(e.t, e.l.Run(loop.RunDefault))
	e.finish()
}

// finish closes the safety timer and the loop.
func (e *env) finish() {
	e.t.Helper()
	if !e.guard.IsClosing() {
		e.guard.Close(nil)
	}
	require.NoError(e.t, e.l.Run(loop.RunNoWait))
	if err := e.l.Close(); err != nil {
		e.t.Errorf("loop.Close: %v", err)
		testutil.CloseLoop(e.t, e.l)
	}
}

// newSocket creates a client socket on the env's loop.
func (e *env) newSocket(o socket.Options) *socket.Socket {
	e.t.Helper()
	o.Loop = e.l
	s, err := socket.New(o)
	require.NoError(e.t, err)
	e.socks = append(e.socks, s)
	return s
}

// after runs fn after d on a referenced timer (it keeps the loop alive).
func (e *env) after(d time.Duration, fn func()) *handle.Timer {
	tm := testutil.After(e.t, e.l, d, fn)
	e.timers = append(e.timers, tm)
	return tm
}

// server creates a server on the env's loop; onConn, if not nil, receives
// accepted sockets (tracked for the safety timer).
func (e *env) server(o server.Options, onConn func(*socket.Socket)) *server.Server {
	o.Loop = e.l
	srv := server.New(o, func(c *socket.Socket) {
		e.socks = append(e.socks, c)
		if onConn != nil {
			onConn(c)
		}
	})
	e.servers = append(e.servers, srv)
	return srv
}

// listenTCP listens on 127.0.0.1 with an OS-chosen port and calls ready
// with the port once listening.
func (e *env) listenTCP(srv *server.Server, ready func(port int)) {
	e.t.Helper()
	require.NoError(e.t, srv.ListenHost(0, "127.0.0.1", 0, func() { ready(srv.Address().Port) }))
}

// listenN listens on 127.0.0.1 with a server that closes once it has
// accepted n connections, and calls ready with the port. Accepted sockets
// read and discard what arrives; onAccept, if not nil, sees each one
// first.
func (e *env) listenN(n int, onAccept func(s *socket.Socket), ready func(port int)) {
	e.t.Helper()
	accepted := 0
	var srv *server.Server
	srv = e.server(server.Options{}, func(s *socket.Socket) {
		if accepted++; accepted == n {
			srv.Close(nil)
		}
		if onAccept != nil {
			onAccept(s)
		}
		s.OnData(func([]byte) {})
	})
	e.listenTCP(srv, ready)
}

// pair runs one connection: a server (closed as soon as it accepted the
// connection) and a client socket connected to it over TCP. onServer gets
// the accepted socket; onClient gets the client right after ConnectTCP.
func (e *env) pair(so server.Options, co socket.Options, onServer func(s *socket.Socket), onClient func(c *socket.Socket)) {
	e.t.Helper()
	var srv *server.Server
	srv = e.server(so, func(s *socket.Socket) {
		srv.Close(nil)
		onServer(s)
	})
	e.listenTCP(srv, func(port int) {
		c := e.newSocket(co)
		require.NoError(e.t, c.ConnectTCP(port, "127.0.0.1"))
		onClient(c)
	})
}

// pairPath is pair over a Unix-domain socket.
func (e *env) pairPath(so server.Options, co socket.Options, onServer func(s *socket.Socket), onClient func(c *socket.Socket)) {
	e.t.Helper()
	path := testutil.SockPath(e.t)
	var srv *server.Server
	srv = e.server(so, func(s *socket.Socket) {
		srv.Close(nil)
		onServer(s)
	})
	require.NoError(e.t, srv.ListenPath(path, func() {
		c := e.newSocket(co)
		require.NoError(e.t, c.ConnectPath(path))
		onClient(c)
	}))
}

// freePort returns a loopback TCP port nobody listens on (bound and
// released through Go's net package).
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// track records connect, ready, end, finish, timeout, error:<code> and
// close:<hadError> of s; with data it also adds a 'data' listener (which
// starts the flow) that records consecutive 'data' events as one "data"
// entry. Anything emitted after 'close' shows up as an extra entry, so
// exact comparisons also prove nothing follows 'close'.
func track(s *socket.Socket, data bool) *testutil.Events {
	ev := &testutil.Events{}
	s.OnConnect(func() { ev.Add("connect") })
	s.OnReady(func() { ev.Add("ready") })
	s.OnEnd(func() { ev.Add("end") })
	s.OnFinish(func() { ev.Add("finish") })
	s.OnError(func(err error) { ev.Add("error:" + errs.CodeOf(err)) })
	s.OnClose(func(hadError bool) { ev.Addf("close:%v", hadError) })
	s.OnTimeout(func() { ev.Add("timeout") })
	if data {
		s.OnData(func([]byte) { ev.AddFolded("data") })
	}
	return ev
}

// code returns err's Node code.
func code(err error) string { return errs.CodeOf(err) }
