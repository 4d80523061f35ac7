//go:build darwin || dragonfly || freebsd

package poller

import "golang.org/x/sys/unix"

// waker wakes kqueue with an EVFILT_USER event.
type waker struct{}

const wakeIdent = 0

func (w *waker) init(kq int) error {
	var ev unix.Kevent_t
	ev.Ident = wakeIdent
	ev.Filter = unix.EVFILT_USER
	ev.Flags = unix.EV_ADD | unix.EV_CLEAR
	_, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil)
	return err
}

func (w *waker) is(e *unix.Kevent_t) bool { return e.Filter == unix.EVFILT_USER }

func (w *waker) drain() {}

func (w *waker) wake(kq int) error {
	var ev unix.Kevent_t
	ev.Ident = wakeIdent
	ev.Filter = unix.EVFILT_USER
	ev.Fflags = unix.NOTE_TRIGGER
	_, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil)
	return err
}

func (w *waker) close() {}
