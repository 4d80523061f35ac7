package handle

import (
	"unsafe"

	"sync/atomic"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/loop"
)

// Async wakes its loop from any goroutine and runs a callback there
// (libuv's uv_async_t). Sends made before the callback runs coalesce into
// one call. An Async is active from creation until closed, so it keeps the
// loop alive unless unreferenced.
type Async struct {
	Handle
	cb      func()
	pending atomic.Int32
	closed  atomic.Bool
	fire    func()
}

// NewAsync creates an async handle on l that calls cb on the loop after
// each (coalesced) Send.
func NewAsync(l *loop.Loop, cb func()) (*Async, error) {
	if cb == nil {
		return nil, ErrNilCallback
	}
	a := &Async{cb: cb}
	a.fire = a.onFire
	a.c().Init((*core.Loop)(l), "async", &asyncHooks)
	a.c().SetActive(true)
	return a, nil
}

var asyncHooks = core.KindHooks{Close: func(h *core.Handle) { (*Async)(owner(h)).closed.Store(true) }}

var _ [0]struct{} = [unsafe.Offsetof(Async{}.Handle)]struct{}{} // see owner

// Send asks the loop to run the callback. It is safe from any goroutine.
// Sends to a closed handle return ErrClosing; sends that find a call
// already pending are merged into it.
func (a *Async) Send() error {
	if a.closed.Load() {
		return ErrClosing
	}
	if !a.pending.CompareAndSwap(0, 1) {
		return nil
	}
	return a.Loop().Post(a.fire)
}

func (a *Async) onFire() {
	a.pending.Store(0)
	if !a.IsClosing() {
		a.cb()
	}
}
