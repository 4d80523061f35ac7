package handle

import (
	"unsafe"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/loop"
)

// hookHandle is the shared body of Idle, Prepare and Check.
type hookHandle struct {
	Handle
	hook  core.Hook
	phase core.Phase
}

func (h *hookHandle) init(l *loop.Loop, kind string, phase core.Phase) {
	h.phase = phase
	h.c().Init((*core.Loop)(l), kind, &hookHandleHooks)
}

var hookHandleHooks = core.KindHooks{Close: func(h *core.Handle) { (*hookHandle)(owner(h)).Stop() }}

var _ [0]struct{} = [unsafe.Offsetof(hookHandle{}.Handle)]struct{}{} // see owner

// Start runs cb once per loop iteration in the handle's phase.
func (h *hookHandle) Start(cb func()) error {
	h.c().Loop().CheckAffinity("(Idle|Prepare|Check).Start")
	if h.IsClosing() {
		return ErrClosing
	}
	if cb == nil {
		return ErrNilCallback
	}
	h.c().Loop().StartHook(&h.hook, h.phase, cb)
	h.c().SetActive(true)
	return nil
}

// Stop stops calling the callback.
func (h *hookHandle) Stop() {
	h.c().Loop().CheckAffinity("(Idle|Prepare|Check).Stop")
	h.c().Loop().StopHook(&h.hook, h.phase)
	h.c().SetActive(false)
}

// Idle runs its callback once per iteration before polling; while an idle
// handle is active the poll does not block (libuv's uv_idle_t).
type Idle struct{ hookHandle }

// NewIdle creates a stopped idle handle on l.
func NewIdle(l *loop.Loop) *Idle {
	h := &Idle{}
	h.init(l, "idle", core.PhaseIdle)
	return h
}

// Prepare runs its callback once per iteration right before polling for
// I/O (libuv's uv_prepare_t).
type Prepare struct{ hookHandle }

// NewPrepare creates a stopped prepare handle on l.
func NewPrepare(l *loop.Loop) *Prepare {
	h := &Prepare{}
	h.init(l, "prepare", core.PhasePrepare)
	return h
}

// Check runs its callback once per iteration right after polling for I/O
// (libuv's uv_check_t; Node's setImmediate runs here).
type Check struct{ hookHandle }

// NewCheck creates a stopped check handle on l.
func NewCheck(l *loop.Loop) *Check {
	h := &Check{}
	h.init(l, "check", core.PhaseCheck)
	return h
}
