//go:build !windows

package socket_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// TestReadableAndRead: paused mode as Node's (node v20 prints "readable
// data:hello read:hello data: worl read: worl readable data:d read:d end"
// for this exchange): a 'readable' listener stops the flow, Read(5) takes
// whole 5-byte pieces and emits them as 'data' too, what is left short of
// 5 bytes waits until the end of the stream, when a last 'readable' lets
// Read take the remainder, then 'end'. Resume does nothing in paused mode.
func TestReadableAndRead(t *testing.T) {
	e := newEnv(t)
	var log []string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func(d []byte) { log = append(log, "data:"+string(d)) })
		s.OnReadable(func() {
			log = append(log, "readable")
			for c := s.Read(5); c != nil; c = s.Read(5) {
				log = append(log, "read:"+string(c))
			}
		})
		s.OnEnd(func() { log = append(log, "end") })
		s.Resume() // no effect with a 'readable' listener
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			c.Write([]byte("hello world"))
			e.after(50*time.Millisecond, func() { c.End(nil) })
		})
	})
	e.run()
	assert.Equal(t, "readable data:hello read:hello data: worl read: worl readable data:d read:d end", strings.Join(log, " "))
}

// TestReadAll: Read(0) takes everything buffered; ReadableLength reports
// what paused mode holds.
func TestReadAll(t *testing.T) {
	e := newEnv(t)
	var got []byte
	var lengths []int
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnReadable(func() {
			lengths = append(lengths, s.ReadableLength())
			got = append(got, s.Read(0)...)
			assert.Zero(t, s.ReadableLength())
		})
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() { c.End([]byte("0123456789")) })
	})
	e.run()
	assert.Equal(t, "0123456789", string(got))
	assert.NotEmpty(t, lengths)
	assert.Equal(t, 10, lengths[0])
}
