package transport

import (
	"testing"
	"unsafe"
)

// TestStreamSize guards the per-connection footprint: a Stream is 64
// bytes (its descriptor and flags live in its IO watcher's spare room, the
// watcher finds its loop and handler through the Handle before it, its
// write queue exists only once a write has to wait), so that an accepted
// connection, Socket and Stream together, fills the 160-byte size class
// (socket's TestAcceptedConnSize).
func TestStreamSize(t *testing.T) {
	if got := unsafe.Sizeof(Stream{}); got > 64 {
		t.Fatalf("Stream is %d bytes; want at most 64", got)
	}
}
