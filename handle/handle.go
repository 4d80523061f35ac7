// Package handle holds netloop's non-I/O handles, libuv's uv_timer_t,
// uv_idle_t, uv_prepare_t, uv_check_t, uv_async_t and uv_signal_t, and the
// Handle verbs every handle has (Close, Ref, Unref...).
//
// All methods are loop-affine (call them on the loop's goroutine, or before
// the loop runs) except Async.Send, which is safe from any goroutine.
package handle

import (
	"unsafe"

	"errors"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/loop"
)

// Handle holds what every handle has, libuv's uv_handle_t: a loop, a
// referenced flag, an active flag and a close callback. Timer, Idle,
// Prepare, Check, Async, Signal and the tcp and pipe handles embed it.
type Handle core.Handle

func (h *Handle) c() *core.Handle { return (*core.Handle)(h) }

// owner returns the handle (Timer, Async, ...) whose Handle h is, for the
// kinds' close hooks: each embeds Handle as its first field, which a
// compile-time check beside each kind's hooks keeps true.
func owner(h *core.Handle) unsafe.Pointer { return unsafe.Pointer(h) }

// ErrClosing is returned by Close on a handle that is already closing or
// closed, and by the start methods of a closing handle.
var ErrClosing = core.ErrClosing

// ErrNilCallback is returned when a start method gets a nil callback.
var ErrNilCallback = errors.New("handle: nil callback")

// Loop returns the loop the handle belongs to.
func (h *Handle) Loop() *loop.Loop { return (*loop.Loop)(h.c().Loop()) }

// IsActive reports whether the handle is doing something (a started timer,
// a reading or listening stream...). Active, referenced handles keep the
// loop running.
func (h *Handle) IsActive() bool {
	h.c().Loop().CheckAffinity("Handle.IsActive")
	return h.c().IsActive()
}

// IsClosing reports whether Close has been called.
func (h *Handle) IsClosing() bool {
	h.c().Loop().CheckAffinity("Handle.IsClosing")
	return h.c().IsClosing()
}

// HasRef reports whether the handle keeps the loop alive while active.
func (h *Handle) HasRef() bool {
	h.c().Loop().CheckAffinity("Handle.HasRef")
	return h.c().HasRef()
}

// Ref makes an active handle keep the loop alive (the default). It is
// remembered for a handle that is not active yet.
func (h *Handle) Ref() {
	h.c().Loop().CheckAffinity("Handle.Ref")
	h.c().Ref()
}

// Unref lets the loop exit while this handle is active. It is remembered
// for a handle that is not active yet.
func (h *Handle) Unref() {
	h.c().Loop().CheckAffinity("Handle.Unref")
	h.c().Unref()
}

// Close stops the handle and arranges for cb (which may be nil) to run in
// the loop's closing phase, exactly once. Closing a handle twice returns
// ErrClosing.
func (h *Handle) Close(cb func()) error {
	h.c().Loop().CheckAffinity("Handle.Close")
	return h.c().Close(cb)
}

// Kind names the handle type ("timer", "tcp", "pipe"...), libuv's
// uv_handle_type_name.
func (h *Handle) Kind() string { return h.c().Kind() }

// Walk calls fn for every open handle of l (not yet fully closed), in the
// order they were created, libuv's uv_walk: handles of every kind,
// including the tcp and pipe streams under sockets and servers. fn may
// close the handle it is given, and no other. Loop-affine.
func Walk(l *loop.Loop, fn func(h *Handle)) {
	(*core.Loop)(l).Walk(func(h *core.Handle) { fn((*Handle)(h)) })
}
