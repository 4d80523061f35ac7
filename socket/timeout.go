package socket

import (
	"math"
	"strconv"
	"time"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/errx"
)

// idleTimer implements SetTimeout lazily: activity only stamps a time; the
// timer, when it fires early, re-arms for what is left.
type idleTimer struct {
	t        *handle.Timer
	d        time.Duration
	last     time.Duration // loop time of the last activity
	lastWQ   int           // Node's kLastWriteQueueSize: the queue size when last seen (by a write or the timer)
	fireFunc func()
}

// maxTimeout is Node's clamp for timer delays (2^31-1 ms).
const maxTimeout = time.Duration(math.MaxInt32) * time.Millisecond

// SetTimeout emits 'timeout' after d of inactivity (no read or write); it
// does not close the socket. 0 disables it. cb, if given, is a one-shot
// 'timeout' listener (with d == 0 it is removed instead... as Node, the
// listener is simply not added). The timer never keeps the loop alive.
// A negative d fails with ERR_OUT_OF_RANGE; values above 2^31-1 ms are
// clamped. The timer is a handle of the socket's loop: a socket that never
// connects must still be destroyed to release it (as every socket must
// before Loop.Close).
func (s *Socket) SetTimeout(d time.Duration, cb ...func()) (*Socket, error) {
	s.affine("Socket.SetTimeout")
	if d < 0 {
		return s, errx.New(errs.CodeOutOfRange, `The value of "msecs" is out of range. It must be a non-negative finite number. Received `+strconv.FormatInt(d.Milliseconds(), 10))
	}
	if d > maxTimeout {
		d = maxTimeout
	}
	if s.state&sDestroyed != 0 {
		return s, nil
	}
	if d == 0 {
		s.stopTimer()
		if s.timer != nil {
			s.timer.d = 0
		}
		return s, nil
	}
	for _, fn := range cb {
		if fn != nil {
			s.OnceTimeout(fn)
		}
	}
	if s.timer == nil {
		it := &idleTimer{t: handle.NewTimer(s.l)}
		it.t.Unref()
		it.fireFunc = s.onTimer
		s.ext().timer = it
	}
	s.timer.d = d
	s.timer.last = s.l.Now()
	s.timer.t.Start(d, 0, s.timer.fireFunc)
	return s, nil
}

// Timeout returns the idle timeout set by SetTimeout (0 when disabled).
func (s *Socket) Timeout() time.Duration {
	s.affine("Socket.Timeout")
	if s.timer == nil {
		return 0
	}
	return s.timer.d
}

// touch records activity for the idle timer.
func (s *Socket) touch() {
	it := s.timer
	if it == nil || it.d == 0 {
		return
	}
	it.last = s.l.Now()
	if !it.t.IsActive() {
		it.t.Start(it.d, 0, it.fireFunc)
	}
}

func (s *Socket) onTimer() {
	it := s.timer
	if it == nil || it.d == 0 || s.state&sDestroyed != 0 {
		return
	}
	if left := it.last + it.d - s.l.Now(); left > 0 {
		it.t.Start(left, 0, it.fireFunc)
		return
	}
	// Node's _onTimeout: a write queue that moved since the last look
	// (an asynchronous write was made, or bytes went out, or it drained
	// to 0) postpones the timeout by a full period.
	if it.lastWQ > 0 && s.st != nil {
		if wq := s.st.WriteQueueSize(); wq != it.lastWQ {
			it.lastWQ = wq
			it.last = s.l.Now()
			it.t.Start(it.d, 0, it.fireFunc)
			return
		}
	}
	emitter.Emit0(&s.ev, evTimeout)
}

// wroteAsync records, as Node's kLastWriteQueueSize, that a write is left
// queued (the kernel did not take it all), for onTimer.
func (s *Socket) wroteAsync() {
	if it := s.timer; it != nil && s.st != nil {
		if wq := s.st.WriteQueueSize(); wq > 0 {
			it.lastWQ = wq
		}
	}
}

func (s *Socket) stopTimer() {
	if s.timer != nil {
		s.timer.t.Stop()
	}
}

// closeTimer releases the timer handle.
func (s *Socket) closeTimer() {
	if s.timer != nil {
		if !s.timer.t.IsClosing() {
			s.timer.t.Close(nil)
		}
		s.ext().timer = nil
	}
}
