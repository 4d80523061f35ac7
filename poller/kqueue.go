//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Poller is a kqueue instance. Read and write interest are separate
// EVFILT_READ and EVFILT_WRITE filters; wake-ups use EVFILT_USER where the
// system has it and a self-pipe elsewhere (see kqueue_wake_*.go).
//
// This implementation compiles and is vetted for every BSD target, but the
// test suite only runs on Linux.
type Poller struct {
	kq      int
	batch   []unix.Kevent_t
	changes []unix.Kevent_t
	waking  atomic.Int32
	closed  bool
	wake    waker
}

// New creates a kqueue poller with its wake-up source registered.
func New() (*Poller, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(kq)
	p := &Poller{kq: kq, batch: make([]unix.Kevent_t, MaxEvents)}
	if err := p.wake.init(kq); err != nil {
		unix.Close(kq)
		return nil, err
	}
	return p, nil
}

func (p *Poller) change(fd int, filter int16, flags uint16) {
	var ev unix.Kevent_t
	unix.SetKevent(&ev, fd, int(filter), int(flags))
	p.changes = append(p.changes, ev)
}

func (p *Poller) apply() error {
	if len(p.changes) == 0 {
		return nil
	}
	_, err := unix.Kevent(p.kq, p.changes, nil, nil)
	p.changes = p.changes[:0]
	return err
}

// Add registers fd for the given interest.
func (p *Poller) Add(fd int, in Interest) error {
	return p.Modify(fd, 0, in)
}

// Modify changes fd's interest from old to in.
func (p *Poller) Modify(fd int, old, in Interest) error {
	if in&Read != 0 && old&Read == 0 {
		p.change(fd, unix.EVFILT_READ, unix.EV_ADD)
	} else if in&Read == 0 && old&Read != 0 {
		p.change(fd, unix.EVFILT_READ, unix.EV_DELETE)
	}
	if in&Write != 0 && old&Write == 0 {
		p.change(fd, unix.EVFILT_WRITE, unix.EV_ADD)
	} else if in&Write == 0 && old&Write != 0 {
		p.change(fd, unix.EVFILT_WRITE, unix.EV_DELETE)
	}
	return p.apply()
}

// Delete removes fd, whose current interest is old, from the poller.
func (p *Poller) Delete(fd int, old Interest) error {
	return p.Modify(fd, old, 0)
}

// Wait blocks for up to timeoutMs milliseconds (negative: no limit) and
// fills events with what became ready. A wake-up is not reported.
func (p *Poller) Wait(events []Event, timeoutMs int) (int, error) {
	if p.closed {
		return 0, ErrClosed
	}
	max := len(events)
	if max > len(p.batch) {
		max = len(p.batch)
	}
	if max == 0 {
		return 0, unix.EINVAL
	}
	var ts *unix.Timespec
	if timeoutMs >= 0 {
		t := unix.NsecToTimespec(int64(timeoutMs) * 1e6)
		ts = &t
	}
	n, err := unix.Kevent(p.kq, nil, p.batch[:max], ts)
	if err != nil {
		if err == unix.EINTR {
			return 0, nil
		}
		return 0, err
	}
	j := 0
	for i := 0; i < n; i++ {
		e := &p.batch[i]
		if p.wake.is(e) {
			// Drain before clearing the flag (see the epoll poller).
			p.wake.drain()
			p.waking.Store(0)
			continue
		}
		var got Interest
		switch e.Filter {
		case unix.EVFILT_READ:
			got = Read
			if e.Flags&unix.EV_EOF != 0 {
				got |= RdHup
			}
		case unix.EVFILT_WRITE:
			got = Write
			if e.Flags&unix.EV_EOF != 0 {
				got |= Hup
			}
		}
		if e.Flags&unix.EV_ERROR != 0 {
			got |= Err
		}
		events[j] = Event{Fd: int32(e.Ident), Events: got}
		j++
	}
	return j, nil
}

// Wake makes a blocked (or the next) Wait return. Safe from any goroutine.
func (p *Poller) Wake() error {
	if !p.waking.CompareAndSwap(0, 1) {
		return nil
	}
	return p.wake.wake(p.kq)
}

// Close releases the kqueue and wake-up descriptors.
func (p *Poller) Close() error {
	if p.closed {
		return ErrClosed
	}
	p.closed = true
	p.wake.close()
	return unix.Close(p.kq)
}
