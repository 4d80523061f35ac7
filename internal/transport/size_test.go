package transport

import (
	"testing"
	"unsafe"
)

// TestStreamSize guards the per-connection footprint: a Stream fills the
// 128-byte size class exactly; a field more moves every connection to the
// 144-byte class.
func TestStreamSize(t *testing.T) {
	if got := unsafe.Sizeof(Stream{}); got > 128 {
		t.Fatalf("Stream is %d bytes; want at most 128", got)
	}
}
