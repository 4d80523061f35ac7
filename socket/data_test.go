//go:build !windows

package socket_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// DAT-01: 'data' is bytes by default; after SetEncoding("utf8") text never
// splits a multi-byte character (40 960 × 'あ' arrive as 40 960 runes).
func TestUTF8NeverSplit(t *testing.T) {
	e := newEnv(t)
	const n = 40960
	payload := strings.Repeat("あ", n)
	var text strings.Builder
	chunks, bad := 0, 0
	var raw []byte
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		require.NoError(t, s.SetEncoding("utf8"))
		s.OnText(func(txt string) {
			chunks++
			if !utf8.ValidString(txt) {
				bad++
			}
			text.WriteString(txt)
		})
		s.OnEnd(func() {})
		// Write it back as bytes in odd-sized pieces.
		b := []byte(payload)
		for len(b) > 0 {
			k := min(len(b), 7777)
			s.Write(b[:k])
			b = b[k:]
		}
		s.End(nil)
	}, func(c *socket.Socket) {
		c.OnData(func(b []byte) { raw = append(raw, b...) })
		// Send in pieces that split characters.
		b := []byte(payload)
		for len(b) > 0 {
			k := min(len(b), 1001)
			c.Write(b[:k])
			b = b[k:]
		}
		c.End(nil)
	})
	e.run()
	assert.Zero(t, bad)
	assert.Greater(t, chunks, 0)
	assert.Equal(t, n, utf8.RuneCountInString(text.String()))
	assert.Equal(t, payload, text.String())
	assert.Equal(t, payload, string(raw), "data without an encoding is raw bytes")
}

// DAT-02: WriteString encodes and SetEncoding decodes: latin1 round-trips
// all 256 byte values; hex works.
func TestEncodings(t *testing.T) {
	var all strings.Builder
	for i := 0; i < 256; i++ {
		all.WriteRune(rune(i))
	}
	for _, tc := range []struct{ enc, text, wantRaw string }{
		{"latin1", all.String(), ""},
		{"binary", all.String(), ""},
		{"hex", "00ff10ab", "\x00\xff\x10\xab"},
		{"utf8", "twø", "twø"},
	} {
		t.Run(tc.enc, func(t *testing.T) {
			e := newEnv(t)
			var got strings.Builder
			var raw []byte
			e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
				s.OnData(func(b []byte) { raw = append(raw, b...) })
				s.OnEnd(func() { s.WriteString(tc.text, tc.enc) })
			}, func(c *socket.Socket) {
				require.NoError(t, c.SetEncoding(tc.enc))
				c.OnText(func(s string) { got.WriteString(s) })
				assert.True(t, c.WriteString(tc.text, tc.enc))
				c.End(nil)
			})
			e.run()
			assert.Equal(t, tc.text, got.String())
			if tc.wantRaw != "" {
				assert.Equal(t, tc.wantRaw, string(raw))
			}
			if tc.enc == "latin1" {
				require.Len(t, raw, 256)
				for i := 0; i < 256; i++ {
					assert.Equal(t, byte(i), raw[i])
				}
			}
		})
	}
}

// DAT-03: a 10 MB End(buf) arrives complete and in order; bytesRead on the
// receiver equals bytesWritten on the sender.
func TestLargePayload(t *testing.T) {
	e := newEnv(t)
	payload := make([]byte, 10<<20)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	var got bytes.Buffer
	var read, written int64
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func(b []byte) { got.Write(b) })
		s.OnEnd(func() { read = s.BytesRead() })
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.End(payload)
		c.OnFinish(func() { written = c.BytesWritten() })
	})
	e.run()
	assert.Equal(t, int64(len(payload)), written)
	assert.Equal(t, written, read)
	assert.True(t, bytes.Equal(payload, got.Bytes()), "payload differs")
}

// DAT-04: 'end' waits until buffered data is consumed: with no reader the
// socket neither ends nor closes; once read, 'data', 'end', 'close' follow.
func TestEndAfterDataConsumed(t *testing.T) {
	e := newEnv(t)
	var client *socket.Socket
	var ev *testutil.Events
	var got []byte
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
		s.End([]byte("payload"))
	}, func(c *socket.Socket) {
		client = c
		ev = track(c, false)
		e.after(300*time.Millisecond, func() {
			assert.Equal(t, []string{"connect", "ready"}, ev.Get(), "no 'end' before data is read")
			assert.False(t, c.Destroyed())
			c.OnData(func(b []byte) {
				ev.AddFolded("data")
				got = append(got, b...)
			})
		})
	})
	e.run()
	assert.Equal(t, "payload", string(got))
	assert.Equal(t, []string{"connect", "ready", "data", "end", "finish", "close:false"}, ev.Get())
	assert.True(t, client.Destroyed())
}

// DAT-05: OnRead delivers into the caller's buffer (the same one every
// time), no 'data' is emitted, 'end' still is; a BufferFunc is called
// before every read, including the one that sees EOF.
func TestOnRead(t *testing.T) {
	e := newEnv(t)
	static := make([]byte, 4)
	var got []byte
	sameBuf := true
	dataEvents := 0
	var order []string
	bufCalls, cbCalls := 0, 0
	var got2 []byte
	srv := e.server(server.Options{}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
		s.End([]byte("hello world"))
	})
	e.listenTCP(srv, func(port int) {
		c := e.newSocket(socket.Options{OnRead: &socket.OnRead{Buffer: static, Callback: func(n int, buf []byte) bool {
			if &buf[0] != &static[0] {
				sameBuf = false
			}
			got = append(got, buf[:n]...)
			return true
		}}})
		c.OnData(func([]byte) { dataEvents++ })
		c.OnEnd(func() { order = append(order, "end1") })
		c.OnClose(func(bool) { order = append(order, "close1") })
		require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))

		d := e.newSocket(socket.Options{OnRead: &socket.OnRead{
			BufferFunc: func() []byte { bufCalls++; return make([]byte, 2) },
			Callback: func(n int, buf []byte) bool {
				cbCalls++
				got2 = append(got2, buf[:n]...)
				return true
			}}})
		d.OnEnd(func() { order = append(order, "end2") })
		d.OnClose(func(bool) { order = append(order, "close2"); srv.Close(nil) })
		require.NoError(t, d.ConnectTCP(port, "127.0.0.1"))
	})
	e.run()
	assert.Equal(t, "hello world", string(got))
	assert.True(t, sameBuf)
	assert.Zero(t, dataEvents)
	assert.Equal(t, "hello world", string(got2))
	assert.GreaterOrEqual(t, cbCalls, 6)
	assert.Greater(t, bufCalls, cbCalls, "the buffer is also supplied for the read that sees EOF")
	assert.Less(t, slices.Index(order, "end1"), slices.Index(order, "close1"))
	assert.Less(t, slices.Index(order, "end2"), slices.Index(order, "close2"))
}

// DAT-06: an OnRead callback returning false pauses the socket: no
// callback runs until Resume, and nothing is lost.
func TestOnReadPause(t *testing.T) {
	e := newEnv(t)
	var got []byte
	var c *socket.Socket
	paused := false
	callsWhilePaused := 0
	e.pair(server.Options{}, socket.Options{OnRead: &socket.OnRead{Buffer: make([]byte, 3), Callback: func(n int, buf []byte) bool {
		if paused {
			callsWhilePaused++
		}
		got = append(got, buf[:n]...)
		if len(got) >= 3 && !paused && len(got) < 12 {
			paused = true
			e.after(100*time.Millisecond, func() {
				assert.True(t, c.IsPaused())
				paused = false
				c.Resume()
			})
			return false
		}
		return true
	}}}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
		s.End([]byte("abcdefghijkl"))
	}, func(cl *socket.Socket) { c = cl })
	e.run()
	assert.Equal(t, "abcdefghijkl", string(got))
	assert.Zero(t, callsWhilePaused)
}

// TestOwnedDataChunksAreKept: with Options.OwnedData every 'data' chunk
// is the handler's to keep (Node's ownership): chunks kept past their
// callback still hold what arrived. Without it they would alias the
// loop's one read buffer and show only the last read.
func TestOwnedDataChunksAreKept(t *testing.T) {
	payload := make([]byte, 300<<10)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	e := newEnv(t)
	var kept [][]byte
	e.pair(server.Options{OwnedData: true}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func(b []byte) { kept = append(kept, b) })
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() { c.End(payload) })
	})
	e.run()
	assert.Greater(t, len(kept), 1, "the payload came in several chunks")
	assert.Equal(t, payload, bytes.Join(kept, nil))
}
