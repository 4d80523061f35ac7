//go:build !windows

package socket

import (
	"encoding/binary"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// frames encodes payloads as 2-byte big-endian length + bytes.
func frames(payloads ...string) []byte {
	var b []byte
	for _, p := range payloads {
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		b = append(b, p...)
	}
	return b
}

// parse takes every whole frame out of in.
func parse(in *Inbound, got *[]string) {
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
		*got = append(*got, string(in.Next(n)))
	}
}

// TestInboundSplitsAnywhere: frames cut at every possible place across
// chunks come out whole and in order, and the shared chunk is never kept
// (each chunk is overwritten after its callback, as the loop's buffer is).
func TestInboundSplitsAnywhere(t *testing.T) {
	want := []string{"hello", "", "a", "frames of every length", "xyz"}
	stream := frames(want...)
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 200; round++ {
		in := &Inbound{}
		var got []string
		shared := make([]byte, 64)
		for off := 0; off < len(stream); {
			n := 1 + rng.Intn(len(stream)-off)
			chunk := shared[:copy(shared, stream[off:off+n])]
			off += n
			in.begin(chunk)
			parse(in, &got)
			in.end()
			for i := range shared {
				shared[i] = 0xDB // the loop reuses its buffer
			}
		}
		require.Equal(t, want, got, "round %d", round)
		assert.Zero(t, len(in.left), "nothing left over")
	}
}

// TestInboundCopiesOnlyLeftovers: whole frames cost no copy and no
// allocation; only a partial frame is copied, once.
func TestInboundCopiesOnlyLeftovers(t *testing.T) {
	in := &Inbound{}
	whole := frames("abc", "defg")
	frameCount := 0
	allocs := testing.AllocsPerRun(100, func() {
		in.begin(whole)
		for {
			h := in.Peek(2)
			if h == nil || in.Len() < 2+int(binary.BigEndian.Uint16(h)) {
				break
			}
			in.Discard(2 + int(binary.BigEndian.Uint16(h)))
			frameCount++
		}
		in.end()
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 202, frameCount) // 101 runs (one warm-up) x 2 frames
	assert.Empty(t, in.left)
	var got []string

	part := frames("partial")
	in.begin(part[:4])
	parse(in, &got)
	in.end()
	assert.Equal(t, part[:4], in.left, "the partial frame is kept")
	got = got[:0]
	in.begin(part[4:])
	parse(in, &got)
	in.end()
	assert.Equal(t, []string{"partial"}, got)
	assert.Empty(t, in.left)
}
