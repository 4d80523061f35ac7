// Package bufpool is a per-loop free list of byte buffers in power-of-two
// size classes. It is not safe for concurrent use: each loop owns one, and
// only the loop's goroutine touches it.
package bufpool

import "math/bits"

const (
	minShift = 9  // 512 B
	maxShift = 20 // 1 MiB
	// perClass bounds how many free buffers a class keeps, so a burst does
	// not pin memory forever.
	perClass = 64
)

// Pool hands out buffers by size class.
type Pool struct {
	free [maxShift - minShift + 1][][]byte
}

func class(n int) int {
	if n <= 1<<minShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minShift
}

// Get returns a buffer of length n. Buffers above 1 MiB are allocated
// exactly and not pooled.
func (p *Pool) Get(n int) []byte {
	c := class(n)
	if c >= len(p.free) {
		return make([]byte, n)
	}
	if f := p.free[c]; len(f) > 0 {
		b := f[len(f)-1]
		f[len(f)-1] = nil
		p.free[c] = f[:len(f)-1]
		return b[:n]
	}
	return make([]byte, n, 1<<(c+minShift))
}

// Put returns b to the pool; b must not be used afterwards.
func (p *Pool) Put(b []byte) {
	c := class(cap(b))
	if c >= len(p.free) || cap(b) != 1<<(c+minShift) {
		return
	}
	if len(p.free[c]) < perClass {
		p.free[c] = append(p.free[c], b[:0])
	}
}
