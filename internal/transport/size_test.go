package transport

import (
	"testing"
	"unsafe"
)

// TestStreamSize guards the per-connection footprint: a Stream is 56
// bytes (its descriptor and flags live in its IO watcher's spare room, the
// watcher finds its loop and handler through the Handle before it, the
// owner's Handler is one word, its write queue exists only once a write
// has to wait), so that an accepted connection, Socket and Stream
// together, fills the 144-byte size class (socket's TestAcceptedConnSize).
func TestStreamSize(t *testing.T) {
	if got := unsafe.Sizeof(Stream{}); got > 56 {
		t.Fatalf("Stream is %d bytes; want at most 56", got)
	}
}

type otherHandler struct{}

func (*otherHandler) OnStreamRead(int, []byte, error) {}
func (*otherHandler) OnStreamDrain()                  {}
func (*otherHandler) OnStreamWriteError(error)        {}
func (*otherHandler) OnStreamClose()                  {}

type anotherHandler struct{ otherHandler }

// TestSetHandlerOneType: a stream keeps its Handler as one word, so every
// stream's Handler must be of one type; the Handler comes back whole, and
// a second type panics rather than call the wrong methods.
func TestSetHandlerOneType(t *testing.T) {
	saved := handlerTab.Load()
	handlerTab.Store(nil)
	defer handlerTab.Store(saved)
	var s Stream
	h := new(otherHandler)
	s.SetHandler(h)
	if got, ok := s.handler().(*otherHandler); !ok || got != h {
		t.Fatalf("handler() = %v, want %p", s.handler(), h)
	}
	s.SetHandler(nil)
	if s.handler() != nil {
		t.Fatal("SetHandler(nil) kept a handler")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a Handler of a second type did not panic")
		}
	}()
	s.SetHandler(new(anotherHandler))
}
