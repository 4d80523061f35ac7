//go:build !windows

package server_test

import (
	"errors"
	"fmt"
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

// safetyTimeout bounds every loop run.
const safetyTimeout = 10 * time.Second

// env is one test's loop, its event log and the run harness.
type env struct {
	t      *testing.T
	l      *loop.Loop
	mu     sync.Mutex
	events []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	l, err := loop.New()
	require.NoError(t, err)
	return &env{t: t, l: l}
}

// log records an event.
func (e *env) log(format string, args ...any) {
	e.mu.Lock()
	e.events = append(e.events, fmt.Sprintf(format, args...))
	e.mu.Unlock()
}

// got returns the events recorded so far.
func (e *env) got() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.events...)
}

// run runs the loop until nothing referenced is left, bounded by an
// unref'd safety timer that fails the test and closes everything after
// 10 s.
func (e *env) run() {
	e.t.Helper()
	e.runFor(safetyTimeout)
}

func (e *env) runFor(limit time.Duration) {
	e.t.Helper()
	timedOut := false
	safety := handle.NewTimer(e.l)
	safety.Unref()
	require.NoError(e.t, safety.Start(limit, 0, func() {
		timedOut = true
		handle.Walk(e.l, func(h *handle.Handle) {
			if !h.IsClosing() {
				h.Close(nil)
			}
		})
	}))
	require.NoError(e.t, e.l.Run(loop.RunDefault))
	if !safety.IsClosing() {
		safety.Close(nil)
	}
	require.NoError(e.t, e.l.Run(loop.RunDefault))
	if timedOut {
		e.t.Errorf("loop still alive after %v; events: %q", limit, e.got())
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

// sockPath returns a short Unix-domain socket path in a fresh directory.
func sockPath(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	if len(p) >= 100 {
		d, err := os.MkdirTemp("", "nl")
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(d) })
		p = filepath.Join(d, name)
	}
	return p
}

// nlErr asserts err is an *errs.Error and returns it.
func nlErr(t *testing.T, err error) *errs.Error {
	t.Helper()
	var e *errs.Error
	require.True(t, errors.As(err, &e), "want *errs.Error, got %T %v", err, err)
	return e
}

// after runs fn once after d on the env's loop (a referenced timer).
func (e *env) after(d time.Duration, fn func()) *handle.Timer {
	tm := handle.NewTimer(e.l)
	require.NoError(e.t, tm.Start(d, 0, func() {
		tm.Close(nil)
		fn()
	}))
	return tm
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
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
