//go:build !windows

package server_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
)

// TestListenBindsSynchronously: as in Node, Listen(0), Listen with an IP
// literal and ListenPath bind before returning, so Address() and
// Listening() are valid right after the call (the common
// `listen(0); port := address().port`); only 'listening' is deferred.
// Before the fix Address() was nil until the next tick.
func TestListenBindsSynchronously(t *testing.T) {
	l := testutil.NewLoop(t)
	path := filepath.Join(t.TempDir(), "s.sock")
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
