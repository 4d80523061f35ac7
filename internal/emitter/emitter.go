// Package emitter is the event-listener store behind Socket and Server: one
// compact slice of listeners per object (so an idle connection pays for
// one small array, not one per event), typed callbacks, once-listeners,
// removal, and emission that allocates nothing.
//
// Listeners added or removed while an event is being emitted take effect
// from the next emission (the slice is copied on write), as in Node.
package emitter

import (
	"reflect"
	"unsafe"
)

// Kind identifies an event within one object.
type Kind uint8

type listener struct {
	// fn is the listener, a func value of the event's type, kept as the
	// one pointer a func value is (an interface would take two words and
	// make every connection's listener array half as big again). Callers
	// guarantee the type: each Kind has one func type, which the typed
	// On<Event> methods of Socket and Server fix.
	fn   unsafe.Pointer
	id   uint32
	kind Kind
	once bool
}

// funcPointer returns the func value inside fn, an interface holding a
// func: func types are pointer-shaped, so the interface's data word is the
// func value itself.
func funcPointer(fn any) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&fn))[1]
}

// as reinterprets l's stored func value as the func type T. Builds with
// -tags netloopdebug check T against the type l was added with and panic
// on a mismatch, which would otherwise call a function with the wrong
// arguments.
func as[T any](s *Set, l *listener) T {
	if debug {
		s.checkType(l.id, reflect.TypeFor[T]())
	}
	return *(*T)(unsafe.Pointer(&l.fn))
}

// Set holds the listeners of one object. Its zero value is empty. Not safe
// for concurrent use.
type Set struct {
	tc typeCheck // netloopdebug builds only (zero size otherwise)
	// The listeners: a slice kept as its array pointer, length and
	// capacity in 32 bits each (see list), 16 bytes instead of a slice
	// header's 24, which keeps a connection a size class smaller.
	arr  *listener
	n, c uint32
	// idShared holds the last id given out in its low 31 bits and, in its
	// top bit, whether the listeners are being iterated by an Emit (copy
	// them before changing them).
	idShared uint32
	gen      uint32 // bumped by every add and removal (see Gen)
}

// list returns the listeners.
func (s *Set) list() []listener {
	if s.arr == nil {
		return nil
	}
	return unsafe.Slice(s.arr, s.c)[:s.n]
}

// setList makes ls the listeners.
func (s *Set) setList(ls []listener) {
	if uint64(cap(ls)) > 1<<32-1 {
		panic("emitter: too many listeners")
	}
	s.arr, s.n, s.c = unsafe.SliceData(ls), uint32(len(ls)), uint32(cap(ls))
}

const sharedBit = 1 << 31

func (s *Set) shared() bool { return s.idShared&sharedBit != 0 }

func (s *Set) setShared(v bool) {
	if v {
		s.idShared |= sharedBit
	} else {
		s.idShared &^= sharedBit
	}
}

// Gen changes whenever a listener is added or removed, so a caller can
// tell that a snapshot taken with Funcs is out of date.
func (s *Set) Gen() uint32 { return s.gen }

// Funcs returns kind's listeners of type func(T) in order, in a new slice
// that is never changed afterwards (so another goroutine may call them),
// and removes the once-listeners among them as fired.
func Funcs[T any](s *Set, kind Kind) []T {
	var fns []T
	for i := 0; i < int(s.n); i++ {
		l := s.list()[i]
		if l.kind != kind {
			continue
		}
		fns = append(fns, as[T](s, &l))
		if l.once {
			s.removeAt(i)
			i--
		}
	}
	return fns
}

// Listener identifies one registered listener; it is a small value, so
// handing it out allocates nothing.
type Listener struct {
	set *Set
	id  uint32
}

// Remove unregisters the listener; removing it twice, or after a
// once-listener ran, does nothing.
func (l Listener) Remove() {
	if l.set != nil {
		l.set.Remove(l.id)
	}
}

// On registers fn like Add and returns the Listener.
func (s *Set) On(kind Kind, fn any, once bool) Listener {
	return Listener{set: s, id: s.Add(kind, fn, once)}
}

// Add registers fn (a func of the event's type) for kind and returns its id.
func (s *Set) Add(kind Kind, fn any, once bool) uint32 {
	id := (s.idShared&^sharedBit + 1) &^ sharedBit
	s.idShared = s.idShared&sharedBit | id
	s.gen++
	ls := s.list()
	if s.shared() {
		ls = append(make([]listener, 0, len(ls)+1), ls...)
		s.setShared(false)
	} else if ls == nil {
		// Most objects get two or three listeners: skip the 1-element array.
		ls = make([]listener, 0, 2)
	}
	if debug {
		s.recordType(id, fn)
	}
	s.setList(append(ls, listener{fn: funcPointer(fn), id: id, kind: kind, once: once}))
	return id
}

// Remove unregisters the listener with the given id; unknown ids are
// ignored.
func (s *Set) Remove(id uint32) {
	for i, l := range s.list() {
		if l.id == id {
			s.removeAt(i)
			return
		}
	}
}

func (s *Set) removeAt(i int) {
	s.gen++
	ls := s.list()
	if s.shared() {
		n := make([]listener, 0, len(ls)-1)
		n = append(n, ls[:i]...)
		s.setList(append(n, ls[i+1:]...))
		s.setShared(false)
		return
	}
	copy(ls[i:], ls[i+1:])
	ls[len(ls)-1] = listener{}
	s.setList(ls[:len(ls)-1])
}

// RemoveAll drops every listener of kind.
func (s *Set) RemoveAll(kind Kind) {
	for i := int(s.n) - 1; i >= 0; i-- {
		if s.list()[i].kind == kind {
			s.removeAt(i)
		}
	}
}

// Count returns how many listeners kind has.
func (s *Set) Count(kind Kind) int {
	n := 0
	for _, l := range s.list() {
		if l.kind == kind {
			n++
		}
	}
	return n
}

// Has reports whether kind has a listener.
func (s *Set) Has(kind Kind) bool {
	for _, l := range s.list() {
		if l.kind == kind {
			return true
		}
	}
	return false
}

// begin snapshots the listener slice for an emission.
func (s *Set) begin() (ls []listener, wasShared bool) {
	wasShared = s.shared()
	s.setShared(true)
	return s.list(), wasShared
}

func (s *Set) end(ls []listener, wasShared bool) {
	// Still the same backing array: nobody copied it during the emission.
	if len(ls) == int(s.n) && (len(ls) == 0 || &ls[0] == s.arr) {
		s.setShared(wasShared)
	}
}

// fire reports whether l should run, removing it first if it is a
// once-listener (so a re-emission from inside it does not run it again).
func (s *Set) fire(l *listener) {
	if l.once {
		s.Remove(l.id)
	}
}

// Emit0 calls kind's listeners of type func() and reports whether there
// were any.
func Emit0(s *Set, kind Kind) bool {
	ls, was := s.begin()
	found := false
	for i := range ls {
		if ls[i].kind != kind {
			continue
		}
		found = true
		l := ls[i]
		s.fire(&l)
		as[func()](s, &l)()
	}
	s.end(ls, was)
	return found
}

// Emit calls kind's listeners of type func(T) with v and reports whether
// there were any.
func Emit[T any](s *Set, kind Kind, v T) bool {
	ls, was := s.begin()
	found := false
	for i := range ls {
		if ls[i].kind != kind {
			continue
		}
		found = true
		l := ls[i]
		s.fire(&l)
		as[func(T)](s, &l)(v)
	}
	s.end(ls, was)
	return found
}

// Emit4 calls kind's listeners of type func(A, B, C, D).
func Emit4[A, B, C, D any](s *Set, kind Kind, a A, b B, c C, d D) bool {
	ls, was := s.begin()
	found := false
	for i := range ls {
		if ls[i].kind != kind {
			continue
		}
		found = true
		l := ls[i]
		s.fire(&l)
		as[func(A, B, C, D)](s, &l)(a, b, c, d)
	}
	s.end(ls, was)
	return found
}
