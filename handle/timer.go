package handle

import (
	"unsafe"

	"time"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/loop"
)

// Timer calls a function after a timeout, and optionally again every repeat
// interval (libuv's uv_timer_t). Timers due at the same loop time fire in
// the order they were started. An active timer keeps the loop alive unless
// unreferenced.
type Timer struct {
	Handle
	entry  core.TimerEntry
	repeat time.Duration
	cb     func()
	fire   func() // t.onFire, bound once
}

// NewTimer creates a stopped timer on l.
func NewTimer(l *loop.Loop) *Timer {
	t := &Timer{}
	t.fire = t.onFire
	t.c().Init((*core.Loop)(l), "timer", &timerHooks)
	return t
}

var timerHooks = core.KindHooks{Close: func(h *core.Handle) { (*Timer)(owner(h)).stop() }}

var _ [0]struct{} = [unsafe.Offsetof(Timer{}.Handle)]struct{}{} // see owner

// Start arms the timer to call cb after timeout and, if repeat is positive,
// every repeat afterwards. Starting an active timer restarts it.
func (t *Timer) Start(timeout, repeat time.Duration, cb func()) error {
	t.c().Loop().CheckAffinity("Timer.Start")
	if t.IsClosing() {
		return ErrClosing
	}
	if cb == nil {
		return ErrNilCallback
	}
	t.cb = cb
	t.repeat = repeat
	t.c().Loop().StartTimer(&t.entry, timeout, t.fire)
	t.c().SetActive(true)
	return nil
}

// Stop disarms the timer; its callback will not run until started again.
func (t *Timer) Stop() {
	t.c().Loop().CheckAffinity("Timer.Stop")
	t.stop()
}

func (t *Timer) stop() {
	t.c().Loop().StopTimer(&t.entry)
	t.c().SetActive(false)
}

// Again restarts a repeating timer with its repeat interval as the timeout
// (libuv's uv_timer_again). It returns ErrNilCallback if the timer was never
// started, ErrClosing if it is closing, and does nothing for a timer
// without repeat.
func (t *Timer) Again() error {
	t.c().Loop().CheckAffinity("Timer.Again")
	if t.IsClosing() {
		return ErrClosing
	}
	if t.cb == nil {
		return ErrNilCallback
	}
	if t.repeat > 0 {
		t.c().Loop().StartTimer(&t.entry, t.repeat, t.fire)
		t.c().SetActive(true)
	}
	return nil
}

// SetRepeat changes the repeat interval; it takes effect the next time the
// timer fires or Again is called.
func (t *Timer) SetRepeat(repeat time.Duration) {
	t.c().Loop().CheckAffinity("Timer.SetRepeat")
	t.repeat = repeat
}

// Repeat returns the repeat interval.
func (t *Timer) Repeat() time.Duration {
	t.c().Loop().CheckAffinity("Timer.Repeat")
	return t.repeat
}

// DueIn returns how long until the timer fires (0 if it is due or stopped).
func (t *Timer) DueIn() time.Duration {
	t.c().Loop().CheckAffinity("Timer.DueIn")
	if !t.entry.IsActive() {
		return 0
	}
	d := t.entry.Due() - t.c().Loop().Now()
	if d < 0 {
		return 0
	}
	return d
}

func (t *Timer) onFire() {
	if t.repeat > 0 {
		t.c().Loop().StartTimer(&t.entry, t.repeat, t.fire)
	} else {
		t.c().SetActive(false)
	}
	t.cb()
}
