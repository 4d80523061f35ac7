//go:build !windows

package socket_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// A Socket's state (ReadyState, Pending, Connecting) and its byte
// counters (BytesRead, BytesWritten, BufferSize) through its life.

// ADR-05: ReadyState is opening / open / readOnly / writeOnly / closed.
func TestReadyState(t *testing.T) {
	e := newEnv(t)
	var cli, srv []string
	e.pair(server.Options{AllowHalfOpen: true}, socket.Options{AllowHalfOpen: true}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
		s.OnEnd(func() {
			e.l.NextTick(func() {
				srv = append(srv, s.ReadyState())
				s.End(nil)
			})
		})
		s.OnClose(func(bool) { srv = append(srv, s.ReadyState()) })
	}, func(c *socket.Socket) {
		cli = append(cli, c.ReadyState())
		c.End(nil) // End while connecting: still "opening"
		cli = append(cli, c.ReadyState())
		c.OnData(func([]byte) {})
		c.OnFinish(func() { cli = append(cli, c.ReadyState()) })
		c.OnClose(func(bool) { cli = append(cli, c.ReadyState()) })
	})
	fresh := e.newSocket(socket.Options{})
	var open string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() { open = c.ReadyState(); c.End(nil) })
	})
	freshState := fresh.ReadyState()
	fresh.Destroy(nil)
	e.run()
	assert.Equal(t, []string{"opening", "opening", "readOnly", "closed"}, cli)
	assert.Equal(t, []string{"writeOnly", "closed"}, srv)
	assert.Equal(t, "open", open)
	assert.Equal(t, "open", freshState)
}

// ADR-06: Pending is true before and while connecting, false once
// connected, true after close; Connecting only between connect and its
// outcome.
func TestPendingAndConnecting(t *testing.T) {
	e := newEnv(t)
	var got []bool
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		got = append(got, c.Pending(), c.Connecting())
		c.OnData(func([]byte) {})
		c.OnConnect(func() { got = append(got, c.Pending(), c.Connecting()); c.End(nil) })
		c.OnClose(func(bool) { got = append(got, c.Pending(), c.Connecting()) })
	})
	fresh := e.newSocket(socket.Options{})
	before := []bool{fresh.Pending(), fresh.Connecting()}
	fresh.Destroy(nil)
	e.run()
	assert.Equal(t, []bool{true, false}, before)
	assert.Equal(t, []bool{true, true, false, false, true, false}, got)
}

// ADR-07: BytesRead grows with every chunk, equals the total at 'end' and
// survives 'close'.
func TestBytesRead(t *testing.T) {
	e := newEnv(t)
	const total = 1 << 20
	var atEnd, atClose int64
	monotonic := true
	var last int64
	sum := 0
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
		s.End(make([]byte, total))
	}, func(c *socket.Socket) {
		c.OnData(func(b []byte) {
			sum += len(b)
			if c.BytesRead() <= last || c.BytesRead() != int64(sum) {
				monotonic = false
			}
			last = c.BytesRead()
		})
		c.OnEnd(func() { atEnd = c.BytesRead() })
		c.OnClose(func(bool) { atClose = c.BytesRead() })
	})
	e.run()
	assert.True(t, monotonic)
	assert.Equal(t, int64(total), atEnd)
	assert.Equal(t, int64(total), atClose)
}

// ADR-08: BytesWritten counts bytes accepted by Write, queued ones too
// (before connect), by encoded length ("twø" is 4 in utf8); it equals N
// right after End(N bytes), stays after close and resets on reconnect.
func TestBytesWritten(t *testing.T) {
	e := newEnv(t)
	var got []int64
	e.listenN(2, nil, func(port int) {
		c := e.newSocket(socket.Options{})
		require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
		c.WriteString("twø", "utf8")
		got = append(got, c.BytesWritten()) // 4, queued
		c.End([]byte("12345"))
		got = append(got, c.BytesWritten()) // 9
		c.OnData(func([]byte) {})
		c.OnFinish(func() { got = append(got, c.BytesWritten()) })
		round := 0
		c.OnClose(func(bool) {
			got = append(got, c.BytesWritten())
			if round++; round == 1 {
				require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
				got = append(got, c.BytesWritten())
				c.End(nil)
			}
		})
	})
	e.run()
	assert.Equal(t, []int64{4, 9, 9, 9, 0, 0, 0}, got)
}

// ADR-09: BufferSize counts queued bytes (i after i one-byte writes before
// connect) and is 0 at 'finish'; a fresh socket is readable and writable.
func TestBufferSize(t *testing.T) {
	e := newEnv(t)
	var sizes []int
	var atFinish = -1
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		for i := 1; i <= 5; i++ {
			c.Write([]byte("a"))
			sizes = append(sizes, c.BufferSize())
		}
		c.OnData(func([]byte) {})
		c.End(nil)
		c.OnFinish(func() { atFinish = c.BufferSize() })
	})
	fresh := e.newSocket(socket.Options{})
	assert.True(t, fresh.Readable())
	assert.True(t, fresh.Writable())
	fresh.Destroy(nil)
	e.run()
	assert.Equal(t, []int{1, 2, 3, 4, 5}, sizes)
	assert.Equal(t, 0, atFinish)
}
