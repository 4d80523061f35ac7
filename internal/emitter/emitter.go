// Package emitter is the event-listener store behind Socket and Server: the
// listeners of one object in one list (the first two inside the object
// itself, so a typical connection pays for no array at all), typed
// callbacks, once-listeners, removal, and emission that allocates nothing.
//
// Listeners added or removed while an event is being emitted take effect
// from the next emission (the list is copied on write), as in Node.
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

// inlineCap is how many listeners a Set keeps inside itself. Most
// connections have one or two ('data' and 'error'), which then cost no
// array of their own: one allocation fewer per accepted connection.
const inlineCap = 2

// Set holds the listeners of one object. Its zero value is empty. Not safe
// for concurrent use.
type Set struct {
	tc typeCheck // netloopdebug builds only (zero size otherwise)
	// The listeners: in inl while c is 0 (at most inlineCap), else in a
	// heap array of length n and capacity c, whose address inl[0].fn then
	// holds (a separate pointer would take the Set, and every connection,
	// to the next size class). A Set moves to the heap when a listener
	// does not fit or when it changes during an emission; it never moves
	// back. An emission iterating inl has read inl[0] already, so a move
	// during it rewrites only inl[0] and the emission still sees the rest.
	inl  [inlineCap]listener
	n, c uint16
	// seq counts additions and removals in its low 31 bits (a new
	// listener's id is the count after its addition; see Gen) and holds
	// in its top bit whether the listeners are being iterated by an Emit
	// (copy them before changing them).
	seq uint32
}

// maxListeners is how many listeners one object may have: n and c are 16
// bits. Node sets no limit but warns from 11 on, as a likely leak; 65,535
// is far past any real use, and Add panics beyond it.
const maxListeners = 1<<16 - 1

// list returns the listeners.
func (s *Set) list() []listener {
	if s.c == 0 {
		return s.inl[:s.n]
	}
	return unsafe.Slice((*listener)(s.inl[0].fn), s.c)[:s.n]
}

// onHeap reports whether the listeners are in a heap array.
func (s *Set) onHeap() bool { return s.c != 0 }

// setList makes the heap slice ls (capacity at least 1) the listeners.
func (s *Set) setList(ls []listener) {
	s.inl[0] = listener{fn: unsafe.Pointer(unsafe.SliceData(ls))}
	s.n, s.c = uint16(len(ls)), uint16(min(cap(ls), maxListeners))
}

// toHeap moves the listeners into a new heap array with room for extra
// more. The inline copies are cleared (so they keep no closure alive)
// unless an emission may be iterating them.
func (s *Set) toHeap(extra int) []listener {
	ls := s.list()
	heap := append(make([]listener, 0, max(len(ls)+extra, 2*inlineCap)), ls...)
	if !s.onHeap() && !s.shared() {
		s.inl = [inlineCap]listener{}
	}
	s.setShared(false)
	s.setList(heap)
	return heap
}

const sharedBit = 1 << 31

func (s *Set) shared() bool { return s.seq&sharedBit != 0 }

func (s *Set) setShared(v bool) {
	if v {
		s.seq |= sharedBit
	} else {
		s.seq &^= sharedBit
	}
}

// bump counts one addition or removal and returns the new count.
func (s *Set) bump() uint32 {
	n := (s.seq + 1) &^ sharedBit
	s.seq = s.seq&sharedBit | n
	return n
}

// Gen changes whenever a listener is added or removed, so a caller can
// tell that a snapshot taken with Funcs is out of date.
func (s *Set) Gen() uint32 { return s.seq &^ sharedBit }

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
	if s.n == maxListeners {
		panic("emitter: more than 65,535 listeners on one object")
	}
	id := s.bump()
	if debug {
		s.recordType(id, fn)
	}
	l := listener{fn: funcPointer(fn), id: id, kind: kind, once: once}
	if !s.onHeap() && !s.shared() && s.n < inlineCap {
		s.inl[s.n] = l
		s.n++
		return id
	}
	ls := s.list()
	if !s.onHeap() || s.shared() {
		ls = s.toHeap(1)
	} else if len(ls) == int(s.c) {
		ls = append(make([]listener, 0, min(2*len(ls), maxListeners)), ls...)
	}
	s.setList(append(ls, l))
	return id
}

// Remove unregisters the listener with the given id; unknown ids are
// ignored.
func (s *Set) Remove(id uint32) { s.remove(id) }

// remove is Remove, reporting whether the id was registered.
func (s *Set) remove(id uint32) bool {
	for i, l := range s.list() {
		if l.id == id {
			s.removeAt(i)
			return true
		}
	}
	return false
}

func (s *Set) removeAt(i int) {
	s.bump()
	if s.shared() {
		s.toHeap(0)
	}
	ls := s.list()
	copy(ls[i:], ls[i+1:])
	ls[len(ls)-1] = listener{}
	s.n--
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
	// Still the same listeners: nobody copied them during the emission.
	if len(ls) == int(s.n) && (len(ls) == 0 || &ls[0] == &s.list()[0]) {
		s.setShared(wasShared)
	}
}

// fire reports whether l should run. A once-listener is removed first (so
// a re-emission from inside it does not run it again), and runs only if it
// was still registered: a nested emission of the same event may have run
// it already, which Node's once wrapper also checks. (Node would still run
// a once-listener that a listener removed earlier in the same emission;
// here it does not.)
func (s *Set) fire(l *listener) bool {
	return !l.once || s.remove(l.id)
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
		if !s.fire(&l) {
			continue
		}
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
		if !s.fire(&l) {
			continue
		}
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
		if !s.fire(&l) {
			continue
		}
		as[func(A, B, C, D)](s, &l)(a, b, c, d)
	}
	s.end(ls, was)
	return found
}
