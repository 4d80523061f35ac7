package bufpool

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassesAndReuse(t *testing.T) {
	var p Pool
	for _, n := range []int{1, 512, 513, 4096, 70000, 1 << 20} {
		b := p.Get(n)
		require.Len(t, b, n)
		assert.GreaterOrEqual(t, cap(b), n)
		assert.Equal(t, 0, cap(b)&(cap(b)-1), "capacity is a power of two")
		p.Put(b)
		again := p.Get(n)
		assert.Equal(t, &b[:1][0], &again[:1][0], "a freed buffer of the class is reused")
		p.Put(again)
	}
	big := p.Get(1<<20 + 1)
	assert.Len(t, big, 1<<20+1)
	p.Put(big)                    // not pooled: must not panic
	p.Put(make([]byte, 100, 300)) // foreign capacity: ignored
	assert.Len(t, p.Get(10), 10)
}

func TestSteadyStateAllocatesNothing(t *testing.T) {
	var p Pool
	p.Put(p.Get(3000))
	allocs := testing.AllocsPerRun(1000, func() { p.Put(p.Get(3000)) })
	assert.Zero(t, allocs)
}
