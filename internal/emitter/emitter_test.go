package emitter

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	kA Kind = iota
	kB
)

func TestOrderOnceAndRemove(t *testing.T) {
	var s Set
	var got []string
	s.On(kA, func(v int) { got = append(got, "a1") }, false)
	once := s.On(kA, func(v int) { got = append(got, "once") }, true)
	l3 := s.On(kA, func(v int) { got = append(got, "a3") }, false)
	s.On(kB, func() { got = append(got, "b") }, false)

	assert.True(t, Emit(&s, kA, 1))
	assert.Equal(t, []string{"a1", "once", "a3"}, got)
	assert.Equal(t, 2, s.Count(kA))

	got = nil
	l3.Remove()
	l3.Remove()   // twice is harmless
	once.Remove() // already gone
	assert.True(t, Emit(&s, kA, 2))
	assert.Equal(t, []string{"a1"}, got)

	got = nil
	assert.True(t, Emit0(&s, kB))
	assert.False(t, Emit0(&s, Kind(9)))
	assert.Equal(t, []string{"b"}, got)
	s.RemoveAll(kA)
	assert.False(t, s.Has(kA))
	assert.True(t, s.Has(kB))
}

// Listeners added or removed during an emission take effect from the next
// one, as in Node.
func TestChangesDuringEmit(t *testing.T) {
	var s Set
	var got []string
	var second Listener
	s.On(kA, func(int) {
		got = append(got, "first")
		second.Remove()
		s.On(kA, func(int) { got = append(got, "added") }, false)
	}, false)
	second = s.On(kA, func(int) { got = append(got, "second") }, false)

	Emit(&s, kA, 0)
	assert.Equal(t, []string{"first", "second"}, got)
	got = nil
	Emit(&s, kA, 0)
	assert.Equal(t, []string{"first", "added"}, got) // the one added now waits
}

// A once-listener that re-emits the same event does not run twice.
func TestOnceReentrant(t *testing.T) {
	var s Set
	n := 0
	s.On(kA, func(int) {
		n++
		Emit(&s, kA, 0)
	}, true)
	Emit(&s, kA, 0)
	assert.Equal(t, 1, n)
	assert.Equal(t, 0, s.Count(kA))
}

func TestEmitAllocatesNothing(t *testing.T) {
	var s Set
	sum := 0
	s.On(kA, func(v int) { sum += v }, false)
	s.On(kA, func(v int) { sum -= v }, false)
	s.On(kB, func(a, b, c, d int) { sum += a + b + c + d }, false)
	allocs := testing.AllocsPerRun(1000, func() {
		Emit(&s, kA, 3)
		Emit4(&s, kB, 1, 2, 3, 4)
	})
	require.Zero(t, allocs)
	assert.Equal(t, 10*1001, sum)
}

type counter struct{ n int }

func (c *counter) add(v int) { c.n += v }

func addTop(v int) { topSum += v }

var topSum int

// Listeners are kept as bare func pointers: closures, method values and
// top-level funcs of every event shape come back callable and intact,
// also after the garbage collector ran.
func TestListenerFuncKinds(t *testing.T) {
	var s Set
	var closure int
	c := &counter{}
	s.Add(1, func(v int) { closure += v }, false)
	s.Add(1, c.add, false)
	s.Add(1, addTop, false)
	var four string
	s.Add(2, func(a int, b string, c bool, d error) { four = fmt.Sprintf("%d %s %v %v", a, b, c, d) }, false)
	s.Add(3, func() { closure += 100 }, true)
	runtime.GC()
	topSum = 0
	if !Emit(&s, 1, 5) || closure != 5 || c.n != 5 || topSum != 5 {
		t.Fatalf("Emit: closure %d method %d top %d", closure, c.n, topSum)
	}
	Emit4(&s, 2, 1, "x", true, error(nil))
	if four != "1 x true <nil>" {
		t.Fatalf("Emit4 got %q", four)
	}
	Emit0(&s, 3)
	Emit0(&s, 3)
	if closure != 105 {
		t.Fatalf("once listener ran %d", (closure-5)/100)
	}
	fns := Funcs[func(int)](&s, 1)
	if len(fns) != 3 {
		t.Fatalf("Funcs: %d", len(fns))
	}
	fns[1](2)
	if c.n != 7 {
		t.Fatalf("method value from Funcs: %d", c.n)
	}
}

// The first inlineCap listeners live inside the Set: adding them allocates
// nothing. One more moves them all, in order, to a heap array, and the
// inline copies are cleared so they keep no closure alive.
func TestInlineListenersThenSpill(t *testing.T) {
	s := new(Set)
	var got []int
	f1 := func(int) { got = append(got, 1) }
	f2 := func(int) { got = append(got, 2) }
	f3 := func(int) { got = append(got, 3) }
	allocs := testing.AllocsPerRun(100, func() {
		*s = Set{}
		s.Add(kA, f1, false)
		s.Add(kB, f2, false)
	})
	if !debug { // netloopdebug builds record each listener's type in a map
		require.Zero(t, allocs, "two listeners need no array")
	}
	*s = Set{}
	s.Add(kA, f1, false)
	s.Add(kA, f2, false)
	require.False(t, s.onHeap())
	s.Add(kA, f3, false)
	require.True(t, s.onHeap())
	assert.Equal(t, listener{fn: s.inl[0].fn}, s.inl[0], "inl[0] holds the array only")
	assert.Equal(t, listener{}, s.inl[1], "inline copies cleared after the move")
	Emit(s, kA, 0)
	assert.Equal(t, []int{1, 2, 3}, got)
	assert.Equal(t, 3, s.Count(kA))
}

// An emission iterating the inline listeners keeps its view while a
// listener changes the Set and emits again (a nested emission that sees
// the changed list), as in Node.
func TestNestedEmitAfterChangeKeepsOuterView(t *testing.T) {
	var s Set
	var got []string
	var second Listener
	nested := false
	s.On(kA, func(int) {
		got = append(got, "first")
		if nested {
			return
		}
		nested = true
		second.Remove()
		s.On(kA, func(int) { got = append(got, "added") }, false)
		Emit(&s, kA, 0) // sees first and added
	}, false)
	second = s.On(kA, func(int) { got = append(got, "second") }, false)
	Emit(&s, kA, 0)
	assert.Equal(t, []string{"first", "first", "added", "second"}, got)
	got = nil
	Emit(&s, kA, 0)
	assert.Equal(t, []string{"first", "added"}, got)
}

// Gen changes with every addition and removal and with nothing else (an
// emission marks the list shared, which must not look like a change).
func TestGenCountsChangesOnly(t *testing.T) {
	var s Set
	g0 := s.Gen()
	l := s.On(kA, func(int) {}, false)
	g1 := s.Gen()
	require.NotEqual(t, g0, g1)
	Emit(&s, kA, 0)
	Emit(&s, kA, 0)
	require.Equal(t, g1, s.Gen())
	l.Remove()
	require.NotEqual(t, g1, s.Gen())
}

// One object holds at most maxListeners listeners; one more panics
// instead of wrapping the 16-bit count.
func TestListenerLimit(t *testing.T) {
	var s Set
	f := func(int) {}
	for i := 0; i < maxListeners; i++ {
		s.Add(kA, f, false)
	}
	require.Equal(t, maxListeners, s.Count(kA))
	require.PanicsWithValue(t, "emitter: more than 65,535 listeners on one object", func() { s.Add(kA, f, false) })
	s.RemoveAll(kA)
	require.Zero(t, s.Count(kA))
}

// A listener that moves the Set to the heap while an emission iterates the
// inline listeners (it adds a third) rewrites inl[0], which the emission
// has read already: the emission still calls the second listener, not the
// new one, and the next emission calls all three.
func TestSpillDuringEmitKeepsInlineView(t *testing.T) {
	var s Set
	var got []int
	s.On(kA, func(int) {
		got = append(got, 1)
		if s.Count(kA) == 2 {
			s.On(kA, func(int) { got = append(got, 3) }, false)
		}
	}, false)
	s.On(kA, func(int) { got = append(got, 2) }, false)
	require.False(t, s.onHeap())
	Emit(&s, kA, 0)
	require.True(t, s.onHeap())
	assert.Equal(t, []int{1, 2}, got)
	got = nil
	Emit(&s, kA, 0)
	assert.Equal(t, []int{1, 2, 3}, got)
}

// A once-listener that a nested emission of the same event ran does not
// run again when the outer emission reaches it, whether the listeners are
// inline or on the heap.
func TestOnceNotTwiceOnNestedEmit(t *testing.T) {
	for _, heap := range []bool{false, true} {
		var s Set
		calls, nested := 0, false
		if heap {
			s.On(kB, func() {}, false)
			s.On(kB, func() {}, false)
		}
		s.On(kA, func(int) {
			if !nested {
				nested = true
				Emit(&s, kA, 0)
			}
		}, false)
		s.On(kA, func(int) { calls++ }, true)
		Emit(&s, kA, 0)
		assert.Equal(t, 1, calls, "heap %v", heap)
		assert.Equal(t, 1, s.Count(kA), "only the plain listener is left")
	}
}
