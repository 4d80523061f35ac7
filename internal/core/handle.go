package core

import (
	"errors"

	"github.com/netloop/netloop/poller"
)

// ErrClosing is returned by Close on a handle that is already closing
// or closed.
var ErrClosing = errors.New("handle is closing")

const (
	flagActive uint8 = 1 << iota
	flagUnref
	flagClosing
	flagClosed
	flagCloseHook // the close callback is the kind's Closed hook (see CloseToHooks)
)

// Handle is the base every netloop handle embeds (libuv's uv_handle_t): it
// ties the handle to its loop, counts it towards the loop's liveness while
// it is active and referenced, and runs its close callback once, in the
// closing phase. Package handle re-exports it as handle.Handle.
//
// Handle methods are loop-affine.
type Handle struct {
	loop  *Loop
	kind  uint8 // index into the loop's kinds: the name and the KindHooks
	flags uint8
	slot  int32 // index in the loop's handle registry
}

// closingHandle is a handle waiting for the closing phase, with its close
// callback: kept in the loop's queue rather than in every Handle, since a
// handle needs it only between Close and that phase.
type closingHandle struct {
	h  *Handle
	cb func()
}

// KindHooks are a handle implementation's part in closing, shared by every
// handle of the kind (one table per kind, not an interface per handle,
// keeps Handle three words). Each hook receives the handle being closed;
// an implementation embeds Handle as its first field and converts the
// pointer back to its own type. Any hook may be nil.
type KindHooks struct {
	// Close runs synchronously inside Close: stop watchers and timers,
	// close the descriptor.
	Close func(h *Handle)
	// Finish runs in the closing phase just before the close callback:
	// deliver the callbacks of requests cancelled by the close.
	Finish func(h *Handle)
	// Closed is the close callback of CloseToHooks.
	Closed func(h *Handle)
	// IO receives the events of the handle's IOWatcher (the field after
	// its Handle); required for kinds whose handles watch a descriptor.
	IO func(h *Handle, events poller.Interest)
}

// Init ties h to l and registers it among the loop's open handles. kind
// names the handle type in Loop.Close's error and the metrics ("tcp",
// "timer", ...); hooks (may be nil) is the kind's part in closing, a
// pointer that stays the same for every handle of the kind (a package
// variable), so Init allocates nothing.
func (h *Handle) Init(l *Loop, kind string, hooks *KindHooks) {
	h.loop = l
	h.kind = l.kindIndex(kind, hooks)
	l.handles.add(h)
	l.metricsHandleOpened(h.kind)
}

// hooks returns the KindHooks of h's kind, nil if it has none.
func (h *Handle) hooks() *KindHooks { return h.loop.kinds[h.kind].hooks }

// Loop returns the loop the handle belongs to.
func (h *Handle) Loop() *Loop { return h.loop }

// Kind names the handle type.
func (h *Handle) Kind() string { return h.loop.kinds[h.kind].name }

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
	if k := h.hooks(); k != nil && k.Close != nil {
		k.Close(h)
	}
	h.loop.closing = append(h.loop.closing, closingHandle{h, cb})
	return nil
}

// CloseToHooks is Close with the kind's Closed hook as the close
// callback: an implementation closes without allocating a callback.
func (h *Handle) CloseToHooks() error {
	if k := h.hooks(); k == nil || k.Closed == nil {
		panic("core: CloseToHooks on a handle whose kind has no Closed hook")
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
		h, cb := l.closing[i].h, l.closing[i].cb
		l.closing[i] = closingHandle{}
		h.flags = h.flags&^flagClosing | flagClosed
		l.handles.remove(h)
		l.metricsHandleClosed(h.kind)
		k := h.hooks()
		if k != nil && k.Finish != nil {
			k.Finish(h)
			l.drainTicks()
		}
		if cb != nil {
			cb()
			l.drainTicks()
		} else if h.flags&flagCloseHook != 0 {
			h.flags &^= flagCloseHook
			k.Closed(h)
			l.drainTicks()
		}
	}
	rest := copy(l.closing, l.closing[n:])
	clear(l.closing[rest:])
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
