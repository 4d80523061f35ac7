//go:build !windows

package server_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// ListenHandle moves the listening handle: new connections go to the new
// server, the old one stops listening, and the path of a pipe server stays
// bound until the new owner closes it.
func TestListenHandleMovesTheHandle(t *testing.T) {
	for _, kind := range []string{"tcp", "pipe"} {
		t.Run(kind, func(t *testing.T) {
			l, err := loop.New()
			require.NoError(t, err)
			var log []string
			a := server.New(server.Options{Loop: l}, func(c *socket.Socket) { log = append(log, "a:connection"); c.Destroy(nil) })
			b := server.New(server.Options{Loop: l}, func(c *socket.Socket) { log = append(log, "b:connection"); c.Destroy(nil) })
			path := testutil.SockPath(t)
			listened := func() {
				require.NoError(t, b.ListenHandle(a, func() {
					log = append(log, "b:listening")
					assert.False(t, a.Listening())
					assert.True(t, b.Listening())
					dial(t, l, kind, b, path, func() {
						b.Close(func(err error) {
							assert.NoError(t, err)
							log = append(log, "b:close")
						})
					})
				}))
			}
			if kind == "tcp" {
				require.NoError(t, a.ListenHost(0, "127.0.0.1", 0, listened))
			} else {
				require.NoError(t, a.ListenPath(path, listened))
			}
			require.NoError(t, l.Run(loop.RunDefault))
			assert.Equal(t, []string{"b:listening", "b:connection", "b:close"}, log)
			_, statErr := os.Stat(path)
			assert.True(t, kind == "tcp" || os.IsNotExist(statErr), "the path is unlinked when the new owner closes")
			a.Close(nil)
			require.NoError(t, l.Run(loop.RunDefault))
			require.NoError(t, l.Close())
		})
	}
}

// dial connects a client to srv (TCP) or path and calls then after it closed.
func dial(t *testing.T, l *loop.Loop, kind string, srv *server.Server, path string, then func()) {
	s, err := socket.New(socket.Options{Loop: l})
	require.NoError(t, err)
	s.OnError(func(err error) { t.Error(err) })
	s.OnClose(func(bool) { then() })
	s.OnData(func([]byte) {})
	if kind == "tcp" {
		require.NoError(t, s.ConnectTCP(srv.Address().Port, "127.0.0.1"))
	} else {
		require.NoError(t, s.ConnectPath(path))
	}
}
