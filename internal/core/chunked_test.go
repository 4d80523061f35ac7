package core

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestChunkedSlicePushGrowTruncate(t *testing.T) {
	var c chunkedSlice[int]
	for i := 0; i < 3*chunkLen+5; i++ {
		require.Equal(t, i, c.push(i+1))
	}
	require.Equal(t, 3*chunkLen+5, c.len())
	require.Len(t, c.chunks, 4)
	for i := 0; i < c.len(); i++ {
		require.Equal(t, i+1, *c.at(i))
	}
	first := c.chunks[0]
	c.grow(5 * chunkLen) // growing never moves what is there
	require.Same(t, first, c.chunks[0])
	require.Equal(t, 5*chunkLen, c.len())
	require.Zero(t, *c.at(4 * chunkLen))

	c.truncate(chunkLen + 3)
	require.Equal(t, chunkLen+3, c.len())
	require.Len(t, c.chunks, 2)
	require.Equal(t, chunkLen+3, *c.at(chunkLen + 2))
	c.grow(chunkLen + 10) // the truncated elements come back zero
	require.Zero(t, *c.at(chunkLen + 3))
	require.Zero(t, *c.at(chunkLen + 9))

	c.truncate(chunkLen)
	require.Len(t, c.chunks, 1)
	c.truncate(0)
	require.Empty(t, c.chunks)
	require.Equal(t, 0, c.push(7))
}

// TestChunkedSliceGrowthAllocatesOnlyChunks: filling four chunks costs
// the four chunks and three growths of the small chunk index, where
// doubling a plain slice would cost a dozen arrays, most of them garbage.
func TestChunkedSliceGrowthAllocatesOnlyChunks(t *testing.T) {
	allocs := testing.AllocsPerRun(10, func() {
		var c chunkedSlice[uint64]
		for i := 0; i < 4*chunkLen; i++ {
			c.push(uint64(i))
		}
	})
	require.Equal(t, 7.0, allocs)
}
