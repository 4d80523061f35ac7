//go:build windows

package socket_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

func TestMain(m *testing.M) { os.Exit(testutil.LeakCheckMain(m)) }

// Socket behaviours on Windows (under Wine in make test): a writer that
// outruns a paused reader sees Write return false, then 'drain' once the
// reader resumes, with every byte delivered; an idle socket gets
// 'timeout'.
func TestWindowsBackpressureDrainAndTimeout(t *testing.T) {
	l := testutil.NewLoop(t)
	var peer *socket.Socket
	received := 0
	srv := server.New(server.Options{Loop: l, PauseOnConnect: true}, func(c *socket.Socket) {
		peer = c
		c.OnData(func(b []byte) { received += len(b) })
		c.OnError(func(error) {})
	})
	listening := false
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0, func() { listening = true }))
	testutil.RunUntil(t, l, 20*time.Second, func() bool { return listening })

	c, err := socket.New(socket.Options{Loop: l})
	require.NoError(t, err)
	connected := false
	require.NoError(t, c.ConnectTCP(srv.Address().Port, "127.0.0.1", func() { connected = true }))
	testutil.RunUntil(t, l, 20*time.Second, func() bool { return connected && peer != nil })

	chunk := make([]byte, 64<<10)
	sent := 0
	for i := 0; i < 256 && c.Write(chunk); i++ {
		sent += len(chunk)
	}
	sent += len(chunk) // the write that returned false is queued too
	require.True(t, c.NeedDrain(), "16 MiB to a paused reader never pushed back")
	drained := false
	c.OnceDrain(func() { drained = true })
	peer.Resume()
	testutil.RunUntil(t, l, 20*time.Second, func() bool { return drained && received == sent })

	timedOut := false
	c.SetTimeout(50 * time.Millisecond)
	c.OnceTimeout(func() { timedOut = true })
	testutil.RunUntil(t, l, 20*time.Second, func() bool { return timedOut })
	closed := 0
	c.OnClose(func(bool) { closed++ })
	peer.OnClose(func(bool) { closed++ })
	c.Destroy(nil)
	peer.Destroy(nil)
	srv.Close(nil)
	testutil.RunUntil(t, l, 20*time.Second, func() bool { return closed == 2 && !srv.Listening() })
	assert.Equal(t, 2, closed)
}
