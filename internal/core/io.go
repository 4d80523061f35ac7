package core

import (
	"errors"

	"github.com/netloop/netloop/poller"
)

// IOWatcher watches one file descriptor for readiness and calls its
// callback from the poll phase (libuv's uv__io_t). Watchers live in a slice
// indexed by fd. Interest changes after the first registration are applied
// lazily, just before the next poll, so stopping and restarting within one
// callback costs no system call.
type IOWatcher struct {
	loop     *Loop
	h        IOHandler
	fd       int32
	gen      uint32          // the loop's poll generation when initialised
	interest poller.Interest // wanted
	kernel   poller.Interest // registered with the poller (0: not registered)
	queued   bool
}

// IOHandler receives a watcher's events.
type IOHandler interface {
	HandleIO(events poller.Interest)
}

// IOFunc adapts a function to IOHandler.
type IOFunc func(events poller.Interest)

// HandleIO calls f.
func (f IOFunc) HandleIO(events poller.Interest) { f(events) }

// ErrWatcherBusy is returned by InitIOWatcher when another watcher already
// watches the descriptor.
var ErrWatcherBusy = errors.New("loop: descriptor already has a watcher")

// InitIOWatcher prepares w to watch fd, calling cb with the events that
// occurred (a subset of the interest plus Hup, Err and RdHup).
func (l *Loop) InitIOWatcher(w *IOWatcher, fd int, cb func(events poller.Interest)) error {
	return l.InitIOHandler(w, fd, IOFunc(cb))
}

// InitIOHandler is InitIOWatcher with the callback given as an interface,
// which costs no allocation when h is a pointer the caller already has.
func (l *Loop) InitIOHandler(w *IOWatcher, fd int, h IOHandler) error {
	if fd < 0 {
		return errors.New("loop: negative descriptor")
	}
	for fd >= len(l.watchers) {
		n := 2 * len(l.watchers)
		if n < 64 {
			n = 64
		}
		for n <= fd {
			n *= 2
		}
		nw := make([]*IOWatcher, n)
		copy(nw, l.watchers)
		l.watchers = nw
	}
	if cur := l.watchers[fd]; cur != nil && cur != w {
		return ErrWatcherBusy
	}
	*w = IOWatcher{loop: l, fd: int32(fd), h: h, gen: l.pollGen}
	l.watchers[fd] = w
	return nil
}

// Fd returns the watched descriptor.
func (w *IOWatcher) Fd() int { return int(w.fd) }

// Interest returns what the watcher currently waits for.
func (w *IOWatcher) Interest() poller.Interest { return w.interest }

// Start adds interest in the given events. The first registration with the
// poller happens at once, so its error (for example EPERM for a regular
// file) is returned here.
func (w *IOWatcher) Start(in poller.Interest) error {
	want := w.interest | (in & (poller.Read | poller.Write))
	if want == w.interest {
		return nil
	}
	w.interest = want
	if w.kernel == 0 {
		if err := w.loop.poller.Add(int(w.fd), want); err != nil {
			w.interest = 0
			return err
		}
		w.kernel = want
		return nil
	}
	w.enqueue()
	return nil
}

// Stop removes interest in the given events; a watcher with no interest is
// not called, even for events already collected in the current batch.
func (w *IOWatcher) Stop(in poller.Interest) {
	want := w.interest &^ in
	if want == w.interest {
		return
	}
	w.interest = want
	w.enqueue()
}

func (w *IOWatcher) enqueue() {
	if !w.queued {
		w.queued = true
		w.loop.watcherQueue = append(w.loop.watcherQueue, w)
	}
}

// Close detaches the watcher from its descriptor: it is never called again,
// not even for events of the batch being dispatched. fdClosing tells that
// the caller closes the descriptor right after, which removes it from the
// poller without a system call.
func (w *IOWatcher) Close(fdClosing bool) {
	l := w.loop
	if l == nil {
		return
	}
	if w.kernel != 0 && !fdClosing {
		l.poller.Delete(int(w.fd), w.kernel)
	}
	w.kernel = 0
	w.interest = 0
	if int(w.fd) < len(l.watchers) && l.watchers[w.fd] == w {
		l.watchers[w.fd] = nil
	}
	// The fd may be reused before this batch ends; the dispatcher skips
	// watchers initialised during the batch (see Loop.pollGen).
	w.loop = nil
}

func (l *Loop) flushWatcherQueue() error {
	for i, w := range l.watcherQueue {
		l.watcherQueue[i] = nil
		if !w.queued {
			continue
		}
		w.queued = false
		if w.loop == nil || w.interest == w.kernel {
			continue
		}
		switch {
		case w.interest == 0:
			l.poller.Delete(int(w.fd), w.kernel)
		case w.kernel == 0:
			l.poller.Add(int(w.fd), w.interest)
		default:
			l.poller.Modify(int(w.fd), w.kernel, w.interest)
		}
		w.kernel = w.interest
	}
	l.watcherQueue = l.watcherQueue[:0]
	return nil
}
