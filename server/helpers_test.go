//go:build !windows

package server_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

func TestMain(m *testing.M) {
	if os.Getenv(sendHandleChildEnv) != "" {
		os.Exit(sendHandleChild())
	}
	os.Exit(testutil.LeakCheckMain(m))
}

// safetyTimeout bounds every loop run.
const safetyTimeout = 10 * time.Second

// env is one test's loop, its event log and the run harness.
type env struct {
	t  *testing.T
	l  *loop.Loop
	ev testutil.Events
}

func newEnv(t *testing.T) *env {
	t.Helper()
	l, err := loop.New()
	require.NoError(t, err)
	return &env{t: t, l: l}
}

// log records an event.
func (e *env) log(format string, args ...any) { e.ev.Addf(format, args...) }

// got returns the events recorded so far.
func (e *env) got() []string { return e.ev.Get() }

// run runs the loop until nothing referenced is left; after safetyTimeout
// it fails the test and closes everything.
func (e *env) run() {
	e.t.Helper()
	if !testutil.RunAll(e.t, e.l, safetyTimeout) {
		e.t.Errorf("loop still alive after %v; events: %q", safetyTimeout, e.got())
	}
}

// finish closes the loop, which must succeed: every handle was closed.
func (e *env) finish() {
	e.t.Helper()
	if err := e.l.Close(); err != nil {
		e.t.Errorf("loop.Close: %v", err)
		testutil.CloseLoop(e.t, e.l)
	}
}

// server creates a server on the env's loop.
func (e *env) server(opts server.Options, onConn func(*socket.Socket)) *server.Server {
	opts.Loop = e.l
	return server.New(opts, onConn)
}

// socket creates an unconnected client socket on the env's loop.
func (e *env) socket() *socket.Socket {
	e.t.Helper()
	s, err := socket.New(socket.Options{Loop: e.l})
	require.NoError(e.t, err)
	return s
}

// dial connects a client socket to 127.0.0.1:port.
func (e *env) dial(port int, cb ...func()) *socket.Socket {
	e.t.Helper()
	s := e.socket()
	require.NoError(e.t, s.ConnectTCP(port, "127.0.0.1", cb...))
	return s
}

// dialPath connects a client socket to a Unix-domain socket.
func (e *env) dialPath(path string, cb ...func()) *socket.Socket {
	e.t.Helper()
	s := e.socket()
	require.NoError(e.t, s.ConnectPath(path, cb...))
	return s
}

// listen listens on an ephemeral 127.0.0.1 port and returns it through
// the 'listening' callback.
func (e *env) listen(s *server.Server, cb func(port int)) {
	e.t.Helper()
	require.NoError(e.t, s.ListenHost(0, "127.0.0.1", 0, func() { cb(s.Address().Port) }))
}

// echo makes every accepted socket echo what it receives.
func echo(c *socket.Socket) {
	c.OnData(func(b []byte) { c.Write(b) })
}

// after runs fn once after d on the env's loop (a referenced timer).
func (e *env) after(d time.Duration, fn func()) *handle.Timer {
	return testutil.After(e.t, e.l, d, fn)
}

// filter keeps the events with the given prefix.
func filter(list []string, prefix string) []string {
	var out []string
	for _, x := range list {
		if strings.HasPrefix(x, prefix) {
			out = append(out, x)
		}
	}
	return out
}
