package handle

import (
	"unsafe"

	"os"
	"os/signal"
	"sync"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/loop"
)

// Signal delivers an OS signal (SIGINT, SIGTERM, SIGHUP...) to a callback on
// the loop (libuv's uv_signal_t). While started, the signal no longer has
// its default effect (for SIGINT, ending the process). An active Signal
// keeps the loop alive unless unreferenced.
//
// Each started Signal runs one goroutine that forwards deliveries with
// Loop.Post; Stop and Close end it.
type Signal struct {
	Handle
	sig  os.Signal
	cb   func(os.Signal)
	ch   chan os.Signal
	done chan struct{}
	wg   sync.WaitGroup
}

// NewSignal creates a stopped signal handle on l.
func NewSignal(l *loop.Loop) *Signal {
	s := &Signal{}
	s.c().Init((*core.Loop)(l), "signal", &signalHooks)
	return s
}

var signalHooks = core.KindHooks{Close: func(h *core.Handle) { (*Signal)(owner(h)).Stop() }}

var _ [0]struct{} = [unsafe.Offsetof(Signal{}.Handle)]struct{}{} // see owner

// Start delivers sig to cb on the loop until stopped. Starting a started
// handle replaces its signal and callback.
func (s *Signal) Start(sig os.Signal, cb func(os.Signal)) error {
	s.c().Loop().CheckAffinity("Signal.Start")
	if s.IsClosing() {
		return ErrClosing
	}
	if cb == nil {
		return ErrNilCallback
	}
	s.Stop()
	s.sig, s.cb = sig, cb
	s.ch = make(chan os.Signal, 4)
	s.done = make(chan struct{})
	signal.Notify(s.ch, sig)
	l := s.Loop()
	ch, done := s.ch, s.done
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			select {
			case got := <-ch:
				l.Post(func() {
					if s.ch == ch && !s.IsClosing() {
						s.cb(got)
					}
				})
			case <-done:
				return
			}
		}
	}()
	s.c().SetActive(true)
	return nil
}

// Stop stops delivery and restores the signal's default behaviour (unless
// other code still asks for it). The forwarding goroutine has ended when
// Stop returns.
func (s *Signal) Stop() {
	s.c().Loop().CheckAffinity("Signal.Stop")
	if s.ch == nil {
		return
	}
	signal.Stop(s.ch)
	close(s.done)
	s.wg.Wait()
	s.ch, s.done = nil, nil
	s.c().SetActive(false)
}

// Signum returns the signal being watched (nil when stopped).
func (s *Signal) Signum() os.Signal {
	s.c().Loop().CheckAffinity("Signal.Signum")
	if s.ch == nil {
		return nil
	}
	return s.sig
}
