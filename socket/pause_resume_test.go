//go:build !windows

package socket_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// PR-01: Pause stops 'data' and reading from the descriptor, so the peer's
// Write starts returning false; Resume restarts the flow with nothing lost.
func TestPauseStopsReading(t *testing.T) {
	e := newEnv(t)
	const chunk = 64 << 10
	received := 0
	var srvSock, cli *socket.Socket
	countAtPause := -1
	sent := 0
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		srvSock = s
		s.OnData(func(b []byte) {
			received += len(b)
			if countAtPause < 0 {
				assert.Same(t, s, s.Pause())
				countAtPause = received
				// The client writes until the kernel buffers are full.
				var fill func()
				fill = func() {
					for cli.Write(bytes.Repeat([]byte{'p'}, chunk)) {
						sent += chunk
					}
					sent += chunk
					// Wait for the kernel to push back for real: the
					// queue keeps growing only while the peer reads
					// nothing.
					e.after(100*time.Millisecond, func() {
						assert.Equal(t, countAtPause, received, "no 'data' while paused")
						assert.Greater(t, cli.WritableLength(), 0, "the peer's data stays queued")
						cli.OnDrain(func() { cli.End(nil) })
						assert.Same(t, s, s.Resume())
					})
				}
				fill()
			}
		})
	}, func(c *socket.Socket) {
		cli = c
		c.OnData(func([]byte) {})
		c.Write([]byte("start"))
	})
	e.run()
	require.NotNil(t, srvSock)
	assert.Equal(t, sent+len("start"), received)
}

// PR-02: Pause/Resume before connect are honoured and the last call wins.
func TestPauseResumeBeforeConnect(t *testing.T) {
	for _, tc := range []struct {
		calls string
		flows bool
	}{{"pause,resume", true}, {"resume,pause,resume", true}, {"pause", false}, {"resume,resume,pause", false}} {
		t.Run(tc.calls, func(t *testing.T) {
			e := newEnv(t)
			got := 0
			e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
				s.OnData(func([]byte) {})
				// A paused client that is destroyed with data unread resets
				// the connection: ECONNRESET here.
				s.OnError(func(error) {})
				s.Write([]byte("data"))
			}, func(c *socket.Socket) {
				for _, call := range strings.Split(tc.calls, ",") {
					if call == "pause" {
						c.Pause()
					} else {
						c.Resume()
					}
				}
				c.OnData(func(b []byte) { got += len(b) })
				e.after(150*time.Millisecond, func() { c.Destroy(nil) })
			})
			e.run()
			if tc.flows {
				assert.Equal(t, 4, got)
			} else {
				assert.Zero(t, got)
			}
		})
	}
}

// PR-03: with PauseOnConnect accepted sockets read nothing until Resume
// (bytesRead stays 0); then everything arrives. Without it data flows.
func TestPauseOnConnect(t *testing.T) {
	for _, pause := range []bool{true, false} {
		t.Run(fmt.Sprint(pause), func(t *testing.T) {
			e := newEnv(t)
			var got []byte
			var readBefore int64 = -1
			e.pair(server.Options{PauseOnConnect: pause}, socket.Options{}, func(s *socket.Socket) {
				s.OnData(func(b []byte) { got = append(got, b...) })
				e.after(100*time.Millisecond, func() {
					readBefore = s.BytesRead()
					s.Resume()
				})
			}, func(c *socket.Socket) {
				c.OnData(func([]byte) {})
				c.End([]byte("hello"))
			})
			e.run()
			assert.Equal(t, "hello", string(got))
			if pause {
				assert.Equal(t, int64(0), readBefore)
			} else {
				assert.Equal(t, int64(5), readBefore)
			}
		})
	}
}

// PR-04: a connected socket that is paused with nothing queued does not
// keep the loop alive, nor does one unref'd in its connect callback; Ref
// and Unref before connect are remembered, the last one wins.
func TestLoopLiveness(t *testing.T) {
	t.Run("paused", func(t *testing.T) {
		e := newEnv(t)
		connected := 0
		var all []*socket.Socket
		e.pair(server.Options{PauseOnConnect: true}, socket.Options{}, func(s *socket.Socket) {
			connected++
			all = append(all, s)
		}, func(c *socket.Socket) {
			c.OnConnect(func() { connected++; c.Pause() })
			all = append(all, c)
		})
		require.NoError(t, e.l.Run(loop.RunDefault)) // returns with both open
		assert.Equal(t, 2, connected)
		for _, s := range all {
			assert.False(t, s.Destroyed())
			s.Destroy(nil)
		}
		e.run()
	})
	t.Run("unref-in-connect", func(t *testing.T) {
		e := newEnv(t)
		var all []*socket.Socket
		e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
			s.Unref()
			s.OnData(func([]byte) {})
			all = append(all, s)
		}, func(c *socket.Socket) {
			c.OnConnect(func() { assert.Same(t, c, c.Unref()) })
			c.OnData(func([]byte) {})
			all = append(all, c)
		})
		require.NoError(t, e.l.Run(loop.RunDefault))
		require.Len(t, all, 2)
		for _, s := range all {
			assert.False(t, s.Destroyed())
			s.Destroy(nil)
		}
		e.run()
	})
	t.Run("before-connect", func(t *testing.T) {
		for _, tc := range []struct {
			calls   string
			keepsUp bool
		}{{"unref", false}, {"unref,ref", true}, {"ref,unref", false}} {
			t.Run(tc.calls, func(t *testing.T) {
				e := newEnv(t)
				var all []*socket.Socket
				connected := false
				e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
					s.Unref()
					s.OnData(func([]byte) {})
					all = append(all, s)
				}, func(c *socket.Socket) {
					for _, call := range strings.Split(tc.calls, ",") {
						if call == "ref" {
							c.Ref()
						} else {
							c.Unref()
						}
					}
					c.OnConnect(func() { connected = true })
					c.OnData(func([]byte) {})
					all = append(all, c)
				})
				start := time.Now()
				stopper := e.after(300*time.Millisecond, func() {})
				stopper.Unref()
				if tc.keepsUp {
					// The client is still referenced: only the 300 ms timer
					// (unref'd) is pending, so stop the loop from it.
					stopper.Stop()
					stopper.Start(300*time.Millisecond, 0, func() {
						stopper.Close(nil)
						for _, s := range all {
							s.Destroy(nil)
						}
					})
				}
				require.NoError(t, e.l.Run(loop.RunDefault))
				assert.True(t, connected)
				if tc.keepsUp {
					assert.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "a ref'd socket keeps the loop alive")
				} else {
					if !stopper.IsClosing() {
						stopper.Close(nil)
					}
					for _, s := range all {
						assert.False(t, s.Destroyed())
						s.Destroy(nil)
					}
				}
				e.run()
			})
		}
	})
}
