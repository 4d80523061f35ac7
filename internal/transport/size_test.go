package transport

import (
	"testing"
	"unsafe"
)

// TestStreamSize guards the per-connection footprint: a Stream is 88
// bytes (its descriptor and flags live in its IO watcher's spare room, its
// write queue exists only once a write has to wait), so that an accepted
// connection, Socket and Stream together, fills the 192-byte size class
// (socket's TestAcceptedConnSize).
func TestStreamSize(t *testing.T) {
	if got := unsafe.Sizeof(Stream{}); got > 88 {
		t.Fatalf("Stream is %d bytes; want at most 88", got)
	}
}
