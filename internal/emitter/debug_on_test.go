//go:build netloopdebug

package emitter

import "testing"

// In netloopdebug builds a listener emitted with another func type than
// it was added with panics instead of being called with wrong arguments,
// and a listener that is not a func is refused at once.
func TestDebugTypeMismatchPanics(t *testing.T) {
	var s Set
	s.Add(1, func(int) {}, false)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("emitting a func(int) listener as func(string) did not panic")
			}
		}()
		Emit(&s, 1, "x")
	}()
	Emit(&s, 1, 7) // the right type still works
	defer func() {
		if recover() == nil {
			t.Fatal("adding a non-func listener did not panic")
		}
	}()
	s.Add(2, 42, false)
}
