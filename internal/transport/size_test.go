package transport

import (
	"testing"
	"unsafe"
)

// TestStreamSize guards the per-connection footprint: a Stream is 120
// bytes (its descriptor and flags live in its IO watcher's spare room), so
// that an accepted connection, Socket and Stream together, fills the
// 208-byte size class (socket's TestAcceptedConnSize).
func TestStreamSize(t *testing.T) {
	if got := unsafe.Sizeof(Stream{}); got > 120 {
		t.Fatalf("Stream is %d bytes; want at most 120", got)
	}
}
