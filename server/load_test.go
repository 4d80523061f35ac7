//go:build !windows

package server_test

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// 2,000 concurrent connections against one server in one loop (the
// clients are netloop sockets on the same loop): every message is echoed,
// every socket closes, and no descriptor or goroutine is left behind.
func TestManyConcurrentConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const n = 2000
	fds0 := testutil.CountFDs()
	g0 := runtime.NumGoroutine()

	e := newEnv(t)
	var s *server.Server
	accepted, serverClosed, clientsDone, echoed := 0, 0, 0, 0
	s = e.server(server.Options{}, func(c *socket.Socket) {
		accepted++
		c.OnData(func(b []byte) { c.Write(b) })
		c.OnClose(func(hadError bool) {
			assert.False(t, hadError)
			serverClosed++
		})
	})
	s.OnError(func(err error) { t.Errorf("server error: %v", err) })
	s.OnDrop(func(*server.DropInfo) { t.Error("drop") })
	require.NoError(t, s.ListenHost(0, "127.0.0.1", 4096, func() {
		port := s.Address().Port
		for i := 0; i < n; i++ {
			msg := []byte(fmt.Sprintf("message %04d %s", i, bytes.Repeat([]byte{'x'}, i%64)))
			c := e.dial(port)
			var got []byte
			c.OnData(func(b []byte) {
				got = append(got, b...)
				if len(got) == len(msg) {
					if bytes.Equal(got, msg) {
						echoed++
					}
					c.End(nil)
				}
			})
			c.OnError(func(err error) { t.Errorf("client %d: %v", i, err) })
			c.OnClose(func(bool) {
				clientsDone++
				if clientsDone == n {
					s.Close(nil)
				}
			})
			c.Write(msg)
		}
	}))
	s.OnClose(func() { e.log("server close") })
	e.run()
	assert.Equal(t, n, accepted)
	assert.Equal(t, n, echoed)
	assert.Equal(t, n, serverClosed)
	assert.Equal(t, n, clientsDone)
	assert.Equal(t, 0, s.Connections())
	assert.Equal(t, []string{"server close"}, e.got())
	e.finish()

	if fds0 >= 0 {
		assert.Equal(t, fds0, testutil.CountFDs(), "descriptors left behind")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > g0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), g0, "goroutines left behind")
}
