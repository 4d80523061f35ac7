// Release builds only: netloopdebug adds checking state to each Socket.

//go:build !netloopdebug

package socket

import (
	"testing"
	"unsafe"
)

// TestAcceptedConnSize guards the per-connection footprint: an accepted
// connection's Socket and stream, one allocation that also holds its first
// two listeners, fill the 144-byte size class; 8 bytes more and every
// connection costs 160.
func TestAcceptedConnSize(t *testing.T) {
	if got := unsafe.Sizeof(acceptedConn{}); got > 144 {
		t.Fatalf("acceptedConn is %d bytes (Socket %d); want at most 144", got, unsafe.Sizeof(Socket{}))
	}
}
