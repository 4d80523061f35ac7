package core

import "errors"

// ErrClosing is returned by Close on a handle that is already closing
// or closed.
var ErrClosing = errors.New("handle is closing")

const (
	flagActive uint8 = 1 << iota
	flagUnref
	flagClosing
	flagClosed
	flagCloseHook // the close callback is hooks' HandleClosed (see CloseToHooks)
)

// Handle is the base every netloop handle embeds (libuv's uv_handle_t): it
// ties the handle to its loop, counts it towards the loop's liveness while
// it is active and referenced, and runs its close callback once, in the
// closing phase. Package handle re-exports it as handle.Handle.
//
// Handle methods are loop-affine.
type Handle struct {
	loop    *Loop
	kind    uint8 // index into the loop's kind names
	flags   uint8
	slot    int32      // index in the loop's handle registry
	hooks   CloseHooks // the implementation's close hooks, may be nil
	closeCb func()
}

// CloseHooks are a handle implementation's part in closing: CloseHandle
// runs synchronously inside Close (stop watchers and timers, close the
// descriptor); FinishClose runs in the closing phase just before the
// user's close callback (deliver the callbacks of requests cancelled by
// the close).
type CloseHooks interface {
	CloseHandle()
	FinishClose()
}

// CloseFuncs adapts two functions to CloseHooks; either may be nil.
type CloseFuncs struct{ OnClose, OnFinish func() }

// CloseHandle calls OnClose, if any.
func (f *CloseFuncs) CloseHandle() {
	if f.OnClose != nil {
		f.OnClose()
	}
}

// FinishClose calls OnFinish, if any.
func (f *CloseFuncs) FinishClose() {
	if f.OnFinish != nil {
		f.OnFinish()
	}
}

// Init ties h to l and registers it among the loop's open handles. kind
// names the handle type in Loop.Close's error ("tcp", "timer", ...); hooks
// (may be nil) is the implementation's part in closing. An implementation
// passes a pointer it already has (or a *CloseFuncs), so Init allocates
// nothing.
func (h *Handle) Init(l *Loop, kind string, hooks CloseHooks) {
	h.loop = l
	h.kind = l.kindIndex(kind)
	h.hooks = hooks
	l.handles.add(h)
	l.metricsHandleOpened(h.kind)
}

// Loop returns the loop the handle belongs to.
func (h *Handle) Loop() *Loop { return h.loop }

// Kind names the handle type.
func (h *Handle) Kind() string { return h.loop.kinds[h.kind] }

// IsActive reports whether the handle is doing something (a started timer,
// a reading or listening stream...).
func (h *Handle) IsActive() bool { return h.flags&flagActive != 0 }

// IsClosing reports whether Close has been called.
func (h *Handle) IsClosing() bool { return h.flags&(flagClosing|flagClosed) != 0 }

// IsClosed reports whether the close callback has run.
func (h *Handle) IsClosed() bool { return h.flags&flagClosed != 0 }

// HasRef reports whether the handle keeps the loop alive while active.
func (h *Handle) HasRef() bool { return h.flags&flagUnref == 0 }

func (h *Handle) counted() bool {
	return h.flags&(flagActive|flagUnref|flagClosing|flagClosed) == flagActive
}

// Ref makes an active handle keep the loop alive (the default). It is
// remembered for a handle that is not active yet.
func (h *Handle) Ref() {
	if h.flags&flagUnref == 0 {
		return
	}
	h.flags &^= flagUnref
	if h.counted() {
		h.loop.active++
	}
}

// Unref lets the loop exit while this handle is active. It is remembered
// for a handle that is not active yet.
func (h *Handle) Unref() {
	if h.flags&flagUnref != 0 {
		return
	}
	if h.counted() {
		h.loop.active--
	}
	h.flags |= flagUnref
}

// SetActive marks the handle active or inactive; for handle
// implementations (libuv's uv__handle_start/stop).
func (h *Handle) SetActive(on bool) {
	if on == (h.flags&flagActive != 0) {
		return
	}
	was := h.counted()
	if on {
		h.flags |= flagActive
	} else {
		h.flags &^= flagActive
	}
	if now := h.counted(); now != was {
		if now {
			h.loop.active++
		} else {
			h.loop.active--
		}
	}
}

// Close stops the handle and arranges for cb (which may be nil) to run in
// the loop's closing phase, exactly once. Closing a handle twice returns
// ErrClosing.
func (h *Handle) Close(cb func()) error {
	if h.IsClosing() {
		return ErrClosing
	}
	if h.loop == nil {
		return errors.New("handle is not initialised")
	}
	h.SetActive(false)
	h.flags |= flagClosing
	h.closeCb = cb
	if h.hooks != nil {
		h.hooks.CloseHandle()
	}
	h.loop.closing = append(h.loop.closing, h)
	return nil
}

// ClosedHook is implemented by CloseHooks whose handle is closed with
// CloseToHooks: HandleClosed runs in place of a close callback.
type ClosedHook interface {
	HandleClosed()
}

// CloseToHooks is Close with the hooks' HandleClosed method (the hooks
// must implement ClosedHook) as the close callback: an implementation
// that already has a pointer to itself closes without allocating a
// callback.
func (h *Handle) CloseToHooks() error {
	if _, ok := h.hooks.(ClosedHook); !ok {
		panic("core: CloseToHooks on a handle whose hooks have no HandleClosed")
	}
	if err := h.Close(nil); err != nil {
		return err
	}
	h.flags |= flagCloseHook
	return nil
}

// runClosing runs the close callbacks of handles closed before this phase;
// handles closed by those callbacks wait for the next iteration.
func (l *Loop) runClosing() {
	n := len(l.closing)
	if n == 0 {
		return
	}
	for i := 0; i < n; i++ {
		h := l.closing[i]
		l.closing[i] = nil
		h.flags = h.flags&^flagClosing | flagClosed
		l.handles.remove(h)
		l.metricsHandleClosed(h.kind)
		if h.hooks != nil {
			h.hooks.FinishClose()
			l.drainTicks()
		}
		if cb := h.closeCb; cb != nil {
			h.closeCb = nil
			cb()
			l.drainTicks()
		} else if h.flags&flagCloseHook != 0 {
			h.flags &^= flagCloseHook
			h.hooks.(ClosedHook).HandleClosed()
			l.drainTicks()
		}
	}
	rest := copy(l.closing, l.closing[n:])
	for i := rest; i < len(l.closing); i++ {
		l.closing[i] = nil
	}
	l.closing = l.closing[:rest]
}

// handleList is the registry of a loop's open handles, in the order they
// were initialised: an array with holes where handles closed, compacted
// when the holes outnumber the handles (an intrusive list would cost every
// handle two more pointers). It is chunked so that growing it leaves no
// garbage behind.
type handleList struct {
	slots chunkedSlice[*Handle]
	n     int // live handles
}

func (hl *handleList) add(h *Handle) {
	h.slot = int32(hl.slots.push(h))
	hl.n++
}

func (hl *handleList) remove(h *Handle) {
	*hl.slots.at(int(h.slot)) = nil
	hl.n--
	if holes := hl.slots.len() - hl.n; holes > 32 && holes > hl.n {
		hl.compact()
	}
}

func (hl *handleList) compact() {
	j := 0
	for i, n := 0, hl.slots.len(); i < n; i++ {
		if h := *hl.slots.at(i); h != nil {
			h.slot = int32(j)
			*hl.slots.at(j) = h
			j++
		}
	}
	hl.slots.truncate(j)
}
