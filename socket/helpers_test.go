//go:build !windows

package socket_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

func TestMain(m *testing.M) { os.Exit(testutil.LeakCheckMain(m)) }

// safetyTimeout bounds every conformance test.
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
	tm := handle.NewTimer(e.l)
	e.timers = append(e.timers, tm)
	tm.Start(d, 0, func() {
		tm.Close(nil)
		fn()
	})
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
	path := sockPath(e.t)
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

var sockSeq struct {
	sync.Mutex
	n int
}

// sockPath returns a short Unix-socket path that is removed after the test.
func sockPath(t testing.TB) string {
	sockSeq.Lock()
	sockSeq.n++
	n := sockSeq.n
	sockSeq.Unlock()
	dir, err := os.MkdirTemp("", "nlsock")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, fmt.Sprintf("s%d.sock", n))
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

// events records a socket's events in order. Consecutive 'data' events are
// folded into one "data" entry; anything emitted after 'close' shows up as
// an extra entry, so exact comparisons also prove nothing follows 'close'.
type events struct {
	mu  sync.Mutex
	log []string
}

func (ev *events) add(s string) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if s == "data" && len(ev.log) > 0 && ev.log[len(ev.log)-1] == "data" {
		return
	}
	ev.log = append(ev.log, s)
}

func (ev *events) get() []string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return append([]string(nil), ev.log...)
}

func (ev *events) String() string { return strings.Join(ev.get(), ",") }

// track records connect, ready, end, finish, drain, timeout, error:<code>
// and close:<hadError> of s; with data it also adds a 'data' listener
// (which starts the flow).
func track(s *socket.Socket, data bool) *events {
	ev := &events{}
	s.OnConnect(func() { ev.add("connect") })
	s.OnReady(func() { ev.add("ready") })
	s.OnEnd(func() { ev.add("end") })
	s.OnFinish(func() { ev.add("finish") })
	s.OnError(func(err error) { ev.add("error:" + errs.CodeOf(err)) })
	s.OnClose(func(hadError bool) { ev.add(fmt.Sprintf("close:%v", hadError)) })
	s.OnTimeout(func() { ev.add("timeout") })
	if data {
		s.OnData(func([]byte) { ev.add("data") })
	}
	return ev
}

// code returns err's Node code.
func code(err error) string { return errs.CodeOf(err) }

// asErr returns err as *errs.Error (failing the test otherwise).
func asErr(t testing.TB, err error) *errs.Error {
	t.Helper()
	e, ok := err.(*errs.Error)
	require.Truef(t, ok, "error %T %v is not *errs.Error", err, err)
	return e
}
