package tls

import (
	"bytes"
	gotls "crypto/tls"
	"reflect"
	"unsafe"
)

// crypto/tls keeps two bytes.Buffers inside every Conn for good: rawInput
// (the records read, about one record's worth) and hand (handshake
// messages). On an idle connection both are empty but keep their
// capacity, 3-4 KB per connection after a handshake, more after large
// records. Nothing in crypto/tls's API releases them, so the engine does
// it itself where the Conn is provably between calls:
//
//   - while a pump runs, rawInput is lent the loop's shared record buffer
//     (no allocation per read); when the pump ends it is emptied again,
//     or a partial record left in it is copied to memory of its own;
//   - hand is emptied after the handshake and whenever a pump leaves it
//     empty.
//
// The fields are found by name and type with reflect at init; if a Go
// release renames or retypes them, trimming is off (TestTrimActive fails
// so that it is noticed) and everything works, with the memory kept.
var (
	rawInputOff, handOff uintptr
	trimOK               bool
)

func init() {
	t := reflect.TypeOf(gotls.Conn{})
	bt := reflect.TypeOf(bytes.Buffer{})
	ri, ok1 := t.FieldByName("rawInput")
	h, ok2 := t.FieldByName("hand")
	if ok1 && ok2 && ri.Type == bt && h.Type == bt {
		rawInputOff, handOff, trimOK = ri.Offset, h.Offset, true
	}
}

func rawInputOf(c *gotls.Conn) *bytes.Buffer {
	return (*bytes.Buffer)(unsafe.Add(unsafe.Pointer(c), rawInputOff))
}

func handOf(c *gotls.Conn) *bytes.Buffer {
	return (*bytes.Buffer)(unsafe.Add(unsafe.Pointer(c), handOff))
}

// lendRecordBuffer gives c's empty rawInput the loop's shared buffer for
// one pump; it reports whether it did.
func lendRecordBuffer(c *gotls.Conn, sc *scratch) bool {
	if !trimOK {
		return false
	}
	ri := rawInputOf(c)
	if ri.Len() != 0 {
		return false
	}
	*ri = *bytes.NewBuffer(sc.raw[:0])
	return true
}

// takeBackRecordBuffer ends a pump: rawInput lets go of the shared buffer,
// keeping a copy of a partial record if one is left; an empty hand buffer
// is released too.
func takeBackRecordBuffer(c *gotls.Conn, lent bool) {
	if !trimOK {
		return
	}
	if lent {
		ri := rawInputOf(c)
		if rest := ri.Bytes(); len(rest) > 0 {
			*ri = *bytes.NewBuffer(append([]byte(nil), rest...))
		} else {
			*ri = bytes.Buffer{}
		}
	}
	releaseHandshakeBuffers(c)
}

// releaseHandshakeBuffers empties hand, and rawInput when it is empty.
func releaseHandshakeBuffers(c *gotls.Conn) {
	if !trimOK {
		return
	}
	if h := handOf(c); h.Len() == 0 {
		*h = bytes.Buffer{}
	}
	if ri := rawInputOf(c); ri.Len() == 0 {
		*ri = bytes.Buffer{}
	}
}
