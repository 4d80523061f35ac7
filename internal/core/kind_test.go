package core

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHandleSize: the base of every handle, and so of every connection's
// stream, stays two words (the close hooks live in the kind's table, the
// close callback in the loop's closing queue).
func TestHandleSize(t *testing.T) {
	assert.Equal(t, uintptr(16), unsafe.Sizeof(Handle{}))
}

// TestKindHooksPerKind: two kinds with one name but different hooks stay
// apart, each handle's hooks receive that handle, and kinds are shared by
// the handles that name the same hooks.
func TestKindHooksPerKind(t *testing.T) {
	l, err := New()
	require.NoError(t, err)
	var closedA, closedB []*Handle
	hooksA := &KindHooks{Close: func(h *Handle) { closedA = append(closedA, h) }}
	hooksB := &KindHooks{Close: func(h *Handle) { closedB = append(closedB, h) }}
	a1, a2, b := &Handle{}, &Handle{}, &Handle{}
	a1.Init(l, "same", hooksA)
	a2.Init(l, "same", hooksA)
	b.Init(l, "same", hooksB)
	assert.Equal(t, a1.kind, a2.kind)
	assert.NotEqual(t, a1.kind, b.kind)
	require.NoError(t, b.Close(nil))
	require.NoError(t, a2.Close(nil))
	assert.Equal(t, []*Handle{a2}, closedA)
	assert.Equal(t, []*Handle{b}, closedB)
	require.NoError(t, a1.Close(nil))
	require.NoError(t, l.Run(RunDefault))
	require.NoError(t, l.Close())
	assert.Equal(t, "same", a1.Kind())
}

// TestCloseToHooksWithoutClosedHookPanics: closing "to the hooks" a handle
// whose kind has no Closed hook would lose the close callback; it panics.
func TestCloseToHooksWithoutClosedHookPanics(t *testing.T) {
	l, err := New()
	require.NoError(t, err)
	h := &Handle{}
	h.Init(l, "plain", &KindHooks{})
	assert.PanicsWithValue(t, "core: CloseToHooks on a handle whose kind has no Closed hook", func() { h.CloseToHooks() })
	require.NoError(t, h.Close(nil))
	require.NoError(t, l.Run(RunDefault))
	require.NoError(t, l.Close())
}

// TestKindOverflow: past 256 kinds, kinds without hooks share "other";
// one with hooks cannot share a slot and panics.
func TestKindOverflow(t *testing.T) {
	l, err := New()
	require.NoError(t, err)
	hs := make([]Handle, 257)
	for i := range hs {
		hs[i].Init(l, fmt.Sprintf("k%d", i), nil)
	}
	assert.Equal(t, "other", hs[255].Kind())
	assert.Equal(t, "other", hs[256].Kind())
	assert.Panics(t, func() { (&Handle{}).Init(l, "hooked", &KindHooks{}) })
	for i := range hs {
		require.NoError(t, hs[i].Close(nil))
	}
	require.NoError(t, l.Run(RunDefault))
	require.NoError(t, l.Close())
}
