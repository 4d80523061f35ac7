//go:build netbsd || openbsd

package poller

import "golang.org/x/sys/unix"

// waker wakes kqueue through a non-blocking self-pipe, for systems without
// EVFILT_USER.
type waker struct {
	r, w int
	buf  [64]byte
}

func (w *waker) init(kq int) error {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return err
	}
	w.r, w.w = fds[0], fds[1]
	var ev unix.Kevent_t
	unix.SetKevent(&ev, w.r, unix.EVFILT_READ, unix.EV_ADD)
	_, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil)
	return err
}

func (w *waker) is(e *unix.Kevent_t) bool {
	return e.Filter == unix.EVFILT_READ && int(e.Ident) == w.r
}

func (w *waker) drain() {
	for {
		if n, err := unix.Read(w.r, w.buf[:]); n <= 0 || err != nil {
			return
		}
	}
}

// pipeByte is what wake writes; shared so that a Wake does not allocate.
var pipeByte = [1]byte{1}

func (w *waker) wake(int) error {
	_, err := unix.Write(w.w, pipeByte[:])
	if err == unix.EAGAIN {
		return nil
	}
	return err
}

func (w *waker) close() {
	unix.Close(w.r)
	unix.Close(w.w)
}
