//go:build linux

package poller

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// TestURecSize: receive mode keeps its per-descriptor state in the 8
// bytes the poll record had left, so an idle connection costs no more on
// the io_uring backend with receive mode than without (see the server's
// TestIdleConnectionHeap).
func TestURecSize(t *testing.T) {
	assert.Equal(t, uintptr(24), unsafe.Sizeof(urec{}))
}

// TestRecvBitIsPrivate: the receive-mode bit is none of the public
// interest and event bits.
func TestRecvBitIsPrivate(t *testing.T) {
	assert.Zero(t, recvBit&(Read|Write|Hup|Err|RdHup))
	assert.NotZero(t, uint8(recvBit))
}
