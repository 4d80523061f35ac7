//go:build !windows

package socket_test

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// TestOnInboundFramesOverTCP: a length-prefixed protocol parsed with
// OnInbound gets every frame whole and in order however the bytes were
// split into writes and reads (in netloopdebug builds the shared buffer is
// poisoned after each callback, so a leftover that was not copied would
// show).
func TestOnInboundFramesOverTCP(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	var want []string
	var stream []byte
	for i := 0; i < 2000; i++ {
		p := fmt.Sprintf("frame-%d-%s", i, make([]byte, rng.Intn(300)))
		want = append(want, p)
		stream = binary.BigEndian.AppendUint16(stream, uint16(len(p)))
		stream = append(stream, p...)
	}
	e := newEnv(t)
	var got []string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnInbound(func(in *socket.Inbound) {
			for {
				h := in.Peek(2)
				if h == nil {
					return
				}
				n := int(binary.BigEndian.Uint16(h))
				if in.Len() < 2+n {
					return
				}
				in.Discard(2)
				got = append(got, string(in.Next(n)))
			}
		})
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		for off := 0; off < len(stream); {
			n := 1 + rng.Intn(700)
			if off+n > len(stream) {
				n = len(stream) - off
			}
			c.Write(stream[off : off+n])
			off += n
		}
		c.End(nil)
	})
	e.run()
	assert.Equal(t, len(want), len(got))
	assert.Equal(t, want, got)
}
