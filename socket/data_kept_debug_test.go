//go:build netloopdebug && !windows

package socket_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// TestDataSliceKeptPastCallbackIsPoisoned: in netloopdebug builds the
// loop's shared read buffer is overwritten (0xDB) as soon as a 'data'
// listener returns, so a handler that keeps the slice sees garbage at
// once, deterministically, instead of another connection's bytes later.
func TestDataSliceKeptPastCallbackIsPoisoned(t *testing.T) {
	e := newEnv(t)
	var kept, copied []byte
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func(data []byte) {
			kept = data // the misuse
			copied = append([]byte(nil), data...)
			s.End(nil)
		})
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() { c.End([]byte("hello")) })
	})
	e.run()
	assert.Equal(t, "hello", string(copied))
	assert.Equal(t, bytes.Repeat([]byte{0xDB}, len(kept)), kept, "the kept slice was not poisoned")
}
